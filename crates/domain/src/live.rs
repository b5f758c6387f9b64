//! The live state of a meeting: attendance, quorum, conflicts of interest, the current agenda
//! item, the speakers list and polls. Commands are checked and turned into events; events are
//! applied to the state. Pure: the API layer persists events (gap-free `seq`) and the state in
//! one transaction and broadcasts after commit.
//!
//! Secret polls and elections never put a choice into this state or into an event: a secret
//! ballot leaves `apply` as a [`SecretBallot`] side effect that the API layer counts into the
//! poll's ballot box on a memory file system, never in the database; at close it passes the
//! box's tally in.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    AgendaItemId, Choice, ElectionChoice, ElectionOutcome, ElectionRound, ElectionTally,
    MajorityRule, MeetingId, MembershipRole, OrganizationId, Outcome, PersonId, PollId, PollKind,
    QuorumCheck, QuorumDeclaration, QuorumDoubt, QuorumRecord, QuorumStanding, QuorumStatus,
    RuleSet, SessionSettings, SpeakerEntryId, Tally, Voter, check_poll_quorum, decide,
    decide_election, german_date, is_eligible, parse_reason, quorum, quorum_standing,
    validate_manual_tally,
};

/// An arrival more than this long after the session began counts as late (verspätet).
pub const LATE_AFTER_SECS: i64 = 300;

/// Attendance of one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    /// In the room.
    Present,
    /// Taking part remotely (counts as present).
    Remote,
    Absent,
    /// Absent, excused (entschuldigt).
    Excused,
    /// Left before the end.
    LeftEarly,
}

impl AttendanceStatus {
    pub fn counts_as_present(&self) -> bool {
        matches!(self, AttendanceStatus::Present | AttendanceStatus::Remote)
    }
}

/// A member of the organization holding the meeting, as fixed when the session starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterMember {
    pub person: PersonId,
    pub name: String,
    pub role: MembershipRole,
    pub voting_right: bool,
    /// The member's fraction or group (its short name, else its name), for roll calls. Live
    /// states stored before this field read as none.
    #[serde(default)]
    pub fraction: Option<String>,
}

/// Who belongs to the meeting's organization, and the statutes that apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    pub organization: OrganizationId,
    pub organization_kind: crate::OrganizationKind,
    pub statutory_seats: u32,
    pub rule_set: RuleSet,
    pub members: Vec<RosterMember>,
}

/// An agenda item as the live session needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaEntry {
    pub id: AgendaItemId,
    pub number: String,
    pub title: String,
    pub public: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    NotStarted,
    Running,
    Paused,
    Closed,
}

impl std::fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SessionStatus::NotStarted => "not started",
            SessionStatus::Running => "running",
            SessionStatus::Paused => "paused",
            SessionStatus::Closed => "closed",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    pub status: AttendanceStatus,
    pub since: DateTime<Utc>,
    /// When the member first counted as present (states stored before this field read as none).
    #[serde(default)]
    pub arrived: Option<DateTime<Utc>>,
    /// When the member last left before the close (none while present again).
    #[serde(default)]
    pub left: Option<DateTime<Utc>>,
}

/// One request to speak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeakerEntry {
    pub id: SpeakerEntryId,
    pub person: PersonId,
    pub item: Option<AgendaItemId>,
    /// A point of order (Antrag zur Geschäftsordnung) jumps the queue.
    pub point_of_order: bool,
    pub requested_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollState {
    Draft,
    Open,
    Closed,
    Cancelled,
}

impl PollState {
    /// The state in words, for messages people read.
    pub fn describe(&self) -> &'static str {
        match self {
            PollState::Draft => "is a draft",
            PollState::Open => "is open already",
            PollState::Closed => "is closed",
            PollState::Cancelled => "was cancelled",
        }
    }
}

/// Why someone was not eligible when the poll opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ineligible {
    Absent,
    Conflicted,
    Advisory,
    NoVotingRight,
    /// A substitute member without an active stand-in.
    NotStandingIn,
    /// Absent, and a substitute held the member's vote when the poll opened.
    Represented,
    /// Took part remotely when an election opened, where remote members do not vote in
    /// elections (Bayern).
    Remote,
}

/// A ballot as the client sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BallotChoice {
    /// Ja / Nein / Enthaltung (for elections: `no` and `abstain` only).
    Choice(Choice),
    /// A candidate of an election, by index into the poll's options.
    Candidate(u32),
}

/// The result of a closed poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollResult {
    pub tally: Option<Tally>,
    pub election: Option<ElectionTally>,
    /// Motions: accepted or rejected.
    pub outcome: Option<Outcome>,
    /// Elections: elected, runoff, lot or none.
    pub election_outcome: Option<ElectionOutcome>,
    /// Named polls: who voted what (for the minutes). Events carry it as `roll` instead.
    #[serde(default)]
    pub named: Vec<(PersonId, BallotChoice)>,
    /// `named` as a `poll_closed` event carries it: one character per member eligible at the
    /// opening, in ascending order of their ids: `y` yes, `n` no, `a` abstain, `-` did not
    /// vote. At a convention that is 2 KB instead of 110 KB to every tablet and display. The
    /// state (and everything read from it) has `named` whole; see [`PollResult::rolled`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roll: Option<String>,
    /// How many were eligible and how many voted.
    pub eligible: u32,
    pub voted: u32,
    /// A tie decided by lot: the winner and how it was drawn.
    pub lot: Option<LotDraw>,
    /// The poll opened while the count was short or the chair had declared the council not
    /// quorate (the chair confirmed); the minutes say so.
    #[serde(default)]
    pub below_quorum: bool,
}

impl PollResult {
    /// The result with `named` as `roll` over `eligible`; `None` when there is nothing to roll
    /// or the roll cannot say it (a voter not eligible, a choice other than yes, no, abstain):
    /// then the event carries `named` as it is.
    pub fn rolled(&self, eligible: &BTreeSet<PersonId>) -> Option<PollResult> {
        if self.named.is_empty() || self.roll.is_some() {
            return None;
        }
        let named: BTreeMap<PersonId, BallotChoice> = self.named.iter().copied().collect();
        if named.len() != self.named.len() || named.keys().any(|p| !eligible.contains(p)) {
            return None;
        }
        let mut roll = String::with_capacity(eligible.len());
        for person in eligible {
            roll.push(match named.get(person) {
                None => '-',
                Some(BallotChoice::Choice(Choice::Yes)) => 'y',
                Some(BallotChoice::Choice(Choice::No)) => 'n',
                Some(BallotChoice::Choice(Choice::Abstain)) => 'a',
                Some(BallotChoice::Candidate(_)) => return None,
            });
        }
        Some(PollResult {
            named: Vec::new(),
            roll: Some(roll),
            ..self.clone()
        })
    }

    /// The result with `roll` read back into `named` over `eligible` (as [`PollResult::rolled`]
    /// wrote it); a result without a roll as it is.
    pub fn unrolled(&self, eligible: &BTreeSet<PersonId>) -> PollResult {
        let Some(roll) = &self.roll else {
            return self.clone();
        };
        let named = eligible
            .iter()
            .zip(roll.chars())
            .filter_map(|(person, c)| {
                let choice = match c {
                    'y' => Choice::Yes,
                    'n' => Choice::No,
                    'a' => Choice::Abstain,
                    _ => return None,
                };
                Some((*person, BallotChoice::Choice(choice)))
            })
            .collect();
        PollResult {
            named,
            roll: None,
            ..self.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotDraw {
    pub among: Vec<u32>,
    /// The (first) candidate the lot picked.
    pub winner: u32,
    /// When the lot decided places in a runoff (a tie in round one): the runoff's two
    /// candidates. Empty when the lot decided the election itself.
    #[serde(default)]
    pub runoff: Vec<u32>,
    /// `system` (secure random source) or `chair` (drawn by hand, entered by the chair).
    pub drawn_by: String,
}

/// A poll (Abstimmung) or election (Wahl).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poll {
    pub id: PollId,
    pub item: Option<AgendaItemId>,
    pub title: String,
    pub kind: PollKind,
    pub rule: MajorityRule,
    /// Candidates of an election.
    pub options: Vec<String>,
    /// Open and named polls may let members change their vote until close.
    pub allow_change: bool,
    pub state: PollState,
    pub eligible: BTreeSet<PersonId>,
    pub ineligible: BTreeMap<PersonId, Ineligible>,
    pub voted: BTreeSet<PersonId>,
    /// Choices of open and named polls only; never of secret polls or elections.
    pub choices: BTreeMap<PersonId, BallotChoice>,
    pub show_interim: bool,
    pub result: Option<PollResult>,
    pub round: u32,
    /// The first round, if this is a runoff (Stichwahl).
    pub runoff_of: Option<PollId>,
    /// A correction replaces this earlier poll; both stay on record.
    pub corrects: Option<PollId>,
    pub opened_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Opened below quorum, confirmed by the chair (see [`PollResult::below_quorum`]).
    #[serde(default)]
    pub below_quorum: bool,
    /// Why the chair discarded the poll.
    #[serde(default)]
    pub cancel_reason: Option<String>,
    /// A vote on a procedural motion (Geschäftsordnungsantrag), not on the matter itself.
    #[serde(default)]
    pub motion: Option<crate::ProceduralMotion>,
    /// A vote on this amendment (Änderungsantrag) to the item's proposal.
    #[serde(default)]
    pub amendment: Option<crate::AmendmentId>,
    /// Fixed at opening: the eligible substitutes and whom each stands in for.
    #[serde(default)]
    pub stand_ins: BTreeMap<PersonId, PersonId>,
    /// Members who asked that their vote be recorded in the minutes (open polls only).
    #[serde(default)]
    pub vote_records: BTreeSet<PersonId>,
}

impl Poll {
    /// Secret polls and elections keep no choice in the open.
    pub fn is_secret(&self) -> bool {
        matches!(self.kind, PollKind::Secret | PollKind::Election)
    }

    /// The interim tally, if the chair shows it (never for secret polls), counting `with` as
    /// the choice of its voter (a ballot about to be recorded).
    pub fn interim_tally(&self, with: Option<(PersonId, BallotChoice)>) -> Option<Tally> {
        if !self.show_interim || self.is_secret() {
            return None;
        }
        let pending = with.filter(|(voter, _)| !self.choices.contains_key(voter));
        let choices = self
            .choices
            .iter()
            .map(|(voter, choice)| match with {
                Some((v, c)) if v == *voter => c,
                _ => *choice,
            })
            .chain(pending.map(|(_, c)| c));
        Some(Tally::from_choices(choices.filter_map(|c| match c {
            BallotChoice::Choice(choice) => Some(choice),
            BallotChoice::Candidate(_) => None,
        })))
    }
}

/// The whole live state of one meeting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    pub meeting: MeetingId,
    pub status: SessionStatus,
    pub roster: Roster,
    pub agenda: Vec<AgendaEntry>,
    pub current_item: Option<AgendaItemId>,
    pub attendance: BTreeMap<PersonId, Attendance>,
    pub conflicts: BTreeSet<(AgendaItemId, PersonId)>,
    pub speakers: Vec<SpeakerEntry>,
    pub current_speaker: Option<SpeakerEntry>,
    pub polls: Vec<Poll>,
    /// Shown on the room display.
    pub display_poll: Option<PollId>,
    /// Sticky: someone took part remotely during this session (NKomVG § 64).
    pub anyone_remote: bool,
    pub started_at: Option<DateTime<Utc>>,
    /// When the meeting was scheduled to begin (a start on another day needs confirmation).
    #[serde(default)]
    pub scheduled: Option<DateTime<Utc>>,
    /// The chair's quorum statements and the members' doubts.
    #[serde(default)]
    pub quorum_record: QuorumRecord,
    /// Repeat meeting and speaking time, as the clerk set them.
    #[serde(default)]
    pub settings: SessionSettings,
    /// Amendments filed to the items' proposals (withdrawn ones stay, marked).
    #[serde(default)]
    pub amendments: Vec<crate::Amendment>,
    /// The chair's voting order per item, where set.
    #[serde(default)]
    pub amendment_orders: BTreeMap<AgendaItemId, crate::AmendmentOrder>,
    /// Active stand-ins (Vertretung): substitutes holding the votes of absent members.
    #[serde(default)]
    pub stand_ins: Vec<crate::StandIn>,
    /// Where each person stands in `roster.members`, built on first use (never stored).
    #[serde(skip)]
    roster_index: RosterIndex,
}

/// A lookup from person to their place in the roster, so that a convention's check-ins do not
/// scan thousands of members each. Every hit is checked against the roster and a miss falls back
/// to a scan, so a roster changed after the index was built is still answered right.
#[derive(Clone, Default)]
struct RosterIndex(std::sync::OnceLock<std::sync::Arc<HashMap<PersonId, usize>>>);

impl RosterIndex {
    fn get(&self, members: &[RosterMember]) -> &HashMap<PersonId, usize> {
        self.0.get_or_init(|| {
            let mut index = HashMap::with_capacity(members.len());
            for (at, member) in members.iter().enumerate() {
                // The first entry of a person, as a scan finds it.
                index.entry(member.person).or_insert(at);
            }
            std::sync::Arc::new(index)
        })
    }
}

impl PartialEq for RosterIndex {
    /// A cache: it never makes two states differ.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for RosterIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RosterIndex")
    }
}

/// Who sends a command, as the API established it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandActor {
    /// The member's person, if the account belongs to one.
    pub person: Option<PersonId>,
    /// May run the session (chair or deputy of the organization, or the clerk).
    pub chair: bool,
}

/// What a client may ask the live session to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    StartMeeting {
        /// Needed when today is not the scheduled day.
        #[serde(default)]
        confirm_other_day: bool,
    },
    PauseMeeting,
    ResumeMeeting,
    CloseMeeting,
    SetCurrentItem {
        item: Option<AgendaItemId>,
    },
    /// A member checks in from their own device.
    CheckIn {
        remote: bool,
    },
    CheckOut,
    /// The chair corrects anyone's attendance.
    SetAttendance {
        person: PersonId,
        status: AttendanceStatus,
        /// When it happened, if earlier than now (the chair enters a late arrival or an early
        /// departure after the fact): not before the session began nor the member's last change.
        #[serde(default)]
        at: Option<DateTime<Utc>>,
    },
    /// The chair sets the attendance of many members at once ("alle als anwesend"): one event,
    /// all or nothing, only while the session runs.
    SetAttendanceBulk {
        persons: Vec<PersonId>,
        status: AttendanceStatus,
        /// When it happened, if earlier than now (see [`Command::SetAttendance`]).
        #[serde(default)]
        at: Option<DateTime<Utc>>,
    },
    /// "Ich bin befangen": the member (or the chair for them) declares a conflict of interest.
    DeclareConflict {
        item: AgendaItemId,
        person: Option<PersonId>,
    },
    RequestToSpeak {
        point_of_order: bool,
    },
    WithdrawRequest,
    CallNextSpeaker,
    EndSpeech,
    RemoveSpeaker {
        entry: SpeakerEntryId,
    },
    MoveSpeaker {
        entry: SpeakerEntryId,
        position: u32,
    },
    CreatePoll {
        poll: PollId,
        item: Option<AgendaItemId>,
        title: String,
        kind: PollKind,
        rule: MajorityRule,
        #[serde(default)]
        options: Vec<String>,
        #[serde(default)]
        allow_change: bool,
        #[serde(default)]
        corrects: Option<PollId>,
        /// A procedural motion: an open vote by simple majority.
        #[serde(default)]
        motion: Option<crate::ProceduralMotion>,
        /// A vote on this amendment of the poll's item.
        #[serde(default)]
        amendment: Option<crate::AmendmentId>,
    },
    OpenPoll {
        poll: PollId,
        /// Needed when the count is short or the council was declared not quorate.
        #[serde(default)]
        confirm_below_quorum: bool,
    },
    CastBallot {
        poll: PollId,
        choice: BallotChoice,
    },
    /// A member who voted in an open poll asks that their own vote be recorded in the minutes
    /// (Protokollierung des Abstimmungsverhaltens): while the poll is open, or after it closed
    /// while its item is still current; once per member and poll; never in a secret poll or
    /// an election (a named poll records every vote anyway).
    RequestVoteRecord {
        poll: PollId,
    },
    ClosePoll {
        poll: PollId,
    },
    /// Discards a draft or open poll; needs a reason, which everyone sees.
    CancelPoll {
        poll: PollId,
        #[serde(default)]
        reason: Option<String>,
    },
    EnterManualTally {
        poll: PollId,
        tally: Tally,
    },
    ShowInterim {
        poll: PollId,
        show: bool,
    },
    ShowOnDisplay {
        poll: Option<PollId>,
    },
    /// Decides a tie by lot: `winner` as drawn by the chair, or drawn by the system.
    DrawLot {
        poll: PollId,
        winner: Option<u32>,
    },
    /// The chair states whether the council is quorate (with the current count).
    DeclareQuorum {
        quorate: bool,
    },
    /// A member doubts the quorum; the chair must state it before the next vote.
    DoubtQuorum,
    /// A member files an amendment to an item's proposal (before or during the session).
    FileAmendment {
        amendment: crate::AmendmentId,
        item: AgendaItemId,
        kind: crate::AmendmentKind,
        title: String,
        text: String,
        #[serde(default)]
        on_behalf_of: Option<String>,
    },
    /// The filer or the chair withdraws an amendment not yet voted on.
    WithdrawAmendment {
        amendment: crate::AmendmentId,
    },
    /// The chair sets the voting order of an item's amendments, with a reason.
    OrderAmendments {
        item: AgendaItemId,
        order: Vec<crate::AmendmentId>,
        #[serde(default)]
        reason: Option<String>,
    },
    /// The chair records that a substitute member stands in for an absent member (Vertretung).
    SetStandIn {
        #[serde(alias = "member_id")]
        member: PersonId,
        #[serde(alias = "substitute_id")]
        substitute: PersonId,
    },
    /// The chair ends the stand-in for `member`.
    EndStandIn {
        #[serde(alias = "member_id")]
        member: PersonId,
    },
    /// The clerk or chair sets the repeat-meeting flag and the speaking time.
    SetSessionSettings {
        #[serde(default)]
        repeat_meeting: bool,
        #[serde(default = "crate::default_speaking_time_secs")]
        speaking_time_secs: u32,
    },
}

/// What happened. Events never carry a choice of a secret poll or an election.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    MeetingStarted {
        at: DateTime<Utc>,
    },
    MeetingPaused {
        at: DateTime<Utc>,
    },
    MeetingResumed {
        at: DateTime<Utc>,
    },
    MeetingClosed {
        at: DateTime<Utc>,
    },
    CurrentItemChanged {
        item: Option<AgendaItemId>,
    },
    /// The session moved to a non-public item. Public (it names no item): the room display and
    /// the livestream learn that the non-public part began, and nothing else.
    NonPublicPartStarted,
    AttendanceChanged {
        person: PersonId,
        status: AttendanceStatus,
        at: DateTime<Utc>,
        quorum: QuorumStatus,
        /// Where the quorum stands after the change (events of older versions have none).
        #[serde(default)]
        standing: Option<QuorumStanding>,
    },
    /// Many members' attendance changed at once (only those whose status changed are listed).
    AttendanceBulkChanged {
        persons: Vec<PersonId>,
        status: AttendanceStatus,
        at: DateTime<Utc>,
        quorum: QuorumStatus,
        standing: QuorumStanding,
    },
    ConflictDeclared {
        item: AgendaItemId,
        person: PersonId,
        at: DateTime<Utc>,
    },
    SpeakerRequested {
        entry: SpeakerEntry,
    },
    SpeakerWithdrawn {
        entry: SpeakerEntryId,
    },
    SpeakerRemoved {
        entry: SpeakerEntryId,
    },
    SpeakerMoved {
        entry: SpeakerEntryId,
        position: u32,
    },
    SpeakerCalled {
        entry: SpeakerEntry,
        at: DateTime<Utc>,
    },
    SpeechEnded {
        entry: SpeakerEntryId,
        at: DateTime<Utc>,
    },
    PollCreated {
        poll: Box<Poll>,
    },
    PollOpened {
        poll: PollId,
        eligible: Vec<PersonId>,
        ineligible: Vec<(PersonId, Ineligible)>,
        at: DateTime<Utc>,
        /// Opened below quorum with the chair's confirmation.
        #[serde(default)]
        below_quorum: bool,
        /// Eligible substitutes and whom each stands in for: `[substitute, member]`.
        #[serde(default)]
        stand_ins: Vec<(PersonId, PersonId)>,
    },
    /// Members voted; only who and how many — never what. A command yields one voter; the
    /// meeting actor coalesces the ballots of one committed batch into a single event, so a
    /// council voting at once is a handful of events, not one per member.
    BallotsCast {
        poll: PollId,
        voters: Vec<PersonId>,
        /// How many have voted in this poll so far, these included.
        voted: u32,
        eligible: u32,
        /// Only for open and named polls whose chair shows interim results.
        interim: Option<Tally>,
    },
    /// Someone changed their vote in a poll that allows it.
    BallotChanged {
        poll: PollId,
        voter: PersonId,
        interim: Option<Tally>,
    },
    PollClosed {
        poll: PollId,
        result: PollResult,
        at: DateTime<Utc>,
    },
    /// A member asked that their vote in an open poll be recorded in the minutes; `choice` is
    /// their vote when they asked (a vote changed later is recorded as it finally stood).
    VoteRecordRequested {
        poll: PollId,
        person: PersonId,
        choice: BallotChoice,
        at: DateTime<Utc>,
    },
    PollCancelled {
        poll: PollId,
        at: DateTime<Utc>,
        /// The chair's reason (events of older versions have none).
        #[serde(default)]
        reason: Option<String>,
    },
    InterimShown {
        poll: PollId,
        show: bool,
        interim: Option<Tally>,
    },
    DisplayChanged {
        poll: Option<PollId>,
    },
    LotDrawn {
        poll: PollId,
        lot: LotDraw,
    },
    QuorumDeclared {
        declaration: QuorumDeclaration,
    },
    QuorumDoubted {
        doubt: QuorumDoubt,
    },
    SessionSettingsChanged {
        settings: SessionSettings,
    },
    AmendmentFiled {
        amendment: crate::Amendment,
    },
    AmendmentWithdrawn {
        amendment: crate::AmendmentId,
        at: DateTime<Utc>,
    },
    AmendmentsOrdered {
        item: AgendaItemId,
        order: crate::AmendmentOrder,
    },
    /// A substitute stands in for an absent member from now on.
    StandInSet {
        stand_in: crate::StandIn,
        quorum: QuorumStatus,
        standing: QuorumStanding,
    },
    /// A stand-in ended (by the chair, or because the member arrived).
    StandInEnded {
        member: PersonId,
        substitute: PersonId,
        reason: crate::StandInEnd,
        at: DateTime<Utc>,
        quorum: QuorumStatus,
        standing: QuorumStanding,
    },
}

/// An attendance change as an event states it: who, to which status, when, and the quorum
/// after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttendanceChange<'a> {
    pub persons: &'a [PersonId],
    pub status: AttendanceStatus,
    pub at: DateTime<Utc>,
    pub quorum: QuorumStatus,
    /// Where the quorum stands after the change (events of older versions have none).
    pub standing: Option<QuorumStanding>,
}

impl Event {
    /// The poll this event is about, if any.
    pub fn poll(&self) -> Option<PollId> {
        match self {
            Event::PollCreated { poll } => Some(poll.id),
            Event::PollOpened { poll, .. }
            | Event::BallotsCast { poll, .. }
            | Event::BallotChanged { poll, .. }
            | Event::PollClosed { poll, .. }
            | Event::VoteRecordRequested { poll, .. }
            | Event::PollCancelled { poll, .. }
            | Event::InterimShown { poll, .. }
            | Event::LotDrawn { poll, .. } => Some(*poll),
            _ => None,
        }
    }

    /// Whether this event changes members' attendance (one member or many).
    pub fn is_attendance(&self) -> bool {
        self.attendance_change().is_some()
    }

    /// Folds a later event into this one where the two say the same as one:
    /// - a later `BallotsCast` of the same poll (voters appended, counts and interim tally from
    ///   the later one);
    /// - a later attendance change to the same status at the same moment (the members appended,
    ///   the quorum from the later one): this one becomes an `AttendanceBulkChanged`. Callers fold
    ///   attendance only into the event just before, so the order of changes stays as it was.
    ///
    /// False, and nothing changed, when the two do not combine.
    pub fn absorb(&mut self, later: &Event) -> bool {
        if self.is_attendance() && later.is_attendance() {
            return self.absorb_attendance(later);
        }
        match (self, later) {
            (
                Event::BallotsCast {
                    poll,
                    voters,
                    voted,
                    eligible,
                    interim,
                },
                Event::BallotsCast {
                    poll: later_poll,
                    voters: later_voters,
                    voted: later_voted,
                    eligible: later_eligible,
                    interim: later_interim,
                },
            ) if poll == later_poll => {
                voters.extend(later_voters.iter().copied());
                *voted = *later_voted;
                *eligible = *later_eligible;
                interim.clone_from(later_interim);
                true
            }
            _ => false,
        }
    }

    fn absorb_attendance(&mut self, later: &Event) -> bool {
        let (Some(earlier), Some(later)) = (self.attendance_change(), later.attendance_change())
        else {
            return false;
        };
        // Events of older versions carry no standing; those stay as they are.
        let (Some(_), Some(standing)) = (earlier.standing, later.standing) else {
            return false;
        };
        if earlier.status != later.status || earlier.at != later.at {
            return false;
        }
        // A member already at this status is never changed to it again, so nobody repeats.
        match self {
            Event::AttendanceBulkChanged {
                persons,
                quorum,
                standing: after,
                ..
            } => {
                persons.extend_from_slice(later.persons);
                *quorum = later.quorum;
                *after = standing;
            }
            Event::AttendanceChanged { person, .. } => {
                let mut persons = Vec::with_capacity(1 + later.persons.len());
                persons.push(*person);
                persons.extend_from_slice(later.persons);
                *self = Event::AttendanceBulkChanged {
                    persons,
                    status: later.status,
                    at: later.at,
                    quorum: later.quorum,
                    standing,
                };
            }
            _ => return false,
        }
        true
    }

    /// What an attendance event says, for one member or many; none for other events.
    pub fn attendance_change(&self) -> Option<AttendanceChange<'_>> {
        match self {
            Event::AttendanceChanged {
                person,
                status,
                at,
                quorum,
                standing,
            } => Some(AttendanceChange {
                persons: std::slice::from_ref(person),
                status: *status,
                at: *at,
                quorum: *quorum,
                standing: *standing,
            }),
            Event::AttendanceBulkChanged {
                persons,
                status,
                at,
                quorum,
                standing,
            } => Some(AttendanceChange {
                persons,
                status: *status,
                at: *at,
                quorum: *quorum,
                standing: Some(*standing),
            }),
            _ => None,
        }
    }

    /// The event as it is stored and sent, where that is shorter than the event itself: a
    /// named poll's `poll_closed` with its `roll` instead of `named` (`state` knows who was
    /// eligible). Applying either to a state gives the same state.
    pub fn compact(&self, state: &LiveState) -> Option<Event> {
        match self {
            Event::PollClosed { poll, result, at } => {
                let p = state.poll(*poll)?;
                Some(Event::PollClosed {
                    poll: *poll,
                    result: result.rolled(&p.eligible)?,
                    at: *at,
                })
            }
            _ => None,
        }
    }

    /// Who voted, for `ballots_cast`; nobody for every other event.
    pub fn voters(&self) -> &[PersonId] {
        match self {
            Event::BallotsCast { voters, .. } => voters,
            _ => &[],
        }
    }

    /// `ballots_cast` listing `voters` instead of its own (counts and interim tally kept); every
    /// other event as it is.
    pub fn with_voters(self, voters: Vec<PersonId>) -> Event {
        match self {
            Event::BallotsCast {
                poll,
                voted,
                eligible,
                interim,
                ..
            } => Event::BallotsCast {
                poll,
                voters,
                voted,
                eligible,
                interim,
            },
            other => other,
        }
    }

    /// The event as a member who does not chair the meeting gets it, where that differs:
    /// `ballots_cast` lists only `me`, if they are among its voters. Who else has voted is the
    /// chair's (the "not voted yet" list); a member needs the count and whether their own vote
    /// counted, and at a convention the list of every voter would be most of the bytes a
    /// vote sends to thousands of tablets.
    pub fn for_member(&self, me: Option<PersonId>) -> Option<Event> {
        match self {
            Event::BallotsCast {
                poll,
                voters,
                voted,
                eligible,
                interim,
            } => Some(Event::BallotsCast {
                poll: *poll,
                voters: me.filter(|me| voters.contains(me)).into_iter().collect(),
                voted: *voted,
                eligible: *eligible,
                interim: *interim,
            }),
            _ => None,
        }
    }

    /// The event as anonymous viewers get it, where that differs: `ballots_cast` without the
    /// voters (the public snapshot, too, shows how many voted, not who), and `poll_opened`
    /// without the reasons why members may not vote (the public snapshot has none either).
    pub fn for_public(&self) -> Option<Event> {
        match self {
            // As for a member who is nobody: the numbers, no voters.
            Event::BallotsCast { .. } => self.for_member(None),
            // Why someone may not vote is the council's business (and, at a convention, a list
            // of thousands of advisory members for every room display). Who may vote stays: a
            // display builds a named poll's roll call from it, and attendance is public anyway.
            Event::PollOpened {
                poll,
                eligible,
                at,
                below_quorum,
                stand_ins,
                ..
            } => Some(Event::PollOpened {
                poll: *poll,
                eligible: eligible.clone(),
                ineligible: Vec::new(),
                at: *at,
                below_quorum: *below_quorum,
                stand_ins: stand_ins.clone(),
            }),
            _ => None,
        }
    }
}

/// A secret ballot for the persistence layer to seal; never stored in the clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretBallot {
    pub poll: PollId,
    pub choice: BallotChoice,
}

/// What a command produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub events: Vec<Event>,
    pub secret_ballot: Option<SecretBallot>,
    /// A vote that must be recorded as a participation (exactly once per voter and poll).
    pub participation: Option<(PollId, PersonId)>,
    /// The poll to close with the decrypted secret tally (the API does the decryption).
    pub needs_secret_tally: Option<PollId>,
    /// An open or named poll's choice, kept in the state (never broadcast as such, so interim
    /// tallies stay hidden unless the chair shows them).
    pub open_choice: Option<(PollId, PersonId, BallotChoice)>,
}

/// Why a command was refused; each maps to its own problem type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    #[error("only the chair or the clerk may do this")]
    NotChair,
    #[error("only members of this organization may do this")]
    NotMember,
    #[error("the meeting is not running")]
    NotRunning,
    #[error("the meeting cannot go from {from} to {to}")]
    InvalidTransition {
        from: SessionStatus,
        to: &'static str,
    },
    #[error("no such agenda item in this meeting")]
    ItemNotFound,
    #[error("no such poll in this meeting")]
    PollNotFound,
    #[error("a poll with this id exists already")]
    PollExists,
    #[error("the poll is not open")]
    PollNotOpen,
    #[error("the poll {}; only a draft can be opened", .0.describe())]
    PollNotDraft(PollState),
    #[error("you were absent when the poll opened")]
    VoterAbsent,
    #[error("you declared a conflict of interest on this item")]
    VoterConflicted,
    #[error("advisory members do not vote")]
    VoterAdvisory,
    #[error("you are not entitled to vote in this poll")]
    VoterNotEligible,
    #[error("a substitute member votes only while standing in for an absent member")]
    VoterNotStandingIn,
    #[error("your substitute held your vote when this poll opened")]
    VoterRepresented,
    #[error("members taking part remotely do not vote in elections under these rules")]
    VoterRemote,
    #[error("a member cannot stand in for themselves")]
    StandInSelf,
    #[error(
        "a stand-in replaces a voting member of this organization (not a substitute or advisory member)"
    )]
    StandInNoSeat,
    #[error("the stand-in must be a substitute member of this organization with a voting right")]
    StandInNotSubstitute,
    #[error("the member is present; a substitute stands in for an absent member only")]
    StandInMemberPresent,
    #[error("someone stands in for this member already; end that stand-in first")]
    StandInExists,
    #[error("this substitute stands in for another member already")]
    SubstituteBusy,
    #[error("nobody stands in for this member")]
    StandInNotFound,
    #[error("you have voted in this poll already")]
    AlreadyVoted,
    #[error("{0}")]
    VoteRecordRefused(String),
    #[error("that choice is not valid in this poll")]
    InvalidChoice,
    #[error("{0}")]
    SecretBarred(String),
    #[error("{0}")]
    Invalid(String),
    #[error("no request to speak found")]
    SpeakerNotFound,
    #[error("no tie to decide by lot in this poll")]
    NoTie,
    #[error(
        "{present} of {statutory} voting members present, {required} needed{}; confirm to open \
         the poll anyway",
        if *.declared_not_quorate { ", and the council was declared not quorate" } else { "" },
        present = .count.present_voting, statutory = .count.statutory, required = .count.required
    )]
    QuorumNotMet {
        count: QuorumStatus,
        declared_not_quorate: bool,
    },
    #[error("a member doubted the quorum; state the quorum before the next vote")]
    QuorumDoubted,
    #[error("the count is short ({present} present, {required} needed); the council cannot be declared quorate", present = .0.present_voting, required = .0.required)]
    QuorumNotReached(QuorumStatus),
    #[error("give a reason (1 to 500 characters) for discarding the poll")]
    ReasonRequired,
    #[error("no such amendment in this meeting")]
    AmendmentNotFound,
    #[error("{0}")]
    AmendmentOutOfOrder(String),
    #[error(
        "the meeting is scheduled for {scheduled}, not today ({today}); confirm to start it anyway"
    )]
    OtherDay {
        scheduled: chrono::NaiveDate,
        today: chrono::NaiveDate,
    },
}

/// The runoff (Stichwahl) between candidates `a` and `b` of a first round.
fn runoff_poll(first: &Poll, a: u32, b: u32) -> Poll {
    second_round(
        first,
        format!("{} – Stichwahl", first.title),
        vec![
            first.options.get(a as usize).cloned().unwrap_or_default(),
            first.options.get(b as usize).cloned().unwrap_or_default(),
        ],
    )
}

/// The second round of an election (as a draft the chair opens): a runoff of two, or, in
/// Niedersachsen (NKomVG § 67), every candidate again, the most votes winning.
fn second_round(first: &Poll, title: String, options: Vec<String>) -> Poll {
    Poll {
        id: PollId::from_name(&first.id.as_uuid(), "runoff"),
        item: first.item,
        title,
        kind: PollKind::Election,
        rule: first.rule,
        options,
        allow_change: false,
        state: PollState::Draft,
        eligible: BTreeSet::new(),
        ineligible: BTreeMap::new(),
        voted: BTreeSet::new(),
        choices: BTreeMap::new(),
        show_interim: false,
        result: None,
        round: 2,
        runoff_of: Some(first.id),
        corrects: None,
        opened_at: None,
        closed_at: None,
        below_quorum: false,
        cancel_reason: None,
        motion: None,
        amendment: None,
        stand_ins: BTreeMap::new(),
        vote_records: BTreeSet::new(),
    }
}

impl LiveState {
    /// A fresh state for a meeting that has not started.
    pub fn new(meeting: MeetingId, roster: Roster, agenda: Vec<AgendaEntry>) -> Self {
        Self {
            meeting,
            status: SessionStatus::NotStarted,
            roster,
            agenda,
            current_item: None,
            attendance: BTreeMap::new(),
            conflicts: BTreeSet::new(),
            speakers: Vec::new(),
            current_speaker: None,
            polls: Vec::new(),
            display_poll: None,
            anyone_remote: false,
            started_at: None,
            scheduled: None,
            quorum_record: QuorumRecord::default(),
            settings: SessionSettings::default(),
            amendments: Vec::new(),
            amendment_orders: BTreeMap::new(),
            stand_ins: Vec::new(),
            roster_index: RosterIndex::default(),
        }
    }

    pub fn amendment(&self, id: crate::AmendmentId) -> Option<&crate::Amendment> {
        self.amendments.iter().find(|a| a.id == id)
    }

    /// The voting order of an item's open amendments (see [`crate::voting_order`]).
    pub fn amendment_voting_order(&self, item: AgendaItemId) -> Vec<crate::AmendmentId> {
        crate::voting_order(&self.amendments, &self.amendment_orders, item)
    }

    /// Whether the amendment has a closed poll (it was voted on).
    fn amendment_voted(&self, id: crate::AmendmentId) -> bool {
        self.polls
            .iter()
            .any(|p| p.amendment == Some(id) && p.state == PollState::Closed)
    }

    /// Amendments are voted in their order, and the item's own vote comes after all of them.
    fn check_amendment_turn(&self, poll: &Poll) -> Result<(), LiveError> {
        let Some(item) = poll.item else {
            return Ok(());
        };
        if poll.motion.is_some() {
            return Ok(());
        }
        let order = self.amendment_voting_order(item);
        let before: Vec<crate::AmendmentId> = match poll.amendment {
            Some(id) => order.iter().take_while(|a| **a != id).copied().collect(),
            None => order,
        };
        if let Some(first) = before.iter().find(|a| !self.amendment_voted(**a)) {
            let title = self
                .amendment(*first)
                .map(|a| a.title.clone())
                .unwrap_or_default();
            return Err(LiveError::AmendmentOutOfOrder(format!(
                "vote on the amendment \"{title}\" first: amendments go in their order, the \
                 proposal as amended last"
            )));
        }
        Ok(())
    }

    /// Where the quorum stands now (see [`crate::quorum_standing`]).
    pub fn quorum_standing(&self) -> QuorumStanding {
        quorum_standing(
            self.roster.rule_set,
            &self.quorum_record,
            &self.quorum(),
            &self.settings,
        )
    }

    pub fn member(&self, person: PersonId) -> Option<&RosterMember> {
        let members = &self.roster.members;
        if let Some(member) = self
            .roster_index
            .get(members)
            .get(&person)
            .and_then(|at| members.get(*at))
            .filter(|m| m.person == person)
        {
            return Some(member);
        }
        members.iter().find(|m| m.person == person)
    }

    pub fn item(&self, id: AgendaItemId) -> Option<&AgendaEntry> {
        self.agenda.iter().find(|i| i.id == id)
    }

    pub fn poll(&self, id: PollId) -> Option<&Poll> {
        self.polls.iter().find(|p| p.id == id)
    }

    fn poll_mut(&mut self, id: PollId) -> Option<&mut Poll> {
        self.polls.iter_mut().find(|p| p.id == id)
    }

    pub(crate) fn present(&self, person: PersonId) -> bool {
        self.attendance
            .get(&person)
            .is_some_and(|a| a.status.counts_as_present())
    }

    /// Quorum from the statutory seats and the present voting members.
    pub fn quorum(&self) -> QuorumStatus {
        self.quorum_with(None)
    }

    /// Quorum as it would be with `change` (a member's new attendance) applied.
    fn quorum_with(&self, change: Option<(PersonId, AttendanceStatus)>) -> QuorumStatus {
        match change {
            Some((p, status)) => self.quorum_with_many(&[p], status),
            None => self.quorum_with_many(&[], AttendanceStatus::Absent),
        }
    }

    /// Quorum as it would be with every one of `persons` set to `status`.
    pub(crate) fn quorum_with_many(
        &self,
        persons: &[PersonId],
        status: AttendanceStatus,
    ) -> QuorumStatus {
        let changed: BTreeSet<PersonId> = persons.iter().copied().collect();
        let present_voting = self.seats_filled_with(&changed, status);
        quorum(
            self.roster.rule_set.rules().quorum,
            self.roster.statutory_seats,
            present_voting,
        )
    }

    /// Whether an event may be shown to the public (anonymous room display, livestream).
    pub fn event_is_public(&self, event: &Event) -> bool {
        let item_public = |item: Option<AgendaItemId>| {
            item.is_none_or(|id| self.item(id).is_some_and(|i| i.public))
        };
        let poll_public = |poll: PollId| self.poll(poll).is_none_or(|p| item_public(p.item));
        match event {
            Event::CurrentItemChanged { item } => item_public(*item),
            Event::ConflictDeclared { item, .. } => item_public(Some(*item)),
            Event::SpeakerRequested { entry } | Event::SpeakerCalled { entry, .. } => {
                item_public(entry.item)
            }
            Event::PollCreated { poll } => item_public(poll.item),
            Event::PollOpened { poll, .. }
            | Event::BallotsCast { poll, .. }
            | Event::BallotChanged { poll, .. }
            | Event::PollClosed { poll, .. }
            | Event::VoteRecordRequested { poll, .. }
            | Event::PollCancelled { poll, .. }
            | Event::InterimShown { poll, .. }
            | Event::LotDrawn { poll, .. } => poll_public(*poll),
            Event::DisplayChanged { poll } => poll.is_none_or(poll_public),
            Event::AmendmentFiled { amendment } => item_public(Some(amendment.item)),
            Event::AmendmentWithdrawn { amendment, .. } => {
                item_public(self.amendment(*amendment).map(|a| a.item))
            }
            Event::AmendmentsOrdered { item, .. } => item_public(Some(*item)),
            _ => true,
        }
    }

    fn require_chair(actor: &CommandActor) -> Result<(), LiveError> {
        if actor.chair {
            Ok(())
        } else {
            Err(LiveError::NotChair)
        }
    }

    fn require_running(&self) -> Result<(), LiveError> {
        if self.status == SessionStatus::Running {
            Ok(())
        } else {
            Err(LiveError::NotRunning)
        }
    }

    fn require_member(&self, actor: &CommandActor) -> Result<PersonId, LiveError> {
        match actor.person {
            Some(person) if self.member(person).is_some() => Ok(person),
            _ => Err(LiveError::NotMember),
        }
    }

    /// Checks `command` and returns what it does; the state is unchanged until the events are
    /// applied with [`LiveState::apply`]. `random` decides a lot drawn by the system.
    pub fn decide(
        &self,
        actor: &CommandActor,
        command: &Command,
        now: DateTime<Utc>,
        random: u64,
    ) -> Result<Applied, LiveError> {
        let one = |event| {
            Ok(Applied {
                events: vec![event],
                ..Applied::default()
            })
        };
        match command {
            Command::StartMeeting { confirm_other_day } => {
                Self::require_chair(actor)?;
                if self.status != SessionStatus::NotStarted {
                    return Err(LiveError::InvalidTransition {
                        from: self.status,
                        to: "running",
                    });
                }
                if let Some(scheduled) = self.scheduled
                    && german_date(scheduled) != german_date(now)
                    && !confirm_other_day
                {
                    return Err(LiveError::OtherDay {
                        scheduled: german_date(scheduled),
                        today: german_date(now),
                    });
                }
                one(Event::MeetingStarted { at: now })
            }
            Command::PauseMeeting => {
                Self::require_chair(actor)?;
                self.require_running()?;
                one(Event::MeetingPaused { at: now })
            }
            Command::ResumeMeeting => {
                Self::require_chair(actor)?;
                if self.status != SessionStatus::Paused {
                    return Err(LiveError::InvalidTransition {
                        from: self.status,
                        to: "running",
                    });
                }
                one(Event::MeetingResumed { at: now })
            }
            Command::CloseMeeting => {
                Self::require_chair(actor)?;
                if !matches!(self.status, SessionStatus::Running | SessionStatus::Paused) {
                    return Err(LiveError::InvalidTransition {
                        from: self.status,
                        to: "closed",
                    });
                }
                if self.polls.iter().any(|p| p.state == PollState::Open) {
                    return Err(LiveError::Invalid("close the open poll first".into()));
                }
                one(Event::MeetingClosed { at: now })
            }
            Command::SetCurrentItem { item } => {
                Self::require_chair(actor)?;
                self.require_running()?;
                if let Some(id) = item
                    && self.item(*id).is_none()
                {
                    return Err(LiveError::ItemNotFound);
                }
                let mut events = vec![Event::CurrentItemChanged { item: *item }];
                if item.and_then(|id| self.item(id)).is_some_and(|i| !i.public) {
                    events.push(Event::NonPublicPartStarted);
                }
                Ok(Applied {
                    events,
                    ..Applied::default()
                })
            }
            Command::CheckIn { remote } => {
                let person = self.require_member(actor)?;
                if matches!(self.status, SessionStatus::Closed) {
                    return Err(LiveError::NotRunning);
                }
                let status = if *remote {
                    AttendanceStatus::Remote
                } else {
                    AttendanceStatus::Present
                };
                Ok(self.attendance_event(person, status, now))
            }
            Command::CheckOut => {
                let person = self.require_member(actor)?;
                Ok(self.attendance_event(person, AttendanceStatus::LeftEarly, now))
            }
            Command::SetAttendance { person, status, at } => {
                Self::require_chair(actor)?;
                if self.member(*person).is_none() {
                    return Err(LiveError::NotMember);
                }
                let at = self.attendance_time(&[*person], *at, now)?;
                Ok(self.attendance_event(*person, *status, at))
            }
            Command::SetAttendanceBulk {
                persons,
                status,
                at,
            } => {
                Self::require_chair(actor)?;
                self.require_running()?;
                if persons.is_empty() {
                    return Err(LiveError::Invalid("name at least one member".into()));
                }
                if persons.iter().any(|p| self.member(*p).is_none()) {
                    return Err(LiveError::NotMember);
                }
                let now = self.attendance_time(persons, *at, now)?;
                let mut changed: Vec<PersonId> = Vec::new();
                let mut seen: BTreeSet<PersonId> = BTreeSet::new();
                for p in persons {
                    if self.attendance.get(p).is_none_or(|a| a.status != *status) && seen.insert(*p)
                    {
                        changed.push(*p);
                    }
                }
                if changed.is_empty() {
                    return Ok(Applied::default());
                }
                let quorum = self.quorum_with_many(&changed, *status);
                let standing = quorum_standing(
                    self.roster.rule_set,
                    &self.quorum_record,
                    &quorum,
                    &self.settings,
                );
                let mut events = vec![Event::AttendanceBulkChanged {
                    persons: changed.clone(),
                    status: *status,
                    at: now,
                    quorum,
                    standing,
                }];
                if status.counts_as_present() {
                    events.extend(self.stand_ins_ended_by_arrival(&changed, now, quorum, standing));
                }
                Ok(Applied {
                    events,
                    ..Applied::default()
                })
            }
            Command::DeclareConflict { item, person } => {
                let person = match person {
                    Some(p) if Some(*p) != actor.person => {
                        Self::require_chair(actor)?;
                        if self.member(*p).is_none() {
                            return Err(LiveError::NotMember);
                        }
                        *p
                    }
                    _ => self.require_member(actor)?,
                };
                if self.item(*item).is_none() {
                    return Err(LiveError::ItemNotFound);
                }
                if self.conflicts.contains(&(*item, person)) {
                    return Ok(Applied::default());
                }
                one(Event::ConflictDeclared {
                    item: *item,
                    person,
                    at: now,
                })
            }
            Command::RequestToSpeak { point_of_order } => {
                let person = self.require_member(actor)?;
                self.require_running()?;
                if self
                    .speakers
                    .iter()
                    .any(|e| e.person == person && e.point_of_order == *point_of_order)
                {
                    return Ok(Applied::default());
                }
                one(Event::SpeakerRequested {
                    entry: SpeakerEntry {
                        id: SpeakerEntryId::new(),
                        person,
                        item: self.current_item,
                        point_of_order: *point_of_order,
                        requested_at: now,
                        started_at: None,
                    },
                })
            }
            Command::WithdrawRequest => {
                let person = self.require_member(actor)?;
                let entry = self
                    .speakers
                    .iter()
                    .find(|e| e.person == person)
                    .ok_or(LiveError::SpeakerNotFound)?;
                one(Event::SpeakerWithdrawn { entry: entry.id })
            }
            Command::CallNextSpeaker => {
                Self::require_chair(actor)?;
                self.require_running()?;
                let next = self.speakers.first().ok_or(LiveError::SpeakerNotFound)?;
                let mut events = Vec::new();
                if let Some(current) = &self.current_speaker {
                    events.push(Event::SpeechEnded {
                        entry: current.id,
                        at: now,
                    });
                }
                events.push(Event::SpeakerCalled {
                    entry: next.clone(),
                    at: now,
                });
                Ok(Applied {
                    events,
                    ..Applied::default()
                })
            }
            Command::EndSpeech => {
                Self::require_chair(actor)?;
                let current = self
                    .current_speaker
                    .as_ref()
                    .ok_or(LiveError::SpeakerNotFound)?;
                one(Event::SpeechEnded {
                    entry: current.id,
                    at: now,
                })
            }
            Command::RemoveSpeaker { entry } => {
                Self::require_chair(actor)?;
                if !self.speakers.iter().any(|e| e.id == *entry) {
                    return Err(LiveError::SpeakerNotFound);
                }
                one(Event::SpeakerRemoved { entry: *entry })
            }
            Command::MoveSpeaker { entry, position } => {
                Self::require_chair(actor)?;
                if !self.speakers.iter().any(|e| e.id == *entry) {
                    return Err(LiveError::SpeakerNotFound);
                }
                one(Event::SpeakerMoved {
                    entry: *entry,
                    position: *position,
                })
            }
            Command::CreatePoll {
                poll,
                item,
                title,
                kind,
                rule,
                options,
                allow_change,
                corrects,
                motion,
                amendment,
            } => {
                Self::require_chair(actor)?;
                // Bayern decides motions openly: a secret vote is refused when it is created.
                self.roster
                    .rule_set
                    .rules()
                    .check_poll_allowed(*kind, false)
                    .map_err(|e| LiveError::SecretBarred(e.to_string()))?;
                if let Some(m) = motion {
                    m.check_poll(*kind, *rule).map_err(LiveError::Invalid)?;
                }
                if let Some(id) = amendment {
                    let a = self.amendment(*id).ok_or(LiveError::AmendmentNotFound)?;
                    if a.withdrawn || Some(a.item) != *item || motion.is_some() {
                        return Err(LiveError::Invalid(
                            "an amendment is voted on its own item, while not withdrawn".into(),
                        ));
                    }
                }
                if self.status == SessionStatus::Closed {
                    return Err(LiveError::NotRunning);
                }
                if self.poll(*poll).is_some() {
                    return Err(LiveError::PollExists);
                }
                if let Some(id) = item
                    && self.item(*id).is_none()
                {
                    return Err(LiveError::ItemNotFound);
                }
                if let Some(earlier) = corrects
                    && self
                        .poll(*earlier)
                        .is_none_or(|p| p.state != PollState::Closed)
                {
                    return Err(LiveError::Invalid(
                        "a correction refers to a closed poll".into(),
                    ));
                }
                let title = title.trim();
                if title.is_empty() || title.chars().count() > 500 {
                    return Err(LiveError::Invalid(
                        "a poll needs a title of at most 500 characters".into(),
                    ));
                }
                let options: Vec<String> = options.iter().map(|o| o.trim().to_owned()).collect();
                if *kind == PollKind::Election {
                    if options.is_empty()
                        || options.len() > 50
                        || options.iter().any(|o| o.is_empty())
                    {
                        return Err(LiveError::Invalid(
                            "an election needs 1 to 50 named candidates".into(),
                        ));
                    }
                } else if !options.is_empty() {
                    return Err(LiveError::Invalid("only elections have candidates".into()));
                }
                let allow_change =
                    *allow_change && matches!(kind, PollKind::Open | PollKind::Named);
                one(Event::PollCreated {
                    poll: Box::new(Poll {
                        id: *poll,
                        item: *item,
                        title: title.to_owned(),
                        kind: *kind,
                        rule: *rule,
                        options,
                        allow_change,
                        state: PollState::Draft,
                        eligible: BTreeSet::new(),
                        ineligible: BTreeMap::new(),
                        voted: BTreeSet::new(),
                        choices: BTreeMap::new(),
                        show_interim: false,
                        result: None,
                        round: 1,
                        runoff_of: None,
                        corrects: *corrects,
                        opened_at: None,
                        closed_at: None,
                        below_quorum: false,
                        cancel_reason: None,
                        motion: *motion,
                        amendment: *amendment,
                        stand_ins: BTreeMap::new(),
                        vote_records: BTreeSet::new(),
                    }),
                })
            }
            Command::OpenPoll {
                poll,
                confirm_below_quorum,
            } => {
                Self::require_chair(actor)?;
                self.require_running()?;
                let p = self.poll(*poll).ok_or(LiveError::PollNotFound)?;
                if p.state != PollState::Draft {
                    return Err(LiveError::PollNotDraft(p.state));
                }
                self.check_amendment_turn(p)?;
                if self
                    .polls
                    .iter()
                    .any(|other| other.state == PollState::Open)
                {
                    return Err(LiveError::Invalid(
                        "another poll is open; close it first".into(),
                    ));
                }
                let rules = self.roster.rule_set.rules();
                // Bayern's open vote on motions (also for a poll created under other rules, or
                // stored by an older version), and Niedersachsen's bar on secret votes and
                // elections once anyone took part remotely (NKomVG § 64).
                rules
                    .check_poll_allowed(p.kind, self.anyone_remote)
                    .map_err(|e| LiveError::SecretBarred(e.to_string()))?;
                let mut eligible = Vec::new();
                let mut ineligible = Vec::new();
                let mut stand_ins = Vec::new();
                for member in &self.roster.members {
                    let conflicted = p
                        .item
                        .is_some_and(|item| self.conflicts.contains(&(item, member.person)));
                    // A substitute holds a vote only while standing in for an absent member.
                    let stands_in = self.stand_in_by(member.person).map(|s| s.member);
                    let voter = Voter {
                        voting_right: crate::holds_vote(
                            member.role,
                            member.voting_right,
                            stands_in.is_some(),
                        ),
                        role: member.role,
                        present: self.present(member.person),
                        conflicted,
                    };
                    // Bayern: members taking part remotely do not vote in elections.
                    let remote = self
                        .attendance
                        .get(&member.person)
                        .is_some_and(|a| a.status == AttendanceStatus::Remote);
                    if crate::is_eligible_for(&voter, remote, p.kind, &rules) {
                        eligible.push(member.person);
                        if member.role == MembershipRole::Substitute
                            && let Some(represented) = stands_in
                        {
                            stand_ins.push((member.person, represented));
                        }
                    } else {
                        let reason = if is_eligible(&voter) {
                            Ineligible::Remote
                        } else if member.role == MembershipRole::Advisory {
                            Ineligible::Advisory
                        } else if !member.voting_right {
                            Ineligible::NoVotingRight
                        } else if member.role == MembershipRole::Substitute && stands_in.is_none() {
                            Ineligible::NotStandingIn
                        } else if conflicted {
                            Ineligible::Conflicted
                        } else if self.stand_in_for(member.person).is_some() {
                            Ineligible::Represented
                        } else {
                            Ineligible::Absent
                        };
                        ineligible.push((member.person, reason));
                    }
                }
                let count = self.quorum();
                let standing = self.quorum_standing();
                let below_quorum = match check_poll_quorum(standing, &count, *confirm_below_quorum)
                {
                    QuorumCheck::Open { below_quorum } => below_quorum,
                    QuorumCheck::Doubted => return Err(LiveError::QuorumDoubted),
                    QuorumCheck::NeedsConfirmation => {
                        return Err(LiveError::QuorumNotMet {
                            count,
                            declared_not_quorate: standing == QuorumStanding::NotQuorate
                                && self.quorum_record.declared.is_some_and(|d| !d.quorate),
                        });
                    }
                };
                one(Event::PollOpened {
                    poll: *poll,
                    eligible,
                    ineligible,
                    at: now,
                    below_quorum,
                    stand_ins,
                })
            }
            Command::RequestVoteRecord { poll } => {
                let person = self.require_member(actor)?;
                self.require_running()?;
                let p = self.poll(*poll).ok_or(LiveError::PollNotFound)?;
                let refuse = |why: &str| Err(LiveError::VoteRecordRefused(why.to_owned()));
                match p.kind {
                    PollKind::Open => {}
                    PollKind::Secret | PollKind::Election => {
                        return refuse(
                            "a secret poll or an election records no one's vote; its secrecy \
                             cannot be waived",
                        );
                    }
                    PollKind::Named => {
                        return refuse("a named poll records every member's vote already");
                    }
                    PollKind::Manual => {
                        return refuse("a poll counted by hand holds no recorded votes");
                    }
                }
                match p.state {
                    PollState::Open => {}
                    PollState::Closed if p.item.is_some() && p.item == self.current_item => {}
                    PollState::Closed => {
                        return refuse(
                            "a vote can be recorded only while its agenda item is still current",
                        );
                    }
                    _ => return Err(LiveError::PollNotOpen),
                }
                let Some(choice) = p.choices.get(&person).copied() else {
                    return refuse(
                        "only a member who voted in this poll can have the vote recorded",
                    );
                };
                if p.vote_records.contains(&person) {
                    return refuse("your vote in this poll is recorded already");
                }
                one(Event::VoteRecordRequested {
                    poll: *poll,
                    person,
                    choice,
                    at: now,
                })
            }
            Command::CastBallot { poll, choice } => {
                let p = self.poll(*poll).ok_or(LiveError::PollNotFound)?;
                let person = actor.person.ok_or(LiveError::VoterNotEligible)?;
                if p.state != PollState::Open {
                    return Err(LiveError::PollNotOpen);
                }
                if p.kind == PollKind::Manual {
                    return Err(LiveError::Invalid("this poll is counted by hand".into()));
                }
                if !p.eligible.contains(&person) {
                    return Err(match p.ineligible.get(&person) {
                        Some(Ineligible::Absent) => LiveError::VoterAbsent,
                        Some(Ineligible::Conflicted) => LiveError::VoterConflicted,
                        Some(Ineligible::Advisory) => LiveError::VoterAdvisory,
                        Some(Ineligible::NotStandingIn) => LiveError::VoterNotStandingIn,
                        Some(Ineligible::Represented) => LiveError::VoterRepresented,
                        Some(Ineligible::Remote) => LiveError::VoterRemote,
                        _ => LiveError::VoterNotEligible,
                    });
                }
                self.check_choice(p, choice)?;
                let already = p.voted.contains(&person);
                if already && !p.allow_change {
                    return Err(LiveError::AlreadyVoted);
                }
                if already {
                    return Ok(Applied {
                        events: vec![Event::BallotChanged {
                            poll: *poll,
                            voter: person,
                            interim: p.interim_tally(Some((person, *choice))),
                        }],
                        open_choice: Some((*poll, person, *choice)),
                        ..Applied::default()
                    });
                }
                let interim = if p.is_secret() {
                    None
                } else {
                    p.interim_tally(Some((person, *choice)))
                };
                Ok(Applied {
                    events: vec![Event::BallotsCast {
                        poll: *poll,
                        voters: vec![person],
                        voted: p.voted.len() as u32 + 1,
                        eligible: p.eligible.len() as u32,
                        interim,
                    }],
                    secret_ballot: p.is_secret().then_some(SecretBallot {
                        poll: *poll,
                        choice: *choice,
                    }),
                    participation: Some((*poll, person)),
                    needs_secret_tally: None,
                    open_choice: (!p.is_secret()).then_some((*poll, person, *choice)),
                })
            }
            Command::ClosePoll { poll } => {
                Self::require_chair(actor)?;
                let p = self.poll(*poll).ok_or(LiveError::PollNotFound)?;
                if p.state != PollState::Open {
                    return Err(LiveError::PollNotOpen);
                }
                if p.kind == PollKind::Manual {
                    return Err(LiveError::Invalid(
                        "enter the hand-counted tallies to close".into(),
                    ));
                }
                if p.is_secret() {
                    return Ok(Applied {
                        needs_secret_tally: Some(*poll),
                        ..Applied::default()
                    });
                }
                let result = self.result_of(p, p.choices.values().copied())?;
                one(Event::PollClosed {
                    poll: *poll,
                    result,
                    at: now,
                })
            }
            Command::CancelPoll { poll, reason } => {
                Self::require_chair(actor)?;
                let p = self.poll(*poll).ok_or(LiveError::PollNotFound)?;
                if !matches!(p.state, PollState::Draft | PollState::Open) {
                    return Err(LiveError::Invalid(
                        "a closed poll is final; create a correction".into(),
                    ));
                }
                let reason = parse_reason(reason.as_deref()).ok_or(LiveError::ReasonRequired)?;
                one(Event::PollCancelled {
                    poll: *poll,
                    at: now,
                    reason: Some(reason),
                })
            }
            Command::EnterManualTally { poll, tally } => {
                Self::require_chair(actor)?;
                let p = self.poll(*poll).ok_or(LiveError::PollNotFound)?;
                if p.kind != PollKind::Manual {
                    return Err(LiveError::Invalid(
                        "only manual polls take hand-counted tallies".into(),
                    ));
                }
                if p.state != PollState::Open {
                    return Err(LiveError::PollNotOpen);
                }
                validate_manual_tally(tally, p.eligible.len() as u32)
                    .map_err(|e| LiveError::Invalid(e.to_string()))?;
                // Bayern knows no abstention, in a hand count neither.
                self.roster
                    .rule_set
                    .rules()
                    .check_choices_allowed(tally)
                    .map_err(|e| LiveError::Invalid(e.to_string()))?;
                let result = PollResult {
                    tally: Some(*tally),
                    election: None,
                    outcome: Some(decide(p.rule, tally, self.roster.statutory_seats)),
                    election_outcome: None,
                    named: Vec::new(),
                    roll: None,
                    eligible: p.eligible.len() as u32,
                    voted: tally.total_cast(),
                    lot: None,
                    below_quorum: p.below_quorum,
                };
                one(Event::PollClosed {
                    poll: *poll,
                    result,
                    at: now,
                })
            }
            Command::ShowInterim { poll, show } => {
                Self::require_chair(actor)?;
                let p = self.poll(*poll).ok_or(LiveError::PollNotFound)?;
                if p.is_secret() && *show {
                    return Err(LiveError::Invalid(
                        "secret polls never show interim results".into(),
                    ));
                }
                let mut shown = p.clone();
                shown.show_interim = *show;
                one(Event::InterimShown {
                    poll: *poll,
                    show: *show,
                    interim: shown.interim_tally(None),
                })
            }
            Command::ShowOnDisplay { poll } => {
                Self::require_chair(actor)?;
                if let Some(id) = poll
                    && self.poll(*id).is_none()
                {
                    return Err(LiveError::PollNotFound);
                }
                one(Event::DisplayChanged { poll: *poll })
            }
            Command::DrawLot { poll, winner } => {
                Self::require_chair(actor)?;
                let p = self.poll(*poll).ok_or(LiveError::PollNotFound)?;
                let result = p.result.as_ref().ok_or(LiveError::NoTie)?;
                let among = match &result.election_outcome {
                    Some(ElectionOutcome::Lot(among)) if result.lot.is_none() => among.clone(),
                    _ => return Err(LiveError::NoTie),
                };
                let rules = self.roster.rule_set.rules();
                // A tie in round one under a top-two runoff draws runoff places, not the winner.
                let field = (p.round == 1
                    && rules.election_second_round == crate::ElectionSecondRound::TopTwoRunoff)
                    .then(|| result.election.as_ref().map(crate::runoff_field))
                    .flatten()
                    .filter(|f| f.places_by_lot > 0);
                let places = field.as_ref().map_or(1, |f| f.places_by_lot as usize);
                let pool = field.as_ref().map_or(among.clone(), |f| f.tied.clone());
                let drawn: Vec<u32> = match winner {
                    Some(w) if places == 1 && pool.contains(w) => vec![*w],
                    Some(_) => return Err(LiveError::InvalidChoice),
                    None => {
                        let mut left = pool.clone();
                        let mut seed = random;
                        let mut picked = Vec::new();
                        while picked.len() < places && !left.is_empty() {
                            let index = (seed % left.len() as u64) as usize;
                            picked.push(left.remove(index));
                            seed = seed
                                .wrapping_mul(6_364_136_223_846_793_005)
                                .wrapping_add(1_442_695_040_888_963_407);
                        }
                        picked
                    }
                };
                let runoff = match &field {
                    Some(f) => f
                        .qualified
                        .iter()
                        .copied()
                        .chain(drawn.iter().copied())
                        .collect(),
                    None => Vec::new(),
                };
                let drawn_by = if winner.is_some() { "chair" } else { "system" };
                one(Event::LotDrawn {
                    poll: *poll,
                    lot: LotDraw {
                        among: pool,
                        winner: drawn.first().copied().unwrap_or_default(),
                        runoff,
                        drawn_by: drawn_by.into(),
                    },
                })
            }
            Command::DeclareQuorum { quorate } => {
                Self::require_chair(actor)?;
                if !matches!(self.status, SessionStatus::Running | SessionStatus::Paused) {
                    return Err(LiveError::NotRunning);
                }
                let count = self.quorum();
                if *quorate && !count.reached && !self.settings.repeat_meeting {
                    return Err(LiveError::QuorumNotReached(count));
                }
                one(Event::QuorumDeclared {
                    declaration: QuorumDeclaration {
                        quorate: *quorate,
                        count,
                        at: now,
                    },
                })
            }
            Command::DoubtQuorum => {
                let person = self.require_member(actor)?;
                if !matches!(self.status, SessionStatus::Running | SessionStatus::Paused) {
                    return Err(LiveError::NotRunning);
                }
                if self.quorum_record.doubts.iter().any(|d| d.person == person) {
                    return Ok(Applied::default());
                }
                one(Event::QuorumDoubted {
                    doubt: QuorumDoubt {
                        person,
                        count: self.quorum(),
                        at: now,
                    },
                })
            }
            Command::FileAmendment {
                amendment,
                item,
                kind,
                title,
                text,
                on_behalf_of,
            } => {
                let person = self.require_member(actor)?;
                if self.status == SessionStatus::Closed {
                    return Err(LiveError::NotRunning);
                }
                if self.item(*item).is_none() {
                    return Err(LiveError::ItemNotFound);
                }
                if let Some(existing) = self.amendment(*amendment) {
                    // A retry under another command id: the same amendment again changes nothing.
                    return if existing.filed_by == person && existing.item == *item {
                        Ok(Applied::default())
                    } else {
                        Err(LiveError::Invalid(
                            "an amendment with this id exists".into(),
                        ))
                    };
                }
                let (title, text) =
                    crate::check_amendment(title, text).map_err(LiveError::Invalid)?;
                let on_behalf_of = on_behalf_of
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.chars().take(200).collect());
                one(Event::AmendmentFiled {
                    amendment: crate::Amendment {
                        id: *amendment,
                        item: *item,
                        filed_by: person,
                        on_behalf_of,
                        kind: *kind,
                        title,
                        text,
                        filed_at: now,
                        withdrawn: false,
                    },
                })
            }
            Command::WithdrawAmendment { amendment } => {
                let a = self
                    .amendment(*amendment)
                    .ok_or(LiveError::AmendmentNotFound)?;
                if !actor.chair && actor.person != Some(a.filed_by) {
                    return Err(LiveError::NotChair);
                }
                if a.withdrawn {
                    return Ok(Applied::default());
                }
                if self.polls.iter().any(|p| {
                    p.amendment == Some(*amendment)
                        && matches!(p.state, PollState::Open | PollState::Closed)
                }) {
                    return Err(LiveError::Invalid(
                        "the amendment is being or was voted on".into(),
                    ));
                }
                one(Event::AmendmentWithdrawn {
                    amendment: *amendment,
                    at: now,
                })
            }
            Command::OrderAmendments {
                item,
                order,
                reason,
            } => {
                Self::require_chair(actor)?;
                if self.item(*item).is_none() {
                    return Err(LiveError::ItemNotFound);
                }
                if parse_reason(reason.as_deref()).is_none() {
                    return Err(LiveError::ReasonRequired);
                }
                let (order, reason) =
                    crate::check_order(&self.amendments, *item, order, reason.as_deref())
                        .map_err(LiveError::Invalid)?;
                one(Event::AmendmentsOrdered {
                    item: *item,
                    order: crate::AmendmentOrder {
                        order,
                        reason,
                        at: now,
                    },
                })
            }
            Command::SetStandIn { member, substitute } => {
                Self::require_chair(actor)?;
                if self
                    .stand_in_for(*member)
                    .is_some_and(|s| s.substitute == *substitute)
                {
                    return Ok(Applied::default());
                }
                self.check_stand_in(*member, *substitute)?;
                let mut next = self.clone();
                let stand_in = crate::StandIn {
                    member: *member,
                    substitute: *substitute,
                    since: now,
                };
                next.stand_ins.push(stand_in);
                let quorum = next.quorum();
                one(Event::StandInSet {
                    stand_in,
                    quorum,
                    standing: next.quorum_standing(),
                })
            }
            Command::EndStandIn { member } => {
                Self::require_chair(actor)?;
                if self.status == SessionStatus::Closed {
                    return Err(LiveError::NotRunning);
                }
                let stand_in = self
                    .stand_in_for(*member)
                    .ok_or(LiveError::StandInNotFound)?;
                let mut next = self.clone();
                next.stand_ins.retain(|s| s.member != *member);
                let quorum = next.quorum();
                one(Event::StandInEnded {
                    member: *member,
                    substitute: stand_in.substitute,
                    reason: crate::StandInEnd::Chair,
                    at: now,
                    quorum,
                    standing: next.quorum_standing(),
                })
            }
            Command::SetSessionSettings {
                repeat_meeting,
                speaking_time_secs,
            } => {
                Self::require_chair(actor)?;
                if self.status == SessionStatus::Closed {
                    return Err(LiveError::NotRunning);
                }
                let settings = SessionSettings {
                    repeat_meeting: *repeat_meeting,
                    speaking_time_secs: *speaking_time_secs,
                };
                settings.validate().map_err(LiveError::Invalid)?;
                if settings == self.settings {
                    return Ok(Applied::default());
                }
                one(Event::SessionSettingsChanged { settings })
            }
        }
    }

    /// The time of an attendance change the chair enters: now, or the earlier time given, which
    /// must lie within the session (not before it began, not in the future) and not before the
    /// last recorded change of any of `persons` (the record stays in order).
    fn attendance_time(
        &self,
        persons: &[PersonId],
        at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, LiveError> {
        let Some(at) = at else {
            return Ok(now);
        };
        let Some(started) = self.started_at else {
            return Err(LiveError::Invalid(
                "a time can be given once the session has begun".into(),
            ));
        };
        if at > now + chrono::Duration::minutes(1) {
            return Err(LiveError::Invalid(
                "an attendance time cannot lie in the future".into(),
            ));
        }
        if at < started {
            return Err(LiveError::Invalid(
                "an attendance time cannot lie before the session began".into(),
            ));
        }
        if persons
            .iter()
            .filter_map(|p| self.attendance.get(p))
            .any(|a| a.since > at)
        {
            return Err(LiveError::Invalid(
                "an attendance time cannot lie before the member's last recorded change".into(),
            ));
        }
        Ok(at.min(now))
    }

    /// Whether `person` arrived late: first counted as present more than
    /// [`LATE_AFTER_SECS`] after the session began.
    pub fn arrived_late(&self, person: PersonId) -> bool {
        match (
            self.started_at,
            self.attendance.get(&person).and_then(|a| a.arrived),
        ) {
            (Some(started), Some(arrived)) => {
                arrived - started > chrono::Duration::seconds(LATE_AFTER_SECS)
            }
            _ => false,
        }
    }

    /// Records a member's new attendance, keeping the first arrival and the last departure.
    fn record_attendance(&mut self, person: PersonId, status: AttendanceStatus, at: DateTime<Utc>) {
        if status == AttendanceStatus::Remote {
            self.anyone_remote = true;
        }
        let before = self.attendance.get(&person).copied();
        let arrived = before.and_then(|a| a.arrived);
        let arrived = if status.counts_as_present() {
            arrived.or(Some(at))
        } else {
            arrived
        };
        let left = if status == AttendanceStatus::LeftEarly {
            Some(at)
        } else if status.counts_as_present() {
            None
        } else {
            before.and_then(|a| a.left)
        };
        self.attendance.insert(
            person,
            Attendance {
                status,
                since: at,
                arrived,
                left,
            },
        );
    }

    fn attendance_event(
        &self,
        person: PersonId,
        status: AttendanceStatus,
        now: DateTime<Utc>,
    ) -> Applied {
        if self
            .attendance
            .get(&person)
            .is_some_and(|a| a.status == status)
        {
            return Applied::default();
        }
        let quorum = self.quorum_with(Some((person, status)));
        let standing = quorum_standing(
            self.roster.rule_set,
            &self.quorum_record,
            &quorum,
            &self.settings,
        );
        let mut events = vec![Event::AttendanceChanged {
            person,
            status,
            at: now,
            quorum,
            standing: Some(standing),
        }];
        if status.counts_as_present() {
            events.extend(self.stand_ins_ended_by_arrival(&[person], now, quorum, standing));
        }
        Applied {
            events,
            ..Applied::default()
        }
    }

    /// The stand-ins that end because their members arrive. The seat was filled once before and
    /// is filled once after, so the quorum is the one after the arrival.
    fn stand_ins_ended_by_arrival(
        &self,
        arriving: &[PersonId],
        now: DateTime<Utc>,
        quorum: QuorumStatus,
        standing: QuorumStanding,
    ) -> Vec<Event> {
        self.stand_ins
            .iter()
            .filter(|s| arriving.contains(&s.member))
            .map(|s| Event::StandInEnded {
                member: s.member,
                substitute: s.substitute,
                reason: crate::StandInEnd::MemberArrived,
                at: now,
                quorum,
                standing,
            })
            .collect()
    }

    fn check_choice(&self, poll: &Poll, choice: &BallotChoice) -> Result<(), LiveError> {
        let rules = self.roster.rule_set.rules();
        match (poll.kind, choice) {
            (PollKind::Election, BallotChoice::Candidate(i))
                if (*i as usize) < poll.options.len() =>
            {
                Ok(())
            }
            (PollKind::Election, BallotChoice::Choice(Choice::No | Choice::Abstain)) => Ok(()),
            (PollKind::Election, _) => Err(LiveError::InvalidChoice),
            (_, BallotChoice::Candidate(_)) => Err(LiveError::InvalidChoice),
            (_, BallotChoice::Choice(Choice::Abstain)) if !rules.abstention_allowed => {
                Err(LiveError::InvalidChoice)
            }
            (_, BallotChoice::Choice(_)) => Ok(()),
        }
    }

    /// The result of a poll from its ballots (for secret polls: the decrypted ones).
    pub fn result_of(
        &self,
        poll: &Poll,
        ballots: impl Iterator<Item = BallotChoice>,
    ) -> Result<PollResult, LiveError> {
        let eligible = poll.eligible.len() as u32;
        let mut result = PollResult {
            tally: None,
            election: None,
            outcome: None,
            election_outcome: None,
            named: Vec::new(),
            roll: None,
            eligible,
            voted: 0,
            lot: None,
            below_quorum: poll.below_quorum,
        };
        if poll.kind == PollKind::Election {
            let choices: Vec<ElectionChoice> = ballots
                .map(|b| match b {
                    BallotChoice::Candidate(i) => ElectionChoice::Candidate(i),
                    BallotChoice::Choice(Choice::No) => ElectionChoice::No,
                    BallotChoice::Choice(_) => ElectionChoice::Abstain,
                })
                .collect();
            result.voted = choices.len() as u32;
            let tally = ElectionTally::from_choices(poll.options.len() as u32, choices);
            let round = if poll.round > 1 {
                ElectionRound::Runoff
            } else {
                ElectionRound::First
            };
            result.election_outcome = Some(decide_election(
                &self.roster.rule_set.rules(),
                round,
                &tally,
                self.roster.statutory_seats,
            ));
            result.election = Some(tally);
        } else {
            let choices: Vec<Choice> = ballots
                .filter_map(|b| match b {
                    BallotChoice::Choice(c) => Some(c),
                    BallotChoice::Candidate(_) => None,
                })
                .collect();
            result.voted = choices.len() as u32;
            let tally = Tally::from_choices(choices);
            result.outcome = Some(decide(poll.rule, &tally, self.roster.statutory_seats));
            result.tally = Some(tally);
            if poll.kind == PollKind::Named {
                result.named = poll.choices.iter().map(|(p, c)| (*p, *c)).collect();
            }
        }
        Ok(result)
    }

    /// Applies an event. Events are facts: applying never fails.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::MeetingStarted { at } => {
                self.status = SessionStatus::Running;
                self.started_at = Some(*at);
            }
            Event::MeetingPaused { .. } => self.status = SessionStatus::Paused,
            Event::MeetingResumed { .. } => self.status = SessionStatus::Running,
            Event::MeetingClosed { .. } => {
                self.status = SessionStatus::Closed;
                self.current_speaker = None;
                self.speakers.clear();
            }
            Event::CurrentItemChanged { item } => self.current_item = *item,
            Event::NonPublicPartStarted => {}
            Event::AttendanceChanged {
                person, status, at, ..
            } => self.record_attendance(*person, *status, *at),
            Event::AttendanceBulkChanged {
                persons,
                status,
                at,
                ..
            } => {
                for person in persons {
                    self.record_attendance(*person, *status, *at);
                }
            }
            Event::ConflictDeclared { item, person, .. } => {
                self.conflicts.insert((*item, *person));
            }
            Event::SpeakerRequested { entry } => {
                if entry.point_of_order {
                    let at = self
                        .speakers
                        .iter()
                        .take_while(|e| e.point_of_order)
                        .count();
                    self.speakers.insert(at, entry.clone());
                } else {
                    self.speakers.push(entry.clone());
                }
            }
            Event::SpeakerWithdrawn { entry } | Event::SpeakerRemoved { entry } => {
                self.speakers.retain(|e| e.id != *entry);
            }
            Event::SpeakerMoved { entry, position } => {
                if let Some(index) = self.speakers.iter().position(|e| e.id == *entry) {
                    let moved = self.speakers.remove(index);
                    let at = (*position as usize).min(self.speakers.len());
                    self.speakers.insert(at, moved);
                }
            }
            Event::SpeakerCalled { entry, at } => {
                self.speakers.retain(|e| e.id != entry.id);
                let mut current = entry.clone();
                current.started_at = Some(*at);
                self.current_speaker = Some(current);
            }
            Event::SpeechEnded { entry, .. } => {
                if self
                    .current_speaker
                    .as_ref()
                    .is_some_and(|c| c.id == *entry)
                {
                    self.current_speaker = None;
                }
            }
            Event::PollCreated { poll } => self.polls.push((**poll).clone()),
            Event::PollOpened {
                poll,
                eligible,
                ineligible,
                at,
                below_quorum,
                stand_ins,
            } => {
                if let Some(p) = self.poll_mut(*poll) {
                    p.state = PollState::Open;
                    p.eligible = eligible.iter().copied().collect();
                    p.ineligible = ineligible.iter().copied().collect();
                    p.stand_ins = stand_ins.iter().copied().collect();
                    p.opened_at = Some(*at);
                    p.below_quorum = *below_quorum;
                }
            }
            Event::BallotsCast { poll, voters, .. } => {
                if let Some(p) = self.poll_mut(*poll) {
                    p.voted.extend(voters.iter().copied());
                }
            }
            Event::BallotChanged { .. } => {}
            Event::VoteRecordRequested { poll, person, .. } => {
                if let Some(p) = self.poll_mut(*poll) {
                    p.vote_records.insert(*person);
                }
            }
            Event::PollClosed { poll, result, at } => {
                let mut runoff = None;
                let second_round_follows = self.roster.rule_set.rules().election_second_round
                    == crate::ElectionSecondRound::MostVotesWins;
                if let Some(p) = self.poll_mut(*poll) {
                    p.state = PollState::Closed;
                    p.result = Some(result.unrolled(&p.eligible));
                    p.closed_at = Some(*at);
                    p.choices
                        .retain(|_, _| p.kind == PollKind::Named || p.kind == PollKind::Open);
                    match result.election_outcome {
                        Some(ElectionOutcome::Runoff(a, b)) if p.round == 1 => {
                            runoff = Some(runoff_poll(p, a, b));
                        }
                        // Niedersachsen: nobody won the first round, so a second round follows
                        // with every candidate, decided by the most votes.
                        Some(ElectionOutcome::NoneElected)
                            if p.round == 1 && second_round_follows && !p.options.is_empty() =>
                        {
                            runoff = Some(second_round(
                                p,
                                format!("{} – 2. Wahlgang", p.title),
                                p.options.clone(),
                            ));
                        }
                        _ => {}
                    }
                }
                if let Some(runoff) = runoff {
                    self.polls.push(runoff);
                }
            }
            Event::PollCancelled { poll, at, reason } => {
                if let Some(p) = self.poll_mut(*poll) {
                    p.state = PollState::Cancelled;
                    p.closed_at = Some(*at);
                    p.choices.clear();
                    p.cancel_reason.clone_from(reason);
                }
            }
            Event::QuorumDeclared { declaration } => {
                self.quorum_record.declared = Some(*declaration);
                self.quorum_record.doubts.clear();
            }
            Event::QuorumDoubted { doubt } => self.quorum_record.doubts.push(*doubt),
            Event::SessionSettingsChanged { settings } => self.settings = *settings,
            Event::AmendmentFiled { amendment } => self.amendments.push(amendment.clone()),
            Event::AmendmentWithdrawn { amendment, .. } => {
                if let Some(a) = self.amendments.iter_mut().find(|a| a.id == *amendment) {
                    a.withdrawn = true;
                }
            }
            Event::AmendmentsOrdered { item, order } => {
                self.amendment_orders.insert(*item, order.clone());
            }
            Event::StandInSet { stand_in, .. } => {
                self.stand_ins.retain(|s| s.member != stand_in.member);
                self.stand_ins.push(*stand_in);
            }
            Event::StandInEnded { member, .. } => self.stand_ins.retain(|s| s.member != *member),
            Event::InterimShown { poll, show, .. } => {
                if let Some(p) = self.poll_mut(*poll) {
                    p.show_interim = *show;
                }
            }
            Event::DisplayChanged { poll } => self.display_poll = *poll,
            Event::LotDrawn { poll, lot } => {
                let mut runoff = None;
                if let Some(p) = self.poll_mut(*poll) {
                    if let Some(result) = p.result.as_mut() {
                        result.lot = Some(lot.clone());
                    }
                    if let [a, b] = lot.runoff[..] {
                        runoff = Some(runoff_poll(p, a, b));
                    }
                }
                if let Some(runoff) = runoff {
                    self.polls.push(runoff);
                }
            }
        }
    }

    /// Applies everything a decided command produced.
    pub fn apply_all(&mut self, applied: &Applied) {
        for event in &applied.events {
            self.apply(event);
        }
        if let Some((poll, voter, choice)) = applied.open_choice
            && let Some(p) = self.poll_mut(poll)
            && !p.is_secret()
        {
            p.choices.insert(voter, choice);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_people_read_name_no_rust_values() {
        let mut texts = Vec::new();
        for state in [
            PollState::Draft,
            PollState::Open,
            PollState::Closed,
            PollState::Cancelled,
        ] {
            texts.push(LiveError::PollNotDraft(state).to_string());
        }
        for from in [
            SessionStatus::NotStarted,
            SessionStatus::Running,
            SessionStatus::Paused,
            SessionStatus::Closed,
        ] {
            texts.push(
                LiveError::InvalidTransition {
                    from,
                    to: "running",
                }
                .to_string(),
            );
        }
        assert_eq!(texts[2], "the poll is closed; only a draft can be opened");
        assert_eq!(
            texts[4],
            "the meeting cannot go from not started to running"
        );
        for text in texts {
            assert!(!text.chars().any(char::is_uppercase), "{text}");
        }
    }

    #[test]
    fn a_motion_is_adopted_in_every_vocabulary_and_old_events_still_read() {
        assert_eq!(serde_json::to_value(Outcome::Adopted).unwrap(), "adopted");
        assert_eq!(Outcome::Adopted.as_str(), "adopted");
        let old: Outcome = serde_json::from_str("\"accepted\"").unwrap();
        assert_eq!(old, Outcome::Adopted);
    }

    fn setup(n: usize) -> (LiveState, Vec<PersonId>, CommandActor) {
        let people: Vec<PersonId> = (0..n).map(|_| PersonId::new()).collect();
        let roster = Roster {
            organization: OrganizationId::new(),
            organization_kind: crate::OrganizationKind::Council,
            statutory_seats: n as u32,
            rule_set: RuleSet::NordrheinWestfalen,
            members: people
                .iter()
                .enumerate()
                .map(|(i, p)| RosterMember {
                    person: *p,
                    name: format!("M{i}"),
                    role: if i == 0 {
                        MembershipRole::Chair
                    } else {
                        MembershipRole::Member
                    },
                    voting_right: true,
                    fraction: None,
                })
                .collect(),
        };
        let item = AgendaEntry {
            id: AgendaItemId::new(),
            number: "Ö 1".into(),
            title: "Wahl".into(),
            public: true,
        };
        let state = LiveState::new(MeetingId::new(), roster, vec![item]);
        let chair = CommandActor {
            person: Some(people[0]),
            chair: true,
        };
        (state, people, chair)
    }

    fn run(state: &mut LiveState, actor: &CommandActor, command: Command) -> Applied {
        let applied = state.decide(actor, &command, Utc::now(), 7).unwrap();
        state.apply_all(&applied);
        applied
    }

    /// The chair opens `poll` (the count suffices).
    fn open_poll(state: &mut LiveState, chair: &CommandActor, poll: PollId) {
        run(
            state,
            chair,
            Command::OpenPoll {
                poll,
                confirm_below_quorum: false,
            },
        );
    }

    /// A member acting for themselves.
    fn member(person: PersonId) -> CommandActor {
        CommandActor {
            person: Some(person),
            chair: false,
        }
    }

    /// Starts the meeting; `people` check in, in the room.
    fn start_with_all_in(state: &mut LiveState, chair: &CommandActor, people: &[PersonId]) {
        run(
            state,
            chair,
            Command::StartMeeting {
                confirm_other_day: false,
            },
        );
        for person in people {
            run(state, &member(*person), Command::CheckIn { remote: false });
        }
    }

    /// Creates a poll without an item, simple majority; `options` are an election's candidates.
    fn new_poll(poll: PollId, title: &str, kind: PollKind, options: &[&str]) -> Command {
        Command::CreatePoll {
            poll,
            item: None,
            title: title.into(),
            kind,
            rule: MajorityRule::Simple,
            options: options.iter().map(|o| (*o).to_owned()).collect(),
            allow_change: false,
            corrects: None,
            motion: None,
            amendment: None,
        }
    }

    #[test]
    fn all_present_is_one_event_for_those_whose_status_changes_and_keeps_arrival_times() {
        let (mut state, people, chair) = setup(5);
        let bulk = Command::SetAttendanceBulk {
            persons: people.clone(),
            status: AttendanceStatus::Present,
            at: None,
        };
        assert_eq!(
            state.decide(&chair, &bulk, Utc::now(), 7).unwrap_err(),
            LiveError::NotRunning,
            "only while the session runs"
        );
        run(
            &mut state,
            &chair,
            Command::StartMeeting {
                confirm_other_day: false,
            },
        );
        let member = CommandActor {
            person: Some(people[1]),
            chair: false,
        };
        assert_eq!(
            state.decide(&member, &bulk, Utc::now(), 7).unwrap_err(),
            LiveError::NotChair
        );
        let stranger = Command::SetAttendanceBulk {
            persons: vec![people[2], PersonId::new()],
            status: AttendanceStatus::Present,
            at: None,
        };
        assert_eq!(
            state.decide(&chair, &stranger, Utc::now(), 7).unwrap_err(),
            LiveError::NotMember,
            "all or nothing"
        );
        run(&mut state, &member, Command::CheckIn { remote: false });
        let arrived = state.attendance[&people[1]].arrived;
        assert!(arrived.is_some());
        let applied = run(&mut state, &chair, bulk.clone());
        let [
            Event::AttendanceBulkChanged {
                persons, quorum, ..
            },
        ] = applied.events.as_slice()
        else {
            panic!("one event: {:?}", applied.events);
        };
        assert_eq!(persons.len(), 4, "the member who checked in is left out");
        assert!(quorum.reached);
        assert!(people.iter().all(|p| state.present(*p)));
        assert_eq!(state.attendance[&people[1]].arrived, arrived);
        assert!(
            run(&mut state, &chair, bulk).events.is_empty(),
            "nothing to change"
        );
        run(&mut state, &member, Command::CheckOut);
        let left = state.attendance[&people[1]];
        assert_eq!(left.arrived, arrived, "the arrival stays");
        assert!(left.left.is_some(), "the departure is recorded");
        run(&mut state, &member, Command::CheckIn { remote: false });
        assert_eq!(state.attendance[&people[1]].left, None, "back again");
    }

    #[test]
    fn the_chair_enters_a_late_arrival_and_an_early_departure_with_their_times() {
        let (mut state, people, chair) = setup(3);
        let at = |minutes: i64| Utc::now() - chrono::Duration::minutes(minutes);
        let set = |person, status, when| Command::SetAttendance {
            person,
            status,
            at: Some(when),
        };
        assert!(
            matches!(
                state.decide(
                    &chair,
                    &set(people[1], AttendanceStatus::Present, at(1)),
                    Utc::now(),
                    0
                ),
                Err(LiveError::Invalid(_))
            ),
            "no time before the session began"
        );
        run(
            &mut state,
            &chair,
            Command::StartMeeting {
                confirm_other_day: false,
            },
        );
        state.started_at = Some(at(60));
        for (when, why) in [(at(61), "before the opening"), (at(-5), "in the future")] {
            assert!(
                matches!(
                    state.decide(
                        &chair,
                        &set(people[1], AttendanceStatus::Present, when),
                        Utc::now(),
                        0
                    ),
                    Err(LiveError::Invalid(_))
                ),
                "{why}"
            );
        }
        // Arrived twenty minutes after the opening, entered now: late.
        run(
            &mut state,
            &chair,
            set(people[1], AttendanceStatus::Present, at(40)),
        );
        let arrived = state.attendance[&people[1]].arrived.unwrap();
        assert!((arrived - at(40)).num_seconds().abs() < 2);
        assert!(state.arrived_late(people[1]));
        // On time: three minutes after the opening.
        run(
            &mut state,
            &chair,
            set(people[2], AttendanceStatus::Present, at(57)),
        );
        assert!(!state.arrived_late(people[2]));
        // Left early at a given time, not before the arrival.
        assert!(matches!(
            state.decide(
                &chair,
                &set(people[1], AttendanceStatus::LeftEarly, at(45)),
                Utc::now(),
                0
            ),
            Err(LiveError::Invalid(_))
        ));
        run(
            &mut state,
            &chair,
            set(people[1], AttendanceStatus::LeftEarly, at(10)),
        );
        let left = state.attendance[&people[1]].left.unwrap();
        assert!((left - at(10)).num_seconds().abs() < 2);
        // Many at once, with one time.
        let bulk = Command::SetAttendanceBulk {
            persons: vec![people[0], people[1]],
            status: AttendanceStatus::Present,
            at: Some(at(5)),
        };
        run(&mut state, &chair, bulk);
        assert!(state.arrived_late(people[0]));
        assert_eq!(
            state.attendance[&people[0]].since,
            state.attendance[&people[1]].since
        );
    }

    #[test]
    fn in_niedersachsen_an_undecided_first_round_gets_a_second_round_with_every_candidate() {
        let (mut state, people, chair) = setup(6);
        state.roster.rule_set = RuleSet::Niedersachsen;
        start_with_all_in(&mut state, &chair, &people);
        let options = ["Anna", "Bernd", "Clara"];
        let vote = |state: &mut LiveState, poll: PollId| {
            run(
                state,
                &chair,
                Command::OpenPoll {
                    poll,
                    confirm_below_quorum: false,
                },
            );
            // 3 / 2 / 1: not more than half of the six members, but the most votes.
            let mut ballots = Vec::new();
            for (i, p) in people.iter().enumerate() {
                let choice = BallotChoice::Candidate(match i {
                    0..=2 => 0,
                    3 | 4 => 1,
                    _ => 2,
                });
                run(state, &member(*p), Command::CastBallot { poll, choice });
                ballots.push(choice);
            }
            let result = state
                .result_of(state.poll(poll).unwrap(), ballots.iter().copied())
                .unwrap();
            state.apply(&Event::PollClosed {
                poll,
                result: result.clone(),
                at: Utc::now(),
            });
            result
        };
        let first = PollId::new();
        run(
            &mut state,
            &chair,
            new_poll(
                first,
                "Wahl der Stellvertretung",
                PollKind::Election,
                &options,
            ),
        );
        let result = vote(&mut state, first);
        assert_eq!(
            result.election_outcome,
            Some(ElectionOutcome::NoneElected),
            "{result:?}"
        );
        let second = state
            .polls
            .iter()
            .find(|p| p.runoff_of == Some(first))
            .expect("a second round");
        assert_eq!(second.round, 2);
        assert_eq!(second.options, options, "every candidate again");
        assert_eq!(second.state, PollState::Draft);
        assert_eq!(second.title, "Wahl der Stellvertretung – 2. Wahlgang");
        let second = second.id;
        let result = vote(&mut state, second);
        assert_eq!(
            result.election_outcome,
            Some(ElectionOutcome::Elected(0)),
            "the most votes win the second round"
        );
        assert!(
            state.polls.iter().all(|p| p.runoff_of != Some(second)),
            "no third round"
        );
    }

    #[test]
    fn an_undecided_election_gets_a_runoff_and_a_tied_runoff_a_lot() {
        let (mut state, people, chair) = setup(6);
        run(
            &mut state,
            &chair,
            Command::StartMeeting {
                confirm_other_day: false,
            },
        );
        for p in &people {
            let me = CommandActor {
                person: Some(*p),
                chair: false,
            };
            run(&mut state, &me, Command::CheckIn { remote: false });
        }
        assert!(state.quorum().reached);
        let poll = PollId::new();
        run(
            &mut state,
            &chair,
            Command::CreatePoll {
                poll,
                item: None,
                title: "Wahl der Stellvertretung".into(),
                kind: PollKind::Election,
                rule: MajorityRule::Simple,
                options: vec!["Anna".into(), "Bernd".into(), "Clara".into()],
                allow_change: false,
                corrects: None,
                motion: None,
                amendment: None,
            },
        );
        open_poll(&mut state, &chair, poll);
        // 2 / 2 / 2: nobody has more than half of the valid votes.
        let mut ballots = Vec::new();
        for (i, p) in people.iter().enumerate() {
            let me = CommandActor {
                person: Some(*p),
                chair: false,
            };
            let choice = BallotChoice::Candidate((i % 3) as u32);
            let applied = run(&mut state, &me, Command::CastBallot { poll, choice });
            assert!(
                applied.secret_ballot.is_some(),
                "election ballots are sealed"
            );
            assert!(applied.open_choice.is_none(), "and never kept in the open");
            ballots.push(choice);
        }
        let close = state
            .decide(&chair, &Command::ClosePoll { poll }, Utc::now(), 0)
            .unwrap();
        assert_eq!(
            close.needs_secret_tally,
            Some(poll),
            "the tally comes from the sealed ballots"
        );
        let result = state
            .result_of(state.poll(poll).unwrap(), ballots.iter().copied())
            .unwrap();
        assert!(
            matches!(result.election_outcome, Some(ElectionOutcome::Lot(_))),
            "{result:?}"
        );
        state.apply(&Event::PollClosed {
            poll,
            result,
            at: Utc::now(),
        });
        assert!(
            state.polls.iter().all(|p| p.runoff_of != Some(poll)),
            "the lot picks the field first"
        );
        // Three tie for first: the lot draws the two places of the runoff.
        let drawn = run(&mut state, &chair, Command::DrawLot { poll, winner: None });
        let Event::LotDrawn { lot, .. } = &drawn.events[0] else {
            panic!("{drawn:?}")
        };
        assert_eq!(lot.runoff.len(), 2);
        assert_ne!(lot.runoff[0], lot.runoff[1]);
        let runoff = state
            .polls
            .iter()
            .find(|p| p.runoff_of == Some(poll))
            .expect("a runoff poll");
        assert_eq!(runoff.round, 2);
        assert_eq!(runoff.options.len(), 2);
        assert_eq!(runoff.state, PollState::Draft);
        let runoff = runoff.id;

        // The runoff ties 3 : 3, so the lot decides.
        run(
            &mut state,
            &chair,
            Command::OpenPoll {
                poll: runoff,
                confirm_below_quorum: false,
            },
        );
        let mut ballots = Vec::new();
        for (i, p) in people.iter().enumerate() {
            let me = CommandActor {
                person: Some(*p),
                chair: false,
            };
            let choice = BallotChoice::Candidate((i % 2) as u32);
            run(
                &mut state,
                &me,
                Command::CastBallot {
                    poll: runoff,
                    choice,
                },
            );
            ballots.push(choice);
        }
        let result = state
            .result_of(state.poll(runoff).unwrap(), ballots.iter().copied())
            .unwrap();
        assert!(
            matches!(result.election_outcome, Some(ElectionOutcome::Lot(_))),
            "{result:?}"
        );
        state.apply(&Event::PollClosed {
            poll: runoff,
            result,
            at: Utc::now(),
        });
        let member = CommandActor {
            person: Some(people[1]),
            chair: false,
        };
        assert_eq!(
            state.decide(
                &member,
                &Command::DrawLot {
                    poll: runoff,
                    winner: None
                },
                Utc::now(),
                1
            ),
            Err(LiveError::NotChair)
        );
        let drawn = run(
            &mut state,
            &chair,
            Command::DrawLot {
                poll: runoff,
                winner: None,
            },
        );
        let Event::LotDrawn { lot, .. } = &drawn.events[0] else {
            panic!("{drawn:?}")
        };
        assert_eq!(lot.drawn_by, "system");
        assert!(lot.among.contains(&lot.winner));
        assert!(
            lot.runoff.is_empty(),
            "the runoff's lot decides the election"
        );
        assert_eq!(
            state.decide(
                &chair,
                &Command::DrawLot {
                    poll: runoff,
                    winner: None
                },
                Utc::now(),
                1
            ),
            Err(LiveError::NoTie),
            "a lot is drawn once"
        );
    }

    #[test]
    fn interim_tallies_count_a_pending_ballot_once_and_only_when_shown() {
        let (a, b) = (PersonId::new(), PersonId::new());
        let mut poll = Poll {
            id: PollId::new(),
            item: None,
            title: "T".into(),
            kind: PollKind::Open,
            rule: MajorityRule::Simple,
            options: vec![],
            allow_change: true,
            state: PollState::Open,
            eligible: [a, b].into_iter().collect(),
            ineligible: BTreeMap::new(),
            voted: [a].into_iter().collect(),
            choices: [(a, BallotChoice::Choice(Choice::Yes))]
                .into_iter()
                .collect(),
            show_interim: false,
            result: None,
            round: 1,
            runoff_of: None,
            corrects: None,
            opened_at: None,
            closed_at: None,
            below_quorum: false,
            cancel_reason: None,
            motion: None,
            amendment: None,
            stand_ins: BTreeMap::new(),
            vote_records: BTreeSet::new(),
        };
        assert_eq!(
            poll.interim_tally(None),
            None,
            "hidden unless the chair shows it"
        );
        poll.show_interim = true;
        let new = poll
            .interim_tally(Some((b, BallotChoice::Choice(Choice::No))))
            .unwrap();
        assert_eq!((new.yes, new.no), (1, 1));
        let changed = poll
            .interim_tally(Some((a, BallotChoice::Choice(Choice::No))))
            .unwrap();
        assert_eq!(
            (changed.yes, changed.no),
            (0, 1),
            "a changed vote replaces, not adds"
        );
        poll.kind = PollKind::Secret;
        assert_eq!(poll.interim_tally(None), None, "never for secret polls");
    }

    #[test]
    fn attendance_changes_at_one_moment_coalesce_into_one_event() {
        let (a, b, c) = (PersonId::new(), PersonId::new(), PersonId::new());
        let now = Utc::now();
        let quorum = |present| QuorumStatus {
            statutory: 5,
            present_voting: present,
            required: 3,
            reached: present >= 3,
        };
        let standing = |present| {
            if present >= 3 {
                QuorumStanding::Quorate
            } else {
                QuorumStanding::Presumed
            }
        };
        let arrived = |person, present, at| Event::AttendanceChanged {
            person,
            status: AttendanceStatus::Present,
            at,
            quorum: quorum(present),
            standing: Some(standing(present)),
        };
        let mut first = arrived(a, 1, now);
        assert!(first.absorb(&arrived(b, 2, now)));
        assert!(first.absorb(&arrived(c, 3, now)));
        assert_eq!(
            first,
            Event::AttendanceBulkChanged {
                persons: vec![a, b, c],
                status: AttendanceStatus::Present,
                at: now,
                quorum: quorum(3),
                standing: QuorumStanding::Quorate,
            },
            "the members in order, the quorum after the last"
        );
        let before = first.clone();
        let later = now + chrono::Duration::seconds(1);
        assert!(
            !first.absorb(&arrived(PersonId::new(), 4, later)),
            "another moment"
        );
        let left = Event::AttendanceChanged {
            person: a,
            status: AttendanceStatus::LeftEarly,
            at: now,
            quorum: quorum(2),
            standing: Some(standing(2)),
        };
        assert!(!first.absorb(&left), "another status");
        assert_eq!(first, before, "unchanged when refused");
        let old = Event::AttendanceChanged {
            person: b,
            status: AttendanceStatus::Present,
            at: now,
            quorum: quorum(4),
            standing: None,
        };
        assert!(
            !first.absorb(&old),
            "an event without its standing stays apart"
        );
        let mut state = setup(3).0;
        let roster: Vec<PersonId> = state.roster.members.iter().map(|m| m.person).collect();
        let mut from_combined = state.clone();
        let mut combined: Option<Event> = None;
        for person in &roster {
            let applied = state
                .decide(
                    &CommandActor {
                        person: Some(*person),
                        chair: false,
                    },
                    &Command::CheckIn { remote: false },
                    now,
                    1,
                )
                .unwrap();
            state.apply_all(&applied);
            for event in applied.events {
                if !combined.as_mut().is_some_and(|c| c.absorb(&event)) {
                    assert!(combined.is_none(), "all three fold into one");
                    combined = Some(event);
                }
            }
        }
        from_combined.apply(&combined.unwrap());
        assert_eq!(
            serde_json::to_value(&from_combined).unwrap(),
            serde_json::to_value(&state).unwrap(),
            "applying the combined event gives the same state"
        );
    }

    #[test]
    fn ballots_of_one_poll_coalesce_into_one_event_listing_who_voted() {
        let (p, other) = (PollId::new(), PollId::new());
        let (a, b) = (PersonId::new(), PersonId::new());
        let cast = |poll, voter, voted| Event::BallotsCast {
            poll,
            voters: vec![voter],
            voted,
            eligible: 5,
            interim: None,
        };
        let mut first = cast(p, a, 1);
        assert!(first.absorb(&cast(p, b, 2)));
        assert_eq!(first, {
            let mut both = cast(p, a, 2);
            if let Event::BallotsCast { voters, .. } = &mut both {
                voters.push(b);
            }
            both
        });
        assert!(!first.absorb(&cast(other, b, 1)), "another poll");
        let closed = Event::PollCancelled {
            poll: p,
            at: Utc::now(),
            reason: None,
        };
        assert!(!first.absorb(&closed), "another kind of event");
        let mut state = setup(1).0;
        let poll = Poll {
            id: p,
            item: None,
            title: "T".into(),
            kind: PollKind::Secret,
            rule: MajorityRule::Simple,
            options: vec![],
            allow_change: false,
            state: PollState::Open,
            eligible: [a, b].into_iter().collect(),
            ineligible: BTreeMap::new(),
            voted: Default::default(),
            choices: Default::default(),
            show_interim: false,
            result: None,
            round: 1,
            runoff_of: None,
            corrects: None,
            opened_at: None,
            closed_at: None,
            below_quorum: false,
            cancel_reason: None,
            motion: None,
            amendment: None,
            stand_ins: BTreeMap::new(),
            vote_records: BTreeSet::new(),
        };
        state.apply(&Event::PollCreated {
            poll: Box::new(poll),
        });
        state.apply(&first);
        assert_eq!(state.poll(p).map(|p| p.voted.len()), Some(2));
    }

    #[test]
    fn a_named_result_travels_as_a_roll_and_gives_the_same_state() {
        let (mut state, people, chair) = setup(6);
        start_with_all_in(&mut state, &chair, &people);
        let poll = PollId::new();
        run(
            &mut state,
            &chair,
            new_poll(poll, "T", PollKind::Named, &[]),
        );
        open_poll(&mut state, &chair, poll);
        let choices = [Choice::Yes, Choice::No, Choice::Abstain, Choice::Yes];
        for (person, choice) in people.iter().zip(choices) {
            let choice = BallotChoice::Choice(choice);
            run(
                &mut state,
                &member(*person),
                Command::CastBallot { poll, choice },
            );
        }
        let closed = state
            .decide(&chair, &Command::ClosePoll { poll }, Utc::now(), 7)
            .unwrap()
            .events
            .remove(0);
        let mut whole = state.clone();
        whole.apply(&closed);
        let compact = closed.compact(&whole).expect("a named result rolls");
        let json = serde_json::to_string(&compact).unwrap();
        assert!(!json.contains(&people[0].to_string()), "{json}");
        let Event::PollClosed { result, .. } = &compact else {
            panic!("{compact:?}")
        };
        let roll = result.roll.clone().unwrap();
        assert_eq!(roll.len(), 6, "one character per eligible member");
        let mut sorted = people.clone();
        sorted.sort();
        let at = |p: PersonId| {
            roll.chars()
                .nth(sorted.iter().position(|s| *s == p).unwrap())
        };
        assert_eq!(
            people.iter().map(|p| at(*p).unwrap()).collect::<String>(),
            "ynay--"
        );
        // Applied from its JSON, the compact event gives the same state as the whole one.
        let mut from_roll = state.clone();
        from_roll.apply(&serde_json::from_str(&json).unwrap());
        assert_eq!(
            serde_json::to_value(&from_roll).unwrap(),
            serde_json::to_value(&whole).unwrap()
        );
        assert_eq!(
            whole
                .poll(poll)
                .unwrap()
                .result
                .as_ref()
                .unwrap()
                .named
                .len(),
            4
        );
        // Nothing to roll: a hand count, or a result with a voter the roll cannot name.
        let mut odd = result.unrolled(&whole.poll(poll).unwrap().eligible);
        assert_eq!(odd.named.len(), 4);
        odd.named
            .push((PersonId::new(), BallotChoice::Choice(Choice::Yes)));
        assert_eq!(odd.rolled(&whole.poll(poll).unwrap().eligible), None);
    }

    #[test]
    fn members_learn_how_many_voted_and_whether_they_did_the_public_only_how_many() {
        let (p, a, b, c) = (
            PollId::new(),
            PersonId::new(),
            PersonId::new(),
            PersonId::new(),
        );
        let cast = |voters: Vec<PersonId>| Event::BallotsCast {
            poll: p,
            voters,
            voted: 7,
            eligible: 9,
            interim: None,
        };
        let batch = cast(vec![a, b]);
        assert_eq!(batch.for_member(Some(b)), Some(cast(vec![b])));
        assert_eq!(batch.for_member(Some(c)), Some(cast(vec![])));
        assert_eq!(batch.for_member(None), Some(cast(vec![])));
        assert_eq!(batch.for_public(), Some(cast(vec![])));
        // The members' form of the batch, naming one voter again, is that voter's form.
        assert_eq!(
            batch.for_member(None).map(|e| e.with_voters(vec![b])),
            batch.for_member(Some(b))
        );
        // Every other event reaches members as it is.
        let cancelled = Event::PollCancelled {
            poll: p,
            at: Utc::now(),
            reason: None,
        };
        assert_eq!(cancelled.for_member(Some(a)), None);
    }

    #[test]
    fn niedersachsen_bars_secret_votes_once_anyone_joined_remotely() {
        let (mut state, people, chair) = setup(3);
        state.roster.rule_set = RuleSet::Niedersachsen;
        run(
            &mut state,
            &chair,
            Command::StartMeeting {
                confirm_other_day: false,
            },
        );
        let remote = CommandActor {
            person: Some(people[1]),
            chair: false,
        };
        run(&mut state, &remote, Command::CheckIn { remote: true });
        run(&mut state, &remote, Command::CheckIn { remote: false });
        let poll = PollId::new();
        run(
            &mut state,
            &chair,
            Command::CreatePoll {
                poll,
                item: None,
                title: "Geheim".into(),
                kind: PollKind::Secret,
                rule: MajorityRule::Simple,
                options: vec![],
                allow_change: false,
                corrects: None,
                motion: None,
                amendment: None,
            },
        );
        assert!(matches!(
            state.decide(
                &chair,
                &Command::OpenPoll {
                    poll,
                    confirm_below_quorum: false
                },
                Utc::now(),
                0
            ),
            Err(LiveError::SecretBarred(_))
        ));
    }

    #[test]
    fn bayern_refuses_secret_votes_on_motions_and_abstentions_in_a_hand_count() {
        let (mut state, people, chair) = setup(3);
        state.roster.rule_set = RuleSet::Bayern;
        start_with_all_in(&mut state, &chair, &people);
        let create = |poll, kind| {
            let candidates: &[&str] = if kind == PollKind::Election {
                &["Anna", "Bernd"]
            } else {
                &[]
            };
            new_poll(poll, "Antrag", kind, candidates)
        };
        let secret = PollId::new();
        assert!(
            matches!(
                state.decide(&chair, &create(secret, PollKind::Secret), Utc::now(), 0),
                Err(LiveError::SecretBarred(ref text)) if text.contains("BayGO")
            ),
            "no secret vote on a motion"
        );
        // A secret poll that exists already (created under other rules) does not open either.
        state.roster.rule_set = RuleSet::NordrheinWestfalen;
        run(&mut state, &chair, create(secret, PollKind::Secret));
        state.roster.rule_set = RuleSet::Bayern;
        let open = |poll| Command::OpenPoll {
            poll,
            confirm_below_quorum: true,
        };
        assert!(matches!(
            state.decide(&chair, &open(secret), Utc::now(), 0),
            Err(LiveError::SecretBarred(_))
        ));
        state.apply(&Event::PollCancelled {
            poll: secret,
            at: Utc::now(),
            reason: None,
        });
        // Elections stay secret, and open votes are fine.
        run(
            &mut state,
            &chair,
            create(PollId::new(), PollKind::Election),
        );
        let manual = PollId::new();
        run(&mut state, &chair, create(manual, PollKind::Manual));
        run(&mut state, &chair, open(manual));
        let tally = |abstain| Tally {
            yes: 2,
            no: 0,
            abstain,
            invalid: 0,
        };
        assert!(matches!(
            state.decide(
                &chair,
                &Command::EnterManualTally {
                    poll: manual,
                    tally: tally(1)
                },
                Utc::now(),
                0
            ),
            Err(LiveError::Invalid(ref text)) if text.contains("abstention")
        ));
        run(
            &mut state,
            &chair,
            Command::EnterManualTally {
                poll: manual,
                tally: tally(0),
            },
        );
        assert_eq!(state.poll(manual).unwrap().state, PollState::Closed);
    }

    #[test]
    fn in_bayern_members_online_do_not_vote_in_elections_but_do_on_motions() {
        for (rule_set, online_votes_in_elections) in [
            (RuleSet::Bayern, false),
            (RuleSet::NordrheinWestfalen, true),
        ] {
            let (mut state, people, chair) = setup(3);
            state.roster.rule_set = rule_set;
            start_with_all_in(&mut state, &chair, &people[1..]);
            let me = |i: usize| member(people[i]);
            run(&mut state, &me(0), Command::CheckIn { remote: true });
            let poll = |state: &mut LiveState, kind: PollKind| {
                let poll = PollId::new();
                let candidates: &[&str] = if kind == PollKind::Election {
                    &["Anna", "Bernd"]
                } else {
                    &[]
                };
                run(state, &chair, new_poll(poll, "Wahl", kind, candidates));
                let opened = run(
                    state,
                    &chair,
                    Command::OpenPoll {
                        poll,
                        confirm_below_quorum: true,
                    },
                );
                (poll, opened)
            };
            let (election, opened) = poll(&mut state, PollKind::Election);
            let Event::PollOpened {
                eligible,
                ineligible,
                ..
            } = &opened.events[0]
            else {
                panic!("{opened:?}");
            };
            assert_eq!(
                eligible.contains(&people[0]),
                online_votes_in_elections,
                "{rule_set:?}"
            );
            assert!(eligible.contains(&people[1]) && eligible.contains(&people[2]));
            let vote = Command::CastBallot {
                poll: election,
                choice: BallotChoice::Candidate(0),
            };
            if online_votes_in_elections {
                assert!(ineligible.is_empty(), "{ineligible:?}");
                run(&mut state, &me(0), vote);
            } else {
                assert_eq!(ineligible, &vec![(people[0], Ineligible::Remote)]);
                assert_eq!(
                    state.decide(&me(0), &vote, Utc::now(), 0),
                    Err(LiveError::VoterRemote)
                );
                let p = state.poll(election).unwrap();
                assert_eq!(
                    state.ineligibility(p, people[0]),
                    Some(crate::IneligibleReason::Remote)
                );
                assert_eq!(
                    state.ineligible_present(p),
                    vec![(people[0], crate::IneligibleReason::Remote)],
                    "the chair sees who is online and may not vote"
                );
            }
            run(
                &mut state,
                &chair,
                Command::CancelPoll {
                    poll: election,
                    reason: Some("Test".into()),
                },
            );
            // Motions are voted on by everyone present, online too.
            let (_, opened) = poll(&mut state, PollKind::Named);
            let Event::PollOpened { eligible, .. } = &opened.events[0] else {
                panic!("{opened:?}");
            };
            assert_eq!(eligible.len(), 3, "{rule_set:?}");
        }
    }

    #[test]
    fn a_member_who_voted_openly_may_have_the_vote_recorded_once_never_in_a_secret_poll() {
        let (mut state, people, chair) = setup(4);
        let item = state.agenda[0].id;
        run(
            &mut state,
            &chair,
            Command::StartMeeting {
                confirm_other_day: false,
            },
        );
        let me = |i: usize| CommandActor {
            person: Some(people[i]),
            chair: false,
        };
        for i in 0..4 {
            run(&mut state, &me(i), Command::CheckIn { remote: false });
        }
        run(
            &mut state,
            &chair,
            Command::SetCurrentItem { item: Some(item) },
        );
        let new_poll = |state: &mut LiveState, kind: PollKind| {
            let poll = PollId::new();
            run(
                state,
                &chair,
                Command::CreatePoll {
                    poll,
                    item: Some(item),
                    title: "Antrag".into(),
                    kind,
                    rule: MajorityRule::Simple,
                    options: vec![],
                    allow_change: false,
                    corrects: None,
                    motion: None,
                    amendment: None,
                },
            );
            run(
                state,
                &chair,
                Command::OpenPoll {
                    poll,
                    confirm_below_quorum: true,
                },
            );
            for i in 0..2 {
                run(
                    state,
                    &me(i),
                    Command::CastBallot {
                        poll,
                        choice: BallotChoice::Choice(Choice::Yes),
                    },
                );
            }
            poll
        };
        let refused = |state: &LiveState, who: usize, poll: PollId| match state.decide(
            &me(who),
            &Command::RequestVoteRecord { poll },
            Utc::now(),
            0,
        ) {
            Err(LiveError::VoteRecordRefused(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        };

        let open = new_poll(&mut state, PollKind::Open);
        // While the poll is open.
        let applied = run(
            &mut state,
            &me(1),
            Command::RequestVoteRecord { poll: open },
        );
        assert!(matches!(
            applied.events.as_slice(),
            [Event::VoteRecordRequested { person, choice: BallotChoice::Choice(Choice::Yes), .. }]
                if *person == people[1]
        ));
        assert!(
            refused(&state, 1, open).contains("already"),
            "once per member"
        );
        assert!(
            refused(&state, 2, open).contains("who voted"),
            "only who voted"
        );
        run(&mut state, &chair, Command::ClosePoll { poll: open });
        // After the close, while the item is still current.
        run(
            &mut state,
            &me(0),
            Command::RequestVoteRecord { poll: open },
        );
        assert_eq!(
            state.poll(open).unwrap().vote_records,
            BTreeSet::from([people[0], people[1]])
        );

        let secret = new_poll(&mut state, PollKind::Secret);
        assert!(refused(&state, 0, secret).contains("secret"));
        // (A secret poll's tally comes from the sealed ballots; discard it here.)
        run(
            &mut state,
            &chair,
            Command::CancelPoll {
                poll: secret,
                reason: Some("Test".into()),
            },
        );
        let named = new_poll(&mut state, PollKind::Named);
        assert!(refused(&state, 0, named).contains("named"));
        run(&mut state, &chair, Command::ClosePoll { poll: named });

        let late = new_poll(&mut state, PollKind::Open);
        run(&mut state, &chair, Command::ClosePoll { poll: late });
        run(&mut state, &chair, Command::SetCurrentItem { item: None });
        assert!(
            refused(&state, 0, late).contains("still current"),
            "not once the session moved on"
        );
    }

    #[test]
    fn points_of_order_jump_the_queue_and_the_chair_calls_in_order() {
        let (mut state, people, chair) = setup(4);
        run(
            &mut state,
            &chair,
            Command::StartMeeting {
                confirm_other_day: false,
            },
        );
        for (i, p) in people.iter().enumerate().skip(1) {
            let me = CommandActor {
                person: Some(*p),
                chair: false,
            };
            run(
                &mut state,
                &me,
                Command::RequestToSpeak {
                    point_of_order: i == 3,
                },
            );
        }
        let order: Vec<PersonId> = state.speakers.iter().map(|e| e.person).collect();
        assert_eq!(order, vec![people[3], people[1], people[2]]);
        run(&mut state, &chair, Command::CallNextSpeaker);
        assert_eq!(
            state.current_speaker.as_ref().map(|e| e.person),
            Some(people[3])
        );
        let me = CommandActor {
            person: Some(people[2]),
            chair: false,
        };
        run(&mut state, &me, Command::WithdrawRequest);
        run(&mut state, &chair, Command::CallNextSpeaker);
        assert_eq!(
            state.current_speaker.as_ref().map(|e| e.person),
            Some(people[1])
        );
        assert!(state.speakers.is_empty());
    }

    #[test]
    fn the_public_learns_that_the_session_moved_into_the_non_public_part() {
        let (mut state, people, chair) = setup(3);
        let secret = AgendaEntry {
            id: AgendaItemId::new(),
            number: "N 1".into(),
            title: "Grundstücksangelegenheiten".into(),
            public: false,
        };
        state.agenda.push(secret.clone());
        run(
            &mut state,
            &chair,
            Command::StartMeeting {
                confirm_other_day: false,
            },
        );
        let applied = run(
            &mut state,
            &chair,
            Command::SetCurrentItem {
                item: Some(secret.id),
            },
        );
        let [moved, started] = &applied.events[..] else {
            panic!("two events: {:?}", applied.events);
        };
        assert!(!state.event_is_public(moved), "the item's id stays inside");
        assert_eq!(started, &Event::NonPublicPartStarted);
        assert!(state.event_is_public(started));
        let json = serde_json::to_string(started).unwrap();
        assert_eq!(json, r#"{"type":"non_public_part_started"}"#);
        // Back to a public item: one public event, nothing more.
        let public = state.agenda[0].id;
        let applied = run(
            &mut state,
            &chair,
            Command::SetCurrentItem { item: Some(public) },
        );
        assert_eq!(applied.events.len(), 1);
        assert!(state.event_is_public(&applied.events[0]));
        // Whatever happens within the non-public item stays non-public.
        let conflict = Event::ConflictDeclared {
            item: secret.id,
            person: people[1],
            at: Utc::now(),
        };
        assert!(!state.event_is_public(&conflict));
    }
}
