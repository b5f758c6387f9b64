//! The council data model (OParl 1.1 names). Field types are validated values; rules that span
//! several fields are checked by each object's `validate`, which the store calls before writing.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    AgendaItemId, AgendaNumber, BodyId, ConsultationId, DomainError, Email, FileId, FileName,
    LegislativeTermId, LocationId, Markdown, MediaType, MeetingId, MembershipId, Name,
    OrganizationId, PaperId, PaperReference, PersonId, Sha256Digest, Title, UserId, Username,
};

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text form used in the database and on the wire.
            pub const fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                match raw {
                    $($text => Ok($name::$variant),)+
                    other => Err(DomainError::invalid($field, format!("unknown value {other:?}"))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Shared with the other modules of the crate (e.g. `voting`), so every text enum looks alike.
pub(crate) use string_enum;

/// Bookkeeping every stored object carries; OParl needs `created`, `modified` and tombstones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    /// Set when the object was (soft-)deleted. Deleted objects stay as OParl tombstones.
    pub deleted: Option<DateTime<Utc>>,
}

impl Meta {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            created: now,
            modified: now,
            deleted: None,
        }
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted.is_some()
    }
}

impl Default for Meta {
    fn default() -> Self {
        Self::new(Utc::now())
    }
}

fn check_date_range(
    what: &str,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
) -> Result<(), DomainError> {
    match (start, end) {
        (Some(start), Some(end)) if end < start => Err(DomainError::RuleViolated(format!(
            "{what} ends ({end}) before it starts ({start})"
        ))),
        _ => Ok(()),
    }
}

/// A municipality or district (Körperschaft). One deployment may host several.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub id: BodyId,
    pub meta: Meta,
    pub name: Name,
    pub short_name: Option<Name>,
    pub website: Option<String>,
    pub contact_email: Option<Email>,
    /// Amtlicher Gemeindeschlüssel: 8 digits (OParl `Body.ags`).
    pub ags: Option<String>,
    /// Regionalschlüssel: 12 digits (OParl `Body.rgs`).
    pub rgs: Option<String>,
    /// What kind of body it is, e.g. `Kreisfreie Stadt`, `Gemeinde` (OParl
    /// `Body.classification`).
    pub classification: Option<Name>,
}

/// Checks an official key: `digits` ASCII digits.
pub fn check_official_key(
    field: &'static str,
    raw: &str,
    digits: usize,
) -> Result<String, DomainError> {
    let key = raw.trim();
    if key.len() != digits || !key.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::invalid(
            field,
            format!("must be {digits} digits"),
        ));
    }
    Ok(key.to_owned())
}

impl Body {
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(site) = &self.website
            && !(site.starts_with("https://") || site.starts_with("http://"))
        {
            return Err(DomainError::invalid("website", "must be an http(s) URL"));
        }
        if let Some(ags) = &self.ags {
            check_official_key("ags", ags, 8)?;
        }
        if let Some(rgs) = &self.rgs {
            check_official_key("rgs", rgs, 12)?;
        }
        Ok(())
    }
}

/// An electoral term (Wahlperiode).
#[derive(Debug, Clone, PartialEq)]
pub struct LegislativeTerm {
    pub id: LegislativeTermId,
    pub meta: Meta,
    pub body_id: BodyId,
    pub name: Name,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

impl LegislativeTerm {
    pub fn validate(&self) -> Result<(), DomainError> {
        check_date_range(
            "the legislative term",
            Some(self.start_date),
            Some(self.end_date),
        )
    }
}

string_enum! {
    /// What kind of body an organization is (Gremienart).
    OrganizationKind, "organization kind" {
        /// Rat, Kreistag.
        Council => "council",
        /// Ausschuss, Beirat.
        Committee => "committee",
        /// Fraktion.
        Fraction => "fraction",
        /// Gruppe (several fractions or members forming a group).
        Group => "group",
        /// Verwaltung.
        Administration => "administration",
        Other => "other",
    }
}

impl OrganizationKind {
    /// OParl's `organizationType` text.
    pub const fn oparl_type(&self) -> &'static str {
        match self {
            OrganizationKind::Council | OrganizationKind::Committee => "Gremium",
            OrganizationKind::Fraction => "Fraktion",
            OrganizationKind::Group => "Gruppe",
            OrganizationKind::Administration => "Verwaltungsbereich",
            OrganizationKind::Other => "Sonstiges",
        }
    }
}

/// A council, committee, fraction, group or administrative unit (Gremium).
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: OrganizationId,
    pub meta: Meta,
    pub body_id: BodyId,
    pub name: Name,
    pub short_name: Option<Name>,
    pub kind: OrganizationKind,
    /// The statutory number of seats (gesetzliche Mitgliederzahl), where the statutes fix one;
    /// quorum and some majorities are computed from it.
    pub statutory_seats: Option<u32>,
    /// A committee's parent council, for example.
    pub parent_id: Option<OrganizationId>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

impl Organization {
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(seats) = self.statutory_seats
            && !(1..=10_000).contains(&seats)
        {
            return Err(DomainError::invalid(
                "statutory seats",
                "must be between 1 and 10000",
            ));
        }
        if self.parent_id == Some(self.id) {
            return Err(DomainError::RuleViolated(
                "an organization cannot be its own parent".into(),
            ));
        }
        check_date_range("the organization", self.start_date, self.end_date)
    }
}

/// A natural person: council member, clerk, mayor, advisory member.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: PersonId,
    pub meta: Meta,
    pub body_id: BodyId,
    pub family_name: Name,
    pub given_name: Name,
    /// Academic title, e.g. `Dr.`.
    pub title: Option<Name>,
    /// Form of address, e.g. `Frau`, `Herr`.
    pub form_of_address: Option<Name>,
    pub email: Option<Email>,
    /// Published in the public interfaces (OParl, the portal): an explicit choice per person.
    /// Council members are published as holders of a public office; staff of the
    /// administration are not, unless chosen. An unpublished person and their memberships do not
    /// appear publicly; one that was published is served as a tombstone from then on.
    pub published: bool,
    /// Roles the person holds, as OParl's `Person.status` lists them (e.g. `Bürgermeisterin`,
    /// `Ratsmitglied`), in order; at most [`Person::MAX_STATUS`].
    pub status: Vec<Name>,
    /// Name affix such as `von` or `zu` (OParl `Person.affix`).
    pub affix: Option<Name>,
    /// Recorded only when the person or the clerk entered it; never guessed from a name.
    pub gender: Option<Gender>,
}

string_enum! {
    /// A person's gender as OParl recommends the values (`Person.gender`).
    Gender, "gender" {
        Female => "female",
        Male => "male",
        Other => "other",
    }
}

impl Person {
    /// Most entries in [`Person::status`].
    pub const MAX_STATUS: usize = 10;

    /// Checks a list of status entries: at most [`Person::MAX_STATUS`], each a name, no
    /// duplicates.
    pub fn parse_status(raw: &[String]) -> Result<Vec<Name>, DomainError> {
        if raw.len() > Self::MAX_STATUS {
            return Err(DomainError::invalid(
                "status",
                format!("at most {} entries", Self::MAX_STATUS),
            ));
        }
        let mut out: Vec<Name> = Vec::with_capacity(raw.len());
        for entry in raw {
            let name = Name::parse(entry).map_err(|_| {
                DomainError::invalid(
                    "status",
                    "each entry must be a non-empty line of at most 200 characters",
                )
            })?;
            if out.contains(&name) {
                return Err(DomainError::invalid(
                    "status",
                    format!("{name:?} is listed twice"),
                ));
            }
            out.push(name);
        }
        Ok(out)
    }

    /// Full name as printed: `Dr. Anna Schmidt`.
    pub fn full_name(&self) -> String {
        match &self.title {
            Some(title) => format!("{title} {} {}", self.given_name, self.family_name),
            None => format!("{} {}", self.given_name, self.family_name),
        }
    }
}

string_enum! {
    /// Site-wide powers of a login. Council powers come from memberships, not from this.
    SiteRole, "site role" {
        /// No site-wide powers (council members, advisory members).
        Member => "member",
        /// Sitzungsdienst: prepares meetings, agendas and papers.
        Clerk => "clerk",
        /// Accounts, bodies, memberships; resets lost second factors.
        Admin => "admin",
    }
}

/// An argon2id password hash in PHC string form. Never serialised, never shown in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn parse(phc: &str) -> Result<Self, DomainError> {
        if phc.starts_with("$argon2id$") {
            Ok(Self(phc.to_owned()))
        } else {
            Err(DomainError::invalid(
                "password hash",
                "must be an argon2id PHC string",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// A login account, usually of a person.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub meta: Meta,
    pub username: Username,
    pub display_name: Name,
    /// The council person this account belongs to; admin accounts may have none.
    pub person_id: Option<PersonId>,
    pub site_role: SiteRole,
    /// `None` until the user has set a password.
    pub password_hash: Option<PasswordHash>,
}

string_enum! {
    /// A person's role in an organization.
    MembershipRole, "membership role" {
        Member => "member",
        /// Vorsitz.
        Chair => "chair",
        /// Stellvertretender Vorsitz.
        DeputyChair => "deputy_chair",
        /// Stellvertretendes Mitglied.
        Substitute => "substitute",
        /// Beratendes Mitglied: speaks, never votes.
        Advisory => "advisory",
    }
}

impl MembershipRole {
    /// German label as used by OParl's `role`.
    pub const fn german(&self) -> &'static str {
        match self {
            MembershipRole::Member => "Mitglied",
            MembershipRole::Chair => "Vorsitz",
            MembershipRole::DeputyChair => "Stellvertretender Vorsitz",
            MembershipRole::Substitute => "Stellvertretendes Mitglied",
            MembershipRole::Advisory => "Beratendes Mitglied",
        }
    }
}

/// A person's membership in an organization (Mitgliedschaft).
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub id: MembershipId,
    pub meta: Meta,
    pub person_id: PersonId,
    pub organization_id: OrganizationId,
    pub role: MembershipRole,
    pub voting_right: bool,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

impl Membership {
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.role == MembershipRole::Advisory && self.voting_right {
            return Err(DomainError::RuleViolated(
                "an advisory member has no voting right".into(),
            ));
        }
        check_date_range("the membership", self.start_date, self.end_date)
    }

    /// Whether the membership holds on `day` (start and end inclusive).
    pub fn is_active_on(&self, day: NaiveDate) -> bool {
        !self.meta.is_deleted()
            && self.start_date.is_none_or(|start| start <= day)
            && self.end_date.is_none_or(|end| day <= end)
    }
}

/// A place where meetings happen.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub id: LocationId,
    pub meta: Meta,
    pub body_id: BodyId,
    /// e.g. `Rathaus, Ratssaal`.
    pub description: Name,
    pub street_address: Option<Name>,
    pub room: Option<Name>,
    pub postal_code: Option<Name>,
    pub locality: Option<Name>,
}

string_enum! {
    /// A meeting's state: planned → invited → running → closed, or cancelled.
    MeetingState, "meeting state" {
        Planned => "planned",
        Invited => "invited",
        Running => "running",
        Closed => "closed",
        Cancelled => "cancelled",
    }
}

impl MeetingState {
    /// Whether the state machine allows going from `self` to `next`.
    pub fn can_become(&self, next: MeetingState) -> bool {
        use MeetingState::*;
        matches!(
            (self, next),
            (Planned, Invited)
                | (Invited, Running)
                | (Running, Closed)
                | (Planned, Cancelled)
                | (Invited, Cancelled)
        )
    }

    pub fn transition(self, next: MeetingState) -> Result<MeetingState, DomainError> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(DomainError::InvalidTransition {
                what: "meeting",
                from: self.to_string(),
                to: next.to_string(),
            })
        }
    }
}

/// A session of an organization (Sitzung).
#[derive(Debug, Clone, PartialEq)]
pub struct Meeting {
    pub id: MeetingId,
    pub meta: Meta,
    pub organization_id: OrganizationId,
    pub name: Name,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub location_id: Option<LocationId>,
    pub state: MeetingState,
    /// When the invitation went out (state `invited`).
    pub invited_at: Option<DateTime<Utc>>,
}

impl Meeting {
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(end) = self.end
            && end <= self.start
        {
            return Err(DomainError::RuleViolated(
                "the meeting must end after it starts".into(),
            ));
        }
        Ok(())
    }
}

/// An item on a meeting's agenda (Tagesordnungspunkt).
#[derive(Debug, Clone, PartialEq)]
pub struct AgendaItem {
    pub id: AgendaItemId,
    pub meta: Meta,
    pub meeting_id: MeetingId,
    pub number: AgendaNumber,
    /// Position on the agenda, ascending.
    pub position: u32,
    /// Öffentlich. Non-public items are never shown to outsiders, not even their titles.
    pub public: bool,
    pub title: Title,
    pub paper_id: Option<PaperId>,
    /// The decision's text (Beschluss), once decided.
    pub decision: Option<Markdown>,
}

impl AgendaItem {
    pub fn validate(&self) -> Result<(), DomainError> {
        match self.number.stated_public() {
            Some(stated) if stated != self.public => Err(DomainError::RuleViolated(format!(
                "agenda number {} says {} but the item is {}",
                self.number,
                if stated { "public" } else { "non-public" },
                if self.public { "public" } else { "non-public" },
            ))),
            _ => Ok(()),
        }
    }
}

string_enum! {
    /// Kind of paper (Vorlagenart).
    PaperType, "paper type" {
        /// Beschlussvorlage.
        Resolution => "resolution",
        /// Mitteilungsvorlage.
        Information => "information",
        /// Antrag.
        Motion => "motion",
        /// Anfrage.
        Inquiry => "inquiry",
        /// Sonstige Vorlage.
        Other => "other",
    }
}

impl PaperType {
    /// German label as used by OParl's `paperType`.
    pub const fn german(&self) -> &'static str {
        match self {
            PaperType::Resolution => "Beschlussvorlage",
            PaperType::Information => "Mitteilungsvorlage",
            PaperType::Motion => "Antrag",
            PaperType::Inquiry => "Anfrage",
            PaperType::Other => "Vorlage",
        }
    }
}

/// A paper (Vorlage, Antrag, Anfrage).
#[derive(Debug, Clone, PartialEq)]
pub struct Paper {
    pub id: PaperId,
    pub meta: Meta,
    pub body_id: BodyId,
    /// Unique within the body.
    pub reference: PaperReference,
    pub paper_type: PaperType,
    pub title: Title,
    pub date: NaiveDate,
    pub originator_id: Option<OrganizationId>,
    pub text: Markdown,
    pub public: bool,
    /// The main document (Hauptdokument): one of the paper's own files; the others are its
    /// attachments (OParl `mainFile` and `auxiliaryFile`).
    pub main_file_id: Option<FileId>,
    /// The organization in charge (federführend), OParl `underDirectionOf`.
    pub under_direction_of_id: Option<OrganizationId>,
}

string_enum! {
    /// What an organization does with a paper in the Beratungsfolge.
    ConsultationRole, "consultation role" {
        /// Vorberatung: advises.
        Advise => "advise",
        /// Entscheidung: decides.
        Decide => "decide",
    }
}

impl ConsultationRole {
    pub const fn german(&self) -> &'static str {
        match self {
            ConsultationRole::Advise => "Vorberatung",
            ConsultationRole::Decide => "Entscheidung",
        }
    }
}

/// One step of a paper's Beratungsfolge: which organization handles it, in which meeting.
#[derive(Debug, Clone, PartialEq)]
pub struct Consultation {
    pub id: ConsultationId,
    pub meta: Meta,
    pub paper_id: PaperId,
    pub organization_id: OrganizationId,
    pub meeting_id: Option<MeetingId>,
    pub agenda_item_id: Option<AgendaItemId>,
    pub role: ConsultationRole,
    /// Order within the paper's Beratungsfolge, ascending.
    pub position: u32,
}

impl Consultation {
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.agenda_item_id.is_some() && self.meeting_id.is_none() {
            return Err(DomainError::RuleViolated(
                "a consultation on an agenda item must name its meeting".into(),
            ));
        }
        Ok(())
    }
}

/// An attachment (Anlage): metadata of a content-addressed blob.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub id: FileId,
    pub meta: Meta,
    pub body_id: BodyId,
    pub name: FileName,
    pub media_type: MediaType,
    pub size: u64,
    pub sha256: Sha256Digest,
    /// The SHA-512 of the content as 128 lower-case hex digits (OParl's `sha512Checksum`); none
    /// for files stored before Plenum recorded it, until the start-up backfill computed it.
    pub sha512: Option<String>,
    /// Where the blob store keeps the bytes, e.g. `sha256/e3/b0c4…`.
    pub storage_key: String,
    /// What the file is attached to (at most one); it inherits that object's visibility.
    pub paper_id: Option<PaperId>,
    pub meeting_id: Option<MeetingId>,
    pub agenda_item_id: Option<AgendaItemId>,
    /// The file's licence (a URL) when it differs from the body's data licence.
    pub license: Option<String>,
}

/// Whether `url` can name a licence: an absolute http(s) URL of at most 500 characters,
/// without spaces or control characters.
pub fn valid_license_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len()
        && url.chars().count() <= 500
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl File {
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(sha512) = &self.sha512
            && !(sha512.len() == 128
                && sha512
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
        {
            return Err(DomainError::invalid(
                "sha512",
                "must be 128 lower-case hex digits",
            ));
        }
        if let Some(license) = &self.license
            && !valid_license_url(license)
        {
            return Err(DomainError::invalid(
                "license",
                "must be an absolute http(s) URL of at most 500 characters",
            ));
        }
        let key = &self.storage_key;
        if key.is_empty()
            || key.len() > 255
            || key.starts_with('/')
            || key
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == "..")
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'))
        {
            return Err(DomainError::invalid(
                "storage key",
                "must be a relative path of safe characters",
            ));
        }
        let owners = [
            self.paper_id.is_some(),
            self.meeting_id.is_some(),
            self.agenda_item_id.is_some(),
        ];
        if owners.iter().filter(|owned| **owned).count() > 1 {
            return Err(DomainError::RuleViolated(
                "a file is attached to at most one paper, meeting or agenda item".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn enums_round_trip_through_their_text_form() {
        for kind in OrganizationKind::ALL {
            assert_eq!(OrganizationKind::parse(kind.as_str()).unwrap(), *kind);
        }
        for role in MembershipRole::ALL {
            assert_eq!(MembershipRole::parse(role.as_str()).unwrap(), *role);
        }
        for state in MeetingState::ALL {
            assert_eq!(MeetingState::parse(state.as_str()).unwrap(), *state);
        }
        assert!(PaperType::parse("Beschlussvorlage").is_err());
        assert_eq!(
            serde_json::to_string(&MembershipRole::DeputyChair).unwrap(),
            "\"deputy_chair\""
        );
    }

    #[test]
    fn meeting_state_machine_allows_only_the_designed_path() {
        use MeetingState::*;
        let allowed = [
            (Planned, Invited),
            (Invited, Running),
            (Running, Closed),
            (Planned, Cancelled),
            (Invited, Cancelled),
        ];
        for from in MeetingState::ALL {
            for to in MeetingState::ALL {
                assert_eq!(
                    from.can_become(*to),
                    allowed.contains(&(*from, *to)),
                    "{from} -> {to}"
                );
            }
        }
        assert!(Closed.transition(Running).is_err());
        assert_eq!(Planned.transition(Invited).unwrap(), Invited);
    }

    fn membership(role: MembershipRole, voting_right: bool) -> Membership {
        Membership {
            id: MembershipId::new(),
            meta: Meta::default(),
            person_id: PersonId::new(),
            organization_id: OrganizationId::new(),
            role,
            voting_right,
            start_date: Some(day(2021, 11, 1)),
            end_date: None,
        }
    }

    #[test]
    fn advisory_members_cannot_hold_a_vote() {
        assert!(
            membership(MembershipRole::Advisory, true)
                .validate()
                .is_err()
        );
        assert!(
            membership(MembershipRole::Advisory, false)
                .validate()
                .is_ok()
        );
        assert!(membership(MembershipRole::Chair, true).validate().is_ok());
    }

    #[test]
    fn membership_dates_are_inclusive_and_ordered() {
        let mut m = membership(MembershipRole::Member, true);
        m.end_date = Some(day(2026, 10, 31));
        assert!(m.is_active_on(day(2021, 11, 1)));
        assert!(m.is_active_on(day(2026, 10, 31)));
        assert!(!m.is_active_on(day(2026, 11, 1)));
        assert!(!m.is_active_on(day(2021, 10, 31)));
        m.end_date = Some(day(2020, 1, 1));
        assert!(m.validate().is_err());
    }

    #[test]
    fn agenda_number_must_agree_with_visibility() {
        let mut item = AgendaItem {
            id: AgendaItemId::new(),
            meta: Meta::default(),
            meeting_id: MeetingId::new(),
            number: AgendaNumber::parse("N 2").unwrap(),
            position: 2,
            public: true,
            title: Title::parse("Grundstücksangelegenheit").unwrap(),
            paper_id: None,
            decision: None,
        };
        assert!(item.validate().is_err());
        item.public = false;
        assert!(item.validate().is_ok());
        item.number = AgendaNumber::parse("TOP 2").unwrap();
        item.public = true;
        assert!(item.validate().is_ok());
    }

    #[test]
    fn meetings_end_after_they_start() {
        let start = Utc::now();
        let mut meeting = Meeting {
            id: MeetingId::new(),
            meta: Meta::default(),
            organization_id: OrganizationId::new(),
            name: Name::parse("Sitzung des Rates").unwrap(),
            start,
            end: Some(start),
            location_id: None,
            state: MeetingState::Planned,
            invited_at: None,
        };
        assert!(meeting.validate().is_err());
        meeting.end = Some(start + chrono::Duration::hours(3));
        assert!(meeting.validate().is_ok());
    }

    #[test]
    fn file_storage_keys_cannot_escape_the_blob_directory() {
        let mut file = File {
            id: FileId::new(),
            meta: Meta::default(),
            body_id: BodyId::new(),
            name: FileName::parse("Vorlage.pdf").unwrap(),
            media_type: MediaType::pdf(),
            size: 10,
            sha256: Sha256Digest::from_bytes([0; 32]),
            sha512: None,
            storage_key: "sha256/00/00".into(),
            paper_id: Some(PaperId::new()),
            meeting_id: None,
            agenda_item_id: None,
            license: None,
        };
        assert!(file.validate().is_ok());
        file.license = Some("https://www.govdata.de/dl-de/by-2-0".into());
        assert!(file.validate().is_ok());
        for bad in ["CC BY 4.0", "ftp://x", "https://", "https://a b"] {
            file.license = Some(bad.into());
            assert!(file.validate().is_err(), "{bad:?} accepted");
        }
        file.license = None;
        for bad in ["../etc/passwd", "/abs", "a//b", "a/./b", "a b", ""] {
            file.storage_key = bad.into();
            assert!(file.validate().is_err(), "{bad:?} accepted");
        }
        file.storage_key = "sha256/00/00".into();
        file.meeting_id = Some(MeetingId::new());
        assert!(file.validate().is_err());
    }

    #[test]
    fn password_hash_is_redacted_in_debug() {
        let hash = PasswordHash::parse("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").unwrap();
        assert!(!format!("{hash:?}").contains("argon2id"));
        assert!(PasswordHash::parse("plain").is_err());
    }
}
