//! Invitations (Einladung), supplements (Nachtrag), members' notifications and their e-mail
//! choices, and the clerk's view of e-mail delivery.
//!
//! Issuing an invitation or supplement freezes what it announces (`InvitationDocument`), and in
//! the same transaction writes one notification per current member and queues their e-mails
//! (`plenum_store::notify`). After the commit the notifications go out live on each member's
//! personal stream (`{"type": "notification", "notification": …, "unread": n}`) and the e-mail
//! worker is woken.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use plenum_domain::{
    InvitationDocument, InvitationKind, LateReason, Meeting, MeetingId, MeetingState,
    NotificationKind, PersonId, check_notice, german_date_time, invitation_deadline,
};
use plenum_render::InvitationVariant;
use plenum_store::notify::{self, MeetingNews, Notification};
use plenum_store::{DatabaseTransaction, repo};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::clerk::{audit, begin, commit, conflict, precondition};
use super::documents::{Directory, Viewer, meeting_detail, with_etag};
use crate::auth::AuthUser;
use crate::json::{AppJson, AppPath};
use crate::origin::Origin;
use crate::routes::oparl::OparlError;
use crate::{ApiError, AppState, Problem, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}/invitations", get(list_invitations))
        .route("/meetings/{id}/supplements", post(issue_supplement))
        .route(
            "/meetings/{id}/invitations/{number}/deliveries",
            get(list_deliveries),
        )
        .route(
            "/meetings/{id}/invitations/{number}/pdf",
            get(get_invitation_pdf),
        )
        .route(
            "/public/meetings/{id}/invitation.pdf",
            get(get_public_invitation_pdf),
        )
        .route("/notifications", get(list_notifications))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/{id}/read", post(read_one))
        .route(
            "/me/notification-settings",
            get(get_settings).put(put_settings),
        )
}

// --- Issuing ---------------------------------------------------------------------------------

/// The optional body of `invite` and `supplements`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// Why the notice period is shortened (an urgent meeting). Needed when the invitation is
    /// issued after the deadline; shown in the invitation and the minutes.
    pub late_reason: Option<String>,
}

/// An empty body (or `null`) is no body; anything else must be an `IssueRequest`: malformed
/// JSON is 400, JSON of the wrong shape 422 (as for every other JSON body).
pub(crate) fn issue_request(body: &Bytes) -> Result<IssueRequest> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(IssueRequest::default());
    }
    serde_json::from_slice::<Option<IssueRequest>>(body)
        .map(Option::unwrap_or_default)
        .map_err(|err| {
            let status = if err.classify() == serde_json::error::Category::Data {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::BAD_REQUEST
            };
            ApiError::Problem(Box::new(
                Problem::new(status, "invalid-body", "Invalid request body")
                    .with_detail(err.to_string()),
            ))
        })
}

/// Where members open Plenum: `public_url`, else this request's origin.
pub(crate) fn link_base(
    state: &AppState,
    origin: std::result::Result<Origin, OparlError>,
) -> Option<String> {
    state
        .config
        .origin
        .public_url
        .as_ref()
        .map(|u| u.as_str().to_owned())
        .or_else(|| origin.ok().map(|o| o.0))
}

/// The 422 of an invitation after the deadline without a reason.
fn too_late(deadline: DateTime<Utc>, days: u32) -> Response {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invitation-late",
        "After the notice deadline",
    )
    .with_detail(format!(
        "The notice period of {days} days ended at {} (Die Ladungsfrist von {days} Tagen \
         endete am {}). Issue it with a late_reason (Begründung der verkürzten Ladungsfrist).",
        deadline.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        german_date_time(deadline)
    ))
    .with_deadline(deadline)
    .into_response()
}

/// What an issue wrote, to announce after the commit.
pub(crate) struct Issued {
    pub notifications: Vec<(PersonId, Notification)>,
}

/// Inside the invite transition's transaction (the meeting locked, If-Match checked, the state
/// moved): checks the notice period, freezes the invitation and notifies the members.
/// `Err(response)` when it is too late without a reason.
pub(crate) async fn issue_invitation(
    txn: &DatabaseTransaction,
    state: &AppState,
    auth: &AuthUser,
    meeting: &Meeting,
    reason: Option<LateReason>,
    link: Option<&str>,
) -> Result<std::result::Result<(Uuid, Issued), Response>> {
    let now = state.now();
    let days = super::body_settings::notice_days_for(txn, state, meeting.organization_id).await?;
    let deadline = invitation_deadline(meeting.start, days);
    if check_notice(now, meeting.start, days, reason.as_ref()).is_err() {
        return Ok(Err(too_late(deadline, days)));
    }
    // A reason given for an invitation on time is not a shortened notice period.
    let late_reason = reason.filter(|_| now > deadline);
    let document = InvitationDocument {
        kind: InvitationKind::Invitation,
        number: 1,
        issued_at: now,
        deadline,
        late_reason,
        announced: notify::current_announcement(txn, meeting.id).await?,
        changes: None,
    };
    let id = notify::insert_invitation(txn, meeting.id, Some(auth.user.id), &document).await?;
    let notifications = notify::notify_members(
        txn,
        &MeetingNews {
            kind: NotificationKind::Invitation,
            meeting: meeting.id,
            invitation: Some(&document),
            invitation_id: Some(id),
            at: now,
            link_base: link,
        },
    )
    .await?;
    Ok(Ok((id, Issued { notifications })))
}

/// Inside the cancel transition's transaction: tells the members.
pub(crate) async fn announce_cancellation(
    txn: &DatabaseTransaction,
    state: &AppState,
    meeting: MeetingId,
    link: Option<&str>,
) -> Result<Issued> {
    let notifications = notify::notify_members(
        txn,
        &MeetingNews {
            kind: NotificationKind::Cancellation,
            meeting,
            invitation: None,
            invitation_id: None,
            at: state.now(),
            link_base: link,
        },
    )
    .await?;
    Ok(Issued { notifications })
}

/// After the commit: the notifications live to connected members, and the e-mail worker woken.
pub(crate) async fn announce(state: &AppState, issued: Issued) {
    state.mail_wake.notify_one();
    let notifications: Vec<&Notification> = issued.notifications.iter().map(|(_, n)| n).collect();
    let numbers = invitation_numbers(&state.db, &notifications)
        .await
        .unwrap_or_default();
    let persons: Vec<PersonId> = issued.notifications.iter().map(|(p, _)| *p).collect();
    let connected = state.live.connected_among(&persons).await;
    for (person, notification) in issued.notifications {
        if !connected.contains(&person) {
            continue;
        }
        let unread = notify::unread_count(&state.db, person).await.unwrap_or(0);
        let message = json!({
            "type": "notification",
            "notification": NotificationView::new(notification, &numbers),
            "unread": unread,
        });
        state
            .live
            .send_to_person(person, Arc::from(message.to_string().as_str()));
    }
}

/// Issues a supplement (Nachtrag) to the meeting's invitation: what changed on the agenda
/// (added, moved, withdrawn items), the time or the place since the last document, as a document
/// of its own; the members are notified. 409 before the invitation, for a meeting no longer
/// ahead, or when nothing changed. Needs the meeting's ETag.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/supplements", tag = "documents",
    security(("bearer" = [])), request_body(content = Option<IssueRequest>, content_type = "application/json"),
    params(("id" = Uuid, Path, description = "Meeting id"),
        ("If-Match" = String, Header, description = "The meeting's ETag")),
    responses((status = 201, body = InvitationView),
        (status = 400, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 409, body = crate::Problem),
        (status = 412, body = crate::Problem), (status = 422, body = crate::Problem),
        (status = 428, body = crate::Problem)))]
pub async fn issue_supplement(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
    origin: std::result::Result<Origin, OparlError>,
    body: Bytes,
) -> Result<Response> {
    let request = issue_request(&body)?;
    let reason = request
        .late_reason
        .as_deref()
        .map(LateReason::parse)
        .transpose()?
        .flatten();
    let link = link_base(&state, origin);
    let viewer = Viewer::member(&state, &auth.user).await?;
    let txn = begin(&state).await?;
    let (meeting, etag) =
        super::clerk::locked_meeting(&txn, &viewer, MeetingId::from_uuid(id)).await?;
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    let rule = |text: &str| conflict(plenum_domain::DomainError::RuleViolated(text.to_owned()));
    if meeting.state != MeetingState::Invited {
        return Ok(rule(
            "a supplement needs an invited meeting that has not started",
        ));
    }
    let previous = notify::invitations_of(&txn, meeting.id).await?;
    let Some(last) = previous.last() else {
        return Ok(rule("issue the invitation first"));
    };
    let announced = notify::current_announcement(&txn, meeting.id).await?;
    let changes = plenum_domain::changes(&last.document.announced, &announced);
    if changes.is_empty() {
        return Ok(rule(
            "nothing changed since the last invitation or supplement",
        ));
    }
    let now = state.now();
    let days = super::body_settings::notice_days_for(&txn, &state, meeting.organization_id).await?;
    let document = InvitationDocument {
        kind: InvitationKind::Supplement,
        number: last.document.number + 1,
        issued_at: now,
        deadline: invitation_deadline(meeting.start, days),
        late_reason: reason,
        announced,
        changes: Some(changes),
    };
    let invitation =
        notify::insert_invitation(&txn, meeting.id, Some(auth.user.id), &document).await?;
    let notifications = notify::notify_members(
        &txn,
        &MeetingNews {
            kind: NotificationKind::Supplement,
            meeting: meeting.id,
            invitation: Some(&document),
            invitation_id: Some(invitation),
            at: now,
            link_base: link.as_deref(),
        },
    )
    .await?;
    audit(
        &txn,
        &state,
        &auth,
        "meeting.supplement_issued",
        ("meeting", meeting.id.as_uuid()),
        json!({"invitation": invitation, "number": document.number, "recipients": notifications.len()}),
    )
    .await?;
    commit(&state, txn).await?;
    announce(&state, Issued { notifications }).await;
    let view = InvitationView::new(invitation, document);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

// --- Reading invitations -----------------------------------------------------------------------

/// An issued invitation or supplement as the viewer may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: Uuid,
    /// `invitation` or `supplement`.
    pub kind: &'static str,
    /// 1 for the invitation, 2… for supplements.
    pub number: u32,
    pub issued_at: DateTime<Utc>,
    /// The notice deadline (meeting start minus the notice period).
    pub deadline: DateTime<Utc>,
    /// Issued after the deadline (with `late_reason`).
    pub late: bool,
    pub late_reason: Option<String>,
    /// The frozen document (time, place, agenda with numbers, titles and paper references;
    /// for a supplement `changes`: added, moved, withdrawn items), as the document engine
    /// renders it. Without the non-public part for those not entitled to it.
    #[schema(value_type = Object)]
    pub document: InvitationDocument,
}

impl InvitationView {
    fn new(id: Uuid, document: InvitationDocument) -> Self {
        Self {
            id,
            kind: document.kind.as_str(),
            number: document.number,
            issued_at: document.issued_at,
            deadline: document.deadline,
            late: document.late_reason.is_some(),
            late_reason: document.late_reason.as_ref().map(|r| r.as_str().to_owned()),
            document,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationList {
    pub data: Vec<InvitationView>,
}

/// The meeting's invitation and supplements, in order. Members who may see the meeting; the
/// non-public agenda only for those entitled to it.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/invitations", tag = "documents",
    security(("bearer" = [])), params(("id" = Uuid, Path, description = "Meeting id")),
    responses((status = 200, body = InvitationList),
        (status = 400, body = crate::Problem), (status = 404, body = crate::Problem)))]
pub async fn list_invitations(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<InvitationList>> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let dir = Directory::load(&state.db).await?;
    let meeting = repo::meetings::get_live(&state.db, MeetingId::from_uuid(id)).await?;
    if !dir.meeting_visible(&viewer, &meeting) {
        return Err(ApiError::NotFound);
    }
    let entitled = dir.entitled(&viewer, &meeting);
    let data = notify::invitations_of(&state.db, meeting.id)
        .await?
        .into_iter()
        .map(|stored| {
            let document = if entitled {
                stored.document
            } else {
                stored.document.public_part()
            };
            InvitationView::new(stored.id, document)
        })
        .collect();
    Ok(Json(InvitationList { data }))
}

/// The public notice (öffentliche Bekanntmachung) of a meeting, for the portal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicNotice {
    /// When the invitation was issued.
    pub issued_at: DateTime<Utc>,
    /// Supplements issued since.
    pub supplements: u32,
    /// The notice period was shortened, for this reason.
    pub late_reason: Option<String>,
    /// Time, place and the public agenda as last announced.
    #[schema(value_type = Object)]
    pub announced: plenum_domain::Announcement,
}

/// The meeting's public notice, if it was invited.
pub(crate) async fn public_notice(
    db: &impl plenum_store::ConnectionTrait,
    meeting: MeetingId,
) -> Result<Option<PublicNotice>> {
    let all = notify::invitations_of(db, meeting).await?;
    let (Some(first), Some(last)) = (all.first(), all.last()) else {
        return Ok(None);
    };
    let public = last.document.public_part();
    Ok(Some(PublicNotice {
        issued_at: first.document.issued_at,
        supplements: last.document.number.saturating_sub(1),
        late_reason: first
            .document
            .late_reason
            .as_ref()
            .map(|r| r.as_str().to_owned()),
        announced: public.announced,
    }))
}

// --- The invitation as PDF ---------------------------------------------------------------------

/// A rendered invitation's answer: 304 when `If-None-Match` names its ETag (nothing rendered),
/// else the PDF/A with `ETag`, `Content-Disposition` (`disposition`) and `Cache-Control`.
async fn pdf_answer(
    headers: &HeaderMap,
    rendering: crate::render::InvitationRendering,
    disposition: &str,
    cache: &'static str,
) -> Result<Response> {
    let etag = rendering.etag.clone();
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
        });
    let mut response = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let name = rendering.file_name.clone();
        let mut response = crate::pdf::response(rendering.render_pdf().await?, &name);
        let value = crate::routes::files::content_disposition(disposition, &name);
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
        response
    };
    let out = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, value);
    }
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(response)
}

/// An invitation or supplement as PDF/A, for members who may see the meeting: everything it
/// announced for those entitled to the non-public part, else without it ("Ohne den
/// nichtöffentlichen Teil"). Time in German time, the agenda with numbers and paper references,
/// the notice period and the reason it was shortened; a supplement lists its changes. 404 for an
/// unknown number or a meeting the caller may not see. `ETag`; `If-None-Match` gives 304.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/invitations/{number}/pdf", tag = "documents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id"),
        ("number" = u32, Path, description = "1: the invitation; 2…: supplements"),
        ("If-None-Match" = Option<String>, Header, description = "A cached ETag")),
    responses((status = 200, description = "The invitation as PDF/A-2b (`application/pdf`)",
            content_type = "application/pdf", body = Vec<u8>,
            headers(("ETag" = String), ("Content-Disposition" = String))),
        (status = 304, description = "Not modified"),
        (status = 400, body = crate::Problem), (status = 404, body = crate::Problem)))]
pub async fn get_invitation_pdf(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    AppPath((id, number)): AppPath<(Uuid, u32)>,
) -> Result<Response> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let dir = Directory::load(&state.db).await?;
    let meeting = repo::meetings::get_live(&state.db, MeetingId::from_uuid(id)).await?;
    if !dir.meeting_visible(&viewer, &meeting) {
        return Err(ApiError::NotFound);
    }
    let stored = notify::invitations_of(&state.db, meeting.id)
        .await?
        .into_iter()
        .find(|i| i.document.number == number)
        .ok_or(ApiError::NotFound)?;
    let variant = if dir.entitled(&viewer, &meeting) {
        InvitationVariant::Full
    } else {
        InvitationVariant::PublicPart
    };
    let rendering =
        crate::render::invitation_pdf(&state, &dir, &meeting, stored.document, variant).await;
    pdf_answer(&headers, rendering, "attachment", "private, no-cache").await
}

/// The meeting's public notice (öffentliche Bekanntmachung) as PDF/A, for everyone: the latest
/// invitation or supplement without anything non-public. 404 for an unknown meeting, one the
/// public may not see, or one not invited yet. `ETag`; `If-None-Match` gives 304.
#[utoipa::path(get, path = "/api/v1/public/meetings/{id}/invitation.pdf", tag = "public",
    params(("id" = Uuid, Path, description = "Meeting id"),
        ("If-None-Match" = Option<String>, Header, description = "A cached ETag")),
    responses((status = 200, description = "The public notice as PDF/A-2b (`application/pdf`)",
            content_type = "application/pdf", body = Vec<u8>,
            headers(("ETag" = String), ("Content-Disposition" = String))),
        (status = 304, description = "Not modified"),
        (status = 400, body = crate::Problem), (status = 404, body = crate::Problem)))]
pub async fn get_public_invitation_pdf(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response> {
    let dir = Directory::load(&state.db).await?;
    let meeting = repo::meetings::get_live(&state.db, MeetingId::from_uuid(id)).await?;
    if !dir.meeting_visible(&Viewer::public(), &meeting) {
        return Err(ApiError::NotFound);
    }
    let latest = notify::invitations_of(&state.db, meeting.id)
        .await?
        .pop()
        .ok_or(ApiError::NotFound)?;
    let rendering = crate::render::invitation_pdf(
        &state,
        &dir,
        &meeting,
        latest.document,
        InvitationVariant::PublicNotice,
    )
    .await;
    pdf_answer(&headers, rendering, "inline", "public, max-age=300").await
}

// --- Deliveries --------------------------------------------------------------------------------

/// One member's e-mail of an invitation or supplement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryView {
    pub person_id: Option<Uuid>,
    pub name: Option<String>,
    pub recipient: String,
    /// `queued`, `sending`, `sent` or `failed`.
    pub state: String,
    pub attempts: u32,
    /// The mail server's or the network's answer to the last failed attempt.
    pub last_error: Option<String>,
    /// When it will be tried again (`null` after a permanent failure or once sent).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryList {
    /// Whether an SMTP server is configured; without one, e-mails wait (`queued`).
    pub smtp_configured: bool,
    pub data: Vec<DeliveryView>,
}

/// The e-mail delivery state of an invitation or supplement per member (the clerk's view).
#[utoipa::path(get, path = "/api/v1/meetings/{id}/invitations/{number}/deliveries",
    tag = "documents", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id"),
        ("number" = u32, Path, description = "1: the invitation; 2…: supplements")),
    responses((status = 200, body = DeliveryList),
        (status = 400, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath((id, number)): AppPath<(Uuid, u32)>,
) -> Result<Json<DeliveryList>> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let dir = Directory::load(&state.db).await?;
    let meeting = repo::meetings::get_live(&state.db, MeetingId::from_uuid(id)).await?;
    if !dir.meeting_visible(&viewer, &meeting) {
        return Err(ApiError::NotFound);
    }
    super::clerk::may_keep(&viewer, &dir, meeting.organization_id)?;
    let invitation = notify::invitations_of(&state.db, meeting.id)
        .await?
        .into_iter()
        .find(|i| i.document.number == number)
        .ok_or(ApiError::NotFound)?;
    let mut data = Vec::new();
    for delivery in notify::deliveries(&state.db, invitation.id).await? {
        let name = match delivery.person {
            Some(person) => repo::persons::get(&state.db, person)
                .await
                .ok()
                .map(|p| p.full_name()),
            None => None,
        };
        // (While `sending`, the row's next attempt is when the claim runs out: not one.)
        let next_attempt_at = delivery
            .next_attempt_at
            .filter(|_| delivery.state != plenum_store::notify::STATE_SENDING);
        data.push(DeliveryView {
            person_id: delivery.person.map(|p| p.as_uuid()),
            name,
            recipient: delivery.recipient,
            state: delivery.state,
            attempts: delivery.attempts,
            last_error: delivery.last_error,
            next_attempt_at,
            sent_at: delivery.sent_at,
        });
    }
    Ok(Json(DeliveryList {
        smtp_configured: state.config.mail.is_some(),
        data,
    }))
}

// --- Notifications -----------------------------------------------------------------------------

/// A notification of the signed-in member.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    /// `invitation`, `supplement`, `cancellation` or `minutes_published`.
    pub kind: &'static str,
    pub meeting_id: Uuid,
    pub invitation_id: Option<Uuid>,
    /// The number of the invitation (1) or supplement (2…) it announces: its PDF is
    /// `/api/v1/meetings/{meeting_id}/invitations/{invitation_number}/pdf`.
    pub invitation_number: Option<u32>,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl NotificationView {
    /// `numbers`: the invitations' numbers by id (see [`invitation_numbers`]).
    fn new(n: Notification, numbers: &HashMap<Uuid, u32>) -> Self {
        Self {
            id: n.id,
            kind: n.kind.as_str(),
            meeting_id: n.meeting.as_uuid(),
            invitation_number: n.invitation.and_then(|i| numbers.get(&i).copied()),
            invitation_id: n.invitation,
            title: n.title,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

/// The numbers of the invitations and supplements these notifications announce, by id.
async fn invitation_numbers(
    db: &impl plenum_store::ConnectionTrait,
    notifications: &[&Notification],
) -> Result<HashMap<Uuid, u32>> {
    let mut meetings: Vec<MeetingId> = notifications
        .iter()
        .filter(|n| n.invitation.is_some())
        .map(|n| n.meeting)
        .collect();
    meetings.sort();
    meetings.dedup();
    Ok(notify::invitations_of_meetings(db, &meetings)
        .await?
        .into_values()
        .flatten()
        .map(|i| (i.id, i.document.number))
        .collect())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationList {
    /// How many are unread (of all, not only those listed).
    pub unread: u64,
    /// The newest 100, newest first.
    pub data: Vec<NotificationView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnreadCount {
    pub unread: u64,
}

/// The signed-in member's notifications, newest first, with the unread count. Accounts without
/// a person (administrators) have none.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = NotificationList)))]
pub async fn list_notifications(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<NotificationList>> {
    let Some(person) = auth.user.person_id else {
        return Ok(Json(NotificationList {
            unread: 0,
            data: Vec::new(),
        }));
    };
    let notifications = notify::notifications_of(&state.db, person, 100).await?;
    let numbers = invitation_numbers(&state.db, &notifications.iter().collect::<Vec<_>>()).await?;
    let data = notifications
        .into_iter()
        .map(|n| NotificationView::new(n, &numbers))
        .collect();
    let unread = notify::unread_count(&state.db, person).await?;
    Ok(Json(NotificationList { unread, data }))
}

/// Tells the member's other devices the new unread count.
async fn send_unread(state: &AppState, person: PersonId) -> Result<u64> {
    let unread = notify::unread_count(&state.db, person).await?;
    if state.live.is_connected(person).await {
        let message = json!({"type": "notifications_read", "unread": unread});
        state
            .live
            .send_to_person(person, Arc::from(message.to_string().as_str()));
    }
    Ok(unread)
}

/// Marks one of the member's notifications read; the unread count after it.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "me",
    security(("bearer" = [])), params(("id" = Uuid, Path, description = "Notification id")),
    responses((status = 200, body = UnreadCount),
        (status = 400, body = crate::Problem), (status = 404, body = crate::Problem)))]
pub async fn read_one(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<UnreadCount>> {
    let person = auth.user.person_id.ok_or(ApiError::NotFound)?;
    notify::mark_read(&state.db, person, id, state.now()).await?;
    Ok(Json(UnreadCount {
        unread: send_unread(&state, person).await?,
    }))
}

/// Marks all of the member's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "me",
    security(("bearer" = [])), responses((status = 200, body = UnreadCount)))]
pub async fn read_all(State(state): State<AppState>, auth: AuthUser) -> Result<Json<UnreadCount>> {
    let Some(person) = auth.user.person_id else {
        return Ok(Json(UnreadCount { unread: 0 }));
    };
    notify::mark_all_read(&state.db, person, state.now()).await?;
    Ok(Json(UnreadCount {
        unread: send_unread(&state, person).await?,
    }))
}

// --- Settings ----------------------------------------------------------------------------------

/// E-mail on or off per kind of notification (all on unless switched off).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailChoices {
    pub invitation: Option<bool>,
    pub supplement: Option<bool>,
    pub cancellation: Option<bool>,
    pub minutes_published: Option<bool>,
}

impl EmailChoices {
    fn pairs(&self) -> Vec<(NotificationKind, bool)> {
        [
            (NotificationKind::Invitation, self.invitation),
            (NotificationKind::Supplement, self.supplement),
            (NotificationKind::Cancellation, self.cancellation),
            (NotificationKind::MinutesPublished, self.minutes_published),
        ]
        .into_iter()
        .filter_map(|(kind, on)| on.map(|on| (kind, on)))
        .collect()
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationSettings {
    /// Per kind: whether it also comes by e-mail.
    pub email: EmailChoices,
    /// Where e-mails go (the person's address; none: no e-mail at all).
    pub email_address: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettingsUpdate {
    /// The kinds to change; the others stay.
    pub email: EmailChoices,
}

async fn settings_of(state: &AppState, person: PersonId) -> Result<NotificationSettings> {
    let pairs = notify::email_settings(&state.db, person).await?;
    let on = |kind| pairs.iter().find(|(k, _)| *k == kind).map(|(_, on)| *on);
    let person = repo::persons::get_live(&state.db, person).await?;
    Ok(NotificationSettings {
        email: EmailChoices {
            invitation: on(NotificationKind::Invitation),
            supplement: on(NotificationKind::Supplement),
            cancellation: on(NotificationKind::Cancellation),
            minutes_published: on(NotificationKind::MinutesPublished),
        },
        email_address: person.email.map(|e| e.as_str().to_owned()),
    })
}

/// The signed-in member's e-mail choices (404 for accounts without a person).
#[utoipa::path(get, path = "/api/v1/me/notification-settings", tag = "me",
    security(("bearer" = [])),
    responses((status = 200, body = NotificationSettings), (status = 404, body = crate::Problem)))]
pub async fn get_settings(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<NotificationSettings>> {
    let person = auth.user.person_id.ok_or(ApiError::NotFound)?;
    Ok(Json(settings_of(&state, person).await?))
}

/// Switches e-mail on or off per kind of notification.
#[utoipa::path(put, path = "/api/v1/me/notification-settings", tag = "me",
    security(("bearer" = [])), request_body = NotificationSettingsUpdate,
    responses((status = 200, body = NotificationSettings), (status = 400, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn put_settings(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<NotificationSettingsUpdate>,
) -> Result<Json<NotificationSettings>> {
    let person = auth.user.person_id.ok_or(ApiError::NotFound)?;
    let pairs = request.email.pairs();
    let txn = begin(&state).await?;
    notify::put_email_settings(&txn, person, &pairs).await?;
    let changed: serde_json::Map<String, serde_json::Value> = pairs
        .iter()
        .map(|(kind, on)| (kind.as_str().to_owned(), json!(on)))
        .collect();
    audit(
        &txn,
        &state,
        &auth,
        "notification_settings.updated",
        ("person", person.as_uuid()),
        json!({"email": changed}),
    )
    .await?;
    commit(&state, txn).await?;
    Ok(Json(settings_of(&state, person).await?))
}

/// The meeting after an invite or cancel (as before this module).
pub(crate) async fn meeting_response(
    state: &AppState,
    viewer: &Viewer,
    id: MeetingId,
) -> Result<Response> {
    let detail = meeting_detail(&state.db, viewer, id).await?;
    with_etag(&HeaderMap::new(), &detail)
}
