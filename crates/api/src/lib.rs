//! Plenum's HTTP API (axum): REST under `/api/v1`, health probes, and the web app at `/`.
//!
//! `build_app` returns the router; `serve` runs it on a listener the caller bound, so tests can
//! bind `127.0.0.1:0` and know the port before the server starts.

pub mod access;
pub mod auth;
mod error;
pub mod json;
pub mod live;
pub mod mail;
pub mod markdown;
pub mod origin;
mod pdf;
mod problem;
pub mod render;
pub mod routes;
mod state;
mod web;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::MatchedPath;
use axum::http::Request;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use error::ApiError;
pub use problem::Problem;
pub use state::{
    AUDIT_ANCHOR_FILE, ApiConfig, AppState, AuthContext, BlobGuard, Clock, DEFAULT_LICENSE,
    DataLicense, ServerKeys, StateError, SystemInfo,
};

/// Result type of the API crate.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// The whole application: API, probes and the web app, with tracing and timeouts.
pub fn build_app(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    let hsts = state.config.cookie_secure;
    Router::new()
        .merge(routes::health::router())
        .merge(routes::nodes::router())
        .nest("/api/v1", routes::api_router())
        .merge(routes::oparl::router())
        .merge(web::router(&state.config.web_dir))
        .layer(axum::middleware::from_fn(
            move |request: Request<axum::body::Body>, next: axum::middleware::Next| {
                deadline(timeout, request, next)
            },
        ))
        .layer(axum::middleware::from_fn(
            move |request: Request<axum::body::Body>, next: axum::middleware::Next| {
                security_headers(hsts, request, next)
            },
        ))
        .layer(CatchPanicLayer::custom(panic_problem))
        // Outside the timeout and the panic net, so their problems become OParl errors too.
        .layer(axum::middleware::from_fn(routes::oparl::oparl_errors))
        .layer(
            TraceLayer::new_for_http()
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .make_span_with(|request: &Request<_>| {
                    let matched_path = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map(MatchedPath::as_str);
                    tracing::info_span!(
                        "http",
                        method = %request.method(),
                        uri = %loggable_path(request.uri().path()),
                        matched_path,
                    )
                }),
        )
        .with_state(state)
}

/// The path as the access log may record it: a personal calendar feed's path holds its secret
/// token, so that part is replaced.
fn loggable_path(path: &str) -> &str {
    if path.starts_with("/api/v1/calendar/") {
        "/api/v1/calendar/{token}.ics"
    } else {
        path
    }
}

/// Whether the request is a file upload (`POST /api/v1/files`).
fn is_upload<B>(request: &Request<B>) -> bool {
    request.method() == axum::http::Method::POST && request.uri().path() == "/api/v1/files"
}

/// Answers 408 when a request takes longer than `limit`. Uploads are exempt: a large file on a
/// slow connection may take minutes, so the upload handler instead cuts an upload that sends
/// nothing for `limit`.
async fn deadline(
    limit: Duration,
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if is_upload(&request) {
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "Request took too long",
        )
        .with_detail(format!(
            "The server gives up on a request after {} s.",
            limit.as_secs()
        ))
        .into_response(),
    }
}

/// The Content-Security-Policy of everything that is not the web app (API, OParl, probes,
/// problem documents): JSON is never a document, so it may load nothing and be framed nowhere.
pub const API_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// `Strict-Transport-Security` when Plenum is served over HTTPS (`cookie_secure`): one year,
/// subdomains included.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000; includeSubDomains";

/// Adds `X-Content-Type-Options: nosniff` and, unless the response brings its own (the web app,
/// file downloads), the strict API Content-Security-Policy to every response; with `hsts`, also
/// `Strict-Transport-Security`.
async fn security_headers(
    hsts: bool,
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(API_CONTENT_SECURITY_POLICY),
        );
    }
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        );
    }
    response
}

/// The last safety net: a handler that panics answers a 500 problem document instead of a
/// dropped connection. No request should ever get here (the API's tests and the schemathesis run
/// look for 5xx answers); the panic is logged with its message.
fn panic_problem(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = message, status = 500, "request handler panicked");
    Problem::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal server error",
    )
    .with_detail("Something went wrong on the server. It has been logged.")
    .into_response()
}

/// Serves `app` on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        origin::PeerListener(listener),
        app.into_make_service_with_connect_info::<origin::Peer>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Default time limit for one HTTP request (the live WebSocket route will have none).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Default largest upload: 50 MB.
pub const DEFAULT_UPLOAD_LIMIT: u64 = 50 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn the_access_log_never_records_a_calendar_token() {
        assert_eq!(
            loggable_path("/api/v1/calendar/wS9_a6-gQAmQumrqfqq.ics"),
            "/api/v1/calendar/{token}.ics"
        );
        assert_eq!(
            loggable_path("/api/v1/meetings.ics"),
            "/api/v1/meetings.ics"
        );
    }
}
