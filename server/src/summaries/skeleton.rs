//! What a `Writer` is given: a poll's themes before they have titles, every number in them
//! computed from the data (stages 1 to 4 of `pipeline`), and how a writer's titles and overview
//! make a draft of them.

use super::checks::{self, Draft, Quote, Theme};
use super::Prose;
use serde::Serialize;
use std::collections::HashMap;

/// A theme before it has a title: what the data says about it.
#[derive(Debug, Clone, Serialize)]
pub struct SkeletonTheme {
    pub option: Option<String>,
    pub option_label: String,
    pub members: Vec<i64>,
    pub quotes: Vec<Quote>,
    /// A title in readers' own words: the opening sentence (at most `pipeline::TITLE_WORDS`
    /// words) of a typical member, `title_from`; empty when no member has one that fits.
    pub title: String,
    pub title_from: Option<i64>,
    /// The same reason given by readers of another answer: themes with the same number are
    /// one reason, shown once (`themes::shared`).
    pub shared: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OptionFacts {
    pub key: String,
    pub label: String,
    pub votes: u64,
    pub comments: u64,
}

/// Everything a writer may use, all of it computed from the data.
#[derive(Debug, Clone, Serialize)]
pub struct Skeleton {
    pub question: String,
    pub options: Vec<OptionFacts>,
    pub total_votes: u64,
    pub total_comments: u64,
    pub themes: Vec<SkeletonTheme>,
    /// Comments that fit no theme (ids, ascending): with the themes' members, every comment.
    pub unassigned: Vec<i64>,
    /// Comment bodies by id, for writers that read them (masked before they leave the server).
    #[serde(skip)]
    pub bodies: HashMap<i64, String>,
}

impl Skeleton {
    pub fn share(&self, theme: &SkeletonTheme) -> f64 {
        checks::share(theme.members.len() as u64, self.total_comments)
    }

    /// The draft with these titles and overview; counts and shares from the data.
    pub fn draft(&self, prose: &Prose) -> Draft {
        let themes = self
            .themes
            .iter()
            .enumerate()
            .map(|(i, t)| Theme {
                option: t.option.clone(),
                title: prose.titles.get(i).cloned().unwrap_or_default(),
                members: t.members.clone(),
                comment_count: t.members.len() as u64,
                share: self.share(t),
                quotes: t.quotes.clone(),
                shared: t.shared,
            })
            .collect();
        Draft { themes, overview: prose.overview.clone(), unassigned: self.unassigned.clone() }
    }
}
