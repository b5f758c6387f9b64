//! `paper_originator_person`: the persons who submitted a paper (e.g. the members signing a
//! motion), in their order (OParl's `Paper.originatorPerson`). Besides the originating
//! organization (`paper.originator_id`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PaperOriginatorPerson {
    Table,
    PaperId,
    PersonId,
    Position,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PaperOriginatorPerson::Table)
                    .col(
                        ColumnDef::new(PaperOriginatorPerson::PaperId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PaperOriginatorPerson::PersonId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PaperOriginatorPerson::Position)
                            .integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(PaperOriginatorPerson::PaperId)
                            .col(PaperOriginatorPerson::PersonId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("paper_originator_person_person")
                    .table(PaperOriginatorPerson::Table)
                    .col(PaperOriginatorPerson::PersonId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PaperOriginatorPerson::Table).to_owned())
            .await
    }
}
