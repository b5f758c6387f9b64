//! Rate limits on every guess (password, TOTP, recovery code, setup link): per account first,
//! and per client address generously, because a whole council's tablets often share the town
//! hall's one public address. Refresh and normal API calls are never limited here, so a
//! signed-in device keeps working while an attacker burns an account's login attempts.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

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

/// The limiters, shared by all requests.
#[derive(Clone)]
pub struct GuessLimiter {
    accounts: Arc<DefaultKeyedRateLimiter<String>>,
    addresses: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

fn quota(burst: u32, period: Duration) -> Quota {
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period.max(Duration::from_millis(1)))
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl GuessLimiter {
    pub fn new(limits: GuessLimits) -> Self {
        Self {
            accounts: Arc::new(RateLimiter::keyed(quota(
                limits.account_burst,
                limits.account_period,
            ))),
            addresses: Arc::new(RateLimiter::keyed(quota(
                limits.address_burst,
                limits.address_period,
            ))),
        }
    }

    /// Counts one guess; `Err(wait)` when a limit is exhausted.
    pub fn check(&self, account: Option<&str>, address: IpAddr) -> Result<(), Duration> {
        let clock = DefaultClock::default();
        if let Err(not_until) = self.addresses.check_key(&address) {
            return Err(not_until.wait_time_from(clock.now()));
        }
        if let Some(account) = account
            && let Err(not_until) = self.accounts.check_key(&account.to_lowercase())
        {
            return Err(not_until.wait_time_from(clock.now()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_limited_independently_of_others() {
        let limiter = GuessLimiter::new(GuessLimits {
            account_burst: 3,
            account_period: Duration::from_secs(60),
            ..GuessLimits::default()
        });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(Some("anna"), ip).is_ok());
        }
        let wait = limiter.check(Some("ANNA"), ip).unwrap_err();
        assert!(wait > Duration::from_secs(1));
        assert!(
            limiter.check(Some("bernd"), ip).is_ok(),
            "other accounts are unaffected"
        );
    }

    #[test]
    fn an_address_is_limited_generously() {
        let limiter = GuessLimiter::new(GuessLimits {
            address_burst: 5,
            address_period: Duration::from_secs(60),
            ..GuessLimits::default()
        });
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..5 {
            assert!(limiter.check(Some(&format!("user{i}")), ip).is_ok());
        }
        assert!(limiter.check(Some("user9"), ip).is_err());
        assert!(
            limiter
                .check(Some("user9"), "10.0.0.2".parse().unwrap())
                .is_ok()
        );
    }
}
