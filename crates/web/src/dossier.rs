//! The PDF dossier of a school year (per session: notice, lesson plan, sign-in summary,
//! photos, summary; then the ledger's other sections as tables), rendered by a background job with progress and kept as an
//! attachment of the school.

use jiaxiao_export::pdf::{Attendance, Dossier, DossierLabels, DossierSession};
use jiaxiao_store::Db;
use jiaxiao_store::blobs::Blobs;
use jiaxiao_store::parent_school::records::{self, NewAttachment};
use jiaxiao_store::parent_school::{credits, sessions, stats};

use crate::i18n::{Lang, local_time, percent};

/// The most attendances a dossier lists by name. The PDF is laid out in parts, so memory
/// no longer grows with the year (BENCHMARKS.md), but a name still costs about 70 bytes
/// of PDF: a million would pass the 20 MB attachment limit. Past this many, each session
/// prints its figures and says the names are in the check-in workbook (XLSX, streamed).
pub const MAX_ATTENDANCES: i64 = 50_000;

/// Whether a year of `attendances` is listed by name in its dossier.
pub fn lists_names(attendances: i64) -> bool {
    attendances <= MAX_ATTENDANCES
}

fn labels(lang: Lang) -> DossierLabels {
    let t = |k: &str| lang.t(&format!("ps.dossier.{k}"));
    DossierLabels {
        generated: t("generated"),
        contents: t("contents"),
        notice: t("notice"),
        lesson_plan: t("lesson_plan"),
        signin: t("signin"),
        photos: t("photos"),
        summary: t("summary"),
        title: t("title"),
        form: t("form"),
        when: t("when"),
        place: t("place"),
        instructor: t("instructor"),
        instructor_title: t("instructor_title"),
        instructor_org: t("instructor_org"),
        audience: t("audience"),
        topic: t("topic"),
        invited: t("invited"),
        present: t("present"),
        late: t("late"),
        excused: t("excused"),
        absent: t("absent"),
        rate: t("rate"),
        attendees: t("attendees"),
        attendees_elsewhere: t("attendees_elsewhere"),
        none: t("none"),
        page_of: t("page_of"),
    }
}

pub async fn run(
    db: Db,
    blobs: Blobs,
    job: jiaxiao_store::entities::import_job::Model,
    mut progress: jiaxiao_jobs::ProgressFn,
) -> jiaxiao_jobs::JobResult {
    let code = |e: jiaxiao_store::StoreError| match e {
        jiaxiao_store::StoreError::NotFound => "not_found".to_string(),
        jiaxiao_store::StoreError::Invalid { code } => code.to_string(),
        other => {
            tracing::warn!(error = %other, "dossier data");
            "internal".to_string()
        }
    };
    let payload: serde_json::Value =
        serde_json::from_str(job.payload.as_deref().unwrap_or("{}")).unwrap_or_default();
    let school_id = payload["school_id"].as_i64().ok_or("bad_payload")?;
    let year = payload["school_year_id"].as_i64().ok_or("bad_payload")?;
    let lang = Lang::from_cookie(
        payload["lang"]
            .as_str()
            .map(|l| if l == "en" { "en" } else { "zh" }),
    );
    let scope = jiaxiao_store::roster::scope_of_job(&db, &job)
        .await
        .map_err(code)?;
    let school = sessions::school(&db, &scope, school_id)
        .await
        .map_err(code)?;
    let listed = lists_names(
        jiaxiao_store::parent_school::tally::attendances(&db, &scope, school_id, year)
            .await
            .map_err(code)?,
    );
    let (_, year_name) = jiaxiao_store::parent_school::names(&db, school_id, year)
        .await
        .map_err(code)?;
    let list: Vec<_> = sessions::list_sessions(&db, &scope, Some(school_id), Some(year))
        .await
        .map_err(code)?
        .into_iter()
        .filter(|s| s.status != "cancelled")
        .collect();
    let credits::YearFigures {
        counts,
        trainees,
        classes,
    } = credits::year_figures(&db, &scope, school_id, year)
        .await
        .map_err(code)?;
    // The same sections as the ledger's workbook, from the same list.
    let tables = crate::ledger::sections(&db, &scope, lang, school_id, year, &trainees, &classes)
        .await
        .map_err(|e| match e {
            crate::error::AppError::NotFound => "not_found".to_string(),
            other => {
                tracing::warn!(error = %other, "dossier sections");
                "internal".to_string()
            }
        })?
        .iter()
        .map(crate::ledger::Section::table)
        .collect();
    // Gathering is half the bar, rendering (the PDF's own steps, scaled) the other half.
    let total = list.len() * 2 + 2;
    let mut out = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let c = counts.get(&s.id).cloned().unwrap_or_default();
        let units = sessions::audience_units(&db, s.id).await.map_err(code)?;
        let mut photos = Vec::new();
        for a in records::session_attachments(&db, &scope, s.id)
            .await
            .map_err(code)?
            .iter()
            .filter(|a| a.kind == records::KIND_PHOTO)
            .take(8)
        {
            if let Ok(b) = blobs.get(&a.storage_key).await {
                photos.push(b);
            }
        }
        // One session's check-ins at a time, not the year's (1.1 million lines at the
        // extra-big school of bench/scale.sh): only the attendees' names are kept.
        let attendees = if listed {
            stats::checkin_lines(&db, &scope, school_id, year, Some(s.id))
                .await
                .map_err(code)?
                .into_iter()
                .filter(|l| l.status == "present" || l.status == "late")
                .map(|l| l.guardian_name)
                .collect()
        } else {
            Vec::new()
        };
        let audience = if units.is_empty() {
            lang.t(&format!("ps.audience.{}", s.audience))
        } else {
            units
                .iter()
                .map(|u| u.name.clone())
                .collect::<Vec<_>>()
                .join("、")
        };
        out.push(DossierSession {
            title: s.title.clone(),
            form: lang.t(&format!("ps.form.{}", s.form)),
            when: local_time(s.starts_at),
            place: s.place.clone().or(s.online_url.clone()).unwrap_or_default(),
            instructor: s.instructor_name.clone(),
            instructor_title: s.instructor_title.clone().unwrap_or_default(),
            instructor_org: s.instructor_org.clone().unwrap_or_default(),
            audience,
            topic: s.topic_title.clone().unwrap_or_default(),
            lesson_plan: s.lesson_plan.clone().unwrap_or_default(),
            attendance: Attendance {
                invited: c.invited_parents as u32,
                present: c.present as u32,
                late: c.late as u32,
                excused: c.excused as u32,
                absent: c.absent as u32,
                rate: percent(c.rate()),
            },
            attendees,
            attendees_elsewhere: !listed,
            photos,
            summary: s.summary.clone().unwrap_or_default(),
        });
        progress(i + 1, total);
    }
    let n = out.len();
    let dossier = Dossier {
        school: school.name.clone(),
        school_year: lang.year(&year_name),
        title: lang.t("ps.dossier.doc_title"),
        generated: local_time(chrono::Utc::now()),
        sessions: out,
        tables,
        labels: labels(lang),
    };
    let bytes = tokio::task::spawn_blocking(move || {
        jiaxiao_export::pdf::dossier(&dossier, &mut |d, t| {
            progress(n + d * (n + 2) / t.max(1), total)
        })
    })
    .await
    .map_err(|_| "internal".to_string())?
    .map_err(|e| {
        tracing::warn!(error = %e, "dossier rendering");
        "render_failed".to_string()
    })?;
    let name = format!("{}-{}.pdf", school.name, lang.t("ps.dossier.file"));
    let id = records::add_attachment(
        &db,
        &blobs,
        &scope,
        NewAttachment {
            school_id,
            school_year_id: None,
            session_id: None,
            kind: records::KIND_DOSSIER,
            file_name: &name,
            bytes: &bytes,
        },
    )
    .await
    .map_err(code)?;
    Ok(serde_json::json!({ "attachment_id": id, "sessions": n, "bytes": bytes.len() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_past_the_limit_is_not_listed_by_name() {
        assert!(lists_names(0));
        assert!(lists_names(31_760));
        assert!(lists_names(MAX_ATTENDANCES));
        assert!(!lists_names(MAX_ATTENDANCES + 1));
        assert!(!lists_names(1_023_214));
    }
}
