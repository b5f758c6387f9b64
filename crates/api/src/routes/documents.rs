//! Meetings, agendas and papers for members (bearer token) and for the public portal (no login).
//!
//! Both views are built by the same code with a policy [`Actor`]: the signed-in member's, or
//! `Actor::anonymous()` for `/api/v1/public/…`. What an actor may see is decided per object by
//! `policy::authorize`; nothing invisible is ever serialised (a non-public agenda item does not
//! even leave a gap).

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use plenum_domain::{
    AccessDecision, Action, Actor, AgendaItem, AgendaItemId, Consultation, File, LiveState,
    Location, LocationId, Meeting, MeetingId, MeetingState, Organization, OrganizationId,
    OrganizationRef, Paper, PaperId, PollState, Resource, SessionStatus, User, authorize,
};
use plenum_store::{ConnectionTrait, documents, repo};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{clerk, papers};
use crate::auth::AuthUser;
use crate::markdown;
use crate::{ApiError, AppState, Result};

/// Public papers per page.
pub const PAPERS_PER_PAGE: u64 = 50;
/// A meeting that started less than this long ago still counts as upcoming.
const UPCOMING_GRACE_HOURS: i64 = 12;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meetings", get(list_meetings).post(clerk::create_meeting))
        .route(
            "/meetings/{id}",
            get(get_meeting)
                .patch(clerk::update_meeting)
                .delete(clerk::cancel_meeting),
        )
        .route("/meetings/{id}/invite", post(clerk::invite))
        .route("/meetings/{id}/agenda", post(clerk::create_agenda_item))
        .route("/meetings/{id}/agenda/order", put(clerk::order_agenda))
        .route(
            "/agenda-items/{id}",
            get(get_agenda_item)
                .patch(clerk::update_agenda_item)
                .delete(clerk::delete_agenda_item),
        )
        .route(
            "/agenda-items/{id}/decision",
            put(super::decisions::put_decision).delete(super::decisions::delete_decision),
        )
        .route(
            "/agenda-items/{id}/decision/proposal",
            get(super::decisions::get_proposal),
        )
        .route(
            "/agenda-items/{id}/decision/extract.pdf",
            get(super::decisions::get_extract_pdf),
        )
        .route(
            "/agenda-items/{id}/announcement",
            post(super::decisions::announce),
        )
        .route(
            "/public/agenda-items/{id}/extract.pdf",
            get(super::decisions::get_public_extract_pdf),
        )
        .route("/papers", post(papers::create_paper))
        .route("/papers/{id}", get(get_paper).patch(papers::update_paper))
        .route(
            "/papers/{id}/consultations",
            post(papers::create_consultation),
        )
        .route(
            "/papers/{id}/consultations/order",
            put(papers::order_consultations),
        )
        .route("/consultations/{id}", delete(papers::delete_consultation))
        // The public portal's JSON is compressed (gzip, brotli), like OParl's.
        .route(
            "/public/meetings",
            get(public_meetings).layer(super::oparl::compression()),
        )
        .route(
            "/public/meetings/{id}",
            get(public_meeting).layer(super::oparl::compression()),
        )
        .route(
            "/public/papers",
            get(public_papers).layer(super::oparl::compression()),
        )
        .route(
            "/public/papers/{id}",
            get(public_paper).layer(super::oparl::compression()),
        )
}

// --- Shapes (see /api-contract) ------------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationRefView {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LocationView {
    pub id: Uuid,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeetingSummary {
    pub id: Uuid,
    pub name: String,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    /// `scheduled`, `invited`, `running`, `completed` or `cancelled`.
    pub state: &'static str,
    pub organization: OrganizationRefView,
    pub location: Option<LocationView>,
    /// A live session of this meeting is open now.
    pub live: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeetingDetail {
    #[serde(flatten)]
    pub summary: MeetingSummary,
    pub invited_at: Option<DateTime<Utc>>,
    /// The public notice (öffentliche Bekanntmachung) once the invitation is issued: when, and
    /// time, place and the PUBLIC agenda as last announced (invitation and supplements).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<super::invitations::PublicNotice>,
    /// Whether the viewer may chair this meeting's live session (the web app's chair console).
    pub may_chair: bool,
    pub agenda: Vec<AgendaItemView>,
    /// Files attached to the meeting itself.
    pub files: Vec<FileRef>,
    /// Decisions of the non-public part announced on their own (Bekanntgabe), oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub announced: Vec<AnnouncedDecisionView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgendaItemView {
    pub id: Uuid,
    /// `Ö 1`, `N 2`, …
    pub number: String,
    pub position: u32,
    pub public: bool,
    pub title: String,
    /// Markdown.
    pub decision: Option<String>,
    /// The decision as sanitised HTML.
    pub decision_html: Option<String>,
    pub paper: Option<PaperRef>,
    pub files: Vec<FileRef>,
    /// Closed polls on this item, as the live session counted them (members only; the public
    /// reads the vote result of the recorded decision in `outcome`).
    pub results: Vec<PollResultView>,
    /// The recorded decision (Beschluss): its kind and vote result. Members see it once the
    /// clerk records it; the public once the live session is no longer running.
    pub outcome: Option<super::decisions::DecisionView>,
    /// The clerk's note for the minutes (Protokollnotiz), for those who may read the minutes'
    /// draft of this item's part (never the public). Part of the item's ETag, so writing it
    /// needs the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes_note: Option<super::minutes::MinutesNoteView>,
    /// A non-public item whose decision the clerk announced on its own (Bekanntgabe): the title
    /// the public reads, the note and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub announcement: Option<AnnouncementView>,
}

/// The Bekanntgabe of a non-public item's decision, as its readers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnnouncementView {
    /// The title the public reads.
    pub title: String,
    /// E.g. "bekanntgegeben in der Sitzung am 12.03.2027".
    pub note: Option<String>,
    pub announced_at: DateTime<Utc>,
}

impl From<&plenum_store::announcements::Announcement> for AnnouncementView {
    fn from(a: &plenum_store::announcements::Announcement) -> Self {
        Self {
            title: a.title.clone(),
            note: a.note.clone(),
            announced_at: a.announced_at,
        }
    }
}

/// A decision of the meeting's non-public part that the clerk announced (Bekanntgabe), as the
/// public reads it: the public title, the decision's kind and text, and the vote totals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnnouncedDecisionView {
    /// The agenda item (non-public: nothing else of it is served to the public).
    pub id: Uuid,
    #[serde(flatten)]
    pub announcement: AnnouncementView,
    /// The decision's text (Markdown) and as sanitised HTML.
    pub decision: Option<String>,
    pub decision_html: Option<String>,
    /// The decision's kind and vote totals (no named list).
    pub outcome: super::decisions::DecisionView,
    /// The decision extract (PDF).
    pub extract: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeetingRef {
    pub id: Uuid,
    pub name: String,
    pub start: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgendaItemDetail {
    #[serde(flatten)]
    pub item: AgendaItemView,
    pub meeting: MeetingRef,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaperRef {
    pub id: Uuid,
    pub reference: String,
    pub title: String,
    pub paper_type: &'static str,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaperListEntry {
    #[serde(flatten)]
    pub paper: PaperRef,
    pub date: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaperList {
    pub data: Vec<PaperListEntry>,
    /// The next page, if any.
    pub next: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileRef {
    pub id: Uuid,
    pub name: String,
    pub media_type: String,
    pub size: u64,
    /// Where to download the content.
    pub url: String,
    /// The file's own licence (URL), when it differs from the body's data licence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PollResultView {
    pub id: Uuid,
    pub title: String,
    /// `open`, `named`, `secret` or `election`.
    pub kind: &'static str,
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    /// `adopted` or `rejected` for motions; for elections `elected`, `runoff`, `lot` or `none`.
    pub outcome: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemRef {
    pub id: Uuid,
    pub number: String,
    pub title: String,
    pub decision: Option<String>,
    /// The recorded decision (e.g. "angenommen"), as on the item.
    pub outcome: Option<super::decisions::DecisionView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsultationView {
    pub id: Uuid,
    /// `advise` or `decide`.
    pub role: &'static str,
    pub organization: OrganizationRefView,
    pub meeting: Option<MeetingRef>,
    pub agenda_item: Option<ItemRef>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaperDetail {
    pub id: Uuid,
    pub reference: String,
    pub title: String,
    pub paper_type: &'static str,
    pub date: NaiveDate,
    pub public: bool,
    /// Markdown.
    pub text: String,
    /// The text as sanitised HTML.
    pub text_html: String,
    pub originator: Option<OrganizationRefView>,
    /// The persons who submitted it (e.g. the members signing a motion), in order; the public
    /// sees published persons only.
    pub originator_persons: Vec<PersonRef>,
    pub consultations: Vec<ConsultationView>,
    pub files: Vec<FileRef>,
    /// Which of `files` is the main document (Hauptdokument); the others are attachments.
    pub main_file_id: Option<Uuid>,
    /// The organization in charge (federführend).
    pub under_direction_of: Option<OrganizationRefView>,
    /// Papers linked to this one (both ways), as far as the viewer may see them.
    pub related_papers: Vec<PaperRef>,
}

/// A person, by name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonRef {
    pub id: Uuid,
    /// As printed: `Dr. Anna Schmidt`.
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeetingList {
    pub data: Vec<MeetingSummary>,
}

/// The contract's name of a meeting state.
pub fn state_name(state: MeetingState) -> &'static str {
    match state {
        MeetingState::Planned => "scheduled",
        MeetingState::Invited => "invited",
        MeetingState::Running => "running",
        MeetingState::Closed => "completed",
        MeetingState::Cancelled => "cancelled",
    }
}

// --- The viewer ------------------------------------------------------------------------------

/// Who is looking, and where file downloads go for them.
pub struct Viewer {
    pub actor: Actor,
    /// `/api/v1/public/files` or `/api/v1/files`.
    files_base: &'static str,
}

impl Viewer {
    /// Whether this is the anonymous public (the portal, OParl), not a signed-in member.
    pub fn is_public(&self) -> bool {
        self.files_base == "/api/v1/public/files"
    }

    pub fn public() -> Self {
        Self {
            actor: Actor::anonymous(),
            files_base: "/api/v1/public/files",
        }
    }

    pub async fn member(state: &AppState, user: &User) -> Result<Self> {
        Ok(Self {
            actor: crate::access::actor(state, user).await?,
            files_base: "/api/v1/files",
        })
    }

    fn allows(&self, action: Action, resource: &Resource) -> bool {
        authorize(&self.actor, action, resource) == AccessDecision::Allow
    }

    fn file_ref(&self, file: &File) -> FileRef {
        FileRef {
            id: file.id.as_uuid(),
            name: file.name.as_str().to_owned(),
            media_type: file.media_type.as_str().to_owned(),
            size: file.size,
            url: format!("{}/{}/content", self.files_base, file.id),
            license: file.license.clone(),
        }
    }
}

/// Organizations and locations of every body, deleted ones included (old meetings refer to them).
pub struct Directory {
    pub organizations: HashMap<OrganizationId, Organization>,
    pub locations: HashMap<LocationId, Location>,
}

impl Directory {
    pub async fn load(db: &impl plenum_store::ConnectionTrait) -> Result<Self> {
        let mut organizations = HashMap::new();
        let mut locations = HashMap::new();
        for body in repo::bodies::list(db, false).await? {
            for o in repo::organizations::list_by_body(db, body.id, true).await? {
                organizations.insert(o.id, o);
            }
            for l in repo::locations::list_by_body(db, body.id, true).await? {
                locations.insert(l.id, l);
            }
        }
        Ok(Self {
            organizations,
            locations,
        })
    }

    /// Every live meeting of every body, by start.
    pub async fn meetings(&self, db: &impl plenum_store::ConnectionTrait) -> Result<Vec<Meeting>> {
        let mut meetings = Vec::new();
        for body in repo::bodies::list(db, false).await? {
            meetings.extend(repo::meetings::list_by_body(db, body.id, false).await?);
        }
        meetings.sort_by_key(|m| (m.start, m.id));
        Ok(meetings)
    }

    pub fn organization_ref(&self, id: OrganizationId) -> Result<OrganizationRef> {
        let organization = self.organizations.get(&id).ok_or(ApiError::NotFound)?;
        Ok(OrganizationRef::new(id, organization.kind))
    }

    fn organization_view(&self, id: OrganizationId) -> OrganizationRefView {
        OrganizationRefView {
            id: id.as_uuid(),
            name: self
                .organizations
                .get(&id)
                .map(|o| o.name.as_str().to_owned())
                .unwrap_or_default(),
        }
    }

    /// Whether the policy allows `viewer` `action` on the resource `of` builds from the meeting's
    /// organization (false for an unknown organization).
    fn allows_in(
        &self,
        viewer: &Viewer,
        meeting: &Meeting,
        action: Action,
        of: impl FnOnce(OrganizationRef) -> Resource,
    ) -> bool {
        self.organization_ref(meeting.organization_id)
            .map(|organization| viewer.allows(action, &of(organization)))
            .unwrap_or(false)
    }

    /// Whether the viewer sees the meeting's non-public items: the member list's criterion.
    pub fn entitled(&self, viewer: &Viewer, meeting: &Meeting) -> bool {
        self.allows_in(viewer, meeting, Action::View, |organization| {
            Resource::AgendaItem {
                organization,
                public: false,
            }
        })
    }

    /// Whether the viewer may chair the meeting's live session: the live session's criterion.
    fn may_chair(&self, viewer: &Viewer, meeting: &Meeting) -> bool {
        self.allows_in(viewer, meeting, Action::ChairMeeting, |organization| {
            Resource::Meeting {
                organization,
                public: true,
            }
        })
    }

    /// Whether the viewer may read the draft minutes of the meeting's public or non-public part.
    pub fn minutes_readable(&self, viewer: &Viewer, meeting: &Meeting, public: bool) -> bool {
        self.allows_in(viewer, meeting, Action::View, |organization| {
            Resource::Minutes {
                organization,
                public,
                approved: false,
            }
        })
    }

    /// Whether the viewer may write the draft minutes of the meeting's public or non-public part.
    pub fn minutes_writable(&self, viewer: &Viewer, meeting: &Meeting, public: bool) -> bool {
        self.allows_in(viewer, meeting, Action::Update, |organization| {
            Resource::Minutes {
                organization,
                public,
                approved: false,
            }
        })
    }

    pub(crate) fn meeting_visible(&self, viewer: &Viewer, meeting: &Meeting) -> bool {
        self.allows_in(viewer, meeting, Action::View, |organization| {
            Resource::Meeting {
                organization,
                public: true,
            }
        })
    }

    pub(crate) fn item_visible(
        &self,
        viewer: &Viewer,
        meeting: &Meeting,
        item: &AgendaItem,
    ) -> bool {
        self.allows_in(viewer, meeting, Action::View, |organization| {
            Resource::AgendaItem {
                organization,
                public: item.public,
            }
        })
    }

    /// The organizations a paper belongs to for the policy: its originator and its consultations'.
    fn paper_organizations(
        &self,
        paper: &Paper,
        consultations: &[Consultation],
    ) -> Vec<OrganizationRef> {
        let mut ids: Vec<OrganizationId> = consultations
            .iter()
            .filter(|c| c.paper_id == paper.id)
            .map(|c| c.organization_id)
            .chain(paper.originator_id)
            .collect();
        ids.sort();
        ids.dedup();
        ids.into_iter()
            .filter_map(|id| self.organization_ref(id).ok())
            .collect()
    }

    pub(crate) fn paper_visible(
        &self,
        viewer: &Viewer,
        paper: &Paper,
        consultations: &[Consultation],
    ) -> bool {
        viewer.allows(
            Action::View,
            &Resource::Paper {
                public: paper.public,
                organizations: self.paper_organizations(paper, consultations),
            },
        )
    }

    fn summary(&self, meeting: &Meeting, live: bool) -> MeetingSummary {
        MeetingSummary {
            id: meeting.id.as_uuid(),
            name: meeting.name.as_str().to_owned(),
            start: meeting.start,
            end: meeting.end,
            state: state_name(meeting.state),
            organization: self.organization_view(meeting.organization_id),
            location: meeting
                .location_id
                .and_then(|l| self.locations.get(&l))
                .map(|l| LocationView {
                    id: l.id.as_uuid(),
                    description: l.description.as_str().to_owned(),
                }),
            live,
        }
    }
}

fn meeting_ref(meeting: &Meeting) -> MeetingRef {
    MeetingRef {
        id: meeting.id.as_uuid(),
        name: meeting.name.as_str().to_owned(),
        start: meeting.start,
    }
}

fn paper_ref(paper: &Paper) -> PaperRef {
    PaperRef {
        id: paper.id.as_uuid(),
        reference: paper.reference.as_str().to_owned(),
        title: paper.title.as_str().to_owned(),
        paper_type: paper.paper_type.as_str(),
    }
}

/// The stored live state of a meeting, if a live session was ever started.
pub(crate) async fn live_state(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
) -> Result<Option<LiveState>> {
    match plenum_store::live::load(db, meeting).await {
        Ok(live) => Ok(live.map(|(_, live)| live)),
        Err(plenum_store::StoreError::Corrupt(err)) => {
            tracing::warn!(%meeting, error = %err, "unreadable live snapshot");
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

pub(crate) fn is_open(live: Option<&LiveState>) -> bool {
    live.is_some_and(|l| matches!(l.status, SessionStatus::Running | SessionStatus::Paused))
}

/// Closed polls on the item: their tallies and outcomes only (never who voted how).
fn poll_results(live: Option<&LiveState>, item: AgendaItemId) -> Vec<PollResultView> {
    let Some(live) = live else {
        return Vec::new();
    };
    live.polls
        .iter()
        .filter(|p| p.item == Some(item) && p.state == PollState::Closed)
        .map(|poll| {
            let result = poll.result.as_ref();
            let tally = result.and_then(|r| r.tally);
            let outcome = result.and_then(|r| {
                r.outcome
                    .map(|o| match o {
                        plenum_domain::Outcome::Adopted => "adopted".to_owned(),
                        plenum_domain::Outcome::Rejected => "rejected".to_owned(),
                    })
                    .or_else(|| r.election_outcome.as_ref().map(election_outcome))
            });
            PollResultView {
                id: poll.id.as_uuid(),
                title: poll.title.clone(),
                kind: poll.kind.as_str(),
                yes: tally.map_or(0, |t| t.yes),
                no: tally.map_or(0, |t| t.no),
                abstain: tally.map_or(0, |t| t.abstain),
                outcome,
                closed_at: poll.closed_at,
            }
        })
        .collect()
}

fn election_outcome(outcome: &plenum_domain::ElectionOutcome) -> String {
    use plenum_domain::ElectionOutcome as E;
    match outcome {
        E::Elected(_) => "elected",
        E::Runoff(..) => "runoff",
        E::Lot(_) => "lot",
        _ => "none",
    }
    .to_owned()
}

// --- Building the views ----------------------------------------------------------------------

/// The agenda of a meeting as the viewer may see it, in order.
async fn agenda_views(
    db: &impl ConnectionTrait,
    dir: &Directory,
    viewer: &Viewer,
    meeting: &Meeting,
    items: Vec<AgendaItem>,
    live: Option<&LiveState>,
) -> Result<Vec<AgendaItemView>> {
    let items: Vec<AgendaItem> = items
        .into_iter()
        .filter(|item| dir.item_visible(viewer, meeting, item))
        .collect();
    let item_ids: Vec<AgendaItemId> = items.iter().map(|i| i.id).collect();
    let paper_ids: Vec<PaperId> = items.iter().filter_map(|i| i.paper_id).collect();
    let papers = documents::papers_by_id(db, &paper_ids).await?;
    let consultations = documents::consultations_of_papers(db, &paper_ids).await?;
    let visible_papers: HashMap<PaperId, &Paper> = papers
        .iter()
        .filter(|p| dir.paper_visible(viewer, p, &consultations))
        .map(|p| (p.id, p))
        .collect();
    let files = documents::files_of(db, &[], &[], &item_ids).await?;
    let decisions = if super::decisions::decision_visible(viewer, live) {
        plenum_store::decisions::of_items(db, &item_ids).await?
    } else {
        HashMap::new()
    };
    let notes = if viewer.is_public() {
        HashMap::new()
    } else {
        plenum_store::minutes::notes_of_items(db, &item_ids).await?
    };
    let announcements = plenum_store::announcements::of_items(db, &item_ids).await?;
    Ok(items
        .iter()
        .map(|item| AgendaItemView {
            id: item.id.as_uuid(),
            number: item.number.as_str().to_owned(),
            position: item.position,
            public: item.public,
            title: item.title.as_str().to_owned(),
            decision: item.decision.as_ref().map(|d| d.as_str().to_owned()),
            decision_html: item.decision.as_ref().map(|d| markdown::render(d.as_str())),
            paper: item
                .paper_id
                .and_then(|p| visible_papers.get(&p))
                .map(|p| paper_ref(p)),
            files: files
                .iter()
                .filter(|f| f.agenda_item_id == Some(item.id))
                .filter(|f| f.paper_id.is_none_or(|p| visible_papers.contains_key(&p)))
                .map(|f| viewer.file_ref(f))
                .collect(),
            results: if viewer.is_public() {
                Vec::new()
            } else {
                poll_results(live, item.id)
            },
            outcome: decisions
                .get(&item.id)
                .map(super::decisions::DecisionView::from),
            minutes_note: notes
                .get(&item.id)
                .filter(|_| dir.minutes_readable(viewer, meeting, item.public))
                .map(super::minutes::MinutesNoteView::from),
            announcement: announcements.get(&item.id).map(AnnouncementView::from),
        })
        .collect())
}

/// The meeting's announced non-public decisions the public reads (see
/// [`super::decisions::public_decision`]), oldest announcement first.
async fn announced_views(
    db: &impl ConnectionTrait,
    dir: &Directory,
    meeting: MeetingId,
) -> Result<Vec<AnnouncedDecisionView>> {
    let mut out = Vec::new();
    for a in plenum_store::announcements::of_meetings(db, &[meeting]).await? {
        let Some(found) = super::decisions::public_decision(db, dir, a.item).await? else {
            continue;
        };
        let Some(announcement) = found.announcement else {
            continue;
        };
        let mut decision = found.decision;
        decision.vote = decision
            .vote
            .map(|v| super::decisions::announced_vote(v, &announcement.title));
        let text = found.item.decision.as_ref().map(|d| d.as_str().to_owned());
        out.push(AnnouncedDecisionView {
            id: a.item.as_uuid(),
            announcement: AnnouncementView::from(&announcement),
            decision_html: text.as_deref().map(markdown::render),
            decision: text,
            outcome: super::decisions::DecisionView::from(&decision),
            extract: format!("/api/v1/public/agenda-items/{}/extract.pdf", a.item),
        });
    }
    Ok(out)
}

/// The meeting as the viewer may see it; `NotFound` if they may not see it at all.
pub async fn meeting_detail(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: MeetingId,
) -> Result<MeetingDetail> {
    let dir = Directory::load(db).await?;
    let meeting = repo::meetings::get_live(db, id).await?;
    if !dir.meeting_visible(viewer, &meeting) {
        return Err(ApiError::NotFound);
    }
    let live = live_state(db, id).await?;
    let items = repo::agenda_items::list_by_meeting(db, id, false).await?;
    let agenda = agenda_views(db, &dir, viewer, &meeting, items, live.as_ref()).await?;
    let files = documents::files_of(db, &[], &[id], &[])
        .await?
        .iter()
        .filter(|f| f.agenda_item_id.is_none() && f.paper_id.is_none())
        .map(|f| viewer.file_ref(f))
        .collect();
    Ok(MeetingDetail {
        summary: dir.summary(&meeting, is_open(live.as_ref())),
        invited_at: meeting.invited_at,
        notice: super::invitations::public_notice(db, id).await?,
        may_chair: dir.may_chair(viewer, &meeting),
        agenda,
        files,
        announced: announced_views(db, &dir, id).await?,
    })
}

/// The agenda item as the viewer may see it.
pub async fn agenda_item_detail(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: AgendaItemId,
) -> Result<AgendaItemDetail> {
    let dir = Directory::load(db).await?;
    let item = repo::agenda_items::get_live(db, id).await?;
    let meeting = repo::meetings::get_live(db, item.meeting_id).await?;
    if !dir.meeting_visible(viewer, &meeting) || !dir.item_visible(viewer, &meeting, &item) {
        return Err(ApiError::NotFound);
    }
    let live = live_state(db, meeting.id).await?;
    let view = agenda_views(db, &dir, viewer, &meeting, vec![item], live.as_ref())
        .await?
        .pop()
        .ok_or(ApiError::NotFound)?;
    Ok(AgendaItemDetail {
        item: view,
        meeting: meeting_ref(&meeting),
    })
}

/// The paper with its Beratungsfolge as the viewer may see it.
pub async fn paper_detail(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: PaperId,
) -> Result<PaperDetail> {
    let dir = Directory::load(db).await?;
    let paper = repo::papers::get_live(db, id).await?;
    let consultations = documents::consultations_of_papers(db, &[id]).await?;
    if !dir.paper_visible(viewer, &paper, &consultations) {
        return Err(ApiError::NotFound);
    }
    let mut views = Vec::with_capacity(consultations.len());
    for c in &consultations {
        let meeting = match c.meeting_id {
            Some(m) => repo::meetings::get_live(db, m).await.ok(),
            None => None,
        };
        let meeting = meeting.filter(|m| dir.meeting_visible(viewer, m));
        let item = match (c.agenda_item_id, &meeting) {
            (Some(i), Some(m)) => repo::agenda_items::get_live(db, i)
                .await
                .ok()
                .filter(|item| dir.item_visible(viewer, m, item)),
            _ => None,
        };
        views.push(ConsultationView {
            id: c.id.as_uuid(),
            role: c.role.as_str(),
            organization: dir.organization_view(c.organization_id),
            meeting: meeting.as_ref().map(meeting_ref),
            agenda_item: match item {
                Some(i) => {
                    let live = match &meeting {
                        Some(m) if viewer.is_public() => live_state(db, m.id).await?,
                        _ => None,
                    };
                    let outcome = if super::decisions::decision_visible(viewer, live.as_ref()) {
                        plenum_store::decisions::get(db, i.id)
                            .await?
                            .as_ref()
                            .map(super::decisions::DecisionView::from)
                    } else {
                        None
                    };
                    Some(ItemRef {
                        id: i.id.as_uuid(),
                        number: i.number.as_str().to_owned(),
                        title: i.title.as_str().to_owned(),
                        decision: i.decision.map(|d| d.as_str().to_owned()),
                        outcome,
                    })
                }
                None => None,
            },
        });
    }
    let mut originator_persons = Vec::new();
    for person in plenum_store::originators::of(db, id).await? {
        let person = repo::persons::get(db, person).await?;
        if person.meta.is_deleted() || (viewer.is_public() && !person.published) {
            continue;
        }
        originator_persons.push(PersonRef {
            id: person.id.as_uuid(),
            name: person.full_name(),
        });
    }
    let mut related_papers = Vec::new();
    for other in plenum_store::related::of(db, id).await? {
        let Ok(other) = repo::papers::get_live(db, other).await else {
            continue;
        };
        let steps = documents::consultations_of_papers(db, &[other.id]).await?;
        if dir.paper_visible(viewer, &other, &steps) {
            related_papers.push(PaperRef {
                id: other.id.as_uuid(),
                reference: other.reference.as_str().to_owned(),
                title: other.title.as_str().to_owned(),
                paper_type: other.paper_type.as_str(),
            });
        }
    }
    let files: Vec<FileRef> = documents::files_of(db, &[id], &[], &[])
        .await?
        .iter()
        .map(|f| viewer.file_ref(f))
        .collect();
    Ok(PaperDetail {
        id: paper.id.as_uuid(),
        reference: paper.reference.as_str().to_owned(),
        title: paper.title.as_str().to_owned(),
        paper_type: paper.paper_type.as_str(),
        date: paper.date,
        public: paper.public,
        text: paper.text.as_str().to_owned(),
        text_html: markdown::render(paper.text.as_str()),
        originator: paper.originator_id.map(|o| dir.organization_view(o)),
        originator_persons,
        consultations: views,
        main_file_id: paper
            .main_file_id
            .map(|f| f.as_uuid())
            .filter(|f| files.iter().any(|file| file.id == *f)),
        files,
        under_direction_of: paper
            .under_direction_of_id
            .filter(|o| {
                dir.organizations
                    .get(o)
                    .is_some_and(|o| !o.meta.is_deleted())
            })
            .map(|o| dir.organization_view(o)),
        related_papers,
    })
}

/// The meetings a signed-in member follows: those whose non-public items they may see (clerks
/// and admins: every meeting of the administration's organizations), by `when`. Used by the
/// personal calendar feed too.
pub async fn member_meetings(
    state: &AppState,
    viewer: &Viewer,
    when: When,
) -> Result<(Directory, Vec<(Meeting, bool)>)> {
    let dir = Directory::load(&state.db).await?;
    let now = state.now();
    let grace = now - Duration::hours(UPCOMING_GRACE_HOURS);
    let mut out = Vec::new();
    for meeting in dir.meetings(&state.db).await? {
        if !dir.entitled(viewer, &meeting) {
            continue;
        }
        let live = is_open(live_state(&state.db, meeting.id).await?.as_ref());
        let running = live || meeting.state == MeetingState::Running;
        let upcoming = running || meeting.start >= grace;
        let keep = match when {
            When::Upcoming => upcoming,
            When::Past => !upcoming,
            When::All => true,
        };
        if keep {
            out.push((meeting, live));
        }
    }
    match when {
        When::Upcoming => out.sort_by_key(|(m, live)| {
            let running = *live || m.state == MeetingState::Running;
            (!running, m.start, m.id)
        }),
        When::Past => out.sort_by_key(|(m, _)| (std::cmp::Reverse(m.start), m.id)),
        When::All => {}
    }
    Ok((dir, out))
}

/// `ETag` of a JSON representation: a hash of its bytes.
pub fn etag_of<T: Serialize>(value: &T) -> Result<String> {
    let bytes = serde_json::to_vec(value).map_err(|_| ApiError::NotFound)?;
    let digest = Sha256::digest(&bytes);
    Ok(format!("\"{}\"", hex::encode(&digest[..16])))
}

/// The JSON with its `ETag`, or 304 when the client's `If-None-Match` matches.
pub fn with_etag<T: Serialize>(headers: &HeaderMap, value: &T) -> Result<Response> {
    let etag = etag_of(value)?;
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Json(value).into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

// --- Member handlers -------------------------------------------------------------------------

/// Which meetings `GET /api/v1/meetings` lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// A running meeting first, then by start ascending (started within the last 12 h counts).
    #[default]
    Upcoming,
    /// By start descending.
    Past,
    /// By start ascending.
    All,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeetingsQuery {
    /// `upcoming` (default), `past` or `all`.
    #[param(inline)]
    #[serde(default)]
    pub when: When,
}

/// The meetings of the organizations the signed-in user belongs to (clerks and admins: all).
#[utoipa::path(get, path = "/api/v1/meetings", tag = "documents", security(("bearer" = [])),
    params(MeetingsQuery),
    responses((status = 200, body = MeetingList),
        (status = 400, description = "Unknown `when`", body = crate::Problem),
        (status = 401, body = crate::Problem)))]
pub async fn list_meetings(
    State(state): State<AppState>,
    auth: AuthUser,
    query: std::result::Result<Query<MeetingsQuery>, QueryRejection>,
) -> Result<Json<MeetingList>> {
    let Query(query) = query?;
    let viewer = Viewer::member(&state, &auth.user).await?;
    let (dir, meetings) = member_meetings(&state, &viewer, query.when).await?;
    Ok(Json(MeetingList {
        data: meetings
            .iter()
            .map(|(m, live)| dir.summary(m, *live))
            .collect(),
    }))
}

/// A meeting with its agenda (non-public items only for those entitled) and files.
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingDetail, headers(("ETag" = String))),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 401, body = crate::Problem), (status = 404, body = crate::Problem)))]
pub async fn get_meeting(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, axum::extract::rejection::PathRejection>,
) -> Result<Response> {
    let Path(id) = id?;
    let viewer = Viewer::member(&state, &auth.user).await?;
    let detail = meeting_detail(&state.db, &viewer, MeetingId::from_uuid(id)).await?;
    with_etag(&headers, &detail)
}

/// An agenda item with its meeting.
#[utoipa::path(get, path = "/api/v1/agenda-items/{id}", tag = "documents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Agenda item id")),
    responses((status = 200, body = AgendaItemDetail, headers(("ETag" = String))),
        (status = 401, body = crate::Problem), (status = 404, body = crate::Problem)))]
pub async fn get_agenda_item(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, axum::extract::rejection::PathRejection>,
) -> Result<Response> {
    let Path(id) = id?;
    let viewer = Viewer::member(&state, &auth.user).await?;
    let detail = agenda_item_detail(&state.db, &viewer, AgendaItemId::from_uuid(id)).await?;
    with_etag(&headers, &detail)
}

/// A paper with its Beratungsfolge and files.
#[utoipa::path(get, path = "/api/v1/papers/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Paper id")),
    responses((status = 200, body = PaperDetail, headers(("ETag" = String))),
        (status = 401, body = crate::Problem), (status = 404, body = crate::Problem)))]
pub async fn get_paper(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, axum::extract::rejection::PathRejection>,
) -> Result<Response> {
    let Path(id) = id?;
    let viewer = Viewer::member(&state, &auth.user).await?;
    let detail = paper_detail(&state.db, &viewer, PaperId::from_uuid(id)).await?;
    with_etag(&headers, &detail)
}

// --- Public handlers -------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicMeetingsQuery {
    /// First day (UTC), inclusive: `YYYY-MM-DD`.
    pub from: Option<NaiveDate>,
    /// Last day (UTC), inclusive: `YYYY-MM-DD`.
    pub to: Option<NaiveDate>,
}

/// Every meeting (public data), by start; optionally only those starting within `from`..=`to`.
#[utoipa::path(get, path = "/api/v1/public/meetings", tag = "public",
    params(PublicMeetingsQuery),
    responses((status = 200, body = MeetingList),
        (status = 400, description = "Malformed date", body = crate::Problem)))]
pub async fn public_meetings(
    State(state): State<AppState>,
    query: std::result::Result<Query<PublicMeetingsQuery>, QueryRejection>,
) -> Result<Json<MeetingList>> {
    let Query(query) = query?;
    let viewer = Viewer::public();
    let dir = Directory::load(&state.db).await?;
    let mut data = Vec::new();
    for meeting in dir.meetings(&state.db).await? {
        let day = meeting.start.date_naive();
        if query.from.is_some_and(|from| day < from) || query.to.is_some_and(|to| day > to) {
            continue;
        }
        if !dir.meeting_visible(&viewer, &meeting) {
            continue;
        }
        let live = is_open(live_state(&state.db, meeting.id).await?.as_ref());
        data.push(dir.summary(&meeting, live));
    }
    Ok(Json(MeetingList { data }))
}

/// A meeting with its public agenda items only.
#[utoipa::path(get, path = "/api/v1/public/meetings/{id}", tag = "public",
    params(("id" = Uuid, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingDetail, headers(("ETag" = String))),
        (status = 404, body = crate::Problem)))]
pub async fn public_meeting(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, axum::extract::rejection::PathRejection>,
) -> Result<Response> {
    let Path(id) = id?;
    let detail = meeting_detail(&state.db, &Viewer::public(), MeetingId::from_uuid(id)).await?;
    with_etag(&headers, &detail)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1 to 1,000,000.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
}

/// The highest page number of a paged list (50 million papers): beyond it the offset is
/// rejected, never computed.
pub const MAX_PAGE: u64 = 1_000_000;

/// Public papers, newest first, 50 per page.
#[utoipa::path(get, path = "/api/v1/public/papers", tag = "public", params(PageQuery),
    responses((status = 200, body = PaperList),
        (status = 400, description = "Malformed page number, or not from 1 to 1,000,000", body = crate::Problem)))]
pub async fn public_papers(
    State(state): State<AppState>,
    query: std::result::Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<PaperList>> {
    let Query(query) = query?;
    let page = crate::json::bounded("page", query.page.unwrap_or(1), 1, MAX_PAGE)?;
    let (papers, more) = documents::public_papers(&state.db, page, PAPERS_PER_PAGE).await?;
    Ok(Json(PaperList {
        data: papers
            .iter()
            .map(|p| PaperListEntry {
                paper: paper_ref(p),
                date: p.date,
            })
            .collect(),
        next: more.then(|| format!("/api/v1/public/papers?page={}", page + 1)),
    }))
}

/// A public paper with its consultations (agenda items only where public) and files.
#[utoipa::path(get, path = "/api/v1/public/papers/{id}", tag = "public",
    params(("id" = Uuid, Path, description = "Paper id")),
    responses((status = 200, body = PaperDetail, headers(("ETag" = String))),
        (status = 404, body = crate::Problem)))]
pub async fn public_paper(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: std::result::Result<Path<Uuid>, axum::extract::rejection::PathRejection>,
) -> Result<Response> {
    let Path(id) = id?;
    let detail = paper_detail(&state.db, &Viewer::public(), PaperId::from_uuid(id)).await?;
    with_etag(&headers, &detail)
}
