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

pub use rust_xlsxwriter::XlsxError;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

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

/// Excel's limit on rows in one sheet; the title and header rows count.
pub const MAX_SHEET_ROWS: u32 = 1_048_576;

/// A workbook written row by row. Every sheet is in rust_xlsxwriter's constant-memory
/// mode: each row goes to an unlinked temp file as soon as the next one starts, so a
/// year of check-ins costs the server one row, not a year (issue 16). A sheet that
/// reaches Excel's row limit continues on a new sheet — "签到记录 (2)" — under the same
/// title and header. Every text is cut to Excel's limits here, the one place all our
/// XLSX files pass through.
pub struct XlsxStream {
    wb: Workbook,
    styles: Styles,
    row_limit: u32,
    sheet: Option<OpenSheet>,
    /// Names already used: Excel refuses two sheets of one name.
    names: Vec<String>,
}

/// The formats of a workbook, made once: the title and header rows and typed cells.
struct Styles {
    title: Format,
    bold: Format,
    cells: Formats,
}

/// The sheet rows are being written to, and what a continuation of it repeats.
struct OpenSheet {
    index: usize,
    name: String,
    title: String,
    headers: Vec<String>,
    /// 1 for the first sheet, 2 for "… (2)" and so on.
    part: u32,
    next_row: u32,
}

impl XlsxStream {
    /// A workbook whose temp files go to the system's temp directory.
    pub fn new() -> Self {
        XlsxStream {
            wb: Workbook::new(),
            styles: Styles {
                title: Format::new().set_bold().set_font_size(14),
                bold: Format::new().set_bold(),
                cells: Formats {
                    percent: Format::new().set_num_format("0.0%"),
                    hours: Format::new().set_num_format("0.0"),
                    date: Format::new().set_num_format("yyyy-mm-dd"),
                    datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
                },
            },
            row_limit: MAX_SHEET_ROWS,
            sheet: None,
            names: Vec::new(),
        }
    }

    /// Temp files in `dir` instead: the system's may be a small in-memory file system.
    pub fn in_dir(dir: &std::path::Path) -> Result<Self, XlsxError> {
        let mut s = Self::new();
        s.wb.set_tempdir(dir)?;
        Ok(s)
    }

    /// Rows per sheet, title and header included, below Excel's: the split is tested
    /// with a handful of rows rather than a million.
    pub fn with_row_limit(mut self, rows: u32) -> Self {
        self.row_limit = rows.clamp(3, MAX_SHEET_ROWS);
        self
    }

    /// Starts a sheet: its title row and header row. Rows written next go under it.
    pub fn sheet(
        &mut self,
        name: &str,
        title: &str,
        headers: Vec<String>,
    ) -> Result<(), XlsxError> {
        self.open(OpenSheet {
            index: 0,
            name: name.to_owned(),
            title: title.to_owned(),
            headers,
            part: 1,
            next_row: 0,
        })
    }

    fn open(&mut self, mut s: OpenSheet) -> Result<(), XlsxError> {
        let name = self.unique_name(&s.name, s.part);
        let ws = self.wb.add_worksheet_with_constant_memory()?;
        ws.set_name(&name)?;
        // Widths and panes are sheet settings, not rows: allowed in constant memory.
        for c in 0..s.headers.len() {
            ws.set_column_width(c as u16, 16)?;
        }
        ws.set_freeze_panes(2, 0)?;
        ws.write_string_with_format(0, 0, cell_text(&s.title), &self.styles.title)?;
        for (c, h) in s.headers.iter().enumerate() {
            ws.write_string_with_format(1, c as u16, cell_text(h), &self.styles.bold)?;
        }
        s.index = self.wb.worksheets().len() - 1;
        s.next_row = 2;
        self.names.push(name.to_lowercase());
        self.sheet = Some(s);
        Ok(())
    }

    /// `name` as Excel takes it, with " (2)" for a continuation, kept within 31
    /// characters by cutting the name rather than the number, and not one used before.
    fn unique_name(&self, name: &str, part: u32) -> String {
        let base = sheet_name(name);
        let mut n = part;
        loop {
            let suffix = if n > 1 {
                format!(" ({n})")
            } else {
                String::new()
            };
            let keep = MAX_SHEET_NAME_CHARS - suffix.chars().count();
            let candidate = format!("{}{suffix}", base.chars().take(keep).collect::<String>());
            if !self.names.contains(&candidate.to_lowercase()) {
                return candidate;
            }
            n += 1;
        }
    }

    /// Writes one row under the current sheet; past the row limit, on its continuation.
    pub fn row(&mut self, cells: &[Cell]) -> Result<(), XlsxError> {
        let Some(s) = self.sheet.as_mut() else {
            return Err(XlsxError::ParameterError("a row before any sheet".into()));
        };
        if s.next_row >= self.row_limit {
            let s = self.sheet.take().expect("open sheet");
            self.open(OpenSheet {
                part: s.part + 1,
                ..s
            })?;
        }
        let s = self.sheet.as_mut().expect("open sheet");
        let ws = self.wb.worksheet_from_index(s.index)?;
        for (c, v) in cells.iter().enumerate() {
            write_cell(ws, &self.styles.cells, s.next_row, c as u16, v)?;
        }
        s.next_row += 1;
        Ok(())
    }

    /// Writes the finished workbook to `out`.
    pub fn finish_to<W: std::io::Write + Send>(mut self, out: W) -> Result<(), XlsxError> {
        self.wb.save_to_writer(out)
    }

    /// The finished workbook in an unlinked temp file, rewound: a big export is sent
    /// from disk, and the file is gone once the handle is dropped, however that happens.
    pub fn finish_to_file(self, dir: Option<&std::path::Path>) -> Result<std::fs::File, XlsxError> {
        use std::io::Seek;
        let file = match dir {
            Some(d) => tempfile::tempfile_in(d),
            None => tempfile::tempfile(),
        }
        .map_err(XlsxError::IoError)?;
        let mut out = std::io::BufWriter::new(file);
        self.finish_to(&mut out)?;
        let mut file = out
            .into_inner()
            .map_err(|e| XlsxError::IoError(e.into_error()))?;
        file.rewind()?;
        Ok(file)
    }

    /// The finished workbook's bytes, for the small files built in memory anyway.
    pub fn finish(self) -> Result<Vec<u8>, XlsxError> {
        let mut buf = Vec::new();
        self.finish_to(std::io::Cursor::new(&mut buf))?;
        Ok(buf)
    }
}

impl Default for XlsxStream {
    fn default() -> Self {
        Self::new()
    }
}

/// One workbook with one worksheet per sheet, through `XlsxStream`.
pub fn xlsx(sheets: &[Sheet<'_>]) -> Result<Vec<u8>, XlsxError> {
    let mut w = XlsxStream::new();
    for s in sheets {
        w.sheet(s.name, s.title, s.headers.clone())?;
        for row in &s.rows {
            w.row(row)?;
        }
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use jiaxiao_domain::xlsx::{XlsxLimits, read_first_sheet};

    /// A sheet's cells read one at a time (calamine's `worksheet_range` allocates the
    /// rows × columns a sheet declares before anything is checked), at most 10,000 of them.
    struct Cells {
        cells: std::collections::BTreeMap<(u32, u32), Data>,
    }

    impl Cells {
        fn of<R: std::io::Read + std::io::Seek>(wb: &mut Xlsx<R>, sheet: &str) -> Cells {
            let mut reader = wb.worksheet_cells_reader(sheet).unwrap();
            let mut cells = std::collections::BTreeMap::new();
            while let Some(c) = reader.next_cell().unwrap() {
                assert!(cells.len() < 10_000, "more cells than a test sheet holds");
                cells.insert(c.get_position(), Data::from(c.get_value().clone()));
            }
            Cells { cells }
        }

        fn get_value(&self, at: (u32, u32)) -> Option<&Data> {
            self.cells.get(&at)
        }

        /// Rows from the first to the last that holds a cell.
        fn height(&self) -> usize {
            self.cells.keys().last().map_or(0, |(r, _)| *r as usize + 1)
        }
    }

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
        let range = Cells::of(&mut wb, "台账");
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

    #[test]
    fn a_full_sheet_continues_on_a_new_one_with_its_header() {
        // A limit of 6 rows: title, header and 4 data rows per sheet.
        let mut w = XlsxStream::new().with_row_limit(6);
        w.sheet(
            "签到记录",
            "台账 2025-2026学年",
            vec!["家长".into(), "日期".into()],
        )
        .unwrap();
        for i in 0..10 {
            w.row(&[
                format!("家长{i}").into(),
                Cell::Date {
                    y: 2026,
                    m: 3,
                    d: 5,
                },
            ])
            .unwrap();
        }
        w.sheet("课次", "台账", vec!["课次".into()]).unwrap();
        w.row(&["第1讲".into()]).unwrap();
        let bytes = w.finish().unwrap();
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(&bytes)).unwrap();
        assert_eq!(
            wb.sheet_names(),
            ["签到记录", "签到记录 (2)", "签到记录 (3)", "课次"]
        );
        let mut parents = Vec::new();
        for (name, rows) in [("签到记录", 6), ("签到记录 (2)", 6), ("签到记录 (3)", 4)]
        {
            let r = Cells::of(&mut wb, name);
            assert_eq!(r.height(), rows, "{name}");
            assert_eq!(
                r.get_value((0, 0)),
                Some(&Data::String("台账 2025-2026学年".into()))
            );
            assert_eq!(
                r.get_value((1, 0)),
                Some(&Data::String("家长".into())),
                "{name}"
            );
            assert_eq!(
                r.get_value((1, 1)),
                Some(&Data::String("日期".into())),
                "{name}"
            );
            for row in 2..rows as u32 {
                let Some(Data::String(p)) = r.get_value((row, 0)) else {
                    panic!("{name} row {row}")
                };
                parents.push(p.clone());
                assert!(matches!(r.get_value((row, 1)), Some(Data::DateTime(_))));
            }
        }
        let want: Vec<String> = (0..10).map(|i| format!("家长{i}")).collect();
        assert_eq!(parents, want, "every row once, in order");
    }

    #[test]
    fn continuation_names_keep_their_number_and_stay_unique() {
        let long = "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三";
        let mut w = XlsxStream::new().with_row_limit(3);
        w.sheet(long, "t", vec![]).unwrap();
        w.row(&["a".into()]).unwrap();
        w.row(&["b".into()]).unwrap();
        w.sheet("表", "t", vec![]).unwrap();
        w.sheet("表", "t", vec![]).unwrap();
        let bytes = w.finish().unwrap();
        let wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(&bytes)).unwrap();
        let names = wb.sheet_names();
        assert_eq!(names.len(), 4);
        assert!(names[1].ends_with(" (2)") && names[1].chars().count() == 31);
        assert_eq!(names[2..], ["表", "表 (2)"]);
    }

    #[test]
    fn temp_files_are_gone_when_the_workbook_is() {
        let dir = tempfile::tempdir().unwrap();
        let open_fds = || {
            std::fs::read_dir("/proc/self/fd")
                .map(|d| d.count())
                .unwrap_or(0)
        };
        let before = open_fds();
        let mut w = XlsxStream::in_dir(dir.path()).unwrap();
        w.sheet("a", "t", vec!["x".into()]).unwrap();
        w.row(&[Cell::Int(1)]).unwrap();
        w.sheet("b", "t", vec!["x".into()]).unwrap();
        w.row(&[Cell::Int(2)]).unwrap();
        // Unlinked from the start: nothing to leave behind even if the process dies.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let file = w.finish_to_file(Some(dir.path())).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut wb: Xlsx<_> = Xlsx::new(std::io::BufReader::new(file)).unwrap();
        assert_eq!(
            Cells::of(&mut wb, "b").get_value((2, 0)),
            Some(&Data::Float(2.0))
        );
        drop(wb);
        // Tests share the process, so others may hold descriptors: at most as many as before.
        assert!(open_fds() <= before + 2, "temp file handles closed");
    }
}
