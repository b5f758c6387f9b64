//! State that every node on one PostgreSQL database shares: rate limits (a GCRA per key in the
//! table `rate_limit`) and the blob store's lock (a transaction-level advisory lock).
//!
//! SQLite serves one node (`plenum serve` holds an exclusive lock on the database file), so the
//! API keeps its rate limits in memory there and [`blob_lock`] takes no database lock at all.
//! [`rate_limit`] works on both backends all the same (the tests run it on both).

use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, Statement,
    TransactionTrait,
};

use crate::Result;

/// A rate limit: `burst` events at once, then one more per `period` (the generic cell rate
/// algorithm, with the same semantics as the `governor` crate's in-memory limiters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub burst: u32,
    pub period: Duration,
}

impl Quota {
    /// The emission interval `t` in microseconds (at least 1).
    fn period_us(&self) -> i64 {
        i64::try_from(self.period.as_micros())
            .unwrap_or(i64::MAX / 4)
            .clamp(1, i64::MAX / 4)
    }

    /// The tolerance `tau = t · (burst − 1)` in microseconds: how far the theoretical arrival
    /// time may run ahead of now.
    fn tolerance_us(&self) -> i64 {
        self.period_us()
            .saturating_mul(i64::from(self.burst.max(1) - 1))
            .min(i64::MAX / 4)
    }
}

/// The database server's clock in microseconds since the Unix epoch, as an SQL expression. One
/// clock for every node, so that their clocks' skew does not matter. Constant within a statement.
fn now_us(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::Postgres => {
            "(EXTRACT(EPOCH FROM statement_timestamp()) * 1000000)::bigint"
        }
        _ => "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)",
    }
}

/// Counts one event for `key` under `quota`, in one atomic statement: `Ok(Ok(()))` when it is
/// allowed (and counted), `Ok(Err(wait))` when it is refused (and not counted) and the next one
/// is allowed after `wait`.
///
/// A row holds the key's theoretical arrival time `tat`. An event at `now` is allowed when
/// `now ≥ tat − tau`; it moves `tat` to `max(tat, now) + t`. The upsert's `WHERE` decides under
/// the row's lock, so concurrent checks from any number of nodes count every event once.
pub async fn rate_limit(
    db: &impl ConnectionTrait,
    key: &str,
    quota: Quota,
) -> Result<std::result::Result<(), Duration>> {
    let backend = db.get_database_backend();
    let now = now_us(backend);
    let (t, tau) = (quota.period_us(), quota.tolerance_us());
    let (sql, values) = match backend {
        DatabaseBackend::Postgres => (
            format!(
                "INSERT INTO rate_limit AS r (key, tat) VALUES ($1, {now} + $2) \
                 ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, {now}) + $2 \
                 WHERE r.tat - $3 <= {now} \
                 RETURNING tat"
            ),
            vec![key.into(), t.into(), tau.into()],
        ),
        _ => (
            format!(
                "INSERT INTO rate_limit AS r (key, tat) VALUES (?1, {now} + ?2) \
                 ON CONFLICT (key) DO UPDATE SET tat = max(r.tat, {now}) + ?2 \
                 WHERE r.tat - ?3 <= {now} \
                 RETURNING tat"
            ),
            vec![key.into(), t.into(), tau.into()],
        ),
    };
    let counted = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    if counted.is_some() {
        return Ok(Ok(()));
    }
    // Refused: how long until `now ≥ tat − tau`. Only for the `Retry-After` header; when the row
    // is gone meanwhile (pruned), the next event is allowed at once.
    let placeholders = match backend {
        DatabaseBackend::Postgres => ("$1", "$2"),
        _ => ("?1", "?2"),
    };
    let sql = format!(
        "SELECT tat - {tau_p} - {now} AS wait FROM rate_limit WHERE key = {key_p}",
        key_p = placeholders.0,
        tau_p = placeholders.1,
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [key.into(), tau.into()],
        ))
        .await?;
    let wait_us: i64 = match row {
        Some(row) => row.try_get("", "wait")?,
        None => 0,
    };
    Ok(Err(Duration::from_micros(
        u64::try_from(wait_us).unwrap_or(0),
    )))
}

/// Deletes the rows whose theoretical arrival time has passed: such a row allows a full burst,
/// exactly like no row. Returns how many went.
pub async fn prune_rate_limits(db: &impl ConnectionTrait) -> Result<u64> {
    let backend = db.get_database_backend();
    let sql = format!("DELETE FROM rate_limit WHERE tat < {}", now_us(backend));
    let result = db.execute_raw(Statement::from_string(backend, sql)).await?;
    Ok(result.rows_affected())
}

/// The key of the blob store's advisory lock ("plenblob" in ASCII).
pub const BLOB_LOCK_KEY: i64 = 0x706c_656e_626c_6f62;

/// How long [`blob_lock`] waits for another node before giving up.
pub const BLOB_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// The blob store's cluster-wide lock while held (see [`blob_lock`]). Dropping it releases the
/// lock too (the transaction is rolled back when its connection returns to the pool); prefer
/// [`ClusterLock::release`], which releases it at once.
#[must_use = "the lock is released when this is dropped"]
pub struct ClusterLock {
    txn: Option<DatabaseTransaction>,
}

impl ClusterLock {
    /// Releases the lock (ends its transaction).
    pub async fn release(mut self) -> Result<()> {
        if let Some(txn) = self.txn.take() {
            txn.commit().await?;
        }
        Ok(())
    }

    /// Whether a database lock is held (false on SQLite).
    pub fn is_shared(&self) -> bool {
        self.txn.is_some()
    }
}

/// Takes the lock that every node on this PostgreSQL database holds while an upload stores its
/// content and inserts its row, and while a deletion checks whether a content is still referenced
/// and removes it. A transaction on a connection of its own holds
/// `pg_advisory_xact_lock(BLOB_LOCK_KEY)` until [`ClusterLock::release`] (or until the guard is
/// dropped, or the connection breaks: PostgreSQL then releases it itself). Waits at most
/// [`BLOB_LOCK_TIMEOUT`] for another holder. On SQLite (one node) nothing is locked.
///
/// Callers serialise within their node first (a local mutex), so that a node never ties up more
/// than one pooled connection waiting here.
pub async fn blob_lock(db: &DatabaseConnection) -> Result<ClusterLock> {
    advisory_lock(db, BLOB_LOCK_KEY, BLOB_LOCK_TIMEOUT).await
}

async fn advisory_lock(
    db: &DatabaseConnection,
    key: i64,
    timeout: Duration,
) -> Result<ClusterLock> {
    let backend = db.get_database_backend();
    if backend != DatabaseBackend::Postgres {
        return Ok(ClusterLock { txn: None });
    }
    let txn = db.begin().await?;
    txn.execute_unprepared(&format!(
        "SET LOCAL lock_timeout = '{}ms'",
        timeout.as_millis().max(1)
    ))
    .await?;
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        "SELECT pg_advisory_xact_lock($1)",
        [key.into()],
    ))
    .await?;
    Ok(ClusterLock { txn: Some(txn) })
}
