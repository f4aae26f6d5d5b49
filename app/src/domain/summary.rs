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
    /// Themes of different answers with the same number are one reason that readers of each
    /// gave: shown once, as shared, with its count per answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<usize>,
}

/// A summary's themes as readers and editors see them: each answer's own reasons under it, then
/// the reasons readers of several answers gave, each once. Every page and block that shows a
/// summary draws it from [`SummaryView::sections`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReasonSection<'a> {
    /// The answer's label; `None`: reasons readers of several answers gave.
    pub answer: Option<String>,
    pub reasons: Vec<Reason<'a>>,
}

/// One reason: a theme, or a shared reason's theme in each answer (largest first).
#[derive(Debug, Clone, PartialEq)]
pub struct Reason<'a> {
    /// Each answer's part: its label, the theme's position in `SummaryView::themes`, the theme.
    pub parts: Vec<(String, usize, &'a SummaryTheme)>,
}

impl Reason<'_> {
    pub fn shared(&self) -> bool {
        self.parts.len() > 1
    }

    /// The largest part's title.
    pub fn title(&self) -> &str {
        self.parts.first().map_or("", |(_, _, t)| t.title.as_str())
    }

    pub fn comment_count(&self) -> u64 {
        self.parts.iter().map(|(_, _, t)| t.comment_count).sum()
    }

    /// Positions of its themes in `SummaryView::themes`.
    pub fn themes(&self) -> Vec<usize> {
        self.parts.iter().map(|(_, i, _)| *i).collect()
    }

    /// Its quotes, the parts' in turn (each answer's readers heard), at most `limit`.
    pub fn quotes(&self, limit: usize) -> Vec<&SummaryQuote> {
        let most = self.parts.iter().map(|(_, _, t)| t.quotes.len()).max().unwrap_or(0);
        (0..most).flat_map(|q| self.parts.iter().filter_map(move |(_, _, t)| t.quotes.get(q))).take(limit).collect()
    }
}

impl SummaryView {
    /// The themes by answer (`labels`: option key and label, in the poll's order), each
    /// shared reason once at the end. Themes of an answer not in `labels` come under
    /// "All answers".
    pub fn sections(&self, labels: &[(String, String)]) -> Vec<ReasonSection<'_>> {
        const ALL: &str = "All answers";
        let known = |theme: &SummaryTheme| labels.iter().find(|(k, _)| theme.option.as_deref() == Some(k.as_str()));
        let label_of = |theme: &SummaryTheme| known(theme).map_or(ALL, |(_, l)| l.as_str()).to_owned();
        // A shared number held by themes of at least two answers.
        let shared = |theme: &SummaryTheme| {
            theme.shared.filter(|n| {
                let mut answers: Vec<&Option<String>> =
                    self.themes.iter().filter(|t| t.shared == Some(*n)).map(|t| &t.option).collect();
                answers.sort();
                answers.dedup();
                answers.len() > 1
            })
        };
        let mut sections: Vec<ReasonSection> = Vec::new();
        // Each answer's own reasons, in the poll's order; then those of answers not in `labels`.
        let answers = labels.iter().map(|(k, l)| (Some(k.as_str()), l.as_str())).chain([(None, ALL)]);
        for (key, label) in answers {
            let reasons: Vec<Reason> = self
                .themes
                .iter()
                .enumerate()
                .filter(|(_, t)| shared(t).is_none())
                .filter(|(_, t)| match key {
                    Some(key) => t.option.as_deref() == Some(key),
                    None => known(t).is_none(),
                })
                .map(|(i, t)| Reason { parts: vec![(label.to_owned(), i, t)] })
                .collect();
            if !reasons.is_empty() {
                sections.push(ReasonSection { answer: Some(label.to_owned()), reasons });
            }
        }
        let mut numbers: Vec<usize> = self.themes.iter().filter_map(shared).collect();
        numbers.sort_unstable();
        numbers.dedup();
        let mut reasons: Vec<Reason> = numbers
            .into_iter()
            .map(|n| {
                let mut parts: Vec<(String, usize, &SummaryTheme)> = self
                    .themes
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.shared == Some(n))
                    .map(|(i, t)| (label_of(t), i, t))
                    .collect();
                parts.sort_by(|a, b| b.2.comment_count.cmp(&a.2.comment_count).then(a.1.cmp(&b.1)));
                Reason { parts }
            })
            .collect();
        reasons.sort_by_key(|r| std::cmp::Reverse(r.comment_count()));
        if !reasons.is_empty() {
            sections.push(ReasonSection { answer: None, reasons });
        }
        sections
    }
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
    let count = |n: u64| if n == 1 { "1 comment".to_owned() } else { format!("{n} comments") };
    for section in summary.sections(labels) {
        let heading = match &section.answer {
            Some(label) => format!("Readers who chose “{label}”"),
            None => "Readers of several answers".to_owned(),
        };
        html.push_str(&format!("<tr><td style=\"padding:8px 0 4px\"><strong>{}</strong></td></tr>", escape(&heading)));
        text.push_str(&heading);
        text.push('\n');
        for reason in &section.reasons {
            // A shared reason's count per answer: "“Yes”: 12 comments, “No”: 5 comments".
            let counts = match reason.shared() {
                false => count(reason.comment_count()),
                true => reason
                    .parts
                    .iter()
                    .map(|(label, _, t)| format!("“{label}”: {}", count(t.comment_count)))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            html.push_str(&format!(
                "<tr><td style=\"padding:4px 0 0\"><em>{}</em> <span style=\"color:#555\">({})</span></td></tr>",
                escape(reason.title()),
                escape(&counts)
            ));
            text.push_str(&format!("- {} ({counts})\n", reason.title()));
            for quote in reason.quotes(1) {
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

    fn sample(themes: Vec<SummaryTheme>) -> SummaryView {
        SummaryView {
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
            themes,
            unassigned_comment_ids: vec![],
            overview: "Readers blamed power.".into(),
            checks: SummaryChecks::default(),
            approved_at: None,
            parameters: None,
            input_hash: None,
            note: None,
        }
    }

    fn theme(option: &str, title: &str, count: u64, shared: Option<usize>) -> SummaryTheme {
        SummaryTheme {
            option: Some(option.into()),
            title: title.into(),
            comment_count: count,
            share: 0.1,
            quotes: vec![SummaryQuote { comment_id: count as i64, text: format!("{title}, said a reader") }],
            comment_ids: (0..count as i64).collect(),
            shared,
        }
    }

    #[test]
    fn a_shared_reason_is_shown_once_with_its_count_per_answer() {
        let labels = [("yes".to_owned(), "Yes".to_owned()), ("no".to_owned(), "No".to_owned())];
        let mut summary = sample(vec![
            theme("yes", "Chips get cheaper", 9, None),
            theme("yes", "The grid is the limit", 4, Some(0)),
            theme("no", "Rates choke funding", 7, None),
            theme("no", "Grids cannot keep up", 6, Some(0)),
            // A number only one answer holds is no shared reason.
            theme("no", "Lonely", 3, Some(1)),
        ]);
        let sections = summary.sections(&labels);
        let answers: Vec<Option<&str>> = sections.iter().map(|s| s.answer.as_deref()).collect();
        assert_eq!(answers, vec![Some("Yes"), Some("No"), None]);
        assert_eq!(sections[0].reasons.iter().map(|r| r.title()).collect::<Vec<_>>(), vec!["Chips get cheaper"]);
        assert_eq!(
            sections[1].reasons.iter().map(|r| r.title()).collect::<Vec<_>>(),
            vec!["Rates choke funding", "Lonely"]
        );
        let shared = &sections[2].reasons;
        assert_eq!(shared.len(), 1);
        // The largest part's title; both answers' counts and quotes.
        assert_eq!(shared[0].title(), "Grids cannot keep up");
        assert_eq!(shared[0].themes(), vec![3, 1]);
        assert_eq!(shared[0].comment_count(), 10);
        assert_eq!(shared[0].quotes(6).len(), 2);
        let (_, text) = summary_email(&summary, &labels, "https://p.example/polls/x");
        assert_eq!(text.matches("- Grids cannot keep up").count(), 1, "{text}");
        assert!(!text.contains("The grid is the limit"), "{text}");
        assert!(
            text.contains("Readers of several answers\n- Grids cannot keep up (“No”: 6 comments, “Yes”: 4 comments)"),
            "{text}"
        );
        // Without shared numbers every theme is under its answer.
        summary.themes.iter_mut().for_each(|t| t.shared = None);
        assert_eq!(summary.sections(&labels).len(), 2);
    }

    #[test]
    fn the_email_block_escapes_readers_words_and_keeps_them() {
        let summary = sample(vec![SummaryTheme {
            option: Some("yes".into()),
            title: "Power & grid".into(),
            comment_count: 2,
            share: 1.0,
            quotes: vec![SummaryQuote { comment_id: 3, text: "<b>Power</b> is the limit".into() }],
            comment_ids: vec![3, 4],
            shared: None,
        }]);
        let (html, text) = summary_email(&summary, &[("yes".into(), "Yes".into())], "https://p.example/polls/x");
        assert!(html.contains("Power &amp; grid") && html.contains("&lt;b&gt;Power&lt;/b&gt; is the limit"));
        assert!(!html.contains("<b>"));
        assert!(text.contains("“<b>Power</b> is the limit”") && text.contains("https://p.example/polls/x"));
    }
}
