//! `decision`: the recorded outcome of an agenda item (Beschluss) — its kind, where it was
//! referred to, the vote result as kept in the record (JSON), the poll it rests on, and who
//! recorded it when. The decision's text stays in `agenda_item.decision`. One row per item.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Decision {
    Table,
    AgendaItemId,
    MeetingId,
    Kind,
    ReferredTo,
    Vote,
    PollId,
    RecordedBy,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Decision::Table)
                    .col(
                        ColumnDef::new(Decision::AgendaItemId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Decision::MeetingId).uuid().not_null())
                    .col(ColumnDef::new(Decision::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Decision::ReferredTo).string_len(200).null())
                    .col(ColumnDef::new(Decision::Vote).text().null())
                    .col(ColumnDef::new(Decision::PollId).uuid().null())
                    .col(ColumnDef::new(Decision::RecordedBy).uuid().null())
                    .col(
                        ColumnDef::new(Decision::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("decision_meeting")
                    .table(Decision::Table)
                    .col(Decision::MeetingId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Decision::Table).to_owned())
            .await
    }
}
