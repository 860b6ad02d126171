//! The PDF dossier of a school year (per session: notice, lesson plan, sign-in summary,
//! photos, summary; then the ledger's other sections as tables), rendered by a background job with progress and kept as an
//! attachment of the school.

use jiaxiao_export::pdf::{Attendance, Dossier, DossierLabels, DossierSession};
use jiaxiao_store::Db;
use jiaxiao_store::blobs::Blobs;
use jiaxiao_store::parent_school::records::{self, NewAttachment};
use jiaxiao_store::parent_school::{credits, sessions, stats};

use crate::i18n::{Lang, local_time, percent};

/// The most attendances a dossier lists by name. Its PDF is laid out whole in memory:
/// bench/scale.sh measured 679 MB of server memory and 11.6 MB of PDF for a school year
/// of 31,760 (about 365 bytes a name), and 7.6 GB for 1,023,214 before the 20 MB
/// attachment limit refused the file. Past this many, the job stops before gathering
/// anything and says to take the check-in workbook (XLSX, streamed) instead.
pub const MAX_ATTENDANCES: i64 = 50_000;

/// Whether a year of `attendances` fits in a dossier (`Err` is the job's error code).
pub fn fits(attendances: i64) -> Result<(), &'static str> {
    if attendances > MAX_ATTENDANCES {
        Err("too_large")
    } else {
        Ok(())
    }
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
    fits(
        jiaxiao_store::parent_school::tally::attendances(&db, &scope, school_id, year)
            .await
            .map_err(code)?,
    )?;
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
    // Gathering is a share of the work too: half the bar, rendering the other half.
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
        let attendees = stats::checkin_lines(&db, &scope, school_id, year, Some(s.id))
            .await
            .map_err(code)?
            .into_iter()
            .filter(|l| l.status == "present" || l.status == "late")
            .map(|l| l.guardian_name)
            .collect();
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
        jiaxiao_export::pdf::dossier(&dossier, &mut |d, _| progress(n + d, total))
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
    fn a_year_past_the_limit_is_refused_before_it_is_gathered() {
        assert_eq!(fits(0), Ok(()));
        assert_eq!(fits(31_760), Ok(()));
        assert_eq!(fits(MAX_ATTENDANCES), Ok(()));
        assert_eq!(fits(MAX_ATTENDANCES + 1), Err("too_large"));
        assert_eq!(fits(1_023_214), Err("too_large"));
    }
}
