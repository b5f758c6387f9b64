//! Newtype ids: a `MeetingId` can never be passed where a `PaperId` is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::DomainError;

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered (UUIDv7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            /// A deterministic id derived from a name (UUIDv5), for fixtures such as the demo council.
            pub fn from_name(namespace: &Uuid, name: &str) -> Self {
                Self(Uuid::new_v5(namespace, name.as_bytes()))
            }
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| DomainError::invalid(stringify!($name), "not a UUID"))
            }
        }
    )*};
}

id_type!(
    /// Id of a `Body` (Körperschaft).
    BodyId,
    /// Id of a `LegislativeTerm` (Wahlperiode).
    LegislativeTermId,
    /// Id of an `Organization` (Gremium, Fraktion …).
    OrganizationId,
    /// Id of a `Person`.
    PersonId,
    /// Id of a login `User`.
    UserId,
    /// Id of a `Membership`.
    MembershipId,
    /// Id of a `Location`.
    LocationId,
    /// Id of a `Meeting` (Sitzung).
    MeetingId,
    /// Id of an `AgendaItem` (Tagesordnungspunkt).
    AgendaItemId,
    /// Id of a `Paper` (Vorlage).
    PaperId,
    /// Id of a `Consultation` (Beratungsfolge entry).
    ConsultationId,
    /// Id of a `File` (Anlage).
    FileId,
    /// Id of a `DeviceSession`: one signed-in device of a user.
    DeviceSessionId,
    /// Id of a `CalendarFeed`: a member's personal iCalendar feed URL.
    CalendarFeedId,
    /// Id of a `Poll` (Abstimmung, Wahl).
    PollId,
    /// Id of an entry on a speakers list.
    SpeakerEntryId,
    /// Id of an amendment (Änderungsantrag) to an agenda item's proposal.
    AmendmentId,
    /// Client-chosen id of a live command; a retry with the same id never applies twice.
    CommandId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_strings_and_reject_garbage() {
        let id = MeetingId::new();
        let parsed: MeetingId = id.to_string().parse().unwrap();
        assert_eq!(id, parsed);
        assert!("not-a-uuid".parse::<MeetingId>().is_err());
    }

    #[test]
    fn named_ids_are_deterministic() {
        let ns = Uuid::nil();
        assert_eq!(BodyId::from_name(&ns, "x"), BodyId::from_name(&ns, "x"));
        assert_ne!(BodyId::from_name(&ns, "x"), BodyId::from_name(&ns, "y"));
    }

    #[test]
    fn new_ids_are_time_ordered() {
        let a = PaperId::new();
        let b = PaperId::new();
        assert!(a < b);
    }
}
