//! The generic part of every repository: insert, get, update and soft delete of one record.

use chrono::{DateTime, SubsecRound, Utc};
use plenum_domain::{DomainError, Meta};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend,
    DbErr, EntityTrait, IntoActiveModel, PrimaryKeyTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::{Result, StoreError};

/// Timestamps are stored with microsecond precision (PostgreSQL's), so a value read back equals
/// the value written on both backends.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A domain type stored as one row of `Entity`.
pub(crate) trait Record: Sized + Send {
    type Entity: EntityTrait<Model = Self::Model, ActiveModel = Self::ActiveModel>;
    type Model: IntoActiveModel<Self::ActiveModel> + Send + Sync;
    type ActiveModel: ActiveModelTrait<Entity = Self::Entity> + ActiveModelBehavior + Send;

    /// The object's name in errors: `meeting`, `paper` …
    const NAME: &'static str;

    fn id(&self) -> Uuid;
    fn meta(&self) -> &Meta;
    fn meta_mut(&mut self) -> &mut Meta;
    fn validate(&self) -> Result<(), DomainError>;
    fn to_model(&self) -> Self::Model;
    fn from_model(model: Self::Model) -> Result<Self>;
    fn deleted_column() -> <Self::Entity as EntityTrait>::Column;
    /// The object's `public` flag, for objects that have one (agenda items, papers).
    fn public(&self) -> Option<bool> {
        None
    }
}

fn active<R: Record>(record: &R) -> R::ActiveModel {
    // `reset_all` marks every column as set, so inserts and updates write the whole row.
    record.to_model().into_active_model().reset_all()
}

/// Validates and inserts `record`; `created` and `modified` are set to now.
pub(crate) async fn insert<R: Record>(db: &impl ConnectionTrait, mut record: R) -> Result<R> {
    record.validate()?;
    *record.meta_mut() = Meta::new(now());
    R::Entity::insert(active(&record))
        .exec_without_returning(db)
        .await?;
    Ok(record)
}

/// The record with this id, deleted or not (OParl serves tombstones).
pub(crate) async fn get<R: Record>(db: &impl ConnectionTrait, id: Uuid) -> Result<R>
where
    <<R::Entity as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    match R::Entity::find_by_id(id).one(db).await? {
        Some(model) => R::from_model(model),
        None => Err(StoreError::not_found(R::NAME, id)),
    }
}

/// The record with this id, unless it is deleted.
pub(crate) async fn get_live<R: Record>(db: &impl ConnectionTrait, id: Uuid) -> Result<R>
where
    <<R::Entity as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    let record: R = get(db, id).await?;
    if record.meta().is_deleted() {
        return Err(StoreError::not_found(R::NAME, id));
    }
    Ok(record)
}

/// Validates and writes `record` over the stored live row; `modified` is set to now, `created`
/// and `deleted` are kept as stored. An object that turns from public to non-public is recorded
/// as withdrawn (OParl serves it as a tombstone from then on); one that turns public again is
/// not withdrawn any more.
pub(crate) async fn update<R: Record>(db: &impl ConnectionTrait, mut record: R) -> Result<R>
where
    <<R::Entity as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    record.validate()?;
    let stored: R = get_live(db, record.id()).await?;
    let meta = record.meta_mut();
    meta.created = stored.meta().created;
    meta.deleted = None;
    meta.modified = now().max(stored.meta().modified);
    let modified = meta.modified;
    write(db, &record).await?;
    match (stored.public(), record.public()) {
        (Some(true), Some(false)) => {
            crate::withdrawn::mark(db, record.id(), R::NAME, modified).await?
        }
        (Some(false), Some(true)) => crate::withdrawn::clear(db, record.id()).await?,
        _ => {}
    }
    if stored.public() != record.public() {
        crate::visibility::touch_dependents(db, R::NAME, record.id(), modified).await?;
    }
    Ok(record)
}

/// Locks the live row with this id until the transaction `db` ends, so a check made after the
/// lock (an `If-Match`) still holds when the transaction writes: a second writer of the row waits
/// here until the first one commits, and then sees its changes. `NotFound` if there is no live
/// row. PostgreSQL: `SELECT … FOR UPDATE`. SQLite has no row locks: there the transaction must be
/// begun with [`crate::begin_write`] (`BEGIN IMMEDIATE`), which serialises all writers, and this
/// only checks that the row is live.
pub(crate) async fn lock<R: Record>(
    db: &impl ConnectionTrait,
    id: Uuid,
    id_column: <R::Entity as EntityTrait>::Column,
) -> Result<()> {
    let mut query = R::Entity::find()
        .filter(id_column.eq(id))
        .filter(R::deleted_column().is_null());
    if db.get_database_backend() != DbBackend::Sqlite {
        query = query.lock_exclusive();
    }
    let live = query.one(db).await?.is_some();
    if live {
        Ok(())
    } else {
        Err(StoreError::not_found(R::NAME, id))
    }
}

/// Marks the record as deleted (a tombstone); deleting a deleted record is `NotFound`.
pub(crate) async fn soft_delete<R: Record>(db: &impl ConnectionTrait, id: Uuid) -> Result<R>
where
    <<R::Entity as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    let mut record: R = get_live(db, id).await?;
    let at = now().max(record.meta().modified);
    let meta = record.meta_mut();
    meta.deleted = Some(at);
    meta.modified = at;
    write(db, &record).await?;
    crate::visibility::touch_dependents(db, R::NAME, id, at).await?;
    Ok(record)
}

async fn write<R: Record>(db: &impl ConnectionTrait, record: &R) -> Result<()> {
    match active(record).update(db).await {
        Ok(_) => Ok(()),
        Err(DbErr::RecordNotUpdated) => Err(StoreError::not_found(R::NAME, record.id())),
        Err(err) => Err(err.into()),
    }
}

/// Records matching `condition`, live ones only unless `include_deleted`, in `order`.
pub(crate) async fn list<R: Record>(
    db: &impl ConnectionTrait,
    condition: Condition,
    include_deleted: bool,
    order: impl IntoIterator<Item = <R::Entity as EntityTrait>::Column>,
) -> Result<Vec<R>> {
    let mut query = R::Entity::find().filter(condition);
    if !include_deleted {
        query = query.filter(R::deleted_column().is_null());
    }
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
