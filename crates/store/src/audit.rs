//! The append-only, hash-chained audit log. Each entry's hash covers the previous entry's hash
//! and the entry's canonical form, so rewriting any past entry breaks every later hash.
//!
//! **Keyed.** An entry's hash is an HMAC-SHA256 under the audit key (`audit.key` in the data
//! directory, never in the database): whoever can write the database but lacks the key cannot
//! recompute the chain after an edit. Entries written before the key existed carry plain SHA-256
//! hashes (scheme 1, see [`Scheme`]); they form a prefix of the chain, and the first keyed entry's
//! HMAC covers the last of them, so that prefix is frozen too.
//!
//! **Anchored.** After every append that committed, the chain head (sequence number and hash)
//! and the first keyed sequence number are written to a file outside the database
//! (`audit-head`, see [`Anchor`]). [`verify`] compares the database against it: a removed tail
//! (the log ends before the anchored entry) and a rewritten chain (the anchored entry's hash
//! differs) are both detected, and so is a downgrade of keyed entries to plain SHA-256. Several
//! nodes sharing the data directory share the file: they write it in turn under a file lock,
//! and it only moves forward (see [`Anchor::advance`]).
//!
//! What it cannot do: someone with the key, the database and the anchor file can still rewrite
//! everything consistently.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use plenum_domain::{AuditEntry, AuditEvent};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use sha2::{Digest, Sha256};

use crate::entity::audit_log;
use crate::{Result, StoreError};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Length of the audit key: 256 bits.
pub const KEY_BYTES: usize = 32;

/// How an entry's hash was computed (the `scheme` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain SHA-256: entries written before the audit key existed.
    Sha256 = 1,
    /// HMAC-SHA256 under the audit key: every entry written since.
    HmacSha256 = 2,
}

impl Scheme {
    fn of(raw: i16) -> Option<Scheme> {
        match raw {
            1 => Some(Scheme::Sha256),
            2 => Some(Scheme::HmacSha256),
            _ => None,
        }
    }
}

/// The secret key of the chain's HMAC. Never logged.
#[derive(Clone)]
pub struct AuditKey(Box<[u8; KEY_BYTES]>);

impl AuditKey {
    /// The key from its bytes; `None` unless there are exactly [`KEY_BYTES`].
    pub fn from_bytes(bytes: &[u8]) -> Option<AuditKey> {
        let key: [u8; KEY_BYTES] = bytes.try_into().ok()?;
        Some(AuditKey(Box::new(key)))
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(***)")
    }
}

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

/// The plain SHA-256 hash of an entry (scheme 1, entries from before the audit key), given the
/// previous one's. Anyone can compute it: it is kept to check old entries.
pub fn legacy_hash(prev_hash: &str, seq: u64, at: DateTime<Utc>, event: &AuditEvent) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical(seq, at, event).as_bytes());
    hex::encode(hasher.finalize())
}

/// The keyed hash of an entry (scheme 2): HMAC-SHA256 under `key`, given the previous hash.
pub fn keyed_hash(
    key: &AuditKey,
    prev_hash: &str,
    seq: u64,
    at: DateTime<Utc>,
    event: &AuditEvent,
) -> String {
    let mut mac = mac(key);
    mac.update(b"plenum-audit-v2\n");
    mac.update(prev_hash.as_bytes());
    mac.update(b"\n");
    mac.update(canonical(seq, at, event).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn mac(key: &AuditKey) -> Hmac<Sha256> {
    // HMAC pads a key shorter than the hash's block (64 bytes) with zeros (RFC 2104), so the
    // padded key is the same key, and of the one length `KeyInit::new` takes.
    let mut block = [0u8; 64];
    block[..KEY_BYTES].copy_from_slice(&key.0[..]);
    <Hmac<Sha256> as KeyInit>::new(&block.into())
}

/// Compares two hex hashes without stopping at the first difference.
fn same_hash(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn to_entry(m: &audit_log::Model) -> AuditEntry {
    AuditEntry {
        seq: u64::try_from(m.seq).unwrap_or(0),
        at: m.at,
        event: AuditEvent {
            actor: m.actor.map(Into::into),
            action: m.action.clone(),
            subject: m.subject.clone(),
            detail: m.detail.clone(),
        },
        prev_hash: m.prev_hash.clone(),
        hash: m.hash.clone(),
    }
}

/// The last entry of the chain: its sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// 0 when the log is empty.
    pub seq: u64,
    /// [`GENESIS`] when the log is empty.
    pub hash: String,
}

impl Head {
    fn genesis() -> Head {
        Head {
            seq: 0,
            hash: GENESIS.to_owned(),
        }
    }
}

/// The current head of the chain in the database (to show in a live room display or next to a
/// closed poll: whoever notes it can later check that the log still reaches it).
pub async fn head(db: &impl ConnectionTrait) -> Result<Head> {
    let last = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Seq)
        .one(db)
        .await?;
    Ok(match last {
        Some(m) => Head {
            seq: u64::try_from(m.seq).unwrap_or(0),
            hash: m.hash,
        },
        None => Head::genesis(),
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
        scheme: Set(Scheme::HmacSha256 as i16),
    }
}

/// Why the anchor file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("cannot read the audit anchor {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the audit anchor {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot lock {path} to write the audit anchor: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the audit anchor {path} is damaged: {reason}")]
    Damaged { path: PathBuf, reason: String },
}

/// What the anchor file (`<data_dir>/audit-head`) records: the chain head as of the last append
/// that committed, and the first entry with a keyed hash (entries before it are plain SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub head: Head,
    pub keyed_from: u64,
}

const ANCHOR_MAGIC: &str = "plenum audit head v1";

/// Numbers the temporary files of this process's anchor writes.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes the temporary files of anchor writes that never finished (`<path>.<pid>.<n>.tmp`,
/// left by a process that died between writing and renaming). Call it only while holding the
/// anchor's lock: every writer holds it while its temporary file exists, so any found then
/// belongs to a writer that is gone.
fn remove_stale_temps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{name}.");
    let number = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(middle) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|f| f.strip_suffix(".tmp"))
        else {
            continue;
        };
        let is_temp = middle
            .split_once('.')
            .is_some_and(|(pid, n)| number(pid) && number(n));
        if !is_temp {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => {
                tracing::info!(file = %entry.path().display(), "removed an unfinished audit anchor write")
            }
            Err(err) => {
                tracing::warn!(file = %entry.path().display(), error = %err, "could not remove an unfinished audit anchor write")
            }
        }
    }
}

/// Options that open (and create, with mode 600) a file for writing.
fn private_file() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

impl Anchor {
    fn to_text(&self) -> String {
        format!(
            "{ANCHOR_MAGIC}\nseq={}\nhash={}\nkeyed_from={}\n",
            self.head.seq, self.head.hash, self.keyed_from
        )
    }

    fn parse(text: &str) -> std::result::Result<Anchor, String> {
        let mut lines = text.lines();
        if lines.next() != Some(ANCHOR_MAGIC) {
            return Err("unknown format".into());
        }
        let mut field = |name: &str| -> std::result::Result<String, String> {
            lines
                .next()
                .and_then(|line| line.strip_prefix(name))
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::to_owned)
                .ok_or_else(|| format!("no {name}"))
        };
        let number = |value: String, name: &str| {
            value
                .parse::<u64>()
                .map_err(|_| format!("{name} is not a number"))
        };
        let seq = number(field("seq")?, "seq")?;
        let hash = field("hash")?;
        let keyed_from = number(field("keyed_from")?, "keyed_from")?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("hash is not 64 hex digits".into());
        }
        Ok(Anchor {
            head: Head { seq, hash },
            keyed_from,
        })
    }

    /// The anchor in `path`, or `None` when there is no such file (yet).
    pub fn read(path: &Path) -> std::result::Result<Option<Anchor>, AnchorError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Anchor::parse(&text)
                .map(Some)
                .map_err(|reason| AnchorError::Damaged {
                    path: path.to_owned(),
                    reason,
                }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(AnchorError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Replaces the file at `path` atomically: a temporary file (mode 600) whose name is this
    /// write's own (`<path>.<process id>.<n>.tmp`) is written and synced, then renamed over it,
    /// and the directory synced. On failure the temporary file is removed. It does not lock:
    /// see [`Anchor::advance`] for writers that share the file.
    pub fn write(&self, path: &Path) -> std::result::Result<(), AnchorError> {
        use std::io::Write;
        let fail = |source| AnchorError::Write {
            path: path.to_owned(),
            source,
        };
        let temp = with_suffix(
            path,
            &format!(
                ".{}.{}.tmp",
                std::process::id(),
                TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
            ),
        );
        let renamed = private_file()
            .truncate(true)
            .open(&temp)
            .and_then(|mut file| {
                file.write_all(self.to_text().as_bytes())?;
                file.sync_all()
            })
            .and_then(|()| std::fs::rename(&temp, path));
        if let Err(source) = renamed {
            let _ = std::fs::remove_file(&temp);
            return Err(fail(source));
        }
        #[cfg(unix)]
        if let Some(dir) = path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(fail)?;
        }
        Ok(())
    }

    /// Writes this anchor to `path` unless the file already holds a head at the same or a later
    /// sequence number, and returns what the file holds afterwards: this anchor or the one
    /// found. Throughout, it holds an exclusive lock (`flock`) on `<path>.lock` (mode 600), so
    /// writers in several processes sharing the file take turns and the file never moves
    /// backwards. Blocks while another writer holds the lock: call it off the async runtime.
    pub fn advance(&self, path: &Path) -> std::result::Result<Anchor, AnchorError> {
        let lock_path = with_suffix(path, ".lock");
        let lock = private_file()
            .truncate(false)
            .open(&lock_path)
            .and_then(|file| file.lock().map(|()| file))
            .map_err(|source| AnchorError::Lock {
                path: lock_path.clone(),
                source,
            })?;
        remove_stale_temps(path);
        let held = match Anchor::read(path)? {
            Some(found) if found.head.seq >= self.head.seq => found,
            _ => {
                self.write(path)?;
                self.clone()
            }
        };
        // Closing the file releases the lock.
        drop(lock);
        Ok(held)
    }
}

/// The audit log of a running server: appends with the key and keeps the anchor file up to
/// date. Build it once at startup ([`AuditLog::open`]) and share it.
pub struct AuditLog {
    key: AuditKey,
    anchor_path: PathBuf,
    /// What the anchor file holds as far as this node knows (`None`: no file yet): what it last
    /// wrote there or found there, written by another node. The mutex orders this node's
    /// updates; the file lock of [`Anchor::advance`] orders them with other processes'.
    anchored: tokio::sync::Mutex<Option<Anchor>>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("anchor_path", &self.anchor_path)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// The audit log with `key`, anchored in the file `anchor_path` (read now, if present).
    pub fn open(key: AuditKey, anchor_path: PathBuf) -> std::result::Result<Self, AnchorError> {
        let anchored = Anchor::read(&anchor_path)?;
        Ok(AuditLog {
            key,
            anchor_path,
            anchored: tokio::sync::Mutex::new(anchored),
        })
    }

    /// The anchor as last written.
    pub async fn anchor(&self) -> Option<Anchor> {
        self.anchored.lock().await.clone()
    }

    /// Where the anchor file is.
    pub fn anchor_path(&self) -> &Path {
        &self.anchor_path
    }

    /// One attempt at appending `event` after the last entry; `Conflict` if another writer
    /// took the sequence number first.
    async fn try_append(
        &self,
        db: &impl ConnectionTrait,
        event: &AuditEvent,
        at: DateTime<Utc>,
    ) -> Result<AuditEntry> {
        let last = head(db).await?;
        let seq = last.seq + 1;
        let hash = keyed_hash(&self.key, &last.hash, seq, at, event);
        row(seq, at, event, last.hash.clone(), hash.clone())
            .insert(db)
            .await
            .map_err(StoreError::from)?;
        Ok(AuditEntry {
            seq,
            at,
            event: event.clone(),
            prev_hash: last.hash,
            hash,
        })
    }

    /// Appends an event (committed at once) and updates the anchor. Concurrent appends race for
    /// the next sequence number; the primary key lets exactly one win and the others retry on
    /// top of it.
    pub async fn append(
        &self,
        db: &DatabaseConnection,
        event: AuditEvent,
        at: DateTime<Utc>,
    ) -> Result<AuditEntry> {
        let at = chrono::SubsecRound::trunc_subsecs(at, 6);
        for _ in 0..ATTEMPTS {
            match self.try_append(db, &event, at).await {
                Err(StoreError::Conflict(_)) => continue,
                Ok(entry) => {
                    self.update_anchor(db).await;
                    return Ok(entry);
                }
                Err(err) => return Err(err),
            }
        }
        Err(busy())
    }

    /// Appends an event inside the caller's transaction, so the entry commits (or rolls back)
    /// with the change it records. Each attempt runs in a savepoint: on PostgreSQL a lost race
    /// for the sequence number would otherwise abort the whole transaction. Append last, just
    /// before the commit, so the entry's sequence number is held as briefly as possible; after
    /// the commit call [`AuditLog::update_anchor`].
    pub async fn append_in(
        &self,
        txn: &DatabaseTransaction,
        event: AuditEvent,
        at: DateTime<Utc>,
    ) -> Result<AuditEntry> {
        let at = chrono::SubsecRound::trunc_subsecs(at, 6);
        for _ in 0..ATTEMPTS {
            let savepoint = txn.begin().await?;
            match self.try_append(&savepoint, &event, at).await {
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

    /// Appends several events, each with its own time, in one transaction (one fsync), in
    /// order, then updates the anchor. Like [`AuditLog::append`], a concurrent writer that took
    /// the next sequence number first makes it start over on top.
    pub async fn append_all(
        &self,
        db: &DatabaseConnection,
        events: &[(DateTime<Utc>, AuditEvent)],
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        for _ in 0..ATTEMPTS {
            // Immediate on SQLite: the read of the last entry cannot go stale before the insert.
            let txn = crate::begin_write(db).await?;
            let last = head(&txn).await?;
            let (mut seq, mut prev_hash) = (last.seq, last.hash);
            let mut rows = Vec::with_capacity(events.len());
            for (at, event) in events {
                let at = chrono::SubsecRound::trunc_subsecs(*at, 6);
                seq += 1;
                let hash = keyed_hash(&self.key, &prev_hash, seq, at, event);
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
                Ok(()) => {
                    self.update_anchor(db).await;
                    return Ok(());
                }
                Err(err) if retryable(&err) => continue,
                Err(err) => return Err(err),
            }
        }
        Err(busy())
    }

    /// Writes the committed head of the chain to the anchor file, if it is ahead of the file.
    /// Call it after committing a transaction that appended (the `append*` methods that commit
    /// do so themselves) and once at startup. Never fails: problems are logged as errors, since
    /// the change the entry records has committed already.
    pub async fn update_anchor(&self, db: &DatabaseConnection) {
        if let Err(err) = self.try_update_anchor(db).await {
            tracing::error!(error = %err, "could not update the audit anchor");
        }
    }

    async fn try_update_anchor(
        &self,
        db: &DatabaseConnection,
    ) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let mut anchored = self.anchored.lock().await;
        // Read under the lock: whoever writes the file later read a head at least as new.
        let now = head(db).await?;
        let keyed_from = match &*anchored {
            Some(anchor) if now.seq == anchor.head.seq && now.hash == anchor.head.hash => {
                return Ok(());
            }
            Some(anchor) if now.seq <= anchor.head.seq => {
                return Err(format!(
                    "the audit log ends at entry {} but entry {} was anchored: entries were \
                     removed or rewritten (plenum audit verify); the anchor is kept",
                    now.seq, anchor.head.seq
                )
                .into());
            }
            Some(anchor) => {
                // Advance only along a chain that still holds the anchored entry.
                let kept = entry_hash_at(db, anchor.head.seq).await?;
                if anchor.head.seq > 0 && kept.as_deref() != Some(anchor.head.hash.as_str()) {
                    return Err(format!(
                        "entry {} of the audit log is not the anchored one: the log was \
                         rewritten (plenum audit verify); the anchor is kept",
                        anchor.head.seq
                    )
                    .into());
                }
                anchor.keyed_from
            }
            None => {
                let first_keyed = audit_log::Entity::find()
                    .filter(audit_log::Column::Scheme.eq(Scheme::HmacSha256 as i16))
                    .order_by_asc(audit_log::Column::Seq)
                    .one(db)
                    .await?;
                let keyed_from = first_keyed
                    .map(|m| u64::try_from(m.seq).unwrap_or(0))
                    .unwrap_or(now.seq + 1);
                tracing::info!(
                    path = %self.anchor_path.display(),
                    seq = now.seq,
                    keyed_from,
                    "anchoring the audit log"
                );
                keyed_from
            }
        };
        let next = Anchor {
            head: now,
            keyed_from,
        };
        let path = self.anchor_path.clone();
        let wanted = next.clone();
        let held = tokio::task::spawn_blocking(move || wanted.advance(&path)).await??;
        // Another node sharing the file may have anchored this entry or a later one. Its anchor
        // becomes this node's only if it agrees with the log as this node read it; the next
        // update checks that the database still holds its entry.
        if held.keyed_from != next.keyed_from
            || (held.head.seq == next.head.seq && !same_hash(&held.head.hash, &next.head.hash))
        {
            return Err(format!(
                "the audit anchor {} holds entry {} keyed from entry {}, but the log has entry {} \
                 keyed from entry {}: the anchor or the log was changed (plenum audit verify); \
                 the anchor is kept",
                self.anchor_path.display(),
                held.head.seq,
                held.keyed_from,
                next.head.seq,
                next.keyed_from
            )
            .into());
        }
        *anchored = Some(held);
        Ok(())
    }
}

/// Appends an entry with a plain SHA-256 hash, as releases before the audit key did: for tests
/// of the upgrade only.
#[cfg(feature = "testing")]
pub async fn append_legacy(
    db: &DatabaseConnection,
    event: AuditEvent,
    at: DateTime<Utc>,
) -> Result<AuditEntry> {
    let at = chrono::SubsecRound::trunc_subsecs(at, 6);
    let last = head(db).await?;
    let seq = last.seq + 1;
    let hash = legacy_hash(&last.hash, seq, at, &event);
    let mut model = row(seq, at, &event, last.hash.clone(), hash.clone());
    model.scheme = Set(Scheme::Sha256 as i16);
    model.insert(db).await?;
    Ok(AuditEntry {
        seq,
        at,
        event,
        prev_hash: last.hash,
        hash,
    })
}

async fn entry_hash_at(db: &impl ConnectionTrait, seq: u64) -> Result<Option<String>> {
    let seq = i64::try_from(seq).unwrap_or(i64::MAX);
    Ok(audit_log::Entity::find_by_id(seq)
        .select_only()
        .column(audit_log::Column::Hash)
        .into_tuple::<String>()
        .one(db)
        .await?)
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

/// Every entry, in order.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<AuditEntry>> {
    Ok(audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Seq)
        .all(db)
        .await?
        .iter()
        .map(to_entry)
        .collect())
}

/// Where the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first entry whose stored data does not match the chain (for a removed tail: the
    /// first missing one).
    pub seq: u64,
    pub reason: String,
}

/// An intact chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// How many entries there are.
    pub entries: u64,
    /// How many of them (the first ones) carry plain SHA-256 hashes from before the key.
    pub legacy: u64,
    /// The last entry.
    pub head: Head,
}

/// Checks the whole chain against `key` and the `anchor` (read from the anchor file *before*
/// calling this, so a server appending meanwhile cannot make the database look behind it).
/// Returns the intact chain's figures, or the first break:
///
/// - sequence numbers run 1, 2, … without gaps, each `prev_hash` is the previous hash;
/// - entries before `anchor.keyed_from` carry plain SHA-256 hashes, all later ones HMACs under
///   `key` (without an anchor: plain ones may only precede keyed ones, and keyed ones need one);
/// - the log reaches the anchored entry, and that entry's hash is the anchored one.
pub async fn verify(
    db: &impl ConnectionTrait,
    key: Option<&AuditKey>,
    anchor: Option<&Anchor>,
) -> Result<std::result::Result<Verified, ChainBreak>> {
    let rows = audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Seq)
        .all(db)
        .await?;
    Ok(check(&rows, key, anchor))
}

fn check(
    rows: &[audit_log::Model],
    key: Option<&AuditKey>,
    anchor: Option<&Anchor>,
) -> std::result::Result<Verified, ChainBreak> {
    let broken = |seq: u64, reason: String| Err(ChainBreak { seq, reason });
    let mut prev = Head::genesis();
    let mut legacy = 0;
    let mut keyed_seen = false;
    for model in rows {
        let entry = to_entry(model);
        let seq = entry.seq;
        if seq != prev.seq + 1 {
            return broken(seq, format!("expected entry {}, found {seq}", prev.seq + 1));
        }
        if entry.prev_hash != prev.hash {
            return broken(seq, "previous hash does not match".into());
        }
        let Some(scheme) = Scheme::of(model.scheme) else {
            return broken(seq, format!("unknown hash scheme {}", model.scheme));
        };
        let expected_scheme = match anchor {
            Some(anchor) if seq >= anchor.keyed_from => Some(Scheme::HmacSha256),
            Some(_) => Some(Scheme::Sha256),
            None if keyed_seen => Some(Scheme::HmacSha256),
            None => None,
        };
        if expected_scheme.is_some_and(|expected| expected != scheme) {
            return broken(
                seq,
                match scheme {
                    Scheme::Sha256 => "a plain SHA-256 hash where a keyed one belongs".into(),
                    Scheme::HmacSha256 => "a keyed hash before the key existed".into(),
                },
            );
        }
        let expected = match scheme {
            Scheme::Sha256 => {
                legacy += 1;
                legacy_hash(&prev.hash, seq, entry.at, &entry.event)
            }
            Scheme::HmacSha256 => {
                keyed_seen = true;
                let Some(key) = key else {
                    return broken(seq, "keyed entry, but no audit key to check it".into());
                };
                keyed_hash(key, &prev.hash, seq, entry.at, &entry.event)
            }
        };
        if !same_hash(&expected, &entry.hash) {
            return broken(seq, "content does not match its hash".into());
        }
        if let Some(anchor) = anchor
            && seq == anchor.head.seq
            && !same_hash(&entry.hash, &anchor.head.hash)
        {
            return broken(seq, "differs from the anchored head".into());
        }
        prev = Head {
            seq,
            hash: entry.hash,
        };
    }
    match anchor {
        Some(anchor) if prev.seq < anchor.head.seq => {
            return broken(
                prev.seq + 1,
                format!(
                    "the log ends at entry {}, but entry {} was anchored: entries were removed",
                    prev.seq, anchor.head.seq
                ),
            );
        }
        Some(anchor) if anchor.head.seq == 0 && anchor.head.hash != GENESIS => {
            return broken(1, "the anchor of an empty log is damaged".into());
        }
        None if keyed_seen => {
            return broken(
                legacy + 1,
                "keyed entries, but no anchor file: a removed tail could not be seen".into(),
            );
        }
        _ => {}
    }
    Ok(Verified {
        entries: prev.seq,
        legacy,
        head: prev,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_anchor_file_round_trips_and_rejects_damage() {
        let anchor = Anchor {
            head: Head {
                seq: 195,
                hash: "ab".repeat(32),
            },
            keyed_from: 12,
        };
        assert_eq!(Anchor::parse(&anchor.to_text()), Ok(anchor.clone()));
        assert!(Anchor::parse("").is_err());
        assert!(Anchor::parse(&anchor.to_text().replace("seq=195", "seq=x")).is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-head");
        assert!(Anchor::read(&path).unwrap().is_none());
        anchor.write(&path).unwrap();
        assert_eq!(Anchor::read(&path).unwrap(), Some(anchor));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn keyed_hashes_depend_on_the_key() {
        let event = AuditEvent {
            actor: None,
            action: "x".into(),
            subject: None,
            detail: "{}".into(),
        };
        let at = Utc::now();
        let one = AuditKey::from_bytes(&[1; KEY_BYTES]).unwrap();
        let two = AuditKey::from_bytes(&[2; KEY_BYTES]).unwrap();
        assert_ne!(
            keyed_hash(&one, GENESIS, 1, at, &event),
            keyed_hash(&two, GENESIS, 1, at, &event)
        );
        assert_ne!(
            keyed_hash(&one, GENESIS, 1, at, &event),
            legacy_hash(GENESIS, 1, at, &event)
        );
        assert!(AuditKey::from_bytes(&[1; 31]).is_none());
        assert_eq!(format!("{one:?}"), "AuditKey(***)");
    }

    #[test]
    fn the_anchor_file_only_moves_forward() {
        let anchor = |seq: u64, digit: &str| Anchor {
            head: Head {
                seq,
                hash: digit.repeat(64),
            },
            keyed_from: 1,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-head");
        // A writer that died between writing its temporary file and renaming it left this;
        // files that merely look alike are not the anchor's.
        std::fs::write(dir.path().join("audit-head.4242.7.tmp"), "half").unwrap();
        std::fs::write(dir.path().join("audit-head.notes.tmp"), "mine").unwrap();
        std::fs::write(dir.path().join("other.1.2.tmp"), "mine").unwrap();
        assert_eq!(anchor(5, "a").advance(&path).unwrap(), anchor(5, "a"));
        assert_eq!(anchor(3, "b").advance(&path).unwrap(), anchor(5, "a"));
        assert_eq!(anchor(5, "c").advance(&path).unwrap(), anchor(5, "a"));
        assert_eq!(Anchor::read(&path).unwrap(), Some(anchor(5, "a")));
        assert_eq!(anchor(6, "d").advance(&path).unwrap(), anchor(6, "d"));
        assert_eq!(Anchor::read(&path).unwrap(), Some(anchor(6, "d")));
        // The anchor, its lock file and the unrelated files remain: no temporary files, not
        // even the dead writer's.
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "audit-head",
                "audit-head.lock",
                "audit-head.notes.tmp",
                "other.1.2.tmp"
            ]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("audit-head.lock"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    /// Two nodes (two `AuditLog`s) on one database and one data directory append at the same
    /// time: every anchor update succeeds, and the file ends at the head of the chain.
    #[rstest::rstest]
    #[case::sqlite(crate::Backend::Sqlite)]
    #[case::postgres(crate::Backend::Postgres)]
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_nodes_share_the_anchor_file_without_errors(#[case] backend: crate::Backend) {
        const APPENDS: u64 = 50;
        let Some(test_db) = crate::testing::TestDb::migrated(backend).await else {
            return;
        };
        let db = &test_db.db;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-head");
        let key = AuditKey::from_bytes(&[7; KEY_BYTES]).unwrap();
        let nodes: Vec<_> = (0..2)
            .map(|_| std::sync::Arc::new(AuditLog::open(key.clone(), path.clone()).unwrap()))
            .collect();
        let writers = nodes.iter().enumerate().map(|(node, log)| {
            let (db, log) = (db.clone(), log.clone());
            tokio::spawn(async move {
                let mut errors = Vec::new();
                for n in 0..APPENDS {
                    let event = AuditEvent {
                        actor: None,
                        action: "paper.updated".into(),
                        subject: Some(format!("node-{node}:{n}")),
                        detail: "{}".into(),
                    };
                    let txn = crate::begin_write(&db).await.unwrap();
                    log.append_in(&txn, event, Utc::now()).await.unwrap();
                    txn.commit().await.unwrap();
                    if let Err(err) = log.try_update_anchor(&db).await {
                        errors.push(err.to_string());
                    }
                }
                errors
            })
        });
        let mut errors = Vec::new();
        for writer in writers.collect::<Vec<_>>() {
            errors.extend(writer.await.unwrap());
        }
        assert!(
            errors.is_empty(),
            "{} of {} anchor updates failed, e.g. {}",
            errors.len(),
            2 * APPENDS,
            errors[0]
        );
        let now = head(db).await.unwrap();
        assert_eq!(now.seq, 2 * APPENDS);
        let anchor = Anchor::read(&path).unwrap().unwrap();
        assert_eq!(anchor.head, now, "the file anchors the head of the chain");
        assert_eq!(anchor.keyed_from, 1);
        let verified = verify(db, Some(&key), Some(&anchor))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((verified.entries, verified.legacy), (2 * APPENDS, 0));
        // Each node, the one that anchored last or not, agrees with the file from now on.
        for log in &nodes {
            log.try_update_anchor(db).await.unwrap();
            assert_eq!(log.anchor().await.as_ref(), Some(&anchor));
        }
        assert_eq!(Anchor::read(&path).unwrap().as_ref(), Some(&anchor));
    }
}
