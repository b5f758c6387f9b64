//! Leases of meeting actors when several nodes share one PostgreSQL database (`live_lease`).
//!
//! Exactly one node runs a meeting's live actor at a time: the holder of its lease. A lease is
//! taken when it is free or has expired, renewed by its holder every second, and lost when the
//! holder stops renewing it (the process died, or it lost the database). Every takeover by
//! another node raises the lease's epoch (a fencing token). The database's clock decides what
//! has expired, so the nodes' clocks do not matter.
//!
//! The lease says who *should* write; the conditional update of `live_session.seq` (see
//! [`crate::live::commit`]) is the fence that makes a second writer impossible: a node that lost
//! its lease but still commits a batch computed from an older state is refused.
//!
//! New events are announced on the PostgreSQL notification channel [`LIVE_CHANNEL`] with the
//! payload `"<meeting> <seq>"`, sent in the transaction that writes them (so only once they are
//! durable); other nodes read the rows themselves.

use std::time::Duration;

use plenum_domain::MeetingId;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use uuid::Uuid;

use crate::Result;

/// The notification channel of new live events.
pub const LIVE_CHANNEL: &str = "plenum_live";

/// The notification channel of revoked device sessions (payload: the session id).
pub const KICK_CHANNEL: &str = "plenum_kick";

/// The notification channel of personal messages (payload: `"<person> <message JSON>"`).
pub const PERSONAL_CHANNEL: &str = "plenum_personal";

/// Who holds a meeting's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub node: Uuid,
    /// Where the node takes forwarded commands.
    pub url: String,
    pub epoch: i64,
    /// Whether the lease still holds (by the database's clock).
    pub valid: bool,
}

pub(crate) fn millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

/// Takes the meeting's lease for `node` if it is free, expired or `node`'s own already.
/// Returns the epoch when `node` holds it now.
pub async fn acquire(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
    node: Uuid,
    url: &str,
    ttl: Duration,
) -> Result<Option<i64>> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "INSERT INTO live_lease (meeting_id, node_id, node_url, epoch, expires) \
             VALUES ($1, $2, $3, 1, clock_timestamp() + $4 * interval '1 millisecond') \
             ON CONFLICT (meeting_id) DO UPDATE SET \
               node_id = EXCLUDED.node_id, node_url = EXCLUDED.node_url, \
               epoch = live_lease.epoch + \
                 CASE WHEN live_lease.node_id = EXCLUDED.node_id THEN 0 ELSE 1 END, \
               expires = EXCLUDED.expires \
             WHERE live_lease.node_id = EXCLUDED.node_id \
                OR live_lease.expires < clock_timestamp() \
             RETURNING epoch",
            [
                meeting.as_uuid().into(),
                node.into(),
                url.into(),
                millis(ttl).into(),
            ],
        ))
        .await?;
    match row {
        Some(row) => Ok(Some(row.try_get("", "epoch")?)),
        None => Ok(None),
    }
}

/// Who holds the meeting's lease, if anyone ever did.
pub async fn holder(db: &impl ConnectionTrait, meeting: MeetingId) -> Result<Option<Holder>> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT node_id, node_url, epoch, expires > clock_timestamp() AS valid \
             FROM live_lease WHERE meeting_id = $1",
            [meeting.as_uuid().into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(Holder {
        node: row.try_get("", "node_id")?,
        url: row.try_get("", "node_url")?,
        epoch: row.try_get("", "epoch")?,
        valid: row.try_get("", "valid")?,
    }))
}

/// Renews every lease `node` holds; returns the meetings whose lease it still holds. A lease
/// that expired but was not taken by anyone else is renewed too.
pub async fn renew(db: &impl ConnectionTrait, node: Uuid, ttl: Duration) -> Result<Vec<MeetingId>> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "UPDATE live_lease SET expires = clock_timestamp() + $2 * interval '1 millisecond' \
             WHERE node_id = $1 RETURNING meeting_id",
            [node.into(), millis(ttl).into()],
        ))
        .await?;
    rows.into_iter()
        .map(|row| Ok(MeetingId::from_uuid(row.try_get("", "meeting_id")?)))
        .collect()
}

/// Gives up `node`'s lease of one meeting (its actor could not start), so that another node
/// takes the meeting over at once. A lease another node holds is left alone.
pub async fn release(db: &impl ConnectionTrait, meeting: MeetingId, node: Uuid) -> Result<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "UPDATE live_lease SET expires = clock_timestamp() - interval '1 second' \
         WHERE meeting_id = $1 AND node_id = $2",
        [meeting.as_uuid().into(), node.into()],
    ))
    .await?;
    Ok(())
}

/// Gives up `node`'s leases (at a clean shutdown), so that others take over at once.
pub async fn release_all(db: &impl ConnectionTrait, node: Uuid) -> Result<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "UPDATE live_lease SET expires = clock_timestamp() - interval '1 second' \
         WHERE node_id = $1",
        [node.into()],
    ))
    .await?;
    Ok(())
}

/// Sends a notification on `channel` (delivered when the surrounding transaction commits).
pub async fn notify(db: &impl ConnectionTrait, channel: &str, payload: &str) -> Result<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [channel.into(), payload.into()],
    ))
    .await?;
    Ok(())
}

/// Sends several notifications on `channel` in one transaction: delivered together, in order.
pub async fn notify_all(
    db: &sea_orm::DatabaseConnection,
    channel: &str,
    payloads: &[String],
) -> Result<()> {
    if let [payload] = payloads {
        return notify(db, channel, payload).await;
    }
    let txn = sea_orm::TransactionTrait::begin(db).await?;
    for payload in payloads {
        notify(&txn, channel, payload).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Notifications of the channels a node listens to, on a connection of its own.
pub struct Listener {
    inner: sea_orm::sqlx::postgres::PgListener,
}

/// What a listener received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A notification: its channel and payload.
    Notification { channel: String, payload: String },
    /// The connection was lost (and is opened again on the next call): notifications sent
    /// meanwhile are gone, so whatever they would have said must be read from the tables.
    Lost,
}

impl Listener {
    /// Listens on `channels` with a connection made like the pool's.
    pub async fn connect(db: &sea_orm::DatabaseConnection, channels: &[&str]) -> Result<Self> {
        let pool = db.get_postgres_connection_pool();
        let mut inner = sea_orm::sqlx::postgres::PgListener::connect_with(pool)
            .await
            .map_err(|err| crate::StoreError::Unreachable(err.to_string()))?;
        inner
            .listen_all(channels.iter().copied())
            .await
            .map_err(|err| crate::StoreError::Unreachable(err.to_string()))?;
        Ok(Self { inner })
    }

    /// The next notification, or `Lost`.
    pub async fn recv(&mut self) -> Result<Heard> {
        match self.inner.try_recv().await {
            Ok(Some(n)) => Ok(Heard::Notification {
                channel: n.channel().to_owned(),
                payload: n.payload().to_owned(),
            }),
            Ok(None) => Ok(Heard::Lost),
            Err(err) => Err(crate::StoreError::Unreachable(err.to_string())),
        }
    }
}

/// Stores a WebSocket ticket (by its hash) for `ttl`, and drops expired ones.
pub async fn issue_ticket(
    db: &impl ConnectionTrait,
    ticket_hash: &str,
    user: Uuid,
    session: Uuid,
    ttl: Duration,
) -> Result<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "DELETE FROM live_ticket WHERE expires < clock_timestamp()",
        [],
    ))
    .await?;
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "INSERT INTO live_ticket (ticket_hash, user_id, session_id, expires) \
         VALUES ($1, $2, $3, clock_timestamp() + $4 * interval '1 millisecond')",
        [
            ticket_hash.into(),
            user.into(),
            session.into(),
            millis(ttl).into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Redeems a ticket once: its user and device session, if it is known and unexpired.
pub async fn redeem_ticket(
    db: &impl ConnectionTrait,
    ticket_hash: &str,
) -> Result<Option<(Uuid, Uuid)>> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "DELETE FROM live_ticket WHERE ticket_hash = $1 \
             RETURNING user_id, session_id, expires > clock_timestamp() AS valid",
            [ticket_hash.into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let valid: bool = row.try_get("", "valid")?;
    Ok(valid.then_some((row.try_get("", "user_id")?, row.try_get("", "session_id")?)))
}
