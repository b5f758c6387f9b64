//! Plenum's documents as PDF: the adapter between the API's records and the document engine.

use plenum_domain::{Meeting, MinutesDraft};
use plenum_store::minutes_record::{MinutesVersion, Signature};

use crate::routes::documents::Directory;
use crate::{ApiError, AppState, Result};

/// The PDF of a version of the minutes with the signatures given so far.
pub async fn minutes_pdf(
    _state: &AppState,
    _dir: &Directory,
    _meeting: &Meeting,
    _version: &MinutesVersion,
    _draft: MinutesDraft,
    _signatures: &[Signature],
) -> Result<Vec<u8>> {
    // The document engine lands separately; until then no PDF is made.
    Err(ApiError::Problem(Box::new(crate::Problem::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "pdf-unavailable",
        "PDF rendering is not available",
    ))))
}
