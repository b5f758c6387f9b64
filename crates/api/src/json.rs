//! The project's own extractors: like axum's `Json`, `Path` and `Query`, but a rejection becomes
//! an RFC 9457 problem document (`application/problem+json`) instead of axum's `text/plain`.
//! Handlers use these, never the axum originals.

use axum::extract::{FromRequest, FromRequestParts};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::ApiError;

/// A JSON body; a malformed one answers 400/413/415/422 as a problem document.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct AppJson<T>(pub T);

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters; a malformed one (e.g. not a UUID) answers 400 `invalid-path`.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct AppPath<T>(pub T);

/// Query parameters; a malformed one (not a number, out of the type's range) answers 400
/// `invalid-query`. Ranges narrower than the type are checked by the handler with
/// [`bounded`].
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct AppQuery<T>(pub T);

/// `value` if it lies within `min..=max`, else a 400 `invalid-query` problem naming the
/// parameter and its range: the server never clamps silently what the OpenAPI document bounds.
pub fn bounded<T>(name: &str, value: T, min: T, max: T) -> Result<T, ApiError>
where
    T: PartialOrd + std::fmt::Display + Copy,
{
    if value < min || value > max {
        return Err(invalid_query(format!(
            "{name} must be from {min} to {max}, not {value}"
        )));
    }
    Ok(value)
}

/// A 400 `invalid-query` problem with this detail.
pub fn invalid_query(detail: impl Into<String>) -> ApiError {
    ApiError::Problem(Box::new(
        crate::Problem::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid-query",
            "Invalid query parameter",
        )
        .with_detail(detail),
    ))
}
