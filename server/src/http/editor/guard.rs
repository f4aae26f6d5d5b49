//! Who may use the editor side, and from where: a layer on the editor's routes (its pages
//! and forms, its server functions, its JSON API: `http::router` puts them behind it; the
//! sign-in page and form are outside). Every request through it:
//! - must come from a live session (cookie) or, on the JSON API, a live API token;
//! - if it changes state on a session, must come from our own pages (`protect::from_our_site`)
//!   and carry the session's CSRF token (header `X-CSRF-Token`, or a `csrf` field in the form
//!   or JSON body).
//!
//! Requests with API tokens carry no ambient credential, so they need no CSRF token.

use super::super::cookies;
use super::super::errors::{ApiError, PageError};
use super::super::protect::from_our_site;
use super::super::AppState;
use app::domain::{AppError, EditorIdentity};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

pub const CSRF_HEADER: &str = "x-csrf-token";
/// Editor requests carry whole polls; larger than a vote, still small.
pub const MAX_EDITOR_BODY: usize = 64 * 1024;
pub const LOGIN_PATH: &str = "/editor/login";

/// Which of the editor's routes a guard stands in front of: it decides how a refusal looks
/// (a redirect to sign in or a page, or JSON) and whether API tokens are taken.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Door {
    /// The editor's pages and forms.
    Page,
    /// Its server functions (`/rpc/editor/…`): sessions only.
    Rpc,
    /// Its JSON API (`/api/v1/editor/…`): a session or an API token.
    Api,
}

/// The session token a request carries, if any.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    cookies::read(headers, cookies::SESSION).find(|token| !token.is_empty())
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// The CSRF token a request carries, and the request rebuilt around its read body.
async fn carried_token(request: Request) -> Result<(Option<String>, Request), AppError> {
    if let Some(token) = request.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let token = token.to_owned();
        return Ok((Some(token), request));
    }
    let (parts, body) = request.into_parts();
    let bytes =
        axum::body::to_bytes(body, MAX_EDITOR_BODY).await.map_err(|_| AppError::PayloadTooLarge(MAX_EDITOR_BODY))?;
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let token = if content_type.starts_with("application/json") {
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("csrf").and_then(|t| t.as_str()).map(str::to_owned))
    } else {
        super::super::extract::form_pairs(&bytes)
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(name, _)| name == "csrf").map(|(_, value)| value))
    };
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

fn refuse(door: Door, error: AppError, request_path: &str) -> Response {
    match (door, &error) {
        (Door::Rpc | Door::Api, _) => ApiError(error).into_response(),
        (Door::Page, AppError::Unauthorized) => {
            let next = percent_encoding::utf8_percent_encode(request_path, percent_encoding::NON_ALPHANUMERIC);
            Redirect::to(&format!("{LOGIN_PATH}?next={next}")).into_response()
        }
        (Door::Page, _) => PageError { error, back: "/editor".into() }.into_response(),
    }
}

/// The layer itself: `middleware::from_fn_with_state((state, door), guard)` on a door's routes.
pub async fn guard(State((state, door)): State<(AppState, Door)>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let identity = match bearer_token(request.headers()) {
        Some(token) if door == Door::Api => state.auth.api_token(token).await,
        _ => match session_token(request.headers()) {
            Some(token) => state.auth.session(token).await,
            None => Ok(None),
        },
    };
    let identity: EditorIdentity = match identity {
        Ok(Some(identity)) => identity,
        Ok(None) => return refuse(door, AppError::Unauthorized, &path),
        Err(e) => return refuse(door, e, &path),
    };
    let mut request = request;
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let (false, Some(expected)) = (safe, identity.csrf.as_deref()) {
        if !from_our_site(request.headers()) {
            return refuse(door, AppError::CsrfFailed, &path);
        }
        request = match carried_token(request).await {
            Ok((Some(token), request)) if bool::from(token.as_bytes().ct_eq(expected.as_bytes())) => request,
            Ok(_) => return refuse(door, AppError::CsrfFailed, &path),
            Err(e) => return refuse(door, e, &path),
        };
    }
    request.extensions_mut().insert(identity);
    let mut response = next.run(request).await;
    if !safe && !response.status().is_client_error() && !response.status().is_server_error() {
        // Whatever an editor changed (a poll, an approved summary) may show on reader pages.
        state.polls.note_edit();
    }
    let headers = response.headers_mut();
    // Editor pages hold unpublished polls and tokens: never cached, never framed.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}
