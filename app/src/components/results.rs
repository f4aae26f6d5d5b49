use crate::domain::{Counted, OptionKey, PollStatus, ResultsView};
use leptos::prelude::*;

/// Result bars with counts, percents and the total. Bars are decoration; the figures are text.
#[component]
pub fn ResultsBars(
    results: ResultsView,
    /// Votes, or (multiple choice) readers: what the figures are of.
    counted: Counted,
    #[prop(optional)] mine: Vec<OptionKey>,
) -> impl IntoView {
    let title = if results.status == PollStatus::Closed { "Final results" } else { "Results so far" };
    let total = results.total_votes;
    let leaders: Vec<OptionKey> = results.leaders().iter().map(|o| o.id.clone()).collect();
    let closed = results.status == PollStatus::Closed;
    let rows = results
        .options
        .into_iter()
        .map(|o| {
            let is_mine = mine.contains(&o.id);
            let leads = closed && leaders.contains(&o.id);
            let votes = counted.count(o.votes);
            view! {
                <li class="bar" class:mine=is_mine class:leader=leads>
                    <div class="bar-text">
                        <span class="bar-label">
                            {o.label}
                            {is_mine.then(|| view! { <span class="tag">"your vote"</span> })}
                        </span>
                        <span class="bar-figures">{format!("{:.1}%", o.percent)}" · "{votes}</span>
                    </div>
                    <div class="bar-track" aria-hidden="true">
                        <div class="bar-fill" style=format!("width: {:.1}%", o.percent.min(100.0))></div>
                    </div>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="results" aria-label=title>
            <h3 class="results-title">{title}</h3>
            <ol class="bars">{rows}</ol>
            <p class="total">{counted.total(total)}</p>
        </section>
    }
}

/// "The winner is … No!" — or the tie, or nothing yet.
pub fn winner_sentence(results: &ResultsView) -> String {
    let leaders = results.leaders();
    match leaders.as_slice() {
        [] => "No votes were cast.".to_owned(),
        [one] => format!("The winner is … {}!", one.label),
        many => {
            let labels: Vec<&str> = many.iter().map(|o| o.label.as_str()).collect();
            format!("A tie between {}.", labels.join(" and "))
        }
    }
}
