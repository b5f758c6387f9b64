//! Queries for the member and clerk document API (meetings, agendas, papers and their files).
//! Unlike [`crate::query`], nothing here filters by visibility: the API decides with the domain
//! policy what a caller may see. Everything returned is live (not deleted).

use plenum_domain::*;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::Result;
use crate::entity::{consultation, file, paper};
use crate::record;

/// Live files attached to any of the papers, meetings or agenda items, by name.
pub async fn files_of(
    db: &impl ConnectionTrait,
    papers: &[PaperId],
    meetings: &[MeetingId],
    items: &[AgendaItemId],
) -> Result<Vec<File>> {
    use file::Column as F;
    if papers.is_empty() && meetings.is_empty() && items.is_empty() {
        return Ok(Vec::new());
    }
    let cond = Condition::any()
        .add(F::PaperId.is_in(papers.iter().map(|p| p.as_uuid())))
        .add(F::MeetingId.is_in(meetings.iter().map(|m| m.as_uuid())))
        .add(F::AgendaItemId.is_in(items.iter().map(|i| i.as_uuid())));
    record::list(db, cond, false, [F::Name, F::Id]).await
}

/// Live consultations of any of the papers, in Beratungsfolge order.
pub async fn consultations_of_papers(
    db: &impl ConnectionTrait,
    papers: &[PaperId],
) -> Result<Vec<Consultation>> {
    use consultation::Column as C;
    if papers.is_empty() {
        return Ok(Vec::new());
    }
    let cond = Condition::all().add(C::PaperId.is_in(papers.iter().map(|p| p.as_uuid())));
    record::list(db, cond, false, [C::PaperId, C::Position, C::Id]).await
}

/// Live consultations held on any of the agenda items.
pub async fn consultations_of_items(
    db: &impl ConnectionTrait,
    items: &[AgendaItemId],
) -> Result<Vec<Consultation>> {
    use consultation::Column as C;
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let cond = Condition::all().add(C::AgendaItemId.is_in(items.iter().map(|i| i.as_uuid())));
    record::list(db, cond, false, [C::Position, C::Id]).await
}

/// Live papers with these ids.
pub async fn papers_by_id(db: &impl ConnectionTrait, ids: &[PaperId]) -> Result<Vec<Paper>> {
    use paper::Column as P;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let cond = Condition::all().add(P::Id.is_in(ids.iter().map(|p| p.as_uuid())));
    record::list(db, cond, false, [P::Id]).await
}

/// One page of live public papers, newest first (by date, then reference): the papers and
/// whether another page follows. `page` counts from 1.
pub async fn public_papers(
    db: &impl ConnectionTrait,
    page: u64,
    per_page: u64,
) -> Result<(Vec<Paper>, bool)> {
    use paper::Column as P;
    use sea_orm::QuerySelect;
    // SQL offsets and limits are signed 64-bit: anything larger would make the query builder
    // panic, so both are capped (the API rejects such pages long before).
    let cap = |n: u64| n.min(i64::MAX as u64);
    let offset = cap(page.saturating_sub(1).saturating_mul(per_page));
    let models = paper::Entity::find()
        .filter(P::Public.eq(true))
        .filter(P::Deleted.is_null())
        .order_by_desc(P::Date)
        .order_by_asc(P::Reference)
        .order_by_asc(P::Id)
        .offset(offset)
        .limit(cap(per_page.saturating_add(1)))
        .all(db)
        .await?;
    let more = models.len() as u64 > per_page;
    let papers = models
        .into_iter()
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .map(<Paper as record::Record>::from_model)
        .collect::<Result<Vec<_>>>()?;
    Ok((papers, more))
}
