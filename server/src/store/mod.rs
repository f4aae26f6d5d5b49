//! Storage behind one narrow interface, with an SQLite and a PostgreSQL implementation
//! that share their SQL (sqlx binds `$n` placeholders on both) and behave the same.

mod editing;
mod postgres;
mod postgres_votes;
mod sqlite;
mod summaries;

pub use editing::{EditorStore, NewAudit, StoredComment, StoredSession};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use summaries::{FinishedSummary, StoredSummary, SummaryStore, MAX_ATTEMPTS};

use app::domain::{
    NewPoll, OptionKey, Poll, PollId, PollKind, PollOption, Publication, ResultsVisibility, Slug, VoteOutcome,
    VoteSource,
};
use chrono::{DateTime, Utc};
use sqlx::migrate::{Migration, MigrationSource, MigrationType};
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

/// Everything the server stores. Readers' side here; editors' side in `EditorStore`.
#[async_trait::async_trait]
pub trait Store: EditorStore + Send + Sync + 'static {
    async fn ping(&self) -> Result<(), StoreError>;
    async fn has_polls(&self) -> Result<bool, StoreError>;
    /// Adds a poll outside the editor workflow (demo content, imports).
    async fn insert_poll(&self, poll: &NewPoll, created_at: DateTime<Utc>) -> Result<PollId, StoreError>;
    /// Every non-draft poll with its options, newest first.
    async fn published_polls(&self) -> Result<Vec<Poll>, StoreError>;
    async fn poll_by_slug(&self, slug: &Slug) -> Result<Option<Poll>, StoreError>;
    /// Counts for reads that may lag slightly behind other instances' writes.
    async fn counts(&self, poll: PollId) -> Result<Arc<Counts>, StoreError>;
    /// Counts that include every vote this process has committed.
    async fn counts_after_vote(&self, poll: PollId) -> Result<Arc<Counts>, StoreError>;
    async fn vote_of(&self, poll: PollId, voter: &str) -> Result<Option<Vec<OptionKey>>, StoreError>;
    /// Commits the vote, or returns the voter's earlier one. Returns only once durable.
    async fn record_vote(&self, vote: NewVote) -> Result<VoteOutcome, StoreError>;
    /// The secret named `name`, stored as `candidate` if there is none yet.
    async fn secret(&self, name: &str, candidate: &str) -> Result<String, StoreError>;
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

pub async fn connect(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(database_url).await?))
    } else {
        Ok(Arc::new(SqliteStore::connect(database_url).await?))
    }
}

/// Migrations compiled into the binary, so a deployed server needs no files beside it.
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<Migration>, sqlx::error::BoxDynError>> + Send + 's>,
    > {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, name, sql)| {
                    Migration::new(*version, (*name).into(), MigrationType::Simple, (*sql).into(), false)
                })
                .collect())
        })
    }
}

const SQLITE_MIGRATIONS: Embedded = Embedded(&[
    (1, "polls and votes", include_str!("../../../migrations/sqlite/0001_polls_and_votes.sql")),
    (2, "editors", include_str!("../../../migrations/sqlite/0002_editors.sql")),
    (3, "email votes", include_str!("../../../migrations/sqlite/0003_email_votes.sql")),
    (4, "summaries", include_str!("../../../migrations/sqlite/0004_summaries.sql")),
]);
const POSTGRES_MIGRATIONS: Embedded = Embedded(&[
    (1, "polls and votes", include_str!("../../../migrations/postgres/0001_polls_and_votes.sql")),
    (2, "editors", include_str!("../../../migrations/postgres/0002_editors.sql")),
    (3, "email votes", include_str!("../../../migrations/postgres/0003_email_votes.sql")),
    (4, "summaries", include_str!("../../../migrations/postgres/0004_summaries.sql")),
    (5, "vote tallies", include_str!("../../../migrations/postgres/0005_vote_tallies.sql")),
]);

mod sql {
    pub const POLL_COLUMNS: &str = "id, slug, question, kind, max_choices, allow_comment, allow_vote_change, \
        results_visibility, publication, opens_at, closes_at, version";
    pub const HAS_POLLS: &str = "SELECT EXISTS (SELECT 1 FROM polls)";
    pub const INSERT_POLL: &str = "INSERT INTO polls (slug, question, kind, max_choices, allow_comment, \
        allow_vote_change, results_visibility, publication, opens_at, closes_at, created_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
    pub const INSERT_OPTION: &str = "INSERT INTO poll_options (poll_id, key, label, position) VALUES ($1, $2, $3, $4)";
    pub const ALL_OPTIONS: &str = "SELECT id, poll_id, key, label FROM poll_options ORDER BY poll_id, position";
    pub const OPTIONS_OF: &str =
        "SELECT id, poll_id, key, label FROM poll_options WHERE poll_id = $1 ORDER BY position";
    pub const TOTAL_VOTES: &str = "SELECT COUNT(*) FROM votes WHERE poll_id = $1";
    pub const COUNTS: &str = "SELECT option_id, COUNT(*) FROM vote_choices WHERE poll_id = $1 GROUP BY option_id";
    pub const VOTE_OF: &str = "SELECT o.key FROM votes v \
        JOIN vote_choices c ON c.vote_id = v.id JOIN poll_options o ON o.id = c.option_id \
        WHERE v.poll_id = $1 AND v.voter_id = $2 ORDER BY o.position";
    // No conflict target: a repeat of the voter or of the email subscriber both do nothing.
    pub const INSERT_VOTE: &str = "INSERT INTO votes (poll_id, voter_id, source, created_at, subscriber) \
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id";
    pub const VOTE_OF_SUBSCRIBER: &str = "SELECT o.key FROM votes v \
        JOIN vote_choices c ON c.vote_id = v.id JOIN poll_options o ON o.id = c.option_id \
        WHERE v.poll_id = $1 AND v.subscriber = $2 ORDER BY o.position";
    pub const INSERT_CHOICE: &str = "INSERT INTO vote_choices (vote_id, poll_id, option_id) VALUES ($1, $2, $3)";
    pub const INSERT_COMMENT: &str = "INSERT INTO comments (vote_id, poll_id, body, created_at) \
        VALUES ($1, $2, $3, $4) ON CONFLICT (vote_id) DO UPDATE SET body = excluded.body";
    pub const VOTE_ID: &str = "SELECT id FROM votes WHERE poll_id = $1 AND voter_id = $2";
    pub const CHOICES_OF_VOTE: &str = "SELECT option_id FROM vote_choices WHERE vote_id = $1";
    pub const DELETE_CHOICES: &str = "DELETE FROM vote_choices WHERE vote_id = $1";
    pub const RESOURCE_VOTE: &str = "UPDATE votes SET source = $2 WHERE id = $1";
    pub const INSERT_SECRET: &str =
        "INSERT INTO app_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
    pub const SECRET: &str = "SELECT value FROM app_secrets WHERE name = $1";

    pub fn polls_where(condition: &str) -> String {
        format!("SELECT {POLL_COLUMNS} FROM polls WHERE {condition} ORDER BY opens_at DESC, id DESC")
    }
}

/// Queries whose Rust is the same on both engines (only the pool type differs), written once
/// and expanded into each store's `impl` block. `$begin` opens a write transaction.
macro_rules! shared_queries {
    ($begin:literal) => {
        async fn polls_matching(
            &self,
            condition: &str,
            bind: Option<super::Bind<'_>>,
        ) -> Result<Vec<app::domain::Poll>, super::StoreError> {
            let query = super::sql::polls_where(condition);
            let mut polls = sqlx::query_as::<_, super::PollRow>(&query);
            match bind {
                Some(super::Bind::Text(value)) => polls = polls.bind(value),
                Some(super::Bind::Int(value)) => polls = polls.bind(value),
                None => {}
            }
            let polls = polls.fetch_all(&self.pool).await?;
            let options = match polls.as_slice() {
                [] => return Ok(Vec::new()),
                [(id, ..)] => sqlx::query_as(super::sql::OPTIONS_OF).bind(id).fetch_all(&self.pool).await?,
                _ => sqlx::query_as(super::sql::ALL_OPTIONS).fetch_all(&self.pool).await?,
            };
            super::assemble(polls, options)
        }

        /// Stores polls (each with its audit entry, if any) in one transaction: all or none.
        async fn insert_polls_rows(
            &self,
            polls: &[(&app::domain::NewPoll, Option<&super::NewAudit>)],
            created_at: chrono::DateTime<chrono::Utc>,
        ) -> Result<Vec<app::domain::PollId>, super::StoreError> {
            let mut tx = self.pool.begin_with($begin).await?;
            let mut ids = Vec::with_capacity(polls.len());
            for (poll, audit) in polls {
                let id: i64 = super::bind_poll!(sqlx::query_scalar(super::sql::INSERT_POLL), poll)
                    .bind(created_at)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| {
                        super::conflict_or(e, &format!("a poll with the slug {} already exists", poll.slug))
                    })?;
                for (position, (key, label)) in poll.options.iter().enumerate() {
                    sqlx::query(super::sql::INSERT_OPTION)
                        .bind(id)
                        .bind(key.as_str())
                        .bind(label)
                        .bind(position as i64)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(audit) = audit {
                    super::editing::insert_audit!(&mut *tx, audit, Some(id), Some(poll.slug.as_str()));
                }
                ids.push(app::domain::PollId(id));
            }
            tx.commit().await?;
            Ok(ids)
        }

        async fn insert_poll_rows(
            &self,
            poll: &app::domain::NewPoll,
            created_at: chrono::DateTime<chrono::Utc>,
            audit: Option<&super::NewAudit>,
        ) -> Result<app::domain::PollId, super::StoreError> {
            let ids = self.insert_polls_rows(&[(poll, audit)], created_at).await?;
            ids.into_iter().next().ok_or_else(|| super::StoreError::Corrupt("no poll id returned".into()))
        }
    };
}
use shared_queries;

/// Binds a poll's columns as `$1`..`$10`, in the order of `INSERT_POLL` and `UPDATE_POLL`.
macro_rules! bind_poll {
    ($query:expr, $poll:expr) => {{
        let poll: &app::domain::NewPoll = $poll;
        $query
            .bind(poll.slug.as_str())
            .bind(&poll.question)
            .bind(poll.kind.name())
            .bind(i64::from(poll.kind.max_choices()))
            .bind(poll.allow_comment)
            .bind(poll.allow_vote_change)
            .bind(poll.results_visibility.name())
            .bind(poll.publication.name())
            .bind(poll.opens_at)
            .bind(poll.closes_at)
    }};
}
use bind_poll;

/// Writes one vote on an open transaction's connection `$db` (`&mut SqliteConnection` or
/// `&mut PgConnection`): the vote row, its choices and its comment, or nothing when the voter
/// already voted (the unique constraint decides), in which case the stored choices come back.
macro_rules! insert_vote_rows {
    ($db:expr, $vote:expr) => {{
        let db = $db;
        let vote: &super::NewVote = $vote;
        let id: Option<i64> = sqlx::query_scalar(super::sql::INSERT_VOTE)
            .bind(vote.poll.0)
            .bind(&vote.voter)
            .bind(vote.source.name())
            .bind(vote.at)
            .bind(&vote.subscriber)
            .fetch_optional(&mut *db)
            .await?;
        match id {
            // Email votes never replace: the conflict may be the subscriber's, not this voter's.
            None if vote.replace && vote.subscriber.is_none() => {
                let id: i64 = sqlx::query_scalar(super::sql::VOTE_ID)
                    .bind(vote.poll.0)
                    .bind(&vote.voter)
                    .fetch_one(&mut *db)
                    .await?;
                let previous: Vec<i64> =
                    sqlx::query_scalar(super::sql::CHOICES_OF_VOTE).bind(id).fetch_all(&mut *db).await?;
                sqlx::query(super::sql::DELETE_CHOICES).bind(id).execute(&mut *db).await?;
                sqlx::query(super::sql::RESOURCE_VOTE).bind(id).bind(vote.source.name()).execute(&mut *db).await?;
                super::insert_vote_rows!(@choices db, vote, id);
                app::domain::VoteOutcome::Changed { previous }
            }
            None => {
                let mut keys: Vec<String> = sqlx::query_scalar(super::sql::VOTE_OF)
                    .bind(vote.poll.0)
                    .bind(&vote.voter)
                    .fetch_all(&mut *db)
                    .await?;
                if let (true, Some(subscriber)) = (keys.is_empty(), &vote.subscriber) {
                    keys = sqlx::query_scalar(super::sql::VOTE_OF_SUBSCRIBER)
                        .bind(vote.poll.0)
                        .bind(subscriber)
                        .fetch_all(&mut *db)
                        .await?;
                }
                app::domain::VoteOutcome::AlreadyVoted(super::keys_of_vote(keys)?.unwrap_or_default())
            }
            Some(id) => {
                super::insert_vote_rows!(@choices db, vote, id);
                app::domain::VoteOutcome::Recorded
            }
        }
    }};
    // The choices and comment of vote `$id`; a changed vote's new comment replaces the old
    // one's text but keeps its moderation (a hidden comment stays hidden).
    (@choices $db:ident, $vote:ident, $id:ident) => {
        for option in &$vote.option_ids {
            sqlx::query(super::sql::INSERT_CHOICE).bind($id).bind($vote.poll.0).bind(option).execute(&mut *$db).await?;
        }
        if let Some(comment) = &$vote.comment {
            sqlx::query(super::sql::INSERT_COMMENT)
                .bind($id)
                .bind($vote.poll.0)
                .bind(comment)
                .bind($vote.at)
                .execute(&mut *$db)
                .await?;
        }
    };
}
use insert_vote_rows;

/// A value for the `$1` of `polls_matching`'s condition.
enum Bind<'a> {
    Text(&'a str),
    Int(i64),
}

/// A `polls` row, as both engines return it.
type PollRow = (i64, String, String, String, i64, bool, bool, String, String, DateTime<Utc>, DateTime<Utc>, i64);
/// A `poll_options` row: id, poll id, key, label.
type OptionRow = (i64, i64, String, String);

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

/// Joins polls with their options (given in display order) into domain polls.
fn assemble(polls: Vec<PollRow>, options: Vec<OptionRow>) -> Result<Vec<Poll>, StoreError> {
    let mut by_poll: HashMap<i64, Vec<PollOption>> = HashMap::new();
    for (id, poll_id, key, label) in options {
        let key = OptionKey::parse(&key).map_err(|_| corrupt("option key", &key))?;
        by_poll.entry(poll_id).or_default().push(PollOption { id, key, label });
    }
    polls
        .into_iter()
        .map(|row| {
            let (
                id,
                slug,
                question,
                kind,
                max_choices,
                allow_comment,
                allow_vote_change,
                visibility,
                publication,
                opens_at,
                closes_at,
                version,
            ) = row;
            let max_choices =
                u32::try_from(max_choices).map_err(|_| corrupt("max_choices", &max_choices.to_string()))?;
            Ok(Poll {
                id: PollId(id),
                slug: Slug::parse(&slug).map_err(|_| corrupt("slug", &slug))?,
                question,
                kind: PollKind::from_parts(&kind, max_choices).ok_or_else(|| corrupt("kind", &kind))?,
                options: by_poll.remove(&id).unwrap_or_default(),
                allow_comment,
                allow_vote_change,
                results_visibility: ResultsVisibility::parse(&visibility)
                    .ok_or_else(|| corrupt("results_visibility", &visibility))?,
                publication: Publication::parse(&publication).ok_or_else(|| corrupt("publication", &publication))?,
                opens_at,
                closes_at,
                version,
            })
        })
        .collect()
}

fn counts_from_rows(total: i64, rows: Vec<(i64, i64)>) -> Counts {
    Counts { total: total.max(0) as u64, by_option: rows.into_iter().map(|(id, n)| (id, n.max(0) as u64)).collect() }
}

/// The stored choices of one voter, or `None` when they have not voted.
fn keys_of_vote(keys: Vec<String>) -> Result<Option<Vec<OptionKey>>, StoreError> {
    if keys.is_empty() {
        return Ok(None);
    }
    keys.iter().map(|k| OptionKey::parse(k).map_err(|_| corrupt("option key", k))).collect::<Result<_, _>>().map(Some)
}

/// A unique-constraint violation on insert means the caller asked for something taken.
fn conflict_or(e: sqlx::Error, message: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(message.to_owned()),
        _ => StoreError::Database(e),
    }
}

/// A group of votes written with multi-row inserts (both engines' vote writers): which votes
/// go into the one INSERT, and, from the rows it returned, what else to write.
mod group {
    use super::NewVote;
    use app::domain::VoteOutcome;
    use chrono::{DateTime, Utc};
    use std::collections::{HashMap, HashSet};

    /// The votes for the multi-row insert: the first of each voter and of each email
    /// subscriber per poll. A repeat within the group is written one by one afterwards, once
    /// the row it repeats exists (as a change of vote, or answered with the stored vote).
    pub fn first_of_each<'a>(votes: &[&'a NewVote]) -> Vec<&'a NewVote> {
        let mut voters = HashSet::new();
        let mut subscribers = HashSet::new();
        votes
            .iter()
            .copied()
            .filter(|vote| {
                let new_voter = voters.insert((vote.poll, vote.voter.as_str()));
                let new_subscriber = vote.subscriber.as_deref().is_none_or(|s| subscribers.insert((vote.poll, s)));
                new_voter && new_subscriber
            })
            .collect()
    }

    /// What the inserted votes (`(id, poll id, voter)` as the INSERT returned them) bring:
    /// their choices and comments, and `Recorded` as their outcome; the other votes' outcomes
    /// stay `None`, for the one-by-one path.
    #[derive(Default)]
    pub struct Inserted<'a> {
        pub outcomes: Vec<Option<VoteOutcome>>,
        /// (vote id, poll id, option id)
        pub choices: Vec<(i64, i64, i64)>,
        /// (vote id, poll id, body, created at)
        pub comments: Vec<(i64, i64, &'a str, DateTime<Utc>)>,
    }

    pub fn rows_of<'a>(votes: &[&'a NewVote], inserted: &[(i64, i64, String)]) -> Inserted<'a> {
        let ids: HashMap<(i64, &str), i64> =
            inserted.iter().map(|(id, poll, voter)| ((*poll, voter.as_str()), *id)).collect();
        let mut rows = Inserted { outcomes: vec![None; votes.len()], ..Inserted::default() };
        let mut claimed = HashSet::new();
        for (vote, outcome) in votes.iter().zip(rows.outcomes.iter_mut()) {
            let key = (vote.poll.0, vote.voter.as_str());
            // The first vote with an inserted row's key is the one that was inserted.
            let Some(&id) = ids.get(&key) else { continue };
            if !claimed.insert(key) {
                continue;
            }
            rows.choices.extend(vote.option_ids.iter().map(|option| (id, vote.poll.0, *option)));
            if let Some(comment) = &vote.comment {
                rows.comments.push((id, vote.poll.0, comment.as_str(), vote.at));
            }
            *outcome = Some(VoteOutcome::Recorded);
        }
        rows
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use app::domain::{PollId, VoteSource};

        fn vote(poll: i64, voter: &str, subscriber: Option<&str>, options: &[i64], comment: Option<&str>) -> NewVote {
            NewVote {
                poll: PollId(poll),
                voter: voter.into(),
                option_ids: options.to_vec(),
                comment: comment.map(Into::into),
                source: VoteSource::Email,
                at: chrono::Utc::now(),
                replace: false,
                subscriber: subscriber.map(Into::into),
            }
        }

        #[test]
        fn repeats_of_a_voter_or_subscriber_wait_for_the_one_by_one_path() {
            let votes = [
                vote(1, "a", Some("s"), &[1], None),
                vote(1, "a", None, &[2], None),      // the same voter again
                vote(1, "b", Some("s"), &[1], None), // the same subscriber again
                vote(2, "a", Some("s"), &[3], None), // another poll: not a repeat
                vote(1, "c", None, &[1], None),
            ];
            let all: Vec<&NewVote> = votes.iter().collect();
            let batch: Vec<(i64, &str)> = first_of_each(&all).iter().map(|v| (v.poll.0, v.voter.as_str())).collect();
            assert_eq!(batch, [(1, "a"), (2, "a"), (1, "c")]);
        }

        #[test]
        fn only_inserted_votes_bring_rows_and_each_only_once() {
            let votes = [
                vote(1, "a", None, &[1, 2], Some("why")),
                vote(1, "a", None, &[2], None),
                vote(1, "b", None, &[1], Some("not stored")),
            ];
            let all: Vec<&NewVote> = votes.iter().collect();
            // "b" already had a vote: the INSERT returned a row for "a" only.
            let rows = rows_of(&all, &[(70, 1, "a".into())]);
            assert_eq!(rows.outcomes, [Some(VoteOutcome::Recorded), None, None]);
            assert_eq!(rows.choices, [(70, 1, 1), (70, 1, 2)]);
            assert_eq!(rows.comments.iter().map(|c| (c.0, c.2)).collect::<Vec<_>>(), [(70, "why")]);
        }
    }
}
