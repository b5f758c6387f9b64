//! Connecting, migrating and probing the database.

use std::time::Duration;

use plenum_migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

use crate::{Result, StoreError};

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names, or `BadUrl`.
    pub fn of_url(url: &str) -> Result<Backend> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme).unwrap_or("");
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            "" => Err(StoreError::BadUrl(
                "expected sqlite://PATH or postgres://USER@HOST/DB".into(),
            )),
            other => Err(StoreError::BadUrl(format!(
                "unsupported scheme {other:?}; expected sqlite or postgres"
            ))),
        }
    }

    pub const fn as_str(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Opens a connection pool. SQLite files use WAL with `synchronous=FULL`, so an acknowledged
/// commit survives a power loss, and enforce foreign keys. Fails within a few seconds when the
/// server cannot be reached.
pub async fn connect(url: &str) -> Result<DatabaseConnection> {
    connect_tuned(url, false).await
}

/// How often [`connect_server`]'s background task checkpoints the SQLite write-ahead log.
const CHECKPOINT_PERIOD: Duration = Duration::from_secs(1);

/// Opens the pool of a running server. As [`connect`], except that on an SQLite file no commit
/// checkpoints the write-ahead log itself: SQLite would do it inside whichever commit grows the
/// log past 1,000 pages — during a session, a vote's — which then waits for the pages to be
/// copied into the database file and for its fsync. A background task checkpoints instead,
/// every [`CHECKPOINT_PERIOD`], in `PASSIVE` mode (it never blocks a reader or a writer; what it
/// cannot copy yet is copied the next time). The task ends when the pool is closed.
pub async fn connect_server(url: &str) -> Result<DatabaseConnection> {
    let background = Backend::of_url(url)? == Backend::Sqlite && !is_in_memory(url);
    let db = connect_tuned(url, background).await?;
    if background {
        let pool = db.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECKPOINT_PERIOD);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(err) = checkpoint(&pool).await {
                    if pool.ping().await.is_err() {
                        break; // closed
                    }
                    tracing::warn!(error = %err, "SQLite checkpoint failed; retried in a second");
                }
            }
        });
    }
    Ok(db)
}

/// Copies what the SQLite write-ahead log holds into the database file, as far as no reader
/// still needs it (`PASSIVE`). Does nothing on PostgreSQL.
async fn checkpoint(db: &DatabaseConnection) -> Result<()> {
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
            .await
            .map_err(StoreError::Unavailable)?;
    }
    Ok(())
}

fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

async fn connect_tuned(url: &str, background_checkpoints: bool) -> Result<DatabaseConnection> {
    let backend = Backend::of_url(url)?;
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    if backend == Backend::Sqlite {
        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
        let in_memory = is_in_memory(url);
        if in_memory {
            // Every connection to `sqlite::memory:` would be a separate, empty database.
            options.max_connections(1).min_connections(1);
        } else {
            options.max_connections(8);
        }
        options.map_sqlx_sqlite_opts(move |opts| {
            let opts = opts
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                .synchronous(SqliteSynchronous::Full);
            if in_memory {
                opts
            } else if background_checkpoints {
                opts.journal_mode(SqliteJournalMode::Wal)
                    .pragma("wal_autocheckpoint", "0")
            } else {
                opts.journal_mode(SqliteJournalMode::Wal)
            }
        });
    } else {
        options.max_connections(16);
        // A pooled connection keeps the buffers its largest statement grew: a meeting's live
        // state is a few MB at a convention, and each of the 16 connections held that much for
        // good. They are given back (down to 8 KiB) when the connection returns to the pool.
        options.map_sqlx_postgres_pool_opts(|pool| {
            pool.after_release(|conn, _| {
                Box::pin(async move {
                    sea_orm::sqlx::Connection::shrink_buffers(conn);
                    Ok(true)
                })
            })
        });
        check_reachable(url).await?;
    }
    Database::connect(options)
        .await
        .map_err(classify_connect_error)
}

/// Errors at connect time are about the URL or about reaching or opening the database.
fn classify_connect_error(err: sea_orm::DbErr) -> StoreError {
    let text = err.to_string();
    if text.contains("cannot be parsed") || text.contains("invalid") {
        StoreError::BadUrl(text)
    } else {
        StoreError::Unavailable(err)
    }
}

/// Tries a TCP connection to the PostgreSQL server first: the pool would only report a timeout,
/// while this names the real cause ("connection refused", "no such host").
async fn check_reachable(raw: &str) -> Result<()> {
    let parsed = url::Url::parse(raw).map_err(|err| StoreError::BadUrl(err.to_string()))?;
    let Some(host) = parsed.host_str() else {
        // A socket path in the query (`?host=/run/postgresql`): the driver handles it.
        return Ok(());
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed.port().unwrap_or(5432);
    let attempt = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await;
    let reason = match attempt {
        Ok(Ok(_)) => return Ok(()),
        Ok(Err(err)) => err.to_string(),
        Err(_) => "no answer within 5 s".to_owned(),
    };
    Err(StoreError::Unreachable(format!(
        "cannot reach PostgreSQL at {host}:{port}: {reason}"
    )))
}

/// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: it takes the
/// database's write lock at once (waiting up to the busy timeout for another writer), so the
/// transaction's reads cannot go stale before its first write. A deferred SQLite transaction that
/// reads first fails with "database is locked" when another connection commits in between. On
/// PostgreSQL it is a plain `BEGIN`; lock rows with `repo::…::lock`.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction> {
    Ok(db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<()> {
    Migrator::up(db, None).await.map_err(StoreError::from)
}

/// Checks that the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> Result<()> {
    db.execute_unprepared("SELECT 1")
        .await
        .map(|_| ())
        .map_err(StoreError::Unavailable)
}
