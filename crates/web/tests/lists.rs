//! The list component on the staff lists (issue 10 item 15), each on SQLite and
//! PostgreSQL: the total and numbered pages with a page size, search (characters, spaced
//! pinyin, phone), filters, sort by column, and the XLSX of exactly the filtered rows,
//! numbers as number cells — through the same scoped read as the page, so a head
//! teacher's export holds their class and nothing more.

use jiaxiao_domain::Role;
use jiaxiao_testkit::fixtures::{
    PEOPLE, county_with_schools, get, get_bytes, import_roster, login, personal_data_world,
    staff_account,
};
use jiaxiao_testkit::xlsx::{Data, Sheet};
use jiaxiao_testkit::{TestApp, TestDb, both_dbs};
use reqwest::StatusCode;

/// The rows of a downloaded list (title row and header row left out), as the header and
/// the data rows.
fn sheet(bytes: Vec<u8>) -> (Vec<String>, Vec<Vec<Data>>) {
    let rows: Vec<Vec<Data>> = Sheet::first(bytes).rows().to_vec();
    let header = rows[1].iter().map(|c| c.to_string()).collect();
    (header, rows[2..].to_vec())
}

/// The rows of the page's list table, as the text of their cells (the component's own
/// markup: one `<tr>` per row, one `<td …>` per cell).
fn table_rows(html: &str, id: &str) -> Vec<Vec<String>> {
    let Some(start) = html.find(&format!("<table id=\"{id}\">")) else {
        return Vec::new();
    };
    let table = &html[start..];
    let table = &table[..table.find("</table>").expect("table ends")];
    let body = &table[table.find("<tbody>").expect("tbody")..];
    body.split("<tr>")
        .skip(1)
        .map(|tr| {
            tr.split("<td")
                .skip(1)
                .map(|td| {
                    let inner = &td[td.find('>').map_or(0, |i| i + 1)..];
                    let inner = &inner[..inner.find("</td>").unwrap_or(inner.len())];
                    // Strip tags (a cell's link) and decode the entities askama writes.
                    let mut text = String::new();
                    let mut in_tag = false;
                    for ch in inner.chars() {
                        match ch {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            c if !in_tag => text.push(c),
                            _ => {}
                        }
                    }
                    text.replace("&#38;", "&")
                        .replace("&#39;", "'")
                        .replace("&#34;", "\"")
                        .trim()
                        .to_owned()
                })
                .collect()
        })
        .collect()
}

both_dbs!(
    trainees_list_searches_filters_sorts_and_exports,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = personal_data_world(&app.db).await;
        let a = w.tree.school_a;
        let admin = login(&app, "admin_a").await;
        let base = app.url(&format!("/ps/schools/{a}/trainees"));
        let (st, html) = get(&admin, &base).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("共 2 条"), "{html}");
        let rows = table_rows(&html, "trainees");
        assert_eq!(rows.len(), 2);
        // Each parent's child's class is a column.
        assert!(
            rows.iter()
                .any(|r| r[0] == PEOPLE[1].name && r[2].contains("三年级(2)班")),
            "{rows:?}"
        );
        // Search by spaced pinyin and by phone; filter by class.
        for q in ["?q=ou+yang", "?q=13811110001", "?q=欧阳"] {
            let rows = table_rows(&get(&admin, &format!("{base}{q}")).await.1, "trainees");
            let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
            assert_eq!(names, [PEOPLE[0].name], "{q}");
        }
        let (_, html) = get(&admin, &format!("{base}?class={}", w.class_a2)).await;
        let rows = table_rows(&html, "trainees");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0], PEOPLE[1].name);
        // The class filter is offered, its choice kept selected.
        assert!(
            html.contains(&format!("<option value=\"{}\" selected>", w.class_a2)),
            "{html}"
        );
        // Sorting by name both ways (pinyin: ouyang before sima).
        let by = |dir: &'static str| {
            let url = format!("{base}?sort=name{dir}");
            let admin = admin.clone();
            async move {
                table_rows(&get(&admin, &url).await.1, "trainees")
                    .into_iter()
                    .map(|r| r[0].clone())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(by("").await, [PEOPLE[0].name, PEOPLE[1].name]);
        assert_eq!(by("&dir=desc").await, [PEOPLE[1].name, PEOPLE[0].name]);
        // Nothing matching says so, with the way back.
        let (_, html) = get(&admin, &format!("{base}?q=zzzz")).await;
        assert!(html.contains("没有符合条件的记录"), "{html}");
        assert!(html.contains("清除条件"));

        // The export holds exactly the filtered rows, numbers as numbers.
        let (st, _, bytes) = get_bytes(
            &admin,
            &app.url(&format!(
                "/ps/schools/{a}/trainees.xlsx?class={}",
                w.class_a2
            )),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let (header, rows) = sheet(bytes);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0][0], Data::String(PEOPLE[1].name.into()));
        let col = |h: &str| header.iter().position(|x| x == h).unwrap();
        assert!(matches!(
            rows[0][col("出勤次数")],
            Data::Float(_) | Data::Int(_)
        ));
        assert!(matches!(rows[0][col("出勤率")], Data::Float(_)));
        assert_eq!(rows[0][col("手机号")], Data::String(PEOPLE[1].phone.into()));

        // A head teacher's page and export: their class's parent only.
        let head = login(&app, "head_a1").await;
        let names: Vec<String> = table_rows(&get(&head, &base).await.1, "trainees")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(names, [PEOPLE[0].name]);
        let (st, _, bytes) =
            get_bytes(&head, &app.url(&format!("/ps/schools/{a}/trainees.xlsx"))).await;
        assert_eq!(st, StatusCode::OK);
        let (_, rows) = sheet(bytes);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0], Data::String(PEOPLE[0].name.into()));
        // Another school's admin: 404, page and file.
        let other = login(&app, "admin_b").await;
        assert_eq!(get(&other, &base).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            get(&other, &app.url(&format!("/ps/schools/{a}/trainees.xlsx")))
                .await
                .0,
            StatusCode::NOT_FOUND
        );
    }
);

/// A roster of `n` pupils in 三年级 1班/2班, girls at even numbers, each with a parent.
fn roster(n: usize) -> String {
    let mut s = String::from("学号,姓名,性别,年级,班级,家长姓名,与学生关系,联系电话\n");
    let given = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    for i in 0..n {
        s.push_str(&format!(
            "S{i:03},学生{}{},{},三年级,{}班,家长{}{},父亲,139{:08}\n",
            given[i / 10 % 10],
            given[i % 10],
            if i % 2 == 0 { "女" } else { "男" },
            1 + i % 2,
            given[i / 10 % 10],
            given[i % 10],
            i
        ));
    }
    s
}

both_dbs!(
    people_list_counts_pages_filters_and_exports,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let c = county_with_schools(&app.db, &["甲小学"]).await;
        let school = c.schools[0];
        staff_account(&app.db, "admin", Role::SchoolAdmin, school).await;
        import_roster(&app.db, school, &roster(60)).await;
        let admin = login(&app, "admin").await;
        let (st, html) = get(&admin, &app.url("/people?kind=pupils")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("共 60 条，当前第 1–50 条"), "{html}");
        assert_eq!(table_rows(&html, "people").len(), 50);
        // Numbered pages, each keeping the kind.
        assert!(
            html.contains("href=\"/people?kind=pupils&#38;page=2\""),
            "{html}"
        );
        let (_, html) = get(&admin, &app.url("/people?kind=pupils&page=2")).await;
        assert!(html.contains("共 60 条，当前第 51–60 条"), "{html}");
        assert_eq!(table_rows(&html, "people").len(), 10);
        let (_, html) = get(&admin, &app.url("/people?kind=pupils&size=20&page=3")).await;
        assert!(html.contains("当前第 41–60 条"), "{html}");
        // Sort by student number, descending: S059 first.
        let (_, html) = get(
            &admin,
            &app.url("/people?kind=pupils&sort=student_no&dir=desc"),
        )
        .await;
        assert_eq!(table_rows(&html, "people")[0][0], "S059");
        // Filter by gender, and by class through the unit filter.
        let (_, html) = get(&admin, &app.url("/people?kind=pupils&gender=f")).await;
        assert!(html.contains("共 30 条"), "{html}");
        let classes = jiaxiao_store::org::units_under(
            &app.db,
            &jiaxiao_store::Scope::system(),
            school,
            jiaxiao_domain::UnitKind::Class,
            &jiaxiao_store::today(),
        )
        .await
        .unwrap();
        let class1 = classes
            .iter()
            .find(|u| u.class_number == Some(1))
            .unwrap()
            .id;
        let (_, html) = get(
            &admin,
            &app.url(&format!("/people?kind=pupils&under={class1}&gender=f")),
        )
        .await;
        assert!(
            html.contains("共 30 条"),
            "class 1 holds the even numbers: {html}"
        );
        let (_, html) = get(
            &admin,
            &app.url(&format!("/people?kind=pupils&under={class1}&gender=m")),
        )
        .await;
        assert!(html.contains("共 0 条"), "{html}");
        // A phone finds the child; the guardians list counts and filters by account.
        let (_, html) = get(&admin, &app.url("/people?kind=pupils&q=13900000007")).await;
        let rows = table_rows(&html, "people");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0], "S007");
        let (_, html) = get(&admin, &app.url("/people?kind=guardians&account=0")).await;
        assert!(html.contains("共 60 条"), "{html}");
        let (_, html) = get(&admin, &app.url("/people?kind=guardians&account=1")).await;
        assert!(html.contains("共 0 条"), "{html}");

        // The export: every filtered row, not only the page; text stays text.
        let (st, _, bytes) = get_bytes(
            &admin,
            &app.url("/people.xlsx?kind=pupils&gender=f&size=20"),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let (header, rows) = sheet(bytes);
        assert_eq!(header[0], "学号");
        assert_eq!(rows.len(), 30);
        assert!(rows.iter().all(|r| r[2] == Data::String("女".into())));
        let (_, _, bytes) = get_bytes(&admin, &app.url("/people.xlsx?kind=guardians")).await;
        let (header, rows) = sheet(bytes);
        assert_eq!(rows.len(), 60);
        let phone = header.iter().position(|h| h == "手机号").unwrap();
        assert!(
            rows.iter()
                .any(|r| r[phone] == Data::String("13900000007".into()))
        );
        // A bad page or size is the first page, not an error.
        let (st, html) = get(&admin, &app.url("/people?kind=pupils&page=x&size=7")).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("当前第 1–50 条"), "{html}");
    }
);

both_dbs!(
    head_teachers_people_export_holds_their_class_only,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let _w = personal_data_world(&app.db).await;
        let head = login(&app, "head_a1").await;
        let (_, _, bytes) = get_bytes(&head, &app.url("/people.xlsx?kind=guardians")).await;
        let (_, rows) = sheet(bytes);
        let names: Vec<String> = rows.iter().map(|r| r[0].to_string()).collect();
        assert_eq!(names, [PEOPLE[0].name]);
        let (_, _, bytes) = get_bytes(&head, &app.url("/people.xlsx?kind=pupils")).await;
        let (_, rows) = sheet(bytes);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][1], Data::String(PEOPLE[0].child.unwrap().into()));
    }
);

both_dbs!(
    sessions_list_filters_by_form_status_and_date,
    |t: TestDb| async move {
        let app = TestApp::spawn(t).await;
        let w = personal_data_world(&app.db).await;
        let a = w.tree.school_a;
        let admin = login(&app, "admin_a").await;
        let base = app.url(&format!("/ps/schools/{a}/sessions"));
        let (st, html) = get(&admin, &base).await;
        assert_eq!(st, StatusCode::OK);
        let all = table_rows(&html, "sessions").len();
        assert!(all >= 2, "{html}");
        // The status is a badge coloured by what it says.
        assert!(
            html.contains("<td class=\"status\"><span class=\"badge badge-ok\">已开课</span></td>"),
            "{html}"
        );
        // Held sessions only; planned ones only (none in the fixture).
        let held = table_rows(
            &get(&admin, &format!("{base}?status=held")).await.1,
            "sessions",
        );
        assert_eq!(held.len(), all);
        let (_, html) = get(&admin, &format!("{base}?status=planned")).await;
        assert!(table_rows(&html, "sessions").is_empty());
        assert!(html.contains("没有符合条件的记录"));
        // A date range: every session of the fixture lies before tomorrow.
        let tomorrow = jiaxiao_store::org::today_date() + chrono::Duration::days(1);
        let (_, html) = get(&admin, &format!("{base}?from={tomorrow}")).await;
        assert!(table_rows(&html, "sessions").is_empty(), "{html}");
        let (_, html) = get(&admin, &format!("{base}?to={tomorrow}")).await;
        assert_eq!(table_rows(&html, "sessions").len(), all);
        assert!(
            html.contains(&format!("value=\"{tomorrow}\"")),
            "the date is kept"
        );
        // Search by title; the export follows.
        let (_, html) = get(&admin, &format!("{base}?form=lecture")).await;
        assert_eq!(table_rows(&html, "sessions").len(), all);
        let (st, _, bytes) = get_bytes(
            &admin,
            &app.url(&format!("/ps/schools/{a}/sessions.xlsx?status=held")),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let (header, rows) = sheet(bytes);
        assert_eq!(rows.len(), all);
        assert_eq!(header[0], "日期时间");
        // The date is a date cell.
        assert!(
            matches!(rows[0][0], Data::DateTime(_) | Data::Float(_)),
            "{:?}",
            rows[0][0]
        );
    }
);
