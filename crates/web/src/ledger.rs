//! The parent school's ledger (台账) as files: the year's XLSX (sessions, attendance
//! per session, every check-in, per-trainee hours, class rates, committees), the
//! county roll-up XLSX, a session's check-ins as XLSX, and the PDF dossier rendered in
//! a background job. Labels come from the translation files.

use jiaxiao_export::{Cell, Sheet, XlsxStream};
use jiaxiao_store::parent_school::{credits, sessions, stats};
use jiaxiao_store::{Db, Scope};

use crate::error::AppError;
use crate::i18n::Lang;

fn xlsx(sheets: &[Sheet<'_>]) -> Result<Vec<u8>, AppError> {
    jiaxiao_export::xlsx(sheets).map_err(xlsx_error)
}

fn xlsx_error(e: jiaxiao_export::XlsxError) -> AppError {
    AppError::Internal(e.to_string())
}

/// A finished XLSX in an unlinked temp file, sent from disk: a big school's year is
/// tens of megabytes even zipped, more than a server should hold per download.
pub struct XlsxFile {
    pub file: std::fs::File,
    pub len: u64,
}

impl XlsxFile {
    /// Zips `w` into a temp file off the async threads: compressing a year's sheets
    /// takes seconds, and the rows are already on disk.
    pub async fn finish(w: XlsxStream) -> Result<XlsxFile, AppError> {
        tokio::task::spawn_blocking(move || {
            let file = w.finish_to_file(None).map_err(xlsx_error)?;
            let len = file
                .metadata()
                .map_err(|e| AppError::Internal(e.to_string()))?
                .len();
            Ok(XlsxFile { file, len })
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
    }

    /// The whole file, for tests and benchmarks that look inside.
    pub fn bytes(mut self) -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        let mut v = Vec::with_capacity(self.len as usize);
        self.file.read_to_end(&mut v)?;
        Ok(v)
    }
}

/// A UTC time as a date-and-time cell in Beijing time, as schools read it.
pub(crate) fn time_cell(t: chrono::DateTime<chrono::Utc>) -> Cell {
    use chrono::{Datelike, Timelike};
    let t = t + chrono::Duration::hours(8);
    Cell::DateTime {
        y: t.year() as u16,
        m: t.month() as u8,
        d: t.day() as u8,
        hh: t.hour() as u8,
        mm: t.minute() as u8,
    }
}

fn headers(lang: Lang, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| lang.t(&format!("ledger.col.{k}")))
        .collect()
}

/// A school's year of check-ins as a sheet of `w` — continued on "签到明细 (2)" … past
/// Excel's row limit —, read and written a chunk at a time (issue 16): the ledger's
/// sheet and the check-in file are this one function.
async fn write_checkins(
    w: &mut XlsxStream,
    db: &Db,
    scope: &Scope,
    lang: Lang,
    school_id: i64,
    year: i64,
    title: &str,
) -> Result<(), AppError> {
    // Opened first: a school out of reach is refused before anything is written.
    let mut lines =
        stats::CheckinLineChunks::open(db, scope, school_id, year, stats::CHECKIN_CHUNK).await?;
    let headers = headers(
        lang,
        &[
            "date",
            "session",
            "parent",
            "phone",
            "status",
            "method",
            "checked_at",
        ],
    );
    w.sheet(&lang.t("ledger.sheet.checkins"), title, headers)
        .map_err(xlsx_error)?;
    while let Some(chunk) = lines.next(db).await? {
        for l in chunk {
            w.row(&[
                time_cell(l.starts_at),
                l.session_title.into(),
                l.guardian_name.into(),
                l.phone.into(),
                lang.t(&format!("ps.status.{}", l.status)).into(),
                lang.t(&format!("ps.method.{}", l.method)).into(),
                time_cell(l.checked_at),
            ])
            .map_err(xlsx_error)?;
        }
    }
    Ok(())
}

/// The title of a school's year files: its name and the year, since last year's
/// ledger is downloaded this year too.
async fn year_title(db: &Db, lang: Lang, school: &str, year: i64) -> Result<String, AppError> {
    let year_name = jiaxiao_store::org::school_year_name(&db.conn, year)
        .await?
        .unwrap_or_else(|| jiaxiao_store::org::school_year_of(jiaxiao_store::org::today_date()).0);
    Ok(format!(
        "{} {}",
        lang.tf("ledger.title", &[("school", school.to_owned())]),
        lang.year(&year_name)
    ))
}

/// A school's year of check-ins as its own XLSX, written as it is read.
pub async fn year_checkins_xlsx(
    db: &Db,
    scope: &Scope,
    lang: Lang,
    school_id: i64,
    year: i64,
) -> Result<XlsxFile, AppError> {
    let school = sessions::school(db, scope, school_id).await?;
    let title = format!(
        "{} {}",
        year_title(db, lang, &school.name, year).await?,
        lang.t("ledger.sheet.checkins")
    );
    let mut w = XlsxStream::new();
    write_checkins(&mut w, db, scope, lang, school_id, year, &title).await?;
    XlsxFile::finish(w).await
}

/// One session's check-in sheet as an XLSX, the sheet a head teacher files: every
/// invited household — one line per child, then the parents invited by name — with
/// its status, including those who sent no word. A child's line names the parent who
/// came (or was marked), otherwise all its parents. The roster is the live board's read
/// (`sessions::roster`), so the file holds exactly the households the board shows the
/// caller — a head teacher's class — with phones as the store lets them see them.
pub async fn checkins_xlsx(
    db: &Db,
    scope: &Scope,
    lang: Lang,
    session_id: i64,
) -> Result<Vec<u8>, AppError> {
    let session = sessions::get_session(db, scope, session_id).await?;
    let roster = sessions::roster(db, scope, session_id, None).await?;
    let rows = households(&roster)
        .into_iter()
        .map(|h| {
            let (names, phones): (Vec<_>, Vec<_>) = h
                .parents
                .iter()
                .map(|l| (l.guardian_name.clone(), l.phone.clone().unwrap_or_default()))
                .unzip();
            let phones: Vec<_> = phones.into_iter().filter(|p| !p.is_empty()).collect();
            let first = h.parents[0];
            let status = match first.status.as_deref() {
                Some(st) => lang.t(&format!("ps.status.{st}")),
                None => lang.t("checkin.not_yet"),
            };
            vec![
                first.class_name.clone().into(),
                first.pupil_name.clone().into(),
                names.join("、").into(),
                phones.join("、").into(),
                status.into(),
                first
                    .method
                    .as_deref()
                    .map(|m| lang.t(&format!("ps.method.{m}")))
                    .into(),
                first.checked_at.map_or(Cell::Empty, time_cell),
                first.recorded_by.clone().into(),
            ]
        })
        .collect();
    let name = lang.t("ledger.sheet.checkins");
    let title = lang.tf(
        "exports.checkins.title",
        &[
            ("session", session.title.clone()),
            ("when", crate::i18n::local_time(session.starts_at)),
        ],
    );
    let mut headers = headers(lang, &["class"]);
    headers.push(lang.t("exports.checkins.child"));
    headers.extend(crate::ledger::headers(
        lang,
        &["parent", "phone", "status", "method", "checked_at"],
    ));
    headers.push(lang.t("exports.checkins.recorded_by"));
    xlsx(&[Sheet {
        name: &name,
        title: &title,
        headers,
        rows,
    }])
}

/// One line of the check-in sheet: a child's parents on the roster (the one whose
/// record counts first), or one parent invited by name.
struct Household<'a> {
    parents: Vec<&'a sessions::RosterLine>,
}

/// The roster's lines grouped by child in roster order; within a child, the parent who
/// came first, then one marked late, excused or absent, then those without a record.
fn households(roster: &[sessions::RosterLine]) -> Vec<Household<'_>> {
    fn rank(l: &sessions::RosterLine) -> u8 {
        match l.status.as_deref() {
            Some("present") => 0,
            Some("late") => 1,
            Some("excused") => 2,
            Some(_) => 3,
            None => 4,
        }
    }
    let mut out: Vec<Household<'_>> = Vec::new();
    let mut by_pupil = std::collections::HashMap::new();
    for l in roster {
        match l.pupil_id {
            Some(p) => match by_pupil.get(&p) {
                Some(&i) => {
                    let h: &mut Household<'_> = &mut out[i];
                    if !h.parents.iter().any(|g| g.guardian_id == l.guardian_id) {
                        h.parents.push(l);
                    }
                }
                None => {
                    by_pupil.insert(p, out.len());
                    out.push(Household { parents: vec![l] });
                }
            },
            None => out.push(Household { parents: vec![l] }),
        }
    }
    for h in &mut out {
        h.parents.sort_by_key(|l| rank(l));
        // Only the parent whose record counts is named once someone has a record.
        if h.parents[0].status.is_some() {
            h.parents.truncate(1);
        }
    }
    out
}

/// The year's ledger of one school as one workbook.
pub async fn ledger_xlsx(
    db: &Db,
    scope: &Scope,
    lang: Lang,
    school_id: i64,
    year: i64,
) -> Result<XlsxFile, AppError> {
    let school = sessions::school(db, scope, school_id).await?;
    let list = sessions::list_sessions(db, scope, Some(school_id), Some(year)).await?;
    let credits::YearFigures {
        counts,
        trainees,
        classes: rates,
    } = credits::year_figures(db, scope, school_id, year).await?;
    let mut session_rows = Vec::with_capacity(list.len());
    for s in &list {
        let c = counts.get(&s.id).cloned().unwrap_or_default();
        let instructor = [
            Some(s.instructor_name.clone()),
            s.instructor_title.clone(),
            s.instructor_org.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        session_rows.push(vec![
            time_cell(s.starts_at),
            s.title.clone().into(),
            lang.t(&format!("ps.form.{}", s.form)).into(),
            s.topic_title.clone().into(),
            instructor.into(),
            s.place.clone().or(s.online_url.clone()).into(),
            lang.t(&format!("ps.audience.{}", s.audience)).into(),
            lang.t(&format!("ps.session_status.{}", s.status)).into(),
            Cell::from(c.invited_parents),
            Cell::from(c.present),
            Cell::from(c.late),
            Cell::from(c.excused),
            Cell::from(c.absent),
            Cell::Percent(c.rate()),
            yes_no(lang, s.lesson_plan.is_some()),
            yes_no(lang, s.summary.is_some()),
        ]);
    }
    let shared = sections(db, scope, lang, school_id, year, &trainees, &rates).await?;
    // The year in every sheet's title: last year's ledger is downloaded this year too.
    let title = year_title(db, lang, &school.name, year).await?;
    let titles: Vec<String> = shared
        .iter()
        .map(|s| {
            if s.note.is_empty() {
                title.clone()
            } else {
                format!("{title} {}", s.note)
            }
        })
        .collect();
    let mut w = XlsxStream::new();
    w.sheet(
        &lang.t("ledger.sheet.sessions"),
        &title,
        headers(
            lang,
            &[
                "date",
                "session",
                "form",
                "topic",
                "instructor",
                "place",
                "audience",
                "status_session",
                "invited",
                "present",
                "late",
                "excused",
                "absent",
                "rate",
                "lesson_plan",
                "summary",
            ],
        ),
    )
    .map_err(xlsx_error)?;
    for row in &session_rows {
        w.row(row).map_err(xlsx_error)?;
    }
    write_checkins(&mut w, db, scope, lang, school_id, year, &title).await?;
    for (s, t) in shared.iter().zip(&titles) {
        w.sheet(&s.name, t, s.headers.clone()).map_err(xlsx_error)?;
        for row in &s.rows {
            w.row(row).map_err(xlsx_error)?;
        }
    }
    XlsxFile::finish(w).await
}

/// A part of the year's ledger that both files carry: a sheet of the XLSX and a
/// chapter (one table) of the PDF dossier, so the two cannot drift apart.
pub(crate) struct Section {
    pub name: String,
    /// A line under the heading, e.g. the notice period; may be empty.
    pub note: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// The phone column, left out of the printed dossier (the workbook keeps it, as
    /// `reach::Phones` allowed it to the caller).
    pub phone: Option<usize>,
}

impl Section {
    /// The section as a chapter of the printed dossier.
    pub fn table(&self) -> jiaxiao_export::DossierTable {
        let keep = |i: &usize| Some(*i) != self.phone;
        jiaxiao_export::DossierTable {
            title: self.name.clone(),
            note: self.note.clone(),
            headers: (0..self.headers.len())
                .filter(keep)
                .map(|i| self.headers[i].clone())
                .collect(),
            rows: self
                .rows
                .iter()
                .map(|r| {
                    (0..self.headers.len())
                        .filter(keep)
                        .map(|i| r.get(i).map(Cell::to_string).unwrap_or_default())
                        .collect()
                })
                .collect(),
        }
    }
}

/// The ledger's sections after its sessions and check-ins: trainees' hours, class
/// rates, committees and excellent trainees, in that order.
pub(crate) async fn sections(
    db: &Db,
    scope: &Scope,
    lang: Lang,
    school_id: i64,
    year: i64,
    trainees: &[credits::TraineeSummary],
    rates: &[credits::ClassRate],
) -> Result<Vec<Section>, AppError> {
    use jiaxiao_store::parent_school::{committees, excellence};
    let committees = committees::roster_for_year(db, scope, school_id, year).await?;
    let round = excellence::get_round(db, scope, school_id, year).await?;
    let mut out = vec![
        Section {
            name: lang.t("ledger.sheet.trainees"),
            note: String::new(),
            headers: headers(
                lang,
                &[
                    "parent",
                    "phone",
                    "invited",
                    "attended",
                    "rate",
                    "hours",
                    "reflections",
                    "committee",
                ],
            ),
            rows: trainees
                .iter()
                .map(|t| {
                    vec![
                        t.name.clone().into(),
                        t.phone.clone().into(),
                        Cell::from(t.invited),
                        Cell::from(t.attended),
                        Cell::Percent(t.rate()),
                        Cell::Hours(t.hours),
                        Cell::from(t.reflections),
                        yes_no(lang, t.committee),
                    ]
                })
                .collect(),
            phone: Some(1),
        },
        Section {
            name: lang.t("ledger.sheet.classes"),
            note: String::new(),
            headers: headers(
                lang,
                &["grade", "class", "invited_children", "reached", "rate"],
            ),
            rows: rates
                .iter()
                .map(|r| {
                    vec![
                        r.grade_name.clone().into(),
                        r.class_name.clone().into(),
                        Cell::from(r.invited),
                        Cell::from(r.reached),
                        Cell::Percent(if r.invited > 0 {
                            r.reached as f64 / r.invited as f64
                        } else {
                            0.0
                        }),
                    ]
                })
                .collect(),
            phone: None,
        },
        Section {
            name: lang.t("ledger.sheet.committees"),
            note: String::new(),
            headers: headers(lang, &["body", "level", "position", "person", "phone"]),
            rows: committees
                .iter()
                .map(|c| {
                    vec![
                        c.committee_name.clone().into(),
                        c.level_name.clone().into(),
                        lang.t(&format!("position.{}", c.position)).into(),
                        c.person_name.clone().into(),
                        c.phone.clone().into(),
                    ]
                })
                .collect(),
            phone: Some(4),
        },
    ];
    // Excellent trainees: those the school approved for the notice or awarded.
    let (note, rows) = match &round {
        None => (String::new(), Vec::new()),
        Some(r) => {
            let note = match (&r.round.notice_from, &r.round.notice_to) {
                (Some(from), Some(to)) => lang.tf(
                    "exports.ledger.notice_period",
                    &[("from", from.clone()), ("to", to.clone())],
                ),
                _ => String::new(),
            };
            let rows = r
                .nominees
                .iter()
                .filter(|n| n.decision == excellence::APPROVED || n.decision == excellence::AWARDED)
                .map(|n| {
                    let why = n.reason();
                    vec![
                        n.name.clone().into(),
                        n.phone.clone().into(),
                        why.as_ref()
                            .map_or(Cell::Empty, |w| Cell::Percent(w.attendance_rate)),
                        why.as_ref().map_or(Cell::Empty, |w| Cell::Hours(w.hours)),
                        why.as_ref()
                            .map_or(Cell::Empty, |w| Cell::Int(w.reflections)),
                        lang.t(&format!("ps.excellence.decision.{}", n.decision))
                            .into(),
                        n.certificate_no.clone().into(),
                    ]
                })
                .collect();
            (note, rows)
        }
    };
    let mut h = headers(lang, &["parent", "phone", "rate", "hours", "reflections"]);
    h.push(lang.t("exports.ledger.decision"));
    h.push(lang.t("exports.ledger.certificate_no"));
    out.push(Section {
        name: lang.t("exports.ledger.excellence"),
        note,
        headers: h,
        rows,
        phone: Some(1),
    });
    Ok(out)
}

fn yes_no(lang: Lang, b: bool) -> Cell {
    lang.t(if b { "ps.yes" } else { "ps.no" }).into()
}

/// An office node's year in two sheets: the units a level down against their targets
/// (the overview page's rows) and every school under the node.
pub async fn rollup_xlsx(
    db: &Db,
    scope: &Scope,
    lang: Lang,
    unit: i64,
    year: i64,
    as_of: chrono::NaiveDate,
) -> Result<Vec<u8>, AppError> {
    let u = jiaxiao_store::org::get_unit(db, scope, unit).await?;
    let members = stats::rollup(db, scope, unit, year, as_of, stats::RollupBy::Child).await?;
    let schools = stats::rollup(db, scope, unit, year, as_of, stats::RollupBy::School).await?;
    let target = stats::yearly_target(db, scope, unit, as_of).await?;
    let title = lang.tf(
        "ledger.rollup_title",
        &[
            ("unit", u.name.clone()),
            (
                "n",
                members.iter().map(|r| r.counted).sum::<i64>().to_string(),
            ),
            ("target", target.to_string()),
        ],
    );
    let figures = |r: &stats::RollupRow| {
        vec![
            Cell::from(r.held),
            Cell::from(r.counted),
            Cell::from(r.online),
            Cell::from(r.planned),
            Cell::from(r.checkins),
            Cell::from(r.excellent),
        ]
    };
    let school_type = |r: &stats::RollupRow| -> Cell {
        r.school_type
            .as_deref()
            .map(|t| lang.t(&format!("school_type.{t}")))
            .into()
    };
    let by_school = lang.t("ledger.sheet.rollup");
    let mut sheets = Vec::new();
    let by_member;
    let member_rows: Vec<Vec<Cell>>;
    // A county's units a level down are its schools: one sheet says it all.
    let offices = members.iter().any(|r| r.kind != "school");
    if offices {
        by_member = lang.t("ledger.sheet.rollup_members");
        member_rows = members
            .iter()
            .map(|r| {
                let mut row = vec![
                    r.name.clone().into(),
                    Cell::from(r.schools),
                    r.target().map(Cell::from).unwrap_or(Cell::Empty),
                ];
                row.extend(figures(r));
                row
            })
            .collect();
        sheets.push(Sheet {
            name: &by_member,
            title: &title,
            headers: headers(
                lang,
                &[
                    "unit",
                    "schools",
                    "target",
                    "held",
                    "counted",
                    "online",
                    "planned",
                    "checkins",
                    "excellent",
                ],
            ),
            rows: member_rows,
        });
    }
    sheets.push(Sheet {
        name: &by_school,
        title: &title,
        headers: headers(
            lang,
            &[
                "school",
                "school_type",
                "held",
                "counted",
                "online",
                "planned",
                "checkins",
                "excellent",
            ],
        ),
        rows: schools
            .iter()
            .map(|r| {
                let mut row = vec![r.name.clone().into(), school_type(r)];
                row.extend(figures(r));
                row
            })
            .collect(),
    });
    xlsx(&sheets)
}

/// Renders the year's PDF dossier of a school and keeps it as an attachment; the job's
/// result names the attachment.
pub async fn dossier_job(
    db: Db,
    blobs: jiaxiao_store::blobs::Blobs,
    job: jiaxiao_store::entities::import_job::Model,
    progress: jiaxiao_jobs::ProgressFn,
) -> jiaxiao_jobs::JobResult {
    crate::dossier::run(db, blobs, job, progress).await
}
