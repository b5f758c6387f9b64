//! The OpenAPI document, generated from the handlers' annotations.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Plenum API",
        description = "Digital council work: meetings, papers, live sessions and voting. \
                       Errors are RFC 9457 problem documents (`application/problem+json`).",
        license(name = "AGPL-3.0-or-later"),
    ),
    paths(
        super::health::get_health,
        super::health::get_ready,
        super::system::get_system,
        get_openapi,
        super::ical::get_meetings_ics,
        super::oparl::get_system,
        super::oparl::get_bodies,
        super::oparl::get_body_list,
        super::oparl::get_organization_meetings,
        super::oparl::get_object,
        super::oparl::get_file_access,
        super::oparl::get_file_download,
    ),
    components(schemas(crate::Problem)),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "system", description = "What this server hosts"),
        (name = "calendar", description = "iCalendar feeds"),
        (name = "oparl", description = "OParl 1.1: the public council information for machines"),
    )
)]
pub struct ApiDoc;

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(get_openapi))
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI 3.1 document")))]
pub async fn get_openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
