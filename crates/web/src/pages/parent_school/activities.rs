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
use super::{SchoolNav, back, local_parts, may_write, parse_local, this_year};
use crate::app::AppState;
use crate::auth::Staff;
use crate::error::AppError;
use crate::i18n::{Lang, local_time};
use crate::pages::Chrome;

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
            &[("b", a.breakouts.to_string()), ("d", a.duties.to_string())],
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
}

async fn list_activities(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let scope = &s.user.scope;
    let school = sessions::school(&state.db, scope, id).await?;
    let (year, year_name) = this_year(&state).await?;
    let list = activities::list_activities(&state.db, scope, id, year).await?;
    Ok(Html(
        ActivitiesPage {
            c: Chrome::new(s.lang, Some(&s.user)),
            nav: SchoolNav {
                school,
                tab: "activities",
            },
            year_name,
            can_write: may_write(scope),
            activities: list.iter().map(|a| header_view(s.lang, a)).collect(),
            today: jiaxiao_store::today(),
        }
        .render()?,
    ))
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
    Path(id): Path<i64>,
    Form(f): Form<ActivityForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    // The school before the form: out of reach is 404, not a complaint about the date.
    jiaxiao_store::parent_school::check_writable(&state.db, &s.user.scope, id).await?;
    let aid = activities::create_activity(&state.db, &s.user.scope, f.to_new(id)?).await?;
    Ok(back(format!("/ps/schools/{id}/activities/{aid}")))
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
    Form(f): Form<ActivityForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    activity_of(&state, &s, id, aid).await?;
    activities::update_activity(&state.db, &s.user.scope, aid, f.to_new(id)?).await?;
    Ok(back(format!("/ps/schools/{id}/activities/{aid}")))
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
}

async fn show_activity(
    State(state): State<AppState>,
    s: Staff,
    Path((id, aid)): Path<(i64, i64)>,
) -> Result<Html<String>, AppError> {
    let scope = &s.user.scope;
    activity_of(&state, &s, id, aid).await?;
    let school = sessions::school(&state.db, scope, id).await?;
    let (row, p) = programme(&state, &s, aid).await?;
    let can_write = may_write(scope);
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
    Ok(Html(
        ActivityPage {
            c: Chrome::new(s.lang, Some(&s.user)),
            nav: SchoolNav {
                school,
                tab: "activities",
            },
            can_write,
            a: header_view(s.lang, &row),
            date,
            start,
            end,
            p,
            classes,
            staff,
        }
        .render()?,
    ))
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
    Form(f): Form<ItemForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let a = activity_of(&state, &s, id, aid).await?;
    // An unknown part is refused: defaulting it would file a line where nobody put it.
    let part =
        ActivityPart::from_code(&f.part).ok_or_else(|| AppError::Invalid("bad_part".into()))?;
    activities::add_item(
        &state.db,
        &s.user.scope,
        aid,
        NewItem {
            part,
            title: f.title,
            speaker: opt_text(&f.speaker),
            starts_at: at_time(&a, &f.time)?,
        },
    )
    .await?;
    Ok(back(format!("/ps/schools/{id}/activities/{aid}#programme")))
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
    crate::pages::parent_school::ManyForm(f): crate::pages::parent_school::ManyForm<BreakoutForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let lang = s.lang;
    let a = activity_of(&state, &s, id, aid).await?;
    let starts_at = at_time(&a, &f.time)?;
    let names = class_names(&state, &s, id).await?;
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
    Ok(back(format!("/ps/schools/{id}/activities/{aid}#programme")))
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
    Ok(back(format!("/ps/schools/{id}/activities/{aid}#programme")))
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
    Form(f): Form<DutyForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    activity_of(&state, &s, id, aid).await?;
    activities::add_duty(
        &state.db,
        &s.user.scope,
        aid,
        NewDuty {
            person: f.person,
            duty: f.duty,
            place: opt_text(&f.place),
            time_text: opt_text(&f.time_text),
        },
    )
    .await?;
    Ok(back(format!("/ps/schools/{id}/activities/{aid}#duties")))
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
    Ok(back(format!("/ps/schools/{id}/activities/{aid}#duties")))
}
