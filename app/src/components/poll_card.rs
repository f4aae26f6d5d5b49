use super::{format_time, LiveResults};
use crate::api::CastVote;
use crate::domain::{AppError, OptionKey, PollStatus, PollView, ResultsView, VoteReceipt};
use crate::services::PollPage;
use leptos::prelude::*;

/// A poll as a reader meets it: the question, then either the ballot or what they voted
/// and the results. The ballot is a plain HTML form that works without JavaScript; the
/// `Voting` island makes it vote in place through the `cast_vote` server function.
#[component]
pub fn PollCard(page: PollPage, #[prop(optional)] featured: bool) -> impl IntoView {
    let heading_id = format!("q-{}", page.poll.slug);
    let labelled_by = heading_id.clone();
    let (question, status) = (page.poll.question.clone(), status_line(&page.poll));
    // The island's props travel in the page as JSON, and the browser build carries code for
    // every type in them: only what voting needs.
    let PollPage { poll, my_vote, results, .. } = page;
    view! {
        <article class="poll-card" aria-labelledby=labelled_by>
            {featured.then(|| view! { <p class="eyebrow">"This week's poll"</p> })}
            <h1 id=heading_id.clone() class="question">{question}</h1>
            <p class="poll-meta">{status}</p>
            <Voting poll my_vote results heading_id/>
        </article>
    }
}

/// The interactive part of a poll card: the ballot (or the reader's vote) and the live
/// results, replaced by the receipt once a vote is in.
#[island]
fn Voting(
    poll: PollView,
    my_vote: Option<Vec<OptionKey>>,
    results: Option<ResultsView>,
    heading_id: String,
) -> impl IntoView {
    let vote = ServerAction::<CastVote>::new();
    let after_vote = move || vote.value().get().and_then(Result::ok);
    move || match after_vote() {
        Some(receipt) => view! { <Receipt poll=poll.clone() receipt/> }.into_any(),
        None => {
            let (poll, my_vote, results) = (poll.clone(), my_vote.clone(), results.clone());
            view! { <Body poll my_vote results vote heading_id=heading_id.clone()/> }.into_any()
        }
    }
}

fn status_line(poll: &PollView) -> String {
    match poll.status {
        PollStatus::Scheduled => format!("Opens {}", format_time(poll.opens_at)),
        PollStatus::Open => format!("Open until {}", format_time(poll.closes_at)),
        PollStatus::Closed => format!("Closed {}", format_time(poll.closes_at)),
    }
}

fn labels_of(poll: &PollView, keys: &[OptionKey]) -> String {
    let labels: Vec<&str> = poll.options.iter().filter(|o| keys.contains(&o.id)).map(|o| o.label.as_str()).collect();
    labels.join(", ")
}

/// The page as the server rendered it: ballot, or the reader's earlier vote.
#[component]
fn Body(
    poll: PollView,
    my_vote: Option<Vec<OptionKey>>,
    results: Option<ResultsView>,
    vote: ServerAction<CastVote>,
    heading_id: String,
) -> impl IntoView {
    if let Some(mine) = my_vote {
        let note = format!("You voted: {}.", labels_of(&poll, &mine));
        let may_change = poll.allow_vote_change && poll.status == PollStatus::Open;
        let change = may_change.then(|| {
            let (poll, mine) = (poll.clone(), mine.clone());
            view! {
                <details class="change-vote">
                    <summary>"Change your vote"</summary>
                    <Ballot poll vote heading_id checked=mine/>
                </details>
            }
        });
        return view! {
            <p class="notice" role="status">{note}</p>
            {change}
            <ResultsOrReason poll results mine/>
        }
        .into_any();
    }
    match poll.status {
        PollStatus::Open => view! {
            <Ballot poll=poll.clone() vote heading_id/>
            {results.map(|r| view! { <LiveResults results=r/> })}
        }
        .into_any(),
        PollStatus::Closed => view! {
            <p class="notice">"This poll is closed and no longer takes votes."</p>
            <ResultsOrReason poll results mine=Vec::new()/>
        }
        .into_any(),
        PollStatus::Scheduled => view! {
            <p class="notice">"This poll has not opened yet. Come back when it does."</p>
        }
        .into_any(),
    }
}

#[component]
fn Receipt(poll: PollView, receipt: VoteReceipt) -> impl IntoView {
    let choices = labels_of(&poll, &receipt.vote.choices);
    let note = if receipt.changed {
        format!("Changed: your vote is now {choices}.")
    } else if receipt.recorded {
        format!("Thanks! Your vote for {choices} is in.")
    } else {
        format!("You had already voted: {choices}. Your vote counts once.")
    };
    let confirmation = NodeRef::<leptos::html::P>::new();
    // Move focus to the confirmation so keyboard and screen-reader users hear it.
    Effect::new(move |_| {
        if let Some(p) = confirmation.get() {
            let _ = p.focus();
        }
    });
    view! {
        <p class="notice success" role="status" tabindex="-1" node_ref=confirmation>{note}</p>
        <ResultsOrReason poll results=receipt.results mine=receipt.vote.choices/>
    }
}

#[component]
fn ResultsOrReason(poll: PollView, results: Option<ResultsView>, mine: Vec<OptionKey>) -> impl IntoView {
    match results {
        Some(results) => view! { <LiveResults results mine/> }.into_any(),
        None => {
            let reason = poll.results_visibility.hidden_reason(poll.status);
            view! { <p class="notice muted">{reason}</p> }.into_any()
        }
    }
}

#[component]
fn Ballot(
    poll: PollView,
    vote: ServerAction<CastVote>,
    heading_id: String,
    /// The reader's current choices, when they are changing their vote.
    #[prop(optional)]
    checked: Vec<OptionKey>,
) -> impl IntoView {
    let changing = !checked.is_empty();
    let slug = poll.slug.to_string();
    let single = poll.max_choices == 1;
    let hint = if single { "Choose one.".to_owned() } else { format!("Choose up to {}.", poll.max_choices) };
    let hint_id = format!("{heading_id}-hint");
    let described_by = hint_id.clone();
    let input_type = if single { "radio" } else { "checkbox" };
    let ids: Vec<String> = poll.options.iter().map(|o| format!("{}-{}", poll.slug, o.id)).collect();
    // Checkboxes: one tab stop for the group, arrows move within it (radios do this natively).
    // Starts as None, so without JavaScript every checkbox keeps its own tab stop.
    let roving = RwSignal::new(None::<usize>);
    if !single {
        Effect::new(move |_| {
            if roving.get_untracked().is_none() {
                roving.set(Some(0));
            }
        });
    }
    let options = poll
        .options
        .iter()
        .zip(ids.clone())
        .enumerate()
        .map(|(i, (o, id))| {
            let tabindex = move || match roving.get() {
                Some(active) if active != i => "-1",
                _ => "0",
            };
            view! {
                <div class="choice">
                    <input type=input_type id=id.clone() name="choice" value=o.id.to_string() required=single
                        checked=checked.contains(&o.id)
                        tabindex=tabindex on:focus=move |_| if !single { roving.set(Some(i)) }/>
                    <label for=id>{o.label.clone()}</label>
                </div>
            }
        })
        .collect_view();
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let Some(active) = roving.get_untracked() else { return };
        let step = match ev.key().as_str() {
            "ArrowDown" | "ArrowRight" => 1,
            "ArrowUp" | "ArrowLeft" => ids.len() - 1,
            _ => return,
        };
        ev.prevent_default();
        let next = (active + step) % ids.len();
        roving.set(Some(next));
        if let Some(element) = leptos::prelude::document().get_element_by_id(&ids[next]) {
            use wasm_bindgen::JsCast;
            let _ = element.unchecked_into::<web_sys::HtmlElement>().focus();
        }
    };
    let comment_id = format!("{}-comment", poll.slug);
    let comment = poll.allow_comment.then(|| {
        view! {
            <div class="comment">
                <label for=comment_id.clone()>"Why? " <span class="muted">"(optional)"</span></label>
                <textarea id=comment_id name="comment" rows="3" maxlength=crate::domain::COMMENT_MAX_CHARS></textarea>
            </div>
        }
    });
    let pending = vote.pending();
    let error = move || vote.value().get().and_then(Result::err);
    let submit_slug = slug.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        use wasm_bindgen::JsCast;
        let Some(form) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else {
            return; // let the browser post the form itself
        };
        let Ok(data) = web_sys::FormData::new_with_form(&form) else { return };
        ev.prevent_default();
        let choices = data.get_all("choice").iter().filter_map(|v| v.as_string()).collect();
        let comment = data.get("comment").as_string().filter(|c| !c.trim().is_empty());
        vote.dispatch(CastVote { slug: submit_slug.clone(), choices, comment });
    };
    view! {
        <form class="ballot" method="post" action=format!("/polls/{slug}/vote") on:submit=on_submit>
            <fieldset aria-labelledby=heading_id aria-describedby=described_by on:keydown=on_keydown>
                <p id=hint_id class="hint">{hint}</p>
                {options}
            </fieldset>
            {comment}
            <button type="submit" class="primary" disabled=move || pending.get()>
                {move || match (pending.get(), changing) {
                    (true, _) => "Voting…",
                    (false, true) => "Change vote",
                    (false, false) => "Vote",
                }}
            </button>
            <p class="error" role="alert">{move || error().map(|e: AppError| e.to_string())}</p>
        </form>
    }
}
