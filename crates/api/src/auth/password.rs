//! argon2id password hashing. Hashing is deliberately slow: async callers use [`hash_password`],
//! which runs on the blocking thread pool, never on the async worker threads.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash as PhcHash};
use plenum_domain::{DomainError, PasswordHash};
use rand::Rng;
use rand::distributions::Alphanumeric;

/// Shortest password we accept. Long passphrases beat complexity rules (NIST SP 800-63B).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password we accept, to bound hashing cost.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Checks the length rules; the message is safe to show.
pub fn check_password_rules(password: &str) -> Result<(), DomainError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(DomainError::InvalidValue {
            field: "password",
            reason: format!("must be at least {MIN_PASSWORD_CHARS} characters long"),
        });
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(DomainError::InvalidValue {
            field: "password",
            reason: format!("must be at most {MAX_PASSWORD_BYTES} bytes long"),
        });
    }
    Ok(())
}

/// Hashes with argon2id and a fresh random salt (CPU-bound: call from a blocking context).
pub fn hash_password_sync(password: &str) -> Result<PasswordHash, DomainError> {
    check_password_rules(password)?;
    let salt = SaltString::generate(&mut OsRng);
    let phc = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|err| DomainError::RuleViolated(format!("password hashing failed: {err}")))?;
    PasswordHash::parse(&phc.to_string())
}

/// Whether `password` matches `hash` (CPU-bound: call from a blocking context).
pub fn verify_password_sync(password: &str, hash: &PasswordHash) -> bool {
    match PhcHash::new(hash.as_str()) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// [`hash_password_sync`] on the blocking thread pool.
pub async fn hash_password(password: String) -> Result<PasswordHash, DomainError> {
    tokio::task::spawn_blocking(move || hash_password_sync(&password))
        .await
        .map_err(|err| DomainError::RuleViolated(format!("password hashing failed: {err}")))?
}

/// A random password of `len` letters and digits, for accounts created without one.
pub fn generate_password(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_the_right_password() {
        let hash = hash_password_sync("korrekt-pferd-batterie").unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(verify_password_sync("korrekt-pferd-batterie", &hash));
        assert!(!verify_password_sync("korrekt-pferd-batteriE", &hash));
    }

    #[test]
    fn salts_differ_between_hashes() {
        let a = hash_password_sync("gleiches-passwort").unwrap();
        let b = hash_password_sync("gleiches-passwort").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(hash_password_sync("kurz").is_err());
        assert!(hash_password_sync(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = generate_password(20);
        assert_eq!(a.len(), 20);
        assert_ne!(a, generate_password(20));
    }
}
