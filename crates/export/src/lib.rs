//! File renderers: a plain view model in, the bytes of an XLSX (rust_xlsxwriter) or a
//! PDF (typst, in `pdf`) out. No database access here, so renderers are tested on their own.

pub mod images;
pub mod pdf;

pub use pdf::{
    Attendance, Breakout, Certificate, CertificateLabels, Dossier, DossierLabels, DossierSession,
    DossierTable, Duty, ExcellenceNotice, PdfError, ProgrammeItem, RunSheet, RunSheetLabels,
    SignInLabels, SignInRow, SignInSheet, certificates, dossier, excellence_notice, run_sheet,
    signin_sheet,
};

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

/// A sheet as a title row, a header and rows of typed cells.
pub struct Sheet<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// One cell. Counts, hours, rates and dates are written as numbers so that Excel can
/// sum, sort and filter them; names, phone numbers and codes stay text so that
/// "13800000001" and "01234567" are not turned into floats.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Number(f64),
    /// A rate 0–1, shown as a percentage with one decimal ("87.5%").
    Percent(f64),
    /// Hours, shown with one decimal ("1.5").
    Hours(f64),
    /// A calendar date, shown as 2026-03-05.
    Date {
        y: u16,
        m: u8,
        d: u8,
    },
    /// A date and time of day (Beijing time), shown as 2026-03-05 19:02.
    DateTime {
        y: u16,
        m: u8,
        d: u8,
        hh: u8,
        mm: u8,
    },
    Empty,
}

impl std::fmt::Display for Cell {
    /// The cell as printed in a PDF table: numbers formatted as the XLSX shows them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Text(v) => f.write_str(v),
            Cell::Int(v) => write!(f, "{v}"),
            Cell::Number(v) => write!(f, "{v}"),
            Cell::Percent(v) => write!(f, "{:.1}%", v * 100.0),
            Cell::Hours(v) => write!(f, "{v:.1}"),
            Cell::Date { y, m, d } => write!(f, "{y:04}-{m:02}-{d:02}"),
            Cell::DateTime { y, m, d, hh, mm } => {
                write!(f, "{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}")
            }
            Cell::Empty => Ok(()),
        }
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_owned())
    }
}

impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Self {
        v.map_or(Cell::Empty, Cell::Text)
    }
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}

impl From<i32> for Cell {
    fn from(v: i32) -> Self {
        Cell::Int(v.into())
    }
}

impl From<u32> for Cell {
    fn from(v: u32) -> Self {
        Cell::Int(v.into())
    }
}

impl From<usize> for Cell {
    fn from(v: usize) -> Self {
        Cell::Int(v as i64)
    }
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

/// The number formats of typed cells, made once per workbook.
struct Formats {
    percent: Format,
    hours: Format,
    date: Format,
    datetime: Format,
}

fn write_cell(
    ws: &mut rust_xlsxwriter::Worksheet,
    f: &Formats,
    row: u32,
    col: u16,
    cell: &Cell,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(v) => ws.write_string(row, col, cell_text(v)).map(drop),
        Cell::Int(v) => ws.write_number(row, col, *v as f64).map(drop),
        Cell::Number(v) => ws.write_number(row, col, *v).map(drop),
        Cell::Percent(v) => ws
            .write_number_with_format(row, col, *v, &f.percent)
            .map(drop),
        Cell::Hours(v) => ws
            .write_number_with_format(row, col, *v, &f.hours)
            .map(drop),
        Cell::Date { y, m, d } => {
            let t = ExcelDateTime::from_ymd(*y, *m, *d)?;
            ws.write_datetime_with_format(row, col, &t, &f.date)
                .map(drop)
        }
        Cell::DateTime { y, m, d, hh, mm } => {
            let t = ExcelDateTime::from_ymd(*y, *m, *d)?.and_hms((*hh).into(), *mm, 0)?;
            ws.write_datetime_with_format(row, col, &t, &f.datetime)
                .map(drop)
        }
        Cell::Empty => Ok(()),
    }
}

/// One workbook with one worksheet per sheet. Every text is cut to Excel's limits
/// here, the one place all our XLSX files pass through.
pub fn xlsx(sheets: &[Sheet<'_>]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);
    let formats = Formats {
        percent: Format::new().set_num_format("0.0%"),
        hours: Format::new().set_num_format("0.0"),
        date: Format::new().set_num_format("yyyy-mm-dd"),
        datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
    };
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
                write_cell(ws, &formats, r as u32 + 2, c as u16, v)?;
            }
        }
        ws.set_freeze_panes(2, 0)?;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
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
            rows: vec![vec![long.clone().into(), "短".into()]],
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

    #[test]
    fn numbers_dates_and_rates_are_typed_cells() {
        let bytes = xlsx(&[Sheet {
            name: "台账",
            title: "台账",
            headers: vec!["电话".into(), "人数".into()],
            rows: vec![vec![
                "13800000001".into(),
                Cell::Int(42),
                Cell::Number(2.25),
                Cell::Percent(0.875),
                Cell::Hours(1.5),
                Cell::Date {
                    y: 2026,
                    m: 3,
                    d: 5,
                },
                Cell::DateTime {
                    y: 2026,
                    m: 3,
                    d: 5,
                    hh: 19,
                    mm: 2,
                },
                Cell::Empty,
                "末".into(),
            ]],
        }])
        .unwrap();
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(&bytes)).unwrap();
        let range = wb.worksheet_range("台账").unwrap();
        let cell = |c: u32| range.get_value((2, c)).cloned().unwrap_or(Data::Empty);
        assert_eq!(cell(0), Data::String("13800000001".into()));
        assert_eq!(cell(1), Data::Float(42.0));
        assert_eq!(cell(2), Data::Float(2.25));
        assert_eq!(cell(3), Data::Float(0.875));
        assert_eq!(cell(4), Data::Float(1.5));
        let Data::DateTime(d) = cell(5) else {
            panic!("date: {:?}", cell(5))
        };
        assert_eq!(d.as_f64(), 46086.0, "2026-03-05");
        let Data::DateTime(t) = cell(6) else {
            panic!("date and time: {:?}", cell(6))
        };
        assert!((t.as_f64() - (46086.0 + (19.0 * 60.0 + 2.0) / 1440.0)).abs() < 1e-6);
        assert_eq!(cell(7), Data::Empty);
        assert_eq!(cell(8), Data::String("末".into()));
        let styles = wb.worksheet_style("台账").unwrap();
        let format = |c: u32| {
            styles
                .get((2, c))
                .and_then(|s| s.number_format.as_ref())
                .map(|f| f.format_code.clone())
                .unwrap_or_default()
        };
        assert_eq!(format(3), "0.0%");
        assert_eq!(format(4), "0.0");
        assert_eq!(format(5), "yyyy-mm-dd");
    }
}
