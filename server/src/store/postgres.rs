//! PostgreSQL, for deployments with several app instances on one database. Votes are
//! committed in groups by writer tasks (`postgres_votes`), which keep running tallies in the
//! same transactions. Counts are cached for a second, since other instances write too; a
//! voter's own answer reads them after their vote's commit.

use super::postgres_votes::{CountsCache, VoteQueue, VOTES_CHANNEL};
use super::{sql, Counts, NewVote, Store, StoreError};
use app::domain::{NewPoll, OptionKey, Poll, PollId, Slug, VoteOutcome};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::Executor;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

pub struct PostgresStore {
    pool: PgPool,
    summaries: super::summaries::SqlSummaries<sqlx::Postgres>,
    counts: Arc<CountsCache>,
    votes: VoteQueue,
    feed: broadcast::Sender<Option<PollId>>,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        // A request waits at most 3 s for a connection: with the database down, clients get
        // a prompt 503 rather than a hang.
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(3)).connect(url).await?;
        sqlx::migrate::Migrator::new(super::POSTGRES_MIGRATIONS).await?.run(&pool).await?;
        let (feed, _) = broadcast::channel(1024);
        let summaries = super::summaries::SqlSummaries { pool: pool.clone(), locking: "FOR UPDATE SKIP LOCKED" };
        let counts = Arc::new(CountsCache::default());
        let votes = VoteQueue::start(pool.clone(), counts.clone());
        tokio::spawn(listen_for_votes(pool.clone(), feed.clone(), counts.clone()));
        Ok(PostgresStore { pool, summaries, counts, votes, feed })
    }

    super::shared_queries!("BEGIN");

    async fn load_counts(&self, poll: PollId) -> Result<Arc<Counts>, StoreError> {
        let mut loaded = self.counts.load(&self.pool, &[poll]).await?;
        loaded.pop().ok_or(StoreError::WriterGone)
    }
}

super::editing::editor_store!(PostgresStore, "BEGIN", "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')");

#[async_trait::async_trait]
impl Store for PostgresStore {
    fn summaries(&self) -> &dyn super::SummaryStore {
        &self.summaries
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.pool.execute("SELECT 1").await?;
        Ok(())
    }

    async fn has_polls(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar(sql::HAS_POLLS).fetch_one(&self.pool).await?)
    }

    async fn insert_poll(&self, poll: &NewPoll, created_at: DateTime<Utc>) -> Result<PollId, StoreError> {
        self.insert_poll_rows(poll, created_at, None).await
    }

    async fn published_polls(&self) -> Result<Vec<Poll>, StoreError> {
        self.polls_matching("publication <> 'draft'", None).await
    }

    async fn poll_by_slug(&self, slug: &Slug) -> Result<Option<Poll>, StoreError> {
        Ok(self.polls_matching("slug = $1", Some(super::Bind::Text(slug.as_str()))).await?.pop())
    }

    async fn counts(&self, poll: PollId) -> Result<Arc<Counts>, StoreError> {
        match self.counts.recent(poll) {
            Some(counts) => Ok(counts),
            None => self.load_counts(poll).await,
        }
    }

    async fn counts_after_vote(&self, poll: PollId) -> Result<Arc<Counts>, StoreError> {
        match self.counts.after_own_votes(poll) {
            Some(counts) => Ok(counts),
            None => self.load_counts(poll).await,
        }
    }

    async fn vote_of(&self, poll: PollId, voter: &str) -> Result<Option<Vec<OptionKey>>, StoreError> {
        let keys: Vec<String> = sqlx::query_scalar(sql::VOTE_OF).bind(poll.0).bind(voter).fetch_all(&self.pool).await?;
        super::keys_of_vote(keys)
    }

    async fn record_vote(&self, vote: NewVote) -> Result<VoteOutcome, StoreError> {
        self.votes.record(vote).await
    }

    async fn secret(&self, name: &str, candidate: &str) -> Result<String, StoreError> {
        sqlx::query(sql::INSERT_SECRET).bind(name).bind(candidate).execute(&self.pool).await?;
        Ok(sqlx::query_scalar(sql::SECRET).bind(name).fetch_one(&self.pool).await?)
    }

    fn vote_feed(&self) -> Option<broadcast::Receiver<Option<PollId>>> {
        Some(self.feed.subscribe())
    }

    async fn announce_change(&self, poll: PollId) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(VOTES_CHANNEL)
            .bind(poll.0.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Forwards the votes every instance announces into `feed`, for as long as the process runs.
/// A lost connection is re-established (sqlx's listener reconnects); the gap is reported as
/// `None`, since notices sent meanwhile are gone. Each notice also marks `counts` of its poll
/// as outdated, so the live results it wakes read the tallies again.
async fn listen_for_votes(pool: PgPool, feed: broadcast::Sender<Option<PollId>>, counts: Arc<CountsCache>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other instances' votes; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(VOTES_CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN failed; retrying");
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        }
        counts.forget();
        let _ = feed.send(None);
        loop {
            match listener.try_recv().await {
                Ok(Some(notice)) => {
                    if let Ok(id) = notice.payload().parse() {
                        counts.changed([PollId(id)]);
                        let _ = feed.send(Some(PollId(id)));
                    }
                }
                Ok(None) => {
                    counts.forget();
                    let _ = feed.send(None);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listening for votes failed; reconnecting");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    break;
                }
            }
        }
    }
}
