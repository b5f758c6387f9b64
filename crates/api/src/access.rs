//! Loads what the domain policy needs: the actor (a user with their memberships active today) and
//! the facts about a resource (what a file is attached to, and that object's visibility).

use plenum_domain::{
    AccessDecision, Action, Actor, ActorMembership, OrganizationRef, Resource, authorize,
};
use plenum_domain::{AgendaItemId, File, MeetingId, OrganizationId, PaperId, User};
use plenum_store::{ConnectionTrait, repo};

use crate::{ApiError, AppState, Result};

/// The policy's actor for a signed-in user (past the second factor), with their current
/// memberships.
pub async fn actor(state: &AppState, user: &User) -> Result<Actor> {
    let mut actor = Actor::signed_in(user.id, user.site_role).with_second_factor(true);
    if let Some(person) = user.person_id {
        let today = state.now().date_naive();
        let active: Vec<_> = repo::memberships::list_by_person(&state.db, person, false)
            .await?
            .into_iter()
            .filter(|m| m.is_active_on(today))
            .collect();
        // One query for all the organizations' kinds, not one per membership.
        let ids: Vec<OrganizationId> = active.iter().map(|m| m.organization_id).collect();
        let kinds: std::collections::HashMap<OrganizationId, _> =
            repo::organizations::list_by_ids(&state.db, &ids)
                .await?
                .into_iter()
                .map(|o| (o.id, o.kind))
                .collect();
        let mut memberships = Vec::with_capacity(active.len());
        for m in &active {
            let kind = kinds.get(&m.organization_id).copied().ok_or_else(|| {
                ApiError::Store(plenum_store::StoreError::Corrupt(format!(
                    "membership {} names a missing organization",
                    m.id
                )))
            })?;
            memberships.push(ActorMembership::from_membership(m, kind));
        }
        actor = actor.with_person(person).with_memberships(memberships);
    }
    Ok(actor)
}

/// `Ok` if allowed; 404 if the actor may not even see the resource, else 403.
pub fn require(actor: &Actor, action: Action, resource: &Resource) -> Result<()> {
    match authorize(actor, action, resource) {
        AccessDecision::Allow => Ok(()),
        AccessDecision::Forbidden => Err(ApiError::Forbidden),
        AccessDecision::NotFound => Err(ApiError::NotFound),
    }
}

async fn organization(db: &impl ConnectionTrait, id: OrganizationId) -> Result<OrganizationRef> {
    let organization = repo::organizations::get(db, id).await?;
    Ok(OrganizationRef::new(organization.id, organization.kind))
}

/// A paper's organizations as the policy sees them: the originator and every organization of its
/// Beratungsfolge.
pub async fn paper_organizations(
    db: &impl ConnectionTrait,
    paper: &plenum_domain::Paper,
) -> Result<Vec<OrganizationRef>> {
    let mut organizations = Vec::new();
    if let Some(originator) = paper.originator_id {
        organizations.push(organization(db, originator).await?);
    }
    for consultation in repo::consultations::list_by_paper(db, paper.id, false).await? {
        organizations.push(organization(db, consultation.organization_id).await?);
    }
    Ok(organizations)
}

/// The policy's view of a meeting's organization.
pub async fn meeting_organization(
    db: &impl ConnectionTrait,
    meeting: &plenum_domain::Meeting,
) -> Result<OrganizationRef> {
    organization(db, meeting.organization_id).await
}

/// What a file is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    Paper(PaperId),
    Meeting(MeetingId),
    AgendaItem(AgendaItemId),
}

impl Attachment {
    pub fn of(file: &File) -> Option<Self> {
        file.paper_id
            .map(Attachment::Paper)
            .or(file.meeting_id.map(Attachment::Meeting))
            .or(file.agenda_item_id.map(Attachment::AgendaItem))
    }
}

/// The policy's view of a file attached to `attachment` (or to nothing: visible to nobody but
/// the administration of the body), and the body it belongs to.
pub async fn file_resource(
    db: &impl ConnectionTrait,
    attachment: Option<Attachment>,
) -> Result<(Resource, Option<plenum_domain::BodyId>)> {
    Ok(match attachment {
        None => (
            Resource::File {
                public: false,
                organizations: Vec::new(),
            },
            None,
        ),
        Some(Attachment::Paper(id)) => {
            let paper = repo::papers::get_live(db, id).await?;
            (
                Resource::File {
                    public: paper.public,
                    organizations: paper_organizations(db, &paper).await?,
                },
                Some(paper.body_id),
            )
        }
        Some(Attachment::Meeting(id)) => {
            let meeting = repo::meetings::get_live(db, id).await?;
            let org = repo::organizations::get(db, meeting.organization_id).await?;
            (
                // Meetings are announced publicly, and so are the files attached to them (as
                // in OParl).
                Resource::File {
                    public: true,
                    organizations: vec![OrganizationRef::new(org.id, org.kind)],
                },
                Some(org.body_id),
            )
        }
        Some(Attachment::AgendaItem(id)) => {
            let item = repo::agenda_items::get_live(db, id).await?;
            let meeting = repo::meetings::get_live(db, item.meeting_id).await?;
            let org = repo::organizations::get(db, meeting.organization_id).await?;
            (
                Resource::File {
                    public: item.public,
                    organizations: vec![OrganizationRef::new(org.id, org.kind)],
                },
                Some(org.body_id),
            )
        }
    })
}
