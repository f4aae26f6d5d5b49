//! A summary of reader comments as editors and readers see it (`server/src/http/CONTRACT.md`, "Summaries"). The
//! server's summariser makes and checks it; these are the shapes it is shown in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SummaryView {
    pub id: i64,
    pub poll_id: i64,
    pub status: SummaryStatus,
    pub progress: f64,
    pub backend: String,
    pub model: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub needs_review: bool,
    pub comments_considered: u64,
    pub themes: Vec<SummaryTheme>,
    /// Visible comments that fit no theme. With the themes' `comment_ids`, each comment the
    /// summary considered is in exactly one of them.
    #[serde(default)]
    pub unassigned_comment_ids: Vec<i64>,
    pub overview: String,
    pub checks: SummaryChecks,
    /// Set once an editor approved it; only approved summaries are shown to readers.
    pub approved_at: Option<DateTime<Utc>>,
    /// What the result was made with (writer and embedding model settings) and from (a
    /// SHA-256 of the poll, its visible comments and votes, and those settings).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub parameters: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub input_hash: Option<String>,
    /// Why the job failed (`failed`), or why a model's draft was replaced (`needs_review`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
}

impl SummaryView {
    pub fn finished(&self) -> bool {
        self.status.finished()
    }
}

/// Where a summary job is: waiting for a worker, being made, finished, or given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SummaryStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl SummaryStatus {
    /// As stored (`summaries.status`) and as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            SummaryStatus::Queued => "queued",
            SummaryStatus::Running => "running",
            SummaryStatus::Done => "done",
            SummaryStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [SummaryStatus::Queued, SummaryStatus::Running, SummaryStatus::Done, SummaryStatus::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    pub fn finished(self) -> bool {
        matches!(self, SummaryStatus::Done | SummaryStatus::Failed)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SummaryTheme {
    /// The option id (key) whose readers the theme is about.
    pub option: Option<String>,
    pub title: String,
    pub comment_count: u64,
    pub share: f64,
    pub quotes: Vec<SummaryQuote>,
    /// Every member comment, not only the quoted ones.
    #[serde(default)]
    pub comment_ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SummaryQuote {
    pub comment_id: i64,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SummaryChecks {
    pub quotes_verbatim: bool,
    pub numbers_match: bool,
    pub citations_valid: bool,
    /// Titles and overview hold no markup. Summaries stored before this check read as passing
    /// it: approving one runs every check again.
    #[serde(default = "passed_before_the_check")]
    pub plain_text: bool,
    /// One sentence per failed check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// An editor's changes on approval: new titles (by theme position) and overview, checked again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SummaryEdits {
    #[serde(default)]
    pub overview: Option<String>,
    #[serde(default)]
    pub titles: Option<Vec<String>>,
    /// the contract's shape: `themes: [{"title": …}]`, in order.
    #[serde(default)]
    pub themes: Option<Vec<ThemeEdit>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ThemeEdit {
    pub title: Option<String>,
}

/// The approved summary as a block for the next issue: HTML that email clients render (a
/// table, inline styles, nothing that needs CSS support or scripts) and plain text.
/// `labels` are (option key, label); `page_url` links to the full results.
pub fn summary_email(summary: &SummaryView, labels: &[(String, String)], page_url: &str) -> (String, String) {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut html = String::from(
        "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"font-family:Georgia,serif;font-size:16px;line-height:1.5;color:#1a1a1a\">",
    );
    let mut text = String::from("What readers said\n\n");
    html.push_str(
        "<tr><td style=\"padding:0 0 8px\"><strong style=\"font-size:18px\">What readers said</strong></td></tr>",
    );
    html.push_str(&format!("<tr><td style=\"padding:0 0 12px\">{}</td></tr>", escape(&summary.overview)));
    text.push_str(&summary.overview);
    text.push_str("\n\n");
    for (key, label) in labels {
        let themes: Vec<&SummaryTheme> = summary.themes.iter().filter(|t| t.option.as_deref() == Some(key)).collect();
        if themes.is_empty() {
            continue;
        }
        html.push_str(&format!(
            "<tr><td style=\"padding:8px 0 4px\"><strong>Readers who chose “{}”</strong></td></tr>",
            escape(label)
        ));
        text.push_str(&format!("Readers who chose “{label}”\n"));
        for theme in themes {
            let count = if theme.comment_count == 1 {
                "1 comment".to_owned()
            } else {
                format!("{} comments", theme.comment_count)
            };
            html.push_str(&format!(
                "<tr><td style=\"padding:4px 0 0\"><em>{}</em> <span style=\"color:#555\">({count})</span></td></tr>",
                escape(&theme.title)
            ));
            text.push_str(&format!("- {} ({count})\n", theme.title));
            if let Some(quote) = theme.quotes.first() {
                html.push_str(&format!(
                    "<tr><td style=\"padding:2px 0 6px 12px;border-left:3px solid #999;color:#333\">“{}”</td></tr>",
                    escape(&quote.text)
                ));
                text.push_str(&format!("  “{}”\n", quote.text));
            }
        }
        text.push('\n');
    }
    html.push_str(&format!(
        "<tr><td style=\"padding:12px 0 0\"><a href=\"{}\" style=\"color:#0b57d0\">See the full results</a></td></tr></table>",
        escape(page_url)
    ));
    text.push_str(&format!("See the full results: {page_url}\n"));
    (html, text)
}

fn passed_before_the_check() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_block_escapes_readers_words_and_keeps_them() {
        let summary = SummaryView {
            id: 1,
            poll_id: 1,
            status: SummaryStatus::Done,
            progress: 1.0,
            backend: "extractive".into(),
            model: None,
            created_at: Utc::now(),
            finished_at: None,
            needs_review: false,
            comments_considered: 2,
            themes: vec![SummaryTheme {
                option: Some("yes".into()),
                title: "Power & grid".into(),
                comment_count: 2,
                share: 1.0,
                quotes: vec![SummaryQuote { comment_id: 3, text: "<b>Power</b> is the limit".into() }],
                comment_ids: vec![3, 4],
            }],
            unassigned_comment_ids: vec![],
            overview: "Readers blamed power.".into(),
            checks: SummaryChecks::default(),
            approved_at: None,
            parameters: None,
            input_hash: None,
            note: None,
        };
        let (html, text) = summary_email(&summary, &[("yes".into(), "Yes".into())], "https://p.example/polls/x");
        assert!(html.contains("Power &amp; grid") && html.contains("&lt;b&gt;Power&lt;/b&gt; is the limit"));
        assert!(!html.contains("<b>"));
        assert!(text.contains("“<b>Power</b> is the limit”") && text.contains("https://p.example/polls/x"));
    }
}
