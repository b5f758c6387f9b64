//! Fraction collaboration: notes on papers, agenda items and files, and organization forums.
//!
//! Visibility is not stored: callers pass the person and the organizations they currently
//! belong to (from memberships active today), so ending a membership ends access at once.
//! Every edit keeps the previous text as a revision; deleting a note hides it, deleting a post
//! leaves a tombstone (no text) so replies keep their place.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use plenum_domain::{AgendaItemId, FileId, MeetingId, OrganizationId, PaperId, PersonId};
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use crate::entity::{
    forum_post, forum_post_revision, forum_read, forum_thread, note, note_revision,
};
use crate::{Result, StoreError};

/// How many rows a list or search returns at most.
pub const LIST_LIMIT: u64 = 500;

/// What a note is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteTarget {
    Paper(PaperId),
    AgendaItem(AgendaItemId),
    File(FileId),
}

/// Where an annotation sits on a page of a file (a note on a file may have one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// `highlight`, `note` or `ink`.
    pub kind: String,
    /// The shapes (rectangles, a point or strokes) as JSON, in PDF page units; the API layer
    /// validates and interprets them.
    pub shapes: String,
    /// The SHA-256 (hex) of the file's content the annotation was made on.
    pub content_sha256: String,
}

/// A member's note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub id: Uuid,
    pub author: PersonId,
    pub target: NoteTarget,
    /// Anchor: a page of the document.
    pub page: Option<u32>,
    /// Anchor: a quoted passage.
    pub quote: Option<String>,
    /// Anchor: a place on the page of a file (an annotation in the viewer).
    pub anchor: Option<Anchor>,
    /// `None`: private to the author.
    pub shared_with: Option<OrganizationId>,
    /// When it was last shared with `shared_with`.
    pub shared_at: Option<DateTime<Utc>>,
    /// Markdown.
    pub body: String,
    /// Starts at 1, +1 per edit.
    pub version: u32,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// A note's text before an edit (or its first text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRevision {
    pub version: u32,
    pub body: String,
    pub shared_with: Option<OrganizationId>,
    pub edited: DateTime<Utc>,
}

/// A forum thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub id: Uuid,
    pub organization: OrganizationId,
    pub author: PersonId,
    pub title: String,
    pub paper_id: Option<PaperId>,
    pub meeting_id: Option<MeetingId>,
    pub agenda_item_id: Option<AgendaItemId>,
    pub pinned: bool,
    pub locked: bool,
    pub created: DateTime<Utc>,
    pub last_post: DateTime<Utc>,
}

/// A post in a thread. A deleted post is a tombstone: `deleted` set, `body` empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: Uuid,
    pub thread_id: Uuid,
    pub organization: OrganizationId,
    pub author: PersonId,
    pub reply_to: Option<Uuid>,
    pub body: String,
    pub mentions: Vec<PersonId>,
    pub version: u32,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub deleted: Option<DateTime<Utc>>,
}

/// A post's text before an edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRevision {
    pub version: u32,
    pub body: String,
    pub edited: DateTime<Utc>,
}

fn version(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

fn note_from(m: note::Model) -> Result<Note> {
    let target = match (m.paper_id, m.agenda_item_id, m.file_id) {
        (Some(id), None, None) => NoteTarget::Paper(id.into()),
        (None, Some(id), None) => NoteTarget::AgendaItem(id.into()),
        (None, None, Some(id)) => NoteTarget::File(id.into()),
        _ => {
            return Err(StoreError::Corrupt(format!(
                "note {} is not attached to exactly one thing",
                m.id
            )));
        }
    };
    let anchor = match (m.anchor_kind, m.anchor) {
        (Some(kind), Some(shapes)) => Some(Anchor {
            kind,
            shapes,
            content_sha256: m.content_sha256.unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(Note {
        id: m.id,
        author: m.author_id.into(),
        target,
        page: m.page.and_then(|p| u32::try_from(p).ok()),
        quote: m.quote,
        anchor,
        shared_with: m.shared_with.map(Into::into),
        shared_at: m.shared_at,
        body: m.body,
        version: version(m.version),
        created: m.created,
        modified: m.modified,
    })
}

fn thread_from(m: forum_thread::Model) -> Thread {
    Thread {
        id: m.id,
        organization: m.organization_id.into(),
        author: m.author_id.into(),
        title: m.title,
        paper_id: m.paper_id.map(Into::into),
        meeting_id: m.meeting_id.map(Into::into),
        agenda_item_id: m.agenda_item_id.map(Into::into),
        pinned: m.pinned,
        locked: m.locked,
        created: m.created,
        last_post: m.last_post,
    }
}

fn post_from(m: forum_post::Model) -> Post {
    Post {
        id: m.id,
        thread_id: m.thread_id,
        organization: m.organization_id.into(),
        author: m.author_id.into(),
        reply_to: m.reply_to,
        mentions: m
            .mentions
            .split(',')
            .filter_map(|s| Uuid::parse_str(s).ok())
            .map(Into::into)
            .collect(),
        body: m.body,
        version: version(m.version),
        created: m.created,
        modified: m.modified,
        deleted: m.deleted,
    }
}

/// A `LIKE` pattern matching `q` anywhere, case-insensitively (with `lower()` on the column).
fn like_pattern(q: &str) -> String {
    let escaped: String = q
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

fn lower_like(column: impl sea_orm::sea_query::IntoColumnRef, q: &str) -> Expr {
    Expr::expr(Func::lower(Expr::col(column)))
        .like(sea_orm::sea_query::LikeExpr::new(like_pattern(q)).escape('\\'))
}

fn uuids<T: Into<Uuid> + Copy>(ids: &[T]) -> Vec<Uuid> {
    ids.iter().map(|&id| id.into()).collect()
}

pub mod notes {
    use super::*;

    /// A note to be written.
    #[derive(Debug, Clone)]
    pub struct NewNote {
        pub author: PersonId,
        pub target: NoteTarget,
        pub page: Option<u32>,
        pub quote: Option<String>,
        /// An annotation's place on the page (only for notes on a file).
        pub anchor: Option<Anchor>,
        pub shared_with: Option<OrganizationId>,
        pub body: String,
        /// A client-chosen id (a repeated request carries the same one); `None`: a new id.
        pub id: Option<Uuid>,
    }

    /// Notes `person` may see under `visible` (own private notes, and notes shared with one of
    /// `organizations`), newest first.
    fn visible(person: PersonId, organizations: &[OrganizationId]) -> Condition {
        Condition::all().add(note::Column::Deleted.is_null()).add(
            Condition::any()
                .add(
                    Condition::all()
                        .add(note::Column::AuthorId.eq(person.as_uuid()))
                        .add(note::Column::SharedWith.is_null()),
                )
                .add(note::Column::SharedWith.is_in(uuids(organizations))),
        )
    }

    pub async fn insert(
        db: &impl TransactionTrait,
        new: NewNote,
        now: DateTime<Utc>,
    ) -> Result<Note> {
        let (paper, item, file) = match new.target {
            NoteTarget::Paper(id) => (Some(id.as_uuid()), None, None),
            NoteTarget::AgendaItem(id) => (None, Some(id.as_uuid()), None),
            NoteTarget::File(id) => (None, None, Some(id.as_uuid())),
        };
        let id = new.id.unwrap_or_else(Uuid::now_v7);
        let txn = crate::begin_write(db).await?;
        let model = note::ActiveModel {
            id: Set(id),
            author_id: Set(new.author.as_uuid()),
            paper_id: Set(paper),
            agenda_item_id: Set(item),
            file_id: Set(file),
            page: Set(new.page.and_then(|p| i32::try_from(p).ok())),
            quote: Set(new.quote),
            shared_with: Set(new.shared_with.map(|o| o.as_uuid())),
            shared_at: Set(new.shared_with.map(|_| now)),
            body: Set(new.body.clone()),
            version: Set(1),
            created: Set(now),
            modified: Set(now),
            deleted: Set(None),
            anchor_kind: Set(new.anchor.as_ref().map(|a| a.kind.clone())),
            content_sha256: Set(new.anchor.as_ref().map(|a| a.content_sha256.clone())),
            anchor: Set(new.anchor.map(|a| a.shapes)),
        }
        .insert(&txn)
        .await?;
        note_revision::ActiveModel {
            id: Set(Uuid::now_v7()),
            note_id: Set(id),
            version: Set(1),
            body: Set(new.body),
            shared_with: Set(model.shared_with),
            edited: Set(now),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        note_from(model)
    }

    /// The note with `id`, deleted or not, and whether it is deleted: what a repeated create
    /// with a client-chosen id is checked against.
    pub async fn find_any(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<(Note, bool)>> {
        match note::Entity::find_by_id(id).one(db).await? {
            Some(m) => {
                let deleted = m.deleted.is_some();
                Ok(Some((note_from(m)?, deleted)))
            }
            None => Ok(None),
        }
    }

    /// A note that is not deleted.
    pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Note> {
        match note::Entity::find_by_id(id).one(db).await? {
            Some(m) if m.deleted.is_none() => note_from(m),
            _ => Err(StoreError::NotFound {
                entity: "note",
                id: id.to_string(),
            }),
        }
    }

    /// The notes on `target` that `person` may see.
    pub async fn list_for_target(
        db: &impl ConnectionTrait,
        target: NoteTarget,
        person: PersonId,
        organizations: &[OrganizationId],
    ) -> Result<Vec<Note>> {
        let on = match target {
            NoteTarget::Paper(id) => note::Column::PaperId.eq(id.as_uuid()),
            NoteTarget::AgendaItem(id) => note::Column::AgendaItemId.eq(id.as_uuid()),
            NoteTarget::File(id) => note::Column::FileId.eq(id.as_uuid()),
        };
        note::Entity::find()
            .filter(on)
            .filter(visible(person, organizations))
            .order_by_asc(note::Column::Created)
            .limit(LIST_LIMIT)
            .all(db)
            .await?
            .into_iter()
            .map(note_from)
            .collect()
    }

    /// The annotations on `file` that `person` may see (at most `limit`), oldest first.
    pub async fn annotations(
        db: &impl ConnectionTrait,
        file: FileId,
        person: PersonId,
        organizations: &[OrganizationId],
        limit: u64,
    ) -> Result<Vec<Note>> {
        note::Entity::find()
            .filter(note::Column::FileId.eq(file.as_uuid()))
            .filter(note::Column::AnchorKind.is_not_null())
            .filter(visible(person, organizations))
            .order_by_asc(note::Column::Created)
            .order_by_asc(note::Column::Id)
            .limit(limit)
            .all(db)
            .await?
            .into_iter()
            .map(note_from)
            .collect()
    }

    /// Every note `person` may see: their own and those shared with them, newest first.
    pub async fn list_visible(
        db: &impl ConnectionTrait,
        person: PersonId,
        organizations: &[OrganizationId],
    ) -> Result<Vec<Note>> {
        note::Entity::find()
            .filter(visible(person, organizations))
            .order_by_desc(note::Column::Modified)
            .limit(LIST_LIMIT)
            .all(db)
            .await?
            .into_iter()
            .map(note_from)
            .collect()
    }

    /// Notes `person` may see whose text contains `q` (case-insensitive), newest first.
    pub async fn search(
        db: &impl ConnectionTrait,
        person: PersonId,
        organizations: &[OrganizationId],
        q: &str,
    ) -> Result<Vec<Note>> {
        note::Entity::find()
            .filter(visible(person, organizations))
            .filter(
                Condition::any()
                    .add(lower_like(note::Column::Body, q))
                    .add(lower_like(note::Column::Quote, q)),
            )
            .order_by_desc(note::Column::Modified)
            .limit(LIST_LIMIT)
            .all(db)
            .await?
            .into_iter()
            .map(note_from)
            .collect()
    }

    /// Replaces the text and sharing of a note at `expected` version. `Ok(None)`: the note was
    /// changed meanwhile (its version is not `expected`).
    pub async fn update(
        db: &impl TransactionTrait,
        id: Uuid,
        expected: u32,
        body: String,
        shared_with: Option<OrganizationId>,
        now: DateTime<Utc>,
    ) -> Result<Option<Note>> {
        let txn = crate::begin_write(db).await?;
        let current = get(&txn, id).await?;
        if current.version != expected {
            return Ok(None);
        }
        let next = i32::try_from(expected + 1).unwrap_or(i32::MAX);
        let shared_at = if shared_with.is_none() {
            None
        } else if shared_with == current.shared_with {
            current.shared_at
        } else {
            Some(now)
        };
        let result = note::Entity::update_many()
            .col_expr(note::Column::Body, Expr::value(body.clone()))
            .col_expr(
                note::Column::SharedWith,
                Expr::value(shared_with.map(|o| o.as_uuid())),
            )
            .col_expr(note::Column::SharedAt, Expr::value(shared_at))
            .col_expr(note::Column::Version, Expr::value(next))
            .col_expr(note::Column::Modified, Expr::value(now))
            .filter(note::Column::Id.eq(id))
            .filter(note::Column::Version.eq(i32::try_from(expected).unwrap_or(0)))
            .exec(&txn)
            .await?;
        if result.rows_affected != 1 {
            return Ok(None);
        }
        note_revision::ActiveModel {
            id: Set(Uuid::now_v7()),
            note_id: Set(id),
            version: Set(next),
            body: Set(body),
            shared_with: Set(shared_with.map(|o| o.as_uuid())),
            edited: Set(now),
        }
        .insert(&txn)
        .await?;
        let note = get(&txn, id).await?;
        txn.commit().await?;
        Ok(Some(note))
    }

    /// Hides a note at `expected` version. `Ok(false)`: the version did not match.
    pub async fn delete(
        db: &impl ConnectionTrait,
        id: Uuid,
        expected: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut update = note::Entity::update_many()
            .col_expr(note::Column::Deleted, Expr::value(Some(now)))
            .filter(note::Column::Id.eq(id))
            .filter(note::Column::Deleted.is_null());
        if let Some(expected) = expected {
            update = update.filter(note::Column::Version.eq(i32::try_from(expected).unwrap_or(0)));
        }
        Ok(update.exec(db).await?.rows_affected == 1)
    }

    /// Every version of a note, oldest first.
    pub async fn history(db: &impl ConnectionTrait, id: Uuid) -> Result<Vec<NoteRevision>> {
        Ok(note_revision::Entity::find()
            .filter(note_revision::Column::NoteId.eq(id))
            .order_by_asc(note_revision::Column::Version)
            .all(db)
            .await?
            .into_iter()
            .map(|m| NoteRevision {
                version: version(m.version),
                body: m.body,
                shared_with: m.shared_with.map(Into::into),
                edited: m.edited,
            })
            .collect())
    }
}

pub mod forums {
    use super::*;

    /// A thread to be opened, with its first post.
    #[derive(Debug, Clone)]
    pub struct NewThread {
        pub organization: OrganizationId,
        pub author: PersonId,
        pub title: String,
        pub paper_id: Option<PaperId>,
        pub meeting_id: Option<MeetingId>,
        pub agenda_item_id: Option<AgendaItemId>,
        pub body: String,
        pub mentions: Vec<PersonId>,
    }

    fn mentions(ids: &[PersonId]) -> String {
        ids.iter()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    async fn insert_post(
        db: &impl ConnectionTrait,
        thread: &Thread,
        author: PersonId,
        reply_to: Option<Uuid>,
        body: String,
        mentioned: &[PersonId],
        now: DateTime<Utc>,
    ) -> Result<Post> {
        let model = forum_post::ActiveModel {
            id: Set(Uuid::now_v7()),
            thread_id: Set(thread.id),
            organization_id: Set(thread.organization.as_uuid()),
            author_id: Set(author.as_uuid()),
            reply_to: Set(reply_to),
            body: Set(body),
            mentions: Set(mentions(mentioned)),
            version: Set(1),
            created: Set(now),
            modified: Set(now),
            deleted: Set(None),
        }
        .insert(db)
        .await?;
        forum_thread::Entity::update_many()
            .col_expr(forum_thread::Column::LastPost, Expr::value(now))
            .filter(forum_thread::Column::Id.eq(thread.id))
            .exec(db)
            .await?;
        // The author has read their own thread up to here.
        mark_read(db, thread.id, author, now).await?;
        Ok(post_from(model))
    }

    /// Opens a thread with its first post.
    pub async fn create_thread(
        db: &impl TransactionTrait,
        new: NewThread,
        now: DateTime<Utc>,
    ) -> Result<(Thread, Post)> {
        let txn = crate::begin_write(db).await?;
        let model = forum_thread::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(new.organization.as_uuid()),
            author_id: Set(new.author.as_uuid()),
            title: Set(new.title),
            paper_id: Set(new.paper_id.map(|id| id.as_uuid())),
            meeting_id: Set(new.meeting_id.map(|id| id.as_uuid())),
            agenda_item_id: Set(new.agenda_item_id.map(|id| id.as_uuid())),
            pinned: Set(false),
            locked: Set(false),
            created: Set(now),
            last_post: Set(now),
            deleted: Set(None),
        }
        .insert(&txn)
        .await?;
        let thread = thread_from(model);
        let post = insert_post(
            &txn,
            &thread,
            new.author,
            None,
            new.body,
            &new.mentions,
            now,
        )
        .await?;
        txn.commit().await?;
        Ok((thread, post))
    }

    /// A thread that is not deleted.
    pub async fn get_thread(db: &impl ConnectionTrait, id: Uuid) -> Result<Thread> {
        match forum_thread::Entity::find_by_id(id).one(db).await? {
            Some(m) if m.deleted.is_none() => Ok(thread_from(m)),
            _ => Err(StoreError::NotFound {
                entity: "forum thread",
                id: id.to_string(),
            }),
        }
    }

    /// The threads of an organization's forum: pinned first, then by latest post.
    pub async fn list_threads(
        db: &impl ConnectionTrait,
        organization: OrganizationId,
    ) -> Result<Vec<Thread>> {
        Ok(forum_thread::Entity::find()
            .filter(forum_thread::Column::OrganizationId.eq(organization.as_uuid()))
            .filter(forum_thread::Column::Deleted.is_null())
            .order_by_desc(forum_thread::Column::Pinned)
            .order_by_desc(forum_thread::Column::LastPost)
            .limit(LIST_LIMIT)
            .all(db)
            .await?
            .into_iter()
            .map(thread_from)
            .collect())
    }

    /// A thread's posts, tombstones included, oldest first.
    pub async fn list_posts(db: &impl ConnectionTrait, thread: Uuid) -> Result<Vec<Post>> {
        Ok(forum_post::Entity::find()
            .filter(forum_post::Column::ThreadId.eq(thread))
            .order_by_asc(forum_post::Column::Created)
            .order_by_asc(forum_post::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(post_from)
            .collect())
    }

    /// Adds a post (or a reply to one) to a thread.
    pub async fn add_post(
        db: &impl TransactionTrait,
        thread: &Thread,
        author: PersonId,
        reply_to: Option<Uuid>,
        body: String,
        mentioned: &[PersonId],
        now: DateTime<Utc>,
    ) -> Result<Post> {
        let txn = crate::begin_write(db).await?;
        let post = insert_post(&txn, thread, author, reply_to, body, mentioned, now).await?;
        txn.commit().await?;
        Ok(post)
    }

    /// A post, tombstone or not.
    pub async fn get_post(db: &impl ConnectionTrait, id: Uuid) -> Result<Post> {
        forum_post::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(post_from)
            .ok_or(StoreError::NotFound {
                entity: "forum post",
                id: id.to_string(),
            })
    }

    /// Replaces a post's text at `expected` version, keeping the old text as a revision.
    /// `Ok(None)`: the version did not match or the post is deleted.
    pub async fn update_post(
        db: &impl TransactionTrait,
        id: Uuid,
        expected: u32,
        body: String,
        mentioned: &[PersonId],
        now: DateTime<Utc>,
    ) -> Result<Option<Post>> {
        let txn = crate::begin_write(db).await?;
        let current = get_post(&txn, id).await?;
        if current.version != expected || current.deleted.is_some() {
            return Ok(None);
        }
        let next = i32::try_from(expected + 1).unwrap_or(i32::MAX);
        let result = forum_post::Entity::update_many()
            .col_expr(forum_post::Column::Body, Expr::value(body))
            .col_expr(
                forum_post::Column::Mentions,
                Expr::value(mentions(mentioned)),
            )
            .col_expr(forum_post::Column::Version, Expr::value(next))
            .col_expr(forum_post::Column::Modified, Expr::value(now))
            .filter(forum_post::Column::Id.eq(id))
            .filter(forum_post::Column::Version.eq(i32::try_from(expected).unwrap_or(0)))
            .exec(&txn)
            .await?;
        if result.rows_affected != 1 {
            return Ok(None);
        }
        forum_post_revision::ActiveModel {
            id: Set(Uuid::now_v7()),
            post_id: Set(id),
            version: Set(i32::try_from(expected).unwrap_or(0)),
            body: Set(current.body),
            edited: Set(current.modified),
        }
        .insert(&txn)
        .await?;
        let post = get_post(&txn, id).await?;
        txn.commit().await?;
        Ok(Some(post))
    }

    /// The earlier versions of a post, oldest first.
    pub async fn post_history(db: &impl ConnectionTrait, id: Uuid) -> Result<Vec<PostRevision>> {
        Ok(forum_post_revision::Entity::find()
            .filter(forum_post_revision::Column::PostId.eq(id))
            .order_by_asc(forum_post_revision::Column::Version)
            .all(db)
            .await?
            .into_iter()
            .map(|m| PostRevision {
                version: version(m.version),
                body: m.body,
                edited: m.edited,
            })
            .collect())
    }

    /// Turns a post into a tombstone: its text (and history) is removed, its place stays.
    /// `Ok(false)`: already deleted.
    pub async fn delete_post(
        db: &impl TransactionTrait,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let txn = crate::begin_write(db).await?;
        let result = forum_post::Entity::update_many()
            .col_expr(forum_post::Column::Deleted, Expr::value(Some(now)))
            .col_expr(forum_post::Column::Body, Expr::value(String::new()))
            .col_expr(forum_post::Column::Mentions, Expr::value(String::new()))
            .col_expr(forum_post::Column::Modified, Expr::value(now))
            .filter(forum_post::Column::Id.eq(id))
            .filter(forum_post::Column::Deleted.is_null())
            .exec(&txn)
            .await?;
        forum_post_revision::Entity::delete_many()
            .filter(forum_post_revision::Column::PostId.eq(id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(result.rows_affected == 1)
    }

    /// Pins or unpins a thread.
    pub async fn set_pinned(db: &impl ConnectionTrait, id: Uuid, pinned: bool) -> Result<Thread> {
        let mut model = forum_thread::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "forum thread",
                id: id.to_string(),
            })?
            .into_active_model();
        model.pinned = Set(pinned);
        Ok(thread_from(model.update(db).await?))
    }

    /// Locks or unlocks a thread (a locked thread takes no new posts).
    pub async fn set_locked(db: &impl ConnectionTrait, id: Uuid, locked: bool) -> Result<Thread> {
        let mut model = forum_thread::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "forum thread",
                id: id.to_string(),
            })?
            .into_active_model();
        model.locked = Set(locked);
        Ok(thread_from(model.update(db).await?))
    }

    /// Marks a thread read by `person` up to `at` (never moves backwards).
    pub async fn mark_read(
        db: &impl ConnectionTrait,
        thread: Uuid,
        person: PersonId,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let existing = forum_read::Entity::find_by_id((thread, person.as_uuid()))
            .one(db)
            .await?;
        if existing.as_ref().is_some_and(|m| m.last_read >= at) {
            return Ok(());
        }
        forum_read::Entity::insert(forum_read::ActiveModel {
            thread_id: Set(thread),
            person_id: Set(person.as_uuid()),
            last_read: Set(at),
        })
        .on_conflict(
            OnConflict::columns([forum_read::Column::ThreadId, forum_read::Column::PersonId])
                .update_column(forum_read::Column::LastRead)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        Ok(())
    }

    /// Unread posts per thread for `person` in the forums of `organizations`: posts by others,
    /// not deleted, newer than the person's read marker of the thread.
    pub async fn unread(
        db: &impl ConnectionTrait,
        person: PersonId,
        organizations: &[OrganizationId],
    ) -> Result<HashMap<Uuid, (OrganizationId, u64)>> {
        if organizations.is_empty() {
            return Ok(HashMap::new());
        }
        let threads: HashMap<Uuid, OrganizationId> = forum_thread::Entity::find()
            .filter(forum_thread::Column::OrganizationId.is_in(uuids(organizations)))
            .filter(forum_thread::Column::Deleted.is_null())
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, m.organization_id.into()))
            .collect();
        let markers: HashMap<Uuid, DateTime<Utc>> = forum_read::Entity::find()
            .filter(forum_read::Column::PersonId.eq(person.as_uuid()))
            .filter(forum_read::Column::ThreadId.is_in(threads.keys().copied().collect::<Vec<_>>()))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.thread_id, m.last_read))
            .collect();
        let posts: Vec<(Uuid, DateTime<Utc>)> = forum_post::Entity::find()
            .select_only()
            .column(forum_post::Column::ThreadId)
            .column(forum_post::Column::Created)
            .filter(forum_post::Column::OrganizationId.is_in(uuids(organizations)))
            .filter(forum_post::Column::Deleted.is_null())
            .filter(forum_post::Column::AuthorId.ne(person.as_uuid()))
            .into_tuple()
            .all(db)
            .await?;
        let mut counts: HashMap<Uuid, (OrganizationId, u64)> = HashMap::new();
        for (thread, created) in posts {
            let Some(&organization) = threads.get(&thread) else {
                continue;
            };
            if markers.get(&thread).is_some_and(|&read| created <= read) {
                continue;
            }
            counts.entry(thread).or_insert((organization, 0)).1 += 1;
        }
        Ok(counts)
    }

    /// Posts (not deleted) in the forums of `organizations` whose text contains `q`, and posts
    /// opening threads whose title contains it; newest first.
    pub async fn search(
        db: &impl ConnectionTrait,
        organizations: &[OrganizationId],
        q: &str,
    ) -> Result<Vec<(Thread, Post)>> {
        if organizations.is_empty() {
            return Ok(Vec::new());
        }
        let threads: HashMap<Uuid, Thread> = forum_thread::Entity::find()
            .filter(forum_thread::Column::OrganizationId.is_in(uuids(organizations)))
            .filter(forum_thread::Column::Deleted.is_null())
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, thread_from(m)))
            .collect();
        let posts = forum_post::Entity::find()
            .filter(forum_post::Column::OrganizationId.is_in(uuids(organizations)))
            .filter(forum_post::Column::Deleted.is_null())
            .filter(lower_like(forum_post::Column::Body, q))
            .order_by_desc(forum_post::Column::Created)
            .limit(LIST_LIMIT)
            .all(db)
            .await?;
        Ok(posts
            .into_iter()
            .map(post_from)
            .filter_map(|p| threads.get(&p.thread_id).map(|t| (t.clone(), p)))
            .collect())
    }
}
