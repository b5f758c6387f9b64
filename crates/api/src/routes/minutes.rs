//! The minutes (Niederschrift) of a meeting, drafted from the session: the clerk's note per
//! agenda item (Protokollnotiz, `PUT …/minutes-note`) and the draft of the public or the
//! non-public part (`GET …/minutes/draft`), assembled on every read by
//! [`plenum_domain::draft`] from the event log, the live state, the recorded decisions and the
//! notes.
//!
//! Who may do what follows the policy's `Resource::Minutes` for minutes not yet approved: the
//! clerk (Sitzungsdienst) writes; members of the meeting's organization (and whoever sees its
//! non-public material) read both parts; the public reads nothing here — minutes are published
//! with signing, which is not built yet.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use plenum_domain::{
    AgendaItemId, AttendanceStatus, BallotChoice, Choice, Event, ItemDecision, MeetingId,
    MeetingState, MinutesDraft, MinutesFacts, MinutesNote, MinutesNoteText, MinutesPart,
    QuorumStanding, draft,
};
use plenum_store::{minutes, repo};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::clerk::{audit, begin_on_item, commit, conflict, precondition};
use super::decisions::VoteView;
use super::documents::{Directory, Viewer, agenda_item_detail, live_state, with_etag};
use crate::auth::AuthUser;
use crate::json::{AppJson, AppPath};
use crate::markdown;
use crate::{ApiError, AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agenda-items/{id}/minutes-note", put(put_minutes_note))
        .route("/meetings/{id}/minutes/draft", get(get_minutes_draft))
        .route(
            "/meetings/{id}/minutes/draft.pdf",
            get(get_minutes_draft_pdf),
        )
}

/// A Protokollnotiz as readers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MinutesNoteView {
    /// Markdown.
    pub text: String,
    /// The text as sanitised HTML.
    pub html: String,
    pub updated_at: DateTime<Utc>,
}

impl From<&MinutesNote> for MinutesNoteView {
    fn from(note: &MinutesNote) -> Self {
        Self {
            text: note.text.clone(),
            html: markdown::render(&note.text),
            updated_at: note.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MinutesNoteRequest {
    /// The note (Markdown, at most 20 000 characters). Blank or `null` removes it.
    pub text: Option<String>,
}

/// Writes the clerk's note for the minutes on an agenda item (Protokollnotiz), or removes it
/// when blank. Clerks of the item's organization; needs the item's ETag (the note is part of the
/// item). 403 for members who may see the item; 404 for items the caller may not see; 409 for a
/// cancelled meeting; 422 for a note too long or with control characters. Audited as
/// `minutes_note.updated` (without the text).
#[utoipa::path(put, path = "/api/v1/agenda-items/{id}/minutes-note", tag = "minutes",
    security(("bearer" = [])), request_body = MinutesNoteRequest,
    params(("id" = Uuid, Path, description = "Agenda item id"),
        ("If-Match" = String, Header, description = "The item's ETag")),
    responses((status = 200, body = super::documents::AgendaItemDetail, headers(("ETag" = String))),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem), (status = 412, body = crate::Problem),
        (status = 422, body = crate::Problem), (status = 428, body = crate::Problem)))]
pub async fn put_minutes_note(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<MinutesNoteRequest>,
) -> Result<Response> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let id = AgendaItemId::from_uuid(id);
    let (txn, item, meeting, etag) = begin_on_item(&state, &viewer, id).await?;
    let dir = Directory::load(&txn).await?;
    if !dir.minutes_writable(&viewer, &meeting, item.public) {
        return Err(ApiError::Forbidden);
    }
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    if meeting.state == MeetingState::Cancelled {
        return Ok(conflict(plenum_domain::DomainError::RuleViolated(
            "a cancelled meeting has no minutes".into(),
        )));
    }
    let text = MinutesNoteText::parse(request.text.as_deref().unwrap_or_default())?;
    let removed = match &text {
        Some(text) => {
            minutes::put_note(&txn, id, meeting.id, text, auth.user.id, state.now()).await?;
            false
        }
        None => minutes::remove_note(&txn, id).await?,
    };
    audit(
        &txn,
        &state,
        &auth,
        "minutes_note.updated",
        ("agenda_item", id.as_uuid()),
        serde_json::json!({
            "meeting": meeting.id.as_uuid(),
            "removed": text.is_none() && removed,
            "chars": text.as_ref().map_or(0, |t| t.as_str().chars().count()),
        }),
    )
    .await?;
    commit(&state, txn).await?;
    let detail = agenda_item_detail(&state.db, &viewer, id).await?;
    with_etag(&HeaderMap::new(), &detail)
}

/// Which part of the minutes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// Öffentlicher Teil.
    #[default]
    Public,
    /// Nichtöffentlicher Teil.
    NonPublic,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DraftQuery {
    /// `public` (default) or `non_public`.
    #[param(inline)]
    #[serde(default)]
    pub part: Part,
}

/// The draft of one part of a meeting's minutes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MinutesDraftView {
    pub meeting: Uuid,
    /// `public` or `non_public`.
    pub part: &'static str,
    /// `draft` (assembled now) or `version` (a frozen version: see `/api/v1/minutes/{id}`).
    pub status: &'static str,
    /// Whether the caller may write the Protokollnotiz of this part's items.
    pub may_edit: bool,
    pub meeting_name: String,
    pub organization: String,
    pub location: Option<String>,
    /// `scheduled`, `invited`, `running`, `completed` or `cancelled`.
    pub meeting_state: &'static str,
    pub scheduled_start: DateTime<Utc>,
    pub scheduled_end: Option<DateTime<Utc>>,
    /// When the invitation was issued (Einladung vom …).
    pub invited_at: Option<DateTime<Utc>>,
    /// Why the notice period was shortened, if the invitation was late.
    pub invitation_late_reason: Option<String>,
    /// The notice period (Ladungsfrist) the invitation was issued under, in days (the body's
    /// setting then); none before the invitation.
    pub invitation_notice_days: Option<u32>,
    /// When the live session began (Beginn) and ended (Ende).
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Breaks (Unterbrechungen).
    pub breaks: Vec<BreakView>,
    /// The members of the organization and their attendance, by name.
    pub attendance: Vec<AttendanceView>,
    /// Stand-ins (Vertretungen): which substitute held whose vote, from when to when.
    pub stand_ins: Vec<StandInView>,
    /// The chair's quorum statements and members' doubts, in order.
    pub quorum: Vec<QuorumView>,
    /// When the first non-public item became current (Beginn des nichtöffentlichen Teils).
    pub non_public_began: Option<DateTime<Utc>>,
    /// When the public part ended because the session went on non-publicly.
    pub public_ended: Option<DateTime<Utc>>,
    /// The items of this part, in agenda order.
    pub items: Vec<MinutesItemView>,
}

/// A speech on an item, from the speakers list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SpeakerView {
    pub person: Uuid,
    pub name: String,
    /// A point of order (Antrag zur Geschäftsordnung).
    pub point_of_order: bool,
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
}

/// A member's request that their vote in an open poll be recorded in the minutes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VoteRecordView {
    pub poll: Uuid,
    pub poll_title: String,
    pub person: Uuid,
    pub name: String,
    /// `yes`, `no` or `abstain`.
    pub choice: &'static str,
    /// The choice in German ("Ja", "Nein", "Enthaltung").
    pub choice_label: &'static str,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BreakView {
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttendanceView {
    pub person: Uuid,
    pub name: String,
    /// `member`, `chair`, `deputy_chair`, `substitute` or `advisory`.
    pub role: &'static str,
    /// The role in German ("Vorsitz", "Mitglied", …).
    pub role_label: &'static str,
    pub voting_right: bool,
    pub fraction: Option<String>,
    /// `present`, `remote`, `absent`, `excused` or `left_early`; `absent` for a member who never
    /// checked in.
    pub status: &'static str,
    pub since: Option<DateTime<Utc>>,
    /// Every change (arriving, leaving, excused) with its time.
    pub changes: Vec<AttendanceChangeView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StandInView {
    pub member: Uuid,
    pub member_name: String,
    pub substitute: Uuid,
    pub substitute_name: String,
    pub from: DateTime<Utc>,
    /// None while it lasted to the end of the session.
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttendanceChangeView {
    pub status: &'static str,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuorumView {
    pub at: DateTime<Utc>,
    /// `declared` (the chair's statement), `doubted` (a member's doubt) or `changed` (an
    /// arrival or departure changed where the quorum stands).
    pub kind: &'static str,
    /// The chair's statement: quorate or not (none otherwise).
    pub quorate: Option<bool>,
    pub present_voting: u32,
    pub required: u32,
    pub statutory: u32,
    /// Who doubted.
    pub person: Option<String>,
    /// For `changed`: `quorate`, `presumed`, `undeclared`, `doubted`, `not_quorate` or `waived`.
    pub standing: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConflictView {
    pub person: Uuid,
    pub name: String,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MinutesDecisionView {
    /// `adopted`, `rejected`, `referred`, … (as on the item's `outcome`).
    pub kind: &'static str,
    /// The kind in German ("angenommen", …).
    pub label: &'static str,
    pub referred_to: Option<String>,
    pub vote: Option<VoteView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MinutesItemView {
    pub id: Uuid,
    pub number: String,
    pub title: String,
    pub public: bool,
    /// The decision's text (Markdown) and as sanitised HTML.
    pub decision_text: Option<String>,
    pub decision_html: Option<String>,
    /// The recorded decision (Beschluss) with its vote result.
    pub decision: Option<MinutesDecisionView>,
    /// Every closed poll on the item in the order they closed (corrections, an election's
    /// rounds, procedural votes), each with its result.
    pub polls: Vec<VoteView>,
    /// Conflicts of interest declared on the item (who left the table).
    pub conflicts: Vec<ConflictView>,
    /// The clerk's note (Protokollnotiz).
    pub note: Option<MinutesNoteView>,
    /// Who spoke on the item, in the order they were called.
    pub speakers: Vec<SpeakerView>,
    /// Members who asked that their vote be recorded (open polls), in the order they asked.
    pub vote_records: Vec<VoteRecordView>,
}

fn status_name(status: AttendanceStatus) -> &'static str {
    match status {
        AttendanceStatus::Present => "present",
        AttendanceStatus::Remote => "remote",
        AttendanceStatus::Absent => "absent",
        AttendanceStatus::Excused => "excused",
        AttendanceStatus::LeftEarly => "left_early",
    }
}

fn standing_name(standing: QuorumStanding) -> &'static str {
    match standing {
        QuorumStanding::Waived => "waived",
        QuorumStanding::Quorate => "quorate",
        QuorumStanding::Presumed => "presumed",
        QuorumStanding::Undeclared => "undeclared",
        QuorumStanding::Doubted => "doubted",
        QuorumStanding::NotQuorate => "not_quorate",
    }
}

pub(crate) fn view(
    meeting: &plenum_domain::Meeting,
    d: MinutesDraft,
    may_edit: bool,
    public: bool,
) -> MinutesDraftView {
    MinutesDraftView {
        meeting: meeting.id.as_uuid(),
        part: d.part.as_str(),
        status: "draft",
        may_edit,
        meeting_name: d.meeting_name,
        organization: d.organization,
        location: d.location,
        meeting_state: super::documents::state_name(meeting.state),
        scheduled_start: d.scheduled_start,
        scheduled_end: d.scheduled_end,
        invited_at: d.invited_at.or(meeting.invited_at),
        invitation_late_reason: d.invitation_late_reason,
        invitation_notice_days: d.invitation_notice_days,
        started_at: d.started_at,
        ended_at: d.ended_at,
        breaks: d
            .breaks
            .iter()
            .map(|b| BreakView {
                from: b.from,
                to: b.to,
            })
            .collect(),
        attendance: d
            .attendance
            .into_iter()
            .map(|a| AttendanceView {
                person: a.person.as_uuid(),
                name: a.name,
                role: a.role.as_str(),
                role_label: a.role.german(),
                voting_right: a.voting_right,
                fraction: a.fraction,
                status: status_name(a.status),
                since: a.since,
                changes: a
                    .changes
                    .iter()
                    .map(|(status, at)| AttendanceChangeView {
                        status: status_name(*status),
                        at: *at,
                    })
                    .collect(),
            })
            .collect(),
        stand_ins: d
            .stand_ins
            .into_iter()
            .map(|s| StandInView {
                member: s.member.as_uuid(),
                member_name: s.member_name,
                substitute: s.substitute.as_uuid(),
                substitute_name: s.substitute_name,
                from: s.from,
                to: s.to,
            })
            .collect(),
        quorum: d
            .quorum
            .into_iter()
            .map(|q| QuorumView {
                at: q.at,
                kind: q.kind,
                quorate: q.quorate,
                present_voting: q.count.present_voting,
                required: q.count.required,
                statutory: q.count.statutory,
                person: q.person,
                standing: q.standing.map(standing_name),
            })
            .collect(),
        items: d
            .items
            .into_iter()
            .map(|i| MinutesItemView {
                id: i.id.as_uuid(),
                number: i.number,
                title: i.title,
                public,
                decision_html: i.decision_text.as_deref().map(markdown::render),
                decision_text: i.decision_text,
                decision: i.decision.map(|d| MinutesDecisionView {
                    kind: d.kind.as_str(),
                    label: d.kind.label_de(),
                    referred_to: d.referred_to,
                    vote: d.vote.as_ref().map(VoteView::from),
                }),
                polls: i.polls.iter().map(VoteView::from).collect(),
                conflicts: i
                    .conflicts
                    .into_iter()
                    .map(|c| ConflictView {
                        person: c.person.as_uuid(),
                        name: c.name,
                        at: c.at,
                    })
                    .collect(),
                note: i.note.as_ref().map(MinutesNoteView::from),
                speakers: i
                    .speakers
                    .into_iter()
                    .map(|s| SpeakerView {
                        person: s.person.as_uuid(),
                        name: s.name,
                        point_of_order: s.point_of_order,
                        from: s.from,
                        to: s.to,
                    })
                    .collect(),
                vote_records: i
                    .vote_records
                    .into_iter()
                    .map(|r| {
                        let (choice, choice_label) = choice_name(r.choice);
                        VoteRecordView {
                            poll: r.poll.as_uuid(),
                            poll_title: r.poll_title,
                            person: r.person.as_uuid(),
                            name: r.name,
                            choice,
                            choice_label,
                            at: r.at,
                        }
                    })
                    .collect(),
            })
            .collect(),
        non_public_began: d.non_public_began,
        public_ended: d.public_ended,
    }
}

fn choice_name(choice: BallotChoice) -> (&'static str, &'static str) {
    match choice {
        BallotChoice::Choice(Choice::Yes) => ("yes", "Ja"),
        BallotChoice::Choice(Choice::No) => ("no", "Nein"),
        BallotChoice::Choice(Choice::Abstain) => ("abstain", "Enthaltung"),
        // Never in an open poll.
        BallotChoice::Candidate(_) => ("candidate", "Kandidat"),
    }
}

/// The most events a meeting's draft reads (a long council session has a few thousand).
const MAX_EVENTS: u64 = 200_000;

/// The draft minutes of a meeting's public or non-public part, assembled now from the session's
/// record: meeting, times and breaks, attendance, quorum statements, and per item of that part
/// its decision with the vote result, conflicts of interest and the Protokollnotiz. Clerks of
/// the meeting's organization, and those who may read its non-public material (members of the
/// organization); everyone else 404. Never public (publication comes with signing).
#[utoipa::path(get, path = "/api/v1/meetings/{id}/minutes/draft", tag = "minutes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id"), DraftQuery),
    responses((status = 200, body = MinutesDraftView), (status = 404, body = crate::Problem)))]
pub async fn get_minutes_draft(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    query: std::result::Result<Query<DraftQuery>, QueryRejection>,
) -> Result<Json<MinutesDraftView>> {
    let Query(query) = query?;
    let public = query.part == Part::Public;
    let loaded = load_draft(&state, &auth, id, public).await?;
    Ok(Json(view(
        &loaded.meeting,
        loaded.draft,
        loaded.may_edit,
        public,
    )))
}

/// A draft as read for `auth`, with what the documents print around it.
struct LoadedDraft {
    meeting: plenum_domain::Meeting,
    draft: MinutesDraft,
    may_edit: bool,
    body_name: String,
}

/// Assembles the draft of one part for `auth`: 404 for a meeting they may not see or whose
/// minutes (of that part) they may not read.
async fn load_draft(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    public: bool,
) -> Result<LoadedDraft> {
    let viewer = Viewer::member(state, &auth.user).await?;
    let db = &state.db;
    let id = MeetingId::from_uuid(id);
    let dir = Directory::load(db).await?;
    let meeting = repo::meetings::get_live(db, id).await?;
    if !dir.meeting_visible(&viewer, &meeting) || !dir.minutes_readable(&viewer, &meeting, public) {
        return Err(ApiError::NotFound);
    }
    let may_edit = dir.minutes_writable(&viewer, &meeting, public);
    let draft = draft_of(db, &dir, &meeting, public).await?;
    let body_name = crate::render::body_name(state, &dir, &meeting).await;
    Ok(LoadedDraft {
        meeting,
        draft,
        may_edit,
        body_name,
    })
}

/// The draft of one part of a meeting's minutes, assembled now (the caller checked that the
/// viewer may read it).
pub(crate) async fn draft_of(
    db: &impl plenum_store::ConnectionTrait,
    dir: &Directory,
    meeting: &plenum_domain::Meeting,
    public: bool,
) -> Result<MinutesDraft> {
    let id = meeting.id;
    let part = if public {
        MinutesPart::Public
    } else {
        MinutesPart::NonPublic
    };
    let items: Vec<_> = repo::agenda_items::list_by_meeting(db, id, false)
        .await?
        .into_iter()
        .filter(|i| part.holds(i.public))
        .collect();
    let item_ids: Vec<AgendaItemId> = items.iter().map(|i| i.id).collect();
    let live = live_state(db, id).await?;
    let events: Vec<(DateTime<Utc>, Event)> =
        plenum_store::live::events_since(db, id, 0, MAX_EVENTS)
            .await?
            .into_iter()
            .filter_map(|e| match serde_json::from_str::<Event>(&e.payload) {
                Ok(event) => Some((e.at, event)),
                Err(err) => {
                    tracing::warn!(meeting = %id, seq = e.seq, error = %err, "unreadable event");
                    None
                }
            })
            .collect();
    let decisions: HashMap<AgendaItemId, ItemDecision> =
        plenum_store::decisions::of_items(db, &item_ids)
            .await?
            .into_iter()
            .map(|(item, d)| {
                (
                    item,
                    ItemDecision {
                        kind: d.kind,
                        referred_to: d.referred_to,
                        vote: d.vote,
                    },
                )
            })
            .collect();
    let notes = minutes::notes_of_items(db, &item_ids).await?;
    let facts = MinutesFacts {
        meeting,
        organization: dir
            .organizations
            .get(&meeting.organization_id)
            .map(|o| o.name.as_str().to_owned())
            .unwrap_or_default(),
        location: meeting
            .location_id
            .and_then(|l| dir.locations.get(&l))
            .map(|l| l.description.as_str().to_owned()),
        items: &items,
        live: live.as_ref(),
        events: &events,
        decisions: &decisions,
        notes: &notes,
    };
    let mut draft = draft(&facts, part);
    // The invitation's late reason (Begründung der verkürzten Ladungsfrist) is part of the record.
    // So is the notice period it was issued under (the body's, frozen as its deadline).
    let invitations = plenum_store::notify::invitations_of(db, id).await?;
    let first = invitations.first().map(|i| &i.document);
    draft.invitation_late_reason = first
        .and_then(|d| d.late_reason.as_ref())
        .map(|r| r.as_str().to_owned());
    draft.invitation_notice_days = first.map(|d| d.notice_days());
    Ok(draft)
}

/// The draft minutes of a meeting's public or non-public part as a PDF/A document (typeset with
/// Typst, marked "ENTWURF" on every page): letterhead, table of contents, attendance, quorum,
/// each item's decision with its vote result and named list, conflicts of interest and the
/// clerk's notes. Who may read the JSON draft may read this; everyone else 404.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/minutes/draft.pdf", tag = "minutes",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id"), DraftQuery),
    responses((status = 200, description = "The draft as PDF/A-2b (`application/pdf`)",
            headers(("Content-Disposition" = String))),
        (status = 400, body = crate::Problem), (status = 404, body = crate::Problem)))]
pub async fn get_minutes_draft_pdf(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    query: std::result::Result<Query<DraftQuery>, QueryRejection>,
) -> Result<Response> {
    let Query(query) = query?;
    let public = query.part == Part::Public;
    let loaded = load_draft(&state, &auth, id, public).await?;
    let part = if public {
        "öffentlicher Teil"
    } else {
        "nichtöffentlicher Teil"
    };
    let file_name = format!(
        "Niederschrift {} ({part}) – Entwurf.pdf",
        loaded.draft.meeting_name
    );
    let document = plenum_render::MinutesDocument {
        minutes: loaded.draft,
        body_name: loaded.body_name,
        version: None,
        draft: true,
        signatures: Vec::new(),
    };
    let pdf = crate::pdf::render(move || plenum_render::minutes_pdf(&document)).await?;
    Ok(crate::pdf::response(pdf, &file_name))
}
