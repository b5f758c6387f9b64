//! The Sitzungsmappe: one PDF per meeting and reader with everything that reader may see — the
//! cover with the agenda, then per agenda item its paper's files (main file first) and the
//! item's own files — typeset by `plenum-render` ([`plenum_render::meeting_bundle_pdf`]).
//!
//! Once the meeting is invited, the cover is the latest invitation or supplement as PDF/A
//! ([`plenum_render::invitation_pdf`]) in the variant the reader may see: in full for those
//! entitled to the non-public part, without it for other members, the public notice in the
//! public bundle. Before, Plenum generates a cover with the agenda.
//!
//! What goes in is decided by the same policy as the meeting's detail (`Directory`): items the
//! reader may see, papers the reader may see, and their files. Its version is a hash of
//! everything that is printed (meeting, place, items, papers, each file's id and SHA-256, the
//! reader's name, the cover invitation's own tag): the invitation, a supplement, a changed title
//! or a replaced file gives a new version, and with it a new `ETag`. Rendered bundles are kept in
//! `<data_dir>/bundles/` per meeting, reader and version (older versions of the same reader's
//! bundle are removed when a new one is written).

use std::path::{Path as FsPath, PathBuf};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::TryStreamExt;
use plenum_domain::{AgendaItemId, File, InvitationKind, MeetingId, Paper, PaperId, User};
use plenum_render::{BundleCover, BundleFile, BundleItem, InvitationVariant, MeetingBundle};
use plenum_store::{documents, notify, repo};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::documents::{Directory, Viewer};
use crate::auth::AuthUser;
use crate::json::AppPath;
use crate::{ApiError, AppState, Problem, Result};

/// Changes when the layout changes, so that kept bundles are rendered again.
const LAYOUT: u32 = 2;

/// One bundle renders at a time: it holds every file of the meeting in memory and keeps a core
/// busy for seconds.
static RENDERING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}/bundle.pdf", get(get_bundle))
        .route("/public/meetings/{id}/bundle.pdf", get(get_public_bundle))
}

/// A bundle before the files' contents are read.
struct Plan {
    bundle: MeetingBundle,
    meeting_files: Vec<File>,
    item_files: Vec<Vec<File>>,
    /// The invitation or supplement to render as the cover, once the meeting is invited.
    cover: Option<CoverPlan>,
    /// Hex digest of everything printed.
    version: String,
    file_name: String,
}

/// The cover to be: the latest invitation or supplement in the reader's variant.
struct CoverPlan {
    rendering: crate::render::InvitationRendering,
    /// The bookmark's title.
    title: String,
    /// Whether it holds non-public text (then it carries the watermark).
    non_public: bool,
}

/// The meeting's latest invitation or supplement as the reader may see it; `None` before the
/// invitation. `entitled`: the reader may see the non-public part.
async fn cover_plan(
    state: &AppState,
    dir: &Directory,
    meeting: &plenum_domain::Meeting,
    viewer: &Viewer,
    entitled: bool,
) -> Result<Option<CoverPlan>> {
    let Some(latest) = notify::invitations_of(&state.db, meeting.id).await?.pop() else {
        return Ok(None);
    };
    let document = latest.document;
    let variant = if viewer.is_public() {
        InvitationVariant::PublicNotice
    } else if entitled {
        InvitationVariant::Full
    } else {
        InvitationVariant::PublicPart
    };
    let non_public = variant == InvitationVariant::Full && document != document.public_part();
    let title = match (variant, document.kind) {
        (InvitationVariant::PublicNotice, _) => "Öffentliche Bekanntmachung".to_owned(),
        (_, InvitationKind::Invitation) => "Einladung".to_owned(),
        (_, InvitationKind::Supplement) => format!(
            "Nachtrag Nr. {} zur Einladung",
            document.number.saturating_sub(1)
        ),
    };
    let rendering = crate::render::invitation_pdf(state, dir, meeting, document, variant).await;
    Ok(Some(CoverPlan {
        rendering,
        title,
        non_public,
    }))
}

fn file_entry(file: &File) -> BundleFile {
    BundleFile {
        name: file.name.as_str().to_owned(),
        media_type: file.media_type.as_str().to_owned(),
        content: Vec::new(),
    }
}

fn manifest_files(files: &[File]) -> serde_json::Value {
    files
        .iter()
        .map(|f| {
            json!([
                f.id,
                f.name.as_str(),
                f.media_type.as_str(),
                f.sha256.to_hex()
            ])
        })
        .collect()
}

/// What the reader's bundle of the meeting holds; `NotFound` if they may not see the meeting.
async fn plan(
    state: &AppState,
    viewer: &Viewer,
    id: MeetingId,
    recipient: Option<String>,
) -> Result<Plan> {
    let db = &state.db;
    let dir = Directory::load(db).await?;
    let meeting = repo::meetings::get_live(db, id).await?;
    if !dir.meeting_visible(viewer, &meeting) {
        return Err(ApiError::NotFound);
    }
    let items: Vec<_> = repo::agenda_items::list_by_meeting(db, id, false)
        .await?
        .into_iter()
        .filter(|item| dir.item_visible(viewer, &meeting, item))
        .collect();
    let item_ids: Vec<AgendaItemId> = items.iter().map(|i| i.id).collect();
    let paper_ids: Vec<PaperId> = items.iter().filter_map(|i| i.paper_id).collect();
    let papers = documents::papers_by_id(db, &paper_ids).await?;
    let consultations = documents::consultations_of_papers(db, &paper_ids).await?;
    let visible: Vec<&Paper> = papers
        .iter()
        .filter(|p| dir.paper_visible(viewer, p, &consultations))
        .collect();
    let visible_ids: Vec<PaperId> = visible.iter().map(|p| p.id).collect();
    let paper_files = documents::files_of(db, &visible_ids, &[], &[]).await?;
    let own_files = documents::files_of(db, &[], &[], &item_ids).await?;
    let meeting_files: Vec<File> = documents::files_of(db, &[], &[id], &[])
        .await?
        .into_iter()
        .filter(|f| f.agenda_item_id.is_none() && f.paper_id.is_none())
        .collect();

    let mut bundle_items = Vec::with_capacity(items.len());
    let mut item_files = Vec::with_capacity(items.len());
    let mut manifest_items = Vec::with_capacity(items.len());
    for item in &items {
        let paper = item
            .paper_id
            .and_then(|p| visible.iter().find(|v| v.id == p).copied());
        // The paper's main file first, then its other files (by name), then the item's own.
        let mut files: Vec<File> = Vec::new();
        if let Some(paper) = paper {
            let of_paper = paper_files.iter().filter(|f| f.paper_id == Some(paper.id));
            files.extend(
                of_paper
                    .clone()
                    .filter(|f| Some(f.id) == paper.main_file_id)
                    .cloned(),
            );
            files.extend(
                of_paper
                    .filter(|f| Some(f.id) != paper.main_file_id)
                    .cloned(),
            );
        }
        files.extend(
            own_files
                .iter()
                .filter(|f| f.agenda_item_id == Some(item.id))
                .filter(|f| f.paper_id.is_none_or(|p| visible_ids.contains(&p)))
                .filter(|f| files.iter().all(|known| known.id != f.id))
                .cloned()
                .collect::<Vec<_>>(),
        );
        let paper_line =
            paper.map(|p| (p.reference.as_str().to_owned(), p.title.as_str().to_owned()));
        manifest_items.push(json!({
            "id": item.id,
            "number": item.number.as_str(),
            "title": item.title.as_str(),
            "public": item.public,
            "paper": paper_line,
            "files": manifest_files(&files),
        }));
        bundle_items.push(BundleItem {
            number: item.number.as_str().to_owned(),
            title: item.title.as_str().to_owned(),
            public: item.public,
            paper: paper_line,
            files: files.iter().map(file_entry).collect(),
        });
        item_files.push(files);
    }

    let organization = dir
        .organizations
        .get(&meeting.organization_id)
        .map(|o| o.name.as_str().to_owned())
        .unwrap_or_default();
    let location = meeting
        .location_id
        .and_then(|l| dir.locations.get(&l))
        .map(|l| l.description.as_str().to_owned());
    let body_name = crate::render::body_name(state, &dir, &meeting).await;
    let cover = cover_plan(
        state,
        &dir,
        &meeting,
        viewer,
        dir.entitled(viewer, &meeting),
    )
    .await?;
    let manifest = json!({
        "plenum": env!("CARGO_PKG_VERSION"),
        "layout": LAYOUT,
        "meeting": [meeting.id, meeting.name.as_str(), meeting.start, meeting.end],
        "organization": organization,
        "location": location,
        "body": body_name,
        "recipient": recipient,
        "cover": cover.as_ref().map(|c| c.rendering.etag.as_str()),
        "meeting_files": manifest_files(&meeting_files),
        "items": manifest_items,
    });
    let digest = Sha256::digest(manifest.to_string().as_bytes());
    let version = hex::encode(&digest[..16]);
    let file_name = format!("Sitzungsmappe {}.pdf", meeting.name.as_str());
    Ok(Plan {
        bundle: MeetingBundle {
            body_name,
            organization,
            meeting_name: meeting.name.as_str().to_owned(),
            start: meeting.start,
            end: meeting.end,
            location,
            recipient,
            cover: None,
            meeting_files: meeting_files.iter().map(file_entry).collect(),
            items: bundle_items,
        },
        meeting_files,
        item_files,
        cover,
        version,
        file_name,
    })
}

fn internal(context: &str, err: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %err, "{context}");
    ApiError::Problem(Box::new(Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal server error",
    )))
}

async fn read(state: &AppState, file: &File) -> Result<Vec<u8>> {
    let chunks: Vec<bytes::Bytes> = state
        .blobs
        .get(&file.storage_key, None)
        .await
        .map_err(|err| internal("cannot open a file for the Sitzungsmappe", err))?
        .try_collect()
        .await
        .map_err(|err| internal("cannot read a file for the Sitzungsmappe", err))?;
    Ok(chunks.concat())
}

/// Renders the cover (the invitation) and reads every file's content into the bundle.
async fn fill(state: &AppState, plan: &mut Plan) -> Result<()> {
    if let Some(cover) = plan.cover.take() {
        plan.bundle.cover = Some(BundleCover {
            title: cover.title,
            pdf: cover.rendering.render_pdf().await?,
            non_public: cover.non_public,
        });
    }
    for (entry, file) in plan
        .bundle
        .meeting_files
        .iter_mut()
        .zip(&plan.meeting_files)
    {
        entry.content = read(state, file).await?;
    }
    for (item, files) in plan.bundle.items.iter_mut().zip(&plan.item_files) {
        for (entry, file) in item.files.iter_mut().zip(files) {
            entry.content = read(state, file).await?;
        }
    }
    Ok(())
}

fn cache_dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join("bundles")
}

/// Writes the bundle atomically and removes the reader's older versions of it.
async fn keep(dir: &FsPath, prefix: &str, name: &str, pdf: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let temporary = dir.join(format!(".{}.tmp", Uuid::new_v4()));
    tokio::fs::write(&temporary, pdf).await?;
    tokio::fs::rename(&temporary, dir.join(name)).await?;
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let other = entry.file_name();
        let other = other.to_string_lossy();
        if other.starts_with(prefix) && other != name {
            let _ = tokio::fs::remove_file(entry.path()).await;
        }
    }
    Ok(())
}

/// The bundle of `id` for `viewer`: 304 when `If-None-Match` names its version, the kept PDF
/// when there is one, else rendered now (and kept).
async fn serve(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    recipient: Option<String>,
    reader: String,
    headers: &HeaderMap,
) -> Result<Response> {
    let meeting = MeetingId::from_uuid(id);
    let mut plan = plan(state, viewer, meeting, recipient).await?;
    let etag = format!("\"{}\"", plan.version);
    let private = !viewer.is_public();
    let mut out = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&etag) {
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
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
        });
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }

    let dir = cache_dir(state);
    let prefix = format!("{meeting}-{reader}-");
    let name = format!("{prefix}{}.pdf", plan.version);
    let path = dir.join(&name);
    let pdf = match tokio::fs::read(&path).await {
        Ok(pdf) => pdf,
        Err(_) => {
            let _permit = RENDERING
                .acquire()
                .await
                .map_err(|err| internal("the bundle renderer is closed", err))?;
            // Rendered by another request meanwhile?
            match tokio::fs::read(&path).await {
                Ok(pdf) => pdf,
                Err(_) => {
                    fill(state, &mut plan).await?;
                    let started = std::time::Instant::now();
                    let bundle = plan.bundle;
                    let pdf = crate::pdf::render(move || plenum_render::meeting_bundle_pdf(bundle))
                        .await?;
                    tracing::info!(
                        %meeting,
                        bytes = pdf.len(),
                        ms = started.elapsed().as_millis() as u64,
                        "rendered a Sitzungsmappe"
                    );
                    if let Err(err) = keep(&dir, &prefix, &name, &pdf).await {
                        tracing::warn!(error = %err, "cannot keep a rendered Sitzungsmappe");
                    }
                    pdf
                }
            }
        }
    };
    let mut response = crate::pdf::response(pdf, &plan.file_name);
    for (name, value) in &out {
        response.headers_mut().insert(name, value.clone());
    }
    Ok(response)
}

/// Whose copy: the member's name as a person, else the account's display name (clerks).
async fn recipient(state: &AppState, user: &User) -> Result<String> {
    if let Some(person) = user.person_id
        && let Ok(person) = repo::persons::get(&state.db, person).await
    {
        return Ok(person.full_name());
    }
    Ok(user.display_name.as_str().to_owned())
}

/// The signed-in reader's Sitzungsmappe of a meeting: one PDF with the cover and agenda as the
/// reader may see it (once invited: the latest invitation or supplement, in full only for those
/// entitled to the non-public part), then each agenda item's paper and files in agenda order; one bookmark per
/// item, page numbers throughout, the reader's name on every non-public page. A plain PDF (not
/// PDF/A: the bound-in files are PDFs of any kind). Whoever may not see the meeting gets 404.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/bundle.pdf", tag = "documents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of a bundle already loaded")),
    responses((status = 200, description = "The Sitzungsmappe (`application/pdf`)",
            headers(("ETag" = String), ("Content-Disposition" = String))),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 401, body = crate::Problem), (status = 404, body = crate::Problem)))]
pub async fn get_bundle(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let name = recipient(&state, &auth.user).await?;
    let reader = match auth.user.person_id {
        Some(person) => format!("p{person}"),
        None => format!("u{}", auth.user.id),
    };
    serve(&state, &viewer, id, Some(name), reader, &headers).await
}

/// The public Sitzungsmappe of a meeting: cover (once invited: the public notice of the latest
/// invitation or supplement), public agenda, and the public items' public papers and files; no
/// name on it.
#[utoipa::path(get, path = "/api/v1/public/meetings/{id}/bundle.pdf", tag = "documents",
    params(("id" = Uuid, Path, description = "Meeting id"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of a bundle already loaded")),
    responses((status = 200, description = "The public Sitzungsmappe (`application/pdf`)",
            headers(("ETag" = String), ("Content-Disposition" = String))),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 404, body = crate::Problem)))]
pub async fn get_public_bundle(
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
) -> Result<Response> {
    serve(
        &state,
        &Viewer::public(),
        id,
        None,
        "public".to_owned(),
        &headers,
    )
    .await
}
