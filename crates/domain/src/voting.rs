//! Council voting rules: poll kinds, tallies, majorities, elections and the rule sets of the
//! Länder (`docs/design.md`, "Voting rules").
//!
//! Everything here is a pure function of counts. The live layer collects the ballots, builds a
//! [`Tally`] or an [`ElectionTally`] when a poll closes, and asks [`decide`] or
//! [`decide_election`] for the result. A body's [`RuleSet`] is chosen at setup; its
//! [`RuleSetRules`] are data, so the rule sets differ only in the values in [`RuleSet::rules`].
//!
//! # Decisions where the statutes leave room
//!
//! - **Votes cast** (abgegebene Stimmen) are yes + no. Abstentions and invalid ballots are
//!   recorded but never count towards a majority, as NKomVG § 66 (1) ("auf Ja oder Nein lautende
//!   Stimmen") and GO NRW § 50 (1) say for motions and as the courts read "abgegebene Stimmen"
//!   (BGH, 25 January 1982, II ZR 164/81). So [`MajorityRule::TwoThirdsCast`] needs
//!   `3 * yes >= 2 * (yes + no)`.
//! - **Qualified majorities include the simple one**: every rule also needs yes > no, which only
//!   matters for inconsistent tallies (more ballots than members).
//! - **Statutory rules fail closed**: with `statutory_members == 0` the statutory rules reject and
//!   no one is elected by a majority of members.
//! - **Elections, valid votes**: abstentions are never valid votes. "No" is a valid vote in
//!   Nordrhein-Westfalen (GO NRW § 50 (2) says so) and invalid in Bayern (BayGO Art. 51 (3)).
//! - **Ties for a runoff place** (more than two candidates with the best result, or several with
//!   the second best) are settled by lot among the tied candidates, as the Bavarian model standing
//!   orders do for second place (see [`runoff_field`]). The Bavarian model standing orders repeat
//!   the election instead when three or more tie for first place; a chair who follows them
//!   closes the poll and opens a new one.
//! - **A single candidate** under the top-two-runoff rule (NRW, Bayern) is elected in the first
//!   round with more than half of the valid votes (NRW: more yes than no). If that fails there is
//!   nobody to hold a runoff with, so nobody is elected and the election must be held again.
//! - **Most-votes rounds** (a runoff, the second round in Niedersachsen): a candidate without a
//!   single vote is never elected, not even by lot; a lone candidate needs more votes than there
//!   are valid "no" ballots (they run against "no").
//! - **Bayern's repeat rule** ("ist mindestens die Hälfte der abgegebenen Stimmen ungültig, ist
//!   die Wahl zu wiederholen", Art. 51 (3)) applies to the first round only; blank ballots
//!   ([`ElectionChoice::Abstain`]) and "no" ballots count as invalid for it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::QuorumRule;
use crate::model::string_enum;

string_enum! {
    /// How a poll is held.
    PollKind, "poll kind" {
        /// Offene Abstimmung: each choice is visible to the room like a raised hand; the minutes
        /// record the tallies.
        Open => "open",
        /// Namentliche Abstimmung: each member's choice is recorded in the minutes.
        Named => "named",
        /// Geheime Abstimmung: nothing links a ballot to its voter.
        Secret => "secret",
        /// Wahl: the options are candidates (plus no / abstain), decided by [`decide_election`].
        Election => "election",
        /// Analog: the chair enters the tallies counted by hand ([`validate_manual_tally`]).
        Manual => "manual",
    }
}

string_enum! {
    /// The majority a motion needs; a poll names one.
    MajorityRule, "majority rule" {
        /// Einfache Mehrheit: yes > no; abstentions and invalid ballots don't count; a tie rejects
        /// (NKomVG § 66 (1), GO NRW § 50 (1), BayGO Art. 51 (1)).
        Simple => "simple",
        /// Mehrheit der gesetzlichen Mitgliederzahl: yes > half of the statutory members.
        AbsoluteStatutory => "absolute_statutory",
        /// Zwei Drittel der abgegebenen Stimmen: yes ≥ 2/3 of yes + no (abstentions are not cast).
        TwoThirdsCast => "two_thirds_cast",
        /// Zwei Drittel der gesetzlichen Mitgliederzahl: yes ≥ 2/3 of the statutory members.
        TwoThirdsStatutory => "two_thirds_statutory",
    }
}

string_enum! {
    /// A ballot in a motion (Abstimmung).
    Choice, "choice" {
        Yes => "yes",
        No => "no",
        /// Stimmenthaltung; not allowed in Bayern (BayGO Art. 48 (1)).
        Abstain => "abstain",
    }
}

string_enum! {
    /// The statutes a body follows, chosen at setup. See [`RuleSet::rules`].
    RuleSet, "rule set" {
        /// Niedersächsisches Kommunalverfassungsgesetz (NKomVG).
        Niedersachsen => "niedersachsen",
        /// Gemeindeordnung für das Land Nordrhein-Westfalen (GO NRW).
        #[serde(rename = "nrw")]
        NordrheinWestfalen => "nrw",
        /// Gemeindeordnung für den Freistaat Bayern (BayGO).
        Bayern => "bayern",
    }
}

string_enum! {
    /// The result of a motion.
    Outcome, "outcome" {
        /// Angenommen. Stored events of older versions say `accepted`.
        #[serde(alias = "accepted")]
        Adopted => "adopted",
        /// Abgelehnt.
        Rejected => "rejected",
    }
}

string_enum! {
    /// Which ballot of an election a tally belongs to.
    ElectionRound, "election round" {
        /// The first ballot (erster Wahlgang).
        First => "first",
        /// The ballot after an inconclusive first round: the runoff of the two best (Stichwahl,
        /// engere Wahl) or Niedersachsen's second round (zweiter Wahlgang).
        Runoff => "runoff",
    }
}

/// The counted ballots of a motion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tally {
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    /// Ballots that could not be counted (a hand count or a paper ballot can have them; a tablet
    /// ballot cannot).
    pub invalid: u32,
}

impl Tally {
    /// Counts the given ballots.
    pub fn from_choices(choices: impl IntoIterator<Item = Choice>) -> Self {
        let mut tally = Self::default();
        for choice in choices {
            tally.add(choice);
        }
        tally
    }

    /// Counts one more ballot.
    pub fn add(&mut self, choice: Choice) {
        let count = match choice {
            Choice::Yes => &mut self.yes,
            Choice::No => &mut self.no,
            Choice::Abstain => &mut self.abstain,
        };
        *count = count.saturating_add(1);
    }

    /// Every ballot handed in, invalid ones included: how many members took part.
    pub const fn total_cast(&self) -> u32 {
        self.valid().saturating_add(self.invalid)
    }

    /// The valid ballots: yes, no and abstentions.
    pub const fn valid(&self) -> u32 {
        self.yes
            .saturating_add(self.no)
            .saturating_add(self.abstain)
    }

    /// The votes cast in the legal sense (abgegebene Stimmen) that majorities are computed from:
    /// yes + no.
    pub const fn yes_no(&self) -> u32 {
        self.yes.saturating_add(self.no)
    }
}

/// Decides a motion under `rule`. `statutory_members` is the statutory number of members of the
/// organization (gesetzliche Mitgliederzahl); only the statutory rules read it.
///
/// Integer arithmetic only. Abstentions and invalid ballots never count; a tie, an empty poll and
/// a poll where everyone abstained are rejected. The statutory rules reject when
/// `statutory_members` is 0. Adding a yes never turns an acceptance into a rejection, and adding
/// a no never turns a rejection into an acceptance.
pub fn decide(rule: MajorityRule, tally: &Tally, statutory_members: u32) -> Outcome {
    let yes = u64::from(tally.yes);
    let no = u64::from(tally.no);
    let statutory = u64::from(statutory_members);
    let accepted = yes > no
        && match rule {
            MajorityRule::Simple => true,
            MajorityRule::AbsoluteStatutory => statutory > 0 && 2 * yes > statutory,
            MajorityRule::TwoThirdsCast => 3 * yes >= 2 * (yes + no),
            MajorityRule::TwoThirdsStatutory => statutory > 0 && 3 * yes >= 2 * statutory,
        };
    if accepted {
        Outcome::Adopted
    } else {
        Outcome::Rejected
    }
}

/// A ballot in an election: a candidate (an index into the poll's option list), no, or abstain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElectionChoice {
    Candidate(u32),
    /// Nein: valid in Nordrhein-Westfalen (GO NRW § 50 (2)), invalid in Bayern (BayGO Art. 51 (3)).
    No,
    /// Enthaltung, a blank ballot: never a valid vote.
    Abstain,
}

/// The counted ballots of one election round.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ElectionTally {
    /// Votes per candidate, indexed like the poll's option list.
    pub candidates: Vec<u32>,
    pub no: u32,
    pub abstain: u32,
    /// Ballots that could not be counted, including votes for a candidate index out of range.
    pub invalid: u32,
}

impl ElectionTally {
    /// An empty tally for `n_candidates` candidates.
    pub fn new(n_candidates: u32) -> Self {
        Self {
            candidates: vec![0; n_candidates as usize],
            ..Self::default()
        }
    }

    /// Counts the given ballots; a candidate index out of range counts as invalid.
    pub fn from_choices(
        n_candidates: u32,
        choices: impl IntoIterator<Item = ElectionChoice>,
    ) -> Self {
        let mut tally = Self::new(n_candidates);
        for choice in choices {
            tally.add(choice);
        }
        tally
    }

    /// Counts one more ballot; a candidate index out of range counts as invalid.
    pub fn add(&mut self, choice: ElectionChoice) {
        let count = match choice {
            ElectionChoice::Candidate(index) => usize::try_from(index)
                .ok()
                .and_then(|index| self.candidates.get_mut(index))
                .unwrap_or(&mut self.invalid),
            ElectionChoice::No => &mut self.no,
            ElectionChoice::Abstain => &mut self.abstain,
        };
        *count = count.saturating_add(1);
    }

    /// The votes for any candidate.
    pub fn candidate_votes(&self) -> u32 {
        self.candidates
            .iter()
            .fold(0u32, |sum, votes| sum.saturating_add(*votes))
    }

    /// Every ballot handed in, invalid ones included.
    pub fn total_cast(&self) -> u32 {
        self.candidate_votes()
            .saturating_add(self.no)
            .saturating_add(self.abstain)
            .saturating_add(self.invalid)
    }

    /// The valid votes under `rules`: the candidates' votes, plus "no" unless the rule set makes
    /// "no" ballots invalid. Abstentions are never valid votes.
    pub fn valid_votes(&self, rules: &RuleSetRules) -> u32 {
        if rules.no_votes_invalid_in_elections {
            self.candidate_votes()
        } else {
            self.candidate_votes().saturating_add(self.no)
        }
    }
}

/// The result of one election round.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElectionOutcome {
    /// This candidate is elected.
    Elected(u32),
    /// After a first round under [`ElectionSecondRound::TopTwoRunoff`]: these two candidates go
    /// into the runoff, the one with more votes first (on a tie, the lower index first).
    Runoff(u32, u32),
    /// A tie among these candidates (ascending), to be settled by lot: the chair draws, or the
    /// system draws with a secure RNG; the caller does that.
    ///
    /// - After a round in which the most votes win ([`ElectionRound::Runoff`]; or a first round
    ///   whose leaders all passed the threshold, which only an inconsistent tally allows): the lot
    ///   decides who is elected.
    /// - After a first round under [`ElectionSecondRound::TopTwoRunoff`]: the lot decides who
    ///   fills the open runoff places. [`runoff_field`] says who is in the runoff anyway and how
    ///   many of the tied candidates are drawn.
    Lot(Vec<u32>),
    /// Nobody is elected in this round. After a first round under
    /// [`ElectionSecondRound::MostVotesWins`] (Niedersachsen) the second round follows
    /// ([`ElectionRound::Runoff`]). Otherwise the election failed and is held again (e.g. a single
    /// candidate without the majority, no candidates, nobody received a vote in a runoff, or
    /// Bayern's repeat rule).
    NoneElected,
}

/// What the first round of an election is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElectionFirstRoundBasis {
    /// More than half of the valid votes (GO NRW § 50 (2), BayGO Art. 51 (3)).
    ValidVotes,
    /// More than half of the statutory members of the body: "die Mehrheit der Mitglieder der
    /// Vertretung" (NKomVG § 67 S. 3). "No" and abstentions play no part.
    Members,
}

/// What happens when the first round elects nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElectionSecondRound {
    /// A runoff of the two candidates with the most votes; the most votes win, a tie is settled by
    /// lot (GO NRW § 50 (2), BayGO Art. 51 (3)).
    TopTwoRunoff,
    /// A second round in which the most votes win; a tie is settled by lot, drawn by the chair
    /// (NKomVG § 67 S. 4–7).
    MostVotesWins,
}

/// The statutory rules of a [`RuleSet`], as data. Paraphrased from the statutes; see
/// `docs/design.md`, "Voting rules".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct RuleSetRules {
    pub rule_set: RuleSet,
    /// The statute's short name, for messages: `NKomVG`, `GO NRW`, `BayGO`.
    pub statute: &'static str,
    /// Whether members may abstain on a motion. Bayern: no, "kein Mitglied des Gemeinderats darf
    /// sich der Stimme enthalten" (BayGO Art. 48 (1)). See [`RuleSetRules::check_choices_allowed`].
    pub abstention_allowed: bool,
    pub election_first_round_basis: ElectionFirstRoundBasis,
    pub election_second_round: ElectionSecondRound,
    /// Bayern: "Neinstimmen und leere Stimmzettel sind ungültig" (BayGO Art. 51 (3)).
    pub no_votes_invalid_in_elections: bool,
    /// Bayern: if at least half of the ballots of the first round are invalid, the election is
    /// held again (BayGO Art. 51 (3)).
    pub election_repeated_if_half_invalid: bool,
    /// Bayern: elections are always secret (BayGO Art. 51 (3)). Elsewhere they are open unless a
    /// member objects (NKomVG § 67 S. 2, GO NRW § 50 (2)), which the live layer records.
    pub elections_secret_by_law: bool,
    /// Whether a motion may be voted on secretly. Bayern: no, motions are decided in an open vote
    /// (BayGO Art. 51 (1)).
    pub secret_motions_allowed: bool,
    /// Niedersachsen: once any member takes part remotely, secret votes and elections are barred
    /// for the whole session (NKomVG § 64). In Nordrhein-Westfalen a secret vote in a hybrid
    /// session needs a confidential system all members use; the chair has to judge that.
    pub secret_barred_with_remote_members: bool,
    /// Bayern: members taking part remotely do not vote in elections (see [`crate::is_eligible_for`]).
    pub remote_members_excluded_from_elections: bool,
    pub quorum: QuorumRule,
}

impl RuleSet {
    /// The rule set's rules.
    pub const fn rules(&self) -> RuleSetRules {
        match self {
            RuleSet::Niedersachsen => RuleSetRules {
                rule_set: RuleSet::Niedersachsen,
                statute: "NKomVG",
                abstention_allowed: true,
                election_first_round_basis: ElectionFirstRoundBasis::Members,
                election_second_round: ElectionSecondRound::MostVotesWins,
                no_votes_invalid_in_elections: false,
                election_repeated_if_half_invalid: false,
                elections_secret_by_law: false,
                secret_motions_allowed: true,
                secret_barred_with_remote_members: true,
                remote_members_excluded_from_elections: false,
                quorum: QuorumRule::MajorityPresentDeclaredByChair,
            },
            RuleSet::NordrheinWestfalen => RuleSetRules {
                rule_set: RuleSet::NordrheinWestfalen,
                statute: "GO NRW",
                abstention_allowed: true,
                election_first_round_basis: ElectionFirstRoundBasis::ValidVotes,
                election_second_round: ElectionSecondRound::TopTwoRunoff,
                no_votes_invalid_in_elections: false,
                election_repeated_if_half_invalid: false,
                elections_secret_by_law: false,
                secret_motions_allowed: true,
                secret_barred_with_remote_members: false,
                remote_members_excluded_from_elections: false,
                quorum: QuorumRule::MoreThanHalfOfStatutory,
            },
            RuleSet::Bayern => RuleSetRules {
                rule_set: RuleSet::Bayern,
                statute: "BayGO",
                abstention_allowed: false,
                election_first_round_basis: ElectionFirstRoundBasis::ValidVotes,
                election_second_round: ElectionSecondRound::TopTwoRunoff,
                no_votes_invalid_in_elections: true,
                election_repeated_if_half_invalid: true,
                elections_secret_by_law: true,
                secret_motions_allowed: false,
                secret_barred_with_remote_members: false,
                remote_members_excluded_from_elections: true,
                quorum: QuorumRule::MoreThanHalfOfStatutory,
            },
        }
    }
}

impl RuleSetRules {
    /// Refuses a motion ballot the rule set does not allow (an abstention in Bayern), so the live
    /// layer can reject it when it is cast.
    pub fn check_choice_allowed(&self, choice: Choice) -> Result<(), DomainError> {
        if choice == Choice::Abstain && !self.abstention_allowed {
            return Err(DomainError::RuleViolated(format!(
                "abstaining is not allowed under {} (no member may abstain from a vote)",
                self.statute
            )));
        }
        Ok(())
    }

    /// Refuses a motion tally the rule set does not allow (abstentions in Bayern), e.g. a hand
    /// count the chair entered.
    pub fn check_choices_allowed(&self, tally: &Tally) -> Result<(), DomainError> {
        if tally.abstain > 0 && !self.abstention_allowed {
            return Err(DomainError::RuleViolated(format!(
                "the tally has {} abstentions, but abstaining is not allowed under {}",
                tally.abstain, self.statute
            )));
        }
        Ok(())
    }

    /// Refuses to open a poll of `kind` that the rule set bars: a secret vote on a motion in
    /// Bayern, or (Niedersachsen) a secret vote or an election once any member has taken part in
    /// the session remotely (`remote_participation`).
    pub fn check_poll_allowed(
        &self,
        kind: PollKind,
        remote_participation: bool,
    ) -> Result<(), DomainError> {
        if kind == PollKind::Secret && !self.secret_motions_allowed {
            return Err(DomainError::RuleViolated(format!(
                "motions are decided in an open vote under {}; a secret vote is not allowed",
                self.statute
            )));
        }
        if remote_participation
            && self.secret_barred_with_remote_members
            && matches!(kind, PollKind::Secret | PollKind::Election)
        {
            return Err(DomainError::RuleViolated(format!(
                "a member has taken part remotely, so secret votes and elections are not allowed \
                 in this session under {}",
                self.statute
            )));
        }
        Ok(())
    }
}

/// Who goes into the runoff after an inconclusive first round under
/// [`ElectionSecondRound::TopTwoRunoff`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunoffField {
    /// Candidates in the runoff by their votes, best first.
    pub qualified: Vec<u32>,
    /// Candidates tied for the remaining place(s), ascending; empty when nobody ties.
    pub tied: Vec<u32>,
    /// How many of `tied` the lot draws: `2 - qualified.len()` when someone ties, else 0.
    pub places_by_lot: u32,
}

/// The runoff field of a first round: the two candidates with the most votes. When three or more
/// share the most votes, two of them are drawn by lot; when one leads and several share the second
/// most, one of those is drawn. Fewer than two candidates give no runoff (an empty `tied` and
/// fewer than two `qualified`).
pub fn runoff_field(tally: &ElectionTally) -> RunoffField {
    let Some((_, leaders)) = most_voted(tally.candidates.iter().copied().enumerate()) else {
        return RunoffField::default();
    };
    match leaders.as_slice() {
        [leader] => {
            let rest = tally
                .candidates
                .iter()
                .copied()
                .enumerate()
                .filter(|(index, _)| index_u32(*index) != *leader);
            match most_voted(rest) {
                None => RunoffField {
                    qualified: vec![*leader],
                    ..RunoffField::default()
                },
                Some((_, seconds)) => match seconds.as_slice() {
                    [second] => RunoffField {
                        qualified: vec![*leader, *second],
                        ..RunoffField::default()
                    },
                    _ => RunoffField {
                        qualified: vec![*leader],
                        tied: seconds,
                        places_by_lot: 1,
                    },
                },
            }
        }
        [_, _] => RunoffField {
            qualified: leaders,
            ..RunoffField::default()
        },
        _ => RunoffField {
            qualified: Vec::new(),
            tied: leaders,
            places_by_lot: 2,
        },
    }
}

/// Decides one round of a single-seat election.
///
/// - First round: a candidate is elected with more than half of the basis
///   ([`RuleSetRules::election_first_round_basis`]): the valid votes (NRW, Bayern) or the
///   statutory members (Niedersachsen, `statutory_members`). Otherwise, under
///   [`ElectionSecondRound::TopTwoRunoff`], a [`ElectionOutcome::Runoff`] of the two best (or a
///   [`ElectionOutcome::Lot`] for the runoff places, see [`runoff_field`]); under
///   [`ElectionSecondRound::MostVotesWins`], [`ElectionOutcome::NoneElected`] and a second round.
/// - Runoff / second round: the most votes win; a tie is settled by lot. A candidate without a
///   vote is never elected, and a lone candidate needs more votes than valid "no" ballots.
///
/// See the module documentation for the choices made where the statutes leave room.
pub fn decide_election(
    rules: &RuleSetRules,
    round: ElectionRound,
    tally: &ElectionTally,
    statutory_members: u32,
) -> ElectionOutcome {
    if tally.candidates.is_empty() {
        return ElectionOutcome::NoneElected;
    }
    match round {
        ElectionRound::First => decide_first_round(rules, tally, statutory_members),
        ElectionRound::Runoff => decide_by_most_votes(rules, tally),
    }
}

fn decide_first_round(
    rules: &RuleSetRules,
    tally: &ElectionTally,
    statutory_members: u32,
) -> ElectionOutcome {
    let basis = match rules.election_first_round_basis {
        ElectionFirstRoundBasis::ValidVotes => {
            let valid = tally.valid_votes(rules);
            if rules.election_repeated_if_half_invalid
                && 2 * u64::from(valid) <= u64::from(tally.total_cast())
            {
                return ElectionOutcome::NoneElected;
            }
            valid
        }
        ElectionFirstRoundBasis::Members => statutory_members,
    };
    let Some((top, leaders)) = most_voted(tally.candidates.iter().copied().enumerate()) else {
        return ElectionOutcome::NoneElected;
    };
    if basis > 0 && 2 * u64::from(top) > u64::from(basis) {
        return settle(leaders);
    }
    match rules.election_second_round {
        ElectionSecondRound::MostVotesWins => ElectionOutcome::NoneElected,
        ElectionSecondRound::TopTwoRunoff => {
            let field = runoff_field(tally);
            match (field.qualified.as_slice(), field.places_by_lot) {
                ([first, second], 0) => ElectionOutcome::Runoff(*first, *second),
                (_, 0) => ElectionOutcome::NoneElected,
                _ => ElectionOutcome::Lot(field.tied),
            }
        }
    }
}

fn decide_by_most_votes(rules: &RuleSetRules, tally: &ElectionTally) -> ElectionOutcome {
    let Some((top, leaders)) = most_voted(tally.candidates.iter().copied().enumerate()) else {
        return ElectionOutcome::NoneElected;
    };
    if top == 0 {
        return ElectionOutcome::NoneElected;
    }
    if tally.candidates.len() == 1 {
        let valid_no = if rules.no_votes_invalid_in_elections {
            0
        } else {
            tally.no
        };
        if top <= valid_no {
            return ElectionOutcome::NoneElected;
        }
    }
    settle(leaders)
}

/// One leader is elected; several are settled by lot.
fn settle(leaders: Vec<u32>) -> ElectionOutcome {
    match leaders.as_slice() {
        [winner] => ElectionOutcome::Elected(*winner),
        _ => ElectionOutcome::Lot(leaders),
    }
}

/// The highest vote count and every candidate (ascending) that has it; `None` without candidates.
fn most_voted(candidates: impl Iterator<Item = (usize, u32)>) -> Option<(u32, Vec<u32>)> {
    let mut best: Option<(u32, Vec<u32>)> = None;
    for (index, votes) in candidates {
        let index = index_u32(index);
        match &mut best {
            Some((top, leaders)) if votes == *top => leaders.push(index),
            Some((top, _)) if votes < *top => {}
            _ => best = Some((votes, vec![index])),
        }
    }
    best
}

/// Candidate indices come from `u32` counts, so they fit; saturate rather than panic.
fn index_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

/// Checks a hand count the chair entered for a [`PollKind::Manual`] poll: it may not count more
/// ballots than there are eligible members present (see [`crate::is_eligible`]).
pub fn validate_manual_tally(tally: &Tally, present_voters: u32) -> Result<(), DomainError> {
    // Sum in u64: a saturated u32 sum could hide an impossible count.
    let total = [tally.yes, tally.no, tally.abstain, tally.invalid]
        .into_iter()
        .map(u64::from)
        .sum::<u64>();
    if total > u64::from(present_voters) {
        return Err(DomainError::RuleViolated(format!(
            "the hand count has {total} votes, but only {present_voters} members present may vote"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ElectionOutcome::{Elected, Lot, NoneElected, Runoff};
    use proptest::prelude::*;

    #[test]
    fn enums_round_trip_through_text_and_serde_agrees_with_as_str() {
        fn check<T>(
            all: &[T],
            as_str: fn(&T) -> &'static str,
            parse: fn(&str) -> Result<T, DomainError>,
        ) where
            T: Serialize + PartialEq + fmt::Debug,
        {
            for value in all {
                assert_eq!(parse(as_str(value)).as_ref(), Ok(value));
                assert_eq!(
                    serde_json::to_string(value).unwrap(),
                    format!("\"{}\"", as_str(value))
                );
            }
            assert!(parse("Nordrhein-Westfalen").is_err());
        }
        check(PollKind::ALL, PollKind::as_str, PollKind::parse);
        check(MajorityRule::ALL, MajorityRule::as_str, MajorityRule::parse);
        check(Choice::ALL, Choice::as_str, Choice::parse);
        check(RuleSet::ALL, RuleSet::as_str, RuleSet::parse);
        check(Outcome::ALL, Outcome::as_str, Outcome::parse);
        check(
            ElectionRound::ALL,
            ElectionRound::as_str,
            ElectionRound::parse,
        );
        let names: Vec<_> = RuleSet::ALL.iter().map(RuleSet::as_str).collect();
        assert_eq!(names, ["niedersachsen", "nrw", "bayern"]);
        let rule: RuleSet = serde_json::from_str("\"nrw\"").unwrap();
        assert_eq!(rule, RuleSet::NordrheinWestfalen);
    }

    #[test]
    fn tallies_count_each_choice() {
        use Choice::*;
        let tally = Tally::from_choices([Yes, No, Yes, Abstain, Yes]);
        assert_eq!(
            tally,
            Tally {
                yes: 3,
                no: 1,
                abstain: 1,
                invalid: 0
            }
        );
        assert_eq!(tally.total_cast(), 5);
        assert_eq!(tally.valid(), 5);
        assert_eq!(tally.yes_no(), 4);
        let with_invalid = Tally {
            invalid: 2,
            ..tally
        };
        assert_eq!(with_invalid.total_cast(), 7);
        assert_eq!(with_invalid.valid(), 5);
        assert_eq!(Tally::from_choices([]), Tally::default());
    }

    fn t(yes: u32, no: u32, abstain: u32, invalid: u32) -> Tally {
        Tally {
            yes,
            no,
            abstain,
            invalid,
        }
    }

    #[test]
    fn majority_rules_table() {
        use MajorityRule::*;
        use Outcome::{Adopted as A, Rejected as R};
        // (rule, tally, statutory members, expected)
        let cases = [
            // Simple: yes > no; abstentions and invalid ballots don't count.
            (Simple, t(1, 0, 0, 0), 38, A),
            (Simple, t(0, 0, 0, 0), 38, R),
            (Simple, t(0, 0, 30, 0), 38, R),
            (Simple, t(0, 0, 0, 5), 38, R),
            (Simple, t(15, 15, 0, 0), 38, R),
            (Simple, t(15, 15, 8, 0), 38, R),
            (Simple, t(16, 15, 0, 0), 38, A),
            (Simple, t(15, 16, 0, 0), 38, R),
            (Simple, t(5, 4, 29, 0), 38, A),
            (Simple, t(3, 2, 0, 10), 38, A),
            (Simple, t(1, 0, 0, 0), 0, A),
            // Absolute majority of 38 statutory members: 20 yes.
            (AbsoluteStatutory, t(19, 0, 0, 0), 38, R),
            (AbsoluteStatutory, t(20, 0, 0, 0), 38, A),
            (AbsoluteStatutory, t(20, 18, 0, 0), 38, A),
            (AbsoluteStatutory, t(19, 0, 19, 0), 38, R),
            (AbsoluteStatutory, t(19, 1, 0, 0), 38, R),
            (AbsoluteStatutory, t(38, 0, 0, 0), 38, A),
            // 39 members: half is 19.5, so 20.
            (AbsoluteStatutory, t(19, 0, 0, 0), 39, R),
            (AbsoluteStatutory, t(20, 0, 0, 0), 39, A),
            (AbsoluteStatutory, t(1, 0, 0, 0), 1, A),
            (AbsoluteStatutory, t(1, 0, 0, 0), 2, R),
            (AbsoluteStatutory, t(2, 0, 0, 0), 2, A),
            (AbsoluteStatutory, t(0, 0, 0, 0), 38, R),
            (AbsoluteStatutory, t(5, 0, 0, 0), 0, R),
            // Inconsistent tally: more yes than half, but more no than yes.
            (AbsoluteStatutory, t(20, 21, 0, 0), 38, R),
            // Two thirds of yes + no.
            (TwoThirdsCast, t(2, 1, 0, 0), 38, A),
            (TwoThirdsCast, t(3, 2, 0, 0), 38, R),
            (TwoThirdsCast, t(4, 2, 0, 0), 38, A),
            (TwoThirdsCast, t(199, 100, 0, 0), 38, R),
            (TwoThirdsCast, t(200, 100, 0, 0), 38, A),
            (TwoThirdsCast, t(201, 100, 0, 0), 38, A),
            (TwoThirdsCast, t(25, 13, 0, 0), 38, R),
            (TwoThirdsCast, t(26, 12, 0, 0), 38, A),
            (TwoThirdsCast, t(2, 1, 35, 0), 38, A),
            (TwoThirdsCast, t(2, 1, 0, 35), 38, A),
            (TwoThirdsCast, t(1, 0, 0, 0), 38, A),
            (TwoThirdsCast, t(0, 1, 0, 0), 38, R),
            (TwoThirdsCast, t(0, 0, 0, 0), 38, R),
            (TwoThirdsCast, t(0, 0, 12, 0), 38, R),
            // Two thirds of 38 statutory members: 25.33…, so 26.
            (TwoThirdsStatutory, t(25, 0, 0, 0), 38, R),
            (TwoThirdsStatutory, t(26, 0, 0, 0), 38, A),
            (TwoThirdsStatutory, t(26, 12, 0, 0), 38, A),
            (TwoThirdsStatutory, t(25, 0, 13, 0), 38, R),
            // 39 members: exactly 26.
            (TwoThirdsStatutory, t(25, 0, 0, 0), 39, R),
            (TwoThirdsStatutory, t(26, 0, 0, 0), 39, A),
            (TwoThirdsStatutory, t(2, 0, 0, 0), 3, A),
            (TwoThirdsStatutory, t(1, 0, 0, 0), 3, R),
            (TwoThirdsStatutory, t(0, 0, 0, 0), 38, R),
            (TwoThirdsStatutory, t(3, 0, 0, 0), 0, R),
        ];
        for (rule, tally, statutory, expected) in cases {
            assert_eq!(
                decide(rule, &tally, statutory),
                expected,
                "{rule} {tally:?} of {statutory}"
            );
        }
    }

    fn e(candidates: &[u32], no: u32, abstain: u32) -> ElectionTally {
        ElectionTally {
            candidates: candidates.to_vec(),
            no,
            abstain,
            invalid: 0,
        }
    }

    type ElectionCase = (ElectionRound, ElectionTally, u32, ElectionOutcome);

    fn check_elections(rule_set: RuleSet, cases: Vec<ElectionCase>) {
        let rules = rule_set.rules();
        for (round, tally, statutory, expected) in cases {
            assert_eq!(
                decide_election(&rules, round, &tally, statutory),
                expected,
                "{rule_set} {round} {tally:?} of {statutory}"
            );
        }
    }

    #[test]
    fn elections_in_nordrhein_westfalen() {
        use ElectionRound::{First, Runoff as Second};
        check_elections(
            RuleSet::NordrheinWestfalen,
            vec![
                // More than half of the valid votes; "no" is valid, abstentions are not.
                (First, e(&[20, 10], 0, 0), 38, Elected(0)),
                (First, e(&[10, 20], 0, 0), 38, Elected(1)),
                (First, e(&[11, 10], 0, 17), 38, Elected(0)),
                (First, e(&[11, 0], 11, 0), 38, Runoff(0, 1)),
                (First, e(&[12, 10], 16, 0), 38, Runoff(0, 1)),
                (First, e(&[10, 10], 0, 0), 38, Runoff(0, 1)),
                (First, e(&[12, 10, 3], 0, 0), 38, Runoff(0, 1)),
                (First, e(&[3, 10, 12], 0, 0), 38, Runoff(2, 1)),
                (First, e(&[10, 5, 5], 0, 0), 38, Lot(vec![1, 2])),
                (First, e(&[10, 10, 10], 0, 0), 38, Lot(vec![0, 1, 2])),
                (First, e(&[10, 10, 9], 0, 0), 38, Runoff(0, 1)),
                (First, e(&[0, 0], 0, 20), 38, Runoff(0, 1)),
                (First, e(&[], 10, 0), 38, NoneElected),
                // A single candidate: more yes than no.
                (First, e(&[20], 18, 0), 38, Elected(0)),
                (First, e(&[19], 19, 0), 38, NoneElected),
                (First, e(&[19], 18, 1), 38, Elected(0)),
                (First, e(&[1], 0, 37), 38, Elected(0)),
                (First, e(&[0], 0, 0), 38, NoneElected),
                // Runoff: the most votes win; "no" does not matter; a tie goes to lot.
                (Second, e(&[10, 9], 0, 0), 38, Elected(0)),
                (Second, e(&[9, 10], 0, 0), 38, Elected(1)),
                (Second, e(&[5, 4], 29, 0), 38, Elected(0)),
                (Second, e(&[10, 10], 0, 0), 38, Lot(vec![0, 1])),
                (Second, e(&[10, 10], 18, 0), 38, Lot(vec![0, 1])),
                (Second, e(&[0, 0], 20, 18), 38, NoneElected),
                (Second, e(&[], 0, 0), 38, NoneElected),
            ],
        );
    }

    #[test]
    fn elections_in_niedersachsen() {
        use ElectionRound::{First, Runoff as Second};
        check_elections(
            RuleSet::Niedersachsen,
            vec![
                // First round: a majority of the 38 members, i.e. 20, whatever else was cast.
                (First, e(&[20, 18], 0, 0), 38, Elected(0)),
                (First, e(&[18, 20], 0, 0), 38, Elected(1)),
                (First, e(&[20, 0], 0, 0), 38, Elected(0)),
                (First, e(&[19, 0], 0, 0), 38, NoneElected),
                (First, e(&[19, 18], 0, 0), 38, NoneElected),
                (First, e(&[19, 19], 0, 0), 38, NoneElected),
                (First, e(&[19], 0, 0), 38, NoneElected),
                (First, e(&[20], 18, 0), 38, Elected(0)),
                (First, e(&[15, 2], 0, 0), 30, NoneElected),
                (First, e(&[16, 2], 0, 0), 30, Elected(0)),
                (First, e(&[20], 0, 0), 39, Elected(0)),
                (First, e(&[19], 0, 0), 39, NoneElected),
                (First, e(&[0, 0], 0, 0), 38, NoneElected),
                (First, e(&[5], 0, 0), 0, NoneElected),
                // Second round: the most votes win; a tie goes to lot drawn by the chair.
                (Second, e(&[15, 12, 3], 0, 0), 38, Elected(0)),
                (Second, e(&[3, 12, 15], 8, 0), 38, Elected(2)),
                (Second, e(&[15, 15, 2], 0, 0), 38, Lot(vec![0, 1])),
                (Second, e(&[9, 9, 9], 0, 0), 38, Lot(vec![0, 1, 2])),
                (Second, e(&[0, 0], 30, 0), 38, NoneElected),
                // A lone candidate runs against "no".
                (Second, e(&[10], 9, 0), 38, Elected(0)),
                (Second, e(&[10], 10, 0), 38, NoneElected),
                (Second, e(&[1], 0, 37), 38, Elected(0)),
            ],
        );
    }

    #[test]
    fn elections_in_bayern() {
        use ElectionRound::{First, Runoff as Second};
        check_elections(
            RuleSet::Bayern,
            vec![
                // "No" and blank ballots are invalid; more than half of the valid votes elects.
                (First, e(&[12, 10], 16, 0), 38, Elected(0)),
                (First, e(&[20], 18, 0), 38, Elected(0)),
                (First, e(&[20, 10], 0, 0), 38, Elected(0)),
                (First, e(&[10, 10, 5], 3, 0), 38, Runoff(0, 1)),
                (First, e(&[10, 10], 0, 0), 38, Runoff(0, 1)),
                (First, e(&[10, 5, 5], 0, 0), 38, Lot(vec![1, 2])),
                (First, e(&[7, 7, 7], 0, 0), 38, Lot(vec![0, 1, 2])),
                // At least half of the ballots invalid: the election is held again.
                (First, e(&[1], 37, 0), 38, NoneElected),
                (First, e(&[19], 19, 0), 38, NoneElected),
                (First, e(&[19], 18, 0), 37, Elected(0)),
                (First, e(&[10, 9], 0, 19), 38, NoneElected),
                (
                    First,
                    ElectionTally {
                        candidates: vec![10, 9],
                        no: 0,
                        abstain: 0,
                        invalid: 19,
                    },
                    38,
                    NoneElected,
                ),
                (First, e(&[10, 10], 0, 19), 38, Runoff(0, 1)),
                (First, e(&[0, 0], 0, 0), 38, NoneElected),
                // Runoff: the most votes win; a tie goes to lot.
                (Second, e(&[11, 10], 0, 0), 38, Elected(0)),
                (Second, e(&[10, 11], 17, 0), 38, Elected(1)),
                (Second, e(&[10, 10], 0, 0), 38, Lot(vec![0, 1])),
                (Second, e(&[0, 0], 38, 0), 38, NoneElected),
            ],
        );
    }

    #[test]
    fn the_same_ballots_decide_differently_per_rule_set() {
        // 12 for A, 10 for B, 16 "no" out of 38 members.
        let tally = e(&[12, 10], 16, 0);
        let first = |rule_set: RuleSet| {
            decide_election(&rule_set.rules(), ElectionRound::First, &tally, 38)
        };
        assert_eq!(first(RuleSet::NordrheinWestfalen), Runoff(0, 1));
        assert_eq!(first(RuleSet::Bayern), Elected(0));
        assert_eq!(first(RuleSet::Niedersachsen), NoneElected);
    }

    #[test]
    fn runoff_field_names_the_qualified_and_the_tied() {
        let cases = [
            (vec![], vec![], vec![], 0),
            (vec![7], vec![0], vec![], 0),
            (vec![7, 3], vec![0, 1], vec![], 0),
            (vec![3, 7], vec![1, 0], vec![], 0),
            (vec![5, 5], vec![0, 1], vec![], 0),
            (vec![5, 9, 5, 1], vec![1], vec![0, 2], 1),
            (vec![5, 9, 4, 1], vec![1, 0], vec![], 0),
            (vec![5, 9, 5, 5], vec![1], vec![0, 2, 3], 1),
            (vec![4, 4, 4], vec![], vec![0, 1, 2], 2),
            (vec![1, 4, 2, 4, 4], vec![], vec![1, 3, 4], 2),
        ];
        for (candidates, qualified, tied, places_by_lot) in cases {
            let tally = e(&candidates, 0, 0);
            assert_eq!(
                runoff_field(&tally),
                RunoffField {
                    qualified,
                    tied,
                    places_by_lot
                },
                "{candidates:?}"
            );
        }
    }

    #[test]
    fn election_tallies_count_out_of_range_candidates_as_invalid() {
        use ElectionChoice::*;
        let tally = ElectionTally::from_choices(
            3,
            [
                Candidate(0),
                Candidate(2),
                Candidate(2),
                Candidate(3),
                Candidate(u32::MAX),
                No,
                Abstain,
            ],
        );
        assert_eq!(tally.candidates, vec![1, 0, 2]);
        assert_eq!((tally.no, tally.abstain, tally.invalid), (1, 1, 2));
        assert_eq!(tally.total_cast(), 7);
        assert_eq!(tally.candidate_votes(), 3);
        assert_eq!(tally.valid_votes(&RuleSet::NordrheinWestfalen.rules()), 4);
        assert_eq!(tally.valid_votes(&RuleSet::Bayern.rules()), 3);
        let none = ElectionTally::from_choices(0, [Candidate(0)]);
        assert_eq!((none.candidates.len(), none.invalid), (0, 1));
    }

    #[test]
    fn rule_sets_are_data() {
        use ElectionFirstRoundBasis::*;
        use ElectionSecondRound::*;
        // (rule set, abstention, basis, second round, no invalid, repeat, secret elections,
        //  secret motions, remote bars secret, remote excluded from elections, quorum)
        let expected = [
            (
                RuleSet::Niedersachsen,
                true,
                Members,
                MostVotesWins,
                false,
                false,
                false,
                true,
                true,
                false,
                QuorumRule::MajorityPresentDeclaredByChair,
            ),
            (
                RuleSet::NordrheinWestfalen,
                true,
                ValidVotes,
                TopTwoRunoff,
                false,
                false,
                false,
                true,
                false,
                false,
                QuorumRule::MoreThanHalfOfStatutory,
            ),
            (
                RuleSet::Bayern,
                false,
                ValidVotes,
                TopTwoRunoff,
                true,
                true,
                true,
                false,
                false,
                true,
                QuorumRule::MoreThanHalfOfStatutory,
            ),
        ];
        for (set, abst, basis, second, no_inv, repeat, secret_el, secret_mo, remote, excl, q) in
            expected
        {
            let rules = set.rules();
            assert_eq!(rules.rule_set, set);
            assert_eq!(rules.abstention_allowed, abst, "{set}");
            assert_eq!(rules.election_first_round_basis, basis, "{set}");
            assert_eq!(rules.election_second_round, second, "{set}");
            assert_eq!(rules.no_votes_invalid_in_elections, no_inv, "{set}");
            assert_eq!(rules.election_repeated_if_half_invalid, repeat, "{set}");
            assert_eq!(rules.elections_secret_by_law, secret_el, "{set}");
            assert_eq!(rules.secret_motions_allowed, secret_mo, "{set}");
            assert_eq!(rules.secret_barred_with_remote_members, remote, "{set}");
            assert_eq!(rules.remote_members_excluded_from_elections, excl, "{set}");
            assert_eq!(rules.quorum, q, "{set}");
        }
    }

    #[test]
    fn bavaria_refuses_abstentions_on_motions() {
        for rule_set in RuleSet::ALL {
            let rules = rule_set.rules();
            let bavaria = *rule_set == RuleSet::Bayern;
            assert!(rules.check_choice_allowed(Choice::Yes).is_ok());
            assert!(rules.check_choice_allowed(Choice::No).is_ok());
            assert_eq!(
                rules.check_choice_allowed(Choice::Abstain).is_err(),
                bavaria
            );
            assert!(rules.check_choices_allowed(&t(10, 9, 0, 1)).is_ok());
            assert_eq!(
                rules.check_choices_allowed(&t(10, 9, 1, 0)).is_err(),
                bavaria
            );
        }
        let err = RuleSet::Bayern
            .rules()
            .check_choices_allowed(&t(1, 0, 2, 0))
            .unwrap_err();
        assert!(err.to_string().contains("BayGO"), "{err}");
    }

    #[test]
    fn poll_kinds_each_rule_set_bars() {
        use PollKind::*;
        for rule_set in RuleSet::ALL {
            let rules = rule_set.rules();
            for kind in PollKind::ALL {
                for remote in [false, true] {
                    let barred = match rule_set {
                        RuleSet::Niedersachsen => remote && matches!(kind, Secret | Election),
                        RuleSet::NordrheinWestfalen => false,
                        RuleSet::Bayern => *kind == Secret,
                    };
                    assert_eq!(
                        rules.check_poll_allowed(*kind, remote).is_err(),
                        barred,
                        "{rule_set} {kind} remote={remote}"
                    );
                }
            }
        }
        let err = RuleSet::Niedersachsen
            .rules()
            .check_poll_allowed(Secret, true)
            .unwrap_err();
        assert!(err.to_string().contains("NKomVG"), "{err}");
    }

    #[test]
    fn manual_tallies_cannot_exceed_the_members_present() {
        // (tally, present eligible voters, ok)
        let cases = [
            (t(0, 0, 0, 0), 0, true),
            (t(10, 5, 3, 0), 18, true),
            (t(10, 5, 3, 0), 20, true),
            (t(10, 5, 3, 0), 17, false),
            (t(10, 5, 3, 1), 18, false),
            (t(1, 0, 0, 0), 0, false),
            (t(u32::MAX, u32::MAX, 0, 0), u32::MAX, false),
        ];
        for (tally, present, ok) in cases {
            assert_eq!(
                validate_manual_tally(&tally, present).is_ok(),
                ok,
                "{tally:?} with {present} present"
            );
        }
    }

    fn choice() -> impl Strategy<Value = Choice> {
        prop::sample::select(Choice::ALL)
    }

    fn majority_rule() -> impl Strategy<Value = MajorityRule> {
        prop::sample::select(MajorityRule::ALL)
    }

    fn tally() -> impl Strategy<Value = Tally> {
        (0u32..80, 0u32..80, 0u32..80, 0u32..10).prop_map(|(y, n, a, i)| t(y, n, a, i))
    }

    fn election_choice() -> impl Strategy<Value = ElectionChoice> {
        prop_oneof![
            (0u32..8).prop_map(ElectionChoice::Candidate),
            Just(ElectionChoice::No),
            Just(ElectionChoice::Abstain),
        ]
    }

    proptest! {
        #[test]
        fn a_tally_counts_every_ballot_once(choices in prop::collection::vec(choice(), 0..200)) {
            let tally = Tally::from_choices(choices.iter().copied());
            let count = |wanted: Choice| choices.iter().filter(|c| **c == wanted).count() as u32;
            prop_assert_eq!(tally.total_cast() as usize, choices.len());
            prop_assert_eq!(tally.valid() as usize, choices.len());
            prop_assert_eq!(tally.yes, count(Choice::Yes));
            prop_assert_eq!(tally.no, count(Choice::No));
            prop_assert_eq!(tally.abstain, count(Choice::Abstain));
            prop_assert_eq!(tally.invalid, 0);
        }

        #[test]
        fn another_yes_never_rejects_an_accepted_motion(
            rule in majority_rule(), tally in tally(), statutory in 0u32..100,
        ) {
            if decide(rule, &tally, statutory) == Outcome::Adopted {
                let more = Tally { yes: tally.yes + 1, ..tally };
                prop_assert_eq!(decide(rule, &more, statutory), Outcome::Adopted);
            }
        }

        #[test]
        fn another_no_never_accepts_a_rejected_motion(
            rule in majority_rule(), tally in tally(), statutory in 0u32..100,
        ) {
            if decide(rule, &tally, statutory) == Outcome::Rejected {
                let more = Tally { no: tally.no + 1, ..tally };
                prop_assert_eq!(decide(rule, &more, statutory), Outcome::Rejected);
            }
        }

        #[test]
        fn abstentions_and_invalid_ballots_never_change_a_decision(
            rule in majority_rule(), tally in tally(), statutory in 0u32..100,
            abstain in 0u32..50, invalid in 0u32..50,
        ) {
            let other = Tally { abstain, invalid, ..tally };
            prop_assert_eq!(decide(rule, &tally, statutory), decide(rule, &other, statutory));
        }

        #[test]
        fn an_election_tally_counts_every_ballot_once(
            n in 0u32..6, choices in prop::collection::vec(election_choice(), 0..200),
        ) {
            let tally = ElectionTally::from_choices(n, choices.iter().copied());
            prop_assert_eq!(tally.candidates.len(), n as usize);
            prop_assert_eq!(tally.total_cast() as usize, choices.len());
            for (index, votes) in tally.candidates.iter().enumerate() {
                let cast = choices
                    .iter()
                    .filter(|c| **c == ElectionChoice::Candidate(index as u32))
                    .count();
                prop_assert_eq!(*votes as usize, cast);
            }
            let out_of_range = choices
                .iter()
                .filter(|c| matches!(c, ElectionChoice::Candidate(i) if *i >= n))
                .count();
            prop_assert_eq!(tally.invalid as usize, out_of_range);
        }

        #[test]
        fn election_outcomes_name_only_real_candidates(
            rule_set in prop::sample::select(RuleSet::ALL),
            round in prop::sample::select(ElectionRound::ALL),
            n in 0u32..6,
            choices in prop::collection::vec(election_choice(), 0..60),
            statutory in 0u32..70,
        ) {
            let rules = rule_set.rules();
            let tally = ElectionTally::from_choices(n, choices);
            match decide_election(&rules, round, &tally, statutory) {
                Elected(winner) => {
                    prop_assert!(winner < n);
                    let votes = tally.candidates[winner as usize];
                    prop_assert!(votes > 0);
                    prop_assert!(tally.candidates.iter().all(|v| *v <= votes));
                }
                Runoff(a, b) => {
                    prop_assert_eq!(round, ElectionRound::First);
                    prop_assert!(a < n && b < n && a != b);
                    prop_assert!(tally.candidates[a as usize] >= tally.candidates[b as usize]);
                }
                Lot(tied) => {
                    prop_assert!(tied.len() >= 2);
                    prop_assert!(tied.windows(2).all(|w| w[0] < w[1]));
                    prop_assert!(tied.iter().all(|c| *c < n));
                    let votes = tally.candidates[tied[0] as usize];
                    prop_assert!(tied.iter().all(|c| tally.candidates[*c as usize] == votes));
                }
                NoneElected => {}
            }
        }
    }
}
