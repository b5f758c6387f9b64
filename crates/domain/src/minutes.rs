//! The minutes (Niederschrift), drafted from what the session recorded: the meeting's event log
//! (start, breaks, end, attendance with times, quorum statements and doubts, conflicts of
//! interest), its live state, the recorded decisions and the clerk's notes per item
//! (Protokollnotiz). Nothing is retyped: the draft is assembled on every read, so a correction
//! made in the live session or to a decision shows at once.
//!
//! A meeting has two documents: the public part and the non-public part. [`draft`] builds one of
//! them; a non-public item (its number, title, decision, conflicts and note) never appears in the
//! public part.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    AgendaItem, AgendaItemId, AttendanceStatus, BallotChoice, DecisionKind, DomainError, Event,
    LiveState, Meeting, MembershipRole, PersonId, PollState, QuorumStanding, QuorumStatus,
    SpeakerEntryId, VoteRecord,
};

/// Which of a meeting's two minutes documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinutesPart {
    /// Öffentlicher Teil.
    Public,
    /// Nichtöffentlicher Teil.
    NonPublic,
}

impl MinutesPart {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "public" => Ok(Self::Public),
            "non_public" => Ok(Self::NonPublic),
            other => Err(DomainError::invalid(
                "part",
                format!("unknown part {other:?}: `public` or `non_public`"),
            )),
        }
    }

    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::NonPublic => "non_public",
        }
    }

    /// Whether an item with this publicity belongs to this part.
    pub const fn holds(&self, item_public: bool) -> bool {
        match self {
            Self::Public => item_public,
            Self::NonPublic => !item_public,
        }
    }
}

/// The clerk's note for the minutes on one agenda item (Protokollnotiz): Markdown, at most
/// [`MinutesNoteText::MAX_CHARS`] characters, not blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinutesNoteText(String);

impl MinutesNoteText {
    pub const MAX_CHARS: usize = 20_000;

    /// The note, or `None` for a blank text (which removes the note).
    pub fn parse(raw: &str) -> Result<Option<Self>, DomainError> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "text",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(DomainError::invalid(
                "text",
                "must not contain control characters",
            ));
        }
        Ok(Some(Self(text.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A recorded decision as the minutes need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemDecision {
    pub kind: DecisionKind,
    pub referred_to: Option<String>,
    pub vote: Option<VoteRecord>,
}

/// A stored Protokollnotiz.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesNote {
    pub text: String,
    pub updated_at: DateTime<Utc>,
}

/// Everything the draft is made from.
pub struct MinutesFacts<'a> {
    pub meeting: &'a Meeting,
    pub organization: String,
    pub location: Option<String>,
    /// The meeting's agenda items (any order; the draft sorts by position).
    pub items: &'a [AgendaItem],
    pub live: Option<&'a LiveState>,
    /// The meeting's event log, oldest first, each with the time it was recorded.
    pub events: &'a [(DateTime<Utc>, Event)],
    pub decisions: &'a HashMap<AgendaItemId, ItemDecision>,
    pub notes: &'a HashMap<AgendaItemId, MinutesNote>,
}

/// A break (Unterbrechung): paused at `from`, resumed at `to` (none if never resumed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionBreak {
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
}

/// One member of the organization and their attendance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceLine {
    pub person: PersonId,
    pub name: String,
    pub role: MembershipRole,
    pub voting_right: bool,
    pub fraction: Option<String>,
    /// The latest status; `Absent` for a member who never checked in.
    pub status: AttendanceStatus,
    /// Since when (none for a member who never checked in).
    pub since: Option<DateTime<Utc>>,
    /// Every change in order: arriving, leaving, excused.
    pub changes: Vec<(AttendanceStatus, DateTime<Utc>)>,
}

/// A stand-in (Vertretung) during the session: who stood in for whom, from when to when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandInLine {
    pub member: PersonId,
    pub member_name: String,
    pub substitute: PersonId,
    pub substitute_name: String,
    pub from: DateTime<Utc>,
    /// None while it lasts (to the end of the session).
    pub to: Option<DateTime<Utc>>,
}

/// A quorum statement by the chair, or a member's doubt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuorumLine {
    pub at: DateTime<Utc>,
    /// `declared` (the chair's statement), `doubted` (a member's doubt) or `changed` (an
    /// arrival or departure changed where the quorum stands).
    pub kind: &'static str,
    /// The chair's statement: quorate or not. None for a doubt.
    pub quorate: Option<bool>,
    pub count: QuorumStatus,
    /// Who doubted.
    pub person: Option<String>,
    /// For `changed`: where the quorum stands now.
    pub standing: Option<QuorumStanding>,
}

/// A [`QuorumLine`] as a frozen version of the minutes stores it.
#[derive(Deserialize)]
struct QuorumLineStored {
    at: DateTime<Utc>,
    kind: String,
    quorate: Option<bool>,
    count: QuorumStatus,
    person: Option<String>,
    standing: Option<QuorumStanding>,
}

impl<'de> Deserialize<'de> for QuorumLine {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = QuorumLineStored::deserialize(deserializer)?;
        QuorumLine::try_from(stored).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<QuorumLineStored> for QuorumLine {
    type Error = String;

    fn try_from(stored: QuorumLineStored) -> Result<Self, Self::Error> {
        let kind = ["declared", "doubted", "changed"]
            .into_iter()
            .find(|kind| *kind == stored.kind)
            .ok_or_else(|| format!("unknown quorum line kind {:?}", stored.kind))?;
        Ok(QuorumLine {
            at: stored.at,
            kind,
            quorate: stored.quorate,
            count: stored.count,
            person: stored.person,
            standing: stored.standing,
        })
    }
}

/// A conflict of interest declared on an item (the member left the table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictLine {
    pub person: PersonId,
    pub name: String,
    pub at: Option<DateTime<Utc>>,
}

/// A speech on an item (Wortmeldung), from the speakers list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeakerLine {
    pub person: PersonId,
    pub name: String,
    /// A point of order (Antrag zur Geschäftsordnung).
    pub point_of_order: bool,
    pub from: DateTime<Utc>,
    /// None if the speech was never ended (the next call or the close ends it).
    pub to: Option<DateTime<Utc>>,
}

/// A member's request that their vote in an open poll be recorded in the minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRecordLine {
    pub poll: crate::PollId,
    pub poll_title: String,
    pub person: PersonId,
    pub name: String,
    /// The vote as it finally stood.
    pub choice: BallotChoice,
    pub at: DateTime<Utc>,
}

/// One agenda item in the minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesItem {
    pub id: AgendaItemId,
    pub number: String,
    pub title: String,
    /// The decision's text (Markdown), from the item.
    pub decision_text: Option<String>,
    pub decision: Option<ItemDecision>,
    /// Every closed poll on the item in the order they closed: corrections, an election's
    /// rounds (Stichwahl) and procedural votes, each with its result.
    pub polls: Vec<VoteRecord>,
    pub conflicts: Vec<ConflictLine>,
    pub note: Option<MinutesNote>,
    /// Who spoke on the item, in the order they were called.
    #[serde(default)]
    pub speakers: Vec<SpeakerLine>,
    /// Members who asked that their vote be recorded, in the order they asked.
    #[serde(default)]
    pub vote_records: Vec<VoteRecordLine>,
}

/// The draft of one part of a meeting's minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesDraft {
    pub part: MinutesPart,
    pub meeting_name: String,
    pub organization: String,
    pub location: Option<String>,
    pub scheduled_start: DateTime<Utc>,
    pub scheduled_end: Option<DateTime<Utc>>,
    /// When the invitation was issued (Einladung vom …); none before.
    #[serde(default)]
    pub invited_at: Option<DateTime<Utc>>,
    /// Why the notice period was shortened, if the invitation was late (the draft's assembler
    /// fills it from the frozen invitation; the domain does not hold invitations).
    #[serde(default)]
    pub invitation_late_reason: Option<String>,
    /// The notice period (Ladungsfrist) the invitation was issued under, in days: the body's
    /// setting at that time (filled, like the reason, from the frozen invitation).
    #[serde(default)]
    pub invitation_notice_days: Option<u32>,
    /// When the live session began and ended (none before it did).
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub breaks: Vec<SessionBreak>,
    pub attendance: Vec<AttendanceLine>,
    /// Stand-ins in the order they began.
    #[serde(default)]
    pub stand_ins: Vec<StandInLine>,
    pub quorum: Vec<QuorumLine>,
    /// When the first non-public item became current (Beginn des nichtöffentlichen Teils).
    #[serde(default)]
    pub non_public_began: Option<DateTime<Utc>>,
    /// When the public part ended because the session went on non-publicly: the last move
    /// from a public to a non-public item after which no public item became current.
    #[serde(default)]
    pub public_ended: Option<DateTime<Utc>>,
    pub items: Vec<MinutesItem>,
}

/// Assembles one part of the minutes from the facts.
pub fn draft(facts: &MinutesFacts<'_>, part: MinutesPart) -> MinutesDraft {
    let live = facts.live;
    let name_of = |person: PersonId| {
        live.and_then(|l| l.roster.members.iter().find(|m| m.person == person))
            .map_or_else(|| person.to_string(), |m| m.name.clone())
    };

    let mut started_at = None;
    let mut ended_at = None;
    let mut breaks: Vec<SessionBreak> = Vec::new();
    let mut changes: HashMap<PersonId, Vec<(AttendanceStatus, DateTime<Utc>)>> = HashMap::new();
    let mut quorum = Vec::new();
    let mut conflict_times: HashMap<(AgendaItemId, PersonId), DateTime<Utc>> = HashMap::new();
    let mut last_standing: Option<QuorumStanding> = None;
    let mut stand_ins: Vec<StandInLine> = Vec::new();
    let mut speakers: HashMap<AgendaItemId, Vec<(SpeakerEntryId, SpeakerLine)>> = HashMap::new();
    let mut speaking: Option<(AgendaItemId, SpeakerEntryId)> = None;
    let mut current_item: Option<AgendaItemId> = None;
    let mut in_public = true;
    let mut non_public_began = None;
    let mut public_ended = None;
    let mut vote_records: Vec<(crate::PollId, PersonId, BallotChoice, DateTime<Utc>)> = Vec::new();
    let item_public = |id: AgendaItemId| {
        live.and_then(|l| l.agenda.iter().find(|e| e.id == id))
            .map(|e| e.public)
            .or_else(|| facts.items.iter().find(|i| i.id == id).map(|i| i.public))
    };
    for (recorded, event) in facts.events {
        match event {
            Event::CurrentItemChanged { item } => {
                current_item = *item;
                if let Some(item) = item
                    && item_public(*item) == Some(true)
                {
                    in_public = true;
                    public_ended = None;
                }
            }
            Event::NonPublicPartStarted => {
                non_public_began.get_or_insert(*recorded);
                if in_public {
                    public_ended = Some(*recorded);
                }
                in_public = false;
            }
            Event::SpeakerCalled { entry, at } => {
                let end = |list: &mut Vec<(SpeakerEntryId, SpeakerLine)>, id| {
                    if let Some((_, line)) = list.iter_mut().rev().find(|(e, _)| *e == id) {
                        line.to.get_or_insert(*at);
                    }
                };
                if let Some((item, id)) = speaking.take()
                    && let Some(list) = speakers.get_mut(&item)
                {
                    end(list, id);
                }
                if let Some(item) = entry.item.or(current_item) {
                    speakers.entry(item).or_default().push((
                        entry.id,
                        SpeakerLine {
                            person: entry.person,
                            name: name_of(entry.person),
                            point_of_order: entry.point_of_order,
                            from: *at,
                            to: None,
                        },
                    ));
                    speaking = Some((item, entry.id));
                }
            }
            Event::SpeechEnded { entry, at } => {
                if let Some((item, id)) = speaking
                    && id == *entry
                {
                    speaking = None;
                    if let Some((_, line)) = speakers
                        .get_mut(&item)
                        .and_then(|l| l.iter_mut().rev().find(|(e, _)| e == entry))
                    {
                        line.to.get_or_insert(*at);
                    }
                }
            }
            Event::VoteRecordRequested {
                poll,
                person,
                choice,
                at,
            } => vote_records.push((*poll, *person, *choice, *at)),
            Event::MeetingStarted { at } => {
                started_at.get_or_insert(*at);
            }
            Event::MeetingPaused { at } => breaks.push(SessionBreak {
                from: *at,
                to: None,
            }),
            Event::MeetingResumed { at } => {
                if let Some(open) = breaks.iter_mut().rev().find(|b| b.to.is_none()) {
                    open.to = Some(*at);
                }
            }
            Event::MeetingClosed { at } => ended_at = Some(*at),
            Event::AttendanceChanged { .. } | Event::AttendanceBulkChanged { .. } => {
                let Some(change) = event.attendance_change() else {
                    continue;
                };
                let (persons, status, at, count, standing) = (
                    change.persons,
                    change.status,
                    change.at,
                    change.quorum,
                    change.standing,
                );
                for person in persons {
                    changes.entry(*person).or_default().push((status, at));
                }
                if let Some(standing) = standing
                    && last_standing != Some(standing)
                {
                    last_standing = Some(standing);
                    quorum.push(QuorumLine {
                        at,
                        kind: "changed",
                        quorate: None,
                        count,
                        person: None,
                        standing: Some(standing),
                    });
                }
            }
            Event::ConflictDeclared { item, person, at } => {
                conflict_times.entry((*item, *person)).or_insert(*at);
            }
            Event::StandInSet { stand_in, .. } => stand_ins.push(StandInLine {
                member: stand_in.member,
                member_name: name_of(stand_in.member),
                substitute: stand_in.substitute,
                substitute_name: name_of(stand_in.substitute),
                from: stand_in.since,
                to: None,
            }),
            Event::StandInEnded { member, at, .. } => {
                if let Some(open) = stand_ins
                    .iter_mut()
                    .rev()
                    .find(|s| s.member == *member && s.to.is_none())
                {
                    open.to = Some(*at);
                }
            }
            Event::QuorumDeclared { declaration } => quorum.push(QuorumLine {
                at: declaration.at,
                kind: "declared",
                quorate: Some(declaration.quorate),
                count: declaration.count,
                person: None,
                standing: None,
            }),
            Event::QuorumDoubted { doubt } => quorum.push(QuorumLine {
                at: doubt.at,
                kind: "doubted",
                quorate: None,
                count: doubt.count,
                person: Some(name_of(doubt.person)),
                standing: None,
            }),
            _ => {}
        }
    }
    // A live state without its events (never expected) still yields what it knows.
    if let Some(live) = live {
        started_at = started_at.or(live.started_at);
        if quorum.is_empty() {
            let record = &live.quorum_record;
            quorum.extend(record.declared.iter().map(|d| QuorumLine {
                at: d.at,
                kind: "declared",
                quorate: Some(d.quorate),
                count: d.count,
                person: None,
                standing: None,
            }));
            quorum.extend(record.doubts.iter().map(|d| QuorumLine {
                at: d.at,
                kind: "doubted",
                quorate: None,
                count: d.count,
                person: Some(name_of(d.person)),
                standing: None,
            }));
        }
    }
    if ended_at.is_none() && live.is_some_and(|l| l.status == crate::SessionStatus::Closed) {
        ended_at = facts.meeting.end;
    }

    let attendance = live
        .map(|l| {
            let mut lines: Vec<AttendanceLine> = l
                .roster
                .members
                .iter()
                .map(|m| {
                    let current = l.attendance.get(&m.person);
                    AttendanceLine {
                        person: m.person,
                        name: m.name.clone(),
                        role: m.role,
                        voting_right: m.voting_right,
                        fraction: m.fraction.clone(),
                        status: current.map_or(AttendanceStatus::Absent, |a| a.status),
                        since: current.map(|a| a.since),
                        changes: changes.remove(&m.person).unwrap_or_else(|| {
                            current
                                .map(|a| vec![(a.status, a.since)])
                                .unwrap_or_default()
                        }),
                    }
                })
                .collect();
            lines.sort_by(|a, b| a.name.cmp(&b.name));
            lines
        })
        .unwrap_or_default();

    let mut items: Vec<&AgendaItem> = facts
        .items
        .iter()
        .filter(|i| part.holds(i.public))
        .collect();
    items.sort_by_key(|i| (i.position, i.id));
    let items = items
        .into_iter()
        .map(|item| {
            let mut conflicts: Vec<ConflictLine> = live
                .map(|l| {
                    l.conflicts
                        .iter()
                        .filter(|(i, _)| *i == item.id)
                        .map(|(_, person)| ConflictLine {
                            person: *person,
                            name: name_of(*person),
                            at: conflict_times.get(&(item.id, *person)).copied(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            conflicts.sort_by(|a, b| a.name.cmp(&b.name));
            let mut polls: Vec<(Option<DateTime<Utc>>, VoteRecord)> = live
                .map(|l| {
                    l.polls
                        .iter()
                        .filter(|p| p.item == Some(item.id) && p.state == PollState::Closed)
                        .filter_map(|p| VoteRecord::of(p, l).map(|r| (p.closed_at, r)))
                        .collect()
                })
                .unwrap_or_default();
            polls.sort_by_key(|(closed_at, _)| *closed_at);
            MinutesItem {
                id: item.id,
                number: item.number.as_str().to_owned(),
                title: item.title.as_str().to_owned(),
                decision_text: item.decision.as_ref().map(|d| d.as_str().to_owned()),
                decision: facts.decisions.get(&item.id).cloned(),
                polls: polls.into_iter().map(|(_, r)| r).collect(),
                conflicts,
                note: facts.notes.get(&item.id).cloned(),
                speakers: speakers
                    .remove(&item.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(_, line)| line)
                    .collect(),
                vote_records: vote_records
                    .iter()
                    .filter_map(|(poll, person, choice, at)| {
                        let p = live?.poll(*poll)?;
                        (p.item == Some(item.id)).then(|| VoteRecordLine {
                            poll: *poll,
                            poll_title: p.title.clone(),
                            person: *person,
                            name: name_of(*person),
                            choice: p.choices.get(person).copied().unwrap_or(*choice),
                            at: *at,
                        })
                    })
                    .collect(),
            }
        })
        .collect();

    MinutesDraft {
        part,
        meeting_name: facts.meeting.name.as_str().to_owned(),
        organization: facts.organization.clone(),
        location: facts.location.clone(),
        scheduled_start: facts.meeting.start,
        scheduled_end: facts.meeting.end,
        invited_at: facts.meeting.invited_at,
        invitation_late_reason: None,
        invitation_notice_days: None,
        started_at,
        ended_at,
        breaks,
        attendance,
        stand_ins,
        quorum,
        non_public_began,
        public_ended,
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        AgendaEntry, AgendaNumber, Command, CommandActor, Markdown, MeetingId, MeetingState, Meta,
        Name, OrganizationId, Roster, RosterMember, RuleSet, Title,
    };

    fn item(
        meeting: MeetingId,
        number: &str,
        position: u32,
        public: bool,
        title: &str,
    ) -> AgendaItem {
        AgendaItem {
            id: AgendaItemId::new(),
            meta: Meta::default(),
            meeting_id: meeting,
            number: AgendaNumber::parse(number).unwrap(),
            position,
            public,
            title: Title::parse(title).unwrap(),
            paper_id: None,
            decision: Some(Markdown::parse(&format!("Beschluss zu {title}")).unwrap()),
        }
    }

    fn run(
        state: &mut LiveState,
        actor: &CommandActor,
        command: Command,
        log: &mut Vec<(DateTime<Utc>, Event)>,
    ) {
        let now = Utc::now();
        let applied = state.decide(actor, &command, now, 1).unwrap();
        state.apply_all(&applied);
        log.extend(applied.events.iter().map(|e| (now, e.clone())));
    }

    #[test]
    fn the_public_part_holds_no_non_public_item_and_the_draft_follows_the_log() {
        let meeting = Meeting {
            id: MeetingId::new(),
            meta: Meta::default(),
            organization_id: OrganizationId::new(),
            name: Name::parse("Bauausschuss").unwrap(),
            start: Utc::now(),
            end: None,
            location_id: None,
            state: MeetingState::Running,
            invited_at: None,
        };
        let items = vec![
            item(meeting.id, "N 1", 3, false, "Grundstück Flur 9"),
            item(meeting.id, "Ö 2", 2, true, "Radweg"),
            item(meeting.id, "Ö 1", 1, true, "Feuerwache"),
        ];
        let people: Vec<PersonId> = (0..3).map(|_| PersonId::new()).collect();
        let roster = Roster {
            organization: meeting.organization_id,
            organization_kind: crate::OrganizationKind::Committee,
            statutory_seats: 3,
            rule_set: RuleSet::NordrheinWestfalen,
            members: ["Vogel, Anna", "Berg, Carl", "Adler, Eva"]
                .iter()
                .zip(&people)
                .enumerate()
                .map(|(i, (name, person))| RosterMember {
                    person: *person,
                    name: (*name).to_owned(),
                    role: if i == 0 {
                        MembershipRole::Chair
                    } else {
                        MembershipRole::Member
                    },
                    voting_right: true,
                    fraction: Some("SPD".into()),
                })
                .collect(),
        };
        let agenda = items
            .iter()
            .map(|i| AgendaEntry {
                id: i.id,
                number: i.number.as_str().to_owned(),
                title: i.title.as_str().to_owned(),
                public: i.public,
            })
            .collect();
        let mut state = LiveState::new(meeting.id, roster, agenda);
        let chair = CommandActor {
            person: Some(people[0]),
            chair: true,
        };
        let member = |p: PersonId| CommandActor {
            person: Some(p),
            chair: false,
        };
        let mut log = Vec::new();
        run(
            &mut state,
            &chair,
            Command::StartMeeting {
                confirm_other_day: true,
            },
            &mut log,
        );
        run(
            &mut state,
            &member(people[0]),
            Command::CheckIn { remote: false },
            &mut log,
        );
        run(
            &mut state,
            &member(people[1]),
            Command::CheckIn { remote: false },
            &mut log,
        );
        // Ö 1: Berg speaks, then Vogel; an open poll, Berg has his vote recorded.
        let feuerwache = items[2].id;
        run(
            &mut state,
            &chair,
            Command::SetCurrentItem {
                item: Some(feuerwache),
            },
            &mut log,
        );
        for speaker in [people[1], people[0]] {
            run(
                &mut state,
                &member(speaker),
                Command::RequestToSpeak {
                    point_of_order: false,
                },
                &mut log,
            );
        }
        run(&mut state, &chair, Command::CallNextSpeaker, &mut log);
        run(&mut state, &chair, Command::CallNextSpeaker, &mut log);
        run(&mut state, &chair, Command::EndSpeech, &mut log);
        let poll = crate::PollId::new();
        run(
            &mut state,
            &chair,
            Command::CreatePoll {
                poll,
                item: Some(feuerwache),
                title: "Neubau Feuerwache".into(),
                kind: crate::PollKind::Open,
                rule: crate::MajorityRule::Simple,
                options: vec![],
                allow_change: false,
                corrects: None,
                motion: None,
                amendment: None,
            },
            &mut log,
        );
        run(
            &mut state,
            &chair,
            Command::OpenPoll {
                poll,
                confirm_below_quorum: true,
            },
            &mut log,
        );
        for (voter, choice) in [
            (people[0], crate::Choice::Yes),
            (people[1], crate::Choice::No),
        ] {
            run(
                &mut state,
                &member(voter),
                Command::CastBallot {
                    poll,
                    choice: BallotChoice::Choice(choice),
                },
                &mut log,
            );
        }
        run(&mut state, &chair, Command::ClosePoll { poll }, &mut log);
        run(
            &mut state,
            &member(people[1]),
            Command::RequestVoteRecord { poll },
            &mut log,
        );
        let public_end = Utc::now();
        let secret = items[0].id;
        run(
            &mut state,
            &chair,
            Command::SetCurrentItem { item: Some(secret) },
            &mut log,
        );
        run(
            &mut state,
            &member(people[1]),
            Command::DeclareConflict {
                item: secret,
                person: None,
            },
            &mut log,
        );
        let mut decisions = HashMap::new();
        decisions.insert(
            secret,
            ItemDecision {
                kind: DecisionKind::Referred,
                referred_to: Some("Liegenschaftsausschuss".into()),
                vote: None,
            },
        );
        let mut notes = HashMap::new();
        for i in &items {
            notes.insert(
                i.id,
                MinutesNote {
                    text: format!("Notiz zu {}", i.title.as_str()),
                    updated_at: Utc::now(),
                },
            );
        }
        let facts = MinutesFacts {
            meeting: &meeting,
            organization: "Bauausschuss".into(),
            location: None,
            items: &items,
            live: Some(&state),
            events: &log,
            decisions: &decisions,
            notes: &notes,
        };

        let public = draft(&facts, MinutesPart::Public);
        let numbers: Vec<&str> = public.items.iter().map(|i| i.number.as_str()).collect();
        assert_eq!(numbers, ["Ö 1", "Ö 2"], "public items in agenda order");
        let text = format!("{public:?}");
        for leak in ["Flur 9", "Liegenschaftsausschuss", "Notiz zu Grundstück"] {
            assert!(!text.contains(leak), "{leak} leaked into the public part");
        }
        assert!(public.items.iter().all(|i| i.conflicts.is_empty()));
        assert_eq!(
            public.items[0].note.as_ref().unwrap().text,
            "Notiz zu Feuerwache"
        );
        assert!(public.started_at.is_some());
        assert!(public.ended_at.is_none());
        let attendance: Vec<(&str, AttendanceStatus)> = public
            .attendance
            .iter()
            .map(|a| (a.name.as_str(), a.status))
            .collect();
        assert_eq!(
            attendance,
            [
                ("Adler, Eva", AttendanceStatus::Absent),
                ("Berg, Carl", AttendanceStatus::Present),
                ("Vogel, Anna", AttendanceStatus::Present),
            ]
        );
        assert_eq!(public.attendance[1].changes.len(), 1);
        assert!(
            public
                .quorum
                .iter()
                .any(|q| q.kind == "changed" && q.standing.is_some()),
            "arrivals that change where the quorum stands are recorded: {:?}",
            public.quorum
        );

        let speakers: Vec<(&str, bool)> = public.items[0]
            .speakers
            .iter()
            .map(|l| (l.name.as_str(), l.to.is_some()))
            .collect();
        assert_eq!(
            speakers,
            [("Berg, Carl", true), ("Vogel, Anna", true)],
            "who spoke on Ö 1, in order, each speech ended"
        );
        assert!(public.items[1].speakers.is_empty());
        let records: Vec<(&str, BallotChoice)> = public.items[0]
            .vote_records
            .iter()
            .map(|r| (r.name.as_str(), r.choice))
            .collect();
        assert_eq!(
            records,
            [("Berg, Carl", BallotChoice::Choice(crate::Choice::No))]
        );
        let ended = public.public_ended.expect("the public part ended");
        assert!(ended >= public_end);
        assert_eq!(public.non_public_began, Some(ended));

        let non_public = draft(&facts, MinutesPart::NonPublic);
        assert_eq!(non_public.non_public_began, Some(ended));
        assert_eq!(non_public.items.len(), 1);
        let secret_item = &non_public.items[0];
        assert_eq!(secret_item.title, "Grundstück Flur 9");
        assert_eq!(secret_item.conflicts.len(), 1);
        assert_eq!(secret_item.conflicts[0].name, "Berg, Carl");
        assert!(secret_item.conflicts[0].at.is_some());
        assert_eq!(
            secret_item.decision.as_ref().map(|d| d.kind),
            Some(DecisionKind::Referred)
        );
    }

    #[test]
    fn breaks_and_the_end_come_from_the_log() {
        let base = Utc::now();
        let t = |m: i64| base + chrono::Duration::minutes(m);
        let events: Vec<_> = [
            Event::MeetingStarted { at: t(0) },
            Event::MeetingPaused { at: t(30) },
            Event::MeetingResumed { at: t(45) },
            Event::MeetingPaused { at: t(90) },
            Event::MeetingResumed { at: t(95) },
            Event::MeetingClosed { at: t(120) },
        ]
        .into_iter()
        .map(|e| (base, e))
        .collect();
        let meeting = Meeting {
            id: MeetingId::new(),
            meta: Meta::default(),
            organization_id: OrganizationId::new(),
            name: Name::parse("Rat").unwrap(),
            start: t(0),
            end: None,
            location_id: None,
            state: MeetingState::Closed,
            invited_at: None,
        };
        let empty = HashMap::new();
        let notes = HashMap::new();
        let facts = MinutesFacts {
            meeting: &meeting,
            organization: "Rat".into(),
            location: Some("Ratssaal".into()),
            items: &[],
            live: None,
            events: &events,
            decisions: &empty,
            notes: &notes,
        };
        let d = draft(&facts, MinutesPart::Public);
        assert_eq!(d.started_at, Some(t(0)));
        assert_eq!(d.ended_at, Some(t(120)));
        assert_eq!(
            d.breaks,
            [
                SessionBreak {
                    from: t(30),
                    to: Some(t(45))
                },
                SessionBreak {
                    from: t(90),
                    to: Some(t(95))
                }
            ]
        );
    }

    #[test]
    fn members_checked_in_together_are_in_the_attendance_record() {
        let meeting = Meeting {
            id: MeetingId::new(),
            meta: Meta::default(),
            organization_id: OrganizationId::new(),
            name: Name::parse("Rat").unwrap(),
            start: Utc::now(),
            end: None,
            location_id: None,
            state: MeetingState::Running,
            invited_at: None,
        };
        let people: Vec<PersonId> = (0..3).map(|_| PersonId::new()).collect();
        let roster = Roster {
            organization: meeting.organization_id,
            organization_kind: crate::OrganizationKind::Council,
            statutory_seats: 3,
            rule_set: RuleSet::NordrheinWestfalen,
            members: ["Vogel, Anna", "Berg, Carl", "Adler, Eva"]
                .iter()
                .zip(&people)
                .map(|(name, person)| RosterMember {
                    person: *person,
                    name: (*name).to_owned(),
                    role: MembershipRole::Member,
                    voting_right: true,
                    fraction: None,
                })
                .collect(),
        };
        let mut state = LiveState::new(meeting.id, roster, Vec::new());
        let member = |p: PersonId| CommandActor {
            person: Some(p),
            chair: false,
        };
        // Two members check in at the same moment: the live session sends one combined event.
        let now = Utc::now();
        let mut combined: Option<Event> = None;
        for person in &people[1..] {
            let applied = state
                .decide(
                    &member(*person),
                    &Command::CheckIn { remote: false },
                    now,
                    1,
                )
                .unwrap();
            state.apply_all(&applied);
            let [event] = applied.events.as_slice() else {
                panic!("{:?}", applied.events)
            };
            match &mut combined {
                None => combined = Some(event.clone()),
                Some(first) => assert!(first.absorb(event)),
            }
        }
        let combined = combined.unwrap();
        assert!(
            matches!(combined, Event::AttendanceBulkChanged { ref persons, .. } if persons.len() == 2)
        );
        let mut log = vec![(now, combined)];
        let later = now + chrono::Duration::minutes(40);
        let applied = state
            .decide(&member(people[1]), &Command::CheckOut, later, 1)
            .unwrap();
        state.apply_all(&applied);
        log.extend(applied.events.iter().map(|e| (later, e.clone())));

        let empty = HashMap::new();
        let notes = HashMap::new();
        let facts = MinutesFacts {
            meeting: &meeting,
            organization: "Rat".into(),
            location: None,
            items: &[],
            live: Some(&state),
            events: &log,
            decisions: &empty,
            notes: &notes,
        };
        let d = draft(&facts, MinutesPart::Public);
        let line = |name: &str| d.attendance.iter().find(|a| a.name == name).unwrap();
        let left = &line("Berg, Carl").changes;
        assert_eq!(left.len(), 2, "arrival and departure: {left:?}");
        assert_eq!(left[0], (AttendanceStatus::Present, now));
        assert_eq!(left[1].1, later);
        assert_eq!(
            line("Adler, Eva").changes,
            [(AttendanceStatus::Present, now)]
        );
        assert!(line("Vogel, Anna").changes.is_empty());
        assert!(
            d.quorum.iter().any(|q| q.kind == "changed" && q.at == now),
            "the quorum after the arrivals: {:?}",
            d.quorum
        );
    }

    #[test]
    fn notes_are_trimmed_bounded_and_blank_removes() {
        assert_eq!(MinutesNoteText::parse("  \n ").unwrap(), None);
        assert_eq!(
            MinutesNoteText::parse(" Herr A. verlässt den Saal. ")
                .unwrap()
                .unwrap()
                .as_str(),
            "Herr A. verlässt den Saal."
        );
        assert!(MinutesNoteText::parse(&"x".repeat(MinutesNoteText::MAX_CHARS + 1)).is_err());
        assert!(MinutesNoteText::parse("a\u{7}b").is_err());
        assert!(MinutesPart::parse("secret").is_err());
        assert_eq!(
            MinutesPart::parse("non_public").unwrap(),
            MinutesPart::NonPublic
        );
    }
}
