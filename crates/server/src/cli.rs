//! The command line: `plenum [serve|migrate|demo|user add|print-config]`.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use plenum_domain::{Name, PersonId, SiteRole, User, UserId, Username};
use plenum_migrations::{Migrator, MigratorTrait};
use plenum_store::blob::LocalBlobs;
use plenum_store::repo;

use crate::config::{Config, LogFormat, Overrides};
use crate::demo::{self, DemoOutcome};
use crate::{open_database, start};

/// Plenum: digital council work — paperless sessions, live voting, OParl.
#[derive(Debug, Parser)]
#[command(name = "plenum", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (default: ./plenum.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory [env: PLENUM_DATA_DIR] (default: ./data).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL, sqlite://… or postgres://… [env: PLENUM_DATABASE_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Log format [env: PLENUM_LOG_FORMAT].
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormatArg>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations, then exit.
    Migrate {
        /// Only list applied and pending migrations.
        #[arg(long)]
        status: bool,
    },
    /// Load the demo council "Stadt Musterstadt" and print its logins (demo only).
    Demo {
        /// Load it even into a database that holds other data.
        #[arg(long)]
        force: bool,
    },
    /// Manage login accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Print the configuration in force (secrets redacted), as TOML.
    PrintConfig,
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain; exits non-zero and names the first altered entry if it is broken.
    Verify,
}

#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on [env: PLENUM_BIND] (default: 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<SocketAddr>,
    /// Directory of the web app [env: PLENUM_WEB_DIR].
    #[arg(long, value_name = "DIR")]
    pub web_dir: Option<PathBuf>,
    /// Load the demo council into an empty database first.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a login account. Prints a generated password unless --password-stdin is given.
    Add(UserAddArgs),
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// Login name (a-z, 0-9, '.', '_', '-').
    #[arg(long)]
    pub username: String,
    /// Name shown in the app.
    #[arg(long)]
    pub display_name: String,
    /// Site-wide role.
    #[arg(long, value_enum, default_value = "member")]
    pub role: RoleArg,
    /// The council person this account belongs to (UUID).
    #[arg(long, value_name = "UUID")]
    pub person: Option<String>,
    /// Read the password from standard input instead of generating one.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Member,
    Clerk,
    Admin,
}

impl From<RoleArg> for SiteRole {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Member => SiteRole::Member,
            RoleArg::Clerk => SiteRole::Clerk,
            RoleArg::Admin => SiteRole::Admin,
        }
    }
}

impl Cli {
    fn overrides(&self) -> Overrides {
        let serve = match &self.command {
            Some(Command::Serve(args)) => Some(args),
            _ => None,
        };
        Overrides {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            bind: serve.and_then(|s| s.bind),
            web_dir: serve.and_then(|s| s.web_dir.clone()),
            log_format: self.log_format.map(|f| match f {
                LogFormatArg::Text => LogFormat::Text,
                LogFormatArg::Json => LogFormat::Json,
            }),
        }
    }
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log))
        .unwrap_or_else(|_| EnvFilter::new("plenum=info,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Runs the command line. Errors come back with context for one clear line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref(), &cli.overrides())?;
    init_tracing(&config);
    match cli.command {
        None => serve(&config, false).await,
        Some(Command::Serve(args)) => serve(&config, args.demo).await,
        Some(Command::Migrate { status }) => migrate(&config, status).await,
        Some(Command::Demo { force }) => load_demo(&config, force).await,
        Some(Command::User(UserCommand::Add(args))) => add_user(&config, args).await,
        Some(Command::Audit(AuditCommand::Verify)) => verify_audit(&config).await,
        Some(Command::PrintConfig) => {
            print!("{}", config.to_toml());
            Ok(())
        }
    }
}

async fn serve(config: &Config, demo: bool) -> anyhow::Result<()> {
    let mut server = start(config, demo).await?;
    server.shutdown_on(shutdown_signal());
    server.wait().await.context("server failed")?;
    tracing::info!("Plenum stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing open requests");
}

async fn migrate(config: &Config, status: bool) -> anyhow::Result<()> {
    if status {
        let url = config.database_url();
        let db = plenum_store::connect(&url)
            .await
            .with_context(|| format!("cannot use database {}", crate::config::redact_url(&url)))?;
        let applied = Migrator::get_applied_migrations(&db).await?;
        let pending = Migrator::get_pending_migrations(&db).await?;
        for m in applied {
            println!("applied  {}", m.name());
        }
        for m in pending {
            println!("pending  {}", m.name());
        }
        return Ok(());
    }
    open_database(config).await?;
    println!("database is up to date");
    Ok(())
}

async fn load_demo(config: &Config, force: bool) -> anyhow::Result<()> {
    crate::prepare_data_dir(&config.data_dir)?;
    let (db, _) = open_database(config).await?;
    let blobs = LocalBlobs::new(config.blob_dir());
    let keys = crate::keys::Keys::load_or_create(&config.data_dir)?;
    let cipher = crate::demo_cipher(&keys)?;
    match demo::load(&db, &blobs, &cipher, force, chrono::Utc::now()).await? {
        DemoOutcome::Loaded => println!("Loaded the demo council \"Stadt Musterstadt\".\n"),
        DemoOutcome::AlreadyLoaded => {
            println!("The demo council is already loaded; nothing changed.\n")
        }
    }
    print!("{}", demo::login_table());
    Ok(())
}

async fn verify_audit(config: &Config) -> anyhow::Result<()> {
    use plenum_store::audit::{self, Anchor, AuditKey};
    use secrecy::ExposeSecret;
    let (db, _) = open_database(config).await?;
    let key = match crate::keys::Keys::load_audit_key(&config.data_dir)? {
        Some(key) => Some(
            AuditKey::from_bytes(key.expose_secret())
                .context("the audit key has the wrong length")?,
        ),
        None => None,
    };
    // The anchor before the database: a server appending meanwhile only moves the database on.
    let anchor_path = config.data_dir.join(plenum_api::AUDIT_ANCHOR_FILE);
    let anchor = Anchor::read(&anchor_path)?;
    match audit::verify(&db, key.as_ref(), anchor.as_ref()).await? {
        Ok(verified) => {
            println!("audit log intact: {} entries", verified.entries);
            if verified.legacy > 0 {
                println!(
                    "  entries 1 to {} carry plain SHA-256 hashes (written before the audit key)",
                    verified.legacy
                );
            }
            println!(
                "  head: entry {}, hash {}",
                verified.head.seq, verified.head.hash
            );
            match anchor {
                Some(anchor) => println!(
                    "  anchor: entry {} in {}",
                    anchor.head.seq,
                    anchor_path.display()
                ),
                None => println!(
                    "  anchor: none yet ({} is written when the server starts)",
                    anchor_path.display()
                ),
            }
            Ok(())
        }
        Err(broken) => bail!(
            "audit log broken at entry {}: {}",
            broken.seq,
            broken.reason
        ),
    }
}

async fn add_user(config: &Config, args: UserAddArgs) -> anyhow::Result<()> {
    let username = Username::parse(&args.username)?;
    let display_name = Name::parse(&args.display_name)?;
    let person_id = match &args.person {
        Some(raw) => Some(raw.parse::<PersonId>()?),
        None => None,
    };
    let (password, generated) = if args.password_stdin {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .context("cannot read the password from standard input")?;
        (input.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        (plenum_api::auth::password::generate_password(20), true)
    };
    let hash = plenum_api::auth::password::hash_password(password.clone()).await?;
    let (db, _) = open_database(config).await?;
    if let Some(person) = person_id
        && repo::persons::get_live(&db, person).await.is_err()
    {
        bail!("person {person} does not exist");
    }
    if repo::users::find_by_username(&db, &username)
        .await?
        .is_some()
    {
        bail!("a user named {username} already exists");
    }
    let user = repo::users::insert(
        &db,
        User {
            id: UserId::new(),
            meta: Default::default(),
            username,
            display_name,
            person_id,
            site_role: args.role.into(),
            password_hash: Some(hash),
        },
    )
    .await?;
    println!(
        "created user {} ({}) with id {}",
        user.username, user.site_role, user.id
    );
    if generated {
        println!("initial password (shown once): {password}");
    }
    Ok(())
}
