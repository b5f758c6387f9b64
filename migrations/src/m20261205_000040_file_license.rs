//! `file.license`: the licence of one file (a URL), when it differs from the body's data
//! licence (`license` setting). Served as OParl's `File.license`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum File {
    Table,
    License,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(File::Table)
                    .add_column(ColumnDef::new(File::License).string_len(500).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(File::Table)
                    .drop_column(File::License)
                    .to_owned(),
            )
            .await
    }
}
