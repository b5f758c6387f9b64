//! Papers a clerk linked to each other (OParl's `Paper.relatedPaper`). A link holds in both
//! directions, so it is stored as two rows; writing one paper's links rewrites the other side
//! too, and raises the `modified` of every paper whose list gained or lost an entry.

use std::collections::{BTreeSet, HashMap};

use plenum_domain::PaperId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder,
};

use crate::Result;
use crate::entity::{paper, paper_related as row};

/// The papers linked to each of these papers (any visibility; papers without links are
/// missing), by id.
pub async fn of_papers(
    db: &impl ConnectionTrait,
    papers: &[PaperId],
) -> Result<HashMap<PaperId, Vec<PaperId>>> {
    let mut out: HashMap<PaperId, Vec<PaperId>> = HashMap::new();
    if papers.is_empty() {
        return Ok(out);
    }
    let rows = row::Entity::find()
        .filter(row::Column::PaperId.is_in(papers.iter().map(|p| p.as_uuid())))
        .order_by_asc(row::Column::PaperId)
        .order_by_asc(row::Column::RelatedPaperId)
        .all(db)
        .await?;
    for r in rows {
        out.entry(r.paper_id.into())
            .or_default()
            .push(r.related_paper_id.into());
    }
    Ok(out)
}

/// The papers linked to `paper`.
pub async fn of(db: &impl ConnectionTrait, paper: PaperId) -> Result<Vec<PaperId>> {
    Ok(of_papers(db, &[paper])
        .await?
        .remove(&paper)
        .unwrap_or_default())
}

/// Replaces the links of `paper` with `related` (the caller checked that they are other live
/// papers of its body), in both directions. The papers that gained or lost the link count as
/// changed now; `paper` itself is the caller's to write.
pub async fn set(db: &impl ConnectionTrait, paper: PaperId, related: &[PaperId]) -> Result<()> {
    let at = crate::record::now();
    let before: BTreeSet<PaperId> = of(db, paper).await?.into_iter().collect();
    let after: BTreeSet<PaperId> = related.iter().copied().collect();
    let id = paper.as_uuid();
    row::Entity::delete_many()
        .filter(
            Condition::any()
                .add(row::Column::PaperId.eq(id))
                .add(row::Column::RelatedPaperId.eq(id)),
        )
        .exec(db)
        .await?;
    for other in &after {
        for (from, to) in [(id, other.as_uuid()), (other.as_uuid(), id)] {
            row::ActiveModel {
                paper_id: Set(from),
                related_paper_id: Set(to),
            }
            .insert(db)
            .await?;
        }
    }
    let changed: Vec<uuid::Uuid> = before
        .symmetric_difference(&after)
        .map(|p| p.as_uuid())
        .collect();
    if !changed.is_empty() {
        paper::Entity::update_many()
            .col_expr(paper::Column::Modified, Expr::value(at))
            .filter(paper::Column::Id.is_in(changed))
            .filter(paper::Column::Modified.lt(at))
            .exec(db)
            .await?;
    }
    Ok(())
}
