//! A summary of reader comments as editors and readers see it (`api.md`, "Summaries"). The
//! server's summariser makes and checks it; these are the shapes it is shown in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryView {
    pub id: i64,
    pub poll_id: i64,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    pub progress: f64,
    pub backend: String,
    pub model: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub needs_review: bool,
    pub comments_considered: u64,
    pub themes: Vec<SummaryTheme>,
    pub overview: String,
    pub checks: SummaryChecks,
    /// Set once an editor approved it; only approved summaries are shown to readers.
    pub approved_at: Option<DateTime<Utc>>,
    /// Why the job failed (`failed`), or why a model's draft was replaced (`needs_review`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
}

impl SummaryView {
    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "done" | "failed")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryTheme {
    /// The option id (key) whose readers the theme is about.
    pub option: Option<String>,
    pub title: String,
    pub comment_count: u64,
    pub share: f64,
    pub quotes: Vec<SummaryQuote>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryQuote {
    pub comment_id: i64,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryChecks {
    pub quotes_verbatim: bool,
    pub numbers_match: bool,
    pub citations_valid: bool,
    /// One sentence per failed check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// An editor's changes on approval: new titles (by theme position) and overview, checked again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryEdits {
    #[serde(default)]
    pub overview: Option<String>,
    #[serde(default)]
    pub titles: Option<Vec<String>>,
    /// `api.md`'s shape: `themes: [{"title": …}]`, in order.
    #[serde(default)]
    pub themes: Option<Vec<ThemeEdit>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThemeEdit {
    pub title: Option<String>,
}
