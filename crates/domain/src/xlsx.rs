//! Reading an uploaded XLSX workbook with bounded memory: the limits every XLSX reader
//! of ours applies (rosters today; frameworks and plans when they read workbooks), a
//! check of the zip archive before calamine opens it, and the first sheet streamed cell
//! by cell into rows of text.
//!
//! Why each limit exists: calamine's `worksheet_range` allocates rows × columns of the
//! sheet's bounding box, so a 1.6 KB workbook with cells in A1 and XFD1048576 asked for
//! 549,755,813,888 bytes and aborted the server (issue 9). The streaming cell reader
//! allocates nothing per empty cell, and we stop at the first cell past a limit. The zip
//! entries' declared uncompressed sizes bound what decompression can produce (the zip
//! crate refuses an entry that inflates past its declared size), so checking them first
//! turns a zip bomb into a refusal. Shared strings are loaded whole when the workbook
//! is opened, before any cell is read, so that part gets its own, smaller cap, and its
//! declared `uniqueCount` (which calamine reserves up front) is checked too.

use std::io::{Cursor, Read};

use calamine::{Data, DataRef, Reader, Xlsx};

/// How much one uploaded workbook may hold. One value for every XLSX (and CSV) upload,
/// so a new reader cannot forget a limit; [`XlsxLimits::DEFAULT`] is what the web uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XlsxLimits {
    /// Highest row (1-based, as Excel numbers them) that may hold a value. A school's
    /// roster has a few thousand rows; a county's, a few tens of thousands.
    pub max_rows: u32,
    /// Highest column (1-based; 64 is BL) that may hold a value. Rosters have about ten.
    pub max_columns: u32,
    /// Cells the table may hold in all, counting the blanks between values in a row:
    /// what bounds the memory of the rows we build.
    pub max_cells: usize,
    /// Entries in the zip archive. An Excel workbook has a dozen or two.
    pub max_entries: usize,
    /// Sum of the declared uncompressed sizes of all entries.
    pub max_uncompressed_bytes: u64,
    /// Declared uncompressed size of the shared-strings part, which calamine keeps in
    /// memory as one `String` per entry (about three times its XML size).
    pub max_shared_strings_bytes: u64,
}

impl XlsxLimits {
    /// 100,000 rows × 64 columns, two million cells, 256 MiB unpacked of which 32 MiB
    /// shared strings: several times the largest real roster (a 100,000-row XLSX is
    /// about 5 MB packed and 60 MB unpacked), and small enough that two parses at once
    /// stay within a few hundred MB.
    pub const DEFAULT: XlsxLimits = XlsxLimits {
        max_rows: 100_000,
        max_columns: 64,
        max_cells: 2_000_000,
        max_entries: 1_000,
        max_uncompressed_bytes: 256 * 1024 * 1024,
        max_shared_strings_bytes: 32 * 1024 * 1024,
    };
}

impl Default for XlsxLimits {
    fn default() -> Self {
        XlsxLimits::DEFAULT
    }
}

/// Why a workbook was refused. Each limit names its value so the message can say it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XlsxError {
    #[error("the workbook has no sheet with data")]
    Empty,
    #[error("the workbook could not be opened: {0}")]
    BadWorkbook(String),
    #[error("the sheet has values below row {limit}")]
    TooManyRows { limit: u32 },
    #[error("the sheet has values right of column {limit}")]
    TooManyColumns { limit: u32 },
    #[error("the sheet has more than {limit} cells")]
    TooManyCells { limit: usize },
    #[error("the workbook unpacks to more than {limit_mb} MB")]
    TooLarge { limit_mb: u64 },
}

/// The first sheet as rows of trimmed text. `rows[0]` is the first row holding a value,
/// `first_row` its 1-based number; columns start at the leftmost column holding a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sheet {
    pub rows: Vec<Vec<String>>,
    pub first_row: usize,
}

/// Reads the first sheet of an XLSX workbook within `limits`.
pub fn read_first_sheet(bytes: &[u8], limits: &XlsxLimits) -> Result<Sheet, XlsxError> {
    check_archive(bytes, limits)?;
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(bad)?;
    let name = wb
        .sheet_names()
        .into_iter()
        .next()
        .ok_or(XlsxError::Empty)?;
    let mut reader = wb.worksheet_cells_reader(&name).map_err(bad)?;
    // Cells holding a value, as (row, column, text); blanks are never stored.
    let mut cells: Vec<(u32, u32, String)> = Vec::new();
    while let Some(cell) = reader.next_cell().map_err(bad)? {
        let text = cell_text(cell.get_value());
        if text.is_empty() {
            continue;
        }
        let (row, col) = cell.get_position();
        if row >= limits.max_rows {
            return Err(XlsxError::TooManyRows {
                limit: limits.max_rows,
            });
        }
        if col >= limits.max_columns {
            return Err(XlsxError::TooManyColumns {
                limit: limits.max_columns,
            });
        }
        if cells.len() >= limits.max_cells {
            return Err(XlsxError::TooManyCells {
                limit: limits.max_cells,
            });
        }
        cells.push((row, col, text));
    }
    drop(reader);
    build_rows(cells, limits)
}

/// Lays the stored cells out as rows. Rows without values between the first and last
/// are kept empty (row numbers stay true); the blanks left of a value in a row are
/// counted against `max_cells` before anything is allocated for them.
fn build_rows(mut cells: Vec<(u32, u32, String)>, limits: &XlsxLimits) -> Result<Sheet, XlsxError> {
    if cells.is_empty() {
        return Err(XlsxError::Empty);
    }
    // Excel writes cells in order; a hand-made file need not.
    cells.sort_by_key(|(r, c, _)| (*r, *c));
    let first_row = cells[0].0;
    let last_row = cells[cells.len() - 1].0;
    let first_col = cells.iter().map(|(_, c, _)| *c).min().unwrap_or(0);
    // Both spans are within the row and column limits checked while reading.
    let mut widths = vec![0usize; (last_row - first_row + 1) as usize];
    for (r, c, _) in &cells {
        let w = &mut widths[(r - first_row) as usize];
        *w = (*w).max((c - first_col + 1) as usize);
    }
    if widths.iter().sum::<usize>() > limits.max_cells {
        return Err(XlsxError::TooManyCells {
            limit: limits.max_cells,
        });
    }
    let mut rows: Vec<Vec<String>> = widths.iter().map(|w| vec![String::new(); *w]).collect();
    for (r, c, text) in cells {
        rows[(r - first_row) as usize][(c - first_col) as usize] = text;
    }
    Ok(Sheet {
        rows,
        first_row: first_row as usize + 1,
    })
}

fn cell_text(v: &DataRef<'_>) -> String {
    match v {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.trim().to_owned(),
        DataRef::SharedString(s) => s.trim().to_owned(),
        // Pupil numbers and phones typed as numbers come back as floats.
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Int(n) => n.to_string(),
        other => Data::from(other.clone()).to_string().trim().to_owned(),
    }
}

fn bad(e: impl std::fmt::Display) -> XlsxError {
    XlsxError::BadWorkbook(e.to_string())
}

/// How much of the shared-strings part is read to find its `<sst …>` start tag; Excel
/// and every library we know write it in the first hundred bytes.
const SST_HEAD_BYTES: u64 = 64 * 1024;

/// Refuses an archive whose entries would unpack past the limits, before calamine
/// decompresses anything. Sizes come from the central directory, the same numbers the
/// zip reader then holds each entry to.
fn check_archive(bytes: &[u8], limits: &XlsxLimits) -> Result<(), XlsxError> {
    let too_large = || XlsxError::TooLarge {
        limit_mb: limits.max_uncompressed_bytes.div_ceil(1024 * 1024),
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(bad)?;
    if zip.len() > limits.max_entries {
        return Err(too_large());
    }
    let mut total: u64 = 0;
    let mut shared_strings = Vec::new();
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(bad)?;
        total = total.saturating_add(entry.size());
        // calamine finds parts by lower-cased name with '/' separators.
        let name = entry.name().map_err(bad)?.replace('\\', "/");
        let leaf = name.rsplit('/').next().unwrap_or("");
        if leaf.eq_ignore_ascii_case("sharedStrings.xml") {
            if entry.size() > limits.max_shared_strings_bytes {
                return Err(XlsxError::TooLarge {
                    limit_mb: limits.max_shared_strings_bytes.div_ceil(1024 * 1024),
                });
            }
            shared_strings.push((i, entry.size()));
        }
    }
    if total > limits.max_uncompressed_bytes {
        return Err(too_large());
    }
    for (i, size) in shared_strings {
        let mut head = Vec::new();
        zip.by_index(i)
            .map_err(bad)?
            .take(SST_HEAD_BYTES)
            .read_to_end(&mut head)
            .map_err(bad)?;
        sst_unique_count(&head)
            .ok_or_else(|| XlsxError::BadWorkbook("shared strings without <sst>".into()))?;
        // Not the one value we think calamine will read, but the largest anything could
        // read: the fuzzer twice found calamine's XML reader and our scan disagreeing on
        // which `uniqueCount` is the attribute (a `>` inside quotes; then a duplicate
        // attribute after a malformed value whose leading digits calamine parsed).
        let declared = largest_declared_count(&head);
        // Each `<si>` takes at least nine bytes of XML, so a count beyond size / 9 (or
        // the cell limit) is a lie whose only effect would be calamine's reservation.
        let plausible = (size / 9 + 1).min(limits.max_cells as u64);
        if declared.is_some_and(|n| n > plausible) {
            return Err(XlsxError::TooManyCells {
                limit: limits.max_cells,
            });
        }
    }
    Ok(())
}

/// The `uniqueCount` attribute of the shared-strings start tag: `None` when the tag is
/// not in `head`, `Some(None)` when it has no (numeric) count. calamine matches the
/// element by local name and the attribute by its exact name, and so do we.
fn sst_unique_count(head: &[u8]) -> Option<Option<u64>> {
    let mut rest = head;
    while let Some(lt) = rest.iter().position(|b| *b == b'<') {
        rest = &rest[lt + 1..];
        let name_len = rest
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        let local = name.rsplit(|b| *b == b':').next().unwrap_or(name);
        if local != b"sst" {
            continue;
        }
        let end = tag_end(&rest[name_len..])?;
        let tag = &rest[name_len..name_len + end];
        return Some(attr_u64(tag, b"uniqueCount"));
    }
    None
}

/// Where a start tag ends: the first `>` outside a quoted attribute value, as the XML
/// reader sees it (the fuzzer found `xmlns="…/>…"` ending our scan early).
fn tag_end(tag: &[u8]) -> Option<usize> {
    let mut quote = None;
    for (i, b) in tag.iter().enumerate() {
        match (quote, *b) {
            (None, b'"' | b'\'') => quote = Some(*b),
            (Some(q), b) if b == q => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn attr_u64(tag: &[u8], attr: &[u8]) -> Option<u64> {
    let mut from = 0;
    while let Some(at) = find(&tag[from..], attr) {
        let start = from + at;
        from = start + attr.len();
        // Only a whole attribute name counts: "xuniqueCount" is another attribute.
        if start > 0 && !tag[start - 1].is_ascii_whitespace() {
            continue;
        }
        let rest = tag[from..].trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b"=") else {
            continue;
        };
        let rest = rest.trim_ascii_start();
        let quote = *rest.first()?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value = &rest[1..];
        let close = value.iter().position(|b| *b == quote)?;
        return std::str::from_utf8(&value[..close]).ok()?.parse().ok();
    }
    None
}

/// The largest number written after any `uniqueCount` in `head` (`uniqueCount`, optional
/// blanks, `=`, optional blanks and quote, then the leading digits; saturating), however
/// the tags around it are formed. `None` when there is none.
fn largest_declared_count(head: &[u8]) -> Option<u64> {
    const NAME: &[u8] = b"uniqueCount";
    let mut largest = None;
    let mut from = 0;
    while let Some(at) = find(&head[from..], NAME) {
        from += at + NAME.len();
        let rest = head[from..].trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b"=") else {
            continue;
        };
        let rest = rest.trim_ascii_start();
        let rest = rest
            .strip_prefix(b"\"")
            .or_else(|| rest.strip_prefix(b"'"))
            .unwrap_or(rest);
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            continue;
        }
        let n = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|d| d.parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        largest = largest.max(Some(n));
    }
    largest
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A workbook written by hand, part by part, so a test can say exactly what each part
    /// declares (rust_xlsxwriter would not write a lying `uniqueCount`).
    pub(crate) fn workbook(sheet_data: &str, shared: Option<&str>) -> Vec<u8> {
        let sheet = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData></worksheet>"#
        );
        workbook_of_parts(sheet.as_bytes(), shared.map(str::as_bytes))
    }

    /// A workbook around a whole worksheet part and shared-strings part, as the
    /// `xlsx_parts` fuzz target builds it.
    pub(crate) fn workbook_of_parts(sheet: &[u8], shared: Option<&[u8]>) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut part = |name: &str, bytes: &[u8]| {
            zip.start_file(name, opts).unwrap();
            zip.write_all(bytes).unwrap();
        };
        part(
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        );
        part(
            "_rels/.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        );
        part(
            "xl/workbook.xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        );
        part(
            "xl/_rels/workbook.xml.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        );
        part("xl/worksheets/sheet1.xml", sheet);
        if let Some(sst) = shared {
            part("xl/sharedStrings.xml", sst);
        }
        zip.finish().unwrap().into_inner()
    }

    fn inline(cell: &str, text: &str) -> String {
        format!(r#"<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>"#)
    }

    #[test]
    fn sparse_corners_are_refused_without_allocating_the_box() {
        // The probe's workbook: A1 and XFD1048576, about 1.6 KB.
        let data = format!(
            r#"<row r="1">{}</row><row r="1048576">{}</row>"#,
            inline("A1", "x"),
            inline("XFD1048576", "y")
        );
        let bytes = workbook(&data, None);
        assert!(bytes.len() < 4096, "{}", bytes.len());
        assert_eq!(
            read_first_sheet(&bytes, &XlsxLimits::DEFAULT),
            Err(XlsxError::TooManyRows { limit: 100_000 })
        );
        // Within the rows, a column past BL is refused by its own limit.
        let wide = format!(
            r#"<row r="1">{}{}</row>"#,
            inline("A1", "x"),
            inline("XFD1", "y")
        );
        assert_eq!(
            read_first_sheet(&workbook(&wide, None), &XlsxLimits::DEFAULT),
            Err(XlsxError::TooManyColumns { limit: 64 })
        );
    }

    #[test]
    fn rows_keep_their_numbers_and_blanks_cost_nothing() {
        let data = format!(
            r#"<row r="3">{}{}</row><row r="5"><c r="C5" s="1"/>{}</row>"#,
            inline("B3", " 学号 "),
            inline("D3", "姓名"),
            r#"<c r="D5"><v>2025001</v></c>"#
        );
        let sheet = read_first_sheet(&workbook(&data, None), &XlsxLimits::DEFAULT).unwrap();
        assert_eq!(sheet.first_row, 3);
        assert_eq!(
            sheet.rows,
            vec![
                vec!["学号".to_owned(), String::new(), "姓名".to_owned()],
                vec![],
                vec![String::new(), String::new(), "2025001".to_owned()],
            ]
        );
    }

    #[test]
    fn cell_limit_counts_the_blanks_between_values() {
        let limits = XlsxLimits {
            max_cells: 10,
            ..XlsxLimits::DEFAULT
        };
        let data = format!(
            r#"<row r="1">{}</row><row r="2">{}</row>"#,
            inline("A1", "x"),
            inline("J2", "y")
        );
        assert_eq!(
            read_first_sheet(&workbook(&data, None), &limits),
            Err(XlsxError::TooManyCells { limit: 10 })
        );
    }

    #[test]
    fn zip_bombs_and_lying_string_counts_are_refused_before_opening() {
        // 3 MB of blanks pack into a few KB; the same shape at a few GB is the bomb.
        let bomb = format!(
            r#"<row r="1">{}</row>{}"#,
            inline("A1", "x"),
            " ".repeat(3 * 1024 * 1024)
        );
        let limits = XlsxLimits {
            max_uncompressed_bytes: 2 * 1024 * 1024,
            ..XlsxLimits::DEFAULT
        };
        let bytes = workbook(&bomb, None);
        assert!(bytes.len() < 64 * 1024, "{}", bytes.len());
        assert_eq!(
            read_first_sheet(&bytes, &limits),
            Err(XlsxError::TooLarge { limit_mb: 2 })
        );
        // calamine reserves `uniqueCount` strings when it opens the workbook.
        let liar = r#"<?xml version="1.0"?><sst xmlns="x" count="1" uniqueCount="999999999999"><si><t>a</t></si></sst>"#;
        let data = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#;
        assert_eq!(
            read_first_sheet(&workbook(data, Some(liar)), &XlsxLimits::DEFAULT),
            Err(XlsxError::TooManyCells { limit: 2_000_000 })
        );
        // The same lie behind a quoted '>' (the fuzz target's first crash).
        let hidden = liar.replace(r#"xmlns="x""#, r#"xmlns="x/><t>a</t>""#);
        assert_eq!(
            read_first_sheet(&workbook(data, Some(&hidden)), &XlsxLimits::DEFAULT),
            Err(XlsxError::TooManyCells { limit: 2_000_000 })
        );
        let honest = liar.replace("999999999999", "1");
        let sheet = read_first_sheet(&workbook(data, Some(&honest)), &XlsxLimits::DEFAULT).unwrap();
        assert_eq!(sheet.rows, vec![vec!["a".to_owned()]]);
        let big_strings = XlsxLimits {
            max_shared_strings_bytes: 64,
            ..XlsxLimits::DEFAULT
        };
        assert_eq!(
            read_first_sheet(&workbook(data, Some(&honest)), &big_strings),
            Err(XlsxError::TooLarge { limit_mb: 1 })
        );
    }

    /// Every committed fuzz input (the generated seeds and the crashes found), read the
    /// way its target reads it, in every test run on stable: a crash the fuzzer found
    /// stays fixed without nightly.
    #[test]
    fn fuzz_corpus_replays() {
        use crate::roster::{detect_header, parse_rows, read_table};
        // Read at run time: cargo reuses a test binary built in another checkout of the
        // same tree (a worktree sharing the target directory), whose env! path may be gone.
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
        let corpus = std::path::Path::new(&dir).join("../../fuzz/corpus");
        let mut seen = 0;
        for target in ["csv", "xlsx_parts", "xlsx_raw"] {
            for entry in std::fs::read_dir(corpus.join(target)).unwrap() {
                let path = entry.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                let input = if target == "xlsx_parts" {
                    match bytes.iter().position(|b| *b == 0) {
                        Some(i) => workbook_of_parts(&bytes[..i], Some(&bytes[i + 1..])),
                        None => workbook_of_parts(&bytes, None),
                    }
                } else {
                    bytes
                };
                let read = read_table(&input);
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if name.starts_with("crash-") || name.contains("lying") || name.contains("sparse") {
                    assert!(read.is_err(), "{target}/{name} must be refused");
                }
                if let Ok(t) = read
                    && let Some(h) = detect_header(&t)
                {
                    parse_rows(&t, h.header_index, &h.mapping);
                }
                seen += 1;
            }
        }
        assert!(seen >= 18, "{seen} corpus files");
    }

    /// The fuzzer's second find (CI, 2026-12-04): a malformed first `uniqueCount` value
    /// whose leading digits calamine parsed, and a duplicate attribute after it.
    #[test]
    fn every_unique_count_is_taken_at_its_largest() {
        let head = br#"<sst xmlns="htData></worksheet> <?xml version="1.0"?><sst xm@lns="h/s="1" uniqueCount="9999999999006/main" count="1" uniqueCount="999999999999"><si>"#;
        assert_eq!(largest_declared_count(head), Some(9_999_999_999_006));
        assert_eq!(
            largest_declared_count(br#"<sst uniqueCount = '12'>"#),
            Some(12)
        );
        assert_eq!(
            largest_declared_count(br#"<sst uniqueCount="99999999999999999999999">"#),
            Some(u64::MAX)
        );
        assert_eq!(largest_declared_count(br#"<sst count="3">"#), None);
        assert_eq!(largest_declared_count(br#"<sst uniqueCount="x">"#), None);
    }

    #[test]
    fn sst_start_tag_is_found_by_local_name() {
        assert_eq!(
            sst_unique_count(br#"<?xml version="1.0"?><x:sst xmlns:x="a" uniqueCount = '12'>"#),
            Some(Some(12))
        );
        assert_eq!(
            sst_unique_count(br#"<sst xuniqueCount="5" count="3">"#),
            Some(None)
        );
        assert_eq!(sst_unique_count(b"<sstx uniqueCount=\"5\">"), None);
        // Found by the xlsx_parts fuzz target: a `>` inside a quoted value does not end
        // the tag, so the count after it must still be seen.
        assert_eq!(
            sst_unique_count(br#"<sst xmlns="a/><t>b</t>" count="1" uniqueCount="999999999999">"#),
            Some(Some(999_999_999_999))
        );
        assert_eq!(sst_unique_count(b"<sst uniqueCount=\"5\""), None);
    }
}
