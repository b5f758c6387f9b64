//! The named record in the room (namentliche Abstimmung) and why a member may not vote.
//!
//! [`roll_call`] groups the named list and the non-voters of a closed named poll — exactly the
//! [`VoteRecord`] the agenda item's decision keeps — by fraction, for the room display, the
//! chair console and the members' screens. An open named poll has no roll call yet: choices show
//! once the poll is closed, so nobody votes with an eye on how the others voted (the chair sees
//! who has not voted yet, never how anyone voted). Secret polls and elections have none at all.
//!
//! [`LiveState::ineligibility`] says why a member is not eligible in an open poll, in the terms a
//! member understands ("arrived after it opened" rather than "absent").

use serde::{Deserialize, Serialize};

use crate::{Ineligible, LiveState, PersonId, Poll, PollId, PollKind, PollState, VoteRecord};

/// One member in a roll call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollCallLine {
    pub person: PersonId,
    pub name: String,
    /// `yes`, `no` or `abstain`; none: eligible, but did not vote.
    pub choice: Option<String>,
    /// A substitute: the name of the member they stand in for (Vertretung).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stands_in_for: Option<String>,
}

/// The members of one fraction (or those without one) in a roll call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollCallGroup {
    /// The fraction's or group's short name; none for members without a fraction.
    pub fraction: Option<String>,
    pub lines: Vec<RollCallLine>,
}

/// The roll call of a closed named poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollCall {
    pub poll: PollId,
    /// Fractions by name, members without a fraction last; members by name within each.
    pub groups: Vec<RollCallGroup>,
    pub not_voted: u32,
}

/// The roll call of `poll`: every eligible member with their choice or none, grouped by
/// fraction. `None` unless the poll is a closed named poll.
pub fn roll_call(poll: &Poll, live: &LiveState) -> Option<RollCall> {
    if poll.kind != PollKind::Named || poll.state != PollState::Closed {
        return None;
    }
    let record = VoteRecord::of(poll, live)?;
    let lines = record
        .named
        .iter()
        .map(|v| RollCallLine {
            person: v.person,
            name: v.name.clone(),
            choice: Some(v.choice.clone()),
            stands_in_for: v.stands_in_for.clone(),
        })
        .chain(record.not_voted.iter().map(|n| RollCallLine {
            person: n.person,
            name: n.name.clone(),
            choice: None,
            stands_in_for: n.stands_in_for.clone(),
        }));
    let mut groups: Vec<RollCallGroup> = Vec::new();
    for line in lines {
        let fraction = live.member(line.person).and_then(|m| m.fraction.clone());
        match groups.iter_mut().find(|g| g.fraction == fraction) {
            Some(group) => group.lines.push(line),
            None => groups.push(RollCallGroup {
                fraction,
                lines: vec![line],
            }),
        }
    }
    groups.sort_by(|a, b| {
        (a.fraction.is_none(), &a.fraction).cmp(&(b.fraction.is_none(), &b.fraction))
    });
    for group in &mut groups {
        group.lines.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Some(RollCall {
        poll: poll.id,
        groups,
        not_voted: record.not_voted.len() as u32,
    })
}

/// Why a member may not vote in an open poll, as the member and the chair read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IneligibleReason {
    /// Checked in after the poll opened (eligibility is fixed at opening).
    ArrivedLate,
    /// Not present, then or now.
    Absent,
    /// Declared a conflict of interest on the poll's item.
    Conflicted,
    /// An advisory member (beratendes Mitglied) never votes.
    Advisory,
    /// A membership without a voting right.
    NoVotingRight,
    /// A substitute member who does not stand in for anyone (when the poll opened).
    NotStandingIn,
    /// A substitute held the member's vote when the poll opened (Vertretung aktiv).
    StandInActive,
    /// Took part remotely when the election opened; remote members do not vote in elections
    /// under the rule set (Bayern).
    Remote,
}

impl LiveState {
    /// Why `person` may not vote in `poll`; none if they may, if the poll is not open, or if
    /// they do not belong to the meeting's organization.
    pub fn ineligibility(&self, poll: &Poll, person: PersonId) -> Option<IneligibleReason> {
        if poll.state != PollState::Open || poll.eligible.contains(&person) {
            return None;
        }
        Some(match poll.ineligible.get(&person)? {
            Ineligible::Absent if self.present(person) => IneligibleReason::ArrivedLate,
            Ineligible::Absent => IneligibleReason::Absent,
            Ineligible::Conflicted => IneligibleReason::Conflicted,
            Ineligible::Advisory => IneligibleReason::Advisory,
            Ineligible::NoVotingRight => IneligibleReason::NoVotingRight,
            Ineligible::NotStandingIn => IneligibleReason::NotStandingIn,
            Ineligible::Represented => IneligibleReason::StandInActive,
            Ineligible::Remote => IneligibleReason::Remote,
        })
    }

    /// The members present now who may not vote in `poll`, with the reason, by name.
    pub fn ineligible_present(&self, poll: &Poll) -> Vec<(PersonId, IneligibleReason)> {
        self.roster
            .members
            .iter()
            .filter(|m| self.present(m.person))
            .filter_map(|m| Some((m.person, self.ineligibility(poll, m.person)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        AgendaEntry, AgendaItemId, BallotChoice, Choice, Command, CommandActor, MajorityRule,
        MeetingId, MembershipRole, OrganizationId, Roster, RosterMember, RuleSet,
    };
    use chrono::Utc;

    fn run(state: &mut LiveState, actor: &CommandActor, command: Command) {
        let applied = state.decide(actor, &command, Utc::now(), 7).unwrap();
        state.apply_all(&applied);
    }

    fn me(person: PersonId) -> CommandActor {
        CommandActor {
            person: Some(person),
            chair: false,
        }
    }

    const CHAIR: CommandActor = CommandActor {
        person: None,
        chair: true,
    };

    /// Anna (GZ), Bernd (SPD), Clara (GZ), Dora (no fraction), Emil (SPD), Frieda (GZ, advisory).
    /// All but Emil check in; Clara declares a conflict on the item; the poll opens.
    fn session(kind: PollKind) -> (LiveState, PollId, Vec<PersonId>) {
        let people: Vec<PersonId> = (0..6).map(|_| PersonId::new()).collect();
        let spec = [
            ("Anna", Some("GZ")),
            ("Bernd", Some("SPD")),
            ("Clara", Some("GZ")),
            ("Dora", None),
            ("Emil", Some("SPD")),
            ("Frieda", Some("GZ")),
        ];
        let members = people
            .iter()
            .zip(spec)
            .map(|(p, (name, fraction))| RosterMember {
                person: *p,
                name: name.into(),
                role: if name == "Frieda" {
                    MembershipRole::Advisory
                } else {
                    MembershipRole::Member
                },
                voting_right: name != "Frieda",
                fraction: fraction.map(str::to_owned),
            })
            .collect();
        let item = AgendaEntry {
            id: AgendaItemId::new(),
            number: "Ö 1".into(),
            title: "Haushalt".into(),
            public: true,
        };
        let item_id = item.id;
        let roster = Roster {
            organization: OrganizationId::new(),
            organization_kind: crate::OrganizationKind::Council,
            statutory_seats: 5,
            rule_set: RuleSet::NordrheinWestfalen,
            members,
        };
        let mut state = LiveState::new(MeetingId::new(), roster, vec![item]);
        run(
            &mut state,
            &CHAIR,
            Command::StartMeeting {
                confirm_other_day: true,
            },
        );
        for p in people.iter().filter(|p| **p != people[4]) {
            run(&mut state, &me(*p), Command::CheckIn { remote: false });
        }
        run(
            &mut state,
            &me(people[2]),
            Command::DeclareConflict {
                item: item_id,
                person: None,
            },
        );
        let poll = create_and_open(&mut state, Some(item_id), kind);
        (state, poll, people)
    }

    fn create_and_open(
        state: &mut LiveState,
        item: Option<AgendaItemId>,
        kind: PollKind,
    ) -> PollId {
        let poll = PollId::new();
        run(
            state,
            &CHAIR,
            Command::CreatePoll {
                poll,
                item,
                title: "Haushaltssatzung".into(),
                kind,
                rule: MajorityRule::Simple,
                options: Vec::new(),
                allow_change: false,
                corrects: None,
                motion: None,
                amendment: None,
            },
        );
        run(
            state,
            &CHAIR,
            Command::OpenPoll {
                poll,
                confirm_below_quorum: true,
            },
        );
        poll
    }

    fn vote(state: &mut LiveState, poll: PollId, person: PersonId, choice: Choice) {
        run(
            state,
            &me(person),
            Command::CastBallot {
                poll,
                choice: BallotChoice::Choice(choice),
            },
        );
    }

    #[test]
    fn a_closed_named_poll_lists_everyone_eligible_by_fraction_with_non_voters() {
        let (mut state, poll, people) = session(PollKind::Named);
        vote(&mut state, poll, people[0], Choice::Yes);
        vote(&mut state, poll, people[1], Choice::No);
        // Open: the choices stay hidden.
        assert_eq!(roll_call(state.poll(poll).unwrap(), &state), None);
        run(&mut state, &CHAIR, Command::ClosePoll { poll });
        let call = roll_call(state.poll(poll).unwrap(), &state).unwrap();
        type Lines<'a> = Vec<(&'a str, Option<&'a str>)>;
        let groups: Vec<(Option<&str>, Lines)> = call
            .groups
            .iter()
            .map(|g| {
                (
                    g.fraction.as_deref(),
                    g.lines
                        .iter()
                        .map(|l| (l.name.as_str(), l.choice.as_deref()))
                        .collect(),
                )
            })
            .collect();
        // Clara (conflicted), Emil (absent) and Frieda (advisory) were not eligible: not listed.
        // Dora was eligible and did not vote.
        assert_eq!(
            groups,
            vec![
                (Some("GZ"), vec![("Anna", Some("yes"))]),
                (Some("SPD"), vec![("Bernd", Some("no"))]),
                (None, vec![("Dora", None)]),
            ]
        );
        assert_eq!(call.not_voted, 1);
    }

    #[test]
    fn open_and_secret_polls_have_no_roll_call() {
        for kind in [PollKind::Open, PollKind::Secret] {
            let (mut state, poll, _) = session(kind);
            run(&mut state, &CHAIR, Command::ClosePoll { poll });
            assert_eq!(roll_call(state.poll(poll).unwrap(), &state), None, "{kind}");
        }
    }

    #[test]
    fn members_who_may_not_vote_learn_why() {
        let (mut state, poll, people) = session(PollKind::Named);
        let reason =
            |state: &LiveState, i: usize| state.ineligibility(state.poll(poll).unwrap(), people[i]);
        assert_eq!(reason(&state, 0), None);
        assert_eq!(reason(&state, 2), Some(IneligibleReason::Conflicted));
        assert_eq!(reason(&state, 4), Some(IneligibleReason::Absent));
        assert_eq!(reason(&state, 5), Some(IneligibleReason::Advisory));
        // Emil arrives after the poll opened: eligibility stays fixed, the reason says why.
        run(
            &mut state,
            &me(people[4]),
            Command::CheckIn { remote: false },
        );
        assert_eq!(reason(&state, 4), Some(IneligibleReason::ArrivedLate));
        let present = state.ineligible_present(state.poll(poll).unwrap());
        assert_eq!(
            present,
            vec![
                (people[2], IneligibleReason::Conflicted),
                (people[4], IneligibleReason::ArrivedLate),
                (people[5], IneligibleReason::Advisory),
            ]
        );
        // Once closed, nobody is told anything.
        run(&mut state, &CHAIR, Command::ClosePoll { poll });
        assert_eq!(reason(&state, 4), None);
    }

    #[test]
    fn members_without_a_voting_right_are_told_so() {
        let (mut state, _, people) = session(PollKind::Open);
        state.roster.members[1].voting_right = false;
        let first = state.polls[0].id;
        run(&mut state, &CHAIR, Command::ClosePoll { poll: first });
        let poll = create_and_open(&mut state, None, PollKind::Open);
        let p = state.poll(poll).unwrap();
        assert_eq!(
            state.ineligibility(p, people[1]),
            Some(IneligibleReason::NoVotingRight)
        );
        // No item, so no conflict: Clara may vote here.
        assert_eq!(state.ineligibility(p, people[2]), None);
    }
}
