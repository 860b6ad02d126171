//! Search keys for Chinese names: staff look people up by the characters, by full
//! pinyin ("zhangwei") or by initials ("zw"), so both keys are stored beside the name.

use pinyin::ToPinyin;

/// Full pinyin without tones and spaces, lower case; non-Chinese characters kept as typed.
pub fn full_pinyin(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 3);
    for (c, p) in name.chars().zip(name.to_pinyin()) {
        match p {
            Some(p) => out.push_str(p.plain()),
            None if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            None => {}
        }
    }
    out
}

/// First letter of each syllable: "张伟" → "zw".
pub fn initials(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (c, p) in name.chars().zip(name.to_pinyin()) {
        match p {
            Some(p) => out.push_str(p.first_letter()),
            None if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            None => {}
        }
    }
    out
}

/// What typed pinyin is compared with the stored keys as: lower case, without the spaces,
/// apostrophes and hyphens people type between syllables ("wang xiao ming", "Xi'an").
pub fn query_key(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\'' | '’' | '-' | '.' | '·'))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_pinyin_meets_the_stored_keys() {
        for typed in [
            "wang xiao ming",
            "Wang Xiaoming",
            "wangxiaoming",
            " wang-xiao-ming ",
        ] {
            assert_eq!(query_key(typed), full_pinyin("王小明"), "{typed}");
        }
        assert_eq!(query_key("W X M"), initials("王小明"));
        assert_eq!(query_key("王 小明"), "王小明");
    }

    #[test]
    fn pinyin_keys() {
        assert_eq!(full_pinyin("张伟"), "zhangwei");
        assert_eq!(initials("张伟"), "zw");
        assert_eq!(full_pinyin("李 娜A"), "linaa");
        assert_eq!(initials("欧阳修"), "oyx");
    }
}
