//! Live sessions: the per-meeting event log (gap-free `seq`), the state snapshot, command ids
//! for idempotent retries, poll participation (exactly once per voter and poll) and sealed
//! secret ballots.
//!
//! `secret_ballot` has no voter, no timestamp and a random (UUIDv4) key, and its rows are
//! encrypted with a per-poll key kept outside the database and deleted when the poll closes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LiveSession {
    Table,
    MeetingId,
    Seq,
    State,
    Updated,
}

#[derive(DeriveIden)]
enum MeetingEvent {
    Table,
    MeetingId,
    Seq,
    At,
    Public,
    Payload,
}

#[derive(DeriveIden)]
enum LiveCommand {
    Table,
    MeetingId,
    CommandId,
    UserId,
    Response,
}

#[derive(DeriveIden)]
enum PollParticipation {
    Table,
    PollId,
    PersonId,
}

#[derive(DeriveIden)]
enum SecretBallot {
    Table,
    Id,
    PollId,
    Sealed,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LiveSession::Table)
                    .col(
                        ColumnDef::new(LiveSession::MeetingId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LiveSession::Seq).big_integer().not_null())
                    .col(ColumnDef::new(LiveSession::State).text().not_null())
                    .col(
                        ColumnDef::new(LiveSession::Updated)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MeetingEvent::Table)
                    .col(ColumnDef::new(MeetingEvent::MeetingId).uuid().not_null())
                    .col(ColumnDef::new(MeetingEvent::Seq).big_integer().not_null())
                    .col(
                        ColumnDef::new(MeetingEvent::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MeetingEvent::Public).boolean().not_null())
                    .col(ColumnDef::new(MeetingEvent::Payload).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(MeetingEvent::MeetingId)
                            .col(MeetingEvent::Seq),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LiveCommand::Table)
                    .col(ColumnDef::new(LiveCommand::MeetingId).uuid().not_null())
                    .col(ColumnDef::new(LiveCommand::CommandId).uuid().not_null())
                    .col(ColumnDef::new(LiveCommand::UserId).uuid().not_null())
                    .col(ColumnDef::new(LiveCommand::Response).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(LiveCommand::MeetingId)
                            .col(LiveCommand::CommandId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PollParticipation::Table)
                    .col(ColumnDef::new(PollParticipation::PollId).uuid().not_null())
                    .col(
                        ColumnDef::new(PollParticipation::PersonId)
                            .uuid()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(PollParticipation::PollId)
                            .col(PollParticipation::PersonId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SecretBallot::Table)
                    .col(
                        ColumnDef::new(SecretBallot::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SecretBallot::PollId).uuid().not_null())
                    .col(ColumnDef::new(SecretBallot::Sealed).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_secret_ballot_poll")
                    .table(SecretBallot::Table)
                    .col(SecretBallot::PollId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SecretBallot::Table.into_iden(),
            PollParticipation::Table.into_iden(),
            LiveCommand::Table.into_iden(),
            MeetingEvent::Table.into_iden(),
            LiveSession::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
