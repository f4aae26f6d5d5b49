//! Storage behind one narrow interface, with an SQLite and a PostgreSQL implementation
//! that behave the same. What both store alike (`Records`: polls, editors, the dashboard's
//! reads, the audit log) is written once over either engine (`records.rs`, `engine.rs`);
//! the vote path is each engine's own (`sqlite.rs`; `postgres.rs` + `postgres_votes.rs`),
//! sharing its statements (`votes.rs`).

mod engine;
mod postgres;
mod postgres_votes;
mod records;
mod rows;
mod sql;
mod sqlite;
mod summaries;
mod votes;

pub use postgres::PostgresStore;
pub use rows::{NewAudit, PollFilter, StoredComment, StoredSession};
pub use sqlite::SqliteStore;
pub use summaries::{Audited, FinishedSummary, StoredSummary, SummaryStore, MAX_ATTEMPTS};

use app::domain::{
    ApiTokenView, AuditView, EditorId, Email, NewPoll, OptionKey, Poll, PollId, Slug, VoteOutcome, VoteSource,
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("the vote writer has stopped")]
    WriterGone,
    #[error("{0}")]
    Conflict(String),
    #[error("the record changed since it was read")]
    Stale,
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// The database cannot be reached (down, restarting, out of connections), as opposed to
    /// refusing a statement: worth a retry, so callers answer 503 rather than 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(e) => match e {
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => true,
                sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
                // PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now.
                sqlx::Error::Database(db) => {
                    matches!(db.code().as_deref(), Some("57P01" | "57P02" | "57P03" | "08000" | "08003" | "08006"))
                }
                _ => false,
            },
            StoreError::WriterGone | StoreError::Unavailable(_) => true,
            _ => false,
        }
    }
}

/// A validated vote, ready to store. Option ids are the database ids of the chosen options.
#[derive(Debug, Clone)]
pub struct NewVote {
    pub poll: PollId,
    pub voter: String,
    pub option_ids: Vec<i64>,
    pub comment: Option<String>,
    pub source: VoteSource,
    pub at: DateTime<Utc>,
    /// Replace the voter's earlier vote, if any (polls that allow changes before close).
    pub replace: bool,
    /// The newsletter subscriber (keyed hash) of a vote from an email link: one vote each.
    pub subscriber: Option<String>,
}

/// Vote counts as stored: total votes and votes per option id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: u64,
    pub by_option: HashMap<i64, u64>,
}

impl Counts {
    fn add(&mut self, option_ids: &[i64]) {
        self.total += 1;
        for id in option_ids {
            *self.by_option.entry(*id).or_default() += 1;
        }
    }

    fn replace(&mut self, previous: &[i64], option_ids: &[i64]) {
        for id in previous {
            if let Some(n) = self.by_option.get_mut(id) {
                *n = n.saturating_sub(1);
            }
        }
        for id in option_ids {
            *self.by_option.entry(*id).or_default() += 1;
        }
    }
}

/// Everything the server stores. The vote path and its counts here, per engine; the rest in
/// `Records`, the same on both.
#[async_trait::async_trait]
pub trait Store: Records + Send + Sync + 'static {
    /// Counts for reads that may lag slightly behind other instances' writes.
    async fn counts(&self, poll: PollId) -> Result<Arc<Counts>, StoreError>;
    /// Counts that include every vote this process has committed.
    async fn counts_after_vote(&self, poll: PollId) -> Result<Arc<Counts>, StoreError>;
    /// Commits the vote, or returns the voter's earlier one. Returns only once durable.
    async fn record_vote(&self, vote: NewVote) -> Result<VoteOutcome, StoreError>;
    /// Polls whose votes changed, as committed by any instance on this database; `None`
    /// where this process is the only writer (its own votes are known without asking).
    /// An item `None` means some notices may have been missed: treat every poll as changed.
    fn vote_feed(&self) -> Option<tokio::sync::broadcast::Receiver<Option<PollId>>> {
        None
    }
    /// Tells the other instances (`vote_feed`) that an editor changed `poll`.
    async fn announce_change(&self, _poll: PollId) -> Result<(), StoreError> {
        Ok(())
    }
    /// Summary jobs (`summaries`).
    fn summaries(&self) -> &dyn SummaryStore;
}

/// What both engines store alike (`records.rs`): polls, editors and their sessions and API
/// tokens, the dashboard's reads, the audit log. Writes that an editor makes carry their
/// audit line, written in the same transaction.
#[async_trait::async_trait]
pub trait Records: Send + Sync {
    async fn ping(&self) -> Result<(), StoreError>;
    async fn has_polls(&self) -> Result<bool, StoreError>;
    /// Polls with their options, newest first.
    async fn polls(&self, filter: PollFilter<'_>) -> Result<Vec<Poll>, StoreError>;
    /// Stores the polls (each with its audit line, if any) in one transaction: all or none.
    /// A taken slug is `Conflict`.
    async fn insert_polls(
        &self,
        polls: &[(&NewPoll, Option<&NewAudit>)],
        created_at: DateTime<Utc>,
    ) -> Result<Vec<PollId>, StoreError>;
    /// Replaces the poll if it is still at `version`, else `Stale`. Options are matched by
    /// key: kept ones are relabelled and reordered, new ones added, missing ones removed.
    async fn update_poll(&self, id: PollId, version: i64, poll: &NewPoll, audit: &NewAudit) -> Result<(), StoreError>;
    async fn vote_of(&self, poll: PollId, voter: &str) -> Result<Option<Vec<OptionKey>>, StoreError>;
    /// The secret named `name`, stored as `candidate` if there is none yet.
    async fn secret(&self, name: &str, candidate: &str) -> Result<String, StoreError>;

    /// Fails with `Conflict` when the email is taken.
    async fn insert_editor(
        &self,
        email: &Email,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<EditorId, StoreError>;
    /// An enabled editor's id and password hash.
    async fn editor_credentials(&self, email: &Email) -> Result<Option<(EditorId, String)>, StoreError>;
    /// Any editor's id, disabled ones too (the CLI).
    async fn editor_id(&self, email: &Email) -> Result<Option<EditorId>, StoreError>;
    /// When the editor last signed out everywhere (`None` inside: never; outside: no such editor).
    async fn editor_signed_out_at(&self, email: &Email) -> Result<Option<Option<DateTime<Utc>>>, StoreError>;
    /// Ends every session of the editor and revokes their known-browser marks; `disable` also
    /// refuses their sign-ins and revokes their API tokens. One transaction, with its audit.
    async fn end_editor_access(&self, editor: EditorId, disable: bool, audit: &NewAudit) -> Result<(), StoreError>;
    async fn enable_editor(&self, editor: EditorId, audit: &NewAudit) -> Result<(), StoreError>;
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

    /// Every non-draft poll, newest first.
    async fn published_polls(&self) -> Result<Vec<Poll>, StoreError> {
        self.polls(PollFilter::Published).await
    }
    /// Every poll, drafts included, newest first.
    async fn all_polls(&self) -> Result<Vec<Poll>, StoreError> {
        self.polls(PollFilter::All).await
    }
    async fn poll_by_slug(&self, slug: &Slug) -> Result<Option<Poll>, StoreError> {
        Ok(self.polls(PollFilter::Slug(slug)).await?.pop())
    }
    async fn poll_by_id(&self, id: PollId) -> Result<Option<Poll>, StoreError> {
        Ok(self.polls(PollFilter::Id(id)).await?.pop())
    }
    /// Adds a poll outside the editor workflow (demo content).
    async fn insert_poll(&self, poll: &NewPoll, created_at: DateTime<Utc>) -> Result<PollId, StoreError> {
        first_id(self.insert_polls(&[(poll, None)], created_at).await?)
    }
    async fn create_poll(&self, poll: &NewPoll, audit: &NewAudit) -> Result<PollId, StoreError> {
        first_id(self.insert_polls(&[(poll, Some(audit))], audit.at).await?)
    }
    /// Stores every poll with its audit line, or none of them (`polls import`).
    async fn create_polls(&self, polls: &[(NewPoll, NewAudit)]) -> Result<Vec<PollId>, StoreError> {
        let Some((_, first)) = polls.first() else { return Ok(Vec::new()) };
        let rows: Vec<_> = polls.iter().map(|(poll, audit)| (poll, Some(audit))).collect();
        self.insert_polls(&rows, first.at).await
    }
}

fn first_id(ids: Vec<PollId>) -> Result<PollId, StoreError> {
    ids.into_iter().next().ok_or_else(|| StoreError::Corrupt("no poll id returned".into()))
}

pub async fn connect(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(database_url).await?))
    } else {
        Ok(Arc::new(SqliteStore::connect(database_url).await?))
    }
}
