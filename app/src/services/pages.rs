//! What the reader service answers for each page.

use crate::domain::{OptionKey, PollView, ResultsView, Slug, SummaryView};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollPage {
    pub poll: PollView,
    /// This reader's stored choices, if they voted.
    pub my_vote: Option<Vec<OptionKey>>,
    /// Present when the visibility rule lets this reader see them.
    pub results: Option<ResultsView>,
    /// The site's public address (for the page's social card and oEmbed links); set by
    /// `load_poll`, empty where no page head needs it.
    #[serde(default)]
    pub origin: String,
    /// The approved summary of reader comments, shown with a closed poll's final results.
    #[serde(default)]
    pub summary: Option<SummaryView>,
    /// Another poll open now, offered once this reader has voted.
    #[serde(default)]
    pub next_poll: Option<PollLink>,
    /// A ballot posted without JavaScript that was refused: the page shows why, with the
    /// reader's choices and comment as they left them.
    #[serde(default)]
    pub retry: Option<BallotRetry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollLink {
    pub slug: Slug,
    pub question: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BallotRetry {
    /// Why it was refused, as the reader is told.
    pub reason: String,
    pub choices: Vec<String>,
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomePage {
    /// This week's poll: the most recently opened poll that is still open.
    pub featured: Option<PollPage>,
    pub also_open: Vec<PollView>,
    pub latest_results: Option<ArchiveEntry>,
}

/// Polls on one page of the archive: a phone screen or two.
pub const ARCHIVE_PAGE_SIZE: usize = 8;

/// One page of the archive, newest first. `page` counts from 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivePage {
    pub entries: Vec<ArchiveEntry>,
    pub page: usize,
    pub pages: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveEntry {
    pub poll: PollView,
    /// `None` for polls whose results are never shown.
    pub results: Option<ResultsView>,
}
