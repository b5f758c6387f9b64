//! The minutes as a record: frozen versions of one part of a meeting's minutes, the chair's and
//! the clerk's signatures on them, their publication, their approval by a later meeting, and the
//! objections raised there.
//!
//! A version is written once. What may change afterwards are the moments of its life: it is
//! completed (`signed_at`, with the rendered PDF) when the second signature arrives, superseded
//! (`superseded_at`) when a newer version of the same part is made, published (the public part),
//! and approved. The content never changes: a correction is a new version that names the one it
//! supersedes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use plenum_domain::{AgendaItemId, MeetingId, MinutesPart, PersonId, UserId};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::entity::{minutes_objection, minutes_signature, minutes_version};
use crate::{Result, StoreError};

/// Who signs: the meeting's chair, and the clerk who kept the minutes (Schriftführung).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SignatureRole {
    Chair,
    Clerk,
}

impl SignatureRole {
    pub const ALL: [SignatureRole; 2] = [SignatureRole::Chair, SignatureRole::Clerk];

    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Chair => "chair",
            Self::Clerk => "clerk",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "chair" => Some(Self::Chair),
            "clerk" => Some(Self::Clerk),
            _ => None,
        }
    }

    /// As printed under the signature.
    pub const fn label_de(&self) -> &'static str {
        match self {
            Self::Chair => "Vorsitz",
            Self::Clerk => "Schriftführung",
        }
    }
}

/// One frozen version of one part of a meeting's minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinutesVersion {
    pub id: Uuid,
    pub meeting: MeetingId,
    pub part: MinutesPart,
    /// 1, 2, … per meeting and part.
    pub version: u32,
    /// The frozen document (JSON, as the API's draft view had it when the version was made).
    pub content: String,
    /// SHA-256 of `content`, hex.
    pub content_sha256: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<UserId>,
    /// Why this version corrects an earlier, signed one.
    pub correction_reason: Option<String>,
    pub supersedes: Option<Uuid>,
    pub superseded_at: Option<DateTime<Utc>>,
    /// When the second signature completed it.
    pub signed_at: Option<DateTime<Utc>>,
    /// Whether the PDF of the completed version is stored (see [`pdf`]).
    pub has_pdf: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<UserId>,
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_item: Option<AgendaItemId>,
}

impl MinutesVersion {
    /// Completed by both signatures.
    pub fn is_signed(&self) -> bool {
        self.signed_at.is_some()
    }

    /// A newer version of the same part exists.
    pub fn is_superseded(&self) -> bool {
        self.superseded_at.is_some()
    }
}

/// A signature on a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub version: Uuid,
    pub role: SignatureRole,
    pub user: UserId,
    pub person: Option<PersonId>,
    /// The signer's name as printed.
    pub name: String,
    pub signed_at: DateTime<Utc>,
    /// The audit chain's head right after the signature's own entry: its sequence number and
    /// hash.
    pub chain_seq: u64,
    pub chain_head: String,
}

/// An objection raised when a later meeting approved the minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objection {
    pub id: Uuid,
    /// The meeting whose minutes the objection is about.
    pub meeting: MeetingId,
    /// The approving agenda item (in the later meeting).
    pub item: AgendaItemId,
    /// Who raised it, as said in the meeting (optional).
    pub person_name: Option<String>,
    pub text: String,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<UserId>,
}

/// The columns read for a version: everything but the PDF's bytes.
const VERSION_COLUMNS: [minutes_version::Column; 16] = [
    minutes_version::Column::Id,
    minutes_version::Column::MeetingId,
    minutes_version::Column::Part,
    minutes_version::Column::Version,
    minutes_version::Column::Content,
    minutes_version::Column::ContentSha256,
    minutes_version::Column::CreatedAt,
    minutes_version::Column::CreatedBy,
    minutes_version::Column::CorrectionReason,
    minutes_version::Column::Supersedes,
    minutes_version::Column::SupersededAt,
    minutes_version::Column::SignedAt,
    minutes_version::Column::PublishedAt,
    minutes_version::Column::PublishedBy,
    minutes_version::Column::ApprovedAt,
    minutes_version::Column::ApprovedItem,
];

#[derive(Debug, sea_orm::FromQueryResult)]
struct VersionRow {
    id: Uuid,
    meeting_id: Uuid,
    part: String,
    version: i32,
    content: String,
    content_sha256: String,
    created_at: DateTime<Utc>,
    created_by: Option<Uuid>,
    correction_reason: Option<String>,
    supersedes: Option<Uuid>,
    superseded_at: Option<DateTime<Utc>>,
    signed_at: Option<DateTime<Utc>>,
    published_at: Option<DateTime<Utc>>,
    published_by: Option<Uuid>,
    approved_at: Option<DateTime<Utc>>,
    approved_item: Option<Uuid>,
    has_pdf: bool,
}

fn from_row(row: VersionRow) -> Result<MinutesVersion> {
    Ok(MinutesVersion {
        id: row.id,
        meeting: MeetingId::from_uuid(row.meeting_id),
        part: MinutesPart::parse(&row.part)
            .map_err(|e| StoreError::Corrupt(format!("minutes part: {e}")))?,
        version: u32::try_from(row.version)
            .map_err(|_| StoreError::Corrupt("minutes version number".into()))?,
        content: row.content,
        content_sha256: row.content_sha256,
        created_at: row.created_at,
        created_by: row.created_by.map(UserId::from_uuid),
        correction_reason: row.correction_reason,
        supersedes: row.supersedes,
        superseded_at: row.superseded_at,
        signed_at: row.signed_at,
        has_pdf: row.has_pdf,
        published_at: row.published_at,
        published_by: row.published_by.map(UserId::from_uuid),
        approved_at: row.approved_at,
        approved_item: row.approved_item.map(AgendaItemId::from_uuid),
    })
}

fn select() -> sea_orm::Select<minutes_version::Entity> {
    let mut query = minutes_version::Entity::find().select_only();
    for column in VERSION_COLUMNS {
        query = query.column(column);
    }
    query.column_as(
        Expr::col(minutes_version::Column::Pdf).is_not_null(),
        "has_pdf",
    )
}

/// One version, or `None`.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<MinutesVersion>> {
    select()
        .filter(minutes_version::Column::Id.eq(id))
        .into_model::<VersionRow>()
        .one(db)
        .await?
        .map(from_row)
        .transpose()
}

/// Every version of a meeting's minutes, both parts, newest first within each part.
pub async fn of_meeting(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
) -> Result<Vec<MinutesVersion>> {
    select()
        .filter(minutes_version::Column::MeetingId.eq(meeting.as_uuid()))
        .order_by_asc(minutes_version::Column::Part)
        .order_by_desc(minutes_version::Column::Version)
        .into_model::<VersionRow>()
        .all(db)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

/// The newest version of one part, or `None`.
pub async fn latest(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
    part: MinutesPart,
) -> Result<Option<MinutesVersion>> {
    select()
        .filter(minutes_version::Column::MeetingId.eq(meeting.as_uuid()))
        .filter(minutes_version::Column::Part.eq(part.as_str()))
        .order_by_desc(minutes_version::Column::Version)
        .into_model::<VersionRow>()
        .one(db)
        .await?
        .map(from_row)
        .transpose()
}

/// The published public parts of these meetings that are current (not superseded), by meeting.
pub async fn published_public(
    db: &impl ConnectionTrait,
    meetings: &[MeetingId],
) -> Result<HashMap<MeetingId, MinutesVersion>> {
    if meetings.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = select()
        .filter(minutes_version::Column::MeetingId.is_in(meetings.iter().map(|m| m.as_uuid())))
        .filter(minutes_version::Column::Part.eq(MinutesPart::Public.as_str()))
        .filter(minutes_version::Column::PublishedAt.is_not_null())
        .order_by_asc(minutes_version::Column::Version)
        .into_model::<VersionRow>()
        .all(db)
        .await?;
    let mut out = HashMap::new();
    for row in rows {
        let version = from_row(row)?;
        // Ascending: a later published version replaces an earlier one.
        out.insert(version.meeting, version);
    }
    Ok(out)
}

/// What a new version holds.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub meeting: MeetingId,
    pub part: MinutesPart,
    pub content: String,
    pub created_at: DateTime<Utc>,
    pub created_by: UserId,
    pub correction_reason: Option<String>,
}

/// SHA-256 of a version's content, hex.
pub fn content_hash(content: &str) -> String {
    crate::blob::to_hex(&Sha256::digest(content.as_bytes()))
}

/// Freezes a new version of one part: numbered after the newest, which it supersedes (and which
/// is marked so). Call inside the caller's write transaction.
pub async fn create(db: &impl ConnectionTrait, new: NewVersion) -> Result<MinutesVersion> {
    let previous = latest(db, new.meeting, new.part).await?;
    let number = previous.as_ref().map_or(1, |p| p.version + 1);
    if let Some(previous) = &previous
        && previous.superseded_at.is_none()
    {
        minutes_version::Entity::update_many()
            .col_expr(
                minutes_version::Column::SupersededAt,
                Expr::value(new.created_at),
            )
            .filter(minutes_version::Column::Id.eq(previous.id))
            .exec(db)
            .await?;
    }
    let id = Uuid::now_v7();
    let content_sha256 = content_hash(&new.content);
    minutes_version::Entity::insert(minutes_version::ActiveModel {
        id: Set(id),
        meeting_id: Set(new.meeting.as_uuid()),
        part: Set(new.part.as_str().to_owned()),
        version: Set(i32::try_from(number).unwrap_or(i32::MAX)),
        content: Set(new.content),
        content_sha256: Set(content_sha256),
        created_at: Set(new.created_at),
        created_by: Set(Some(new.created_by.as_uuid())),
        correction_reason: Set(new.correction_reason),
        supersedes: Set(previous.as_ref().map(|p| p.id)),
        superseded_at: Set(None),
        signed_at: Set(None),
        pdf: Set(None),
        published_at: Set(None),
        published_by: Set(None),
        approved_at: Set(None),
        approved_item: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    get(db, id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("minutes version vanished".into()))
}

fn signature_from_row(row: minutes_signature::Model) -> Result<Signature> {
    Ok(Signature {
        version: row.version_id,
        role: SignatureRole::parse(&row.role)
            .ok_or_else(|| StoreError::Corrupt(format!("signature role {:?}", row.role)))?,
        user: UserId::from_uuid(row.user_id),
        person: row.person_id.map(PersonId::from_uuid),
        name: row.name,
        signed_at: row.signed_at,
        chain_seq: u64::try_from(row.chain_seq).unwrap_or(0),
        chain_head: row.chain_head,
    })
}

/// The signatures on these versions, chair first.
pub async fn signatures_of(
    db: &impl ConnectionTrait,
    versions: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Signature>>> {
    if versions.is_empty() {
        return Ok(HashMap::new());
    }
    let mut out: HashMap<Uuid, Vec<Signature>> = HashMap::new();
    for row in minutes_signature::Entity::find()
        .filter(minutes_signature::Column::VersionId.is_in(versions.iter().copied()))
        .all(db)
        .await?
    {
        let signature = signature_from_row(row)?;
        out.entry(signature.version).or_default().push(signature);
    }
    for list in out.values_mut() {
        list.sort_by_key(|s| s.role);
    }
    Ok(out)
}

/// Records a signature; a second signature in the same role is a conflict.
pub async fn add_signature(db: &impl ConnectionTrait, signature: &Signature) -> Result<()> {
    minutes_signature::Entity::insert(minutes_signature::ActiveModel {
        version_id: Set(signature.version),
        role: Set(signature.role.as_str().to_owned()),
        user_id: Set(signature.user.as_uuid()),
        person_id: Set(signature.person.map(|p| p.as_uuid())),
        name: Set(signature.name.clone()),
        signed_at: Set(signature.signed_at),
        chain_seq: Set(i64::try_from(signature.chain_seq).unwrap_or(i64::MAX)),
        chain_head: Set(signature.chain_head.clone()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Marks a version completed by both signatures and stores its PDF. Only once: `false` if it
/// was completed already.
pub async fn complete(
    db: &impl ConnectionTrait,
    version: Uuid,
    at: DateTime<Utc>,
    pdf: Vec<u8>,
) -> Result<bool> {
    let done = minutes_version::Entity::update_many()
        .col_expr(minutes_version::Column::SignedAt, Expr::value(at))
        .col_expr(minutes_version::Column::Pdf, Expr::value(pdf))
        .filter(minutes_version::Column::Id.eq(version))
        .filter(minutes_version::Column::SignedAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The stored PDF of a completed version.
pub async fn pdf(db: &impl ConnectionTrait, version: Uuid) -> Result<Option<Vec<u8>>> {
    Ok(minutes_version::Entity::find_by_id(version)
        .one(db)
        .await?
        .and_then(|row| row.pdf))
}

/// Publishes a version; `false` if it was published already. The meeting counts as modified
/// (OParl's `resultsProtocol`).
pub async fn publish(
    db: &impl ConnectionTrait,
    version: Uuid,
    at: DateTime<Utc>,
    by: UserId,
) -> Result<bool> {
    let done = minutes_version::Entity::update_many()
        .col_expr(minutes_version::Column::PublishedAt, Expr::value(at))
        .col_expr(
            minutes_version::Column::PublishedBy,
            Expr::value(by.as_uuid()),
        )
        .filter(minutes_version::Column::Id.eq(version))
        .filter(minutes_version::Column::PublishedAt.is_null())
        .exec(db)
        .await?;
    if done.rows_affected == 1
        && let Some(version) = get(db, version).await?
    {
        crate::visibility::touch_meeting(db, version.meeting.as_uuid(), at).await?;
    }
    Ok(done.rows_affected == 1)
}

/// Records the approval of these versions by an agenda item of a later meeting. Their meetings
/// count as modified.
pub async fn approve(
    db: &impl ConnectionTrait,
    versions: &[Uuid],
    at: DateTime<Utc>,
    item: AgendaItemId,
) -> Result<u64> {
    if versions.is_empty() {
        return Ok(0);
    }
    let done = minutes_version::Entity::update_many()
        .col_expr(minutes_version::Column::ApprovedAt, Expr::value(at))
        .col_expr(
            minutes_version::Column::ApprovedItem,
            Expr::value(item.as_uuid()),
        )
        .filter(minutes_version::Column::Id.is_in(versions.iter().copied()))
        .filter(minutes_version::Column::ApprovedAt.is_null())
        .exec(db)
        .await?;
    for id in versions {
        if let Some(version) = get(db, *id).await? {
            crate::visibility::touch_meeting(db, version.meeting.as_uuid(), at).await?;
        }
    }
    Ok(done.rows_affected)
}

/// Records an objection.
pub async fn add_objection(db: &impl ConnectionTrait, objection: &Objection) -> Result<()> {
    minutes_objection::Entity::insert(minutes_objection::ActiveModel {
        id: Set(objection.id),
        meeting_id: Set(objection.meeting.as_uuid()),
        agenda_item_id: Set(objection.item.as_uuid()),
        person_name: Set(objection.person_name.clone()),
        text: Set(objection.text.clone()),
        recorded_at: Set(objection.recorded_at),
        recorded_by: Set(objection.recorded_by.map(|u| u.as_uuid())),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The objections raised against a meeting's minutes, in the order recorded.
pub async fn objections_of(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
) -> Result<Vec<Objection>> {
    Ok(minutes_objection::Entity::find()
        .filter(minutes_objection::Column::MeetingId.eq(meeting.as_uuid()))
        .order_by_asc(minutes_objection::Column::RecordedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|row| Objection {
            id: row.id,
            meeting: MeetingId::from_uuid(row.meeting_id),
            item: AgendaItemId::from_uuid(row.agenda_item_id),
            person_name: row.person_name,
            text: row.text,
            recorded_at: row.recorded_at,
            recorded_by: row.recorded_by.map(UserId::from_uuid),
        })
        .collect())
}
