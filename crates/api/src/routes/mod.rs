//! One module per resource; each exposes `router()`, merged here.

pub mod admin;
pub mod annotations;
pub mod attendance;
pub mod auth;
pub mod body_settings;
pub mod bundle;
pub mod clerk;
pub mod collab;
mod collab_live;
pub mod decisions;
pub mod documents;
pub mod files;
pub mod forums;
pub mod health;
pub mod ical;
pub mod invitations;
pub mod live;
pub mod me;
pub mod minutes;
pub mod minutes_record;
pub mod nodes;
pub mod notes;
pub mod oparl;
pub mod openapi;
pub mod papers;
pub mod persons;
pub mod search;
pub mod system;

use axum::Router;
use axum::http::StatusCode;

use crate::{AppState, Problem};

/// Everything under `/api/v1`. Unknown paths and methods get problem documents, not empty bodies.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .merge(system::router())
        .merge(auth::router())
        .merge(me::router())
        .merge(notes::router())
        .merge(annotations::router())
        .merge(forums::router())
        .merge(admin::router())
        .merge(persons::router())
        .merge(attendance::router())
        .merge(body_settings::router())
        .merge(live::router())
        .merge(ical::router())
        .merge(documents::router())
        .merge(bundle::router())
        .merge(minutes::router())
        .merge(invitations::router())
        .merge(minutes_record::router())
        .merge(files::router())
        .merge(search::router())
        .merge(openapi::router())
        .fallback(|| async { Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            )
        })
}
