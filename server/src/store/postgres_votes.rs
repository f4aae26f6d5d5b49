//! PostgreSQL's vote path. Votes go to a few writer tasks per instance, which commit them in
//! groups: one transaction, multi-row inserts, one tally row update per option and group,
//! one notice per poll. So a vote costs a share of a handful of round trips and one fsync,
//! and never a count over the poll's earlier votes: its cost does not grow with the poll.
//! A 2xx is still sent only after the vote's group has committed.

use super::{Counts, NewVote, StoreError};
use app::domain::{PollId, VoteOutcome};
use sqlx::postgres::PgPool;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Mutex};

/// Votes committed together at most; bounds one transaction's latency.
const MAX_GROUP: usize = 512;
/// Votes waiting for a writer before callers wait to enqueue (back-pressure).
const QUEUE: usize = 8_192;
/// Groups in flight per instance: while one waits for its fsync the next is being written.
const WRITERS: usize = 2;
/// Reads may lag other instances' writes by this much (live results converge within it).
const COUNTS_TTL: Duration = Duration::from_secs(1);
/// LISTEN/NOTIFY channel on which every instance announces the poll of each vote it commits.
pub(super) const VOTES_CHANNEL: &str = "polltelligence_votes";

const INSERT_VOTES: &str = "INSERT INTO votes (poll_id, voter_id, source, created_at, subscriber) \
    SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TIMESTAMPTZ[], $5::TEXT[]) \
    ON CONFLICT DO NOTHING RETURNING id, poll_id, voter_id";
const INSERT_CHOICES: &str = "INSERT INTO vote_choices (vote_id, poll_id, option_id) \
    SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BIGINT[])";
const INSERT_COMMENTS: &str = "INSERT INTO comments (vote_id, poll_id, body, created_at) \
    SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TIMESTAMPTZ[])";
// Rows come in (poll, option) order, so two groups sharing a shard lock them in one order.
const ADD_TO_TALLIES: &str = "INSERT INTO vote_tallies (poll_id, option_id, shard, votes) \
    SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::SMALLINT[], $4::BIGINT[]) \
    ON CONFLICT (poll_id, option_id, shard) DO UPDATE SET votes = vote_tallies.votes + excluded.votes";
const NOTIFY: &str = "SELECT pg_notify($1, poll::TEXT) FROM UNNEST($2::BIGINT[]) AS poll";
const TALLIES: &str = "SELECT poll_id, option_id, SUM(votes)::BIGINT FROM vote_tallies \
    WHERE poll_id = ANY($1) GROUP BY poll_id, option_id";
/// The tally row holding a poll's total (option ids start at 1).
const TOTAL: i64 = 0;

type Reply = oneshot::Sender<Result<VoteOutcome, StoreError>>;

/// The instance's vote queue, drained by its writer tasks.
pub(super) struct VoteQueue(mpsc::Sender<(NewVote, Reply)>);

impl VoteQueue {
    pub(super) fn start(pool: PgPool, counts: Arc<CountsCache>) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        // A random shard per writer: instances (and writers) add to different tally rows, so
        // they do not queue behind each other's row locks. A clash only costs a short wait.
        let base = std::collections::hash_map::RandomState::new().build_hasher().finish();
        for writer in 0..WRITERS {
            let shard = ((base as usize + writer) % 64) as i16;
            tokio::spawn(run_writer(pool.clone(), shard, receiver.clone(), counts.clone()));
        }
        VoteQueue(sender)
    }

    pub(super) async fn record(&self, vote: NewVote) -> Result<VoteOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.0.send((vote, reply)).await.map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

async fn run_writer(
    pool: PgPool,
    shard: i16,
    jobs: Arc<Mutex<mpsc::Receiver<(NewVote, Reply)>>>,
    counts: Arc<CountsCache>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    loop {
        if jobs.lock().await.recv_many(&mut group, MAX_GROUP).await == 0 {
            return;
        }
        let (votes, replies): (Vec<NewVote>, Vec<Reply>) = group.drain(..).unzip();
        let outcomes = match commit_group(&pool, shard, &votes).await {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            Err(e) if votes.len() == 1 => vec![Err(e)],
            Err(e) if e.is_unavailable() => {
                let message = e.to_string();
                votes.iter().map(|_| Err(StoreError::Unavailable(message.clone()))).collect()
            }
            // One bad vote (or a deadlock with another instance) sinks its whole group: commit
            // each alone, so every vote gets its own answer.
            Err(e) => {
                tracing::warn!(error = %e, votes = votes.len(), "vote group failed; committing its votes one by one");
                let mut outcomes = Vec::with_capacity(votes.len());
                for vote in &votes {
                    let alone = commit_group(&pool, shard, std::slice::from_ref(vote)).await;
                    outcomes.push(alone.and_then(|mut o| o.pop().ok_or(StoreError::WriterGone)));
                }
                outcomes
            }
        };
        let changed: HashSet<PollId> = votes
            .iter()
            .zip(&outcomes)
            .filter(|(_, outcome)| matches!(outcome, Ok(VoteOutcome::Recorded | VoteOutcome::Changed { .. })))
            .map(|(vote, _)| vote.poll)
            .collect();
        if !changed.is_empty() {
            // Results sent back with each vote include it: re-read after the commit, before replying.
            counts.changed(changed.iter().copied());
            if let Err(e) = counts.load(&pool, &changed.into_iter().collect::<Vec<_>>()).await {
                tracing::warn!(error = %e, "re-reading tallies after a vote group failed");
            }
        }
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            let _ = reply.send(outcome);
        }
    }
}

/// Commits `votes` in one transaction and returns each one's outcome, in order; on error
/// nothing of the group is stored.
async fn commit_group(pool: &PgPool, shard: i16, votes: &[NewVote]) -> Result<Vec<VoteOutcome>, StoreError> {
    let mut tx = pool.begin().await?;
    let all: Vec<&NewVote> = votes.iter().collect();
    let batch = super::votes::first_of_each(&all);
    let inserted: Vec<(i64, i64, String)> = sqlx::query_as(INSERT_VOTES)
        .bind(batch.iter().map(|v| v.poll.0).collect::<Vec<_>>())
        .bind(batch.iter().map(|v| v.voter.as_str()).collect::<Vec<_>>())
        .bind(batch.iter().map(|v| v.source.name()).collect::<Vec<_>>())
        .bind(batch.iter().map(|v| v.at).collect::<Vec<_>>())
        .bind(batch.iter().map(|v| v.subscriber.as_deref()).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await?;
    let super::votes::Inserted { mut outcomes, choices, comments } = super::votes::rows_of(&all, &inserted);
    if !choices.is_empty() {
        sqlx::query(INSERT_CHOICES)
            .bind(choices.iter().map(|c| c.0).collect::<Vec<_>>())
            .bind(choices.iter().map(|c| c.1).collect::<Vec<_>>())
            .bind(choices.iter().map(|c| c.2).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
    }
    if !comments.is_empty() {
        sqlx::query(INSERT_COMMENTS)
            .bind(comments.iter().map(|c| c.0).collect::<Vec<_>>())
            .bind(comments.iter().map(|c| c.1).collect::<Vec<_>>())
            .bind(comments.iter().map(|c| c.2).collect::<Vec<_>>())
            .bind(comments.iter().map(|c| c.3).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
    }
    // Repeats: a change of vote, or the earlier vote read back (rare; one by one).
    for (vote, outcome) in votes.iter().zip(outcomes.iter_mut()) {
        if outcome.is_none() {
            *outcome = Some(super::votes::insert_vote::<sqlx::Postgres>(&mut *tx, vote).await?);
        }
    }
    let outcomes: Vec<VoteOutcome> = outcomes.into_iter().map(|o| o.expect("every vote has an outcome")).collect();

    let deltas = tally_deltas(votes, &outcomes);
    if !deltas.is_empty() {
        let (polls, options): (Vec<i64>, Vec<i64>) = deltas.keys().copied().unzip();
        sqlx::query(ADD_TO_TALLIES)
            .bind(polls)
            .bind(options)
            .bind(vec![shard; deltas.len()])
            .bind(deltas.values().copied().collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        // Delivered to every listening instance when (and only if) the group commits.
        let changed: BTreeSet<i64> = deltas.keys().map(|(poll, _)| *poll).collect();
        sqlx::query(NOTIFY).bind(VOTES_CHANNEL).bind(changed.into_iter().collect::<Vec<_>>()).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// How a group's outcomes move each (poll, option) tally; option `TOTAL` is the poll's total.
fn tally_deltas(votes: &[NewVote], outcomes: &[VoteOutcome]) -> BTreeMap<(i64, i64), i64> {
    let mut deltas = BTreeMap::new();
    for (vote, outcome) in votes.iter().zip(outcomes) {
        let poll = vote.poll.0;
        match outcome {
            VoteOutcome::Recorded => *deltas.entry((poll, TOTAL)).or_default() += 1,
            VoteOutcome::Changed { previous } => {
                for option in previous {
                    *deltas.entry((poll, *option)).or_default() -= 1;
                }
            }
            VoteOutcome::AlreadyVoted(_) => continue,
        }
        for option in &vote.option_ids {
            *deltas.entry((poll, *option)).or_default() += 1;
        }
    }
    deltas.retain(|_, delta| *delta != 0);
    deltas
}

/// Counts as last read, per poll, each stamped with when its read started; and when votes of
/// the poll were last committed as far as this instance knows (its own, and other instances'
/// as announced), so that a voter's own answer and a live update are never older.
#[derive(Default)]
pub(super) struct CountsCache {
    read: RwLock<HashMap<PollId, (Instant, Arc<Counts>)>>,
    committed: RwLock<HashMap<PollId, Instant>>,
}

impl CountsCache {
    /// Counts read within the last second.
    pub(super) fn recent(&self, poll: PollId) -> Option<Arc<Counts>> {
        let read = self.read.read().expect("counts lock");
        read.get(&poll).filter(|(at, _)| at.elapsed() < COUNTS_TTL).map(|(_, counts)| counts.clone())
    }

    /// Counts read after the last commit of a vote on `poll` that this instance knows of.
    pub(super) fn after_own_votes(&self, poll: PollId) -> Option<Arc<Counts>> {
        let committed = self.committed.read().expect("counts lock").get(&poll).copied();
        let read = self.read.read().expect("counts lock");
        read.get(&poll).filter(|(at, _)| committed.is_none_or(|c| *at >= c)).map(|(_, counts)| counts.clone())
    }

    /// Votes on `polls` were committed (here, or by another instance that said so): reads
    /// started before now are too old for a voter's own answer or a live update.
    pub(super) fn changed(&self, polls: impl IntoIterator<Item = PollId>) {
        let now = Instant::now();
        let mut committed = self.committed.write().expect("counts lock");
        for poll in polls {
            committed.insert(poll, now);
        }
    }

    /// Notices may have been missed: nothing read so far can be trusted as current.
    pub(super) fn forget(&self) {
        self.read.write().expect("counts lock").clear();
    }

    /// Reads the tallies of `polls` (one query, a few rows per poll) into the cache.
    pub(super) async fn load(&self, pool: &PgPool, polls: &[PollId]) -> Result<Vec<Arc<Counts>>, StoreError> {
        let started = Instant::now();
        let ids: Vec<i64> = polls.iter().map(|p| p.0).collect();
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(TALLIES).bind(&ids).fetch_all(pool).await?;
        let mut by_poll: HashMap<i64, Counts> = HashMap::new();
        for (poll, option, votes) in rows {
            let counts = by_poll.entry(poll).or_default();
            let votes = votes.max(0) as u64;
            if option == TOTAL {
                counts.total = votes;
            } else if votes > 0 {
                counts.by_option.insert(option, votes);
            }
        }
        // Keep the read that started last: a slow read that began before a commit must not
        // replace a newer one.
        let mut cache = self.read.write().expect("counts lock");
        Ok(polls
            .iter()
            .map(|poll| {
                let counts = Arc::new(by_poll.remove(&poll.0).unwrap_or_default());
                if cache.get(poll).is_none_or(|(cached, _)| *cached < started) {
                    cache.insert(*poll, (started, counts.clone()));
                }
                counts
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::VoteSource;

    fn vote(poll: i64, options: &[i64]) -> NewVote {
        NewVote {
            poll: PollId(poll),
            voter: "v".into(),
            option_ids: options.to_vec(),
            comment: None,
            source: VoteSource::Api,
            at: chrono::Utc::now(),
            replace: true,
            subscriber: None,
        }
    }

    #[test]
    fn a_group_moves_each_tally_once_and_totals_count_voters_not_choices() {
        let votes = [vote(1, &[10, 11]), vote(1, &[10]), vote(2, &[20]), vote(1, &[11]), vote(1, &[12])];
        let outcomes = [
            VoteOutcome::Recorded,
            VoteOutcome::Recorded,
            VoteOutcome::Recorded,
            VoteOutcome::AlreadyVoted(Vec::new()),
            VoteOutcome::Changed { previous: vec![10] },
        ];
        let deltas = tally_deltas(&votes, &outcomes);
        let expected: BTreeMap<(i64, i64), i64> =
            [((1, TOTAL), 2), ((1, 10), 1), ((1, 11), 1), ((1, 12), 1), ((2, TOTAL), 1), ((2, 20), 1)].into();
        assert_eq!(deltas, expected);
    }

    #[test]
    fn a_change_back_to_the_same_choice_moves_nothing() {
        let deltas = tally_deltas(&[vote(1, &[10])], &[VoteOutcome::Changed { previous: vec![10] }]);
        assert!(deltas.is_empty(), "{deltas:?}");
    }
}
