//! File renderers: a plain view model in, the bytes of an XLSX (rust_xlsxwriter) or a
//! PDF (typst, in `pdf`) out. No database access here, so renderers are tested on their own.

pub mod images;
pub mod pdf;

pub use pdf::{
    Attendance, Breakout, Certificate, CertificateLabels, Dossier, DossierLabels, DossierSession,
    Duty, PdfError, ProgrammeItem, RunSheet, RunSheetLabels, SignInLabels, SignInRow, SignInSheet,
    certificates, dossier, run_sheet, signin_sheet,
};

use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// A sheet as a title row, a header and rows of text.
pub struct Sheet<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Excel's limit on the text of one cell, in characters.
pub const MAX_CELL_CHARS: usize = 32_767;

/// Excel's limit on a sheet name, in characters.
const MAX_SHEET_NAME_CHARS: usize = 31;

/// `v` cut to what one cell holds, ending in "…" when cut. Input rules keep texts far
/// shorter, but one over-long value stored before them (or from an import) must not
/// make a school's ledger fail to download for good.
pub fn cell_text(v: &str) -> std::borrow::Cow<'_, str> {
    if v.len() <= MAX_CELL_CHARS || v.chars().count() <= MAX_CELL_CHARS {
        return std::borrow::Cow::Borrowed(v);
    }
    let mut t: String = v.chars().take(MAX_CELL_CHARS - 1).collect();
    t.push('…');
    std::borrow::Cow::Owned(t)
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let n: String = name
        .chars()
        .map(|c| match c {
            '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '_',
            c => c,
        })
        .take(MAX_SHEET_NAME_CHARS)
        .collect();
    if n.trim().is_empty() {
        "Sheet".into()
    } else {
        n
    }
}

/// One workbook with one worksheet per sheet. Text cells only: phone numbers and
/// pupil numbers must not turn into floats when opened in Excel. Every text is cut to
/// Excel's limits here, the one place all our XLSX files pass through.
pub fn xlsx(sheets: &[Sheet<'_>]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(s.name))?;
        ws.write_string_with_format(0, 0, cell_text(s.title), &title)?;
        for (c, h) in s.headers.iter().enumerate() {
            ws.write_string_with_format(1, c as u16, cell_text(h), &bold)?;
            ws.set_column_width(c as u16, 16)?;
        }
        for (r, row) in s.rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32 + 2, c as u16, cell_text(v))?;
            }
        }
        ws.set_freeze_panes(2, 0)?;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Reader, Xlsx};
    use jiaxiao_domain::xlsx::{XlsxLimits, read_first_sheet};

    #[test]
    fn writes_a_workbook_that_reads_back() {
        let bytes = xlsx(&[Sheet {
            name: "邀请码",
            title: "家长邀请码",
            headers: vec!["姓名".into(), "手机号".into(), "邀请码".into()],
            rows: vec![vec![
                "王建国".into(),
                "13800000001".into(),
                "01234567".into(),
            ]],
        }])
        .unwrap();
        let wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(&bytes)).unwrap();
        assert_eq!(wb.sheet_names(), ["邀请码"]);
        // Read back the way uploads are read: streamed within the limits.
        let sheet = read_first_sheet(&bytes, &XlsxLimits::DEFAULT).unwrap();
        assert_eq!(sheet.rows[2], vec!["王建国", "13800000001", "01234567"]);
    }

    #[test]
    fn over_long_cells_and_odd_sheet_names_are_cut_not_refused() {
        // 40,000 characters in a title once made every ledger export of that school
        // fail: Excel cells hold 32,767.
        let long = "讲".repeat(40_000);
        let bytes = xlsx(&[Sheet {
            name: "台账[2026/2027]: 课次与签到情况一览表（含家长学时与出勤率）",
            title: &long,
            headers: vec![long.clone()],
            rows: vec![vec![long.clone(), "短".into()]],
        }])
        .unwrap();
        let wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(&bytes)).unwrap();
        let name = wb.sheet_names()[0].clone();
        assert!(name.chars().count() <= 31 && !name.contains(['[', '/', ':']));
        let sheet = read_first_sheet(&bytes, &XlsxLimits::DEFAULT).unwrap();
        let cell = &sheet.rows[2][0];
        assert_eq!(cell.chars().count(), MAX_CELL_CHARS);
        assert!(cell.ends_with('…'));
        assert_eq!(sheet.rows[2][1], "短");
        assert_eq!(cell_text("短"), "短");
    }
}
