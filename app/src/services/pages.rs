//! What the reader service answers for each page.

use crate::domain::{OptionKey, PollView, ResultsView, SummaryView};
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomePage {
    /// This week's poll: the most recently opened poll that is still open.
    pub featured: Option<PollPage>,
    pub also_open: Vec<PollView>,
    pub latest_results: Option<ArchiveEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveEntry {
    pub poll: PollView,
    /// `None` for polls whose results are never shown.
    pub results: Option<ResultsView>,
}
