use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an email or a new password is refused (sign-up on the command line, sign-in form).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("an email address needs an @")]
    NoAt,
    #[error("an email address is at most {} characters", Email::MAX_LEN)]
    EmailTooLong,
    #[error("{0:?} is not an email address")]
    NotAnEmail(String),
    #[error("a password needs at least {PASSWORD_MIN_CHARS} characters")]
    PasswordTooShort,
    #[error("a password is at most {PASSWORD_MAX_BYTES} bytes")]
    PasswordTooLong,
}

/// An editor's login: trimmed and lowercased, so `Ed@Example.com` and `ed@example.com` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, CredentialError> {
        let email = raw.trim().to_lowercase();
        let Some((local, domain)) = email.split_once('@') else {
            return Err(CredentialError::NoAt);
        };
        if email.len() > Self::MAX_LEN {
            return Err(CredentialError::EmailTooLong);
        }
        let plausible = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if plausible {
            Ok(Email(email))
        } else {
            Err(CredentialError::NotAnEmail(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// Length is what makes a password strong; no composition rules.
pub fn check_new_password(password: &str) -> Result<(), CredentialError> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(CredentialError::PasswordTooShort);
    }
    if password.len() > PASSWORD_MAX_BYTES {
        return Err(CredentialError::PasswordTooLong);
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EditorId(pub i64);

/// What an audit line records. Stored and shown by `name`; the log is append-only, so a
/// name once written never changes meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    SignedIn,
    SignedOut,
    SignedOutEverywhere,
    Disabled,
    Enabled,
    CreatedApiToken,
    RevokedApiToken,
    Created,
    Imported,
    Edited,
    Duplicated,
    /// A workflow button: stored under the transition's name (`schedule`, `close`, …).
    Step(super::Transition),
    HidComment,
    RestoredComment,
    SummarisedComments,
    SetSummaryOnClose,
    ApprovedSummary,
}

impl AuditAction {
    pub fn name(self) -> &'static str {
        match self {
            AuditAction::SignedIn => "signed_in",
            AuditAction::SignedOut => "signed_out",
            AuditAction::SignedOutEverywhere => "signed_out_everywhere",
            AuditAction::Disabled => "disabled",
            AuditAction::Enabled => "enabled",
            AuditAction::CreatedApiToken => "created_api_token",
            AuditAction::RevokedApiToken => "revoked_api_token",
            AuditAction::Created => "created",
            AuditAction::Imported => "imported",
            AuditAction::Edited => "edited",
            AuditAction::Duplicated => "duplicated",
            AuditAction::Step(transition) => transition.name(),
            AuditAction::HidComment => "hid_comment",
            AuditAction::RestoredComment => "restored_comment",
            AuditAction::SummarisedComments => "summarised_comments",
            AuditAction::SetSummaryOnClose => "set_summary_on_close",
            AuditAction::ApprovedSummary => "approved_summary",
        }
    }
}

/// The signed-in editor behind a request. `csrf` is the session's token; requests made with
/// an API token carry none, since they hold no ambient credential to forge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditorIdentity {
    pub id: EditorId,
    pub email: Email,
    pub csrf: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiTokenView {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditView {
    pub at: DateTime<Utc>,
    pub editor: String,
    pub action: String,
    pub poll_id: Option<i64>,
    /// The poll acted on, by its slug at the time, if any.
    pub poll: Option<String>,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse("  Ed@Example.COM ").unwrap().as_str(), "ed@example.com");
        for bad in ["", "ed", "@example.com", "ed@example", "ed@.com", "ed@example.", "e d@example.com", "a@b@c.d"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn passwords_need_length_only() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("correct horse battery").is_ok());
        assert!(check_new_password(&"x".repeat(PASSWORD_MAX_BYTES + 1)).is_err());
    }
}
