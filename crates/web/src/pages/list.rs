//! The one list component of every staff list (issue 10 item 15): search, filters that fit
//! the list, sort by column, numbered pages with a page size, the total, and the XLSX of
//! the filtered rows. A page describes its columns, filters and rows; short lists (a
//! school's trainees, a year's sessions) are filtered here in memory, long ones (pupils of
//! a county) are paged by the store and handed over one page at a time with their total.

use std::borrow::Borrow;
use std::cmp::Ordering;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::response::Response;
use chrono::NaiveDate;
use jiaxiao_export::Cell;

use crate::error::AppError;
use crate::i18n::Lang;

/// The page sizes offered; the first page of a list shows `DEFAULT_SIZE` rows.
pub const SIZES: [usize; 4] = [20, 50, 100, 200];
pub const DEFAULT_SIZE: usize = 50;
/// The most rows one XLSX carries: a county's pupils fit, a province's are refused with a
/// message asking for a narrower filter rather than building a file nobody opens.
pub const EXPORT_MAX: usize = 20_000;

/// The list's part of a query string. Keys it does not own (`year`, `kind`, filters)
/// stay in `rest`, so every link it makes keeps them.
#[derive(Clone, Debug)]
pub struct ListQuery {
    pub q: String,
    /// 1-based.
    pub page: usize,
    pub size: usize,
    pub sort: Option<String>,
    pub desc: bool,
    /// The page continues from the row with this id on the page before (`after`) or
    /// after (`before`) it: lists the store pages by keyset read no rows before it.
    pub after: Option<i64>,
    pub before: Option<i64>,
    pub rest: Vec<(String, String)>,
}

const OWN: [&str; 7] = ["q", "page", "size", "sort", "dir", "after", "before"];

impl Default for ListQuery {
    /// The first page at the default size, nothing searched, filtered or sorted.
    fn default() -> ListQuery {
        ListQuery {
            q: String::new(),
            page: 1,
            size: DEFAULT_SIZE,
            sort: None,
            desc: false,
            after: None,
            before: None,
            rest: Vec::new(),
        }
    }
}

impl ListQuery {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> ListQuery {
        let mut lq = ListQuery::default();
        for (k, v) in pairs {
            match k.as_str() {
                "q" => lq.q = v.trim().chars().take(100).collect(),
                // A page or size that does not parse is the first page at the default
                // size: a hand-edited link still shows the list.
                "page" => lq.page = v.parse().unwrap_or(1).max(1),
                "size" => {
                    lq.size = v
                        .parse()
                        .ok()
                        .filter(|s| SIZES.contains(s))
                        .unwrap_or(DEFAULT_SIZE)
                }
                "sort" if !v.is_empty() => lq.sort = Some(v),
                "dir" => lq.desc = v == "desc",
                // A cursor that does not parse is no cursor: the page is read by number.
                "after" => lq.after = v.parse().ok(),
                "before" => lq.before = v.parse().ok(),
                _ if !v.is_empty() && !lq.rest.iter().any(|(rk, _)| *rk == k) => {
                    lq.rest.push((k, v))
                }
                _ => {}
            }
        }
        lq
    }

    /// A filter's (or another kept key's) value, when given and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.rest
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A date filter's value, when it parses.
    pub fn date(&self, key: &str) -> Option<NaiveDate> {
        self.get(key)
            .and_then(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
    }

    pub fn offset(&self) -> usize {
        (self.page - 1).saturating_mul(self.size)
    }

    /// The search text, when there is one.
    pub fn search(&self) -> Option<&str> {
        (!self.q.is_empty()).then_some(self.q.as_str())
    }

    /// The query string with `changes` applied (`None` removes a key); `page` is dropped
    /// unless set, since any other change starts again at the first page.
    fn href(&self, base: &str, changes: &[(&str, Option<String>)]) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut own = vec![
            ("q", self.search().map(str::to_owned)),
            ("sort", self.sort.clone()),
            ("dir", self.desc.then(|| "desc".to_owned())),
            (
                "size",
                (self.size != DEFAULT_SIZE).then(|| self.size.to_string()),
            ),
            ("page", None),
            ("after", None),
            ("before", None),
        ];
        for (k, v) in changes {
            if let Some(slot) = own.iter_mut().find(|(ok, _)| ok == k) {
                slot.1 = v.clone();
            }
        }
        for (k, v) in &self.rest {
            match changes.iter().find(|(ck, _)| ck == k) {
                Some((_, Some(nv))) => pairs.push((k.clone(), nv.clone())),
                Some((_, None)) => {}
                None => pairs.push((k.clone(), v.clone())),
            }
        }
        for (k, v) in changes {
            if let Some(v) = v
                && !OWN.contains(k)
                && !self.rest.iter().any(|(rk, _)| rk == k)
            {
                pairs.push(((*k).to_owned(), v.clone()));
            }
        }
        for (k, v) in own {
            if let Some(v) = v {
                pairs.push((k.to_owned(), v));
            }
        }
        if pairs.is_empty() {
            base.to_owned()
        } else {
            let qs: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", urlencoding::encode(k), urlencoding::encode(v)))
                .collect();
            format!("{base}?{}", qs.join("&"))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ListQuery {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Invalid("bad_query".into()))?;
        Ok(ListQuery::from_pairs(pairs))
    }
}

/// A column: the key `?sort=` names, its heading, and whether it sorts and is a number
/// (right-aligned).
#[derive(Clone, Debug)]
pub struct Column {
    pub key: &'static str,
    pub label: String,
    pub sortable: bool,
    pub numeric: bool,
}

impl Column {
    pub fn text(key: &'static str, label: String) -> Column {
        Column {
            key,
            label,
            sortable: true,
            numeric: false,
        }
    }
    pub fn number(key: &'static str, label: String) -> Column {
        Column {
            numeric: true,
            ..Column::text(key, label)
        }
    }
    /// A column that does not sort (a phone number, a list of names).
    pub fn fixed(key: &'static str, label: String) -> Column {
        Column {
            sortable: false,
            ..Column::text(key, label)
        }
    }
}

/// A row: where its first cell links to, its cells (typed, so that the XLSX gets numbers
/// and dates), what the search box looks through (lower case), its values for the
/// choice filters, and its date for a date-range filter.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub href: Option<String>,
    pub cells: Vec<Cell>,
    pub search: String,
    pub tags: Vec<(&'static str, String)>,
    pub day: Option<NaiveDate>,
    /// A cell shown as a status badge: its index and the badge's class
    /// (`pages::badge_class` of the status code).
    pub badge: Option<(usize, &'static str)>,
}

impl Row {
    /// The search text of a row named `name`: the name, its pinyin and initials, and
    /// `more` (phone numbers, codes), so "wang xiao ming", "wxm" and a number all find it.
    pub fn search_text(name: &str, more: &[&str]) -> String {
        let mut s = format!(
            "{} {} {}",
            name.to_lowercase(),
            jiaxiao_domain::names::full_pinyin(name),
            jiaxiao_domain::names::initials(name)
        );
        for m in more {
            s.push(' ');
            s.push_str(&m.to_lowercase());
        }
        s
    }
}

/// A filter shown above the list.
#[derive(Clone, Debug)]
pub enum Filter {
    /// One value of a row's tag `key`, from `options` (value, label).
    Choice {
        key: &'static str,
        label: String,
        options: Vec<(String, String)>,
    },
    /// A range of the rows' days, `?from=` and `?to=`, both ends included.
    Dates { label: String },
}

/// A filter as the template shows it, with its current value.
pub struct FilterView {
    pub key: &'static str,
    pub label: String,
    pub options: Vec<(String, String)>,
    pub value: String,
    pub dates: bool,
    pub from: String,
    pub to: String,
}

/// One shown row: its link, its cells as text, and which cell is a badge.
pub struct RowView {
    pub href: Option<String>,
    pub cells: Vec<String>,
    pub badge: Option<(usize, &'static str)>,
}

impl RowView {
    /// The badge class of cell `i`, when it is the row's badge.
    pub fn badge_of(&self, i: impl Borrow<usize>) -> Option<&'static str> {
        self.badge
            .filter(|(at, _)| *at == *i.borrow())
            .map(|(_, class)| class)
    }
}

/// Everything `list.html` needs.
pub struct ListView {
    /// The table's id (kept from before the component: tests and links use it).
    pub id: &'static str,
    pub base: String,
    pub query: ListQuery,
    pub columns: Vec<Column>,
    pub filters: Vec<FilterView>,
    pub rows: Vec<RowView>,
    /// Rows that match the search and filters.
    pub total: usize,
    pub pages: usize,
    /// The XLSX of the filtered rows, when the list offers one.
    pub export: Option<String>,
    /// What an empty list says, with the next step (nothing searched or filtered).
    pub empty: String,
    pub link_col: usize,
    pub labels: Labels,
    /// Ids of the page's first and last rows, when the store pages this list by keyset:
    /// the previous and next links then continue from them.
    pub cursors: Option<(i64, i64)>,
}

/// The component's own words, looked up once.
pub struct Labels {
    pub search: String,
    pub search_hint: String,
    pub all: String,
    pub from: String,
    pub to: String,
    pub size: String,
    pub apply: String,
    pub clear: String,
    pub total: String,
    pub export: String,
    pub none_matching: String,
    pub pages: String,
    pub prev: String,
    pub next: String,
}

impl Labels {
    fn new(lang: Lang, search_hint: Option<String>) -> Labels {
        Labels {
            search: lang.t("list.search"),
            search_hint: search_hint.unwrap_or_else(|| lang.t("list.search_hint")),
            all: lang.t("list.all"),
            from: lang.t("list.from"),
            to: lang.t("list.to"),
            size: lang.t("list.size"),
            apply: lang.t("list.apply"),
            clear: lang.t("list.clear"),
            total: String::new(),
            export: lang.t("list.export"),
            none_matching: lang.t("list.none_matching"),
            pages: lang.t("list.pages"),
            prev: lang.t("list.prev"),
            next: lang.t("list.next"),
        }
    }
}

/// A list being described: its columns and filters, before its rows.
pub struct List {
    pub id: &'static str,
    pub base: String,
    pub columns: Vec<Column>,
    pub filters: Vec<Filter>,
    pub export: Option<String>,
    pub search_hint: Option<String>,
    pub empty: Option<String>,
    /// The cell that links to the row's page (the name, a session's title).
    pub link_col: usize,
}

impl List {
    pub fn new(id: &'static str, base: impl Into<String>, columns: Vec<Column>) -> List {
        List {
            id,
            base: base.into(),
            columns,
            filters: Vec::new(),
            export: None,
            search_hint: None,
            empty: None,
            link_col: 0,
        }
    }

    pub fn filter(mut self, f: Filter) -> List {
        self.filters.push(f);
        self
    }

    /// The list offers the XLSX of its filtered rows at `path` (with the same query).
    pub fn export(mut self, path: impl Into<String>) -> List {
        self.export = Some(path.into());
        self
    }

    /// Links the row from cell `i` instead of the first.
    pub fn link_col(mut self, i: usize) -> List {
        self.link_col = i;
        self
    }

    /// What the list says when it has no rows at all, and what to do next.
    pub fn empty(mut self, text: String) -> List {
        self.empty = Some(text);
        self
    }

    pub fn search_hint(mut self, hint: String) -> List {
        self.search_hint = Some(hint);
        self
    }

    /// The rows that match `q`'s search and filters, in its sort order: all of them, for
    /// the XLSX and for `page`.
    pub fn select(&self, q: &ListQuery, rows: Vec<Row>) -> Vec<Row> {
        let needle = q
            .search()
            .map(|s| (s.to_lowercase(), jiaxiao_domain::names::query_key(s)));
        let mut keep: Vec<Row> = rows
            .into_iter()
            .filter(|r| match &needle {
                Some((plain, key)) => {
                    r.search.contains(plain.as_str())
                        || (!key.is_empty() && r.search.contains(key.as_str()))
                }
                None => true,
            })
            .filter(|r| {
                self.filters.iter().all(|f| match f {
                    Filter::Choice { key, .. } => match q.get(key) {
                        Some(want) => r.tags.iter().any(|(k, v)| k == key && v == want),
                        None => true,
                    },
                    Filter::Dates { .. } => {
                        let from = q.date("from");
                        let to = q.date("to");
                        match r.day {
                            Some(d) => from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t),
                            None => from.is_none() && to.is_none(),
                        }
                    }
                })
            })
            .collect();
        if let Some(i) = q
            .sort
            .as_deref()
            .and_then(|s| self.columns.iter().position(|c| c.key == s && c.sortable))
        {
            // Stable: rows equal in the column keep the page's own order.
            keep.sort_by(|a, b| {
                let o = compare(a.cells.get(i), b.cells.get(i));
                if q.desc { o.reverse() } else { o }
            });
        }
        keep
    }

    /// The page of `rows` (already selected) that `q` asks for.
    pub fn page(self, lang: Lang, q: &ListQuery, selected: &[Row]) -> ListView {
        let total = selected.len();
        let shown: Vec<Row> = selected
            .iter()
            .skip(q.offset())
            .take(q.size)
            .cloned()
            .collect();
        self.paged(lang, q, shown, total)
    }

    /// A page of rows the store has already cut, with the total that match.
    pub fn paged(self, lang: Lang, q: &ListQuery, shown: Vec<Row>, total: usize) -> ListView {
        let pages = total.div_ceil(q.size).max(1);
        let mut labels = Labels::new(lang, self.search_hint);
        let first = if total == 0 { 0 } else { q.offset() + 1 };
        let last = (q.offset() + shown.len()).min(total);
        labels.total = lang.tf(
            "list.total",
            [
                ("n", total.to_string()),
                ("first", first.to_string()),
                ("last", last.to_string()),
            ],
        );
        let filters = self
            .filters
            .into_iter()
            .map(|f| match f {
                Filter::Choice {
                    key,
                    label,
                    options,
                } => FilterView {
                    key,
                    label,
                    options,
                    value: q.get(key).unwrap_or_default().to_owned(),
                    dates: false,
                    from: String::new(),
                    to: String::new(),
                },
                Filter::Dates { label } => FilterView {
                    key: "from",
                    label,
                    options: Vec::new(),
                    value: String::new(),
                    dates: true,
                    from: q.date("from").map(|d| d.to_string()).unwrap_or_default(),
                    to: q.date("to").map(|d| d.to_string()).unwrap_or_default(),
                },
            })
            .collect();
        ListView {
            id: self.id,
            base: self.base,
            query: q.clone(),
            columns: self.columns,
            filters,
            rows: shown
                .into_iter()
                .map(|r| RowView {
                    href: r.href,
                    cells: r.cells.iter().map(|c| c.to_string()).collect(),
                    badge: r.badge,
                })
                .collect(),
            total,
            pages,
            export: self.export,
            empty: self.empty.unwrap_or_else(|| lang.t("list.empty")),
            link_col: self.link_col,
            labels,
            cursors: None,
        }
    }
}

/// Numbers before text, numbers by value, text by its pinyin (so 陈 comes before 王, as a
/// Chinese register sorts), dates by date; empty cells last.
fn compare(a: Option<&Cell>, b: Option<&Cell>) -> Ordering {
    fn key(c: Option<&Cell>) -> (u8, f64, String) {
        match c {
            Some(Cell::Int(v)) => (0, *v as f64, String::new()),
            Some(Cell::Number(v) | Cell::Percent(v) | Cell::Hours(v)) => (0, *v, String::new()),
            Some(c @ (Cell::Date { .. } | Cell::DateTime { .. })) => (1, 0.0, c.to_string()),
            Some(Cell::Text(t)) if !t.is_empty() => {
                (2, 0.0, jiaxiao_domain::names::full_pinyin(t) + t)
            }
            _ => (3, 0.0, String::new()),
        }
    }
    let (ka, kb) = (key(a), key(b));
    ka.0.cmp(&kb.0)
        .then(ka.1.partial_cmp(&kb.1).unwrap_or(Ordering::Equal))
        .then_with(|| ka.2.cmp(&kb.2))
}

/// What the template asks of a list view. Askama hands method arguments over by
/// reference, hence the `Borrow`s.
impl ListView {
    pub fn page_href(&self, page: impl Borrow<usize>) -> String {
        let page = *page.borrow();
        self.query.href(
            &self.base,
            &[("page", (page > 1).then(|| page.to_string()))],
        )
    }

    /// The page numbers to link: the first, the last, and two either side of this one;
    /// `0` stands for a gap ("…").
    pub fn page_links(&self) -> Vec<usize> {
        let cur = self.query.page;
        let mut out = Vec::new();
        for p in 1..=self.pages {
            if p == 1 || p == self.pages || p.abs_diff(cur) <= 2 {
                out.push(p);
            } else if out.last() != Some(&0) {
                out.push(0);
            }
        }
        out
    }

    pub fn prev(&self) -> Option<String> {
        let page = self.query.page.checked_sub(1).filter(|p| *p >= 1)?;
        Some(match self.cursors {
            // The first page needs no cursor.
            Some((first, _)) if page > 1 => self.query.href(
                &self.base,
                &[
                    ("page", Some(page.to_string())),
                    ("before", Some(first.to_string())),
                ],
            ),
            _ => self.page_href(page),
        })
    }

    pub fn next(&self) -> Option<String> {
        let page = self.query.page + 1;
        (page <= self.pages).then(|| match self.cursors {
            Some((_, last)) => self.query.href(
                &self.base,
                &[
                    ("page", Some(page.to_string())),
                    ("after", Some(last.to_string())),
                ],
            ),
            None => self.page_href(page),
        })
    }

    /// Pages by keyset from the rows' ids (first and last shown), see `cursors`.
    pub fn keyset(mut self, ids: &[i64]) -> ListView {
        self.cursors = ids.first().zip(ids.last()).map(|(f, l)| (*f, *l));
        self
    }

    pub fn is_current(&self, page: impl Borrow<usize>) -> bool {
        *page.borrow() == self.query.page
    }

    /// Sorting by `key`: ascending first, descending on a second click.
    pub fn sort_href(&self, key: &str) -> String {
        let desc = self.query.sort.as_deref() == Some(key) && !self.query.desc;
        self.query.href(
            &self.base,
            &[
                ("sort", Some(key.to_owned())),
                ("dir", desc.then(|| "desc".to_owned())),
            ],
        )
    }

    /// `aria-sort` of a heading.
    pub fn aria_sort(&self, key: &str) -> &'static str {
        match (self.query.sort.as_deref() == Some(key), self.query.desc) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }

    pub fn sort_mark(&self, key: &str) -> &'static str {
        match self.aria_sort(key) {
            "ascending" => "▲",
            "descending" => "▼",
            _ => "",
        }
    }

    /// The export link: the same filters, search and sort, no page.
    pub fn export_href(&self) -> Option<String> {
        self.export
            .as_ref()
            .map(|path| self.query.href(path, &[("size", None)]))
    }

    /// The list without search, filters or sort (the page's own keys kept).
    pub fn clear_href(&self) -> String {
        let own_filters: Vec<&str> = self
            .filters
            .iter()
            .flat_map(|f| {
                if f.dates {
                    vec!["from", "to"]
                } else {
                    vec![f.key]
                }
            })
            .collect();
        let mut changes: Vec<(&str, Option<String>)> =
            vec![("q", None), ("sort", None), ("dir", None)];
        changes.extend(own_filters.into_iter().map(|k| (k, None)));
        self.query.href(&self.base, &changes)
    }

    /// Whether search or a filter narrows the list (the "clear" link shows then).
    pub fn narrowed(&self) -> bool {
        self.query.search().is_some()
            || self
                .filters
                .iter()
                .any(|f| !f.value.is_empty() || !f.from.is_empty() || !f.to.is_empty())
    }

    /// Kept keys the search form sends back as hidden fields (the page's own, not the
    /// filters it shows, nor the sort it keeps separately).
    pub fn hidden(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .query
            .rest
            .iter()
            .filter(|(k, _)| {
                !self
                    .filters
                    .iter()
                    .any(|f| f.key == k || (f.dates && (k == "from" || k == "to")))
            })
            .cloned()
            .collect();
        if let Some(s) = &self.query.sort {
            out.push(("sort".into(), s.clone()));
            if self.query.desc {
                out.push(("dir".into(), "desc".into()));
            }
        }
        out
    }

    /// A cell's classes: its column's key (tests and styles find a column by it) and
    /// `num` for numbers, right-aligned.
    pub fn cell_class(&self, i: impl Borrow<usize>) -> String {
        match self.columns.get(*i.borrow()) {
            Some(c) if c.numeric => format!("{} num", c.key),
            Some(c) => c.key.to_owned(),
            None => String::new(),
        }
    }

    pub fn is_link(&self, i: impl Borrow<usize>) -> bool {
        *i.borrow() == self.link_col
    }

    pub fn sizes(&self) -> [usize; 4] {
        SIZES
    }
}

/// The XLSX of a list's selected rows: a title row, its headings, its typed cells.
pub fn xlsx(
    title: &str,
    file_name: &str,
    columns: &[Column],
    rows: &[Row],
) -> Result<Response, AppError> {
    if rows.len() > EXPORT_MAX {
        return Err(AppError::Invalid("export_too_large".into()));
    }
    // Written row by row from the rows in hand, and sent from a temp file: no second
    // copy of the list as cells nor the workbook in memory.
    let err = |e: jiaxiao_export::XlsxError| AppError::Internal(e.to_string());
    let mut w = jiaxiao_export::XlsxStream::new();
    w.sheet(
        "1",
        title,
        columns.iter().map(|c| c.label.clone()).collect(),
    )
    .map_err(err)?;
    for r in rows {
        w.row(&r.cells).map_err(err)?;
    }
    let file = w.finish_to_file(None).map_err(err)?;
    let len = file
        .metadata()
        .map_err(|e| AppError::Internal(e.to_string()))?
        .len();
    Ok(super::parent_school::home::xlsx_file_response(
        crate::ledger::XlsxFile { file, len },
        file_name,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> ListQuery {
        ListQuery::from_pairs(
            s.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| {
                    (
                        k.to_owned(),
                        urlencoding::decode(&v.replace('+', " "))
                            .unwrap()
                            .into_owned(),
                    )
                })
                .collect(),
        )
    }

    fn rows() -> Vec<Row> {
        [("王小明", 3, "c1"), ("陈红", 10, "c2"), ("李雷", 7, "c1")]
            .into_iter()
            .map(|(n, h, c)| Row {
                href: None,
                cells: vec![Cell::Text(n.into()), Cell::Int(h)],
                search: Row::search_text(n, &["13800000001"]),
                tags: vec![("class", c.into())],
                day: None,
                badge: None,
            })
            .collect()
    }

    fn list() -> List {
        List::new(
            "t",
            "/x",
            vec![
                Column::text("name", "name".into()),
                Column::number("hours", "hours".into()),
            ],
        )
        .filter(Filter::Choice {
            key: "class",
            label: "class".into(),
            options: vec![],
        })
    }

    fn names(rows: &[Row]) -> Vec<String> {
        rows.iter().map(|r| r.cells[0].to_string()).collect()
    }

    #[test]
    fn search_finds_characters_spaced_pinyin_and_initials() {
        let l = list();
        assert_eq!(names(&l.select(&q("q=小明"), rows())), ["王小明"]);
        assert_eq!(names(&l.select(&q("q=wang+xiao+ming"), rows())), ["王小明"]);
        assert_eq!(names(&l.select(&q("q=CH"), rows())), ["陈红"]);
        assert_eq!(l.select(&q("q=zzz"), rows()).len(), 0);
    }

    #[test]
    fn filters_and_sorts() {
        let l = list();
        assert_eq!(names(&l.select(&q("class=c1"), rows())), ["王小明", "李雷"]);
        assert_eq!(
            names(&l.select(&q("sort=hours&dir=desc"), rows())),
            ["陈红", "李雷", "王小明"]
        );
        // Names sort by pinyin: chen, li, wang.
        assert_eq!(
            names(&l.select(&q("sort=name"), rows())),
            ["陈红", "李雷", "王小明"]
        );
        // An unknown sort key leaves the order alone.
        assert_eq!(
            names(&l.select(&q("sort=nope"), rows())),
            ["王小明", "陈红", "李雷"]
        );
    }

    #[test]
    fn links_keep_the_pages_keys_and_drop_the_page() {
        let lq = q("year=2025-2026&q=wang&page=3&size=20&class=c1&sort=hours");
        assert_eq!(lq.page, 3);
        assert_eq!(lq.size, 20);
        let href = lq.href("/x", &[("sort", Some("name".into()))]);
        assert_eq!(href, "/x?year=2025-2026&class=c1&q=wang&sort=name&size=20");
        // A bad size or page falls back rather than failing.
        let bad = q("size=7&page=x");
        assert_eq!((bad.page, bad.size), (1, DEFAULT_SIZE));
    }

    #[test]
    fn keyset_lists_link_on_from_their_first_and_last_rows() {
        let rows = |n: usize| -> Vec<Row> { (0..n).map(|_| Row::default()).collect() };
        let lq = q("q=wang&page=3&after=41&size=20");
        assert_eq!((lq.after, lq.before), (Some(41), None));
        let v = list()
            .paged(Lang::Zh, &lq, rows(20), 100)
            .keyset(&[7, 9, 12]);
        assert_eq!(v.next().unwrap(), "/x?q=wang&size=20&page=4&after=12");
        assert_eq!(v.prev().unwrap(), "/x?q=wang&size=20&page=2&before=7");
        // Page numbers jump (by offset), and any other change drops the cursor.
        assert_eq!(v.page_href(5), "/x?q=wang&size=20&page=5");
        assert_eq!(v.sort_href("name"), "/x?q=wang&sort=name&size=20");
        // Back to the first page needs no cursor; a list without keyset links by number.
        let second = list()
            .paged(Lang::Zh, &q("page=2&before=3"), rows(50), 100)
            .keyset(&[1, 2]);
        assert_eq!(second.prev().unwrap(), "/x");
        assert_eq!(second.next(), None);
        let plain = list().paged(Lang::Zh, &q("page=2"), rows(10), 100);
        assert_eq!(plain.prev().unwrap(), "/x");
        assert_eq!(q("after=x").after, None);
    }

    #[test]
    fn pages_are_numbered_with_gaps() {
        let l = list();
        let mut many = Vec::new();
        for _ in 0..100 {
            many.extend(rows());
        }
        let lq = q("page=5&size=20");
        let sel = l.select(&lq, many);
        let v = list().page(Lang::Zh, &lq, &sel);
        assert_eq!(v.total, 300);
        assert_eq!(v.pages, 15);
        assert_eq!(v.rows.len(), 20);
        assert_eq!(v.page_links(), vec![1, 0, 3, 4, 5, 6, 7, 0, 15]);
        assert_eq!(v.prev().as_deref(), Some("/x?size=20&page=4"));
        assert!(v.is_current(5));
    }
}
