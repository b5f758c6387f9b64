//! Writes for clerks (and chairs of fractions and groups for their own papers, as the policy
//! says) on papers and their Beratungsfolge (consultations).
//!
//! Like the meeting writes in [`super::clerk`]: every change but the creation needs `If-Match`
//! with the paper's current `ETag` (missing: 428, stale: 412), and runs in one transaction that
//! first locks the paper, re-checks `If-Match` against the `ETag` computed inside it, writes and
//! appends an audit entry. Consultations have no `ETag` of their own: they are part of their
//! paper, and every change of them changes the paper's.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::NaiveDate;
use plenum_domain::{
    Action, BodyId, Consultation, ConsultationId, ConsultationRole, DomainError, FileId, Markdown,
    MeetingId, Meta, OrganizationId, OrganizationRef, Paper, PaperId, PaperReference, PaperType,
    PersonId, Resource, Title,
};
use plenum_store::{ConnectionTrait, DatabaseTransaction, StoreError, repo};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::clerk::{audit, begin, commit, fields, invalid, new_positions, precondition, present};
use super::documents::{Directory, Viewer, etag_of, paper_detail, with_etag};
use crate::auth::AuthUser;
use crate::json::AppJson;
use crate::{ApiError, AppState, Problem, Result, access};

/// A parse error reported under the field's wire name.
fn named<T>(field: &'static str, parsed: std::result::Result<T, DomainError>) -> Result<T> {
    parsed.map_err(|err| match err {
        DomainError::InvalidValue { reason, .. } => invalid(field, reason),
        other => ApiError::Domain(other),
    })
}

fn duplicate_reference(reference: &PaperReference) -> ApiError {
    ApiError::Problem(Box::new(
        Problem::new(
            StatusCode::CONFLICT,
            "duplicate-reference",
            "Reference already taken",
        )
        .with_detail(format!(
            "Another paper of this body already has the reference {reference}."
        )),
    ))
}

/// A unique violation on a paper write can only be its reference (`uq_paper_body_reference`).
fn on_conflict(reference: &PaperReference) -> impl FnOnce(StoreError) -> ApiError + '_ {
    move |err| match err {
        StoreError::Conflict(_) => duplicate_reference(reference),
        other => ApiError::Store(other),
    }
}

/// 409 if another paper of the body (deleted ones included: the unique index keeps their
/// references) has this reference.
async fn check_reference(
    db: &impl ConnectionTrait,
    body: BodyId,
    reference: &PaperReference,
    this: Option<PaperId>,
) -> Result<()> {
    match repo::papers::find_by_reference(db, body, reference).await? {
        Some(other) if Some(other.id) != this => Err(duplicate_reference(reference)),
        _ => Ok(()),
    }
}

/// The organization as the policy sees it, if it is a live organization of `body`; else 422.
fn organization_of_body(
    dir: &Directory,
    field: &'static str,
    id: Uuid,
    body: Option<BodyId>,
) -> Result<(OrganizationRef, BodyId)> {
    let id = OrganizationId::from_uuid(id);
    match dir.organizations.get(&id) {
        Some(o) if !o.meta.is_deleted() && body.is_none_or(|b| b == o.body_id) => {
            Ok((dir.organization_ref(id)?, o.body_id))
        }
        Some(o) if !o.meta.is_deleted() => Err(invalid(field, "belongs to another body")),
        _ => Err(invalid(field, "unknown organization")),
    }
}

/// Allowed, or 403 (also where the policy would say 404: there is nothing to hide yet).
fn require_write(viewer: &Viewer, action: Action, resource: &Resource) -> Result<()> {
    match access::require(&viewer.actor, action, resource) {
        Err(ApiError::NotFound) => Err(ApiError::Forbidden),
        other => other,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaperCreate {
    /// Unique within the body (e.g. `VO/2026/042`); else 409 `duplicate-reference`.
    pub reference: String,
    /// `resolution`, `information`, `motion`, `inquiry` or `other`.
    pub paper_type: String,
    pub title: String,
    pub date: NaiveDate,
    /// The organization the paper comes from (e.g. a fraction's motion).
    pub originator_id: Option<Uuid>,
    /// Markdown.
    #[serde(default)]
    pub text: String,
    pub public: bool,
    /// The persons who submit it (e.g. the members signing a motion), in order: distinct
    /// persons of the paper's body, at most 50.
    #[serde(default)]
    pub originator_person_ids: Vec<Uuid>,
    /// The organization in charge (federführend), an organization of the paper's body.
    pub under_direction_of_id: Option<Uuid>,
    /// The body; may be left out when the originator names it or only one body is hosted.
    pub body_id: Option<Uuid>,
}

/// Creates a paper (without consultations; add them with `POST …/consultations`).
#[utoipa::path(post, path = "/api/v1/papers", tag = "documents", security(("bearer" = [])),
    request_body = PaperCreate,
    responses((status = 201, body = super::documents::PaperDetail,
            headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = crate::Problem), (status = 401, body = crate::Problem),
        (status = 403, body = crate::Problem), (status = 409, body = crate::Problem),
        (status = 422, body = crate::Problem)))]
pub async fn create_paper(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<PaperCreate>,
) -> Result<Response> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let dir = Directory::load(&state.db).await?;
    let requested_body = request.body_id.map(BodyId::from_uuid);
    let bodies = repo::bodies::list(&state.db, false).await?;
    if requested_body.is_some_and(|b| !bodies.iter().any(|body| body.id == b)) {
        return Err(invalid("body_id", "unknown body"));
    }
    let originator = request
        .originator_id
        .map(|o| organization_of_body(&dir, "originator_id", o, requested_body))
        .transpose()?;
    require_write(
        &viewer,
        Action::Create,
        &Resource::Paper {
            public: request.public,
            organizations: originator.iter().map(|(o, _)| *o).collect(),
        },
    )?;
    let body = match (requested_body, originator, bodies.as_slice()) {
        (Some(body), _, _) => body,
        (None, Some((_, body)), _) => body,
        (None, None, [only]) => only.id,
        (None, None, _) => return Err(invalid("body_id", "required: more than one body")),
    };
    let paper = Paper {
        id: PaperId::new(),
        meta: Meta::new(state.now()),
        body_id: body,
        reference: named("reference", PaperReference::parse(&request.reference))?,
        paper_type: named("paper_type", PaperType::parse(&request.paper_type))?,
        title: named("title", Title::parse(&request.title))?,
        date: request.date,
        originator_id: originator.map(|(o, _)| o.id),
        text: named("text", Markdown::parse(&request.text))?,
        public: request.public,
        main_file_id: None,
        under_direction_of_id: request
            .under_direction_of_id
            .map(|o| organization_of_body(&dir, "under_direction_of_id", o, Some(body)))
            .transpose()?
            .map(|(o, _)| o.id),
    };
    check_reference(&state.db, body, &paper.reference, None).await?;
    let persons = originator_persons(&state.db, body, &request.originator_person_ids).await?;
    let txn = begin(&state).await?;
    let paper = repo::papers::insert(&txn, paper.clone())
        .await
        .map_err(on_conflict(&paper.reference))?;
    plenum_store::originators::set(&txn, paper.id, &persons).await?;
    audit(
        &txn,
        &state,
        &auth,
        "paper.created",
        ("paper", paper.id.as_uuid()),
        json!({"body": body.as_uuid()}),
    )
    .await?;
    commit(&state, txn).await?;
    let detail = paper_detail(&state.db, &viewer, paper.id).await?;
    let mut response = with_etag(&HeaderMap::new(), &detail)?;
    *response.status_mut() = StatusCode::CREATED;
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/papers/{}", paper.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Locks the paper in `txn` (the transaction's first statement), then loads it as the viewer may
/// change it: the paper, its organizations for the policy, and its current ETag (404 if the
/// viewer may not see it, 403 if they may not change it).
async fn locked_paper(
    txn: &DatabaseTransaction,
    viewer: &Viewer,
    id: PaperId,
) -> Result<(Paper, Vec<OrganizationRef>, String)> {
    repo::papers::lock(txn, id).await?;
    let detail = paper_detail(txn, viewer, id).await?;
    let paper = repo::papers::get_live(txn, id).await?;
    let organizations = access::paper_organizations(txn, &paper).await?;
    access::require(
        &viewer.actor,
        Action::Update,
        &Resource::Paper {
            public: paper.public,
            organizations: organizations.clone(),
        },
    )?;
    Ok((paper, organizations, etag_of(&detail)?))
}

/// Whether the viewer may also write the paper as it will be: with `organizations` added (a new
/// originator or consultation) and visibility `public`.
fn may_write_as(
    viewer: &Viewer,
    mut organizations: Vec<OrganizationRef>,
    added: Option<OrganizationRef>,
    public: bool,
) -> Result<()> {
    organizations.extend(added);
    require_write(
        viewer,
        Action::Update,
        &Resource::Paper {
            public,
            organizations,
        },
    )
}

/// The paper's detail after a committed write, with its new ETag.
async fn respond(
    state: &AppState,
    viewer: &Viewer,
    id: PaperId,
    status: StatusCode,
) -> Result<Response> {
    let detail = paper_detail(&state.db, viewer, id).await?;
    let mut response = with_etag(&HeaderMap::new(), &detail)?;
    *response.status_mut() = status;
    Ok(response)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaperUpdate {
    /// Unique within the body; a taken one is 409 `duplicate-reference`.
    pub reference: Option<String>,
    pub paper_type: Option<String>,
    pub title: Option<String>,
    pub date: Option<NaiveDate>,
    /// `null` removes the originator.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub originator_id: Option<Option<Uuid>>,
    /// Markdown.
    pub text: Option<String>,
    pub public: Option<bool>,
    /// The main document (Hauptdokument): one of the paper's own live files (else 422);
    /// `null` makes every file an attachment again.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub main_file_id: Option<Option<Uuid>>,
    /// Replaces the persons who submitted it (distinct persons of the paper's body, at most
    /// 50, in order); `[]` removes them.
    pub originator_person_ids: Option<Vec<Uuid>>,
    /// The organization in charge (federführend), an organization of the paper's body; `null`
    /// removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub under_direction_of_id: Option<Option<Uuid>>,
    /// Replaces the papers linked to this one (OParl `relatedPaper`): distinct other papers of
    /// the body that the writer may change too, at most 50. A link holds both ways: the other
    /// paper lists this one as well. `[]` removes every link.
    pub related_paper_ids: Option<Vec<Uuid>>,
}

/// Checks the papers to link: distinct, at most 50, not the paper itself, live papers of the
/// body the viewer may change (anything else is 422 alike, so nothing is revealed).
async fn related_papers(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    paper: &Paper,
    ids: &[Uuid],
) -> Result<Vec<PaperId>> {
    const FIELD: &str = "related_paper_ids";
    if ids.len() > 50 {
        return Err(invalid(FIELD, "at most 50 papers"));
    }
    let mut papers = Vec::with_capacity(ids.len());
    for id in ids {
        let id = PaperId::from_uuid(*id);
        if id == paper.id {
            return Err(invalid(FIELD, "a paper cannot be related to itself"));
        }
        if papers.contains(&id) {
            return Err(invalid(FIELD, "a paper is named twice"));
        }
        let other = match repo::papers::get_live(db, id).await {
            Ok(other) if other.body_id == paper.body_id => other,
            Ok(_) | Err(StoreError::NotFound { .. }) => {
                return Err(invalid(FIELD, "not a paper of this body you may change"));
            }
            Err(err) => return Err(err.into()),
        };
        let organizations = access::paper_organizations(db, &other).await?;
        let resource = Resource::Paper {
            public: other.public,
            organizations,
        };
        if access::require(&viewer.actor, Action::Update, &resource).is_err() {
            return Err(invalid(FIELD, "not a paper of this body you may change"));
        }
        papers.push(id);
    }
    Ok(papers)
}

/// Checks the originator persons: distinct, at most 50, live persons of the body.
async fn originator_persons(
    db: &impl ConnectionTrait,
    body: BodyId,
    ids: &[Uuid],
) -> Result<Vec<PersonId>> {
    const FIELD: &str = "originator_person_ids";
    if ids.len() > 50 {
        return Err(invalid(FIELD, "at most 50 persons"));
    }
    let mut persons = Vec::with_capacity(ids.len());
    for id in ids {
        let id = PersonId::from_uuid(*id);
        if persons.contains(&id) {
            return Err(invalid(FIELD, "a person is named twice"));
        }
        match repo::persons::get_live(db, id).await {
            Ok(person) if person.body_id == body => persons.push(id),
            Ok(_) | Err(StoreError::NotFound { .. }) => {
                return Err(invalid(FIELD, "not a person of the paper's body"));
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(persons)
}

/// Changes a paper; fields left out stay as they are. Needs the paper's ETag.
#[utoipa::path(patch, path = "/api/v1/papers/{id}", tag = "documents",
    security(("bearer" = [])), request_body = PaperUpdate,
    params(("id" = Uuid, Path, description = "Paper id"),
        ("If-Match" = String, Header, description = "The paper's ETag")),
    responses((status = 200, body = super::documents::PaperDetail, headers(("ETag" = String))),
        (status = 400, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 409, body = crate::Problem),
        (status = 412, body = crate::Problem), (status = 422, body = crate::Problem),
        (status = 428, body = crate::Problem)))]
pub async fn update_paper(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    AppJson(request): AppJson<PaperUpdate>,
) -> Result<Response> {
    let Path(id) = id?;
    let viewer = Viewer::member(&state, &auth.user).await?;
    let txn = begin(&state).await?;
    let (mut paper, organizations, etag) =
        locked_paper(&txn, &viewer, PaperId::from_uuid(id)).await?;
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    if let Some(reference) = &request.reference {
        paper.reference = named("reference", PaperReference::parse(reference))?;
    }
    if let Some(paper_type) = &request.paper_type {
        paper.paper_type = named("paper_type", PaperType::parse(paper_type))?;
    }
    if let Some(title) = &request.title {
        paper.title = named("title", Title::parse(title))?;
    }
    if let Some(date) = request.date {
        paper.date = date;
    }
    if let Some(text) = &request.text {
        paper.text = named("text", Markdown::parse(text))?;
    }
    if let Some(public) = request.public {
        paper.public = public;
    }
    let mut added = None;
    if let Some(originator) = request.originator_id {
        paper.originator_id = match originator {
            Some(o) => {
                let dir = Directory::load(&txn).await?;
                let (o, _) = organization_of_body(&dir, "originator_id", o, Some(paper.body_id))?;
                added = Some(o);
                Some(o.id)
            }
            None => None,
        };
    }
    if let Some(main) = request.main_file_id {
        paper.main_file_id = match main {
            Some(file) => {
                let file = FileId::from_uuid(file);
                let own = match repo::files::get_live(&txn, file).await {
                    Ok(found) => found.paper_id == Some(paper.id),
                    Err(StoreError::NotFound { .. }) => false,
                    Err(err) => return Err(err.into()),
                };
                if !own {
                    return Err(invalid("main_file_id", "must be one of this paper's files"));
                }
                Some(file)
            }
            None => None,
        };
    }
    let persons = match &request.originator_person_ids {
        Some(ids) => Some(originator_persons(&txn, paper.body_id, ids).await?),
        None => None,
    };
    if let Some(in_charge) = request.under_direction_of_id {
        paper.under_direction_of_id = match in_charge {
            Some(o) => {
                let dir = Directory::load(&txn).await?;
                let (o, _) =
                    organization_of_body(&dir, "under_direction_of_id", o, Some(paper.body_id))?;
                Some(o.id)
            }
            None => None,
        };
    }
    let related = match &request.related_paper_ids {
        Some(ids) => Some(related_papers(&txn, &viewer, &paper, ids).await?),
        None => None,
    };
    may_write_as(&viewer, organizations, added, paper.public)?;
    if let Some(persons) = &persons {
        plenum_store::originators::set(&txn, paper.id, persons).await?;
    }
    if let Some(related) = &related {
        plenum_store::related::set(&txn, paper.id, related).await?;
    }
    if request.reference.is_some() {
        check_reference(&txn, paper.body_id, &paper.reference, Some(paper.id)).await?;
    }
    let reference = paper.reference.clone();
    repo::papers::update(&txn, paper)
        .await
        .map_err(on_conflict(&reference))?;
    let changed = fields(&[
        ("reference", request.reference.is_some()),
        ("paper_type", request.paper_type.is_some()),
        ("title", request.title.is_some()),
        ("date", request.date.is_some()),
        ("originator_id", request.originator_id.is_some()),
        ("text", request.text.is_some()),
        ("public", request.public.is_some()),
        ("main_file_id", request.main_file_id.is_some()),
        (
            "originator_person_ids",
            request.originator_person_ids.is_some(),
        ),
        (
            "under_direction_of_id",
            request.under_direction_of_id.is_some(),
        ),
        ("related_paper_ids", request.related_paper_ids.is_some()),
    ]);
    audit(&txn, &state, &auth, "paper.updated", ("paper", id), changed).await?;
    commit(&state, txn).await?;
    respond(&state, &viewer, PaperId::from_uuid(id), StatusCode::OK).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultationCreate {
    /// The organization that handles the paper in this step.
    pub organization_id: Uuid,
    /// `advise` (Vorberatung) or `decide` (Entscheidung).
    pub role: String,
    /// A meeting of that organization.
    pub meeting_id: Option<Uuid>,
    /// An agenda item of that meeting (needs `meeting_id`).
    pub agenda_item_id: Option<Uuid>,
}

/// Appends a step to the paper's Beratungsfolge. Needs the paper's ETag; answers with the paper.
#[utoipa::path(post, path = "/api/v1/papers/{id}/consultations", tag = "documents",
    security(("bearer" = [])), request_body = ConsultationCreate,
    params(("id" = Uuid, Path, description = "Paper id"),
        ("If-Match" = String, Header, description = "The paper's ETag")),
    responses((status = 201, body = super::documents::PaperDetail, headers(("ETag" = String))),
        (status = 400, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 412, body = crate::Problem),
        (status = 422, body = crate::Problem), (status = 428, body = crate::Problem)))]
pub async fn create_consultation(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    AppJson(request): AppJson<ConsultationCreate>,
) -> Result<Response> {
    let Path(id) = id?;
    let viewer = Viewer::member(&state, &auth.user).await?;
    let txn = begin(&state).await?;
    let (paper, organizations, etag) = locked_paper(&txn, &viewer, PaperId::from_uuid(id)).await?;
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    let dir = Directory::load(&txn).await?;
    let (organization, _) = organization_of_body(
        &dir,
        "organization_id",
        request.organization_id,
        Some(paper.body_id),
    )?;
    let role = named("role", ConsultationRole::parse(&request.role))?;
    let meeting_id = match request.meeting_id {
        Some(m) => {
            let meeting = repo::meetings::get_live(&txn, MeetingId::from_uuid(m))
                .await
                .map_err(|_| invalid("meeting_id", "unknown meeting"))?;
            if meeting.organization_id != organization.id {
                return Err(invalid(
                    "meeting_id",
                    "is a meeting of another organization",
                ));
            }
            Some(meeting.id)
        }
        None => None,
    };
    let agenda_item_id = match (request.agenda_item_id, meeting_id) {
        (None, _) => None,
        (Some(_), None) => return Err(invalid("agenda_item_id", "needs meeting_id")),
        (Some(i), Some(meeting)) => {
            let item =
                repo::agenda_items::get_live(&txn, plenum_domain::AgendaItemId::from_uuid(i))
                    .await
                    .map_err(|_| invalid("agenda_item_id", "unknown agenda item"))?;
            if item.meeting_id != meeting {
                return Err(invalid("agenda_item_id", "is not on that meeting's agenda"));
            }
            Some(item.id)
        }
    };
    may_write_as(&viewer, organizations, Some(organization), paper.public)?;
    let steps = repo::consultations::list_by_paper(&txn, paper.id, false).await?;
    let position = steps.iter().map(|c| c.position).max().unwrap_or(0) + 1;
    let consultation = Consultation {
        id: ConsultationId::new(),
        meta: Meta::new(state.now()),
        paper_id: paper.id,
        organization_id: organization.id,
        meeting_id,
        agenda_item_id,
        role,
        position,
    };
    repo::consultations::insert(&txn, consultation.clone()).await?;
    audit(
        &txn,
        &state,
        &auth,
        "consultation.created",
        ("consultation", consultation.id.as_uuid()),
        json!({"paper": paper.id.as_uuid(), "organization": organization.id.as_uuid()}),
    )
    .await?;
    commit(&state, txn).await?;
    respond(&state, &viewer, paper.id, StatusCode::CREATED).await
}

/// Numbers the paper's Beratungsfolge 1, 2, … in its current order.
async fn renumber(db: &impl ConnectionTrait, paper: PaperId) -> Result<()> {
    for (index, mut step) in repo::consultations::list_by_paper(db, paper, false)
        .await?
        .into_iter()
        .enumerate()
    {
        let position = u32::try_from(index + 1).map_err(|_| invalid("ids", "too many steps"))?;
        if step.position != position {
            step.position = position;
            repo::consultations::update(db, step).await?;
        }
    }
    Ok(())
}

/// Removes a step of a paper's Beratungsfolge; the rest are renumbered. Needs the paper's ETag;
/// answers with the paper.
#[utoipa::path(delete, path = "/api/v1/consultations/{id}", tag = "documents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Consultation id"),
        ("If-Match" = String, Header, description = "The paper's ETag")),
    responses((status = 200, body = super::documents::PaperDetail, headers(("ETag" = String))),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 412, body = crate::Problem), (status = 428, body = crate::Problem)))]
pub async fn delete_consultation(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, PathRejection>,
) -> Result<Response> {
    let Path(id) = id?;
    let viewer = Viewer::member(&state, &auth.user).await?;
    let id = ConsultationId::from_uuid(id);
    // A step never moves to another paper: read which one outside the transaction.
    let paper = repo::consultations::get_live(&state.db, id).await?.paper_id;
    let txn = begin(&state).await?;
    let (paper, _, etag) = locked_paper(&txn, &viewer, paper).await?;
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    repo::consultations::delete(&txn, id).await?;
    renumber(&txn, paper.id).await?;
    audit(
        &txn,
        &state,
        &auth,
        "consultation.deleted",
        ("consultation", id.as_uuid()),
        json!({"paper": paper.id.as_uuid()}),
    )
    .await?;
    commit(&state, txn).await?;
    respond(&state, &viewer, paper.id, StatusCode::OK).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultationOrder {
    /// Every live consultation of the paper, each once, in the new order.
    pub ids: Vec<Uuid>,
}

/// Reorders the paper's Beratungsfolge. Needs the paper's ETag; `ids` must list every
/// consultation of the paper exactly once (else 422).
#[utoipa::path(put, path = "/api/v1/papers/{id}/consultations/order", tag = "documents",
    security(("bearer" = [])), request_body = ConsultationOrder,
    params(("id" = Uuid, Path, description = "Paper id"),
        ("If-Match" = String, Header, description = "The paper's ETag")),
    responses((status = 200, body = super::documents::PaperDetail, headers(("ETag" = String))),
        (status = 400, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 412, body = crate::Problem),
        (status = 422, body = crate::Problem), (status = 428, body = crate::Problem)))]
pub async fn order_consultations(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, PathRejection>,
    AppJson(request): AppJson<ConsultationOrder>,
) -> Result<Response> {
    let Path(id) = id?;
    let viewer = Viewer::member(&state, &auth.user).await?;
    let txn = begin(&state).await?;
    let (paper, _, etag) = locked_paper(&txn, &viewer, PaperId::from_uuid(id)).await?;
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    let steps = repo::consultations::list_by_paper(&txn, paper.id, false).await?;
    let positions = new_positions(
        &request.ids,
        steps.iter().map(|c| c.id.as_uuid()),
        "must list every consultation of the paper exactly once",
    )?;
    for mut step in steps {
        let position = positions[&step.id.as_uuid()];
        if step.position != position {
            step.position = position;
            repo::consultations::update(&txn, step).await?;
        }
    }
    audit(
        &txn,
        &state,
        &auth,
        "consultations.reordered",
        ("paper", paper.id.as_uuid()),
        json!({}),
    )
    .await?;
    commit(&state, txn).await?;
    respond(&state, &viewer, paper.id, StatusCode::OK).await
}
