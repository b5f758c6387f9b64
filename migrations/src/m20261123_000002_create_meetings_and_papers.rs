//! Meetings, papers, agenda items, the Beratungsfolge (consultations) and files.

use sea_orm_migration::prelude::*;

use crate::common::{fk, modified_index, table_with_meta};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Body {
    Table,
}

#[derive(DeriveIden)]
enum Organization {
    Table,
}

#[derive(DeriveIden)]
enum Location {
    Table,
}

#[derive(DeriveIden)]
enum Meeting {
    Table,
    OrganizationId,
    Name,
    Start,
    End,
    LocationId,
    State,
    InvitedAt,
}

#[derive(DeriveIden)]
#[allow(clippy::enum_variant_names)] // `PaperType` is the column's name
enum Paper {
    Table,
    BodyId,
    Reference,
    PaperType,
    Title,
    Date,
    OriginatorId,
    Text,
    Public,
}

#[derive(DeriveIden)]
enum AgendaItem {
    Table,
    MeetingId,
    Number,
    Position,
    Public,
    Title,
    PaperId,
    Decision,
}

#[derive(DeriveIden)]
enum Consultation {
    Table,
    PaperId,
    OrganizationId,
    MeetingId,
    AgendaItemId,
    Role,
    Position,
}

#[derive(DeriveIden)]
enum File {
    Table,
    BodyId,
    Name,
    MediaType,
    Size,
    Sha256,
    StorageKey,
    PaperId,
    MeetingId,
    AgendaItemId,
}

fn index(name: &str, table: impl IntoIden, col: impl IntoIden) -> IndexCreateStatement {
    Index::create().name(name).table(table).col(col).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table_with_meta(Meeting::Table)
                    .col(ColumnDef::new(Meeting::OrganizationId).uuid().not_null())
                    .col(ColumnDef::new(Meeting::Name).string().not_null())
                    .col(
                        ColumnDef::new(Meeting::Start)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Meeting::End)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Meeting::LocationId).uuid().null())
                    .col(ColumnDef::new(Meeting::State).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Meeting::InvitedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(&mut fk(
                        Meeting::Table,
                        Meeting::OrganizationId,
                        Organization::Table,
                    ))
                    .foreign_key(&mut fk(
                        Meeting::Table,
                        Meeting::LocationId,
                        Location::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(modified_index(Meeting::Table, "idx_meeting_modified"))
            .await?;
        manager
            .create_index(index("idx_meeting_start", Meeting::Table, Meeting::Start))
            .await?;
        manager
            .create_index(index(
                "idx_meeting_organization",
                Meeting::Table,
                Meeting::OrganizationId,
            ))
            .await?;

        manager
            .create_table(
                table_with_meta(Paper::Table)
                    .col(ColumnDef::new(Paper::BodyId).uuid().not_null())
                    .col(ColumnDef::new(Paper::Reference).string_len(64).not_null())
                    .col(ColumnDef::new(Paper::PaperType).string_len(32).not_null())
                    .col(ColumnDef::new(Paper::Title).text().not_null())
                    .col(ColumnDef::new(Paper::Date).date().not_null())
                    .col(ColumnDef::new(Paper::OriginatorId).uuid().null())
                    .col(ColumnDef::new(Paper::Text).text().not_null())
                    .col(ColumnDef::new(Paper::Public).boolean().not_null())
                    .foreign_key(&mut fk(Paper::Table, Paper::BodyId, Body::Table))
                    .foreign_key(&mut fk(
                        Paper::Table,
                        Paper::OriginatorId,
                        Organization::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(modified_index(Paper::Table, "idx_paper_modified"))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_paper_body_reference")
                    .table(Paper::Table)
                    .col(Paper::BodyId)
                    .col(Paper::Reference)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                table_with_meta(AgendaItem::Table)
                    .col(ColumnDef::new(AgendaItem::MeetingId).uuid().not_null())
                    .col(ColumnDef::new(AgendaItem::Number).string_len(20).not_null())
                    .col(ColumnDef::new(AgendaItem::Position).integer().not_null())
                    .col(ColumnDef::new(AgendaItem::Public).boolean().not_null())
                    .col(ColumnDef::new(AgendaItem::Title).text().not_null())
                    .col(ColumnDef::new(AgendaItem::PaperId).uuid().null())
                    .col(ColumnDef::new(AgendaItem::Decision).text().null())
                    .foreign_key(&mut fk(
                        AgendaItem::Table,
                        AgendaItem::MeetingId,
                        Meeting::Table,
                    ))
                    .foreign_key(&mut fk(
                        AgendaItem::Table,
                        AgendaItem::PaperId,
                        Paper::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(modified_index(
                AgendaItem::Table,
                "idx_agenda_item_modified",
            ))
            .await?;
        manager
            .create_index(index(
                "idx_agenda_item_meeting",
                AgendaItem::Table,
                AgendaItem::MeetingId,
            ))
            .await?;

        manager
            .create_table(
                table_with_meta(Consultation::Table)
                    .col(ColumnDef::new(Consultation::PaperId).uuid().not_null())
                    .col(
                        ColumnDef::new(Consultation::OrganizationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Consultation::MeetingId).uuid().null())
                    .col(ColumnDef::new(Consultation::AgendaItemId).uuid().null())
                    .col(ColumnDef::new(Consultation::Role).string_len(16).not_null())
                    .col(ColumnDef::new(Consultation::Position).integer().not_null())
                    .foreign_key(&mut fk(
                        Consultation::Table,
                        Consultation::PaperId,
                        Paper::Table,
                    ))
                    .foreign_key(&mut fk(
                        Consultation::Table,
                        Consultation::OrganizationId,
                        Organization::Table,
                    ))
                    .foreign_key(&mut fk(
                        Consultation::Table,
                        Consultation::MeetingId,
                        Meeting::Table,
                    ))
                    .foreign_key(&mut fk(
                        Consultation::Table,
                        Consultation::AgendaItemId,
                        AgendaItem::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(modified_index(
                Consultation::Table,
                "idx_consultation_modified",
            ))
            .await?;
        manager
            .create_index(index(
                "idx_consultation_paper",
                Consultation::Table,
                Consultation::PaperId,
            ))
            .await?;

        manager
            .create_table(
                table_with_meta(File::Table)
                    .col(ColumnDef::new(File::BodyId).uuid().not_null())
                    .col(ColumnDef::new(File::Name).string().not_null())
                    .col(ColumnDef::new(File::MediaType).string_len(127).not_null())
                    .col(ColumnDef::new(File::Size).big_integer().not_null())
                    .col(ColumnDef::new(File::Sha256).string_len(64).not_null())
                    .col(ColumnDef::new(File::StorageKey).string().not_null())
                    .col(ColumnDef::new(File::PaperId).uuid().null())
                    .col(ColumnDef::new(File::MeetingId).uuid().null())
                    .col(ColumnDef::new(File::AgendaItemId).uuid().null())
                    .foreign_key(&mut fk(File::Table, File::BodyId, Body::Table))
                    .foreign_key(&mut fk(File::Table, File::PaperId, Paper::Table))
                    .foreign_key(&mut fk(File::Table, File::MeetingId, Meeting::Table))
                    .foreign_key(&mut fk(File::Table, File::AgendaItemId, AgendaItem::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(modified_index(File::Table, "idx_file_modified"))
            .await?;
        manager
            .create_index(index("idx_file_sha256", File::Table, File::Sha256))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            File::Table.into_iden(),
            Consultation::Table.into_iden(),
            AgendaItem::Table.into_iden(),
            Paper::Table.into_iden(),
            Meeting::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
