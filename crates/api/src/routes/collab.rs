//! What notes and forums share: who the caller is in policy terms (with the organizations they
//! belong to today), text limits, the posting rate limit, whether a linked document is visible,
//! and problem documents for version preconditions.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use plenum_domain::{Action, Actor, OrganizationRef, Resource};
use plenum_domain::{
    AgendaItemId, DomainError, FileId, MeetingId, OrganizationId, PaperId, PersonId, User, UserId,
};
use plenum_store::{Backend, DatabaseConnection, StoreError, repo};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::ratelimit::KeyedLimit;
use crate::{ApiError, AppState, Problem};

/// Longest note or post text, in characters.
pub const MAX_TEXT: usize = 20_000;
/// Longest thread title or quoted passage, in characters.
pub const MAX_TITLE: usize = 200;
pub const MAX_QUOTE: usize = 2_000;
/// Largest request body on these endpoints (bigger bodies get 413).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Errors of the collaboration endpoints: API errors, or a ready problem document.
#[derive(Debug)]
pub enum CollabError {
    Api(ApiError),
    Problem(Problem),
}

impl<E: Into<ApiError>> From<E> for CollabError {
    fn from(err: E) -> Self {
        CollabError::Api(err.into())
    }
}

impl IntoResponse for CollabError {
    fn into_response(self) -> Response {
        match self {
            CollabError::Api(err) => err.into_response(),
            CollabError::Problem(problem) => problem.into_response(),
        }
    }
}

pub type CollabResult<T> = std::result::Result<T, CollabError>;

/// 404 for anything the caller may not know exists.
pub fn not_found() -> CollabError {
    CollabError::Api(ApiError::NotFound)
}

/// 404 unless allowed; 403 when the caller may see the thing but not do this.
pub fn require(actor: &Actor, action: Action, resource: &Resource) -> CollabResult<()> {
    Ok(crate::access::require(actor, action, resource)?)
}

/// 422 with a detail naming the field.
pub fn invalid(field: &'static str, detail: &str) -> CollabError {
    CollabError::Api(ApiError::Domain(DomainError::InvalidValue {
        field,
        reason: detail.to_owned(),
    }))
}

/// Checks a required text: not blank, at most `max` characters (413 above it).
pub fn check_text(field: &'static str, text: &str, max: usize) -> CollabResult<()> {
    if text.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(CollabError::Problem(
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "text-too-long",
                "Text too long",
            )
            .with_detail(format!(
                "{field} has {chars} characters; at most {max} are allowed"
            )),
        ));
    }
    Ok(())
}

/// The version a client last saw, from `If-Match` (`"3"` or `3`). Required for writes.
pub fn if_match(headers: &HeaderMap) -> CollabResult<u32> {
    let value = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            CollabError::Problem(
                Problem::new(
                    StatusCode::PRECONDITION_REQUIRED,
                    "if-match-required",
                    "If-Match required",
                )
                .with_detail("Send the ETag you last saw in If-Match, so no edit is lost."),
            )
        })?;
    value
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map_err(|_| invalid("If-Match", "not a version ETag"))
}

/// 412: someone changed it since the client last saw it.
pub fn changed_meanwhile() -> CollabError {
    CollabError::Problem(
        Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "version-mismatch",
            "Changed meanwhile",
        )
        .with_detail("It was edited since you loaded it; reload and edit again."),
    )
}

/// An `ETag` header value for a version.
pub fn etag(version: u32) -> [(header::HeaderName, HeaderValue); 1] {
    let value = HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
    [(header::ETAG, value)]
}

/// Posting limits per account: a burst, then one more per period. In memory on SQLite; on
/// PostgreSQL counted in the database for every node (see [`crate::auth::ratelimit`]).
#[derive(Clone)]
pub struct PostLimiter {
    accounts: KeyedLimit<UserId>,
}

impl PostLimiter {
    pub fn new(burst: u32, period: Duration) -> Self {
        Self {
            accounts: KeyedLimit::new("post", burst, period),
        }
    }

    /// Counts in `db` on PostgreSQL, so that every node shares the budget; unchanged on SQLite.
    #[must_use]
    pub fn shared(self, db: &DatabaseConnection, backend: Backend) -> Self {
        Self {
            accounts: self.accounts.shared(db, backend),
        }
    }

    /// Counts one note or post; 429 with Retry-After when the account posts too fast.
    pub async fn check(&self, user: UserId) -> CollabResult<()> {
        self.accounts.check(&user).await.map_err(|wait| {
            CollabError::Problem(
                Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "posting-too-fast",
                    "Posting too fast",
                )
                .with_detail("You are posting very quickly. Please wait a moment.")
                .with_retry_after(wait.as_secs().max(1)),
            )
        })
    }
}

impl Default for PostLimiter {
    /// 30 notes or posts at once, then one every two seconds.
    fn default() -> Self {
        Self::new(30, Duration::from_secs(2))
    }
}

/// A signed-in caller as the policy sees them.
pub struct Member {
    pub user: User,
    pub actor: Actor,
    pub person: Option<PersonId>,
    /// Organizations the person belongs to today.
    pub organizations: Vec<OrganizationId>,
}

impl Member {
    /// The caller's person; users without one (admins, clerks) have no notes or forums.
    pub fn person(&self) -> CollabResult<PersonId> {
        self.person.ok_or(CollabError::Api(ApiError::Forbidden))
    }
}

/// The caller's memberships active today (ended memberships grant nothing).
pub async fn member(state: &AppState, user: &User) -> CollabResult<Member> {
    let actor = crate::access::actor(state, user).await?;
    let mut organizations: Vec<OrganizationId> = Vec::new();
    for m in actor.memberships() {
        if !organizations.contains(&m.organization) {
            organizations.push(m.organization);
        }
    }
    Ok(Member {
        user: user.clone(),
        actor,
        person: user.person_id,
        organizations,
    })
}

/// Persons who belong to `organization` today.
pub async fn current_members(
    state: &AppState,
    organization: OrganizationId,
) -> Result<Vec<PersonId>, StoreError> {
    let today = state.now().date_naive();
    let mut persons: Vec<PersonId> =
        repo::memberships::list_by_organization(&state.db, organization, false)
            .await?
            .into_iter()
            .filter(|m| m.is_active_on(today))
            .map(|m| m.person_id)
            .collect();
    persons.sort();
    persons.dedup();
    Ok(persons)
}

async fn organization_ref(
    state: &AppState,
    id: OrganizationId,
) -> Result<OrganizationRef, StoreError> {
    let organization = repo::organizations::get(&state.db, id).await?;
    Ok(OrganizationRef::new(organization.id, organization.kind))
}

/// The policy resource of a paper: its originator and every organization consulting it.
pub async fn paper_resource(state: &AppState, id: PaperId) -> CollabResult<Resource> {
    let paper = repo::papers::get_live(&state.db, id)
        .await
        .map_err(|_| not_found())?;
    let mut ids: Vec<OrganizationId> = paper.originator_id.into_iter().collect();
    for consultation in repo::consultations::list_by_paper(&state.db, id, false).await? {
        ids.push(consultation.organization_id);
    }
    ids.sort();
    ids.dedup();
    let mut organizations = Vec::new();
    for id in ids {
        organizations.push(organization_ref(state, id).await?);
    }
    Ok(Resource::Paper {
        public: paper.public,
        organizations,
    })
}

/// The policy resource of a meeting.
pub async fn meeting_resource(state: &AppState, id: MeetingId) -> CollabResult<Resource> {
    let meeting = repo::meetings::get_live(&state.db, id)
        .await
        .map_err(|_| not_found())?;
    let organization = organization_ref(state, meeting.organization_id).await?;
    // Council and committee meetings are announced publicly; a fraction's are its own business.
    let public = !matches!(
        organization.kind,
        plenum_domain::OrganizationKind::Fraction | plenum_domain::OrganizationKind::Group
    );
    Ok(Resource::Meeting {
        organization,
        public,
    })
}

/// The policy resource of an agenda item (its meeting's organization, its Ö/N flag).
pub async fn agenda_item_resource(state: &AppState, id: AgendaItemId) -> CollabResult<Resource> {
    let item = repo::agenda_items::get_live(&state.db, id)
        .await
        .map_err(|_| not_found())?;
    let meeting = repo::meetings::get_live(&state.db, item.meeting_id)
        .await
        .map_err(|_| not_found())?;
    Ok(Resource::AgendaItem {
        organization: organization_ref(state, meeting.organization_id).await?,
        public: item.public,
    })
}

/// The policy resource of a file: as public and as owned as what it is attached to.
pub async fn file_resource(state: &AppState, id: FileId) -> CollabResult<Resource> {
    let file = repo::files::get_live(&state.db, id)
        .await
        .map_err(|_| not_found())?;
    let parent = if let Some(paper) = file.paper_id {
        paper_resource(state, paper).await?
    } else if let Some(item) = file.agenda_item_id {
        agenda_item_resource(state, item).await?
    } else if let Some(meeting) = file.meeting_id {
        meeting_resource(state, meeting).await?
    } else {
        return Err(not_found());
    };
    Ok(match parent {
        Resource::Paper {
            public,
            organizations,
        } => Resource::File {
            public,
            organizations,
        },
        Resource::AgendaItem {
            organization,
            public,
        }
        | Resource::Meeting {
            organization,
            public,
        } => Resource::File {
            public,
            organizations: vec![organization],
        },
        _ => return Err(not_found()),
    })
}

/// A person as shown next to a note or post.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonRef {
    pub id: Uuid,
    pub name: String,
}

/// An organization as shown on a shared note or a forum.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationInfo {
    pub id: Uuid,
    pub name: String,
    pub short_name: Option<String>,
    /// `council`, `committee`, `fraction`, `group`, …
    pub kind: String,
}

/// Names looked up once per request.
#[derive(Default)]
pub struct Names {
    persons: HashMap<PersonId, PersonRef>,
    organizations: HashMap<OrganizationId, OrganizationInfo>,
    /// A file's current content hash (SHA-256, hex); `None` if it is gone.
    files: HashMap<FileId, Option<String>>,
}

impl Names {
    /// The current SHA-256 (hex) of a live file's content.
    pub async fn file_sha256(&mut self, state: &AppState, id: FileId) -> Option<String> {
        if let Some(found) = self.files.get(&id) {
            return found.clone();
        }
        let found = repo::files::get_live(&state.db, id)
            .await
            .ok()
            .map(|f| f.sha256.to_hex());
        self.files.insert(id, found.clone());
        found
    }

    pub async fn person(&mut self, state: &AppState, id: PersonId) -> PersonRef {
        if let Some(found) = self.persons.get(&id) {
            return found.clone();
        }
        let name = repo::persons::get(&state.db, id)
            .await
            .map(|p| p.full_name())
            .unwrap_or_default();
        let found = PersonRef {
            id: id.as_uuid(),
            name,
        };
        self.persons.insert(id, found.clone());
        found
    }

    pub async fn organization(&mut self, state: &AppState, id: OrganizationId) -> OrganizationInfo {
        if let Some(found) = self.organizations.get(&id) {
            return found.clone();
        }
        let found = match repo::organizations::get(&state.db, id).await {
            Ok(o) => OrganizationInfo {
                id: id.as_uuid(),
                name: o.name.to_string(),
                short_name: o.short_name.map(|s| s.to_string()),
                kind: o.kind.as_str().to_string(),
            },
            Err(_) => OrganizationInfo {
                id: id.as_uuid(),
                name: String::new(),
                short_name: None,
                kind: String::new(),
            },
        };
        self.organizations.insert(id, found.clone());
        found
    }
}
