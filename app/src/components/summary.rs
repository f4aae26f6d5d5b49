use crate::domain::{OptionView, SummaryTheme, SummaryView};
use leptos::prelude::*;

/// An approved summary of reader comments, under a closed poll's results: the overview, then
/// each answer's themes with their counts and readers' own words.
#[component]
pub fn ReaderSummary(summary: SummaryView, options: Vec<OptionView>) -> impl IntoView {
    let groups: Vec<(String, Vec<SummaryTheme>)> = options
        .iter()
        .map(|o| {
            let themes: Vec<SummaryTheme> =
                summary.themes.iter().filter(|t| t.option.as_deref() == Some(o.id.as_str())).cloned().collect();
            (o.label.clone(), themes)
        })
        .filter(|(_, themes)| !themes.is_empty())
        .collect();
    view! {
        <section class="reader-summary" aria-labelledby="reader-summary-heading">
            <h2 id="reader-summary-heading">"What readers said"</h2>
            <p class="overview">{summary.overview.clone()}</p>
            {groups.into_iter().map(|(label, themes)| view! {
                <h3>"Readers who chose “"{label}"”"</h3>
                {themes.into_iter().map(|theme| view! {
                    <div class="theme">
                        <h4>{theme.title.clone()}</h4>
                        <p class="muted">{comments(theme.comment_count)}</p>
                        {theme.quotes.into_iter().map(|q| view! {
                            <blockquote>{q.text}</blockquote>
                        }).collect_view()}
                    </div>
                }).collect_view()}
            }).collect_view()}
            <p class="muted small">"Quotes are readers’ own words; counts are of the "{summary.comments_considered}" comments readers left."</p>
        </section>
    }
}

/// "1 comment", "1,204 comments".
pub fn comments(n: u64) -> String {
    if n == 1 {
        "1 comment".into()
    } else {
        format!("{} comments", super::thousands(n))
    }
}
