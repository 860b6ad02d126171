//! Roster parsing: the file a school exports from its records (CSV in UTF-8 or GBK,
//! or XLSX with title rows above the header) turned into checked rows, every refused
//! row named with its spreadsheet row number and a reason code. Nothing is written
//! here; the store applies a parsed roster in one transaction.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::org::{Gender, Relation, class_name, grade_name, parse_class_number, parse_grade};
use crate::phone::PhoneNumber;
use crate::text;
use crate::xlsx::{XlsxError, XlsxLimits};
use serde::{Deserialize, Serialize};

/// A sheet as rows of trimmed cells; `row_numbers[i]` is the 1-based row as the
/// person sees it in Excel or a text editor. Serialised as the pending preview kept in
/// the database between upload and confirmation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub rows: Vec<Vec<String>>,
    pub row_numbers: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is neither UTF-8/GBK text nor an XLSX workbook")]
    Unreadable,
    #[error("the workbook could not be opened: {0}")]
    BadWorkbook(String),
    #[error("the file has more than {limit} rows")]
    TooManyRows { limit: u32 },
    #[error("the file has more than {limit} columns")]
    TooManyColumns { limit: u32 },
    #[error("the file has more than {limit} cells")]
    TooManyCells { limit: usize },
    #[error("the workbook unpacks to more than {limit_mb} MB")]
    TooLarge { limit_mb: u64 },
}

impl ReadError {
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::Empty => "file_empty",
            ReadError::Unreadable => "file_unreadable",
            ReadError::BadWorkbook(_) => "file_bad_workbook",
            ReadError::TooManyRows { .. } => "file_too_many_rows",
            ReadError::TooManyColumns { .. } => "file_too_many_columns",
            ReadError::TooManyCells { .. } => "file_too_many_cells",
            ReadError::TooLarge { .. } => "file_too_large",
        }
    }

    /// The limit a refusal names, for the message ("at most %{limit} rows").
    pub fn limit(&self) -> Option<u64> {
        match self {
            ReadError::TooManyRows { limit } | ReadError::TooManyColumns { limit } => {
                Some(u64::from(*limit))
            }
            ReadError::TooManyCells { limit } => Some(*limit as u64),
            ReadError::TooLarge { limit_mb } => Some(*limit_mb),
            _ => None,
        }
    }
}

impl From<XlsxError> for ReadError {
    fn from(e: XlsxError) -> Self {
        match e {
            XlsxError::Empty => ReadError::Empty,
            XlsxError::BadWorkbook(m) => ReadError::BadWorkbook(m),
            XlsxError::TooManyRows { limit } => ReadError::TooManyRows { limit },
            XlsxError::TooManyColumns { limit } => ReadError::TooManyColumns { limit },
            XlsxError::TooManyCells { limit } => ReadError::TooManyCells { limit },
            XlsxError::TooLarge { limit_mb } => ReadError::TooLarge { limit_mb },
        }
    }
}

/// Reads CSV (UTF-8 with or without BOM, or GBK/GB18030, CRLF or LF) or XLSX (first
/// sheet) within [`XlsxLimits::DEFAULT`].
pub fn read_table(bytes: &[u8]) -> Result<Table, ReadError> {
    read_table_within(bytes, &XlsxLimits::DEFAULT)
}

/// [`read_table`] with other limits. CSV is held to the same rows, columns and cells as
/// XLSX: the table it builds costs the same memory.
pub fn read_table_within(bytes: &[u8], limits: &XlsxLimits) -> Result<Table, ReadError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ReadError::Empty);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes, limits);
    }
    let text = decode_text(bytes).ok_or(ReadError::Unreadable)?;
    read_csv(&text, limits)
}

/// UTF-8 first (BOM stripped); otherwise GB18030, the superset of GBK that Excel on a
/// Chinese Windows writes. Binary junk fails both and is refused. UTF-8 is borrowed, not
/// copied: the text of a large upload is held once.
fn decode_text(bytes: &[u8]) -> Option<Cow<'_, str>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.contains(&0) {
        return None;
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Some(Cow::Borrowed(s));
    }
    let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
    (!had_errors).then_some(text)
}

fn read_csv(text: &str, limits: &XlsxLimits) -> Result<Table, ReadError> {
    let mut table = Table::default();
    csv_rows(text, limits, |line, row| {
        table.rows.push(row);
        table.row_numbers.push(line);
    })?;
    Ok(table)
}

/// Hands each record of `text` to `each` with the line it starts on, within `limits`,
/// holding one record at a time. `Empty` when there is none.
fn csv_rows(
    text: &str,
    limits: &XlsxLimits,
    mut each: impl FnMut(usize, Vec<String>),
) -> Result<(), ReadError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    // The csv reader's own line count drifts on CRLF, so lines are counted here from each
    // record's byte offset (CRLF, LF and a lone CR are one break each), without copying
    // the text to rewrite its line ends.
    let mut lines = LineCounter::default();
    let (mut rows, mut cells) = (0usize, 0usize);
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => return Err(ReadError::Unreadable),
        }
        if rows >= limits.max_rows as usize {
            return Err(ReadError::TooManyRows {
                limit: limits.max_rows,
            });
        }
        if rec.len() > limits.max_columns as usize {
            return Err(ReadError::TooManyColumns {
                limit: limits.max_columns,
            });
        }
        cells += rec.len();
        if cells > limits.max_cells {
            return Err(ReadError::TooManyCells {
                limit: limits.max_cells,
            });
        }
        rows += 1;
        let line = rec
            .position()
            .map(|p| lines.line_at(text.as_bytes(), p.byte() as usize))
            .unwrap_or(0);
        each(line, rec.iter().map(|c| c.trim().to_owned()).collect());
    }
    if rows == 0 {
        return Err(ReadError::Empty);
    }
    Ok(())
}

/// The 1-based line of a byte offset, for offsets asked in increasing order: each byte
/// of the text is looked at once however many records there are.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    breaks: usize,
}

impl LineCounter {
    fn line_at(&mut self, text: &[u8], offset: usize) -> usize {
        // The reader may report a record from the end of the previous one, before its
        // line break or the blank lines it skips; a record never starts with a break.
        let mut offset = offset.min(text.len());
        while matches!(text.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        if offset > self.offset {
            let span = &text[self.offset..offset];
            self.breaks += span
                .iter()
                .enumerate()
                .filter(|&(i, &b)| {
                    b == b'\n' || (b == b'\r' && text.get(self.offset + i + 1) != Some(&b'\n'))
                })
                .count();
            self.offset = offset;
        }
        self.breaks + 1
    }
}

/// The first sheet, streamed cell by cell within `limits` (see [`crate::xlsx`]).
fn read_xlsx(bytes: &[u8], limits: &XlsxLimits) -> Result<Table, ReadError> {
    let sheet = crate::xlsx::read_first_sheet(bytes, limits)?;
    let row_numbers = (0..sheet.rows.len()).map(|i| sheet.first_row + i).collect();
    Ok(Table {
        rows: sheet.rows,
        row_numbers,
    })
}

/// The columns a roster can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    StudentNo,
    Name,
    Gender,
    Grade,
    Class,
    ParentName,
    Relation,
    Phone,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::StudentNo,
        Field::Name,
        Field::Gender,
        Field::Grade,
        Field::Class,
        Field::ParentName,
        Field::Relation,
        Field::Phone,
    ];
    pub const REQUIRED: [Field; 4] = [Field::StudentNo, Field::Name, Field::Grade, Field::Class];

    pub fn code(self) -> &'static str {
        match self {
            Field::StudentNo => "student_no",
            Field::Name => "name",
            Field::Gender => "gender",
            Field::Grade => "grade",
            Field::Class => "class",
            Field::ParentName => "parent_name",
            Field::Relation => "relation",
            Field::Phone => "phone",
        }
    }

    pub fn from_code(code: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.code() == code)
    }

    /// Header words seen on Chinese rosters for this column.
    fn recognises(self, header: &str) -> bool {
        let h: String = header
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '＊' | ':' | '：'))
            .collect();
        let words: &[&str] = match self {
            Field::StudentNo => &["学号", "学籍号", "学生编号", "studentno", "student_no"],
            Field::Name => &["姓名", "学生姓名", "学生", "幼儿姓名", "name"],
            Field::Gender => &["性别", "gender"],
            Field::Grade => &["年级", "grade"],
            Field::Class => &["班级", "班", "class"],
            Field::ParentName => &[
                "家长姓名",
                "家长",
                "监护人",
                "监护人姓名",
                "parent",
                "parent_name",
            ],
            Field::Relation => &["与学生关系", "关系", "家长关系", "亲属关系", "relation"],
            Field::Phone => &[
                "联系电话",
                "手机号",
                "手机",
                "电话",
                "家长电话",
                "家长手机号",
                "手机号码",
                "phone",
            ],
        };
        words.iter().any(|w| h.eq_ignore_ascii_case(w))
    }
}

/// Which column of the table holds each field.
pub type Mapping = HashMap<Field, usize>;

#[derive(Debug, Clone)]
pub struct HeaderGuess {
    /// Index into `Table::rows` of the header row.
    pub header_index: usize,
    pub columns: Vec<String>,
    pub mapping: Mapping,
}

impl HeaderGuess {
    pub fn missing_required(&self) -> Vec<Field> {
        Field::REQUIRED
            .into_iter()
            .filter(|f| !self.mapping.contains_key(f))
            .collect()
    }
}

/// Finds the header among the first rows: the row where most cells name a known column.
/// Title rows ("XX小学2025学年学生名单") above it are skipped.
pub fn detect_header(table: &Table) -> Option<HeaderGuess> {
    let mut best: Option<HeaderGuess> = None;
    for (i, row) in table.rows.iter().enumerate().take(HEADER_SEARCH_ROWS) {
        let mapping = map_columns(row);
        if mapping.len() >= 2
            && best
                .as_ref()
                .is_none_or(|b| mapping.len() > b.mapping.len())
        {
            best = Some(HeaderGuess {
                header_index: i,
                columns: row.clone(),
                mapping,
            });
        }
    }
    best
}

/// How far down [`detect_header`] looks for the header.
const HEADER_SEARCH_ROWS: usize = 30;

/// The header found in `table` (or its first row when none is recognised), with the
/// columns chosen by hand in `chosen` when there are any.
pub fn guess_header(table: &Table, chosen: Option<&Mapping>) -> HeaderGuess {
    let mut guess = detect_header(table).unwrap_or(HeaderGuess {
        header_index: 0,
        columns: table.rows.first().cloned().unwrap_or_default(),
        mapping: Mapping::new(),
    });
    if let Some(m) = chosen
        && !m.is_empty()
    {
        guess.mapping = m.clone();
    }
    guess
}

/// Reads and checks a roster file in one pass: [`read_table`], [`guess_header`] and,
/// when every required column is mapped, [`parse_rows`]; otherwise no rows. A CSV is
/// checked as it is read, so only its first rows and the checked rows are held, never
/// its table (issue 9: a 50 MB file made a table of about 100 MB per upload). Without
/// `keep_rows` the good rows are only counted (`accepted`), for a preview.
pub fn check_file(
    bytes: &[u8],
    chosen: Option<&Mapping>,
    keep_rows: bool,
) -> Result<(HeaderGuess, ParsedRoster), ReadError> {
    let limits = &XlsxLimits::DEFAULT;
    if bytes.iter().all(|b| b.is_ascii_whitespace()) || bytes.starts_with(b"PK\x03\x04") {
        let table = read_table_within(bytes, limits)?;
        let guess = guess_header(&table, chosen);
        let mut parsed = if guess.missing_required().is_empty() {
            parse_rows(&table, guess.header_index, &guess.mapping)
        } else {
            ParsedRoster::default()
        };
        if !keep_rows {
            parsed.rows = Vec::new();
        }
        return Ok((guess, parsed));
    }
    let text = decode_text(bytes).ok_or(ReadError::Unreadable)?;
    // The first rows wait until the header is found among them; then every row is
    // checked as it comes and dropped.
    let mut head = Table::default();
    let mut started: Option<(HeaderGuess, Option<RowChecker>)> = None;
    let start = |head: &Table| {
        let guess = guess_header(head, chosen);
        let checker = guess.missing_required().is_empty().then(|| {
            let mut checker = RowChecker::new(guess.mapping.clone(), keep_rows);
            for (row, &line) in head
                .rows
                .iter()
                .zip(&head.row_numbers)
                .skip(guess.header_index + 1)
            {
                checker.check(line, row);
            }
            checker
        });
        (guess, checker)
    };
    csv_rows(&text, limits, |line, row| match &mut started {
        Some((_, checker)) => {
            if let Some(checker) = checker {
                checker.check(line, &row);
            }
        }
        None => {
            head.rows.push(row);
            head.row_numbers.push(line);
            if head.rows.len() == HEADER_SEARCH_ROWS {
                started = Some(start(&head));
            }
        }
    })?;
    let (guess, checker) = match started {
        Some(s) => s,
        None => start(&head),
    };
    Ok((guess, checker.map(|c| c.out).unwrap_or_default()))
}

fn map_columns(row: &[String]) -> Mapping {
    let mut mapping = Mapping::new();
    for field in Field::ALL {
        if let Some(col) = row.iter().position(|cell| field.recognises(cell)) {
            // "学生" could also match a later "学生姓名"; the first hit per field wins and a
            // column is claimed once.
            if !mapping.values().any(|c| *c == col) {
                mapping.insert(field, col);
            }
        }
    }
    mapping
}

/// One checked roster row: a pupil and, when given, one guardian.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterRow {
    pub row: usize,
    pub student_no: String,
    pub name: String,
    pub gender: Option<Gender>,
    pub grade_level: i32,
    pub grade_name: String,
    pub class_number: i32,
    pub class_name: String,
    pub guardian: Option<GuardianCell>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardianCell {
    pub name: String,
    pub relation: Relation,
    pub phone: Option<PhoneNumber>,
}

/// Why a row was refused or flagged; `code` selects the translated message and
/// `detail` carries the offending cell so staff can find it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowIssue {
    pub row: usize,
    pub code: String,
    pub detail: String,
}

#[derive(Debug, Clone, Default)]
pub struct ParsedRoster {
    /// The rows to import; empty when only counted (see [`check_file`]).
    pub rows: Vec<RosterRow>,
    /// How many rows can be imported, kept or not.
    pub accepted: usize,
    pub rejected: Vec<RowIssue>,
    pub duplicates: Vec<RowIssue>,
}

fn cell(row: &[String], mapping: &Mapping, f: Field) -> String {
    mapping
        .get(&f)
        .and_then(|c| row.get(*c))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Checks every row under the header. Blank rows and trailing notes (注：…) are skipped
/// silently; every other problem becomes a [`RowIssue`] and the row is left out.
pub fn parse_rows(table: &Table, header_index: usize, mapping: &Mapping) -> ParsedRoster {
    let mut checker = RowChecker::new(mapping.clone(), true);
    for (i, row) in table.rows.iter().enumerate().skip(header_index + 1) {
        let row_no = table.row_numbers.get(i).copied().unwrap_or(i + 1);
        checker.check(row_no, row);
    }
    checker.out
}

/// [`parse_rows`] one row at a time, so a file can be checked while it is read without
/// holding its table. It remembers pupil numbers and phones to find conflicts.
struct RowChecker {
    mapping: Mapping,
    keep_rows: bool,
    out: ParsedRoster,
    // (student_no) -> (name, first row); (phone) -> (parent name, first row)
    pupils: HashMap<String, (String, usize)>,
    phones: HashMap<String, (String, usize)>,
    seen_pairs: HashMap<(String, String), usize>,
}

impl RowChecker {
    fn new(mapping: Mapping, keep_rows: bool) -> Self {
        RowChecker {
            mapping,
            keep_rows,
            out: ParsedRoster::default(),
            pupils: HashMap::new(),
            phones: HashMap::new(),
            seen_pairs: HashMap::new(),
        }
    }

    fn check(&mut self, row_no: usize, row: &[String]) {
        let non_empty: Vec<&String> = row.iter().filter(|c| !c.trim().is_empty()).collect();
        if non_empty.is_empty() {
            return;
        }
        if non_empty.len() == 1 && is_note(non_empty[0]) {
            return;
        }
        let issue = |code: &str, detail: String| RowIssue {
            row: row_no,
            code: code.to_owned(),
            detail,
        };
        let student_no = cell(row, &self.mapping, Field::StudentNo);
        let name = cell(row, &self.mapping, Field::Name);
        if student_no.is_empty() {
            self.out.rejected.push(issue("missing_student_no", name));
            return;
        }
        if name.is_empty() {
            self.out.rejected.push(issue("missing_name", student_no));
            return;
        }
        // The same rules as a name typed into a form (`text`): the detail names the
        // pupil number, never the refused text, which may hide direction overrides.
        let name = match text::clean(text::Field::Name, &name) {
            Ok(n) => n,
            Err(e) => {
                self.out.rejected.push(issue(e.code(), student_no));
                return;
            }
        };
        let gender_raw = cell(row, &self.mapping, Field::Gender);
        let gender = if gender_raw.is_empty() {
            None
        } else {
            match Gender::parse_zh(&gender_raw) {
                Some(g) => Some(g),
                None => {
                    self.out.rejected.push(issue("bad_gender", gender_raw));
                    return;
                }
            }
        };
        let grade_raw = cell(row, &self.mapping, Field::Grade);
        let Some(grade_level) = parse_grade(&grade_raw) else {
            self.out.rejected.push(issue("bad_grade", grade_raw));
            return;
        };
        let class_raw = cell(row, &self.mapping, Field::Class);
        let Some(class_number) = parse_class_number(&class_raw) else {
            self.out.rejected.push(issue("bad_class", class_raw));
            return;
        };
        let parent_name = match text::clean(
            text::Field::Name,
            &cell(row, &self.mapping, Field::ParentName),
        ) {
            Ok(n) => n,
            Err(e) => {
                self.out.rejected.push(issue(e.code(), student_no));
                return;
            }
        };
        let phone_raw = cell(row, &self.mapping, Field::Phone);
        let phone = if phone_raw.is_empty() {
            None
        } else {
            match PhoneNumber::parse(&phone_raw) {
                Ok(p) => Some(p),
                Err(e) => {
                    self.out.rejected.push(issue(e.code(), phone_raw));
                    return;
                }
            }
        };
        if parent_name.is_empty() && phone.is_some() {
            self.out
                .rejected
                .push(issue("missing_parent_name", phone_raw));
            return;
        }
        if let Some((known, first)) = self.pupils.get(&student_no)
            && *known != name
        {
            self.out.rejected.push(issue(
                "student_no_conflict",
                format!("{student_no}: {known} (#{first}) / {name}"),
            ));
            return;
        }
        if let Some(p) = &phone
            && let Some((known, first)) = self.phones.get(p.as_str())
            && *known != parent_name
        {
            self.out.rejected.push(issue(
                "phone_conflict",
                format!("{}: {known} (#{first}) / {parent_name}", p.masked()),
            ));
            return;
        }
        let pair = (
            student_no.clone(),
            phone
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| parent_name.clone()),
        );
        if let Some(first) = self.seen_pairs.get(&pair) {
            self.out
                .duplicates
                .push(issue("duplicate_row", format!("#{first}")));
            return;
        }
        self.seen_pairs.insert(pair, row_no);
        self.pupils
            .entry(student_no.clone())
            .or_insert((name.clone(), row_no));
        if let Some(p) = &phone {
            self.phones
                .entry(p.as_str().to_owned())
                .or_insert((parent_name.clone(), row_no));
        }
        let guardian = (!parent_name.is_empty()).then(|| GuardianCell {
            name: parent_name,
            relation: Relation::parse_zh(&cell(row, &self.mapping, Field::Relation)),
            phone,
        });
        self.out.accepted += 1;
        if !self.keep_rows {
            return;
        }
        self.out.rows.push(RosterRow {
            row: row_no,
            student_no,
            name,
            gender,
            grade_level,
            grade_name: grade_name(grade_level),
            class_number,
            class_name: class_name(class_number),
            guardian,
        });
    }
}

fn is_note(cell: &str) -> bool {
    let c = cell.trim_start();
    ["注", "说明", "备注", "填表", "制表", "Note", "note"]
        .iter()
        .any(|p| c.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(s: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(s).0.into_owned()
    }

    const SAMPLE: &str = "学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\r\n\
        2025001,王小明,男,三年级,2班,王建国,父亲,138 0000 0001\r\n\
        2025002,王小红,女,一年级,1班,王建国,父亲,13800000001\r\n\
        2025003,李四,男,三年级,2班,李大山,爷爷,029-88888888\r\n\
        2025001,王小明,男,三年级,2班,王建国,父亲,13800000001\r\n\
        \r\n\
        注：本表由班主任填写\r\n";

    #[test]
    fn gbk_and_utf8_read_the_same() {
        let a = read_table(SAMPLE.as_bytes()).unwrap();
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(SAMPLE.as_bytes());
        let b = read_table(&bom).unwrap();
        let c = read_table(&gbk(SAMPLE)).unwrap();
        assert_eq!(a.rows, b.rows);
        assert_eq!(a.rows, c.rows);
        assert_eq!(a.rows[1][1], "王小明");
    }

    #[test]
    fn rows_checked_with_numbers_and_reasons() {
        let t = read_table(SAMPLE.as_bytes()).unwrap();
        let h = detect_header(&t).unwrap();
        assert!(h.missing_required().is_empty());
        let p = parse_rows(&t, h.header_index, &h.mapping);
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[0].class_name, "(2)班");
        assert_eq!(p.rows[0].grade_name, "三年级");
        assert_eq!(
            p.rejected,
            vec![RowIssue {
                row: 4,
                code: "phone_not_mobile".into(),
                detail: "029-88888888".into()
            }]
        );
        assert_eq!(p.duplicates.len(), 1);
        assert_eq!(p.duplicates[0].row, 5);
    }

    /// Names in a roster follow the same text rules as names typed into a form: a
    /// direction override or a control character refuses the row (named by its number
    /// and pupil number), zero-width characters are dropped, the good rows still pass.
    #[test]
    fn roster_names_follow_the_text_rules() {
        let text = "学号,姓名,年级,班级,家长姓名,联系电话\n\
            A1,张\u{202E}三,3,2,张父,13800000001\n\
            A2,李四,3,2,李\u{200B}父,13800000002\n\
            A3,王五,3,2,王\u{7}父,13800000003\n\
            A4,赵六,3,2,赵父,13800000004\n";
        let t = read_table(text.as_bytes()).unwrap();
        let h = detect_header(&t).unwrap();
        let p = parse_rows(&t, h.header_index, &h.mapping);
        let refused: Vec<(usize, &str, &str)> = p
            .rejected
            .iter()
            .map(|i| (i.row, i.code.as_str(), i.detail.as_str()))
            .collect();
        assert_eq!(
            refused,
            vec![
                (2, "text_bidi_override", "A1"),
                (4, "text_control_char", "A3")
            ]
        );
        assert_eq!(p.rows.len(), 2);
        let li = p.rows.iter().find(|r| r.student_no == "A2").unwrap();
        assert_eq!(li.guardian.as_ref().unwrap().name, "李父");
    }

    #[test]
    fn crlf_row_numbers_are_lines() {
        let text = "学号,姓名,年级,班级\r\nA1,甲,3,2\r\nA2,,3,2\r\n";
        let t = read_table(text.as_bytes()).unwrap();
        let h = detect_header(&t).unwrap();
        let p = parse_rows(&t, h.header_index, &h.mapping);
        assert_eq!(p.rejected[0].row, 3);
    }

    /// `check_file` (streamed, for uploads) and `read_table` + `parse_rows` (the CLI,
    /// the tests) must agree on every row number and reason, past the header search.
    #[test]
    fn checking_while_reading_matches_the_table() {
        let mut lf = String::from("阳光小学名单,,,,\n序号,学号,姓名,年级,班级\n");
        for i in 0..45 {
            let name = if i % 7 == 3 { "" } else { "张三" };
            lf.push_str(&format!("{i},A{i},{name},3,{}\n", i % 4));
        }
        lf.push_str("46,\"A46\",\"李\n四\",3,2\n47,A47,王五,x,2\n注：以上共47人\n");
        for text in [lf.clone(), lf.replace('\n', "\r\n")] {
            for bytes in [text.clone().into_bytes(), gbk(&text)] {
                let (guess, parsed) = check_file(&bytes, None, true).unwrap();
                let t = read_table(&bytes).unwrap();
                let h = detect_header(&t).unwrap();
                let p = parse_rows(&t, h.header_index, &h.mapping);
                assert_eq!(guess.header_index, 1);
                assert_eq!(parsed.rows, p.rows);
                assert_eq!(parsed.rejected, p.rejected);
                assert_eq!(parsed.accepted, p.rows.len());
                let (_, counted) = check_file(&bytes, None, false).unwrap();
                assert!(counted.rows.is_empty());
                assert_eq!(counted.accepted, p.rows.len());
                assert_eq!(counted.rejected, p.rejected);
                assert!(
                    parsed.rejected.iter().any(|r| r.row == 6),
                    "{:?}",
                    parsed.rejected
                );
                // The quoted name spans two lines: the row after it starts a line later.
                assert_eq!(parsed.rejected.last().unwrap().row, 50);
            }
        }
        // A mapping chosen by hand replaces the guessed one.
        let mut m = Mapping::new();
        for (f, c) in [
            (Field::StudentNo, 1),
            (Field::Name, 1),
            (Field::Grade, 3),
            (Field::Class, 4),
        ] {
            m.insert(f, c);
        }
        let (guess, parsed) = check_file(lf.as_bytes(), Some(&m), true).unwrap();
        assert_eq!(guess.mapping, m);
        assert_eq!(parsed.rows[0].name, "A1");
    }

    #[test]
    fn lone_cr_row_numbers_are_lines() {
        let text = "学号,姓名,年级,班级\rA1,甲,3,2\rA2,,3,2\r";
        let (_, p) = check_file(text.as_bytes(), None, true).unwrap();
        assert_eq!(p.rejected[0].row, 3);
    }

    #[test]
    fn header_below_title_rows() {
        let text = "阳光小学2025学年学生名单,,,\n制表日期：2025-09-01,,,\n序号,学号,姓名,年级,班级\n1,A1,张三,3,2\n";
        let t = read_table(text.as_bytes()).unwrap();
        let h = detect_header(&t).unwrap();
        assert_eq!(h.header_index, 2);
        let p = parse_rows(&t, h.header_index, &h.mapping);
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].row, 4);
    }

    #[test]
    fn junk_is_one_clear_error() {
        assert_eq!(read_table(b""), Err(ReadError::Empty));
        assert_eq!(
            read_table(&[0u8, 159, 146, 150, 0, 1]),
            Err(ReadError::Unreadable)
        );
        assert!(matches!(
            read_table(b"PK\x03\x04garbage"),
            Err(ReadError::BadWorkbook(_))
        ));
    }

    /// The probe's workbook (issue 9): values only in A1 and XFD1048576, 1.6 KB on disk.
    /// Before, `read_table` asked for rows × columns of cells and the process aborted.
    pub(crate) fn sparse_corners_workbook() -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "学号").unwrap();
        ws.write_string(1_048_575, 16_383, "x").unwrap();
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn sparse_workbook_is_refused_not_allocated() {
        let bytes = sparse_corners_workbook();
        assert!(bytes.len() < 8 * 1024, "{}", bytes.len());
        let e = read_table(&bytes).unwrap_err();
        assert_eq!(e, ReadError::TooManyRows { limit: 100_000 });
        assert_eq!((e.code(), e.limit()), ("file_too_many_rows", Some(100_000)));
    }

    #[test]
    fn csv_is_held_to_the_same_limits() {
        let limits = XlsxLimits {
            max_rows: 3,
            max_columns: 4,
            max_cells: 10,
            ..XlsxLimits::DEFAULT
        };
        let ok = "a,b,c\nd,e,f\ng,h,i\n";
        assert_eq!(
            read_table_within(ok.as_bytes(), &limits)
                .unwrap()
                .rows
                .len(),
            3
        );
        assert_eq!(
            read_table_within(format!("{ok}j\n").as_bytes(), &limits),
            Err(ReadError::TooManyRows { limit: 3 })
        );
        assert_eq!(
            read_table_within(b"a,b,c,d,e\n", &limits),
            Err(ReadError::TooManyColumns { limit: 4 })
        );
        assert_eq!(
            read_table_within(b"a,b,c,d\ne,f,g,h\ni,j,k,l\n", &limits),
            Err(ReadError::TooManyCells { limit: 10 })
        );
    }

    #[test]
    fn xlsx_reads_like_the_csv() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (r, line) in SAMPLE.lines().enumerate() {
            for (c, cell) in line.split(',').enumerate() {
                ws.write_string(r as u32, c as u16, cell).unwrap();
            }
        }
        ws.write_number(1, 0, 2025001.0).unwrap();
        let x = read_table(&wb.save_to_buffer().unwrap()).unwrap();
        let c = read_table(SAMPLE.as_bytes()).unwrap();
        assert_eq!(x.rows[1][0], "2025001");
        assert_eq!(x.rows[..5], c.rows[..5]);
        assert_eq!(x.row_numbers[..5], c.row_numbers[..5]);
    }

    #[test]
    fn conflicting_phone_owner_is_refused() {
        let text = "学号,姓名,年级,班级,家长姓名,手机号\nA1,张三,3,2,张父,13900000000\nA2,李四,3,2,李母,13900000000\n";
        let t = read_table(text.as_bytes()).unwrap();
        let h = detect_header(&t).unwrap();
        let p = parse_rows(&t, h.header_index, &h.mapping);
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rejected[0].code, "phone_conflict");
        assert_eq!(p.rejected[0].row, 3);
    }

    #[test]
    fn missing_required_columns_are_reported() {
        let text = "No.,名字,年级,班级\n1,张三,3,2\n";
        let t = read_table(text.as_bytes()).unwrap();
        let h = detect_header(&t).unwrap();
        assert_eq!(h.missing_required(), vec![Field::StudentNo, Field::Name]);
    }
}
