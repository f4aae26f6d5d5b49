//! Editor accounts, sign-in, sessions and API tokens.
//!
//! Sessions live in the database (so logout and revocation take effect everywhere) and end
//! after `SESSION_IDLE` without use or `SESSION_MAX` after sign-in, whichever comes first.
//! Only SHA-256 hashes of session and API tokens are stored.

use super::{internal, Clock};
use crate::store::{NewAudit, Store, StoreError};
use app::domain::{check_new_password, ApiTokenView, AppError, EditorId, EditorIdentity, Email};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Duration;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub const SESSION_IDLE: Duration = Duration::hours(12);
pub const SESSION_MAX: Duration = Duration::days(7);
/// Sessions are marked as used at most this often, to spare a write per request.
const TOUCH_EVERY: Duration = Duration::minutes(1);

const THROTTLE_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);
const FAILURES_PER_ACCOUNT: u32 = 5;
const FAILURES_PER_ADDRESS: u32 = 20;

pub const API_TOKEN_PREFIX: &str = "pt_";
pub const TOKEN_NAME_MAX_CHARS: usize = 100;

/// A new sign-in: the cookie value, and the CSRF token its pages carry.
pub struct NewSession {
    pub token: String,
    pub csrf: String,
}

pub struct Auth {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    throttle: Throttle,
    /// Verified against when the email is unknown, so both failures take as long.
    decoy_hash: String,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// Argon2 takes tens of milliseconds of CPU; keep it off the async workers.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        tracing::error!(error = %e, "password hashing task failed");
        AppError::Internal
    })
}

impl Auth {
    pub async fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Result<Self, AppError> {
        let decoy_hash = blocking(|| hash_password(&random_token())).await?.map_err(|e| {
            tracing::error!(error = %e, "cannot hash the decoy password");
            AppError::Internal
        })?;
        Ok(Auth { store, clock, throttle: Throttle::default(), decoy_hash })
    }

    /// `polltelligence editor add`: the only way an account comes to exist.
    pub async fn add_editor(&self, email: &str, password: String) -> Result<EditorId, String> {
        let email = Email::parse(email)?;
        check_new_password(&password)?;
        let hash = blocking(move || hash_password(&password)).await.map_err(|e| e.to_string())??;
        self.store.insert_editor(&email, &hash, self.clock.now()).await.map_err(|e| match e {
            StoreError::Conflict(message) => message,
            other => other.to_string(),
        })
    }

    pub async fn login(&self, email: &str, password: &str, ip: IpAddr) -> Result<NewSession, AppError> {
        let account = email.trim().to_lowercase();
        if let Some(minutes) = self.throttle.blocked(&account, ip) {
            return Err(AppError::TooManyAttempts(minutes));
        }
        let known = match Email::parse(email) {
            Ok(email) => self.store.editor_credentials(&email).await.map_err(internal)?,
            Err(_) => None,
        };
        let (editor, stored) = match known {
            Some((id, hash)) => (Some(id), hash),
            None => (None, self.decoy_hash.clone()),
        };
        let password = password.to_owned();
        let matches = blocking(move || password_matches(&password, &stored)).await?;
        let Some(editor) = editor.filter(|_| matches) else {
            self.throttle.failed(&account, ip);
            return Err(AppError::LoginFailed);
        };
        self.throttle.succeeded(&account);
        let session = NewSession { token: random_token(), csrf: random_token() };
        let now = self.clock.now();
        self.store.insert_session(&token_hash(&session.token), editor, &session.csrf, now).await.map_err(internal)?;
        let audit = NewAudit { editor, action: "signed_in", detail: format!("from {ip}"), at: now };
        self.store.record_audit(&audit, None).await.map_err(internal)?;
        Ok(session)
    }

    /// The editor behind a session cookie, if the session is live.
    pub async fn session(&self, token: &str) -> Result<Option<EditorIdentity>, AppError> {
        let hash = token_hash(token);
        let Some(session) = self.store.session(&hash).await.map_err(internal)? else { return Ok(None) };
        let now = self.clock.now();
        if now - session.last_seen_at >= SESSION_IDLE || now - session.created_at >= SESSION_MAX {
            self.store.delete_session(&hash).await.map_err(internal)?;
            return Ok(None);
        }
        if now - session.last_seen_at >= TOUCH_EVERY {
            self.store.touch_session(&hash, now).await.map_err(internal)?;
        }
        Ok(Some(EditorIdentity { id: session.editor, email: session.email, csrf: Some(session.csrf) }))
    }

    pub async fn logout(&self, token: &str, editor: &EditorIdentity) -> Result<(), AppError> {
        self.store.delete_session(&token_hash(token)).await.map_err(internal)?;
        let audit = NewAudit { editor: editor.id, action: "signed_out", detail: String::new(), at: self.clock.now() };
        self.store.record_audit(&audit, None).await.map_err(internal)
    }

    /// The editor behind an `Authorization: Bearer` token, if it is live.
    pub async fn api_token(&self, token: &str) -> Result<Option<EditorIdentity>, AppError> {
        if !token.starts_with(API_TOKEN_PREFIX) {
            return Ok(None);
        }
        let found = self.store.editor_by_api_token(&token_hash(token), self.clock.now()).await.map_err(internal)?;
        Ok(found.map(|(id, email)| EditorIdentity { id, email, csrf: None }))
    }

    /// A new API token, shown once: only its hash is kept.
    pub async fn create_api_token(&self, by: &EditorIdentity, name: &str) -> Result<String, AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > TOKEN_NAME_MAX_CHARS {
            return Err(AppError::InvalidInput(format!(
                "Give the token a name of 1 to {TOKEN_NAME_MAX_CHARS} characters, such as the script that uses it."
            )));
        }
        let token = format!("{API_TOKEN_PREFIX}{}", random_token());
        let audit =
            NewAudit { editor: by.id, action: "created_api_token", detail: name.to_owned(), at: self.clock.now() };
        self.store.insert_api_token(by.id, name, &token_hash(&token), &audit).await.map_err(internal)?;
        Ok(token)
    }

    pub async fn revoke_api_token(&self, by: &EditorIdentity, id: i64) -> Result<(), AppError> {
        let audit = NewAudit {
            editor: by.id,
            action: "revoked_api_token",
            detail: format!("token {id}"),
            at: self.clock.now(),
        };
        match self.store.revoke_api_token(by.id, id, &audit).await.map_err(internal)? {
            true => Ok(()),
            false => Err(AppError::NotFound),
        }
    }

    pub async fn api_tokens(&self, by: &EditorIdentity) -> Result<Vec<ApiTokenView>, AppError> {
        self.store.api_tokens(by.id).await.map_err(internal)
    }
}

/// Failed sign-ins per account and per client address, in fixed windows. An account that
/// does not exist is throttled the same way, so the limit reveals nothing.
#[derive(Default)]
struct Throttle {
    failures: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Throttle {
    fn keys(account: &str, ip: IpAddr) -> [(String, u32); 2] {
        [(format!("account:{account}"), FAILURES_PER_ACCOUNT), (format!("address:{ip}"), FAILURES_PER_ADDRESS)]
    }

    /// Minutes until the next try is allowed, when blocked.
    fn blocked(&self, account: &str, ip: IpAddr) -> Option<u32> {
        let failures = self.failures.lock().expect("throttle lock");
        Self::keys(account, ip).iter().find_map(|(key, limit)| {
            let (start, count) = failures.get(key)?;
            let left = THROTTLE_WINDOW.checked_sub(start.elapsed())?;
            (count >= limit).then(|| (left.as_secs() / 60 + 1) as u32)
        })
    }

    fn failed(&self, account: &str, ip: IpAddr) {
        let mut failures = self.failures.lock().expect("throttle lock");
        if failures.len() > 100_000 {
            failures.retain(|_, (start, _)| start.elapsed() < THROTTLE_WINDOW);
        }
        for (key, _) in Self::keys(account, ip) {
            let (start, count) = failures.entry(key).or_insert((Instant::now(), 0));
            if start.elapsed() >= THROTTLE_WINDOW {
                *start = Instant::now();
                *count = 0;
            }
            *count += 1;
        }
    }

    fn succeeded(&self, account: &str) {
        self.failures.lock().expect("throttle lock").remove(&format!("account:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery staple").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(password_matches("correct horse battery staple", &hash));
        assert!(!password_matches("correct horse battery stapler", &hash));
        assert!(!password_matches("anything", "not a hash"));
    }

    #[test]
    fn throttle_blocks_an_account_after_five_failures_and_forgets_on_success() {
        let throttle = Throttle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..FAILURES_PER_ACCOUNT {
            assert_eq!(throttle.blocked("ed@example.com", ip), None);
            throttle.failed("ed@example.com", ip);
        }
        assert_eq!(throttle.blocked("ed@example.com", ip), Some(15));
        assert_eq!(throttle.blocked("other@example.com", ip), None);
        throttle.succeeded("ed@example.com");
        assert_eq!(throttle.blocked("ed@example.com", ip), None);
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
