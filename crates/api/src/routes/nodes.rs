//! Node-to-node endpoints (several nodes on one PostgreSQL; see `live::cluster`). Not part of
//! the public API: a reverse proxy should not pass `/internal/` on, and every request must
//! carry the node token, which only nodes sharing the signing key can derive.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use plenum_domain::MeetingId;
use uuid::Uuid;

use crate::live::LiveFailure;
use crate::live::cluster::{
    self, BatchAnswer, FORWARD_BATCH, FORWARD_BODY_LIMIT, Forwarded, NODE_TOKEN_HEADER,
};
use crate::{AppState, Problem};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/internal/v1/live/{meeting}/commands", post(forwarded))
        .route(
            "/internal/v1/live/{meeting}/commands/batch",
            post(forwarded_batch).layer(DefaultBodyLimit::max(FORWARD_BODY_LIMIT)),
        )
}

/// The 401 for a request without the node token (`None`: the token is right).
fn not_a_node(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let Some(node) = state.live.cluster() else {
        return Some(Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found").into_response());
    };
    let presented = headers
        .get(NODE_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    (!node.accepts(presented)).then(|| {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Not a node").into_response()
    })
}

/// The 400 for a body that is not what the route takes.
fn invalid_body(detail: String) -> Response {
    Problem::new(StatusCode::BAD_REQUEST, "invalid-body", "Invalid body")
        .with_detail(detail)
        .into_response()
}

/// Live commands another node forwarded to this one, which runs the meeting, in one request:
/// each applied and answered as if it had arrived here, in order (421 for all when this node
/// does not run the meeting).
async fn forwarded_batch(
    State(state): State<AppState>,
    Path(meeting): Path<Uuid>,
    headers: HeaderMap,
    body: Result<Json<Vec<Forwarded>>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(refused) = not_a_node(&state, &headers) {
        return refused;
    }
    let jobs = match body {
        Ok(Json(jobs)) if jobs.len() <= FORWARD_BATCH => jobs,
        Ok(_) => return invalid_body(format!("at most {FORWARD_BATCH} commands per request")),
        Err(err) => return invalid_body(err.body_text()),
    };
    let meeting = MeetingId::from_uuid(meeting);
    let Some(handle) = state.live.handle_of(meeting).await else {
        let (status, answer) = cluster::answer(Err(LiveFailure::NotLeader));
        return (status, Json(answer)).into_response();
    };
    // All at once, in order: they reach the actor's queue together and go into one batch.
    let outcomes = futures_util::future::join_all(
        jobs.into_iter()
            .map(|job| handle.command_here(job.command_id, job.user, job.actor, job.command)),
    )
    .await;
    let answers: Vec<BatchAnswer> = outcomes
        .into_iter()
        .map(|outcome| {
            let (status, answer) = cluster::answer(outcome);
            BatchAnswer {
                status: status.as_u16(),
                answer,
            }
        })
        .collect();
    (StatusCode::OK, Json(answers)).into_response()
}

/// A live command another node forwarded to this one, which runs the meeting: applied and
/// answered as if it had arrived here (421 when this node does not run the meeting).
async fn forwarded(
    State(state): State<AppState>,
    Path(meeting): Path<Uuid>,
    headers: HeaderMap,
    body: Result<Json<Forwarded>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(refused) = not_a_node(&state, &headers) {
        return refused;
    }
    let job = match body {
        Ok(Json(job)) => job,
        Err(err) => return invalid_body(err.body_text()),
    };
    let meeting = MeetingId::from_uuid(meeting);
    let outcome = match state.live.handle_of(meeting).await {
        Some(handle) => {
            handle
                .command_here(job.command_id, job.user, job.actor, job.command)
                .await
        }
        None => Err(LiveFailure::NotLeader),
    };
    let (status, answer) = cluster::answer(outcome);
    (status, Json(answer)).into_response()
}
