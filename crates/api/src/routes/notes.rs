//! Notes on papers, agenda items and files: private by default, or shared with an organization
//! the author belongs to. Markdown in, sanitised HTML out; every edit kept.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use plenum_domain::{Action, NoteScope, Resource};
use plenum_domain::{AgendaItemId, AuditEvent, FileId, OrganizationId, OrganizationKind, PaperId};
use plenum_store::collab::{Note, NoteTarget, notes};
use plenum_store::repo;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::collab::{
    CollabError, CollabResult, MAX_BODY_BYTES, MAX_QUOTE, MAX_TEXT, Member, Names,
    OrganizationInfo, PersonRef, agenda_item_resource, changed_meanwhile, check_text,
    current_members, etag, file_resource, if_match, invalid, member, not_found, paper_resource,
    require,
};
use crate::auth::AuthUser;
use crate::json::{AppJson, AppPath, AppQuery, bounded};
use crate::markdown;
use crate::{AppState, Problem};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notes", get(list_notes).post(create_note))
        .route("/notes/mine", get(my_notes))
        .route("/notes/audiences", get(note_audiences))
        .route("/notes/search", get(search_notes))
        .route(
            "/notes/{id}",
            get(get_note).patch(update_note).delete(delete_note),
        )
        .route("/notes/{id}/history", get(note_history))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// A note as the caller sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteResponse {
    pub id: Uuid,
    pub author: PersonRef,
    /// The caller wrote it (and may edit and delete it).
    pub own: bool,
    pub paper_id: Option<Uuid>,
    pub agenda_item_id: Option<Uuid>,
    pub file_id: Option<Uuid>,
    pub page: Option<u32>,
    pub quote: Option<String>,
    /// Set when the note is an annotation on a page of a PDF (a highlight, sticky note or ink;
    /// see `/api/v1/files/{id}/annotations`).
    pub annotation: Option<super::annotations::AnnotationInfo>,
    /// `private` or `shared`.
    pub visibility: String,
    /// With whom it is shared (an organization the author belongs to), and since when.
    pub shared_with: Option<OrganizationInfo>,
    pub shared_at: Option<DateTime<Utc>>,
    /// The Markdown source.
    pub body: String,
    /// The Markdown rendered to sanitised HTML.
    pub html: String,
    /// Also the `ETag`; send it in `If-Match` to edit or delete.
    pub version: u32,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

pub(crate) async fn note_response(
    state: &AppState,
    names: &mut Names,
    note: Note,
    me: Option<plenum_domain::PersonId>,
) -> NoteResponse {
    let (paper_id, agenda_item_id, file_id) = match note.target {
        NoteTarget::Paper(id) => (Some(id.as_uuid()), None, None),
        NoteTarget::AgendaItem(id) => (None, Some(id.as_uuid()), None),
        NoteTarget::File(id) => (None, None, Some(id.as_uuid())),
    };
    let shared_with = match note.shared_with {
        Some(id) => Some(names.organization(state, id).await),
        None => None,
    };
    let annotation = super::annotations::annotation_info(state, names, &note).await;
    NoteResponse {
        id: note.id,
        author: names.person(state, note.author).await,
        own: me == Some(note.author),
        paper_id,
        agenda_item_id,
        file_id,
        page: note.page,
        quote: note.quote,
        annotation,
        visibility: if note.shared_with.is_some() {
            "shared"
        } else {
            "private"
        }
        .into(),
        shared_with,
        shared_at: note.shared_at,
        html: markdown::render(&note.body),
        body: note.body,
        version: note.version,
        created: note.created,
        modified: note.modified,
    }
}

fn scope(note: &Note) -> NoteScope {
    match note.shared_with {
        Some(organization) => NoteScope::Shared(organization),
        None => NoteScope::Private,
    }
}

fn resource(note: &Note) -> Resource {
    Resource::Note {
        author: note.author,
        scope: scope(note),
    }
}

/// The note if the caller may see it, else 404.
async fn visible_note(state: &AppState, who: &Member, id: Uuid) -> CollabResult<Note> {
    let note = notes::get(&state.db, id).await.map_err(|_| not_found())?;
    require(&who.actor, Action::View, &resource(&note))?;
    Ok(note)
}

/// An organization a note can be shared with, and how many people would read it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AudienceResponse {
    pub organization: OrganizationInfo,
    /// People who belong to the organization today: everyone who reads a note shared with it
    /// (the author included).
    pub readers: u32,
}

/// Whom the caller can share a note with: every organization they belong to today, with the
/// number of readers, the smallest audience first.
#[utoipa::path(get, path = "/api/v1/notes/audiences", tag = "notes", security(("bearer" = [])),
    responses((status = 200, body = Vec<AudienceResponse>), (status = 401, body = Problem)))]
pub async fn note_audiences(
    State(state): State<AppState>,
    auth: AuthUser,
) -> CollabResult<Json<Vec<AudienceResponse>>> {
    let who = member(&state, &auth.user).await?;
    if who.person.is_none() {
        return Ok(Json(Vec::new()));
    }
    let mut names = Names::default();
    let mut out = Vec::new();
    for &organization in &who.organizations {
        let readers = current_members(&state, organization).await?.len() as u32;
        out.push(AudienceResponse {
            organization: names.organization(&state, organization).await,
            readers,
        });
    }
    out.sort_by(|a, b| (a.readers, &a.organization.name).cmp(&(b.readers, &b.organization.name)));
    Ok(Json(out))
}

/// Whether an organization is a fraction or group: a note shared there stays among its own.
async fn is_fraction(state: &AppState, organization: OrganizationId) -> CollabResult<bool> {
    let o = repo::organizations::get(&state.db, organization).await?;
    Ok(matches!(
        o.kind,
        OrganizationKind::Fraction | OrganizationKind::Group
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetQuery {
    pub paper_id: Option<Uuid>,
    pub agenda_item_id: Option<Uuid>,
    pub file_id: Option<Uuid>,
}

/// Exactly one target, and the caller may see it (else 404).
async fn target(state: &AppState, who: &Member, query: &TargetQuery) -> CollabResult<NoteTarget> {
    let (target, document) = match (query.paper_id, query.agenda_item_id, query.file_id) {
        (Some(id), None, None) => (
            NoteTarget::Paper(PaperId::from_uuid(id)),
            paper_resource(state, PaperId::from_uuid(id)).await?,
        ),
        (None, Some(id), None) => (
            NoteTarget::AgendaItem(AgendaItemId::from_uuid(id)),
            agenda_item_resource(state, AgendaItemId::from_uuid(id)).await?,
        ),
        (None, None, Some(id)) => (
            NoteTarget::File(FileId::from_uuid(id)),
            file_resource(state, FileId::from_uuid(id)).await?,
        ),
        _ => {
            return Err(invalid(
                "target",
                "give exactly one of paper_id, agenda_item_id, file_id",
            ));
        }
    };
    require(&who.actor, Action::View, &document)?;
    Ok(target)
}

async fn respond_all(state: &AppState, who: &Member, list: Vec<Note>) -> Vec<NoteResponse> {
    let mut names = Names::default();
    let mut out = Vec::with_capacity(list.len());
    for note in list {
        // Defence in depth: the query already filters, the policy decides.
        if plenum_domain::authorize(&who.actor, Action::View, &resource(&note)).is_allowed() {
            out.push(note_response(state, &mut names, note, who.person).await);
        }
    }
    out
}

/// The caller's own notes on a paper, agenda item or file, and the notes shared with them.
#[utoipa::path(get, path = "/api/v1/notes", tag = "notes", security(("bearer" = [])),
    params(TargetQuery),
    responses((status = 200, body = Vec<NoteResponse>), (status = 404, body = Problem),
        (status = 422, description = "Not exactly one of `paper_id`, `agenda_item_id`, `file_id`", body = Problem)))]
pub async fn list_notes(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<TargetQuery>,
) -> CollabResult<Json<Vec<NoteResponse>>> {
    let who = member(&state, &auth.user).await?;
    let target = target(&state, &who, &query).await?;
    let Some(person) = who.person else {
        return Ok(Json(Vec::new()));
    };
    let list = notes::list_for_target(&state.db, target, person, &who.organizations).await?;
    Ok(Json(respond_all(&state, &who, list).await))
}

/// Every note the caller may see (own and shared with them), newest first.
#[utoipa::path(get, path = "/api/v1/notes/mine", tag = "notes", security(("bearer" = [])),
    responses((status = 200, body = Vec<NoteResponse>), (status = 401, body = Problem)))]
pub async fn my_notes(
    State(state): State<AppState>,
    auth: AuthUser,
) -> CollabResult<Json<Vec<NoteResponse>>> {
    let who = member(&state, &auth.user).await?;
    let Some(person) = who.person else {
        return Ok(Json(Vec::new()));
    };
    let list = notes::list_visible(&state.db, person, &who.organizations).await?;
    Ok(Json(respond_all(&state, &who, list).await))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find (case-insensitive substring), 2 to 200 characters.
    #[param(min_length = 2, max_length = 200)]
    pub q: String,
}

/// Searches the notes the caller may see.
#[utoipa::path(get, path = "/api/v1/notes/search", tag = "notes", security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, body = Vec<NoteResponse>), (status = 400, description = "`q` shorter than 2 or longer than 200 characters", body = Problem)))]
pub async fn search_notes(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<SearchQuery>,
) -> CollabResult<Json<Vec<NoteResponse>>> {
    bounded(
        "the length of q",
        query.q.chars().count(),
        2,
        MAX_TITLE_QUERY,
    )?;
    let q = query.q.trim();
    if q.is_empty() {
        return Ok(Json(Vec::new()));
    }
    let who = member(&state, &auth.user).await?;
    let Some(person) = who.person else {
        return Ok(Json(Vec::new()));
    };
    let list = notes::search(&state.db, person, &who.organizations, q).await?;
    Ok(Json(respond_all(&state, &who, list).await))
}

const MAX_TITLE_QUERY: usize = 200;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNoteRequest {
    pub paper_id: Option<Uuid>,
    pub agenda_item_id: Option<Uuid>,
    pub file_id: Option<Uuid>,
    /// Anchor the note to a page of the document.
    pub page: Option<u32>,
    /// Anchor the note to a quoted passage.
    pub quote: Option<String>,
    /// Markdown, at most 20 000 characters.
    pub body: String,
    /// Share with an organization you belong to (your fraction, group, committee); omit or
    /// `null` for a private note.
    pub shared_with: Option<Uuid>,
}

/// Writes a note (private unless `shared_with` names an organization the author belongs to).
#[utoipa::path(post, path = "/api/v1/notes", tag = "notes", security(("bearer" = [])),
    request_body = CreateNoteRequest,
    responses(
        (status = 201, body = NoteResponse),
        (status = 404, description = "No such document, or not visible", body = Problem),
        (status = 413, description = "Text too long", body = Problem),
        (status = 422, body = Problem),
        (status = 429, description = "Posting too fast", body = Problem),
    ))]
pub async fn create_note(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<CreateNoteRequest>,
) -> CollabResult<impl IntoResponse> {
    let who = member(&state, &auth.user).await?;
    let person = who.person()?;
    check_text("body", &request.body, MAX_TEXT)?;
    if let Some(quote) = &request.quote {
        check_text("quote", quote, MAX_QUOTE)?;
    }
    let target = target(
        &state,
        &who,
        &TargetQuery {
            paper_id: request.paper_id,
            agenda_item_id: request.agenda_item_id,
            file_id: request.file_id,
        },
    )
    .await?;
    let shared_with = request.shared_with.map(OrganizationId::from_uuid);
    let scope = shared_with.map_or(NoteScope::Private, NoteScope::Shared);
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
            scope,
        },
    )?;
    state.auth.post_limiter.check(auth.user.id).await?;
    let note = notes::insert(
        &state.db,
        notes::NewNote {
            author: person,
            target,
            page: request.page,
            quote: request.quote,
            anchor: None,
            shared_with,
            body: request.body,
            id: None,
        },
        state.now(),
    )
    .await?;
    if let Some(organization) = note.shared_with {
        super::collab_live::note_shared(&state, &note, organization).await;
    }
    let version = note.version;
    let response = note_response(&state, &mut Names::default(), note, Some(person)).await;
    Ok((StatusCode::CREATED, etag(version), Json(response)))
}

/// One note the caller may see.
#[utoipa::path(get, path = "/api/v1/notes/{id}", tag = "notes", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = NoteResponse), (status = 404, body = Problem)))]
pub async fn get_note(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> CollabResult<impl IntoResponse> {
    let who = member(&state, &auth.user).await?;
    let note = visible_note(&state, &who, id).await?;
    let version = note.version;
    let response = note_response(&state, &mut Names::default(), note, who.person).await;
    Ok((etag(version), Json(response)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateNoteRequest {
    /// The new Markdown (unchanged if omitted).
    pub body: Option<String>,
    /// Share with this organization, or `null` to make the note private again (unchanged if
    /// omitted).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub shared_with: Option<Option<Uuid>>,
    /// Required (`true`) to move a note shared with a fraction or group to another
    /// organization: the author has been asked whether it may leave the fraction.
    #[serde(default)]
    pub confirm_audience: bool,
}

/// Edits the caller's own note (`If-Match: "<version>"` required); the old text stays in the
/// history.
#[utoipa::path(patch, path = "/api/v1/notes/{id}", tag = "notes", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "The note's ETag")),
    request_body = UpdateNoteRequest,
    responses(
        (status = 200, body = NoteResponse),
        (status = 403, description = "Not the author", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "audience-confirmation-required: the note would leave its fraction or group; send confirm_audience", body = Problem),
        (status = 412, description = "Edited meanwhile", body = Problem),
        (status = 413, body = Problem),
        (status = 428, description = "If-Match missing", body = Problem),
    ))]
pub async fn update_note(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
    AppJson(request): AppJson<UpdateNoteRequest>,
) -> CollabResult<impl IntoResponse> {
    let who = member(&state, &auth.user).await?;
    let note = visible_note(&state, &who, id).await?;
    require(&who.actor, Action::Update, &resource(&note))?;
    let expected = if_match(&headers)?;
    let body = request.body.unwrap_or_else(|| note.body.clone());
    // Highlights and ink need no words; every other note does.
    if !body.is_empty() || !super::annotations::body_optional(&note) {
        check_text("body", &body, MAX_TEXT)?;
    }
    let shared_with = match request.shared_with {
        Some(new) => new.map(OrganizationId::from_uuid),
        None => note.shared_with,
    };
    if shared_with.is_some_and(|o| !who.organizations.contains(&o)) {
        return Err(invalid(
            "shared_with",
            "you can share only with an organization you belong to",
        ));
    }
    // A note leaving its fraction (or group) for another audience: asked again, and audited.
    let leaving = match (note.shared_with, shared_with) {
        (Some(from), Some(to)) if from != to && is_fraction(&state, from).await? => {
            Some((from, to))
        }
        _ => None,
    };
    let mut names = Names::default();
    let mut widened = None;
    if let Some((from, to)) = leaving {
        let readers = current_members(&state, to).await?.len();
        let to_name = names.organization(&state, to).await.name;
        if !request.confirm_audience {
            let from_name = names.organization(&state, from).await.name;
            return Err(CollabError::Problem(
                Problem::new(
                    StatusCode::CONFLICT,
                    "audience-confirmation-required",
                    "The note would leave its fraction",
                )
                .with_detail(format!(
                    "This note is shared with {from_name}. Shared with {to_name}, {readers} \
                     people would read it, members of other fractions among them. Send \
                     confirm_audience: true to share it anyway."
                )),
            ));
        }
        widened = Some((from, to, readers));
    }
    state.auth.post_limiter.check(auth.user.id).await?;
    let updated = notes::update(&state.db, id, expected, body, shared_with, state.now())
        .await?
        .ok_or_else(changed_meanwhile)?;
    if let Some((from, to, readers)) = widened {
        let event = AuditEvent {
            actor: Some(auth.user.id),
            action: "note.left_fraction".into(),
            subject: Some(format!("note:{id}")),
            detail: serde_json::json!({"from": from, "to": to, "readers": readers}).to_string(),
        };
        if let Err(err) = state.audit.append(&state.db, event, state.now()).await {
            tracing::error!(error = %err, "could not write the audit log");
        }
    }
    if let Some(organization) = updated.shared_with
        && updated.shared_with != note.shared_with
    {
        super::collab_live::note_shared(&state, &updated, organization).await;
    }
    if updated.anchor.is_some() {
        super::collab_live::annotation_changed(&state, Some(&note), Some(&updated)).await;
    }
    let version = updated.version;
    let response = note_response(&state, &mut names, updated, who.person).await;
    Ok((etag(version), Json(response)))
}

/// Deletes the caller's own note (`If-Match` required).
#[utoipa::path(delete, path = "/api/v1/notes/{id}", tag = "notes", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "The note's ETag")),
    responses((status = 204, description = "Deleted"), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 412, body = Problem), (status = 428, body = Problem)))]
pub async fn delete_note(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
) -> CollabResult<StatusCode> {
    let who = member(&state, &auth.user).await?;
    let note = visible_note(&state, &who, id).await?;
    require(&who.actor, Action::Delete, &resource(&note))?;
    let expected = if_match(&headers)?;
    if !notes::delete(&state.db, id, Some(expected), state.now()).await? {
        return Err(changed_meanwhile());
    }
    if note.anchor.is_some() {
        super::collab_live::annotation_changed(&state, Some(&note), None).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// One version of a note.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteRevisionResponse {
    pub version: u32,
    pub body: String,
    pub html: String,
    pub shared_with: Option<Uuid>,
    pub edited: DateTime<Utc>,
}

/// Every version of a note the caller may see, oldest first.
#[utoipa::path(get, path = "/api/v1/notes/{id}/history", tag = "notes", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<NoteRevisionResponse>), (status = 404, body = Problem)))]
pub async fn note_history(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> CollabResult<Json<Vec<NoteRevisionResponse>>> {
    let who = member(&state, &auth.user).await?;
    let note = visible_note(&state, &who, id).await?;
    let own = who.person == Some(note.author);
    let revisions = notes::history(&state.db, id).await?;
    Ok(Json(
        revisions
            .into_iter()
            // Others see only versions that were shared with an organization they are in now:
            // a text the author kept private (or shared elsewhere) stays theirs.
            .filter(|r| {
                own || r
                    .shared_with
                    .is_some_and(|o| who.organizations.contains(&o))
            })
            .map(|r| NoteRevisionResponse {
                version: r.version,
                html: markdown::render(&r.body),
                body: r.body,
                shared_with: r.shared_with.map(|o| o.as_uuid()),
                edited: r.edited,
            })
            .collect(),
    ))
}

/// A field that is present (`Some(None)` when `null`), as opposed to omitted (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Uuid>>, D::Error> {
    Option::<Uuid>::deserialize(d).map(Some)
}
