//! Plenum persistence: sea-orm repositories over SQLite (embedded default) and PostgreSQL.
//!
//! Repositories take any connection or transaction (`&impl ConnectionTrait`) and return domain
//! types; the sea-orm entities never leave this crate. Unique violations become
//! [`StoreError::Conflict`], missing rows [`StoreError::NotFound`].

pub mod announcements;
pub mod attendance;
pub mod audit;
pub mod auth;
pub mod blob;
pub mod body_settings;
pub mod chair;
pub mod cluster;
pub mod collab;
mod convert;
mod db;
pub mod decisions;
pub mod documents;
mod entity;
mod error;
pub mod file_text;
pub mod lease;
pub mod live;
pub mod minutes;
pub mod minutes_record;
pub mod notify;
pub mod originators;
pub mod presence;
pub mod query;
mod record;
pub mod related;
pub mod repo;
pub mod search;
#[cfg(feature = "testing")]
pub mod testing;
mod visibility;
pub mod withdrawn;

pub use db::{Backend, begin_write, connect, connect_server, migrate, ping};
pub use error::StoreError;
pub use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait};

/// Result type of the store crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
