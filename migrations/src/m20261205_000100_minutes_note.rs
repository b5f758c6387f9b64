//! `minutes_note`: the clerk's note for the minutes on one agenda item (Protokollnotiz) —
//! free Markdown text, and who wrote it when. One row per item; removing the note removes the
//! row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MinutesNote {
    Table,
    AgendaItemId,
    MeetingId,
    Text,
    UpdatedAt,
    UpdatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MinutesNote::Table)
                    .col(
                        ColumnDef::new(MinutesNote::AgendaItemId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(MinutesNote::MeetingId).uuid().not_null())
                    .col(ColumnDef::new(MinutesNote::Text).text().not_null())
                    .col(
                        ColumnDef::new(MinutesNote::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    // The account that wrote it (clerks need not be persons).
                    .col(ColumnDef::new(MinutesNote::UpdatedBy).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("minutes_note_meeting")
                    .table(MinutesNote::Table)
                    .col(MinutesNote::MeetingId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MinutesNote::Table).to_owned())
            .await
    }
}
