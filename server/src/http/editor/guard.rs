//! Who may use the editor side, and from where. Every request under `/editor`,
//! `/rpc/editor/` and `/api/v1/editor/` passes here first:
//! - it must come from a live session (cookie) or, on the JSON API, a live API token;
//! - a state-changing request on a session must come from our own pages: `Sec-Fetch-Site`
//!   and `Origin` must say same-origin, and it must carry the session's CSRF token (header
//!   `X-CSRF-Token`, or a `csrf` field in the form or JSON body).
//!
//! Requests with API tokens carry no ambient credential, so they need no CSRF token.

use super::super::errors::{ApiError, PageError};
use super::super::AppState;
use app::domain::{AppError, EditorIdentity};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

pub const SESSION_COOKIE: &str = "pt_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Editor requests carry whole polls; larger than a vote, still small.
pub const MAX_EDITOR_BODY: usize = 64 * 1024;
pub const LOGIN_PATH: &str = "/editor/login";
/// Paths under `/editor` anyone may use: the sign-in page and its form.
const PUBLIC: [&str; 2] = [LOGIN_PATH, "/editor/session"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Door {
    Page,
    Json,
}

fn door_of(path: &str) -> Option<Door> {
    if path.starts_with("/api/v1/editor/") || path == "/api/v1/editor" || path.starts_with("/rpc/editor/") {
        Some(Door::Json)
    } else if (path == "/editor" || path.starts_with("/editor/")) && !PUBLIC.contains(&path) {
        Some(Door::Page)
    } else {
        None
    }
}

pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    super::super::cookies(headers, SESSION_COOKIE).find(|token| !token.is_empty())
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// True unless the browser says the request came from another site. Clients that send
/// neither header (scripts, old browsers) are judged by the CSRF token alone.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        if site.as_bytes() != b"same-origin" {
            return false;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else { return true };
    let hosts = [header::HOST.as_str(), "x-forwarded-host"];
    hosts
        .iter()
        .filter_map(|h| headers.get(*h)?.to_str().ok())
        .any(|host| origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://")) == Some(host))
}

fn equal_in_constant_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
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
        super::super::form::form_pairs(&bytes)
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(name, _)| name == "csrf").map(|(_, value)| value))
    };
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

fn refuse(door: Door, error: AppError, request_path: &str) -> Response {
    match (door, &error) {
        (Door::Json, _) => ApiError(error).into_response(),
        (Door::Page, AppError::Unauthorized) => {
            let next = percent_encoding::utf8_percent_encode(request_path, percent_encoding::NON_ALPHANUMERIC);
            Redirect::to(&format!("{LOGIN_PATH}?next={next}")).into_response()
        }
        (Door::Page, _) => PageError { error, back: "/editor".into() }.into_response(),
    }
}

pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let Some(door) = door_of(&path) else { return next.run(request).await };
    let identity = match bearer_token(request.headers()) {
        Some(token) if path.starts_with("/api/v1/editor") => state.auth.api_token(token).await,
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
        if !same_origin(request.headers()) {
            return refuse(door, AppError::CsrfFailed, &path);
        }
        request = match carried_token(request).await {
            Ok((Some(token), request)) if equal_in_constant_time(token.as_bytes(), expected.as_bytes()) => request,
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

/// The cookie that ends a session in the browser.
pub fn cleared_session_cookie() -> HeaderValue {
    HeaderValue::from_static("pt_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
}

/// Marks a browser that has signed in to an account (`Auth::login` gives it its own
/// sign-in budget). Sent only to the sign-in form.
pub const KNOWN_BROWSER_COOKIE: &str = "pt_known";

pub fn known_browser_cookie(mark: &str, secure: bool) -> Option<HeaderValue> {
    let max_age = chrono::Duration::days(crate::services::auth::KNOWN_BROWSER_DAYS).num_seconds();
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{KNOWN_BROWSER_COOKIE}={mark}; Path=/editor/session; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

pub fn session_cookie(token: &str, secure: bool) -> Option<HeaderValue> {
    let max_age = crate::services::auth::SESSION_MAX.num_seconds();
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn doors_cover_every_editor_path_but_sign_in() {
        assert!(door_of("/editor") == Some(Door::Page));
        assert!(door_of("/editor/polls/3/edit") == Some(Door::Page));
        assert!(door_of("/rpc/editor/save") == Some(Door::Json));
        assert!(door_of("/api/v1/editor/polls") == Some(Door::Json));
        assert!(door_of("/editor/login").is_none());
        assert!(door_of("/editorial").is_none());
        assert!(door_of("/api/v1/polls").is_none());
    }

    #[test]
    fn cross_site_requests_are_told_apart() {
        assert!(same_origin(&headers(&[("host", "polls.example"), ("origin", "https://polls.example")])));
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(same_origin(&headers(&[])));
        assert!(!same_origin(&headers(&[("host", "polls.example"), ("origin", "https://evil.example")])));
        assert!(!same_origin(&headers(&[("host", "polls.example"), ("origin", "null")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
    }
}
