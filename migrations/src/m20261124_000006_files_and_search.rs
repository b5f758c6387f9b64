//! Files: an index on the blob key (to find out whether a blob is still referenced).
//!
//! Full-text search: one index of searchable documents — meetings (name), agenda items (title,
//! decision), papers (title; reference and text), files (name) — kept current by triggers on
//! those tables, so every write path keeps it in sync. This is the one place with raw SQL per
//! backend: SQLite gets an FTS5 table (`unicode61`, diacritics folded, so "Grundstuck" finds
//! "Grundstück"), PostgreSQL a table with a generated `to_tsvector('german', …)` column and a GIN
//! index. Further kinds (notes, forum posts) add their own triggers writing to the same index
//! under a new `kind`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum File {
    Table,
    StorageKey,
}

/// One searchable kind: its name in the index, its table, and the SQL expressions (over the row
/// `r`) of its title and body.
struct Source {
    kind: &'static str,
    table: &'static str,
    title: &'static str,
    body: &'static str,
}

const SOURCES: [Source; 4] = [
    Source {
        kind: "meeting",
        table: "meeting",
        title: "r.\"name\"",
        body: "''",
    },
    Source {
        kind: "agenda_item",
        table: "agenda_item",
        title: "r.\"title\"",
        body: "COALESCE(r.\"decision\", '')",
    },
    Source {
        kind: "paper",
        table: "paper",
        title: "r.\"title\"",
        body: "r.\"reference\" || ' ' || r.\"text\"",
    },
    Source {
        kind: "file",
        table: "file",
        title: "r.\"name\"",
        body: "''",
    },
];

fn row(expr: &str, alias: &str) -> String {
    expr.replace("r.", &format!("{alias}."))
}

fn sqlite_up() -> Vec<String> {
    let mut sql = vec![
        "CREATE VIRTUAL TABLE search_index USING fts5(kind UNINDEXED, id UNINDEXED, title, body, \
         tokenize = 'unicode61 remove_diacritics 2')"
            .to_owned(),
    ];
    for s in SOURCES {
        let (kind, table) = (s.kind, s.table);
        let (title, body) = (row(s.title, "new"), row(s.body, "new"));
        sql.push(format!(
            "CREATE TRIGGER search_{kind}_insert AFTER INSERT ON \"{table}\" \
             WHEN new.\"deleted\" IS NULL BEGIN \
             INSERT INTO search_index (kind, id, title, body) \
             VALUES ('{kind}', new.\"id\", {title}, {body}); END"
        ));
        sql.push(format!(
            "CREATE TRIGGER search_{kind}_update AFTER UPDATE ON \"{table}\" BEGIN \
             DELETE FROM search_index WHERE kind = '{kind}' AND id = old.\"id\"; \
             INSERT INTO search_index (kind, id, title, body) \
             SELECT '{kind}', new.\"id\", {title}, {body} WHERE new.\"deleted\" IS NULL; END"
        ));
        sql.push(format!(
            "CREATE TRIGGER search_{kind}_delete AFTER DELETE ON \"{table}\" BEGIN \
             DELETE FROM search_index WHERE kind = '{kind}' AND id = old.\"id\"; END"
        ));
        sql.push(format!(
            "INSERT INTO search_index (kind, id, title, body) \
             SELECT '{kind}', r.\"id\", {}, {} FROM \"{table}\" r WHERE r.\"deleted\" IS NULL",
            s.title, s.body
        ));
    }
    sql
}

fn sqlite_down() -> Vec<String> {
    let mut sql = Vec::new();
    for s in SOURCES {
        for op in ["insert", "update", "delete"] {
            sql.push(format!("DROP TRIGGER IF EXISTS search_{}_{op}", s.kind));
        }
    }
    sql.push("DROP TABLE IF EXISTS search_index".to_owned());
    sql
}

fn postgres_up() -> Vec<String> {
    let mut sql = vec![
        "CREATE TABLE search_document (\
           kind varchar(32) NOT NULL, \
           id uuid NOT NULL, \
           title text NOT NULL, \
           body text NOT NULL, \
           tsv tsvector GENERATED ALWAYS AS (\
             setweight(to_tsvector('german', title), 'A') || \
             setweight(to_tsvector('german', body), 'B')) STORED, \
           PRIMARY KEY (kind, id))"
            .to_owned(),
        "CREATE INDEX idx_search_document_tsv ON search_document USING GIN (tsv)".to_owned(),
    ];
    for s in SOURCES {
        let (kind, table) = (s.kind, s.table);
        let (title, body) = (row(s.title, "NEW"), row(s.body, "NEW"));
        sql.push(format!(
            "CREATE FUNCTION search_{kind}_sync() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN \
               IF TG_OP = 'DELETE' THEN \
                 DELETE FROM search_document WHERE kind = '{kind}' AND id = OLD.\"id\"; \
                 RETURN OLD; \
               END IF; \
               DELETE FROM search_document WHERE kind = '{kind}' AND id = NEW.\"id\"; \
               IF NEW.\"deleted\" IS NULL THEN \
                 INSERT INTO search_document (kind, id, title, body) \
                 VALUES ('{kind}', NEW.\"id\", {title}, {body}); \
               END IF; \
               RETURN NEW; \
             END $$"
        ));
        sql.push(format!(
            "CREATE TRIGGER search_{kind}_sync AFTER INSERT OR UPDATE OR DELETE ON \"{table}\" \
             FOR EACH ROW EXECUTE FUNCTION search_{kind}_sync()"
        ));
        sql.push(format!(
            "INSERT INTO search_document (kind, id, title, body) \
             SELECT '{kind}', r.\"id\", {}, {} FROM \"{table}\" r WHERE r.\"deleted\" IS NULL",
            s.title, s.body
        ));
    }
    sql
}

fn postgres_down() -> Vec<String> {
    let mut sql = Vec::new();
    for s in SOURCES {
        sql.push(format!(
            "DROP TRIGGER IF EXISTS search_{}_sync ON \"{}\"",
            s.kind, s.table
        ));
        sql.push(format!("DROP FUNCTION IF EXISTS search_{}_sync()", s.kind));
    }
    sql.push("DROP TABLE IF EXISTS search_document".to_owned());
    sql
}

async fn run(manager: &SchemaManager<'_>, statements: Vec<String>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(&statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_file_storage_key")
                    .table(File::Table)
                    .col(File::StorageKey)
                    .to_owned(),
            )
            .await?;
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => run(manager, sqlite_up()).await,
            DatabaseBackend::Postgres => run(manager, postgres_up()).await,
            other => Err(DbErr::Migration(format!(
                "full-text search is not implemented for {other:?}"
            ))),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => run(manager, sqlite_down()).await?,
            DatabaseBackend::Postgres => run(manager, postgres_down()).await?,
            _ => {}
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_file_storage_key")
                    .table(File::Table)
                    .to_owned(),
            )
            .await
    }
}
