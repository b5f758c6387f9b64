//! `withdrawn`: objects (agenda items, papers) that were public and turned non-public, with the
//! time. OParl serves them as tombstones from then on, like deleted objects; objects that were
//! never public stay unknown to the public.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Withdrawn {
    Table,
    ObjectId,
    /// `agenda item` or `paper`.
    Kind,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Withdrawn::Table)
                    .col(
                        ColumnDef::new(Withdrawn::ObjectId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Withdrawn::Kind).string_len(32).not_null())
                    .col(
                        ColumnDef::new(Withdrawn::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Withdrawn::Table).to_owned())
            .await
    }
}
