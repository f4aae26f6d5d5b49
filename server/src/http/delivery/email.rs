//! One-click votes from the newsletter (`/polls/{slug}/email-vote`). The GET is a landing
//! page with the option chosen and one Confirm button: it records nothing, since mail
//! scanners and link previews open every link. The POST records the vote with source
//! `email`, once per subscriber and once per browser. Subscriber ids are not secret, so a
//! stranger can confirm in a subscriber's name; the subscriber's own click from another
//! browser then takes that vote over (`store::votes::insert_vote`), so it cannot be squatted.

use super::super::errors::{escape, page, ApiError, PageError};
use super::super::extract::{form_pairs, FormBody, SlugPath};
use super::super::AppState;
use super::results_html;
use app::domain::{check_subscriber, AppError, Counted, Poll, PollStatus, SubscriberProblem, VoteSource};
use app::services::{Reader, ReaderService};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use std::sync::Arc;

/// A link's parameters once checked: the poll, the option's key and label, the subscriber.
struct Checked {
    poll: Arc<Poll>,
    option: String,
    label: String,
    sub: String,
    sig: String,
}

/// Poll, signature, option, then subscriber: each failure with its own page and status.
async fn check(state: &AppState, slug: &str, params: &[(String, String)]) -> Result<Checked, Response> {
    let param = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let back = || format!("/polls/{slug}");
    let poll = state.polls.find(slug).await.map_err(|error| PageError { error, back: "/".into() }.into_response())?;
    let option = param("option").unwrap_or_default();
    let sig = param("sig").unwrap_or_default();
    if !state.email_links.verify(poll.slug.as_str(), option, sig) {
        let error = AppError::Forbidden(
            "This voting link is not valid: it was changed or is incomplete. Open the poll page to vote there.".into(),
        );
        return Err(PageError { error, back: back() }.into_response());
    }
    let Some(label) = poll.option(option).map(|o| o.label.clone()) else {
        let error =
            AppError::InvalidChoices("This answer is no longer part of the poll. Open the poll page to vote.".into());
        return Err((StatusCode::NOT_FOUND, PageError { error, back: back() }).into_response());
    };
    let sub = check_subscriber(param("sub")).map_err(|problem| {
        let why = match problem {
            SubscriberProblem::Missing | SubscriberProblem::NotMerged => {
                "This voting link was not personalised by the newsletter (it may come from a forwarded or web copy of the issue)."
            }
            SubscriberProblem::Odd => "This voting link carries a subscriber id we cannot read.",
        };
        let error = AppError::MalformedRequest(format!("{why} You can still vote on the poll page."));
        PageError { error, back: back() }.into_response()
    })?;
    Ok(Checked { option: option.to_owned(), label, sub: sub.to_owned(), sig: sig.to_owned(), poll })
}

/// Pages here carry the subscriber id in their address: never cached, never sent on.
fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

pub async fn landing(
    State(state): State<AppState>,
    Extension(reader): Extension<Reader>,
    path: Result<SlugPath, ApiError>,
    uri: axum::http::Uri,
) -> Response {
    let Ok(SlugPath(slug)) = path else {
        return PageError { error: AppError::PollNotFound, back: "/".into() }.into_response();
    };
    let params = match form_pairs(uri.query().unwrap_or_default().as_bytes()) {
        Ok(params) => params,
        Err(error) => return PageError { error, back: format!("/polls/{slug}") }.into_response(),
    };
    let checked = match check(&state, &slug, &params).await {
        Ok(checked) => checked,
        Err(response) => return private(response),
    };
    let slug = checked.poll.slug.as_str();
    let status = checked.poll.status_at(state.polls.now());
    let body = match status {
        PollStatus::Open => format!(
            "<section class=\"poll-card\"><p class=\"eyebrow\">Confirm your vote</p><h1 class=\"question\">{question}</h1>\
             <form class=\"ballot\" method=\"post\" action=\"/polls/{slug}/email-vote\">\
             <p class=\"notice\">Your answer: <strong>{label}</strong></p>\
             <input type=\"hidden\" name=\"option\" value=\"{option}\"><input type=\"hidden\" name=\"sub\" value=\"{sub}\">\
             <input type=\"hidden\" name=\"sig\" value=\"{sig}\">\
             <button type=\"submit\" class=\"primary\">Confirm my vote</button></form>\
             <p><a href=\"/polls/{slug}\">Choose a different answer on the poll page</a></p></section>",
            question = escape(&checked.poll.question),
            label = escape(&checked.label),
            option = escape(&checked.option),
            sub = escape(&checked.sub),
            sig = escape(&checked.sig),
        ),
        PollStatus::Closed => closed_page(&state, &checked.poll, &reader).await,
        PollStatus::Scheduled => {
            let error = AppError::PollNotOpen(PollStatus::Scheduled);
            return private(PageError { error, back: format!("/polls/{slug}") }.into_response());
        }
    };
    private(Html(page(&checked.poll.question, &body)).into_response())
}

/// A closed poll answers every link with its final results (where they are published).
async fn closed_page(state: &AppState, poll: &Poll, reader: &Reader) -> String {
    let results = match state.polls.results(poll.slug.as_str(), reader).await {
        Ok(results) => results_html(&results, Counted::of(poll.kind.max_choices()), &[], None),
        Err(_) => "<p class=\"notice muted\">The results of this poll are not published.</p>".to_owned(),
    };
    format!(
        "<section class=\"poll-card\"><h1 class=\"question\">{}</h1><p class=\"notice\">This poll has closed and no longer \
         takes votes.</p>{results}</section>",
        escape(&poll.question)
    )
}

pub async fn confirm(
    State(state): State<AppState>,
    Extension(reader): Extension<Reader>,
    path: Result<SlugPath, ApiError>,
    body: Result<FormBody, ApiError>,
) -> Response {
    let Ok(SlugPath(slug)) = path else {
        return PageError { error: AppError::PollNotFound, back: "/".into() }.into_response();
    };
    let back = format!("/polls/{}", app::domain::Slug::parse(&slug).map(|s| s.to_string()).unwrap_or_default());
    let params = match body.map(|FormBody(pairs)| pairs).map_err(|ApiError(e)| e) {
        Ok(params) => params,
        Err(error) => return PageError { error, back }.into_response(),
    };
    let checked = match check(&state, &slug, &params).await {
        Ok(checked) => checked,
        Err(response) => return private(response),
    };
    if checked.poll.status_at(state.polls.now()) == PollStatus::Closed {
        let body = closed_page(&state, &checked.poll, &reader).await;
        return private((StatusCode::CONFLICT, Html(page(&checked.poll.question, &body))).into_response());
    }
    let reader = Reader { subscriber: Some(state.email_links.subscriber(&checked.sub)), ..reader };
    let slug = checked.poll.slug.as_str();
    let receipt = match state
        .polls
        .cast_vote(slug, &reader, std::slice::from_ref(&checked.option), None, VoteSource::Email)
        .await
    {
        Ok(receipt) => receipt,
        Err(error) => return private(PageError { error, back }.into_response()),
    };
    let choices: Vec<&str> = checked
        .poll
        .options
        .iter()
        .filter(|o| receipt.vote.choices.contains(&o.key))
        .map(|o| o.label.as_str())
        .collect();
    // `changed`: the subscriber's vote had come from another browser and is now this one's.
    let note = if receipt.recorded || receipt.changed {
        format!("Thanks! Your vote for {} is in.", escape(&checked.label))
    } else if choices.is_empty() {
        "You had already voted in this poll. Your vote counts once.".to_owned()
    } else {
        format!("You had already voted: {}. Your vote counts once.", escape(&choices.join(", ")))
    };
    let results = match &receipt.results {
        Some(results) => {
            results_html(results, Counted::of(checked.poll.kind.max_choices()), &receipt.vote.choices, None)
        }
        None => {
            format!("<p class=\"notice muted\">{}</p>", checked.poll.results_visibility.hidden_reason(PollStatus::Open))
        }
    };
    let body = format!(
        "<section class=\"poll-card\"><h1 class=\"question\">{question}</h1><p class=\"notice success\" role=\"status\">{note}</p>\
         {results}<p><a href=\"/polls/{slug}\">Go to the poll page</a> · <a href=\"/archive\">Past polls</a></p></section>",
        question = escape(&checked.poll.question),
    );
    private(Html(page(&checked.poll.question, &body)).into_response())
}
