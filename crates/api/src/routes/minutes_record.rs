//! The minutes as a record: from the draft to the signed, published and approved document.
//!
//! 1. The clerk freezes the draft of one part (`POST …/minutes/versions`): a numbered version
//!    whose text never changes. A newer version supersedes the older one; after both signatures
//!    a new version is a correction and needs a reason; after approval there are none.
//! 2. The chair and the clerk sign the current version (`POST /minutes/{id}/signatures`), each
//!    confirming with a fresh code of their second factor. Each signature is an audit entry; the
//!    chain head right after it is stored with the signature and printed in the document. With
//!    the second signature the version is complete and its PDF is rendered and stored: what was
//!    signed is what is served from then on.
//! 3. The clerk publishes the signed public part (`POST /minutes/{id}/publication`): the public
//!    reads it in the portal and OParl serves it. The non-public part is never published.
//! 4. A later meeting approves the minutes (`POST …/minutes/approval`): the clerk names the
//!    agenda item ("Genehmigung der Niederschrift") whose recorded decision adopted them, and
//!    the objections raised there.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use plenum_domain::{
    AgendaItemId, DecisionKind, DomainError, Meeting, MeetingId, MeetingState, MinutesDraft,
    MinutesPart,
};
use plenum_store::minutes_record::{
    self as record, MinutesVersion, NewVersion, Objection, Signature, SignatureRole,
};
use plenum_store::{begin_write, repo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::check_totp;
use super::clerk::{commit, conflict, invalid};
use super::documents::{Directory, Viewer, live_state};
use super::minutes::{MinutesDraftView, draft_of, view};
use crate::auth::{AuthUser, ClientInfo};
use crate::json::{AppJson, AppPath};
use crate::{ApiError, AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}/minutes", get(get_record))
        .route("/meetings/{id}/minutes/versions", post(create_version))
        .route("/meetings/{id}/minutes/approval", post(approve))
        .route("/minutes/{id}", get(get_version))
        .route("/minutes/{id}/pdf", get(get_pdf))
        .route("/minutes/{id}/signatures", post(sign))
        .route("/minutes/{id}/publication", post(publish))
        .route("/public/meetings/{id}/minutes", get(get_public_minutes))
        .route("/public/minutes/{id}/pdf", get(get_public_pdf))
}

// --- Shapes ------------------------------------------------------------------------------------

/// A signature on a version of the minutes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignatureView {
    /// `chair` or `clerk`.
    pub role: &'static str,
    /// "Vorsitz" or "Schriftführung".
    pub role_label: &'static str,
    pub name: String,
    pub signed_at: DateTime<Utc>,
    /// The audit chain right after the signature's own entry: its sequence number and hash.
    pub chain_seq: u64,
    pub chain_head: String,
}

impl From<&Signature> for SignatureView {
    fn from(s: &Signature) -> Self {
        Self {
            role: s.role.as_str(),
            role_label: s.role.label_de(),
            name: s.name.clone(),
            signed_at: s.signed_at,
            chain_seq: s.chain_seq,
            chain_head: s.chain_head.clone(),
        }
    }
}

/// One version of one part of the minutes, without its text.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionSummary {
    pub id: Uuid,
    pub meeting: Uuid,
    /// `public` or `non_public`.
    pub part: &'static str,
    /// 1, 2, … per part.
    pub version: u32,
    /// `awaiting_signatures`, `signed`, `published` or `superseded`.
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    /// Why this version corrects a signed one.
    pub correction_reason: Option<String>,
    /// The version this one replaces.
    pub supersedes: Option<Uuid>,
    /// SHA-256 of the frozen text (what the signatures are bound to).
    pub content_sha256: String,
    pub signatures: Vec<SignatureView>,
    /// When the second signature completed the version.
    pub signed_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    /// When a later meeting approved the minutes, and by which agenda item.
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_item: Option<Uuid>,
    /// The PDF (the signed document once complete; until then rendered on request, marked as
    /// not yet signed).
    pub pdf: String,
}

/// A version with its frozen text.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionView {
    #[serde(flatten)]
    pub summary: VersionSummary,
    /// The frozen document, in the shape of the draft.
    pub content: MinutesDraftView,
}

/// An objection raised against the minutes when a later meeting approved them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ObjectionView {
    pub id: Uuid,
    /// The approving agenda item.
    pub agenda_item: Uuid,
    pub person_name: Option<String>,
    pub text: String,
    pub recorded_at: DateTime<Utc>,
}

/// The record of a meeting's minutes: the versions of both parts the caller may read, and the
/// objections raised at approval.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MinutesRecordView {
    pub meeting: Uuid,
    /// Newest first within each part.
    pub versions: Vec<VersionSummary>,
    pub objections: Vec<ObjectionView>,
    /// Whether the caller may freeze versions, publish and record the approval (per part).
    pub may_edit_public: bool,
    pub may_edit_non_public: bool,
    /// In which roles the caller may sign (`chair`, `clerk`).
    pub may_sign_as: Vec<&'static str>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVersionRequest {
    /// `public` or `non_public`.
    pub part: super::minutes::Part,
    /// Required when the current version is signed (a correction); at most 2 000 characters.
    pub correction_reason: Option<String>,
}

/// In which role a signature is given.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignAs {
    /// The chair (or a deputy chair) of the meeting's body.
    Chair,
    /// The clerk who kept the minutes (Schriftführung).
    Clerk,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    pub role: SignAs,
    /// A current code of the signer's second factor (TOTP, six digits).
    pub code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionRequest {
    /// Who raised it, as said in the meeting.
    #[schema(max_length = 300)]
    pub person_name: Option<String>,
    /// The objection (at most 5 000 characters, not blank).
    #[schema(min_length = 1, max_length = 5000, pattern = "\\S")]
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    /// The agenda item of a later meeting of the same organization whose recorded decision
    /// (adopted, or adopted with changes) approved the minutes.
    pub agenda_item_id: Uuid,
    #[serde(default)]
    pub objections: Vec<ObjectionRequest>,
}

/// The published public part of a meeting's minutes, as the public reads it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicMinutesView {
    pub meeting: Uuid,
    pub version: u32,
    pub published_at: DateTime<Utc>,
    pub signatures: Vec<SignatureView>,
    pub approved_at: Option<DateTime<Utc>>,
    /// The signed PDF.
    pub pdf: String,
    pub content: MinutesDraftView,
}

// --- Helpers -----------------------------------------------------------------------------------

fn refuse(message: impl Into<String>) -> Response {
    conflict(DomainError::RuleViolated(message.into()))
}

fn status_of(version: &MinutesVersion) -> &'static str {
    if version.is_superseded() {
        "superseded"
    } else if version.published_at.is_some() {
        "published"
    } else if version.is_signed() {
        "signed"
    } else {
        "awaiting_signatures"
    }
}

fn summary(version: &MinutesVersion, signatures: &[Signature]) -> VersionSummary {
    VersionSummary {
        id: version.id,
        meeting: version.meeting.as_uuid(),
        part: version.part.as_str(),
        version: version.version,
        status: status_of(version),
        created_at: version.created_at,
        correction_reason: version.correction_reason.clone(),
        supersedes: version.supersedes,
        content_sha256: version.content_sha256.clone(),
        signatures: signatures.iter().map(SignatureView::from).collect(),
        signed_at: version.signed_at,
        published_at: version.published_at,
        approved_at: version.approved_at,
        approved_item: version.approved_item.map(|i| i.as_uuid()),
        pdf: format!("/api/v1/minutes/{}/pdf", version.id),
    }
}

/// The frozen text of a version.
fn frozen(version: &MinutesVersion) -> Result<MinutesDraft> {
    serde_json::from_str(&version.content).map_err(|err| {
        ApiError::Store(plenum_store::StoreError::Corrupt(format!(
            "minutes version {}: {err}",
            version.id
        )))
    })
}

/// The view of a frozen version's text.
fn frozen_view(meeting: &Meeting, draft: MinutesDraft, public: bool) -> MinutesDraftView {
    let mut view = view(meeting, draft, false, public);
    view.status = "version";
    view
}

fn is_public(part: MinutesPart) -> bool {
    part == MinutesPart::Public
}

/// The meeting of a version, if the viewer may read that part of its minutes (else 404).
async fn readable_version(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> Result<(MinutesVersion, Meeting, Directory)> {
    let version = record::get(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let meeting = repo::meetings::get_live(&state.db, version.meeting).await?;
    let dir = Directory::load(&state.db).await?;
    if !dir.meeting_visible(viewer, &meeting)
        || !dir.minutes_readable(viewer, &meeting, is_public(version.part))
    {
        return Err(ApiError::NotFound);
    }
    Ok((version, meeting, dir))
}

/// The roles the viewer may sign in for this meeting's minutes.
fn sign_roles(
    viewer: &Viewer,
    dir: &Directory,
    meeting: &Meeting,
    public: bool,
) -> Vec<SignatureRole> {
    let mut roles = Vec::new();
    if viewer.actor.chairs(meeting.organization_id) {
        roles.push(SignatureRole::Chair);
    }
    if dir.minutes_writable(viewer, meeting, public) {
        roles.push(SignatureRole::Clerk);
    }
    roles
}

fn pdf_response(bytes: Vec<u8>, meeting: &Meeting, version: &MinutesVersion) -> Response {
    let part = match version.part {
        MinutesPart::Public => "oeffentlich",
        MinutesPart::NonPublic => "nichtoeffentlich",
    };
    let name = format!(
        "Niederschrift-{}-{}-v{}.pdf",
        meeting.start.format("%Y-%m-%d"),
        part,
        version.version
    );
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response
}

/// Renders a version's PDF: the frozen text with the signatures so far.
async fn render(
    state: &AppState,
    dir: &Directory,
    meeting: &Meeting,
    version: &MinutesVersion,
    signatures: &[Signature],
) -> Result<Vec<u8>> {
    let draft = frozen(version)?;
    crate::render::minutes_pdf(state, dir, meeting, version, draft, signatures).await
}

// --- Handlers ----------------------------------------------------------------------------------

/// The record of a meeting's minutes: every version of the parts the caller may read (with
/// signatures and states), and the objections raised at approval. Members of the meeting's
/// organization and clerks; 404 for everyone else.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/minutes", tag = "minutes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id")),
    responses((status = 200, body = MinutesRecordView), (status = 404, body = crate::Problem)))]
pub async fn get_record(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<MinutesRecordView>> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let db = &state.db;
    let dir = Directory::load(db).await?;
    let meeting = repo::meetings::get_live(db, MeetingId::from_uuid(id)).await?;
    let read_public = dir.minutes_readable(&viewer, &meeting, true);
    let read_non_public = dir.minutes_readable(&viewer, &meeting, false);
    if !dir.meeting_visible(&viewer, &meeting) || !(read_public || read_non_public) {
        return Err(ApiError::NotFound);
    }
    let versions: Vec<MinutesVersion> = record::of_meeting(db, meeting.id)
        .await?
        .into_iter()
        .filter(|v| match v.part {
            MinutesPart::Public => read_public,
            MinutesPart::NonPublic => read_non_public,
        })
        .collect();
    let ids: Vec<Uuid> = versions.iter().map(|v| v.id).collect();
    let signatures = record::signatures_of(db, &ids).await?;
    let objections = if read_public {
        record::objections_of(db, meeting.id).await?
    } else {
        Vec::new()
    };
    let mut roles = sign_roles(&viewer, &dir, &meeting, true);
    for role in sign_roles(&viewer, &dir, &meeting, false) {
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(Json(MinutesRecordView {
        meeting: meeting.id.as_uuid(),
        versions: versions
            .iter()
            .map(|v| summary(v, signatures.get(&v.id).map_or(&[][..], Vec::as_slice)))
            .collect(),
        objections: objections.iter().map(objection_view).collect(),
        may_edit_public: dir.minutes_writable(&viewer, &meeting, true),
        may_edit_non_public: dir.minutes_writable(&viewer, &meeting, false),
        may_sign_as: roles.iter().map(SignatureRole::as_str).collect(),
    }))
}

fn objection_view(o: &Objection) -> ObjectionView {
    ObjectionView {
        id: o.id,
        agenda_item: o.item.as_uuid(),
        person_name: o.person_name.clone(),
        text: o.text.clone(),
        recorded_at: o.recorded_at,
    }
}

/// Freezes the current draft of one part as a new version of the minutes (Endfassung), which
/// the chair and the clerk then sign. The meeting must have been held (its live session closed,
/// or its start passed for a meeting not run in Plenum). A newer version supersedes the current
/// one (signatures on it stay with it); when the current version is signed, the new one is a
/// correction and needs `correction_reason`. Clerks of the meeting's organization; 403 for
/// members; 404 for others; 409 for a cancelled meeting, a session still running, a meeting not
/// held yet, or approved minutes; 422 for a missing or too long reason. Audited as
/// `minutes.version_created`.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/minutes/versions", tag = "minutes",
    security(("bearer" = [])), request_body = NewVersionRequest,
    params(("id" = Uuid, Path, description = "Meeting id")),
    responses((status = 201, body = VersionView), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 409, body = crate::Problem),
        (status = 422, body = crate::Problem)))]
pub async fn create_version(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<NewVersionRequest>,
) -> Result<Response> {
    let public = request.part == super::minutes::Part::Public;
    let part = if public {
        MinutesPart::Public
    } else {
        MinutesPart::NonPublic
    };
    let reason = request
        .correction_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    if reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
        return Err(invalid("correction_reason", "at most 2000 characters"));
    }
    let viewer = Viewer::member(&state, &auth.user).await?;
    let txn = begin_write(&state.db).await?;
    let dir = Directory::load(&txn).await?;
    let meeting = repo::meetings::get_live(&txn, MeetingId::from_uuid(id)).await?;
    if !dir.meeting_visible(&viewer, &meeting) || !dir.minutes_readable(&viewer, &meeting, public) {
        return Err(ApiError::NotFound);
    }
    if !dir.minutes_writable(&viewer, &meeting, public) {
        return Err(ApiError::Forbidden);
    }
    let now = state.now();
    match meeting.state {
        MeetingState::Cancelled => return Ok(refuse("a cancelled meeting has no minutes")),
        MeetingState::Running => {
            return Ok(refuse(
                "the live session is still running: close it before freezing the minutes",
            ));
        }
        MeetingState::Closed => {}
        MeetingState::Planned | MeetingState::Invited => {
            let running = live_state(&txn, meeting.id).await?.is_some_and(|l| {
                matches!(
                    l.status,
                    plenum_domain::SessionStatus::Running | plenum_domain::SessionStatus::Paused
                )
            });
            if running {
                return Ok(refuse(
                    "the live session is still running: close it before freezing the minutes",
                ));
            }
            if meeting.start > now {
                return Ok(refuse("the meeting has not been held yet"));
            }
        }
    }
    let current = record::latest(&txn, meeting.id, part).await?;
    if let Some(current) = &current {
        if current.approved_at.is_some() {
            return Ok(refuse(
                "these minutes are approved: a correction is a decision in a later meeting",
            ));
        }
        if current.is_signed() && reason.is_none() {
            return Err(invalid(
                "correction_reason",
                format!(
                    "version {} is signed: a new version is a correction and needs a reason",
                    current.version
                ),
            ));
        }
    }
    let draft = draft_of(&txn, &dir, &meeting, public).await?;
    let content = serde_json::to_string(&draft).map_err(|err| {
        ApiError::Store(plenum_store::StoreError::Corrupt(format!(
            "minutes draft: {err}"
        )))
    })?;
    let version = record::create(
        &txn,
        NewVersion {
            meeting: meeting.id,
            part,
            content,
            created_at: now,
            created_by: auth.user.id,
            correction_reason: reason.clone(),
        },
    )
    .await?;
    super::clerk::audit(
        &txn,
        &state,
        &auth,
        "minutes.version_created",
        ("meeting", meeting.id.as_uuid()),
        serde_json::json!({
            "part": part.as_str(),
            "version": version.version,
            "content_sha256": version.content_sha256,
            "supersedes": version.supersedes,
            "correction": reason.is_some(),
        }),
    )
    .await?;
    commit(&state, txn).await?;
    let body = VersionView {
        summary: summary(&version, &[]),
        content: frozen_view(&meeting, draft, public),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// One version of the minutes with its frozen text, signatures and state. Who may read that part
/// of the meeting's minutes; 404 for everyone else.
#[utoipa::path(get, path = "/api/v1/minutes/{id}", tag = "minutes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Minutes version id")),
    responses((status = 200, body = VersionView), (status = 404, body = crate::Problem)))]
pub async fn get_version(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<VersionView>> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let (version, meeting, _) = readable_version(&state, &viewer, id).await?;
    let signatures = record::signatures_of(&state.db, &[version.id]).await?;
    let signatures = signatures.get(&version.id).map_or(&[][..], Vec::as_slice);
    Ok(Json(VersionView {
        summary: summary(&version, signatures),
        content: frozen_view(&meeting, frozen(&version)?, is_public(version.part)),
    }))
}

/// The PDF of a version: for a complete version the signed document as stored at the second
/// signature (it never changes); before that, rendered on request with the signatures so far and
/// marked as not yet signed. Who may read that part; 404 for everyone else.
#[utoipa::path(get, path = "/api/v1/minutes/{id}/pdf", tag = "minutes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Minutes version id")),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 404, body = crate::Problem)))]
pub async fn get_pdf(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let (version, meeting, dir) = readable_version(&state, &viewer, id).await?;
    if version.has_pdf
        && let Some(bytes) = record::pdf(&state.db, version.id).await?
    {
        return Ok(pdf_response(bytes, &meeting, &version));
    }
    let signatures = record::signatures_of(&state.db, &[version.id]).await?;
    let signatures = signatures.get(&version.id).map_or(&[][..], Vec::as_slice);
    let bytes = render(&state, &dir, &meeting, &version, signatures).await?;
    Ok(pdf_response(bytes, &meeting, &version))
}

/// Signs the current version of the minutes, as the meeting's chair (`chair`: the chair or a
/// deputy chair of its organization) or as the clerk (`clerk`), confirmed with a current code of
/// the signer's second factor. Each role signs once per version, and one person never signs in
/// both roles. The signature is an audit entry (`minutes.signed`, bound to the text's SHA-256);
/// the chain head right after it is kept with the signature and printed in the document. The
/// second signature completes the version: its PDF is rendered and stored for good
/// (`minutes.completed`). 401 for a wrong or reused code; 403 for who may not sign in that
/// role; 404 for who may not read the part; 409 for a superseded or already complete version, a
/// role already signed, or the same person signing twice; 422 for an unknown role; 429 after
/// too many wrong codes.
#[utoipa::path(post, path = "/api/v1/minutes/{id}/signatures", tag = "minutes",
    security(("bearer" = [])), request_body = SignRequest,
    params(("id" = Uuid, Path, description = "Minutes version id")),
    responses((status = 200, body = VersionView), (status = 401, body = crate::Problem),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem), (status = 422, body = crate::Problem),
        (status = 429, body = crate::Problem)))]
pub async fn sign(
    State(state): State<AppState>,
    auth: AuthUser,
    client: ClientInfo,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<SignRequest>,
) -> Result<Response> {
    let role = match request.role {
        SignAs::Chair => SignatureRole::Chair,
        SignAs::Clerk => SignatureRole::Clerk,
    };
    let viewer = Viewer::member(&state, &auth.user).await?;
    // Everything that can be refused without the code is refused before it is used up.
    let (version, meeting, dir) = readable_version(&state, &viewer, id).await?;
    let public = is_public(version.part);
    if !sign_roles(&viewer, &dir, &meeting, public).contains(&role) {
        return Err(ApiError::Forbidden);
    }
    if let Some(problem) = sign_refusal_in(&state.db, &version, role, &auth).await? {
        return Ok(problem);
    }
    state
        .auth
        .limiter
        .check(Some(auth.user.username.as_str()), client.address)
        .await
        .map_err(ApiError::RateLimited)?;
    check_totp(&state, &auth.user, request.code.trim()).await?;

    let txn = begin_write(&state.db).await?;
    // Checked again under the write lock: a correction or the other signer may have come first.
    let version = record::get(&txn, version.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(problem) = sign_refusal_in(&txn, &version, role, &auth).await? {
        return Ok(problem);
    }
    let now = state.now();
    let entry = state
        .audit
        .append_in(
            &txn,
            plenum_domain::AuditEvent {
                actor: Some(auth.user.id),
                action: "minutes.signed".to_owned(),
                subject: Some(format!("minutes_version:{}", version.id)),
                detail: serde_json::json!({
                    "meeting": meeting.id.as_uuid(),
                    "part": version.part.as_str(),
                    "version": version.version,
                    "role": role.as_str(),
                    "content_sha256": version.content_sha256,
                })
                .to_string(),
            },
            now,
        )
        .await?;
    let signature = Signature {
        version: version.id,
        role,
        user: auth.user.id,
        person: auth.user.person_id,
        name: auth.user.display_name.as_str().to_owned(),
        signed_at: entry.at,
        chain_seq: entry.seq,
        chain_head: entry.hash.clone(),
    };
    record::add_signature(&txn, &signature).await?;
    let signatures = record::signatures_of(&txn, &[version.id])
        .await?
        .remove(&version.id)
        .unwrap_or_default();
    let complete = SignatureRole::ALL
        .iter()
        .all(|r| signatures.iter().any(|s| s.role == *r));
    let mut version = version;
    if complete {
        let pdf = render(&state, &dir, &meeting, &version, &signatures).await?;
        record::complete(&txn, version.id, now, pdf).await?;
        super::clerk::audit(
            &txn,
            &state,
            &auth,
            "minutes.completed",
            ("minutes_version", version.id),
            serde_json::json!({
                "meeting": meeting.id.as_uuid(),
                "part": version.part.as_str(),
                "version": version.version,
            }),
        )
        .await?;
        version.signed_at = Some(now);
        version.has_pdf = true;
    }
    commit(&state, txn).await?;
    Ok(Json(VersionView {
        summary: summary(&version, &signatures),
        content: frozen_view(&meeting, frozen(&version)?, public),
    })
    .into_response())
}

/// Why this signature cannot be given now (409), if so.
async fn sign_refusal_in(
    db: &impl plenum_store::ConnectionTrait,
    version: &MinutesVersion,
    role: SignatureRole,
    auth: &AuthUser,
) -> Result<Option<Response>> {
    if version.is_superseded() {
        return Ok(Some(refuse(format!(
            "version {} is superseded by a newer version: sign that one",
            version.version
        ))));
    }
    if version.is_signed() {
        return Ok(Some(refuse(format!(
            "version {} is signed already; a signed document never changes",
            version.version
        ))));
    }
    let signatures = record::signatures_of(db, &[version.id])
        .await?
        .remove(&version.id)
        .unwrap_or_default();
    if signatures.iter().any(|s| s.role == role) {
        return Ok(Some(refuse(format!(
            "the {} has signed this version already",
            role.as_str()
        ))));
    }
    if signatures.iter().any(|s| s.user == auth.user.id) {
        return Ok(Some(refuse(
            "you signed this version in the other role: the chair and the clerk are two people",
        )));
    }
    Ok(None)
}

/// Publishes the signed public part of the minutes: from now on the portal shows it; the meeting
/// counts as modified, and the members of its body are notified (in the app, and by e-mail
/// where they chose it). Clerks of the
/// meeting's organization; 403 for members; 404 for others; 409 for the non-public part (never
/// published), a version not yet signed by both, a superseded version, or one already published.
/// Audited as `minutes.published`.
#[utoipa::path(post, path = "/api/v1/minutes/{id}/publication", tag = "minutes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Minutes version id")),
    responses((status = 200, body = VersionSummary), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 409, body = crate::Problem)))]
pub async fn publish(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    origin: std::result::Result<crate::origin::Origin, super::oparl::OparlError>,
) -> Result<Response> {
    let link = super::invitations::link_base(&state, origin);
    let viewer = Viewer::member(&state, &auth.user).await?;
    let (version, meeting, dir) = readable_version(&state, &viewer, id).await?;
    if !dir.minutes_writable(&viewer, &meeting, is_public(version.part)) {
        return Err(ApiError::Forbidden);
    }
    let txn = begin_write(&state.db).await?;
    let mut version = record::get(&txn, version.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if version.part != MinutesPart::Public {
        return Ok(refuse(
            "the non-public part of the minutes is never published",
        ));
    }
    if version.is_superseded() {
        return Ok(refuse("a newer version supersedes this one"));
    }
    if !version.is_signed() {
        return Ok(refuse(
            "only minutes signed by the chair and the clerk are published",
        ));
    }
    let now = state.now();
    if !record::publish(&txn, version.id, now, auth.user.id).await? {
        return Ok(refuse("this version is published already"));
    }
    // The members are told (in the app, and by e-mail where they chose it).
    let notifications =
        plenum_store::notify::notify_minutes_published(&txn, meeting.id, now, link.as_deref())
            .await?;
    super::clerk::audit(
        &txn,
        &state,
        &auth,
        "minutes.published",
        ("minutes_version", version.id),
        serde_json::json!({
            "meeting": meeting.id.as_uuid(),
            "version": version.version,
        }),
    )
    .await?;
    commit(&state, txn).await?;
    super::invitations::announce(&state, super::invitations::Issued { notifications }).await;
    version.published_at = Some(now);
    let signatures = record::signatures_of(&state.db, &[version.id]).await?;
    let signatures = signatures.get(&version.id).map_or(&[][..], Vec::as_slice);
    Ok(Json(summary(&version, signatures)).into_response())
}

/// Records that a later meeting approved the minutes (Genehmigung der Niederschrift): the agenda
/// item of a later meeting of the same organization whose recorded decision adopted them (kind
/// `adopted` or `adopted_amended`), with the objections raised there. Approves the current,
/// signed version of each part; approved minutes take no further versions. Clerks of the
/// organization; 403 for members; 404 for who may not see the meeting or the item; 409 when a
/// part's current version is not signed, the minutes are approved already, or the item is not
/// of a later meeting of the organization or has no adopting decision; 422 for empty or too long
/// objections. Audited as `minutes.approved`.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/minutes/approval", tag = "minutes",
    security(("bearer" = [])), request_body = ApprovalRequest,
    params(("id" = Uuid, Path, description = "Meeting id (whose minutes are approved)")),
    responses((status = 200, body = MinutesRecordView), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 409, body = crate::Problem),
        (status = 422, body = crate::Problem)))]
pub async fn approve(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<ApprovalRequest>,
) -> Result<Response> {
    if request.objections.len() > 100 {
        return Err(invalid("objections", "at most 100"));
    }
    let mut objections = Vec::new();
    for (i, o) in request.objections.iter().enumerate() {
        let text = o.text.trim();
        if text.is_empty() || text.chars().count() > 5000 {
            return Err(invalid(
                "objections",
                format!(
                    "objection {}: the text must have 1 to 5000 characters",
                    i + 1
                ),
            ));
        }
        let person = o
            .person_name
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        if person.is_some_and(|p| p.chars().count() > 300) {
            return Err(invalid(
                "objections",
                format!(
                    "objection {}: the name must have at most 300 characters",
                    i + 1
                ),
            ));
        }
        objections.push((person.map(str::to_owned), text.to_owned()));
    }
    let viewer = Viewer::member(&state, &auth.user).await?;
    let txn = begin_write(&state.db).await?;
    let dir = Directory::load(&txn).await?;
    let meeting = repo::meetings::get_live(&txn, MeetingId::from_uuid(id)).await?;
    if !dir.meeting_visible(&viewer, &meeting) || !dir.minutes_readable(&viewer, &meeting, true) {
        return Err(ApiError::NotFound);
    }
    if !dir.minutes_writable(&viewer, &meeting, true) {
        return Err(ApiError::Forbidden);
    }
    let item_id = AgendaItemId::from_uuid(request.agenda_item_id);
    let item = repo::agenda_items::get(&txn, item_id)
        .await
        .map_err(|_| invalid("agenda_item_id", "no such agenda item"))?;
    let approving = repo::meetings::get_live(&txn, item.meeting_id)
        .await
        .map_err(|_| invalid("agenda_item_id", "no such agenda item"))?;
    if approving.organization_id != meeting.organization_id || approving.start <= meeting.start {
        return Ok(refuse(
            "the approving item must be on the agenda of a later meeting of the same organization",
        ));
    }
    let decision = plenum_store::decisions::of_items(&txn, &[item_id])
        .await?
        .remove(&item_id);
    if !decision
        .as_ref()
        .is_some_and(|d| matches!(d.kind, DecisionKind::Adopted | DecisionKind::AdoptedAmended))
    {
        return Ok(refuse(
            "record the decision on the approving item first (adopted, or adopted with changes)",
        ));
    }
    let mut current = Vec::new();
    for part in [MinutesPart::Public, MinutesPart::NonPublic] {
        if let Some(version) = record::latest(&txn, meeting.id, part).await? {
            if version.approved_at.is_some() {
                return Ok(refuse("these minutes are approved already"));
            }
            if !version.is_signed() {
                return Ok(refuse(format!(
                    "version {} of the {} part is not signed yet",
                    version.version,
                    match part {
                        MinutesPart::Public => "public",
                        MinutesPart::NonPublic => "non-public",
                    }
                )));
            }
            current.push(version.id);
        }
    }
    if current.is_empty() {
        return Ok(refuse("there are no signed minutes of this meeting"));
    }
    let now = state.now();
    record::approve(&txn, &current, now, item_id).await?;
    for (person_name, text) in &objections {
        record::add_objection(
            &txn,
            &Objection {
                id: Uuid::now_v7(),
                meeting: meeting.id,
                item: item_id,
                person_name: person_name.clone(),
                text: text.clone(),
                recorded_at: now,
                recorded_by: Some(auth.user.id),
            },
        )
        .await?;
    }
    super::clerk::audit(
        &txn,
        &state,
        &auth,
        "minutes.approved",
        ("meeting", meeting.id.as_uuid()),
        serde_json::json!({
            "agenda_item": item_id.as_uuid(),
            "versions": current,
            "objections": objections.len(),
        }),
    )
    .await?;
    commit(&state, txn).await?;
    let record = get_record(State(state), auth, AppPath(id)).await?;
    Ok(record.into_response())
}

/// The published public part of a meeting's minutes, for everyone (the portal): the current
/// published version with its signatures and text. 404 when none is published.
#[utoipa::path(get, path = "/api/v1/public/meetings/{id}/minutes", tag = "minutes",
    params(("id" = Uuid, Path, description = "Meeting id")),
    responses((status = 200, body = PublicMinutesView), (status = 404, body = crate::Problem)))]
pub async fn get_public_minutes(
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<PublicMinutesView>> {
    let (version, meeting) = published(&state, MeetingId::from_uuid(id)).await?;
    let signatures = record::signatures_of(&state.db, &[version.id]).await?;
    let signatures = signatures.get(&version.id).map_or(&[][..], Vec::as_slice);
    Ok(Json(PublicMinutesView {
        meeting: meeting.id.as_uuid(),
        version: version.version,
        published_at: version.published_at.unwrap_or(version.created_at),
        signatures: signatures.iter().map(SignatureView::from).collect(),
        approved_at: version.approved_at,
        pdf: format!("/api/v1/public/minutes/{}/pdf", version.id),
        content: frozen_view(&meeting, frozen(&version)?, true),
    }))
}

/// The signed PDF of a published public part, for everyone. 404 for anything not published.
#[utoipa::path(get, path = "/api/v1/public/minutes/{id}/pdf", tag = "minutes",
    params(("id" = Uuid, Path, description = "Minutes version id")),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 404, body = crate::Problem)))]
pub async fn get_public_pdf(
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response> {
    let version = record::get(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if version.part != MinutesPart::Public || version.published_at.is_none() {
        return Err(ApiError::NotFound);
    }
    let (_, meeting) = published(&state, version.meeting).await?;
    let bytes = record::pdf(&state.db, version.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut response = pdf_response(bytes, &meeting, &version);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

/// The meeting's current published public minutes, if the meeting is public.
async fn published(state: &AppState, id: MeetingId) -> Result<(MinutesVersion, Meeting)> {
    let meeting = repo::meetings::get_live(&state.db, id).await?;
    let dir = Directory::load(&state.db).await?;
    if !dir.meeting_visible(&Viewer::public(), &meeting) {
        return Err(ApiError::NotFound);
    }
    let mut published: HashMap<MeetingId, MinutesVersion> =
        record::published_public(&state.db, &[id]).await?;
    let version = published.remove(&id).ok_or(ApiError::NotFound)?;
    Ok((version, meeting))
}
