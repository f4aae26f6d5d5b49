//! Live results over Server-Sent Events: the current results at once, then each change
//! (coalesced by the poll's pump, `services::live`), a comment line every 15 s while idle,
//! and a last event when the poll closes. Connections are counted against
//! `POLLTELLIGENCE_MAX_LISTENERS` and, per client network, `_MAX_LISTENERS_PER_CLIENT`
//! (instead of the ordinary connections' cap: a stream gives its ordinary place back); each
//! also ends after `MAX_STREAM` (browsers reconnect by themselves and get the current state at
//! once) and closes its connection, and one whose reader stops reading is dropped by the
//! listener (`net`).

use super::super::errors::ApiError;
use super::super::extract::{PollIdPath, SlugPath};
use super::super::AppState;
use crate::services::live::{Listener, Snapshot};
use app::domain::{AppError, PollStatus};
use app::services::Reader;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

const HEARTBEAT: Duration = Duration::from_secs(15);
const MAX_STREAM: Duration = Duration::from_secs(30 * 60);
/// Browsers wait this long before reconnecting after the stream ends.
const RETRY: Duration = Duration::from_secs(2);

/// Live results as Server-Sent Events: `results` at once and on each change (at most 4 a
/// second), a comment every 15 s while idle, a final `results` at close, then the end.
#[utoipa::path(get, path = "/polls/{slug}/events", operation_id = "resultsEvents",
    params(("slug" = String, Path, description = "The poll's slug")),
    responses(
        (status = 200, description = "The event stream: each event is `results` with the results JSON as its data", content_type = "text/event-stream", body = super::super::openapi::ResultsEvent),
        (status = 403, description = "results_hidden", body = super::super::openapi::ErrorBody),
        (status = 404, description = "poll_not_found", body = super::super::openapi::ErrorBody),
        (status = 503, description = "too_many_listeners, or service_unavailable", body = super::super::openapi::ErrorBody),
    ))]
pub async fn reader_events(
    State(state): State<AppState>,
    Extension(reader): Extension<Reader>,
    client: Client,
    SlugPath(slug): SlugPath,
) -> Result<Response, ApiError> {
    let poll = state.polls.find(&slug).await?;
    if !state.polls.may_see_results(&poll, &reader).await? {
        return Err(AppError::ResultsHidden.into());
    }
    stream(&state, client, poll.id, &poll.slug)
}

/// Who asks, as the stream caps count them: the client's address (`protect::client_address`
/// resolved it behind trusted proxies) and the connection's ordinary place, if it has one.
pub struct Client {
    ip: std::net::IpAddr,
    slot: Option<Arc<crate::net::OrdinarySlot>>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Ok(Client { ip, slot: parts.extensions.get::<Arc<crate::net::OrdinarySlot>>().cloned() })
    }
}

/// The editor dashboard's stream: the same results, whatever the poll shows readers.
#[utoipa::path(get, path = "/polls/{id}/events", operation_id = "editorResultsEvents", security(("apiToken" = [])),
    params(("id" = i64, Path, description = "The poll's id")),
    responses(
        (status = 200, description = "The event stream: each event is `results` with the results JSON as its data", content_type = "text/event-stream", body = super::super::openapi::ResultsEvent),
        (status = 401, description = "unauthorized", body = super::super::openapi::ErrorBody),
        (status = 404, description = "poll_not_found", body = super::super::openapi::ErrorBody),
        (status = 503, description = "too_many_listeners, or service_unavailable", body = super::super::openapi::ErrorBody),
    ))]
pub async fn editor_events(
    State(state): State<AppState>,
    client: Client,
    PollIdPath(id): PollIdPath,
) -> Result<Response, ApiError> {
    let poll = app::services::EditorService::poll(&*state.authoring, id).await?;
    let poll = state.polls.find(poll.poll.slug.as_str()).await?;
    stream(&state, client, poll.id, &poll.slug)
}

fn stream(
    state: &AppState,
    client: Client,
    poll: app::domain::PollId,
    slug: &app::domain::Slug,
) -> Result<Response, ApiError> {
    let held = state.listeners_per_client.take(client.ip).ok_or(AppError::TooManyListeners)?;
    let permit = state.listeners.clone().try_acquire_owned().map_err(|_| AppError::TooManyListeners)?;
    if let Some(slot) = &client.slot {
        slot.release();
    }
    let listener = state.polls.listen(poll, slug);
    let events = futures_util::stream::unfold(Stream::new(listener, (permit, held)), |mut stream| async move {
        let event = stream.next().await?;
        Some((Ok::<_, std::convert::Infallible>(event), stream))
    });
    let mut response = Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies that buffer responses (nginx) would hold events back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    // The connection ends with the stream: it no longer holds an ordinary place.
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    Ok(response)
}

struct Stream {
    listener: Listener,
    sent: Option<Arc<Snapshot>>,
    done: bool,
    deadline: Instant,
    _permit: (OwnedSemaphorePermit, crate::networks::Held),
}

impl Stream {
    fn new(listener: Listener, permit: (OwnedSemaphorePermit, crate::networks::Held)) -> Self {
        Stream { listener, sent: None, done: false, deadline: Instant::now() + MAX_STREAM, _permit: permit }
    }

    /// The next event to send, or `None` when the stream is over.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if self.done {
                return None;
            }
            let current = self.listener.borrow_and_update().clone();
            if let Some(snapshot) = current.filter(|s| self.sent.as_ref().is_none_or(|sent| !sent.same_as(s))) {
                let mut event = Event::default().event("results").data(&*snapshot.json);
                if self.sent.is_none() {
                    event = event.retry(RETRY);
                }
                self.done = snapshot.status == PollStatus::Closed;
                self.sent = Some(snapshot);
                return Some(event);
            }
            tokio::select! {
                changed = self.listener.changed() => {
                    if changed.is_err() {
                        // The pump ended (poll gone or closed): send what it left, then stop.
                        self.done = true;
                        let last = self.listener.borrow().clone();
                        if let Some(last) = last.filter(|s| self.sent.as_ref().is_none_or(|sent| !sent.same_as(s))) {
                            return Some(Event::default().event("results").data(&*last.json));
                        }
                        return None;
                    }
                }
                _ = tokio::time::sleep_until(self.deadline) => return None,
            }
        }
    }
}
