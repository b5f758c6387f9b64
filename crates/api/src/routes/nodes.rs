//! Node-to-node endpoints (several nodes on one PostgreSQL; see `live::cluster`). Not part of
//! the public API: a reverse proxy should not pass `/internal/` on, and every request must
//! carry the node token, which only nodes sharing the signing key can derive.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use plenum_domain::MeetingId;
use uuid::Uuid;

use crate::live::LiveFailure;
use crate::live::cluster::{self, Forwarded, NODE_TOKEN_HEADER};
use crate::{AppState, Problem};

pub fn router() -> Router<AppState> {
    Router::new().route("/internal/v1/live/{meeting}/commands", post(forwarded))
}

/// A live command another node forwarded to this one, which runs the meeting: applied and
/// answered as if it had arrived here (421 when this node does not run the meeting).
async fn forwarded(
    State(state): State<AppState>,
    Path(meeting): Path<Uuid>,
    headers: HeaderMap,
    body: Result<Json<Forwarded>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Some(node) = state.live.cluster() else {
        return Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found").into_response();
    };
    let presented = headers
        .get(NODE_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !node.accepts(presented) {
        return Problem::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Not a node")
            .into_response();
    }
    let Json(job) = match body {
        Ok(job) => job,
        Err(err) => {
            return Problem::new(StatusCode::BAD_REQUEST, "invalid-body", "Invalid body")
                .with_detail(err.body_text())
                .into_response();
        }
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
