//! Rate limits on every guess (password, TOTP, recovery code, setup link): per account first,
//! and per client address generously, because a whole council's tablets often share the town
//! hall's one public address. Refresh and normal API calls are never limited here, so a
//! signed-in device keeps working while an attacker burns an account's login attempts.
//!
//! On SQLite (one node) the limits live in memory. On PostgreSQL every node counts in the
//! database's `rate_limit` table ([`plenum_store::cluster::rate_limit`]), so an attacker cannot
//! multiply the guesses by the number of nodes; when that check fails (the database is briefly
//! unreachable), the node falls back to its own in-memory limiter and logs a warning rather than
//! refusing every login.

use std::fmt::Display;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use plenum_store::{Backend, DatabaseConnection, cluster};

/// How many guesses are allowed.
#[derive(Debug, Clone, Copy)]
pub struct GuessLimits {
    /// Guesses per account in a burst, then one more per `account_period`.
    pub account_burst: u32,
    pub account_period: Duration,
    /// Guesses per client address in a burst, then one more per `address_period`.
    pub address_burst: u32,
    pub address_period: Duration,
}

impl Default for GuessLimits {
    fn default() -> Self {
        Self {
            account_burst: 10,
            account_period: Duration::from_secs(30),
            address_burst: 200,
            address_period: Duration::from_millis(200),
        }
    }
}

/// Every how many shared checks a node deletes the expired rows of `rate_limit` (in the
/// background; a row whose time has passed allows a full burst, exactly like no row).
const PRUNE_EVERY: u64 = 512;

/// One keyed rate limit: `burst` events, then one more per `period`. In memory (`governor`), or,
/// once [`KeyedLimit::shared`], in the database for every node on it.
#[derive(Clone)]
pub struct KeyedLimit<K: Hash + Eq + Clone> {
    local: Arc<DefaultKeyedRateLimiter<K>>,
    quota: cluster::Quota,
    /// Prefix of this limit's keys in `rate_limit` (`login-account:anna`).
    namespace: &'static str,
    /// The database whose `rate_limit` table every node counts in (PostgreSQL only).
    shared: Option<DatabaseConnection>,
    checks: Arc<AtomicU64>,
}

impl<K: Hash + Eq + Clone + Display> KeyedLimit<K> {
    /// An in-memory limit; `namespace` names it in the database once shared.
    pub fn new(namespace: &'static str, burst: u32, period: Duration) -> Self {
        let burst = burst.max(1);
        let period = period.max(Duration::from_millis(1));
        let governor_quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        Self {
            local: Arc::new(RateLimiter::keyed(governor_quota)),
            quota: cluster::Quota { burst, period },
            namespace,
            shared: None,
            checks: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Counts in `db` when `backend` is PostgreSQL (every node on it shares the budget); on
    /// SQLite it stays in memory, as before.
    #[must_use]
    pub fn shared(mut self, db: &DatabaseConnection, backend: Backend) -> Self {
        self.shared = (backend == Backend::Postgres).then(|| db.clone());
        self
    }

    /// Counts one event for `key`; `Err(wait)` when the limit is exhausted.
    pub async fn check(&self, key: &K) -> Result<(), Duration> {
        if let Some(db) = &self.shared {
            self.prune_now_and_then(db);
            let db_key = format!("{}:{key}", self.namespace);
            match cluster::rate_limit(db, &db_key, self.quota).await {
                Ok(verdict) => return verdict,
                Err(err) => tracing::warn!(
                    error = %err,
                    limit = self.namespace,
                    "the shared rate limit is unavailable; counting on this node only"
                ),
            }
        }
        self.local
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    fn prune_now_and_then(&self, db: &DatabaseConnection) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY != PRUNE_EVERY - 1 {
            return;
        }
        let db = db.clone();
        tokio::spawn(async move {
            if let Err(err) = cluster::prune_rate_limits(&db).await {
                tracing::warn!(error = %err, "cannot prune expired rate limits");
            }
        });
    }
}

/// The limiters, shared by all requests (and on PostgreSQL by all nodes).
#[derive(Clone)]
pub struct GuessLimiter {
    accounts: KeyedLimit<String>,
    addresses: KeyedLimit<IpAddr>,
}

impl GuessLimiter {
    /// In-memory limiters (one node).
    pub fn new(limits: GuessLimits) -> Self {
        Self {
            accounts: KeyedLimit::new("login-account", limits.account_burst, limits.account_period),
            addresses: KeyedLimit::new(
                "login-address",
                limits.address_burst,
                limits.address_period,
            ),
        }
    }

    /// Counts in `db` on PostgreSQL, so that every node shares the budgets; unchanged on SQLite.
    #[must_use]
    pub fn shared(self, db: &DatabaseConnection, backend: Backend) -> Self {
        Self {
            accounts: self.accounts.shared(db, backend),
            addresses: self.addresses.shared(db, backend),
        }
    }

    /// Counts one guess, the address first; `Err(wait)` when a limit is exhausted. Account
    /// names count case-insensitively.
    pub async fn check(&self, account: Option<&str>, address: IpAddr) -> Result<(), Duration> {
        self.addresses.check(&address).await?;
        if let Some(account) = account {
            self.accounts.check(&account.to_lowercase()).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_account_is_limited_independently_of_others() {
        let limiter = GuessLimiter::new(GuessLimits {
            account_burst: 3,
            account_period: Duration::from_secs(60),
            ..GuessLimits::default()
        });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(Some("anna"), ip).await.is_ok());
        }
        let wait = limiter.check(Some("ANNA"), ip).await.unwrap_err();
        assert!(wait > Duration::from_secs(1));
        assert!(
            limiter.check(Some("bernd"), ip).await.is_ok(),
            "other accounts are unaffected"
        );
    }

    #[tokio::test]
    async fn an_address_is_limited_generously() {
        let limiter = GuessLimiter::new(GuessLimits {
            address_burst: 5,
            address_period: Duration::from_secs(60),
            ..GuessLimits::default()
        });
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..5 {
            assert!(limiter.check(Some(&format!("user{i}")), ip).await.is_ok());
        }
        assert!(limiter.check(Some("user9"), ip).await.is_err());
        assert!(
            limiter
                .check(Some("user9"), "10.0.0.2".parse().unwrap())
                .await
                .is_ok()
        );
    }
}
