//! Editor accounts, sign-in, sessions and API tokens.
//!
//! Sessions live in the database (so logout and revocation take effect everywhere) and end
//! after `SESSION_IDLE` without use or `SESSION_MAX` after sign-in, whichever comes first.
//! Only SHA-256 hashes of session and API tokens are stored.

use super::throttle::Throttle;
use super::{internal, Clock};
use crate::store::{NewAudit, Store, StoreError};
use app::domain::{check_new_password, ApiTokenView, AppError, AuditAction, EditorId, EditorIdentity, Email};
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Duration;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use subtle::ConstantTimeEq;

pub const SESSION_IDLE: Duration = Duration::hours(12);
pub const SESSION_MAX: Duration = Duration::days(7);
/// Sessions are marked as used at most this often, to spare a write per request.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// Password checks at once (Argon2 takes ~19 MiB each: they run on this many threads of their
/// own) and how many more may wait for one; past that a sign-in is refused at once.
const HASHES_AT_ONCE: usize = 4;
const HASHES_WAITING: usize = 64;
/// Longer input is refused before any work: no real account has it.
const MAX_EMAIL_CHARS: usize = 254;
const MAX_PASSWORD_BYTES: usize = 1024;
/// How long a browser stays "known" to an account after signing in (each sign-in renews it).
pub const KNOWN_BROWSER_DAYS: i64 = 365;
/// Random bytes of a browser's id in its known-browser mark.
const BROWSER_ID_BYTES: usize = 12;

pub const API_TOKEN_PREFIX: &str = "pt_";
pub const TOKEN_NAME_MAX_CHARS: usize = 100;

/// A new sign-in: the cookie value, the CSRF token its pages carry, and the value of the
/// cookie that marks this browser as one that has signed in to the account.
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub known_browser: String,
}

pub struct Auth {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    throttle: Throttle,
    /// Verified against when the email is unknown, so both failures take as long.
    decoy_hash: String,
    /// Signs the known-browser marks (kept in the database, shared by instances).
    browser_key: Hmac<Sha256>,
    passwords: PasswordChecker,
}

/// Sign-ins' password checks run on `HASHES_AT_ONCE` threads of their own, fed by a queue of
/// `HASHES_WAITING`. Memory stays at `HASHES_AT_ONCE` Argon2 buffers whatever the load: each
/// thread keeps its own and reuses it (allocating one per check on tokio's blocking pool, 150
/// sign-ins at once left ~700 MB resident).
/// A full queue refuses at once instead of piling up work. The threads end with `Auth`.
struct PasswordChecker {
    queue: std::sync::mpsc::SyncSender<PasswordJob>,
}

struct PasswordJob {
    password: String,
    stored: String,
    answer: tokio::sync::oneshot::Sender<bool>,
}

impl PasswordChecker {
    fn start() -> Self {
        let (queue, jobs) = std::sync::mpsc::sync_channel::<PasswordJob>(HASHES_WAITING);
        let jobs = Arc::new(Mutex::new(jobs));
        for i in 0..HASHES_AT_ONCE {
            let jobs = jobs.clone();
            let worker = move || {
                let mut memory = Vec::new();
                loop {
                    let next = jobs.lock().expect("password queue lock").recv();
                    let Ok(job) = next else { return };
                    let _ = job.answer.send(password_matches_in(&job.password, &job.stored, &mut memory));
                }
            };
            std::thread::Builder::new().name(format!("password-{i}")).spawn(worker).expect("start a password thread");
        }
        PasswordChecker { queue }
    }

    async fn check(&self, password: String, stored: String) -> Result<bool, AppError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.queue.try_send(PasswordJob { password, stored, answer }).map_err(|e| match e {
            std::sync::mpsc::TrySendError::Full(_) => AppError::TooManyAttempts(1),
            std::sync::mpsc::TrySendError::Disconnected(_) => AppError::Internal,
        })?;
        answered.await.map_err(|_| AppError::Internal)
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// What `Auth::end_access` does to an editor's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorAccess {
    SignOut,
    Disable,
    Enable,
}

/// Why `polltelligence editor add` could not add the account.
#[derive(Debug, thiserror::Error)]
pub enum AddEditorError {
    #[error(transparent)]
    Credentials(#[from] app::domain::CredentialError),
    #[error("an editor with this email already exists")]
    Taken,
    #[error("could not hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(StoreError),
}

#[cfg(test)]
fn password_matches(password: &str, stored: &str) -> bool {
    password_matches_in(password, stored, &mut Vec::new())
}

/// Checks `password` against a stored PHC string, with `memory` as Argon2's working memory
/// (kept by each password thread, so a check allocates nothing). `PasswordVerifier` would
/// allocate ~19 MiB per check, and freed buffers stay resident across threads.
fn password_matches_in(password: &str, stored: &str, memory: &mut Vec<argon2::Block>) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else { return false };
    let (Ok(algorithm), Ok(params)) = (argon2::Algorithm::try_from(hash.algorithm), argon2::Params::try_from(&hash))
    else {
        return false;
    };
    let version = hash.version.map_or(Ok(argon2::Version::default()), argon2::Version::try_from);
    let (Ok(version), Some(salt), Some(expected)) = (version, hash.salt, hash.hash) else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    memory.resize(params.block_count(), argon2::Block::default());
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory.as_mut_slice())
        .is_ok()
        && bool::from(out.ct_eq(expected.as_bytes()))
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
        Self::with_throttle(store, clock, super::throttle::THROTTLE_KEYS).await
    }

    /// `throttle_keys`: how many sign-in throttle keys are kept (`POLLTELLIGENCE_SIGN_IN_KEYS`).
    pub async fn with_throttle(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        throttle_keys: usize,
    ) -> Result<Self, AppError> {
        let decoy_hash = blocking(|| hash_password(&random_token())).await?.map_err(|e| {
            tracing::error!(error = %e, "cannot hash the decoy password");
            AppError::Internal
        })?;
        let secret = store.secret("known_browser_key", &random_token()).await.map_err(internal)?;
        let browser_key = Hmac::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
        Ok(Auth {
            store,
            clock,
            throttle: Throttle::new(throttle_keys),
            decoy_hash,
            browser_key,
            passwords: PasswordChecker::start(),
        })
    }

    fn mark_mac(&self, account: &str, browser: &str, issued_ms: i64) -> String {
        let mut mac = self.browser_key.clone();
        for part in ["known-browser", account, browser, &issued_ms.to_string()] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A known-browser mark: this browser's own id (kept from its previous mark, so each
    /// browser keeps one sign-in budget), when it was issued, and a MAC of both with the account.
    fn browser_mark(&self, account: &str, browser: Option<&str>) -> String {
        let browser = browser.map_or_else(
            || {
                let mut bytes = [0u8; BROWSER_ID_BYTES];
                rand::thread_rng().fill_bytes(&mut bytes);
                URL_SAFE_NO_PAD.encode(bytes)
            },
            str::to_owned,
        );
        let issued_ms = self.clock.now().timestamp_millis();
        format!("{browser}.{issued_ms}.{}", self.mark_mac(account, &browser, issued_ms))
    }

    /// The browser's id, when `mark` is a mark this server issued for the account, less than
    /// `KNOWN_BROWSER_DAYS` old and issued after the editor last signed out everywhere. The
    /// database is asked only for a genuine mark, so forged ones cost a MAC and nothing more.
    async fn known_browser<'m>(&self, account: &str, mark: Option<&'m str>) -> Result<Option<&'m str>, AppError> {
        let Some((browser, issued, mac)) = mark.and_then(|m| {
            let mut parts = m.splitn(3, '.');
            Some((parts.next()?, parts.next()?.parse::<i64>().ok()?, parts.next()?))
        }) else {
            return Ok(None);
        };
        if !bool::from(self.mark_mac(account, browser, issued).as_bytes().ct_eq(mac.as_bytes())) {
            return Ok(None);
        }
        let now = self.clock.now().timestamp_millis();
        if now.saturating_sub(issued) >= Duration::days(KNOWN_BROWSER_DAYS).num_milliseconds() {
            return Ok(None);
        }
        let Ok(email) = Email::parse(account) else { return Ok(None) };
        match self.store.editor_signed_out_at(&email).await.map_err(internal)? {
            Some(Some(signed_out)) if issued <= signed_out.timestamp_millis() => Ok(None),
            Some(_) => Ok(Some(browser)),
            None => Ok(None),
        }
    }

    /// `polltelligence editor add`: the only way an account comes to exist.
    pub async fn add_editor(&self, email: &str, password: String) -> Result<EditorId, AddEditorError> {
        let email = Email::parse(email)?;
        check_new_password(&password)?;
        let hash = blocking(move || hash_password(&password))
            .await
            .map_err(|e| AddEditorError::Hash(e.to_string()))?
            .map_err(|e| AddEditorError::Hash(e.to_string()))?;
        self.store.insert_editor(&email, &hash, self.clock.now()).await.map_err(|e| match e {
            StoreError::Conflict(_) => AddEditorError::Taken,
            other => AddEditorError::Store(other),
        })
    }

    /// Signs in. `browser` is the known-browser cookie the request carried, if any.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        ip: IpAddr,
        browser: Option<&str>,
    ) -> Result<NewSession, AppError> {
        let account = email.trim().to_lowercase();
        if account.chars().count() > MAX_EMAIL_CHARS || password.len() > MAX_PASSWORD_BYTES {
            return Err(AppError::LoginFailed);
        }
        let known_browser = self.known_browser(&account, browser).await?;
        // The attempt counts before the password is checked, so a burst of guesses sent at
        // once gets no more tries than guesses sent one by one.
        self.throttle.attempt(&account, ip, known_browser, Instant::now()).map_err(AppError::TooManyAttempts)?;
        let known = match Email::parse(email) {
            Ok(email) => self.store.editor_credentials(&email).await.map_err(internal)?,
            Err(_) => None,
        };
        let (editor, stored) = match known {
            Some((id, hash)) => (Some(id), hash),
            None => (None, self.decoy_hash.clone()),
        };
        let matches = self.passwords.check(password.to_owned(), stored).await?;
        let Some(editor) = editor.filter(|_| matches) else { return Err(AppError::LoginFailed) };
        self.throttle.succeeded(&account, ip, known_browser);
        let session = NewSession {
            token: random_token(),
            csrf: random_token(),
            known_browser: self.browser_mark(&account, known_browser),
        };
        let now = self.clock.now();
        self.store.insert_session(&token_hash(&session.token), editor, &session.csrf, now).await.map_err(internal)?;
        let audit = NewAudit { editor, action: AuditAction::SignedIn, detail: format!("from {ip}"), at: now };
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
        let audit =
            NewAudit { editor: editor.id, action: AuditAction::SignedOut, detail: String::new(), at: self.clock.now() };
        self.store.record_audit(&audit, None).await.map_err(internal)
    }

    /// "Sign out everywhere": every session of the editor ends, this one included, and every
    /// browser's known-browser mark is revoked (each signs in as a new browser next time).
    pub async fn sign_out_everywhere(&self, editor: &EditorIdentity) -> Result<(), AppError> {
        let audit = NewAudit {
            editor: editor.id,
            action: AuditAction::SignedOutEverywhere,
            detail: String::new(),
            at: self.clock.now(),
        };
        self.store.end_editor_access(editor.id, false, &audit).await.map_err(internal)
    }

    /// `polltelligence editor disable|enable|sign-out`: the operator ends an editor's access.
    /// Disabling ends their sessions, revokes their API tokens and marks, and refuses their
    /// sign-ins until enabled again; signing out ends sessions and marks only.
    pub async fn end_access(&self, email: &str, access: EditorAccess) -> Result<(), String> {
        let email = Email::parse(email).map_err(|e| e.to_string())?;
        let editor = self
            .store
            .editor_id(&email)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("there is no editor {email}"))?;
        let (action, detail) = match access {
            EditorAccess::SignOut => (AuditAction::SignedOutEverywhere, "by the operator"),
            EditorAccess::Disable => (AuditAction::Disabled, "by the operator"),
            EditorAccess::Enable => (AuditAction::Enabled, "by the operator"),
        };
        let audit = NewAudit { editor, action, detail: detail.to_owned(), at: self.clock.now() };
        match access {
            EditorAccess::Enable => self.store.enable_editor(editor, &audit).await,
            other => self.store.end_editor_access(editor, other == EditorAccess::Disable, &audit).await,
        }
        .map_err(|e| e.to_string())
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
        if let Some(c) = app::domain::control_character(name, false) {
            return Err(AppError::InvalidInput(app::domain::control_problem("The token's name", c)));
        }
        if name.is_empty() || name.chars().count() > TOKEN_NAME_MAX_CHARS {
            return Err(AppError::InvalidInput(format!(
                "Give the token a name of 1 to {TOKEN_NAME_MAX_CHARS} characters, such as the script that uses it."
            )));
        }
        let token = format!("{API_TOKEN_PREFIX}{}", random_token());
        let audit = NewAudit {
            editor: by.id,
            action: AuditAction::CreatedApiToken,
            detail: name.to_owned(),
            at: self.clock.now(),
        };
        self.store.insert_api_token(by.id, name, &token_hash(&token), &audit).await.map_err(internal)?;
        Ok(token)
    }

    pub async fn revoke_api_token(&self, by: &EditorIdentity, id: i64) -> Result<(), AppError> {
        let audit = NewAudit {
            editor: by.id,
            action: AuditAction::RevokedApiToken,
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
        // The same working memory serves checks one after another.
        let mut memory = Vec::new();
        assert!(password_matches_in("correct horse battery staple", &hash, &mut memory));
        assert!(!password_matches_in("correct horse battery stapler", &hash, &mut memory));
        assert!(password_matches_in("correct horse battery staple", &hash, &mut memory));
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
