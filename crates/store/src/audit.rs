//! The append-only, hash-chained audit log. Each entry's hash covers the previous entry's hash
//! and the entry's canonical form, so rewriting any past entry breaks every later hash.

use chrono::{DateTime, SecondsFormat, Utc};
use plenum_domain::{AuditEntry, AuditEvent};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseTransaction, EntityTrait,
    QueryOrder, TransactionTrait,
};
use sha2::{Digest, Sha256};

use crate::entity::audit_log;
use crate::{Result, StoreError};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The canonical text an entry's hash is computed over.
fn canonical(seq: u64, at: DateTime<Utc>, event: &AuditEvent) -> String {
    // A fixed field order and JSON string escaping make this unambiguous.
    let quote = |s: &str| format!("{s:?}");
    format!(
        "{{\"seq\":{seq},\"at\":{},\"actor\":{},\"action\":{},\"subject\":{},\"detail\":{}}}",
        quote(&at.to_rfc3339_opts(SecondsFormat::Micros, true)),
        event
            .actor
            .map(|a| quote(&a.to_string()))
            .unwrap_or_else(|| "null".into()),
        quote(&event.action),
        event
            .subject
            .as_deref()
            .map(quote)
            .unwrap_or_else(|| "null".into()),
        quote(&event.detail),
    )
}

/// The hash of an entry, given the previous one's.
pub fn entry_hash(prev_hash: &str, seq: u64, at: DateTime<Utc>, event: &AuditEvent) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical(seq, at, event).as_bytes());
    hex::encode(hasher.finalize())
}

fn to_entry(m: audit_log::Model) -> AuditEntry {
    AuditEntry {
        seq: u64::try_from(m.seq).unwrap_or(0),
        at: m.at,
        event: AuditEvent {
            actor: m.actor.map(Into::into),
            action: m.action,
            subject: m.subject,
            detail: m.detail,
        },
        prev_hash: m.prev_hash,
        hash: m.hash,
    }
}

/// The sequence number and hash of the last entry (0 and the genesis hash when there is none).
async fn last_link(db: &impl ConnectionTrait) -> Result<(u64, String)> {
    let last = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Seq)
        .one(db)
        .await?;
    Ok(match last {
        Some(m) => (u64::try_from(m.seq).unwrap_or(0), m.hash),
        None => (0, GENESIS.to_owned()),
    })
}

/// The row of an entry.
fn row(
    seq: u64,
    at: DateTime<Utc>,
    event: &AuditEvent,
    prev_hash: String,
    hash: String,
) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        seq: Set(i64::try_from(seq).unwrap_or(i64::MAX)),
        at: Set(at),
        actor: Set(event.actor.map(|a| a.as_uuid())),
        action: Set(event.action.clone()),
        subject: Set(event.subject.clone()),
        detail: Set(event.detail.clone()),
        prev_hash: Set(prev_hash),
        hash: Set(hash),
    }
}

/// One attempt at appending `event` after the last entry; `Conflict` if another writer took
/// the sequence number first.
async fn try_append(
    db: &impl ConnectionTrait,
    event: &AuditEvent,
    at: DateTime<Utc>,
) -> Result<AuditEntry> {
    let (last, prev_hash) = last_link(db).await?;
    let seq = last + 1;
    let hash = entry_hash(&prev_hash, seq, at, event);
    row(seq, at, event, prev_hash.clone(), hash.clone())
        .insert(db)
        .await
        .map_err(StoreError::from)?;
    Ok(AuditEntry {
        seq,
        at,
        event: event.clone(),
        prev_hash,
        hash,
    })
}

/// Appends an event. Concurrent appends race for the next sequence number; the primary key lets
/// exactly one win and the others retry on top of it.
pub async fn append(
    db: &impl ConnectionTrait,
    event: AuditEvent,
    at: DateTime<Utc>,
) -> Result<AuditEntry> {
    let at = chrono::SubsecRound::trunc_subsecs(at, 6);
    for _ in 0..ATTEMPTS {
        match try_append(db, &event, at).await {
            Err(StoreError::Conflict(_)) => continue,
            done => return done,
        }
    }
    Err(busy())
}

/// Appends an event inside the caller's transaction, so the entry commits (or rolls back) with
/// the change it records. Each attempt runs in a savepoint: on PostgreSQL a lost race for the
/// sequence number would otherwise abort the whole transaction. Append last, just before the
/// commit, so the entry's sequence number is held as briefly as possible.
pub async fn append_in(
    txn: &DatabaseTransaction,
    event: AuditEvent,
    at: DateTime<Utc>,
) -> Result<AuditEntry> {
    let at = chrono::SubsecRound::trunc_subsecs(at, 6);
    for _ in 0..ATTEMPTS {
        let savepoint = txn.begin().await?;
        match try_append(&savepoint, &event, at).await {
            Ok(entry) => {
                savepoint.commit().await?;
                return Ok(entry);
            }
            Err(StoreError::Conflict(_)) => {
                savepoint.rollback().await?;
            }
            Err(err) => return Err(err),
        }
    }
    Err(busy())
}

const ATTEMPTS: usize = 50;

fn busy() -> StoreError {
    StoreError::Conflict(format!("audit log busy; gave up after {ATTEMPTS} attempts"))
}

/// Whether a failed append may simply be tried again: another writer took the next sequence
/// number first, or (SQLite) committed between this transaction's read and its write.
fn retryable(err: &StoreError) -> bool {
    match err {
        StoreError::Conflict(_) => true,
        StoreError::Database(err) => {
            let text = err.to_string();
            text.contains("database is locked") || text.contains("busy")
        }
        _ => false,
    }
}

/// Appends several events, each with its own time, in one transaction (one fsync), in order.
/// Like [`append`], a concurrent writer that took the next sequence number first makes it start
/// over on top.
pub async fn append_all(
    db: &sea_orm::DatabaseConnection,
    events: &[(DateTime<Utc>, AuditEvent)],
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    for _ in 0..ATTEMPTS {
        // Immediate on SQLite: the read of the last entry cannot go stale before the insert.
        let txn = crate::begin_write(db).await?;
        let (mut seq, mut prev_hash) = last_link(&txn).await?;
        let mut rows = Vec::with_capacity(events.len());
        for (at, event) in events {
            let at = chrono::SubsecRound::trunc_subsecs(*at, 6);
            seq += 1;
            let hash = entry_hash(&prev_hash, seq, at, event);
            let previous = std::mem::replace(&mut prev_hash, hash.clone());
            rows.push(row(seq, at, event, previous, hash));
        }
        let inserted = audit_log::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await
            .map_err(StoreError::from);
        let committed = match inserted {
            Ok(_) => txn.commit().await.map_err(StoreError::from),
            Err(err) => {
                let _ = txn.rollback().await;
                Err(err)
            }
        };
        match committed {
            Ok(()) => return Ok(()),
            Err(err) if retryable(&err) => continue,
            Err(err) => return Err(err),
        }
    }
    Err(busy())
}

/// Every entry, in order.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<AuditEntry>> {
    Ok(audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .map(to_entry)
        .collect())
}

/// Where the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first entry whose stored data does not match the chain.
    pub seq: u64,
    pub reason: String,
}

/// Checks the whole chain; returns the number of entries, or the first broken one.
pub async fn verify(db: &impl ConnectionTrait) -> Result<Result<u64, ChainBreak>> {
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1;
    let entries = list(db).await?;
    for entry in &entries {
        if entry.seq != expected_seq {
            return Ok(Err(ChainBreak {
                seq: entry.seq,
                reason: format!("expected entry {expected_seq}, found {}", entry.seq),
            }));
        }
        if entry.prev_hash != prev {
            return Ok(Err(ChainBreak {
                seq: entry.seq,
                reason: "previous hash does not match".into(),
            }));
        }
        if entry_hash(&prev, entry.seq, entry.at, &entry.event) != entry.hash {
            return Ok(Err(ChainBreak {
                seq: entry.seq,
                reason: "content does not match its hash".into(),
            }));
        }
        prev = entry.hash.clone();
        expected_seq += 1;
    }
    Ok(Ok(entries.len() as u64))
}
