//! `live_node` and `live_presence`: when several Plenum nodes share one PostgreSQL database,
//! which nodes are alive (each says so every second) and which persons have a live connection
//! at which node (a row from their first connection to that node until their last one there
//! closes). Personal messages (notes, forum posts, unread counts) go only to persons connected
//! somewhere. On SQLite (one node) both tables stay empty.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LiveNode {
    Table,
    NodeId,
    Expires,
}

#[derive(DeriveIden)]
enum LivePresence {
    Table,
    NodeId,
    PersonId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LiveNode::Table)
                    .col(
                        ColumnDef::new(LiveNode::NodeId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(LiveNode::Expires)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LivePresence::Table)
                    .col(ColumnDef::new(LivePresence::NodeId).uuid().not_null())
                    .col(ColumnDef::new(LivePresence::PersonId).uuid().not_null())
                    .primary_key(
                        Index::create()
                            .col(LivePresence::NodeId)
                            .col(LivePresence::PersonId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("live_presence_person")
                    .table(LivePresence::Table)
                    .col(LivePresence::PersonId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LivePresence::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(LiveNode::Table).to_owned())
            .await
    }
}
