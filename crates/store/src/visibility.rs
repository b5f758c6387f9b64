//! OParl's `modified` follows visibility.
//!
//! An object's public `modified` (see [`crate::query`]) is derived on read from the rows its
//! OParl JSON *embeds* (a meeting's agenda items, a paper's consultations and files, …). Some
//! JSON instead depends on whether *another* object may be seen: an agenda item links its
//! consultation only while the consultation's paper is public; a consultation links its agenda
//! item only while that item is public; a consultation or file is a tombstone while its paper or
//! agenda item is non-public or deleted, and comes back when it is public again; the agenda items
//! and files of a deleted meeting are tombstones.
//!
//! So whenever an object's visibility changes (its `public` flag flips, or it is soft-deleted),
//! the generic write (`record::update`, `record::soft_delete`) calls [`touch_dependents`] in the
//! same transaction: it raises the stored `modified` of every row whose JSON shows that
//! visibility to the time of the change. The derivation on read then carries the change on to
//! the objects embedding those rows (the agenda item's meeting, the consultation's paper), and
//! the `modified_since` filters see it. One table of edges, one write path: no writer can forget.
//!
//! | whose visibility changes | rows whose JSON shows it |
//! |---|---|
//! | paper | its consultations and files; the agenda items its consultations are held on; the papers linked to it (`relatedPaper`) |
//! | organization (deleted) | the papers under its direction (`underDirectionOf`) |
//! | agenda item | the consultations held on it; its files |
//! | meeting (deleted) | its agenda items and files; the consultations held on its agenda items |
//! | person (published or not) | its memberships (and so the organizations listing them); the papers naming it as originator; the closed meetings of its organizations (`participant`) |
//!
//! A recorded decision is not a visibility change but shows the same way (an agenda item's
//! `result`): [`crate::decisions`] raises the item and the consultations held on it through
//! [`touch_decided`] whenever it records or removes one.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use sea_orm::{QueryTrait, sea_query::SelectStatement};
use uuid::Uuid;

use crate::Result;
use crate::entity::{
    agenda_item, consultation, file, meeting, membership, paper, paper_originator_person,
    paper_related,
};

/// Which kind of object changed its visibility (`Record::NAME`).
pub(crate) async fn touch_dependents(
    db: &impl ConnectionTrait,
    kind: &str,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    match kind {
        "paper" => {
            let items: SelectStatement = consultation::Entity::find()
                .select_only()
                .column(consultation::Column::AgendaItemId)
                .filter(consultation::Column::PaperId.eq(id))
                .filter(consultation::Column::AgendaItemId.is_not_null())
                .into_query();
            raise::<consultation::Entity>(
                db,
                Condition::all().add(consultation::Column::PaperId.eq(id)),
                consultation::Column::Modified,
                at,
            )
            .await?;
            raise::<file::Entity>(
                db,
                Condition::all().add(file::Column::PaperId.eq(id)),
                file::Column::Modified,
                at,
            )
            .await?;
            raise::<agenda_item::Entity>(
                db,
                Condition::all().add(agenda_item::Column::Id.in_subquery(items)),
                agenda_item::Column::Modified,
                at,
            )
            .await?;
            // Linked papers list it (`relatedPaper`) only while it is public.
            let related: SelectStatement = paper_related::Entity::find()
                .select_only()
                .column(paper_related::Column::RelatedPaperId)
                .filter(paper_related::Column::PaperId.eq(id))
                .into_query();
            raise::<paper::Entity>(
                db,
                Condition::all().add(paper::Column::Id.in_subquery(related)),
                paper::Column::Modified,
                at,
            )
            .await
        }
        "organization" => {
            // Papers name the organization in charge (`underDirectionOf`) only while it lives.
            raise::<paper::Entity>(
                db,
                Condition::all().add(paper::Column::UnderDirectionOfId.eq(id)),
                paper::Column::Modified,
                at,
            )
            .await
        }
        "agenda item" => {
            raise::<consultation::Entity>(
                db,
                Condition::all().add(consultation::Column::AgendaItemId.eq(id)),
                consultation::Column::Modified,
                at,
            )
            .await?;
            raise::<file::Entity>(
                db,
                Condition::all().add(file::Column::AgendaItemId.eq(id)),
                file::Column::Modified,
                at,
            )
            .await
        }
        "meeting" => {
            let items: SelectStatement = agenda_item::Entity::find()
                .select_only()
                .column(agenda_item::Column::Id)
                .filter(agenda_item::Column::MeetingId.eq(id))
                .into_query();
            raise::<consultation::Entity>(
                db,
                Condition::all().add(consultation::Column::AgendaItemId.in_subquery(items)),
                consultation::Column::Modified,
                at,
            )
            .await?;
            raise::<agenda_item::Entity>(
                db,
                Condition::all().add(agenda_item::Column::MeetingId.eq(id)),
                agenda_item::Column::Modified,
                at,
            )
            .await?;
            raise::<file::Entity>(
                db,
                Condition::all().add(file::Column::MeetingId.eq(id)),
                file::Column::Modified,
                at,
            )
            .await
        }
        "person" => {
            raise::<membership::Entity>(
                db,
                Condition::all().add(membership::Column::PersonId.eq(id)),
                membership::Column::Modified,
                at,
            )
            .await?;
            let papers: SelectStatement = paper_originator_person::Entity::find()
                .select_only()
                .column(paper_originator_person::Column::PaperId)
                .filter(paper_originator_person::Column::PersonId.eq(id))
                .into_query();
            raise::<paper::Entity>(
                db,
                Condition::all().add(paper::Column::Id.in_subquery(papers)),
                paper::Column::Modified,
                at,
            )
            .await?;
            // A closed meeting lists who took part; only its organization's members can have.
            let organizations: SelectStatement = membership::Entity::find()
                .select_only()
                .column(membership::Column::OrganizationId)
                .filter(membership::Column::PersonId.eq(id))
                .into_query();
            raise::<meeting::Entity>(
                db,
                Condition::all()
                    .add(meeting::Column::State.eq("closed"))
                    .add(meeting::Column::OrganizationId.in_subquery(organizations)),
                meeting::Column::Modified,
                at,
            )
            .await
        }
        _ => Ok(()),
    }
}

/// A decision was recorded on (or removed from) `item`: the item's OParl JSON shows it
/// (`result`, `resolutionText`), and so — through the derivation on read — do its meeting (which
/// embeds the agenda) and the papers consulted on it (which embed their consultations). Raises
/// the item's and those consultations' stored `modified` to `at`, so `modified_since` walks see
/// all three again.
pub(crate) async fn touch_decided(
    db: &impl ConnectionTrait,
    item: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    raise::<agenda_item::Entity>(
        db,
        Condition::all().add(agenda_item::Column::Id.eq(item)),
        agenda_item::Column::Modified,
        at,
    )
    .await?;
    raise::<consultation::Entity>(
        db,
        Condition::all().add(consultation::Column::AgendaItemId.eq(item)),
        consultation::Column::Modified,
        at,
    )
    .await
}

/// Every agenda item of the meeting counts as changed at `at` (its session closed, so the items
/// show when they were discussed).
pub(crate) async fn touch_agenda_of(
    db: &impl ConnectionTrait,
    meeting: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    raise::<agenda_item::Entity>(
        db,
        Condition::all().add(agenda_item::Column::MeetingId.eq(meeting)),
        agenda_item::Column::Modified,
        at,
    )
    .await
}

/// `UPDATE … SET modified = at WHERE condition AND modified < at`.
async fn raise<E: EntityTrait>(
    db: &impl ConnectionTrait,
    condition: Condition,
    modified: E::Column,
    at: DateTime<Utc>,
) -> Result<()> {
    E::update_many()
        .col_expr(modified, Expr::value(at))
        .filter(condition)
        .filter(modified.lt(at))
        .exec(db)
        .await?;
    Ok(())
}

/// The meeting's own JSON changed at `at` for a reason outside its rows (its minutes were
/// published or approved: OParl's `resultsProtocol`): raises its stored `modified`.
pub(crate) async fn touch_meeting(
    db: &impl ConnectionTrait,
    meeting: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    raise::<meeting::Entity>(
        db,
        Condition::all().add(meeting::Column::Id.eq(meeting)),
        meeting::Column::Modified,
        at,
    )
    .await
}
