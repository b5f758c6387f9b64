//! Objects that were public and turned non-public (agenda items, papers). OParl keeps serving
//! them as tombstones, like deleted objects, so a client that synced them learns that they are
//! gone; objects that were never public stay unknown to the public. Written by the generic
//! update (`record::update`) when an object's `public` flag changes.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::SelectStatement;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait};
use sea_orm::{QueryFilter, QuerySelect, QueryTrait};
use std::collections::HashMap;
use uuid::Uuid;

use crate::Result;
use crate::entity::withdrawn;

/// Records that the object turned non-public at `at` (a later withdrawal replaces an earlier).
pub async fn mark(
    db: &impl ConnectionTrait,
    id: Uuid,
    kind: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    clear(db, id).await?;
    withdrawn::ActiveModel {
        object_id: Set(id),
        kind: Set(kind.to_owned()),
        at: Set(at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The object is public again.
pub async fn clear(db: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    withdrawn::Entity::delete_many()
        .filter(withdrawn::Column::ObjectId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// When each of these objects was withdrawn (objects never withdrawn are missing).
pub async fn times(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, DateTime<Utc>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, DateTime<Utc>)> = withdrawn::Entity::find()
        .select_only()
        .column(withdrawn::Column::ObjectId)
        .column(withdrawn::Column::At)
        .filter(withdrawn::Column::ObjectId.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// `SELECT object_id FROM withdrawn`: the ids of every withdrawn object.
pub(crate) fn ids() -> SelectStatement {
    withdrawn::Entity::find()
        .select_only()
        .column(withdrawn::Column::ObjectId)
        .into_query()
}
