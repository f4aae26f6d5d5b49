//! Paths and bodies, read once and refused in the contract's words: a path that does not
//! name a thing is its `…_not_found`, a body that does not parse is `malformed_request` (or
//! `payload_too_large`). The rejection is the JSON error; page handlers take
//! `Result<Extractor, ApiError>` and answer the same error as a page.

use super::errors::{body_error, ApiError};
use app::domain::{AppError, PollDraft, PollId};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// `{id}` of an editor's poll. Anything but a number names no poll.
pub struct PollIdPath(pub PollId);

impl<S: Send + Sync> FromRequestParts<S> for PollIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(id) = Path::<i64>::from_request_parts(parts, state).await.map_err(|_| AppError::PollNotFound)?;
        Ok(PollIdPath(PollId(id)))
    }
}

/// `{slug}` of a poll, as written: whether a poll has it is the service's to say.
pub struct SlugPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for SlugPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(slug) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| AppError::PollNotFound)?;
        Ok(SlugPath(slug))
    }
}

/// `{id}` of a summary.
pub struct SummaryIdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for SummaryIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(id) = Path::<i64>::from_request_parts(parts, state).await.map_err(|_| AppError::SummaryNotFound)?;
        Ok(SummaryIdPath(id))
    }
}

/// `{id}/comments/{comment}`: a poll's comment. Anything but two numbers names no comment.
pub struct CommentPath(pub PollId, pub i64);

impl<S: Send + Sync> FromRequestParts<S> for CommentPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path((poll, comment)) =
            Path::<(i64, i64)>::from_request_parts(parts, state).await.map_err(|_| AppError::NotFound)?;
        Ok(CommentPath(PollId(poll), comment))
    }
}

/// What a JSON body should look like, in the words of the `malformed_request` message.
pub trait Shape {
    const EXPECTED: &'static str;
}

impl Shape for PollDraft {
    const EXPECTED: &'static str = "a poll draft (with its \"version\" when updating)";
}

/// The request's body, within the route's size limit.
async fn body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Ok(Bytes::from_request(request, state).await.map_err(body_error)?)
}

/// `bytes` as a `T`, or `malformed_request` saying what was expected.
fn json_of<T: DeserializeOwned + Shape>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError(AppError::MalformedRequest(format!("expected {}: {e}", T::EXPECTED))))
}

/// A JSON body (the `Content-Type` is checked before: `protect::json_only`).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Shape> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        json_of(&body(request, state).await?).map(JsonBody)
    }
}

/// A JSON body that may also be left empty (or blank), meaning `T::default()`.
pub struct JsonOrEmpty<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Shape + Default> FromRequest<S> for JsonOrEmpty<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonOrEmpty(T::default()));
        }
        json_of(&bytes).map(JsonOrEmpty)
    }
}

/// An HTML form's fields, in order (`application/x-www-form-urlencoded`, strict UTF-8).
pub struct FormBody(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FormBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(FormBody(form_pairs(&body(request, state).await?)?))
    }
}

/// `application/x-www-form-urlencoded` as name/value pairs in order. Strict about UTF-8,
/// unlike lossy decoders, so bad bytes are refused rather than mangled.
pub fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, AppError> {
    body.split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut parts = pair.splitn(2, |&b| b == b'=');
            Ok((decode(parts.next().unwrap_or_default())?, decode(parts.next().unwrap_or_default())?))
        })
        .collect()
}

fn decode(raw: &[u8]) -> Result<String, AppError> {
    let spaced: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    String::from_utf8(bytes).map_err(|_| AppError::MalformedRequest("the form is not valid UTF-8".into()))
}
