//! The register of persons as the clerk keeps it: who is published in the public interfaces
//! (OParl, the portal). Publication is an explicit choice per person: council members hold a
//! public office and are published; staff of the administration are not, unless chosen. An
//! unpublished person and their memberships disappear from OParl; one that was published before
//! is served as a tombstone, so importers delete it. Clerks and admins; every change audited.

use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, patch, put};
use axum::{Json, Router};
use plenum_domain::{
    AccessDecision, Action, Actor, DomainError, Gender, Name, Person, PersonId, Resource, authorize,
};
use plenum_store::repo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::clerk::{audit, begin, commit, fields, invalid, present};
use crate::auth::AuthUser;
use crate::json::{AppJson, AppPath};
use crate::{ApiError, AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/persons", get(list_persons))
        .route("/persons/{id}", patch(update_person))
        .route("/persons/{id}/publication", put(set_publication))
        .route("/persons/{id}/email", put(set_person_email))
        .route("/me/email", put(set_my_email))
}

/// May the signed-in user keep the register (clerks and admins)?
fn require_keeper(auth: &AuthUser) -> Result<()> {
    let actor = Actor::signed_in(auth.user.id, auth.user.site_role).with_second_factor(true);
    match authorize(&actor, Action::Update, &Resource::Directory) {
        AccessDecision::Allow => Ok(()),
        AccessDecision::Forbidden => Err(ApiError::Forbidden),
        AccessDecision::NotFound => Err(ApiError::NotFound),
    }
}

/// A person of the register.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonEntry {
    pub id: Uuid,
    /// As printed: `Dr. Anna Schmidt`.
    pub name: String,
    /// Shown in OParl and the portal.
    pub published: bool,
    /// Roles held, as OParl's `Person.status` lists them (e.g. `Bürgermeisterin`).
    pub status: Vec<String>,
    /// Name affix such as `von` (OParl `Person.affix`).
    pub affix: Option<String>,
    /// `female`, `male` or `other`, where recorded.
    pub gender: Option<String>,
}

impl From<&plenum_domain::Person> for PersonEntry {
    fn from(person: &plenum_domain::Person) -> Self {
        Self {
            id: person.id.as_uuid(),
            name: person.full_name(),
            published: person.published,
            status: person
                .status
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            affix: person.affix.as_ref().map(|a| a.as_str().to_owned()),
            gender: person.gender.map(|g| g.as_str().to_owned()),
        }
    }
}

/// Every live person with the publication choice, by family and given name. Clerks and admins (403 for
/// members).
#[utoipa::path(get, path = "/api/v1/persons", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<PersonEntry>), (status = 401, body = crate::Problem),
        (status = 403, body = crate::Problem)))]
pub async fn list_persons(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<PersonEntry>>> {
    require_keeper(&auth)?;
    let persons = repo::persons::list(&state.db, false).await?;
    Ok(Json(persons.iter().map(PersonEntry::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicationRequest {
    /// `true`: shown in OParl and the portal; `false`: not (a person published before becomes a
    /// tombstone there).
    pub published: bool,
}

/// Publishes a person, or withdraws them from the public interfaces. Setting the current value
/// again changes nothing (and writes no audit entry). Clerks and admins.
#[utoipa::path(put, path = "/api/v1/persons/{id}/publication", tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = PublicationRequest,
    responses((status = 200, body = PersonEntry), (status = 401, body = crate::Problem),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 422, body = crate::Problem)))]
pub async fn set_publication(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<PublicationRequest>,
) -> Result<Response> {
    require_keeper(&auth)?;
    let id = PersonId::from_uuid(id);
    let txn = begin(&state).await?;
    repo::persons::lock(&txn, id).await?;
    let mut person = repo::persons::get_live(&txn, id).await?;
    if person.published != request.published {
        person.published = request.published;
        person = repo::persons::update(&txn, person).await?;
        audit(
            &txn,
            &state,
            &auth,
            if request.published {
                "person.published"
            } else {
                "person.unpublished"
            },
            ("person", id.as_uuid()),
            serde_json::json!({"published": request.published}),
        )
        .await?;
    }
    commit(&state, txn).await?;
    Ok(axum::response::IntoResponse::into_response(Json(
        PersonEntry::from(&person),
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    /// Where notifications by e-mail go; `null` removes the address. Never published.
    #[schema(
        max_length = 254,
        pattern = "^$|^[^@\\s\\x00-\\x1f\\x7f-\\x9f]+@[^@\\s\\x00-\\x1f\\x7f-\\x9f.][^@\\s\\x00-\\x1f\\x7f-\\x9f]*\\.[^@\\s\\x00-\\x1f\\x7f-\\x9f]*[^@\\s\\x00-\\x1f\\x7f-\\x9f.]$"
    )]
    pub email: Option<String>,
}

/// A person's e-mail address.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailEntry {
    pub id: Uuid,
    pub email: Option<String>,
}

/// Sets (or removes) the person's address, audited without the address itself.
async fn set_email(
    state: &AppState,
    auth: &AuthUser,
    id: PersonId,
    raw: Option<&str>,
) -> Result<Json<EmailEntry>> {
    let email = raw
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(plenum_domain::Email::parse)
        .transpose()?;
    let txn = begin(state).await?;
    repo::persons::lock(&txn, id).await?;
    let mut person = repo::persons::get_live(&txn, id).await?;
    if person.email != email {
        person.email = email;
        person = repo::persons::update(&txn, person).await?;
        audit(
            &txn,
            state,
            auth,
            "person.email_changed",
            ("person", id.as_uuid()),
            serde_json::json!({"fields": ["email"], "set": person.email.is_some()}),
        )
        .await?;
    }
    commit(state, txn).await?;
    Ok(Json(EmailEntry {
        id: id.as_uuid(),
        email: person.email.map(|e| e.as_str().to_owned()),
    }))
}

/// Sets or removes a person's e-mail address (for notifications). Clerks and admins.
#[utoipa::path(put, path = "/api/v1/persons/{id}/email", tag = "admin",
    security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = EmailRequest,
    responses((status = 200, body = EmailEntry), (status = 400, body = crate::Problem),
        (status = 401, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn set_person_email(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<EmailRequest>,
) -> Result<Json<EmailEntry>> {
    require_keeper(&auth)?;
    set_email(
        &state,
        &auth,
        PersonId::from_uuid(id),
        request.email.as_deref(),
    )
    .await
}

/// Sets or removes the signed-in member's own e-mail address (404 for accounts without a
/// person).
#[utoipa::path(put, path = "/api/v1/me/email", tag = "me", security(("bearer" = [])),
    request_body = EmailRequest,
    responses((status = 200, body = EmailEntry), (status = 400, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn set_my_email(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<EmailRequest>,
) -> Result<Json<EmailEntry>> {
    let person = auth.user.person_id.ok_or(ApiError::NotFound)?;
    set_email(&state, &auth, person, request.email.as_deref()).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonUpdate {
    /// Replaces the roles (OParl `Person.status`): at most 10 distinct lines of up to 200
    /// characters; `[]` removes them.
    pub status: Option<Vec<String>>,
    /// Name affix such as `von`; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub affix: Option<Option<String>>,
    /// `female`, `male` or `other`, as the person stated it; `null` removes it. Never guessed.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub gender: Option<Option<String>>,
}

/// A parse error reported under the field's wire name.
fn named<T>(field: &'static str, parsed: std::result::Result<T, DomainError>) -> Result<T> {
    parsed.map_err(|err| match err {
        DomainError::InvalidValue { reason, .. } => invalid(field, reason),
        other => ApiError::Domain(other),
    })
}

/// Changes what OParl publishes about a person besides the name: roles (`status`), name affix
/// and gender. Fields left out stay as they are; a request that changes nothing writes no audit
/// entry. Clerks and admins.
#[utoipa::path(patch, path = "/api/v1/persons/{id}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = PersonUpdate,
    responses((status = 200, body = PersonEntry), (status = 400, body = crate::Problem),
        (status = 401, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn update_person(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<PersonUpdate>,
) -> Result<Response> {
    require_keeper(&auth)?;
    let status = match &request.status {
        Some(raw) => Some(named("status", Person::parse_status(raw))?),
        None => None,
    };
    let affix = match &request.affix {
        Some(Some(raw)) => Some(Some(named("affix", Name::parse(raw))?)),
        Some(None) => Some(None),
        None => None,
    };
    let gender = match &request.gender {
        Some(Some(raw)) => Some(Some(named("gender", Gender::parse(raw))?)),
        Some(None) => Some(None),
        None => None,
    };
    let id = PersonId::from_uuid(id);
    let txn = begin(&state).await?;
    repo::persons::lock(&txn, id).await?;
    let mut person = repo::persons::get_live(&txn, id).await?;
    let status_changed = status.as_ref().is_some_and(|s| *s != person.status);
    let affix_changed = affix.as_ref().is_some_and(|a| *a != person.affix);
    let gender_changed = gender.as_ref().is_some_and(|g| *g != person.gender);
    if status_changed || affix_changed || gender_changed {
        if let Some(status) = status {
            person.status = status;
        }
        if let Some(affix) = affix {
            person.affix = affix;
        }
        if let Some(gender) = gender {
            person.gender = gender;
        }
        person = repo::persons::update(&txn, person).await?;
        // The field names only: the values are personal data.
        let changed = fields(&[
            ("status", status_changed),
            ("affix", affix_changed),
            ("gender", gender_changed),
        ]);
        audit(
            &txn,
            &state,
            &auth,
            "person.updated",
            ("person", id.as_uuid()),
            changed,
        )
        .await?;
    }
    commit(&state, txn).await?;
    Ok(axum::response::IntoResponse::into_response(Json(
        PersonEntry::from(&person),
    )))
}
