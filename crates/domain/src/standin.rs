//! Stand-ins (Vertretung): a substitute member (stellvertretendes Mitglied) holds the vote of an
//! absent member of the organization holding the meeting.
//!
//! The data model knows substitutes as memberships with the role
//! [`MembershipRole::Substitute`] in the organization (committees name their substitutes; a
//! personal or fraction-bound order of substitutes is the chair's knowledge, not data). So the
//! rule is kept simple: any substitute of the organization with a voting right may stand in for
//! any absent member holding a seat (member, chair or deputy chair with a voting right).
//!
//! - The chair records a stand-in (`set_stand_in`) for a member who is not present (absent,
//!   excused or left), naming a substitute who does not stand in for anyone else.
//! - While it is active, the seat counts once for the quorum: the member is absent, the seat is
//!   filled when the substitute is present. A substitute without a stand-in never counts and never
//!   votes.
//! - It ends when the chair ends it (`end_stand_in`) or when the represented member arrives
//!   (checks in, or the chair marks them present). Eligibility is fixed when a poll opens
//!   (`docs/design.md`, "Voting rules"): a poll opened during the stand-in keeps the substitute eligible
//!   and the arriving member ineligible ("stand-in active"); polls opened afterwards are the
//!   member's again.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use std::collections::BTreeSet;

use crate::{
    AttendanceStatus, LiveError, LiveState, MembershipRole, PersonId, RosterMember, SessionStatus,
};

/// An active stand-in: `substitute` holds the vote of the absent `member`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandIn {
    /// The represented member (who holds the seat).
    pub member: PersonId,
    /// The substitute member standing in.
    pub substitute: PersonId,
    pub since: DateTime<Utc>,
}

/// Why a stand-in ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StandInEnd {
    /// The chair ended it.
    Chair,
    /// The represented member arrived (checked in or was marked present).
    MemberArrived,
}

impl RosterMember {
    /// Holds a seat of their own: a voting member who is neither a substitute nor advisory.
    pub fn holds_seat(&self) -> bool {
        self.voting_right
            && matches!(
                self.role,
                MembershipRole::Member | MembershipRole::Chair | MembershipRole::DeputyChair
            )
    }

    /// A substitute member who may stand in (with a voting right).
    pub fn is_substitute(&self) -> bool {
        self.voting_right && self.role == MembershipRole::Substitute
    }
}

impl LiveState {
    /// The active stand-in for the represented `member`, if any.
    pub fn stand_in_for(&self, member: PersonId) -> Option<&StandIn> {
        self.stand_ins.iter().find(|s| s.member == member)
    }

    /// The active stand-in `substitute` holds, if any.
    pub fn stand_in_by(&self, substitute: PersonId) -> Option<&StandIn> {
        self.stand_ins.iter().find(|s| s.substitute == substitute)
    }

    /// Whether the chair may record that `substitute` stands in for `member` now.
    pub(crate) fn check_stand_in(
        &self,
        member: PersonId,
        substitute: PersonId,
    ) -> Result<(), LiveError> {
        if self.status == SessionStatus::Closed {
            return Err(LiveError::NotRunning);
        }
        if member == substitute {
            return Err(LiveError::StandInSelf);
        }
        let seat = self.member(member).ok_or(LiveError::StandInNoSeat)?;
        if !seat.holds_seat() {
            return Err(LiveError::StandInNoSeat);
        }
        if !self
            .member(substitute)
            .is_some_and(RosterMember::is_substitute)
        {
            return Err(LiveError::StandInNotSubstitute);
        }
        if self.present(member) {
            return Err(LiveError::StandInMemberPresent);
        }
        if self.stand_in_for(member).is_some() {
            return Err(LiveError::StandInExists);
        }
        if self.stand_in_by(substitute).is_some() {
            return Err(LiveError::SubstituteBusy);
        }
        Ok(())
    }

    /// How many seats are filled with a vote, with every one of `changed` at `status`: every
    /// present member holding a seat, and every seat of an absent member whose substitute is
    /// present. A seat counts once, never twice. It counts over the attendance and the changed
    /// members, not over the roster: at a convention a check-in costs the members present so
    /// far, not the thousands on the roster.
    pub(crate) fn seats_filled_with(
        &self,
        changed: &BTreeSet<PersonId>,
        status: AttendanceStatus,
    ) -> u32 {
        let present = |p: PersonId| {
            if changed.contains(&p) {
                status.counts_as_present()
            } else {
                self.present(p)
            }
        };
        let holds_seat = |p: PersonId| self.member(p).is_some_and(RosterMember::holds_seat);
        let before = self
            .attendance
            .iter()
            .filter(|(p, a)| a.status.counts_as_present() && !changed.contains(p))
            .filter(|(p, _)| holds_seat(**p))
            .count();
        let arriving = if status.counts_as_present() {
            changed.iter().filter(|p| holds_seat(**p)).count()
        } else {
            0
        };
        let stood_in = self
            .stand_ins
            .iter()
            .filter(|s| !present(s.member) && present(s.substitute))
            .filter(|s| holds_seat(s.member))
            .count();
        (before + arriving + stood_in) as u32
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use crate::{
        AgendaEntry, AgendaItemId, AttendanceStatus, BallotChoice, Choice, Command, CommandActor,
        Event, IneligibleReason, LiveError, LiveState, MajorityRule, MeetingId, MembershipRole,
        OrganizationId, PersonId, PollId, PollKind, Roster, RosterMember, RuleSet, StandInEnd,
        VoteRecord, roll_call,
    };

    /// Chair C, members A and B, substitutes S and T, advisory V: three seats (C, A, B);
    /// substitutes and the advisory member hold none.
    struct Setup {
        state: LiveState,
        chair: CommandActor,
        a: PersonId,
        b: PersonId,
        s: PersonId,
        t: PersonId,
        v: PersonId,
    }

    fn setup() -> Setup {
        let ids: Vec<PersonId> = (0..6).map(|_| PersonId::new()).collect();
        let roles = [
            ("Chair, Clara", MembershipRole::Chair, true),
            ("Adler, Anna", MembershipRole::Member, true),
            ("Berg, Bernd", MembershipRole::Member, true),
            ("Sommer, Sina", MembershipRole::Substitute, true),
            ("Tal, Tom", MembershipRole::Substitute, true),
            ("Vogt, Vera", MembershipRole::Advisory, false),
        ];
        let roster = Roster {
            organization: OrganizationId::new(),
            organization_kind: crate::OrganizationKind::Committee,
            statutory_seats: 3,
            rule_set: RuleSet::NordrheinWestfalen,
            members: ids
                .iter()
                .zip(roles)
                .map(|(p, (name, role, voting_right))| RosterMember {
                    person: *p,
                    name: name.into(),
                    role,
                    voting_right,
                    fraction: Some("F".into()),
                })
                .collect(),
        };
        let item = AgendaEntry {
            id: AgendaItemId::new(),
            number: "Ö 1".into(),
            title: "Haushalt".into(),
            public: true,
        };
        let mut state = LiveState::new(MeetingId::new(), roster, vec![item]);
        let chair = CommandActor {
            person: Some(ids[0]),
            chair: true,
        };
        run(
            &mut state,
            &chair,
            Command::StartMeeting {
                confirm_other_day: false,
            },
        );
        Setup {
            state,
            chair,
            a: ids[1],
            b: ids[2],
            s: ids[3],
            t: ids[4],
            v: ids[5],
        }
    }

    fn run(state: &mut LiveState, actor: &CommandActor, command: Command) -> Vec<Event> {
        let applied = state.decide(actor, &command, Utc::now(), 7).unwrap();
        state.apply_all(&applied);
        applied.events
    }

    fn me(person: PersonId) -> CommandActor {
        CommandActor {
            person: Some(person),
            chair: false,
        }
    }

    fn check_in(state: &mut LiveState, person: PersonId) -> Vec<Event> {
        run(state, &me(person), Command::CheckIn { remote: false })
    }

    fn open_named(state: &mut LiveState, chair: &CommandActor) -> PollId {
        let poll = PollId::new();
        run(
            state,
            chair,
            Command::CreatePoll {
                poll,
                item: None,
                title: "Haushalt 2027".into(),
                kind: PollKind::Named,
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
            chair,
            Command::OpenPoll {
                poll,
                confirm_below_quorum: true,
            },
        );
        poll
    }

    fn set(member: PersonId, substitute: PersonId) -> Command {
        Command::SetStandIn { member, substitute }
    }

    #[test]
    fn a_present_substitute_without_a_stand_in_neither_votes_nor_counts() {
        let Setup {
            mut state,
            chair,
            a,
            b,
            s,
            ..
        } = setup();
        for p in [chair.person.unwrap(), a, b, s] {
            check_in(&mut state, p);
        }
        assert_eq!(state.quorum().present_voting, 3, "three seats, not four");
        let poll = open_named(&mut state, &chair);
        let p = state.poll(poll).unwrap();
        assert_eq!(p.eligible.len(), 3);
        assert!(!p.eligible.contains(&s));
        assert_eq!(
            state.ineligibility(p, s),
            Some(IneligibleReason::NotStandingIn)
        );
        assert!(
            state
                .ineligible_present(p)
                .contains(&(s, IneligibleReason::NotStandingIn))
        );
        let ballot = Command::CastBallot {
            poll,
            choice: BallotChoice::Choice(Choice::Yes),
        };
        assert_eq!(
            state.decide(&me(s), &ballot, Utc::now(), 0),
            Err(LiveError::VoterNotStandingIn)
        );
    }

    #[test]
    fn a_stand_in_carries_the_absent_members_vote_into_the_named_record() {
        let Setup {
            mut state,
            chair,
            a,
            b,
            s,
            ..
        } = setup();
        check_in(&mut state, chair.person.unwrap());
        check_in(&mut state, b);
        check_in(&mut state, s);
        assert_eq!(state.quorum().present_voting, 2);
        let events = run(&mut state, &chair, set(a, s));
        let [
            Event::StandInSet {
                stand_in, quorum, ..
            },
        ] = events.as_slice()
        else {
            panic!("{events:?}")
        };
        assert_eq!((stand_in.member, stand_in.substitute), (a, s));
        assert_eq!(quorum.present_voting, 3, "the event carries the new count");
        assert_eq!(state.quorum().present_voting, 3, "the seat is filled once");
        assert!(run(&mut state, &chair, set(a, s)).is_empty(), "idempotent");

        let poll = open_named(&mut state, &chair);
        let p = state.poll(poll).unwrap();
        assert!(p.eligible.contains(&s));
        assert!(!p.eligible.contains(&a));
        assert_eq!(p.stand_ins.get(&s), Some(&a));
        for (voter, choice) in [(s, Choice::No), (b, Choice::Yes)] {
            run(
                &mut state,
                &me(voter),
                Command::CastBallot {
                    poll,
                    choice: BallotChoice::Choice(choice),
                },
            );
        }
        // A arrives during the poll: the stand-in ends, the poll keeps its eligibility.
        let events = check_in(&mut state, a);
        assert!(
            matches!(
                events.as_slice(),
                [
                    Event::AttendanceChanged { quorum, .. },
                    Event::StandInEnded { member, reason: StandInEnd::MemberArrived, .. },
                ] if *member == a && quorum.present_voting == 3
            ),
            "{events:?}"
        );
        assert!(state.stand_ins.is_empty());
        assert_eq!(state.quorum().present_voting, 3, "still once");
        let p = state.poll(poll).unwrap();
        assert_eq!(
            state.ineligibility(p, a),
            Some(IneligibleReason::StandInActive)
        );
        assert_eq!(
            state.decide(
                &me(a),
                &Command::CastBallot {
                    poll,
                    choice: BallotChoice::Choice(Choice::Yes)
                },
                Utc::now(),
                0
            ),
            Err(LiveError::VoterRepresented)
        );
        run(&mut state, &chair, Command::ClosePoll { poll });
        let p = state.poll(poll).unwrap();
        let record = VoteRecord::of(p, &state).unwrap();
        let sina = record.named.iter().find(|v| v.person == s).unwrap();
        assert_eq!(sina.choice, "no");
        assert_eq!(sina.stands_in_for.as_deref(), Some("Adler, Anna"));
        assert_eq!(
            record
                .named
                .iter()
                .find(|v| v.person == b)
                .unwrap()
                .stands_in_for,
            None
        );
        let call = roll_call(p, &state).unwrap();
        let line = call.groups[0].lines.iter().find(|l| l.person == s).unwrap();
        assert_eq!(line.stands_in_for.as_deref(), Some("Adler, Anna"));

        // The next poll is A's again, and S is back to being a substitute.
        let next = open_named(&mut state, &chair);
        let p = state.poll(next).unwrap();
        assert!(p.eligible.contains(&a));
        assert!(!p.eligible.contains(&s));
        assert!(p.stand_ins.is_empty());
    }

    #[test]
    fn the_chair_ends_a_stand_in_and_polls_opened_before_keep_it() {
        let Setup {
            mut state,
            chair,
            a,
            s,
            ..
        } = setup();
        check_in(&mut state, s);
        run(&mut state, &chair, set(a, s));
        let poll = open_named(&mut state, &chair);
        let member = me(a);
        assert_eq!(
            state.decide(&member, &Command::EndStandIn { member: a }, Utc::now(), 0),
            Err(LiveError::NotChair)
        );
        let events = run(&mut state, &chair, Command::EndStandIn { member: a });
        assert!(
            matches!(
                events.as_slice(),
                [Event::StandInEnded { reason: StandInEnd::Chair, substitute, quorum, .. }]
                    if *substitute == s && quorum.present_voting == 0
            ),
            "{events:?}"
        );
        assert_eq!(state.quorum().present_voting, 0);
        assert!(state.poll(poll).unwrap().eligible.contains(&s));
        run(
            &mut state,
            &me(s),
            Command::CastBallot {
                poll,
                choice: BallotChoice::Choice(Choice::Yes),
            },
        );
        assert_eq!(
            state.decide(&chair, &Command::EndStandIn { member: a }, Utc::now(), 0),
            Err(LiveError::StandInNotFound)
        );
    }

    #[test]
    fn a_substitute_who_did_not_vote_is_named_with_the_member_they_stood_in_for() {
        let Setup {
            mut state,
            chair,
            a,
            s,
            ..
        } = setup();
        check_in(&mut state, s);
        run(&mut state, &chair, set(a, s));
        let poll = open_named(&mut state, &chair);
        run(&mut state, &chair, Command::ClosePoll { poll });
        let p = state.poll(poll).unwrap();
        let record = VoteRecord::of(p, &state).unwrap();
        assert_eq!(record.not_voted.len(), 1);
        assert_eq!(
            record.not_voted[0].stands_in_for.as_deref(),
            Some("Adler, Anna")
        );
        let call = roll_call(p, &state).unwrap();
        assert_eq!(
            call.groups[0].lines[0].stands_in_for.as_deref(),
            Some("Adler, Anna")
        );
    }

    #[test]
    fn every_refusal_has_its_own_error() {
        let Setup {
            mut state,
            chair,
            a,
            b,
            s,
            t,
            v,
        } = setup();
        let refuse = |state: &LiveState, actor: &CommandActor, command: Command| {
            state.decide(actor, &command, Utc::now(), 0).unwrap_err()
        };
        assert_eq!(refuse(&state, &me(b), set(a, s)), LiveError::NotChair);
        assert_eq!(refuse(&state, &chair, set(a, a)), LiveError::StandInSelf);
        assert_eq!(
            refuse(&state, &chair, set(s, t)),
            LiveError::StandInNoSeat,
            "a substitute holds no seat to stand in for"
        );
        assert_eq!(refuse(&state, &chair, set(v, s)), LiveError::StandInNoSeat);
        assert_eq!(
            refuse(&state, &chair, set(PersonId::new(), s)),
            LiveError::StandInNoSeat
        );
        assert_eq!(
            refuse(&state, &chair, set(a, b)),
            LiveError::StandInNotSubstitute,
            "a member is no substitute"
        );
        assert_eq!(
            refuse(&state, &chair, set(a, v)),
            LiveError::StandInNotSubstitute
        );
        assert_eq!(
            refuse(&state, &chair, set(a, PersonId::new())),
            LiveError::StandInNotSubstitute
        );
        check_in(&mut state, b);
        assert_eq!(
            refuse(&state, &chair, set(b, s)),
            LiveError::StandInMemberPresent
        );
        run(&mut state, &me(b), Command::CheckIn { remote: true });
        assert_eq!(
            refuse(&state, &chair, set(b, s)),
            LiveError::StandInMemberPresent,
            "remote counts as present"
        );
        run(&mut state, &chair, set(a, s));
        assert_eq!(refuse(&state, &chair, set(a, t)), LiveError::StandInExists);
        run(&mut state, &me(b), Command::CheckOut);
        assert_eq!(refuse(&state, &chair, set(b, s)), LiveError::SubstituteBusy);
        run(&mut state, &chair, set(b, t));
        assert_eq!(state.stand_ins.len(), 2);
        run(&mut state, &chair, Command::CloseMeeting);
        assert_eq!(
            refuse(&state, &chair, Command::EndStandIn { member: a }),
            LiveError::NotRunning
        );
    }

    #[test]
    fn marking_represented_members_present_in_bulk_ends_their_stand_ins() {
        let Setup {
            mut state,
            chair,
            a,
            b,
            s,
            t,
            ..
        } = setup();
        check_in(&mut state, s);
        check_in(&mut state, t);
        run(&mut state, &chair, set(a, s));
        run(&mut state, &chair, set(b, t));
        assert_eq!(state.quorum().present_voting, 2);
        let events = run(
            &mut state,
            &chair,
            Command::SetAttendanceBulk {
                persons: vec![a, b],
                status: AttendanceStatus::Present,
                at: None,
            },
        );
        assert_eq!(events.len(), 3, "{events:?}");
        assert!(state.stand_ins.is_empty());
        assert_eq!(state.quorum().present_voting, 2, "A and B, not four");
        // Marked absent again, nobody stands in: the seats are empty.
        run(
            &mut state,
            &chair,
            Command::SetAttendance {
                person: a,
                status: AttendanceStatus::Excused,
                at: None,
            },
        );
        assert_eq!(state.quorum().present_voting, 1);
    }

    mod counted_over_attendance {
        use std::collections::BTreeMap;

        use chrono::Utc;
        use proptest::prelude::*;

        use crate::{
            Attendance, AttendanceStatus, LiveState, MeetingId, MembershipRole, OrganizationId,
            PersonId, Roster, RosterMember, RuleSet, StandIn,
        };

        fn role() -> impl Strategy<Value = MembershipRole> {
            prop_oneof![
                Just(MembershipRole::Member),
                Just(MembershipRole::Chair),
                Just(MembershipRole::DeputyChair),
                Just(MembershipRole::Substitute),
                Just(MembershipRole::Advisory),
            ]
        }

        fn status() -> impl Strategy<Value = AttendanceStatus> {
            prop_oneof![
                Just(AttendanceStatus::Present),
                Just(AttendanceStatus::Remote),
                Just(AttendanceStatus::Absent),
                Just(AttendanceStatus::Excused),
                Just(AttendanceStatus::LeftEarly),
            ]
        }

        /// The count as it was made before: over every member on the roster.
        fn over_the_roster(
            state: &LiveState,
            changed: &[PersonId],
            status: AttendanceStatus,
        ) -> u32 {
            let present = |p: PersonId| {
                if changed.contains(&p) {
                    status.counts_as_present()
                } else {
                    state.present(p)
                }
            };
            let own = state
                .roster
                .members
                .iter()
                .filter(|m| m.holds_seat() && present(m.person))
                .count();
            let stood_in = state
                .stand_ins
                .iter()
                .filter(|s| !present(s.member) && present(s.substitute))
                .filter(|s| state.member(s.member).is_some_and(RosterMember::holds_seat))
                .count();
            (own + stood_in) as u32
        }

        proptest! {
            /// The quorum counted over the attendance equals the count over the whole roster,
            /// for any roster, attendance, stand-ins and change (one member or a bulk change).
            #[test]
            fn the_quorum_counts_the_same_as_over_the_whole_roster(
                members in prop::collection::vec((role(), any::<bool>(), prop::option::of(status())), 1..40),
                stand_ins in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..6),
                changed in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
                new_status in status(),
                stranger_present in any::<bool>(),
            ) {
                let people: Vec<PersonId> = members.iter().map(|_| PersonId::new()).collect();
                let roster = Roster {
                    organization: OrganizationId::new(),
                    organization_kind: crate::OrganizationKind::Council,
                    statutory_seats: members.len() as u32,
                    rule_set: RuleSet::NordrheinWestfalen,
                    members: people
                        .iter()
                        .zip(&members)
                        .map(|(person, (role, voting_right, _))| RosterMember {
                            person: *person,
                            name: person.to_string(),
                            role: *role,
                            voting_right: *voting_right,
                            fraction: None,
                        })
                        .collect(),
                };
                let mut state = LiveState::new(MeetingId::new(), roster, Vec::new());
                let now = Utc::now();
                let mut attendance = BTreeMap::new();
                for (person, (_, _, status)) in people.iter().zip(&members) {
                    if let Some(status) = status {
                        attendance.insert(*person, Attendance { status: *status, since: now, arrived: None, left: None });
                    }
                }
                // Someone present who is not on the roster never fills a seat.
                let stranger = PersonId::new();
                if stranger_present {
                    attendance.insert(stranger, Attendance { status: AttendanceStatus::Present, since: now, arrived: None, left: None });
                }
                state.attendance = attendance;
                for (member, substitute) in stand_ins {
                    let member = *member.get(&people);
                    let substitute = *substitute.get(&people);
                    if member != substitute
                        && state.stand_in_for(member).is_none()
                        && state.stand_in_by(substitute).is_none()
                    {
                        state.stand_ins.push(StandIn { member, substitute, since: now });
                    }
                }
                let mut changed: Vec<PersonId> = changed.iter().map(|i| *i.get(&people)).collect();
                changed.dedup();
                let counted = state.quorum_with_many(&changed, new_status).present_voting;
                prop_assert_eq!(counted, over_the_roster(&state, &changed, new_status));
                prop_assert_eq!(
                    state.quorum().present_voting,
                    over_the_roster(&state, &[], AttendanceStatus::Absent)
                );
            }
        }
    }
}
