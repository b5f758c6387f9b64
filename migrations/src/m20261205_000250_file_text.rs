//! Text inside files: what text extraction found in an uploaded PDF.
//!
//! - `file_text`: one row per extracted file — the outcome (`done` or `failed`), the page count,
//!   how many pages had text and which had none (scanned pages without a text layer, as a JSON
//!   array of page numbers), when, and the reason of a failure.
//! - `file_page`: the text of one page (only pages that have text), searchable through the
//!   full-text index of m20261124_000006 under the kind `file_page` (triggers, as there), so a
//!   search finds a passage inside an attachment and knows its page.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FileText {
    Table,
    FileId,
    Status,
    PageCount,
    TextPages,
    PagesWithoutText,
    Error,
    ExtractedAt,
}

#[derive(DeriveIden)]
enum FilePage {
    Table,
    Id,
    FileId,
    Page,
    Text,
}

const SQLITE_UP: [&str; 2] = [
    "CREATE TRIGGER search_file_page_insert AFTER INSERT ON \"file_page\" BEGIN \
     INSERT INTO search_index (kind, id, title, body) \
     VALUES ('file_page', new.\"id\", '', new.\"text\"); END",
    "CREATE TRIGGER search_file_page_delete AFTER DELETE ON \"file_page\" BEGIN \
     DELETE FROM search_index WHERE kind = 'file_page' AND id = old.\"id\"; END",
];

const SQLITE_DOWN: [&str; 3] = [
    "DROP TRIGGER IF EXISTS search_file_page_insert",
    "DROP TRIGGER IF EXISTS search_file_page_delete",
    "DELETE FROM search_index WHERE kind = 'file_page'",
];

const POSTGRES_UP: [&str; 2] = [
    "CREATE FUNCTION search_file_page_sync() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN \
       IF TG_OP = 'DELETE' THEN \
         DELETE FROM search_document WHERE kind = 'file_page' AND id = OLD.\"id\"; \
         RETURN OLD; \
       END IF; \
       DELETE FROM search_document WHERE kind = 'file_page' AND id = NEW.\"id\"; \
       INSERT INTO search_document (kind, id, title, body) \
       VALUES ('file_page', NEW.\"id\", '', NEW.\"text\"); \
       RETURN NEW; \
     END $$",
    "CREATE TRIGGER search_file_page_sync AFTER INSERT OR UPDATE OR DELETE ON \"file_page\" \
     FOR EACH ROW EXECUTE FUNCTION search_file_page_sync()",
];

const POSTGRES_DOWN: [&str; 3] = [
    "DROP TRIGGER IF EXISTS search_file_page_sync ON \"file_page\"",
    "DROP FUNCTION IF EXISTS search_file_page_sync()",
    "DELETE FROM search_document WHERE kind = 'file_page'",
];

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FileText::Table)
                    .col(
                        ColumnDef::new(FileText::FileId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(FileText::Status).string_len(16).not_null())
                    .col(ColumnDef::new(FileText::PageCount).integer().not_null())
                    .col(ColumnDef::new(FileText::TextPages).integer().not_null())
                    .col(ColumnDef::new(FileText::PagesWithoutText).text().not_null())
                    .col(ColumnDef::new(FileText::Error).text().null())
                    .col(
                        ColumnDef::new(FileText::ExtractedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FilePage::Table)
                    .col(ColumnDef::new(FilePage::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(FilePage::FileId).uuid().not_null())
                    .col(ColumnDef::new(FilePage::Page).integer().not_null())
                    .col(ColumnDef::new(FilePage::Text).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("file_page_file_page")
                    .table(FilePage::Table)
                    .col(FilePage::FileId)
                    .col(FilePage::Page)
                    .unique()
                    .to_owned(),
            )
            .await?;
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => run(manager, &SQLITE_UP).await,
            DatabaseBackend::Postgres => run(manager, &POSTGRES_UP).await,
            other => Err(DbErr::Migration(format!(
                "full-text search is not implemented for {other:?}"
            ))),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => run(manager, &SQLITE_DOWN).await?,
            DatabaseBackend::Postgres => run(manager, &POSTGRES_DOWN).await?,
            _ => {}
        }
        manager
            .drop_table(Table::drop().table(FilePage::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(FileText::Table).to_owned())
            .await
    }
}
