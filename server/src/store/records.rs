//! `Records` on either engine: polls, editors, sessions, API tokens, the dashboard's reads
//! and the audit log, written once over any `Engine` (see `engine.rs` for what differs).

use super::engine::{Backed, Column, Engine};
use super::rows::{self, NewAudit, PollFilter, PollRow, StoredComment, StoredSession};
use super::{sql, Records, StoreError};
use app::domain::{ApiTokenView, AuditView, EditorId, Email, NewPoll, OptionKey, Poll, PollId};
use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Encode, Executor, IntoArguments, Type};

#[async_trait::async_trait]
impl<S> Records for S
where
    S: Backed,
    for<'c> &'c mut <S::DB as Database>::Connection: Executor<'c, Database = S::DB>,
    for<'q> <S::DB as Database>::Arguments<'q>: IntoArguments<'q, S::DB>,
    usize: ColumnIndex<<S::DB as Database>::Row>,
    i64: Column<S::DB>,
    bool: Column<S::DB>,
    String: Column<S::DB>,
    for<'q> &'q str: Encode<'q, S::DB> + Type<S::DB>,
    DateTime<Utc>: Column<S::DB>,
{
    async fn ping(&self) -> Result<(), StoreError> {
        self.pool().execute("SELECT 1").await?;
        Ok(())
    }

    async fn has_polls(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(sql::HAS_POLLS).fetch_one(self.pool()).await?)
    }

    async fn polls(&self, filter: PollFilter<'_>) -> Result<Vec<Poll>, StoreError> {
        let query = sql::polls_where(filter.condition());
        let polls = sqlx::query_as::<_, PollRow>(&query);
        let polls = match filter {
            PollFilter::Slug(slug) => polls.bind(slug.as_str()),
            PollFilter::Id(id) => polls.bind(id.0),
            PollFilter::All | PollFilter::Published => polls,
        };
        let polls = polls.fetch_all(self.pool()).await?;
        let options = match polls.as_slice() {
            [] => return Ok(Vec::new()),
            [(id, ..)] => sqlx::query_as(sql::OPTIONS_OF).bind(id).fetch_all(self.pool()).await?,
            _ => sqlx::query_as(sql::ALL_OPTIONS).fetch_all(self.pool()).await?,
        };
        rows::assemble(polls, options)
    }

    async fn insert_polls(
        &self,
        polls: &[(&NewPoll, Option<&NewAudit>)],
        created_at: DateTime<Utc>,
    ) -> Result<Vec<PollId>, StoreError> {
        let mut tx = self.pool().begin_with(S::DB::BEGIN_WRITE).await?;
        let mut ids = Vec::with_capacity(polls.len());
        for (poll, audit) in polls {
            let id: i64 = bind_poll(sqlx::query_scalar(sql::INSERT_POLL), poll)
                .bind(created_at)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| rows::conflict_or(e, &format!("a poll with the slug {} already exists", poll.slug())))?;
            for (position, (key, label)) in poll.options().iter().enumerate() {
                let option = sqlx::query(sql::UPSERT_OPTION).bind(id).bind(key.as_str()).bind(label.as_str());
                option.bind(position as i64).execute(&mut *tx).await?;
            }
            if let Some(audit) = audit {
                insert_audit::<S::DB>(&mut *tx, audit, Some((id, poll.slug().as_str()))).await?;
            }
            ids.push(PollId(id));
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn update_poll(&self, id: PollId, version: i64, poll: &NewPoll, audit: &NewAudit) -> Result<(), StoreError> {
        let mut tx = self.pool().begin_with(S::DB::BEGIN_WRITE).await?;
        let updated: Option<i64> = bind_poll(sqlx::query_scalar(sql::UPDATE_POLL), poll)
            .bind(audit.at)
            .bind(id.0)
            .bind(version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| rows::conflict_or(e, "a poll with this slug already exists"))?;
        if updated.is_none() {
            return Err(StoreError::Stale);
        }
        // Options are matched by key, so votes stay with the option they were cast for: every
        // stored option is parked at a negative position (positions are unique per poll),
        // kept ones move to their new place with their new label (the upsert keeps their
        // row id), new ones are added, and whatever is still parked was removed by the edit.
        sqlx::query(sql::PARK_OPTIONS).bind(id.0).execute(&mut *tx).await?;
        for (position, (key, label)) in poll.options().iter().enumerate() {
            let option = sqlx::query(sql::UPSERT_OPTION).bind(id.0).bind(key.as_str()).bind(label.as_str());
            option.bind(position as i64).execute(&mut *tx).await?;
        }
        sqlx::query(sql::DROP_PARKED_OPTIONS).bind(id.0).execute(&mut *tx).await?;
        insert_audit::<S::DB>(&mut *tx, audit, Some((id.0, poll.slug().as_str()))).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn vote_of(&self, poll: PollId, voter: &str) -> Result<Option<Vec<OptionKey>>, StoreError> {
        let keys: Vec<String> =
            sqlx::query_scalar(sql::VOTE_OF).bind(poll.0).bind(voter).fetch_all(self.pool()).await?;
        rows::keys_of_vote(keys)
    }

    async fn secret(&self, name: &str, candidate: &str) -> Result<String, StoreError> {
        sqlx::query(sql::INSERT_SECRET).bind(name).bind(candidate).execute(self.pool()).await?;
        Ok(sqlx::query_scalar(sql::SECRET).bind(name).fetch_one(self.pool()).await?)
    }

    async fn insert_editor(
        &self,
        email: &Email,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<EditorId, StoreError> {
        let id: i64 = sqlx::query_scalar(sql::INSERT_EDITOR)
            .bind(email.as_str())
            .bind(password_hash)
            .bind(at)
            .fetch_one(self.pool())
            .await
            .map_err(|e| rows::conflict_or(e, "an editor with this email already exists"))?;
        Ok(EditorId(id))
    }

    async fn editor_credentials(&self, email: &Email) -> Result<Option<(EditorId, String)>, StoreError> {
        let row: Option<(i64, String)> =
            sqlx::query_as(sql::EDITOR_CREDENTIALS).bind(email.as_str()).fetch_optional(self.pool()).await?;
        Ok(row.map(|(id, hash)| (EditorId(id), hash)))
    }

    async fn editor_id(&self, email: &Email) -> Result<Option<EditorId>, StoreError> {
        let id: Option<i64> =
            sqlx::query_scalar(sql::EDITOR_ID).bind(email.as_str()).fetch_optional(self.pool()).await?;
        Ok(id.map(EditorId))
    }

    async fn editor_signed_out_at(&self, email: &Email) -> Result<Option<Option<DateTime<Utc>>>, StoreError> {
        Ok(sqlx::query_scalar(sql::EDITOR_SIGNED_OUT_AT).bind(email.as_str()).fetch_optional(self.pool()).await?)
    }

    async fn end_editor_access(&self, editor: EditorId, disable: bool, audit: &NewAudit) -> Result<(), StoreError> {
        let mut tx = self.pool().begin_with(S::DB::BEGIN_WRITE).await?;
        sqlx::query(sql::DELETE_SESSIONS_OF).bind(editor.0).execute(&mut *tx).await?;
        let mark = if disable { sql::DISABLE_EDITOR } else { sql::SIGN_OUT_EVERYWHERE };
        sqlx::query(mark).bind(editor.0).bind(audit.at).execute(&mut *tx).await?;
        if disable {
            sqlx::query(sql::REVOKE_TOKENS_OF).bind(editor.0).bind(audit.at).execute(&mut *tx).await?;
        }
        insert_audit::<S::DB>(&mut *tx, audit, None).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn enable_editor(&self, editor: EditorId, audit: &NewAudit) -> Result<(), StoreError> {
        let mut tx = self.pool().begin_with(S::DB::BEGIN_WRITE).await?;
        sqlx::query(sql::ENABLE_EDITOR).bind(editor.0).execute(&mut *tx).await?;
        insert_audit::<S::DB>(&mut *tx, audit, None).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_session(
        &self,
        token_hash: &str,
        editor: EditorId,
        csrf: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::INSERT_SESSION)
            .bind(token_hash)
            .bind(editor.0)
            .bind(csrf)
            .bind(at)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<StoredSession>, StoreError> {
        type Row = (i64, String, String, DateTime<Utc>, DateTime<Utc>);
        let row: Option<Row> = sqlx::query_as(sql::SESSION).bind(token_hash).fetch_optional(self.pool()).await?;
        row.map(|(editor, email, csrf, created_at, last_seen_at)| {
            Ok(StoredSession {
                editor: EditorId(editor),
                email: rows::stored_email(&email)?,
                csrf,
                created_at,
                last_seen_at,
            })
        })
        .transpose()
    }

    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(sql::TOUCH_SESSION).bind(token_hash).bind(at).execute(self.pool()).await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query(sql::DELETE_SESSION).bind(token_hash).execute(self.pool()).await?;
        Ok(())
    }

    async fn insert_api_token(
        &self,
        editor: EditorId,
        name: &str,
        token_hash: &str,
        audit: &NewAudit,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool().begin_with(S::DB::BEGIN_WRITE).await?;
        let id: i64 = sqlx::query_scalar(sql::INSERT_TOKEN)
            .bind(editor.0)
            .bind(name)
            .bind(token_hash)
            .bind(audit.at)
            .fetch_one(&mut *tx)
            .await?;
        insert_audit::<S::DB>(&mut *tx, audit, None).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn api_tokens(&self, editor: EditorId) -> Result<Vec<ApiTokenView>, StoreError> {
        type Row = (i64, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let rows: Vec<Row> = sqlx::query_as(sql::TOKENS).bind(editor.0).fetch_all(self.pool()).await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at, last_used_at, revoked_at)| ApiTokenView {
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
        at: DateTime<Utc>,
    ) -> Result<Option<(EditorId, Email)>, StoreError> {
        let editor: Option<i64> =
            sqlx::query_scalar(sql::USE_TOKEN).bind(token_hash).bind(at).fetch_optional(self.pool()).await?;
        let Some(editor) = editor else { return Ok(None) };
        let email: String = sqlx::query_scalar(sql::EDITOR_EMAIL).bind(editor).fetch_one(self.pool()).await?;
        Ok(Some((EditorId(editor), rows::stored_email(&email)?)))
    }

    async fn revoke_api_token(&self, editor: EditorId, id: i64, audit: &NewAudit) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin_with(S::DB::BEGIN_WRITE).await?;
        let revoked: Option<i64> = sqlx::query_scalar(sql::REVOKE_TOKEN)
            .bind(editor.0)
            .bind(id)
            .bind(audit.at)
            .fetch_optional(&mut *tx)
            .await?;
        if revoked.is_none() {
            return Ok(false);
        }
        insert_audit::<S::DB>(&mut *tx, audit, None).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn vote_sources(&self, poll: PollId) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(sql::SOURCES).bind(poll.0).fetch_all(self.pool()).await?;
        Ok(rows.into_iter().map(|(source, n)| (source, n.max(0) as u64)).collect())
    }

    async fn vote_timeline(&self, poll: PollId) -> Result<Vec<(DateTime<Utc>, u64)>, StoreError> {
        let query = sql::votes_per_hour(S::DB::VOTE_HOUR);
        let rows: Vec<(String, i64)> = sqlx::query_as(&query).bind(poll.0).fetch_all(self.pool()).await?;
        rows::timeline_from_rows(rows)
    }

    async fn comments(&self, poll: PollId) -> Result<Vec<StoredComment>, StoreError> {
        let rows: Vec<(i64, String, bool, DateTime<Utc>)> =
            sqlx::query_as(sql::COMMENTS).bind(poll.0).fetch_all(self.pool()).await?;
        let choices: Vec<(i64, i64)> = sqlx::query_as(sql::COMMENT_CHOICES).bind(poll.0).fetch_all(self.pool()).await?;
        Ok(rows::comments_from_rows(rows, choices))
    }

    async fn set_comment_hidden(
        &self,
        poll: PollId,
        comment: i64,
        hidden: bool,
        audit: &NewAudit,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin_with(S::DB::BEGIN_WRITE).await?;
        let changed: Option<i64> = sqlx::query_scalar(sql::HIDE_COMMENT)
            .bind(poll.0)
            .bind(comment)
            .bind(hidden)
            .fetch_optional(&mut *tx)
            .await?;
        if changed.is_none() {
            return Ok(false);
        }
        let slug: String = sqlx::query_scalar(sql::POLL_SLUG).bind(poll.0).fetch_one(&mut *tx).await?;
        insert_audit::<S::DB>(&mut *tx, audit, Some((poll.0, &slug))).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn record_audit(&self, audit: &NewAudit, poll: Option<(PollId, &str)>) -> Result<(), StoreError> {
        let mut conn = self.pool().acquire().await?;
        insert_audit::<S::DB>(&mut *conn, audit, poll.map(|(id, slug)| (id.0, slug))).await
    }

    async fn audit_log(&self, limit: i64) -> Result<Vec<AuditView>, StoreError> {
        type Row = (DateTime<Utc>, String, String, Option<i64>, Option<String>, String);
        let rows: Vec<Row> = sqlx::query_as(sql::AUDIT).bind(limit).fetch_all(self.pool()).await?;
        Ok(rows
            .into_iter()
            .map(|(at, editor, action, poll_id, poll, detail)| AuditView { at, editor, action, poll_id, poll, detail })
            .collect())
    }
}

/// Binds a poll's columns as `$1`..`$10`, in the order of `INSERT_POLL` and `UPDATE_POLL`.
fn bind_poll<'q, DB>(query: PollQuery<'q, DB>, poll: &'q NewPoll) -> PollQuery<'q, DB>
where
    DB: Database,
    i64: Column<DB>,
    bool: Column<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Column<DB>,
{
    query
        .bind(poll.slug().as_str())
        .bind(poll.question())
        .bind(poll.kind().name())
        .bind(i64::from(poll.kind().max_choices()))
        .bind(poll.allow_comment())
        .bind(poll.allow_vote_change())
        .bind(poll.results_visibility().name())
        .bind(poll.publication().name())
        .bind(poll.opens_at())
        .bind(poll.closes_at())
}

/// A statement returning a poll's id.
type PollQuery<'q, DB> = sqlx::query::QueryScalar<'q, DB, i64, <DB as Database>::Arguments<'q>>;

/// Writes an audit row on an open connection or transaction, for the poll `(id, slug)` if any.
pub(super) async fn insert_audit<DB>(
    db: &mut DB::Connection,
    audit: &NewAudit,
    poll: Option<(i64, &str)>,
) -> Result<(), StoreError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    i64: Column<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Column<DB>,
{
    // No poll: id 0 and slug "" (never a poll's), stored as NULL (`INSERT_AUDIT`).
    let (poll_id, slug) = poll.unwrap_or((0, ""));
    sqlx::query(sql::INSERT_AUDIT)
        .bind(audit.editor.0)
        .bind(audit.action.name())
        .bind(poll_id)
        .bind(slug)
        .bind(audit.detail.as_str())
        .bind(audit.at)
        .execute(db)
        .await?;
    Ok(())
}
