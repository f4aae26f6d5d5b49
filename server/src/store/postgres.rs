//! PostgreSQL, for deployments with several app instances on one database. Each vote is
//! its own transaction (PostgreSQL groups concurrent commits itself). Counts are cached
//! for a second, since other instances write too; a voter's own answer reads them fresh.
//! Cache entries are stamped with when their read started.

use super::{counts_from_rows, sql, Counts, NewVote, Store, StoreError};
use app::domain::{NewPoll, OptionKey, Poll, PollId, Slug, VoteOutcome};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::Executor;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

const COUNTS_TTL: Duration = Duration::from_secs(1);
/// LISTEN/NOTIFY channel on which every instance announces the poll of each vote it commits.
const VOTES_CHANNEL: &str = "polltelligence_votes";

pub struct PostgresStore {
    pool: PgPool,
    summaries: super::summaries::SqlSummaries<sqlx::Postgres>,
    counts: RwLock<HashMap<PollId, (Instant, Arc<Counts>)>>,
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
        tokio::spawn(listen_for_votes(pool.clone(), feed.clone()));
        let summaries = super::summaries::SqlSummaries { pool: pool.clone(), locking: "FOR UPDATE SKIP LOCKED" };
        Ok(PostgresStore { pool, summaries, counts: RwLock::default(), feed })
    }

    super::shared_queries!("BEGIN");

    async fn load_counts(&self, poll: PollId) -> Result<Arc<Counts>, StoreError> {
        let started = Instant::now();
        // One snapshot for both queries, so the total matches the per-option counts.
        let mut tx = self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?;
        let total: i64 = sqlx::query_scalar(sql::TOTAL_VOTES).bind(poll.0).fetch_one(&mut *tx).await?;
        let rows: Vec<(i64, i64)> = sqlx::query_as(sql::COUNTS).bind(poll.0).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let counts = Arc::new(counts_from_rows(total, rows));
        // Keep the read that started last: a slow read that began before a commit must not
        // replace a newer one. Each vote re-reads after its own commit, so once votes settle
        // the cache holds every vote this process committed.
        let mut cache = self.counts.write().expect("counts lock");
        if cache.get(&poll).is_none_or(|(cached, _)| *cached < started) {
            cache.insert(poll, (started, counts.clone()));
        }
        Ok(counts)
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
        if let Some((at, counts)) = self.counts.read().expect("counts lock").get(&poll) {
            if at.elapsed() < COUNTS_TTL {
                return Ok(counts.clone());
            }
        }
        self.load_counts(poll).await
    }

    async fn counts_after_vote(&self, poll: PollId) -> Result<Arc<Counts>, StoreError> {
        self.load_counts(poll).await
    }

    async fn vote_of(&self, poll: PollId, voter: &str) -> Result<Option<Vec<OptionKey>>, StoreError> {
        let keys: Vec<String> = sqlx::query_scalar(sql::VOTE_OF).bind(poll.0).bind(voter).fetch_all(&self.pool).await?;
        super::keys_of_vote(keys)
    }

    async fn record_vote(&self, vote: NewVote) -> Result<VoteOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        // On a repeat, ON CONFLICT waits for the winning row's commit, so it can be read back.
        let outcome = super::insert_vote_rows!(&mut *tx, &vote);
        if !matches!(outcome, VoteOutcome::AlreadyVoted(_)) {
            // Delivered to every listening instance when (and only if) the vote commits.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(VOTES_CHANNEL)
                .bind(vote.poll.0.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(outcome)
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
/// `None`, since notices sent meanwhile are gone.
async fn listen_for_votes(pool: PgPool, feed: broadcast::Sender<Option<PollId>>) {
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
        let _ = feed.send(None);
        loop {
            match listener.try_recv().await {
                Ok(Some(notice)) => {
                    if let Ok(id) = notice.payload().parse() {
                        let _ = feed.send(Some(PollId(id)));
                    }
                }
                Ok(None) => {
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
