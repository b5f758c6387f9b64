//! Invitations (Einladung, Nachtrag) with their frozen content, members' notifications, their
//! e-mail choices per kind, and the durable e-mail outbox.
//!
//! - `invitation`: one row per issued document of a meeting (number 1 = the invitation,
//!   2… = supplements); `document` is the frozen JSON (`plenum_domain::InvitationDocument`).
//! - `notification`: one row per member and event (invitation, supplement, cancellation,
//!   minutes published), with a title safe for that member and when it was read.
//! - `notification_setting`: a member's e-mail choice per kind; no row means e-mail on.
//! - `outbox`: one row per e-mail, written in the same transaction as the event; a worker sends
//!   it (state `queued` → `sending` → `sent`, or `failed` with the reason and the next attempt).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Invitation {
    Table,
    Id,
    MeetingId,
    Kind,
    Number,
    IssuedAt,
    IssuedBy,
    LateReason,
    Document,
}

#[derive(DeriveIden)]
enum Notification {
    Table,
    Id,
    PersonId,
    Kind,
    MeetingId,
    InvitationId,
    Title,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum NotificationSetting {
    Table,
    PersonId,
    Kind,
    Email,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    PersonId,
    Recipient,
    Subject,
    Body,
    Kind,
    MeetingId,
    InvitationId,
    State,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tz = |c: Invitation| {
            ColumnDef::new(c)
                .timestamp_with_time_zone()
                .not_null()
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(Invitation::Table)
                    .col(
                        ColumnDef::new(Invitation::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Invitation::MeetingId).uuid().not_null())
                    .col(ColumnDef::new(Invitation::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Invitation::Number).integer().not_null())
                    .col(tz(Invitation::IssuedAt))
                    // The account that issued it (clerks need not be persons).
                    .col(ColumnDef::new(Invitation::IssuedBy).uuid().null())
                    .col(ColumnDef::new(Invitation::LateReason).text().null())
                    .col(ColumnDef::new(Invitation::Document).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("invitation_meeting_number")
                    .table(Invitation::Table)
                    .col(Invitation::MeetingId)
                    .col(Invitation::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notification::Table)
                    .col(
                        ColumnDef::new(Notification::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Notification::PersonId).uuid().not_null())
                    .col(ColumnDef::new(Notification::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Notification::MeetingId).uuid().not_null())
                    .col(ColumnDef::new(Notification::InvitationId).uuid().null())
                    .col(ColumnDef::new(Notification::Title).text().not_null())
                    .col(
                        ColumnDef::new(Notification::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Notification::ReadAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notification_person_created")
                    .table(Notification::Table)
                    .col(Notification::PersonId)
                    .col(Notification::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(NotificationSetting::Table)
                    .col(
                        ColumnDef::new(NotificationSetting::PersonId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationSetting::Kind)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(NotificationSetting::Email)
                            .boolean()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(NotificationSetting::PersonId)
                            .col(NotificationSetting::Kind),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(ColumnDef::new(Outbox::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Outbox::PersonId).uuid().null())
                    .col(ColumnDef::new(Outbox::Recipient).string_len(320).not_null())
                    .col(ColumnDef::new(Outbox::Subject).text().not_null())
                    .col(ColumnDef::new(Outbox::Body).text().not_null())
                    .col(ColumnDef::new(Outbox::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Outbox::MeetingId).uuid().null())
                    .col(ColumnDef::new(Outbox::InvitationId).uuid().null())
                    .col(ColumnDef::new(Outbox::State).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Outbox::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Outbox::NextAttemptAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Outbox::LastError).text().null())
                    .col(
                        ColumnDef::new(Outbox::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Outbox::SentAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::State)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_invitation")
                    .table(Outbox::Table)
                    .col(Outbox::InvitationId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Outbox::Table.into_iden(),
            NotificationSetting::Table.into_iden(),
            Notification::Table.into_iden(),
            Invitation::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
