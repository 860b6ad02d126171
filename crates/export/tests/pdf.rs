//! The PDF renderers end to end: each output parses, has the pages it should, embeds a
//! CJK font, and prints hostile user text literally.

mod samples;

use jiaxiao_export::pdf::{self, PdfError};
use lopdf::{Document, Object};

fn parse(bytes: &[u8]) -> Document {
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    Document::load_mem(bytes).expect("PDF parses")
}

fn pages(doc: &Document) -> usize {
    doc.get_pages().len()
}

/// BaseFont names of the embedded fonts, e.g. "ABCDEF+NotoSansCJKsc-Regular".
fn font_names(doc: &Document) -> Vec<String> {
    doc.objects
        .values()
        .filter_map(|o| match o {
            Object::Dictionary(d) => d.get(b"BaseFont").ok(),
            _ => None,
        })
        .filter_map(|n| n.as_name().ok())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect()
}

fn assert_noto(doc: &Document, family: &str) {
    let names = font_names(doc);
    assert!(
        names.iter().any(|n| n.contains(family)),
        "no {family} font among {names:?}"
    );
}

/// The page text with all whitespace removed: typst may break lines anywhere.
fn text(doc: &Document) -> String {
    let numbers: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&numbers)
        .expect("text extracts")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// What the hostile string should print as: bidi controls are dropped.
fn squeeze(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202e}')
        .collect()
}

#[test]
fn signin_sheet_spans_pages_with_a_cjk_font() {
    let sheet = samples::signin(80);
    let doc = parse(&pdf::signin_sheet(&sheet).unwrap());
    // 80 rows of 12 mm cannot fit on fewer than four A4 pages.
    assert!(pages(&doc) >= 4, "{} pages", pages(&doc));
    assert_noto(&doc, "NotoSansCJK");
    let text = text(&doc);
    assert!(text.contains("S-7F3K2Q"));
    assert!(text.contains(&sheet.rows[79].child));
    // The header row is repeated on the last page.
    let last = *doc.get_pages().keys().last().unwrap();
    assert!(doc.extract_text(&[last]).unwrap().contains("家长姓名"));
}

#[test]
fn one_certificate_per_page_in_a_serif_font() {
    let seal = samples::seal_png();
    let certs: Vec<_> = (0..3)
        .map(|i| samples::certificate(&samples::name(i), i + 1, Some(seal.clone())))
        .collect();
    let doc = parse(&pdf::certificates(&certs).unwrap());
    assert_eq!(pages(&doc), 3);
    assert_noto(&doc, "NotoSerifCJK");
    // The same seal on every page is embedded once.
    let images = doc
        .objects
        .values()
        .filter(|o| {
            o.as_stream().is_ok_and(|s| {
                s.dict.get(b"Subtype").and_then(|t| t.as_name()).ok() == Some(b"Image")
            })
        })
        .filter(|o| o.as_stream().unwrap().dict.get(b"SMask").is_ok())
        .count();
    assert_eq!(images, 1);
}

#[test]
fn a_certificate_without_a_seal_renders() {
    let doc = parse(&pdf::certificates(&[samples::certificate("李丽", 7, None)]).unwrap());
    assert_eq!(pages(&doc), 1);
    assert!(text(&doc).contains("JX2026-0007"));
}

#[test]
fn a_seal_that_is_not_an_image_is_refused() {
    let cert = samples::certificate("李丽", 7, Some(b"GIF89a...".to_vec()));
    assert!(matches!(
        pdf::certificates(&[cert]),
        Err(PdfError::Image(_))
    ));
}

#[test]
fn dossier_has_cover_contents_and_sections_and_reports_progress() {
    let model = samples::dossier(3, 40, 2);
    let mut calls = Vec::new();
    let doc = parse(&pdf::dossier(&model, &mut |done, total| calls.push((done, total))).unwrap());
    // Cover, contents, and each session on a page of its own at least.
    assert!(pages(&doc) >= 5, "{} pages", pages(&doc));
    assert_noto(&doc, "NotoSerifCJK");
    assert_noto(&doc, "NotoSansCJK");
    assert_eq!(calls, vec![(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]);
    let text = text(&doc);
    assert!(text.contains("第3讲"));
    assert!(text.contains(&samples::name(39)));
}

#[test]
fn a_long_dossier_is_joined_from_parts_with_running_numbers() {
    // 21 sessions and a table of 600 rows × 8 are more than one part holds (pdf.rs: 20
    // sessions, 4,000 cells), so this file is joined from at least three.
    let mut model = samples::dossier(21, 6, 0);
    model.tables.push(pdf::DossierTable {
        title: "学员学时".into(),
        note: String::new(),
        headers: (1..=8).map(|c| format!("列{c}")).collect(),
        rows: (0..600)
            .map(|r| {
                (0..8)
                    .map(|c| {
                        if c == 0 {
                            format!("第{r}行")
                        } else {
                            (r * c).to_string()
                        }
                    })
                    .collect()
            })
            .collect(),
    });
    let doc = parse(&pdf::dossier(&model, &mut |_, _| {}).unwrap());
    let numbers: Vec<u32> = doc.get_pages().keys().copied().collect();
    let page_text = |n: u32| -> String {
        doc.extract_text(&[n])
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    };
    // The cover is not numbered; every other page says where it is in the whole file.
    let total = numbers.len() - 1;
    let texts: Vec<String> = numbers.iter().map(|&n| page_text(n)).collect();
    for (i, t) in texts.iter().enumerate().skip(1) {
        assert!(t.contains(&format!("第{i}页/共{total}页")), "page {i}: {t}");
    }
    // The contents and the bookmarks send each heading to the page that has it.
    let headings: Vec<String> = model
        .sessions
        .iter()
        .map(|s| s.title.clone())
        .chain(model.tables.iter().map(|t| t.title.clone()))
        .enumerate()
        .map(|(i, t)| squeeze(&format!("{}.{t}", i + 1)))
        .collect();
    let toc = doc.get_toc().unwrap();
    assert_eq!(toc.toc.len(), headings.len());
    for (i, (h, entry)) in headings.iter().zip(&toc.toc).enumerate() {
        assert_eq!(&squeeze(&entry.title), h);
        let page = entry.page;
        assert!(texts[page - 1].contains(h.as_str()), "{h} on page {page}");
        // "1.第1讲：…………3": the contents number the pages after the cover.
        let contents = texts[1..3].concat();
        let after = &contents[contents.find(h.as_str()).expect("in the contents") + h.len()..];
        // The number runs into the next line's "2." or the footer's "第…页".
        let rest = after.trim_start_matches('.');
        let page = page - 1;
        assert!(
            rest.starts_with(&format!("{page}{}.", i + 2))
                || rest.starts_with(&format!("{page}第")),
            "{h} in the contents: {}",
            rest.chars().take(12).collect::<String>()
        );
    }
    // The long table: every row once, its heading once, its header on every page of it.
    let all = texts.concat();
    for r in [0, 299, 300, 599] {
        assert_eq!(all.matches(&format!("第{r}行")).count(), 1, "row {r}");
    }
    assert_eq!(
        all.matches("学员学时").count(),
        2,
        "the heading and its contents line"
    );
    let has_row = |t: &str| {
        let chars: Vec<char> = t.chars().collect();
        chars
            .windows(2)
            .any(|w| w[0].is_ascii_digit() && w[1] == '行')
    };
    let table_pages = texts.iter().filter(|t| has_row(t)).count();
    assert!(table_pages >= 10, "{table_pages} pages of rows");
    assert_eq!(
        texts.iter().filter(|t| t.contains("列1列2列3")).count(),
        table_pages
    );
}

#[test]
fn a_session_whose_names_are_elsewhere_says_so() {
    let mut model = samples::dossier(2, 3, 0);
    model.sessions[1].attendees.clear();
    model.sessions[1].attendees_elsewhere = true;
    let text = text(&parse(&pdf::dossier(&model, &mut |_, _| {}).unwrap()));
    assert_eq!(
        text.matches(&squeeze(&model.labels.attendees_elsewhere))
            .count(),
        1
    );
    assert_eq!(text.matches(&squeeze(&model.labels.attendees)).count(), 1);
}

#[test]
fn run_sheet_renders_on_one_page() {
    let sheet = samples::run_sheet();
    let doc = parse(&pdf::run_sheet(&sheet).unwrap());
    assert_eq!(pages(&doc), 1);
    assert_noto(&doc, "NotoSansCJK");
    assert!(text(&doc).contains("安全巡查"));
}

#[test]
fn hostile_text_is_printed_as_typed() {
    let h = samples::HOSTILE;
    let mut sheet = samples::signin(2);
    sheet.school = h.into();
    sheet.session_title = h.into();
    sheet.sheet_code = h.into();
    sheet.rows[0].parent = h.into();
    sheet.labels.parent = h.into();
    let doc = parse(&pdf::signin_sheet(&sheet).unwrap());
    assert!(text(&doc).contains(&squeeze(h)));

    let mut cert = samples::certificate(h, 1, None);
    cert.body = vec![h.into()];
    cert.labels.number = h.into();
    let doc = parse(&pdf::certificates(&[cert]).unwrap());
    assert_eq!(pages(&doc), 1);
    let printed = text(&doc);
    assert!(printed.contains(&squeeze(h)));
    // A right-to-left override in the name must not reverse what follows it.
    assert!(printed.contains("家长："), "{printed}");

    let mut model = samples::dossier(1, 3, 0);
    model.title = h.into();
    model.sessions[0].title = h.into();
    model.sessions[0].lesson_plan = h.into();
    model.sessions[0].attendees[1] = h.into();
    model.labels.none = h.into();
    let doc = parse(&pdf::dossier(&model, &mut |_, _| {}).unwrap());
    assert!(text(&doc).contains(&squeeze(h)));

    let mut run = samples::run_sheet();
    run.theme = h.into();
    run.venue_notes = h.into();
    run.duties[0].person = h.into();
    let doc = parse(&pdf::run_sheet(&run).unwrap());
    assert!(text(&doc).contains(&squeeze(h)));
}

#[test]
fn dossier_carries_the_ledgers_tables() {
    let model = samples::dossier(1, 5, 0);
    let doc = parse(&pdf::dossier(&model, &mut |_, _| {}).unwrap());
    let text = text(&doc);
    for t in &model.tables {
        assert!(
            text.contains(&squeeze(&t.title)),
            "{} in the dossier",
            t.title
        );
    }
    assert!(text.contains("家长学校领导小组组长张校长"));
    assert!(text.contains("公示期：2026-06-01至2026-06-05"));
    assert!(text.contains(&samples::name(29)));
}

#[test]
fn excellence_notice_prints_the_list_period_and_objections() {
    let notice = samples::notice();
    let doc = parse(&pdf::excellence_notice(&notice).unwrap());
    assert_eq!(pages(&doc), 1);
    assert_noto(&doc, "NotoSerifCJK");
    let text = text(&doc);
    for p in notice.intro.iter().chain(&notice.closing) {
        assert!(text.contains(&squeeze(p)), "{p} in {text}");
    }
    assert!(text.contains(&squeeze(&notice.title)));
    assert!(text.contains(&format!("12{}", samples::name(11))));
    assert!(text.contains("西安市碑林区实验小学家长学校2026年6月1日"));
}
