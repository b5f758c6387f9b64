//! Decisions (Beschlüsse) on agenda items: the outcome the clerk records after a poll — its kind,
//! the vote result as it stands in the record, and which poll it came from.
//!
//! The live session proposes; the clerk confirms or edits. [`deciding_poll`] picks the poll whose
//! result stands (a correction or a runoff replaces the earlier poll), and [`VoteRecord::of`]
//! turns a closed poll into the vote result of the record: totals, the rule, who voted how in a
//! named poll, who did not vote, and the candidates of an election. Nothing of a secret poll's
//! ballots is in it beyond its totals.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::string_enum;
use crate::{
    AgendaItemId, BallotChoice, DomainError, ElectionOutcome, LiveState, Outcome, PersonId, Poll,
    PollId, PollKind, PollState,
};

string_enum! {
    /// What became of an agenda item (the result kinds German council information systems use).
    DecisionKind, "kind" {
        /// angenommen
        Adopted => "adopted",
        /// angenommen mit Änderungen
        AdoptedAmended => "adopted_amended",
        /// abgelehnt
        Rejected => "rejected",
        /// gewählt (an election)
        Elected => "elected",
        /// vertagt
        Postponed => "postponed",
        /// verwiesen an … (`referred_to` names where)
        Referred => "referred",
        /// zur Kenntnis genommen
        Noted => "noted",
        /// zurückgezogen
        Withdrawn => "withdrawn",
        /// ohne Beschluss
        NoDecision => "no_decision",
    }
}

impl DecisionKind {
    /// The German label, as the minutes and the portal print it.
    pub const fn label_de(&self) -> &'static str {
        match self {
            DecisionKind::Adopted => "angenommen",
            DecisionKind::AdoptedAmended => "angenommen mit Änderungen",
            DecisionKind::Rejected => "abgelehnt",
            DecisionKind::Elected => "gewählt",
            DecisionKind::Postponed => "vertagt",
            DecisionKind::Referred => "verwiesen",
            DecisionKind::Noted => "zur Kenntnis genommen",
            DecisionKind::Withdrawn => "zurückgezogen",
            DecisionKind::NoDecision => "ohne Beschluss",
        }
    }

    /// Whether a vote result belongs to this kind (a postponement or a withdrawal may be voted
    /// on too, so only `noted` and `no_decision` are without one by nature; none is required).
    pub const fn needs_referral(&self) -> bool {
        matches!(self, DecisionKind::Referred)
    }
}

/// One member's vote in a named poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedVote {
    pub person: PersonId,
    pub name: String,
    /// `yes`, `no`, `abstain`, or the candidate's name in an election.
    pub choice: String,
    /// A substitute's vote: the name of the member they stood in for (Vertretung).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stands_in_for: Option<String>,
}

/// A member who could have voted and did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonVoter {
    pub person: PersonId,
    pub name: String,
    /// A substitute: the name of the member they stood in for (Vertretung).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stands_in_for: Option<String>,
}

/// Votes for one candidate of an election.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateVotes {
    pub name: String,
    pub votes: u32,
}

/// The vote result (Abstimmungsergebnis) as kept with a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRecord {
    pub poll: PollId,
    pub title: String,
    /// `open`, `named`, `secret`, `election` or `manual`.
    pub kind: String,
    /// The majority rule applied.
    pub rule: String,
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    pub invalid: u32,
    pub eligible: u32,
    pub voted: u32,
    /// Motions: `adopted` or `rejected`; elections: `elected`, `runoff`, `lot` or `none`.
    pub outcome: Option<String>,
    /// Elections: the candidates and their votes; the elected one in `elected`.
    #[serde(default)]
    pub candidates: Vec<CandidateVotes>,
    pub elected: Option<String>,
    /// The election's round (2 for a runoff).
    pub round: u32,
    /// A tie decided by lot.
    pub by_lot: bool,
    /// Named polls: who voted how, by name.
    #[serde(default)]
    pub named: Vec<NamedVote>,
    /// Named polls: eligible members who did not vote.
    #[serde(default)]
    pub not_voted: Vec<NonVoter>,
}

impl VoteRecord {
    /// The record of a closed poll, with names from the session's roster. `None` for a poll that
    /// is not closed.
    pub fn of(poll: &Poll, live: &LiveState) -> Option<Self> {
        if poll.state != PollState::Closed {
            return None;
        }
        let result = poll.result.as_ref()?;
        let name = |person: PersonId| {
            live.roster
                .members
                .iter()
                .find(|m| m.person == person)
                .map_or_else(|| person.to_string(), |m| m.name.clone())
        };
        let tally = result.tally.unwrap_or_default();
        let (no, abstain, invalid) = match &result.election {
            Some(e) => (e.no, e.abstain, e.invalid),
            None => (tally.no, tally.abstain, tally.invalid),
        };
        let candidates: Vec<CandidateVotes> = result
            .election
            .as_ref()
            .map(|e| {
                poll.options
                    .iter()
                    .zip(e.candidates.iter())
                    .map(|(name, votes)| CandidateVotes {
                        name: name.clone(),
                        votes: *votes,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let candidate = |i: u32| poll.options.get(i as usize).cloned();
        let elected = match (&result.election_outcome, &result.lot) {
            (_, Some(lot)) if lot.runoff.is_empty() => candidate(lot.winner),
            (Some(ElectionOutcome::Elected(i)), _) => candidate(*i),
            _ => None,
        };
        let outcome = result.outcome.map(|o| o.as_str().to_owned()).or_else(|| {
            result.election_outcome.as_ref().map(|o| {
                match o {
                    ElectionOutcome::Elected(_) => "elected",
                    ElectionOutcome::Runoff(..) => "runoff",
                    ElectionOutcome::Lot(_) => "lot",
                    _ => "none",
                }
                .to_owned()
            })
        });
        let named_poll = poll.kind == PollKind::Named;
        let named = if named_poll {
            let mut named: Vec<NamedVote> = result
                .named
                .iter()
                .map(|(person, choice)| NamedVote {
                    person: *person,
                    name: name(*person),
                    stands_in_for: poll.stand_ins.get(person).map(|m| name(*m)),
                    choice: match choice {
                        BallotChoice::Choice(c) => c.as_str().to_owned(),
                        BallotChoice::Candidate(i) => {
                            candidate(*i).unwrap_or_else(|| format!("#{i}"))
                        }
                    },
                })
                .collect();
            named.sort_by(|a, b| a.name.cmp(&b.name));
            named
        } else {
            Vec::new()
        };
        let not_voted = if named_poll {
            let mut missing: Vec<NonVoter> = poll
                .eligible
                .iter()
                .filter(|p| !poll.voted.contains(p))
                .map(|p| NonVoter {
                    person: *p,
                    name: name(*p),
                    stands_in_for: poll.stand_ins.get(p).map(|m| name(*m)),
                })
                .collect();
            missing.sort_by(|a, b| a.name.cmp(&b.name));
            missing
        } else {
            Vec::new()
        };
        Some(Self {
            poll: poll.id,
            title: poll.title.clone(),
            kind: poll.kind.as_str().to_owned(),
            rule: poll.rule.as_str().to_owned(),
            yes: tally.yes,
            no,
            abstain,
            invalid,
            eligible: result.eligible,
            voted: result.voted,
            outcome,
            candidates,
            elected,
            round: poll.round,
            by_lot: result.lot.is_some(),
            named,
            not_voted,
        })
    }

    /// The decision kind this result suggests.
    pub fn proposed_kind(&self) -> DecisionKind {
        match self.outcome.as_deref() {
            Some(o) if o == Outcome::Adopted.as_str() => DecisionKind::Adopted,
            Some(o) if o == Outcome::Rejected.as_str() => DecisionKind::Rejected,
            _ if self.elected.is_some() => DecisionKind::Elected,
            _ => DecisionKind::NoDecision,
        }
    }
}

/// The closed poll on `item` whose result stands: the last one closed that no later closed poll
/// corrects and that no runoff continues. `None` if the item has no such poll.
pub fn deciding_poll(live: &LiveState, item: AgendaItemId) -> Option<&Poll> {
    let closed: Vec<&Poll> = live
        .polls
        .iter()
        .filter(|p| p.item == Some(item) && p.state == PollState::Closed)
        .collect();
    let replaced = |poll: &Poll| {
        live.polls.iter().any(|other| {
            other.state == PollState::Closed
                && (other.corrects == Some(poll.id) || other.runoff_of == Some(poll.id))
        })
    };
    closed
        .into_iter()
        .filter(|p| !replaced(p))
        .max_by_key(|p| p.closed_at)
}

/// A closed poll of `item` by id, for the clerk naming the poll a decision rests on.
pub fn closed_poll_of(live: &LiveState, item: AgendaItemId, poll: PollId) -> Option<&Poll> {
    live.polls
        .iter()
        .find(|p| p.id == poll && p.item == Some(item) && p.state == PollState::Closed)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::{
        AgendaEntry, Choice, Command, CommandActor, MajorityRule, MeetingId, MembershipRole,
        OrganizationId, Roster, RosterMember, RuleSet,
    };

    fn session(names: &[&str]) -> (LiveState, Vec<PersonId>, AgendaItemId) {
        let people: Vec<PersonId> = names.iter().map(|_| PersonId::new()).collect();
        let roster = Roster {
            organization: OrganizationId::new(),
            organization_kind: crate::OrganizationKind::Council,
            statutory_seats: names.len() as u32,
            rule_set: RuleSet::NordrheinWestfalen,
            members: people
                .iter()
                .zip(names)
                .enumerate()
                .map(|(i, (p, name))| RosterMember {
                    person: *p,
                    name: (*name).to_owned(),
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
        let item = AgendaItemId::new();
        let agenda = vec![AgendaEntry {
            id: item,
            number: "Ö 1".into(),
            title: "Radweg".into(),
            public: true,
        }];
        let mut state = LiveState::new(MeetingId::new(), roster, agenda);
        run(
            &mut state,
            &chair(people[0]),
            Command::StartMeeting {
                confirm_other_day: true,
            },
        );
        for p in &people {
            run(&mut state, &member(*p), Command::CheckIn { remote: false });
        }
        (state, people, item)
    }

    fn chair(person: PersonId) -> CommandActor {
        CommandActor {
            person: Some(person),
            chair: true,
        }
    }

    fn member(person: PersonId) -> CommandActor {
        CommandActor {
            person: Some(person),
            chair: false,
        }
    }

    fn run(state: &mut LiveState, actor: &CommandActor, command: Command) {
        let applied = state.decide(actor, &command, Utc::now(), 1).unwrap();
        state.apply_all(&applied);
    }

    /// Creates, opens and closes a poll on `item` in which `votes` are cast in that order.
    fn poll(
        state: &mut LiveState,
        chair_person: PersonId,
        item: AgendaItemId,
        kind: PollKind,
        corrects: Option<PollId>,
        votes: &[(PersonId, Choice)],
    ) -> PollId {
        let id = PollId::new();
        let chair = chair(chair_person);
        run(
            state,
            &chair,
            Command::CreatePoll {
                poll: id,
                item: Some(item),
                title: "Beschlussvorschlag".into(),
                kind,
                rule: MajorityRule::Simple,
                options: vec![],
                allow_change: false,
                corrects,
                amendment: None,
                motion: None,
            },
        );
        run(
            state,
            &chair,
            Command::OpenPoll {
                poll: id,
                confirm_below_quorum: false,
            },
        );
        for (person, choice) in votes {
            run(
                state,
                &member(*person),
                Command::CastBallot {
                    poll: id,
                    choice: BallotChoice::Choice(*choice),
                },
            );
        }
        run(state, &chair, Command::ClosePoll { poll: id });
        id
    }

    #[test]
    fn a_named_poll_is_recorded_with_every_name_and_who_did_not_vote() {
        let (mut state, p, item) =
            session(&["Vogel, Anna", "Berg, Carl", "Adler, Eva", "Dorn, Jan"]);
        let id = poll(
            &mut state,
            p[0],
            item,
            PollKind::Named,
            None,
            &[(p[1], Choice::Yes), (p[2], Choice::No), (p[0], Choice::Yes)],
        );
        let deciding = deciding_poll(&state, item).expect("the closed poll");
        assert_eq!(deciding.id, id);
        let record = VoteRecord::of(deciding, &state).unwrap();
        assert_eq!((record.yes, record.no, record.abstain), (2, 1, 0));
        assert_eq!((record.eligible, record.voted), (4, 3));
        assert_eq!(record.outcome.as_deref(), Some("adopted"));
        assert_eq!(record.proposed_kind(), DecisionKind::Adopted);
        let named: Vec<(&str, &str)> = record
            .named
            .iter()
            .map(|v| (v.name.as_str(), v.choice.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("Adler, Eva", "no"),
                ("Berg, Carl", "yes"),
                ("Vogel, Anna", "yes")
            ],
            "sorted by name, each with their choice"
        );
        assert_eq!(record.not_voted.len(), 1);
        assert_eq!(record.not_voted[0].name, "Dorn, Jan");
    }

    #[test]
    fn an_open_poll_keeps_totals_only_and_a_correction_replaces_the_first_poll() {
        let (mut state, p, item) = session(&["A", "B", "C"]);
        let first = poll(
            &mut state,
            p[0],
            item,
            PollKind::Open,
            None,
            &[(p[1], Choice::No), (p[2], Choice::No)],
        );
        let record = VoteRecord::of(deciding_poll(&state, item).unwrap(), &state).unwrap();
        assert_eq!(record.proposed_kind(), DecisionKind::Rejected);
        assert!(record.named.is_empty(), "an open poll names nobody");
        assert!(record.not_voted.is_empty());

        let second = poll(
            &mut state,
            p[0],
            item,
            PollKind::Open,
            Some(first),
            &[(p[0], Choice::Yes), (p[1], Choice::Yes), (p[2], Choice::No)],
        );
        let deciding = deciding_poll(&state, item).unwrap();
        assert_eq!(deciding.id, second, "the correction stands");
        assert_eq!(
            VoteRecord::of(deciding, &state).unwrap().proposed_kind(),
            DecisionKind::Adopted
        );
        assert!(closed_poll_of(&state, item, first).is_some());
        assert!(closed_poll_of(&state, AgendaItemId::new(), first).is_none());
    }

    #[test]
    fn kinds_have_stable_names_and_german_labels() {
        for kind in DecisionKind::ALL {
            assert_eq!(DecisionKind::parse(kind.as_str()).unwrap(), *kind);
            assert!(!kind.label_de().is_empty());
        }
        assert!(DecisionKind::parse("accepted").is_err());
        assert!(DecisionKind::Referred.needs_referral());
        assert!(!DecisionKind::Adopted.needs_referral());
    }
}
