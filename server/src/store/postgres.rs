//! PostgreSQL, for deployments with several app instances on one database. Votes are
//! committed in groups by writer tasks (`postgres_votes`), which keep running tallies in the
//! same transactions. Counts are cached for a second, since other instances write too; a
//! voter's own answer reads them after their vote's commit.

use super::postgres_votes::{CountsCache, VoteQueue, VOTES_CHANNEL};
use super::{Counts, NewVote, Store, StoreError};
use app::domain::{PollId, VoteOutcome};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
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
        sqlx::migrate!("../migrations/postgres").run(&pool).await?;
        let (feed, _) = broadcast::channel(1024);
        let summaries = super::summaries::SqlSummaries::new(pool.clone());
        let counts = Arc::new(CountsCache::default());
        let votes = VoteQueue::start(pool.clone(), counts.clone());
        tokio::spawn(listen_for_votes(pool.clone(), feed.clone(), counts.clone()));
        Ok(PostgresStore { pool, summaries, counts, votes, feed })
    }

    async fn load_counts(&self, poll: PollId) -> Result<Arc<Counts>, StoreError> {
        let mut loaded = self.counts.load(&self.pool, &[poll]).await?;
        loaded.pop().ok_or(StoreError::WriterGone)
    }
}

impl super::engine::Backed for PostgresStore {
    type DB = sqlx::Postgres;
    fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    fn summaries(&self) -> &dyn super::SummaryStore {
        &self.summaries
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

    async fn record_vote(&self, vote: NewVote) -> Result<VoteOutcome, StoreError> {
        self.votes.record(vote).await
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
