//! Writes for clerks (and chairs of self-organised bodies, as the policy says): meetings, their
//! invitation and cancellation, and agenda items. Every change needs `If-Match` with the
//! resource's current `ETag` (missing: 428, stale: 412).
//!
//! Each write is one transaction (`plenum_store::begin_write`) that first locks the row it hangs
//! on (the meeting, for agenda items too; see `repo::…::lock`), then computes the current `ETag`
//! inside the transaction, checks `If-Match` against it, writes, appends an audit entry and
//! commits. Two clerks sending the same `If-Match` are thus serialised: the second sees the first
//! one's change and gets 412.
//! Inside the transaction everything reads through it, never through `state.db` (an in-memory
//! SQLite has a single connection).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use plenum_domain::{
    Action, AgendaItem, AgendaItemId, AgendaNumber, LocationId, Markdown, Meeting, MeetingId,
    MeetingState, Meta, Name, OrganizationId, PaperId, Resource, Title,
};
use plenum_store::{DatabaseTransaction, StoreError, repo};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::documents::{Directory, Viewer, agenda_item_detail, etag_of, meeting_detail, with_etag};
use crate::auth::AuthUser;
use crate::json::AppJson;
use crate::{ApiError, AppState, Problem, Result};

/// `None` when the request's `If-Match` names `current`; else the 428/412 problem to send.
pub(crate) fn precondition(headers: &HeaderMap, current: &str) -> Option<Response> {
    let Some(given) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return Some(
            Problem::new(
                StatusCode::PRECONDITION_REQUIRED,
                "if-match-required",
                "If-Match required",
            )
            .with_detail("Send the ETag of the version you changed in If-Match.")
            .into_response(),
        );
    };
    if given
        .split(',')
        .any(|t| t.trim() == current || t.trim() == "*")
    {
        None
    } else {
        Some(
            Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "stale",
                "Changed in the meantime",
            )
            .with_detail("Someone else changed this since you loaded it. Reload and try again.")
            .into_response(),
        )
    }
}

/// Starts the transaction of a write.
pub(crate) async fn begin(state: &AppState) -> Result<DatabaseTransaction> {
    Ok(plenum_store::begin_write(&state.db).await?)
}

/// Commits the transaction of a write, then moves the audit anchor to the entry it appended.
pub(crate) async fn commit(state: &AppState, txn: DatabaseTransaction) -> Result<()> {
    txn.commit().await.map_err(StoreError::from)?;
    state.audit.update_anchor(&state.db).await;
    Ok(())
}

/// Appends the audit entry of a write to its transaction: who (`actor`), what (`action`, e.g.
/// `paper.updated`), on which object (`subject` = `type:id`), and `detail` (ids and names of
/// changed fields only, never titles or texts: they may be non-public).
pub(crate) async fn audit(
    txn: &DatabaseTransaction,
    state: &AppState,
    auth: &AuthUser,
    action: &str,
    subject: (&str, Uuid),
    detail: serde_json::Value,
) -> Result<()> {
    let event = plenum_domain::AuditEvent {
        actor: Some(auth.user.id),
        action: action.to_owned(),
        subject: Some(format!("{}:{}", subject.0, subject.1)),
        detail: detail.to_string(),
    };
    state.audit.append_in(txn, event, state.now()).await?;
    Ok(())
}

/// The names of the fields a partial update sets, for the audit entry.
pub(crate) fn fields(named: &[(&'static str, bool)]) -> serde_json::Value {
    json!({ "fields": named.iter().filter(|(_, set)| *set).map(|(name, _)| *name).collect::<Vec<_>>() })
}

/// Whether the clerk may write sessions of this organization: `Ok` or the 403/404.
pub(crate) fn may_keep(
    viewer: &Viewer,
    dir: &Directory,
    organization: OrganizationId,
) -> Result<()> {
    let organization = dir.organization_ref(organization)?;
    crate::access::require(
        &viewer.actor,
        Action::Update,
        &Resource::Meeting {
            organization,
            public: true,
        },
    )
}

/// The 1-based positions `requested` gives, if it lists every one of `known` exactly once;
/// else the 422 naming `ids` with `message`.
pub(super) fn new_positions(
    requested: &[Uuid],
    known: impl Iterator<Item = Uuid>,
    message: &str,
) -> Result<std::collections::HashMap<Uuid, u32>> {
    let known: std::collections::HashSet<Uuid> = known.collect();
    let mut positions = std::collections::HashMap::with_capacity(requested.len());
    for (index, id) in requested.iter().enumerate() {
        let position = u32::try_from(index + 1).map_err(|_| invalid("ids", message))?;
        if !known.contains(id) || positions.insert(*id, position).is_some() {
            return Err(invalid("ids", message));
        }
    }
    if positions.len() != known.len() {
        return Err(invalid("ids", message));
    }
    Ok(positions)
}

pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> ApiError {
    ApiError::Domain(plenum_domain::DomainError::InvalidValue {
        field,
        reason: reason.into(),
    })
}

pub(crate) fn conflict(err: plenum_domain::DomainError) -> Response {
    Problem::new(
        StatusCode::CONFLICT,
        "invalid-transition",
        "Not possible in this state",
    )
    .with_detail(err.to_string())
    .into_response()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingCreate {
    pub organization_id: Uuid,
    pub name: String,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub location_id: Option<Uuid>,
}

/// Creates a meeting (state `scheduled`).
#[utoipa::path(post, path = "/api/v1/meetings", tag = "documents", security(("bearer" = [])),
    request_body = MeetingCreate,
    responses((status = 201, body = super::documents::MeetingDetail, headers(("ETag" = String))),
        (status = 400, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn create_meeting(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    AppJson(request): AppJson<MeetingCreate>,
) -> Result<Response> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let dir = Directory::load(&state.db).await?;
    let organization = OrganizationId::from_uuid(request.organization_id);
    if !dir.organizations.contains_key(&organization) {
        return Err(invalid("organization_id", "unknown organization"));
    }
    may_keep(&viewer, &dir, organization)?;
    let location_id = request.location_id.map(LocationId::from_uuid);
    if location_id.is_some_and(|l| !dir.locations.contains_key(&l)) {
        return Err(invalid("location_id", "unknown location"));
    }
    let meeting = Meeting {
        id: MeetingId::new(),
        meta: Meta::new(state.now()),
        organization_id: organization,
        name: Name::parse(&request.name)?,
        start: request.start,
        end: request.end,
        location_id,
        state: MeetingState::Planned,
        invited_at: None,
    };
    let txn = begin(&state).await?;
    let meeting = repo::meetings::insert(&txn, meeting).await?;
    audit(
        &txn,
        &state,
        &auth,
        "meeting.created",
        ("meeting", meeting.id.as_uuid()),
        json!({"organization": organization.as_uuid()}),
    )
    .await?;
    commit(&state, txn).await?;
    let detail = meeting_detail(&state.db, &viewer, meeting.id).await?;
    let mut response = with_etag(&headers, &detail)?;
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingUpdate {
    pub name: Option<String>,
    pub start: Option<DateTime<Utc>>,
    /// `null` removes the end.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub end: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub location_id: Option<Option<Uuid>>,
}

/// A field that may be absent (unchanged), `null` (cleared) or set.
pub(crate) fn present<'de, D, T>(
    deserializer: D,
) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Locks the meeting in `txn` (first statement of the transaction), then loads it as its clerk
/// may change it: the meeting and its current ETag (404 if invisible, 403 if not the clerk's).
pub(crate) async fn locked_meeting(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: MeetingId,
) -> Result<(Meeting, String)> {
    repo::meetings::lock(txn, id).await?;
    let detail = meeting_detail(txn, viewer, id).await?;
    let meeting = repo::meetings::get_live(txn, id).await?;
    let dir = Directory::load(txn).await?;
    may_keep(viewer, &dir, meeting.organization_id)?;
    Ok((meeting, etag_of(&detail)?))
}

/// Changes a meeting's name, times or location.
#[utoipa::path(patch, path = "/api/v1/meetings/{id}", tag = "documents",
    security(("bearer" = [])), request_body = MeetingUpdate,
    params(("id" = Uuid, Path, description = "Meeting id"),
        ("If-Match" = String, Header, description = "The meeting's ETag")),
    responses((status = 200, body = super::documents::MeetingDetail, headers(("ETag" = String))),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem), (status = 409, body = crate::Problem),
        (status = 412, body = crate::Problem), (status = 422, body = crate::Problem),
        (status = 428, body = crate::Problem)))]
pub async fn update_meeting(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    AppJson(request): AppJson<MeetingUpdate>,
) -> Result<Response> {
    let Path(id) = id?;
    let viewer = Viewer::member(&state, &auth.user).await?;
    let txn = begin(&state).await?;
    let (mut meeting, etag) = locked_meeting(&txn, &viewer, MeetingId::from_uuid(id)).await?;
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    if matches!(
        meeting.state,
        MeetingState::Closed | MeetingState::Cancelled
    ) {
        return Ok(conflict(plenum_domain::DomainError::RuleViolated(format!(
            "a {} meeting cannot be changed",
            super::documents::state_name(meeting.state)
        ))));
    }
    if let Some(name) = &request.name {
        meeting.name = Name::parse(name)?;
    }
    if let Some(start) = request.start {
        meeting.start = start;
    }
    if let Some(end) = request.end {
        meeting.end = end;
    }
    if let Some(location) = request.location_id {
        let dir = Directory::load(&txn).await?;
        let location = location.map(LocationId::from_uuid);
        if location.is_some_and(|l| !dir.locations.contains_key(&l)) {
            return Err(invalid("location_id", "unknown location"));
        }
        meeting.location_id = location;
    }
    repo::meetings::update(&txn, meeting.clone()).await?;
    let changed = fields(&[
        ("name", request.name.is_some()),
        ("start", request.start.is_some()),
        ("end", request.end.is_some()),
        ("location_id", request.location_id.is_some()),
    ]);
    audit(
        &txn,
        &state,
        &auth,
        "meeting.updated",
        ("meeting", meeting.id.as_uuid()),
        changed,
    )
    .await?;
    commit(&state, txn).await?;
    let detail = meeting_detail(&state.db, &viewer, meeting.id).await?;
    with_etag(&HeaderMap::new(), &detail)
}

/// Moves the meeting along its state machine (invite or cancel); 409 if not allowed now.
/// Inviting checks the notice period, freezes the invitation and notifies the members;
/// cancelling notifies them if they were invited (`super::invitations`).
async fn transition(
    state: AppState,
    auth: AuthUser,
    headers: HeaderMap,
    id: Uuid,
    next: MeetingState,
    late_reason: Option<plenum_domain::LateReason>,
    link: Option<String>,
) -> Result<Response> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let txn = begin(&state).await?;
    let (meeting, etag) = locked_meeting(&txn, &viewer, MeetingId::from_uuid(id)).await?;
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    if let Err(err) = meeting.state.transition(next) {
        return Ok(conflict(err));
    }
    repo::meetings::transition(&txn, meeting.id, next).await?;
    let (action, detail, issued) = if next == MeetingState::Invited {
        let issued = super::invitations::issue_invitation(
            &txn,
            &state,
            &auth,
            &meeting,
            late_reason,
            link.as_deref(),
        )
        .await?;
        let (invitation, issued) = match issued {
            Ok(done) => done,
            Err(refused) => return Ok(refused),
        };
        let detail = json!({"invitation": invitation, "recipients": issued.notifications.len()});
        ("meeting.invited", detail, issued)
    } else if meeting.invited_at.is_some() {
        let issued =
            super::invitations::announce_cancellation(&txn, &state, meeting.id, link.as_deref())
                .await?;
        let detail = json!({"recipients": issued.notifications.len()});
        ("meeting.cancelled", detail, issued)
    } else {
        // Never invited: nobody was told of it, so nobody is told of its cancellation.
        let issued = super::invitations::Issued {
            notifications: Vec::new(),
        };
        let detail = json!({"recipients": issued.notifications.len()});
        ("meeting.cancelled", detail, issued)
    };
    audit(
        &txn,
        &state,
        &auth,
        action,
        ("meeting", meeting.id.as_uuid()),
        detail,
    )
    .await?;
    commit(&state, txn).await?;
    super::invitations::announce(&state, issued).await;
    super::invitations::meeting_response(&state, &viewer, meeting.id).await
}

/// Issues the invitation: checks the notice period (Ladungsfrist: the meeting's start minus the
/// body's notice period, by default the server's `invitation_notice_days`; later only with a `late_reason`, else 422 naming the deadline),
/// freezes what it announces (see `GET …/invitations`), moves the meeting to `invited`, sets
/// `invited_at`, and notifies every member (in the app and by e-mail). The body is optional.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/invite", tag = "documents",
    security(("bearer" = [])),
    request_body(content = Option<super::invitations::IssueRequest>, content_type = "application/json"),
    params(("id" = Uuid, Path, description = "Meeting id"),
        ("If-Match" = String, Header, description = "The meeting's ETag")),
    responses((status = 200, body = super::documents::MeetingDetail, headers(("ETag" = String))),
        (status = 400, body = crate::Problem),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem), (status = 409, body = crate::Problem),
        (status = 412, body = crate::Problem), (status = 422, body = crate::Problem),
        (status = 428, body = crate::Problem)))]
pub async fn invite(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    origin: std::result::Result<crate::origin::Origin, super::oparl::OparlError>,
    body: axum::body::Bytes,
) -> Result<Response> {
    let Path(id) = id?;
    let request = super::invitations::issue_request(&body)?;
    let reason = request
        .late_reason
        .as_deref()
        .map(plenum_domain::LateReason::parse)
        .transpose()?
        .flatten();
    let link = super::invitations::link_base(&state, origin);
    transition(
        state,
        auth,
        headers,
        id,
        MeetingState::Invited,
        reason,
        link,
    )
    .await
}

/// Cancels the meeting (it stays listed as `cancelled`); the members are notified.
#[utoipa::path(delete, path = "/api/v1/meetings/{id}", tag = "documents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id"),
        ("If-Match" = String, Header, description = "The meeting's ETag")),
    responses((status = 200, body = super::documents::MeetingDetail, headers(("ETag" = String))),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem), (status = 409, body = crate::Problem),
        (status = 412, body = crate::Problem), (status = 428, body = crate::Problem)))]
pub async fn cancel_meeting(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    origin: std::result::Result<crate::origin::Origin, super::oparl::OparlError>,
) -> Result<Response> {
    let Path(id) = id?;
    let link = super::invitations::link_base(&state, origin);
    transition(
        state,
        auth,
        headers,
        id,
        MeetingState::Cancelled,
        None,
        link,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaItemCreate {
    pub title: String,
    pub public: bool,
    pub paper_id: Option<Uuid>,
    /// Markdown.
    pub decision: Option<String>,
}

/// Adds an item at the end of the agenda; it is numbered `Ö n` or `N n` automatically. Needs
/// the meeting's ETag.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/agenda", tag = "documents",
    security(("bearer" = [])), request_body = AgendaItemCreate,
    params(("id" = Uuid, Path, description = "Meeting id"),
        ("If-Match" = String, Header, description = "The meeting's ETag")),
    responses((status = 201, body = super::documents::AgendaItemDetail, headers(("ETag" = String))),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem), (status = 412, body = crate::Problem),
        (status = 422, body = crate::Problem), (status = 428, body = crate::Problem)))]
pub async fn create_agenda_item(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    AppJson(request): AppJson<AgendaItemCreate>,
) -> Result<Response> {
    let Path(id) = id?;
    let viewer = Viewer::member(&state, &auth.user).await?;
    let txn = begin(&state).await?;
    let (meeting, etag) = locked_meeting(&txn, &viewer, MeetingId::from_uuid(id)).await?;
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    let title = Title::parse(&request.title)?;
    let decision = request
        .decision
        .as_deref()
        .map(Markdown::parse)
        .transpose()?;
    let paper_id = request.paper_id.map(PaperId::from_uuid);
    if let Some(paper) = paper_id
        && repo::papers::get_live(&txn, paper).await.is_err()
    {
        return Err(invalid("paper_id", "unknown paper"));
    }
    let items = repo::agenda_items::list_by_meeting(&txn, meeting.id, false).await?;
    let position = items.iter().map(|i| i.position).max().unwrap_or(0) + 1;
    let mut item = AgendaItem {
        id: AgendaItemId::new(),
        meta: Meta::new(state.now()),
        meeting_id: meeting.id,
        number: AgendaNumber::numbered(request.public, 1),
        position,
        public: request.public,
        title,
        paper_id,
        decision,
    };
    repo::agenda_items::insert(&txn, item.clone()).await?;
    renumber(&txn, meeting.id).await?;
    audit(
        &txn,
        &state,
        &auth,
        "agenda_item.created",
        ("agenda_item", item.id.as_uuid()),
        json!({"meeting": meeting.id.as_uuid(), "paper": paper_id.map(|p| p.as_uuid())}),
    )
    .await?;
    commit(&state, txn).await?;
    item = repo::agenda_items::get_live(&state.db, item.id).await?;
    let detail = agenda_item_detail(&state.db, &viewer, item.id).await?;
    let mut response = with_etag(&HeaderMap::new(), &detail)?;
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// Numbers the meeting's agenda: public items `Ö 1…`, non-public ones `N 1…`, in position order.
async fn renumber(db: &impl plenum_store::ConnectionTrait, meeting: MeetingId) -> Result<()> {
    let (mut public, mut closed) = (0, 0);
    for mut item in repo::agenda_items::list_by_meeting(db, meeting, false).await? {
        let n = if item.public {
            public += 1;
            public
        } else {
            closed += 1;
            closed
        };
        let number = AgendaNumber::numbered(item.public, n);
        if item.number != number {
            item.number = number;
            repo::agenda_items::update(db, item).await?;
        }
    }
    Ok(())
}

/// Begins a write on an agenda item: opens the transaction, locks the item's meeting in it, then
/// loads the item as its clerk may change it: the transaction, the item, its meeting and the
/// item's current ETag (404 for an unknown item, 403 for those who may see but not keep it).
pub(crate) async fn begin_on_item(
    state: &AppState,
    viewer: &Viewer,
    id: AgendaItemId,
) -> Result<(DatabaseTransaction, AgendaItem, Meeting, String)> {
    // An item never moves to another meeting, so the meeting read before the lock stays right.
    let meeting = repo::agenda_items::get_live(&state.db, id)
        .await?
        .meeting_id;
    let txn = begin(state).await?;
    repo::meetings::lock(&txn, meeting).await?;
    let detail = agenda_item_detail(&txn, viewer, id).await?;
    let item = repo::agenda_items::get_live(&txn, id).await?;
    let meeting = repo::meetings::get_live(&txn, item.meeting_id).await?;
    let dir = Directory::load(&txn).await?;
    may_keep(viewer, &dir, meeting.organization_id)?;
    let etag = etag_of(&detail)?;
    Ok((txn, item, meeting, etag))
}

/// Removes an agenda item; the rest are renumbered. Needs the item's ETag.
#[utoipa::path(delete, path = "/api/v1/agenda-items/{id}", tag = "documents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Agenda item id"),
        ("If-Match" = String, Header, description = "The item's ETag")),
    responses((status = 204, description = "Deleted"),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem), (status = 412, body = crate::Problem),
        (status = 428, body = crate::Problem)))]
pub async fn delete_agenda_item(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, PathRejection>,
) -> Result<Response> {
    let Path(id) = id?;
    let viewer = Viewer::member(&state, &auth.user).await?;
    let id = AgendaItemId::from_uuid(id);
    let (txn, _, meeting, etag) = begin_on_item(&state, &viewer, id).await?;
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    repo::agenda_items::delete(&txn, id).await?;
    renumber(&txn, meeting.id).await?;
    audit(
        &txn,
        &state,
        &auth,
        "agenda_item.deleted",
        ("agenda_item", id.as_uuid()),
        json!({"meeting": meeting.id.as_uuid()}),
    )
    .await?;
    commit(&state, txn).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaItemUpdate {
    pub title: Option<String>,
    /// Changing it renumbers the agenda (`Ö n` / `N n`).
    pub public: Option<bool>,
    /// `null` unlinks the paper.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub paper_id: Option<Option<Uuid>>,
    /// Markdown; `null` removes the decision.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub decision: Option<Option<String>>,
}

/// Changes an agenda item's title, visibility, paper link or decision. Needs the item's ETag;
/// 409 if its meeting is cancelled.
#[utoipa::path(patch, path = "/api/v1/agenda-items/{id}", tag = "documents",
    security(("bearer" = [])), request_body = AgendaItemUpdate,
    params(("id" = Uuid, Path, description = "Agenda item id"),
        ("If-Match" = String, Header, description = "The item's ETag")),
    responses((status = 200, body = super::documents::AgendaItemDetail, headers(("ETag" = String))),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem), (status = 412, body = crate::Problem),
        (status = 422, body = crate::Problem), (status = 428, body = crate::Problem)))]
pub async fn update_agenda_item(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    AppJson(request): AppJson<AgendaItemUpdate>,
) -> Result<Response> {
    let Path(id) = id?;
    let viewer = Viewer::member(&state, &auth.user).await?;
    let id = AgendaItemId::from_uuid(id);
    let (txn, mut item, meeting, etag) = begin_on_item(&state, &viewer, id).await?;
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    if meeting.state == MeetingState::Cancelled {
        return Ok(conflict(plenum_domain::DomainError::RuleViolated(
            "the items of a cancelled meeting cannot be changed".into(),
        )));
    }
    if let Some(title) = &request.title {
        item.title = Title::parse(title)?;
    }
    if let Some(decision) = &request.decision {
        item.decision = decision.as_deref().map(Markdown::parse).transpose()?;
    }
    if let Some(paper) = request.paper_id {
        let paper = paper.map(PaperId::from_uuid);
        if let Some(paper) = paper
            && repo::papers::get_live(&txn, paper).await.is_err()
        {
            return Err(invalid("paper_id", "unknown paper"));
        }
        item.paper_id = paper;
    }
    let renumbered = request.public.is_some_and(|p| p != item.public);
    if let Some(public) = request.public {
        item.public = public;
        // The number must state the visibility; `renumber` gives the final one below.
        item.number = AgendaNumber::numbered(public, item.position);
    }
    repo::agenda_items::update(&txn, item).await?;
    if renumbered {
        renumber(&txn, meeting.id).await?;
    }
    let changed = fields(&[
        ("title", request.title.is_some()),
        ("public", request.public.is_some()),
        ("paper_id", request.paper_id.is_some()),
        ("decision", request.decision.is_some()),
    ]);
    audit(
        &txn,
        &state,
        &auth,
        "agenda_item.updated",
        ("agenda_item", id.as_uuid()),
        changed,
    )
    .await?;
    commit(&state, txn).await?;
    let detail = agenda_item_detail(&state.db, &viewer, id).await?;
    with_etag(&HeaderMap::new(), &detail)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaOrder {
    /// Every live item of the meeting, each once, in the new order.
    pub ids: Vec<Uuid>,
}

/// Reorders the whole agenda and renumbers it. Needs the meeting's ETag; `ids` must list every
/// item of the meeting exactly once (else 422).
#[utoipa::path(put, path = "/api/v1/meetings/{id}/agenda/order", tag = "documents",
    security(("bearer" = [])), request_body = AgendaOrder,
    params(("id" = Uuid, Path, description = "Meeting id"),
        ("If-Match" = String, Header, description = "The meeting's ETag")),
    responses((status = 200, body = super::documents::MeetingDetail, headers(("ETag" = String))),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem), (status = 412, body = crate::Problem),
        (status = 422, body = crate::Problem), (status = 428, body = crate::Problem)))]
pub async fn order_agenda(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    AppJson(request): AppJson<AgendaOrder>,
) -> Result<Response> {
    let Path(id) = id?;
    let viewer = Viewer::member(&state, &auth.user).await?;
    let txn = begin(&state).await?;
    let (meeting, etag) = locked_meeting(&txn, &viewer, MeetingId::from_uuid(id)).await?;
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    if matches!(
        meeting.state,
        MeetingState::Closed | MeetingState::Cancelled
    ) {
        return Ok(conflict(plenum_domain::DomainError::RuleViolated(format!(
            "the agenda of a {} meeting cannot be reordered",
            super::documents::state_name(meeting.state)
        ))));
    }
    let items = repo::agenda_items::list_by_meeting(&txn, meeting.id, false).await?;
    let positions = new_positions(
        &request.ids,
        items.iter().map(|i| i.id.as_uuid()),
        "must list every agenda item of the meeting exactly once",
    )?;
    for mut item in items {
        let position = positions[&item.id.as_uuid()];
        if item.position != position {
            item.position = position;
            repo::agenda_items::update(&txn, item).await?;
        }
    }
    renumber(&txn, meeting.id).await?;
    audit(
        &txn,
        &state,
        &auth,
        "agenda.reordered",
        ("meeting", meeting.id.as_uuid()),
        json!({}),
    )
    .await?;
    commit(&state, txn).await?;
    let detail = meeting_detail(&state.db, &viewer, meeting.id).await?;
    with_etag(&HeaderMap::new(), &detail)
}
