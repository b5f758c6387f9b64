//! `GET /api/v1/system`: what this server is and which bodies it hosts (public data).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use plenum_store::repo;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{AppState, Result};

#[derive(Debug, Serialize, ToSchema)]
pub struct SystemResponse {
    /// Always `Plenum`.
    pub product: &'static str,
    /// The server's version.
    pub version: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    pub bodies: Vec<BodySummary>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BodySummary {
    pub id: Uuid,
    pub name: String,
    pub short_name: Option<String>,
    pub organizations: u64,
    pub persons: u64,
    pub meetings: u64,
    pub papers: u64,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/system", get(get_system))
}

/// The product, its version and the hosted bodies with their sizes.
#[utoipa::path(get, path = "/api/v1/system", tag = "system",
    responses(
        (status = 200, description = "System overview", body = SystemResponse),
        (status = 503, description = "Database unreachable", body = crate::Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn get_system(State(state): State<AppState>) -> Result<Json<SystemResponse>> {
    let mut bodies = Vec::new();
    for body in repo::bodies::list(&state.db, false).await? {
        let counts = repo::count_body(&state.db, body.id).await?;
        bodies.push(BodySummary {
            id: body.id.as_uuid(),
            name: body.name.to_string(),
            short_name: body.short_name.map(String::from),
            organizations: counts.organizations,
            persons: counts.persons,
            meetings: counts.meetings,
            papers: counts.papers,
        });
    }
    Ok(Json(SystemResponse {
        product: "Plenum",
        version: env!("CARGO_PKG_VERSION"),
        database: state.backend.as_str(),
        bodies,
    }))
}
