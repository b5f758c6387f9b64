//! The demo council "Stadt Musterstadt": realistic enough to demo and to test against.
//!
//! 38 council seats including the mayor, five fractions of different sizes plus one independent
//! member, four committees with chairs and deputies, one advisory member, a clerk and an admin;
//! two past meetings with public and non-public items, decisions and results; two upcoming
//! meetings; papers with a Beratungsfolge across committees; small PDF files made here.
//!
//! Every id is derived from a name (UUIDv5), so loading is idempotent and tests can name objects.
//! Meeting dates are relative to the day the demo is loaded, so "upcoming" stays upcoming.

mod data;

use chrono::{DateTime, Utc};
use plenum_api::auth::crypto::SecretCipher;
use plenum_domain::*;
use plenum_store::blob::LocalBlobs;
use plenum_store::repo;
use plenum_store::{DatabaseConnection, StoreError, TransactionTrait};
use uuid::Uuid;

pub use data::{DEMO_PASSWORD, demo_logins, demo_totp_secret};

/// Namespace of every demo id.
pub const DEMO_NAMESPACE: Uuid = Uuid::from_u128(0x6d75_7374_6572_7374_6164_7400_0000_0001);

/// A deterministic demo id of any kind.
pub fn demo_id<T: From<Uuid>>(name: &str) -> T {
    T::from(Uuid::new_v5(&DEMO_NAMESPACE, name.as_bytes()))
}

/// The demo body's id.
pub fn demo_body_id() -> BodyId {
    demo_id("body")
}

/// One demo login, for the printed table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    pub username: String,
    pub display_name: String,
    /// What the account can show in a demo, in German and English.
    pub what: &'static str,
    /// The account's TOTP secret in Base32, for an authenticator app. Demo only.
    pub totp_secret: String,
}

/// What loading did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoOutcome {
    /// The demo council was loaded now.
    Loaded,
    /// It was there already; nothing was changed.
    AlreadyLoaded,
}

/// Why the demo council was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "the database holds data that is not the demo council ({0}); refusing to mix demo data \
         into it (use --force to load it anyway)"
    )]
    NonDemoData(String),
    #[error("cannot store a demo file: {0}")]
    Blob(#[from] std::io::Error),
    #[error("cannot prepare the demo passwords: {0}")]
    Password(DomainError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Loads the demo council unless it is there already. Refuses a database holding other data
/// unless `force`. Everything is written in one transaction: a failed load leaves nothing.
pub async fn load(
    db: &DatabaseConnection,
    blobs: &LocalBlobs,
    cipher: &SecretCipher,
    force: bool,
    now: DateTime<Utc>,
) -> Result<DemoOutcome, DemoError> {
    if repo::bodies::get(db, demo_body_id()).await.is_ok() {
        return Ok(DemoOutcome::AlreadyLoaded);
    }
    if !force && let Some(found) = non_demo_data(db).await? {
        return Err(DemoError::NonDemoData(found));
    }
    let password_hash = plenum_api::auth::password::hash_password(DEMO_PASSWORD.to_owned())
        .await
        .map_err(DemoError::Password)?;
    let council = data::build(now, &password_hash, cipher, blobs)?;
    let txn = db.begin().await.map_err(StoreError::from)?;
    council.insert(&txn).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(DemoOutcome::Loaded)
}

/// A description of the first non-demo object found, if any.
async fn non_demo_data(db: &DatabaseConnection) -> Result<Option<String>, StoreError> {
    for body in repo::bodies::list(db, true).await? {
        if body.id != demo_body_id() {
            return Ok(Some(format!("body \"{}\"", body.name)));
        }
    }
    let demo_users: Vec<UserId> = data::all_usernames()
        .iter()
        .map(|name| demo_id(&format!("user:{name}")))
        .collect();
    for user in repo::users::list(db).await? {
        if !demo_users.contains(&user.id) {
            return Ok(Some(format!("user \"{}\"", user.username)));
        }
    }
    Ok(None)
}

/// The demo logins as a framed text table, marked as demo-only.
pub fn login_table() -> String {
    let logins = demo_logins();
    let width = logins
        .iter()
        .map(|l| l.username.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = String::new();
    out.push_str("================ DEMO ONLY / NUR FÜR DEMONSTRATIONSZWECKE ================\n");
    out.push_str(
        "Demo council \"Stadt Musterstadt\" / Demo-Rat. Never use these accounts in production.\n",
    );
    out.push_str(&format!(
        "Password for every demo account / Passwort aller Demo-Konten: {DEMO_PASSWORD}\n\n"
    ));
    out.push_str(
        "Second factor: add the TOTP secret to any authenticator app (SHA-1, 6 digits, 30 s).\n",
    );
    out.push_str("Zweiter Faktor: TOTP-Geheimnis in eine Authenticator-App eintragen.\n\n");
    out.push_str(&format!(
        "{:<width$}  {:<32}  {}\n",
        "username", "TOTP secret", "who / wer"
    ));
    for login in &logins {
        out.push_str(&format!(
            "{:<width$}  {:<32}  {} – {}\n",
            login.username, login.totp_secret, login.display_name, login.what
        ));
    }
    out.push_str("\nEvery other council member too (vorname.nachname / TOTP secret):\n");
    let listed: Vec<&str> = logins.iter().map(|l| l.username.as_str()).collect();
    for username in data::all_usernames() {
        if !listed.contains(&username.as_str()) {
            out.push_str(&format!(
                "  {username:<width$}  {}\n",
                plenum_api::auth::totp::secret_base32(&demo_totp_secret(&username))
            ));
        }
    }
    out.push_str("==========================================================================\n");
    out
}
