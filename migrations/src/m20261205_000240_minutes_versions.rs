//! The record of the minutes (Niederschrift): frozen versions, their signatures, their approval
//! in a later meeting and the objections raised there.
//!
//! - `minutes_version`: one frozen text of one part (`public` / `non_public`) of a meeting's
//!   minutes, numbered per part. Rows are never updated except for the moments of their life:
//!   `signed_at` and `pdf` (when the second signature completes it), `superseded_at` (when a
//!   correction replaces it), `published_at` (the public part, released to the public) and
//!   `approved_at` with the approving agenda item.
//! - `minutes_signature`: the chair's and the clerk's signature on a version, with the audit
//!   chain's head at that moment.
//! - `minutes_objection`: an objection raised when a later meeting approves the minutes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MinutesVersion {
    Table,
    Id,
    MeetingId,
    Part,
    Version,
    Content,
    ContentSha256,
    CreatedAt,
    CreatedBy,
    CorrectionReason,
    Supersedes,
    SupersededAt,
    SignedAt,
    Pdf,
    PublishedAt,
    PublishedBy,
    ApprovedAt,
    ApprovedItem,
}

#[derive(DeriveIden)]
enum MinutesSignature {
    Table,
    VersionId,
    Role,
    UserId,
    PersonId,
    Name,
    SignedAt,
    ChainSeq,
    ChainHead,
}

#[derive(DeriveIden)]
enum MinutesObjection {
    Table,
    Id,
    MeetingId,
    AgendaItemId,
    PersonName,
    Text,
    RecordedAt,
    RecordedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MinutesVersion::Table)
                    .col(
                        ColumnDef::new(MinutesVersion::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(MinutesVersion::MeetingId).uuid().not_null())
                    .col(
                        ColumnDef::new(MinutesVersion::Part)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(MinutesVersion::Version).integer().not_null())
                    .col(ColumnDef::new(MinutesVersion::Content).text().not_null())
                    .col(
                        ColumnDef::new(MinutesVersion::ContentSha256)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MinutesVersion::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MinutesVersion::CreatedBy).uuid().null())
                    .col(
                        ColumnDef::new(MinutesVersion::CorrectionReason)
                            .text()
                            .null(),
                    )
                    .col(ColumnDef::new(MinutesVersion::Supersedes).uuid().null())
                    .col(
                        ColumnDef::new(MinutesVersion::SupersededAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(MinutesVersion::SignedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(MinutesVersion::Pdf).blob().null())
                    .col(
                        ColumnDef::new(MinutesVersion::PublishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(MinutesVersion::PublishedBy).uuid().null())
                    .col(
                        ColumnDef::new(MinutesVersion::ApprovedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(MinutesVersion::ApprovedItem).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("minutes_version_number")
                    .table(MinutesVersion::Table)
                    .col(MinutesVersion::MeetingId)
                    .col(MinutesVersion::Part)
                    .col(MinutesVersion::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MinutesSignature::Table)
                    .col(
                        ColumnDef::new(MinutesSignature::VersionId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MinutesSignature::Role)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(MinutesSignature::UserId).uuid().not_null())
                    .col(ColumnDef::new(MinutesSignature::PersonId).uuid().null())
                    .col(
                        ColumnDef::new(MinutesSignature::Name)
                            .string_len(300)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MinutesSignature::SignedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MinutesSignature::ChainSeq)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MinutesSignature::ChainHead)
                            .string_len(128)
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(MinutesSignature::VersionId)
                            .col(MinutesSignature::Role),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MinutesObjection::Table)
                    .col(
                        ColumnDef::new(MinutesObjection::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MinutesObjection::MeetingId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MinutesObjection::AgendaItemId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MinutesObjection::PersonName)
                            .string_len(300)
                            .null(),
                    )
                    .col(ColumnDef::new(MinutesObjection::Text).text().not_null())
                    .col(
                        ColumnDef::new(MinutesObjection::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MinutesObjection::RecordedBy).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("minutes_objection_meeting")
                    .table(MinutesObjection::Table)
                    .col(MinutesObjection::MeetingId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MinutesObjection::Table.into_iden(),
            MinutesSignature::Table.into_iden(),
            MinutesVersion::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
