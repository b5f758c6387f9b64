use thiserror::Error;

/// A council rule or a value was violated. The message is safe to show to the user.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// A single value is malformed (empty name, bad reference, unknown enum value …).
    #[error("invalid {field}: {reason}")]
    InvalidValue { field: &'static str, reason: String },
    /// A rule spanning several fields is broken (end before start, advisory member with a vote …).
    #[error("{0}")]
    RuleViolated(String),
    /// A state machine was asked for a transition it does not allow.
    #[error("cannot change {what} from {from} to {to}")]
    InvalidTransition {
        what: &'static str,
        from: String,
        to: String,
    },
}

impl DomainError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        DomainError::InvalidValue {
            field,
            reason: reason.into(),
        }
    }
}
