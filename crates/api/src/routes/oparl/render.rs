//! OParl 1.1 JSON for Plenum's objects. Everything rendered here comes from
//! `plenum_store::query`, which returns public data only.
//!
//! Rules kept here (OParl 1.1 and its JSON schemas): optional properties are left out rather than
//! sent as `null`, `[]` or `""`; back-references appear when an object is served on its own and
//! are left out when it is embedded; deleted objects are tombstones (`deleted: true`, plus the
//! few properties the schemas require); embedded lists never contain deleted objects.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use plenum_domain::*;
use plenum_store::{ConnectionTrait, query};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::params::OparlError;

type Result<T> = std::result::Result<T, OparlError>;

/// An OParl object type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    System,
    Body,
    LegislativeTerm,
    Organization,
    Person,
    Membership,
    Location,
    Meeting,
    AgendaItem,
    Paper,
    Consultation,
    File,
}

impl Kind {
    /// Every kind that has objects under `/oparl/v1/{path}/{id}`.
    pub const OBJECTS: [Kind; 11] = [
        Kind::Body,
        Kind::LegislativeTerm,
        Kind::Organization,
        Kind::Person,
        Kind::Membership,
        Kind::Location,
        Kind::Meeting,
        Kind::AgendaItem,
        Kind::Paper,
        Kind::Consultation,
        Kind::File,
    ];

    /// The type name, also used as path segment with a lower-case first letter.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::System => "System",
            Kind::Body => "Body",
            Kind::LegislativeTerm => "LegislativeTerm",
            Kind::Organization => "Organization",
            Kind::Person => "Person",
            Kind::Membership => "Membership",
            Kind::Location => "Location",
            Kind::Meeting => "Meeting",
            Kind::AgendaItem => "AgendaItem",
            Kind::Paper => "Paper",
            Kind::Consultation => "Consultation",
            Kind::File => "File",
        }
    }

    /// The path segment of this kind's objects: `agendaItem` in `/oparl/v1/agendaItem/{id}`.
    pub const fn path(self) -> &'static str {
        match self {
            Kind::System => "system",
            Kind::Body => "body",
            Kind::LegislativeTerm => "legislativeTerm",
            Kind::Organization => "organization",
            Kind::Person => "person",
            Kind::Membership => "membership",
            Kind::Location => "location",
            Kind::Meeting => "meeting",
            Kind::AgendaItem => "agendaItem",
            Kind::Paper => "paper",
            Kind::Consultation => "consultation",
            Kind::File => "file",
        }
    }

    pub fn from_path(path: &str) -> Option<Kind> {
        Kind::OBJECTS.into_iter().find(|k| k.path() == path)
    }

    pub fn type_url(self) -> String {
        format!("https://schema.oparl.org/1.1/{}", self.name())
    }
}

/// What every rendering needs to know about the request.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// `http://host/oparl/v1`
    pub base: String,
    /// OParl's `omit_internal=true`: leave out embedded lists.
    pub omit_internal: bool,
    /// The data licence (`license`, `license_valid_since` settings).
    pub license: crate::DataLicense,
    /// Who runs the system (`system_*` settings).
    pub system: crate::SystemInfo,
}

impl Ctx {
    pub fn url(&self, kind: Kind, id: impl std::fmt::Display) -> String {
        format!("{}/{}/{id}", self.base, kind.path())
    }

    pub fn system_url(&self) -> String {
        self.base.clone()
    }

    /// A page of the web app's public portal (`https://host/#/portal/papers/{id}`): OParl's
    /// `web`. The portal's hash routes are stable (`web/app.js`).
    pub fn web(&self, route: &str) -> String {
        let origin = self.base.strip_suffix("/oparl/v1").unwrap_or(&self.base);
        format!("{origin}/#/portal{route}")
    }

    /// A URL of the public API on the same origin (`https://host/api/v1/public/…`).
    pub fn api(&self, path: &str) -> String {
        let origin = self.base.strip_suffix("/oparl/v1").unwrap_or(&self.base);
        format!("{origin}{path}")
    }

    /// The content URL of a document served as a File without a row in `file` (the published
    /// minutes, a decision extract): `…/file/{id}/access` or `…/download`.
    pub fn document_url(&self, id: Uuid, how: &str) -> String {
        format!("{}/{how}", self.url(Kind::File, id))
    }

    /// A list URL below an object: `…/body/{id}/paper`.
    pub fn list_url(&self, kind: Kind, id: impl std::fmt::Display, list: &str) -> String {
        format!("{}/{list}", self.url(kind, id))
    }

    /// A URL of a file's content: `…/file/{id}/access` or `…/file/{id}/download`.
    pub fn file_url(&self, id: FileId, how: &str) -> String {
        format!("{}/{how}", self.url(Kind::File, id))
    }
}

/// `yyyy-mm-ddThh:mm:ss+00:00`, as OParl wants it.
pub fn date_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Is the object embedded in another, or served on its own (with back-references)?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Standalone,
    Embedded,
}

/// A JSON object under construction; `None` and empty lists are left out.
struct Obj(Map<String, Value>);

impl Obj {
    fn new(ctx: &Ctx, kind: Kind, id: Uuid, meta: &Meta) -> Obj {
        let mut map = Map::new();
        map.insert("id".into(), Value::from(ctx.url(kind, id)));
        map.insert("type".into(), Value::from(kind.type_url()));
        let obj = Obj(map)
            .set("created", date_time(meta.created))
            .set("modified", date_time(meta.modified));
        if meta.is_deleted() {
            obj.set("deleted", true)
        } else {
            obj
        }
    }

    fn set(mut self, key: &str, value: impl Into<Value>) -> Obj {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    fn opt(self, key: &str, value: Option<impl Into<Value>>) -> Obj {
        match value {
            Some(value) => self.set(key, value),
            None => self,
        }
    }

    fn list(self, key: &str, values: Vec<Value>) -> Obj {
        if values.is_empty() {
            self
        } else {
            self.set(key, Value::Array(values))
        }
    }

    fn done(self) -> Value {
        Value::Object(self.0)
    }
}

fn text(value: &impl AsRef<str>) -> Value {
    Value::from(value.as_ref())
}

/// Groups items by a key, keeping their order.
fn group<K: std::hash::Hash + Eq, T>(items: Vec<T>, key: impl Fn(&T) -> K) -> HashMap<K, Vec<T>> {
    let mut groups: HashMap<K, Vec<T>> = HashMap::new();
    for item in items {
        groups.entry(key(&item)).or_default().push(item);
    }
    groups
}

fn live_ids<T, I: Copy>(items: &[T], meta: impl Fn(&T) -> &Meta, id: impl Fn(&T) -> I) -> Vec<I> {
    items
        .iter()
        .filter(|item| !meta(item).is_deleted())
        .map(id)
        .collect()
}

// --- System and Body ---------------------------------------------------------------------------

/// The System object. `created`/`modified` follow the hosted bodies.
pub fn system(ctx: &Ctx, bodies: &[Body]) -> Value {
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    let created = bodies.iter().map(|b| b.meta.created).min().unwrap_or(epoch);
    let modified = bodies
        .iter()
        .map(|b| b.meta.modified)
        .max()
        .unwrap_or(epoch);
    let mut map = Map::new();
    map.insert("id".into(), Value::from(ctx.system_url()));
    map.insert("type".into(), Value::from(Kind::System.type_url()));
    Obj(map)
        .set("oparlVersion", "https://schema.oparl.org/1.1/")
        .set("body", format!("{}/body", ctx.base))
        .set("license", ctx.license.url.as_str())
        .set("name", "Plenum – Ratsinformationssystem")
        .opt("contactEmail", ctx.system.contact_email.clone())
        .opt("contactName", ctx.system.contact_name.clone())
        .opt("vendor", ctx.system.vendor.clone())
        .opt("product", ctx.system.product.clone())
        .set("web", ctx.web(""))
        .set("created", date_time(created))
        .set("modified", date_time(modified.max(created)))
        .done()
}

pub async fn bodies(ctx: &Ctx, db: &impl ConnectionTrait, items: &[Body]) -> Result<Vec<Value>> {
    let live = live_ids(items, |b| &b.meta, |b| b.id);
    let terms = group(query::terms_of_bodies(db, &live).await?, |t| t.body_id);
    Ok(items
        .iter()
        .map(|body| {
            let id = body.id;
            let mut obj = Obj::new(ctx, Kind::Body, id.as_uuid(), &body.meta)
                .set("system", ctx.system_url())
                .set("name", text(&body.name));
            if !body.meta.is_deleted() {
                obj = obj
                    .opt("shortName", body.short_name.as_ref().map(text))
                    .opt("website", body.website.clone())
                    .opt(
                        "contactEmail",
                        body.contact_email.as_ref().map(|e| e.as_str().to_owned()),
                    )
                    .opt("ags", body.ags.clone())
                    .opt("rgs", body.rgs.clone())
                    .opt("classification", body.classification.as_ref().map(text))
                    .set("license", ctx.license.url.as_str())
                    .opt("licenseValidSince", ctx.license.valid_since.map(date_time))
                    .set("web", ctx.web(""));
            }
            for (field, list) in BODY_LISTS {
                obj = obj.set(field, ctx.list_url(Kind::Body, id, list));
            }
            // Mandatory, so present even with omit_internal (and `[]` on a tombstone).
            let terms: Vec<Value> = terms
                .get(&id)
                .map(|terms| terms.iter().map(|t| term(ctx, t, Mode::Embedded)).collect())
                .unwrap_or_default();
            obj.set("legislativeTerm", Value::Array(terms)).done()
        })
        .collect())
}

/// A body's lists: (OParl field, path segment below `/body/{id}/`).
pub const BODY_LISTS: [(&str, &str); 10] = [
    ("organization", "organization"),
    ("person", "person"),
    ("meeting", "meeting"),
    ("paper", "paper"),
    ("agendaItem", "agendaItem"),
    ("consultation", "consultation"),
    ("file", "file"),
    ("locationList", "location"),
    ("legislativeTermList", "legislativeTerm"),
    ("membership", "membership"),
];

fn term(ctx: &Ctx, t: &LegislativeTerm, mode: Mode) -> Value {
    let obj = Obj::new(ctx, Kind::LegislativeTerm, t.id.as_uuid(), &t.meta);
    if t.meta.is_deleted() {
        return obj.done();
    }
    let obj = if mode == Mode::Standalone {
        obj.set("body", ctx.url(Kind::Body, t.body_id))
    } else {
        obj
    };
    obj.set("name", text(&t.name))
        .set("startDate", date(t.start_date))
        .set("endDate", date(t.end_date))
        .done()
}

pub fn legislative_terms(ctx: &Ctx, items: &[LegislativeTerm]) -> Vec<Value> {
    items
        .iter()
        .map(|t| term(ctx, t, Mode::Standalone))
        .collect()
}

// --- Organizations, persons, memberships -------------------------------------------------------

fn classification(kind: OrganizationKind) -> Option<&'static str> {
    match kind {
        // OParl recommends "Parlament" for the council itself.
        OrganizationKind::Council => Some("Parlament"),
        OrganizationKind::Committee => Some("Ausschuss"),
        OrganizationKind::Fraction => Some("Fraktion"),
        OrganizationKind::Group => Some("Gruppe"),
        OrganizationKind::Administration => Some("Verwaltung"),
        OrganizationKind::Other => None,
    }
}

pub async fn organizations(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    items: &[Organization],
) -> Result<Vec<Value>> {
    let live = live_ids(items, |o| &o.meta, |o| o.id);
    let memberships = group(query::memberships_of_organizations(db, &live).await?, |m| {
        m.organization_id
    });
    Ok(items
        .iter()
        .map(|org| {
            let obj = Obj::new(ctx, Kind::Organization, org.id.as_uuid(), &org.meta);
            if org.meta.is_deleted() {
                return obj.done();
            }
            let members: Vec<Value> = memberships
                .get(&org.id)
                .map(|ms| {
                    ms.iter()
                        .map(|m| Value::from(ctx.url(Kind::Membership, m.id)))
                        .collect()
                })
                .unwrap_or_default();
            obj.set("body", ctx.url(Kind::Body, org.body_id))
                .set("name", text(&org.name))
                .opt("shortName", org.short_name.as_ref().map(text))
                .list("membership", members)
                .set(
                    "meeting",
                    ctx.list_url(Kind::Organization, org.id, "meeting"),
                )
                .set("organizationType", org.kind.oparl_type())
                .opt("classification", classification(org.kind))
                .opt(
                    "subOrganizationOf",
                    org.parent_id.map(|p| ctx.url(Kind::Organization, p)),
                )
                .opt("startDate", org.start_date.map(date))
                .opt("endDate", org.end_date.map(date))
                .done()
        })
        .collect())
}

/// The persons' fraction memberships, by person (for `onBehalfOf`).
type Fractions = HashMap<PersonId, Vec<Membership>>;

async fn fractions_of(db: &impl ConnectionTrait, items: &[Membership]) -> Result<Fractions> {
    let mut persons: Vec<PersonId> = items
        .iter()
        .filter(|m| !m.meta.is_deleted())
        .map(|m| m.person_id)
        .collect();
    persons.sort();
    persons.dedup();
    Ok(group(
        query::fraction_memberships_of_persons(db, &persons).await?,
        |m| m.person_id,
    ))
}

/// The fraction a member sits for in another organization: the one fraction of theirs whose
/// membership overlaps this one in time (none if there is none or more than one, and none for
/// a fraction membership itself).
fn on_behalf_of(m: &Membership, fractions: &Fractions) -> Option<OrganizationId> {
    let own = fractions.get(&m.person_id)?;
    if own.iter().any(|f| f.organization_id == m.organization_id) {
        return None;
    }
    let overlaps = |f: &&Membership| {
        let starts_before_end = match (f.start_date, m.end_date) {
            (Some(start), Some(end)) => start <= end,
            _ => true,
        };
        let ends_after_start = match (f.end_date, m.start_date) {
            (Some(end), Some(start)) => end >= start,
            _ => true,
        };
        starts_before_end && ends_after_start
    };
    let mut candidates: Vec<OrganizationId> = own
        .iter()
        .filter(overlaps)
        .map(|f| f.organization_id)
        .collect();
    candidates.sort();
    candidates.dedup();
    match candidates.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

fn membership(ctx: &Ctx, m: &Membership, mode: Mode, fractions: &Fractions) -> Value {
    let obj = Obj::new(ctx, Kind::Membership, m.id.as_uuid(), &m.meta);
    if m.meta.is_deleted() {
        return obj.done();
    }
    let obj = if mode == Mode::Standalone {
        obj.set("person", ctx.url(Kind::Person, m.person_id))
    } else {
        obj
    };
    obj.set(
        "organization",
        ctx.url(Kind::Organization, m.organization_id),
    )
    .set("role", m.role.german())
    .set("votingRight", m.voting_right)
    .opt(
        "onBehalfOf",
        on_behalf_of(m, fractions).map(|o| ctx.url(Kind::Organization, o)),
    )
    .opt("startDate", m.start_date.map(date))
    .opt("endDate", m.end_date.map(date))
    .done()
}

pub async fn memberships(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    items: &[Membership],
) -> Result<Vec<Value>> {
    let fractions = fractions_of(db, items).await?;
    Ok(items
        .iter()
        .map(|m| membership(ctx, m, Mode::Standalone, &fractions))
        .collect())
}

/// Persons: name, form of address, affix, title, gender (where recorded) and status only (no
/// e-mail: personal data needs consent).
pub async fn persons(ctx: &Ctx, db: &impl ConnectionTrait, items: &[Person]) -> Result<Vec<Value>> {
    let mut memberships = HashMap::new();
    let mut fractions = HashMap::new();
    if !ctx.omit_internal {
        let live = live_ids(items, |p| &p.meta, |p| p.id);
        let all = query::memberships_of_persons(db, &live).await?;
        fractions = fractions_of(db, &all).await?;
        memberships = group(all, |m| m.person_id);
    }
    Ok(items
        .iter()
        .map(|person| {
            let obj = Obj::new(ctx, Kind::Person, person.id.as_uuid(), &person.meta);
            if person.meta.is_deleted() {
                return obj.done();
            }
            let embedded: Vec<Value> = memberships
                .get(&person.id)
                .map(|ms| {
                    ms.iter()
                        .map(|m| membership(ctx, m, Mode::Embedded, &fractions))
                        .collect()
                })
                .unwrap_or_default();
            obj.set("body", ctx.url(Kind::Body, person.body_id))
                .set("name", person.full_name())
                .set("familyName", text(&person.family_name))
                .set("givenName", text(&person.given_name))
                .opt("formOfAddress", person.form_of_address.as_ref().map(text))
                .opt("affix", person.affix.as_ref().map(text))
                .list(
                    "title",
                    person.title.iter().map(text).collect::<Vec<Value>>(),
                )
                .opt("gender", person.gender.map(|g| g.as_str()))
                .list("status", person.status.iter().map(text).collect())
                .list("membership", embedded)
                .done()
        })
        .collect())
}

// --- Locations ---------------------------------------------------------------------------------

fn location(ctx: &Ctx, l: &Location, meetings: Option<&Vec<MeetingId>>) -> Value {
    let obj = Obj::new(ctx, Kind::Location, l.id.as_uuid(), &l.meta);
    if l.meta.is_deleted() {
        return obj.done();
    }
    let meetings: Vec<Value> = meetings
        .map(|ms| {
            ms.iter()
                .map(|m| Value::from(ctx.url(Kind::Meeting, m)))
                .collect()
        })
        .unwrap_or_default();
    obj.set("description", text(&l.description))
        .opt("streetAddress", l.street_address.as_ref().map(text))
        .opt("room", l.room.as_ref().map(text))
        .opt("postalCode", l.postal_code.as_ref().map(text))
        .opt("locality", l.locality.as_ref().map(text))
        .list("meetings", meetings)
        .done()
}

pub async fn locations(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    items: &[Location],
) -> Result<Vec<Value>> {
    let live = live_ids(items, |l| &l.meta, |l| l.id);
    let mut meetings: HashMap<LocationId, Vec<MeetingId>> = HashMap::new();
    for (location, meeting) in query::meetings_at_locations(db, &live).await? {
        meetings.entry(location).or_default().push(meeting);
    }
    Ok(items
        .iter()
        .map(|l| location(ctx, l, meetings.get(&l.id)))
        .collect())
}

// --- Files -------------------------------------------------------------------------------------

/// `Haushaltsplan 2027.pdf` → `Haushaltsplan 2027` (OParl's `name` has no extension).
fn without_extension(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.trim().is_empty()
                && (1..=5).contains(&ext.len())
                && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            stem.trim_end()
        }
        _ => name,
    }
}

fn file(ctx: &Ctx, f: &File, mode: Mode) -> Value {
    let obj = Obj::new(ctx, Kind::File, f.id.as_uuid(), &f.meta)
        .set("accessUrl", ctx.file_url(f.id, "access"));
    if f.meta.is_deleted() {
        return obj.done();
    }
    let mut obj = obj
        .set("name", without_extension(f.name.as_str()))
        .set("fileName", text(&f.name))
        .set("mimeType", f.media_type.as_str())
        .set("size", f.size)
        .set("downloadUrl", ctx.file_url(f.id, "download"))
        // The day the file was added (Plenum records no other date for a file).
        .set("date", date(f.meta.created.date_naive()))
        .opt("sha512Checksum", f.sha512.clone())
        .set("plenum:sha256Checksum", f.sha256.to_hex())
        .opt("license", f.license.clone());
    if mode == Mode::Standalone {
        let one = |url: Option<String>| url.map(|u| Value::Array(vec![Value::from(u)]));
        obj = obj
            .opt("paper", one(f.paper_id.map(|p| ctx.url(Kind::Paper, p))))
            .opt(
                "meeting",
                one(f.meeting_id.map(|m| ctx.url(Kind::Meeting, m))),
            )
            .opt(
                "agendaItem",
                one(f.agenda_item_id.map(|i| ctx.url(Kind::AgendaItem, i))),
            );
    }
    obj.done()
}

/// When a meeting's invitation was first issued and its latest issue (invitation or supplement):
/// what `Meeting.invitation` is made of.
#[derive(Debug, Clone)]
pub struct InvitationIssues {
    pub first: DateTime<Utc>,
    pub latest: DateTime<Utc>,
    /// 1: the invitation; 2…: its latest supplement.
    pub number: u32,
}

impl InvitationIssues {
    /// From the meeting's invitation and supplements (by number); `None` before the invitation.
    pub fn of(issued: &[plenum_store::notify::StoredInvitation]) -> Option<Self> {
        let (first, last) = (issued.first()?, issued.last()?);
        Some(Self {
            first: first.document.issued_at,
            latest: last.document.issued_at,
            number: last.document.number,
        })
    }
}

/// `Meeting.invitation`: the public notice (öffentliche Bekanntmachung) of the latest invitation
/// or supplement as a File, at its own URL `…/meeting/{id}/invitation`. Its content is the
/// portal's `/api/v1/public/meetings/{id}/invitation.pdf`, rendered on request (so no size or
/// checksum); `created` is the invitation's issue, `modified` the latest supplement's.
pub fn invitation_file(ctx: &Ctx, meeting: &Meeting, issues: &InvitationIssues) -> Value {
    invitation(ctx, meeting, issues, Mode::Standalone)
}

fn invitation(ctx: &Ctx, m: &Meeting, issues: &InvitationIssues, mode: Mode) -> Value {
    let url = ctx.api(&format!("/api/v1/public/meetings/{}/invitation.pdf", m.id));
    let mut map = Map::new();
    map.insert(
        "id".into(),
        Value::from(format!("{}/invitation", ctx.url(Kind::Meeting, m.id))),
    );
    map.insert("type".into(), Value::from(Kind::File.type_url()));
    // Supplements are counted from 1: document number 2 is "Nachtrag 1".
    let supplement = issues.number.saturating_sub(1);
    let what = match supplement {
        0 => String::new(),
        n => format!(" (Nachtrag Nr. {n})"),
    };
    let meeting_name: String = m
        .name
        .as_str()
        .chars()
        .map(|c| if matches!(c, '/' | '\\') { '-' } else { c })
        .collect();
    let file_name = match supplement {
        0 => format!("Bekanntmachung {meeting_name}.pdf"),
        n => format!("Bekanntmachung Nachtrag {n} {meeting_name}.pdf"),
    };
    let mut obj = Obj(map)
        .set(
            "name",
            format!("Öffentliche Bekanntmachung: {}{what}", m.name.as_str()),
        )
        .set("fileName", file_name)
        .set("mimeType", "application/pdf")
        .set("date", date(german_date(issues.latest)))
        .set("accessUrl", url.clone())
        .set("downloadUrl", url)
        .set("created", date_time(issues.first))
        .set("modified", date_time(issues.latest));
    if mode == Mode::Standalone {
        obj = obj.set("meeting", vec![Value::from(ctx.url(Kind::Meeting, m.id))]);
    }
    obj.done()
}

pub fn files(ctx: &Ctx, items: &[File]) -> Vec<Value> {
    items
        .iter()
        .map(|f| file(ctx, f, Mode::Standalone))
        .collect()
}

// --- Meetings and agenda items -----------------------------------------------------------------

const fn meeting_state(state: MeetingState) -> &'static str {
    match state {
        MeetingState::Planned => "terminiert",
        MeetingState::Invited => "eingeladen",
        MeetingState::Running => "läuft",
        MeetingState::Closed => "durchgeführt",
        MeetingState::Cancelled => "abgesagt",
    }
}

/// What agenda items need besides themselves.
struct AgendaParts {
    files: HashMap<AgendaItemId, Vec<File>>,
    consultations: HashMap<AgendaItemId, ConsultationId>,
    /// The live public agendas of the meetings involved, in order (for `order`).
    agendas: HashMap<MeetingId, Vec<(u32, AgendaItemId)>>,
    /// The recorded decisions of items whose live session is not running (the public reads the
    /// record, not the session in progress; see `routes::decisions`).
    decisions: HashMap<AgendaItemId, plenum_store::decisions::Decision>,
    /// When the items of closed meetings were discussed (from the live session's event log).
    times: HashMap<AgendaItemId, (DateTime<Utc>, DateTime<Utc>)>,
}

/// The decisions recorded on `items` that the public may read: those of meetings whose live
/// session is not running.
async fn published_decisions(
    db: &impl ConnectionTrait,
    items: &[AgendaItemId],
) -> Result<HashMap<AgendaItemId, plenum_store::decisions::Decision>> {
    let recorded = plenum_store::decisions::of_items(db, items).await?;
    let mut meetings: Vec<MeetingId> = recorded.values().map(|d| d.meeting).collect();
    meetings.sort();
    meetings.dedup();
    // One query for all the meetings' live states, and only their status read from each.
    #[derive(serde::Deserialize)]
    struct Status {
        status: SessionStatus,
    }
    let mut running = std::collections::HashSet::new();
    for (meeting, parts) in plenum_store::live::load_many(db, &meetings).await? {
        match serde_json::from_str::<Status>(&parts.state) {
            Ok(s) if matches!(s.status, SessionStatus::Running | SessionStatus::Paused) => {
                running.insert(meeting);
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(%meeting, error = %err, "unreadable live snapshot"),
        }
    }
    Ok(recorded
        .into_values()
        .filter(|d| !running.contains(&d.meeting))
        .map(|d| (d.item, d))
        .collect())
}

impl AgendaParts {
    async fn load(
        ctx: &Ctx,
        db: &impl ConnectionTrait,
        items: &[AgendaItem],
        agendas: HashMap<MeetingId, Vec<(u32, AgendaItemId)>>,
        files: Option<Vec<File>>,
    ) -> Result<AgendaParts> {
        let live = live_ids(items, |i| &i.meta, |i| i.id);
        let files = match files {
            Some(files) => files,
            None if ctx.omit_internal => Vec::new(),
            None => query::files_attached_to(db, &[], &[], &live).await?,
        };
        let files = group(
            files
                .into_iter()
                .filter(|f| f.agenda_item_id.is_some())
                .collect(),
            |f| f.agenda_item_id.unwrap_or_default(),
        );
        let mut consultations = HashMap::new();
        for c in query::consultations_of_agenda_items(db, &live).await? {
            if let Some(item) = c.agenda_item_id {
                consultations.entry(item).or_insert(c.id);
            }
        }
        let decisions = published_decisions(db, &live).await?;
        let mut meetings: Vec<MeetingId> = items.iter().map(|i| i.meeting_id).collect();
        meetings.sort();
        meetings.dedup();
        let times = plenum_store::live::item_times(db, &meetings).await?;
        Ok(AgendaParts {
            files,
            consultations,
            agendas,
            decisions,
            times,
        })
    }

    /// The item's 0-based position among the live public items of its meeting (for a deleted
    /// item: the position it would have).
    fn order(&self, item: &AgendaItem) -> usize {
        self.agendas
            .get(&item.meeting_id)
            .map(|agenda| {
                agenda
                    .iter()
                    .filter(|(position, id)| (*position, *id) < (item.position, item.id))
                    .count()
            })
            .unwrap_or(0)
    }

    fn render(&self, ctx: &Ctx, item: &AgendaItem, mode: Mode) -> Value {
        let obj = Obj::new(ctx, Kind::AgendaItem, item.id.as_uuid(), &item.meta)
            .set("order", self.order(item));
        if item.meta.is_deleted() {
            return obj.done();
        }
        let obj = if mode == Mode::Standalone {
            obj.set("meeting", ctx.url(Kind::Meeting, item.meeting_id))
        } else {
            obj
        };
        let files: Vec<Value> = if ctx.omit_internal {
            Vec::new()
        } else {
            self.files
                .get(&item.id)
                .map(|fs| fs.iter().map(|f| file(ctx, f, Mode::Embedded)).collect())
                .unwrap_or_default()
        };
        obj.set("number", item.number.as_str())
            .set("name", text(&item.title))
            .set("public", item.public)
            // The portal shows agenda items on their meeting's page.
            .set("web", ctx.web(&format!("/meetings/{}", item.meeting_id)))
            .opt(
                "consultation",
                self.consultations
                    .get(&item.id)
                    .map(|c| ctx.url(Kind::Consultation, c)),
            )
            // When it was discussed (closed meetings run in Plenum).
            .opt(
                "start",
                self.times.get(&item.id).map(|(start, _)| date_time(*start)),
            )
            .opt(
                "end",
                self.times
                    .get(&item.id)
                    .filter(|(start, end)| end > start)
                    .map(|(_, end)| date_time(*end)),
            )
            // The recorded decision, as the minutes name it ("angenommen", "vertagt", …).
            .opt(
                "result",
                self.decisions
                    .get(&item.id)
                    .map(|d| d.kind.label_de().to_owned()),
            )
            .opt("resolutionText", resolution_text(item))
            // The decision extract (Beschlussauszug) of a decision the public reads.
            .opt(
                "resolutionFile",
                self.decisions.get(&item.id).map(|d| {
                    let label = format!("{} {}", item.number.as_str(), item.title.as_str());
                    resolution_file(ctx, item.id, &label, d.recorded_at, item.meta.modified)
                }),
            )
            .list("auxiliaryFile", files)
            .done()
    }
}

/// OParl's `resolutionText`: the decision's text as sanitised HTML (it is kept as Markdown).
fn resolution_text(item: &AgendaItem) -> Option<String> {
    item.decision
        .as_ref()
        .map(|d| crate::markdown::render(d.as_str()).trim_end().to_owned())
}

/// A PDF served as an OParl `File` without a row in `file`: the published minutes
/// (`Meeting.resultsProtocol`) or a decision extract (`AgendaItem.resolutionFile`). Its id is
/// `…/file/{id}` with the id of the minutes version or of the agenda item, which answers with
/// this object (`back`: the back-reference, when served on its own); `…/file/{id}/access` and
/// `…/download` serve the bytes.
struct Document<'a> {
    id: Uuid,
    name: String,
    file_name: String,
    /// The public API URL of the bytes (inline): OParl's `accessUrl`.
    access: String,
    date: NaiveDate,
    created: DateTime<Utc>,
    modified: DateTime<Utc>,
    back: Option<(&'a str, String)>,
}

fn document(ctx: &Ctx, d: Document<'_>) -> Value {
    let meta = Meta {
        created: d.created,
        modified: d.modified.max(d.created),
        deleted: None,
    };
    let obj = Obj::new(ctx, Kind::File, d.id, &meta)
        .set("name", d.name)
        .set("fileName", d.file_name)
        .set("mimeType", "application/pdf")
        .set("date", date(d.date))
        .set("accessUrl", ctx.api(&d.access))
        .set("downloadUrl", ctx.document_url(d.id, "download"));
    match d.back {
        Some((key, url)) => obj.set(key, vec![Value::from(url)]).done(),
        None => obj.done(),
    }
}

/// `AgendaItem.resolutionFile`: the decision extract of an item whose decision the public reads
/// (`label`: number and title, or the public title of an announced item).
fn resolution_file(
    ctx: &Ctx,
    item: AgendaItemId,
    label: &str,
    recorded_at: DateTime<Utc>,
    item_modified: DateTime<Utc>,
) -> Value {
    document(
        ctx,
        resolution_document(item, label, recorded_at, item_modified, None),
    )
}

fn resolution_document<'a>(
    item: AgendaItemId,
    label: &str,
    recorded_at: DateTime<Utc>,
    item_modified: DateTime<Utc>,
    back: Option<(&'a str, String)>,
) -> Document<'a> {
    let name = format!("Beschlussauszug {}", label.trim());
    Document {
        id: item.as_uuid(),
        file_name: format!("{name}.pdf"),
        name,
        access: format!("/api/v1/public/agenda-items/{item}/extract.pdf"),
        date: recorded_at.date_naive(),
        created: recorded_at,
        modified: item_modified.max(recorded_at),
        back,
    }
}

/// `Meeting.resultsProtocol`: the signed public part of the minutes, once published.
fn results_protocol<'a>(
    meeting: &Meeting,
    version: &plenum_store::minutes_record::MinutesVersion,
    back: Option<(&'a str, String)>,
) -> Document<'a> {
    let published = version.published_at.unwrap_or(version.created_at);
    Document {
        id: version.id,
        name: format!(
            "Niederschrift {} vom {} (öffentlicher Teil)",
            meeting.name.as_str(),
            meeting.start.format("%d.%m.%Y")
        ),
        file_name: format!(
            "Niederschrift-{}-oeffentlich-v{}.pdf",
            meeting.start.format("%Y-%m-%d"),
            version.version
        ),
        access: format!("/api/v1/public/minutes/{}/pdf", version.id),
        date: published.date_naive(),
        created: published,
        modified: published,
        back,
    }
}

/// A non-public item whose decision the clerk announced on its own (Bekanntgabe): served as an
/// `AgendaItem` with `public: false`, the public title, `result`, `resolutionText` and
/// `resolutionFile` — nothing else of it (no number, consultation, times or files).
pub struct Announced {
    item: AgendaItem,
    title: String,
    announced_at: DateTime<Utc>,
    decision: plenum_store::decisions::Decision,
}

/// The announced decisions of these meetings the public reads, by meeting, oldest first.
async fn announced_of(
    db: &impl ConnectionTrait,
    meetings: &[MeetingId],
) -> Result<HashMap<MeetingId, Vec<Announced>>> {
    let announcements = plenum_store::announcements::of_meetings(db, meetings).await?;
    let ids: Vec<AgendaItemId> = announcements.iter().map(|a| a.item).collect();
    let mut decisions = published_decisions(db, &ids).await?;
    let mut out: HashMap<MeetingId, Vec<Announced>> = HashMap::new();
    for a in announcements {
        let Some(decision) = decisions.remove(&a.item) else {
            continue;
        };
        let Ok(item) = plenum_store::repo::agenda_items::get_live(db, a.item).await else {
            continue;
        };
        // Made public again, it is served as a public item.
        if item.public {
            continue;
        }
        out.entry(a.meeting).or_default().push(Announced {
            item,
            title: a.title,
            announced_at: a.announced_at,
            decision,
        });
    }
    Ok(out)
}

fn announced_item(ctx: &Ctx, a: &Announced, order: usize, mode: Mode) -> Value {
    // Not the item's own `modified`: its internal title or number may change, which the
    // public never sees.
    let meta = Meta {
        created: a.announced_at,
        modified: a.decision.recorded_at.max(a.announced_at),
        deleted: None,
    };
    let obj = Obj::new(ctx, Kind::AgendaItem, a.item.id.as_uuid(), &meta).set("order", order);
    let obj = if mode == Mode::Standalone {
        obj.set("meeting", ctx.url(Kind::Meeting, a.item.meeting_id))
    } else {
        obj
    };
    obj.set("name", a.title.as_str())
        .set("public", false)
        .set("web", ctx.web(&format!("/meetings/{}", a.item.meeting_id)))
        .set("result", a.decision.kind.label_de())
        .opt("resolutionText", resolution_text(&a.item))
        .set(
            "resolutionFile",
            resolution_file(
                ctx,
                a.item.id,
                &a.title,
                a.decision.recorded_at,
                meta.modified,
            ),
        )
        .done()
}

/// An announced non-public item at its own URL, if the public reads it.
pub async fn announced_agenda_item(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    id: AgendaItemId,
) -> Result<Option<Value>> {
    let Some(a) = plenum_store::announcements::get(db, id).await? else {
        return Ok(None);
    };
    let Some(meeting) = query::meeting(db, a.meeting).await? else {
        return Ok(None);
    };
    if meeting.meta.is_deleted() {
        return Ok(None);
    }
    let mut announced = announced_of(db, &[a.meeting]).await?;
    let list = announced.remove(&a.meeting).unwrap_or_default();
    let Some(position) = list.iter().position(|x| x.item.id == id) else {
        return Ok(None);
    };
    let public_items = query::agendas_of_meetings(db, &[a.meeting]).await?.len();
    Ok(Some(announced_item(
        ctx,
        &list[position],
        public_items + position,
        Mode::Standalone,
    )))
}

/// What a File id that has no row in `file` stands for: the published minutes of a meeting, or
/// the decision extract of an item whose decision the public reads.
pub enum DocumentTarget {
    /// A minutes version's id.
    Minutes(Uuid),
    Extract(AgendaItemId),
}

/// Finds the document behind a File id and renders its File object (standalone).
pub async fn document_file(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<(DocumentTarget, Value)>> {
    // The published public part of a meeting's minutes (the current one).
    if let Some(version) = plenum_store::minutes_record::get(db, id).await?
        && version.part == MinutesPart::Public
        && version.published_at.is_some()
    {
        let Some(meeting) = query::meeting(db, version.meeting).await? else {
            return Ok(None);
        };
        if meeting.meta.is_deleted() {
            return Ok(None);
        }
        let current = plenum_store::minutes_record::published_public(db, &[meeting.id])
            .await?
            .remove(&meeting.id);
        if current.as_ref().map(|v| v.id) != Some(version.id) {
            return Ok(None);
        }
        let back = Some(("meeting", ctx.url(Kind::Meeting, meeting.id)));
        let value = document(ctx, results_protocol(&meeting, &version, back));
        return Ok(Some((DocumentTarget::Minutes(version.id), value)));
    }
    // The decision extract of a public item, as its AgendaItem embeds it.
    let item = AgendaItemId::from_uuid(id);
    let value = match query::agenda_item(db, item).await? {
        Some(found) if !found.meta.is_deleted() => {
            let decisions = published_decisions(db, &[item]).await?;
            decisions.get(&item).map(|d| {
                let label = format!("{} {}", found.number.as_str(), found.title.as_str());
                let back = Some(("agendaItem", ctx.url(Kind::AgendaItem, item)));
                document(
                    ctx,
                    resolution_document(item, &label, d.recorded_at, found.meta.modified, back),
                )
            })
        }
        _ => announced_agenda_item(ctx, db, item)
            .await?
            .and_then(|mut v| {
                let mut file = v.get_mut("resolutionFile")?.take();
                file.as_object_mut()?.insert(
                    "agendaItem".into(),
                    Value::Array(vec![Value::from(ctx.url(Kind::AgendaItem, item))]),
                );
                Some(file)
            }),
    };
    Ok(value.map(|v| (DocumentTarget::Extract(item), v)))
}

fn agenda_positions(items: &[AgendaItem]) -> HashMap<MeetingId, Vec<(u32, AgendaItemId)>> {
    let mut agendas: HashMap<MeetingId, Vec<(u32, AgendaItemId)>> = HashMap::new();
    for item in items {
        agendas
            .entry(item.meeting_id)
            .or_default()
            .push((item.position, item.id));
    }
    agendas
}

pub async fn agenda_items(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    items: &[AgendaItem],
) -> Result<Vec<Value>> {
    let mut meetings: Vec<MeetingId> = items.iter().map(|i| i.meeting_id).collect();
    meetings.sort();
    meetings.dedup();
    let agendas = agenda_positions(&query::agendas_of_meetings(db, &meetings).await?);
    let parts = AgendaParts::load(ctx, db, items, agendas, None).await?;
    Ok(items
        .iter()
        .map(|item| parts.render(ctx, item, Mode::Standalone))
        .collect())
}

pub async fn meetings(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    items: &[Meeting],
) -> Result<Vec<Value>> {
    let live = live_ids(items, |m| &m.meta, |m| m.id);
    let mut location_ids: Vec<LocationId> = items.iter().filter_map(|m| m.location_id).collect();
    location_ids.sort();
    location_ids.dedup();
    let locations: HashMap<LocationId, Location> = query::locations_by_id(db, &location_ids)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let agenda = query::agendas_of_meetings(db, &live).await?;
    let agendas = agenda_positions(&agenda);
    let mut meeting_files = HashMap::new();
    let mut parts = AgendaParts {
        files: HashMap::new(),
        consultations: HashMap::new(),
        agendas: HashMap::new(),
        decisions: HashMap::new(),
        times: HashMap::new(),
    };
    if !ctx.omit_internal {
        let item_ids: Vec<AgendaItemId> = agenda.iter().map(|i| i.id).collect();
        let files = query::files_attached_to(db, &[], &live, &item_ids).await?;
        let (for_meetings, for_items): (Vec<File>, Vec<File>) =
            files.into_iter().partition(|f| f.meeting_id.is_some());
        meeting_files = group(for_meetings, |f| f.meeting_id.unwrap_or_default());
        parts = AgendaParts::load(ctx, db, &agenda, agendas, Some(for_items)).await?;
    }
    let announced = if ctx.omit_internal {
        HashMap::new()
    } else {
        announced_of(db, &live).await?
    };
    let agenda = group(agenda, |i| i.meeting_id);
    let participants = participants_of_closed(db, items).await?;
    let invitations = plenum_store::notify::invitations_of_meetings(db, &live).await?;
    let minutes = plenum_store::minutes_record::published_public(db, &live).await?;
    Ok(items
        .iter()
        .map(|m| {
            let obj = Obj::new(ctx, Kind::Meeting, m.id.as_uuid(), &m.meta);
            if m.meta.is_deleted() {
                return obj.done();
            }
            let mut obj = obj
                .set("name", text(&m.name))
                .set("web", ctx.web(&format!("/meetings/{}", m.id)))
                .set("meetingState", meeting_state(m.state))
                .set("cancelled", m.state == MeetingState::Cancelled)
                .set("start", date_time(m.start))
                .opt("end", m.end.map(date_time))
                .opt(
                    "location",
                    m.location_id
                        .and_then(|l| locations.get(&l))
                        .map(|l| location(ctx, l, None)),
                )
                .set(
                    "organization",
                    vec![Value::from(ctx.url(Kind::Organization, m.organization_id))],
                )
                .opt(
                    "participant",
                    participants.get(&m.id).map(|persons| {
                        persons
                            .iter()
                            .map(|p| Value::from(ctx.url(Kind::Person, p)))
                            .collect::<Vec<Value>>()
                    }),
                )
                .opt(
                    "invitation",
                    invitations
                        .get(&m.id)
                        .and_then(|issued| InvitationIssues::of(issued))
                        .map(|issues| invitation(ctx, m, &issues, Mode::Embedded)),
                );
            if !ctx.omit_internal {
                let files: Vec<Value> = meeting_files
                    .get(&m.id)
                    .map(|fs| fs.iter().map(|f| file(ctx, f, Mode::Embedded)).collect())
                    .unwrap_or_default();
                let mut items: Vec<Value> = agenda
                    .get(&m.id)
                    .map(|items| {
                        items
                            .iter()
                            .map(|item| parts.render(ctx, item, Mode::Embedded))
                            .collect()
                    })
                    .unwrap_or_default();
                // Announced non-public decisions follow the public agenda.
                let public_items = items.len();
                for (i, a) in announced.get(&m.id).into_iter().flatten().enumerate() {
                    items.push(announced_item(ctx, a, public_items + i, Mode::Embedded));
                }
                obj = obj.list("auxiliaryFile", files).list("agendaItem", items);
            }
            // The signed public part of the minutes, once published (never the non-public part).
            obj = obj.opt(
                "resultsProtocol",
                minutes
                    .get(&m.id)
                    .map(|v| document(ctx, results_protocol(m, v, None))),
            );
            obj.done()
        })
        .collect())
}

/// Who took part in each closed meeting (present in the room or remotely when the session
/// closed, or left early), as recorded by the live session; published persons only, by id.
/// Meetings without a live session (held elsewhere, or never run in Plenum) name nobody.
async fn participants_of_closed(
    db: &impl ConnectionTrait,
    meetings: &[Meeting],
) -> Result<HashMap<MeetingId, Vec<PersonId>>> {
    let closed: Vec<MeetingId> = meetings
        .iter()
        .filter(|m| !m.meta.is_deleted() && m.state == MeetingState::Closed)
        .map(|m| m.id)
        .collect();
    // Only the attendance is read from each stored state.
    let mut out: HashMap<MeetingId, Vec<PersonId>> = HashMap::new();
    for (meeting, parts) in plenum_store::live::load_many(db, &closed).await? {
        let Ok(attendance) = parts.attendance() else {
            tracing::warn!(%meeting, "a stored live state could not be read");
            continue;
        };
        let took_part: Vec<PersonId> = attendance
            .iter()
            .filter(|(_, a)| {
                matches!(
                    a.status,
                    AttendanceStatus::Present
                        | AttendanceStatus::Remote
                        | AttendanceStatus::LeftEarly
                )
            })
            .map(|(p, _)| *p)
            .collect();
        out.insert(meeting, took_part);
    }
    let named: Vec<uuid::Uuid> = out.values().flatten().map(|p| p.as_uuid()).collect();
    let visible = query::published_persons_among(db, &named).await?;
    for persons in out.values_mut() {
        persons.retain(|p| visible.contains(&p.as_uuid()));
        persons.sort();
    }
    out.retain(|_, persons| !persons.is_empty());
    Ok(out)
}

// --- Papers and consultations ------------------------------------------------------------------

fn consultation(ctx: &Ctx, c: &Consultation, mode: Mode) -> Value {
    let obj = Obj::new(ctx, Kind::Consultation, c.id.as_uuid(), &c.meta);
    if c.meta.is_deleted() {
        return obj.done();
    }
    let obj = if mode == Mode::Standalone {
        obj.set("paper", ctx.url(Kind::Paper, c.paper_id))
    } else {
        obj
    };
    obj.opt(
        "agendaItem",
        c.agenda_item_id.map(|i| ctx.url(Kind::AgendaItem, i)),
    )
    .opt("meeting", c.meeting_id.map(|m| ctx.url(Kind::Meeting, m)))
    .set(
        "organization",
        vec![Value::from(ctx.url(Kind::Organization, c.organization_id))],
    )
    .set("authoritative", c.role == ConsultationRole::Decide)
    .set("role", c.role.german())
    .done()
}

pub fn consultations(ctx: &Ctx, items: &[Consultation]) -> Vec<Value> {
    items
        .iter()
        .map(|c| consultation(ctx, c, Mode::Standalone))
        .collect()
}

pub async fn papers(ctx: &Ctx, db: &impl ConnectionTrait, items: &[Paper]) -> Result<Vec<Value>> {
    let live = live_ids(items, |p| &p.meta, |p| p.id);
    let consultations = group(query::consultations_of_papers(db, &live).await?, |c| {
        c.paper_id
    });
    let files = if ctx.omit_internal {
        HashMap::new()
    } else {
        group(query::files_attached_to(db, &live, &[], &[]).await?, |f| {
            f.paper_id.unwrap_or_default()
        })
    };
    let originators = query::published_originators_of(db, &live).await?;
    let related = query::public_related_of(db, &live).await?;
    let mut in_charge: Vec<OrganizationId> = items
        .iter()
        .filter_map(|p| p.under_direction_of_id)
        .collect();
    in_charge.sort();
    in_charge.dedup();
    let in_charge = query::live_organizations_among(db, &in_charge).await?;
    Ok(items
        .iter()
        .map(|p| {
            let obj = Obj::new(ctx, Kind::Paper, p.id.as_uuid(), &p.meta);
            if p.meta.is_deleted() {
                return obj.done();
            }
            // The main document, if it is one of the paper's live files; the rest are attachments.
            let own = files.get(&p.id).map(Vec::as_slice).unwrap_or_default();
            let main = own
                .iter()
                .find(|f| Some(f.id) == p.main_file_id)
                .map(|f| file(ctx, f, Mode::Embedded));
            let files: Vec<Value> = own
                .iter()
                .filter(|f| Some(f.id) != p.main_file_id)
                .map(|f| file(ctx, f, Mode::Embedded))
                .collect();
            let steps: Vec<Value> = consultations
                .get(&p.id)
                .map(|cs| {
                    cs.iter()
                        .map(|c| consultation(ctx, c, Mode::Embedded))
                        .collect()
                })
                .unwrap_or_default();
            obj.set("body", ctx.url(Kind::Body, p.body_id))
                .set("name", text(&p.title))
                .set("web", ctx.web(&format!("/papers/{}", p.id)))
                .set("reference", p.reference.as_str())
                .set("date", date(p.date))
                .set("paperType", p.paper_type.german())
                .opt(
                    "originatorOrganization",
                    p.originator_id
                        .map(|o| vec![Value::from(ctx.url(Kind::Organization, o))]),
                )
                .opt(
                    "originatorPerson",
                    originators.get(&p.id).map(|persons| {
                        persons
                            .iter()
                            .map(|person| Value::from(ctx.url(Kind::Person, person)))
                            .collect::<Vec<Value>>()
                    }),
                )
                .opt(
                    "underDirectionOf",
                    p.under_direction_of_id
                        .filter(|o| in_charge.contains(o))
                        .map(|o| vec![Value::from(ctx.url(Kind::Organization, o))]),
                )
                .list(
                    "relatedPaper",
                    related
                        .get(&p.id)
                        .map(|papers| {
                            papers
                                .iter()
                                .map(|r| Value::from(ctx.url(Kind::Paper, r)))
                                .collect()
                        })
                        .unwrap_or_default(),
                )
                .opt("mainFile", main)
                .list("auxiliaryFile", files)
                .list("consultation", steps)
                .done()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_extension_only() {
        assert_eq!(
            without_extension("Haushaltsplan 2027.pdf"),
            "Haushaltsplan 2027"
        );
        assert_eq!(without_extension("VO-10742-26.pdf"), "VO-10742-26");
        assert_eq!(without_extension("Bericht"), "Bericht");
        assert_eq!(without_extension(".pdf"), ".pdf");
        assert_eq!(without_extension("Stand 1.10 2026"), "Stand 1.10 2026");
    }

    #[test]
    fn kinds_round_trip_through_their_paths() {
        for kind in Kind::OBJECTS {
            assert_eq!(Kind::from_path(kind.path()), Some(kind));
        }
        assert_eq!(Kind::from_path("system"), None);
        assert_eq!(Kind::from_path("user"), None);
    }
}
