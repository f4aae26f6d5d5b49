//! SQLite, the embedded default. Reads use a small pool; every vote goes through one
//! writer task that commits votes in groups (one fsync per group, not per vote) and keeps
//! the tallies in memory in commit order, so cached counts are exact.

use super::rows::counts_from_rows;
use super::{sql, Counts, NewVote, Store, StoreError};
use app::domain::{PollId, VoteOutcome};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Executor, QueryBuilder, Sqlite};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Votes committed together at most; bounds one transaction's latency.
const MAX_GROUP: usize = 512;
/// Votes waiting for the writer before callers wait to enqueue (back-pressure).
const QUEUE: usize = 8_192;

type Tallies = Arc<RwLock<HashMap<PollId, Arc<Counts>>>>;

enum Job {
    Vote(NewVote, oneshot::Sender<Result<VoteOutcome, StoreError>>),
    LoadCounts(PollId, oneshot::Sender<Result<Arc<Counts>, StoreError>>),
}

pub struct SqliteStore {
    pool: SqlitePool,
    summaries: super::summaries::SqlSummaries<sqlx::Sqlite>,
    writer: mpsc::Sender<Job>,
    tallies: Tallies,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before we answer 2xx.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // First start: make the folder (`./data/` by default) that holds the file.
        if let Some(folder) = options.get_filename().parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        let pool = SqlitePoolOptions::new().max_connections(4).min_connections(1).connect_with(options.clone()).await?;
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        let connection = SqliteConnection::connect_with(&options).await?;
        let (writer, jobs) = mpsc::channel(QUEUE);
        let tallies = Tallies::default();
        tokio::spawn(run_writer(connection, jobs, tallies.clone()));
        // No row locks in SQLite: its writes are serialised, so a claim cannot be taken twice.
        let summaries = super::summaries::SqlSummaries::new(pool.clone());
        Ok(SqliteStore { pool, summaries, writer, tallies })
    }
}

impl super::engine::Backed for SqliteStore {
    type DB = Sqlite;
    fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn summaries(&self) -> &dyn super::SummaryStore {
        &self.summaries
    }

    async fn counts(&self, poll: PollId) -> Result<Arc<Counts>, StoreError> {
        if let Some(counts) = self.tallies.read().expect("tallies lock").get(&poll) {
            return Ok(counts.clone());
        }
        let (reply, answer) = oneshot::channel();
        self.writer.send(Job::LoadCounts(poll, reply)).await.map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    async fn counts_after_vote(&self, poll: PollId) -> Result<Arc<Counts>, StoreError> {
        self.counts(poll).await
    }

    async fn record_vote(&self, vote: NewVote) -> Result<VoteOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer.send(Job::Vote(vote, reply)).await.map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

async fn run_writer(mut db: SqliteConnection, mut jobs: mpsc::Receiver<Job>, tallies: Tallies) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while jobs.recv_many(&mut group, MAX_GROUP).await > 0 {
        let mut votes = Vec::with_capacity(group.len());
        for job in group.drain(..) {
            match job {
                Job::Vote(vote, reply) => votes.push((vote, reply)),
                Job::LoadCounts(poll, reply) => {
                    let _ = reply.send(load_counts(&mut db, poll, &tallies).await);
                }
            }
        }
        if !votes.is_empty() {
            commit_group(&mut db, votes, &tallies).await;
        }
    }
}

async fn load_counts(db: &mut SqliteConnection, poll: PollId, tallies: &Tallies) -> Result<Arc<Counts>, StoreError> {
    if let Some(counts) = tallies.read().expect("tallies lock").get(&poll) {
        return Ok(counts.clone());
    }
    let total: i64 = sqlx::query_scalar(sql::TOTAL_VOTES).bind(poll.0).fetch_one(&mut *db).await?;
    let rows: Vec<(i64, i64)> = sqlx::query_as(sql::COUNTS).bind(poll.0).fetch_all(&mut *db).await?;
    let counts = Arc::new(counts_from_rows(total, rows));
    tallies.write().expect("tallies lock").insert(poll, counts.clone());
    Ok(counts)
}

/// One transaction for the whole group. If it fails (a vote the database refuses), each vote
/// is committed alone, so one bad vote sinks no other; cheaper than a savepoint per vote,
/// which costs two more statements for every vote to guard against what almost never happens.
/// Replies go out only after COMMIT.
async fn commit_group(
    db: &mut SqliteConnection,
    votes: Vec<(NewVote, oneshot::Sender<Result<VoteOutcome, StoreError>>)>,
    tallies: &Tallies,
) {
    let all: Vec<&NewVote> = votes.iter().map(|(vote, _)| vote).collect();
    let outcomes: Vec<Result<VoteOutcome, StoreError>> = match write_group(db, &all).await {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        Err(e) if all.len() == 1 => vec![Err(e)],
        Err(e) => {
            tracing::warn!(error = %e, votes = all.len(), "vote group failed; committing its votes one by one");
            let mut outcomes = Vec::with_capacity(all.len());
            for vote in &all {
                outcomes.push(write_group(db, &[vote]).await.and_then(|mut o| o.pop().ok_or(StoreError::WriterGone)));
            }
            outcomes
        }
    };
    {
        let mut tallies = tallies.write().expect("tallies lock");
        for ((vote, _), outcome) in votes.iter().zip(&outcomes) {
            let Some(counts) = tallies.get_mut(&vote.poll) else { continue };
            match outcome {
                Ok(VoteOutcome::Recorded) => Arc::make_mut(counts).add(&vote.option_ids),
                Ok(VoteOutcome::Changed { previous }) => Arc::make_mut(counts).replace(previous, &vote.option_ids),
                _ => {}
            }
        }
    }
    for ((_, reply), outcome) in votes.into_iter().zip(outcomes) {
        let _ = reply.send(outcome);
    }
}

/// Writes `votes` in one transaction and commits it; on error nothing of them is stored.
async fn write_group(db: &mut SqliteConnection, votes: &[&NewVote]) -> Result<Vec<VoteOutcome>, StoreError> {
    db.execute(<Sqlite as super::engine::Engine>::BEGIN_WRITE).await?;
    match write_votes(db, votes).await {
        Ok(outcomes) => match db.execute("COMMIT").await {
            Ok(_) => Ok(outcomes),
            Err(e) => {
                let _ = db.execute("ROLLBACK").await;
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = db.execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// Rows per multi-row INSERT: at most 500 parameters a statement, well inside SQLite's limit.
const ROWS_PER_INSERT: usize = 100;

/// The group's votes in a few multi-row statements (each statement is a round trip to the
/// connection's thread: one per vote would cost more than the writing itself), then the
/// repeats one by one.
async fn write_votes(db: &mut SqliteConnection, votes: &[&NewVote]) -> Result<Vec<VoteOutcome>, StoreError> {
    let mut inserted: Vec<(i64, i64, String)> = Vec::with_capacity(votes.len());
    for chunk in super::votes::first_of_each(votes).chunks(ROWS_PER_INSERT) {
        let mut insert =
            QueryBuilder::<Sqlite>::new("INSERT INTO votes (poll_id, voter_id, source, created_at, subscriber) ");
        insert.push_values(chunk, |mut row, vote| {
            row.push_bind(vote.poll.0)
                .push_bind(vote.voter.as_str())
                .push_bind(vote.source.name())
                .push_bind(vote.at)
                .push_bind(vote.subscriber.as_deref());
        });
        // No conflict target: a repeat of the voter or of the email subscriber both do nothing.
        insert.push(" ON CONFLICT DO NOTHING RETURNING id, poll_id, voter_id");
        inserted.extend(insert.build_query_as::<(i64, i64, String)>().persistent(false).fetch_all(&mut *db).await?);
    }
    let super::votes::Inserted { mut outcomes, choices, comments } = super::votes::rows_of(votes, &inserted);
    for chunk in choices.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new("INSERT INTO vote_choices (vote_id, poll_id, option_id) ");
        insert.push_values(chunk, |mut row, (vote, poll, option)| {
            row.push_bind(*vote).push_bind(*poll).push_bind(*option);
        });
        insert.build().persistent(false).execute(&mut *db).await?;
    }
    for chunk in comments.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new("INSERT INTO comments (vote_id, poll_id, body, created_at) ");
        insert.push_values(chunk, |mut row, (vote, poll, body, at)| {
            row.push_bind(*vote).push_bind(*poll).push_bind(*body).push_bind(*at);
        });
        insert.build().persistent(false).execute(&mut *db).await?;
    }
    // Repeats: a change of vote, or the earlier vote read back (rare).
    for (vote, outcome) in votes.iter().zip(outcomes.iter_mut()) {
        if outcome.is_none() {
            *outcome = Some(insert_vote(db, vote).await?);
        }
    }
    Ok(outcomes.into_iter().map(|o| o.expect("every vote has an outcome")).collect())
}

async fn insert_vote(db: &mut SqliteConnection, vote: &NewVote) -> Result<VoteOutcome, StoreError> {
    super::votes::insert_vote::<Sqlite>(db, vote).await
}
