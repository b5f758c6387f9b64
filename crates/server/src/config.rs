//! Configuration in layers, the last one winning: defaults in code → optional `plenum.toml` →
//! `PLENUM_*` environment variables → command-line flags.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Keys read from `PLENUM_*` environment variables (other `PLENUM_*` variables, such as those of
/// the test suite, are ignored).
pub const ENV_KEYS: &[&str] = &[
    "data_dir",
    "database_url",
    "bind",
    "web_dir",
    "log",
    "log_format",
    "request_timeout_secs",
    "cookie_secure",
    "login_burst_per_account",
    "login_burst_per_address",
    "rule_set",
    "speaking_time_secs",
    "allowed_origins",
    "upload_limit",
    "blob_store",
    "s3_bucket",
    "s3_endpoint",
    "s3_region",
    "s3_allow_http",
    "ballot_dir",
    "public_url",
    "trusted_proxies",
    "license",
    "license_valid_since",
    "system_contact_email",
    "system_contact_name",
    "system_vendor",
    "system_product",
    "invitation_notice_days",
    "smtp_host",
    "smtp_port",
    "smtp_tls",
    "smtp_user",
    "smtp_password",
    "smtp_from",
    "smtp_retry_base_secs",
    "smtp_retry_max_secs",
    "body_ags",
    "body_rgs",
    "body_classification",
    "node_url",
];

/// Where uploaded file contents are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobStoreKind {
    /// `<data_dir>/files`.
    Local,
    /// An S3-compatible bucket (needs the cargo feature `s3`); credentials from `AWS_*`.
    S3,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The server's configuration.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite file, the signing key and uploaded files live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: the SQLite file `plenum.sqlite3` in `data_dir`.
    #[serde(serialize_with = "serialize_redacted_url")]
    pub database_url: Option<SecretString>,
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// Directory of the web app.
    pub web_dir: PathBuf,
    /// Log filter in `tracing` syntax (`RUST_LOG` overrides it).
    pub log: String,
    pub log_format: LogFormat,
    /// Time limit for one HTTP request, in seconds.
    pub request_timeout_secs: u64,
    /// Mark the refresh cookie `Secure`; turn on when Plenum is served over HTTPS.
    pub cookie_secure: bool,
    /// Login guesses (password, code) per account before slowing down to one per 30 s.
    pub login_burst_per_account: u32,
    /// Login guesses per client address before slowing down to five per second. Generous: a
    /// whole council's tablets often share the town hall's one public address.
    pub login_burst_per_address: u32,
    /// The statutes for live sessions: `niedersachsen`, `nrw` or `bayern`.
    pub rule_set: plenum_domain::RuleSet,
    /// The body's default speaking time per contribution in live sessions, in seconds (1 to
    /// 7200; default 300). A meeting's own setting overrides it.
    pub speaking_time_secs: u32,
    /// Web origins (besides Plenum's own) allowed to open the live WebSocket.
    pub allowed_origins: Vec<String>,
    /// Largest accepted file upload in bytes (default 50 MB).
    pub upload_limit: u64,
    /// Where file contents live: `local` (default) or `s3`.
    pub blob_store: BlobStoreKind,
    /// The bucket, for `blob_store = "s3"`.
    pub s3_bucket: Option<String>,
    /// The S3 endpoint (MinIO, Ceph, Garage …); unset: AWS.
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    /// Allow a plain-HTTP endpoint (a local MinIO).
    pub s3_allow_http: bool,
    /// Where the ballot boxes of open secret polls live. It must be a memory file system
    /// (tmpfs) for secret ballots to be unlinkable in every copy of the disk; unset: a folder of
    /// this data directory's own under `/dev/shm` (see [`Config::ballot_dir`]).
    pub ballot_dir: Option<PathBuf>,
    /// Where the public reaches Plenum (`https://ris.example.org`, or with a path prefix
    /// `https://ris.example.org/ris`): every OParl id and link, calendar URL and other absolute
    /// URL starts with it. Unset: see `plenum_api::origin`.
    pub public_url: Option<String>,
    /// Reverse proxies (IPs or CIDR ranges) whose `Forwarded` / `X-Forwarded-*` headers are
    /// believed: for the origin when `public_url` is unset, and for the client address.
    pub trusted_proxies: Vec<String>,
    /// The licence of the data served over OParl (a URL; default CC BY 4.0).
    pub license: String,
    /// Since when that licence applies (RFC 3339 date-time, e.g. `2026-01-01T00:00:00+01:00`).
    pub license_valid_since: Option<String>,
    /// OParl `System.contactEmail`: whom to write about the interface.
    pub system_contact_email: Option<String>,
    /// OParl `System.contactName`.
    pub system_contact_name: Option<String>,
    /// OParl `System.vendor`: URL of whoever provides this installation's software.
    pub system_vendor: Option<String>,
    /// OParl `System.product`: URL of the software.
    pub system_product: Option<String>,
    /// The notice period of invitations (Ladungsfrist) in days, 0 to 60 (default 7): an
    /// invitation later than this before the meeting's start needs a stated reason. The default
    /// for bodies without their own value (`PUT /api/v1/body-settings`).
    pub invitation_notice_days: u32,
    /// The SMTP server for e-mail notifications; unset: e-mails wait in the outbox.
    pub smtp_host: Option<String>,
    /// Default by `smtp_tls`: 25 (`none`), 587 (`starttls`), 465 (`tls`).
    pub smtp_port: Option<u16>,
    /// `none`, `starttls` (default) or `tls`.
    pub smtp_tls: plenum_api::mail::SmtpTls,
    pub smtp_user: Option<String>,
    #[serde(serialize_with = "serialize_redacted_secret")]
    pub smtp_password: Option<SecretString>,
    /// The sender address, e.g. `Ratsinformation Musterstadt <ris@musterstadt.example>`;
    /// needed with `smtp_host`.
    pub smtp_from: Option<String>,
    /// The wait after a failed attempt, doubled per attempt (default 30 s) …
    pub smtp_retry_base_secs: u64,
    /// … up to this (default 3600 s).
    pub smtp_retry_max_secs: u64,
    /// OParl `Body.ags`: the body's Amtlicher Gemeindeschlüssel (8 digits). Written to the
    /// hosted body at startup (see [`Config::body_keys`]).
    #[serde(default, deserialize_with = "ags_digits")]
    pub body_ags: Option<String>,
    /// OParl `Body.rgs`: the body's Regionalschlüssel (12 digits).
    #[serde(default, deserialize_with = "rgs_digits")]
    pub body_rgs: Option<String>,
    /// OParl `Body.classification`: what kind of body it is, e.g. `Kreisfreie Stadt`.
    pub body_classification: Option<String>,
    /// Several nodes on one PostgreSQL database: where the other nodes reach this node
    /// (`http://plenum-1:8080`). Unset: `http://` and the listening address (with `127.0.0.1`
    /// for an unspecified address), which is right for nodes on one machine only.
    pub node_url: Option<String>,
}

fn serialize_redacted_secret<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => serializer.serialize_some("***"),
        None => serializer.serialize_none(),
    }
}

/// An official key as text. The environment provider reads `PLENUM_BODY_AGS=05315000` as the
/// number 5315000; the key has a fixed width, so its leading zeros are restored.
fn key_digits<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    width: usize,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(u64),
    }
    Ok(match Option::<Raw>::deserialize(deserializer)? {
        None => None,
        Some(Raw::Text(text)) => Some(text),
        Some(Raw::Number(n)) => Some(format!("{n:0width$}")),
    })
}

fn ags_digits<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    key_digits(d, 8)
}

fn rgs_digits<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    key_digits(d, 12)
}

/// The `body_*` settings, checked: what OParl's `Body` says about the hosted body's official
/// identity. Unset values are `None` (and clear what was stored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyKeys {
    pub ags: Option<String>,
    pub rgs: Option<String>,
    pub classification: Option<plenum_domain::Name>,
}

fn serialize_redacted_url<S: serde::Serializer>(
    url: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match url {
        Some(url) => serializer.serialize_some(&redact_url(url.expose_secret())),
        None => serializer.serialize_none(),
    }
}

/// The URL with any password replaced by `***`, for logs and `print-config`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            match userinfo.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &url[..scheme_end], &rest[at..])
                }
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self
                    .database_url
                    .as_ref()
                    .map(|url| redact_url(url.expose_secret())),
            )
            .field("bind", &self.bind)
            .field("web_dir", &self.web_dir)
            .field("log", &self.log)
            .field("log_format", &self.log_format)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("cookie_secure", &self.cookie_secure)
            .field("login_burst_per_account", &self.login_burst_per_account)
            .field("login_burst_per_address", &self.login_burst_per_address)
            .field("rule_set", &self.rule_set)
            .field("speaking_time_secs", &self.speaking_time_secs)
            .field("allowed_origins", &self.allowed_origins)
            .field("upload_limit", &self.upload_limit)
            .field("blob_store", &self.blob_store)
            .field("s3_bucket", &self.s3_bucket)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_region", &self.s3_region)
            .field("s3_allow_http", &self.s3_allow_http)
            .field("ballot_dir", &self.ballot_dir)
            .field("public_url", &self.public_url)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("license", &self.license)
            .field("license_valid_since", &self.license_valid_since)
            .field("system_contact_email", &self.system_contact_email)
            .field("system_contact_name", &self.system_contact_name)
            .field("system_vendor", &self.system_vendor)
            .field("system_product", &self.system_product)
            .field("invitation_notice_days", &self.invitation_notice_days)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_user", &self.smtp_user)
            .field("smtp_password", &self.smtp_password.as_ref().map(|_| "***"))
            .field("smtp_from", &self.smtp_from)
            .field("smtp_retry_base_secs", &self.smtp_retry_base_secs)
            .field("smtp_retry_max_secs", &self.smtp_retry_max_secs)
            .field("node_url", &self.node_url)
            .field("body_ags", &self.body_ags)
            .field("body_rgs", &self.body_rgs)
            .field("body_classification", &self.body_classification)
            .finish()
    }
}

/// `./web` when started from the repository, else the web app beside the sources it was built from.
fn default_web_dir() -> PathBuf {
    let local = PathBuf::from("web");
    if local.join("index.html").is_file() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web")
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: None,
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            web_dir: default_web_dir(),
            log: "plenum=info,tower_http=info".to_owned(),
            log_format: LogFormat::Text,
            request_timeout_secs: 30,
            cookie_secure: false,
            login_burst_per_account: 10,
            login_burst_per_address: 200,
            rule_set: plenum_domain::RuleSet::NordrheinWestfalen,
            speaking_time_secs: plenum_domain::DEFAULT_SPEAKING_TIME_SECS,
            allowed_origins: Vec::new(),
            upload_limit: plenum_api::DEFAULT_UPLOAD_LIMIT,
            blob_store: BlobStoreKind::Local,
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: None,
            s3_allow_http: false,
            ballot_dir: None,
            public_url: None,
            trusted_proxies: Vec::new(),
            license: plenum_api::DEFAULT_LICENSE.to_owned(),
            license_valid_since: None,
            system_contact_email: None,
            system_contact_name: None,
            system_vendor: None,
            system_product: None,
            invitation_notice_days: plenum_domain::DEFAULT_NOTICE_DAYS,
            node_url: None,
            smtp_host: None,
            smtp_port: None,
            smtp_tls: plenum_api::mail::SmtpTls::default(),
            smtp_user: None,
            smtp_password: None,
            smtp_from: None,
            smtp_retry_base_secs: 30,
            smtp_retry_max_secs: 3600,
            body_ags: None,
            body_rgs: None,
            body_classification: None,
        }
    }
}

/// Values given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads the layers. `file` is an explicit `--config` path (it must exist); without it,
    /// `plenum.toml` in the working directory is read when present.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let file = match file {
            Some(path) if !path.is_file() => {
                return Err(ConfigError::MissingFile(path.to_owned()));
            }
            Some(path) => Some(path),
            None => Some(Path::new("plenum.toml")).filter(|path| path.is_file()),
        };
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            figment = figment.merge(Toml::file_exact(path));
        }
        let config = figment
            .merge(Env::prefixed("PLENUM_").split("__").only(ENV_KEYS))
            .merge(Serialized::defaults(overrides))
            .extract::<Config>()
            .map_err(|err| ConfigError::Invalid(err.to_string()))?;
        plenum_domain::SessionSettings {
            repeat_meeting: false,
            speaking_time_secs: config.speaking_time_secs,
        }
        .validate()
        .map_err(ConfigError::Invalid)?;
        config.origin()?;
        config.mail()?;
        config.data_license()?;
        config.system_info()?;
        config.body_keys()?;
        Ok(config)
    }

    /// The SMTP settings, checked; `None` without `smtp_host`.
    pub fn mail(&self) -> Result<Option<plenum_api::mail::MailConfig>, ConfigError> {
        if self.invitation_notice_days > plenum_domain::MAX_NOTICE_DAYS {
            return Err(ConfigError::Invalid(
                "invitation_notice_days must be 0 to 60".into(),
            ));
        }
        let Some(host) = self
            .smtp_host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
        else {
            return Ok(None);
        };
        let from = self
            .smtp_from
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .ok_or_else(|| ConfigError::Invalid("smtp_host needs smtp_from".into()))?;
        if from.parse::<plenum_api::mail::Mailbox>().is_err() {
            return Err(ConfigError::Invalid(format!(
                "smtp_from is not an e-mail address: {from:?}"
            )));
        }
        if self.smtp_retry_base_secs == 0 || self.smtp_retry_max_secs < self.smtp_retry_base_secs {
            return Err(ConfigError::Invalid(
                "smtp_retry_base_secs must be at least 1 and at most smtp_retry_max_secs".into(),
            ));
        }
        Ok(Some(plenum_api::mail::MailConfig {
            host: host.to_owned(),
            port: self.smtp_port.unwrap_or(self.smtp_tls.default_port()),
            tls: self.smtp_tls,
            user: self.smtp_user.clone().filter(|u| !u.is_empty()),
            password: self.smtp_password.clone(),
            from: from.to_owned(),
            retry_base: Duration::from_secs(self.smtp_retry_base_secs),
            retry_max: Duration::from_secs(self.smtp_retry_max_secs),
        }))
    }

    /// The `body_*` settings, checked: 8 and 12 digits, a name.
    pub fn body_keys(&self) -> Result<BodyKeys, ConfigError> {
        let given = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let key = |name: &'static str, value: &Option<String>, digits: usize| {
            given(value)
                .map(|raw| {
                    plenum_domain::check_official_key(name, &raw, digits).map_err(|_| {
                        ConfigError::Invalid(format!("{name} must be {digits} digits, not {raw:?}"))
                    })
                })
                .transpose()
        };
        let classification = given(&self.body_classification)
            .map(|raw| {
                plenum_domain::Name::parse(&raw).map_err(|_| {
                    ConfigError::Invalid(format!(
                        "body_classification must be one line of at most 200 characters, not {raw:?}"
                    ))
                })
            })
            .transpose()?;
        Ok(BodyKeys {
            ags: key("body_ags", &self.body_ags, 8)?,
            rgs: key("body_rgs", &self.body_rgs, 12)?,
            classification,
        })
    }

    /// The `system_*` settings, checked: an e-mail address, a name, two URLs.
    pub fn system_info(&self) -> Result<plenum_api::SystemInfo, ConfigError> {
        let given = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let url = |key: &str, value: &Option<String>| match given(value) {
            Some(url) if !plenum_domain::valid_license_url(&url) => Err(ConfigError::Invalid(
                format!("{key} must be an absolute http(s) URL, not {url:?}"),
            )),
            other => Ok(other),
        };
        let contact_email = given(&self.system_contact_email);
        if let Some(email) = &contact_email {
            plenum_domain::Email::parse(email).map_err(|_| {
                ConfigError::Invalid(format!(
                    "system_contact_email must be an e-mail address, not {email:?}"
                ))
            })?;
        }
        Ok(plenum_api::SystemInfo {
            contact_email,
            contact_name: given(&self.system_contact_name),
            vendor: url("system_vendor", &self.system_vendor)?,
            product: url("system_product", &self.system_product)?,
        })
    }

    /// `license` and `license_valid_since`, checked.
    pub fn data_license(&self) -> Result<plenum_api::DataLicense, ConfigError> {
        let url = self.license.trim();
        if !plenum_domain::valid_license_url(url) {
            return Err(ConfigError::Invalid(format!(
                "license must be an absolute http(s) URL, not {:?}",
                self.license
            )));
        }
        let valid_since = match self.license_valid_since.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(
                chrono::DateTime::parse_from_rfc3339(text)
                    .map_err(|_| {
                        ConfigError::Invalid(format!(
                            "license_valid_since must be an RFC 3339 date-time such as \
                             2026-01-01T00:00:00+01:00, not {text:?}"
                        ))
                    })?
                    .with_timezone(&chrono::Utc),
            ),
        };
        Ok(plenum_api::DataLicense {
            url: url.to_owned(),
            valid_since,
        })
    }

    /// `public_url` and `trusted_proxies`, checked.
    pub fn origin(&self) -> Result<plenum_api::origin::OriginConfig, ConfigError> {
        use plenum_api::origin::{OriginConfig, PublicUrl, TrustedProxies};
        let invalid =
            |err: plenum_api::origin::OriginConfigError| ConfigError::Invalid(err.to_string());
        Ok(OriginConfig {
            public_url: self
                .public_url
                .as_deref()
                .filter(|url| !url.trim().is_empty())
                .map(PublicUrl::parse)
                .transpose()
                .map_err(invalid)?,
            trusted_proxies: TrustedProxies::parse(&self.trusted_proxies).map_err(invalid)?,
        })
    }

    /// The database URL in force: the configured one, or the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose_secret().to_owned(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("plenum.sqlite3").display()
            ),
        }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }

    /// The login rate limits in force.
    pub fn guess_limits(&self) -> plenum_api::auth::ratelimit::GuessLimits {
        plenum_api::auth::ratelimit::GuessLimits {
            account_burst: self.login_burst_per_account,
            address_burst: self.login_burst_per_address,
            ..Default::default()
        }
    }

    /// Directory of content-addressed file blobs.
    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }

    /// The configuration as TOML, secrets redacted (for `plenum print-config`).
    pub fn to_toml(&self) -> String {
        let mut text = String::new();
        text.push_str(&format!(
            "data_dir = {:?}\n",
            self.data_dir.display().to_string()
        ));
        text.push_str(&format!(
            "database_url = {:?}\n",
            redact_url(&self.database_url())
        ));
        text.push_str(&format!("bind = {:?}\n", self.bind.to_string()));
        text.push_str(&format!(
            "web_dir = {:?}\n",
            self.web_dir.display().to_string()
        ));
        text.push_str(&format!("log = {:?}\n", self.log));
        text.push_str(&format!(
            "log_format = {:?}\n",
            match self.log_format {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            }
        ));
        text.push_str(&format!(
            "request_timeout_secs = {}\n",
            self.request_timeout_secs
        ));
        text.push_str(&format!("cookie_secure = {}\n", self.cookie_secure));
        text.push_str(&format!(
            "login_burst_per_account = {}\n",
            self.login_burst_per_account
        ));
        text.push_str(&format!(
            "login_burst_per_address = {}\n",
            self.login_burst_per_address
        ));
        text.push_str(&format!("rule_set = {:?}\n", self.rule_set.as_str()));
        text.push_str(&format!(
            "speaking_time_secs = {}\n",
            self.speaking_time_secs
        ));
        text.push_str(&format!("allowed_origins = {:?}\n", self.allowed_origins));
        text.push_str(&format!("upload_limit = {}\n", self.upload_limit));
        text.push_str(&format!(
            "blob_store = {:?}\n",
            match self.blob_store {
                BlobStoreKind::Local => "local",
                BlobStoreKind::S3 => "s3",
            }
        ));
        for (key, value) in [
            ("s3_bucket", &self.s3_bucket),
            ("s3_endpoint", &self.s3_endpoint),
            ("s3_region", &self.s3_region),
        ] {
            if let Some(value) = value {
                text.push_str(&format!("{key} = {value:?}\n"));
            }
        }
        text.push_str(&format!("s3_allow_http = {}\n", self.s3_allow_http));
        text.push_str(&format!(
            "ballot_dir = {:?}\n",
            self.ballot_dir().display().to_string()
        ));
        if let Some(url) = &self.public_url {
            text.push_str(&format!("public_url = {url:?}\n"));
        }
        text.push_str(&format!("trusted_proxies = {:?}\n", self.trusted_proxies));
        text.push_str(&format!("license = {:?}\n", self.license));
        if let Some(since) = &self.license_valid_since {
            text.push_str(&format!("license_valid_since = {since:?}\n"));
        }
        for (key, value) in [
            ("system_contact_email", &self.system_contact_email),
            ("system_contact_name", &self.system_contact_name),
            ("system_vendor", &self.system_vendor),
            ("system_product", &self.system_product),
            ("body_ags", &self.body_ags),
            ("body_rgs", &self.body_rgs),
            ("body_classification", &self.body_classification),
        ] {
            if let Some(value) = value {
                text.push_str(&format!("{key} = {value:?}\n"));
            }
        }
        text
    }

    /// Where the ballot boxes of open secret polls live: the configured directory; else a
    /// folder named after this data directory under `/dev/shm`, or under `$XDG_RUNTIME_DIR`,
    /// whichever is a memory file system; else `<data_dir>/ballots` on the disk (with a warning
    /// at start, see the README's "Secret ballots").
    pub fn ballot_dir(&self) -> PathBuf {
        if let Some(dir) = &self.ballot_dir {
            return dir.clone();
        }
        use sha2::Digest;
        let data_dir = self
            .data_dir
            .canonicalize()
            .unwrap_or_else(|_| self.data_dir.clone());
        let digest = sha2::Sha256::digest(data_dir.to_string_lossy().as_bytes());
        let name = format!("plenum-ballots-{}", &hex::encode(digest)[..16]);
        let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from);
        [Some(PathBuf::from("/dev/shm")), runtime]
            .into_iter()
            .flatten()
            .find(|base| {
                base.is_dir() && plenum_api::live::ballot_box::on_memory_fs(base) == Some(true)
            })
            .map(|base| base.join(&name))
            .unwrap_or_else(|| self.data_dir.join("ballots"))
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures return figment::Error
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://plenum:geheim@db:5432/plenum"),
            "postgres://plenum:***@db:5432/plenum"
        );
        assert_eq!(
            redact_url("postgres://plenum@db/plenum"),
            "postgres://plenum@db/plenum"
        );
        assert_eq!(
            redact_url("sqlite://data/x.sqlite3"),
            "sqlite://data/x.sqlite3"
        );
        assert_eq!(
            redact_url("postgres://u:p@ss@h/db"),
            "postgres://u:***@h/db",
            "the last @ before the path ends the user info"
        );
    }

    #[test]
    fn layers_apply_in_order_file_env_flags() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "plenum.toml",
                "bind = \"127.0.0.1:9000\"\nlog = \"debug\"\ndata_dir = \"from-file\"\n",
            )?;
            jail.set_env("PLENUM_LOG", "warn");
            jail.set_env("PLENUM_DATA_DIR", "from-env");
            jail.set_env("PLENUM_TEST_PG_URL", "ignored");
            let flags = Overrides {
                data_dir: Some(PathBuf::from("from-flag")),
                ..Overrides::default()
            };
            let config = Config::load(None, &flags).map_err(|e| e.to_string())?;
            assert_eq!(config.bind, SocketAddr::from(([127, 0, 0, 1], 9000)));
            assert_eq!(config.log, "warn");
            assert_eq!(config.data_dir, PathBuf::from("from-flag"));
            assert_eq!(config.log_format, LogFormat::Text);
            Ok(())
        });
    }

    #[test]
    fn defaults_put_sqlite_in_the_data_directory() {
        figment::Jail::expect_with(|_jail| {
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
            assert_eq!(
                config.database_url(),
                "sqlite://data/plenum.sqlite3?mode=rwc"
            );
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("plenum.toml", "bnid = \"127.0.0.1:9000\"\n")?;
            assert!(Config::load(None, &Overrides::default()).is_err());
            jail.create_file("plenum.toml", "bind = \"nonsense\"\n")?;
            assert!(Config::load(None, &Overrides::default()).is_err());
            Ok(())
        });
        assert!(matches!(
            Config::load(
                Some(Path::new("/nonexistent/plenum.toml")),
                &Overrides::default()
            ),
            Err(ConfigError::MissingFile(_))
        ));
    }

    #[test]
    fn public_url_and_trusted_proxies_are_checked_at_load() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "plenum.toml",
                "public_url = \"https://ris.example.org/ris/\"\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n",
            )?;
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            let origin = config.origin().map_err(|e| e.to_string())?;
            assert_eq!(
                origin.public_url.unwrap().as_str(),
                "https://ris.example.org/ris"
            );
            assert!(
                config
                    .to_toml()
                    .contains("public_url = \"https://ris.example.org/ris/\"")
            );
            jail.set_env("PLENUM_PUBLIC_URL", "https://env.example.org");
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(
                config.public_url.as_deref(),
                Some("https://env.example.org")
            );
            jail.set_env("PLENUM_PUBLIC_URL", "ris.example.org");
            let err = Config::load(None, &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("public_url"), "{err}");
            jail.set_env("PLENUM_PUBLIC_URL", "https://ris.example.org");
            jail.create_file("plenum.toml", "trusted_proxies = [\"proxy.local\"]\n")?;
            let err = Config::load(None, &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("trusted_proxies"), "{err}");
            // The data licence.
            jail.create_file(
                "plenum.toml",
                "license = \"https://www.govdata.de/dl-de/by-2-0\"\n\
                 license_valid_since = \"2026-01-01T00:00:00+01:00\"\n",
            )?;
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            let license = config.data_license().map_err(|e| e.to_string())?;
            assert_eq!(license.url, "https://www.govdata.de/dl-de/by-2-0");
            assert_eq!(
                license.valid_since.map(|t| t.to_rfc3339()),
                Some("2025-12-31T23:00:00+00:00".to_owned())
            );
            jail.set_env("PLENUM_LICENSE_VALID_SINCE", "2026-01-01");
            let err = Config::load(None, &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("license_valid_since"), "{err}");
            jail.set_env("PLENUM_LICENSE_VALID_SINCE", "");
            jail.set_env("PLENUM_LICENSE", "CC BY 4.0");
            let err = Config::load(None, &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("license must"), "{err}");
            jail.set_env(
                "PLENUM_LICENSE",
                "https://creativecommons.org/licenses/by/4.0/",
            );
            // The System's contact.
            jail.set_env("PLENUM_SYSTEM_CONTACT_EMAIL", "ris@musterstadt.example");
            jail.set_env("PLENUM_SYSTEM_VENDOR", "https://www.musterstadt.example");
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            let system = config.system_info().map_err(|e| e.to_string())?;
            assert_eq!(
                system.contact_email.as_deref(),
                Some("ris@musterstadt.example")
            );
            assert_eq!(system.product, None);
            jail.set_env("PLENUM_SYSTEM_CONTACT_EMAIL", "nobody");
            let err = Config::load(None, &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("system_contact_email"), "{err}");
            jail.set_env("PLENUM_SYSTEM_CONTACT_EMAIL", "");
            jail.set_env("PLENUM_SYSTEM_PRODUCT", "Plenum");
            let err = Config::load(None, &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("system_product"), "{err}");
            jail.set_env("PLENUM_SYSTEM_PRODUCT", "");
            // The body's official keys.
            jail.set_env("PLENUM_BODY_AGS", "05315000");
            jail.set_env("PLENUM_BODY_RGS", "053150000000");
            jail.set_env("PLENUM_BODY_CLASSIFICATION", "Kreisfreie Stadt");
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            let keys = config.body_keys().map_err(|e| e.to_string())?;
            assert_eq!(keys.ags.as_deref(), Some("05315000"));
            assert_eq!(keys.rgs.as_deref(), Some("053150000000"));
            assert_eq!(
                keys.classification.as_ref().map(|c| c.as_str()),
                Some("Kreisfreie Stadt")
            );
            // The environment provider reads the key as a number; the leading zero came back
            // above. Too many digits stay an error.
            jail.set_env("PLENUM_BODY_AGS", "1053150001");
            let err = Config::load(None, &Overrides::default()).unwrap_err();
            assert!(
                err.to_string().contains("body_ags must be 8 digits"),
                "{err}"
            );
            jail.set_env("PLENUM_BODY_AGS", "");
            jail.set_env("PLENUM_BODY_RGS", "05315000000x");
            let err = Config::load(None, &Overrides::default()).unwrap_err();
            assert!(
                err.to_string().contains("body_rgs must be 12 digits"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn debug_and_print_config_never_show_the_password() {
        let config = Config {
            database_url: Some(SecretString::from("postgres://u:geheim@h/db")),
            ..Config::default()
        };
        assert!(!format!("{config:?}").contains("geheim"));
        assert!(!config.to_toml().contains("geheim"));
        let config = Config {
            smtp_host: Some("mail.example.org".into()),
            smtp_from: Some("ris@example.org".into()),
            smtp_password: Some(SecretString::from("smtp-geheim")),
            ..Config::default()
        };
        assert!(!format!("{config:?}").contains("smtp-geheim"));
        assert!(!config.to_toml().contains("smtp-geheim"));
    }

    #[test]
    fn smtp_settings_are_checked_at_load() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("PLENUM_SMTP_HOST", "mail.example.org");
            let Err(err) = Config::load(None, &Overrides::default()) else {
                return Err("smtp_host without smtp_from was accepted".to_owned().into());
            };
            assert!(err.to_string().contains("smtp_from"), "{err}");
            jail.set_env("PLENUM_SMTP_FROM", "kein Absender");
            assert!(Config::load(None, &Overrides::default()).is_err());
            jail.set_env("PLENUM_SMTP_FROM", "Rat <ris@example.org>");
            jail.set_env("PLENUM_SMTP_TLS", "tls");
            let config = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            let mail = config.mail().map_err(|e| e.to_string())?.ok_or("no mail")?;
            assert_eq!(mail.port, 465, "the port follows smtp_tls");
            jail.set_env("PLENUM_INVITATION_NOTICE_DAYS", "61");
            assert!(Config::load(None, &Overrides::default()).is_err());
            Ok(())
        });
    }
}
