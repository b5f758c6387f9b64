//! `ApiError` is the only place that maps errors to HTTP responses.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use plenum_domain::DomainError;
use plenum_store::StoreError;
use thiserror::Error;

use crate::Problem;

/// Everything a handler can fail with.
#[derive(Debug, Error)]
pub enum ApiError {
    /// No such thing, or the caller may not know that it exists.
    #[error("not found")]
    NotFound,
    /// The request body is not the JSON we expect.
    #[error(transparent)]
    Json(#[from] JsonRejection),
    /// A path parameter is malformed (e.g. not a UUID).
    #[error(transparent)]
    Path(#[from] PathRejection),
    /// A query parameter is malformed.
    #[error(transparent)]
    Query(#[from] QueryRejection),
    /// The request breaks a domain rule.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A persistence error, mapped by meaning.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApiError {
    /// The problem document the client sees. 5xx details stay in the log.
    pub fn problem(&self) -> Problem {
        match self {
            ApiError::NotFound => Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::Json(rejection) => {
                Problem::new(rejection.status(), "invalid-body", "Invalid request body")
                    .with_detail(rejection.body_text())
            }
            ApiError::Path(rejection) => Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-path",
                "Invalid path parameter",
            )
            .with_detail(rejection.body_text()),
            ApiError::Query(rejection) => Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-query",
                "Invalid query parameter",
            )
            .with_detail(rejection.body_text()),
            ApiError::Domain(err) | ApiError::Store(StoreError::Invalid(err)) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation-failed",
                "Validation failed",
            )
            .with_detail(err.to_string()),
            ApiError::Store(StoreError::NotFound { .. }) => {
                Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
            }
            ApiError::Store(StoreError::Conflict(_)) => Problem::new(
                StatusCode::CONFLICT,
                "conflict",
                "Conflicts with the current state",
            ),
            ApiError::Store(StoreError::Unavailable(_) | StoreError::Unreachable(_)) => {
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database-unavailable",
                    "Database unavailable",
                )
                .with_detail("The database cannot be reached. Nothing was changed; please retry.")
                .with_retry_after(5)
            }
            ApiError::Store(_) => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            )
            .with_detail("Something went wrong on the server. It has been logged."),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        if problem.status >= 500 {
            tracing::error!(error = %error_chain(&self), status = problem.status, "request failed");
        }
        problem.into_response()
    }
}

/// The error with its whole source chain, for logs.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
