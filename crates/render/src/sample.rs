//! A made-up council meeting's minutes, for benchmarks and tests: `items` agenda items, each
//! decided by a named vote of 21 members in four fractions; and its invitation and supplement.

use chrono::{DateTime, Duration, TimeZone, Utc};
use plenum_domain::{
    AgendaItemId, AnnouncedItem, Announcement, AttendanceLine, AttendanceStatus, ConflictLine,
    DecisionKind, InvitationDocument, InvitationKind, ItemDecision, LateReason, MembershipRole,
    MinutesDraft, MinutesItem, MinutesNote, MinutesPart, NamedVote, NonVoter, PersonId, PollId,
    QuorumLine, QuorumStatus, SessionBreak, VoteRecord, changes,
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
            invited_at: Some(at(-10 * 24 * 60)),
            invitation_late_reason: None,
            invitation_notice_days: Some(7),
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

/// The invitation (number 1) and a supplement (number 2) of the sample meeting: three public
/// items with papers and one non-public item; the supplement adds a public and a non-public
/// item, moves one, withdraws one and changes the place, issued late with a reason.
pub fn invitations() -> (InvitationDocument, InvitationDocument) {
    let start = meeting_start();
    let item =
        |n: u128, number: &str, public: bool, title: &str, paper: Option<&str>| AnnouncedItem {
            id: uuid::Uuid::from_u128(n),
            number: number.into(),
            public,
            title: title.into(),
            paper_reference: paper.map(Into::into),
        };
    let announcement = |location: &str, items: Vec<AnnouncedItem>| Announcement {
        meeting: "5. Sitzung des Rates der Stadt Musterstadt".into(),
        organization: "Rat der Stadt Musterstadt".into(),
        start,
        end: Some(start + Duration::hours(4)),
        location: Some(location.into()),
        items,
    };
    let first = announcement(
        "Rathaus, Ratssaal",
        vec![
            item(1, "Ö 1", true, "Einwohnerfragestunde", None),
            item(
                2,
                "Ö 2",
                true,
                "Satzung über die Erhebung von Gebühren für die Straßenreinigung",
                Some("VO/2026/0815"),
            ),
            item(
                3,
                "Ö 3",
                true,
                "Radwegekonzept Innenstadt",
                Some("VO/2026/0816"),
            ),
            item(
                4,
                "N 1",
                false,
                "Verkauf des Grundstücks Gemarkung Musterstadt Flur 12",
                Some("VO/2026/0817"),
            ),
        ],
    );
    let second = announcement(
        "Bürgerhaus Nord, Großer Saal",
        vec![
            item(1, "Ö 1", true, "Einwohnerfragestunde", None),
            item(
                5,
                "Ö 2",
                true,
                "Eilantrag: Winterdienst auf Radwegen",
                Some("VO/2026/0830"),
            ),
            item(
                2,
                "Ö 3",
                true,
                "Satzung über die Erhebung von Gebühren für die Straßenreinigung",
                Some("VO/2026/0815"),
            ),
            item(
                4,
                "N 1",
                false,
                "Verkauf des Grundstücks Gemarkung Musterstadt Flur 12",
                Some("VO/2026/0817"),
            ),
            item(
                6,
                "N 2",
                false,
                "Vergabe der Reinigungsleistungen Rathaus (Los 3)",
                None,
            ),
        ],
    );
    let deadline = plenum_domain::invitation_deadline(start, 7);
    let invitation = InvitationDocument {
        kind: InvitationKind::Invitation,
        number: 1,
        issued_at: deadline - Duration::days(2),
        deadline,
        late_reason: None,
        changes: None,
        announced: first.clone(),
    };
    let supplement = InvitationDocument {
        kind: InvitationKind::Supplement,
        number: 2,
        issued_at: start - Duration::days(2),
        deadline,
        late_reason: LateReason::parse(
            "Der Eilantrag muss vor dem Wintereinbruch beraten werden (Wetterwarnung vom 30. November).",
        )
        .ok()
        .flatten(),
        changes: Some(changes(&first, &second)),
        announced: second,
    };
    (invitation, supplement)
}

/// A 4×3 red picture (PNG), for tests and benchmarks of the Sitzungsmappe.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03, 0x08, 0x02, 0x00, 0x00, 0x00, 0x3b, 0x96, 0x39,
    0x91, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x38, 0x21, 0x27, 0x07,
    0x47, 0x0c, 0x38, 0x39, 0x00, 0xf5, 0xc7, 0x0c, 0x31, 0x07, 0xeb, 0xad, 0x99, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];
