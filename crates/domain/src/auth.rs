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

/// Failed second-factor attempts in a row that cost no waiting (typos).
pub const SECOND_FACTOR_FREE_FAILURES: u32 = 3;
/// The wait after the first failure beyond the free ones; it doubles with every further one.
pub const SECOND_FACTOR_BASE_WAIT_SECS: i64 = 15;
/// The longest wait between two attempts.
pub const SECOND_FACTOR_MAX_WAIT_SECS: i64 = 900;
/// After this many failures in a row, codes from the authenticator app are refused until an
/// admin unlocks the account or its owner signs in with a recovery code.
pub const SECOND_FACTOR_LOCK_AFTER: u32 = 10;

/// What is being tried as the second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactorKind {
    /// A 6-digit code from the authenticator app.
    Code,
    /// One of the recovery codes (about 60 bits each; still accepted while locked).
    RecoveryCode,
}

/// Whether a second-factor attempt may be made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactorVerdict {
    Allowed,
    /// Too soon after the last failure: try again after this long.
    Wait(chrono::Duration),
    /// Too many failures in a row: app codes are refused.
    Locked,
}

/// Failed second-factor attempts in a row of one account in one bucket (all unknown devices
/// together, or one known device), as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SecondFactorBudget {
    pub failures: u32,
    pub last_attempt: Option<DateTime<Utc>>,
}

impl SecondFactorBudget {
    /// The wait that `failures` failures in a row impose before the next attempt: none for the
    /// first three, then 15 s doubling per failure up to 15 minutes.
    pub fn wait_after(failures: u32) -> chrono::Duration {
        if failures < SECOND_FACTOR_FREE_FAILURES {
            return chrono::Duration::zero();
        }
        let doublings = (failures - SECOND_FACTOR_FREE_FAILURES).min(16);
        let secs = SECOND_FACTOR_BASE_WAIT_SECS.saturating_mul(1i64 << doublings);
        chrono::Duration::seconds(secs.min(SECOND_FACTOR_MAX_WAIT_SECS))
    }

    /// Whether app codes are refused.
    pub fn is_locked(&self) -> bool {
        self.failures >= SECOND_FACTOR_LOCK_AFTER
    }

    /// Whether an attempt of this kind may be made at `now`.
    pub fn verdict(&self, kind: SecondFactorKind, now: DateTime<Utc>) -> SecondFactorVerdict {
        if self.is_locked() && kind == SecondFactorKind::Code {
            return SecondFactorVerdict::Locked;
        }
        if let Some(last) = self.last_attempt {
            let ready = last + Self::wait_after(self.failures);
            if now < ready {
                return SecondFactorVerdict::Wait(ready - now);
            }
        }
        SecondFactorVerdict::Allowed
    }
}

#[cfg(test)]
mod second_factor_tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn the_wait_doubles_after_three_failures_up_to_fifteen_minutes() {
        let waits: Vec<i64> = (0..=12)
            .map(|f| SecondFactorBudget::wait_after(f).num_seconds())
            .collect();
        assert_eq!(
            waits,
            [0, 0, 0, 15, 30, 60, 120, 240, 480, 900, 900, 900, 900]
        );
        assert_eq!(SecondFactorBudget::wait_after(u32::MAX).num_seconds(), 900);
    }

    #[test]
    fn attempts_wait_then_lock_but_recovery_codes_still_pass_the_lock() {
        let fresh = SecondFactorBudget::default();
        assert_eq!(
            fresh.verdict(SecondFactorKind::Code, at(0)),
            SecondFactorVerdict::Allowed
        );
        let three = SecondFactorBudget {
            failures: 3,
            last_attempt: Some(at(0)),
        };
        assert_eq!(
            three.verdict(SecondFactorKind::Code, at(5)),
            SecondFactorVerdict::Wait(Duration::seconds(10))
        );
        assert_eq!(
            three.verdict(SecondFactorKind::Code, at(15)),
            SecondFactorVerdict::Allowed
        );
        let locked = SecondFactorBudget {
            failures: SECOND_FACTOR_LOCK_AFTER,
            last_attempt: Some(at(0)),
        };
        assert!(locked.is_locked());
        assert_eq!(
            locked.verdict(SecondFactorKind::Code, at(86_400)),
            SecondFactorVerdict::Locked,
            "the lock does not expire"
        );
        assert_eq!(
            locked.verdict(SecondFactorKind::RecoveryCode, at(60)),
            SecondFactorVerdict::Wait(Duration::seconds(840))
        );
        assert_eq!(
            locked.verdict(SecondFactorKind::RecoveryCode, at(900)),
            SecondFactorVerdict::Allowed
        );
    }

    #[test]
    fn an_attacker_needs_half_an_hour_for_the_ten_guesses_before_the_lock() {
        let total: i64 = (0..SECOND_FACTOR_LOCK_AFTER)
            .map(|f| SecondFactorBudget::wait_after(f).num_seconds())
            .sum();
        assert_eq!(total, 15 + 30 + 60 + 120 + 240 + 480 + 900);
    }
}
