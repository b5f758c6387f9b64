//! Column sets shared by every table.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
pub enum Meta {
    Id,
    Created,
    Modified,
    Deleted,
}

/// `id` (UUID primary key) plus `created`, `modified` and the soft-delete marker `deleted`.
pub fn table_with_meta(table: impl IntoIden) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(ColumnDef::new(Meta::Id).uuid().not_null().primary_key())
        .col(
            ColumnDef::new(Meta::Created)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(Meta::Modified)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(Meta::Deleted)
                .timestamp_with_time_zone()
                .null(),
        )
        .to_owned()
}

/// An index on `modified`, for OParl's `modified_since` lists.
pub fn modified_index(table: impl IntoIden, name: &str) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(table)
        .col(Meta::Modified)
        .to_owned()
}

/// A foreign key from `table.column` to `target.id`.
pub fn fk(
    table: impl IntoIden,
    column: impl IntoIden,
    target: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(target, Meta::Id)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}
