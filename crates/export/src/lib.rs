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

/// One workbook with one worksheet per sheet. Text cells only: phone numbers and
/// pupil numbers must not turn into floats when opened in Excel.
pub fn xlsx(sheets: &[Sheet<'_>]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(s.name)?;
        ws.write_string_with_format(0, 0, s.title, &title)?;
        for (c, h) in s.headers.iter().enumerate() {
            ws.write_string_with_format(1, c as u16, h, &bold)?;
            ws.set_column_width(c as u16, 16)?;
        }
        for (r, row) in s.rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32 + 2, c as u16, v)?;
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
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range("邀请码").unwrap();
        let cells: Vec<String> = range
            .rows()
            .nth(2)
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(cells, vec!["王建国", "13800000001", "01234567"]);
    }
}
