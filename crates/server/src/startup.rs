//! Startup: data directory, keys, database, demo council, listener, graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use plenum_api::{ApiConfig, AppState, build_app, serve};
use plenum_store::blob::LocalBlobs;
use plenum_store::{Backend, DatabaseConnection, StoreError};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{BlobStoreKind, Config, redact_url};
use crate::demo::{self, DemoError, DemoOutcome};
use crate::keys::{KeyError, Keys};

/// Why the server could not start. Each message names the problem in one line.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("data directory {path} is not usable: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot use database {url}: {source}")]
    Database { url: String, source: StoreError },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("web app directory {0} has no index.html (set PLENUM_WEB_DIR)")]
    WebDir(PathBuf),
    #[error("demo council: {0}")]
    Demo(#[from] DemoError),
    #[error(transparent)]
    State(#[from] plenum_api::StateError),
    #[error("blob store: {0}")]
    BlobStore(String),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(
        "another Plenum server{holder} already serves the SQLite database {path}. SQLite serves \
         one node only: stop the other server, or run several nodes on PostgreSQL"
    )]
    AlreadyServed { path: PathBuf, holder: String },
}

/// The SQLite file a `sqlite://PATH?…` URL names (`None` for an in-memory database or another
/// backend).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// On SQLite, takes the database's serve lock (`<file>.serve-lock`, an exclusive `flock`), so a
/// second `plenum serve` on the same file is refused instead of running a second writer of every
/// live session. Held until the server ends (the kernel drops it if the process dies). Command-line
/// tools do not take it.
fn lock_sqlite(url: &str) -> Result<Option<std::fs::File>, StartupError> {
    use std::io::{Read, Seek, Write};
    let Some(path) = sqlite_file(url) else {
        return Ok(None);
    };
    let mut name = path.clone().into_os_string();
    name.push(".serve-lock");
    let lock_path = PathBuf::from(name);
    let fail = |source| StartupError::DataDir {
        path: lock_path.clone(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(fail)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            let holder = if pid.chars().all(|c| c.is_ascii_digit()) && !pid.is_empty() {
                format!(" (process {pid})")
            } else {
                String::new()
            };
            return Err(StartupError::AlreadyServed { path, holder });
        }
        Err(std::fs::TryLockError::Error(source)) => return Err(fail(source)),
    }
    file.set_len(0).map_err(fail)?;
    file.rewind().map_err(fail)?;
    write!(file, "{}", std::process::id()).map_err(fail)?;
    Ok(Some(file))
}

/// The S3-compatible blob store the configuration names.
#[cfg(feature = "s3")]
fn s3_blobs(
    config: &Config,
) -> Result<std::sync::Arc<dyn plenum_store::blob::BlobStore>, StartupError> {
    let bucket = config
        .s3_bucket
        .clone()
        .ok_or_else(|| StartupError::BlobStore("blob_store = \"s3\" needs s3_bucket".into()))?;
    let settings = plenum_store::blob::S3Settings {
        bucket,
        endpoint: config.s3_endpoint.clone(),
        region: config.s3_region.clone(),
        access_key_id: None,
        secret_access_key: None,
        allow_http: config.s3_allow_http,
    };
    let blobs = plenum_store::blob::ObjectBlobs::s3(&settings)
        .map_err(|err| StartupError::BlobStore(err.to_string()))?;
    Ok(std::sync::Arc::new(blobs))
}

#[cfg(not(feature = "s3"))]
fn s3_blobs(
    _config: &Config,
) -> Result<std::sync::Arc<dyn plenum_store::blob::BlobStore>, StartupError> {
    Err(StartupError::BlobStore(
        "this build has no S3 support (build with the cargo feature s3)".into(),
    ))
}

/// Creates the data directory if needed (mode 700) and proves it is writable.
pub fn prepare_data_dir(dir: &Path) -> Result<(), StartupError> {
    let fail = |source| StartupError::DataDir {
        path: dir.to_owned(),
        source,
    };
    crate::modes::create_private_dir(dir).map_err(fail)?;
    let probe = dir.join(format!(".write-test-{}", std::process::id()));
    std::fs::write(&probe, b"ok").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)?;
    Ok(())
}

/// Connects to the configured database and applies pending migrations.
pub async fn open_database(config: &Config) -> Result<(DatabaseConnection, Backend), StartupError> {
    let url = config.database_url();
    let fail = |source| StartupError::Database {
        url: redact_url(&url),
        source,
    };
    let backend = Backend::of_url(&url).map_err(fail)?;
    if backend == Backend::Sqlite {
        prepare_data_dir(&config.data_dir)?;
    }
    let db = plenum_store::connect_server(&url).await.map_err(fail)?;
    plenum_store::migrate(&db).await.map_err(fail)?;
    crate::modes::warn_if_loose(config);
    Ok((db, backend))
}

/// The cipher for TOTP secrets, as the demo loader needs it.
pub fn demo_cipher(keys: &Keys) -> Result<plenum_api::auth::crypto::SecretCipher, StartupError> {
    use secrecy::ExposeSecret;
    plenum_api::auth::crypto::SecretCipher::new(keys.totp.expose_secret())
        .ok_or(StartupError::State(plenum_api::StateError::BadTotpKey))
}

/// A server started by [`start`].
pub struct RunningServer {
    /// The address it listens on (useful with port 0).
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// The e-mail worker (none without SMTP settings).
    mail: Option<plenum_api::mail::MailWorker>,
    /// The live sessions: stopped at the end (several nodes: their leases given up).
    live: std::sync::Arc<plenum_api::live::LiveHub>,
    /// The SQLite database's serve lock, released when the server is dropped.
    _serve_lock: Option<std::fs::File>,
}

impl RunningServer {
    /// Stops accepting connections, finishes in-flight requests and waits for the end.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.wait().await
    }

    /// Waits until the server ends.
    pub async fn wait(&mut self) -> std::io::Result<()> {
        let result = (&mut self.task).await;
        self.live.shutdown().await;
        if let Some(mail) = self.mail.take() {
            mail.stop().await;
        }
        match result {
            Ok(result) => result,
            Err(join) => Err(std::io::Error::other(join)),
        }
    }

    /// Ends the server when `signal` resolves.
    pub fn shutdown_on(&mut self, signal: impl Future<Output = ()> + Send + 'static) {
        if let Some(tx) = self.shutdown.take() {
            tokio::spawn(async move {
                signal.await;
                let _ = tx.send(());
            });
        }
    }
}

/// Prepares everything and starts serving in the background. With `load_demo`, the demo council
/// is loaded into an empty database (a database with other data is left alone, with a warning).
pub async fn start(config: &Config, load_demo: bool) -> Result<RunningServer, StartupError> {
    prepare_data_dir(&config.data_dir)?;
    let keys = Keys::load_or_create(&config.data_dir)?;
    if !config.web_dir.join("index.html").is_file() {
        return Err(StartupError::WebDir(config.web_dir.clone()));
    }
    let serve_lock = lock_sqlite(&config.database_url())?;
    let (db, backend) = open_database(config).await?;
    if load_demo {
        let blobs = LocalBlobs::new(config.blob_dir());
        let cipher = demo_cipher(&keys)?;
        match demo::load(&db, &blobs, &cipher, false, chrono::Utc::now()).await {
            Ok(DemoOutcome::Loaded) => {
                tracing::info!("loaded the demo council \"Stadt Musterstadt\"");
                println!("{}", demo::login_table());
            }
            Ok(DemoOutcome::AlreadyLoaded) => {
                tracing::info!("demo council already present");
                println!("{}", demo::login_table());
            }
            Err(DemoError::NonDemoData(found)) => {
                tracing::warn!(%found, "the database holds other data; demo council not loaded");
            }
            Err(err) => return Err(err.into()),
        }
    }
    apply_body_keys(&db, &config.body_keys()?).await?;
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| StartupError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartupError::Bind {
        addr: config.bind,
        source,
    })?;
    let mut api_config = ApiConfig::new(config.web_dir.clone());
    api_config.request_timeout = config.request_timeout();
    api_config.cookie_secure = config.cookie_secure;
    api_config.guess_limits = config.guess_limits();
    api_config.data_dir = config.data_dir.clone();
    api_config.rule_set = config.rule_set;
    api_config.speaking_time_secs = config.speaking_time_secs;
    api_config.allowed_origins = config.allowed_origins.clone();
    api_config.blob_dir = config.blob_dir();
    api_config.upload_limit = config.upload_limit;
    api_config.ballot_dir = config.ballot_dir();
    api_config.origin = config.origin()?;
    api_config.license = config.data_license()?;
    api_config.system = config.system_info()?;
    api_config.notice_days = config.invitation_notice_days;
    api_config.mail = config.mail()?;
    api_config.node_url = Some(config.node_url.clone().unwrap_or_else(|| {
        let ip = match addr.ip() {
            ip if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, addr.port()))
    }));
    if api_config.mail.is_none() {
        tracing::warn!("smtp_host is not set: e-mail notifications wait in the outbox");
    }
    if api_config.origin.public_url.is_none() {
        tracing::warn!(
            "public_url is not set: OParl ids and calendar URLs use the address each connection \
             arrived at (or a trusted proxy's forwarded host); set public_url to the address the \
             public uses"
        );
    }
    if plenum_api::live::ballot_box::on_memory_fs(&api_config.ballot_dir) != Some(true) {
        tracing::warn!(
            ballot_dir = %api_config.ballot_dir.display(),
            "the ballot boxes of secret polls are not on a memory file system (tmpfs): old \
             versions may stay on the disk, where a copy could link ballots to voters; set \
             ballot_dir to a tmpfs folder"
        );
    }
    let state = AppState::new(db, backend, api_config, &keys.server_keys())?;
    // Anchor the chain as found (on the first start after an upgrade: the old, unkeyed entries),
    // or learn that the database is behind its anchor (logged as an error).
    state.audit.update_anchor(&state.db).await;
    let state = match config.blob_store {
        BlobStoreKind::Local => state,
        BlobStoreKind::S3 => state.with_blobs(s3_blobs(config)?),
    };
    // Files stored before Plenum recorded their SHA-512 get it in the background.
    let (db, blobs) = (state.db.clone(), state.blobs.clone());
    tokio::spawn(async move {
        match plenum_store::blob::backfill_sha512(&db, blobs.as_ref()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(files = n, "recorded the SHA-512 of files stored without it"),
            Err(err) => tracing::warn!(error = %err, "could not record the SHA-512 of older files"),
        }
    });
    let mail = plenum_api::mail::start(
        state.db.clone(),
        state.config.mail.clone(),
        state.mail_wake.clone(),
    )
    .await;
    // PDFs whose text is not extracted yet (the demo's, older uploads) become searchable.
    let extracting = state.clone();
    tokio::spawn(async move {
        let n = plenum_api::routes::files::extract_pending(&extracting).await;
        if n > 0 {
            tracing::info!(files = n, "extracted the text of files stored without it");
        }
    });
    // Several nodes may share a PostgreSQL database: leases and notifications.
    plenum_api::live::cluster::start(state.live.clone()).await;
    let live = state.live.clone();
    let app = build_app(state);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app, async move {
        let _ = rx.await;
    }));
    tracing::info!(%addr, database = backend.as_str(), "Plenum is listening on http://{addr}/");
    Ok(RunningServer {
        addr,
        shutdown: Some(tx),
        task,
        mail,
        live,
        _serve_lock: serve_lock,
    })
}

/// Writes the `body_*` settings to the hosted body, if they differ from what it holds (so its
/// OParl `modified` moves only on a change). With several live bodies the settings cannot say
/// which body they describe: they are left alone, with a warning.
async fn apply_body_keys(
    db: &plenum_store::DatabaseConnection,
    keys: &crate::config::BodyKeys,
) -> Result<(), StartupError> {
    let fail = |source| StartupError::Database {
        url: "(hosted body)".to_owned(),
        source,
    };
    let bodies = plenum_store::repo::bodies::list(db, false)
        .await
        .map_err(fail)?;
    let mut body = match bodies.as_slice() {
        [] => return Ok(()),
        [one] => one.clone(),
        _ => {
            if *keys != crate::config::BodyKeys::default() {
                tracing::warn!(
                    "several bodies are hosted; body_ags, body_rgs and body_classification are not applied"
                );
            }
            return Ok(());
        }
    };
    if body.ags == keys.ags && body.rgs == keys.rgs && body.classification == keys.classification {
        return Ok(());
    }
    body.ags = keys.ags.clone();
    body.rgs = keys.rgs.clone();
    body.classification = keys.classification.clone();
    plenum_store::repo::bodies::update(db, body)
        .await
        .map_err(fail)?;
    tracing::info!("the body's official keys were updated from the configuration");
    Ok(())
}
