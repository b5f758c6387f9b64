//! The live session over WebSocket (`/api/v1/live`) and REST (the same commands through the same
//! code path: the meeting's actor).

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use plenum_domain::{
    AccessDecision, Action, Command, CommandActor, CommandId, LiveState, MeetingId,
    OrganizationRef, Resource, User, authorize,
};
use plenum_store::auth::sessions;
use plenum_store::repo;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::json::{AppJson, AppPath, AppQuery, bounded};
use crate::live::view::{self, Viewer};
use crate::live::{Broadcast, DirectAck, LiveFailure, MeetingHandle, TICKET_TTL, ack_message};
use crate::{ApiError, AppState, Problem, Result};

/// Largest message a client may send.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Messages a client may send per second on average (burst: twice that).
pub const MESSAGES_PER_SECOND: f64 = 20.0;
/// How far behind a reconnecting client may be and still get the missed events; further behind,
/// it gets a fresh snapshot (cheaper to send and to apply than a long replay).
pub const MAX_REPLAY: u64 = 256;
/// Messages a connection's writer sends in one write when they queued up together.
const WRITE_BATCH: usize = 64;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/live", get(live_socket))
        .route("/live/ticket", post(issue_ticket))
        .route("/meetings/{id}/live", get(get_live))
        .route("/meetings/{id}/live/events", get(get_events))
        .route("/meetings/{id}/live/commands", post(post_command))
        .route(
            "/meetings/{id}/session-settings",
            get(get_session_settings).put(put_session_settings),
        )
}

/// Maps a live failure to its problem document.
pub fn live_problem(failure: &LiveFailure) -> Problem {
    use plenum_domain::LiveError as E;
    let (status, slug, title) = match failure {
        LiveFailure::Rule(rule) => match rule {
            E::NotChair => (
                StatusCode::FORBIDDEN,
                "not-chair",
                "Only the chair or the clerk may do this",
            ),
            E::NotMember => (
                StatusCode::FORBIDDEN,
                "not-member",
                "Only members of this body may do this",
            ),
            E::NotRunning => (
                StatusCode::CONFLICT,
                "meeting-not-running",
                "The meeting is not running",
            ),
            E::InvalidTransition { .. } => (
                StatusCode::CONFLICT,
                "invalid-state",
                "Not possible in this state",
            ),
            E::ItemNotFound => (
                StatusCode::NOT_FOUND,
                "item-not-found",
                "No such agenda item",
            ),
            E::PollNotFound => (
                StatusCode::NOT_FOUND,
                "poll-not-found",
                "No such poll in this meeting",
            ),
            E::PollExists => (
                StatusCode::CONFLICT,
                "poll-exists",
                "The poll exists already",
            ),
            E::PollNotOpen => (StatusCode::CONFLICT, "poll-closed", "The poll is not open"),
            E::PollNotDraft(_) => (
                StatusCode::CONFLICT,
                "poll-not-draft",
                "The poll was opened already",
            ),
            E::VoterAbsent => (
                StatusCode::FORBIDDEN,
                "voter-absent",
                "You were absent when the poll opened",
            ),
            E::VoterConflicted => (
                StatusCode::FORBIDDEN,
                "voter-conflicted",
                "You declared a conflict of interest",
            ),
            E::VoterAdvisory => (
                StatusCode::FORBIDDEN,
                "voter-advisory",
                "Advisory members do not vote",
            ),
            E::VoterNotEligible => (
                StatusCode::FORBIDDEN,
                "voter-not-eligible",
                "You may not vote in this poll",
            ),
            E::VoterNotStandingIn => (
                StatusCode::FORBIDDEN,
                "voter-not-standing-in",
                "Substitute members vote only while standing in",
            ),
            E::VoterRepresented => (
                StatusCode::FORBIDDEN,
                "voter-represented",
                "Your substitute holds your vote in this poll",
            ),
            E::VoterRemote => (
                StatusCode::FORBIDDEN,
                "voter-remote",
                "Members taking part remotely do not vote in this election",
            ),
            E::StandInSelf => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "stand-in-self",
                "A member cannot stand in for themselves",
            ),
            E::StandInNoSeat => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "stand-in-no-seat",
                "Only a voting member can be represented",
            ),
            E::StandInNotSubstitute => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "stand-in-not-substitute",
                "The stand-in must be a substitute member of this body",
            ),
            E::StandInMemberPresent => (
                StatusCode::CONFLICT,
                "stand-in-member-present",
                "The member is present",
            ),
            E::StandInExists => (
                StatusCode::CONFLICT,
                "stand-in-exists",
                "Someone stands in for this member already",
            ),
            E::SubstituteBusy => (
                StatusCode::CONFLICT,
                "substitute-busy",
                "The substitute stands in for another member already",
            ),
            E::StandInNotFound => (
                StatusCode::NOT_FOUND,
                "stand-in-not-found",
                "Nobody stands in for this member",
            ),
            E::AlreadyVoted => (
                StatusCode::CONFLICT,
                "already-voted",
                "You have voted already",
            ),
            E::VoteRecordRefused(_) => (
                StatusCode::CONFLICT,
                "vote-record-refused",
                "The vote cannot be recorded",
            ),
            E::InvalidChoice => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-choice",
                "Not a valid choice in this poll",
            ),
            E::SecretBarred(_) => (
                StatusCode::CONFLICT,
                "secret-vote-barred",
                "Secret vote not allowed",
            ),
            E::Invalid(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation-failed",
                "Validation failed",
            ),
            E::SpeakerNotFound => (
                StatusCode::NOT_FOUND,
                "speaker-not-found",
                "No such request to speak",
            ),
            E::NoTie => (StatusCode::CONFLICT, "no-tie", "There is no tie to decide"),
            E::QuorumNotMet { .. } => (
                StatusCode::CONFLICT,
                "quorum-not-met",
                "The council is below quorum",
            ),
            E::QuorumDoubted => (
                StatusCode::CONFLICT,
                "quorum-doubted",
                "The quorum was doubted and must be stated first",
            ),
            E::QuorumNotReached(_) => (
                StatusCode::CONFLICT,
                "quorum-not-reached",
                "Too few members present to declare a quorum",
            ),
            E::AmendmentNotFound => (
                StatusCode::NOT_FOUND,
                "amendment-not-found",
                "No such amendment in this meeting",
            ),
            E::AmendmentOutOfOrder(_) => (
                StatusCode::CONFLICT,
                "amendment-out-of-order",
                "Amendments are voted in their order",
            ),
            E::ReasonRequired => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "reason-required",
                "A reason is required",
            ),
            E::OtherDay { .. } => (
                StatusCode::CONFLICT,
                "meeting-other-day",
                "The meeting is scheduled for another day",
            ),
        },
        LiveFailure::CommandIdTaken => (
            StatusCode::CONFLICT,
            "command-id-taken",
            "Command id used by someone else",
        ),
        LiveFailure::Stopped => (
            StatusCode::SERVICE_UNAVAILABLE,
            "live-unavailable",
            "Live session unavailable",
        ),
        LiveFailure::Store(err) => return ApiError::problem_of_store(err),
        // Answered by the node that runs the meeting (several nodes): as it answered.
        LiveFailure::Remote(problem) => return (**problem).clone(),
        LiveFailure::NotLeader => (
            StatusCode::SERVICE_UNAVAILABLE,
            "live-unavailable",
            "Live session unavailable",
        ),
        LiveFailure::Sealing(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
        ),
        LiveFailure::BallotsLost => (
            StatusCode::CONFLICT,
            "ballots-lost",
            "The ballots of this secret poll were lost",
        ),
    };
    let problem = Problem::new(status, slug, title);
    match failure {
        LiveFailure::Rule(
            rule @ (plenum_domain::LiveError::QuorumNotMet { count, .. }
            | plenum_domain::LiveError::QuorumNotReached(count)),
        ) => problem.with_detail(rule.to_string()).with_quorum(count),
        LiveFailure::Rule(rule) => problem.with_detail(rule.to_string()),
        LiveFailure::Stopped | LiveFailure::NotLeader => problem.with_retry_after(2),
        LiveFailure::BallotsLost => problem.with_detail(
            "The server's machine restarted while this secret poll was open, and its ballot box \
             lived in memory only. Cancel the poll and vote again.",
        ),
        _ => problem,
    }
}

/// What a signed-in user may see and do in this meeting.
async fn roles(state: &AppState, user: &User, live: &LiveState) -> Result<(Viewer, CommandActor)> {
    let actor = crate::access::actor(state, user).await?;
    let organization =
        OrganizationRef::new(live.roster.organization, live.roster.organization_kind);
    let entitled = authorize(
        &actor,
        Action::View,
        &Resource::AgendaItem {
            organization,
            public: false,
        },
    ) == AccessDecision::Allow;
    let chair = authorize(
        &actor,
        Action::ChairMeeting,
        &Resource::Meeting {
            organization,
            public: true,
        },
    ) == AccessDecision::Allow;
    let viewer = if entitled {
        Viewer::Entitled {
            person: user.person_id,
            chair,
        }
    } else {
        Viewer::Public
    };
    Ok((
        viewer,
        CommandActor {
            person: user.person_id,
            chair,
        },
    ))
}

async fn meeting_handle(state: &AppState, id: Uuid) -> Result<std::sync::Arc<MeetingHandle>> {
    let meeting = MeetingId::from_uuid(id);
    repo::meetings::get_live(&state.db, meeting).await?;
    state
        .live
        .meeting(
            meeting,
            state.config.rule_set,
            state.config.speaking_time_secs,
        )
        .await
        .map_err(ApiError::Live)
}

/// A signed-in user if a bearer token is present (and valid), else anonymous.
async fn optional_user(state: &AppState, headers: &HeaderMap) -> Result<Option<AuthUser>> {
    if headers.get(header::AUTHORIZATION).is_none() {
        return Ok(None);
    }
    let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    parts.headers = headers.clone();
    use axum::extract::FromRequestParts;
    Ok(Some(AuthUser::from_request_parts(&mut parts, state).await?))
}

/// The live state of a meeting as this viewer may see it.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/live", tag = "live",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id")),
    responses((status = 200, description = "Snapshot with its sequence number"), (status = 404, body = Problem)))]
pub async fn get_live(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<serde_json::Value>> {
    let user = optional_user(&state, &headers).await?;
    let handle = meeting_handle(&state, id).await?;
    let (seq, live) = handle.snapshot().await.map_err(ApiError::Live)?;
    let viewer = match &user {
        Some(auth) => roles(&state, &auth.user, &live).await?.0,
        None => Viewer::Public,
    };
    Ok(Json(view::snapshot(&live, seq, viewer)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Return events after this sequence number (0 to 2^53 − 1).
    #[serde(default)]
    #[param(minimum = 0, maximum = 9_007_199_254_740_991_u64)]
    pub after: u64,
}

/// The largest sequence number a client may name: 2^53 − 1, exact in JSON numbers everywhere.
pub const MAX_SEQ: u64 = 9_007_199_254_740_991;

/// Events after a sequence number (what a reconnecting client missed).
#[utoipa::path(get, path = "/api/v1/meetings/{id}/live/events", tag = "live",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path), EventsQuery),
    responses((status = 200, description = "Missed events, in order"), (status = 404, body = Problem)))]
pub async fn get_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
    AppQuery(query): AppQuery<EventsQuery>,
) -> Result<Json<serde_json::Value>> {
    let user = optional_user(&state, &headers).await?;
    bounded("after", query.after, 0, MAX_SEQ)?;
    let handle = meeting_handle(&state, id).await?;
    let (seq, live) = handle.snapshot().await.map_err(ApiError::Live)?;
    let viewer = match &user {
        Some(auth) => roles(&state, &auth.user, &live).await?.0,
        None => Viewer::Public,
    };
    let events = plenum_store::live::events_since(
        &state.db,
        MeetingId::from_uuid(id),
        query.after,
        MAX_REPLAY,
    )
    .await?;
    let visible: Vec<serde_json::Value> = events
        .iter()
        .filter_map(|e| {
            let payload = crate::live::visible_payload(e, viewer)?;
            Some(serde_json::json!({"seq": e.seq, "event": serde_json::from_str::<serde_json::Value>(&payload).unwrap_or_default()}))
        })
        .collect();
    Ok(Json(
        serde_json::json!({"seq": seq, "events": visible, "complete": seq.saturating_sub(query.after) <= MAX_REPLAY}),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CommandRequest {
    /// Chosen by the client; a retry with the same id never applies twice.
    pub command_id: Uuid,
    /// The command, e.g. `{"type": "cast_ballot", "poll": "…", "choice": {"choice": "yes"}}`.
    #[schema(value_type = Object)]
    pub command: Command,
}

/// Sends a live command; answers once it is durable.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/live/commands", tag = "live", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CommandRequest,
    responses(
        (status = 200, description = "Acknowledged: durable"),
        (status = 403, description = "Not allowed (e.g. voter-absent, voter-conflicted, voter-advisory, voter-not-standing-in)", body = Problem),
        (status = 404, description = "Unknown meeting or poll (e.g. poll-not-found, stand-in-not-found)", body = Problem),
        (status = 409, description = "Conflicts with the state (e.g. poll-closed, already-voted, stand-in-member-present)", body = Problem),
        (status = 422, description = "Invalid command (e.g. validation-failed, invalid-choice, stand-in-not-substitute)", body = Problem),
    ))]
pub async fn post_command(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<CommandRequest>,
) -> Result<Json<serde_json::Value>> {
    let handle = meeting_handle(&state, id).await?;
    let (_, live) = handle.snapshot().await.map_err(ApiError::Live)?;
    let (_, actor) = roles(&state, &auth.user, &live).await?;
    let result = handle
        .command(
            CommandId::from_uuid(request.command_id),
            auth.user.id,
            actor,
            request.command,
            None,
        )
        .await
        .map_err(ApiError::Live)?;
    Ok(Json(
        serde_json::json!({"type": "ack", "command_id": request.command_id, "result": result}),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionSettingsRequest {
    /// Wiederholungssitzung: the council decides regardless of the quorum (GO NRW § 49 (2),
    /// NKomVG § 65 (2), BayGO Art. 47 (3)).
    #[serde(default)]
    pub repeat_meeting: bool,
    /// Speaking time per contribution in seconds (1 to 7200; default 300).
    #[serde(default = "plenum_domain::default_speaking_time_secs")]
    #[schema(minimum = 1, maximum = 7200)]
    pub speaking_time_secs: u32,
}

/// The session settings of a meeting (repeat meeting, speaking time).
#[utoipa::path(get, path = "/api/v1/meetings/{id}/session-settings", tag = "live",
    security((), ("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "`{repeat_meeting, speaking_time_secs}`"), (status = 404, body = Problem)))]
pub async fn get_session_settings(
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<serde_json::Value>> {
    let handle = meeting_handle(&state, id).await?;
    let (_, live) = handle.snapshot().await.map_err(ApiError::Live)?;
    Ok(Json(serde_json::json!(live.settings)))
}

/// Sets the session settings (the clerk or the chair): the same live command as
/// `set_session_settings`, stored with the meeting and audited.
#[utoipa::path(put, path = "/api/v1/meetings/{id}/session-settings", tag = "live",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SessionSettingsRequest,
    responses(
        (status = 200, description = "The settings now in force"),
        (status = 403, description = "not-chair", body = Problem),
        (status = 422, description = "validation-failed", body = Problem),
    ))]
pub async fn put_session_settings(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<SessionSettingsRequest>,
) -> Result<Json<serde_json::Value>> {
    let handle = meeting_handle(&state, id).await?;
    let (_, live) = handle.snapshot().await.map_err(ApiError::Live)?;
    let (_, actor) = roles(&state, &auth.user, &live).await?;
    handle
        .command(
            CommandId::new(),
            auth.user.id,
            actor,
            Command::SetSessionSettings {
                repeat_meeting: request.repeat_meeting,
                speaking_time_secs: request.speaking_time_secs,
            },
            None,
        )
        .await
        .map_err(ApiError::Live)?;
    let (_, live) = handle.snapshot().await.map_err(ApiError::Live)?;
    Ok(Json(serde_json::json!(live.settings)))
}

/// A one-time ticket (valid 30 s) to open the live WebSocket without putting a token in the URL.
#[utoipa::path(post, path = "/api/v1/live/ticket", tag = "live", security(("bearer" = [])),
    responses((status = 200, description = "`{ticket, expires_in}`"), (status = 401, body = Problem)))]
pub async fn issue_ticket(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<serde_json::Value>> {
    let ticket = state
        .live
        .issue_ticket(auth.user.id, auth.session)
        .await
        .map_err(ApiError::Store)?;
    Ok(Json(
        serde_json::json!({"ticket": ticket, "expires_in": TICKET_TTL.as_secs()}),
    ))
}

#[derive(Debug, Deserialize)]
pub struct SocketQuery {
    pub ticket: Option<String>,
    pub meeting: Option<Uuid>,
    pub last_seq: Option<u64>,
}

fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Not a browser: browsers always send Origin on WebSocket upgrades.
        return true;
    };
    if state.config.allowed_origins.iter().any(|o| o == origin) {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    !host.is_empty() && origin_host == host
}

/// `GET /api/v1/live?ticket=…&meeting=…&last_seq=…`: the live WebSocket. Anonymous without a
/// ticket (public view only). Origin checked, authenticated before the upgrade.
pub async fn live_socket(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<SocketQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response> {
    if !origin_allowed(&state, &headers) {
        return Ok(Problem::new(
            StatusCode::FORBIDDEN,
            "origin-not-allowed",
            "Origin not allowed",
        )
        .into_response());
    }
    let who = match &query.ticket {
        Some(ticket) => {
            let (user, session) = state
                .live
                .redeem_ticket(ticket)
                .await
                .ok_or_else(|| ApiError::Token(crate::auth::tokens::TokenError::Invalid))?;
            let live_session = sessions::get(&state.db, session)
                .await
                .map_err(|_| ApiError::SessionRevoked)?;
            if !live_session.is_active(state.now()) {
                return Err(ApiError::SessionRevoked);
            }
            let user = repo::users::get_live(&state.db, user)
                .await
                .map_err(|_| ApiError::SessionRevoked)?;
            Some((user, session))
        }
        None => None,
    };
    Ok(ws
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        // The 128 KiB default buffers per connection dominated the RSS of 10,000 live clients
        // (about 135 KiB each); live messages are small, and the buffers grow when needed.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .on_upgrade(move |socket| connection(socket, state, who, query.meeting, query.last_seq)))
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    Subscribe {
        meeting: Uuid,
        last_seq: Option<u64>,
    },
    Command {
        command_id: Uuid,
        command: Command,
    },
    Ping,
}

struct Subscription {
    handle: std::sync::Arc<MeetingHandle>,
    events: broadcast::Receiver<std::sync::Arc<Broadcast>>,
    viewer: Viewer,
    actor: Option<CommandActor>,
    last_sent: u64,
}

async fn next_event(
    sub: &mut Option<Subscription>,
) -> Result<std::sync::Arc<Broadcast>, broadcast::error::RecvError> {
    match sub {
        Some(sub) => sub.events.recv().await,
        None => std::future::pending().await,
    }
}

fn text(value: serde_json::Value) -> Message {
    Message::Text(Utf8Bytes::from(value.to_string()))
}

async fn subscribe(
    state: &AppState,
    who: &Option<(User, plenum_domain::DeviceSessionId)>,
    meeting: Uuid,
    last_seq: Option<u64>,
    out: &mpsc::Sender<Message>,
) -> std::result::Result<Subscription, Problem> {
    let handle = meeting_handle(state, meeting)
        .await
        .map_err(|e| e.problem())?;
    let events = handle.subscribe();
    let (seq, live) = handle.snapshot().await.map_err(|e| live_problem(&e))?;
    let (viewer, actor) = match who {
        Some((user, _)) => {
            let (viewer, actor) = roles(state, user, &live).await.map_err(|e| e.problem())?;
            (viewer, Some(actor))
        }
        None => (Viewer::Public, None),
    };
    let meeting = MeetingId::from_uuid(meeting);
    let replay = last_seq.filter(|last| *last <= seq && seq - *last <= MAX_REPLAY);
    match replay {
        Some(last) => {
            let missed = plenum_store::live::events_since(&state.db, meeting, last, MAX_REPLAY)
                .await
                .map_err(|e| ApiError::Store(e).problem())?;
            for e in missed.iter().filter(|e| e.seq <= seq) {
                if let Some(payload) = crate::live::visible_payload(e, viewer) {
                    let msg = crate::live::event_frame(e.seq, &payload);
                    let _ = out.send(Message::Text(Utf8Bytes::from(msg))).await;
                }
            }
            let _ = out
                .send(text(serde_json::json!({"type": "caught_up", "seq": seq})))
                .await;
        }
        None => {
            let frame = handle.snapshot_frame(seq, &live, viewer);
            let _ = out.send(Message::Text(Utf8Bytes::from(frame))).await;
        }
    }
    Ok(Subscription {
        handle,
        events,
        viewer,
        actor,
        last_sent: seq,
    })
}

async fn connection(
    socket: WebSocket,
    state: AppState,
    who: Option<(User, plenum_domain::DeviceSessionId)>,
    meeting: Option<Uuid>,
    last_seq: Option<u64>,
) {
    let (mut sink, mut stream) = socket.split();
    // Bounded: a client that cannot keep up is dropped rather than slowing anyone down.
    let (out, mut out_rx) = mpsc::channel::<Message>(512);
    let writer = tokio::spawn(async move {
        'write: while let Some(message) = out_rx.recv().await {
            // What queued up meanwhile (a burst of events) goes out in one write, not one
            // system call per message.
            let mut next = Some(message);
            let mut fed = 0;
            while let Some(message) = next.take() {
                let closing = matches!(message, Message::Close(_));
                if sink.feed(message).await.is_err() {
                    break 'write;
                }
                if closing {
                    let _ = sink.flush().await;
                    break 'write;
                }
                fed += 1;
                if fed < WRITE_BATCH {
                    next = out_rx.try_recv().ok();
                }
            }
            if sink.flush().await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let session = who.as_ref().map(|(_, s)| *s);
    // Anonymous viewers have no session to revoke: a channel that never fires.
    let (_never, never) = tokio::sync::watch::channel(false);
    let mut kicked = match session {
        Some(s) => state.live.watch_session(s),
        None => never,
    };
    let person = who.as_ref().and_then(|(u, _)| u.person_id);
    // A signed-in member also receives their personal messages (notes, forums, unread counts),
    // from the `hello` on (several nodes: the others know of this connection by then).
    let mut personal = match person {
        Some(p) => Some(state.live.subscribe_person(p).await),
        None => None,
    };
    let _ = out
        .send(text(serde_json::json!({
            "type": "hello",
            "user": who.as_ref().map(|(u, _)| u.id),
            "person": who.as_ref().and_then(|(u, _)| u.person_id),
        })))
        .await;
    let mut sub: Option<Subscription> = None;
    if let Some(meeting) = meeting {
        match subscribe(&state, &who, meeting, last_seq, &out).await {
            Ok(s) => sub = Some(s),
            Err(problem) => {
                let _ = out
                    .send(text(
                        serde_json::json!({"type": "error", "problem": problem}),
                    ))
                    .await;
            }
        }
    }
    // Pings (and the revocation check that comes with them) every 15 s, each connection at its
    // own phase: thousands of tablets that connected in the same second must not all ask the
    // database at once.
    let phase = Duration::from_millis(rand::random::<u64>() % PING_EVERY.as_millis() as u64);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + phase, PING_EVERY);
    let mut tokens = MESSAGES_PER_SECOND * 2.0;
    let mut last_refill = std::time::Instant::now();
    let close = |code: u16, reason: &'static str| {
        Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        }))
    };
    loop {
        tokio::select! {
            changed = kicked.changed() => {
                if changed.is_err() || *kicked.borrow() {
                    let _ = out.send(close(4001, "session revoked")).await;
                    break;
                }
            }
            _ = ping.tick() => {
                if let Some(s) = session
                    && !session_still_active(&state, s).await
                {
                    let _ = out.send(close(4001, "session revoked")).await;
                    break;
                }
                if out.try_send(Message::Ping(Default::default())).is_err() {
                    break;
                }
            }
            message = next_personal(&mut personal) => {
                match message {
                    Ok(message) => {
                        if out.try_send(Message::Text(Utf8Bytes::from(message.as_ref()))).is_err() {
                            let _ = out.try_send(close(4000, "resync"));
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = out.try_send(close(4000, "resync"));
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => personal = None,
                }
            }
            event = next_event(&mut sub) => {
                let Some(s) = sub.as_mut() else { continue };
                match event {
                    Ok(b) => {
                        if b.seq <= s.last_sent {
                            continue;
                        }
                        s.last_sent = b.seq;
                        if let Some(payload) = b.frame_for(s.viewer)
                            && out.try_send(Message::Text(payload)).is_err()
                        {
                            let _ = out.try_send(close(4000, "resync"));
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = out.try_send(close(4000, "resync"));
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        let _ = out.try_send(close(1011, "live session restarted"));
                        break;
                    }
                }
            }
            incoming = stream.next() => {
                let message = match incoming {
                    None => break,
                    Some(Ok(message)) => message,
                    Some(Err(err)) => {
                        if too_big(err) {
                            let _ = out.send(close(1009, "message too big (64 KiB at most)")).await;
                        }
                        break;
                    }
                };
                let body = match message {
                    Message::Text(body) => body,
                    Message::Close(_) => break,
                    Message::Binary(_) => {
                        let problem = Problem::new(StatusCode::BAD_REQUEST, "invalid-message", "Invalid message")
                            .with_detail("binary messages are not understood; send JSON as text");
                        let _ = out.send(text(serde_json::json!({"type": "error", "problem": problem}))).await;
                        continue;
                    }
                    _ => continue,
                };
                let elapsed = last_refill.elapsed().as_secs_f64();
                last_refill = std::time::Instant::now();
                tokens = (tokens + elapsed * MESSAGES_PER_SECOND).min(MESSAGES_PER_SECOND * 2.0);
                let parsed = serde_json::from_str::<ClientMessage>(body.as_str());
                if tokens < 1.0 {
                    // A refused command is named, so that the client knows to send it again.
                    let problem = Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many messages").with_retry_after(1);
                    let mut message = serde_json::json!({"type": "error", "problem": problem});
                    if let Ok(ClientMessage::Command { command_id, .. }) = &parsed {
                        message["command_id"] = serde_json::json!(command_id);
                    }
                    let _ = out.send(text(message)).await;
                    continue;
                }
                tokens -= 1.0;
                match parsed {
                    Ok(ClientMessage::Ping) => {
                        let _ = out.send(text(serde_json::json!({"type": "pong"}))).await;
                    }
                    Ok(ClientMessage::Subscribe { meeting, last_seq }) => {
                        match subscribe(&state, &who, meeting, last_seq, &out).await {
                            Ok(s) => sub = Some(s),
                            Err(problem) => {
                                let _ = out.send(text(serde_json::json!({"type": "error", "problem": problem}))).await;
                            }
                        }
                    }
                    Ok(ClientMessage::Command { command_id, command }) => {
                        let reply = |problem: Problem| text(serde_json::json!({"type": "error", "command_id": command_id, "problem": problem}));
                        let (Some((user, _)), Some(s)) = (&who, &sub) else {
                            let problem = if who.is_none() {
                                ApiError::Unauthenticated.problem()
                            } else {
                                Problem::new(StatusCode::CONFLICT, "not-subscribed", "Subscribe to a meeting first")
                            };
                            let _ = out.send(reply(problem)).await;
                            continue;
                        };
                        let Some(actor) = s.actor else { continue };
                        let handle = s.handle.clone();
                        let user = user.id;
                        let out = out.clone();
                        let ack = DirectAck::new(out.clone(), command_id);
                        // Await the acknowledgement without blocking this connection (the ack
                        // itself usually arrives by `DirectAck`, sooner).
                        tokio::spawn(async move {
                            let message = match handle.command(CommandId::from_uuid(command_id), user, actor, command, Some(&ack)).await {
                                Ok(_) if ack.sent() => return,
                                Ok(result) => ack_message(command_id, &result),
                                Err(failure) => text(serde_json::json!({"type": "error", "command_id": command_id, "problem": live_problem(&failure)})),
                            };
                            let _ = out.send(message).await;
                        });
                    }
                    Err(err) => {
                        let problem = Problem::new(StatusCode::BAD_REQUEST, "invalid-message", "Invalid message").with_detail(err.to_string());
                        let mut message = serde_json::json!({"type": "error", "problem": problem});
                        // A command the server does not understand is still answered by its id,
                        // so a client that resends unanswered commands stops resending it.
                        if let Some(id) = command_id_of(body.as_str()) {
                            message["command_id"] = serde_json::json!(id);
                        }
                        let _ = out.send(text(message)).await;
                    }
                }
            }
        }
    }
    drop(out);
    let _ = writer.await;
    if let Some(s) = session {
        state.live.forget_session(s);
    }
    drop(personal);
    if let Some(p) = person {
        state.live.forget_person(p);
    }
}

/// The `command_id` of a message that names one, even if the rest of it is not understood.
fn command_id_of(body: &str) -> Option<Uuid> {
    #[derive(Deserialize)]
    struct Envelope {
        command_id: Uuid,
    }
    serde_json::from_str::<Envelope>(body)
        .ok()
        .map(|e| e.command_id)
}

/// Whether a read failed because the client sent more than [`MAX_MESSAGE`].
fn too_big(err: axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error;
    err.into_inner()
        .downcast_ref::<Error>()
        .is_some_and(|e| matches!(e, Error::Capacity(_)))
}

async fn next_personal(
    personal: &mut Option<broadcast::Receiver<std::sync::Arc<str>>>,
) -> Result<std::sync::Arc<str>, broadcast::error::RecvError> {
    match personal {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// How often a live connection is pinged and its device session checked again.
const PING_EVERY: Duration = Duration::from_secs(15);

/// Whether a live connection's device session may go on: false once it is revoked, expired or
/// gone. A database that does not answer is no revocation (a member is not signed out over a
/// hiccup): the connection stays, and the next ping asks again. Revocations on any node also
/// arrive at once through `watch_session`.
async fn session_still_active(state: &AppState, session: plenum_domain::DeviceSessionId) -> bool {
    still_active(
        sessions::get(&state.db, session).await,
        state.now(),
        session,
    )
}

fn still_active(
    read: Result<plenum_domain::DeviceSession, plenum_store::StoreError>,
    now: chrono::DateTime<chrono::Utc>,
    session: plenum_domain::DeviceSessionId,
) -> bool {
    use plenum_store::StoreError as E;
    match read {
        Ok(device) => device.is_active(now),
        Err(E::NotFound { .. } | E::Corrupt(_) | E::Invalid(_)) => false,
        Err(
            err @ (E::Unavailable(_)
            | E::Unreachable(_)
            | E::Database(_)
            | E::Conflict(_)
            | E::BadUrl(_)),
        ) => {
            tracing::warn!(%session, error = %err, "could not check a live connection's device session; keeping the connection");
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use plenum_domain::{DeviceSession, DeviceSessionId, UserId};
    use plenum_store::StoreError;

    use super::still_active;

    fn device(revoked: bool, expires_in: Duration) -> DeviceSession {
        let now = Utc::now();
        DeviceSession {
            id: DeviceSessionId::new(),
            user_id: UserId::new(),
            name: "Tablet".into(),
            user_agent: "test".into(),
            created: now,
            last_used: now,
            expires_at: now + expires_in,
            revoked_at: revoked.then_some(now),
            revoked_reason: revoked.then(|| "revoked by an administrator".into()),
        }
    }

    #[test]
    fn only_a_revoked_expired_or_missing_session_ends_a_live_connection() {
        let now = Utc::now();
        let session = DeviceSessionId::new();
        assert!(still_active(
            Ok(device(false, Duration::hours(1))),
            now,
            session
        ));
        assert!(!still_active(
            Ok(device(true, Duration::hours(1))),
            now,
            session
        ));
        assert!(!still_active(
            Ok(device(false, Duration::hours(-1))),
            now,
            session
        ));
        assert!(!still_active(
            Err(StoreError::NotFound {
                entity: "device session",
                id: "x".into()
            }),
            now,
            session
        ));
        // A database that does not answer (a pool timeout under load, a failover) signs nobody
        // out: the connection stays and the next ping asks again.
        assert!(still_active(
            Err(StoreError::Unavailable(sea_orm::DbErr::ConnectionAcquire(
                sea_orm::ConnAcquireErr::Timeout
            ))),
            now,
            session
        ));
        assert!(still_active(
            Err(StoreError::Unreachable("connection refused".into())),
            now,
            session
        ));
    }
}
