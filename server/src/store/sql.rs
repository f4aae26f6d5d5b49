//! The statements of `records.rs` and `votes.rs`, the same text on both engines (sqlx binds
//! `$n` placeholders on both).

// Polls and their options.
pub const POLL_COLUMNS: &str = "id, slug, question, kind, max_choices, allow_comment, allow_vote_change, \
    results_visibility, publication, opens_at, closes_at, version";
pub const HAS_POLLS: &str = "SELECT EXISTS (SELECT 1 FROM polls)";
pub const INSERT_POLL: &str = "INSERT INTO polls (slug, question, kind, max_choices, allow_comment, \
    allow_vote_change, results_visibility, publication, opens_at, closes_at, created_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
/// A new option, or a kept one moved and relabelled (an edit; its id stays, and so its votes).
pub const UPSERT_OPTION: &str = "INSERT INTO poll_options (poll_id, key, label, position) VALUES ($1, $2, $3, $4) \
    ON CONFLICT (poll_id, key) DO UPDATE SET label = excluded.label, position = excluded.position";
pub const ALL_OPTIONS: &str = "SELECT id, poll_id, key, label FROM poll_options ORDER BY poll_id, position";
pub const OPTIONS_OF: &str = "SELECT id, poll_id, key, label FROM poll_options WHERE poll_id = $1 ORDER BY position";
pub const TOTAL_VOTES: &str = "SELECT COUNT(*) FROM votes WHERE poll_id = $1";
pub const COUNTS: &str = "SELECT option_id, COUNT(*) FROM vote_choices WHERE poll_id = $1 GROUP BY option_id";
pub const VOTE_OF: &str = "SELECT o.key FROM votes v \
    JOIN vote_choices c ON c.vote_id = v.id JOIN poll_options o ON o.id = c.option_id \
    WHERE v.poll_id = $1 AND v.voter_id = $2 ORDER BY o.position";
// No conflict target: a repeat of the voter or of the email subscriber both do nothing.
// A vote without a subscriber binds "" (never a subscriber's hash), stored as NULL.
pub const INSERT_VOTE: &str = "INSERT INTO votes (poll_id, voter_id, source, created_at, subscriber) \
    VALUES ($1, $2, $3, $4, NULLIF($5, '')) ON CONFLICT DO NOTHING RETURNING id";
pub const INSERT_CHOICE: &str = "INSERT INTO vote_choices (vote_id, poll_id, option_id) VALUES ($1, $2, $3)";
pub const INSERT_COMMENT: &str = "INSERT INTO comments (vote_id, poll_id, body, created_at) \
    VALUES ($1, $2, $3, $4) ON CONFLICT (vote_id) DO UPDATE SET body = excluded.body";
pub const VOTE_ID: &str = "SELECT id FROM votes WHERE poll_id = $1 AND voter_id = $2";
pub const VOTE_ID_OF_SUBSCRIBER: &str = "SELECT id FROM votes WHERE poll_id = $1 AND subscriber = $2";
pub const DELETE_COMMENT: &str = "DELETE FROM comments WHERE vote_id = $1";
pub const MOVE_VOTE: &str = "UPDATE votes SET voter_id = $2, source = $3, created_at = $4 WHERE id = $1";
pub const CHOICES_OF_VOTE: &str = "SELECT option_id FROM vote_choices WHERE vote_id = $1";
pub const DELETE_CHOICES: &str = "DELETE FROM vote_choices WHERE vote_id = $1";
pub const RESOURCE_VOTE: &str = "UPDATE votes SET source = $2 WHERE id = $1";
pub const INSERT_SECRET: &str = "INSERT INTO app_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
pub const SECRET: &str = "SELECT value FROM app_secrets WHERE name = $1";

// Editors, sessions, API tokens, the dashboard and the audit log.
pub const INSERT_EDITOR: &str = "INSERT INTO editors (email, password_hash, created_at) VALUES ($1, $2, $3) \
    RETURNING id";
// A disabled editor has no credentials: signing in fails as for an unknown email.
pub const EDITOR_CREDENTIALS: &str = "SELECT id, password_hash FROM editors WHERE email = $1 AND disabled_at IS NULL";
pub const EDITOR_ID: &str = "SELECT id FROM editors WHERE email = $1";
pub const EDITOR_SIGNED_OUT_AT: &str = "SELECT signed_out_at FROM editors WHERE email = $1";
pub const DELETE_SESSIONS_OF: &str = "DELETE FROM editor_sessions WHERE editor_id = $1";
pub const SIGN_OUT_EVERYWHERE: &str = "UPDATE editors SET signed_out_at = $2 WHERE id = $1";
pub const DISABLE_EDITOR: &str = "UPDATE editors SET signed_out_at = $2, disabled_at = $2 WHERE id = $1";
pub const ENABLE_EDITOR: &str = "UPDATE editors SET disabled_at = NULL WHERE id = $1";
pub const REVOKE_TOKENS_OF: &str = "UPDATE api_tokens SET revoked_at = $2 WHERE editor_id = $1 AND revoked_at IS NULL";
pub const INSERT_SESSION: &str = "INSERT INTO editor_sessions (token_hash, editor_id, csrf_token, created_at, \
    last_seen_at) VALUES ($1, $2, $3, $4, $4)";
pub const SESSION: &str = "SELECT s.editor_id, e.email, s.csrf_token, s.created_at, s.last_seen_at \
    FROM editor_sessions s JOIN editors e ON e.id = s.editor_id WHERE s.token_hash = $1 AND e.disabled_at IS NULL";
pub const TOUCH_SESSION: &str = "UPDATE editor_sessions SET last_seen_at = $2 WHERE token_hash = $1";
pub const DELETE_SESSION: &str = "DELETE FROM editor_sessions WHERE token_hash = $1";
pub const INSERT_TOKEN: &str = "INSERT INTO api_tokens (editor_id, name, token_hash, created_at) \
    VALUES ($1, $2, $3, $4) RETURNING id";
pub const TOKENS: &str = "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens \
    WHERE editor_id = $1 ORDER BY id DESC";
pub const USE_TOKEN: &str = "UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 \
    AND revoked_at IS NULL AND editor_id IN (SELECT id FROM editors WHERE disabled_at IS NULL) RETURNING editor_id";
pub const EDITOR_EMAIL: &str = "SELECT email FROM editors WHERE id = $1";
pub const REVOKE_TOKEN: &str = "UPDATE api_tokens SET revoked_at = $3 WHERE editor_id = $1 AND id = $2 \
    AND revoked_at IS NULL RETURNING id";
pub const UPDATE_POLL: &str = "UPDATE polls SET slug = $1, question = $2, kind = $3, max_choices = $4, \
    allow_comment = $5, allow_vote_change = $6, results_visibility = $7, publication = $8, opens_at = $9, \
    closes_at = $10, updated_at = $11, version = version + 1 WHERE id = $12 AND version = $13 RETURNING id";
pub const PARK_OPTIONS: &str = "UPDATE poll_options SET position = -1 - position WHERE poll_id = $1";
pub const DROP_PARKED_OPTIONS: &str = "DELETE FROM poll_options WHERE poll_id = $1 AND position < 0";
pub const SOURCES: &str =
    "SELECT source, COUNT(*) FROM votes WHERE poll_id = $1 GROUP BY source ORDER BY COUNT(*) DESC, source";
pub const COMMENTS: &str = "SELECT id, body, hidden, created_at FROM comments WHERE poll_id = $1 \
    ORDER BY created_at DESC, id DESC";
pub const COMMENT_CHOICES: &str = "SELECT c.id, vc.option_id FROM comments c \
    JOIN vote_choices vc ON vc.vote_id = c.vote_id WHERE c.poll_id = $1";
pub const HIDE_COMMENT: &str = "UPDATE comments SET hidden = $3 WHERE poll_id = $1 AND id = $2 RETURNING id";
pub const POLL_SLUG: &str = "SELECT slug FROM polls WHERE id = $1";
pub const INSERT_AUDIT: &str = "INSERT INTO audit_log (editor_id, action, poll_id, poll_slug, detail, at) \
    VALUES ($1, $2, NULLIF($3, 0), NULLIF($4, ''), $5, $6)";
pub const AUDIT: &str = "SELECT a.at, e.email, a.action, a.poll_id, a.poll_slug, a.detail FROM audit_log a \
    JOIN editors e ON e.id = a.editor_id ORDER BY a.id DESC LIMIT $1";

/// The polls matching `condition` (which may use `$1`), newest first.
pub fn polls_where(condition: &str) -> String {
    format!("SELECT {POLL_COLUMNS} FROM polls WHERE {condition} ORDER BY opens_at DESC, id DESC")
}

/// Votes per UTC hour, as `hour` (the engine's `VOTE_HOUR` text) and count.
pub fn votes_per_hour(hour: &str) -> String {
    format!("SELECT {hour} AS hour, COUNT(*) FROM votes WHERE poll_id = $1 GROUP BY hour ORDER BY hour")
}
