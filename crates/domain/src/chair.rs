//! What the chair's console needs beyond the plain state machine: the quorum as the statutes
//! treat it (declared, doubted, presumed), the session settings the clerk sets (repeat meeting,
//! speaking time) and the checks that keep the chair from slipping (a poll below quorum, a start
//! on another day, a cancellation without a reason).
//!
//! # Quorum over the course of a session
//!
//! The count ([`crate::quorum`]) says whether more than half of the statutory members are present.
//! The statutes differ in what a short count *means* during a session:
//!
//! - **GO NRW § 49 (1)**: the council "gilt als beschlussfähig, solange seine Beschlussunfähigkeit
//!   nicht festgestellt ist" — it is presumed quorate until the chair establishes otherwise.
//! - **NKomVG § 65 (1)**: the chair establishes the quorum at the start; the council then counts as
//!   quorate even when members leave, until a member claims it is not.
//! - **BayGO Art. 47 (2)**: the quorum must exist when a decision is taken; there is no presumption.
//!
//! In every rule set a member may doubt the quorum; the chair must then state it again before the
//! next vote. All three let a *repeat meeting* (Wiederholungssitzung: the council summoned again
//! on the same matter after it lacked a quorum) decide regardless of how many came: GO NRW
//! § 49 (2), NKomVG § 65 (2), BayGO Art. 47 (3).
//!
//! The system cannot know who sits in the room without checking in, so it never *decides* that a
//! vote is invalid: opening a poll while the count is short, or after the chair declared the
//! council not quorate, needs the chair's explicit confirmation, and such a poll and its result
//! carry the mark `below_quorum`. While a doubt is open no poll opens at all.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::{PersonId, QuorumStatus, RuleSet};

/// The default speaking time per contribution: five minutes.
pub const DEFAULT_SPEAKING_TIME_SECS: u32 = 300;

/// Longest speaking time that can be set: two hours.
pub const MAX_SPEAKING_TIME_SECS: u32 = 7_200;

/// Longest reason for discarding a poll.
pub const MAX_REASON_CHARS: usize = 500;

/// Settings of one meeting's session, set by the clerk (before or during the session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSettings {
    /// Wiederholungssitzung: the council decides regardless of how many are present.
    #[serde(default)]
    pub repeat_meeting: bool,
    /// The speaking time per contribution, in seconds (the console shows when it is over).
    #[serde(default = "default_speaking_time_secs")]
    pub speaking_time_secs: u32,
}

/// [`DEFAULT_SPEAKING_TIME_SECS`], for serde.
pub fn default_speaking_time_secs() -> u32 {
    DEFAULT_SPEAKING_TIME_SECS
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            repeat_meeting: false,
            speaking_time_secs: DEFAULT_SPEAKING_TIME_SECS,
        }
    }
}

impl SessionSettings {
    /// Refuses settings no council uses: a speaking time of 0 or over two hours.
    pub fn validate(&self) -> Result<(), String> {
        if self.speaking_time_secs == 0 || self.speaking_time_secs > MAX_SPEAKING_TIME_SECS {
            return Err(format!(
                "the speaking time must be between 1 and {MAX_SPEAKING_TIME_SECS} seconds"
            ));
        }
        Ok(())
    }
}

/// The chair's statement on the quorum (Feststellung der Beschlussfähigkeit), with the count it
/// was made on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumDeclaration {
    pub quorate: bool,
    pub count: QuorumStatus,
    pub at: DateTime<Utc>,
}

/// A member's doubt of the quorum (Anzweifeln / Geltendmachen der Beschlussunfähigkeit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumDoubt {
    pub person: PersonId,
    pub count: QuorumStatus,
    pub at: DateTime<Utc>,
}

/// The quorum statements of a session: the chair's latest declaration and the doubts raised
/// since. Every declaration and doubt is also an event, so the minutes keep them all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumRecord {
    pub declared: Option<QuorumDeclaration>,
    /// Open doubts: raised after the latest declaration.
    pub doubts: Vec<QuorumDoubt>,
}

/// How the statutes treat a short count during the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuorumPresumption {
    /// Quorate until the lack of a quorum is established (GO NRW § 49 (1) S. 2).
    UntilEstablished,
    /// Established by the chair at the start; holds until a member doubts it (NKomVG § 65 (1)).
    DeclaredAtStartUntilDoubted,
    /// No presumption: the count must hold at every vote (BayGO Art. 47 (2)).
    AtEveryVote,
}

/// The quorum law of a rule set, with the provisions to cite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuorumLaw {
    pub presumption: QuorumPresumption,
    /// Where the statute lets a repeat meeting decide regardless of the quorum.
    pub repeat_meeting: &'static str,
    /// Where the statute says what a short count means.
    pub provision: &'static str,
}

impl QuorumLaw {
    pub const fn of(rule_set: RuleSet) -> QuorumLaw {
        match rule_set {
            RuleSet::NordrheinWestfalen => QuorumLaw {
                presumption: QuorumPresumption::UntilEstablished,
                repeat_meeting: "GO NRW § 49 (2)",
                provision: "GO NRW § 49 (1)",
            },
            RuleSet::Niedersachsen => QuorumLaw {
                presumption: QuorumPresumption::DeclaredAtStartUntilDoubted,
                repeat_meeting: "NKomVG § 65 (2)",
                provision: "NKomVG § 65 (1)",
            },
            RuleSet::Bayern => QuorumLaw {
                presumption: QuorumPresumption::AtEveryVote,
                repeat_meeting: "BayGO Art. 47 (3)",
                provision: "BayGO Art. 47 (2)",
            },
        }
    }
}

/// Where the quorum stands now, for the console and the poll checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuorumStanding {
    /// A repeat meeting: decides regardless of the count.
    Waived,
    /// Enough members are present.
    Quorate,
    /// Too few are present, but the statute presumes the quorum (NRW: not established otherwise;
    /// Niedersachsen: declared at the start and not doubted).
    Presumed,
    /// Niedersachsen: the chair has not yet established the quorum; the count is short.
    Undeclared,
    /// A member doubted the quorum; the chair must state it before the next vote.
    Doubted,
    /// Too few are present and nothing presumes the quorum (Bayern), or the chair declared the
    /// council not quorate.
    NotQuorate,
}

impl QuorumStanding {
    /// Whether opening a poll needs the chair's confirmation (`confirm_below_quorum`).
    pub fn needs_confirmation(&self, count: &QuorumStatus) -> bool {
        match self {
            QuorumStanding::Waived => false,
            QuorumStanding::NotQuorate | QuorumStanding::Undeclared | QuorumStanding::Presumed => {
                true
            }
            QuorumStanding::Quorate | QuorumStanding::Doubted => !count.reached,
        }
    }
}

/// The standing of the quorum from the count, the chair's statements and the doubts.
pub fn quorum_standing(
    rule_set: RuleSet,
    record: &QuorumRecord,
    count: &QuorumStatus,
    settings: &SessionSettings,
) -> QuorumStanding {
    if settings.repeat_meeting {
        return QuorumStanding::Waived;
    }
    if !record.doubts.is_empty() {
        return QuorumStanding::Doubted;
    }
    if record.declared.is_some_and(|d| !d.quorate) {
        return QuorumStanding::NotQuorate;
    }
    if count.reached {
        return QuorumStanding::Quorate;
    }
    match QuorumLaw::of(rule_set).presumption {
        QuorumPresumption::UntilEstablished => QuorumStanding::Presumed,
        QuorumPresumption::DeclaredAtStartUntilDoubted if record.declared.is_some() => {
            QuorumStanding::Presumed
        }
        QuorumPresumption::DeclaredAtStartUntilDoubted => QuorumStanding::Undeclared,
        QuorumPresumption::AtEveryVote => QuorumStanding::NotQuorate,
    }
}

/// Why a poll may not open now, as far as the quorum goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuorumCheck {
    /// Open it; `below_quorum` marks the poll (the count was short or the chair declared the
    /// council not quorate, and the chair confirmed).
    Open { below_quorum: bool },
    /// A doubt is open: the chair must state the quorum first.
    Doubted,
    /// The chair must confirm.
    NeedsConfirmation,
}

/// Decides whether a poll may open, given the chair's `confirmed` flag.
pub fn check_poll_quorum(
    standing: QuorumStanding,
    count: &QuorumStatus,
    confirmed: bool,
) -> QuorumCheck {
    if standing == QuorumStanding::Doubted {
        return QuorumCheck::Doubted;
    }
    let short = !count.reached || standing == QuorumStanding::NotQuorate;
    if standing.needs_confirmation(count) && !confirmed {
        return QuorumCheck::NeedsConfirmation;
    }
    QuorumCheck::Open {
        below_quorum: short,
    }
}

/// A reason the chair gives (for discarding a poll): trimmed, 1 to [`MAX_REASON_CHARS`]
/// characters.
pub fn parse_reason(reason: Option<&str>) -> Option<String> {
    let reason = reason?.trim();
    (!reason.is_empty() && reason.chars().count() <= MAX_REASON_CHARS).then(|| reason.to_owned())
}

/// The calendar day of `at` in Germany (see [`german_time`]). Meetings are scheduled by German
/// dates.
pub fn german_date(at: DateTime<Utc>) -> NaiveDate {
    german_time(at).date()
}

/// The German civil time of `at`: CET, or CEST from the last Sunday of March to the last Sunday
/// of October, switching at 01:00 UTC (the EU rule). Documents print times in it.
pub fn german_time(at: DateTime<Utc>) -> chrono::NaiveDateTime {
    let year = at.year();
    let last_sunday = |month: u32| {
        let first_of_next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        };
        first_of_next.and_then(|d| {
            let last = d.pred_opt()?;
            let back = last.weekday().num_days_from_sunday();
            last.checked_sub_days(chrono::Days::new(u64::from(back)))
        })
    };
    let switch = |day: Option<NaiveDate>| {
        day.and_then(|d| d.and_hms_opt(1, 0, 0))
            .map(|t| Utc.from_utc_datetime(&t))
    };
    let summer = match (switch(last_sunday(3)), switch(last_sunday(10))) {
        (Some(from), Some(to)) => at >= from && at < to,
        _ => false,
    };
    let offset = if summer { 2 } else { 1 };
    (at + chrono::Duration::hours(offset)).naive_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(present: u32, statutory: u32) -> QuorumStatus {
        crate::quorum(
            crate::QuorumRule::MoreThanHalfOfStatutory,
            statutory,
            present,
        )
    }

    fn declared(quorate: bool) -> QuorumRecord {
        QuorumRecord {
            declared: Some(QuorumDeclaration {
                quorate,
                count: count(20, 38),
                at: Utc::now(),
            }),
            doubts: Vec::new(),
        }
    }

    fn doubted(record: QuorumRecord) -> QuorumRecord {
        QuorumRecord {
            doubts: vec![QuorumDoubt {
                person: PersonId::new(),
                count: count(3, 38),
                at: Utc::now(),
            }],
            ..record
        }
    }

    #[test]
    fn the_standing_follows_each_statute() {
        use QuorumStanding::*;
        use RuleSet::*;
        let normal = SessionSettings::default();
        let short = count(3, 38);
        let full = count(20, 38);
        let none = QuorumRecord::default();
        // (rule set, record, count, standing)
        let cases = [
            // NRW: presumed quorate until the chair establishes otherwise.
            (NordrheinWestfalen, none.clone(), full, Quorate),
            (NordrheinWestfalen, none.clone(), short, Presumed),
            (NordrheinWestfalen, declared(true), short, Presumed),
            (NordrheinWestfalen, declared(false), full, NotQuorate),
            (NordrheinWestfalen, doubted(declared(true)), full, Doubted),
            // Niedersachsen: declared at the start, holds until doubted.
            (Niedersachsen, none.clone(), full, Quorate),
            (Niedersachsen, none.clone(), short, Undeclared),
            (Niedersachsen, declared(true), short, Presumed),
            (Niedersachsen, declared(false), short, NotQuorate),
            (Niedersachsen, doubted(declared(true)), short, Doubted),
            // Bayern: the count decides at every vote.
            (Bayern, none.clone(), full, Quorate),
            (Bayern, none.clone(), short, NotQuorate),
            (Bayern, declared(true), short, NotQuorate),
            (Bayern, doubted(none.clone()), full, Doubted),
        ];
        for (rule_set, record, count, expected) in cases {
            assert_eq!(
                quorum_standing(rule_set, &record, &count, &normal),
                expected,
                "{rule_set} {record:?} {count:?}"
            );
        }
        let repeat = SessionSettings {
            repeat_meeting: true,
            ..normal
        };
        for rule_set in RuleSet::ALL {
            assert_eq!(
                quorum_standing(*rule_set, &doubted(declared(false)), &short, &repeat),
                Waived,
                "{rule_set}: a repeat meeting decides regardless"
            );
            assert!(QuorumLaw::of(*rule_set).repeat_meeting.contains('('));
        }
    }

    #[test]
    fn a_short_count_or_a_declared_lack_needs_confirmation_and_marks_the_poll() {
        use QuorumStanding::*;
        let short = count(3, 38);
        let full = count(20, 38);
        // (standing, count, confirmed, check)
        let cases = [
            (
                Quorate,
                full,
                false,
                QuorumCheck::Open {
                    below_quorum: false,
                },
            ),
            (Presumed, short, false, QuorumCheck::NeedsConfirmation),
            (
                Presumed,
                short,
                true,
                QuorumCheck::Open { below_quorum: true },
            ),
            (Undeclared, short, false, QuorumCheck::NeedsConfirmation),
            (NotQuorate, full, false, QuorumCheck::NeedsConfirmation),
            (
                NotQuorate,
                full,
                true,
                QuorumCheck::Open { below_quorum: true },
            ),
            (
                NotQuorate,
                short,
                true,
                QuorumCheck::Open { below_quorum: true },
            ),
            (Doubted, full, true, QuorumCheck::Doubted),
            (Doubted, short, true, QuorumCheck::Doubted),
            (
                Waived,
                short,
                false,
                QuorumCheck::Open { below_quorum: true },
            ),
            (
                Waived,
                full,
                false,
                QuorumCheck::Open {
                    below_quorum: false,
                },
            ),
        ];
        for (standing, count, confirmed, expected) in cases {
            assert_eq!(
                check_poll_quorum(standing, &count, confirmed),
                expected,
                "{standing:?} {count:?} confirmed={confirmed}"
            );
        }
    }

    #[test]
    fn reasons_are_trimmed_and_bounded() {
        assert_eq!(parse_reason(None), None);
        assert_eq!(parse_reason(Some("   ")), None);
        assert_eq!(
            parse_reason(Some("  Falscher Antrag ")).as_deref(),
            Some("Falscher Antrag")
        );
        assert_eq!(parse_reason(Some(&"x".repeat(MAX_REASON_CHARS + 1))), None);
        assert!(parse_reason(Some(&"ä".repeat(MAX_REASON_CHARS))).is_some());
    }

    #[test]
    fn german_dates_follow_central_european_time() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        // Winter: UTC+1.
        assert_eq!(german_date(at("2026-12-05T22:59:00Z")), day("2026-12-05"));
        assert_eq!(german_date(at("2026-12-05T23:00:00Z")), day("2026-12-06"));
        // Summer: UTC+2.
        assert_eq!(german_date(at("2026-07-01T21:59:00Z")), day("2026-07-01"));
        assert_eq!(german_date(at("2026-07-01T22:00:00Z")), day("2026-07-02"));
        // The switches in 2026: 29 March and 25 October, 01:00 UTC.
        assert_eq!(german_date(at("2026-03-29T00:59:00Z")), day("2026-03-29"));
        assert_eq!(german_date(at("2026-03-29T22:30:00Z")), day("2026-03-30"));
        assert_eq!(german_date(at("2026-10-24T22:30:00Z")), day("2026-10-25"));
        assert_eq!(german_date(at("2026-10-25T22:30:00Z")), day("2026-10-25"));
    }

    #[test]
    fn speaking_times_are_bounded() {
        assert!(SessionSettings::default().validate().is_ok());
        assert_eq!(SessionSettings::default().speaking_time_secs, 300);
        for bad in [0, MAX_SPEAKING_TIME_SECS + 1] {
            let s = SessionSettings {
                speaking_time_secs: bad,
                ..SessionSettings::default()
            };
            assert!(s.validate().is_err(), "{bad}");
        }
        let old: SessionSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(old, SessionSettings::default());
    }
}
