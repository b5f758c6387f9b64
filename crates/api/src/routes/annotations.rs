//! Annotations in the PDF viewer: highlights (rectangles over text), sticky notes (a point) and
//! ink (pen or finger strokes, with pressure when the device reports it) on a page of a file.
//!
//! An annotation is a note on the file (`note.file_id`) with an anchor: the page (`note.page`),
//! the shapes in PDF page units (`note.anchor`: points from the page's top-left corner, y
//! downwards, at 100 % — so it survives zoom) and the SHA-256 of the content it was made on. Everything else is the note's: private
//! by default or shared with an organization the author belongs to, sealed between fractions,
//! every version kept, edited and deleted through `PATCH`/`DELETE /api/v1/notes/{id}` with
//! `If-Match`. Here: listing a file's annotations and creating one, with the anchor validated.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use plenum_domain::{Action, FileId, NoteScope, OrganizationId, PersonId, Resource};
use plenum_store::collab::{Anchor, Note, NoteTarget, notes};
use plenum_store::{file_text, repo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use uuid::Uuid;

use super::collab::{
    CollabError, CollabResult, MAX_BODY_BYTES, MAX_QUOTE, MAX_TEXT, Member, Names, check_text,
    etag, file_resource, invalid, member, not_found, require,
};
use super::notes::{NoteResponse, note_response};
use crate::auth::AuthUser;
use crate::json::{AppJson, AppPath};
use crate::{AppState, Problem};

/// The largest coordinate: 14 400 PDF units (200 inches), the largest page side PDF allows.
pub const MAX_COORD: f64 = 14_400.0;
/// The highest page number an anchor may name (also bounded by the file's page count).
pub const MAX_PAGE: u32 = 100_000;
/// Rectangles of one highlight.
pub const MAX_RECTS: usize = 200;
/// Strokes of one ink annotation.
pub const MAX_STROKES: usize = 200;
/// Points of one ink annotation, over all its strokes.
pub const MAX_POINTS: usize = 5_000;
/// The most annotations of one file listed for one reader.
pub const LIST_LIMIT: u64 = 5_000;
const MIN_WIDTH: f64 = 0.25;
const MAX_WIDTH: f64 = 50.0;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/files/{id}/annotations",
            get(list_annotations).post(create_annotation),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// What an annotation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AnnotationKind {
    /// Rectangles over a passage (from the text selection).
    Highlight,
    /// A sticky note at a point, with text.
    Note,
    /// Freehand strokes.
    Ink,
}

impl AnnotationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AnnotationKind::Highlight => "highlight",
            AnnotationKind::Note => "note",
            AnnotationKind::Ink => "ink",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "highlight" => Some(AnnotationKind::Highlight),
            "note" => Some(AnnotationKind::Note),
            "ink" => Some(AnnotationKind::Ink),
            _ => None,
        }
    }
}

/// The colours the viewer offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AnnotationColor {
    Yellow,
    Green,
    Blue,
    Red,
    Black,
}

/// A rectangle in PDF page units (from the page's top-left corner, y downwards, at 100 %).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rect {
    #[schema(minimum = 0, maximum = 14400)]
    pub x: f64,
    #[schema(minimum = 0, maximum = 14400)]
    pub y: f64,
    #[schema(minimum = 0, maximum = 14400)]
    pub width: f64,
    #[schema(minimum = 0, maximum = 14400)]
    pub height: f64,
}

/// A point in PDF page units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Point {
    #[schema(minimum = 0, maximum = 14400)]
    pub x: f64,
    #[schema(minimum = 0, maximum = 14400)]
    pub y: f64,
}

/// One stroke of the pen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Stroke {
    /// `[x0, y0, x1, y1, …]` in PDF page units: pairs, at least one point.
    #[schema(schema_with = coordinates_schema)]
    pub points: Vec<f64>,
    /// The pen's pressure at each point, 0 to 1 (as many as points), if the device reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = pressure_schema)]
    pub pressure: Option<Vec<f64>>,
    /// Line width in PDF units (0.25 to 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.25, maximum = 50)]
    pub width: Option<f64>,
}

fn coordinates_schema() -> utoipa::openapi::schema::Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(0))
                .maximum(Some(14_400)),
        )
        .min_items(Some(2))
        .max_items(Some(2 * MAX_POINTS))
        .description(Some("`[x0, y0, x1, y1, …]` in PDF page units"))
        .build()
}

fn pressure_schema() -> utoipa::openapi::schema::Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(0))
                .maximum(Some(1)),
        )
        .min_items(Some(1))
        .max_items(Some(MAX_POINTS))
        .description(Some("The pressure at each point, 0 to 1"))
        .build()
}

/// The shapes of an annotation as stored (`note.anchor`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Shapes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rects: Option<Vec<Rect>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    point: Option<Point>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    strokes: Option<Vec<Stroke>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    color: Option<AnnotationColor>,
}

/// Where an annotation sits, as the caller sees it (on a note that is an annotation).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnnotationInfo {
    pub kind: AnnotationKind,
    /// The page, from 1.
    pub page: u32,
    /// A highlight's rectangles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rects: Option<Vec<Rect>>,
    /// A sticky note's place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point: Option<Point>,
    /// An ink annotation's strokes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strokes: Option<Vec<Stroke>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<AnnotationColor>,
    /// The SHA-256 of the file's content the annotation was made on.
    pub sha256: String,
    /// The file's content has changed since: the annotation belongs to an earlier version
    /// ("frühere Fassung") and may not fit the current one.
    pub outdated: bool,
}

/// The anchor of a note as the API shows it; `None` for a plain note.
pub(crate) async fn annotation_info(
    state: &AppState,
    names: &mut Names,
    note: &Note,
) -> Option<AnnotationInfo> {
    let anchor = note.anchor.as_ref()?;
    let kind = AnnotationKind::parse(&anchor.kind)?;
    let shapes: Shapes = serde_json::from_str(&anchor.shapes).unwrap_or_else(|err| {
        tracing::error!(note = %note.id, error = %err, "unreadable annotation shapes");
        Shapes::default()
    });
    let current = match note.target {
        NoteTarget::File(file) => names.file_sha256(state, file).await,
        _ => None,
    };
    Some(AnnotationInfo {
        kind,
        page: note.page.unwrap_or(1),
        rects: shapes.rects,
        point: shapes.point,
        strokes: shapes.strokes,
        color: shapes.color,
        outdated: current.as_deref() != Some(anchor.content_sha256.as_str()),
        sha256: anchor.content_sha256.clone(),
    })
}

/// A new annotation on a page of a PDF.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAnnotationRequest {
    /// A client-chosen id (UUID) that makes the request safe to repeat, e.g. after a connection
    /// lost before the answer: the same author sending it again gets 200 and the annotation as
    /// stored, and nothing new is created. 409 when the id belongs to another note or to one
    /// deleted since. Omitted: the server chooses.
    pub id: Option<Uuid>,
    pub kind: AnnotationKind,
    /// The page, from 1 to the file's page count (when known).
    #[schema(minimum = 1, maximum = 100000)]
    pub page: u32,
    /// `highlight` only: 1 to 200 rectangles.
    #[schema(min_items = 1, max_items = 200)]
    pub rects: Option<Vec<Rect>>,
    /// `note` only: where the note sits.
    pub point: Option<Point>,
    /// `ink` only: 1 to 200 strokes, at most 5 000 points in all.
    #[schema(min_items = 1, max_items = 200)]
    pub strokes: Option<Vec<Stroke>>,
    pub color: Option<AnnotationColor>,
    /// The highlighted text (at most 2 000 characters).
    #[schema(max_length = 2000)]
    pub quote: Option<String>,
    /// Markdown (at most 20 000 characters): required for a sticky note, a comment otherwise.
    #[schema(max_length = 20000)]
    pub body: Option<String>,
    /// Share with an organization you belong to; omit or `null` for a private annotation.
    pub shared_with: Option<Uuid>,
}

fn finite_in(field: &'static str, value: f64, min: f64, max: f64) -> CollabResult<()> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            field,
            &format!("every value must be a finite number from {min} to {max}"),
        ))
    }
}

/// Two decimals (a hundredth of a PDF unit) are plenty and keep the stored shapes small.
fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Checks that the shapes fit the kind and lie within the page's range; returns them rounded.
fn checked_shapes(request: &CreateAnnotationRequest) -> CollabResult<Shapes> {
    let kind = request.kind;
    let only = |field: &'static str, wanted: AnnotationKind| {
        invalid(
            field,
            &format!(
                "{field} belongs to a {} annotation, not a {}",
                wanted.as_str(),
                kind.as_str()
            ),
        )
    };
    if request.rects.is_some() && kind != AnnotationKind::Highlight {
        return Err(only("rects", AnnotationKind::Highlight));
    }
    if request.point.is_some() && kind != AnnotationKind::Note {
        return Err(only("point", AnnotationKind::Note));
    }
    if request.strokes.is_some() && kind != AnnotationKind::Ink {
        return Err(only("strokes", AnnotationKind::Ink));
    }
    let mut shapes = Shapes {
        color: request.color,
        ..Shapes::default()
    };
    match kind {
        AnnotationKind::Highlight => {
            let rects = request.rects.as_deref().unwrap_or_default();
            if rects.is_empty() || rects.len() > MAX_RECTS {
                return Err(invalid(
                    "rects",
                    &format!("a highlight has 1 to {MAX_RECTS} rectangles"),
                ));
            }
            let mut out = Vec::with_capacity(rects.len());
            for r in rects {
                for v in [r.x, r.y, r.width, r.height] {
                    finite_in("rects", v, 0.0, MAX_COORD)?;
                }
                out.push(Rect {
                    x: round(r.x),
                    y: round(r.y),
                    width: round(r.width),
                    height: round(r.height),
                });
            }
            shapes.rects = Some(out);
        }
        AnnotationKind::Note => {
            let Some(p) = request.point else {
                return Err(invalid("point", "a sticky note needs its point"));
            };
            finite_in("point", p.x, 0.0, MAX_COORD)?;
            finite_in("point", p.y, 0.0, MAX_COORD)?;
            shapes.point = Some(Point {
                x: round(p.x),
                y: round(p.y),
            });
        }
        AnnotationKind::Ink => {
            let strokes = request.strokes.as_deref().unwrap_or_default();
            if strokes.is_empty() || strokes.len() > MAX_STROKES {
                return Err(invalid(
                    "strokes",
                    &format!("ink has 1 to {MAX_STROKES} strokes"),
                ));
            }
            let total: usize = strokes.iter().map(|s| s.points.len() / 2).sum();
            if total > MAX_POINTS {
                return Err(invalid(
                    "strokes",
                    &format!("ink has at most {MAX_POINTS} points in all"),
                ));
            }
            let mut out = Vec::with_capacity(strokes.len());
            for s in strokes {
                if s.points.len() < 2 || !s.points.len().is_multiple_of(2) {
                    return Err(invalid(
                        "strokes",
                        "points are pairs [x, y, …], at least one point",
                    ));
                }
                for &v in &s.points {
                    finite_in("strokes", v, 0.0, MAX_COORD)?;
                }
                if let Some(pressure) = &s.pressure {
                    if pressure.len() != s.points.len() / 2 {
                        return Err(invalid("strokes", "pressure has one value per point"));
                    }
                    for &v in pressure {
                        finite_in("strokes", v, 0.0, 1.0)?;
                    }
                }
                if let Some(width) = s.width {
                    finite_in("strokes", width, MIN_WIDTH, MAX_WIDTH)?;
                }
                out.push(Stroke {
                    points: s.points.iter().map(|&v| round(v)).collect(),
                    pressure: s
                        .pressure
                        .as_ref()
                        .map(|p| p.iter().map(|&v| round(v)).collect()),
                    width: s.width.map(round),
                });
            }
            shapes.strokes = Some(out);
        }
    }
    Ok(shapes)
}

/// The file if it is a live PDF the caller may see (else 404).
async fn visible_file(
    state: &AppState,
    who: &Member,
    id: FileId,
) -> CollabResult<plenum_domain::File> {
    let file = repo::files::get_live(&state.db, id)
        .await
        .map_err(|_| not_found())?;
    let resource = file_resource(state, id).await?;
    require(&who.actor, Action::View, &resource)?;
    Ok(file)
}

/// Every annotation on the file that the caller may see (their own, and those shared with an
/// organization they belong to today), oldest first, at most 5 000.
#[utoipa::path(get, path = "/api/v1/files/{id}/annotations", tag = "notes", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<NoteResponse>), (status = 401, body = Problem),
        (status = 404, description = "No such file, or not visible", body = Problem)))]
pub async fn list_annotations(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> CollabResult<Json<Vec<NoteResponse>>> {
    let who = member(&state, &auth.user).await?;
    let file = visible_file(&state, &who, FileId::from_uuid(id)).await?;
    let Some(person) = who.person else {
        return Ok(Json(Vec::new()));
    };
    let list =
        notes::annotations(&state.db, file.id, person, &who.organizations, LIST_LIMIT).await?;
    let mut names = Names::default();
    let mut out = Vec::with_capacity(list.len());
    for note in list {
        let resource = Resource::Note {
            author: note.author,
            scope: note
                .shared_with
                .map_or(NoteScope::Private, NoteScope::Shared),
        };
        // Defence in depth: the query already filters, the policy decides.
        if plenum_domain::authorize(&who.actor, Action::View, &resource).is_allowed() {
            out.push(note_response(&state, &mut names, note, who.person).await);
        }
    }
    Ok(Json(out))
}

/// Annotates a page of a PDF: a highlight, a sticky note or ink. Private unless `shared_with`
/// names an organization the author belongs to. Edit the text or sharing and delete it as a note
/// (`PATCH`/`DELETE /api/v1/notes/{id}` with `If-Match`).
#[utoipa::path(post, path = "/api/v1/files/{id}/annotations", tag = "notes", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = CreateAnnotationRequest,
    responses(
        (status = 201, body = NoteResponse),
        (status = 200, description = "A repeated request with the same `id`: the annotation as stored, nothing new created", body = NoteResponse),
        (status = 401, body = Problem),
        (status = 403, description = "Users without a person have no notes", body = Problem),
        (status = 404, description = "No such file, or not visible", body = Problem),
        (status = 409, description = "The `id` belongs to another note, or to an annotation deleted since", body = Problem),
        (status = 413, description = "Text too long", body = Problem),
        (status = 422, description = "Not a PDF; a page beyond the file's pages; shapes that do not fit the kind, out of range or too many; sharing with an organization you are not in", body = Problem),
        (status = 429, description = "Posting too fast", body = Problem),
    ))]
pub async fn create_annotation(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<CreateAnnotationRequest>,
) -> CollabResult<impl IntoResponse> {
    let who = member(&state, &auth.user).await?;
    let person = who.person()?;
    let file = visible_file(&state, &who, FileId::from_uuid(id)).await?;
    if file.media_type.as_str() != "application/pdf" {
        return Err(invalid("file", "annotations are made on PDF files"));
    }
    if request.page < 1 || request.page > MAX_PAGE {
        return Err(invalid("page", &format!("a page from 1 to {MAX_PAGE}")));
    }
    // The page count is known once the text extraction has read the file.
    if let Some(text) = file_text::get(&state.db, file.id).await?
        && text.page_count > 0
        && request.page > text.page_count
    {
        return Err(invalid(
            "page",
            &format!("the file has {} pages", text.page_count),
        ));
    }
    let shapes = checked_shapes(&request)?;
    // A sticky note needs words; a highlight or drawing may have a comment.
    let body = request.body.clone().unwrap_or_default();
    if request.kind == AnnotationKind::Note
        || !body.trim().is_empty()
        || body.chars().count() > MAX_TEXT
    {
        check_text("body", &body, MAX_TEXT)?;
    }
    let body = if body.trim().is_empty() {
        String::new()
    } else {
        body
    };
    let quote = match request.quote.as_deref() {
        Some(quote) if !quote.trim().is_empty() || quote.chars().count() > MAX_QUOTE => {
            check_text("quote", quote, MAX_QUOTE)?;
            Some(quote.trim().to_owned())
        }
        _ => None,
    };
    let shared_with = request.shared_with.map(OrganizationId::from_uuid);
    if shared_with.is_some_and(|o| !who.organizations.contains(&o)) {
        return Err(invalid(
            "shared_with",
            "you can share only with an organization you belong to",
        ));
    }
    require(
        &who.actor,
        Action::Create,
        &Resource::Note {
            author: person,
            scope: shared_with.map_or(NoteScope::Private, NoteScope::Shared),
        },
    )?;
    if let Some(id) = request.id
        && let Some(stored) = repeated(&state, id, person, file.id).await?
    {
        let version = stored.version;
        let response = note_response(&state, &mut Names::default(), stored, Some(person)).await;
        return Ok((StatusCode::OK, etag(version), Json(response)));
    }
    state.auth.post_limiter.check(auth.user.id).await?;
    // Finite numbers and enums only: serialising cannot fail.
    let shapes = serde_json::to_string(&shapes).unwrap_or_else(|_| "{}".to_owned());
    let note = notes::insert(
        &state.db,
        notes::NewNote {
            author: person,
            target: NoteTarget::File(file.id),
            page: Some(request.page),
            quote,
            anchor: Some(Anchor {
                kind: request.kind.as_str().to_owned(),
                shapes,
                content_sha256: file.sha256.to_hex(),
            }),
            shared_with,
            body,
            id: request.id,
        },
        state.now(),
    )
    .await;
    let note = match (note, request.id) {
        (Ok(note), _) => note,
        // The same id sent twice at once: the first insert won; answer like a repeat.
        (Err(err), Some(id)) => match repeated(&state, id, person, file.id).await? {
            Some(stored) => {
                let version = stored.version;
                let response =
                    note_response(&state, &mut Names::default(), stored, Some(person)).await;
                return Ok((StatusCode::OK, etag(version), Json(response)));
            }
            None => return Err(err.into()),
        },
        (Err(err), None) => return Err(err.into()),
    };
    super::collab_live::annotation_changed(&state, None, Some(&note)).await;
    let version = note.version;
    let response = note_response(&state, &mut Names::default(), note, Some(person)).await;
    Ok((StatusCode::CREATED, etag(version), Json(response)))
}

/// The annotation a repeated create with the client-chosen `id` made before: `Some` when it is
/// `author`'s, on `file` and not deleted; `None` when the id is free; 409 otherwise (the id is
/// another note's, or the annotation was deleted since — re-creating it would undo a deletion).
async fn repeated(
    state: &AppState,
    id: Uuid,
    author: PersonId,
    file: FileId,
) -> CollabResult<Option<Note>> {
    match notes::find_any(&state.db, id).await? {
        None => Ok(None),
        Some((note, false)) if note.author == author && note.target == NoteTarget::File(file) => {
            Ok(Some(note))
        }
        Some(_) => Err(CollabError::Problem(
            Problem::new(StatusCode::CONFLICT, "id-taken", "Id already used").with_detail(
                "This id belongs to another note, or to an annotation deleted since. Send the \
                 annotation again without an id, or with a new one.",
            ),
        )),
    }
}

/// Whether a note's body may be blank: highlights and ink need no words.
pub(crate) fn body_optional(note: &Note) -> bool {
    note.anchor
        .as_ref()
        .is_some_and(|a| a.kind != AnnotationKind::Note.as_str())
}
