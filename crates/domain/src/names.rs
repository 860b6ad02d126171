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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinyin_keys() {
        assert_eq!(full_pinyin("张伟"), "zhangwei");
        assert_eq!(initials("张伟"), "zw");
        assert_eq!(full_pinyin("李 娜A"), "linaa");
        assert_eq!(initials("欧阳修"), "oyx");
    }
}
