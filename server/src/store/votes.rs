//! Writing votes, shared by both engines' vote writers: which of a group go into the one
//! multi-row INSERT, what the rows it returned bring, and the one-by-one path for the rest
//! (a change of vote, or a repeat answered with the stored vote).

use super::engine::Column;
use super::{rows, sql, NewVote, StoreError};
use app::domain::VoteOutcome;
use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, Executor, IntoArguments, Type};
use std::collections::{HashMap, HashSet};

/// Writes one vote on an open transaction's connection: the vote row, its choices and its
/// comment, or nothing when the voter already voted (the unique constraint decides), in
/// which case the stored choices come back.
pub async fn insert_vote<DB>(db: &mut DB::Connection, vote: &NewVote) -> Result<VoteOutcome, StoreError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    i64: Column<DB>,
    String: Column<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Column<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let poll = vote.poll.0;
    let id: Option<i64> = sqlx::query_scalar(sql::INSERT_VOTE)
        .bind(poll)
        .bind(vote.voter.as_str())
        .bind(vote.source.name())
        .bind(vote.at)
        .bind(vote.subscriber.as_deref().unwrap_or(""))
        .fetch_optional(&mut *db)
        .await?;
    let (id, outcome) = match id {
        Some(id) => (id, VoteOutcome::Recorded),
        // Email votes never replace: the conflict may be the subscriber's, not this voter's.
        None if vote.replace && vote.subscriber.is_none() => {
            let id: i64 =
                sqlx::query_scalar(sql::VOTE_ID).bind(poll).bind(vote.voter.as_str()).fetch_one(&mut *db).await?;
            let previous: Vec<i64> = sqlx::query_scalar(sql::CHOICES_OF_VOTE).bind(id).fetch_all(&mut *db).await?;
            sqlx::query(sql::DELETE_CHOICES).bind(id).execute(&mut *db).await?;
            sqlx::query(sql::RESOURCE_VOTE).bind(id).bind(vote.source.name()).execute(&mut *db).await?;
            (id, VoteOutcome::Changed { previous })
        }
        None => {
            let keys: Vec<String> =
                sqlx::query_scalar(sql::VOTE_OF).bind(poll).bind(vote.voter.as_str()).fetch_all(&mut *db).await?;
            match (keys.is_empty(), vote.subscriber.as_deref()) {
                // This browser has not voted, so the conflict is the subscriber's vote, cast
                // from another browser. Subscriber ids are not secret (an ESP's are often
                // sequential), so that vote may be a stranger's, cast in the subscriber's name:
                // this click takes it over, with its own choice, and the stranger's comment
                // goes. The vote still counts once; the latest browser to confirm holds it.
                (true, Some(subscriber)) => {
                    let taken: Option<i64> = sqlx::query_scalar(sql::VOTE_ID_OF_SUBSCRIBER)
                        .bind(poll)
                        .bind(subscriber)
                        .fetch_optional(&mut *db)
                        .await?;
                    // Gone since the insert met it (another transaction's): nothing to take.
                    let Some(id) = taken else { return Ok(VoteOutcome::AlreadyVoted(Vec::new())) };
                    let previous: Vec<i64> =
                        sqlx::query_scalar(sql::CHOICES_OF_VOTE).bind(id).fetch_all(&mut *db).await?;
                    sqlx::query(sql::DELETE_CHOICES).bind(id).execute(&mut *db).await?;
                    sqlx::query(sql::DELETE_COMMENT).bind(id).execute(&mut *db).await?;
                    sqlx::query(sql::MOVE_VOTE)
                        .bind(id)
                        .bind(vote.voter.as_str())
                        .bind(vote.source.name())
                        .bind(vote.at)
                        .execute(&mut *db)
                        .await?;
                    (id, VoteOutcome::Changed { previous })
                }
                _ => return Ok(VoteOutcome::AlreadyVoted(rows::keys_of_vote(keys)?.unwrap_or_default())),
            }
        }
    };
    // A changed vote's new comment replaces the old one's text but keeps its moderation (a
    // hidden comment stays hidden).
    for option in &vote.option_ids {
        sqlx::query(sql::INSERT_CHOICE).bind(id).bind(poll).bind(*option).execute(&mut *db).await?;
    }
    if let Some(comment) = vote.comment.as_deref() {
        sqlx::query(sql::INSERT_COMMENT).bind(id).bind(poll).bind(comment).bind(vote.at).execute(&mut *db).await?;
    }
    Ok(outcome)
}

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
