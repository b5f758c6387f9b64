//! The public view: read-only queries for OParl and the public calendar feed. Everything returned
//! here may be shown to anyone.
//!
//! What never leaves this module (`docs/design.md`, "Security model", public interfaces): non-public agenda items and
//! papers, consultations of non-public papers (and links from consultations to non-public agenda
//! items), files attached to anything non-public or to nothing at all, and persons' e-mail
//! addresses (callers simply do not render them). Meetings, organizations, persons, memberships,
//! locations and legislative terms are public.
//!
//! Deleted objects come back as tombstones (`meta.deleted` set) from the single-object getters and
//! from lists asked to include them; embedded objects (an agenda, a paper's files) are live only.
//! So do objects that are gone for the public although their row is live: agenda items and papers
//! that were public and turned non-public (see [`crate::withdrawn`]), agenda items of deleted
//! meetings, and files of anything deleted or withdrawn. Their tombstone's `modified` (and
//! `deleted`) is the time they went; objects that were never public stay unknown.
//!
//! `meta.modified` of every object returned here is its *public* modification time: the latest
//! `modified` of the object itself and of everything its OParl representation embeds or lists (a
//! meeting's agenda items, their files and consultations, its files, its location and its
//! invitation's latest issue; a paper's consultations and files; …), deleted or not. So a client that syncs with `modified_since` sees
//! a meeting again when one of its agenda items changed or was deleted, as OParl 1.1 requires.
//! The `modified_since`/`modified_until` filters use the same definition.
//!
//! Lists are ordered by id and paginated by keyset (`after` = the last id of the previous page),
//! so a walk through all pages sees every object once even while objects are being added.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use plenum_domain::*;
use sea_orm::sea_query::SelectStatement;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};
use uuid::Uuid;

use crate::entity::{
    agenda_item, body, consultation, file, invitation, legislative_term, location, meeting,
    membership, organization, paper, person,
};
use crate::record::Record;
use crate::{Result, withdrawn};

/// The OParl list filters (`created_since`, `created_until`, `modified_since`, `modified_until`),
/// all inclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub created_since: Option<DateTime<Utc>>,
    pub created_until: Option<DateTime<Utc>>,
    pub modified_since: Option<DateTime<Utc>>,
    pub modified_until: Option<DateTime<Utc>>,
}

/// One page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub window: Window,
    /// List tombstones of deleted objects too (OParl: exactly when `modified_since` is given).
    pub include_deleted: bool,
    /// Start after the object with this id (the last one of the previous page).
    pub after: Option<Uuid>,
    /// At most this many objects (at least one is returned when there is one).
    pub limit: u64,
}

/// A page of a list, with what a client needs to page on.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Objects matching the request on all pages.
    pub total: u64,
    /// Objects matching the request before this page.
    pub before: u64,
    /// Whether another page follows (its `after` is the id of the last item).
    pub more: bool,
    /// The `after` of the previous page: `None` on the first page, `Some(None)` when the previous
    /// page is the first one.
    pub prev: Option<Option<Uuid>>,
}

impl<T> Page<T> {
    async fn then<U, F>(self, finish: impl FnOnce(Vec<T>) -> F) -> Result<Page<U>>
    where
        F: Future<Output = Result<Vec<U>>>,
    {
        Ok(Page {
            items: finish(self.items).await?,
            total: self.total,
            before: self.before,
            more: self.more,
            prev: self.prev,
        })
    }
}

/// Which meetings a meeting list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingScope {
    Body(BodyId),
    Organization(OrganizationId),
}

/// A time bound on `modified` columns.
#[derive(Debug, Clone, Copy)]
enum Bound {
    /// `modified >= t`
    AtOrAfter(DateTime<Utc>),
    /// `modified > t`
    After(DateTime<Utc>),
}

impl Bound {
    fn on<C: ColumnTrait>(self, column: C) -> Condition {
        match self {
            Bound::AtOrAfter(t) => Condition::all().add(column.gte(t)),
            Bound::After(t) => Condition::all().add(column.gt(t)),
        }
    }
}

/// The bookkeeping columns of a table.
struct Cols<C> {
    id: C,
    created: C,
    modified: C,
    deleted: C,
}

/// A record type served by the public view.
trait Public: Record {
    fn cols() -> Cols<<Self::Entity as EntityTrait>::Column>;

    /// Rows the public may see at all (deleted or not).
    fn visible() -> Condition {
        Condition::all()
    }

    /// Rows OParl knows of: the visible ones, and those that were public once (withdrawn), which
    /// it serves as tombstones.
    fn known() -> Condition {
        Self::visible()
    }

    /// Rows that are tombstones although their own row is live and visible: something they
    /// belong to is gone. Must never evaluate to SQL NULL, since it is used negated.
    fn orphaned() -> Option<Condition> {
        None
    }

    /// The row, or something its OParl representation embeds or lists, changed within `bound`.
    /// Must never evaluate to SQL NULL, since it is also used negated.
    fn changed(bound: Bound) -> Condition {
        bound.on(Self::cols().modified)
    }
}

/// `SELECT column FROM E WHERE column IS NOT NULL AND condition`: a NULL-free id set.
fn ids<E: EntityTrait>(column: E::Column, condition: Condition) -> SelectStatement {
    E::find()
        .select_only()
        .column(column)
        .filter(column.is_not_null())
        .filter(condition)
        .into_query()
}

fn public_papers() -> SelectStatement {
    ids::<paper::Entity>(
        paper::Column::Id,
        Condition::all().add(paper::Column::Public.eq(true)),
    )
}

fn published_persons() -> SelectStatement {
    ids::<person::Entity>(
        person::Column::Id,
        Condition::all().add(person::Column::Published.eq(true)),
    )
}

fn public_agenda_items() -> SelectStatement {
    ids::<agenda_item::Entity>(
        agenda_item::Column::Id,
        Condition::all().add(agenda_item::Column::Public.eq(true)),
    )
}

fn organizations_of(body: BodyId) -> SelectStatement {
    ids::<organization::Entity>(
        organization::Column::Id,
        Condition::all().add(organization::Column::BodyId.eq(body.as_uuid())),
    )
}

fn meetings_of(body: BodyId) -> SelectStatement {
    ids::<meeting::Entity>(
        meeting::Column::Id,
        Condition::all().add(meeting::Column::OrganizationId.in_subquery(organizations_of(body))),
    )
}

fn withdrawn_or_public<C: ColumnTrait>(id: C, public: C) -> Condition {
    Condition::any()
        .add(public.eq(true))
        .add(id.in_subquery(withdrawn::ids()))
}

/// Meetings that are deleted (and, with `bound`, were deleted within it).
fn deleted_meetings(bound: Option<Bound>) -> SelectStatement {
    use meeting::Column as M;
    let mut condition = Condition::all().add(M::Deleted.is_not_null());
    if let Some(bound) = bound {
        condition = condition.add(bound.on(M::Modified));
    }
    ids::<meeting::Entity>(M::Id, condition)
}

/// Papers that turned non-public (and, with `bound`, did so within it). A deleted paper's files
/// stay public, as before.
fn gone_papers(bound: Option<Bound>) -> SelectStatement {
    use paper::Column as P;
    let mut condition = Condition::all().add(P::Public.eq(false));
    if let Some(bound) = bound {
        condition = Condition::all().add(condition).add(bound.on(P::Modified));
    }
    ids::<paper::Entity>(P::Id, condition)
}

/// Agenda items that are gone for their files: non-public, or of a deleted meeting (and, with
/// `bound`, went within it). Like a deleted paper's, a deleted item's files stay public.
fn gone_agenda_items(bound: Option<Bound>) -> SelectStatement {
    use agenda_item::Column as A;
    let mut own = Condition::all().add(A::Public.eq(false));
    if let Some(bound) = bound {
        own = Condition::all().add(own).add(bound.on(A::Modified));
    }
    let condition = Condition::any()
        .add(own)
        .add(A::MeetingId.in_subquery(deleted_meetings(bound)));
    ids::<agenda_item::Entity>(A::Id, condition)
}

/// `column IS NOT NULL AND column IN (ids)`: never SQL NULL.
fn in_ids<C: ColumnTrait>(column: C, ids: SelectStatement) -> Condition {
    Condition::all()
        .add(column.is_not_null())
        .add(column.in_subquery(ids))
}

macro_rules! cols {
    ($m:ident) => {
        Cols {
            id: $m::Column::Id,
            created: $m::Column::Created,
            modified: $m::Column::Modified,
            deleted: $m::Column::Deleted,
        }
    };
}

impl Public for Body {
    fn cols() -> Cols<body::Column> {
        cols!(body)
    }
    fn changed(bound: Bound) -> Condition {
        use legislative_term::Column as T;
        Condition::any()
            .add(bound.on(body::Column::Modified))
            .add(
                body::Column::Id.in_subquery(ids::<legislative_term::Entity>(
                    T::BodyId,
                    bound.on(T::Modified),
                )),
            )
    }
}

impl Public for LegislativeTerm {
    fn cols() -> Cols<legislative_term::Column> {
        cols!(legislative_term)
    }
}

impl Public for Organization {
    fn cols() -> Cols<organization::Column> {
        cols!(organization)
    }
    fn changed(bound: Bound) -> Condition {
        use membership::Column as M;
        Condition::any()
            .add(bound.on(organization::Column::Modified))
            .add(
                organization::Column::Id.in_subquery(ids::<membership::Entity>(
                    M::OrganizationId,
                    bound.on(M::Modified),
                )),
            )
    }
}

impl Public for Person {
    fn cols() -> Cols<person::Column> {
        cols!(person)
    }
    /// Persons are public by an explicit choice (`published`).
    fn visible() -> Condition {
        Condition::all().add(person::Column::Published.eq(true))
    }
    fn known() -> Condition {
        withdrawn_or_public(person::Column::Id, person::Column::Published)
    }
    fn changed(bound: Bound) -> Condition {
        use membership::Column as M;
        Condition::any()
            .add(bound.on(person::Column::Modified))
            .add(person::Column::Id.in_subquery(ids::<membership::Entity>(
                M::PersonId,
                bound.on(M::Modified),
            )))
    }
}

impl Public for Membership {
    fn cols() -> Cols<membership::Column> {
        cols!(membership)
    }
    /// A membership is as public as its person.
    fn visible() -> Condition {
        Condition::all().add(membership::Column::PersonId.in_subquery(published_persons()))
    }
    /// Memberships of a withdrawn person are tombstones, like the person.
    fn known() -> Condition {
        Condition::any()
            .add(Self::visible())
            .add(membership::Column::PersonId.in_subquery(withdrawn::ids()))
    }
    /// A membership names the fraction its person sits for (`onBehalfOf`): it changes with the
    /// person's other memberships.
    fn changed(bound: Bound) -> Condition {
        use membership::Column as M;
        Condition::any()
            .add(bound.on(M::Modified))
            .add(M::PersonId.in_subquery(ids::<membership::Entity>(
                M::PersonId,
                bound.on(M::Modified),
            )))
    }
}

impl Public for Location {
    fn cols() -> Cols<location::Column> {
        cols!(location)
    }
    fn changed(bound: Bound) -> Condition {
        use meeting::Column as M;
        Condition::any()
            .add(bound.on(location::Column::Modified))
            .add(
                location::Column::Id
                    .in_subquery(ids::<meeting::Entity>(M::LocationId, bound.on(M::Modified))),
            )
    }
}

impl Public for Meeting {
    fn cols() -> Cols<meeting::Column> {
        cols!(meeting)
    }
    fn changed(bound: Bound) -> Condition {
        use meeting::Column as M;
        // Agenda items whose own representation changed (they are embedded in the meeting).
        let items_changed =
            ids::<agenda_item::Entity>(agenda_item::Column::MeetingId, AgendaItem::changed(bound));
        let files_changed =
            ids::<file::Entity>(file::Column::MeetingId, bound.on(file::Column::Modified));
        // Its invitation (the public notice, embedded as a File) changes with each supplement.
        let invitation_issued = ids::<invitation::Entity>(
            invitation::Column::MeetingId,
            bound.on(invitation::Column::IssuedAt),
        );
        let location_changed =
            Condition::all()
                .add(M::LocationId.is_not_null())
                .add(M::LocationId.in_subquery(ids::<location::Entity>(
                    location::Column::Id,
                    bound.on(location::Column::Modified),
                )));
        // The embedded location's `modified` follows the meetings held there (it lists them).
        let location_used = Condition::all().add(M::LocationId.is_not_null()).add(
            M::LocationId.in_subquery(ids::<meeting::Entity>(
                M::LocationId,
                Condition::all()
                    .add(M::LocationId.is_not_null())
                    .add(bound.on(M::Modified)),
            )),
        );
        Condition::any()
            .add(bound.on(M::Modified))
            .add(M::Id.in_subquery(items_changed))
            .add(M::Id.in_subquery(files_changed))
            .add(M::Id.in_subquery(invitation_issued))
            .add(location_changed)
            .add(location_used)
    }
}

impl Public for AgendaItem {
    fn cols() -> Cols<agenda_item::Column> {
        cols!(agenda_item)
    }
    fn visible() -> Condition {
        Condition::all().add(agenda_item::Column::Public.eq(true))
    }
    fn known() -> Condition {
        withdrawn_or_public(agenda_item::Column::Id, agenda_item::Column::Public)
    }
    fn orphaned() -> Option<Condition> {
        Some(
            Condition::all()
                .add(agenda_item::Column::MeetingId.in_subquery(deleted_meetings(None))),
        )
    }
    fn changed(bound: Bound) -> Condition {
        use agenda_item::Column as A;
        Condition::any()
            .add(bound.on(A::Modified))
            .add(A::MeetingId.in_subquery(deleted_meetings(Some(bound))))
            .add(A::Id.in_subquery(ids::<file::Entity>(
                file::Column::AgendaItemId,
                bound.on(file::Column::Modified),
            )))
            .add(A::Id.in_subquery(ids::<consultation::Entity>(
                consultation::Column::AgendaItemId,
                bound.on(consultation::Column::Modified),
            )))
    }
}

impl Public for Paper {
    fn cols() -> Cols<paper::Column> {
        cols!(paper)
    }
    fn visible() -> Condition {
        Condition::all().add(paper::Column::Public.eq(true))
    }
    fn known() -> Condition {
        withdrawn_or_public(paper::Column::Id, paper::Column::Public)
    }
    fn changed(bound: Bound) -> Condition {
        use paper::Column as P;
        Condition::any()
            .add(bound.on(P::Modified))
            .add(P::Id.in_subquery(ids::<consultation::Entity>(
                consultation::Column::PaperId,
                bound.on(consultation::Column::Modified),
            )))
            .add(P::Id.in_subquery(ids::<file::Entity>(
                file::Column::PaperId,
                bound.on(file::Column::Modified),
            )))
    }
}

impl Public for Consultation {
    fn cols() -> Cols<consultation::Column> {
        cols!(consultation)
    }
    fn visible() -> Condition {
        Condition::all().add(consultation::Column::PaperId.in_subquery(public_papers()))
    }
    /// Consultations of a withdrawn paper are tombstones, like the paper.
    fn known() -> Condition {
        Condition::any()
            .add(Self::visible())
            .add(consultation::Column::PaperId.in_subquery(withdrawn::ids()))
    }
    fn changed(bound: Bound) -> Condition {
        use consultation::Column as C;
        Condition::any()
            .add(bound.on(C::Modified))
            .add(C::PaperId.in_subquery(gone_papers(Some(bound))))
    }
}

impl Public for File {
    fn cols() -> Cols<file::Column> {
        cols!(file)
    }
    /// A file is as public as what it is attached to; a file attached to nothing is not public.
    fn visible() -> Condition {
        use file::Column as F;
        Condition::any()
            .add(
                Condition::all()
                    .add(F::PaperId.is_not_null())
                    .add(F::PaperId.in_subquery(public_papers())),
            )
            .add(F::MeetingId.is_not_null())
            .add(
                Condition::all()
                    .add(F::AgendaItemId.is_not_null())
                    .add(F::AgendaItemId.in_subquery(public_agenda_items())),
            )
    }
    fn known() -> Condition {
        use file::Column as F;
        Condition::any()
            .add(Self::visible())
            .add(in_ids(F::PaperId, withdrawn::ids()))
            .add(in_ids(F::AgendaItemId, withdrawn::ids()))
    }
    /// What the file is attached to turned non-public, or its meeting was deleted.
    fn orphaned() -> Option<Condition> {
        use file::Column as F;
        Some(
            Condition::any()
                .add(in_ids(F::PaperId, gone_papers(None)))
                .add(in_ids(F::MeetingId, deleted_meetings(None)))
                .add(in_ids(F::AgendaItemId, gone_agenda_items(None))),
        )
    }
    fn changed(bound: Bound) -> Condition {
        use file::Column as F;
        Condition::any()
            .add(bound.on(F::Modified))
            .add(in_ids(F::PaperId, gone_papers(Some(bound))))
            .add(in_ids(F::MeetingId, deleted_meetings(Some(bound))))
            .add(in_ids(F::AgendaItemId, gone_agenda_items(Some(bound))))
    }
}

/// One page of the visible `R` within `scope`, ordered by id.
async fn page<R: Public>(
    db: &impl ConnectionTrait,
    scope: Condition,
    req: &PageRequest,
) -> Result<Page<R>> {
    let cols = R::cols();
    let window = &req.window;
    let mut cond = Condition::all().add(scope);
    if req.include_deleted {
        cond = cond.add(R::known());
    } else {
        cond = cond.add(R::visible()).add(cols.deleted.is_null());
        if let Some(orphaned) = R::orphaned() {
            cond = cond.add(orphaned.not());
        }
    }
    if let Some(t) = window.created_since {
        cond = cond.add(cols.created.gte(t));
    }
    if let Some(t) = window.created_until {
        cond = cond.add(cols.created.lte(t));
    }
    if let Some(t) = window.modified_since {
        cond = cond.add(R::changed(Bound::AtOrAfter(t)));
    }
    if let Some(t) = window.modified_until {
        cond = cond.add(R::changed(Bound::After(t)).not());
    }
    // Callers bound the page size; the cap only keeps `limit + 1` and the casts below exact.
    let limit = req.limit.clamp(1, u64::from(u32::MAX));

    let total = count::<R>(db, cond.clone()).await?;
    let mut query = R::Entity::find().filter(cond.clone());
    let (before, prev) = match req.after {
        None => (0, None),
        Some(after) => {
            query = query.filter(cols.id.gt(after));
            let earlier = cond.clone().add(cols.id.lte(after));
            let before = count::<R>(db, earlier.clone()).await?;
            // The previous page holds the `limit` objects up to `after`; its own `after` is the id
            // just before them, if there is one.
            let back: Vec<Uuid> = R::Entity::find()
                .select_only()
                .column(cols.id)
                .filter(earlier)
                .order_by_desc(cols.id)
                .limit(limit + 1)
                .into_tuple()
                .all(db)
                .await?;
            let prev_after = back.get(limit as usize).copied();
            (before, Some(prev_after))
        }
    };
    let mut models = query.order_by_asc(cols.id).limit(limit + 1).all(db).await?;
    let more = models.len() as u64 > limit;
    models.truncate(limit as usize);
    let items = models
        .into_iter()
        .map(R::from_model)
        .collect::<Result<Vec<R>>>()?;
    Ok(Page {
        items,
        total,
        before,
        more,
        prev,
    })
}

/// How many rows of `R` match `condition`.
async fn count<R: Public>(db: &impl ConnectionTrait, condition: Condition) -> Result<u64> {
    let n: Option<i64> = R::Entity::find()
        .select_only()
        .column_as(R::cols().id.count(), "n")
        .filter(condition)
        .into_tuple()
        .one(db)
        .await?;
    Ok(n.unwrap_or(0).max(0) as u64)
}

/// The known object with this id, deleted (or otherwise gone) or not.
async fn one<R: Public>(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<R>> {
    let cols = R::cols();
    let model = R::Entity::find()
        .filter(cols.id.eq(id))
        .filter(R::known())
        .one(db)
        .await?;
    model.map(R::from_model).transpose()
}

/// Live visible objects matching `scope`, in `order`.
async fn live<R: Public>(
    db: &impl ConnectionTrait,
    scope: Condition,
    order: impl IntoIterator<Item = <R::Entity as EntityTrait>::Column>,
) -> Result<Vec<R>> {
    let mut query = R::Entity::find()
        .filter(scope)
        .filter(R::visible())
        .filter(R::cols().deleted.is_null());
    for column in order {
        query = query.order_by_asc(column);
    }
    query
        .all(db)
        .await?
        .into_iter()
        .map(R::from_model)
        .collect()
}

fn uuids<T>(items: &[T], id: impl Fn(&T) -> Uuid) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = items.iter().map(id).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The latest `modified` per parent id among the rows of `E` whose `parent` is in `parents`
/// (deleted and non-public rows included: only the time is used).
async fn latest<E: EntityTrait>(
    db: &impl ConnectionTrait,
    parent: E::Column,
    modified: E::Column,
    parents: &[Uuid],
) -> Result<HashMap<Uuid, DateTime<Utc>>> {
    let mut latest = HashMap::new();
    if parents.is_empty() {
        return Ok(latest);
    }
    let rows: Vec<(Uuid, DateTime<Utc>)> = E::find()
        .select_only()
        .column(parent)
        .column(modified)
        .filter(parent.is_in(parents.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    for (id, at) in rows {
        bump(&mut latest, id, at);
    }
    Ok(latest)
}

fn bump(latest: &mut HashMap<Uuid, DateTime<Utc>>, id: Uuid, at: DateTime<Utc>) {
    let entry = latest.entry(id).or_insert(at);
    if at > *entry {
        *entry = at;
    }
}

fn merge(into: &mut HashMap<Uuid, DateTime<Utc>>, from: HashMap<Uuid, DateTime<Utc>>) {
    for (id, at) in from {
        bump(into, id, at);
    }
}

/// Raises each object's `modified` to the latest change in `latest`.
fn apply<T: Record>(items: &mut [T], latest: &HashMap<Uuid, DateTime<Utc>>) {
    for item in items {
        let id = item.id();
        if let Some(at) = latest.get(&id) {
            let meta = item.meta_mut();
            if *at > meta.modified {
                meta.modified = *at;
            }
        }
    }
}

// --- Tombstones of objects gone for the public --------------------------------------------

/// Makes a live object a tombstone that went at `at`.
fn entomb<T: Record>(item: &mut T, at: DateTime<Utc>) {
    let meta = item.meta_mut();
    meta.deleted = Some(at);
    meta.modified = at;
}

/// When each of these deleted meetings was deleted.
async fn meeting_deletions(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, DateTime<Utc>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, Option<DateTime<Utc>>)> = meeting::Entity::find()
        .select_only()
        .column(meeting::Column::Id)
        .column(meeting::Column::Deleted)
        .filter(meeting::Column::Id.is_in(ids.iter().copied()))
        .filter(meeting::Column::Deleted.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, at)| at.map(|at| (id, at)))
        .collect())
}

/// When an object with this state went for the public, if it did: deleted, or non-public (at
/// its withdrawal; an object that never was public is never asked about).
fn went(
    id: Uuid,
    meta: &Meta,
    public: bool,
    withdrawals: &HashMap<Uuid, DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    meta.deleted
        .or_else(|| (!public).then(|| withdrawals.get(&id).copied().unwrap_or(meta.modified)))
}

/// When each agenda item went for the public: deleted, withdrawn, or its meeting deleted.
async fn agenda_items_gone(
    db: &impl ConnectionTrait,
    items: &[(Uuid, Uuid, Meta, bool)],
) -> Result<HashMap<Uuid, DateTime<Utc>>> {
    let hidden: Vec<Uuid> = items
        .iter()
        .filter(|(_, _, _, public)| !public)
        .map(|(id, ..)| *id)
        .collect();
    let withdrawals = withdrawn::times(db, &hidden).await?;
    let meetings: Vec<Uuid> = items.iter().map(|(_, meeting, ..)| *meeting).collect();
    let deletions = meeting_deletions(db, &meetings).await?;
    let mut gone = HashMap::new();
    for (id, meeting, meta, public) in items {
        let times = [
            went(*id, meta, *public, &withdrawals),
            deletions.get(meeting).copied(),
        ];
        if let Some(at) = times.into_iter().flatten().max() {
            gone.insert(*id, at);
        }
    }
    Ok(gone)
}

/// Tombstones for the live agenda items that are gone (withdrawn, or of a deleted meeting).
async fn entomb_agenda_items(db: &impl ConnectionTrait, items: &mut [AgendaItem]) -> Result<()> {
    let states: Vec<(Uuid, Uuid, Meta, bool)> = items
        .iter()
        .filter(|i| !i.meta.is_deleted())
        .map(|i| (i.id.as_uuid(), i.meeting_id.as_uuid(), i.meta, i.public))
        .collect();
    let gone = agenda_items_gone(db, &states).await?;
    for item in items.iter_mut() {
        if let Some(at) = gone.get(&item.id.as_uuid()).copied() {
            entomb(item, at);
        }
    }
    Ok(())
}

/// Tombstones for the live consultations of withdrawn papers.
async fn entomb_consultations(db: &impl ConnectionTrait, items: &mut [Consultation]) -> Result<()> {
    let papers: Vec<Uuid> = items
        .iter()
        .filter(|c| !c.meta.is_deleted())
        .map(|c| c.paper_id.as_uuid())
        .collect();
    if papers.is_empty() {
        return Ok(());
    }
    let hidden: Vec<Uuid> = paper::Entity::find()
        .select_only()
        .column(paper::Column::Id)
        .filter(paper::Column::Id.is_in(papers))
        .filter(paper::Column::Public.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    if hidden.is_empty() {
        return Ok(());
    }
    let withdrawals = withdrawn::times(db, &hidden).await?;
    for item in items.iter_mut().filter(|c| !c.meta.is_deleted()) {
        let paper = item.paper_id.as_uuid();
        if hidden.contains(&paper) {
            let at = withdrawals
                .get(&paper)
                .copied()
                .unwrap_or(item.meta.modified);
            entomb(item, at);
        }
    }
    Ok(())
}

/// Tombstones for the live papers that were withdrawn.
async fn entomb_papers(db: &impl ConnectionTrait, items: &mut [Paper]) -> Result<()> {
    let hidden: Vec<Uuid> = items
        .iter()
        .filter(|p| !p.public && !p.meta.is_deleted())
        .map(|p| p.id.as_uuid())
        .collect();
    let withdrawals = withdrawn::times(db, &hidden).await?;
    for item in items.iter_mut() {
        if !item.meta.is_deleted()
            && let Some(at) = went(item.id.as_uuid(), &item.meta, item.public, &withdrawals)
        {
            entomb(item, at);
        }
    }
    Ok(())
}

/// Tombstones for the live files whose paper or agenda item turned non-public, or whose meeting
/// (or agenda item's meeting) was deleted.
async fn finish_files(db: &impl ConnectionTrait, mut items: Vec<File>) -> Result<Vec<File>> {
    let live: Vec<&File> = items.iter().filter(|f| !f.meta.is_deleted()).collect();
    if live.is_empty() {
        return Ok(items);
    }
    let paper_ids: Vec<Uuid> = live
        .iter()
        .filter_map(|f| f.paper_id.map(|p| p.as_uuid()))
        .collect();
    let item_ids: Vec<Uuid> = live
        .iter()
        .filter_map(|f| f.agenda_item_id.map(|i| i.as_uuid()))
        .collect();
    let meeting_ids: Vec<Uuid> = live
        .iter()
        .filter_map(|f| f.meeting_id.map(|m| m.as_uuid()))
        .collect();
    // Papers.
    let papers: Vec<(Uuid, DateTime<Utc>, bool)> = paper::Entity::find()
        .select_only()
        .column(paper::Column::Id)
        .column(paper::Column::Modified)
        .column(paper::Column::Public)
        .filter(paper::Column::Id.is_in(paper_ids))
        .into_tuple()
        .all(db)
        .await?;
    let hidden: Vec<Uuid> = papers
        .iter()
        .filter(|(.., public)| !public)
        .map(|(id, ..)| *id)
        .collect();
    let withdrawals = withdrawn::times(db, &hidden).await?;
    let mut gone: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for (id, modified, public) in papers {
        let meta = Meta {
            created: modified,
            modified,
            deleted: None,
        };
        if let Some(at) = went(id, &meta, public, &withdrawals) {
            gone.insert(id, at);
        }
    }
    // Agenda items.
    let agenda: Vec<(Uuid, Uuid, DateTime<Utc>, bool)> = agenda_item::Entity::find()
        .select_only()
        .column(agenda_item::Column::Id)
        .column(agenda_item::Column::MeetingId)
        .column(agenda_item::Column::Modified)
        .column(agenda_item::Column::Public)
        .filter(agenda_item::Column::Id.is_in(item_ids))
        .into_tuple()
        .all(db)
        .await?;
    let states: Vec<(Uuid, Uuid, Meta, bool)> = agenda
        .into_iter()
        .map(|(id, meeting, modified, public)| {
            let meta = Meta {
                created: modified,
                modified,
                deleted: None,
            };
            (id, meeting, meta, public)
        })
        .collect();
    gone.extend(agenda_items_gone(db, &states).await?);
    // Meetings.
    gone.extend(meeting_deletions(db, &meeting_ids).await?);
    for file in items.iter_mut().filter(|f| !f.meta.is_deleted()) {
        let at = [
            file.paper_id.map(|p| p.as_uuid()),
            file.agenda_item_id.map(|i| i.as_uuid()),
            file.meeting_id.map(|m| m.as_uuid()),
        ]
        .into_iter()
        .flatten()
        .filter_map(|parent| gone.get(&parent).copied())
        .max();
        if let Some(at) = at {
            entomb(file, at);
        }
    }
    Ok(items)
}

// --- Public modification times -------------------------------------------------------------

async fn finish_bodies(db: &impl ConnectionTrait, mut items: Vec<Body>) -> Result<Vec<Body>> {
    let ids = uuids(&items, |b| b.id.as_uuid());
    use legislative_term::Column as T;
    let latest = latest::<legislative_term::Entity>(db, T::BodyId, T::Modified, &ids).await?;
    apply(&mut items, &latest);
    Ok(items)
}

async fn finish_organizations(
    db: &impl ConnectionTrait,
    mut items: Vec<Organization>,
) -> Result<Vec<Organization>> {
    let ids = uuids(&items, |o| o.id.as_uuid());
    use membership::Column as M;
    let latest = latest::<membership::Entity>(db, M::OrganizationId, M::Modified, &ids).await?;
    apply(&mut items, &latest);
    Ok(items)
}

async fn finish_persons(db: &impl ConnectionTrait, mut items: Vec<Person>) -> Result<Vec<Person>> {
    let ids = uuids(&items, |p| p.id.as_uuid());
    use membership::Column as M;
    let latest = latest::<membership::Entity>(db, M::PersonId, M::Modified, &ids).await?;
    apply(&mut items, &latest);
    // Persons no longer published are tombstones from their withdrawal on.
    let hidden: Vec<Uuid> = items
        .iter()
        .filter(|p| !p.published && !p.meta.is_deleted())
        .map(|p| p.id.as_uuid())
        .collect();
    let withdrawals = withdrawn::times(db, &hidden).await?;
    for item in items.iter_mut() {
        if !item.meta.is_deleted()
            && let Some(at) = went(item.id.as_uuid(), &item.meta, item.published, &withdrawals)
        {
            entomb(item, at);
        }
    }
    Ok(items)
}

async fn finish_locations(
    db: &impl ConnectionTrait,
    mut items: Vec<Location>,
) -> Result<Vec<Location>> {
    let ids = uuids(&items, |l| l.id.as_uuid());
    use meeting::Column as M;
    let latest = latest::<meeting::Entity>(db, M::LocationId, M::Modified, &ids).await?;
    apply(&mut items, &latest);
    Ok(items)
}

/// Latest change per agenda item id: its files and consultations.
async fn agenda_item_changes(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, DateTime<Utc>>> {
    use consultation::Column as C;
    use file::Column as F;
    let mut latest = latest::<file::Entity>(db, F::AgendaItemId, F::Modified, ids).await?;
    merge(
        &mut latest,
        latest_consultations(db, C::AgendaItemId, ids).await?,
    );
    Ok(latest)
}

async fn latest_consultations(
    db: &impl ConnectionTrait,
    parent: consultation::Column,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, DateTime<Utc>>> {
    latest::<consultation::Entity>(db, parent, consultation::Column::Modified, ids).await
}

async fn finish_agenda_items(
    db: &impl ConnectionTrait,
    mut items: Vec<AgendaItem>,
) -> Result<Vec<AgendaItem>> {
    let ids = uuids(&items, |i| i.id.as_uuid());
    let latest = agenda_item_changes(db, &ids).await?;
    apply(&mut items, &latest);
    entomb_agenda_items(db, &mut items).await?;
    Ok(items)
}

async fn finish_meetings(
    db: &impl ConnectionTrait,
    mut items: Vec<Meeting>,
) -> Result<Vec<Meeting>> {
    let ids = uuids(&items, |m| m.id.as_uuid());
    if ids.is_empty() {
        return Ok(items);
    }
    // Every agenda item of these meetings, public or not, deleted or not: only times are used.
    let agenda: Vec<(Uuid, Uuid, DateTime<Utc>)> = agenda_item::Entity::find()
        .select_only()
        .column(agenda_item::Column::Id)
        .column(agenda_item::Column::MeetingId)
        .column(agenda_item::Column::Modified)
        .filter(agenda_item::Column::MeetingId.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let item_ids: Vec<Uuid> = agenda.iter().map(|(id, _, _)| *id).collect();
    let item_changes = agenda_item_changes(db, &item_ids).await?;
    let mut changes = HashMap::new();
    for (item, meeting, at) in agenda {
        bump(&mut changes, meeting, at);
        if let Some(changed) = item_changes.get(&item) {
            bump(&mut changes, meeting, *changed);
        }
    }
    use file::Column as F;
    merge(
        &mut changes,
        latest::<file::Entity>(db, F::MeetingId, F::Modified, &ids).await?,
    );
    use invitation::Column as I;
    merge(
        &mut changes,
        latest::<invitation::Entity>(db, I::MeetingId, I::IssuedAt, &ids).await?,
    );
    let location_ids: Vec<Uuid> = items
        .iter()
        .filter_map(|m| m.location_id.map(|l| l.as_uuid()))
        .collect();
    let locations: Vec<(Uuid, DateTime<Utc>)> = location::Entity::find()
        .select_only()
        .column(location::Column::Id)
        .column(location::Column::Modified)
        .filter(location::Column::Id.is_in(location_ids))
        .into_tuple()
        .all(db)
        .await?;
    let mut locations: HashMap<Uuid, DateTime<Utc>> = locations.into_iter().collect();
    // The embedded location is as new as its own public `modified`, which follows the meetings
    // held there (see `finish_locations`): so a meeting changes with the others at its location.
    let location_ids: Vec<Uuid> = locations.keys().copied().collect();
    use meeting::Column as M;
    merge(
        &mut locations,
        latest::<meeting::Entity>(db, M::LocationId, M::Modified, &location_ids).await?,
    );
    for meeting in &items {
        if let Some(at) = meeting
            .location_id
            .and_then(|l| locations.get(&l.as_uuid()))
        {
            bump(&mut changes, meeting.id.as_uuid(), *at);
        }
    }
    apply(&mut items, &changes);
    Ok(items)
}

async fn finish_papers(db: &impl ConnectionTrait, mut items: Vec<Paper>) -> Result<Vec<Paper>> {
    let ids = uuids(&items, |p| p.id.as_uuid());
    use file::Column as F;
    let mut latest = latest::<file::Entity>(db, F::PaperId, F::Modified, &ids).await?;
    merge(
        &mut latest,
        latest_consultations(db, consultation::Column::PaperId, &ids).await?,
    );
    apply(&mut items, &latest);
    entomb_papers(db, &mut items).await?;
    Ok(items)
}

/// Drops links from consultations to agenda items the public may not see (non-public, deleted,
/// or of a deleted meeting).
async fn finish_consultations(
    db: &impl ConnectionTrait,
    mut items: Vec<Consultation>,
) -> Result<Vec<Consultation>> {
    entomb_consultations(db, &mut items).await?;
    let linked: Vec<Uuid> = items
        .iter()
        .filter_map(|c| c.agenda_item_id.map(|i| i.as_uuid()))
        .collect();
    if linked.is_empty() {
        return Ok(items);
    }
    let public: HashSet<Uuid> = agenda_item::Entity::find()
        .select_only()
        .column(agenda_item::Column::Id)
        .filter(agenda_item::Column::Id.is_in(linked))
        .filter(agenda_item::Column::Public.eq(true))
        .filter(agenda_item::Column::Deleted.is_null())
        .filter(agenda_item::Column::MeetingId.not_in_subquery(deleted_meetings(None)))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    for item in &mut items {
        if item
            .agenda_item_id
            .is_some_and(|i| !public.contains(&i.as_uuid()))
        {
            item.agenda_item_id = None;
        }
    }
    Ok(items)
}

// --- Lists ---------------------------------------------------------------------------------

/// Every body.
pub async fn bodies(db: &impl ConnectionTrait, req: &PageRequest) -> Result<Page<Body>> {
    page::<Body>(db, Condition::all(), req)
        .await?
        .then(|items| finish_bodies(db, items))
        .await
}

pub async fn legislative_terms(
    db: &impl ConnectionTrait,
    body: BodyId,
    req: &PageRequest,
) -> Result<Page<LegislativeTerm>> {
    let scope = Condition::all().add(legislative_term::Column::BodyId.eq(body.as_uuid()));
    page(db, scope, req).await
}

pub async fn organizations(
    db: &impl ConnectionTrait,
    body: BodyId,
    req: &PageRequest,
) -> Result<Page<Organization>> {
    let scope = Condition::all().add(organization::Column::BodyId.eq(body.as_uuid()));
    page(db, scope, req)
        .await?
        .then(|items| finish_organizations(db, items))
        .await
}

pub async fn persons(
    db: &impl ConnectionTrait,
    body: BodyId,
    req: &PageRequest,
) -> Result<Page<Person>> {
    let scope = Condition::all().add(person::Column::BodyId.eq(body.as_uuid()));
    page(db, scope, req)
        .await?
        .then(|items| finish_persons(db, items))
        .await
}

/// Memberships of the body's persons.
pub async fn memberships(
    db: &impl ConnectionTrait,
    body: BodyId,
    req: &PageRequest,
) -> Result<Page<Membership>> {
    let persons = ids::<person::Entity>(
        person::Column::Id,
        Condition::all().add(person::Column::BodyId.eq(body.as_uuid())),
    );
    let scope = Condition::all().add(membership::Column::PersonId.in_subquery(persons));
    page(db, scope, req)
        .await?
        .then(|items| finish_memberships(db, items))
        .await
}

pub async fn locations(
    db: &impl ConnectionTrait,
    body: BodyId,
    req: &PageRequest,
) -> Result<Page<Location>> {
    let scope = Condition::all().add(location::Column::BodyId.eq(body.as_uuid()));
    page(db, scope, req)
        .await?
        .then(|items| finish_locations(db, items))
        .await
}

pub async fn meetings(
    db: &impl ConnectionTrait,
    scope: MeetingScope,
    req: &PageRequest,
) -> Result<Page<Meeting>> {
    let scope = match scope {
        MeetingScope::Body(body) => Condition::all()
            .add(meeting::Column::OrganizationId.in_subquery(organizations_of(body))),
        MeetingScope::Organization(organization) => {
            Condition::all().add(meeting::Column::OrganizationId.eq(organization.as_uuid()))
        }
    };
    page(db, scope, req)
        .await?
        .then(|items| finish_meetings(db, items))
        .await
}

/// Public agenda items of the body's meetings.
pub async fn agenda_items(
    db: &impl ConnectionTrait,
    body: BodyId,
    req: &PageRequest,
) -> Result<Page<AgendaItem>> {
    let scope = Condition::all().add(agenda_item::Column::MeetingId.in_subquery(meetings_of(body)));
    page(db, scope, req)
        .await?
        .then(|items| finish_agenda_items(db, items))
        .await
}

/// Public papers of the body.
pub async fn papers(
    db: &impl ConnectionTrait,
    body: BodyId,
    req: &PageRequest,
) -> Result<Page<Paper>> {
    let scope = Condition::all().add(paper::Column::BodyId.eq(body.as_uuid()));
    page(db, scope, req)
        .await?
        .then(|items| finish_papers(db, items))
        .await
}

/// Consultations of the body's public papers.
pub async fn consultations(
    db: &impl ConnectionTrait,
    body: BodyId,
    req: &PageRequest,
) -> Result<Page<Consultation>> {
    let papers = ids::<paper::Entity>(
        paper::Column::Id,
        Condition::all().add(paper::Column::BodyId.eq(body.as_uuid())),
    );
    let scope = Condition::all().add(consultation::Column::PaperId.in_subquery(papers));
    page(db, scope, req)
        .await?
        .then(|items| finish_consultations(db, items))
        .await
}

/// The body's public files.
pub async fn files(
    db: &impl ConnectionTrait,
    body: BodyId,
    req: &PageRequest,
) -> Result<Page<File>> {
    let scope = Condition::all().add(file::Column::BodyId.eq(body.as_uuid()));
    page(db, scope, req)
        .await?
        .then(|items| finish_files(db, items))
        .await
}

// --- Single objects (tombstones included; `None` when missing or not public) ----------------

/// Whether the body exists and is not deleted (cheaper than [`body`]).
pub async fn body_is_live(db: &impl ConnectionTrait, id: BodyId) -> Result<bool> {
    is_live::<Body>(db, id.as_uuid()).await
}

/// Whether the organization exists and is not deleted (cheaper than [`organization`]).
pub async fn organization_is_live(db: &impl ConnectionTrait, id: OrganizationId) -> Result<bool> {
    is_live::<Organization>(db, id.as_uuid()).await
}

async fn is_live<R: Public>(db: &impl ConnectionTrait, id: Uuid) -> Result<bool> {
    let cols = R::cols();
    let condition = Condition::all()
        .add(cols.id.eq(id))
        .add(cols.deleted.is_null())
        .add(R::visible());
    Ok(count::<R>(db, condition).await? > 0)
}

pub async fn body(db: &impl ConnectionTrait, id: BodyId) -> Result<Option<Body>> {
    let found = one::<Body>(db, id.as_uuid()).await?;
    Ok(finish_bodies(db, found.into_iter().collect()).await?.pop())
}

pub async fn legislative_term(
    db: &impl ConnectionTrait,
    id: LegislativeTermId,
) -> Result<Option<LegislativeTerm>> {
    one(db, id.as_uuid()).await
}

pub async fn organization(
    db: &impl ConnectionTrait,
    id: OrganizationId,
) -> Result<Option<Organization>> {
    let found = one::<Organization>(db, id.as_uuid()).await?;
    Ok(finish_organizations(db, found.into_iter().collect())
        .await?
        .pop())
}

pub async fn person(db: &impl ConnectionTrait, id: PersonId) -> Result<Option<Person>> {
    let found = one::<Person>(db, id.as_uuid()).await?;
    Ok(finish_persons(db, found.into_iter().collect()).await?.pop())
}

pub async fn membership(db: &impl ConnectionTrait, id: MembershipId) -> Result<Option<Membership>> {
    let found = one::<Membership>(db, id.as_uuid()).await?;
    Ok(finish_memberships(db, found.into_iter().collect())
        .await?
        .pop())
}

/// A membership's public `modified` includes its person's other memberships (deleted ones
/// too): they decide `onBehalfOf`.
async fn finish_memberships(
    db: &impl ConnectionTrait,
    mut items: Vec<Membership>,
) -> Result<Vec<Membership>> {
    let persons = uuids(&items, |m| m.person_id.as_uuid());
    raise_to_persons_latest(db, &mut items).await?;
    // Memberships of persons no longer published are tombstones, like their person.
    let hidden: Vec<Uuid> = person::Entity::find()
        .select_only()
        .column(person::Column::Id)
        .filter(person::Column::Id.is_in(persons))
        .filter(person::Column::Published.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    if !hidden.is_empty() {
        let withdrawals = withdrawn::times(db, &hidden).await?;
        for item in items.iter_mut().filter(|m| !m.meta.is_deleted()) {
            let person = item.person_id.as_uuid();
            if hidden.contains(&person) {
                let at = withdrawals
                    .get(&person)
                    .copied()
                    .unwrap_or(item.meta.modified);
                entomb(item, at);
            }
        }
    }
    Ok(items)
}

/// A membership's `modified` is the latest of its person's memberships: it names the fraction
/// its person sits for (`onBehalfOf`), which changes with the person's other memberships. Applied
/// wherever a membership is served — standalone, in lists and embedded in its person — so every
/// copy of it is the same.
async fn raise_to_persons_latest(
    db: &impl ConnectionTrait,
    items: &mut [Membership],
) -> Result<()> {
    use membership::Column as M;
    let persons = uuids(items, |m| m.person_id.as_uuid());
    let latest = latest::<membership::Entity>(db, M::PersonId, M::Modified, &persons).await?;
    for item in items.iter_mut() {
        if let Some(at) = latest.get(&item.person_id.as_uuid())
            && *at > item.meta.modified
        {
            item.meta.modified = *at;
        }
    }
    Ok(())
}

/// Which of these persons the public may see (live and published).
pub async fn published_persons_among(
    db: &impl ConnectionTrait,
    persons: &[Uuid],
) -> Result<HashSet<Uuid>> {
    if persons.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(person::Entity::find()
        .select_only()
        .column(person::Column::Id)
        .filter(person::Column::Id.is_in(persons.iter().copied()))
        .filter(person::Column::Published.eq(true))
        .filter(person::Column::Deleted.is_null())
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The papers' originator persons that the public may see (live and published), in order
/// (papers without any are missing).
pub async fn published_originators_of(
    db: &impl ConnectionTrait,
    papers: &[PaperId],
) -> Result<HashMap<PaperId, Vec<PersonId>>> {
    let mut all = crate::originators::of_papers(db, papers).await?;
    let named: Vec<Uuid> = all
        .values()
        .flatten()
        .map(|p| p.as_uuid())
        .collect::<HashSet<Uuid>>()
        .into_iter()
        .collect();
    if named.is_empty() {
        return Ok(all);
    }
    let visible = published_persons_among(db, &named).await?;
    for persons in all.values_mut() {
        persons.retain(|p| visible.contains(&p.as_uuid()));
    }
    all.retain(|_, persons| !persons.is_empty());
    Ok(all)
}

/// The persons' live memberships in fractions (for `Membership.onBehalfOf`).
pub async fn fraction_memberships_of_persons(
    db: &impl ConnectionTrait,
    persons: &[PersonId],
) -> Result<Vec<Membership>> {
    use membership::Column as M;
    let fractions = ids::<organization::Entity>(
        organization::Column::Id,
        Condition::all()
            .add(organization::Column::Kind.eq(OrganizationKind::Fraction.as_str()))
            .add(organization::Column::Deleted.is_null()),
    );
    let scope = Condition::all()
        .add(M::PersonId.is_in(persons.iter().map(|p| p.as_uuid())))
        .add(M::OrganizationId.in_subquery(fractions));
    live(db, scope, [M::StartDate, M::Id]).await
}

pub async fn location(db: &impl ConnectionTrait, id: LocationId) -> Result<Option<Location>> {
    let found = one::<Location>(db, id.as_uuid()).await?;
    Ok(finish_locations(db, found.into_iter().collect())
        .await?
        .pop())
}

pub async fn meeting(db: &impl ConnectionTrait, id: MeetingId) -> Result<Option<Meeting>> {
    let found = one::<Meeting>(db, id.as_uuid()).await?;
    Ok(finish_meetings(db, found.into_iter().collect())
        .await?
        .pop())
}

pub async fn agenda_item(
    db: &impl ConnectionTrait,
    id: AgendaItemId,
) -> Result<Option<AgendaItem>> {
    let found = one::<AgendaItem>(db, id.as_uuid()).await?;
    Ok(finish_agenda_items(db, found.into_iter().collect())
        .await?
        .pop())
}

pub async fn paper(db: &impl ConnectionTrait, id: PaperId) -> Result<Option<Paper>> {
    let found = one::<Paper>(db, id.as_uuid()).await?;
    Ok(finish_papers(db, found.into_iter().collect()).await?.pop())
}

pub async fn consultation(
    db: &impl ConnectionTrait,
    id: ConsultationId,
) -> Result<Option<Consultation>> {
    let found = one::<Consultation>(db, id.as_uuid()).await?;
    Ok(finish_consultations(db, found.into_iter().collect())
        .await?
        .pop())
}

pub async fn file(db: &impl ConnectionTrait, id: FileId) -> Result<Option<File>> {
    let found = one::<File>(db, id.as_uuid()).await?;
    Ok(finish_files(db, found.into_iter().collect()).await?.pop())
}

// --- Embedded objects (live and public only) -----------------------------------------------

/// The bodies' live legislative terms, by start date.
pub async fn terms_of_bodies(
    db: &impl ConnectionTrait,
    bodies: &[BodyId],
) -> Result<Vec<LegislativeTerm>> {
    use legislative_term::Column as T;
    let scope = Condition::all().add(T::BodyId.is_in(bodies.iter().map(|b| b.as_uuid())));
    live(db, scope, [T::StartDate, T::Id]).await
}

/// The persons' live memberships, by start date.
pub async fn memberships_of_persons(
    db: &impl ConnectionTrait,
    persons: &[PersonId],
) -> Result<Vec<Membership>> {
    use membership::Column as M;
    let scope = Condition::all().add(M::PersonId.is_in(persons.iter().map(|p| p.as_uuid())));
    let mut items = live(db, scope, [M::StartDate, M::Id]).await?;
    raise_to_persons_latest(db, &mut items).await?;
    Ok(items)
}

/// The organizations' live memberships, by start date.
pub async fn memberships_of_organizations(
    db: &impl ConnectionTrait,
    organizations: &[OrganizationId],
) -> Result<Vec<Membership>> {
    use membership::Column as M;
    let scope =
        Condition::all().add(M::OrganizationId.is_in(organizations.iter().map(|o| o.as_uuid())));
    let mut items = live(db, scope, [M::StartDate, M::Id]).await?;
    raise_to_persons_latest(db, &mut items).await?;
    Ok(items)
}

/// The meetings' live public agenda items, by position.
pub async fn agendas_of_meetings(
    db: &impl ConnectionTrait,
    meetings: &[MeetingId],
) -> Result<Vec<AgendaItem>> {
    use agenda_item::Column as A;
    let scope = Condition::all().add(A::MeetingId.is_in(meetings.iter().map(|m| m.as_uuid())));
    let items = live(db, scope, [A::Position, A::Id]).await?;
    finish_agenda_items(db, items).await
}

/// Live public consultations of the papers, in Beratungsfolge order.
pub async fn consultations_of_papers(
    db: &impl ConnectionTrait,
    papers: &[PaperId],
) -> Result<Vec<Consultation>> {
    use consultation::Column as C;
    let scope = Condition::all().add(C::PaperId.is_in(papers.iter().map(|p| p.as_uuid())));
    let items = live(db, scope, [C::Position, C::Id]).await?;
    finish_consultations(db, items).await
}

/// Live public consultations held on the agenda items.
pub async fn consultations_of_agenda_items(
    db: &impl ConnectionTrait,
    items: &[AgendaItemId],
) -> Result<Vec<Consultation>> {
    use consultation::Column as C;
    let scope = Condition::all().add(C::AgendaItemId.is_in(items.iter().map(|i| i.as_uuid())));
    let found = live(db, scope, [C::Position, C::Id]).await?;
    finish_consultations(db, found).await
}

/// Live public files attached to the papers, meetings or agenda items, by name.
pub async fn files_attached_to(
    db: &impl ConnectionTrait,
    papers: &[PaperId],
    meetings: &[MeetingId],
    items: &[AgendaItemId],
) -> Result<Vec<File>> {
    use file::Column as F;
    if papers.is_empty() && meetings.is_empty() && items.is_empty() {
        return Ok(Vec::new());
    }
    let scope = Condition::any()
        .add(F::PaperId.is_in(papers.iter().map(|p| p.as_uuid())))
        .add(F::MeetingId.is_in(meetings.iter().map(|m| m.as_uuid())))
        .add(F::AgendaItemId.is_in(items.iter().map(|i| i.as_uuid())));
    live(db, scope, [F::Name, F::Id]).await
}

/// Live locations with these ids.
pub async fn locations_by_id(
    db: &impl ConnectionTrait,
    ids: &[LocationId],
) -> Result<Vec<Location>> {
    use location::Column as L;
    let scope = Condition::all().add(L::Id.is_in(ids.iter().map(|l| l.as_uuid())));
    let found = live(db, scope, [L::Id]).await?;
    finish_locations(db, found).await
}

/// Live meetings held at the locations: (location, meeting), by start.
pub async fn meetings_at_locations(
    db: &impl ConnectionTrait,
    locations: &[LocationId],
) -> Result<Vec<(LocationId, MeetingId)>> {
    use meeting::Column as M;
    let rows: Vec<(Uuid, Uuid)> = meeting::Entity::find()
        .select_only()
        .column(M::LocationId)
        .column(M::Id)
        .filter(M::LocationId.is_in(locations.iter().map(|l| l.as_uuid())))
        .filter(M::Deleted.is_null())
        .order_by_asc(M::Start)
        .order_by_asc(M::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(location, meeting)| (location.into(), meeting.into()))
        .collect())
}

// --- Calendar --------------------------------------------------------------------------------

/// Every live, not cancelled meeting of every body, by start, with the live locations they use.
pub async fn calendar(db: &impl ConnectionTrait) -> Result<(Vec<Meeting>, Vec<Location>)> {
    use meeting::Column as M;
    let scope = Condition::all().add(M::State.ne(MeetingState::Cancelled.as_str()));
    let meetings = live::<Meeting>(db, scope, [M::Start, M::Id]).await?;
    let meetings = finish_meetings(db, meetings).await?;
    let mut location_ids: Vec<LocationId> = meetings.iter().filter_map(|m| m.location_id).collect();
    location_ids.sort();
    location_ids.dedup();
    let locations = locations_by_id(db, &location_ids).await?;
    Ok((meetings, locations))
}

/// The papers linked to each of these papers that the public may see (live and public), by id
/// (papers without any are missing): OParl's `relatedPaper`.
pub async fn public_related_of(
    db: &impl ConnectionTrait,
    papers: &[PaperId],
) -> Result<HashMap<PaperId, Vec<PaperId>>> {
    let mut all = crate::related::of_papers(db, papers).await?;
    let named: Vec<Uuid> = all
        .values()
        .flatten()
        .map(|p| p.as_uuid())
        .collect::<HashSet<Uuid>>()
        .into_iter()
        .collect();
    if named.is_empty() {
        return Ok(all);
    }
    let visible: HashSet<Uuid> = paper::Entity::find()
        .select_only()
        .column(paper::Column::Id)
        .filter(paper::Column::Id.is_in(named))
        .filter(paper::Column::Public.eq(true))
        .filter(paper::Column::Deleted.is_null())
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    for related in all.values_mut() {
        related.retain(|p| visible.contains(&p.as_uuid()));
    }
    all.retain(|_, related| !related.is_empty());
    Ok(all)
}

/// Which of these organizations are live (for `underDirectionOf`).
pub async fn live_organizations_among(
    db: &impl ConnectionTrait,
    organizations: &[OrganizationId],
) -> Result<HashSet<OrganizationId>> {
    if organizations.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(organization::Entity::find()
        .select_only()
        .column(organization::Column::Id)
        .filter(organization::Column::Id.is_in(organizations.iter().map(|o| o.as_uuid())))
        .filter(organization::Column::Deleted.is_null())
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}
