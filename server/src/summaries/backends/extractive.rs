//! Titles in readers' own words (the span the pipeline chose for each theme), an overview from a
//! template over the counts. Deterministic; every figure it writes is one the checks accept.

use super::{Backend, SummariserConfig, Unavailable};
use crate::summaries::skeleton::{Skeleton, SkeletonTheme};
use crate::summaries::{Prose, WriteError, Writer};
use std::sync::Arc;

pub const BACKEND: Backend = Backend { name: "extractive", label: "Templates (extractive)", available, make };

/// Always: it needs no model.
fn available(_: &SummariserConfig) -> Result<(), Unavailable> {
    Ok(())
}

fn make(_: &SummariserConfig) -> Option<Arc<dyn Writer>> {
    Some(Arc::new(Extractive))
}

pub struct Extractive;

impl Extractive {
    pub fn prose(&self, skeleton: &Skeleton) -> Prose {
        Prose { titles: skeleton.themes.iter().map(title).collect(), overview: overview(skeleton) }
    }
}

#[async_trait::async_trait]
impl Writer for Extractive {
    fn backend(&self) -> &'static str {
        BACKEND.name
    }

    fn model(&self) -> String {
        "readers-words-v2".into()
    }

    fn parameters(&self) -> serde_json::Value {
        serde_json::json!({})
    }

    async fn write(&self, skeleton: &Skeleton, _feedback: Option<&[String]>) -> Result<Prose, WriteError> {
        Ok(self.prose(skeleton))
    }
}

/// The theme's title in readers' own words (`SkeletonTheme::title`), or, where no member wrote a
/// short enough opening sentence, a plain label of the answer.
fn title(theme: &SkeletonTheme) -> String {
    if theme.title.is_empty() {
        format!("Another reason for “{}”", theme.option_label)
    } else {
        theme.title.clone()
    }
}

fn overview(skeleton: &Skeleton) -> String {
    if skeleton.total_comments == 0 {
        return format!("No reader left a comment ({} votes in all).", skeleton.total_votes);
    }
    let mut text = format!("{} of {} voters explained their choice.", skeleton.total_comments, skeleton.total_votes);
    let mut options: Vec<_> = skeleton.options.iter().filter(|o| o.comments > 0).collect();
    options.sort_by_key(|o| std::cmp::Reverse(o.comments));
    for option in options.iter().take(4) {
        let themes: Vec<&SkeletonTheme> =
            skeleton.themes.iter().filter(|t| t.option.as_deref() == Some(option.key.as_str())).collect();
        let percent = (option.comments as f64 * 100.0 / skeleton.total_comments as f64).round();
        text.push_str(&format!(" “{}”: {} comments ({percent}%)", option.label, option.comments));
        match themes.first() {
            // A reader's sentence, in quotation marks: the checks hold it to the comment it came from.
            Some(top) if !top.title.is_empty() => {
                text.push_str(&format!("; the reason given most often ({}): “{}”.", top.members.len(), top.title))
            }
            _ => text.push('.'),
        }
    }
    text
}
