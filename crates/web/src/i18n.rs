//! Translation lookup for templates: zh-CN first, English second. The language comes
//! from the `lang` cookie (set by the switch in the header).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn from_cookie(v: Option<&str>) -> Lang {
        match v {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn html_lang(self) -> &'static str {
        self.code()
    }

    pub fn other(self) -> &'static str {
        match self {
            Lang::Zh => "en",
            Lang::En => "zh",
        }
    }

    /// The text for `key`, or the key itself when missing (a test checks none is).
    pub fn t(&self, key: &str) -> String {
        rust_i18n::t!(key, locale = self.code()).into_owned()
    }

    /// The text of the first key that has one: reason codes come from several areas
    /// (`reason.*` of rosters and accounts, `input.*` of the text rules), and a code is
    /// named by whichever area knows it.
    pub fn t_first(&self, keys: &[String]) -> Option<String> {
        keys.iter().find_map(|k| {
            let text = self.t(k);
            (text != *k).then_some(text)
        })
    }

    /// A refusal's reason code as a sentence: the roster's and accounts' `reason.*`, then
    /// the text rules' `input.*`, else the general "invalid" message.
    pub fn reason(&self, code: &str) -> String {
        self.t_first(&[format!("reason.{code}"), format!("input.{code}")])
            .unwrap_or_else(|| self.t("error.invalid"))
    }

    /// A school year's stored name ("2026-2027学年", the key it is filed under) in this
    /// language: "School year 2026-2027" in English.
    pub fn year(&self, name: &str) -> String {
        match name.strip_suffix("学年") {
            Some(years) => self.tf("years.name", [("years", years.to_owned())]),
            None => name.to_owned(),
        }
    }

    /// A count in words: the `{key}_one` text when `n` is 1 (English "1 reflection"),
    /// the key's own otherwise ("2 reflections"), `%{n}` filled. Chinese has one form,
    /// written under both keys.
    pub fn tn(&self, key: &str, n: impl std::fmt::Display) -> String {
        let n = n.to_string();
        let key = if n == "1" {
            format!("{key}_one")
        } else {
            key.to_owned()
        };
        self.tf(&key, [("n", n)])
    }

    /// `t` with `%{name}` placeholders filled.
    /// Takes any slice-like list so templates (which add a `&`) and code both call it.
    pub fn tf<'a, A: AsRef<[(&'a str, String)]>>(&self, key: &str, args: A) -> String {
        let mut s = self.t(key);
        for (k, v) in args.as_ref() {
            s = s.replace(&format!("%{{{k}}}"), v);
        }
        s
    }
}

/// A UTC time as schools read it (Beijing time, no zone shown): `2026-03-05 19:02`.
pub fn local_time(t: chrono::DateTime<chrono::Utc>) -> String {
    (t + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Only the clock: `19:02`.
pub fn local_clock(t: chrono::DateTime<chrono::Utc>) -> String {
    (t + chrono::Duration::hours(8)).format("%H:%M").to_string()
}

/// A rate 0–1 as a percentage with one decimal: `87.5%`.
pub fn percent(r: f64) -> String {
    format!("{:.1}%", r * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_exists_in_both_languages() {
        let zh = include_str!("../locales/zh-CN.yml");
        let en = include_str!("../locales/en.yml");
        // Full dotted paths of the leaves, at any depth (two spaces per level).
        let keys = |s: &str| -> Vec<String> {
            let mut out = Vec::new();
            let mut path: Vec<String> = Vec::new();
            for line in s.lines() {
                if line.trim().is_empty() || line.trim_start().starts_with('#') {
                    continue;
                }
                let depth = (line.len() - line.trim_start().len()) / 2;
                let (k, rest) = line.trim().split_once(':').unwrap_or((line.trim(), ""));
                path.truncate(depth);
                path.push(k.trim_matches('"').to_owned());
                if !rest.trim().is_empty() {
                    out.push(path.join("."));
                }
            }
            out
        };
        let (kz, ke) = (keys(zh), keys(en));
        assert_eq!(
            kz, ke,
            "zh-CN and en must have the same keys in the same order"
        );
        for k in &kz {
            assert_ne!(Lang::Zh.t(k), *k, "missing zh-CN text for {k}");
            assert_ne!(Lang::En.t(k), *k, "missing en text for {k}");
        }
    }

    #[test]
    fn counts_and_school_years_in_words() {
        let r = "ps.excellence.reflections";
        assert_eq!(Lang::En.tn(r, 1), "1 reflection");
        assert_eq!(Lang::En.tn(r, 2), "2 reflections");
        assert_eq!(Lang::En.tn(r, 0), "0 reflections");
        assert_eq!(Lang::Zh.tn(r, 1), "心得1篇");
        assert_eq!(Lang::En.tn("ps.sheet.parents", 1usize), "1 parent");
        assert_eq!(Lang::En.year("2026-2027学年"), "School year 2026-2027");
        assert_eq!(Lang::Zh.year("2026-2027学年"), "2026-2027学年");
    }
}
