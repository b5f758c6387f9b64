//! The invitation of a meeting (Einladung) and its supplements (Nachträge): what was announced,
//! frozen when it was issued, the notice period (Ladungsfrist) and the changes a supplement
//! announces. Pure data: the document engine renders [`InvitationDocument`]; the API serves it
//! as JSON and filters the non-public part for those not entitled to it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::DomainError;

/// The default notice period: a week.
pub const DEFAULT_NOTICE_DAYS: u32 = 7;

/// The longest notice period a body or the server may set, in days.
pub const MAX_NOTICE_DAYS: u32 = 60;

/// The longest reason for a shortened notice period, in characters.
pub const LATE_REASON_MAX: usize = 2000;

/// An invitation or a supplement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationKind {
    /// The invitation (Einladung), number 1.
    Invitation,
    /// A supplement (Nachtrag), numbers 2, 3, …
    Supplement,
}

impl InvitationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationKind::Invitation => "invitation",
            InvitationKind::Supplement => "supplement",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "invitation" => Ok(InvitationKind::Invitation),
            "supplement" => Ok(InvitationKind::Supplement),
            other => Err(DomainError::invalid(
                "kind",
                format!("unknown invitation kind {other:?}"),
            )),
        }
    }
}

/// Why the notice period was shortened (an urgent meeting): 1 to 2000 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LateReason(String);

impl LateReason {
    /// `None` for an empty or blank text.
    pub fn parse(raw: &str) -> Result<Option<Self>, DomainError> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > LATE_REASON_MAX {
            return Err(DomainError::invalid(
                "late_reason",
                format!("at most {LATE_REASON_MAX} characters"),
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(DomainError::invalid(
                "late_reason",
                "control characters are not allowed",
            ));
        }
        Ok(Some(Self(text.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a member is notified of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    Invitation,
    Supplement,
    Cancellation,
    MinutesPublished,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 4] = [
        NotificationKind::Invitation,
        NotificationKind::Supplement,
        NotificationKind::Cancellation,
        NotificationKind::MinutesPublished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Invitation => "invitation",
            NotificationKind::Supplement => "supplement",
            NotificationKind::Cancellation => "cancellation",
            NotificationKind::MinutesPublished => "minutes_published",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| DomainError::invalid("kind", format!("unknown kind {raw:?}")))
    }
}

/// The last moment an invitation is on time: the meeting's start minus the notice period.
pub fn invitation_deadline(start: DateTime<Utc>, notice_days: u32) -> DateTime<Utc> {
    start - Duration::days(i64::from(notice_days))
}

/// The invitation is issued after the deadline without a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLate {
    /// When it would have had to be issued.
    pub deadline: DateTime<Utc>,
}

/// Checks the notice period: on time, or late with a reason. Late without a reason is refused.
pub fn check_notice(
    now: DateTime<Utc>,
    start: DateTime<Utc>,
    notice_days: u32,
    reason: Option<&LateReason>,
) -> Result<(), TooLate> {
    let deadline = invitation_deadline(start, notice_days);
    if now <= deadline || reason.is_some() {
        Ok(())
    } else {
        Err(TooLate { deadline })
    }
}

/// One agenda item as announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncedItem {
    /// The agenda item's id.
    pub id: uuid::Uuid,
    /// `Ö 1`, `N 2`, …
    pub number: String,
    pub public: bool,
    pub title: String,
    /// The reference of the paper it deliberates (Drucksache), if any.
    pub paper_reference: Option<String>,
}

/// What an invitation announces: time, place and agenda, as it stood when it was issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// The meeting's name (e.g. "12. Sitzung des Rates").
    pub meeting: String,
    /// The body inviting (the organization's name).
    pub organization: String,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    /// The place, if set.
    pub location: Option<String>,
    /// In agenda order, public and non-public.
    pub items: Vec<AnnouncedItem>,
}

/// An item that moved: its number before and now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedItem {
    pub item: AnnouncedItem,
    /// Its number in the previous announcement.
    pub previous_number: String,
}

/// What a supplement changes against the previous announcement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    pub added: Vec<AnnouncedItem>,
    pub moved: Vec<MovedItem>,
    pub withdrawn: Vec<AnnouncedItem>,
    /// The new start, if it changed.
    pub start: Option<DateTime<Utc>>,
    /// The new place, if it changed (`Some(None)`: no place any more).
    pub location: Option<Option<String>>,
    /// Items whose title or paper changed (with their new text).
    pub changed: Vec<AnnouncedItem>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.moved.is_empty()
            && self.withdrawn.is_empty()
            && self.changed.is_empty()
            && self.start.is_none()
            && self.location.is_none()
    }
}

/// What changed from `before` to `after`; items are matched by id.
pub fn changes(before: &Announcement, after: &Announcement) -> Changes {
    let mut result = Changes::default();
    for item in &after.items {
        match before.items.iter().find(|b| b.id == item.id) {
            None => result.added.push(item.clone()),
            Some(old) => {
                if old.number != item.number {
                    result.moved.push(MovedItem {
                        item: item.clone(),
                        previous_number: old.number.clone(),
                    });
                } else if old.title != item.title || old.paper_reference != item.paper_reference {
                    result.changed.push(item.clone());
                }
            }
        }
    }
    for old in &before.items {
        if !after.items.iter().any(|a| a.id == old.id) {
            result.withdrawn.push(old.clone());
        }
    }
    if before.start != after.start {
        result.start = Some(after.start);
    }
    if before.location != after.location {
        result.location = Some(after.location.clone());
    }
    result
}

/// The frozen content of an invitation or supplement: what the document engine renders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationDocument {
    pub kind: InvitationKind,
    /// 1 for the invitation, 2… for supplements.
    pub number: u32,
    pub issued_at: DateTime<Utc>,
    /// The notice deadline that applied.
    pub deadline: DateTime<Utc>,
    /// Why it was issued after the deadline (shown in the document and the minutes).
    pub late_reason: Option<LateReason>,
    /// The full announcement as of this document.
    pub announced: Announcement,
    /// For a supplement: what changed against the previous document.
    pub changes: Option<Changes>,
}

impl InvitationDocument {
    /// The document without anything non-public: the public notice (öffentliche Bekanntmachung),
    /// and what members not entitled to the non-public part see.
    #[must_use]
    pub fn public_part(&self) -> Self {
        let keep = |items: &mut Vec<AnnouncedItem>| items.retain(|i| i.public);
        let mut doc = self.clone();
        keep(&mut doc.announced.items);
        if let Some(changes) = &mut doc.changes {
            keep(&mut changes.added);
            keep(&mut changes.withdrawn);
            keep(&mut changes.changed);
            changes.moved.retain(|m| m.item.public);
        }
        doc
    }

    /// The notice period (Ladungsfrist) it was issued under, in whole days: the announced start
    /// minus the deadline (both frozen with it).
    #[must_use]
    pub fn notice_days(&self) -> u32 {
        u32::try_from((self.announced.start - self.deadline).num_days()).unwrap_or(0)
    }
}

// German civil time: `crate::german_time` (chair.rs), one rule for every document.
use crate::chair::german_time;

/// `Dienstag, 8. Dezember 2026, 17:00 Uhr` (German civil time).
pub fn german_date_time(at: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    const DAYS: [&str; 7] = [
        "Montag",
        "Dienstag",
        "Mittwoch",
        "Donnerstag",
        "Freitag",
        "Samstag",
        "Sonntag",
    ];
    const MONTHS: [&str; 12] = [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ];
    let local = german_time(at);
    format!(
        "{}, {}. {} {}, {:02}:{:02} Uhr",
        DAYS[local.weekday().num_days_from_monday() as usize],
        local.day(),
        MONTHS[local.month0() as usize],
        local.year(),
        local.hour(),
        local.minute()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn item(n: u128, number: &str, public: bool, title: &str) -> AnnouncedItem {
        AnnouncedItem {
            id: uuid::Uuid::from_u128(n),
            number: number.into(),
            public,
            title: title.into(),
            paper_reference: None,
        }
    }

    fn announcement(items: Vec<AnnouncedItem>) -> Announcement {
        Announcement {
            meeting: "Rat".into(),
            organization: "Rat".into(),
            start: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            end: None,
            location: Some("Ratssaal".into()),
            items,
        }
    }

    #[test]
    fn the_deadline_is_the_start_minus_the_notice_period() {
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let deadline = invitation_deadline(start, 7);
        assert_eq!(start - deadline, Duration::days(7));
        assert!(check_notice(deadline, start, 7, None).is_ok());
        let late = deadline + Duration::seconds(1);
        assert_eq!(
            check_notice(late, start, 7, None),
            Err(TooLate { deadline })
        );
        let reason = LateReason::parse("Eilsitzung").unwrap().unwrap();
        assert!(check_notice(late, start, 7, Some(&reason)).is_ok());
    }

    #[test]
    fn a_document_knows_the_notice_period_it_was_issued_under() {
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        for days in [0, 1, 3, 60] {
            let document = InvitationDocument {
                kind: InvitationKind::Invitation,
                number: 1,
                issued_at: start - Duration::days(70),
                deadline: invitation_deadline(start, days),
                late_reason: None,
                announced: Announcement {
                    meeting: "Sitzung".into(),
                    organization: "Rat".into(),
                    start,
                    end: None,
                    location: None,
                    items: Vec::new(),
                },
                changes: None,
            };
            assert_eq!(document.notice_days(), days);
        }
    }

    #[test]
    fn german_time_follows_summer_time() {
        let winter = DateTime::parse_from_rfc3339("2026-12-08T16:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            german_date_time(winter),
            "Dienstag, 8. Dezember 2026, 17:00 Uhr"
        );
        let summer = DateTime::parse_from_rfc3339("2026-06-30T16:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            german_date_time(summer),
            "Dienstag, 30. Juni 2026, 18:00 Uhr"
        );
        // 2026-03-29 is the last Sunday of March: CEST from 01:00 UTC.
        let switch = DateTime::parse_from_rfc3339("2026-03-29T01:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(german_time(switch).format("%H:%M").to_string(), "03:00");
    }

    #[test]
    fn a_blank_reason_is_no_reason() {
        assert_eq!(LateReason::parse("  \n ").unwrap(), None);
        assert!(LateReason::parse(&"x".repeat(LATE_REASON_MAX + 1)).is_err());
        assert!(LateReason::parse("a\u{7}b").is_err());
    }

    #[test]
    fn changes_name_added_moved_and_withdrawn_items() {
        let before = announcement(vec![
            item(1, "Ö 1", true, "Haushalt"),
            item(2, "Ö 2", true, "Radweg"),
            item(3, "N 1", false, "Grundstück"),
        ]);
        let after = announcement(vec![
            item(2, "Ö 1", true, "Radweg"),
            item(4, "Ö 2", true, "Schule"),
            item(3, "N 1", false, "Grundstück"),
        ]);
        let diff = changes(&before, &after);
        assert_eq!(diff.added, vec![item(4, "Ö 2", true, "Schule")]);
        assert_eq!(diff.withdrawn, vec![item(1, "Ö 1", true, "Haushalt")]);
        assert_eq!(diff.moved.len(), 1);
        assert_eq!(diff.moved[0].previous_number, "Ö 2");
        assert!(changes(&after, &after).is_empty());
    }

    #[test]
    fn the_public_part_has_no_non_public_item() {
        let before = announcement(vec![item(1, "Ö 1", true, "Haushalt")]);
        let after = announcement(vec![
            item(1, "Ö 1", true, "Haushalt"),
            item(3, "N 1", false, "Grundstück"),
        ]);
        let doc = InvitationDocument {
            kind: InvitationKind::Supplement,
            number: 2,
            issued_at: after.start,
            deadline: after.start,
            late_reason: None,
            changes: Some(changes(&before, &after)),
            announced: after,
        };
        let public = serde_json::to_string(&doc.public_part()).unwrap();
        assert!(!public.contains("Grundstück"));
        assert!(public.contains("Haushalt"));
    }
}
