//! `body_setting`: settings an admin keeps per body. For now the notice period of invitations
//! (Ladungsfrist) in days; `NULL` (or no row) means the server's `invitation_notice_days`.
//!
//! A table of its own rather than columns of `body`: changing a setting is not a change of the
//! body as OParl publishes it, so `body.modified` stays.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BodySetting {
    Table,
    BodyId,
    InvitationNoticeDays,
    Modified,
}

#[derive(DeriveIden)]
enum Body {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BodySetting::Table)
                    .col(
                        ColumnDef::new(BodySetting::BodyId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(BodySetting::InvitationNoticeDays).integer())
                    .col(
                        ColumnDef::new(BodySetting::Modified)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_body_setting_body")
                            .from(BodySetting::Table, BodySetting::BodyId)
                            .to(Body::Table, Body::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BodySetting::Table).to_owned())
            .await
    }
}
