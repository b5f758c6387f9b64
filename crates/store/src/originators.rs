//! The persons who submitted a paper (e.g. the members signing a motion), in order: OParl's
//! `Paper.originatorPerson`. Written by the clerk with the paper (`PATCH /api/v1/papers/{id}`);
//! the caller bumps the paper's `modified` in the same transaction.

use std::collections::HashMap;

use plenum_domain::{PaperId, PersonId};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use crate::Result;
use crate::entity::paper_originator_person as row;

/// The paper's originator persons, in order.
pub async fn of(db: &impl ConnectionTrait, paper: PaperId) -> Result<Vec<PersonId>> {
    Ok(of_papers(db, &[paper])
        .await?
        .remove(&paper)
        .unwrap_or_default())
}

/// The originator persons of each of these papers, in order (papers without any are missing).
pub async fn of_papers(
    db: &impl ConnectionTrait,
    papers: &[PaperId],
) -> Result<HashMap<PaperId, Vec<PersonId>>> {
    let mut out: HashMap<PaperId, Vec<PersonId>> = HashMap::new();
    if papers.is_empty() {
        return Ok(out);
    }
    let rows = row::Entity::find()
        .filter(row::Column::PaperId.is_in(papers.iter().map(|p| p.as_uuid())))
        .order_by_asc(row::Column::PaperId)
        .order_by_asc(row::Column::Position)
        .all(db)
        .await?;
    for r in rows {
        out.entry(r.paper_id.into())
            .or_default()
            .push(r.person_id.into());
    }
    Ok(out)
}

/// Replaces the paper's originator persons (the caller checked that they are distinct persons of
/// the paper's body).
pub async fn set(db: &impl ConnectionTrait, paper: PaperId, persons: &[PersonId]) -> Result<()> {
    row::Entity::delete_many()
        .filter(row::Column::PaperId.eq(paper.as_uuid()))
        .exec(db)
        .await?;
    for (position, person) in persons.iter().enumerate() {
        row::ActiveModel {
            paper_id: Set(paper.as_uuid()),
            person_id: Set(person.as_uuid()),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}
