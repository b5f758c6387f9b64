//! `ApiError` is the only place that maps errors to HTTP responses.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use plenum_domain::DomainError;
use plenum_store::StoreError;
use thiserror::Error;

use crate::Problem;
use crate::auth::tokens::TokenError;

/// Everything a handler can fail with.
#[derive(Debug, Error)]
pub enum ApiError {
    /// No such thing, or the caller may not know that it exists.
    #[error("not found")]
    NotFound,
    /// A problem built by the handler (upload limits, media types, ranges).
    #[error("{}", .0.title)]
    Problem(Box<Problem>),
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
    /// No credentials were presented.
    #[error("authentication required")]
    Unauthenticated,
    /// The presented token is expired, meant for something else, or invalid.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The device session behind the token was revoked or has expired.
    #[error("device session revoked")]
    SessionRevoked,
    /// Wrong user name, password, code or recovery code: one message for all.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// A correct TOTP code whose time step was used already.
    #[error("TOTP code replayed")]
    TotpReplayed,
    /// Too many wrong second-factor codes in a row from this device (or from new devices):
    /// app codes are refused until a recovery code is used or an admin unlocks the account.
    #[error("second factor locked")]
    SecondFactorLocked,
    /// Too many guesses; retry after this long.
    #[error("rate limited")]
    RateLimited(std::time::Duration),
    /// Signed in, but not allowed to do this.
    #[error("forbidden")]
    Forbidden,
    /// The refresh token is missing, unknown or expired.
    #[error("refresh token invalid")]
    RefreshInvalid,
    /// An already rotated refresh token was presented: the device session is revoked.
    #[error("refresh token reused")]
    RefreshReused,
    /// The password setup link is unknown, used or expired.
    #[error("setup link invalid")]
    SetupLinkInvalid,
    /// A live command failed.
    #[error(transparent)]
    Live(crate::live::LiveFailure),
}

impl ApiError {
    /// The problem document of a store error.
    pub fn problem_of_store(err: &StoreError) -> Problem {
        match err {
            StoreError::Invalid(err) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation-failed",
                "Validation failed",
            )
            .with_detail(err.to_string()),
            StoreError::NotFound { .. } => {
                Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
            }
            StoreError::Conflict(_) => Problem::new(
                StatusCode::CONFLICT,
                "conflict",
                "Conflicts with the current state",
            ),
            StoreError::Unavailable(_) | StoreError::Unreachable(_) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database-unavailable",
                "Database unavailable",
            )
            .with_detail("The database cannot be reached. Nothing was changed; please retry.")
            .with_retry_after(5),
            _ => Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            )
            .with_detail("Something went wrong on the server. It has been logged."),
        }
    }

    /// The problem document the client sees. 5xx details stay in the log.
    pub fn problem(&self) -> Problem {
        match self {
            ApiError::Live(failure) => crate::routes::live::live_problem(failure),
            ApiError::NotFound => Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::Problem(problem) => (**problem).clone(),
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
            ApiError::Domain(err) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation-failed",
                "Validation failed",
            )
            .with_detail(err.to_string()),
            ApiError::Store(err) => Self::problem_of_store(err),
            ApiError::Unauthenticated => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            ApiError::Token(TokenError::Expired) => {
                Problem::new(StatusCode::UNAUTHORIZED, "token-expired", "Token expired")
            }
            ApiError::Token(TokenError::WrongAudience) => Problem::new(
                StatusCode::UNAUTHORIZED,
                "token-wrong-audience",
                "Token not valid for this purpose",
            ),
            ApiError::Token(TokenError::Invalid) => {
                Problem::new(StatusCode::UNAUTHORIZED, "token-invalid", "Invalid token")
            }
            ApiError::SessionRevoked => Problem::new(
                StatusCode::UNAUTHORIZED,
                "session-revoked",
                "This device has been signed out",
            ),
            ApiError::InvalidCredentials => Problem::new(
                StatusCode::UNAUTHORIZED,
                "invalid-credentials",
                "Invalid credentials",
            )
            .with_detail("The user name, password or code is not correct."),
            ApiError::TotpReplayed => Problem::new(
                StatusCode::UNAUTHORIZED,
                "totp-replayed",
                "Code already used",
            )
            .with_detail("This code was used already. Wait for the next code of your app."),
            ApiError::SecondFactorLocked => Problem::new(
                StatusCode::LOCKED,
                "second-factor-locked",
                "Second factor locked",
            )
            .with_detail(
                "Too many wrong codes. Sign in with a recovery code, from a device you signed in on \
                 before, or ask an administrator to unlock your account.",
            ),
            ApiError::RateLimited(wait) => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many attempts",
            )
            .with_detail("Too many attempts. Please wait before trying again.")
            .with_retry_after(wait.as_secs().max(1) + u64::from(wait.subsec_nanos() > 0)),
            ApiError::Forbidden => Problem::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed"),
            ApiError::RefreshInvalid => Problem::new(
                StatusCode::UNAUTHORIZED,
                "refresh-invalid",
                "Please sign in again",
            ),
            ApiError::RefreshReused => Problem::new(
                StatusCode::UNAUTHORIZED,
                "refresh-reused",
                "Please sign in again",
            )
            .with_detail(
                "This sign-in was used from two places; the device has been signed out for safety.",
            ),
            ApiError::SetupLinkInvalid => Problem::new(
                StatusCode::BAD_REQUEST,
                "setup-link-invalid",
                "Setup link invalid",
            )
            .with_detail(
                "The link is unknown, was used already, or has expired. Ask for a new one.",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        if problem.status >= 500 {
            tracing::error!(error = %error_chain(&self), status = problem.status, "request failed");
        }
        let unauthorized = problem.status == 401;
        let mut response = problem.into_response();
        if unauthorized {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"plenum\""),
            );
        }
        response
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
