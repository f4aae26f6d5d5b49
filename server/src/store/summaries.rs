//! Summary jobs as stored: one row per summary, claimed by one worker at a time under a
//! lease (a worker that dies lets its lease run out and another takes the job over), and
//! finished in one statement, so a summary is never half written. The SQL is written once over
//! either engine; only claiming differs (`Engine::CLAIM_LOCK`: PostgreSQL skips rows that
//! another instance is claiming; SQLite has one writer at a time).

use super::engine::Column;
use super::records::insert_audit;
use super::StoreError;
use app::domain::PollId;
use chrono::{DateTime, Utc};

/// A job goes back to the queue this many times after its worker vanished, then fails.
pub const MAX_ATTEMPTS: i32 = 3;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredSummary {
    pub id: i64,
    pub poll_id: i64,
    /// As the row holds it; read it through [`StoredSummary::status`].
    #[sqlx(rename = "status")]
    pub status_text: String,
    pub progress: f64,
    pub backend: String,
    pub model: Option<String>,
    pub parameters: Option<String>,
    pub input_hash: Option<String>,
    pub attempts: i32,
    pub error: Option<String>,
    pub needs_review: bool,
    pub comments_considered: Option<i32>,
    /// The summary itself (themes, overview, checks) as JSON, once done.
    pub result: Option<String>,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub worker: Option<String>,
}

impl StoredSummary {
    /// The job's status. The column only ever holds the four names (each statement here writes
    /// one of them); anything else reads as failed rather than as a job still to run.
    pub fn status(&self) -> app::domain::SummaryStatus {
        app::domain::SummaryStatus::parse(&self.status_text).unwrap_or(app::domain::SummaryStatus::Failed)
    }
}

/// What a worker writes when a job is done.
#[derive(Debug, Clone)]
pub struct FinishedSummary {
    pub backend: String,
    pub model: String,
    pub parameters: String,
    pub input_hash: String,
    pub needs_review: bool,
    pub comments_considered: i32,
    pub result: String,
}

/// The audit row of a change, written in the change's own transaction: made from the id of the
/// row the change touched, for the poll `(id, slug)`.
pub struct Audited<'a> {
    pub entry: &'a (dyn Fn(i64) -> super::NewAudit + Send + Sync),
    pub poll: (PollId, &'a str),
}

#[async_trait::async_trait]
pub trait SummaryStore: Send + Sync {
    /// Queues a summary of `poll`, or returns the one already queued or running (`false`).
    /// A new one's audit row (`audit`, given the new summary's id) is written in the same
    /// transaction.
    async fn enqueue_summary(
        &self,
        poll: PollId,
        backend: &str,
        requested_by: Option<i64>,
        at: DateTime<Utc>,
        audit: Option<Audited<'_>>,
    ) -> Result<(StoredSummary, bool), StoreError>;
    async fn summary(&self, id: i64) -> Result<Option<StoredSummary>, StoreError>;
    /// Newest first.
    async fn summaries_of(&self, poll: PollId) -> Result<Vec<StoredSummary>, StoreError>;
    /// The latest approved summary of `poll`, if any.
    async fn approved_summary(&self, poll: PollId) -> Result<Option<StoredSummary>, StoreError>;
    /// Takes the oldest waiting job (or one whose worker's lease ran out) for `worker`.
    async fn claim_summary(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<StoredSummary>, StoreError>;
    /// Records progress and renews the lease; `false` when the job is no longer this worker's.
    async fn summary_progress(
        &self,
        id: i64,
        worker: &str,
        progress: f64,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    async fn finish_summary(
        &self,
        id: i64,
        worker: &str,
        done: &FinishedSummary,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    async fn fail_summary(&self, id: i64, worker: &str, error: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Marks a done summary approved, with the (checked) result an editor may have edited.
    async fn approve_summary(
        &self,
        id: i64,
        editor: i64,
        result: &str,
        needs_review: bool,
        at: DateTime<Utc>,
        audit: Audited<'_>,
    ) -> Result<bool, StoreError>;
    /// Queues a summary for every poll closed by `now` that asks for one on close, has
    /// visible comments and has never been summarised. Returns how many were queued.
    async fn enqueue_closed_polls(&self, now: DateTime<Utc>, backend: &str) -> Result<u64, StoreError>;
    /// With its audit row, in one transaction.
    async fn set_summarise_on_close(&self, poll: PollId, on: bool, audit: Audited<'_>) -> Result<bool, StoreError>;
    async fn summarise_on_close(&self, poll: PollId) -> Result<bool, StoreError>;
}

pub(super) mod sql {
    pub const COLUMNS: &str = "id, poll_id, status, progress, backend, model, parameters, input_hash, attempts, \
        error, needs_review, comments_considered, result, approved_by, approved_at, created_at, finished_at, worker";
    pub const INSERT: &str = "INSERT INTO summaries (poll_id, status, backend, requested_by, created_at) \
        VALUES ($1, 'queued', $2, $3, $4) ON CONFLICT DO NOTHING RETURNING ";
    pub const ACTIVE: &str = "WHERE poll_id = $1 AND status IN ('queued', 'running')";
    pub const BY_ID: &str = "WHERE id = $1";
    pub const OF_POLL: &str = "WHERE poll_id = $1 ORDER BY id DESC";
    pub const APPROVED: &str =
        "WHERE poll_id = $1 AND approved_at IS NOT NULL ORDER BY approved_at DESC, id DESC LIMIT 1";
    /// Jobs whose worker vanished too often fail instead of running again.
    pub const GIVE_UP: &str = "UPDATE summaries SET status = 'failed', finished_at = $1, worker = NULL, \
        error = 'the summary was interrupted three times (the server stopped while it ran); start it again' \
        WHERE status = 'running' AND lease_until < $1 AND attempts >= $2";
    /// `$4` is the engine's locking clause for the chosen row.
    pub fn claim(locking: &str) -> String {
        format!(
            "UPDATE summaries SET status = 'running', attempts = attempts + 1, worker = $1, lease_until = $3, \
             started_at = $2, progress = 0 WHERE id = (SELECT id FROM summaries WHERE status = 'queued' \
             OR (status = 'running' AND lease_until < $2) ORDER BY id LIMIT 1 {locking}) RETURNING {COLUMNS}"
        )
    }
    pub const PROGRESS: &str = "UPDATE summaries SET progress = $3, lease_until = $4 \
        WHERE id = $1 AND worker = $2 AND status = 'running' RETURNING id";
    pub const FINISH: &str = "UPDATE summaries SET status = 'done', progress = 1, backend = $3, model = $4, \
        parameters = $5, input_hash = $6, needs_review = $7, comments_considered = $8, result = $9, \
        finished_at = $10, lease_until = NULL WHERE id = $1 AND worker = $2 AND status = 'running' RETURNING id";
    pub const FAIL: &str = "UPDATE summaries SET status = 'failed', error = $3, finished_at = $4, lease_until = NULL \
        WHERE id = $1 AND worker = $2 AND status = 'running' RETURNING id";
    pub const APPROVE: &str =
        "UPDATE summaries SET approved_by = $2, approved_at = $3, result = $4, needs_review = $5 \
        WHERE id = $1 AND status = 'done' RETURNING id";
    pub const ENQUEUE_CLOSED: &str = "INSERT INTO summaries (poll_id, status, backend, created_at) \
        SELECT p.id, 'queued', $2, $1 FROM polls p WHERE p.summarise_on_close AND p.publication <> 'draft' \
        AND p.closes_at <= $1 \
        AND EXISTS (SELECT 1 FROM comments c WHERE c.poll_id = p.id AND NOT c.hidden) \
        AND NOT EXISTS (SELECT 1 FROM summaries s WHERE s.poll_id = p.id) \
        ON CONFLICT DO NOTHING RETURNING id";
    pub const SET_ON_CLOSE: &str = "UPDATE polls SET summarise_on_close = $2 WHERE id = $1 RETURNING id";
    pub const ON_CLOSE: &str = "SELECT summarise_on_close FROM polls WHERE id = $1";
}

/// The SELECT for one of the `WHERE …` clauses above.
pub(super) fn select(clause: &str) -> String {
    format!("SELECT {} FROM summaries {clause}", sql::COLUMNS)
}

pub(super) fn returning_insert() -> String {
    format!("{}{}", sql::INSERT, sql::COLUMNS)
}

/// Both engines' summary storage: the same statements over either pool; only the row lock
/// taken while claiming differs (`FOR UPDATE SKIP LOCKED` on PostgreSQL, none on SQLite, whose
/// writes are serialised anyway).
pub struct SqlSummaries<DB: sqlx::Database> {
    pool: sqlx::Pool<DB>,
}

impl<DB: sqlx::Database> SqlSummaries<DB> {
    pub(super) fn new(pool: sqlx::Pool<DB>) -> Self {
        SqlSummaries { pool }
    }
}

#[async_trait::async_trait]
impl<DB> SummaryStore for SqlSummaries<DB>
where
    DB: super::engine::Engine,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'r> StoredSummary: sqlx::FromRow<'r, DB::Row>,
    i64: Column<DB>,
    Option<i64>: Column<DB>,
    i32: Column<DB>,
    f64: Column<DB>,
    bool: Column<DB>,
    DateTime<Utc>: Column<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn enqueue_summary(
        &self,
        poll: PollId,
        backend: &str,
        requested_by: Option<i64>,
        at: DateTime<Utc>,
        audit: Option<Audited<'_>>,
    ) -> Result<(StoredSummary, bool), StoreError> {
        let insert = returning_insert();
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let created = sqlx::query_as::<DB, StoredSummary>(&insert)
            .bind(poll.0)
            .bind(backend)
            .bind(requested_by)
            .bind(at)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(created) = created {
            if let Some(audit) = &audit {
                insert_audit::<DB>(&mut tx, &(audit.entry)(created.id), Some((audit.poll.0 .0, audit.poll.1))).await?;
            }
            tx.commit().await?;
            return Ok((created, true));
        }
        tx.rollback().await?;
        let active = select(sql::ACTIVE);
        match sqlx::query_as::<DB, StoredSummary>(&active).bind(poll.0).fetch_optional(&self.pool).await? {
            Some(running) => Ok((running, false)),
            // It finished between the two statements: ask again.
            None => Box::pin(self.enqueue_summary(poll, backend, requested_by, at, audit)).await,
        }
    }

    async fn summary(&self, id: i64) -> Result<Option<StoredSummary>, StoreError> {
        Ok(sqlx::query_as::<DB, StoredSummary>(&select(sql::BY_ID)).bind(id).fetch_optional(&self.pool).await?)
    }

    async fn summaries_of(&self, poll: PollId) -> Result<Vec<StoredSummary>, StoreError> {
        Ok(sqlx::query_as::<DB, StoredSummary>(&select(sql::OF_POLL)).bind(poll.0).fetch_all(&self.pool).await?)
    }

    async fn approved_summary(&self, poll: PollId) -> Result<Option<StoredSummary>, StoreError> {
        Ok(sqlx::query_as::<DB, StoredSummary>(&select(sql::APPROVED)).bind(poll.0).fetch_optional(&self.pool).await?)
    }

    async fn claim_summary(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<StoredSummary>, StoreError> {
        sqlx::query::<DB>(sql::GIVE_UP).bind(now).bind(MAX_ATTEMPTS).execute(&self.pool).await?;
        let claim = sql::claim(DB::CLAIM_LOCK);
        Ok(sqlx::query_as::<DB, StoredSummary>(&claim)
            .bind(worker)
            .bind(now)
            .bind(lease_until)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn summary_progress(
        &self,
        id: i64,
        worker: &str,
        progress: f64,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let changed_rows = changed(
            sqlx::query::<DB>(sql::PROGRESS).bind(id).bind(worker).bind(progress.clamp(0.0, 1.0)).bind(lease_until),
            &self.pool,
        )
        .await?;
        Ok(changed_rows == 1)
    }

    async fn finish_summary(
        &self,
        id: i64,
        worker: &str,
        done: &FinishedSummary,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let outcome = changed(
            sqlx::query::<DB>(sql::FINISH)
                .bind(id)
                .bind(worker)
                .bind(done.backend.as_str())
                .bind(done.model.as_str())
                .bind(done.parameters.as_str())
                .bind(done.input_hash.as_str())
                .bind(done.needs_review)
                .bind(done.comments_considered)
                .bind(done.result.as_str())
                .bind(at),
            &self.pool,
        )
        .await?;
        Ok(outcome == 1)
    }

    async fn fail_summary(&self, id: i64, worker: &str, error: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let outcome =
            changed(sqlx::query::<DB>(sql::FAIL).bind(id).bind(worker).bind(error).bind(at), &self.pool).await?;
        Ok(outcome == 1)
    }

    async fn approve_summary(
        &self,
        id: i64,
        editor: i64,
        result: &str,
        needs_review: bool,
        at: DateTime<Utc>,
        audit: Audited<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let approved = sqlx::query::<DB>(sql::APPROVE)
            .bind(id)
            .bind(editor)
            .bind(at)
            .bind(result)
            .bind(needs_review)
            .fetch_all(&mut *tx)
            .await?
            .len()
            == 1;
        if approved {
            insert_audit::<DB>(&mut tx, &(audit.entry)(id), Some((audit.poll.0 .0, audit.poll.1))).await?;
        }
        tx.commit().await?;
        Ok(approved)
    }

    async fn enqueue_closed_polls(&self, now: DateTime<Utc>, backend: &str) -> Result<u64, StoreError> {
        let outcome = changed(sqlx::query::<DB>(sql::ENQUEUE_CLOSED).bind(now).bind(backend), &self.pool).await?;
        Ok(outcome)
    }

    async fn set_summarise_on_close(&self, poll: PollId, on: bool, audit: Audited<'_>) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let set = sqlx::query::<DB>(sql::SET_ON_CLOSE).bind(poll.0).bind(on).fetch_all(&mut *tx).await?.len() == 1;
        if set {
            insert_audit::<DB>(&mut tx, &(audit.entry)(poll.0), Some((audit.poll.0 .0, audit.poll.1))).await?;
        }
        tx.commit().await?;
        Ok(set)
    }

    async fn summarise_on_close(&self, poll: PollId) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar::<DB, bool>(sql::ON_CLOSE)
            .bind(poll.0)
            .fetch_optional(&self.pool)
            .await?
            .unwrap_or(false))
    }
}

/// Rows a statement changed: each UPDATE/INSERT here returns the ids it touched (no trait
/// names `rows_affected` across engines).
async fn changed<'q, DB>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    pool: &sqlx::Pool<DB>,
) -> Result<u64, StoreError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    Ok(query.fetch_all(pool).await?.len() as u64)
}
