//! Liveness and readiness probes for load balancers, compose and humans.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{ApiError, AppState, Result};

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `ok` while the process serves requests.
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyResponse {
    /// `ready` when the database answers.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// On PostgreSQL (where several nodes may share the database): this node, its leases and
    /// its notification connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<crate::live::cluster::ClusterHealth>,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(get_health))
        .route("/readyz", get(get_ready))
}

/// Liveness: the process is up. Does not touch the database.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The server is running", body = HealthResponse)))]
pub async fn get_health() -> Json<HealthResponse> {
    Json(HealthResponse { status: "ok" })
}

/// Readiness: the database answers a query. 503 with `Retry-After` when it does not.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = ReadyResponse),
        (status = 503, description = "Database unreachable", body = crate::Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn get_ready(State(state): State<AppState>) -> Result<Json<ReadyResponse>> {
    plenum_store::ping(&state.db)
        .await
        .map_err(ApiError::from)?;
    let cluster = match state.live.cluster() {
        Some(cluster) => Some(cluster.health(state.live.running_here().await)),
        None => None,
    };
    if let Some(health) = &cluster
        && !health.notifications
    {
        // Without notifications this node's live clients would miss other nodes' events.
        return Err(ApiError::Problem(Box::new(
            crate::Problem::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "cluster-unavailable",
                "Cluster notifications unavailable",
            )
            .with_detail("The node cannot hear the other nodes' live events yet; retry.")
            .with_retry_after(2),
        )));
    }
    Ok(Json(ReadyResponse {
        status: "ready",
        database: state.backend.as_str(),
        cluster,
    }))
}
