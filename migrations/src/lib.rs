//! Plenum's database migrations. One set serves SQLite and PostgreSQL: statements are built
//! with sea-query's schema builder; the exceptions are what has no portable form: full-text
//! search (FTS5 / tsvector, m20261124_000006, m20261205_000250) and PostgreSQL's column
//! compression (m20261207_000003). Never edit a merged migration; add a new one.

pub use sea_orm_migration::prelude::*;

mod common;
mod m20261123_000001_create_body_and_people;
mod m20261123_000002_create_meetings_and_papers;
mod m20261123_000003_create_auth_tables;
mod m20261123_000004_create_live_tables;
mod m20261124_000006_files_and_search;
mod m20261124_000008_notes_and_forums;
mod m20261125_000009_calendar_feeds;
mod m20261125_000010_withdrawn;
mod m20261205_000011_audit_scheme;
mod m20261205_000012_login_guard;
mod m20261205_000020_session_settings;
mod m20261205_000040_file_license;
mod m20261205_000050_decisions;
mod m20261205_000060_person_published;
mod m20261205_000070_file_sha512;
mod m20261205_000080_paper_main_file;
mod m20261205_000095_paper_originator_persons;
mod m20261205_000100_minutes_note;
mod m20261205_000210_oparl_fields;
mod m20261205_000211_attendance;
mod m20261205_000230_invitations_and_notifications;
mod m20261205_000240_minutes_versions;
mod m20261205_000250_file_text;
mod m20261205_000260_decision_announcement;
mod m20261206_000300_annotations;
mod m20261206_000317_body_settings;
mod m20261207_000001_rate_limits;
mod m20261207_000002_live_leases;
mod m20261207_000003_live_state_lz4;
mod m20261208_000001_live_state_parts;
mod m20261208_000002_live_presence;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_body_and_people::Migration),
            Box::new(m20261123_000002_create_meetings_and_papers::Migration),
            Box::new(m20261123_000003_create_auth_tables::Migration),
            Box::new(m20261123_000004_create_live_tables::Migration),
            Box::new(m20261124_000006_files_and_search::Migration),
            Box::new(m20261124_000008_notes_and_forums::Migration),
            Box::new(m20261125_000009_calendar_feeds::Migration),
            Box::new(m20261125_000010_withdrawn::Migration),
            Box::new(m20261205_000011_audit_scheme::Migration),
            Box::new(m20261205_000012_login_guard::Migration),
            Box::new(m20261205_000020_session_settings::Migration),
            Box::new(m20261205_000040_file_license::Migration),
            Box::new(m20261205_000050_decisions::Migration),
            Box::new(m20261205_000060_person_published::Migration),
            Box::new(m20261205_000070_file_sha512::Migration),
            Box::new(m20261205_000080_paper_main_file::Migration),
            Box::new(m20261205_000095_paper_originator_persons::Migration),
            Box::new(m20261205_000100_minutes_note::Migration),
            Box::new(m20261205_000210_oparl_fields::Migration),
            Box::new(m20261205_000211_attendance::Migration),
            Box::new(m20261205_000230_invitations_and_notifications::Migration),
            Box::new(m20261205_000240_minutes_versions::Migration),
            Box::new(m20261205_000250_file_text::Migration),
            Box::new(m20261205_000260_decision_announcement::Migration),
            Box::new(m20261206_000300_annotations::Migration),
            Box::new(m20261206_000317_body_settings::Migration),
            Box::new(m20261207_000001_rate_limits::Migration),
            Box::new(m20261207_000002_live_leases::Migration),
            Box::new(m20261207_000003_live_state_lz4::Migration),
            Box::new(m20261208_000001_live_state_parts::Migration),
            Box::new(m20261208_000002_live_presence::Migration),
        ]
    }
}
