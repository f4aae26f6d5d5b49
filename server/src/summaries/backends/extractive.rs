//! Titles from each theme's telling words, an overview from a template over the counts.
//! Deterministic; every figure it writes is one the checks accept.

use crate::summaries::skeleton::{Skeleton, SkeletonTheme};
use crate::summaries::{Prose, WriteError, Writer};

pub struct Extractive;

impl Extractive {
    pub fn prose(&self, skeleton: &Skeleton) -> Prose {
        Prose { titles: skeleton.themes.iter().map(title).collect(), overview: overview(skeleton) }
    }
}

#[async_trait::async_trait]
impl Writer for Extractive {
    fn backend(&self) -> &'static str {
        "extractive"
    }

    fn model(&self) -> String {
        "templates-v1".into()
    }

    fn parameters(&self) -> serde_json::Value {
        serde_json::json!({})
    }

    async fn write(&self, skeleton: &Skeleton, _feedback: Option<&[String]>) -> Result<Prose, WriteError> {
        Ok(self.prose(skeleton))
    }
}

fn title(theme: &SkeletonTheme) -> String {
    if theme.other {
        return "Other reasons".into();
    }
    let words = &theme.keywords;
    let listed = match words.len() {
        0 => return format!("Why readers chose “{}”", theme.option_label),
        1 => words[0].clone(),
        n => format!("{} and {}", words[..n - 1].join(", "), words[n - 1]),
    };
    let mut chars = listed.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => listed,
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
            skeleton.themes.iter().filter(|t| t.option.as_deref() == Some(option.key.as_str()) && !t.other).collect();
        let percent = (option.comments as f64 * 100.0 / skeleton.total_comments as f64).round();
        text.push_str(&format!(" “{}”: {} comments ({percent}%)", option.label, option.comments));
        match themes.first() {
            Some(top) if top.keywords.is_empty() => text.push('.'),
            Some(top) if themes.len() > 1 || top.members.len() as u64 != option.comments => {
                text.push_str(&format!(", most often about {} ({}).", title(top).to_lowercase(), top.members.len()))
            }
            Some(top) => text.push_str(&format!(", about {}.", title(top).to_lowercase())),
            None => text.push('.'),
        }
    }
    text
}
