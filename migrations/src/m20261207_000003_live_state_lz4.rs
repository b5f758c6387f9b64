//! PostgreSQL: the live state snapshot (`live_session.state`, rewritten by every batch of live
//! commands, about 1 MB for a meeting of 6,000 members) is compressed with LZ4 instead of the
//! default pglz, which costs about three times as long. Servers built without LZ4 (or older
//! than PostgreSQL 14) keep pglz; the migration then changes nothing. Rows already stored are
//! recompressed when they are next written. SQLite: nothing to do.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = "DO $$ BEGIN
    EXECUTE 'ALTER TABLE live_session ALTER COLUMN state SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'live_session.state keeps the default compression: %', SQLERRM;
END $$";

const DOWN: &str = "DO $$ BEGIN
    EXECUTE 'ALTER TABLE live_session ALTER COLUMN state SET COMPRESSION default';
EXCEPTION WHEN OTHERS THEN
    NULL;
END $$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(DOWN).await?;
        }
        Ok(())
    }
}
