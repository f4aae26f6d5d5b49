//! Who is voting: a random voter id in a signed, HttpOnly cookie, set on first contact.
//! A missing, malformed or tampered cookie simply means a new voter.

use super::{cookies, AppState};
use app::services::Reader;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::net::SocketAddr;

/// The current secret signs; secrets retired by a rotation still verify, so readers keep
/// their voter id (and their "you voted") across a rotation.
#[derive(Clone)]
pub struct VoterKey(Vec<Hmac<Sha256>>);

impl VoterKey {
    /// `secrets[0]` is the current server secret, the rest retired ones.
    pub fn new(secrets: &[&str]) -> Self {
        assert!(!secrets.is_empty(), "a voter key needs a secret");
        VoterKey(
            secrets
                .iter()
                .map(|s| Hmac::new_from_slice(s.as_bytes()).expect("HMAC takes keys of any length"))
                .collect(),
        )
    }

    fn signature(key: &Hmac<Sha256>, id: &str) -> Hmac<Sha256> {
        let mut mac = key.clone();
        mac.update(id.as_bytes());
        mac
    }

    pub fn sign(&self, id: &str) -> String {
        format!("{id}.{}", URL_SAFE_NO_PAD.encode(Self::signature(&self.0[0], id).finalize().into_bytes()))
    }

    /// The voter id inside a cookie value, if the signature holds under any of the keys.
    pub fn verify(&self, value: &str) -> Option<String> {
        let (id, signature) = value.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        self.0.iter().any(|key| Self::signature(key, id).verify_slice(&signature).is_ok()).then(|| id.to_owned())
    }
}

pub fn new_voter_id() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The request came without a valid voter cookie: a new reader, who has voted on nothing.
#[derive(Clone, Copy)]
pub struct FreshVoter;

pub async fn identify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let known = cookies::read(request.headers(), cookies::VOTER).find_map(|v| state.voter_key.verify(v));
    let fresh = known.is_none();
    let voter = known.unwrap_or_else(new_voter_id);
    let secure = state.secure_cookies_for(request.headers());
    let embedded = request.uri().path().starts_with("/embed/");
    request.extensions_mut().insert(Reader { voter: voter.clone(), ip: peer.ip(), subscriber: None });
    if fresh {
        request.extensions_mut().insert(FreshVoter);
    }
    let mut response = next.run(request).await;
    if fresh {
        cookies::set(&mut response, cookies::voter(state.voter_key.sign(&voter), embedded, secure));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_ids_verify_and_tampering_is_detected() {
        let key = VoterKey::new(&["an-example-secret-that-is-long-enough"]);
        let id = new_voter_id();
        let cookie = key.sign(&id);
        assert_eq!(key.verify(&cookie), Some(id.clone()));
        let other = new_voter_id();
        let (_, sig) = cookie.split_once('.').unwrap();
        assert_eq!(key.verify(&format!("{other}.{sig}")), None);
        assert_eq!(key.verify(&id), None);
        assert_eq!(key.verify("garbage.%%%"), None);
        assert_eq!(VoterKey::new(&["another-secret-another-secret-xx"]).verify(&cookie), None);
        // After a rotation the old cookie still verifies; new ones are signed with the new key.
        let rotated = VoterKey::new(&["another-secret-another-secret-xx", "an-example-secret-that-is-long-enough"]);
        assert_eq!(rotated.verify(&cookie), Some(id.clone()));
        assert_ne!(rotated.sign(&id), cookie);
    }
}
