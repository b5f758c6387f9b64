//! Login state: device sessions and the audit trail of security events.

use chrono::{DateTime, Utc};

use crate::{CalendarFeedId, DeviceSessionId, UserId};

/// One signed-in device (tablet, browser) of a user. Its refresh token is rotated on every use;
/// revoking the session ends the device's access within one access-token lifetime at most, and
/// at once for every request (the session is checked on each one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSession {
    pub id: DeviceSessionId,
    pub user_id: UserId,
    /// Name the user gave the device, or one derived from its user agent.
    pub name: String,
    pub user_agent: String,
    pub created: DateTime<Utc>,
    pub last_used: DateTime<Utc>,
    /// After this the refresh token no longer works (idle timeout, renewed on each refresh).
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
}

impl DeviceSession {
    /// Whether the session may still be used at `now`.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// A member's personal iCalendar feed. Its URL carries a random token, which is the credential
/// (calendar apps send no other); only the token's hash is stored. One feed per user is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarFeed {
    pub id: CalendarFeedId,
    pub user_id: UserId,
    pub created: DateTime<Utc>,
    /// The last fetch, recorded at most once a minute.
    pub last_used: Option<DateTime<Utc>>,
    pub revoked: Option<DateTime<Utc>>,
}

/// A security-relevant event, as appended to the hash-chained audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Who did it, when known (a failed login of an unknown name has no actor).
    pub actor: Option<UserId>,
    /// What happened, e.g. `login.success`, `totp.enrolled`, `device.revoked`.
    pub action: String,
    /// What it happened to, e.g. a user or device session id.
    pub subject: Option<String>,
    /// Further facts as a JSON object text (never secrets, codes or passwords).
    pub detail: String,
}

/// An audit log entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Gap-free position in the chain, starting at 1.
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub event: AuditEvent,
    /// The previous entry's hash (64 zeros for the first entry).
    pub prev_hash: String,
    /// SHA-256 over the previous hash and this entry's canonical form, hex.
    pub hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn sessions_end_when_revoked_or_expired() {
        let now = Utc::now();
        let mut session = DeviceSession {
            id: DeviceSessionId::new(),
            user_id: UserId::new(),
            name: "Tablet".into(),
            user_agent: "test".into(),
            created: now,
            last_used: now,
            expires_at: now + Duration::days(30),
            revoked_at: None,
            revoked_reason: None,
        };
        assert!(session.is_active(now));
        assert!(!session.is_active(now + Duration::days(31)));
        session.revoked_at = Some(now);
        assert!(!session.is_active(now));
    }
}
