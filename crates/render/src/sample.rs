//! A made-up council meeting's minutes, for benchmarks and tests: `items` agenda items, each
//! decided by a named vote of 21 members in four fractions.

use chrono::{DateTime, Duration, TimeZone, Utc};
use plenum_domain::{
    AgendaItemId, AttendanceLine, AttendanceStatus, ConflictLine, DecisionKind, ItemDecision,
    MembershipRole, MinutesDraft, MinutesItem, MinutesNote, MinutesPart, NamedVote, NonVoter,
    PersonId, PollId, QuorumLine, QuorumStatus, SessionBreak, VoteRecord,
};

use crate::{MinutesDocument, SignatureLine};

const FRACTIONS: [&str; 4] = [
    "Fraktion Bürgerunion",
    "Sozialdemokratische Fraktion",
    "Grüne Zukunft",
    "Freie Wähler",
];

const SURNAMES: [&str; 21] = [
    "Adler", "Becker", "Christ", "Dietrich", "Engel", "Fuchs", "Graf", "Hahn", "Jäger", "Keller",
    "Lange", "Möller", "Neumann", "Otto", "Peters", "Roth", "Schäfer", "Thiel", "Ulrich", "Vogel",
    "Weiß",
];

/// The start of the sample meeting: Thursday, 3 December 2026, 18:00 German time.
pub fn meeting_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 17, 0, 0)
        .single()
        .unwrap_or_default()
}

/// The minutes of a council meeting with `items` items, each with a decision text, a named vote
/// (21 members, four fractions) and a note; one conflict of interest on the second item.
pub fn minutes(items: usize) -> MinutesDocument {
    let start = meeting_start();
    let at = |minutes: i64| start + Duration::minutes(minutes);
    let members: Vec<(PersonId, String, &str)> = SURNAMES
        .iter()
        .enumerate()
        .map(|(i, surname)| {
            (
                PersonId::new(),
                format!("{surname}, {}", ["Anna", "Bernd", "Clara"][i % 3]),
                FRACTIONS[i % 4],
            )
        })
        .collect();
    let attendance: Vec<AttendanceLine> = members
        .iter()
        .enumerate()
        .map(|(i, (person, name, fraction))| {
            let status = if i == 20 {
                AttendanceStatus::Excused
            } else {
                AttendanceStatus::Present
            };
            AttendanceLine {
                person: *person,
                name: name.clone(),
                role: if i == 0 {
                    MembershipRole::Chair
                } else {
                    MembershipRole::Member
                },
                voting_right: true,
                fraction: Some((*fraction).to_owned()),
                status,
                since: Some(at(-5)),
                changes: vec![(status, at(-5))],
            }
        })
        .collect();
    let count = QuorumStatus {
        statutory: 21,
        present_voting: 20,
        required: 11,
        reached: true,
    };
    let minutes_items = (0..items)
        .map(|n| {
            let yes = 12 + (n % 5) as u32;
            let named: Vec<NamedVote> = members[..20]
                .iter()
                .enumerate()
                .map(|(i, (person, name, _))| NamedVote {
                    person: *person,
                    name: name.clone(),
                    choice: if (i as u32) < yes {
                        "yes"
                    } else if i % 2 == 0 {
                        "no"
                    } else {
                        "abstain"
                    }
                    .to_owned(),
                    stands_in_for: None,
                })
                .collect();
            let no = named.iter().filter(|v| v.choice == "no").count() as u32;
            let vote = VoteRecord {
                poll: PollId::new(),
                title: format!("Beschlussvorschlag zu TOP Ö {}", n + 1),
                kind: "named".into(),
                rule: "simple".into(),
                yes,
                no,
                abstain: 20 - yes - no,
                invalid: 0,
                eligible: 21,
                voted: 20,
                outcome: Some("adopted".into()),
                candidates: Vec::new(),
                elected: None,
                round: 1,
                by_lot: false,
                named,
                not_voted: vec![NonVoter {
                    person: members[20].0,
                    name: members[20].1.clone(),
                    stands_in_for: None,
                }],
            };
            MinutesItem {
                speakers: Vec::new(),
                vote_records: Vec::new(),
                id: AgendaItemId::new(),
                number: format!("Ö {}", n + 1),
                title: format!(
                    "Bebauungsplan Nr. {} „Wohnquartier am Stadtpark“, Satzungsbeschluss",
                    101 + n
                ),
                decision_text: Some(
                    "Der Rat beschließt den Bebauungsplan als **Satzung** gemäß § 10 Baugesetzbuch \
                     einschließlich der Begründung. Die Verwaltung wird beauftragt,\n\n\
                     - den Beschluss ortsüblich bekannt zu machen,\n\
                     - die Grundstückseigentümerinnen und -eigentümer zu unterrichten."
                        .into(),
                ),
                decision: Some(ItemDecision {
                    kind: DecisionKind::Adopted,
                    referred_to: None,
                    vote: Some(vote.clone()),
                }),
                polls: vec![vote],
                conflicts: if n == 1 {
                    vec![ConflictLine {
                        person: members[3].0,
                        name: members[3].1.clone(),
                        at: Some(at(20)),
                    }]
                } else {
                    Vec::new()
                },
                note: Some(MinutesNote {
                    text: "Die Verwaltung erläutert die Stellungnahmen aus der \
                           Öffentlichkeitsbeteiligung. Rückfragen der Fraktionen werden \
                           beantwortet."
                        .into(),
                    updated_at: at(200),
                }),
            }
        })
        .collect();
    MinutesDocument {
        minutes: MinutesDraft {
            non_public_began: None,
            public_ended: None,
            stand_ins: Vec::new(),
            part: MinutesPart::Public,
            meeting_name: "5. Sitzung des Rates der Stadt Musterstadt".into(),
            organization: "Rat der Stadt Musterstadt".into(),
            location: Some("Rathaus, Ratssaal".into()),
            scheduled_start: start,
            scheduled_end: Some(at(240)),
            started_at: Some(at(2)),
            ended_at: Some(at(230)),
            breaks: vec![SessionBreak {
                from: at(120),
                to: Some(at(135)),
            }],
            attendance,
            quorum: vec![QuorumLine {
                at: at(3),
                kind: "declared",
                quorate: Some(true),
                count,
                person: None,
                standing: None,
            }],
            items: minutes_items,
        },
        body_name: "Stadt Musterstadt".into(),
        version: Some(1),
        draft: true,
        signatures: vec![SignatureLine {
            name: members[0].1.clone(),
            role_label: "Vorsitz".into(),
            signed_at: at(24 * 60),
            chain_head: "9f2c4e6a".repeat(8),
        }],
    }
}

/// A 4×3 red picture (PNG), for tests and benchmarks of the Sitzungsmappe.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03, 0x08, 0x02, 0x00, 0x00, 0x00, 0x3b, 0x96, 0x39,
    0x91, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x38, 0x21, 0x27, 0x07,
    0x47, 0x0c, 0x38, 0x39, 0x00, 0xf5, 0xc7, 0x0c, 0x31, 0x07, 0xeb, 0xad, 0x99, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];
