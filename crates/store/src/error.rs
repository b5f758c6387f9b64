use plenum_domain::DomainError;
use sea_orm::{DbErr, SqlErr};
use thiserror::Error;

/// What went wrong in the store, by meaning rather than by driver error.
#[derive(Debug, Error)]
pub enum StoreError {
    /// No such row, or it is deleted where a live one is required.
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// A unique or foreign-key constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The value breaks a domain rule; nothing was written.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// A stored row cannot be read back as a domain value (edited by hand?).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database cannot be reached; callers answer 503 and acknowledge nothing.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] DbErr),
    /// The database server cannot be reached at all (checked before connecting).
    #[error("database unavailable: {0}")]
    Unreachable(String),
    /// The database URL cannot be used.
    #[error("invalid database URL: {0}")]
    BadUrl(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] DbErr),
}

impl StoreError {
    pub(crate) fn not_found(entity: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound {
            entity,
            id: id.to_string(),
        }
    }
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(detail)) => {
                return StoreError::Conflict(format!("already exists ({detail})"));
            }
            Some(SqlErr::ForeignKeyConstraintViolation(detail)) => {
                return StoreError::Conflict(format!(
                    "a referenced object does not exist, or the object is still referenced ({detail})"
                ));
            }
            _ => {}
        }
        match err {
            DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => StoreError::Unavailable(err),
            DbErr::RecordNotFound(what) => StoreError::NotFound {
                entity: "record",
                id: what,
            },
            other => StoreError::Database(other),
        }
    }
}
