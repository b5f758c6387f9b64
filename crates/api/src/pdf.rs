//! Printable documents (minutes, decision extracts) as PDF/A answers, typeset by
//! `plenum-render` on a blocking thread (typesetting is CPU-bound).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::{ApiError, Problem, Result};

/// Runs `render` on the blocking pool; a failure is logged and answered with a 500.
pub(crate) async fn render(
    render: impl FnOnce() -> std::result::Result<Vec<u8>, plenum_render::RenderError> + Send + 'static,
) -> Result<Vec<u8>> {
    let failed = |detail: String| {
        tracing::error!(error = %detail, "rendering a PDF failed");
        ApiError::Problem(Box::new(
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            )
            .with_detail("The document could not be rendered. It has been logged."),
        ))
    };
    match tokio::task::spawn_blocking(render).await {
        Ok(Ok(pdf)) => Ok(pdf),
        Ok(Err(err)) => Err(failed(err.to_string())),
        Err(err) => Err(failed(err.to_string())),
    }
}

/// A PDF download: `application/pdf`, an attachment named `file_name`, never cached by others.
pub(crate) fn response(pdf: Vec<u8>, file_name: &str) -> Response {
    let disposition = crate::routes::files::content_disposition("attachment", file_name);
    let mut response = pdf.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
