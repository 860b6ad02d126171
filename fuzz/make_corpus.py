#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (fuzz/corpus/<target>/) from the rosters
below: generated, never downloaded (docs/TESTING.md). Run from anywhere; it replaces
only the seed-* files, so inputs the fuzzer found and kept stay."""
import io
import pathlib
import zipfile

HERE = pathlib.Path(__file__).resolve().parent

ROSTER = (
    "阳光小学2025学年学生名单,,,,,,,\n"
    "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n"
    "2025001,王小明,男,三年级,2班,王建国,父亲,138 0000 0001\n"
    "2025002,王小红,女,一年级,(1)班,王建国,父亲,+86 13800000001\n"
    "2025003,李四,男,初一,（12）班,李大山,爷爷,029-88888888\n"
    "2025004,\"赵,五\",女,三年级,2班,,,\n"
    "注：本表由班主任填写\n"
)

CSV = {
    "utf8": ROSTER.encode(),
    "utf8_bom": b"\xef\xbb\xbf" + ROSTER.encode(),
    "crlf": ROSTER.replace("\n", "\r\n").encode(),
    "gbk": ROSTER.encode("gbk"),
    "quoted": '学号,姓名,年级,班级\n"A1","张""三",3,"2\n班"\n'.encode(),
    "english": b"student_no,name,grade,class,parent,phone\nA1,Zhang San,3,2,Zhang,13900000000\n",
    "ragged": "学号,姓名\n1\n1,2,3,4,5\n\n,,,\n".encode(),
}

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def col_name(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def sheet_xml(rows, dimension=None, shared=None):
    """rows: list of (row number, [cell text]); text cells go to the shared strings when
    `shared` is a list, inline otherwise; digits become numbers."""
    out = []
    for r, cells in rows:
        cs = []
        for c, text in enumerate(cells):
            ref = f"{col_name(c)}{r}"
            if text == "":
                cs.append(f'<c r="{ref}" s="1"/>')
            elif text.isdigit():
                cs.append(f'<c r="{ref}"><v>{text}</v></c>')
            elif shared is not None:
                shared.append(text)
                cs.append(f'<c r="{ref}" t="s"><v>{len(shared) - 1}</v></c>')
            else:
                cs.append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
        out.append(f'<row r="{r}">{"".join(cs)}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'{dim}<sheetData>{"".join(out)}</sheetData></worksheet>'
    )


def sst_xml(strings, unique=None):
    unique = len(strings) if unique is None else unique
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(strings)}" uniqueCount="{unique}">{items}</sst>'
    )


def roster_rows():
    lines = [l.split(",") for l in ROSTER.strip().split("\n")]
    return [(i + 1, [c.strip('"') for c in cells]) for i, cells in enumerate(lines)]


def sheets():
    shared = []
    with_sst = sheet_xml(roster_rows(), "A1:H7", shared)
    yield "roster_shared", with_sst, sst_xml(shared)
    yield "roster_inline", sheet_xml(roster_rows(), "A1:H7"), None
    yield "title_rows_offset", sheet_xml([(3, ["", "学号", "姓名", "年级", "班级"]), (4, ["", "A1", "张三", "3", "2"])]), None
    yield "sparse_corners", sheet_xml([(1, ["学号"]), (1048576, [])], "A1:XFD1048576").replace(
        '<row r="1048576"></row>', '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'), None
    yield "lying_unique_count", sheet_xml([(1, ["a"])], None, []).replace("<sheetData>", "<sheetData>"), sst_xml(["a"], 999999999999)


def xlsx(sheet, sst):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        if sst is not None:
            z.writestr("xl/sharedStrings.xml", sst)
    return buf.getvalue()


def main():
    corpus = HERE / "corpus"
    for target in ("csv", "xlsx_parts", "xlsx_raw"):
        d = corpus / target
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob("seed-*"):
            old.unlink()
    for name, data in CSV.items():
        (corpus / "csv" / f"seed-{name}").write_bytes(data)
    for name, sheet, sst in sheets():
        parts = sheet.encode() + (b"\0" + sst.encode() if sst is not None else b"")
        (corpus / "xlsx_parts" / f"seed-{name}").write_bytes(parts)
        (corpus / "xlsx_raw" / f"seed-{name}").write_bytes(xlsx(sheet, sst))


if __name__ == "__main__":
    main()
