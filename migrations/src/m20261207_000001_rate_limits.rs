//! `rate_limit`: the state of the rate limits that all nodes on one PostgreSQL database share
//! (login guesses per account and per address, notes and posts per account). One row per key
//! holds the GCRA's theoretical arrival time `tat` in microseconds since the Unix epoch (by the
//! database server's clock); a row whose `tat` has passed is equivalent to no row and may be
//! deleted at any time. SQLite serves one node, which keeps its limits in memory: there the
//! table exists but stays empty.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RateLimit {
    Table,
    Key,
    Tat,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateLimit::Table)
                    .col(
                        ColumnDef::new(RateLimit::Key)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RateLimit::Tat).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_rate_limit_tat")
                    .table(RateLimit::Table)
                    .col(RateLimit::Tat)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RateLimit::Table).to_owned())
            .await
    }
}
