//! `live_lease`: which node runs a meeting's live actor when several Plenum nodes share one
//! PostgreSQL database. One row per meeting that has (or had) an actor: the node's random id
//! (new at every start), the address other nodes forward commands to, a fencing epoch that
//! grows whenever another node takes the meeting over, and until when the lease holds (renewed
//! every second by the holder; the database's clock decides). On SQLite (one node) the table
//! stays empty.
//!
//! `live_ticket`: the one-time tickets of WebSocket upgrades when several nodes share the
//! database (a ticket issued by one node may be redeemed at another). Only a hash of the ticket
//! is kept; a ticket lives 30 seconds and is deleted when redeemed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LiveLease {
    Table,
    MeetingId,
    NodeId,
    NodeUrl,
    Epoch,
    Expires,
}

#[derive(DeriveIden)]
enum LiveTicket {
    Table,
    TicketHash,
    UserId,
    SessionId,
    Expires,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LiveLease::Table)
                    .col(
                        ColumnDef::new(LiveLease::MeetingId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LiveLease::NodeId).uuid().not_null())
                    .col(ColumnDef::new(LiveLease::NodeUrl).text().not_null())
                    .col(ColumnDef::new(LiveLease::Epoch).big_integer().not_null())
                    .col(
                        ColumnDef::new(LiveLease::Expires)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LiveTicket::Table)
                    .col(
                        ColumnDef::new(LiveTicket::TicketHash)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LiveTicket::UserId).uuid().not_null())
                    .col(ColumnDef::new(LiveTicket::SessionId).uuid().not_null())
                    .col(
                        ColumnDef::new(LiveTicket::Expires)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LiveTicket::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(LiveLease::Table).to_owned())
            .await
    }
}
