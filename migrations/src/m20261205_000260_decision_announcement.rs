//! `decision_announcement`: the Bekanntgabe of one non-public decision on its own, once the
//! reason for secrecy has gone. One row per announced agenda item: the public title the clerk
//! gave it (the internal title may name persons), an optional note ("bekanntgegeben in der
//! Sitzung am …"), and who announced it when. The decision itself stays in `decision` and
//! `agenda_item.decision`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DecisionAnnouncement {
    Table,
    AgendaItemId,
    MeetingId,
    Title,
    Note,
    AnnouncedAt,
    AnnouncedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DecisionAnnouncement::Table)
                    .col(
                        ColumnDef::new(DecisionAnnouncement::AgendaItemId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(DecisionAnnouncement::MeetingId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DecisionAnnouncement::Title)
                            .string_len(300)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DecisionAnnouncement::Note)
                            .string_len(500)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(DecisionAnnouncement::AnnouncedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DecisionAnnouncement::AnnouncedBy)
                            .uuid()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("decision_announcement_meeting")
                    .table(DecisionAnnouncement::Table)
                    .col(DecisionAnnouncement::MeetingId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DecisionAnnouncement::Table).to_owned())
            .await
    }
}
