use super::{time_left, LiveResults, Time};
use crate::api::CastVote;
use crate::domain::{Counted, OptionKey, PollStatus, PollView, ResultsView, VoteReceipt};
use crate::services::{BallotRetry, PollLink, PollPage};
use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// A poll as a reader meets it: the question, then either the ballot or what they voted
/// and the results. The ballot is a plain HTML form that works without JavaScript; the
/// `Voting` island makes it vote in place through the `cast_vote` server function.
/// `commented`: the reader's vote with a comment just went in (the no-JS form says so).
#[component]
pub fn PollCard(page: PollPage, #[prop(optional)] featured: bool, #[prop(optional)] commented: bool) -> impl IntoView {
    let heading_id = format!("q-{}", page.poll.slug);
    let labelled_by = heading_id.clone();
    let question = page.poll.question.clone();
    let status = status_line(&page.poll, Utc::now());
    let share = share_html(&format!("{}/polls/{}", page.origin, page.poll.slug), page.next_poll.as_ref());
    // The island's props travel in the page as JSON, and the browser build carries code for
    // every type in them: only what voting needs.
    let PollPage { poll, my_vote, results, retry, .. } = page;
    let after = AfterVote { commented, share };
    view! {
        <article class="poll-card" aria-labelledby=labelled_by>
            {featured.then(|| view! { <p class="eyebrow">"This week's poll"</p> })}
            <h1 id=heading_id.clone() class="question">{question}</h1>
            <p class="poll-meta">{status}</p>
            <Voting poll my_vote results heading_id after retry/>
        </article>
    }
}

/// What a reader is offered once their vote is in: thanks for their comment, and `share`
/// (`share_html`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AfterVote {
    commented: bool,
    share: String,
}

/// The interactive part of a poll card: the ballot (or the reader's vote) and the live
/// results, replaced by the receipt once a vote is in.
#[island]
fn Voting(
    poll: PollView,
    my_vote: Option<Vec<OptionKey>>,
    results: Option<ResultsView>,
    heading_id: String,
    after: AfterVote,
    retry: Option<BallotRetry>,
) -> impl IntoView {
    let vote = ServerAction::<CastVote>::new();
    // Whether the ballot last sent carried a comment (the action forgets its input once done).
    let sent_comment = RwSignal::new(false);
    let after_vote = move || vote.value().get().and_then(Result::ok);
    move || match after_vote() {
        Some(receipt) => {
            // The comment is acknowledged only where it was stored, with a counted vote.
            let commented = (receipt.recorded || receipt.changed) && sent_comment.get_untracked();
            let after = AfterVote { commented, ..after.clone() };
            view! { <Receipt poll=poll.clone() receipt after/> }.into_any()
        }
        None => {
            let (poll, my_vote, results, retry) = (poll.clone(), my_vote.clone(), results.clone(), retry.clone());
            let heading_id = heading_id.clone();
            view! { <Body poll my_vote results vote sent_comment heading_id after=after.clone() retry/> }.into_any()
        }
    }
}

/// "Open until 3 Dec 2026, 09:00 UTC · closes in 6 days": the time in UTC, rewritten in the
/// reader's zone once the page is interactive (`Time`); the countdown as of this render.
fn status_line(poll: &PollView, now: DateTime<Utc>) -> impl IntoView {
    let (what, at) = match poll.status {
        PollStatus::Scheduled => ("Opens ", poll.opens_at),
        PollStatus::Open => ("Open until ", poll.closes_at),
        PollStatus::Closed => ("Closed ", poll.closes_at),
    };
    let left = match poll.status {
        PollStatus::Scheduled => Some(format!(" · in {}", time_left(now, poll.opens_at))),
        PollStatus::Open if poll.closes_at > now => Some(format!(" · closes in {}", time_left(now, poll.closes_at))),
        _ => None,
    };
    view! { {what}<Time at/>{left} }
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
    sent_comment: RwSignal<bool>,
    heading_id: String,
    after: AfterVote,
    retry: Option<BallotRetry>,
) -> impl IntoView {
    let counted = Counted::of(poll.max_choices);
    if let Some(mine) = my_vote {
        let may_change = poll.allow_vote_change && poll.status == PollStatus::Open;
        // A refused change of vote opens the form again, as the reader left it.
        let reopened = retry.is_some();
        let (thanks, note) = if after.commented {
            ("notice success", format!("Thanks! Your vote for {} is in.", labels_of(&poll, &mine)))
        } else {
            ("notice", format!("You voted: {}.", labels_of(&poll, &mine)))
        };
        let change = may_change.then(|| {
            let (poll, mine) = (poll.clone(), mine.clone());
            view! {
                <details class="change-vote" open=reopened>
                    <summary>"Change your vote"</summary>
                    <Ballot poll vote sent_comment heading_id checked=mine retry/>
                </details>
            }
        });
        return view! {
            <p class=thanks role="status">{note}</p>
            <Shared after/>
            {change}
            <ResultsOrReason poll results mine counted/>
        }
        .into_any();
    }
    match poll.status {
        PollStatus::Open => view! {
            <Ballot poll=poll.clone() vote sent_comment heading_id retry/>
            {results.map(|r| view! { <LiveResults results=r counted/> })}
        }
        .into_any(),
        PollStatus::Closed => view! {
            {retry.map(|r| view! { <p class="error" role="alert">{r.reason}</p> })}
            <p class="notice">"This poll is closed and no longer takes votes."</p>
            <ResultsOrReason poll results mine=Vec::new() counted/>
        }
        .into_any(),
        PollStatus::Scheduled => view! {
            <p class="notice">"This poll has not opened yet. Come back when it does."</p>
        }
        .into_any(),
    }
}

#[component]
fn Receipt(poll: PollView, receipt: VoteReceipt, after: AfterVote) -> impl IntoView {
    let counted = Counted::of(poll.max_choices);
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
        <Shared after/>
        <ResultsOrReason poll results=receipt.results mine=receipt.vote.choices counted/>
    }
}

/// After a vote: the comment acknowledged, the poll's link to pass on, the next open poll.
/// Markup the server wrote, with one click handler for the Copy button: the readers' bundle
/// pays for every view and reactive part (6 KB as a view, against a 150 KB budget).
#[component]
fn Shared(after: AfterVote) -> impl IntoView {
    const THANKS: &str = "<p>Thanks for saying why: the editors read every comment before the next issue.</p>";
    let html = if after.commented { format!("{THANKS}{}", after.share) } else { after.share };
    let copy = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(button) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) else { return };
            if let Some(link) = button.get_attribute("data-copy") {
                button.set_text_content(Some(if super::copy_text(&link) { "Copied" } else { "Select and copy" }));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! { <div class="after-vote" inner_html=html on:click=copy></div> }
}

/// The poll's link with a Copy button (shown once the page is interactive: `body[data-hydrated]`
/// in the style sheet), and the next open poll.
fn share_html(url: &str, next_poll: Option<&PollLink>) -> String {
    let url = crate::html::escape(url);
    let mut html = format!(
        "<div class=\"share-link\"><label for=\"share-url\">Share this poll</label><div class=\"copy-row\">\
         <input id=\"share-url\" type=\"text\" readonly value=\"{url}\">\
         <button type=\"button\" class=\"secondary copy-link\" data-copy=\"{url}\">Copy link</button></div></div>"
    );
    if let Some(next) = next_poll {
        let question = crate::html::escape(&next.question);
        html.push_str(&format!(
            "<p class=\"next-poll\">Next poll: <a href=\"/polls/{}\">{question}</a></p>",
            next.slug
        ));
    }
    html
}

#[component]
fn ResultsOrReason(
    poll: PollView,
    results: Option<ResultsView>,
    mine: Vec<OptionKey>,
    counted: Counted,
) -> impl IntoView {
    match results {
        Some(results) => view! { <LiveResults results mine counted/> }.into_any(),
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
    sent_comment: RwSignal<bool>,
    heading_id: String,
    /// The reader's current choices, when they are changing their vote.
    #[prop(optional)]
    checked: Vec<OptionKey>,
    /// A refused no-JS ballot: its reason, and the choices and comment to show again.
    retry: Option<BallotRetry>,
) -> impl IntoView {
    let changing = !checked.is_empty();
    let slug = poll.slug.to_string();
    let single = poll.max_choices == 1;
    let max = poll.max_choices;
    let hint = if single { "Choose one.".to_owned() } else { format!("Choose up to {max}.") };
    let hint_id = format!("{heading_id}-hint");
    let described_by = hint_id.clone();
    let input_type = if single { "radio" } else { "checkbox" };
    let is_checked = |id: &OptionKey| match &retry {
        Some(retry) => retry.choices.iter().any(|c| c == id.as_str()),
        None => checked.contains(id),
    };
    // Checkboxes each keep their own tab stop (a radio group is one, natively).
    let options = poll
        .options
        .iter()
        .map(|o| {
            let id = format!("{}-{}", poll.slug, o.id);
            view! {
                <div class="choice">
                    <input type=input_type id=id.clone() name="choice" value=o.id.to_string() required=single
                        checked=is_checked(&o.id)/>
                    <label for=id>{o.label.clone()}</label>
                </div>
            }
        })
        .collect_view();
    // With JavaScript, a tick past the limit is undone as it is made, and the reader told why.
    let over_limit = RwSignal::new(false);
    let on_change = move |ev: leptos::ev::Event| {
        if single {
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
                return;
            };
            let picked = input
                .form()
                .and_then(|form| web_sys::FormData::new_with_form(&form).ok())
                .map_or(0, |data| data.get_all("choice").length());
            if input.checked() && picked > max {
                input.set_checked(false);
                over_limit.set(true);
            } else {
                over_limit.set(false);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let comment_id = format!("{}-comment", poll.slug);
    let kept_comment = retry.as_ref().map(|r| r.comment.clone()).unwrap_or_default();
    let comment = poll.allow_comment.then(|| {
        view! {
            <div class="comment">
                <label for=comment_id.clone()>"Why? " <span class="muted">"(optional)"</span></label>
                <textarea id=comment_id name="comment" rows="3" maxlength=crate::domain::COMMENT_MAX_CHARS>{crate::html::field_text(&kept_comment)}</textarea>
            </div>
        }
    });
    let pending = vote.pending();
    let refused = retry.map(|r| r.reason);
    let error = move || match vote.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        Some(Ok(_)) => None,
        None => refused.clone(),
    };
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
        sent_comment.set(comment.is_some());
        vote.dispatch(CastVote { slug: submit_slug.clone(), choices, comment });
    };
    view! {
        <form class="ballot" method="post" action=format!("/polls/{slug}/vote") on:submit=on_submit>
            <fieldset aria-labelledby=heading_id aria-describedby=described_by on:change=on_change>
                <p id=hint_id class="hint">{hint}</p>
                {options}
                {(!single).then(|| view! {
                    <p class="limit" role="status">
                        {move || over_limit.get().then(|| format!("You can pick up to {max}. Untick one to choose another."))}
                    </p>
                })}
            </fieldset>
            {comment}
            <button type="submit" class="primary" disabled=move || pending.get()>
                {move || match (pending.get(), changing) {
                    (true, _) => "Voting…",
                    (false, true) => "Change vote",
                    (false, false) => "Vote",
                }}
            </button>
            <p class="error" role="alert">{error}</p>
        </form>
    }
}
