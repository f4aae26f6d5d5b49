//! The sign-in throttle: attempts counted per key in fixed windows, before any password is
//! checked, in bounded memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Sign-in attempts allowed per 15 minutes, counted before the password is checked:
/// - per account from one address (IPv6: one /64), the brute-force limit;
/// - per address over all accounts, against spraying one password at many;
/// - per account over all addresses, against a botnet — but a browser that has signed in to
///   this account before (a signed cookie) is not counted there or per address: it has its
///   own bucket, so a stranger can slow the account down but never lock its editor out.
const THROTTLE_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);
const PER_ACCOUNT_AND_ADDRESS: u32 = 5;
const PER_ADDRESS: u32 = 20;
const PER_ACCOUNT: u32 = 100;
const PER_KNOWN_BROWSER: u32 = 5;
/// The throttle's memory is bounded: past this many live keys, new ones are refused.
const THROTTLE_KEYS: usize = 100_000;
#[derive(Clone, PartialEq, Eq, Hash)]
enum ThrottleKey {
    AccountAndAddress(String, IpAddr),
    Address(IpAddr),
    Account(String),
    KnownBrowser(String),
}

/// Sign-in attempts per key in fixed windows. An account that does not exist is throttled
/// the same way, so the limit reveals nothing.
#[derive(Default)]
pub(super) struct Throttle {
    buckets: Mutex<Buckets>,
}

#[derive(Default)]
struct Buckets {
    counts: HashMap<ThrottleKey, (Instant, u32)>,
    /// Expired keys are swept when the map is full, at most once a second.
    next_sweep: Option<Instant>,
}

impl Throttle {
    fn keys(account: &str, ip: IpAddr, known_browser: bool) -> Vec<(ThrottleKey, u32)> {
        let address = super::rate_limit::network_of(ip);
        if known_browser {
            return vec![(ThrottleKey::KnownBrowser(account.to_owned()), PER_KNOWN_BROWSER)];
        }
        vec![
            (ThrottleKey::AccountAndAddress(account.to_owned(), address), PER_ACCOUNT_AND_ADDRESS),
            (ThrottleKey::Address(address), PER_ADDRESS),
            (ThrottleKey::Account(account.to_owned()), PER_ACCOUNT),
        ]
    }

    /// Counts an attempt, or refuses it with the minutes until one of its limits resets.
    pub(super) fn attempt(&self, account: &str, ip: IpAddr, known_browser: bool, now: Instant) -> Result<(), u32> {
        let keys = Self::keys(account, ip, known_browser);
        let mut buckets = self.buckets.lock().expect("throttle lock");
        let live = |(start, count): &(Instant, u32)| now.duration_since(*start) < THROTTLE_WINDOW && *count > 0;
        for (key, limit) in &keys {
            if let Some(bucket) = buckets.counts.get(key).filter(|b| live(b)) {
                if bucket.1 >= *limit {
                    let left = THROTTLE_WINDOW.saturating_sub(now.duration_since(bucket.0));
                    return Err(left.as_secs().div_ceil(60).max(1) as u32);
                }
            }
        }
        let new_keys = keys.iter().filter(|(key, _)| !buckets.counts.contains_key(key)).count();
        if buckets.counts.len() + new_keys > THROTTLE_KEYS {
            if buckets.next_sweep.is_none_or(|at| now >= at) {
                buckets.counts.retain(|_, bucket| live(bucket));
                buckets.next_sweep = Some(now + std::time::Duration::from_secs(1));
            }
            if buckets.counts.len() + new_keys > THROTTLE_KEYS {
                tracing::warn!("sign-in throttle is full; refusing sign-ins from new addresses");
                return Err(1);
            }
        }
        for (key, _) in keys {
            let bucket = buckets.counts.entry(key).or_insert((now, 0));
            if !live(bucket) {
                *bucket = (now, 0);
            }
            bucket.1 += 1;
        }
        Ok(())
    }

    /// A right password: this browser's and this address's tries on the account start over.
    pub(super) fn succeeded(&self, account: &str, ip: IpAddr, known_browser: bool) {
        let mut buckets = self.buckets.lock().expect("throttle lock");
        for (key, _) in Self::keys(account, ip, known_browser) {
            match key {
                ThrottleKey::AccountAndAddress(..) | ThrottleKey::KnownBrowser(_) => {
                    buckets.counts.remove(&key);
                }
                // The attempt was counted; a success is not a failure.
                ThrottleKey::Address(_) | ThrottleKey::Account(_) => {
                    if let Some(bucket) = buckets.counts.get_mut(&key) {
                        bucket.1 = bucket.1.saturating_sub(1);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_limits_an_account_per_address_and_forgets_on_success() {
        let throttle = Throttle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let now = Instant::now();
        for _ in 0..PER_ACCOUNT_AND_ADDRESS {
            assert_eq!(throttle.attempt("ed@example.com", ip, false, now), Ok(()));
        }
        assert_eq!(throttle.attempt("ed@example.com", ip, false, now), Err(15));
        // Another account from the same address, the same account from elsewhere, and a
        // browser that has signed in before all still get their tries.
        assert_eq!(throttle.attempt("other@example.com", ip, false, now), Ok(()));
        assert_eq!(throttle.attempt("ed@example.com", "10.0.0.2".parse().unwrap(), false, now), Ok(()));
        assert_eq!(throttle.attempt("ed@example.com", ip, true, now), Ok(()));
        throttle.succeeded("ed@example.com", ip, false);
        assert_eq!(throttle.attempt("ed@example.com", ip, false, now), Ok(()));
        // The window ends.
        let later = now + THROTTLE_WINDOW;
        for _ in 0..PER_ACCOUNT_AND_ADDRESS {
            assert_eq!(throttle.attempt("ed@example.com", ip, false, later), Ok(()));
        }
    }
    #[test]
    fn throttle_counts_an_ipv6_network_as_one_address() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for i in 0..PER_ACCOUNT_AND_ADDRESS {
            let ip: IpAddr = format!("2001:db8:1:2::{:x}", i + 1).parse().unwrap();
            assert_eq!(throttle.attempt("ed@example.com", ip, false, now), Ok(()));
        }
        let same_net: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(throttle.attempt("ed@example.com", same_net, false, now), Err(15));
        let other_net: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(throttle.attempt("ed@example.com", other_net, false, now), Ok(()));
    }
    #[test]
    fn throttle_memory_is_bounded() {
        let throttle = Throttle::default();
        let now = Instant::now();
        let mut refused = 0;
        for i in 0..(THROTTLE_KEYS as u32 / 2) {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            if throttle.attempt(&format!("a{i}@example.com"), ip, false, now).is_err() {
                refused += 1;
            }
        }
        assert!(throttle.buckets.lock().unwrap().counts.len() <= THROTTLE_KEYS);
        assert!(refused > 0, "a full throttle refuses new keys instead of growing");
        // Once the window has passed, expired keys are swept and sign-ins work again.
        let later = now + THROTTLE_WINDOW;
        assert_eq!(throttle.attempt("late@example.com", "192.0.2.1".parse().unwrap(), false, later), Ok(()));
    }
}
