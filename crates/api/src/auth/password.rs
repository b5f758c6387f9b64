//! argon2id password hashing. Hashing is deliberately slow: async callers use [`hash_password`],
//! which runs on the blocking thread pool, never on the async worker threads.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash as PhcHash, Version};
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

/// Work memory of finished argon2 runs (19 MiB each with the default parameters), kept for the
/// next run: at most one per hashing slot. Allocating it afresh for every login left the
/// allocator holding hundreds of MiB after a burst of logins (one heap per worker thread).
static SPARE_MEMORY: std::sync::Mutex<Vec<Vec<Block>>> = std::sync::Mutex::new(Vec::new());

/// Runs `work` on `blocks` blocks of argon2 work memory, zeroed afterwards and kept for the
/// next run.
fn with_work_memory<T>(blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    let mut memory = SPARE_MEMORY
        .lock()
        .ok()
        .and_then(|mut spare| spare.pop())
        .unwrap_or_default();
    memory.resize(blocks, Block::default());
    let result = work(&mut memory);
    // What a password's derivation left behind does not outlive the check.
    memory.fill(Block::default());
    if let Ok(mut spare) = SPARE_MEMORY.lock()
        && spare.len() < hashing_slots_total()
    {
        spare.push(memory);
    }
    result
}

/// Hashes with argon2id and a fresh random salt (CPU-bound: call from a blocking context).
pub fn hash_password_sync(password: &str) -> Result<PasswordHash, DomainError> {
    check_password_rules(password)?;
    let failed = |err: &dyn std::fmt::Display| {
        DomainError::RuleViolated(format!("password hashing failed: {err}"))
    };
    let salt = SaltString::generate(&mut OsRng);
    let argon2 = Argon2::default();
    let params = argon2.params().clone();
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|e| failed(&e))?;
    let mut out = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    with_work_memory(params.block_count(), |memory| {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, memory)
    })
    .map_err(|e| failed(&e))?;
    let phc = PhcHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    PasswordHash::parse(&phc.to_string())
}

/// Whether `password` matches `hash` (CPU-bound: call from a blocking context).
pub fn verify_password_sync(password: &str, hash: &PasswordHash) -> bool {
    let Ok(parsed) = PhcHash::new(hash.as_str()) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let computed = with_work_memory(blocks, |memory| {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, memory)
    });
    // `Output` compares in constant time.
    computed.is_ok() && Output::new(&out).is_ok_and(|out| out == expected)
}

/// Hashes in progress at once in this process: one per core. Each argon2id run holds 19 MiB
/// and a core; a burst of logins (a council arriving, a convention's thousands, a guessing
/// attack) queues here instead of growing the process by 19 MiB per login in flight.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(hashing_slots_total()))
}

/// One hashing slot per core (asked once: on Linux the answer reads the cgroup files).
fn hashing_slots_total() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Runs `work` on the blocking thread pool once a hashing slot is free.
async fn in_slot<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _slot = hashing_slots().acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// [`hash_password_sync`] on the blocking thread pool, at most one per core at a time.
pub async fn hash_password(password: String) -> Result<PasswordHash, DomainError> {
    in_slot(move || hash_password_sync(&password))
        .await
        .ok_or_else(|| DomainError::RuleViolated("password hashing failed".into()))?
}

/// [`verify_password_sync`] on the blocking thread pool, at most one per core at a time.
pub async fn verify_password(password: String, hash: PasswordHash) -> bool {
    in_slot(move || verify_password_sync(&password, &hash))
        .await
        .unwrap_or(false)
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
    fn hashes_agree_with_the_argon2_library() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // Ours verify with the library's verifier…
        let ours = hash_password_sync("korrekt-pferd-batterie").unwrap();
        let parsed = PhcHash::new(ours.as_str()).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"korrekt-pferd-batterie", &parsed)
                .is_ok()
        );
        // …and the library's (as stored by earlier versions) verify with ours.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"alte-passwort-datei", &salt)
            .unwrap()
            .to_string();
        let theirs = PasswordHash::parse(&theirs).unwrap();
        assert!(verify_password_sync("alte-passwort-datei", &theirs));
        assert!(!verify_password_sync("alte-passwort-dateI", &theirs));
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_checks_all_answer_right() {
        let hash = hash_password("korrekt-pferd-batterie".into())
            .await
            .unwrap();
        let checks = (0..6).map(|i| {
            let hash = hash.clone();
            let password = if i % 2 == 0 {
                "korrekt-pferd-batterie"
            } else {
                "falsch-pferd-batterie"
            };
            tokio::spawn(verify_password(password.to_owned(), hash))
        });
        let results: Vec<bool> = futures_util::future::join_all(checks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(results, [true, false, true, false, true, false]);
    }

    #[test]
    fn generated_passwords_are_long_and_distinct() {
        let a = generate_password(20);
        assert_eq!(a.len(), 20);
        assert_ne!(a, generate_password(20));
    }
}
