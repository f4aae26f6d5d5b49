//! Clients as the server limits them: one IPv4 address or one IPv6 /64 is one client network
//! (the vote limit, the sign-in throttle, connection and stream caps, image renders), and what
//! each network holds at once. Below every other module: it names none of them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The unit a client is limited as: an IPv4 address, or an IPv6 /64 (one subscriber's
/// network, within which addresses are free to pick).
pub fn network_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        v4 => v4,
    }
}

/// What one client network holds at once (connections, live-results streams), at most
/// `limit` each, so that one address cannot take a budget that every reader shares. Only
/// networks holding something are in the map, so its size is bounded by the global caps.
pub struct PerClient {
    limit: usize,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One thing a network holds; given back when dropped.
pub struct Held {
    network: IpAddr,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerClient {
    /// A limit of 0 turns it off.
    pub fn new(limit: usize) -> Self {
        PerClient { limit, held: Arc::default() }
    }

    /// One more for `ip`'s network, or `None` when it already holds its limit.
    pub fn take(&self, ip: IpAddr) -> Option<Held> {
        let network = network_of(ip);
        let mut held = self.held.lock().expect("per-client lock");
        let count = held.entry(network).or_insert(0);
        if self.limit > 0 && *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(Held { network, held: self.held.clone() })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut held = self.held.lock().expect("per-client lock");
        if let Some(count) = held.get_mut(&self.network) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.network);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_client_holdings_are_capped_per_network_and_given_back() {
        let per_client = PerClient::new(2);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_net: IpAddr = "2001:db8:1:2::ffff".parse().unwrap();
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        let first = per_client.take(a).unwrap();
        let _second = per_client.take(same_net).unwrap();
        assert!(per_client.take(a).is_none(), "a /64 is one client");
        assert!(per_client.take(other).is_some(), "another client is still served");
        drop(first);
        assert!(per_client.take(same_net).is_some(), "given back when dropped");
        assert!(PerClient::new(0).take(a).is_some());
        drop(_second);
    }
}
