//! The files staff download, read back as a school would open them, on SQLite and
//! PostgreSQL (issue 10): certificate text extracted from the PDF, XLSX cells with
//! their types, the check-in sheet a head teacher files, the dossier's sections and the
//! 公示 notice.

use calamine::{Data, Reader, Xlsx};
use jiaxiao_testkit::fixtures::{PEOPLE, get_bytes, login, personal_data_world};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;

/// The text of every page with all whitespace removed: typst breaks lines anywhere.
fn pdf_text(bytes: &[u8]) -> String {
    assert!(bytes.starts_with(b"%PDF"), "not a PDF");
    let doc = lopdf::Document::load_mem(bytes).expect("PDF parses");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages)
        .expect("PDF text")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The school year's span as the certificate names it, e.g. "2026-2027".
fn years_now() -> String {
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    jiaxiao_store::org::school_year_of(today)
        .0
        .trim_end_matches("学年")
        .to_owned()
}

both_dbs!(
    certificate_text_is_the_whole_sentence,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = personal_data_world(&app.db).await;
        let admin = login(&app, "admin_a").await;
        let (st, ct, pdf) = get_bytes(
            &admin,
            &app.url(&format!("/ps/excellence/{}/certificates.pdf", w.round_a)),
        )
        .await;
        assert_eq!((st, ct.as_str()), (StatusCode::OK, "application/pdf"));
        let text = pdf_text(&pdf);
        let sentence = format!(
            "{}家长：在{}学年家长学校学习中积极参与、表现突出，被评为“优秀学员”。特发此证，以资鼓励。",
            PEOPLE[0].name,
            years_now()
        );
        assert!(text.contains(&sentence), "{sentence} not in {text}");
        assert!(
            !text.contains("\\n") && !text.contains("学年学年"),
            "{text}"
        );
        // The parent's own copy says the same.
        let parent = login(&app, PEOPLE[0].phone).await;
        let (st, _, pdf) =
            get_bytes(&parent, &app.url(&format!("/p/certificates/{}", w.round_a))).await;
        assert_eq!(st, StatusCode::OK);
        assert!(pdf_text(&pdf).contains(&sentence));
    }
);
