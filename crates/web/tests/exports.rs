//! The files staff download, read back as a school would open them, on SQLite and
//! PostgreSQL (issue 10): certificate text extracted from the PDF, XLSX cells with
//! their types, the check-in sheet a head teacher files, the dossier's sections and the
//! 公示 notice.

use jiaxiao_testkit::fixtures::{PEOPLE, get_bytes, login, personal_data_world};
use jiaxiao_testkit::xlsx::{Data, Reader, Sheet, Xlsx};
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

/// A downloaded workbook.
fn workbook(bytes: Vec<u8>) -> Xlsx<std::io::Cursor<Vec<u8>>> {
    jiaxiao_testkit::xlsx::open(bytes)
}

/// The row of a sheet whose first cells hold `key` (as text), with the header row.
fn row_of(
    wb: &mut Xlsx<std::io::Cursor<Vec<u8>>>,
    sheet: &str,
    key: &str,
) -> (Vec<String>, Vec<Data>, u32) {
    let range = Sheet::read(wb, sheet);
    let rows: Vec<Vec<Data>> = range.rows().to_vec();
    let header = rows[1].iter().map(|c| c.to_string()).collect();
    let (i, row) = rows
        .iter()
        .enumerate()
        .skip(2)
        .find(|(_, r)| r.iter().any(|c| c == &Data::String(key.into())))
        .unwrap_or_else(|| panic!("{key} in {sheet}: {rows:?}"));
    (header, row.clone(), i as u32)
}

/// The cell under the header `col`.
fn col<'a>(header: &[String], row: &'a [Data], col: &str) -> &'a Data {
    let i = header
        .iter()
        .position(|h| h == col)
        .unwrap_or_else(|| panic!("{col} in {header:?}"));
    &row[i]
}

fn number_format(
    wb: &mut Xlsx<std::io::Cursor<Vec<u8>>>,
    sheet: &str,
    row: u32,
    header: &[String],
    col: &str,
) -> String {
    let c = header.iter().position(|h| h == col).unwrap() as u32;
    wb.worksheet_style(sheet)
        .expect("styles")
        .get((row, c))
        .and_then(|s| s.number_format.as_ref())
        .map(|f| f.format_code.clone())
        .unwrap_or_default()
}

fn is_number(d: &Data) -> bool {
    matches!(d, Data::Float(_) | Data::Int(_))
}

both_dbs!(
    xlsx_counts_hours_rates_and_dates_are_typed,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = personal_data_world(&app.db).await;
        let admin = login(&app, "admin_a").await;
        let (st, _, x) = get_bytes(
            &admin,
            &app.url(&format!("/ps/schools/{}/ledger.xlsx", w.tree.school_a)),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let mut wb = workbook(x);
        // Sessions: the date is a date, the counts numbers, the rate a percentage.
        let (h, r, at) = row_of(&mut wb, "课次", "家庭教育讲座甲");
        assert!(
            matches!(col(&h, &r, "日期时间"), Data::DateTime(_)),
            "{r:?}"
        );
        for c in ["应到", "实到", "迟到", "请假", "缺席"] {
            assert!(is_number(col(&h, &r, c)), "{c}: {r:?}");
        }
        assert_eq!(col(&h, &r, "应到"), &Data::Float(2.0));
        assert_eq!(col(&h, &r, "出勤率"), &Data::Float(1.0));
        assert_eq!(number_format(&mut wb, "课次", at, &h, "出勤率"), "0.0%");
        // Trainees: hours with one decimal, counts, rate; the phone stays text.
        let (h, r, at) = row_of(&mut wb, "学员学时", PEOPLE[0].name);
        assert_eq!(col(&h, &r, "学时"), &Data::Float(1.0));
        assert_eq!(number_format(&mut wb, "学员学时", at, &h, "学时"), "0.0");
        assert!(is_number(col(&h, &r, "出勤次数")) && is_number(col(&h, &r, "心得")));
        assert_eq!(number_format(&mut wb, "学员学时", at, &h, "出勤率"), "0.0%");
        assert_eq!(col(&h, &r, "手机号"), &Data::String(PEOPLE[0].phone.into()));
        // Check-ins: both times are dates.
        let (h, r, _) = row_of(&mut wb, "签到明细", PEOPLE[0].name);
        assert!(matches!(col(&h, &r, "日期时间"), Data::DateTime(_)));
        assert!(matches!(col(&h, &r, "签到时间"), Data::DateTime(_)));
        // Class rates.
        let (h, r, at) = row_of(&mut wb, "班级出勤", "三年级(1)班");
        assert!(is_number(col(&h, &r, "应到（学生家庭·次）")));
        assert_eq!(number_format(&mut wb, "班级出勤", at, &h, "出勤率"), "0.0%");

        // The county's roll-up: counts are numbers.
        let county = login(&app, "county_a").await;
        let (st, _, x) = get_bytes(
            &county,
            &app.url(&format!("/ps/units/{}/rollup.xlsx", w.tree.county_a)),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let mut wb = workbook(x);
        let (h, r, _) = row_of(&mut wb, "各校汇总", "甲小学");
        assert_eq!(col(&h, &r, "已开课次"), &Data::Float(2.0), "{r:?}");
        for c in ["讲座和家长课堂", "线上", "待开", "签到人次", "优秀学员"] {
            assert!(is_number(col(&h, &r, c)), "{c}: {r:?}");
        }

        // A session's check-ins: each time is a date.
        let (st, _, x) = get_bytes(
            &admin,
            &app.url(&format!("/sessions/{}/checkins.xlsx", w.session_a)),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let mut wb = workbook(x);
        let (h, r, _) = row_of(&mut wb, "签到明细", PEOPLE[0].name);
        assert!(
            matches!(col(&h, &r, "签到时间"), Data::DateTime(_)),
            "{r:?}"
        );
    }
);

/// The rows of the only sheet below the title and header, as text.
fn sheet_rows(bytes: Vec<u8>) -> Vec<Vec<String>> {
    Sheet::first(bytes).text_rows().split_off(2)
}

both_dbs!(
    checkin_sheet_lists_every_invited_household,
    |t: TestDb| async move {
        use jiaxiao_domain::Role;
        use jiaxiao_domain::parent_school::{AttendanceStatus, Audience};
        use jiaxiao_store::checkin::{self, Mark};
        use jiaxiao_store::parent_school::sessions::{self, NewSession};
        let app = TestApp::spawn(t).await;
        let w = personal_data_world(&app.db).await;
        let sys = jiaxiao_store::Scope::system();
        let sid = sessions::create_session(
            &app.db,
            &sys,
            NewSession {
                school_id: w.tree.school_a,
                title: "期中家长会".into(),
                starts_at: chrono::Utc::now() - chrono::Duration::hours(1),
                duration_minutes: 60,
                place: Some("各班教室".into()),
                instructor_name: "班主任".into(),
                audience: Some(Audience::School),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        // The head teacher of 1班 marks 欧阳甲一 excused; 司马乙二 sends no word.
        let head = jiaxiao_testkit::fixtures::staff_scope(
            &app.db,
            "班主任王老师",
            Role::HeadTeacher,
            w.class_a1,
        )
        .await;
        checkin::mark(
            &app.db,
            &head,
            sid,
            &[Mark {
                guardian_id: w.guardians[0],
                status: AttendanceStatus::Excused,
            }],
        )
        .await
        .unwrap();
        let url = app.url(&format!("/sessions/{sid}/checkins.xlsx"));

        let admin = login(&app, "admin_a").await;
        let (st, _, x) = get_bytes(&admin, &url).await;
        assert_eq!(st, StatusCode::OK);
        let rows = sheet_rows(x);
        assert_eq!(rows.len(), 2, "both households: {rows:?}");
        let (p0, p1) = (&PEOPLE[0], &PEOPLE[1]);
        assert_eq!(
            rows[0][..6],
            [
                "三年级(1)班",
                p0.child.unwrap(),
                p0.name,
                p0.phone,
                "请假",
                "教师代签"
            ]
        );
        assert!(!rows[0][6].is_empty(), "the time it was marked");
        assert_eq!(rows[0][7], "班主任王老师", "marked by");
        assert_eq!(
            rows[1][..6],
            [
                "三年级(2)班",
                p1.child.unwrap(),
                p1.name,
                p1.phone,
                "未签到",
                ""
            ]
        );

        // The head teacher of 1班 files their class only, with whole numbers.
        let head = login(&app, "head_a1").await;
        let (st, _, x) = get_bytes(&head, &url).await;
        assert_eq!(st, StatusCode::OK);
        let rows = sheet_rows(x);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0][1..4], [p0.child.unwrap(), p0.name, p0.phone]);

        // A teacher of the school sees every household, phones masked.
        let teacher = login(&app, "teacher_a").await;
        let (_, _, x) = get_bytes(&teacher, &url).await;
        let rows = sheet_rows(x);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[1][3], jiaxiao_domain::phone::mask(p1.phone));

        // The school's year of check-ins, linked from the ledger page: the mark is a
        // line of it, under the caller's reach and phone rules.
        let a = w.tree.school_a;
        let (_, ledger) =
            jiaxiao_testkit::fixtures::get(&admin, &app.url(&format!("/ps/schools/{a}/ledger")))
                .await;
        assert!(
            ledger.contains(&format!("/ps/schools/{a}/checkins.xlsx")),
            "{ledger}"
        );
        let year_url = app.url(&format!("/ps/schools/{a}/checkins.xlsx"));
        let line = |rows: &[Vec<String>], name: &str| {
            rows.iter()
                .find(|r| r[1] == "期中家长会" && r[2] == name)
                .cloned()
        };
        let (st, _, x) = get_bytes(&admin, &year_url).await;
        assert_eq!(st, StatusCode::OK);
        let rows = sheet_rows(x);
        let mark = line(&rows, p0.name).expect("the marked line");
        assert_eq!(mark[3..6], [p0.phone, "请假", "教师代签"]);
        let (_, _, x) = get_bytes(&teacher, &year_url).await;
        let mark = line(&sheet_rows(x), p0.name).expect("the teacher's line");
        assert_eq!(mark[3], jiaxiao_domain::phone::mask(p0.phone));
        let (_, _, x) = get_bytes(&head, &year_url).await;
        let rows = sheet_rows(x);
        assert!(line(&rows, p0.name).is_some());
        assert!(rows.iter().all(|r| r[2] != p1.name), "{rows:?}");
    }
);

/// The number after `prefix` in `html`.
fn id_after(html: &str, prefix: &str) -> i64 {
    let i = html
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix} in page"))
        + prefix.len();
    html[i..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap()
}

both_dbs!(
    dossier_and_ledger_carry_the_same_sections,
    |t: TestDb| async move {
        use jiaxiao_testkit::fixtures::{csrf_of, get, post};
        let app = TestApp::spawn(t).await;
        let w = personal_data_world(&app.db).await;
        let admin = login(&app, "admin_a").await;
        let school = w.tree.school_a;
        // The ledger's workbook: committees and excellent trainees with certificate numbers.
        let (_, _, x) = get_bytes(
            &admin,
            &app.url(&format!("/ps/schools/{school}/ledger.xlsx")),
        )
        .await;
        let mut wb = workbook(x);
        let names = wb.sheet_names().to_vec();
        assert!(
            names.contains(&"组织机构".to_string()) && names.contains(&"优秀学员".to_string()),
            "{names:?}"
        );
        let (h, r, at) = row_of(&mut wb, "优秀学员", PEOPLE[0].name);
        assert_eq!(col(&h, &r, "评选结果"), &Data::String("已表彰".into()));
        let cert_no = col(&h, &r, "证书编号").to_string();
        assert!(!cert_no.is_empty(), "{r:?}");
        assert_eq!(number_format(&mut wb, "优秀学员", at, &h, "出勤率"), "0.0%");
        assert_eq!(col(&h, &r, "学时"), &Data::Float(1.0));
        let (_, staff_row, _) = row_of(&mut wb, "组织机构", PEOPLE[3].name);
        assert_eq!(staff_row[0], Data::String("家长学校领导小组".into()));

        // The dossier, rendered in the background, has the same sections.
        let ledger = app.url(&format!("/ps/schools/{school}/ledger"));
        let (_, page) = get(&admin, &ledger).await;
        let (st, _) = post(
            &admin,
            &app.url(&format!("/ps/schools/{school}/dossier")),
            &[("csrf", csrf_of(&page))],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let mut link = None;
        for _ in 0..600 {
            let (_, page) = get(&admin, &ledger).await;
            if page.contains("class=\"dossier-link\"") {
                link = Some(id_after(&page, "<a href=\"/attachments/"));
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let (st, _, pdf) = get_bytes(
            &admin,
            &app.url(&format!("/attachments/{}", link.expect("dossier done"))),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let text = pdf_text(&pdf);
        for heading in ["学员学时", "班级出勤", "组织机构", "优秀学员"] {
            assert!(text.contains(heading), "{heading} in the dossier");
        }
        let org = text
            .find("组织机构机构层级职务姓名")
            .expect("the committees' table");
        assert!(
            text[org..].contains(&format!("组长{}", PEOPLE[3].name)),
            "{}",
            &text[org..]
        );
        assert!(
            text.contains(&format!("{}100.0%1.01已表彰{cert_no}", PEOPLE[0].name)),
            "{text}"
        );
        assert!(text.contains("公示期："), "the notice period");
        // The printed dossier names people but prints no phone numbers.
        for p in &PEOPLE[..2] {
            assert!(
                !text.contains(p.phone) && !text.contains(&jiaxiao_domain::phone::mask(p.phone))
            );
        }
    }
);

both_dbs!(
    public_notice_prints_during_the_notice_period,
    |t: TestDb| async move {
        use jiaxiao_domain::parent_school::ExcellenceRule;
        use jiaxiao_store::parent_school::excellence;
        use jiaxiao_testkit::fixtures::get;
        let app = TestApp::spawn(t).await;
        let w = personal_data_world(&app.db).await;
        let sys = jiaxiao_store::Scope::system();
        let year =
            jiaxiao_store::org::ensure_school_year(&app.db.conn, jiaxiao_store::org::today_date())
                .await
                .unwrap();
        let round = excellence::compute(
            &app.db,
            &sys,
            w.tree.school_b,
            year,
            &ExcellenceRule {
                min_attendance_rate: 0.0,
                min_hours: 0.0,
                min_reflections: 0,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let admin = login(&app, "admin_b").await;
        let url = app.url(&format!("/ps/excellence/{round}/notice.pdf"));
        // Before its notice period there is no notice.
        let (st, _, _) = get_bytes(&admin, &url).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        excellence::review(&app.db, &sys, round, &[w.guardians[2]])
            .await
            .unwrap();
        excellence::start_notice(&app.db, &sys, round, 5)
            .await
            .unwrap();
        let (_, page) = get(
            &admin,
            &app.url(&format!("/ps/schools/{}/excellence", w.tree.school_b)),
        )
        .await;
        assert!(
            page.contains(&format!("href=\"/ps/excellence/{round}/notice.pdf\"")),
            "linked"
        );
        let (st, ct, pdf) = get_bytes(&admin, &url).await;
        assert_eq!((st, ct.as_str()), (StatusCode::OK, "application/pdf"));
        let text = pdf_text(&pdf);
        let years = years_now();
        let today = jiaxiao_store::org::today_date();
        let day = |d: chrono::NaiveDate| d.format("%Y年%-m月%-d日").to_string();
        for want in [
            format!("{years}学年家长学校优秀学员评选结果公示"),
            format!("拟评选以下1位家长为{years}学年家长学校“优秀学员”，现予以公示。"),
            format!("1{}100.0%1.01", PEOPLE[2].name),
            format!(
                "公示期：{}至{}（共5天）。",
                day(today),
                day(today + chrono::Duration::days(4))
            ),
            "如对上述人选有异议，请以书面或当面方式向乙小学家长学校办公室实名反映".to_string(),
            format!("乙小学家长学校{}", day(today)),
        ] {
            assert!(text.contains(&want), "{want} in {text}");
        }
        assert!(!text.contains(PEOPLE[2].phone));
        // Another school's admin cannot print it.
        let other = login(&app, "admin_a").await;
        let (st, _, _) = get_bytes(&other, &url).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
);
