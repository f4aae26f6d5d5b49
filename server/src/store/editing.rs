//! The editor side of storage: accounts, sessions, API tokens, poll edits, the results
//! dashboard and the audit log. The SQL is the same on both engines, so one macro writes
//! the implementation for each store.

use super::StoreError;
use app::domain::{ApiTokenView, AuditView, EditorId, Email, NewPoll, Poll, PollId};
use chrono::{DateTime, Utc};

/// One line of the audit log, written in the same transaction as the change it records.
#[derive(Debug, Clone)]
pub struct NewAudit {
    pub editor: EditorId,
    pub action: &'static str,
    pub detail: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct StoredSession {
    pub editor: EditorId,
    pub email: Email,
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct StoredComment {
    pub id: i64,
    pub body: String,
    pub hidden: bool,
    pub at: DateTime<Utc>,
    /// Option ids the commenter chose.
    pub option_ids: Vec<i64>,
}

#[async_trait::async_trait]
pub trait EditorStore: Send + Sync {
    /// Fails with `Conflict` when the email is taken.
    async fn insert_editor(
        &self,
        email: &Email,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<EditorId, StoreError>;
    async fn editor_credentials(&self, email: &Email) -> Result<Option<(EditorId, String)>, StoreError>;
    async fn insert_session(
        &self,
        token_hash: &str,
        editor: EditorId,
        csrf: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn session(&self, token_hash: &str) -> Result<Option<StoredSession>, StoreError>;
    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    async fn insert_api_token(
        &self,
        editor: EditorId,
        name: &str,
        token_hash: &str,
        audit: &NewAudit,
    ) -> Result<i64, StoreError>;
    async fn api_tokens(&self, editor: EditorId) -> Result<Vec<ApiTokenView>, StoreError>;
    /// The live (unrevoked) token's editor; notes the token as used.
    async fn editor_by_api_token(
        &self,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<(EditorId, Email)>, StoreError>;
    /// False when the editor has no such live token.
    async fn revoke_api_token(&self, editor: EditorId, id: i64, audit: &NewAudit) -> Result<bool, StoreError>;

    /// Every poll, drafts included, newest first.
    async fn all_polls(&self) -> Result<Vec<Poll>, StoreError>;
    async fn poll_by_id(&self, id: PollId) -> Result<Option<Poll>, StoreError>;
    async fn create_poll(&self, poll: &NewPoll, audit: &NewAudit) -> Result<PollId, StoreError>;
    /// Stores every poll with its audit entry, or none of them (`polls import`).
    async fn create_polls(&self, polls: &[(NewPoll, NewAudit)]) -> Result<Vec<PollId>, StoreError>;
    /// Replaces the poll if it is still at `version`, else `Stale`. Options are matched by
    /// key: kept ones are relabelled and reordered, new ones added, missing ones removed.
    async fn update_poll(&self, id: PollId, version: i64, poll: &NewPoll, audit: &NewAudit) -> Result<(), StoreError>;
    async fn vote_sources(&self, poll: PollId) -> Result<Vec<(String, u64)>, StoreError>;
    /// Votes per hour, oldest first.
    async fn vote_timeline(&self, poll: PollId) -> Result<Vec<(DateTime<Utc>, u64)>, StoreError>;
    async fn comments(&self, poll: PollId) -> Result<Vec<StoredComment>, StoreError>;
    /// False when the poll has no such comment.
    async fn set_comment_hidden(
        &self,
        poll: PollId,
        comment: i64,
        hidden: bool,
        audit: &NewAudit,
    ) -> Result<bool, StoreError>;
    async fn record_audit(&self, audit: &NewAudit, poll: Option<(PollId, &str)>) -> Result<(), StoreError>;
    async fn audit_log(&self, limit: i64) -> Result<Vec<AuditView>, StoreError>;
}

pub(super) mod sql {
    pub const INSERT_EDITOR: &str = "INSERT INTO editors (email, password_hash, created_at) VALUES ($1, $2, $3) \
        RETURNING id";
    pub const EDITOR_CREDENTIALS: &str = "SELECT id, password_hash FROM editors WHERE email = $1";
    pub const INSERT_SESSION: &str = "INSERT INTO editor_sessions (token_hash, editor_id, csrf_token, created_at, \
        last_seen_at) VALUES ($1, $2, $3, $4, $4)";
    pub const SESSION: &str = "SELECT s.editor_id, e.email, s.csrf_token, s.created_at, s.last_seen_at \
        FROM editor_sessions s JOIN editors e ON e.id = s.editor_id WHERE s.token_hash = $1";
    pub const TOUCH_SESSION: &str = "UPDATE editor_sessions SET last_seen_at = $2 WHERE token_hash = $1";
    pub const DELETE_SESSION: &str = "DELETE FROM editor_sessions WHERE token_hash = $1";
    pub const INSERT_TOKEN: &str = "INSERT INTO api_tokens (editor_id, name, token_hash, created_at) \
        VALUES ($1, $2, $3, $4) RETURNING id";
    pub const TOKENS: &str = "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens \
        WHERE editor_id = $1 ORDER BY id DESC";
    pub const USE_TOKEN: &str = "UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 \
        AND revoked_at IS NULL RETURNING editor_id";
    pub const EDITOR_EMAIL: &str = "SELECT email FROM editors WHERE id = $1";
    pub const REVOKE_TOKEN: &str = "UPDATE api_tokens SET revoked_at = $3 WHERE editor_id = $1 AND id = $2 \
        AND revoked_at IS NULL";
    pub const UPDATE_POLL: &str = "UPDATE polls SET slug = $1, question = $2, kind = $3, max_choices = $4, \
        allow_comment = $5, allow_vote_change = $6, results_visibility = $7, publication = $8, opens_at = $9, \
        closes_at = $10, updated_at = $11, version = version + 1 WHERE id = $12 AND version = $13";
    pub const PARK_OPTIONS: &str = "UPDATE poll_options SET position = -1 - position WHERE poll_id = $1";
    pub const MOVE_OPTION: &str = "UPDATE poll_options SET label = $3, position = $4 WHERE poll_id = $1 AND key = $2";
    pub const DROP_PARKED_OPTIONS: &str = "DELETE FROM poll_options WHERE poll_id = $1 AND position < 0";
    pub const SOURCES: &str =
        "SELECT source, COUNT(*) FROM votes WHERE poll_id = $1 GROUP BY source ORDER BY COUNT(*) DESC, source";
    pub const COMMENTS: &str = "SELECT id, body, hidden, created_at FROM comments WHERE poll_id = $1 \
        ORDER BY created_at DESC, id DESC";
    pub const COMMENT_CHOICES: &str = "SELECT c.id, vc.option_id FROM comments c \
        JOIN vote_choices vc ON vc.vote_id = c.vote_id WHERE c.poll_id = $1";
    pub const HIDE_COMMENT: &str = "UPDATE comments SET hidden = $3 WHERE poll_id = $1 AND id = $2";
    pub const POLL_SLUG: &str = "SELECT slug FROM polls WHERE id = $1";
    pub const INSERT_AUDIT: &str = "INSERT INTO audit_log (editor_id, action, poll_id, poll_slug, detail, at) \
        VALUES ($1, $2, $3, $4, $5, $6)";
    pub const AUDIT: &str = "SELECT a.at, e.email, a.action, a.poll_id, a.poll_slug, a.detail FROM audit_log a \
        JOIN editors e ON e.id = a.editor_id ORDER BY a.id DESC LIMIT $1";
}

/// `impl EditorStore for $store`. `$begin` opens a write transaction; `$hour` is the SQL
/// that turns `created_at` into its UTC hour as `YYYY-MM-DDTHH` text.
macro_rules! editor_store {
    ($store:ty, $begin:literal, $hour:literal) => {
        #[async_trait::async_trait]
        impl super::editing::EditorStore for $store {
            async fn insert_editor(
                &self,
                email: &app::domain::Email,
                password_hash: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<app::domain::EditorId, super::StoreError> {
                let id: i64 = sqlx::query_scalar(super::editing::sql::INSERT_EDITOR)
                    .bind(email.as_str())
                    .bind(password_hash)
                    .bind(at)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| super::conflict_or(e, "an editor with this email already exists"))?;
                Ok(app::domain::EditorId(id))
            }

            async fn editor_credentials(
                &self,
                email: &app::domain::Email,
            ) -> Result<Option<(app::domain::EditorId, String)>, super::StoreError> {
                let row: Option<(i64, String)> = sqlx::query_as(super::editing::sql::EDITOR_CREDENTIALS)
                    .bind(email.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(id, hash)| (app::domain::EditorId(id), hash)))
            }

            async fn insert_session(
                &self,
                token_hash: &str,
                editor: app::domain::EditorId,
                csrf: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), super::StoreError> {
                sqlx::query(super::editing::sql::INSERT_SESSION)
                    .bind(token_hash)
                    .bind(editor.0)
                    .bind(csrf)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn session(
                &self,
                token_hash: &str,
            ) -> Result<Option<super::editing::StoredSession>, super::StoreError> {
                type Row = (i64, String, String, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>);
                let row: Option<Row> =
                    sqlx::query_as(super::editing::sql::SESSION).bind(token_hash).fetch_optional(&self.pool).await?;
                row.map(|(editor, email, csrf, created_at, last_seen_at)| {
                    Ok(super::editing::StoredSession {
                        editor: app::domain::EditorId(editor),
                        email: super::editing::stored_email(&email)?,
                        csrf,
                        created_at,
                        last_seen_at,
                    })
                })
                .transpose()
            }

            async fn touch_session(
                &self,
                token_hash: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), super::StoreError> {
                sqlx::query(super::editing::sql::TOUCH_SESSION).bind(token_hash).bind(at).execute(&self.pool).await?;
                Ok(())
            }

            async fn delete_session(&self, token_hash: &str) -> Result<(), super::StoreError> {
                sqlx::query(super::editing::sql::DELETE_SESSION).bind(token_hash).execute(&self.pool).await?;
                Ok(())
            }

            async fn insert_api_token(
                &self,
                editor: app::domain::EditorId,
                name: &str,
                token_hash: &str,
                audit: &super::editing::NewAudit,
            ) -> Result<i64, super::StoreError> {
                let mut tx = self.pool.begin_with($begin).await?;
                let id: i64 = sqlx::query_scalar(super::editing::sql::INSERT_TOKEN)
                    .bind(editor.0)
                    .bind(name)
                    .bind(token_hash)
                    .bind(audit.at)
                    .fetch_one(&mut *tx)
                    .await?;
                super::editing::insert_audit!(&mut *tx, audit, None::<i64>, None::<&str>);
                tx.commit().await?;
                Ok(id)
            }

            async fn api_tokens(
                &self,
                editor: app::domain::EditorId,
            ) -> Result<Vec<app::domain::ApiTokenView>, super::StoreError> {
                type Row = (
                    i64,
                    String,
                    chrono::DateTime<chrono::Utc>,
                    Option<chrono::DateTime<chrono::Utc>>,
                    Option<chrono::DateTime<chrono::Utc>>,
                );
                let rows: Vec<Row> =
                    sqlx::query_as(super::editing::sql::TOKENS).bind(editor.0).fetch_all(&self.pool).await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, name, created_at, last_used_at, revoked_at)| app::domain::ApiTokenView {
                        id,
                        name,
                        created_at,
                        last_used_at,
                        revoked_at,
                    })
                    .collect())
            }

            async fn editor_by_api_token(
                &self,
                token_hash: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<Option<(app::domain::EditorId, app::domain::Email)>, super::StoreError> {
                let editor: Option<i64> = sqlx::query_scalar(super::editing::sql::USE_TOKEN)
                    .bind(token_hash)
                    .bind(at)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(editor) = editor else { return Ok(None) };
                let email: String =
                    sqlx::query_scalar(super::editing::sql::EDITOR_EMAIL).bind(editor).fetch_one(&self.pool).await?;
                Ok(Some((app::domain::EditorId(editor), super::editing::stored_email(&email)?)))
            }

            async fn revoke_api_token(
                &self,
                editor: app::domain::EditorId,
                id: i64,
                audit: &super::editing::NewAudit,
            ) -> Result<bool, super::StoreError> {
                let mut tx = self.pool.begin_with($begin).await?;
                let revoked = sqlx::query(super::editing::sql::REVOKE_TOKEN)
                    .bind(editor.0)
                    .bind(id)
                    .bind(audit.at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if revoked == 0 {
                    return Ok(false);
                }
                super::editing::insert_audit!(&mut *tx, audit, None::<i64>, None::<&str>);
                tx.commit().await?;
                Ok(true)
            }

            async fn all_polls(&self) -> Result<Vec<app::domain::Poll>, super::StoreError> {
                self.polls_matching("1 = 1", None).await
            }

            async fn poll_by_id(
                &self,
                id: app::domain::PollId,
            ) -> Result<Option<app::domain::Poll>, super::StoreError> {
                Ok(self.polls_matching("id = $1", Some(super::Bind::Int(id.0))).await?.pop())
            }

            async fn create_poll(
                &self,
                poll: &app::domain::NewPoll,
                audit: &super::editing::NewAudit,
            ) -> Result<app::domain::PollId, super::StoreError> {
                self.insert_poll_rows(poll, audit.at, Some(audit)).await
            }

            async fn create_polls(
                &self,
                polls: &[(app::domain::NewPoll, super::editing::NewAudit)],
            ) -> Result<Vec<app::domain::PollId>, super::StoreError> {
                let Some((_, first)) = polls.first() else { return Ok(Vec::new()) };
                let rows: Vec<_> = polls.iter().map(|(poll, audit)| (poll, Some(audit))).collect();
                self.insert_polls_rows(&rows, first.at).await
            }

            async fn update_poll(
                &self,
                id: app::domain::PollId,
                version: i64,
                poll: &app::domain::NewPoll,
                audit: &super::editing::NewAudit,
            ) -> Result<(), super::StoreError> {
                let mut tx = self.pool.begin_with($begin).await?;
                let updated = super::bind_poll!(sqlx::query(super::editing::sql::UPDATE_POLL), poll)
                    .bind(audit.at)
                    .bind(id.0)
                    .bind(version)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| super::conflict_or(e, "a poll with this slug already exists"))?
                    .rows_affected();
                if updated == 0 {
                    return Err(super::StoreError::Stale);
                }
                sqlx::query(super::editing::sql::PARK_OPTIONS).bind(id.0).execute(&mut *tx).await?;
                for (position, (key, label)) in poll.options.iter().enumerate() {
                    let moved = sqlx::query(super::editing::sql::MOVE_OPTION)
                        .bind(id.0)
                        .bind(key.as_str())
                        .bind(label)
                        .bind(position as i64)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if moved == 0 {
                        sqlx::query(super::sql::INSERT_OPTION)
                            .bind(id.0)
                            .bind(key.as_str())
                            .bind(label)
                            .bind(position as i64)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                sqlx::query(super::editing::sql::DROP_PARKED_OPTIONS).bind(id.0).execute(&mut *tx).await?;
                super::editing::insert_audit!(&mut *tx, audit, Some(id.0), Some(poll.slug.as_str()));
                tx.commit().await?;
                Ok(())
            }

            async fn vote_sources(&self, poll: app::domain::PollId) -> Result<Vec<(String, u64)>, super::StoreError> {
                let rows: Vec<(String, i64)> =
                    sqlx::query_as(super::editing::sql::SOURCES).bind(poll.0).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(|(source, n)| (source, n.max(0) as u64)).collect())
            }

            async fn vote_timeline(
                &self,
                poll: app::domain::PollId,
            ) -> Result<Vec<(chrono::DateTime<chrono::Utc>, u64)>, super::StoreError> {
                let query = concat!(
                    "SELECT ",
                    $hour,
                    " AS hour, COUNT(*) FROM votes WHERE poll_id = $1 GROUP BY hour ORDER BY hour"
                );
                let rows: Vec<(String, i64)> = sqlx::query_as(query).bind(poll.0).fetch_all(&self.pool).await?;
                super::editing::timeline_from_rows(rows)
            }

            async fn comments(
                &self,
                poll: app::domain::PollId,
            ) -> Result<Vec<super::editing::StoredComment>, super::StoreError> {
                let rows: Vec<(i64, String, bool, chrono::DateTime<chrono::Utc>)> =
                    sqlx::query_as(super::editing::sql::COMMENTS).bind(poll.0).fetch_all(&self.pool).await?;
                let choices: Vec<(i64, i64)> =
                    sqlx::query_as(super::editing::sql::COMMENT_CHOICES).bind(poll.0).fetch_all(&self.pool).await?;
                Ok(super::editing::comments_from_rows(rows, choices))
            }

            async fn set_comment_hidden(
                &self,
                poll: app::domain::PollId,
                comment: i64,
                hidden: bool,
                audit: &super::editing::NewAudit,
            ) -> Result<bool, super::StoreError> {
                let mut tx = self.pool.begin_with($begin).await?;
                let changed = sqlx::query(super::editing::sql::HIDE_COMMENT)
                    .bind(poll.0)
                    .bind(comment)
                    .bind(hidden)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if changed == 0 {
                    return Ok(false);
                }
                let slug: String =
                    sqlx::query_scalar(super::editing::sql::POLL_SLUG).bind(poll.0).fetch_one(&mut *tx).await?;
                super::editing::insert_audit!(&mut *tx, audit, Some(poll.0), Some(slug.as_str()));
                tx.commit().await?;
                Ok(true)
            }

            async fn record_audit(
                &self,
                audit: &super::editing::NewAudit,
                poll: Option<(app::domain::PollId, &str)>,
            ) -> Result<(), super::StoreError> {
                let conn = &mut *self.pool.acquire().await?;
                super::editing::insert_audit!(conn, audit, poll.map(|(id, _)| id.0), poll.map(|(_, slug)| slug));
                Ok(())
            }

            async fn audit_log(&self, limit: i64) -> Result<Vec<app::domain::AuditView>, super::StoreError> {
                type Row = (chrono::DateTime<chrono::Utc>, String, String, Option<i64>, Option<String>, String);
                let rows: Vec<Row> =
                    sqlx::query_as(super::editing::sql::AUDIT).bind(limit).fetch_all(&self.pool).await?;
                Ok(rows
                    .into_iter()
                    .map(|(at, editor, action, poll_id, poll, detail)| app::domain::AuditView {
                        at,
                        editor,
                        action,
                        poll_id,
                        poll,
                        detail,
                    })
                    .collect())
            }
        }
    };
}
pub(super) use editor_store;

/// Writes an audit row on `$db` (a connection or open transaction).
macro_rules! insert_audit {
    ($db:expr, $audit:expr, $poll_id:expr, $slug:expr) => {{
        let audit: &super::editing::NewAudit = $audit;
        sqlx::query(super::editing::sql::INSERT_AUDIT)
            .bind(audit.editor.0)
            .bind(audit.action)
            .bind($poll_id)
            .bind($slug)
            .bind(&audit.detail)
            .bind(audit.at)
            .execute($db)
            .await?;
    }};
}
pub(super) use insert_audit;

pub(super) fn stored_email(email: &str) -> Result<Email, StoreError> {
    Email::parse(email).map_err(|_| super::corrupt("editor email", email))
}

pub(super) fn timeline_from_rows(rows: Vec<(String, i64)>) -> Result<Vec<(DateTime<Utc>, u64)>, StoreError> {
    rows.into_iter()
        .map(|(hour, n)| {
            let at = DateTime::parse_from_rfc3339(&format!("{hour}:00:00Z"))
                .map_err(|_| super::corrupt("vote hour", &hour))?
                .with_timezone(&Utc);
            Ok((at, n.max(0) as u64))
        })
        .collect()
}

pub(super) fn comments_from_rows(
    rows: Vec<(i64, String, bool, DateTime<Utc>)>,
    choices: Vec<(i64, i64)>,
) -> Vec<StoredComment> {
    let mut by_comment: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for (comment, option) in choices {
        by_comment.entry(comment).or_default().push(option);
    }
    rows.into_iter()
        .map(|(id, body, hidden, at)| StoredComment {
            id,
            body,
            hidden,
            at,
            option_ids: by_comment.remove(&id).unwrap_or_default(),
        })
        .collect()
}
