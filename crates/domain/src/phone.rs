//! Mainland mobile numbers as schools type them: full-width digits, spaces, dashes and
//! a +86 prefix are normalised away; anything that is not a mobile number is refused,
//! because the number is how a parent logs in and receives an invitation.

use std::fmt;

/// Serialised as the bare 11 digits.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct PhoneNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("empty")]
    Empty,
    #[error("contains characters that are not digits")]
    NotDigits,
    #[error("not an 11-digit mobile number")]
    NotMobile,
}

impl PhoneError {
    /// Stable code used to pick the translated message.
    pub fn code(&self) -> &'static str {
        match self {
            PhoneError::Empty => "phone_empty",
            PhoneError::NotDigits => "phone_not_digits",
            PhoneError::NotMobile => "phone_not_mobile",
        }
    }
}

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let mut digits = String::with_capacity(11);
        for c in raw.chars() {
            let c = match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                '＋' => '+',
                _ => c,
            };
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '\u{3000}' | '\u{a0}' | '-' | '－' | '—' | '(' | ')' | '（' | '）' | '\t' =>
                    {}
                '+' if digits.is_empty() => {}
                _ => return Err(PhoneError::NotDigits),
            }
        }
        if digits.is_empty() {
            return Err(PhoneError::Empty);
        }
        // Excel turns long numbers into floats and back: "13800000001.0" is caught above
        // as a non-digit; a leading country code is common on printed forms.
        let digits = if digits.len() == 13 && digits.starts_with("86") {
            digits[2..].to_string()
        } else {
            digits
        };
        let b = digits.as_bytes();
        if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
            Ok(PhoneNumber(digits))
        } else {
            Err(PhoneError::NotMobile)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 138****0001: what pages show to people who need to recognise, not dial, a number.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// A stored number as those who need to recognise, not dial, it see it: the first three
/// and the last four digits of a mobile (138****0001). Anything shorter than a mobile
/// keeps only its last two characters, so a malformed old row never shows whole.
pub fn mask(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let n = chars.len();
    if n >= 11 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[n - 4..].iter().collect();
        format!("{head}****{tail}")
    } else {
        let keep = n.min(2);
        let tail: String = chars[n - keep..].iter().collect();
        format!("{}{tail}", "*".repeat(n - keep))
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("13800000001", "13800000001")]
    #[case("138 0000 0001", "13800000001")]
    #[case("138-0000-0001", "13800000001")]
    #[case("１３８００００００01", "13800000001")]
    #[case("+86 138 0000 0001", "13800000001")]
    #[case("(+86)19912345678", "19912345678")]
    fn accepts_mobiles(#[case] raw: &str, #[case] want: &str) {
        assert_eq!(PhoneNumber::parse(raw).unwrap().as_str(), want);
    }

    #[rstest]
    #[case("", PhoneError::Empty)]
    #[case("029-88888888", PhoneError::NotMobile)]
    #[case("12800000001", PhoneError::NotMobile)]
    #[case("1380000000", PhoneError::NotMobile)]
    #[case("13800000001.0", PhoneError::NotDigits)]
    #[case("电话13800000001", PhoneError::NotDigits)]
    fn refuses_others(#[case] raw: &str, #[case] err: PhoneError) {
        assert_eq!(PhoneNumber::parse(raw), Err(err));
    }

    #[test]
    fn masks_middle_digits() {
        assert_eq!(
            PhoneNumber::parse("13800000001").unwrap().masked(),
            "138****0001"
        );
    }

    #[rstest]
    #[case("13800000001", "138****0001")]
    #[case("19912345678", "199****5678")]
    #[case("+8613800000001", "+86****0001")]
    #[case("12345", "***45")]
    #[case("7", "7")]
    #[case("", "")]
    fn masks_stored_numbers(#[case] raw: &str, #[case] want: &str) {
        assert_eq!(mask(raw), want);
    }

    proptest::proptest! {
        #[test]
        fn a_masked_mobile_hides_its_middle(n in 0u64..1_000_000_000u64, second in 3u8..=9) {
            let plain = format!("1{second}{n:09}");
            let m = mask(&plain);
            proptest::prop_assert_eq!(m.len(), 11);
            proptest::prop_assert_eq!(&m[..3], &plain[..3]);
            proptest::prop_assert_eq!(&m[3..7], "****");
            proptest::prop_assert_eq!(&m[7..], &plain[7..]);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_valid_mobile_survives_decoration(n in 0u64..1_000_000_000u64, second in 3u8..=9) {
            let plain = format!("1{second}{n:09}");
            let decorated = format!("{} {}-{}", &plain[..3], &plain[3..7], &plain[7..]);
            let parsed = PhoneNumber::parse(&decorated).unwrap();
            proptest::prop_assert_eq!(parsed.as_str(), plain.as_str());
        }
    }
}
