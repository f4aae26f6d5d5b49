//! A summary as stored (`summaries.result`, JSON) and as shown (`app::domain::SummaryView`).
//! The stored form keeps each theme's members, so an editor's edits can be checked again.

use super::checks::{Draft, Quote, Report, Theme};
use crate::store::StoredSummary;
use app::domain::{SummaryChecks, SummaryQuote, SummaryTheme, SummaryView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredResult {
    pub themes: Vec<StoredTheme>,
    pub overview: String,
    pub checks: SummaryChecks,
    /// Why a model's draft was replaced by the extractive one, or what else an editor should know.
    #[serde(default)]
    pub note: Option<String>,
    /// The sentence-embedding model that grouped the comments.
    #[serde(default)]
    pub embedder: String,
    /// Milliseconds per pipeline stage.
    #[serde(default)]
    pub timings_ms: BTreeMap<String, u64>,
    /// Comments that fit no theme (summaries stored before this field put every comment in a theme).
    #[serde(default)]
    pub unassigned: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTheme {
    pub option: Option<String>,
    pub title: String,
    pub members: Vec<i64>,
    pub comment_count: u64,
    pub share: f64,
    pub quotes: Vec<SummaryQuote>,
    /// Its shared reason's number, if readers of another answer gave it too.
    #[serde(default)]
    pub shared: Option<usize>,
}

impl StoredResult {
    pub fn new(draft: &Draft, report: &Report) -> Self {
        StoredResult {
            themes: draft
                .themes
                .iter()
                .map(|t| StoredTheme {
                    option: t.option.clone(),
                    title: t.title.clone(),
                    members: t.members.clone(),
                    comment_count: t.comment_count,
                    share: t.share,
                    quotes: t
                        .quotes
                        .iter()
                        .map(|q| SummaryQuote { comment_id: q.comment_id, text: q.text.clone() })
                        .collect(),
                    shared: t.shared,
                })
                .collect(),
            overview: draft.overview.clone(),
            checks: checks_of(report),
            note: None,
            embedder: String::new(),
            timings_ms: BTreeMap::new(),
            unassigned: draft.unassigned.clone(),
        }
    }

    pub fn draft(&self) -> Draft {
        Draft {
            themes: self
                .themes
                .iter()
                .map(|t| Theme {
                    option: t.option.clone(),
                    title: t.title.clone(),
                    members: t.members.clone(),
                    comment_count: t.comment_count,
                    share: t.share,
                    quotes: t.quotes.iter().map(|q| Quote { comment_id: q.comment_id, text: q.text.clone() }).collect(),
                    shared: t.shared,
                })
                .collect(),
            overview: self.overview.clone(),
            unassigned: self.unassigned.clone(),
        }
    }
}

pub fn checks_of(report: &Report) -> SummaryChecks {
    SummaryChecks {
        quotes_verbatim: report.quotes_verbatim,
        numbers_match: report.numbers_match,
        citations_valid: report.citations_valid,
        plain_text: report.plain_text,
        problems: report.problems.clone(),
    }
}

pub fn view(stored: &StoredSummary) -> SummaryView {
    let result: Option<StoredResult> = stored.result.as_deref().and_then(|r| serde_json::from_str(r).ok());
    let unassigned = result.as_ref().map(|r| r.unassigned.clone()).unwrap_or_default();
    let (themes, overview, checks, note) = match &result {
        Some(r) => (
            r.themes
                .iter()
                .map(|t| SummaryTheme {
                    option: t.option.clone(),
                    title: t.title.clone(),
                    comment_count: t.comment_count,
                    share: t.share,
                    quotes: t.quotes.clone(),
                    comment_ids: t.members.clone(),
                    shared: t.shared,
                })
                .collect(),
            r.overview.clone(),
            r.checks.clone(),
            r.note.clone(),
        ),
        None => (Vec::new(), String::new(), SummaryChecks::default(), None),
    };
    SummaryView {
        id: stored.id,
        poll_id: stored.poll_id,
        status: stored.status(),
        progress: stored.progress,
        backend: stored.backend.clone(),
        model: stored.model.clone(),
        created_at: stored.created_at,
        finished_at: stored.finished_at,
        needs_review: stored.needs_review,
        comments_considered: stored.comments_considered.unwrap_or(0).max(0) as u64,
        themes,
        unassigned_comment_ids: unassigned,
        overview,
        checks,
        approved_at: stored.approved_at,
        parameters: stored.parameters.as_deref().and_then(|p| serde_json::from_str(p).ok()),
        input_hash: stored.input_hash.clone(),
        note: stored.error.clone().or(note),
    }
}
