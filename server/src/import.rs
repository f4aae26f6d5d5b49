//! `polltelligence polls import FILE.json --editor EMAIL`: adds published polls from a JSON
//! array of editor drafts, all or none. Each poll passes the editor form's own checks
//! (`PollDraft::build`: trimming, length limits, option rules), its slug is taken exactly as
//! written, and every poll gets an audit entry naming the editor who imported it.

use crate::store::{NewAudit, Store};
use app::domain::{AuditAction, Email, PollDraft, Publication};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Checks every poll before storing any, then stores them in one transaction, so a bad
/// file, or a clash on the last poll, changes nothing.
pub async fn import(store: &Arc<dyn Store>, json: &str, editor: &str, now: DateTime<Utc>) -> Result<usize, String> {
    let email = Email::parse(editor).map_err(|e| format!("--editor: {e}"))?;
    let editor = store
        .editor_credentials(&email)
        .await
        .map_err(|e| e.to_string())?
        .map(|(id, _)| id)
        .ok_or_else(|| format!("there is no editor {email}; add one with `polltelligence editor add {email}`"))?;
    let drafts: Vec<PollDraft> = serde_json::from_str(json).map_err(|e| format!("not a JSON array of polls: {e}"))?;
    let mut polls = Vec::with_capacity(drafts.len());
    for (i, draft) in drafts.iter().enumerate() {
        let which = format!("poll {} ({:?})", i + 1, draft.slug.as_deref().unwrap_or(draft.question.trim()));
        let slug = draft.wanted_slug().map_err(|e| format!("{which}: {e}"))?;
        let poll = draft.build(slug, Publication::Published).map_err(|e| format!("{which}: {e}"))?;
        if polls.iter().any(|(p, _): &(app::domain::NewPoll, NewAudit)| p.slug() == poll.slug()) {
            return Err(format!("{which}: the slug {} appears twice in the file", poll.slug()));
        }
        let audit =
            NewAudit { editor, action: AuditAction::Imported, detail: format!("\"{}\"", poll.question()), at: now };
        polls.push((poll, audit));
    }
    store.create_polls(&polls).await.map_err(|e| e.to_string())?;
    Ok(polls.len())
}
