//! The ballot as a plain HTML form, for readers without JavaScript: a POST that lands on
//! the poll page (which then shows the vote and results), or, when the vote is refused, the
//! poll page again with the reason and the reader's choices kept.

use super::errors::{ApiError, PageError};
#[cfg(test)]
use super::extract::form_pairs;
use super::extract::{FormBody, SlugPath};
use super::render::Pages;
use super::AppState;
use app::domain::{AppError, Slug, VoteSource};
use app::services::{BallotRetry, Reader, ReaderService};
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;

pub async fn vote(
    State(state): State<AppState>,
    path: Result<SlugPath, ApiError>,
    Extension(reader): Extension<Reader>,
    Extension(pages): Extension<Pages>,
    mut parts: Parts,
    body: Result<FormBody, ApiError>,
) -> Response {
    // A valid slug is URL-safe as it is; anything else has no poll page to go back to.
    let Some(slug) = path.ok().and_then(|SlugPath(slug)| Slug::parse(&slug).ok()) else {
        return PageError { error: AppError::PollNotFound, back: "/".into() }.into_response();
    };
    let back = format!("/polls/{slug}");
    let (choices, comment) = match body.map_err(|ApiError(e)| e).and_then(|FormBody(pairs)| ballot_of(pairs)) {
        Ok(ballot) => ballot,
        Err(error) => return PageError { error, back }.into_response(),
    };
    let cast = state.polls.cast_vote(slug.as_str(), &reader, &choices, comment.as_deref(), VoteSource::Web).await;
    match cast {
        // The poll page shows the vote; `commented` has it thank the reader for their comment.
        Ok(receipt) => {
            let commented = comment.is_some_and(|c| !c.trim().is_empty()) && (receipt.recorded || receipt.changed);
            Redirect::to(&if commented { format!("{back}?commented=1") } else { back }).into_response()
        }
        // Anything the reader can act on (too many choices, a long comment, a poll that just
        // closed) is said on the poll page itself, their ballot as they left it. Not a rate
        // limit: a flood gets the short error page, never a page render per refusal.
        Err(error) if !matches!(error, AppError::PollNotFound | AppError::RateLimited) && error.status() < 500 => {
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            parts.extensions.insert(BallotRetry {
                reason: error.to_string(),
                choices,
                comment: comment.unwrap_or_default(),
            });
            pages.render(parts, &back, status).await
        }
        Err(error) => PageError { error, back }.into_response(),
    }
}

/// A GET of a form's address (a reload after an answer, a copied link): the page the form
/// belongs to, `to` followed by the slug.
pub async fn back_to(to: &'static str, path: Result<SlugPath, ApiError>) -> Response {
    match path.ok().and_then(|SlugPath(slug)| Slug::parse(&slug).ok()) {
        Some(slug) => Redirect::to(&format!("{to}{slug}")).into_response(),
        None => PageError { error: AppError::PollNotFound, back: "/".into() }.into_response(),
    }
}

/// A ballot form posted from a page (the poll page, the widget): the vote, then back to
/// `back` (which shows it), or an error page with a link there.
pub async fn vote_by_form(
    state: &AppState,
    slug: &str,
    reader: &Reader,
    body: Result<FormBody, ApiError>,
    source: VoteSource,
    back: String,
) -> Response {
    let outcome = async {
        let FormBody(pairs) = body.map_err(|ApiError(e)| e)?;
        let (choices, comment) = ballot_of(pairs)?;
        state.polls.cast_vote(slug, reader, &choices, comment.as_deref(), source).await
    }
    .await;
    match outcome {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(error) => PageError { error, back }.into_response(),
    }
}

/// The ballot form: repeated `choice` fields and an optional `comment`.
fn ballot_of(pairs: Vec<(String, String)>) -> Result<(Vec<String>, Option<String>), AppError> {
    let mut choices = Vec::new();
    let mut comment = None;
    for (name, value) in pairs {
        match name.as_str() {
            "choice" => choices.push(value),
            "comment" if comment.is_none() => comment = Some(value),
            "comment" => return Err(AppError::MalformedRequest("the comment was sent twice".into())),
            _ => {}
        }
    }
    Ok((choices, comment))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ballot_form(body: &[u8]) -> Result<(Vec<String>, Option<String>), AppError> {
        ballot_of(form_pairs(body)?)
    }

    #[test]
    fn parses_repeated_choices_and_comment() {
        let (choices, comment) =
            parse_ballot_form(b"choice=yes&choice=not-sure&comment=because+of%20%C3%A9&x=1").unwrap();
        assert_eq!(choices, ["yes", "not-sure"]);
        assert_eq!(comment.as_deref(), Some("because of é"));
    }

    #[test]
    fn refuses_invalid_utf8_and_double_comments() {
        assert_eq!(parse_ballot_form(b"choice=%FF").unwrap_err().code(), "malformed_request");
        assert_eq!(parse_ballot_form(b"comment=a&comment=b").unwrap_err().code(), "malformed_request");
    }
}
