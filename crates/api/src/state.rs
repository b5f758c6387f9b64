use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use plenum_domain::PasswordHash;
use plenum_store::{Backend, DatabaseConnection};

use crate::auth::crypto::SecretCipher;
use crate::auth::ratelimit::{GuessLimiter, GuessLimits};
use crate::auth::tokens::TokenKeys;

/// The time source; tests may pass a fixed clock.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What the API needs to know of the configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Directory of the static web app (`web/`).
    pub web_dir: PathBuf,
    /// Time limit for one HTTP request.
    pub request_timeout: Duration,
    /// Rate limits on password, code and setup-link guesses.
    pub guess_limits: GuessLimits,
    /// Mark the refresh cookie `Secure` (set when Plenum is served over HTTPS).
    pub cookie_secure: bool,
    /// How long a password setup link stays valid.
    pub setup_link_ttl: chrono::Duration,
    /// The data directory (per-poll keys of secret ballots live in `poll-keys/` inside it).
    pub data_dir: PathBuf,
    /// The statutes that apply to live sessions (NDS, NRW, Bayern).
    pub rule_set: plenum_domain::RuleSet,
    /// The default speaking time in live sessions (a meeting's setting overrides it).
    pub speaking_time_secs: u32,
    /// Web origins allowed to open the live WebSocket besides the server's own.
    pub allowed_origins: Vec<String>,
    /// Directory of content-addressed file blobs (`<data_dir>/files`).
    pub blob_dir: PathBuf,
    /// Directory of the ballot boxes of open secret polls (a memory file system).
    pub ballot_dir: PathBuf,
    /// Largest accepted upload in bytes (`upload_limit`, default 50 MB).
    pub upload_limit: u64,
    /// `public_url` and `trusted_proxies`: where absolute URLs start (see [`crate::origin`]).
    pub origin: crate::origin::OriginConfig,
    /// The data licence OParl names (`license`, `license_valid_since`).
    pub license: DataLicense,
    /// Who runs this system, for OParl's `System` (`system_*` settings).
    pub system: SystemInfo,
    /// The notice period of invitations (Ladungsfrist) in days, for bodies without their own
    /// (see `routes::body_settings`).
    pub notice_days: u32,
    /// The SMTP settings; `None`: e-mails wait in the outbox.
    pub mail: Option<crate::mail::MailConfig>,
    /// Several nodes on PostgreSQL: where the other nodes reach this one (`node_url`), e.g.
    /// `http://10.0.0.5:8080`. Unset: `http://127.0.0.1` (one node).
    pub node_url: Option<String>,
}

/// Who runs and who made this system, for OParl's `System` (each left out when unset).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemInfo {
    /// `System.contactEmail`: whom to write about the interface.
    pub contact_email: Option<String>,
    /// `System.contactName`.
    pub contact_name: Option<String>,
    /// `System.vendor`: the URL of whoever provides the software.
    pub vendor: Option<String>,
    /// `System.product`: the URL of the software.
    pub product: Option<String>,
}

/// The licence of the data served over OParl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLicense {
    /// A URL; default CC BY 4.0.
    pub url: String,
    /// Since when the licence applies (OParl's `Body.licenseValidSince`).
    pub valid_since: Option<DateTime<Utc>>,
}

/// Creative Commons Attribution 4.0, the default data licence.
pub const DEFAULT_LICENSE: &str = "https://creativecommons.org/licenses/by/4.0/";

impl Default for DataLicense {
    fn default() -> Self {
        Self {
            url: DEFAULT_LICENSE.to_owned(),
            valid_since: None,
        }
    }
}

impl ApiConfig {
    pub fn new(web_dir: PathBuf) -> Self {
        Self {
            web_dir,
            request_timeout: crate::DEFAULT_REQUEST_TIMEOUT,
            guess_limits: GuessLimits::default(),
            cookie_secure: false,
            setup_link_ttl: chrono::Duration::hours(72),
            data_dir: PathBuf::from("data"),
            rule_set: plenum_domain::RuleSet::NordrheinWestfalen,
            speaking_time_secs: plenum_domain::DEFAULT_SPEAKING_TIME_SECS,
            allowed_origins: Vec::new(),
            blob_dir: PathBuf::from("data/files"),
            upload_limit: crate::DEFAULT_UPLOAD_LIMIT,
            ballot_dir: PathBuf::from("data/ballots"),
            origin: crate::origin::OriginConfig::default(),
            license: DataLicense::default(),
            system: SystemInfo::default(),
            notice_days: plenum_domain::DEFAULT_NOTICE_DAYS,
            mail: None,
            node_url: None,
        }
    }
}

/// The anchor file of the audit chain, in the data directory.
pub const AUDIT_ANCHOR_FILE: &str = "audit-head";

/// The server's secret keys, loaded from files outside the database.
pub struct ServerKeys {
    /// 32 bytes: signs tokens.
    pub signing: Vec<u8>,
    /// 32 bytes: encrypts TOTP secrets at rest.
    pub totp: Vec<u8>,
    /// 32 bytes: keys the audit chain's HMAC.
    pub audit: Vec<u8>,
}

/// Everything login needs, built once.
pub struct AuthContext {
    pub tokens: TokenKeys,
    pub cipher: SecretCipher,
    pub limiter: GuessLimiter,
    /// Verified against when the user is unknown, so unknown users take as long as known ones.
    pub dummy_hash: PasswordHash,
    /// Rate limit on writing notes and forum posts, per account.
    pub post_limiter: crate::routes::collab::PostLimiter,
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub backend: Backend,
    pub config: Arc<ApiConfig>,
    pub auth: Arc<AuthContext>,
    pub clock: Clock,
    pub live: Arc<crate::live::LiveHub>,
    /// Where file contents live (the local `blob_dir` unless replaced with [`AppState::with_blobs`]).
    pub blobs: Arc<dyn plenum_store::blob::BlobStore>,
    /// Held while an upload stores its content and inserts its row, and while a deletion checks
    /// whether a content is still referenced and removes it: otherwise a deletion could remove
    /// the content an identical upload has just reused. Serialises within this node; take it
    /// with [`AppState::lock_blobs`], which on PostgreSQL adds the lock of every node.
    pub blob_gate: Arc<tokio::sync::Mutex<()>>,
    /// The keyed audit log and its anchor file (`<data_dir>/audit-head`).
    pub audit: Arc<plenum_store::audit::AuditLog>,
    /// Wakes the e-mail worker when a write queued e-mails.
    pub mail_wake: Arc<tokio::sync::Notify>,
}

/// Why the state could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the TOTP key must be 32 bytes")]
    BadTotpKey,
    #[error("the audit key must be 32 bytes")]
    BadAuditKey,
    #[error(transparent)]
    AuditAnchor(#[from] plenum_store::audit::AnchorError),
    #[error("cannot prepare password hashing: {0}")]
    Hash(plenum_domain::DomainError),
}

impl AppState {
    pub fn new(
        db: DatabaseConnection,
        backend: Backend,
        config: ApiConfig,
        keys: &ServerKeys,
    ) -> Result<Self, StateError> {
        let cipher = SecretCipher::new(&keys.totp).ok_or(StateError::BadTotpKey)?;
        let dummy_hash = crate::auth::password::hash_password_sync("dummy-password-for-timing")
            .map_err(StateError::Hash)?;
        let limiter = GuessLimiter::new(config.guess_limits).shared(&db, backend);
        let post_limiter = crate::routes::collab::PostLimiter::default().shared(&db, backend);
        let audit_key = plenum_store::audit::AuditKey::from_bytes(&keys.audit)
            .ok_or(StateError::BadAuditKey)?;
        let audit = Arc::new(plenum_store::audit::AuditLog::open(
            audit_key,
            config.data_dir.join(AUDIT_ANCHOR_FILE),
        )?);
        // On PostgreSQL every node is ready to share the database with others.
        let cluster = (backend == Backend::Postgres).then(|| {
            Arc::new(crate::live::cluster::Cluster::new(
                config
                    .node_url
                    .clone()
                    .unwrap_or_else(|| "http://127.0.0.1".to_owned()),
                &keys.signing,
            ))
        });
        let live = crate::live::LiveHub::new(
            db.clone(),
            crate::live::ballot_box::BallotBoxes::new(config.ballot_dir.clone()),
            crate::live::keys::PollKeys::new(config.data_dir.join("poll-keys")),
            audit.clone(),
            cluster,
        );
        let blobs = Arc::new(plenum_store::blob::LocalBlobs::new(config.blob_dir.clone()));
        Ok(Self {
            blobs,
            blob_gate: Arc::new(tokio::sync::Mutex::new(())),
            mail_wake: Arc::new(tokio::sync::Notify::new()),
            audit,
            live: Arc::new(live),
            db,
            backend,
            config: Arc::new(config),
            auth: Arc::new(AuthContext {
                tokens: TokenKeys::new(&keys.signing),
                cipher,
                limiter,
                dummy_hash,
                post_limiter,
            }),
            clock: Arc::new(Utc::now),
        })
    }

    /// Keeps file contents in `blobs` instead of the local `blob_dir`.
    #[must_use]
    pub fn with_blobs(mut self, blobs: Arc<dyn plenum_store::blob::BlobStore>) -> Self {
        self.blobs = blobs;
        self
    }

    /// Takes the blob store's lock (see [`AppState::blob_gate`]): this node's mutex, then on
    /// PostgreSQL the advisory lock every node on the database takes
    /// ([`plenum_store::cluster::blob_lock`]). The mutex comes first, so that a node ties up at
    /// most one pooled connection waiting for another node.
    pub async fn lock_blobs(&self) -> Result<BlobGuard, plenum_store::StoreError> {
        let local = self.blob_gate.clone().lock_owned().await;
        let cluster = match self.backend {
            Backend::Postgres => Some(plenum_store::cluster::blob_lock(&self.db).await?),
            Backend::Sqlite => None,
        };
        Ok(BlobGuard {
            cluster,
            _local: local,
        })
    }

    /// The current time, truncated to microseconds (the databases' precision).
    pub fn now(&self) -> DateTime<Utc> {
        chrono::SubsecRound::trunc_subsecs((self.clock)(), 6)
    }
}

/// The blob store's lock while held ([`AppState::lock_blobs`]). Dropping it releases it too (on
/// PostgreSQL once the lock's connection returns to the pool); [`BlobGuard::release`] releases
/// it at once.
#[must_use = "the lock is released when this is dropped"]
pub struct BlobGuard {
    cluster: Option<plenum_store::cluster::ClusterLock>,
    _local: tokio::sync::OwnedMutexGuard<()>,
}

impl BlobGuard {
    /// Releases the lock: the other nodes' first, then this node's.
    pub async fn release(mut self) {
        if let Some(cluster) = self.cluster.take()
            && let Err(err) = cluster.release().await
        {
            // The transaction ends when its connection returns to the pool (or breaks).
            tracing::warn!(error = %err, "cannot end the blob lock's transaction");
        }
    }
}
