//! TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps, ±1 step) with a replay guard, recovery codes
//! and the enrolment QR code.

use base64::Engine;
use plenum_domain::Username;
use qrcode::QrCode;
use qrcode::render::svg;
use rand::Rng;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Shown as the account's issuer in authenticator apps.
pub const ISSUER: &str = "Plenum";
/// Seconds per step.
pub const STEP: u64 = 30;
/// How many recovery codes are issued at enrolment.
pub const RECOVERY_CODES: usize = 10;

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRejected {
    /// Not a valid code for this secret within ±1 step.
    Invalid,
    /// Valid, but its time step was used already.
    Replayed,
}

/// A generator for the user's secret.
pub fn totp_for(secret: &[u8], account: &Username) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP)
        .with_secret(Secret::from(secret.to_vec()))
        .with_issuer(Some(ISSUER))
        .with_account_name(account.as_str())
        .build()
        .ok()
}

/// A new random 160-bit secret.
pub fn generate_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; 20];
    rand::thread_rng().fill(&mut bytes[..]);
    bytes
}

/// The secret in the Base32 form people type into authenticator apps.
pub fn secret_base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// Checks `code` at `now` (Unix seconds) against every step in ±1; returns the matched step if
/// it is newer than `last_step`. The caller must still record the step with a conditional
/// update (the store's `accept_step`) so that two parallel requests cannot both pass.
pub fn check_code(totp: &Totp, code: &str, now: u64, last_step: u64) -> Result<u64, CodeRejected> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(CodeRejected::Invalid);
    }
    match totp.check(&code, now) {
        Some(step) if step > last_step => Ok(step),
        Some(_) => Err(CodeRejected::Replayed),
        None => Err(CodeRejected::Invalid),
    }
}

/// The enrolment QR code as an SVG data URI (shown by the web app, no inline script needed).
pub fn qr_svg_data_uri(otpauth_uri: &str) -> Option<String> {
    let code = QrCode::new(otpauth_uri.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(image)
    ))
}

/// Ten recovery codes like `K7Q2-M9XD-4TPA` (about 60 bits each).
pub fn generate_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: Vec<char> = (0..12)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            chars
                .chunks(4)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// The stored form of a recovery code: SHA-256 of its normalised text (upper case, no dashes
/// or spaces). The codes carry enough entropy that a fast hash is sound, and guesses are
/// rate-limited.
pub fn hash_recovery_code(code: &str) -> String {
    let normalised: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totp() -> Totp {
        // RFC 6238 test secret.
        totp_for(b"12345678901234567890", &Username::parse("anna").unwrap()).unwrap()
    }

    #[test]
    fn accepts_the_current_and_neighbouring_steps_only() {
        let t = totp();
        let now = 1_700_000_000u64;
        let step = now / STEP;
        for offset in [-1i64, 0, 1] {
            let at = (now as i64 + offset * STEP as i64) as u64;
            let code = t.generate(at).to_string();
            assert_eq!(check_code(&t, &code, now, 0), Ok((at / STEP).max(step - 1)));
        }
        for offset in [-3i64, -2, 2, 3] {
            let at = (now as i64 + offset * STEP as i64) as u64;
            let code = t.generate(at).to_string();
            assert_eq!(
                check_code(&t, &code, now, 0),
                Err(CodeRejected::Invalid),
                "{offset}"
            );
        }
    }

    #[test]
    fn a_used_step_is_a_replay() {
        let t = totp();
        let now = 1_700_000_000u64;
        let code = t.generate(now).to_string();
        let step = check_code(&t, &code, now, 0).unwrap();
        assert_eq!(
            check_code(&t, &code, now, step),
            Err(CodeRejected::Replayed)
        );
        assert_eq!(
            check_code(&t, &code, now + 10, step),
            Err(CodeRejected::Replayed)
        );
        let next = t.generate(now + STEP).to_string();
        assert_eq!(check_code(&t, &next, now + STEP, step), Ok(step + 1));
    }

    #[test]
    fn garbage_is_invalid() {
        let t = totp();
        for code in ["", "12345", "1234567", "abcdef", "12 34 5x"] {
            assert_eq!(
                check_code(&t, code, 1_700_000_000, 0),
                Err(CodeRejected::Invalid)
            );
        }
        let code = t.generate(1_700_000_000).to_string();
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(
            check_code(&t, &spaced, 1_700_000_000, 0).is_ok(),
            "spaces are ignored"
        );
    }

    #[test]
    fn matches_the_rfc_6238_vector() {
        // RFC 6238 appendix B: T = 59 s, SHA-1 → 94287082 (8 digits); 6 digits: 287082.
        assert_eq!(totp().generate(59).to_string(), "287082");
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_normalised() {
        let codes = generate_recovery_codes();
        assert_eq!(codes.len(), 10);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        let code = &codes[0];
        assert_eq!(code.len(), 14);
        assert_eq!(
            hash_recovery_code(code),
            hash_recovery_code(&code.to_lowercase().replace('-', " "))
        );
    }

    #[test]
    fn the_qr_code_is_an_svg_data_uri() {
        let uri = totp().to_url().unwrap();
        assert!(uri.starts_with("otpauth://totp/Plenum:anna?"));
        assert!(
            qr_svg_data_uri(&uri)
                .unwrap()
                .starts_with("data:image/svg+xml;base64,")
        );
    }
}
