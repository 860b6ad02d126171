//! Rules for text people type into forms: a maximum length per kind of field, no
//! control characters, NUL or bidi overrides, no invisible zero-width characters in
//! names and titles, and links that are http or https only.
//!
//! Why: text typed once is shown on pages, printed on rosters and run sheets, written
//! into XLSX cells (32,767 characters at most) and PDFs for years. A bidi override
//! makes "房间01" read as something else on a printed roster, a zero-width space makes
//! two names that look alike differ, and a `javascript:` link runs script when a parent
//! taps it.

use std::fmt;

/// The kind of a field, which sets its maximum length and which characters it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A person's or a body's name (units, people, committees): one line.
    Name,
    /// A title or theme (sessions, topics, courses, activities): one line.
    Title,
    /// Any other one-line field: a place, an instructor's title or organisation, a duty.
    Line,
    /// A note of several lines: a lesson plan, a summary, a reflection, an objection.
    Note,
    /// A link (http or https only, see [`http_url`]).
    Url,
}

impl Field {
    /// Maximum length in characters (not bytes: a Chinese character counts once).
    pub const fn max_chars(self) -> usize {
        match self {
            Field::Name => 100,
            Field::Title => 200,
            Field::Line => 200,
            Field::Note => 5_000,
            Field::Url => 2_000,
        }
    }

    fn multi_line(self) -> bool {
        matches!(self, Field::Note)
    }

    fn strips_invisible(self) -> bool {
        matches!(self, Field::Name | Field::Title)
    }
}

/// Why a text was refused; `code()` is the translation key's last part and the API's
/// error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    TooLong,
    ControlChar,
    BidiOverride,
    NotHttpUrl,
}

impl TextError {
    pub const fn code(self) -> &'static str {
        match self {
            TextError::TooLong => "text_too_long",
            TextError::ControlChar => "text_control_char",
            TextError::BidiOverride => "text_bidi_override",
            TextError::NotHttpUrl => "url_not_http",
        }
    }
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for TextError {}

/// Embedding and override controls (U+202A–U+202E) and isolates (U+2066–U+2069): they
/// reorder what follows them when the text is shown.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that take no room on screen or paper: zero-width space, non-joiner and
/// joiner, word joiner, the byte-order mark, and the left-to-right / right-to-left
/// marks. In a name they only make two equal-looking names differ.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{200E}' | '\u{200F}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// The text as it is kept: trimmed, invisible characters removed from names and titles,
/// or refused when it holds a control character (a line break only in notes), NUL, a
/// bidi control, or is longer than the field allows. An empty result is the caller's
/// "missing" case, not an error here.
pub fn clean(field: Field, s: &str) -> Result<String, TextError> {
    let mut out = String::with_capacity(s.len().min(4 * field.max_chars() + 4));
    let mut n = 0usize;
    for c in s.chars() {
        if is_bidi_control(c) {
            return Err(TextError::BidiOverride);
        }
        if c.is_control() && !(field.multi_line() && matches!(c, '\n' | '\r' | '\t')) {
            return Err(TextError::ControlChar);
        }
        if field.strips_invisible() && is_invisible(c) {
            continue;
        }
        n += 1;
        // Whitespace at the ends is trimmed below, so allow a little slack here and
        // stop reading a huge input early.
        if n > field.max_chars() + 64 {
            return Err(TextError::TooLong);
        }
        out.push(c);
    }
    let t = out.trim();
    if t.chars().count() > field.max_chars() {
        return Err(TextError::TooLong);
    }
    Ok(t.to_owned())
}

/// [`clean`] for an optional field: `None` when nothing is left.
pub fn clean_opt(field: Field, s: Option<&str>) -> Result<Option<String>, TextError> {
    match s {
        None => Ok(None),
        Some(s) => clean(field, s).map(|t| (!t.is_empty()).then_some(t)),
    }
}

/// A link to keep and show: an absolute `http://` or `https://` URL with a host and no
/// whitespace. `javascript:`, `data:`, `vbscript:`, relative and scheme-relative links
/// are refused.
pub fn http_url(s: &str) -> Result<String, TextError> {
    let t = clean(Field::Url, s)?;
    if is_http_url(&t) {
        Ok(t)
    } else {
        Err(TextError::NotHttpUrl)
    }
}

/// Whether `s` may be rendered as a link (see [`http_url`]); pages ask this of stored
/// values too, so a link stored before the rule existed is shown as text.
pub fn is_http_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &s[8..]
    } else if lower.starts_with("http://") {
        &s[7..]
    } else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    // After userinfo, if any: `http://a@b` goes to b.
    let host = host.rsplit('@').next().unwrap_or("");
    !host.is_empty()
        && s.chars().count() <= Field::Url.max_chars()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_bidi_control(c))
}

/// Years a date typed into a form may fall in: anything else is a typo (20255-09-01,
/// 0202-09-01) that would sort and print wrongly for years.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Whether a calendar year is within [`YEARS`].
pub fn plausible_year(year: i32) -> bool {
    YEARS.contains(&year)
}

/// At most this many fields in one posted form: the largest real form (a class's
/// marks, a round's review) has a few hundred; more is an attack on the database's
/// bound-parameter limit or on memory.
pub const MAX_FORM_FIELDS: usize = 2_000;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    #[rstest]
    #[case(Field::Name, "  王小明 ", "王小明")]
    #[case(Field::Name, "王\u{200B}小明", "王小明")]
    #[case(Field::Name, "\u{FEFF}三年级(1)班", "三年级(1)班")]
    #[case(Field::Title, "家庭教育\u{200D}讲座", "家庭教育讲座")]
    #[case(Field::Note, "第一段\n第二段\t完", "第一段\n第二段\t完")]
    #[case(
        Field::Note,
        "👨\u{200D}👩\u{200D}👧 一家人",
        "👨\u{200D}👩\u{200D}👧 一家人"
    )]
    #[case(Field::Line, "", "")]
    fn kept(#[case] f: Field, #[case] input: &str, #[case] want: &str) {
        assert_eq!(clean(f, input).unwrap(), want);
    }

    #[rstest]
    #[case(Field::Name, "王\0小明", TextError::ControlChar)]
    #[case(Field::Title, "讲座\n第二行", TextError::ControlChar)]
    #[case(Field::Note, "铃声\u{7}", TextError::ControlChar)]
    #[case(Field::Line, "\u{1B}[31m红", TextError::ControlChar)]
    #[case(Field::Name, "张\u{202E}三", TextError::BidiOverride)]
    #[case(Field::Title, "\u{2066}标题\u{2069}", TextError::BidiOverride)]
    #[case(Field::Note, "说明\u{202A}", TextError::BidiOverride)]
    fn refused(#[case] f: Field, #[case] input: &str, #[case] want: TextError) {
        assert_eq!(clean(f, input), Err(want));
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let title = "讲".repeat(200);
        assert_eq!(clean(Field::Title, &title).unwrap(), title);
        assert_eq!(
            clean(Field::Title, &"讲".repeat(201)),
            Err(TextError::TooLong)
        );
        assert_eq!(
            clean(Field::Title, &"x".repeat(40_000)),
            Err(TextError::TooLong)
        );
        assert!(clean(Field::Note, &"记".repeat(5_000)).is_ok());
        assert_eq!(
            clean(Field::Note, &"记".repeat(5_001)),
            Err(TextError::TooLong)
        );
        // Trimmed spaces and stripped invisibles do not count.
        let padded = format!("  {}\u{200B}  ", "讲".repeat(200));
        assert_eq!(clean(Field::Title, &padded).unwrap(), "讲".repeat(200));
    }

    #[rstest]
    #[case("https://meeting.tencent.com/dm/abc", true)]
    #[case("HTTP://example.cn/x?y=1#z", true)]
    #[case("http://127.0.0.1:8080", true)]
    #[case("javascript:alert(1)", false)]
    #[case("JavaScript:alert(1)", false)]
    #[case(" javascript:alert(1)", false)]
    #[case("data:text/html,<script>alert(1)</script>", false)]
    #[case("vbscript:msgbox", false)]
    #[case("//evil.example/x", false)]
    #[case("/relative", false)]
    #[case("https://", false)]
    #[case("https:///path", false)]
    #[case("https://a b.cn", false)]
    #[case("https://host/\u{202E}fdp.exe", false)]
    #[case("ftp://files.example", false)]
    fn links(#[case] url: &str, #[case] ok: bool) {
        assert_eq!(is_http_url(url), ok, "{url}");
        assert_eq!(http_url(url).is_ok(), is_http_url(url.trim()), "{url}");
    }

    #[rstest]
    #[case(1999, false)]
    #[case(2000, true)]
    #[case(2026, true)]
    #[case(2100, true)]
    #[case(2101, false)]
    #[case(20255, false)]
    fn years(#[case] y: i32, #[case] ok: bool) {
        assert_eq!(plausible_year(y), ok);
    }

    fn fields() -> impl Strategy<Value = Field> {
        prop_oneof![
            Just(Field::Name),
            Just(Field::Title),
            Just(Field::Line),
            Just(Field::Note),
            Just(Field::Url),
        ]
    }

    proptest! {
        // Whatever comes in, what is kept is short enough and holds nothing that
        // reorders, hides or breaks the text.
        #[test]
        fn kept_text_is_always_safe(f in fields(), s in "\\PC{0,300}|[\\x00-\\x1f\u{200B}-\u{200F}\u{202A}-\u{202E}\u{2066}-\u{2069}a-z中文 ]{0,300}") {
            if let Ok(t) = clean(f, &s) {
                prop_assert!(t.chars().count() <= f.max_chars());
                prop_assert!(!t.chars().any(is_bidi_control));
                prop_assert!(!t.contains('\0'));
                prop_assert!(t == t.trim());
                if f != Field::Note {
                    prop_assert!(!t.chars().any(char::is_control));
                }
                if f == Field::Name || f == Field::Title {
                    prop_assert!(!t.chars().any(is_invisible));
                }
                // Cleaning is idempotent: a stored value passes again unchanged.
                prop_assert_eq!(clean(f, &t), Ok(t.clone()));
            }
        }

        // Ordinary text (printable, no invisibles) within the limit is kept as typed.
        #[test]
        fn ordinary_text_survives(s in "[a-zA-Z0-9一-龥（）()·，。 ]{1,100}") {
            let t = s.trim();
            prop_assert_eq!(clean(Field::Name, &s), Ok(t.to_owned()));
        }

        // No link that passes starts with anything but http(s)://.
        #[test]
        fn only_http_links_pass(s in "\\PC{0,40}") {
            if is_http_url(&s) {
                let l = s.to_ascii_lowercase();
                prop_assert!(l.starts_with("http://") || l.starts_with("https://"));
            }
        }
    }
}
