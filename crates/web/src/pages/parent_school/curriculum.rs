//! The curriculum page: the school's topic catalogue (the shipped defaults of its
//! school type until the first change, then its own: add, rename, reorder, retire),
//! the courses planned per grade and semester, and the grade × topic coverage grid
//! for this year and for the pupils' earlier years at the school.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiaxiao_domain::SchoolType;
use jiaxiao_domain::org::grade_name;
use jiaxiao_domain::parent_school::SEMESTERS;
use jiaxiao_store::parent_school::curriculum::{self, NewCourse};
use jiaxiao_store::parent_school::sessions;
use serde::Deserialize;

use super::opt_text;
use super::{SchoolNav, SchoolYear, back, may_write};
use crate::app::AppState;
use crate::auth::Staff;
use crate::error::AppError;
use crate::pages::Chrome;
use crate::pages::form::{FieldsOf, Posted, Submitted, done, unprocessable};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ps/schools/{id}/curriculum", get(show_curriculum))
        .route("/ps/schools/{id}/curriculum/seed", post(seed_topics))
        .route("/ps/schools/{id}/curriculum/topics", post(create_topic))
        .route(
            "/ps/schools/{id}/curriculum/topics/{tid}",
            post(update_topic),
        )
        .route(
            "/ps/schools/{id}/curriculum/topics/{tid}/move",
            post(move_topic),
        )
        .route(
            "/ps/schools/{id}/curriculum/topics/{tid}/active",
            post(set_topic_active),
        )
        .route("/ps/schools/{id}/curriculum/courses", post(create_course))
        .route(
            "/ps/schools/{id}/curriculum/courses/{cid}/delete",
            post(delete_course),
        )
}

pub struct CourseView {
    pub id: i64,
    pub grade: String,
    pub semester: String,
    pub topic: String,
    pub title: String,
    pub sessions: i64,
    pub held: i64,
}

pub struct GridRow {
    pub grade: String,
    pub pupils: i64,
    /// One cell per topic of `grid_topics`.
    pub this_year: Vec<String>,
    pub earlier: Vec<String>,
}

#[derive(Template)]
#[template(path = "parent_school/curriculum.html")]
struct CurriculumPage {
    c: Chrome,
    nav: SchoolNav,
    year_name: String,
    can_write: bool,
    stored: bool,
    topics: Vec<curriculum::TopicRow>,
    courses: Vec<CourseView>,
    grade_levels: Vec<(i32, String)>,
    semesters: Vec<(i32, String)>,
    /// (id, title) of the active topics, for planning a course.
    active_topics: Vec<(i64, String)>,
    /// (ordinal, title) heading each column of the grid.
    grid_topics: Vec<(i32, String)>,
    grid: Vec<GridRow>,
    /// A refused form, shown again with what was typed.
    posted: Posted,
}

async fn show_curriculum(
    State(state): State<AppState>,
    s: Staff,
    y: SchoolYear,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    Ok(Html(
        render_curriculum(&state, &s, &y, id, Posted::none()).await?,
    ))
}

/// The curriculum page again with the refused form `p`: 422.
async fn refused(state: &AppState, s: &Staff, id: i64, p: Posted) -> Result<Response, AppError> {
    // Topics are the school's and courses are planned in the current year.
    let y = SchoolYear::resolve(state, s.lang, "", Some(id)).await?;
    Ok(unprocessable(render_curriculum(state, s, &y, id, p).await?))
}

async fn render_curriculum(
    state: &AppState,
    s: &Staff,
    y: &SchoolYear,
    id: i64,
    p: Posted,
) -> Result<String, AppError> {
    let lang = s.lang;
    let scope = &s.user.scope;
    let school = sessions::school(&state.db, scope, id).await?;
    let (year, year_name) = (y.id, y.label());
    let catalogue = curriculum::list_topics(&state.db, scope, id).await?;
    let coverage = curriculum::coverage(&state.db, scope, id, year).await?;
    let semester = |n: i32| lang.t(&format!("ps_curriculum.semester_{n}"));
    let courses = curriculum::list_courses(&state.db, scope, id, year)
        .await?
        .into_iter()
        .map(|c| CourseView {
            id: c.id,
            grade: grade_name(c.grade_level),
            semester: semester(c.semester),
            topic: c.topic_title,
            title: c.title,
            sessions: c.sessions,
            held: c.held,
        })
        .collect();
    let grade_levels = school
        .school_type
        .as_deref()
        .and_then(SchoolType::from_code)
        .map(|t| t.grade_levels().map(|l| (l, grade_name(l))).collect())
        .unwrap_or_default();
    let grid = coverage
        .grades
        .iter()
        .map(|g| GridRow {
            grade: g.grade_name.clone(),
            pupils: g.pupils,
            this_year: coverage
                .topics
                .iter()
                .map(|t| match g.this_year.get(&t.id) {
                    Some(n) => format!("✓ {n}"),
                    None => String::new(),
                })
                .collect(),
            earlier: coverage
                .topics
                .iter()
                .map(|t| match g.earlier.get(&t.id) {
                    Some(n) if *n >= g.pupils => format!("✓ {n}/{}", g.pupils),
                    Some(n) => format!("{n}/{}", g.pupils),
                    None => String::new(),
                })
                .collect(),
        })
        .collect();
    Ok(CurriculumPage {
        c: Chrome::new(lang, Some(&s.user)),
        nav: SchoolNav::new(school, "curriculum").with_year(y),
        year_name,
        can_write: y.open && may_write(scope),
        stored: catalogue.stored,
        active_topics: catalogue
            .topics
            .iter()
            .filter(|t| t.active && t.id > 0)
            .map(|t| (t.id, t.title.clone()))
            .collect(),
        topics: catalogue.topics,
        courses,
        grade_levels,
        semesters: SEMESTERS.iter().map(|n| (*n, semester(*n))).collect(),
        grid_topics: coverage
            .topics
            .iter()
            .map(|t| (t.ordinal, t.title.clone()))
            .collect(),
        grid,
        posted: p,
    }
    .render()?)
}

fn to_curriculum(id: i64) -> Response {
    back(format!("/ps/schools/{id}/curriculum"))
}

/// Where a topic's or a course's refusal is shown: text rules beside the title.
const TOPIC_FIELDS: &FieldsOf = &[("*", "title")];
const COURSE_FIELDS: &FieldsOf = &[
    ("topic_outside_school", "topic_id"),
    ("bad_grade", "grade_level"),
    ("bad_semester", "semester"),
    ("*", "title"),
];

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

async fn seed_topics(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    curriculum::seed_topics(&state.db, &s.user.scope, id).await?;
    Ok(done(&format!("/ps/schools/{id}/curriculum"), "saved"))
}

#[derive(Deserialize)]
pub struct TopicForm {
    csrf: String,
    title: String,
    #[serde(default)]
    description: String,
}

fn check_topic(p: &mut Posted, lang: crate::i18n::Lang, f: &TopicForm) {
    use jiaxiao_domain::text::Field;
    p.check(lang, "title", Field::Title, &f.title);
    p.check(lang, "description", Field::Note, &f.description);
}

async fn create_topic(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Submitted { form: f, raw }: Submitted<TopicForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    match curriculum::add_topic(
        &state.db,
        &s.user.scope,
        id,
        &f.title,
        opt_text(&f.description),
    )
    .await
    {
        Ok(_) => Ok(done(&format!("/ps/schools/{id}/curriculum"), "added")),
        Err(e) => {
            let p = Posted::refused(s.lang, "topic", raw, e.into(), TOPIC_FIELDS, |p| {
                check_topic(p, s.lang, &f)
            })?;
            refused(&state, &s, id, p).await
        }
    }
}

async fn update_topic(
    State(state): State<AppState>,
    s: Staff,
    Path((id, tid)): Path<(i64, i64)>,
    Submitted { form: f, raw }: Submitted<TopicForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    match curriculum::update_topic(
        &state.db,
        &s.user.scope,
        tid,
        &f.title,
        opt_text(&f.description),
    )
    .await
    {
        Ok(_) => Ok(done(&format!("/ps/schools/{id}/curriculum"), "saved")),
        Err(e) => {
            let p = Posted::refused(s.lang, "topic_edit", raw, e.into(), TOPIC_FIELDS, |p| {
                check_topic(p, s.lang, &f)
            })?;
            refused(&state, &s, id, p.about(tid)).await
        }
    }
}

#[derive(Deserialize)]
pub struct MoveForm {
    csrf: String,
    /// "up" or "down".
    dir: String,
}

async fn move_topic(
    State(state): State<AppState>,
    s: Staff,
    Path((id, tid)): Path<(i64, i64)>,
    Form(f): Form<MoveForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    let delta = if f.dir == "up" { -1 } else { 1 };
    curriculum::move_topic(&state.db, &s.user.scope, tid, delta).await?;
    Ok(to_curriculum(id))
}

#[derive(Deserialize)]
pub struct ActiveForm {
    csrf: String,
    /// "1" to bring back, anything else to retire.
    active: String,
}

async fn set_topic_active(
    State(state): State<AppState>,
    s: Staff,
    Path((id, tid)): Path<(i64, i64)>,
    Form(f): Form<ActiveForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    curriculum::set_topic_active(&state.db, &s.user.scope, tid, f.active == "1").await?;
    Ok(done(&format!("/ps/schools/{id}/curriculum"), "saved"))
}

#[derive(Deserialize)]
pub struct CourseForm {
    csrf: String,
    topic_id: i64,
    grade_level: i32,
    semester: i32,
    #[serde(default)]
    title: String,
}

async fn create_course(
    State(state): State<AppState>,
    s: Staff,
    Path(id): Path<i64>,
    Submitted { form: f, raw }: Submitted<CourseForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    match curriculum::create_course(
        &state.db,
        &s.user.scope,
        NewCourse {
            school_id: id,
            topic_id: f.topic_id,
            grade_level: f.grade_level,
            semester: f.semester,
            title: f.title,
        },
    )
    .await
    {
        Ok(_) => Ok(done(&format!("/ps/schools/{id}/curriculum"), "added")),
        Err(e) => {
            let p = Posted::refused(s.lang, "course", raw, e.into(), COURSE_FIELDS, |_| {})?;
            refused(&state, &s, id, p).await
        }
    }
}

async fn delete_course(
    State(state): State<AppState>,
    s: Staff,
    Path((id, cid)): Path<(i64, i64)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, AppError> {
    s.check_csrf(&f.csrf)?;
    curriculum::delete_course(&state.db, &s.user.scope, cid).await?;
    Ok(done(&format!("/ps/schools/{id}/curriculum"), "deleted"))
}
