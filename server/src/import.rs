//! `polltelligence polls import FILE.json`: adds polls from a JSON array, all or none.

use crate::store::Store;
use app::domain::{NewPoll, OptionKey, PollKind, Publication, ResultsVisibility, Slug};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollFile {
    slug: String,
    question: String,
    #[serde(default = "single")]
    kind: String,
    #[serde(default = "one")]
    max_choices: u32,
    options: Vec<OptionFile>,
    #[serde(default)]
    allow_comment: bool,
    #[serde(default)]
    allow_vote_change: bool,
    #[serde(default = "after_vote")]
    results_visibility: String,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionFile {
    id: String,
    label: String,
}

fn single() -> String {
    "single".into()
}
fn one() -> u32 {
    1
}
fn after_vote() -> String {
    "after_vote".into()
}

impl PollFile {
    fn parse(self) -> Result<NewPoll, String> {
        let slug = Slug::parse(&self.slug).map_err(|e| format!("slug {:?} {e}", self.slug))?;
        let options = self
            .options
            .into_iter()
            .map(|o| {
                let key = OptionKey::parse(&o.id).map_err(|e| format!("option id {:?} {e}", o.id))?;
                Ok((key, o.label))
            })
            .collect::<Result<_, String>>()?;
        let poll = NewPoll {
            kind: PollKind::from_parts(&self.kind, self.max_choices)
                .ok_or_else(|| format!("kind must be single or multiple (got {:?})", self.kind))?,
            results_visibility: ResultsVisibility::parse(&self.results_visibility)
                .ok_or_else(|| format!("unknown results_visibility {:?}", self.results_visibility))?,
            question: self.question,
            slug,
            options,
            allow_comment: self.allow_comment,
            allow_vote_change: self.allow_vote_change,
            publication: Publication::Published,
            opens_at: self.opens_at,
            closes_at: self.closes_at,
        };
        poll.validate().map_err(|e| format!("poll {}: {e}", poll.slug))?;
        Ok(poll)
    }
}

/// Validates every poll before storing any, so a bad file changes nothing.
pub async fn import(store: &Arc<dyn Store>, json: &str) -> Result<usize, String> {
    let files: Vec<PollFile> = serde_json::from_str(json).map_err(|e| format!("not a JSON array of polls: {e}"))?;
    let polls = files.into_iter().map(PollFile::parse).collect::<Result<Vec<_>, _>>()?;
    for poll in &polls {
        store.insert_poll(poll, Utc::now()).await.map_err(|e| format!("poll {}: {e}", poll.slug))?;
    }
    Ok(polls.len())
}
