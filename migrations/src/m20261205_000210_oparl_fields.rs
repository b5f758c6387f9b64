//! Fields OParl importers read that Plenum did not keep yet:
//!
//! - `person.status` (OParl `Person.status`: roles such as `Bürgermeisterin`, stored as a JSON
//!   array of strings, `[]` when none), `person.affix` (`Person.affix`, e.g. `von`) and
//!   `person.gender` (`female`, `male`, `other`; only when recorded, never guessed).
//! - `body.ags`, `body.rgs`, `body.classification`: the body's official keys (Amtlicher
//!   Gemeindeschlüssel, Regionalschlüssel) and its kind, set from the configuration at startup.
//! - `paper.under_direction_of_id`: the organization in charge of a paper (federführend).
//! - `paper_related`: papers a clerk linked to each other, one row per direction.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Person {
    Table,
    Status,
    Affix,
    Gender,
}

#[derive(DeriveIden)]
enum Body {
    Table,
    Ags,
    Rgs,
    Classification,
}

#[derive(DeriveIden)]
enum Paper {
    Table,
    UnderDirectionOfId,
}

#[derive(DeriveIden)]
enum PaperRelated {
    Table,
    PaperId,
    RelatedPaperId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Person::Table)
                    .add_column(
                        ColumnDef::new(Person::Status)
                            .text()
                            .not_null()
                            .default("[]"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Person::Table)
                    .add_column(ColumnDef::new(Person::Affix).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Person::Table)
                    .add_column(ColumnDef::new(Person::Gender).string().null())
                    .to_owned(),
            )
            .await?;
        for column in [Body::Ags, Body::Rgs, Body::Classification] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Body::Table)
                        .add_column(ColumnDef::new(column).string().null())
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Paper::Table)
                    .add_column(ColumnDef::new(Paper::UnderDirectionOfId).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaperRelated::Table)
                    .col(ColumnDef::new(PaperRelated::PaperId).uuid().not_null())
                    .col(
                        ColumnDef::new(PaperRelated::RelatedPaperId)
                            .uuid()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(PaperRelated::PaperId)
                            .col(PaperRelated::RelatedPaperId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("paper_related_related")
                    .table(PaperRelated::Table)
                    .col(PaperRelated::RelatedPaperId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PaperRelated::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Paper::Table)
                    .drop_column(Paper::UnderDirectionOfId)
                    .to_owned(),
            )
            .await?;
        for column in [Body::Ags, Body::Rgs, Body::Classification] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Body::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [Person::Status, Person::Affix, Person::Gender] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Person::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
