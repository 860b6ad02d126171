//! Activities such as the parents' meeting day (plan 2): the list of a school's
//! activities this year, one activity's page — header, programme of collective items
//! and per-class breakouts (each creating that class's session, with its own
//! check-in), venue notes, duty roster, survey slot — and its printable run sheet.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiaxiao_domain::UnitKind;
use jiaxiao_domain::parent_school::ActivityPart;
use jiaxiao_store::org;
use jiaxiao_store::parent_school::activities::{
    self, ActivityRow, NewActivity, NewBreakout, NewDuty, NewItem,
};
use jiaxiao_store::parent_school::sessions;
use jiaxiao_store::people;
use serde::Deserialize;

use super::opt_text;
use super::{SchoolNav, SchoolYear, local_parts, may_write, parse_local};
use crate::app::AppState;
use crate::auth::Staff;
use crate::error::AppError;
use crate::i18n::{Lang, local_time};
use crate::pages::Chrome;
use crate::pages::form::{FieldsOf, Posted, Submitted, done, unprocessable};

pub fn routes() -> Router<AppState> {
    let a = "/ps/schools/{id}/activities/{aid}";
    Router::new()
        .route(
            "/ps/schools/{id}/activities",
            get(list_activities).post(create_activity),
        )
        .route(a, get(show_activity).post(update_activity))
        .route(&format!("{a}/print"), get(print_run_sheet))
        .route(&format!("{a}/run-sheet.pdf"), get(run_sheet_pdf))
        .route(&format!("{a}/items"), post(create_item))
        .route(&format!("{a}/breakouts"), post(create_breakouts))
        .route(&format!("{a}/items/{{iid}}/remove"), post(delete_item))
        .route(&format!("{a}/duties"), post(create_duty))
        .route(&format!("{a}/duties/{{did}}/remove"), post(delete_duty))
}

/// An activity's header as the pages show it.
pub struct HeaderView {
    pub id: i64,
    pub theme: String,
    pub when: String,
    pub place: String,
    pub participants: String,
    pub organiser: String,
    pub venue_notes: String,
    pub survey_ref: String,
    /// "4 class breakouts · 11 duties".
    pub counts: String,
}

fn header_view(lang: Lang, a: &ActivityRow) -> HeaderView {
    let end = local_parts(a.ends_at);
    let when = if local_parts(a.starts_at).0 == end.0 {
        format!("{}–{}", local_time(a.starts_at), end.1)
    } else {
        format!("{}–{}", local_time(a.starts_at), local_time(a.ends_at))
    };
    HeaderView {
        id: a.id,
        theme: a.theme.clone(),
        when,
        place: a.place.clone(),
        participants: a.participants.clone(),
        organiser: a.organiser.clone(),
        venue_notes: a.venue_notes.clone().unwrap_or_default(),
        survey_ref: a.survey_ref.clone().unwrap_or_default(),
        counts: lang.tf(
            "ps_activity.counts",
            &[
                ("b", lang.tn("ps_activity.breakouts", a.breakouts)),
                ("d", lang.tn("ps_activity.duty_count", a.duties)),
            ],
        ),
    }
}

#[derive(Template)]
#[template(path = "parent_school/activities.html")]
struct ActivitiesPage {
    c: Chrome,
    nav: SchoolNav,
    year_name: String,
    can_write: bool,
    activities: Vec<HeaderView>,
    today: String,
    /// A refused form, shown again with what was typed.
    posted: Posted,
}

async fn list_activities(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    Ok(Html(render_list(&state, &s, &y, id, Posted::none()).await?))
}

async fn render_list(
    state: &AppState,
    s: &Staff,
    y: &SchoolYear,
    id: i64,
    posted: Posted,
) -> Result<String, AppError> {
    let scope = &s.user.scope;
    let school = sessions::school(&state.db, scope, id).await?;
    let (year, year_name) = (y.id, y.label());
    let list = activities::list_activities(&state.db, scope, id, year).await?;
    Ok(ActivitiesPage {
        c: Chrome::new(s.lang, Some(&s.user)),
        nav: SchoolNav::new(school, "activities").with_year(y),
        year_name,
        can_write: y.open && may_write(scope),
        activities: list.iter().map(|a| header_view(s.lang, a)).collect(),
        today: jiaxiao_store::today(),
        posted,
    }
    .render()?)
}

/// Where a refusal of the activity's header form is shown.
const ACTIVITY_FIELDS: &FieldsOf = &[("bad_date", "date"), ("bad_time", "start"), ("*", "theme")];

/// The text rules on the header form, each beside its field.
fn check_activity(p: &mut Posted, lang: Lang, f: &ActivityForm) {
    use crate::pages::form::input_message;
    use jiaxiao_domain::text::Field;
    for (name, kind, value) in [
        ("theme", Field::Title, &f.theme),
        ("place", Field::Line, &f.place),
        ("participants", Field::Line, &f.participants),
        ("organiser", Field::Line, &f.organiser),
        ("venue_notes", Field::Note, &f.venue_notes),
        ("survey_ref", Field::Line, &f.survey_ref),
    ] {
        p.check(lang, name, kind, value);
    }
    if parse_local(&f.date, "00:00").is_err() {
        p.add("date", input_message(lang, "bad_date", Field::Line));
    }
    for (name, t) in [("start", &f.start), ("end", &f.end)] {
        if parse_local("2000-01-01", t).is_err() {
            p.add(name, input_message(lang, "bad_time", Field::Line));
        }
    }
}

#[derive(Deserialize)]
pub struct ActivityForm {
    csrf: String,
    theme: String,
    date: String,
    start: String,
    end: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    participants: String,
    #[serde(default)]
    organiser: String,
    #[serde(default)]
    venue_notes: String,
    #[serde(default)]
    survey_ref: String,
}

impl ActivityForm {
    fn to_new(&self, school_id: i64) -> Result<NewActivity, AppError> {
        Ok(NewActivity {
            school_id,
            theme: self.theme.clone(),
            starts_at: parse_local(&self.date, &self.start)?,
            ends_at: parse_local(&self.date, &self.end)?,
            place: self.place.clone(),
            participants: self.participants.clone(),
            organiser: self.organiser.clone(),
            venue_notes: opt_text(&self.venue_notes),
            survey_ref: opt_text(&self.survey_ref),
        })
    }
}

async fn create_activity(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
    Submitted { form: f, raw }: Submitted<ActivityForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    // The school before the form: out of reach is 404, not a complaint about the date.
    jiaxiao_store::parent_school::check_writable(&state.db, &s.user.scope, id).await?;
    let r = match f.to_new(id) {
        Ok(new) => activities::create_activity(&state.db, &s.user.scope, new)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match r {
        Ok(aid) => Ok(done(
            &format!("/ps/schools/{id}/activities/{aid}"),
            "created",
        )),
        Err(e) => {
            let p = Posted::refused(s.lang, "activity", raw, e, ACTIVITY_FIELDS, |p| {
                check_activity(p, s.lang, &f)
            })?;
            // The list of the year the form was posted from (its `?year=`), the form
            // again with its action keeping that year.
            Ok(unprocessable(render_list(&state, &s, &y, id, p).await?))
        }
    }
}

/// The activity, when it belongs to the school in the path (404 otherwise).
async fn activity_of(
    state: &AppState,
    s: &Staff,
    id: i64,
    aid: i64,
) -> Result<ActivityRow, AppError> {
    let a = activities::get_activity(&state.db, &s.user.scope, aid).await?;
    if a.school_id != id {
        return Err(AppError::NotFound);
    }
    Ok(a)
}

async fn update_activity(
    State(state): State<AppState>,
    s: Staff,
    Path((id, aid)): Path<(i64, i64)>,
    Submitted { form: f, raw }: Submitted<ActivityForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    activity_of(&state, &s, id, aid).await?;
    let r = match f.to_new(id) {
        Ok(new) => activities::update_activity(&state.db, &s.user.scope, aid, new)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => Ok(done(&format!("/ps/schools/{id}/activities/{aid}"), "saved")),
        Err(e) => {
            let p = Posted::refused(s.lang, "activity", raw, e, ACTIVITY_FIELDS, |p| {
                check_activity(p, s.lang, &f)
            })?;
            refused(&state, &s, id, aid, p).await
        }
    }
}

/// The activity's page again with the refused form `p`: 422.
async fn refused(
    state: &AppState,
    s: &Staff,
    id: i64,
    aid: i64,
    p: Posted,
) -> Result<Response, AppError> {
    Ok(unprocessable(render_activity(state, s, id, aid, p).await?))
}

pub struct ItemView {
    pub id: i64,
    pub time: String,
    pub title: String,
    pub speaker: String,
    pub session_id: Option<i64>,
    pub class_name: String,
    pub place: String,
    pub status: String,
}

pub struct DutyView {
    pub id: i64,
    pub person: String,
    pub duty: String,
    pub place: String,
    pub time: String,
}

/// The programme split as the run sheet prints it.
pub struct Programme {
    pub collective: Vec<ItemView>,
    /// By-class items that every class does alike.
    pub by_class: Vec<ItemView>,
    /// One line per class: its session.
    pub breakouts: Vec<ItemView>,
    pub duties: Vec<DutyView>,
}

async fn programme(
    state: &AppState,
    s: &Staff,
    aid: i64,
) -> Result<(ActivityRow, Programme), AppError> {
    let lang = s.lang;
    let full = activities::get_activity_full(&state.db, &s.user.scope, aid).await?;
    let mut p = Programme {
        collective: Vec::new(),
        by_class: Vec::new(),
        breakouts: Vec::new(),
        duties: full
            .duties
            .into_iter()
            .map(|d| DutyView {
                id: d.id,
                person: d.person,
                duty: d.duty,
                place: d.place.unwrap_or_default(),
                time: d.time_text.unwrap_or_default(),
            })
            .collect(),
    };
    for i in full.items {
        let v = ItemView {
            id: i.id,
            time: i.starts_at.map(|t| local_parts(t).1).unwrap_or_default(),
            title: i.title,
            speaker: i.instructor_name.or(i.speaker).unwrap_or_default(),
            session_id: i.session_id,
            class_name: i.class_name.unwrap_or_default(),
            place: i.place.unwrap_or_default(),
            status: i
                .session_status
                .map(|st| lang.t(&format!("ps_activity.status_{st}")))
                .unwrap_or_default(),
        };
        match (ActivityPart::from_code(&i.part), v.session_id) {
            (Some(ActivityPart::Collective), _) => p.collective.push(v),
            (_, Some(_)) => p.breakouts.push(v),
            _ => p.by_class.push(v),
        }
    }
    Ok((full.activity, p))
}

#[derive(Template)]
#[template(path = "parent_school/activity.html")]
struct ActivityPage {
    c: Chrome,
    nav: SchoolNav,
    can_write: bool,
    a: HeaderView,
    date: String,
    start: String,
    end: String,
    p: Programme,
    classes: Vec<(i64, String)>,
    staff: Vec<(i64, String)>,
    /// A refused form, shown again with what was typed.
    posted: Posted,
}

async fn show_activity(
    State(state): State<AppState>,
    s: Staff,
    Path((id, aid)): Path<(i64, i64)>,
) -> Result<Html<String>, AppError> {
    Ok(Html(
        render_activity(&state, &s, id, aid, Posted::none()).await?,
    ))
}

async fn render_activity(
    state: &AppState,
    s: &Staff,
    id: i64,
    aid: i64,
    posted: Posted,
) -> Result<String, AppError> {
    let scope = &s.user.scope;
    activity_of(state, s, id, aid).await?;
    let school = sessions::school(&state.db, scope, id).await?;
    let (row, p) = programme(state, s, aid).await?;
    // A day of a closed year shows no forms: the store would refuse them.
    let can_write = may_write(scope)
        && jiaxiao_store::parent_school::year_open(&state.db.conn, id, row.school_year_id).await?;
    let (mut classes, mut staff) = (Vec::new(), Vec::new());
    if can_write {
        let mut units = org::units_under(
            &state.db,
            scope,
            id,
            UnitKind::Class,
            &jiaxiao_store::today(),
        )
        .await?;
        units.sort_by_key(|u| (u.grade_level, u.class_number));
        classes = units.into_iter().map(|u| (u.id, u.name)).collect();
        staff = people::list_staff(
            &state.db,
            scope,
            &people::Query {
                under: Some(id),
                limit: 500,
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .map(|st| (st.id, st.name))
        .collect();
    }
    let (date, start) = local_parts(row.starts_at);
    let end = local_parts(row.ends_at).1;
    Ok(ActivityPage {
        c: Chrome::new(s.lang, Some(&s.user)),
        nav: SchoolNav::new(school, "activities"),
        can_write,
        a: header_view(s.lang, &row),
        date,
        start,
        end,
        p,
        classes,
        staff,
        posted,
    }
    .render()?)
}

#[derive(Template)]
#[template(path = "parent_school/activity_print.html")]
struct RunSheet {
    c: Chrome,
    school_id: i64,
    school_name: String,
    a: HeaderView,
    p: Programme,
}

/// The run sheet to print and hand to every teacher on duty.
async fn print_run_sheet(
    State(state): State<AppState>,
    s: Staff,
    Path((id, aid)): Path<(i64, i64)>,
) -> Result<Html<String>, AppError> {
    let row = activity_of(&state, &s, id, aid).await?;
    let (_, p) = programme(&state, &s, aid).await?;
    Ok(Html(
        RunSheet {
            c: Chrome::new(s.lang, Some(&s.user)),
            school_id: id,
            school_name: row.school_name.clone(),
            a: header_view(s.lang, &row),
            p,
        }
        .render()?,
    ))
}

/// The run sheet as a PDF for printing and handing out (the same content as the print
/// page, laid out by the PDF renderer).
async fn run_sheet_pdf(
    State(state): State<AppState>,
    s: Staff,
    Path((id, aid)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    use jiaxiao_export::pdf;
    let row = activity_of(&state, &s, id, aid).await?;
    let (_, p) = programme(&state, &s, aid).await?;
    let h = header_view(s.lang, &row);
    let t = |k: &str| s.lang.t(&format!("ps.runsheet.{k}"));
    let item = |i: &ItemView| pdf::ProgrammeItem {
        time: i.time.clone(),
        item: i.title.clone(),
        speaker: i.speaker.clone(),
    };
    let sheet = pdf::RunSheet {
        title: t("title"),
        theme: h.theme,
        when: h.when,
        place: h.place,
        participants: h.participants,
        organiser: h.organiser,
        programme: p
            .collective
            .iter()
            .chain(p.by_class.iter())
            .map(item)
            .collect(),
        breakouts: p
            .breakouts
            .iter()
            .map(|b| pdf::Breakout {
                class_name: b.class_name.clone(),
                session_title: b.title.clone(),
                instructor: b.speaker.clone(),
                place: b.place.clone(),
            })
            .collect(),
        venue_notes: h.venue_notes,
        duties: p
            .duties
            .iter()
            .map(|d| pdf::Duty {
                person: d.person.clone(),
                duty: d.duty.clone(),
                place: d.place.clone(),
                time: d.time.clone(),
            })
            .collect(),
        labels: pdf::RunSheetLabels {
            theme: t("theme"),
            when: t("when"),
            place: t("place"),
            participants: t("participants"),
            organiser: t("organiser"),
            programme: t("programme"),
            breakouts: t("breakouts"),
            venue_notes: t("venue_notes"),
            duties: t("duties"),
            time: t("time"),
            item: t("item"),
            speaker: t("speaker"),
            class_name: t("class_name"),
            session_title: t("session_title"),
            instructor: t("instructor"),
            person: t("person"),
            duty: t("duty"),
            page_of: t("page_of"),
        },
    };
    let bytes = tokio::task::spawn_blocking(move || pdf::run_sheet(&sheet))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(crate::pages::parent_school::home::pdf_response(
        bytes,
        "run-sheet.pdf",
    ))
}

#[derive(Deserialize)]
pub struct ItemForm {
    csrf: String,
    part: String,
    title: String,
    #[serde(default)]
    speaker: String,
    /// HH:MM on the activity's day; empty for none.
    #[serde(default)]
    time: String,
}

/// A clock time on the activity's day, when one was given.
fn at_time(a: &ActivityRow, time: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    match time.trim() {
        "" => Ok(None),
        t => Ok(Some(parse_local(&local_parts(a.starts_at).0, t)?)),
    }
}

async fn create_item(
    State(state): State<AppState>,
    s: Staff,
    Path((id, aid)): Path<(i64, i64)>,
    Submitted { form: f, raw }: Submitted<ItemForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let a = activity_of(&state, &s, id, aid).await?;
    let r = async {
        // An unknown part is refused: defaulting it would file a line where nobody put it.
        let part =
            ActivityPart::from_code(&f.part).ok_or_else(|| AppError::Invalid("bad_part".into()))?;
        let new = NewItem {
            part,
            title: f.title.clone(),
            speaker: opt_text(&f.speaker),
            starts_at: at_time(&a, &f.time)?,
        };
        Ok::<_, AppError>(activities::add_item(&state.db, &s.user.scope, aid, new).await?)
    }
    .await;
    match r {
        Ok(_) => Ok(done(
            &format!("/ps/schools/{id}/activities/{aid}#programme"),
            "added",
        )),
        Err(e) => {
            let fields: &FieldsOf = &[("bad_part", "part"), ("bad_time", "time"), ("*", "title")];
            let p = Posted::refused(s.lang, "item", raw, e, fields, |p| {
                use jiaxiao_domain::text::Field;
                p.check(s.lang, "title", Field::Title, &f.title);
                p.check(s.lang, "speaker", Field::Name, &f.speaker);
            })?;
            refused(&state, &s, id, aid, p).await
        }
    }
}

#[derive(Deserialize)]
pub struct BreakoutForm {
    csrf: String,
    /// Repeated: one breakout per class ticked.
    #[serde(default)]
    class_id: Vec<i64>,
    title: String,
    #[serde(default)]
    instructor_staff_id: Option<i64>,
    #[serde(default)]
    instructor_name: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    duration_minutes: Option<i32>,
}

/// Classes ticked in a form arrive as repeated `class_id` keys, which axum's `Form`
/// cannot hold; `ManyForm` reads them into a Vec (and caps the number of fields).
async fn create_breakouts(
    State(state): State<AppState>,
    s: Staff,
    Path((id, aid)): Path<(i64, i64)>,
    Submitted { form: f, raw }: Submitted<BreakoutForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let a = activity_of(&state, &s, id, aid).await?;
    match add_breakouts(&state, &s, id, &a, &f).await {
        Ok(()) => Ok(done(
            &format!("/ps/schools/{id}/activities/{aid}#programme"),
            "added",
        )),
        Err(e) => {
            let fields: &FieldsOf = &[
                ("audience_empty", "class_id"),
                ("class_outside_school", "class_id"),
                ("staff_not_at_school", "instructor_staff_id"),
                ("bad_time", "time"),
                ("bad_duration", "duration_minutes"),
                ("*", "title"),
            ];
            let p = Posted::refused(s.lang, "breakout", raw, e, fields, |p| {
                use jiaxiao_domain::text::Field;
                p.check(s.lang, "title", Field::Title, &f.title);
                p.check(s.lang, "instructor_name", Field::Name, &f.instructor_name);
                p.check(s.lang, "place", Field::Line, &f.place);
            })?;
            refused(&state, &s, id, aid, p).await
        }
    }
}

async fn add_breakouts(
    state: &AppState,
    s: &Staff,
    id: i64,
    a: &ActivityRow,
    f: &BreakoutForm,
) -> Result<(), AppError> {
    let lang = s.lang;
    let aid = a.id;
    let starts_at = at_time(a, &f.time)?;
    let names = class_names(state, s, id).await?;
    let breakouts = f
        .class_id
        .iter()
        .map(|cid| {
            let class = names
                .iter()
                .find(|(i, _)| i == cid)
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            NewBreakout {
                class_id: *cid,
                title: f.title.clone(),
                instructor_staff_id: f.instructor_staff_id,
                // Without a named instructor each class's own head teacher teaches, as
                // plan 2 has it.
                instructor_name: match (opt_text(&f.instructor_name), f.instructor_staff_id) {
                    (Some(n), _) => n,
                    (None, Some(_)) => String::new(),
                    (None, None) => default_text(lang, "ps_activity.head_teacher_of", &class),
                },
                place: Some(
                    opt_text(&f.place)
                        .unwrap_or_else(|| default_text(lang, "ps_activity.classroom_of", &class)),
                ),
                starts_at,
                duration_minutes: f.duration_minutes,
                ..Default::default()
            }
        })
        .collect();
    activities::add_breakouts(&state.db, &s.user.scope, aid, breakouts).await?;
    Ok(())
}

fn default_text(lang: Lang, key: &str, class: &str) -> String {
    lang.tf(key, &[("class", class.to_owned())])
}

async fn class_names(
    state: &AppState,
    s: &Staff,
    school: i64,
) -> Result<Vec<(i64, String)>, AppError> {
    Ok(org::units_under(
        &state.db,
        &s.user.scope,
        school,
        UnitKind::Class,
        &jiaxiao_store::today(),
    )
    .await?
    .into_iter()
    .map(|u| (u.id, u.name))
    .collect())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

async fn delete_item(
    State(state): State<AppState>,
    s: Staff,
    Path((id, aid, iid)): Path<(i64, i64, i64)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    activity_of(&state, &s, id, aid).await?;
    activities::remove_item(&state.db, &s.user.scope, iid).await?;
    Ok(done(
        &format!("/ps/schools/{id}/activities/{aid}#programme"),
        "removed",
    ))
}

#[derive(Deserialize)]
pub struct DutyForm {
    csrf: String,
    person: String,
    duty: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    time_text: String,
}

async fn create_duty(
    State(state): State<AppState>,
    s: Staff,
    Path((id, aid)): Path<(i64, i64)>,
    Submitted { form: f, raw }: Submitted<DutyForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    activity_of(&state, &s, id, aid).await?;
    let r = activities::add_duty(
        &state.db,
        &s.user.scope,
        aid,
        NewDuty {
            person: f.person.clone(),
            duty: f.duty.clone(),
            place: opt_text(&f.place),
            time_text: opt_text(&f.time_text),
        },
    )
    .await;
    match r {
        Ok(_) => Ok(done(
            &format!("/ps/schools/{id}/activities/{aid}#duties"),
            "added",
        )),
        Err(e) => {
            let fields: &FieldsOf = &[("person_missing", "person"), ("*", "duty")];
            let p = Posted::refused(s.lang, "duty", raw, e.into(), fields, |p| {
                use jiaxiao_domain::text::Field;
                p.check(s.lang, "person", Field::Name, &f.person);
                p.check(s.lang, "duty", Field::Line, &f.duty);
                p.check(s.lang, "place", Field::Line, &f.place);
                p.check(s.lang, "time_text", Field::Line, &f.time_text);
            })?;
            refused(&state, &s, id, aid, p).await
        }
    }
}

async fn delete_duty(
    State(state): State<AppState>,
    s: Staff,
    Path((id, aid, did)): Path<(i64, i64, i64)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    activity_of(&state, &s, id, aid).await?;
    activities::remove_duty(&state.db, &s.user.scope, did).await?;
    Ok(done(
        &format!("/ps/schools/{id}/activities/{aid}#duties"),
        "removed",
    ))
}
