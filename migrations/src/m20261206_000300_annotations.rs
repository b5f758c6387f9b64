//! Annotations in the PDF viewer: a note on a file can be anchored to a place on a page
//! (highlight, sticky note or ink). `note.anchor_kind` says which (`highlight`, `note`, `ink`;
//! null for a plain note), `note.anchor` holds the shapes as JSON in PDF page units, and
//! `note.content_sha256` the SHA-256 of the file's content the annotation was made on, so an
//! annotation on content that changed later is kept and shown as belonging to the earlier version.
//! Page, quote, sharing, history and versions stay those of the note.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Note {
    Table,
    AnchorKind,
    Anchor,
    ContentSha256,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            ColumnDef::new(Note::AnchorKind)
                .string_len(16)
                .null()
                .to_owned(),
            ColumnDef::new(Note::Anchor).text().null().to_owned(),
            ColumnDef::new(Note::ContentSha256)
                .string_len(64)
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Note::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Note::AnchorKind, Note::Anchor, Note::ContentSha256] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Note::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
