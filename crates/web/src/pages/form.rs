//! One way for every page form to be refused and to succeed (issue 9 item 10, issue 10
//! items 14 and 15): a refused form comes back with 422 on its own page, the input kept
//! and each message beside its field (`Posted`); a write that worked redirects with a
//! short-lived flash message that the next page shows once (`done`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::error::AppError;
use crate::i18n::Lang;

/// Messages shown beside the fields they are about, by field name. `form_top` is the
/// place above the form, for a message about no field in particular.
#[derive(Default)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn get(&self, field: &str) -> Option<&String> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m)
    }

    pub fn add(&mut self, field: &'static str, message: String) {
        if self.get(field).is_none() {
            self.0.push((field, message));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The message for an input rule's code (`domain::text`, the store's `Invalid` codes,
/// the roster's and accounts' reasons): the field's limit for a text that is too long.
pub fn input_message(lang: Lang, code: &str, field: jiaxiao_domain::text::Field) -> String {
    if code == jiaxiao_domain::text::TextError::TooLong.code() {
        return lang.tf("input.too_long_n", [("n", field.max_chars().to_string())]);
    }
    // The same order as the error page these messages replace: the roster's and
    // accounts' reasons name the case more closely than the general input rules.
    lang.t_first(&[
        format!("reason.{code}"),
        format!("input.{code}"),
        format!("ps.error.{code}"),
    ])
    .unwrap_or_else(|| lang.t("error.invalid"))
}

/// A message about line `line` (1-based) of a multi-line input: "第 3 行：…".
pub fn line_message(lang: Lang, line: usize, message: &str) -> String {
    lang.tf(
        "form.line",
        [("n", line.to_string()), ("message", message.to_owned())],
    )
}

/// What was posted to one of a page's forms and why it was refused, for showing the
/// page again. A page with several forms names each (`"topic"`, `"course"`); only the
/// form that was posted gets its values and messages back, the others show their
/// defaults. Templates ask `posted.val("topic", "title")`, `posted.err("topic", "title")`.
#[derive(Default)]
pub struct Posted {
    form: &'static str,
    /// The row a per-row form was about (a topic's own edit form), 0 for none.
    item: i64,
    values: Vec<(String, String)>,
    pub errors: FieldErrors,
}

/// Maps a refusal's code to the field it is about; `"*"` matches any code. Codes
/// matching nothing are shown above the form.
pub type FieldsOf = [(&'static str, &'static str)];

impl Posted {
    /// Nothing posted: every form shows its defaults.
    pub fn none() -> Posted {
        Posted::default()
    }

    /// Form `form` posted `values`, with messages still to be added.
    pub fn new(form: &'static str, values: Vec<(String, String)>) -> Posted {
        Posted {
            form,
            item: 0,
            values,
            errors: FieldErrors::default(),
        }
    }

    /// The same, about row `item` of a list with one form per row.
    pub fn about(mut self, item: i64) -> Posted {
        self.item = item;
        self
    }

    /// Whether form `form` of row `item` is the one that was posted.
    pub fn at(&self, form: &str, item: &i64) -> bool {
        self.is(form) && self.item == *item
    }

    /// Form `form` refused with `err`. `check` runs the text rules on the typed values
    /// (`Posted::check`) to put each message beside its own field; when it finds
    /// nothing, the message of `err`'s code goes beside the field `fields` names for it.
    /// Anything but a refusal of the input (not found, CSRF, an internal error) is handed
    /// back as it was: the store checks the scope before the body, so a foreign id
    /// stays 404.
    pub fn refused(
        lang: Lang,
        form: &'static str,
        values: Vec<(String, String)>,
        err: AppError,
        fields: &FieldsOf,
        check: impl FnOnce(&mut Posted),
    ) -> Result<Posted, AppError> {
        let AppError::Invalid(code) = err else {
            return Err(err);
        };
        let mut p = Posted::new(form, values);
        check(&mut p);
        if p.errors.is_empty() {
            let field = fields
                .iter()
                .find(|(c, _)| *c == code || *c == "*")
                .map_or("form_top", |(_, f)| *f);
            p.errors.add(
                field,
                input_message(lang, &code, jiaxiao_domain::text::Field::Line),
            );
        }
        Ok(p)
    }

    /// Checks `value` against the text rules of `kind` (`domain::text`) before the store
    /// sees it, so the message lands beside the right field with its limit.
    pub fn check(
        &mut self,
        lang: Lang,
        field: &'static str,
        kind: jiaxiao_domain::text::Field,
        value: &str,
    ) {
        if let Err(e) = jiaxiao_domain::text::clean(kind, value) {
            self.add(field, input_message(lang, e.code(), kind));
        }
    }

    /// Adds a message beside `field`.
    pub fn add(&mut self, field: &'static str, message: String) {
        self.errors.add(field, message);
    }

    /// These values with the messages of `other` (a refusal built without them).
    pub fn with_errors(mut self, other: Posted) -> Posted {
        self.errors = other.errors;
        self
    }

    /// What was typed, handed on to a refusal built later.
    pub fn into_values(self) -> Vec<(String, String)> {
        self.values
    }

    /// Whether form `form` is the one that was posted.
    pub fn is(&self, form: &str) -> bool {
        !self.form.is_empty() && self.form == form
    }

    /// The value typed into `field` of `form`, or "" when that form was not posted.
    pub fn val(&self, form: &str, field: &str) -> &str {
        self.val_or(form, field, "")
    }

    /// The value typed into `field` of `form`, or `default` when that form was not posted.
    pub fn val_or<'a>(&'a self, form: &str, field: &str, default: &'a str) -> &'a str {
        if !self.is(form) {
            return default;
        }
        self.values
            .iter()
            .find(|(k, _)| k == field)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether `value` was among the values posted for `field` of `form` (selects,
    /// checkboxes, radios); `default` when that form was not posted.
    pub fn chose(&self, form: &str, field: &str, value: &str, default: bool) -> bool {
        if !self.is(form) {
            return default;
        }
        self.values.iter().any(|(k, v)| k == field && v == value)
    }

    /// The message beside `field` of `form`, if that form was posted and refused there.
    pub fn err(&self, form: &str, field: &str) -> Option<&String> {
        if !self.is(form) {
            return None;
        }
        self.errors.get(field)
    }
}

/// The name/value pairs of a posted form, without the CSRF token (the page renders its
/// own), for `Posted`.
pub fn pairs(bytes: &[u8]) -> Vec<(String, String)> {
    serde_html_form::from_bytes::<Vec<(String, String)>>(bytes)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != "csrf")
        .collect()
}

/// A form as its handler reads it (`form`) and as it was typed (`raw`), for showing it
/// again. Repeated keys (multi-selects) arrive whole; at most
/// `domain::text::MAX_FORM_FIELDS` fields.
pub struct Submitted<T> {
    pub form: T,
    pub raw: Vec<(String, String)>,
}

impl<T, S> axum::extract::FromRequest<S> for Submitted<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::Invalid("bad_form".into()))?;
        let fields = bytes.iter().filter(|b| **b == b'&').count() + 1;
        if fields > jiaxiao_domain::text::MAX_FORM_FIELDS {
            return Err(AppError::Invalid("too_many_fields".into()));
        }
        let form = serde_html_form::from_bytes(&bytes)
            .map_err(|_| AppError::Invalid("bad_form".into()))?;
        Ok(Submitted {
            form,
            raw: pairs(&bytes),
        })
    }
}

/// A refused form's page: 422, so tests and proxies tell it from success.
pub fn unprocessable(html: String) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response()
}

/// The cookie carrying the message for the next page.
pub const FLASH_COOKIE: &str = "jx_flash";

/// A write that worked: 303 to `to`, and the message `flash.{key}` on the page it lands
/// on. The cookie holds only the key (no user text), lives a minute, and is cleared by
/// the first full page shown (`clear_flash`); a redirect's query string would be kept by
/// reloads, bookmarks and the back button.
pub fn done(to: &str, key: &str) -> Response {
    let mut r = axum::response::Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{FLASH_COOKIE}={key}; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
    )) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// The flash message for a cookie's key, if it is one of ours: the key only picks one
/// of our own sentences, so a forged cookie can show nothing else.
pub fn flash_text(lang: Lang, key: &str) -> Option<String> {
    if key.is_empty() || key.len() > 40 || !key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        return None;
    }
    lang.t_first(&[format!("flash.{key}")])
}

/// Clears the flash cookie once a full page has been shown with it. Fragments that
/// htmx swaps in (`HX-Request`) and redirects leave it for the page that follows.
pub async fn clear_flash(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let had = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(FLASH_COOKIE));
    let htmx = req.headers().contains_key("hx-request");
    let mut resp = next.run(req).await;
    let page = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if had && !htmx && page && !resp.status().is_redirection() {
        resp.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_static("jx_flash=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_posted_form_gets_its_values_and_messages() {
        let mut p = Posted::new("topic", vec![("title".into(), "习惯养成".into())]);
        p.add("title", "太长".into());
        assert_eq!(p.val("topic", "title"), "习惯养成");
        assert_eq!(p.val("course", "title"), "");
        assert_eq!(p.val_or("course", "title", "默认"), "默认");
        assert_eq!(p.err("topic", "title").map(String::as_str), Some("太长"));
        assert!(p.err("course", "title").is_none());
        assert!(!Posted::none().is("topic"));
    }

    #[test]
    fn refusals_land_beside_their_field_and_others_pass_through() {
        let fields: &FieldsOf = &[("bad_date", "date")];
        let p = Posted::refused(
            Lang::Zh,
            "f",
            vec![],
            AppError::Invalid("bad_date".into()),
            fields,
            |_| {},
        )
        .unwrap();
        assert!(p.err("f", "date").is_some());
        let p = Posted::refused(
            Lang::Zh,
            "f",
            vec![],
            AppError::Invalid("other".into()),
            fields,
            |_| {},
        )
        .unwrap();
        assert!(p.err("f", "form_top").is_some());
        assert!(matches!(
            Posted::refused(Lang::Zh, "f", vec![], AppError::NotFound, fields, |_| {}),
            Err(AppError::NotFound)
        ));
    }

    #[test]
    fn a_forged_flash_key_shows_nothing() {
        assert!(flash_text(Lang::Zh, "saved").is_some());
        assert!(flash_text(Lang::Zh, "<script>").is_none());
        assert!(flash_text(Lang::Zh, "no_such_message").is_none());
    }
}
