//! `polltelligence polls import FILE.json --editor EMAIL`: adds published polls from a JSON
//! array of editor drafts, all or none. Each poll passes the editor form's own checks
//! (`PollDraft::build`: trimming, length limits, option rules), its slug is taken exactly as
//! written, and every poll gets an audit entry naming the editor who imported it.

use crate::store::{NewAudit, Store, StoreError};
use app::domain::{AuditAction, CredentialError, Email, NewPoll, PollDraft, PollError, Publication, Slug};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Why nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("--editor: {0}")]
    Editor(#[from] CredentialError),
    #[error("there is no editor {0}; add one with `polltelligence editor add {0}`")]
    NoEditor(Email),
    #[error("not a JSON array of polls: {0}")]
    NotJson(#[from] serde_json::Error),
    /// Poll `which` (its number and slug or question) breaks the editor form's rules.
    #[error("{which}: {error}")]
    Invalid { which: String, error: PollError },
    #[error("{which}: the slug {slug} appears twice in the file")]
    Repeated { which: String, slug: Slug },
    /// A slug is taken by a stored poll (the store's words).
    #[error("{0}")]
    Taken(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(message) => ImportError::Taken(message),
            other => ImportError::Store(other),
        }
    }
}

/// Checks every poll before storing any, then stores them in one transaction, so a bad
/// file, or a clash on the last poll, changes nothing.
pub async fn import(
    store: &Arc<dyn Store>,
    json: &str,
    editor: &str,
    now: DateTime<Utc>,
) -> Result<usize, ImportError> {
    let email = Email::parse(editor)?;
    let editor = store
        .editor_credentials(&email)
        .await?
        .map(|(id, _)| id)
        .ok_or_else(|| ImportError::NoEditor(email.clone()))?;
    let drafts: Vec<PollDraft> = serde_json::from_str(json)?;
    let mut polls: Vec<(NewPoll, NewAudit)> = Vec::with_capacity(drafts.len());
    for (i, draft) in drafts.iter().enumerate() {
        let which = format!("poll {} ({:?})", i + 1, draft.slug.as_deref().unwrap_or(draft.question.trim()));
        let invalid = |error| ImportError::Invalid { which: which.clone(), error };
        let poll = draft.build(draft.wanted_slug().map_err(invalid)?, Publication::Published).map_err(invalid)?;
        if polls.iter().any(|(p, _)| p.slug() == poll.slug()) {
            return Err(ImportError::Repeated { which, slug: poll.slug().clone() });
        }
        let audit =
            NewAudit { editor, action: AuditAction::Imported, detail: format!("\"{}\"", poll.question()), at: now };
        polls.push((poll, audit));
    }
    store.create_polls(&polls).await?;
    Ok(polls.len())
}
