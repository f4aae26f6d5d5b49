//! What the shared statements write and read, and how stored rows become domain values.
//! A row that does not parse is `StoreError::Corrupt`, never a panic.

use super::{Counts, StoreError};
use app::domain::{
    AuditAction, EditorId, Email, OptionKey, Poll, PollId, PollKind, PollOption, Publication, ResultsVisibility, Slug,
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// One line of the audit log, written in the same transaction as the change it records.
#[derive(Debug, Clone)]
pub struct NewAudit {
    pub editor: EditorId,
    pub action: AuditAction,
    pub detail: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct StoredSession {
    pub editor: EditorId,
    pub email: Email,
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct StoredComment {
    pub id: i64,
    pub body: String,
    pub hidden: bool,
    pub at: DateTime<Utc>,
    /// Option ids the commenter chose.
    pub option_ids: Vec<i64>,
}

/// Which polls to read.
#[derive(Debug, Clone, Copy)]
pub enum PollFilter<'a> {
    /// Every poll, drafts included.
    All,
    /// What readers may see: every poll but drafts.
    Published,
    Slug(&'a Slug),
    Id(PollId),
}

impl PollFilter<'_> {
    /// The WHERE condition; `$1` is `bind`'s value where there is one.
    pub(super) fn condition(self) -> &'static str {
        match self {
            PollFilter::All => "1 = 1",
            PollFilter::Published => "publication <> 'draft'",
            PollFilter::Slug(_) => "slug = $1",
            PollFilter::Id(_) => "id = $1",
        }
    }
}

/// A `polls` row, as both engines return it.
pub(super) type PollRow =
    (i64, String, String, String, i64, bool, bool, String, String, DateTime<Utc>, DateTime<Utc>, i64);
/// A `poll_options` row: id, poll id, key, label.
pub(super) type OptionRow = (i64, i64, String, String);

pub(super) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

/// Joins polls with their options (given in display order) into domain polls.
pub(super) fn assemble(polls: Vec<PollRow>, options: Vec<OptionRow>) -> Result<Vec<Poll>, StoreError> {
    let mut by_poll: HashMap<i64, Vec<PollOption>> = HashMap::new();
    for (id, poll_id, key, label) in options {
        let key = OptionKey::parse(&key).map_err(|_| corrupt("option key", &key))?;
        by_poll.entry(poll_id).or_default().push(PollOption { id, key, label });
    }
    polls.into_iter().map(|row| poll_of(row, &mut by_poll)).collect()
}

fn poll_of(row: PollRow, options: &mut HashMap<i64, Vec<PollOption>>) -> Result<Poll, StoreError> {
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
        opens,
        closes,
        version,
    ) = row;
    let max_choices = u32::try_from(max_choices).map_err(|_| corrupt("max_choices", &max_choices.to_string()))?;
    Ok(Poll {
        id: PollId(id),
        slug: Slug::parse(&slug).map_err(|_| corrupt("slug", &slug))?,
        question,
        kind: PollKind::from_parts(&kind, max_choices).ok_or_else(|| corrupt("kind", &kind))?,
        options: options.remove(&id).unwrap_or_default(),
        allow_comment,
        allow_vote_change,
        results_visibility: ResultsVisibility::parse(&visibility)
            .ok_or_else(|| corrupt("results_visibility", &visibility))?,
        publication: Publication::parse(&publication).ok_or_else(|| corrupt("publication", &publication))?,
        opens_at: opens,
        closes_at: closes,
        version,
    })
}

pub(super) fn counts_from_rows(total: i64, rows: Vec<(i64, i64)>) -> Counts {
    Counts { total: total.max(0) as u64, by_option: rows.into_iter().map(|(id, n)| (id, n.max(0) as u64)).collect() }
}

/// The stored choices of one voter, or `None` when they have not voted.
pub(super) fn keys_of_vote(keys: Vec<String>) -> Result<Option<Vec<OptionKey>>, StoreError> {
    if keys.is_empty() {
        return Ok(None);
    }
    keys.iter().map(|k| OptionKey::parse(k).map_err(|_| corrupt("option key", k))).collect::<Result<_, _>>().map(Some)
}

/// A unique-constraint violation on insert means the caller asked for something taken.
pub(super) fn conflict_or(e: sqlx::Error, message: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(message.to_owned()),
        _ => StoreError::Database(e),
    }
}

pub(super) fn stored_email(email: &str) -> Result<Email, StoreError> {
    Email::parse(email).map_err(|_| corrupt("editor email", email))
}

pub(super) fn timeline_from_rows(rows: Vec<(String, i64)>) -> Result<Vec<(DateTime<Utc>, u64)>, StoreError> {
    rows.into_iter()
        .map(|(hour, n)| {
            let at = DateTime::parse_from_rfc3339(&format!("{hour}:00:00Z"))
                .map_err(|_| corrupt("vote hour", &hour))?
                .with_timezone(&Utc);
            Ok((at, n.max(0) as u64))
        })
        .collect()
}

pub(super) fn comments_from_rows(
    rows: Vec<(i64, String, bool, DateTime<Utc>)>,
    choices: Vec<(i64, i64)>,
) -> Vec<StoredComment> {
    let mut by_comment: HashMap<i64, Vec<i64>> = HashMap::new();
    for (comment, option) in choices {
        by_comment.entry(comment).or_default().push(option);
    }
    rows.into_iter()
        .map(|(id, body, hidden, at)| StoredComment {
            id,
            body,
            hidden,
            at,
            option_ids: by_comment.remove(&id).unwrap_or_default(),
        })
        .collect()
}
