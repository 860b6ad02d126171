//! Check-in codes (签到码): six digits of TOTP (RFC 6238: HMAC-SHA1, 30-second steps)
//! from a session's secret. The projector shows the code of the current step; a phone
//! that read it a moment before the step turned may still post it, so the previous
//! step is accepted too. Codes of the last ten minutes are told apart from codes that
//! never were ("expired" against "wrong"): a photo of last week's screen and a guess
//! are different stories for the staff who read the refusals.

use totp_rs::{Algorithm, Builder, Totp};

/// Seconds one code stays on the screen.
pub const STEP: u64 = 30;
/// How far back a code still counts as "expired" rather than "wrong".
const EXPIRED_STEPS: u64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// The code of the current or the previous step.
    Valid,
    /// A code of this session from the last ten minutes.
    Expired,
    /// Not a code of this session recently (a typo, a guess, another session's code).
    Wrong,
}

/// The code generator of one session.
#[derive(Debug, Clone)]
pub struct CodeGen {
    totp: Totp,
}

impl CodeGen {
    /// From the session's secret as stored (hex of 20 random bytes); `None` when the
    /// text is not such a secret.
    pub fn from_hex(secret: &str) -> Option<CodeGen> {
        let bytes = hex_decode(secret.trim())?;
        // build() insists on ≥ 128 bits, which a stored secret always has.
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(0)
            .with_step_duration(STEP)
            .with_secret(bytes)
            .build()
            .ok()?;
        Some(CodeGen { totp })
    }

    /// The code shown at `unix` seconds.
    pub fn code_at(&self, unix: u64) -> String {
        self.totp.generate(unix).to_string()
    }

    /// Seconds until the code shown at `unix` changes.
    pub fn expires_in(unix: u64) -> u64 {
        STEP - unix % STEP
    }

    /// Judges a code typed or scanned at `unix`. Spaces are ignored, and full-width
    /// digits (from a Chinese input method) read as digits.
    pub fn check(&self, code: &str, unix: u64) -> CodeCheck {
        let Some(code) = normalise(code) else {
            return CodeCheck::Wrong;
        };
        let same = |t: u64| constant_eq(self.code_at(t).as_bytes(), code.as_bytes());
        if same(unix) || (unix >= STEP && same(unix - STEP)) {
            return CodeCheck::Valid;
        }
        for back in 2..=EXPIRED_STEPS {
            if unix < back * STEP {
                break;
            }
            if same(unix - back * STEP) {
                return CodeCheck::Expired;
            }
        }
        CodeCheck::Wrong
    }
}

fn normalise(code: &str) -> Option<String> {
    let mut out = String::with_capacity(6);
    for ch in code.chars() {
        match ch {
            '0'..='9' => out.push(ch),
            '０'..='９' => out.push(char::from(b'0' + (ch as u32 - '０' as u32) as u8)),
            ' ' | '\u{3000}' | '-' => {}
            _ => return None,
        }
    }
    (out.len() == 6).then_some(out)
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() < 32 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "3132333435363738393031323334353637383930";

    #[test]
    fn rfc_6238_vectors_hold_for_six_digits() {
        // RFC 6238 appendix B (SHA-1, secret "12345678901234567890"), last six digits.
        let g = CodeGen::from_hex(SECRET).unwrap();
        assert_eq!(g.code_at(59), "287082");
        assert_eq!(g.code_at(1_111_111_109), "081804");
        assert_eq!(g.code_at(1_234_567_890), "005924");
        assert_eq!(g.code_at(2_000_000_000), "279037");
    }

    #[test]
    fn current_and_previous_steps_are_accepted_older_ones_expire() {
        let g = CodeGen::from_hex(SECRET).unwrap();
        let t = 1_700_000_000;
        assert_eq!(g.check(&g.code_at(t), t), CodeCheck::Valid);
        assert_eq!(g.check(&g.code_at(t - STEP), t), CodeCheck::Valid);
        assert_eq!(g.check(&g.code_at(t - 2 * STEP), t), CodeCheck::Expired);
        assert_eq!(g.check(&g.code_at(t - 19 * STEP), t), CodeCheck::Expired);
        assert_eq!(g.check(&g.code_at(t + STEP), t), CodeCheck::Wrong);
        assert_eq!(g.check("12345", t), CodeCheck::Wrong);
        assert_eq!(g.check("abcdef", t), CodeCheck::Wrong);
    }

    #[test]
    fn typed_codes_are_read_leniently() {
        let g = CodeGen::from_hex(SECRET).unwrap();
        let t = 1_700_000_000;
        let code = g.code_at(t);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(g.check(&spaced, t), CodeCheck::Valid);
        let wide: String = code
            .chars()
            .map(|c| char::from_u32('０' as u32 + c.to_digit(10).unwrap()).unwrap())
            .collect();
        assert_eq!(g.check(&wide, t), CodeCheck::Valid);
    }

    #[test]
    fn bad_secrets_are_refused() {
        assert!(CodeGen::from_hex("zz").is_none());
        assert!(CodeGen::from_hex("abcd").is_none());
        assert_eq!(CodeGen::expires_in(60), 30);
        assert_eq!(CodeGen::expires_in(89), 1);
    }
}
