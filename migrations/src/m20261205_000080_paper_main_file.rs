//! `paper.main_file_id`: a paper's main document (Hauptdokument), one of its own files (OParl's
//! `Paper.mainFile`; the other files stay `auxiliaryFile`). No foreign key: files already point
//! at their paper, and a deleted main file simply stops being served.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Paper {
    Table,
    MainFileId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Paper::Table)
                    .add_column(ColumnDef::new(Paper::MainFileId).uuid().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Paper::Table)
                    .drop_column(Paper::MainFileId)
                    .to_owned(),
            )
            .await
    }
}
