//! Files (Anlagen): upload (clerks), delete, and download for members and the public.
//!
//! Uploads are streamed to a temporary file in the data directory while hashed, never held in
//! memory; the upload limit is checked on every chunk, so a too large upload is refused (413) as
//! soon as it crosses the limit. The media type is taken from the content (magic bytes), and the
//! claimed type and the file name's extension must agree with it (else 415). A temporary file is
//! removed when the request ends for any reason, including a client that hangs up mid-upload.
//!
//! Downloads answer `ETag` (the SHA-256), `If-None-Match`, single `Range` requests, and set
//! `Content-Disposition` (RFC 6266), `nosniff` and a restrictive CSP. The OParl file endpoints use
//! the same code ([`serve_content`]).

use std::ops::Range;
use std::path::PathBuf;

use crate::json::AppPath;
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use plenum_domain::{Action, valid_license_url};
use plenum_domain::{
    AgendaItemId, File, FileId, FileName, MediaType, MeetingId, Meta, PaperId, Sha256Digest,
};
use plenum_store::{file_text, query, repo};
use serde::Serialize;
use sha2::{Digest, Sha256, Sha512};
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;
use uuid::Uuid;

use super::clerk::{audit, begin, commit};
use crate::access::{self, Attachment};
use crate::auth::AuthUser;
use crate::{ApiError, AppState, Problem, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        // The upload limit is enforced while streaming (`upload_limit`), not by axum's default.
        .route(
            "/files",
            post(upload_file).layer(DefaultBodyLimit::disable()),
        )
        .route("/files/{id}", get(get_file).delete(delete_file))
        .route("/files/{id}/content", get(get_file_content))
        .route("/public/files/{id}", get(get_public_file))
        .route("/public/files/{id}/content", get(get_public_file_content))
}

/// A file as listed with what it is attached to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileRef {
    pub id: Uuid,
    /// The original file name, e.g. `Haushaltssatzung 2027.pdf`.
    pub name: String,
    /// The media type detected from the content, e.g. `application/pdf`.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Where to download it: `/api/v1/files/{id}/content` (members) or
    /// `/api/v1/public/files/{id}/content` (public).
    pub url: String,
    /// The file's own licence (URL), when it differs from the body's data licence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

impl FileRef {
    /// The member view: download with a bearer token.
    pub fn member(file: &File) -> Self {
        Self::with_url(file, format!("/api/v1/files/{}/content", file.id.as_uuid()))
    }

    /// The public view: anonymous download.
    pub fn public(file: &File) -> Self {
        Self::with_url(
            file,
            format!("/api/v1/public/files/{}/content", file.id.as_uuid()),
        )
    }

    fn with_url(file: &File, url: String) -> Self {
        Self {
            id: file.id.as_uuid(),
            name: file.name.as_str().to_owned(),
            media_type: file.media_type.as_str().to_owned(),
            size: file.size,
            url,
            license: file.license.clone(),
        }
    }
}

/// A file's strong entity tag: its content digest (the bytes never change under an id).
pub fn etag(file: &File) -> String {
    format!("\"{}\"", file.sha256.to_hex())
}

fn problem(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> ApiError {
    ApiError::Problem(Box::new(
        Problem::new(status, slug, title).with_detail(detail),
    ))
}

fn bad_upload(detail: impl Into<String>) -> ApiError {
    problem(
        StatusCode::BAD_REQUEST,
        "bad-upload",
        "Malformed upload",
        detail,
    )
}

fn internal(context: &str, err: std::io::Error) -> ApiError {
    tracing::error!(error = %err, "{context}");
    ApiError::Problem(Box::new(Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal server error",
    )))
}

/// A step of reading the upload, cut with 408 when no data comes for `request_timeout` (the
/// upload as a whole has no time limit: see `deadline` in lib.rs).
async fn receiving<T>(
    state: &AppState,
    step: impl std::future::Future<Output = std::result::Result<T, MultipartError>>,
) -> Result<T> {
    let idle = state.config.request_timeout;
    match tokio::time::timeout(idle, step).await {
        Ok(result) => result.map_err(multipart_error),
        Err(_) => Err(problem(
            StatusCode::REQUEST_TIMEOUT,
            "upload-stalled",
            "Upload stalled",
            format!("No data arrived for {} s.", idle.as_secs()),
        )),
    }
}

fn multipart_error(err: MultipartError) -> ApiError {
    let status = err.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return problem(status, "too-large", "Upload too large", err.body_text());
    }
    bad_upload(err.body_text())
}

/// The accepted media types and the file name extensions that go with them.
const ACCEPTED: &[(&str, &[&str])] = &[
    ("application/pdf", &["pdf"]),
    ("image/png", &["png"]),
    ("image/jpeg", &["jpg", "jpeg"]),
    ("image/gif", &["gif"]),
    ("image/webp", &["webp"]),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &["docx"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &["xlsx"],
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        &["pptx"],
    ),
    ("application/vnd.oasis.opendocument.text", &["odt"]),
    ("application/vnd.oasis.opendocument.spreadsheet", &["ods"]),
    ("application/vnd.oasis.opendocument.presentation", &["odp"]),
    ("application/msword", &["doc"]),
    ("application/vnd.ms-excel", &["xls"]),
    ("application/vnd.ms-powerpoint", &["ppt"]),
];

/// How many leading bytes the content check looks at (office documents are ZIP files whose
/// telling entries come first).
const SNIFF_LEN: usize = 64 * 1024;

/// The media type of `head` (the upload's first bytes), if it is accepted and agrees with the
/// claimed type and the name's extension.
fn check_media_type(head: &[u8], name: &str, claimed: Option<&str>) -> Result<&'static str> {
    let unsupported = |detail: String| {
        problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported file type",
            detail,
        )
    };
    let detected = infer::get(head).map(|kind| kind.mime_type());
    let Some((media_type, extensions)) = ACCEPTED
        .iter()
        .find(|(media_type, _)| Some(*media_type) == detected)
    else {
        return Err(unsupported(
            "Accepted are PDF, PNG, JPEG, GIF, WebP and office documents \
             (docx, xlsx, pptx, odt, ods, odp, doc, xls, ppt)."
                .into(),
        ));
    };
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    if !extensions.contains(&extension.as_str()) {
        return Err(unsupported(format!(
            "The content is {media_type}, but the file name ends in {extension:?}."
        )));
    }
    if let Some(claimed) = claimed {
        let essence = claimed
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence != "application/octet-stream" && essence != *media_type {
            return Err(unsupported(format!(
                "The content is {media_type}, but it was sent as {essence}."
            )));
        }
    }
    Ok(media_type)
}

/// A temporary upload file, removed when dropped unless it was handed to the blob store.
struct TempUpload {
    path: PathBuf,
    kept: bool,
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A received upload: where it is, its digest, size and first bytes.
struct Received {
    temp: TempUpload,
    sha256: Sha256Digest,
    /// Lower-case hex.
    sha512: String,
    size: u64,
    head: Vec<u8>,
}

/// Streams the part to a temporary file while hashing and counting; 413 once over the limit.
async fn receive(state: &AppState, field: &mut Field<'_>) -> Result<Received> {
    let dir = state.config.data_dir.join("uploads");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|err| internal("cannot create the upload directory", err))?;
    let temp = TempUpload {
        path: dir.join(format!("{}.part", Uuid::new_v4().simple())),
        kept: false,
    };
    let mut out = tokio::fs::File::create(&temp.path)
        .await
        .map_err(|err| internal("cannot create an upload file", err))?;
    let limit = state.config.upload_limit;
    let mut hasher = Sha256::new();
    let mut hasher512 = Sha512::new();
    let mut size = 0u64;
    let mut head = Vec::new();
    while let Some(chunk) = receiving(state, field.chunk()).await? {
        size += chunk.len() as u64;
        if size > limit {
            return Err(problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Upload too large",
                format!("Files may have at most {limit} bytes."),
            ));
        }
        if head.len() < SNIFF_LEN {
            let take = chunk.len().min(SNIFF_LEN - head.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        hasher512.update(&chunk);
        out.write_all(&chunk)
            .await
            .map_err(|err| internal("cannot write an upload file", err))?;
    }
    out.flush()
        .await
        .map_err(|err| internal("cannot write an upload file", err))?;
    drop(out);
    Ok(Received {
        temp,
        sha256: Sha256Digest::from_bytes(hasher.finalize().into()),
        sha512: plenum_store::blob::to_hex(&hasher512.finalize()),
        size,
        head,
    })
}

/// Removes the blob if no live file references it any more.
async fn release_blob(state: &AppState, storage_key: &str) {
    let gate = match state.lock_blobs().await {
        Ok(gate) => gate,
        Err(err) => {
            // Better an unreferenced blob left behind than one deleted under a new upload.
            tracing::error!(error = %err, storage_key, "cannot take the blob lock; content kept");
            return;
        }
    };
    release_unreferenced(state, storage_key).await;
    gate.release().await;
}

/// `release_blob` for a caller that holds the blob gate already.
async fn release_unreferenced(state: &AppState, storage_key: &str) {
    match repo::files::blob_referenced(&state.db, storage_key).await {
        Ok(true) => {}
        Ok(false) => {
            if let Err(err) = state.blobs.delete(storage_key).await {
                tracing::error!(error = %err, storage_key, "cannot delete an unreferenced blob");
            }
        }
        Err(err) => tracing::error!(error = %err, storage_key, "cannot check blob references"),
    }
}

/// Uploads a file and attaches it to a paper, meeting or agenda item (clerks; for a fraction's
/// own papers its chair).
///
/// `multipart/form-data` with, in this order, one text field `paper_id`, `meeting_id` or
/// `agenda_item_id`, optionally a text field `license` (the file's licence URL, when it differs
/// from the body's data licence; served as OParl's `File.license`), then the part `file` (with a
/// file name). The type is checked by content.
#[utoipa::path(post, path = "/api/v1/files", tag = "files",
    request_body(content_type = "multipart/form-data",
        description = "First a field `paper_id`, `meeting_id` or `agenda_item_id` (UUID), then \
                       optionally a field `license` (URL), then the part `file`"),
    responses(
        (status = 201, description = "Stored; `ETag` is the content's SHA-256", body = FileRef,
            headers(("ETag" = String, description = "Strong entity tag"))),
        (status = 400, description = "Malformed upload", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "May not attach files here", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such paper, meeting or agenda item", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "No data for `request_timeout_secs` (`upload-stalled`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than `upload_limit`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not an accepted type, or name/type disagree with the content", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn upload_file(
    State(state): State<AppState>,
    auth: AuthUser,
    multipart: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Response> {
    // Not `multipart/form-data` (or no boundary): a problem document, not axum's text/plain.
    let mut multipart = multipart.map_err(|rejection| bad_upload(rejection.body_text()))?;
    let actor = access::actor(&state, &auth.user).await?;
    let field = receiving(&state, multipart.next_field())
        .await?
        .ok_or_else(|| bad_upload("Expected a field paper_id, meeting_id or agenda_item_id."))?;
    let kind = field.name().unwrap_or_default().to_owned();
    let value = receiving(&state, field.text()).await?;
    let id =
        Uuid::parse_str(value.trim()).map_err(|_| bad_upload(format!("{kind} must be a UUID.")))?;
    let attachment = match kind.as_str() {
        "paper_id" => Attachment::Paper(PaperId::from_uuid(id)),
        "meeting_id" => Attachment::Meeting(MeetingId::from_uuid(id)),
        "agenda_item_id" => Attachment::AgendaItem(AgendaItemId::from_uuid(id)),
        _ => {
            return Err(bad_upload(
                "The first field must be paper_id, meeting_id or agenda_item_id.",
            ));
        }
    };
    let (resource, body) = access::file_resource(&state.db, Some(attachment)).await?;
    access::require(&actor, Action::Create, &resource)?;
    let body = body.ok_or(ApiError::NotFound)?;

    let mut field = receiving(&state, multipart.next_field())
        .await?
        .ok_or_else(|| bad_upload("Expected the part file."))?;
    // Optionally the file's licence (a URL), when it differs from the body's data licence.
    let mut license = None;
    if field.name() == Some("license") {
        let text = receiving(&state, field.text()).await?;
        let text = text.trim();
        if !text.is_empty() {
            if !valid_license_url(text) {
                return Err(bad_upload(
                    "license must be an absolute http(s) URL of at most 500 characters.",
                ));
            }
            license = Some(text.to_owned());
        }
        field = receiving(&state, multipart.next_field())
            .await?
            .ok_or_else(|| bad_upload("Expected the part file."))?;
    }
    if field.name() != Some("file") {
        return Err(bad_upload(
            "After the attachment field (and an optional license) comes the part file.",
        ));
    }
    let name = field
        .file_name()
        .map(|name| {
            name.rsplit(['/', '\\'])
                .next()
                .unwrap_or(name)
                .trim()
                .to_owned()
        })
        .filter(|name| !name.is_empty())
        .ok_or_else(|| bad_upload("The part file needs a file name."))?;
    let name = FileName::parse(&name)?;
    let claimed = field.content_type().map(str::to_owned);
    let mut received = receive(&state, &mut field).await?;
    let media_type = check_media_type(&received.head, name.as_str(), claimed.as_deref())?;

    // Until the row is in, no deletion may judge this content unreferenced.
    let gate = state.lock_blobs().await?;
    let stored = state
        .blobs
        .put_file(&received.temp.path, &received.sha256, received.size)
        .await
        .map_err(|err| internal("cannot store an upload", err))?;
    received.temp.kept = true;
    let file = File {
        id: FileId::new(),
        meta: Meta::new(state.now()),
        body_id: body,
        name,
        media_type: MediaType::parse(media_type)?,
        size: stored.size,
        sha256: stored.sha256,
        sha512: Some(received.sha512.clone()),
        storage_key: stored.storage_key.clone(),
        paper_id: None,
        meeting_id: None,
        agenda_item_id: None,
        license,
    };
    let file = File {
        paper_id: match attachment {
            Attachment::Paper(id) => Some(id),
            _ => None,
        },
        meeting_id: match attachment {
            Attachment::Meeting(id) => Some(id),
            _ => None,
        },
        agenda_item_id: match attachment {
            Attachment::AgendaItem(id) => Some(id),
            _ => None,
        },
        ..file
    };
    let file = match insert_audited(&state, &auth, file, attachment).await {
        Ok(file) => file,
        Err(err) => {
            release_unreferenced(&state, &stored.storage_key).await;
            gate.release().await;
            return Err(err);
        }
    };
    gate.release().await;
    spawn_extraction(&state, file.clone());
    let mut response = (StatusCode::CREATED, Json(FileRef::member(&file))).into_response();
    if let Ok(value) = HeaderValue::from_str(&etag(&file)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(&FileRef::member(&file).url) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// Deletes a file (soft delete; the content goes once no file references it).
#[utoipa::path(delete, path = "/api/v1/files/{id}", tag = "files",
    params(("id" = Uuid, Path, description = "The file's id"),
           ("If-Match" = Option<String>, Header, description = "The file's ETag")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "May not delete it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such file", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn delete_file(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
) -> Result<StatusCode> {
    let actor = access::actor(&state, &auth.user).await?;
    let file = repo::files::get_live(&state.db, FileId::from_uuid(id)).await?;
    let (resource, _) = access::file_resource(&state.db, Attachment::of(&file)).await?;
    access::require(&actor, Action::Delete, &resource)?;
    if let Some(if_match) = headers.get(header::IF_MATCH)
        && !etag_matches(if_match, &etag(&file))
    {
        return Err(problem(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            "Precondition failed",
            "The file is not the one you have.",
        ));
    }
    let txn = begin(&state).await?;
    repo::files::delete(&txn, file.id).await?;
    // Its text leaves the search index with it.
    file_text::forget(&txn, file.id).await?;
    audit(
        &txn,
        &state,
        &auth,
        "file.deleted",
        ("file", file.id.as_uuid()),
        attached_to(Attachment::of(&file)),
    )
    .await?;
    commit(&state, txn).await?;
    release_blob(&state, &file.storage_key).await;
    Ok(StatusCode::NO_CONTENT)
}

/// What the file hangs on, for its audit entries (ids only: file names may be non-public).
fn attached_to(attachment: Option<Attachment>) -> serde_json::Value {
    let (kind, id) = match attachment {
        Some(Attachment::Paper(id)) => ("paper", id.as_uuid()),
        Some(Attachment::Meeting(id)) => ("meeting", id.as_uuid()),
        Some(Attachment::AgendaItem(id)) => ("agenda_item", id.as_uuid()),
        None => return serde_json::json!({}),
    };
    serde_json::json!({ "attached_to": format!("{kind}:{id}") })
}

/// Stores the file's metadata and its audit entry in one transaction.
async fn insert_audited(
    state: &AppState,
    auth: &AuthUser,
    file: File,
    attachment: Attachment,
) -> Result<File> {
    let txn = begin(state).await?;
    let file = repo::files::insert(&txn, file).await?;
    let mut detail = attached_to(Some(attachment));
    detail["size"] = file.size.into();
    detail["media_type"] = file.media_type.as_str().into();
    audit(
        &txn,
        state,
        auth,
        "file.uploaded",
        ("file", file.id.as_uuid()),
        detail,
    )
    .await?;
    commit(state, txn).await?;
    Ok(file)
}

/// Extraction runs one file at a time: it is CPU-bound, and uploads must stay answered.
static EXTRACTION: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Extracts a PDF's text in the background (off the request path: the upload has answered) into
/// the search index; other files are left alone.
pub fn spawn_extraction(state: &AppState, file: File) {
    if file.media_type.as_str() != file_text::PDF {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move { extract(&state, &file).await });
}

/// Extracts the text of every live PDF not extracted yet (the demo's files, files uploaded before
/// Plenum extracted text, or whose extraction a restart cut short). Runs in the background after
/// start; how many were extracted.
pub async fn extract_pending(state: &AppState) -> u64 {
    let pending = match file_text::pending(&state.db).await {
        Ok(pending) => pending,
        Err(err) => {
            tracing::warn!(error = %err, "cannot list the files whose text is to be extracted");
            return 0;
        }
    };
    let mut done = 0;
    for file in pending {
        done += u64::from(extract(state, &file).await);
    }
    done
}

/// Extracts and records one file's text, audited (the server's own write: no actor) and logged;
/// whether it was recorded.
async fn extract(state: &AppState, file: &File) -> bool {
    let Ok(_permit) = EXTRACTION.acquire().await else {
        return false;
    };
    let started = std::time::Instant::now();
    let extraction = match file_text::read_and_extract(state.blobs.as_ref(), file).await {
        Ok(Some(extraction)) => extraction,
        Ok(None) => return false,
        Err(err) => {
            tracing::warn!(file = %file.id, error = %err, "cannot extract the text of a file");
            return false;
        }
    };
    match record_extraction(state, file, &extraction).await {
        Ok(true) => {
            tracing::info!(
                file = %file.id,
                pages = extraction.page_count,
                text_pages = extraction.pages.len(),
                pages_without_text = extraction.pages_without_text.len(),
                failed = extraction.error.is_some(),
                ms = started.elapsed().as_millis() as u64,
                "extracted the text of a file"
            );
            true
        }
        Ok(false) => false,
        Err(err) => {
            tracing::warn!(file = %file.id, error = %err, "cannot record the text of a file");
            false
        }
    }
}

/// Stores the extraction with its audit entry in one transaction, unless the file was deleted
/// meanwhile (then nothing is stored: `false`).
async fn record_extraction(
    state: &AppState,
    file: &File,
    extraction: &file_text::Extraction,
) -> Result<bool> {
    let txn = begin(state).await?;
    match repo::files::get_live(&txn, file.id).await {
        Ok(_) => {}
        Err(plenum_store::StoreError::NotFound { .. }) => return Ok(false),
        Err(err) => return Err(err.into()),
    }
    file_text::record(&txn, file.id, extraction).await?;
    let event = plenum_domain::AuditEvent {
        actor: None,
        action: "file.text_extracted".to_owned(),
        subject: Some(format!("file:{}", file.id.as_uuid())),
        detail: serde_json::json!({
            "pages": extraction.page_count,
            "text_pages": extraction.pages.len(),
            "pages_without_text": extraction.pages_without_text.len(),
            "failed": extraction.error.is_some(),
        })
        .to_string(),
    };
    state.audit.append_in(&txn, event, state.now()).await?;
    commit(state, txn).await?;
    Ok(true)
}

/// A file with what it is attached to and what text extraction found in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileInfo {
    pub id: Uuid,
    /// The original file name.
    pub name: String,
    /// The media type detected from the content.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Where to download it (supports `Range` requests).
    pub url: String,
    /// The content's SHA-256 (hex), also its `ETag`.
    pub sha256: String,
    /// The paper it is attached to.
    pub paper_id: Option<Uuid>,
    /// The meeting it is attached to, or the meeting of its agenda item.
    pub meeting_id: Option<Uuid>,
    /// The agenda item it is attached to.
    pub agenda_item_id: Option<Uuid>,
    /// Text extraction: `pending` (not done yet), `done`, `failed` (the PDF cannot be read), or
    /// `none` (not a PDF: no text is extracted).
    pub text_status: &'static str,
    /// Pages in the document, once extracted.
    pub page_count: Option<u32>,
    /// How many pages have text (and are searchable), once extracted.
    pub text_pages: Option<u32>,
    /// Page numbers (from 1) without text: scanned pages without a text layer, not searchable.
    pub pages_without_text: Vec<u32>,
}

async fn file_info(state: &AppState, file: &File, url: String) -> Result<FileInfo> {
    let meeting_id = match file.agenda_item_id {
        Some(item) => Some(
            repo::agenda_items::get(&state.db, item)
                .await?
                .meeting_id
                .as_uuid(),
        ),
        None => file.meeting_id.map(|id| id.as_uuid()),
    };
    let text = file_text::get(&state.db, file.id).await?;
    let text_status = match &text {
        Some(text) => text.status.as_str(),
        None if file.media_type.as_str() == file_text::PDF => "pending",
        None => "none",
    };
    Ok(FileInfo {
        id: file.id.as_uuid(),
        name: file.name.as_str().to_owned(),
        media_type: file.media_type.as_str().to_owned(),
        size: file.size,
        url,
        sha256: file.sha256.to_hex(),
        paper_id: file.paper_id.map(|id| id.as_uuid()),
        meeting_id,
        agenda_item_id: file.agenda_item_id.map(|id| id.as_uuid()),
        text_status,
        page_count: text.as_ref().map(|text| text.page_count),
        text_pages: text.as_ref().map(|text| text.text_pages),
        pages_without_text: text.map(|text| text.pages_without_text).unwrap_or_default(),
    })
}

/// A file's metadata for a signed-in user who may see it.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files",
    params(("id" = Uuid, Path, description = "The file's id")),
    responses(
        (status = 200, description = "The file", body = FileInfo),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such file, or not visible", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn get_file(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<FileInfo>> {
    let actor = access::actor(&state, &auth.user).await?;
    let file = repo::files::get_live(&state.db, FileId::from_uuid(id)).await?;
    let (resource, _) = access::file_resource(&state.db, Attachment::of(&file)).await?;
    access::require(&actor, Action::View, &resource).map_err(|_| ApiError::NotFound)?;
    let url = FileRef::member(&file).url;
    Ok(Json(file_info(&state, &file, url).await?))
}

/// A public file's metadata.
#[utoipa::path(get, path = "/api/v1/public/files/{id}", tag = "files",
    params(("id" = Uuid, Path, description = "The file's id")),
    responses(
        (status = 200, description = "The file", body = FileInfo),
        (status = 404, description = "No such public file", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_public_file(
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<Json<FileInfo>> {
    let file = query::file(&state.db, FileId::from_uuid(id))
        .await?
        .filter(|file| !file.meta.is_deleted())
        .ok_or(ApiError::NotFound)?;
    let url = FileRef::public(&file).url;
    Ok(Json(file_info(&state, &file, url).await?))
}

/// Downloads a file the signed-in user may see (it is as visible as what it is attached to).
#[utoipa::path(get, path = "/api/v1/files/{id}/content", tag = "files",
    params(("id" = Uuid, Path, description = "The file's id"),
           ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-1023`"),
           ("If-None-Match" = Option<String>, Header, description = "A cached ETag")),
    responses(
        (status = 200, description = "The content"),
        (status = 206, description = "The requested range"),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such file, or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "Range not satisfiable", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn get_file_content(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response> {
    let actor = access::actor(&state, &auth.user).await?;
    let file = repo::files::get_live(&state.db, FileId::from_uuid(id)).await?;
    let (resource, _) = access::file_resource(&state.db, Attachment::of(&file)).await?;
    // Whoever may not see it learns nothing: 404, never 403.
    access::require(&actor, Action::View, &resource).map_err(|_| ApiError::NotFound)?;
    serve_content(&state, &file, &headers, "inline", true).await
}

/// Downloads a public file (of a public paper or agenda item, or of a meeting).
#[utoipa::path(get, path = "/api/v1/public/files/{id}/content", tag = "files",
    params(("id" = Uuid, Path, description = "The file's id"),
           ("Range" = Option<String>, Header, description = "One byte range"),
           ("If-None-Match" = Option<String>, Header, description = "A cached ETag")),
    responses(
        (status = 200, description = "The content"),
        (status = 206, description = "The requested range"),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such public file", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "Range not satisfiable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_public_file_content(
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response> {
    let file = query::file(&state.db, FileId::from_uuid(id))
        .await?
        .filter(|file| !file.meta.is_deleted())
        .ok_or(ApiError::NotFound)?;
    serve_content(&state, &file, &headers, "inline", false).await
}

/// Whether an `If-Match`/`If-None-Match` value (`*` or a list of tags) names `tag`.
fn etag_matches(value: &HeaderValue, tag: &str) -> bool {
    let Ok(value) = value.to_str() else {
        return false;
    };
    value.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == tag
    })
}

/// A `Range` header's meaning for content of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum RangeRequest {
    /// No usable range (absent, another unit, several ranges, malformed): send everything.
    Whole,
    Part(Range<u64>),
    Unsatisfiable,
}

fn parse_range(value: &str, size: u64) -> RangeRequest {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeRequest::Whole;
    };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    if first.is_empty() {
        // The last `n` bytes.
        let Ok(n) = last.parse::<u64>() else {
            return RangeRequest::Whole;
        };
        if n == 0 || size == 0 {
            return RangeRequest::Unsatisfiable;
        }
        return RangeRequest::Part(size.saturating_sub(n)..size);
    }
    let Ok(start) = first.parse::<u64>() else {
        return RangeRequest::Whole;
    };
    let end = if last.is_empty() {
        size
    } else {
        match last.parse::<u64>() {
            Ok(last) if last >= start => last.saturating_add(1).min(size),
            _ => return RangeRequest::Whole,
        }
    };
    if start >= size {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Part(start..end)
}

/// Media types a browser may show inline from our origin; anything else is sandboxed.
const INLINE_SAFE: [&str; 5] = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
];

/// `attachment; filename="Haushalt.pdf"; filename*=UTF-8''Haushalt.pdf` (RFC 6266): an ASCII
/// fallback plus the exact UTF-8 name.
pub fn content_disposition(disposition: &str, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Answers a download of `file` (after the caller checked that it may be seen): conditional
/// requests, one range, and safe headers. `private`: the response must not land in shared caches.
pub async fn serve_content(
    state: &AppState,
    file: &File,
    headers: &HeaderMap,
    disposition: &str,
    private: bool,
) -> Result<Response> {
    let tag = etag(file);
    let mut out = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&tag) {
        out.insert(header::ETAG, value);
    }
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if private {
            "private, no-cache"
        } else {
            "public, no-cache"
        }),
    );
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if INLINE_SAFE.contains(&file.media_type.as_str()) {
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
                 frame-ancestors 'self'"
        } else {
            "sandbox; default-src 'none'; frame-ancestors 'self'"
        }),
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| etag_matches(value, &tag))
    {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }

    let size = file.size;
    // `If-Range` with another tag: the cached part is stale, send everything.
    let range_applies = headers
        .get(header::IF_RANGE)
        .is_none_or(|value| value.to_str().is_ok_and(|value| value.trim() == tag));
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(value) if range_applies => parse_range(value, size),
        _ => RangeRequest::Whole,
    };
    if range == RangeRequest::Unsatisfiable {
        let mut response = ApiError::Problem(Box::new(
            Problem::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range-not-satisfiable",
                "Range not satisfiable",
            )
            .with_detail(format!("The file has {size} bytes.")),
        ))
        .into_response();
        response.headers_mut().extend(out);
        if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
            response.headers_mut().insert(header::CONTENT_RANGE, value);
        }
        return Ok(response);
    }

    if let Ok(value) = HeaderValue::from_str(file.media_type.as_str()) {
        out.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&content_disposition(disposition, file.name.as_str()))
    {
        out.insert(header::CONTENT_DISPOSITION, value);
    }
    let (status, part) = match range {
        RangeRequest::Part(part) => {
            if let Ok(value) = HeaderValue::from_str(&format!(
                "bytes {}-{}/{size}",
                part.start,
                part.end.saturating_sub(1)
            )) {
                out.insert(header::CONTENT_RANGE, value);
            }
            (StatusCode::PARTIAL_CONTENT, Some(part))
        }
        _ => (StatusCode::OK, None),
    };
    let length = part.as_ref().map_or(size, |part| part.end - part.start);
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    let stream = state
        .blobs
        .get(&file.storage_key, part)
        .await
        .map_err(|err| {
            tracing::error!(file = %file.id, storage_key = %file.storage_key, "file content is missing");
            internal("cannot read file content", err)
        })?;
    Ok((status, out, Body::from_stream(stream)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_has_an_ascii_fallback_and_the_utf8_name() {
        assert_eq!(
            content_disposition("attachment", "Haushaltsplan 2027 – Entwurf.pdf"),
            "attachment; filename=\"Haushaltsplan 2027 _ Entwurf.pdf\"; \
             filename*=UTF-8''Haushaltsplan%202027%20%E2%80%93%20Entwurf.pdf"
        );
        assert_eq!(
            content_disposition("inline", "Straßen \"neu\".pdf"),
            "inline; filename=\"Stra_en _neu_.pdf\"; \
             filename*=UTF-8''Stra%C3%9Fen%20%22neu%22.pdf"
        );
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        use RangeRequest::*;
        assert_eq!(parse_range("bytes=0-9", 100), Part(0..10));
        assert_eq!(parse_range("bytes=90-", 100), Part(90..100));
        assert_eq!(parse_range("bytes=90-500", 100), Part(90..100));
        assert_eq!(parse_range("bytes=-10", 100), Part(90..100));
        assert_eq!(parse_range("bytes=-500", 100), Part(0..100));
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=5-1", 100), Whole);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Whole);
        assert_eq!(parse_range("items=0-1", 100), Whole);
    }

    #[test]
    fn media_type_comes_from_the_content_and_must_match_name_and_claim() {
        let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj";
        assert_eq!(
            check_media_type(pdf, "Satzung.PDF", Some("application/pdf")).ok(),
            Some("application/pdf")
        );
        assert!(check_media_type(pdf, "Satzung.pdf", Some("application/octet-stream")).is_ok());
        assert!(check_media_type(pdf, "Satzung.docx", None).is_err());
        assert!(check_media_type(pdf, "Satzung.pdf", Some("image/png")).is_err());
        assert!(check_media_type(b"MZ\x90\x00\x03\x00\x00\x00", "a.pdf", None).is_err());
        assert!(check_media_type(b"just some text", "a.pdf", None).is_err());
    }
}
