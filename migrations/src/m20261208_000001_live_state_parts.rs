//! `live_session.members` and `live_session.attendance`: the roster's members and the attendance
//! of a meeting's live state, kept apart from the rest of the snapshot (`state`). Every batch of
//! live commands rewrites `state`; at a convention most of it was the roster (fixed when the
//! session starts) and the attendance (unchanged while a poll runs), so a batch of ballots wrote
//! about a megabyte that had not changed. Now a batch writes a part only when it changed. NULL:
//! the part is inside `state`, as stored by versions before this one. PostgreSQL compresses both
//! columns with LZ4 where the server supports it (see m20261207_000003). Going down puts the
//! parts back into `state` before the columns go, so nothing is lost.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LiveSession {
    Table,
    Members,
    Attendance,
}

const LZ4: &str = "DO $$ BEGIN
    EXECUTE 'ALTER TABLE live_session ALTER COLUMN members SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE live_session ALTER COLUMN attendance SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'live_session parts keep the default compression: %', SQLERRM;
END $$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [LiveSession::Members, LiveSession::Attendance] {
            manager
                .alter_table(
                    Table::alter()
                        .table(LiveSession::Table)
                        .add_column(ColumnDef::new(column).text().null())
                        .to_owned(),
                )
                .await?;
        }
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(LZ4).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let merge: &[&str] = match manager.get_database_backend() {
            DatabaseBackend::Postgres => &[
                "UPDATE live_session SET state = jsonb_set(state::jsonb, '{roster,members}', members::jsonb)::text WHERE members IS NOT NULL",
                "UPDATE live_session SET state = jsonb_set(state::jsonb, '{attendance}', attendance::jsonb)::text WHERE attendance IS NOT NULL",
            ],
            _ => &[
                "UPDATE live_session SET state = json_set(state, '$.roster.members', json(members)) WHERE members IS NOT NULL",
                "UPDATE live_session SET state = json_set(state, '$.attendance', json(attendance)) WHERE attendance IS NOT NULL",
            ],
        };
        for sql in merge {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        for column in [LiveSession::Attendance, LiveSession::Members] {
            manager
                .alter_table(
                    Table::alter()
                        .table(LiveSession::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
