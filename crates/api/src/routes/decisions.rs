//! Decisions (Beschlüsse) on agenda items: the clerk records what became of an item — the kind
//! (angenommen, abgelehnt, vertagt, verwiesen an …), the decision's text, and the vote result of
//! the poll it rests on, copied from the live session as the record keeps it (totals, the rule,
//! for named polls who voted how and who did not vote).
//!
//! The live session proposes (`GET …/decision/proposal`: the poll whose result stands, the kind
//! it suggests, the text prefilled from the item or its paper); the clerk confirms or edits
//! (`PUT …/decision`). Members see recorded decisions at once; the public portal shows a public
//! item's decision once it is recorded and the live session is no longer running — never a
//! poll's result on its own.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use plenum_domain::{
    AgendaItem, AgendaItemId, DecisionKind, LiveState, Markdown, Meeting, PollId, VoteRecord,
    closed_poll_of, deciding_poll,
};
use plenum_store::announcements::{self, Announcement};
use plenum_store::decisions::{self, Decision};
use plenum_store::repo;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::clerk::{audit, begin_on_item, commit, conflict, invalid, precondition};
use super::documents::{Directory, Viewer, agenda_item_detail, live_state, with_etag};
use crate::auth::AuthUser;
use crate::json::{AppJson, AppPath};
use crate::{AppState, Result};

/// A recorded decision as readers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecisionView {
    /// `adopted`, `adopted_amended`, `rejected`, `elected`, `postponed`, `referred`, `noted`,
    /// `withdrawn` or `no_decision`.
    pub kind: &'static str,
    /// The kind in German, as the minutes print it ("angenommen", "vertagt", …).
    pub label: &'static str,
    /// For `referred`: to whom.
    pub referred_to: Option<String>,
    /// The vote result (Abstimmungsergebnis), if the decision rests on a poll.
    pub vote: Option<VoteView>,
    pub recorded_at: DateTime<Utc>,
}

/// The vote result as kept in the record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VoteView {
    pub poll: Uuid,
    pub title: String,
    /// `open`, `named`, `secret`, `election` or `manual`.
    pub kind: String,
    /// The majority rule applied: `simple`, `absolute_statutory`, `two_thirds_cast`,
    /// `two_thirds_statutory`.
    pub rule: String,
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    pub invalid: u32,
    /// How many could vote, and how many did.
    pub eligible: u32,
    pub voted: u32,
    /// Motions: `adopted` or `rejected`; elections: `elected`, `runoff`, `lot` or `none`.
    pub outcome: Option<String>,
    /// Elections: each candidate's votes.
    pub candidates: Vec<CandidateView>,
    /// Elections: who was elected.
    pub elected: Option<String>,
    /// 2 for a runoff (Stichwahl).
    pub round: u32,
    /// A tie was decided by lot.
    pub by_lot: bool,
    /// Named polls: who voted how.
    pub named: Vec<NamedVoteView>,
    /// Named polls: who could vote and did not.
    pub not_voted: Vec<NonVoterView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CandidateView {
    pub name: String,
    pub votes: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NamedVoteView {
    pub person: Uuid,
    pub name: String,
    /// `yes`, `no`, `abstain`, or the candidate's name in an election.
    pub choice: String,
    /// A substitute's vote: the member they stood in for (Vertretung), by name.
    pub stands_in_for: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NonVoterView {
    pub person: Uuid,
    pub name: String,
    /// A substitute who did not vote: the member they stood in for, by name.
    pub stands_in_for: Option<String>,
}

impl From<&VoteRecord> for VoteView {
    fn from(v: &VoteRecord) -> Self {
        Self {
            poll: v.poll.as_uuid(),
            title: v.title.clone(),
            kind: v.kind.clone(),
            rule: v.rule.clone(),
            yes: v.yes,
            no: v.no,
            abstain: v.abstain,
            invalid: v.invalid,
            eligible: v.eligible,
            voted: v.voted,
            outcome: v.outcome.clone(),
            candidates: v
                .candidates
                .iter()
                .map(|c| CandidateView {
                    name: c.name.clone(),
                    votes: c.votes,
                })
                .collect(),
            elected: v.elected.clone(),
            round: v.round,
            by_lot: v.by_lot,
            named: v
                .named
                .iter()
                .map(|n| NamedVoteView {
                    person: n.person.as_uuid(),
                    name: n.name.clone(),
                    choice: n.choice.clone(),
                    stands_in_for: n.stands_in_for.clone(),
                })
                .collect(),
            not_voted: v
                .not_voted
                .iter()
                .map(|n| NonVoterView {
                    person: n.person.as_uuid(),
                    name: n.name.clone(),
                    stands_in_for: n.stands_in_for.clone(),
                })
                .collect(),
        }
    }
}

impl From<&Decision> for DecisionView {
    fn from(d: &Decision) -> Self {
        Self {
            kind: d.kind.as_str(),
            label: d.kind.label_de(),
            referred_to: d.referred_to.clone(),
            vote: d.vote.as_ref().map(VoteView::from),
            recorded_at: d.recorded_at,
        }
    }
}

/// Whether `viewer` may read the recorded decision of an item they can see: members always; the
/// public once the live session is not running (the portal publishes the record, not the
/// session in progress).
pub(crate) fn decision_visible(viewer: &Viewer, live: Option<&LiveState>) -> bool {
    !viewer.is_public() || !super::documents::is_open(live)
}

/// What the live session suggests for an item.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DecisionProposal {
    /// The recorded decision, if there is one (the form then edits it).
    pub recorded: Option<DecisionView>,
    /// The kind the standing poll suggests (`no_decision` without a poll).
    pub kind: &'static str,
    pub label: &'static str,
    /// The text to start from: the item's decision text, else its paper's text (Markdown).
    pub text: Option<String>,
    /// The poll whose result stands (the last closed one not corrected or continued by a
    /// runoff), with its result.
    pub vote: Option<VoteView>,
    /// Every closed poll on the item, newest first, for choosing another.
    pub polls: Vec<PollChoice>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PollChoice {
    pub id: Uuid,
    pub title: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
}

/// The proposal for an item's decision, from its live session (clerks of its organization).
#[utoipa::path(get, path = "/api/v1/agenda-items/{id}/decision/proposal", tag = "documents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Agenda item id")),
    responses((status = 200, body = DecisionProposal),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem)))]
pub async fn get_proposal(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<axum::Json<DecisionProposal>> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let id = AgendaItemId::from_uuid(id);
    // Read-only, but through the clerk's check (403 for members who are not its clerk).
    let (txn, item, meeting, _) = begin_on_item(&state, &viewer, id).await?;
    let live = live_state(&txn, meeting.id).await?;
    let recorded = decisions::get(&txn, id).await?;
    let paper_text = match item.paper_id {
        Some(paper) => repo::papers::get_live(&txn, paper)
            .await
            .ok()
            .map(|p| p.text.as_str().to_owned()),
        None => None,
    };
    drop(txn);
    let standing = live
        .as_ref()
        .and_then(|l| deciding_poll(l, id).and_then(|p| VoteRecord::of(p, l)));
    let kind = standing
        .as_ref()
        .map_or(DecisionKind::NoDecision, VoteRecord::proposed_kind);
    let mut polls: Vec<PollChoice> = live
        .as_ref()
        .map(|l| {
            l.polls
                .iter()
                .filter(|p| closed_poll_of(l, id, p.id).is_some())
                .map(|p| PollChoice {
                    id: p.id.as_uuid(),
                    title: p.title.clone(),
                    closed_at: p.closed_at,
                    outcome: VoteRecord::of(p, l).and_then(|r| r.outcome),
                })
                .collect()
        })
        .unwrap_or_default();
    polls.sort_by_key(|p| std::cmp::Reverse(p.closed_at));
    Ok(axum::Json(DecisionProposal {
        recorded: recorded.as_ref().map(DecisionView::from),
        kind: kind.as_str(),
        label: kind.label_de(),
        text: item
            .decision
            .as_ref()
            .map(|d| d.as_str().to_owned())
            .or(paper_text),
        vote: standing.as_ref().map(VoteView::from),
        polls,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRecord {
    /// `adopted`, `adopted_amended`, `rejected`, `elected`, `postponed`, `referred`, `noted`,
    /// `withdrawn` or `no_decision`.
    pub kind: String,
    /// Required for `referred` (to whom, e.g. "Ausschuss für Finanzen"); refused otherwise.
    pub referred_to: Option<String>,
    /// The decision's text (Markdown); absent keeps the item's text, `null` removes it.
    #[serde(default, deserialize_with = "super::clerk::present")]
    #[schema(value_type = Option<String>)]
    pub text: Option<Option<String>>,
    /// The closed poll of this item the decision rests on; its result is copied into the record.
    /// Absent or `null`: no vote result.
    pub poll: Option<Uuid>,
}

/// Records (or replaces) the decision on an agenda item. Clerks of its organization; needs the
/// item's ETag. Members read it at once; the public (portal, the paper's Beratungsfolge, OParl
/// `AgendaItem.result`) once the live session is not running. The item, its meeting and the
/// papers consulted on it count as modified (OParl `modified_since`). 422 for an unknown kind, a
/// poll that is not a closed poll of this item, or a referral without a name; 409 for a
/// cancelled meeting.
#[utoipa::path(put, path = "/api/v1/agenda-items/{id}/decision", tag = "documents",
    security(("bearer" = [])), request_body = DecisionRecord,
    params(("id" = Uuid, Path, description = "Agenda item id"),
        ("If-Match" = String, Header, description = "The item's ETag")),
    responses((status = 200, body = super::documents::AgendaItemDetail, headers(("ETag" = String))),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem), (status = 412, body = crate::Problem),
        (status = 422, body = crate::Problem), (status = 428, body = crate::Problem)))]
pub async fn put_decision(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<DecisionRecord>,
) -> Result<Response> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let id = AgendaItemId::from_uuid(id);
    let (txn, mut item, meeting, etag) = begin_on_item(&state, &viewer, id).await?;
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    if meeting.state == plenum_domain::MeetingState::Cancelled {
        return Ok(conflict(plenum_domain::DomainError::RuleViolated(
            "a cancelled meeting takes no decisions".into(),
        )));
    }
    let kind = DecisionKind::parse(&request.kind)?;
    let referred_to = request
        .referred_to
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let referred_to = match (kind.needs_referral(), referred_to) {
        (true, None) => {
            return Err(invalid(
                "referred_to",
                "say to whom the item is referred (e.g. a committee)",
            ));
        }
        (false, Some(_)) => {
            return Err(invalid(
                "referred_to",
                "only a referral (kind `referred`) names where to",
            ));
        }
        (_, Some(r)) if r.chars().count() > 200 => {
            return Err(invalid("referred_to", "at most 200 characters"));
        }
        (_, r) => r.map(str::to_owned),
    };
    let vote = match request.poll {
        None => None,
        Some(poll) => {
            let live = live_state(&txn, meeting.id).await?;
            let record = live.as_ref().and_then(|l| {
                closed_poll_of(l, id, PollId::from_uuid(poll)).and_then(|p| VoteRecord::of(p, l))
            });
            match record {
                Some(record) => Some(record),
                None => {
                    return Err(invalid("poll", "not a closed poll of this agenda item"));
                }
            }
        }
    };
    if let Some(text) = &request.text {
        item.decision = text.as_deref().map(Markdown::parse).transpose()?;
        repo::agenda_items::update(&txn, item).await?;
    }
    let decision = Decision {
        item: id,
        meeting: meeting.id,
        kind,
        referred_to,
        poll: vote.as_ref().map(|v| v.poll),
        vote,
        recorded_by: viewer.actor.person(),
        recorded_at: state.now(),
    };
    decisions::put(&txn, &decision).await?;
    audit(
        &txn,
        &state,
        &auth,
        "decision.recorded",
        ("agenda_item", id.as_uuid()),
        serde_json::json!({
            "kind": kind.as_str(),
            "poll": decision.poll.map(|p| p.as_uuid()),
            "text": request.text.is_some(),
        }),
    )
    .await?;
    commit(&state, txn).await?;
    let detail = agenda_item_detail(&state.db, &viewer, id).await?;
    with_etag(&HeaderMap::new(), &detail)
}

/// Removes a decision recorded by mistake (the item's text stays). Clerks; needs the item's ETag;
/// 404 when none is recorded. Like recording, moves `modified` of the item, its meeting and its
/// papers.
#[utoipa::path(delete, path = "/api/v1/agenda-items/{id}/decision", tag = "documents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Agenda item id"),
        ("If-Match" = String, Header, description = "The item's ETag")),
    responses((status = 200, body = super::documents::AgendaItemDetail, headers(("ETag" = String))),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 412, body = crate::Problem), (status = 428, body = crate::Problem)))]
pub async fn delete_decision(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let id = AgendaItemId::from_uuid(id);
    let (txn, _, _, etag) = begin_on_item(&state, &viewer, id).await?;
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    if !decisions::remove(&txn, id).await? {
        return Err(crate::ApiError::NotFound);
    }
    audit(
        &txn,
        &state,
        &auth,
        "decision.removed",
        ("agenda_item", id.as_uuid()),
        serde_json::json!({}),
    )
    .await?;
    commit(&state, txn).await?;
    let detail = agenda_item_detail(&state.db, &viewer, id).await?;
    with_etag(&HeaderMap::new(), &detail)
}

/// The decision extract (Beschlussauszug) of an agenda item as a PDF/A document — what the
/// administration forwards to the departments: the meeting, its date, the item's number and
/// title, the paper's reference, the decision's kind and text, and the vote result with the
/// majority rule and the named list (by fraction). Marked "ENTWURF" while no decision is
/// recorded. Clerks who keep the minutes of the item's part; 403 for others who may see the
/// item, 404 for an item the caller may not see (a non-public item for those not entitled).
#[utoipa::path(get, path = "/api/v1/agenda-items/{id}/decision/extract.pdf", tag = "documents",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Agenda item id")),
    responses((status = 200, description = "The extract as PDF/A-2b (`application/pdf`)",
            headers(("Content-Disposition" = String))),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem)))]
pub async fn get_extract_pdf(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let db = &state.db;
    let id = AgendaItemId::from_uuid(id);
    // 404 unless the caller may see the item (and its meeting).
    agenda_item_detail(db, &viewer, id).await?;
    let item = repo::agenda_items::get_live(db, id).await?;
    let meeting = repo::meetings::get_live(db, item.meeting_id).await?;
    let dir = Directory::load(db).await?;
    if !dir.minutes_writable(&viewer, &meeting, item.public) {
        return Err(crate::ApiError::Forbidden);
    }
    let recorded = decisions::get(db, id).await?;
    let (extract, file_name) =
        extract_of(&state, &dir, &item, &meeting, recorded, Audience::Clerk).await?;
    let pdf = crate::pdf::render(move || plenum_render::decision_extract_pdf(&extract)).await?;
    Ok(crate::pdf::response(pdf, &file_name))
}

/// For whom a decision extract is made.
enum Audience<'a> {
    /// The clerk: everything, the named list included.
    Clerk,
    /// The public, for a public item: its paper's reference only while the paper is public.
    Public,
    /// The public, for an announced non-public item: the public title, the decision and the vote
    /// totals; neither the item's number and title, nor its paper, nor who voted how.
    Announced(&'a Announcement),
}

/// The decision extract of an item and its file name.
async fn extract_of(
    state: &AppState,
    dir: &Directory,
    item: &AgendaItem,
    meeting: &Meeting,
    recorded: Option<Decision>,
    audience: Audience<'_>,
) -> Result<(plenum_render::DecisionExtract, String)> {
    let db = &state.db;
    let organization = dir.organizations.get(&meeting.organization_id);
    let body_name = crate::render::body_name(state, dir, meeting).await;
    let paper_reference = match (item.paper_id, &audience) {
        (Some(_), Audience::Announced(_)) | (None, _) => None,
        (Some(paper), _) => repo::papers::get_live(db, paper)
            .await
            .ok()
            .filter(|p| p.public || matches!(audience, Audience::Clerk))
            .map(|p| p.reference.as_str().to_owned()),
    };
    let fractions = match audience {
        Audience::Announced(_) => HashMap::new(),
        _ => live_state(db, meeting.id)
            .await?
            .map(|l| {
                l.roster
                    .members
                    .into_iter()
                    .filter_map(|m| m.fraction.map(|f| (m.person, f)))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let (number, title, announced) = match audience {
        Audience::Announced(a) => (
            String::new(),
            a.title.clone(),
            Some(a.note.clone().unwrap_or_default()),
        ),
        _ => (
            item.number.as_str().to_owned(),
            item.title.as_str().to_owned(),
            None,
        ),
    };
    let decision = recorded.map(|d| plenum_domain::ItemDecision {
        kind: d.kind,
        referred_to: d.referred_to,
        vote: d.vote.map(|v| match audience {
            Audience::Announced(a) => announced_vote(v, &a.title),
            _ => v,
        }),
    });
    let short: String = title.chars().take(80).collect();
    let file_name = if number.is_empty() {
        format!("Beschlussauszug {short}.pdf")
    } else {
        format!("Beschlussauszug {number} {short}.pdf")
    };
    let extract = plenum_render::DecisionExtract {
        body_name,
        organization: organization
            .map(|o| o.name.as_str().to_owned())
            .unwrap_or_default(),
        meeting_name: meeting.name.as_str().to_owned(),
        meeting_date: meeting.start,
        location: meeting
            .location_id
            .and_then(|l| dir.locations.get(&l))
            .map(|l| l.description.as_str().to_owned()),
        public: item.public,
        item_number: number,
        item_title: title,
        paper_reference,
        decision_text: item.decision.as_ref().map(|d| d.as_str().to_owned()),
        draft: decision.is_none(),
        decision,
        fractions,
        announced,
    };
    Ok((extract, file_name))
}

/// The vote of an announced decision as the public reads it: the totals, the rule and the
/// outcome (for an election the candidates' votes), under the public title; never who voted
/// how or who did not vote.
pub(crate) fn announced_vote(mut vote: VoteRecord, title: &str) -> VoteRecord {
    title.clone_into(&mut vote.title);
    vote.named.clear();
    vote.not_voted.clear();
    vote
}

/// What the public reads of a decision, if anything: a public item's recorded decision once
/// its meeting's live session is not running, or an announced non-public item's likewise.
/// `None` for everything else (unknown, deleted, non-public and not announced, no decision, a
/// meeting the public may not see).
pub(crate) struct PublicDecision {
    pub item: AgendaItem,
    pub meeting: Meeting,
    pub decision: Decision,
    pub announcement: Option<Announcement>,
}

pub(crate) async fn public_decision(
    db: &impl plenum_store::ConnectionTrait,
    dir: &Directory,
    id: AgendaItemId,
) -> Result<Option<PublicDecision>> {
    let Ok(item) = repo::agenda_items::get_live(db, id).await else {
        return Ok(None);
    };
    let Ok(meeting) = repo::meetings::get_live(db, item.meeting_id).await else {
        return Ok(None);
    };
    let public = Viewer::public();
    if !dir.meeting_visible(&public, &meeting) {
        return Ok(None);
    }
    let announcement = if item.public {
        if !dir.item_visible(&public, &meeting, &item) {
            return Ok(None);
        }
        None
    } else {
        match announcements::get(db, id).await? {
            Some(a) => Some(a),
            None => return Ok(None),
        }
    };
    let live = live_state(db, meeting.id).await?;
    if !decision_visible(&public, live.as_ref()) {
        return Ok(None);
    }
    let Some(decision) = decisions::get(db, id).await? else {
        return Ok(None);
    };
    Ok(Some(PublicDecision {
        item,
        meeting,
        decision,
        announcement,
    }))
}

/// The public decision extract of an item: its bytes and file name; 404 unless the public may
/// read the decision ([`public_decision`]).
pub(crate) async fn public_extract(
    state: &AppState,
    id: AgendaItemId,
) -> Result<(Vec<u8>, String)> {
    let dir = Directory::load(&state.db).await?;
    let found = public_decision(&state.db, &dir, id)
        .await?
        .ok_or(crate::ApiError::NotFound)?;
    let audience = match &found.announcement {
        Some(a) => Audience::Announced(a),
        None => Audience::Public,
    };
    let (extract, file_name) = extract_of(
        state,
        &dir,
        &found.item,
        &found.meeting,
        Some(found.decision.clone()),
        audience,
    )
    .await?;
    let pdf = crate::pdf::render(move || plenum_render::decision_extract_pdf(&extract)).await?;
    Ok((pdf, file_name))
}

/// The decision extract (Beschlussauszug) of a decision the public may read, as PDF/A: a public
/// item's recorded decision once its meeting's live session is not running (the rule the portal
/// and OParl's `AgendaItem.result` follow), or a non-public item's announced decision (under its
/// public title, with the vote totals but no named list). OParl serves it as
/// `AgendaItem.resolutionFile`. 404 for anything else.
#[utoipa::path(get, path = "/api/v1/public/agenda-items/{id}/extract.pdf", tag = "public",
    params(("id" = Uuid, Path, description = "Agenda item id")),
    responses((status = 200, description = "The extract as PDF/A-2b (`application/pdf`)",
            content_type = "application/pdf", body = Vec<u8>,
            headers(("Content-Disposition" = String))),
        (status = 404, body = crate::Problem)))]
pub async fn get_public_extract_pdf(
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response> {
    let (pdf, file_name) = public_extract(&state, AgendaItemId::from_uuid(id)).await?;
    let mut response = crate::pdf::response(pdf, &file_name);
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    if let Ok(value) = HeaderValue::from_str(&crate::routes::files::content_disposition(
        "inline", &file_name,
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnouncementRequest {
    /// The title the public reads (the item's own title may name persons): 1 to 300 characters.
    #[schema(min_length = 1, max_length = 300, pattern = "\\S")]
    pub title: String,
    /// E.g. "bekanntgegeben in der Sitzung am 12.03.2027" (at most 500 characters; blank or
    /// absent: none).
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// A one-line text for the public: trimmed, without control characters, within `max`
/// characters; `None` when blank.
fn public_line(field: &'static str, raw: &str, max: usize) -> Result<Option<String>> {
    let text = raw.trim();
    if text.chars().any(char::is_control) {
        return Err(invalid(field, "no control characters or line breaks"));
    }
    if text.chars().count() > max {
        return Err(invalid(field, format!("at most {max} characters")));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// Announces the decision of one non-public item on its own (Bekanntgabe), once the reason for
/// secrecy has gone: from now on the portal (under the meeting, "Bekanntgegebener Beschluss aus
/// nichtöffentlicher Sitzung") and OParl (an `AgendaItem` with `public: false` embedded in the
/// meeting, with `result`, `resolutionText` and `resolutionFile`) show the decision's kind, text
/// and vote totals under the public `title` the clerk gives — nothing else of the non-public
/// part. Clerks of the item's organization; needs the item's ETag. 403 for members who see the
/// item, 404 for those who do not; 409 for a public item (its decision is published with the
/// meeting), an item without a recorded decision, a live session still running, or an item
/// announced already (there is no revocation); 422 for a blank or too long title or note.
/// The item and its meeting count as modified. Audited as `decision.announced`.
#[utoipa::path(post, path = "/api/v1/agenda-items/{id}/announcement", tag = "documents",
    security(("bearer" = [])), request_body = AnnouncementRequest,
    params(("id" = Uuid, Path, description = "Agenda item id"),
        ("If-Match" = String, Header, description = "The item's ETag")),
    responses((status = 200, body = super::documents::AgendaItemDetail, headers(("ETag" = String))),
        (status = 403, body = crate::Problem), (status = 404, body = crate::Problem),
        (status = 409, body = crate::Problem), (status = 412, body = crate::Problem),
        (status = 422, body = crate::Problem), (status = 428, body = crate::Problem)))]
pub async fn announce(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<AnnouncementRequest>,
) -> Result<Response> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let id = AgendaItemId::from_uuid(id);
    let (txn, item, meeting, etag) = begin_on_item(&state, &viewer, id).await?;
    if let Some(problem) = precondition(&headers, &etag) {
        return Ok(problem);
    }
    let Some(title) = public_line("title", &request.title, 300)? else {
        return Err(invalid("title", "give the title the public reads"));
    };
    let note = match request.note.as_deref() {
        Some(note) => public_line("note", note, 500)?,
        None => None,
    };
    let refuse = |message: &str| {
        Ok(conflict(plenum_domain::DomainError::RuleViolated(
            message.to_owned(),
        )))
    };
    if item.public {
        return refuse("a public item's decision is published with its meeting");
    }
    if decisions::get(&txn, id).await?.is_none() {
        return refuse("record the decision first");
    }
    if super::documents::is_open(live_state(&txn, meeting.id).await?.as_ref()) {
        return refuse("the live session is still running");
    }
    if announcements::get(&txn, id).await?.is_some() {
        return refuse("this decision is announced already");
    }
    let announcement = Announcement {
        item: id,
        meeting: meeting.id,
        title: title.clone(),
        note: note.clone(),
        announced_at: state.now(),
        announced_by: Some(auth.user.id),
    };
    announcements::announce(&txn, &announcement).await?;
    audit(
        &txn,
        &state,
        &auth,
        "decision.announced",
        ("agenda_item", id.as_uuid()),
        serde_json::json!({
            "meeting": meeting.id.as_uuid(),
            "title": title,
            "note": note.is_some(),
        }),
    )
    .await?;
    commit(&state, txn).await?;
    let detail = agenda_item_detail(&state.db, &viewer, id).await?;
    with_etag(&HeaderMap::new(), &detail)
}
