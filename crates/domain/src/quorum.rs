//! Quorum (Beschlussfähigkeit) and who may vote in a poll (Stimmberechtigung).
//!
//! Both are pure counts over facts the live layer collects: the statutory number of members of
//! the organization holding the meeting, attendance (in the room or remote), voting rights and
//! declared conflicts of interest on the agenda item.

use serde::{Deserialize, Serialize};

use crate::{Membership, MembershipRole, PollKind, RuleSetRules};

/// How a rule set decides whether a meeting has a quorum.
///
/// Both rules need more than half of the statutory members (gesetzliche Mitgliederzahl) present;
/// they differ in *when* that is checked, which is the live layer's business:
///
/// - [`QuorumRule::MoreThanHalfOfStatutory`] — GO NRW § 49 (1): the council has a quorum when more
///   than half of its statutory members (the mayor included) are present; Bayern's GO Art. 47 (2)
///   asks the same of the members present *and entitled to vote*. The chair watches the count; the
///   council is presumed quorate until its lack of a quorum is established.
/// - [`QuorumRule::MajorityPresentDeclaredByChair`] — NKomVG § 65: the chair establishes the quorum
///   at the start of the meeting; the council then counts as quorate, even if members leave, until
///   a member doubts it and a recount shows it lacking.
///
/// Present means in the room or joined remotely (NKomVG § 64 counts remote members as present).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuorumRule {
    /// More than half of the statutory members present (default; GO NRW § 49, BayGO Art. 47 (2)).
    MoreThanHalfOfStatutory,
    /// A majority of the members present, declared by the chair at the start; it holds until it
    /// is doubted (NKomVG § 65).
    MajorityPresentDeclaredByChair,
}

impl QuorumRule {
    /// Whether the chair declares the quorum once at the start of the meeting, after which it
    /// holds until a member doubts it (NKomVG § 65). The live layer then recounts with [`quorum`].
    pub const fn declared_by_chair_at_start(&self) -> bool {
        matches!(self, QuorumRule::MajorityPresentDeclaredByChair)
    }
}

/// The result of a quorum count, ready to show on the chair's console and the room display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuorumStatus {
    /// The statutory number of members (gesetzliche Mitgliederzahl).
    pub statutory: u32,
    /// Members with a voting right present in the room or remotely.
    pub present_voting: u32,
    /// How many must be present: more than half of `statutory`, i.e. `statutory / 2 + 1`.
    pub required: u32,
    /// `present_voting >= required`.
    pub reached: bool,
}

/// Counts the quorum: more than half of the statutory members must be present (in the room or
/// remote) with a voting right. For 38 seats that is 20; for 39 seats, 20.
///
/// `statutory_members` is the statutory number of members of the organization holding the
/// meeting, including a voting mayor where the statute counts them (GO NRW § 49: "einschließlich
/// des Bürgermeisters"). Both [`QuorumRule`]s count the same; they differ in when the count
/// matters (see there).
pub fn quorum(
    rule: QuorumRule,
    statutory_members: u32,
    present_voting_members: u32,
) -> QuorumStatus {
    let required = match rule {
        // Both need a majority of the members; they differ only in when the count is taken.
        QuorumRule::MoreThanHalfOfStatutory | QuorumRule::MajorityPresentDeclaredByChair => {
            statutory_members / 2 + 1
        }
    };
    QuorumStatus {
        statutory: statutory_members,
        present_voting: present_voting_members,
        required,
        reached: present_voting_members >= required,
    }
}

/// One member of the organization holding the meeting, as the live layer sees them when a poll
/// opens (eligibility is fixed then; `docs/design.md`, "Voting rules").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Voter {
    /// Whether the person holds a vote *in this meeting*. For a [`MembershipRole::Substitute`]
    /// (stellvertretendes Mitglied) that means they stand in for an absent member; a substitute who
    /// does not stand in must be passed with `false`. [`Voter::from_membership`] does this.
    pub voting_right: bool,
    pub role: MembershipRole,
    /// Present in the room or joined remotely.
    pub present: bool,
    /// Has a conflict of interest on the item (Mitwirkungsverbot: NKomVG § 41, GO NRW § 31,
    /// BayGO Art. 49) and may not vote on it.
    pub conflicted: bool,
}

impl Voter {
    /// Builds a voter from a membership in the organization holding the meeting. A substitute
    /// member only holds a vote while `stands_in` for an absent member; an advisory member never.
    pub fn from_membership(
        membership: &Membership,
        present: bool,
        conflicted: bool,
        stands_in: bool,
    ) -> Self {
        let voting_right = holds_vote(membership.role, membership.voting_right, stands_in);
        Self {
            voting_right,
            role: membership.role,
            present,
            conflicted,
        }
    }
}

/// Whether a membership holds a vote in this meeting: a voting right, not advisory, and for a
/// [`MembershipRole::Substitute`] only while `stands_in` for an absent member (Vertretung).
pub fn holds_vote(role: MembershipRole, voting_right: bool, stands_in: bool) -> bool {
    voting_right
        && match role {
            MembershipRole::Advisory => false,
            MembershipRole::Substitute => stands_in,
            MembershipRole::Member | MembershipRole::Chair | MembershipRole::DeputyChair => true,
        }
}

/// Whether `voter` may vote in a poll that opens now: a member of the meeting's organization with
/// a voting right, present in the room or remotely, without a conflict of interest on the item,
/// and not an advisory member (who never votes, whatever their `voting_right` says).
pub fn is_eligible(voter: &Voter) -> bool {
    voter.voting_right
        && voter.role != MembershipRole::Advisory
        && voter.present
        && !voter.conflicted
}

/// [`is_eligible`], plus what the rule set says about remote members: where they are excluded
/// from elections (Bayern, see [`RuleSetRules::remote_members_excluded_from_elections`]), a
/// `remote` voter may not vote in a [`PollKind::Election`].
pub fn is_eligible_for(voter: &Voter, remote: bool, kind: PollKind, rules: &RuleSetRules) -> bool {
    is_eligible(voter)
        && !(remote && kind == PollKind::Election && rules.remote_members_excluded_from_elections)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MembershipId, Meta, OrganizationId, PersonId, RuleSet};

    #[test]
    fn quorum_needs_more_than_half_of_the_statutory_members() {
        // (statutory, present, required, reached)
        let cases = [
            (38, 19, 20, false),
            (38, 20, 20, true),
            (38, 38, 20, true),
            (39, 19, 20, false),
            (39, 20, 20, true),
            (1, 0, 1, false),
            (1, 1, 1, true),
            (2, 1, 2, false),
            (2, 2, 2, true),
            (0, 0, 1, false),
            (7, 4, 4, true),
            (7, 3, 4, false),
        ];
        for rule in [
            QuorumRule::MoreThanHalfOfStatutory,
            QuorumRule::MajorityPresentDeclaredByChair,
        ] {
            for (statutory, present, required, reached) in cases {
                let status = quorum(rule, statutory, present);
                assert_eq!(
                    status,
                    QuorumStatus {
                        statutory,
                        present_voting: present,
                        required,
                        reached
                    },
                    "{rule:?} {statutory} seats, {present} present"
                );
            }
        }
    }

    #[test]
    fn only_lower_saxony_declares_the_quorum_at_the_start() {
        assert!(QuorumRule::MajorityPresentDeclaredByChair.declared_by_chair_at_start());
        assert!(!QuorumRule::MoreThanHalfOfStatutory.declared_by_chair_at_start());
    }

    #[test]
    fn eligibility_over_every_role_presence_conflict_and_voting_right() {
        for role in MembershipRole::ALL {
            for voting_right in [false, true] {
                for present in [false, true] {
                    for conflicted in [false, true] {
                        let voter = Voter {
                            voting_right,
                            role: *role,
                            present,
                            conflicted,
                        };
                        let expected = voting_right
                            && present
                            && !conflicted
                            && *role != MembershipRole::Advisory;
                        assert_eq!(is_eligible(&voter), expected, "{voter:?}");
                    }
                }
            }
        }
    }

    fn membership(role: MembershipRole, voting_right: bool) -> Membership {
        Membership {
            id: MembershipId::new(),
            meta: Meta::default(),
            person_id: PersonId::new(),
            organization_id: OrganizationId::new(),
            role,
            voting_right,
            start_date: None,
            end_date: None,
        }
    }

    #[test]
    fn voters_from_memberships_let_substitutes_vote_only_while_standing_in() {
        use MembershipRole::*;
        // (role, membership voting right, stands in, eligible when present and not conflicted)
        let cases = [
            (Member, true, false, true),
            (Member, false, false, false),
            (Chair, true, false, true),
            (DeputyChair, true, false, true),
            (Substitute, true, false, false),
            (Substitute, true, true, true),
            (Substitute, false, true, false),
            (Advisory, false, true, false),
            // Inconsistent data (`Membership::validate` refuses it) still never votes.
            (Advisory, true, true, false),
        ];
        for (role, voting_right, stands_in, expected) in cases {
            let voter =
                Voter::from_membership(&membership(role, voting_right), true, false, stands_in);
            assert_eq!(
                is_eligible(&voter),
                expected,
                "{role} {voting_right} {stands_in}"
            );
            let absent =
                Voter::from_membership(&membership(role, voting_right), false, false, stands_in);
            assert!(!is_eligible(&absent));
            let conflicted =
                Voter::from_membership(&membership(role, voting_right), true, true, stands_in);
            assert!(!is_eligible(&conflicted));
        }
    }

    #[test]
    fn bavaria_excludes_remote_members_from_elections_only() {
        let voter = Voter {
            voting_right: true,
            role: MembershipRole::Member,
            present: true,
            conflicted: false,
        };
        for rule_set in RuleSet::ALL {
            let rules = rule_set.rules();
            for kind in PollKind::ALL {
                for remote in [false, true] {
                    let expected =
                        !(remote && *kind == PollKind::Election && *rule_set == RuleSet::Bayern);
                    assert_eq!(
                        is_eligible_for(&voter, remote, *kind, &rules),
                        expected,
                        "{rule_set} {kind} remote={remote}"
                    );
                }
            }
        }
        let conflicted = Voter {
            conflicted: true,
            ..voter
        };
        assert!(!is_eligible_for(
            &conflicted,
            false,
            PollKind::Open,
            &RuleSet::NordrheinWestfalen.rules()
        ));
    }
}
