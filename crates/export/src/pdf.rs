//! PDF renderers (typst): sign-in sheets, certificates, the parent-school dossier and the
//! parents' meeting run sheet. Plain view models in, PDF bytes out.
//!
//! Every string the user or the caller supplies, labels included, reaches typst as a
//! string value inside `/data.json` and is printed as text, never read as markup, so
//! names like `#eval("…")` or `*bold*` come out exactly as typed. Labels are passed in
//! because the web layer owns the zh-CN/en translations.

mod engine;
mod merge;

use serde::Serialize;

pub use engine::FONT_DIR_ENV;
use engine::Job;

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// No usable CJK font on this machine; the message names the package to install.
    #[error("{0}")]
    Fonts(String),
    /// An image the caller passed is not PNG or JPEG.
    #[error("{0} is neither a PNG nor a JPEG image")]
    Image(String),
    #[error("QR code: {0}")]
    Qr(String),
    /// typst refused the document (a bug in a template, or a corrupt image).
    #[error("typesetting failed: {0}")]
    Typst(String),
    #[error("template data: {0}")]
    Data(#[from] serde_json::Error),
}

// ---------------------------------------------------------------------------------------
// Sign-in sheet

/// A printed sign-in sheet for one class at one session.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SignInSheet {
    pub school: String,
    pub session_title: String,
    /// Date and time, formatted by the caller.
    pub when: String,
    pub place: String,
    pub class_name: String,
    /// Printed large and in the footer of every page, e.g. "S-7F3K2Q".
    pub sheet_code: String,
    /// What the QR code holds; the sheet code when empty (a URL also works).
    pub qr_content: String,
    pub rows: Vec<SignInRow>,
    /// Numbered empty rows after the list, for parents who were not on it.
    pub blank_rows: usize,
    pub labels: SignInLabels,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SignInRow {
    pub parent: String,
    pub child: String,
    pub relation: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SignInLabels {
    /// The sheet's name under the session title, e.g. "签到表".
    pub title: String,
    pub when: String,
    pub place: String,
    pub class_name: String,
    /// Under the QR code, e.g. "签到表编号".
    pub sheet_code: String,
    pub number: String,
    pub parent: String,
    pub child: String,
    pub relation: String,
    pub signature: String,
    pub note: String,
    /// With `{page}` and `{pages}` placeholders, e.g. "第 {page} 页，共 {pages} 页".
    pub page_of: String,
}

/// A4 portrait; the table's header row repeats on every page, rows are ~12 mm high
/// so there is room to sign.
pub fn signin_sheet(sheet: &SignInSheet) -> Result<Vec<u8>, PdfError> {
    #[derive(Serialize)]
    struct Data<'a> {
        #[serde(flatten)]
        sheet: &'a SignInSheet,
        fonts: &'a engine::Families,
    }
    let qr_text = if sheet.qr_content.is_empty() {
        &sheet.sheet_code
    } else {
        &sheet.qr_content
    };
    let qr = qr_svg(qr_text)?;
    let fonts = engine::fonts()?;
    let mut job = Job::new(
        include_str!("pdf/signin.typ"),
        &Data {
            sheet,
            fonts: &fonts.families,
        },
    )?;
    job.add_file("/qr.svg", qr.into_bytes());
    job.render()
}

fn qr_svg(text: &str) -> Result<String, PdfError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| PdfError::Qr(e.to_string()))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .build())
}

// ---------------------------------------------------------------------------------------
// Certificates

/// One certificate (荣誉证书): one A4 landscape page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Certificate {
    /// e.g. "荣誉证书".
    pub title: String,
    pub recipient: String,
    /// The paragraphs, each printed as given, e.g. ["在2025-2026学年家长学校学习中表现突出，
    /// 被评为优秀学员。", "特发此证，以资鼓励。"]. A list rather than one text with line
    /// breaks, so no escape sequence of a translation file can reach the page.
    pub body: Vec<String>,
    pub school: String,
    pub date: String,
    pub number: String,
    /// A PNG (transparent background looks best) or JPEG, printed ~40 mm wide over
    /// the school name and date like a stamp.
    #[serde(skip)]
    pub seal: Option<Vec<u8>>,
    pub labels: CertificateLabels,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CertificateLabels {
    /// Printed right after the recipient's name, e.g. "：" or " 家长：".
    pub after_recipient: String,
    /// Printed before the certificate number as is, e.g. "证书编号：".
    pub number: String,
}

/// One page per certificate, in order, in a single PDF for printing in a batch.
pub fn certificates(certs: &[Certificate]) -> Result<Vec<u8>, PdfError> {
    certificates_job(certs)?.render()
}

fn certificates_job(certs: &[Certificate]) -> Result<Job, PdfError> {
    #[derive(Serialize)]
    struct Cert<'a> {
        #[serde(flatten)]
        cert: &'a Certificate,
        seal_path: Option<String>,
    }
    #[derive(Serialize)]
    struct Data<'a> {
        certs: Vec<Cert<'a>>,
        fonts: &'a engine::Families,
    }
    let fonts = engine::fonts()?;
    // A batch usually carries one seal many times: embed each distinct image once.
    let mut seals: Vec<(&[u8], String)> = Vec::new();
    let mut data = Data {
        certs: Vec::with_capacity(certs.len()),
        fonts: &fonts.families,
    };
    for (i, cert) in certs.iter().enumerate() {
        let seal_path = match cert.seal.as_deref() {
            None => None,
            Some(bytes) => Some(match seals.iter().find(|(b, _)| *b == bytes) {
                Some((_, path)) => path.clone(),
                None => {
                    let ext = image_ext(bytes).ok_or_else(|| {
                        PdfError::Image(format!("the seal of certificate {}", i + 1))
                    })?;
                    let path = format!("/seal/{}.{ext}", seals.len());
                    seals.push((bytes, path.clone()));
                    path
                }
            }),
        };
        data.certs.push(Cert { cert, seal_path });
    }
    let mut job = Job::new(include_str!("pdf/certificate.typ"), &data)?;
    for (bytes, path) in seals {
        job.add_file(&path, bytes.to_vec());
    }
    Ok(job)
}

fn image_ext(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------
// Dossier

/// The parent-school ledger (台账) of one school for one school year.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Dossier {
    pub school: String,
    /// e.g. "2025—2026学年".
    pub school_year: String,
    /// e.g. "家长学校工作台账".
    pub title: String,
    /// When the file was made, formatted by the caller.
    pub generated: String,
    // Serialised through the renderer's own type, which adds the photos' paths.
    #[serde(skip)]
    pub sessions: Vec<DossierSession>,
    /// Chapters after the sessions, one table each: the parts of the year's ledger
    /// its XLSX carries as sheets (trainees' hours, class rates, committees, excellent
    /// trainees), so the printed dossier and the workbook hold the same sections.
    pub tables: Vec<DossierTable>,
    pub labels: DossierLabels,
}

/// A chapter of the dossier that is one table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DossierTable {
    pub title: String,
    /// A line under the heading (e.g. the notice period); may be empty.
    pub note: String,
    pub headers: Vec<String>,
    /// As many cells as headers each.
    pub rows: Vec<Vec<String>>,
}

/// One session (one lesson of the parent school) and everything filed for it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DossierSession {
    pub title: String,
    /// e.g. "专题讲座", "线上直播".
    pub form: String,
    pub when: String,
    pub place: String,
    pub instructor: String,
    pub instructor_title: String,
    pub instructor_org: String,
    pub audience: String,
    pub topic: String,
    /// Paragraphs separated by newlines.
    pub lesson_plan: String,
    pub attendance: Attendance,
    /// Names of those present, printed in a compact grid.
    pub attendees: Vec<String>,
    /// The names are left out of this dossier (a year too big to list): the session
    /// says where to find them instead (`DossierLabels::attendees_elsewhere`).
    pub attendees_elsewhere: bool,
    /// PNG or JPEG files, two per row. They are embedded as given, so the caller
    /// should pass reasonably sized images (phone photos at full size make a large PDF).
    #[serde(skip)]
    pub photos: Vec<Vec<u8>>,
    /// Paragraphs separated by newlines.
    pub summary: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Attendance {
    pub invited: u32,
    pub present: u32,
    pub late: u32,
    pub excused: u32,
    pub absent: u32,
    /// Formatted by the caller, which knows how it counts the rate, e.g. "93.5%".
    pub rate: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DossierLabels {
    /// Before the generated date on the cover, e.g. "生成日期：".
    pub generated: String,
    pub contents: String,
    /// Section headings within a session.
    pub notice: String,
    pub lesson_plan: String,
    pub signin: String,
    pub photos: String,
    pub summary: String,
    /// Field names in the notice.
    pub title: String,
    pub form: String,
    pub when: String,
    pub place: String,
    pub instructor: String,
    pub instructor_title: String,
    pub instructor_org: String,
    pub audience: String,
    pub topic: String,
    /// Attendance figures.
    pub invited: String,
    pub present: String,
    pub late: String,
    pub excused: String,
    pub absent: String,
    pub rate: String,
    pub attendees: String,
    /// In place of the names when they are not listed.
    pub attendees_elsewhere: String,
    /// Shown where a part was left empty, e.g. "（无）".
    pub none: String,
    /// With `{page}` and `{pages}` placeholders.
    pub page_of: String,
}

/// Attendee names, table cells and sessions one part of a dossier may hold. typst lays a
/// document out whole, in memory: measured with `render_samples --bench` (release), a
/// name costs about 1.4 KB laid out and a table cell about 14 KB, so a part stays near
/// 60 MB whatever the year holds. Each part embeds its own font subset (tens of KB), so
/// parts are not made smaller than they need to be.
const PART_NAMES: usize = 6_000;
const PART_CELLS: usize = 4_000;
const PART_SESSIONS: usize = 20;

/// What one part holds: a run of sessions, then a run of table rows (a table may go on
/// in the next part).
#[derive(Debug, Default, Clone, PartialEq)]
struct Part {
    sessions: std::ops::Range<usize>,
    /// (table, its rows in this part)
    tables: Vec<(usize, std::ops::Range<usize>)>,
}

/// Cuts the dossier's body into parts of bounded size, in order.
fn parts(dossier: &Dossier) -> Vec<Part> {
    let mut out = Vec::new();
    let mut part = Part::default();
    let mut names = 0;
    for (i, s) in dossier.sessions.iter().enumerate() {
        let n = s.attendees.len();
        if part.sessions.len() == PART_SESSIONS
            || (!part.sessions.is_empty() && names + n > PART_NAMES)
        {
            out.push(std::mem::replace(
                &mut part,
                Part {
                    sessions: i..i,
                    tables: Vec::new(),
                },
            ));
            names = 0;
        }
        part.sessions.end = i + 1;
        names += n;
    }
    // Names and cells share a part's room.
    let mut cells = names * PART_CELLS / PART_NAMES;
    let end = dossier.sessions.len();
    for (t, table) in dossier.tables.iter().enumerate() {
        let width = table.headers.len().max(1);
        let mut row = 0;
        loop {
            let empty = part.sessions.is_empty() && part.tables.is_empty();
            let mut room = PART_CELLS.saturating_sub(cells) / width;
            if room == 0 && !empty {
                out.push(std::mem::replace(
                    &mut part,
                    Part {
                        sessions: end..end,
                        tables: Vec::new(),
                    },
                ));
                cells = 0;
                continue;
            }
            room = room.max(1);
            let take = room.min(table.rows.len() - row);
            part.tables.push((t, row..row + take));
            cells += take.max(1) * width;
            row += take;
            if row >= table.rows.len() {
                break;
            }
        }
    }
    if !part.sessions.is_empty() || !part.tables.is_empty() || out.is_empty() {
        out.push(part);
    }
    out
}

/// Cover, contents, then one section per session and one per table, each starting on a
/// new page; page numbers and heading numbers run through the whole file.
///
/// Laid out part by part (`parts`), twice: once to learn where each section starts and how
/// many pages there are (for the contents and "page n of m"), then for the PDF; the parts'
/// PDFs are then joined, with a bookmark per section. `progress(done, total)` is called
/// after each step.
pub fn dossier(
    dossier: &Dossier,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<u8>, PdfError> {
    #[derive(Serialize)]
    struct Session<'a> {
        #[serde(flatten)]
        session: &'a DossierSession,
        photo_paths: Vec<String>,
    }
    #[derive(Serialize)]
    struct Table<'a> {
        title: &'a str,
        note: &'a str,
        headers: &'a [String],
        rows: &'a [Vec<String>],
        continued: bool,
    }
    #[derive(Serialize, Clone)]
    struct Entry {
        number: usize,
        title: String,
        page: usize,
    }
    #[derive(Serialize)]
    struct Data<'a> {
        #[serde(flatten)]
        dossier: &'a Dossier,
        front: bool,
        contents: &'a [Entry],
        first_page: usize,
        total_pages: usize,
        first_number: usize,
        sessions: Vec<Session<'a>>,
        tables: Vec<Table<'a>>,
        fonts: &'a engine::Families,
    }
    let fonts = engine::fonts()?;
    let parts = parts(dossier);
    let steps = parts.len() * 2 + 3;
    let mut step = 0;
    let mut tick = |progress: &mut dyn FnMut(usize, usize)| {
        step += 1;
        progress(step, steps);
    };
    // Headings in order: the sessions, then the tables.
    let mut contents: Vec<Entry> = dossier
        .sessions
        .iter()
        .map(|s| s.title.clone())
        .chain(dossier.tables.iter().map(|t| t.title.clone()))
        .enumerate()
        .map(|(i, title)| Entry {
            number: i + 1,
            title,
            page: 0,
        })
        .collect();
    let job = |part: Option<&Part>,
               contents: &[Entry],
               first_page: usize,
               total_pages: usize|
     -> Result<Job, PdfError> {
        let mut files = Vec::new();
        let mut sessions = Vec::new();
        let mut tables = Vec::new();
        let mut first_number = 0;
        if let Some(part) = part {
            // Sessions are numbered 1.., then the tables; typst numbers a part's headings
            // on from this.
            first_number = match part.tables.first() {
                Some((t, _)) if part.sessions.is_empty() => dossier.sessions.len() + t,
                _ => part.sessions.start,
            };
            for s in part.sessions.clone() {
                let session = &dossier.sessions[s];
                let mut photo_paths = Vec::with_capacity(session.photos.len());
                for (p, bytes) in session.photos.iter().enumerate() {
                    let ext = image_ext(bytes).ok_or_else(|| {
                        PdfError::Image(format!("photo {} of session {}", p + 1, s + 1))
                    })?;
                    let path = format!("/photo/{s}/{p}.{ext}");
                    files.push((path.clone(), bytes));
                    photo_paths.push(path);
                }
                sessions.push(Session {
                    session,
                    photo_paths,
                });
            }
            for (t, rows) in &part.tables {
                let table = &dossier.tables[*t];
                tables.push(Table {
                    title: &table.title,
                    note: &table.note,
                    headers: &table.headers,
                    rows: &table.rows[rows.clone()],
                    continued: rows.start > 0,
                });
            }
        }
        let data = Data {
            dossier,
            front: part.is_none(),
            contents,
            first_page,
            total_pages,
            first_number,
            sessions,
            tables,
            fonts: &fonts.families,
        };
        let mut job = Job::new(include_str!("pdf/dossier.typ"), &data)?;
        for (path, bytes) in files {
            job.add_file(&path, bytes.clone());
        }
        Ok(job)
    };
    // First pass: pages of the front (the cover is not numbered), then where each part's
    // sections start.
    let front_pages = job(None, &contents, 1, 0)?
        .layout()?
        .pages()
        .len()
        .saturating_sub(1);
    tick(progress);
    let mut first_pages = Vec::with_capacity(parts.len());
    let mut next_page = front_pages + 1;
    let mut entry = 0;
    for part in &parts {
        first_pages.push(next_page);
        let doc = job(Some(part), &[], next_page, 0)?.layout()?;
        for page in engine::label_pages(&doc, "jx-start") {
            if let Some(e) = contents.get_mut(entry) {
                e.page = next_page + page - 1;
            }
            entry += 1;
        }
        next_page += doc.pages().len();
        drop(doc);
        tick(progress);
    }
    let total_pages = next_page - 1;
    // Second pass: the same layout, now with the numbers, written out.
    let mut pdfs = Vec::with_capacity(parts.len() + 1);
    pdfs.push(engine::write_part(
        &job(None, &contents, 1, total_pages)?.layout()?,
    )?);
    tick(progress);
    for (part, first_page) in parts.iter().zip(first_pages) {
        pdfs.push(engine::write_part(
            &job(Some(part), &[], first_page, total_pages)?.layout()?,
        )?);
        tick(progress);
    }
    // Bookmarks point at physical pages: the cover is page 0, contents page 1 is page 1.
    let bookmarks: Vec<(String, usize)> = contents
        .iter()
        .map(|e| (format!("{}. {}", e.number, e.title), e.page))
        .collect();
    let pdf = merge::join(pdfs, &dossier.title, &bookmarks)?;
    tick(progress);
    Ok(pdf)
}

// ---------------------------------------------------------------------------------------
// Public notice of excellent trainees

/// The printed public notice (公示) of a round of excellent trainees, posted on the
/// school's notice board for the notice period: heading, the list, the period and how
/// to object, signed by the school.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExcellenceNotice {
    pub school: String,
    /// e.g. "2025-2026学年家长学校优秀学员评选结果公示".
    pub title: String,
    /// Paragraphs before the list.
    pub intro: Vec<String>,
    pub headers: Vec<String>,
    /// As many cells as headers each.
    pub rows: Vec<Vec<String>>,
    /// Paragraphs after the list: the notice period, how to object.
    pub closing: Vec<String>,
    /// Signed by, e.g. "实验小学家长学校".
    pub signature: String,
    pub date: String,
}

/// A4 portrait; the list's header row repeats on every page.
pub fn excellence_notice(notice: &ExcellenceNotice) -> Result<Vec<u8>, PdfError> {
    #[derive(Serialize)]
    struct Data<'a> {
        #[serde(flatten)]
        notice: &'a ExcellenceNotice,
        fonts: &'a engine::Families,
    }
    let fonts = engine::fonts()?;
    Job::new(
        include_str!("pdf/notice.typ"),
        &Data {
            notice,
            fonts: &fonts.families,
        },
    )?
    .render()
}

// ---------------------------------------------------------------------------------------
// Run sheet

/// The printed programme of a parents' meeting day (家长会活动安排).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSheet {
    /// The heading, e.g. "实验小学2025年秋季家长会活动安排".
    pub title: String,
    pub theme: String,
    pub when: String,
    pub place: String,
    pub participants: String,
    pub organiser: String,
    /// Part 1: everyone together.
    pub programme: Vec<ProgrammeItem>,
    /// Part 2: each class on its own.
    pub breakouts: Vec<Breakout>,
    /// Free text, one note per line.
    pub venue_notes: String,
    pub duties: Vec<Duty>,
    pub labels: RunSheetLabels,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ProgrammeItem {
    pub time: String,
    pub item: String,
    pub speaker: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Breakout {
    pub class_name: String,
    pub session_title: String,
    pub instructor: String,
    pub place: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Duty {
    pub person: String,
    pub duty: String,
    pub place: String,
    pub time: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSheetLabels {
    pub theme: String,
    pub when: String,
    pub place: String,
    pub participants: String,
    pub organiser: String,
    /// Section headings.
    pub programme: String,
    pub breakouts: String,
    pub venue_notes: String,
    pub duties: String,
    /// Column headings.
    pub time: String,
    pub item: String,
    pub speaker: String,
    pub class_name: String,
    pub session_title: String,
    pub instructor: String,
    pub person: String,
    pub duty: String,
    /// With `{page}` and `{pages}` placeholders.
    pub page_of: String,
}

/// A4 portrait.
pub fn run_sheet(sheet: &RunSheet) -> Result<Vec<u8>, PdfError> {
    #[derive(Serialize)]
    struct Data<'a> {
        #[serde(flatten)]
        sheet: &'a RunSheet,
        fonts: &'a engine::Families,
    }
    let fonts = engine::fonts()?;
    Job::new(
        include_str!("pdf/run_sheet.typ"),
        &Data {
            sheet,
            fonts: &fonts.families,
        },
    )?
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_told_apart_by_their_first_bytes() {
        assert_eq!(image_ext(b"\x89PNG\r\n\x1a\n...."), Some("png"));
        assert_eq!(image_ext(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("jpg"));
        assert_eq!(image_ext(b"GIF89a"), None);
        assert_eq!(image_ext(b""), None);
    }

    fn dossier_of(names: &[usize], tables: &[(usize, usize)]) -> Dossier {
        Dossier {
            sessions: names
                .iter()
                .map(|&n| DossierSession {
                    attendees: vec![String::new(); n],
                    ..Default::default()
                })
                .collect(),
            tables: tables
                .iter()
                .map(|&(rows, cols)| DossierTable {
                    headers: vec![String::new(); cols],
                    rows: vec![vec![String::new(); cols]; rows],
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Every session once and every table row once, in order.
    fn assert_covers(d: &Dossier, parts: &[Part]) {
        let sessions: Vec<usize> = parts.iter().flat_map(|p| p.sessions.clone()).collect();
        assert_eq!(sessions, (0..d.sessions.len()).collect::<Vec<_>>());
        for (t, table) in d.tables.iter().enumerate() {
            let rows: Vec<usize> = parts
                .iter()
                .flat_map(|p| p.tables.iter())
                .filter(|(i, _)| *i == t)
                .flat_map(|(_, r)| r.clone())
                .collect();
            assert_eq!(rows, (0..table.rows.len()).collect::<Vec<_>>(), "table {t}");
            assert!(
                parts
                    .iter()
                    .flat_map(|p| p.tables.iter())
                    .any(|(i, r)| *i == t && r.start == 0),
                "table {t} has its heading"
            );
        }
    }

    #[test]
    fn a_dossier_is_cut_into_parts_of_bounded_size() {
        let empty = dossier_of(&[], &[]);
        assert_eq!(parts(&empty), vec![Part::default()]);

        // Twenty sessions at most, and no more names than a part may hold unless one
        // session alone has more.
        let d = dossier_of(&[10; 45], &[]);
        let p = parts(&d);
        assert_eq!(
            p.iter().map(|p| p.sessions.len()).collect::<Vec<_>>(),
            vec![20, 20, 5]
        );
        assert_covers(&d, &p);
        let d = dossier_of(&[4_000, 1_000, 1_000, 9_000, 10], &[]);
        let p = parts(&d);
        assert_eq!(
            p.iter().map(|p| p.sessions.clone()).collect::<Vec<_>>(),
            vec![0..3, 3..4, 4..5]
        );

        // Tables share the room left by the last sessions and go on over parts.
        let d = dossier_of(&[3_000], &[(1, 3), (1_200, 8), (0, 4), (10, 2)]);
        let p = parts(&d);
        assert_covers(&d, &p);
        for part in &p {
            let names: usize = part
                .sessions
                .clone()
                .map(|s| d.sessions[s].attendees.len())
                .sum();
            let cells: usize = part
                .tables
                .iter()
                .map(|(t, r)| r.len() * d.tables[*t].headers.len())
                .sum();
            assert!(
                names * PART_CELLS / PART_NAMES + cells <= PART_CELLS,
                "{part:?}: {names} names, {cells} cells"
            );
        }
        assert_eq!(p[0].sessions, 0..1);
        assert_eq!(p[0].tables[0], (0, 0..1));
        assert!(p.len() >= 3, "{p:?}");
        // An empty table still gets its heading (and "none").
        assert!(
            p.iter()
                .flat_map(|p| p.tables.iter())
                .any(|t| *t == (2, 0..0))
        );
        // A row wider than a part still goes somewhere.
        let d = dossier_of(&[], &[(3, PART_CELLS + 1)]);
        assert_covers(&d, &parts(&d));
    }

    /// Every laid-out glyph of the first page with the text it stands for.
    fn glyphs(doc: &typst_layout::PagedDocument) -> Vec<(String, typst::layout::Em)> {
        fn walk(frame: &typst::layout::Frame, out: &mut Vec<(String, typst::layout::Em)>) {
            for (_, item) in frame.items() {
                match item {
                    typst::layout::FrameItem::Group(g) => walk(&g.frame, out),
                    typst::layout::FrameItem::Text(t) => out.extend(
                        t.glyphs
                            .iter()
                            .map(|g| (t.text[g.range()].to_string(), g.x_advance)),
                    ),
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(&doc.pages()[0].frame, &mut out);
        out
    }

    #[test]
    fn the_colon_after_the_salutation_keeps_its_full_width() {
        // typst compresses a CJK colon that ends a line to half its width, and on the
        // certificate "家长：" then read as "家长:" (issue 10).
        let cert = Certificate {
            title: "荣誉证书".into(),
            recipient: "王建国".into(),
            body: vec!["在2026-2027学年家长学校学习中表现突出。".into()],
            school: "实验小学".into(),
            date: "2027年6月30日".into(),
            number: "JX-1".into(),
            seal: None,
            labels: CertificateLabels {
                after_recipient: " 家长：".into(),
                number: "证书编号：".into(),
            },
        };
        let doc = certificates_job(&[cert]).unwrap().layout().unwrap();
        let glyphs = glyphs(&doc);
        let colon = glyphs
            .iter()
            .find(|(t, _)| t == "：")
            .expect("the full-width colon is laid out");
        assert_eq!(colon.1, typst::layout::Em::one(), "{glyphs:?}");
    }
}
