use crate::networks::network_of;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Networks counted exactly per window (~10 MiB at most); past it, in the sketch.
const EXACT_NETWORKS: usize = 250_000;
/// Counters per row of the overflow sketch (two rows of `u32`: 512 KiB).
const SKETCH_WIDTH: usize = 1 << 16;

/// Votes allowed per client network per minute, in fixed one-minute windows. A limit of 0
/// turns it off (load tests from one machine).
///
/// Memory and work per vote are bounded however many addresses show up: each window's
/// counts are dropped whole when it ends (no sweep), up to `EXACT_NETWORKS` networks are
/// counted exactly, and networks beyond that (only a flood of addresses gets there) are
/// counted in a fixed-size count-min sketch, which can count high but never low.
pub struct RateLimiter {
    per_minute: u32,
    capacity: usize,
    window: Mutex<Window>,
}

struct Window {
    start: Option<Instant>,
    exact: HashMap<IpAddr, u32>,
    sketch: [Box<[u32]>; 2],
    hashers: [RandomState; 2],
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self::with_capacity(per_minute, EXACT_NETWORKS)
    }

    fn with_capacity(per_minute: u32, capacity: usize) -> Self {
        let window = Window {
            start: None,
            exact: HashMap::new(),
            sketch: [vec![0; SKETCH_WIDTH].into_boxed_slice(), vec![0; SKETCH_WIDTH].into_boxed_slice()],
            hashers: [RandomState::new(), RandomState::new()],
        };
        RateLimiter { per_minute, capacity, window: Mutex::new(window) }
    }

    pub fn allow(&self, ip: IpAddr) -> bool {
        self.allow_at(ip, Instant::now())
    }

    fn allow_at(&self, ip: IpAddr, now: Instant) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let network = network_of(ip);
        let mut window = self.window.lock().expect("rate limit lock");
        if window.start.is_none_or(|start| now.duration_since(start) >= WINDOW) {
            window.start = Some(now);
            window.exact = HashMap::new();
            window.sketch.iter_mut().for_each(|row| row.fill(0));
        }
        let limit = self.per_minute;
        if window.exact.len() < self.capacity || window.exact.contains_key(&network) {
            let used = window.exact.entry(network).or_insert(0);
            *used = used.saturating_add(1);
            return *used <= limit;
        }
        let Window { sketch, hashers, .. } = &mut *window;
        let slots = [0, 1].map(|row| (hashers[row].hash_one(network) as usize) % SKETCH_WIDTH);
        let used = slots.iter().enumerate().map(|(row, &slot)| sketch[row][slot]).min().unwrap_or(0);
        if used >= limit {
            return false;
        }
        for (row, slot) in slots.into_iter().enumerate() {
            sketch[row][slot] = sketch[row][slot].saturating_add(1);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_address_per_window() {
        let limiter = RateLimiter::new(2);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        assert!(limiter.allow_at(a, t0));
        assert!(limiter.allow_at(a, t0));
        assert!(!limiter.allow_at(a, t0));
        assert!(limiter.allow_at(b, t0));
        assert!(limiter.allow_at(a, t0 + WINDOW));
    }

    #[test]
    fn an_ipv6_network_shares_one_budget() {
        let limiter = RateLimiter::new(3);
        let t0 = Instant::now();
        for host in 1..=3 {
            assert!(limiter.allow_at(format!("2001:db8:aa:bb::{host}").parse().unwrap(), t0));
        }
        assert!(!limiter.allow_at("2001:db8:aa:bb:1234:5678:9abc:def0".parse().unwrap(), t0));
        assert!(limiter.allow_at("2001:db8:aa:bc::1".parse().unwrap(), t0));
        // IPv4 seen through an IPv6 socket is the IPv4 address.
        assert_eq!(network_of("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_flood_of_addresses_is_bounded_and_still_limited() {
        let limiter = RateLimiter::with_capacity(5, 1000);
        let t0 = Instant::now();
        let known: IpAddr = "198.51.100.7".parse().unwrap();
        assert!(limiter.allow_at(known, t0));
        for i in 0..20_000u32 {
            limiter.allow_at(IpAddr::from(std::net::Ipv4Addr::from(0x0b00_0000 + i)), t0);
        }
        assert_eq!(limiter.window.lock().unwrap().exact.len(), 1000, "exact counts stop at the capacity");
        // A network counted exactly keeps its exact budget.
        assert!((0..4).all(|_| limiter.allow_at(known, t0)));
        assert!(!limiter.allow_at(known, t0));
        // One past the capacity is still limited (the sketch never counts low).
        let late: IpAddr = "203.0.113.9".parse().unwrap();
        let allowed = (0..10).filter(|_| limiter.allow_at(late, t0)).count();
        assert!(allowed <= 5, "{allowed} votes allowed");
        // The next window starts empty.
        assert!(limiter.allow_at(late, t0 + WINDOW));
        assert_eq!(limiter.window.lock().unwrap().exact.len(), 1);
    }

    #[test]
    fn zero_means_unlimited() {
        let limiter = RateLimiter::new(0);
        let ip: IpAddr = "::1".parse().unwrap();
        assert!((0..10_000).all(|_| limiter.allow(ip)));
    }
}
