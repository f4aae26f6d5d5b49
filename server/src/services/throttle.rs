//! The sign-in throttle: attempts counted per key in fixed windows, before any password is
//! checked, in bounded memory.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Sign-in attempts allowed per 15 minutes, counted before the password is checked:
/// - per account from one address (IPv6: one /64), the brute-force limit;
/// - per address over all accounts, against spraying one password at many;
/// - per account over all addresses, against a botnet — but a browser that has signed in to
///   this account before (a signed cookie, one per browser) is not counted there or per
///   address: each such browser has its own bucket, so a stranger can slow the account down
///   but never lock its editor out, and an old laptop's mark spends only its own tries.
const THROTTLE_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);
const PER_ACCOUNT_AND_ADDRESS: u32 = 5;
const PER_ADDRESS: u32 = 20;
const PER_ACCOUNT: u32 = 100;
const PER_KNOWN_BROWSER: u32 = 5;
/// The throttle's memory is bounded: past this many live keys, the oldest are forgotten
/// (`POLLTELLIGENCE_SIGN_IN_KEYS`). Refusing new keys instead let a flood of new addresses lock
/// every editor out; forgetting the oldest keeps every recent failure counted, so a correct
/// password from an address with no recent failures, and a known browser, always get in. To
/// buy an account more guesses by pushing its count out, a flood must first send about a third
/// of this many attempts from addresses of its own.
pub const THROTTLE_KEYS: usize = 100_000;
#[derive(Clone, PartialEq, Eq, Hash)]
enum ThrottleKey {
    AccountAndAddress(String, IpAddr),
    Address(IpAddr),
    Account(String),
    /// The account and the browser's own id (from its known-browser mark).
    KnownBrowser(String, String),
}

/// Sign-in attempts per key in fixed windows. An account that does not exist is throttled
/// the same way, so the limit reveals nothing.
pub(super) struct Throttle {
    buckets: Mutex<Buckets>,
    capacity: usize,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(THROTTLE_KEYS)
    }
}

#[derive(Default)]
struct Buckets {
    counts: HashMap<ThrottleKey, (Instant, u32)>,
    /// Keys in the order their windows started (oldest first), to expire and forget them
    /// oldest first in O(1). An entry whose key has since restarted (or was removed) is stale
    /// and skipped.
    order: VecDeque<(Instant, ThrottleKey)>,
}

impl Buckets {
    /// Drops the oldest key: expired ones always, live ones while `over` says the map is full.
    fn trim(&mut self, now: Instant, over: impl Fn(usize) -> bool) {
        let mut forgot = 0usize;
        while let Some((start, _)) = self.order.front() {
            let expired = now.duration_since(*start) >= THROTTLE_WINDOW;
            if !expired && !over(self.counts.len()) {
                break;
            }
            let (start, key) = self.order.pop_front().expect("a front entry");
            if self.counts.get(&key).is_some_and(|(s, _)| *s == start) {
                self.counts.remove(&key);
                forgot += usize::from(!expired);
            }
        }
        if forgot > 0 {
            tracing::warn!(forgot, "sign-in throttle is full; forgetting its oldest counts");
        }
    }
}

impl Throttle {
    pub(super) fn new(capacity: usize) -> Self {
        Throttle { buckets: Mutex::new(Buckets::default()), capacity: capacity.max(3) }
    }

    fn keys(account: &str, ip: IpAddr, known_browser: Option<&str>) -> Vec<(ThrottleKey, u32)> {
        let address = crate::networks::network_of(ip);
        if let Some(browser) = known_browser {
            return vec![(ThrottleKey::KnownBrowser(account.to_owned(), browser.to_owned()), PER_KNOWN_BROWSER)];
        }
        vec![
            (ThrottleKey::AccountAndAddress(account.to_owned(), address), PER_ACCOUNT_AND_ADDRESS),
            (ThrottleKey::Address(address), PER_ADDRESS),
            (ThrottleKey::Account(account.to_owned()), PER_ACCOUNT),
        ]
    }

    /// Counts an attempt, or refuses it with the minutes until one of its limits resets.
    /// `known_browser` is the browser's id from a valid known-browser mark.
    pub(super) fn attempt(
        &self,
        account: &str,
        ip: IpAddr,
        known_browser: Option<&str>,
        now: Instant,
    ) -> Result<(), u32> {
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
        // Room for all of this attempt's keys, whether new or not: the bound stays exact even
        // when one of them is the oldest and goes.
        let (capacity, room) = (self.capacity, keys.len());
        buckets.trim(now, |len| len + room > capacity);
        for (key, _) in keys {
            let bucket = buckets.counts.get(&key).copied().filter(live).unwrap_or((now, 0));
            if bucket.1 == 0 {
                buckets.order.push_back((bucket.0, key.clone()));
            }
            buckets.counts.insert(key, (bucket.0, bucket.1 + 1));
        }
        Ok(())
    }

    /// A right password: this browser's and this address's tries on the account start over.
    pub(super) fn succeeded(&self, account: &str, ip: IpAddr, known_browser: Option<&str>) {
        let mut buckets = self.buckets.lock().expect("throttle lock");
        for (key, _) in Self::keys(account, ip, known_browser) {
            match key {
                ThrottleKey::AccountAndAddress(..) | ThrottleKey::KnownBrowser(..) => {
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
            assert_eq!(throttle.attempt("ed@example.com", ip, None, now), Ok(()));
        }
        assert_eq!(throttle.attempt("ed@example.com", ip, None, now), Err(15));
        // Another account from the same address, the same account from elsewhere, and a
        // browser that has signed in before all still get their tries.
        assert_eq!(throttle.attempt("other@example.com", ip, None, now), Ok(()));
        assert_eq!(throttle.attempt("ed@example.com", "10.0.0.2".parse().unwrap(), None, now), Ok(()));
        assert_eq!(throttle.attempt("ed@example.com", ip, Some("laptop"), now), Ok(()));
        throttle.succeeded("ed@example.com", ip, None);
        assert_eq!(throttle.attempt("ed@example.com", ip, None, now), Ok(()));
        // The window ends.
        let later = now + THROTTLE_WINDOW;
        for _ in 0..PER_ACCOUNT_AND_ADDRESS {
            assert_eq!(throttle.attempt("ed@example.com", ip, None, later), Ok(()));
        }
    }
    #[test]
    fn throttle_counts_an_ipv6_network_as_one_address() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for i in 0..PER_ACCOUNT_AND_ADDRESS {
            let ip: IpAddr = format!("2001:db8:1:2::{:x}", i + 1).parse().unwrap();
            assert_eq!(throttle.attempt("ed@example.com", ip, None, now), Ok(()));
        }
        let same_net: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(throttle.attempt("ed@example.com", same_net, None, now), Err(15));
        let other_net: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(throttle.attempt("ed@example.com", other_net, None, now), Ok(()));
    }
    #[test]
    fn a_full_throttle_forgets_its_oldest_counts_and_never_refuses_a_clean_sign_in() {
        // Room for ten strangers' attempts (three keys each).
        let throttle = Throttle::new(30);
        let now = Instant::now();
        let stranger = |i: u32| IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
        for i in 0..200 {
            assert_eq!(throttle.attempt(&format!("a{i}@example.com"), stranger(i), None, now), Ok(()));
            assert!(throttle.buckets.lock().unwrap().counts.len() <= 30, "memory stays bounded");
        }
        // Full of strangers: the editor's correct password from a clean address, and each of
        // their known browsers, still get their tries.
        assert_eq!(throttle.attempt("ed@example.com", "192.0.2.1".parse().unwrap(), None, now), Ok(()));
        assert_eq!(throttle.attempt("ed@example.com", stranger(0), Some("laptop"), now), Ok(()));
        assert_eq!(throttle.attempt("ed@example.com", stranger(0), Some("phone"), now), Ok(()));
        // Recent failures stay counted: the newest guesser is still limited.
        let guesser = "203.0.113.9".parse().unwrap();
        for _ in 0..PER_ACCOUNT_AND_ADDRESS {
            assert_eq!(throttle.attempt("ed@example.com", guesser, None, now), Ok(()));
        }
        assert_eq!(throttle.attempt("ed@example.com", guesser, None, now), Err(15));
        // Each known browser has its own budget: spending one leaves the others.
        for _ in 0..PER_KNOWN_BROWSER - 1 {
            assert_eq!(throttle.attempt("ed@example.com", guesser, Some("old-laptop"), now), Ok(()));
        }
        assert_eq!(throttle.attempt("ed@example.com", guesser, Some("old-laptop"), now), Ok(()));
        assert_eq!(throttle.attempt("ed@example.com", guesser, Some("old-laptop"), now), Err(15));
        assert_eq!(throttle.attempt("ed@example.com", guesser, Some("phone"), now), Ok(()));
        // Once the window has passed, everything starts over.
        let later = now + THROTTLE_WINDOW;
        assert_eq!(throttle.attempt("ed@example.com", guesser, None, later), Ok(()));
        assert!(throttle.buckets.lock().unwrap().counts.len() <= 30);
    }
}
