//! `meeting_session_setting`: what the clerk sets for a meeting's live session — whether it is a
//! repeat meeting (Wiederholungssitzung, which decides regardless of the quorum) and the speaking
//! time per contribution. One row per meeting, written by the live session in the same
//! transaction as the event that changes it; no row means the defaults.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MeetingSessionSetting {
    Table,
    MeetingId,
    RepeatMeeting,
    SpeakingTimeSecs,
    Updated,
}

#[derive(DeriveIden)]
enum Meeting {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MeetingSessionSetting::Table)
                    .col(
                        ColumnDef::new(MeetingSessionSetting::MeetingId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MeetingSessionSetting::RepeatMeeting)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(MeetingSessionSetting::SpeakingTimeSecs)
                            .integer()
                            .not_null()
                            .default(300),
                    )
                    .col(
                        ColumnDef::new(MeetingSessionSetting::Updated)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_meeting_session_setting_meeting")
                            .from(
                                MeetingSessionSetting::Table,
                                MeetingSessionSetting::MeetingId,
                            )
                            .to(Meeting::Table, Meeting::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MeetingSessionSetting::Table).to_owned())
            .await
    }
}
