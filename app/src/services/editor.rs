//! What the editor service answers: a poll with what only editors see, and the results
//! dashboard (also the JSON export).

use crate::domain::{PollId, PollView, ResultsView, Stage, SummaryView};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A poll with what only editors see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EditorPoll {
    #[cfg_attr(feature = "ssr", schema(value_type = i64))]
    pub id: PollId,
    pub version: i64,
    pub stage: Stage,
    pub total_votes: u64,
    pub poll: PollView,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TimelinePoint {
    /// Start of the hour (UTC).
    pub hour: DateTime<Utc>,
    pub votes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SourceCount {
    pub source: String,
    pub votes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommentView {
    pub id: i64,
    pub body: String,
    pub hidden: bool,
    pub at: DateTime<Utc>,
    /// Labels of the options the commenter chose.
    pub choices: Vec<String>,
}

/// What the results dashboard shows; also the JSON export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub poll: EditorPoll,
    pub results: ResultsView,
    pub timeline: Vec<TimelinePoint>,
    pub sources: Vec<SourceCount>,
    pub comments: Vec<CommentView>,
    /// The latest summary of the comments, if any was made.
    #[serde(default)]
    pub summary: Option<SummaryView>,
    /// Summariser backends this server can run (`extractive` always).
    #[serde(default)]
    pub summary_backends: Vec<(String, String)>,
    #[serde(default)]
    pub summarise_on_close: bool,
}

/// A refused sign-in, for the form shown again: why, and the email as it was typed.
#[derive(Debug, Clone, PartialEq)]
pub struct SignInRetry {
    pub email: String,
    pub error: crate::domain::AppError,
}
