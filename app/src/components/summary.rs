use crate::domain::{OptionView, Reason, SummaryView};
use leptos::prelude::*;

/// An approved summary of reader comments, under a closed poll's results: the overview, then
/// each answer's themes with their counts and readers' own words.
#[component]
pub fn ReaderSummary(summary: SummaryView, options: Vec<OptionView>) -> impl IntoView {
    let labels: Vec<(String, String)> = options.iter().map(|o| (o.id.as_str().to_owned(), o.label.clone())).collect();
    let sections: Vec<(String, Vec<Shown>)> = summary
        .sections(&labels)
        .into_iter()
        .map(|section| {
            let heading = match section.answer {
                Some(label) => format!("Readers who chose “{label}”"),
                None => "Reasons readers of several answers gave".to_owned(),
            };
            let reasons = section
                .reasons
                .iter()
                .map(|r| Shown {
                    title: r.title().to_owned(),
                    counts: reason_counts(r),
                    quotes: r.quotes(3).into_iter().map(|q| q.text.clone()).collect(),
                })
                .collect();
            (heading, reasons)
        })
        .collect();
    view! {
        <section class="reader-summary" aria-labelledby="reader-summary-heading">
            <h2 id="reader-summary-heading">"What readers said"</h2>
            <p class="overview">{summary.overview.clone()}</p>
            {sections.into_iter().map(|(heading, reasons)| view! {
                <h3>{heading}</h3>
                {reasons.into_iter().map(|Shown { title, counts, quotes }| view! {
                    <div class="theme">
                        <h4>{title}</h4>
                        <p class="muted">{counts}</p>
                        {quotes.into_iter().map(|q| view! { <blockquote>{q}</blockquote> }).collect_view()}
                    </div>
                }).collect_view()}
            }).collect_view()}
            <p class="muted small">"Quotes are readers’ own words; counts are of the "{summary.comments_considered}" comments readers left."</p>
        </section>
    }
}

/// One reason as readers see it.
struct Shown {
    title: String,
    counts: String,
    quotes: Vec<String>,
}

/// "12 comments", or a shared reason's count per answer: "“Yes”: 12 comments · “No”: 5 comments".
pub fn reason_counts(reason: &Reason) -> String {
    if !reason.shared() {
        return comments(reason.comment_count());
    }
    reason
        .parts
        .iter()
        .map(|(label, _, t)| format!("“{label}”: {}", comments(t.comment_count)))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// "1 comment", "1,204 comments".
pub fn comments(n: u64) -> String {
    if n == 1 {
        "1 comment".into()
    } else {
        format!("{} comments", super::thousands(n))
    }
}
