//! The attendance register (Anwesenheitsliste) and the attendance allowance (Sitzungsgeld):
//!
//! - `fraction_meeting` and `fraction_meeting_attendee`: meetings of a fraction (or group), which
//!   Plenum does not run live, as their chair records them afterwards: date, title, who attended.
//! - `attendance_allowance`: the amount paid per attended meeting, per body and kind of
//!   organization (`council`, `committee`, `fraction`), in cents.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FractionMeeting {
    Table,
    Id,
    OrganizationId,
    Date,
    Title,
    Created,
    CreatedBy,
}

#[derive(DeriveIden)]
enum FractionMeetingAttendee {
    Table,
    FractionMeetingId,
    PersonId,
}

#[derive(DeriveIden)]
enum AttendanceAllowance {
    Table,
    BodyId,
    Kind,
    AmountCents,
    Modified,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FractionMeeting::Table)
                    .col(
                        ColumnDef::new(FractionMeeting::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(FractionMeeting::OrganizationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(FractionMeeting::Date).date().not_null())
                    .col(ColumnDef::new(FractionMeeting::Title).string().not_null())
                    .col(
                        ColumnDef::new(FractionMeeting::Created)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(FractionMeeting::CreatedBy).uuid().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("fraction_meeting_date")
                    .table(FractionMeeting::Table)
                    .col(FractionMeeting::Date)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FractionMeetingAttendee::Table)
                    .col(
                        ColumnDef::new(FractionMeetingAttendee::FractionMeetingId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FractionMeetingAttendee::PersonId)
                            .uuid()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(FractionMeetingAttendee::FractionMeetingId)
                            .col(FractionMeetingAttendee::PersonId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AttendanceAllowance::Table)
                    .col(
                        ColumnDef::new(AttendanceAllowance::BodyId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AttendanceAllowance::Kind)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AttendanceAllowance::AmountCents)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AttendanceAllowance::Modified)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(AttendanceAllowance::BodyId)
                            .col(AttendanceAllowance::Kind),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AttendanceAllowance::Table.into_iden(),
            FractionMeetingAttendee::Table.into_iden(),
            FractionMeeting::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
