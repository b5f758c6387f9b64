//! Domain type ⇄ row conversions. Reading a row back re-validates every value, so data edited by
//! hand into an invalid shape surfaces as `StoreError::Corrupt` instead of spreading.

use plenum_domain::*;
use uuid::Uuid;

use crate::entity;
use crate::record::Record;
use crate::{Result, StoreError};

fn opt<T>(
    value: Option<String>,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, DomainError> {
    value.as_deref().map(parse).transpose()
}

fn to_opt<T: AsRef<str>>(value: &Option<T>) -> Option<String> {
    value.as_ref().map(|v| v.as_ref().to_owned())
}

fn to_i32(field: &'static str, value: u32) -> Result<(), DomainError> {
    i32::try_from(value)
        .map(|_| ())
        .map_err(|_| DomainError::InvalidValue {
            field,
            reason: "is too large".into(),
        })
}

fn from_i32(field: &'static str, value: i32) -> Result<u32, DomainError> {
    u32::try_from(value).map_err(|_| DomainError::InvalidValue {
        field,
        reason: "is negative".into(),
    })
}

fn meta(
    created: chrono::DateTime<chrono::Utc>,
    modified: chrono::DateTime<chrono::Utc>,
    deleted: Option<chrono::DateTime<chrono::Utc>>,
) -> Meta {
    Meta {
        created,
        modified,
        deleted,
    }
}

macro_rules! record {
    ($ty:ty, $m:ident, $name:literal,
     validate: |$r:ident| $validate:expr,
     to: |$t:ident| $to:expr,
     from: |$f:ident| $from:expr
     $(, public: |$p:ident| $public:expr)? $(,)?) => {
        impl Record for $ty {
            type Entity = entity::$m::Entity;
            type Model = entity::$m::Model;
            type ActiveModel = entity::$m::ActiveModel;
            const NAME: &'static str = $name;

            fn id(&self) -> Uuid {
                self.id.as_uuid()
            }
            fn meta(&self) -> &Meta {
                &self.meta
            }
            fn meta_mut(&mut self) -> &mut Meta {
                &mut self.meta
            }
            fn validate(&self) -> Result<(), DomainError> {
                let $r = self;
                $validate
            }
            fn to_model(&self) -> Self::Model {
                let $t = self;
                $to
            }
            fn from_model($f: Self::Model) -> Result<Self> {
                let id = $f.id;
                let parsed: Result<Self, DomainError> = (|| $from)();
                parsed.map_err(|err| StoreError::Corrupt(format!("{} {id}: {err}", $name)))
            }
            fn deleted_column() -> entity::$m::Column {
                entity::$m::Column::Deleted
            }
            $(
                fn public(&self) -> Option<bool> {
                    let $p = self;
                    Some($public)
                }
            )?
        }
    };
}

record!(Body, body, "body",
    validate: |r| r.validate(),
    to: |t| entity::body::Model {
        id: t.id.as_uuid(),
        created: t.meta.created,
        modified: t.meta.modified,
        deleted: t.meta.deleted,
        name: t.name.to_string(),
        short_name: to_opt(&t.short_name),
        website: t.website.clone(),
        contact_email: t.contact_email.as_ref().map(|e| e.as_str().to_owned()),
        ags: t.ags.clone(),
        rgs: t.rgs.clone(),
        classification: to_opt(&t.classification),
    },
    from: |m| Ok(Body {
        id: m.id.into(),
        meta: meta(m.created, m.modified, m.deleted),
        name: Name::parse(&m.name)?,
        short_name: opt(m.short_name, Name::parse)?,
        website: m.website,
        contact_email: opt(m.contact_email, Email::parse)?,
        ags: m.ags,
        rgs: m.rgs,
        classification: opt(m.classification, Name::parse)?,
    }),
);

record!(LegislativeTerm, legislative_term, "legislative term",
    validate: |r| r.validate(),
    to: |t| entity::legislative_term::Model {
        id: t.id.as_uuid(),
        created: t.meta.created,
        modified: t.meta.modified,
        deleted: t.meta.deleted,
        body_id: t.body_id.as_uuid(),
        name: t.name.to_string(),
        start_date: t.start_date,
        end_date: t.end_date,
    },
    from: |m| Ok(LegislativeTerm {
        id: m.id.into(),
        meta: meta(m.created, m.modified, m.deleted),
        body_id: m.body_id.into(),
        name: Name::parse(&m.name)?,
        start_date: m.start_date,
        end_date: m.end_date,
    }),
);

record!(Organization, organization, "organization",
    validate: |r| r.validate(),
    to: |t| entity::organization::Model {
        id: t.id.as_uuid(),
        created: t.meta.created,
        modified: t.meta.modified,
        deleted: t.meta.deleted,
        body_id: t.body_id.as_uuid(),
        name: t.name.to_string(),
        short_name: to_opt(&t.short_name),
        kind: t.kind.as_str().to_owned(),
        // validate() bounds the seats to 1..=10000.
        statutory_seats: t.statutory_seats.and_then(|s| i32::try_from(s).ok()),
        parent_id: t.parent_id.map(|p| p.as_uuid()),
        start_date: t.start_date,
        end_date: t.end_date,
    },
    from: |m| Ok(Organization {
        id: m.id.into(),
        meta: meta(m.created, m.modified, m.deleted),
        body_id: m.body_id.into(),
        name: Name::parse(&m.name)?,
        short_name: opt(m.short_name, Name::parse)?,
        kind: OrganizationKind::parse(&m.kind)?,
        statutory_seats: m.statutory_seats.map(|s| from_i32("statutory seats", s)).transpose()?,
        parent_id: m.parent_id.map(Into::into),
        start_date: m.start_date,
        end_date: m.end_date,
    }),
);

record!(Person, person, "person",
    validate: |_r| Ok(()),
    to: |t| entity::person::Model {
        id: t.id.as_uuid(),
        created: t.meta.created,
        modified: t.meta.modified,
        deleted: t.meta.deleted,
        body_id: t.body_id.as_uuid(),
        family_name: t.family_name.to_string(),
        given_name: t.given_name.to_string(),
        title: to_opt(&t.title),
        form_of_address: to_opt(&t.form_of_address),
        email: t.email.as_ref().map(|e| e.as_str().to_owned()),
        published: t.published,
        status: serde_json::to_string(&t.status).unwrap_or_else(|_| "[]".to_owned()),
        affix: to_opt(&t.affix),
        gender: t.gender.map(|g| g.as_str().to_owned()),
    },
    from: |m| Ok(Person {
        id: m.id.into(),
        meta: meta(m.created, m.modified, m.deleted),
        body_id: m.body_id.into(),
        family_name: Name::parse(&m.family_name)?,
        given_name: Name::parse(&m.given_name)?,
        title: opt(m.title, Name::parse)?,
        form_of_address: opt(m.form_of_address, Name::parse)?,
        email: opt(m.email, Email::parse)?,
        published: m.published,
        status: serde_json::from_str::<Vec<Name>>(&m.status)
            .map_err(|_| DomainError::InvalidValue {
                field: "status",
                reason: "stored value is not a list of names".to_owned(),
            })?,
        affix: opt(m.affix, Name::parse)?,
        gender: opt(m.gender, Gender::parse)?,
    }),
    public: |t| t.published,
);

record!(User, user_account, "user",
    validate: |_r| Ok(()),
    to: |t| entity::user_account::Model {
        id: t.id.as_uuid(),
        created: t.meta.created,
        modified: t.meta.modified,
        deleted: t.meta.deleted,
        username: t.username.to_string(),
        display_name: t.display_name.to_string(),
        person_id: t.person_id.map(|p| p.as_uuid()),
        site_role: t.site_role.as_str().to_owned(),
        password_hash: t.password_hash.as_ref().map(|h| h.as_str().to_owned()),
    },
    from: |m| Ok(User {
        id: m.id.into(),
        meta: meta(m.created, m.modified, m.deleted),
        username: Username::parse(&m.username)?,
        display_name: Name::parse(&m.display_name)?,
        person_id: m.person_id.map(Into::into),
        site_role: SiteRole::parse(&m.site_role)?,
        password_hash: opt(m.password_hash, PasswordHash::parse)?,
    }),
);

record!(Membership, membership, "membership",
    validate: |r| r.validate(),
    to: |t| entity::membership::Model {
        id: t.id.as_uuid(),
        created: t.meta.created,
        modified: t.meta.modified,
        deleted: t.meta.deleted,
        person_id: t.person_id.as_uuid(),
        organization_id: t.organization_id.as_uuid(),
        role: t.role.as_str().to_owned(),
        voting_right: t.voting_right,
        start_date: t.start_date,
        end_date: t.end_date,
    },
    from: |m| Ok(Membership {
        id: m.id.into(),
        meta: meta(m.created, m.modified, m.deleted),
        person_id: m.person_id.into(),
        organization_id: m.organization_id.into(),
        role: MembershipRole::parse(&m.role)?,
        voting_right: m.voting_right,
        start_date: m.start_date,
        end_date: m.end_date,
    }),
);

record!(Location, location, "location",
    validate: |_r| Ok(()),
    to: |t| entity::location::Model {
        id: t.id.as_uuid(),
        created: t.meta.created,
        modified: t.meta.modified,
        deleted: t.meta.deleted,
        body_id: t.body_id.as_uuid(),
        description: t.description.to_string(),
        street_address: to_opt(&t.street_address),
        room: to_opt(&t.room),
        postal_code: to_opt(&t.postal_code),
        locality: to_opt(&t.locality),
    },
    from: |m| Ok(Location {
        id: m.id.into(),
        meta: meta(m.created, m.modified, m.deleted),
        body_id: m.body_id.into(),
        description: Name::parse(&m.description)?,
        street_address: opt(m.street_address, Name::parse)?,
        room: opt(m.room, Name::parse)?,
        postal_code: opt(m.postal_code, Name::parse)?,
        locality: opt(m.locality, Name::parse)?,
    }),
);

record!(Meeting, meeting, "meeting",
    validate: |r| r.validate(),
    to: |t| entity::meeting::Model {
        id: t.id.as_uuid(),
        created: t.meta.created,
        modified: t.meta.modified,
        deleted: t.meta.deleted,
        organization_id: t.organization_id.as_uuid(),
        name: t.name.to_string(),
        start: t.start,
        end: t.end,
        location_id: t.location_id.map(|l| l.as_uuid()),
        state: t.state.as_str().to_owned(),
        invited_at: t.invited_at,
    },
    from: |m| Ok(Meeting {
        id: m.id.into(),
        meta: meta(m.created, m.modified, m.deleted),
        organization_id: m.organization_id.into(),
        name: Name::parse(&m.name)?,
        start: m.start,
        end: m.end,
        location_id: m.location_id.map(Into::into),
        state: MeetingState::parse(&m.state)?,
        invited_at: m.invited_at,
    }),
);

record!(Paper, paper, "paper",
    validate: |_r| Ok(()),
    to: |t| entity::paper::Model {
        id: t.id.as_uuid(),
        created: t.meta.created,
        modified: t.meta.modified,
        deleted: t.meta.deleted,
        body_id: t.body_id.as_uuid(),
        reference: t.reference.to_string(),
        paper_type: t.paper_type.as_str().to_owned(),
        title: t.title.to_string(),
        date: t.date,
        originator_id: t.originator_id.map(|o| o.as_uuid()),
        text: t.text.as_str().to_owned(),
        public: t.public,
        main_file_id: t.main_file_id.map(|f| f.as_uuid()),
        under_direction_of_id: t.under_direction_of_id.map(|o| o.as_uuid()),
    },
    from: |m| Ok(Paper {
        id: m.id.into(),
        meta: meta(m.created, m.modified, m.deleted),
        body_id: m.body_id.into(),
        reference: PaperReference::parse(&m.reference)?,
        paper_type: PaperType::parse(&m.paper_type)?,
        title: Title::parse(&m.title)?,
        date: m.date,
        originator_id: m.originator_id.map(Into::into),
        text: Markdown::parse(&m.text)?,
        public: m.public,
        main_file_id: m.main_file_id.map(Into::into),
        under_direction_of_id: m.under_direction_of_id.map(Into::into),
    }),
    public: |p| p.public,
);

record!(AgendaItem, agenda_item, "agenda item",
    validate: |r| {
        to_i32("position", r.position)?;
        r.validate()
    },
    to: |t| entity::agenda_item::Model {
        id: t.id.as_uuid(),
        created: t.meta.created,
        modified: t.meta.modified,
        deleted: t.meta.deleted,
        meeting_id: t.meeting_id.as_uuid(),
        number: t.number.to_string(),
        position: i32::try_from(t.position).unwrap_or(i32::MAX),
        public: t.public,
        title: t.title.to_string(),
        paper_id: t.paper_id.map(|p| p.as_uuid()),
        decision: t.decision.as_ref().map(|d| d.as_str().to_owned()),
    },
    from: |m| Ok(AgendaItem {
        id: m.id.into(),
        meta: meta(m.created, m.modified, m.deleted),
        meeting_id: m.meeting_id.into(),
        number: AgendaNumber::parse(&m.number)?,
        position: from_i32("position", m.position)?,
        public: m.public,
        title: Title::parse(&m.title)?,
        paper_id: m.paper_id.map(Into::into),
        decision: opt(m.decision, Markdown::parse)?,
    }),
    public: |p| p.public,
);

record!(Consultation, consultation, "consultation",
    validate: |r| {
        to_i32("position", r.position)?;
        r.validate()
    },
    to: |t| entity::consultation::Model {
        id: t.id.as_uuid(),
        created: t.meta.created,
        modified: t.meta.modified,
        deleted: t.meta.deleted,
        paper_id: t.paper_id.as_uuid(),
        organization_id: t.organization_id.as_uuid(),
        meeting_id: t.meeting_id.map(|x| x.as_uuid()),
        agenda_item_id: t.agenda_item_id.map(|x| x.as_uuid()),
        role: t.role.as_str().to_owned(),
        position: i32::try_from(t.position).unwrap_or(i32::MAX),
    },
    from: |m| Ok(Consultation {
        id: m.id.into(),
        meta: meta(m.created, m.modified, m.deleted),
        paper_id: m.paper_id.into(),
        organization_id: m.organization_id.into(),
        meeting_id: m.meeting_id.map(Into::into),
        agenda_item_id: m.agenda_item_id.map(Into::into),
        role: ConsultationRole::parse(&m.role)?,
        position: from_i32("position", m.position)?,
    }),
);

record!(File, file, "file",
    validate: |r| {
        i64::try_from(r.size).map_err(|_| DomainError::InvalidValue {
            field: "size",
            reason: "is too large".into(),
        })?;
        r.validate()
    },
    to: |t| entity::file::Model {
        id: t.id.as_uuid(),
        created: t.meta.created,
        modified: t.meta.modified,
        deleted: t.meta.deleted,
        body_id: t.body_id.as_uuid(),
        name: t.name.to_string(),
        media_type: t.media_type.as_str().to_owned(),
        size: i64::try_from(t.size).unwrap_or(i64::MAX),
        sha256: t.sha256.to_hex(),
        sha512: t.sha512.clone(),
        storage_key: t.storage_key.clone(),
        paper_id: t.paper_id.map(|x| x.as_uuid()),
        meeting_id: t.meeting_id.map(|x| x.as_uuid()),
        agenda_item_id: t.agenda_item_id.map(|x| x.as_uuid()),
        license: t.license.clone(),
    },
    from: |m| Ok(File {
        id: m.id.into(),
        meta: meta(m.created, m.modified, m.deleted),
        body_id: m.body_id.into(),
        name: FileName::parse(&m.name)?,
        media_type: MediaType::parse(&m.media_type)?,
        size: u64::try_from(m.size).map_err(|_| DomainError::InvalidValue {
            field: "size",
            reason: "is negative".into(),
        })?,
        sha256: Sha256Digest::parse(&m.sha256)?,
        sha512: m.sha512,
        storage_key: m.storage_key,
        paper_id: m.paper_id.map(Into::into),
        meeting_id: m.meeting_id.map(Into::into),
        agenda_item_id: m.agenda_item_id.map(Into::into),
        license: m.license,
    }),
);
