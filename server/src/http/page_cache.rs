//! Reader pages rendered once and reused for a second by every reader they fit. When an
//! issue lands, most requests for a poll page come from readers who have not voted on it,
//! and the page is the same for all of them: rendering it per request is the server's most
//! expensive read. Only those readers get a stored render (a reader who voted always gets
//! their own page, so "you voted" is never missing or someone else's); the stored HTML gets
//! the request's own CSP nonce; results in it are at most a second old, as on PostgreSQL
//! generally, and live results take over in the browser. Any editor's write on this instance
//! (a poll, an approved summary) voids every stored render at once; other instances' within
//! the second.

use super::protect::CspNonce;
use super::voter::FreshVoter;
use super::AppState;
use app::services::Reader;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long a render is reused.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// A bound on what is read into memory (reader pages are a few tens of KB).
const LARGEST: usize = 8 * 1024 * 1024;
/// Renders kept at most (per site address and path); past it the oldest are dropped.
const ENTRIES: usize = 1024;

struct Render {
    at: Instant,
    /// `Polls::edits` when the render started: an editor's change here voids it at once.
    edits: u64,
    nonce: String,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Default)]
pub struct PageCache(RwLock<HashMap<String, Render>>);

impl PageCache {
    fn get(&self, key: &str, nonce: &str, edits: u64) -> Option<Response> {
        let renders = self.0.read().expect("page cache lock");
        let render = renders.get(key).filter(|r| r.at.elapsed() < FRESH_FOR && r.edits == edits)?;
        // The nonce is 128 random bits in base64: it occurs only where the render put it.
        let body = String::from_utf8_lossy(&render.body).replace(&render.nonce, nonce);
        let mut response = Response::new(Body::from(body));
        *response.headers_mut() = render.headers.clone();
        Some(response)
    }

    fn put(&self, key: String, render: Render) {
        let mut renders = self.0.write().expect("page cache lock");
        if renders.len() >= ENTRIES {
            renders.retain(|_, r| r.at.elapsed() < FRESH_FOR);
            if renders.len() >= ENTRIES {
                renders.clear();
            }
        }
        renders.insert(key, render);
    }
}

/// Serves `GET /` and `GET /polls/{slug}` from the cache where the reader fits, and keeps
/// fresh renders of those. Runs inside `voter::identify` (it needs the reader) and inside
/// `protect::security_headers` (the nonce).
pub async fn serve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let candidate = candidate(&state, &request);
    let Some(key) = shareable(&state, candidate).await else { return next.run(request).await };
    let Some(CspNonce(nonce)) = request.extensions().get::<CspNonce>().cloned() else {
        return next.run(request).await;
    };
    let edits = state.polls.edits();
    if let Some(response) = state.pages.get(&key, &nonce, edits) {
        return response;
    }
    let started = Instant::now();
    let response = next.run(request).await;
    let is_html = response.headers().get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if response.status() != StatusCode::OK || !is_html || response.headers().contains_key(header::SET_COOKIE) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, LARGEST).await {
        Ok(body) => body,
        Err(e) => {
            tracing::warn!(error = %e, "a page could not be read for the page cache");
            return (StatusCode::SERVICE_UNAVAILABLE, "The page could not be rendered; please try again.")
                .into_response();
        }
    };
    state.pages.put(key, Render { at: started, edits, nonce, headers: parts.headers.clone(), body: body.clone() });
    Response::from_parts(parts, Body::from(body))
}

/// The cache key of a request whose page is the same for every reader like this one: the
/// site address (links in the page use it) and path, for a reader who has not voted on the
/// poll shown (a new visitor on `/`, whose featured poll cannot know them).
async fn shareable(state: &AppState, candidate: Option<(String, String, Option<String>)>) -> Option<String> {
    let (key, path, voter) = candidate?;
    let voted = match (path.strip_prefix("/polls/"), voter) {
        (Some(slug), Some(voter)) => {
            let poll = state.polls.find(slug).await.ok()?;
            state.store.vote_of(poll.id, &voter).await.ok()?.is_some()
        }
        (Some(_), None) => false,
        (None, voter) => voter.is_some(),
    };
    (!voted).then_some(key)
}

/// For `GET /` and `GET /polls/{slug}`: the key, the path and the voter (`None`: a new one).
/// Synchronous, so that no reference to the request (whose body is not `Sync`) is held
/// across an await.
fn candidate(state: &AppState, request: &Request) -> Option<(String, String, Option<String>)> {
    let path = request.uri().path();
    let poll_page = path.strip_prefix("/polls/").is_some_and(|slug| !slug.is_empty() && !slug.contains('/'));
    if request.method() != Method::GET || request.uri().query().is_some() || !(poll_page || path == "/") {
        return None;
    }
    let voter = match request.extensions().get::<FreshVoter>() {
        Some(_) => None,
        None => Some(request.extensions().get::<Reader>()?.voter.clone()),
    };
    Some((format!("{}{path}", state.origin(request.headers())), path.to_owned(), voter))
}
