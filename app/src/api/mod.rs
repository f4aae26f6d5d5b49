//! Server functions: the browser's door into the reader service. Each one reads who is
//! asking, calls the service, and maps errors to an HTTP status; nothing else.

pub mod editor;

use crate::domain::{AppError, VoteReceipt};
use crate::services::{ArchivePage, HomePage, PollPage};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

// Server functions' own failures (unreachable server, unreadable arguments) as `AppError`s;
// here rather than in the domain, which knows no framework.
impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr;
        match value {
            ServerFnErrorErr::Request(_) => AppError::Unreachable,
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => AppError::MalformedRequest(m),
            _ => AppError::Internal,
        }
    }
}

#[server(prefix = "/rpc", endpoint = "home")]
pub async fn load_home() -> Result<HomePage, AppError> {
    let (service, reader) = ssr::context().await?;
    let mut home = service.home(&reader).await.map_err(ssr::with_status)?;
    if let Some(page) = home.featured.as_mut() {
        page.origin = ssr::origin().await;
    }
    Ok(home)
}

#[server(prefix = "/rpc", endpoint = "poll")]
pub async fn load_poll(slug: String) -> Result<PollPage, AppError> {
    let (service, reader) = ssr::context().await?;
    let mut page = service.poll_page(&slug, &reader).await.map_err(ssr::with_status)?;
    page.origin = ssr::origin().await;
    // A refused no-JS ballot is answered with this page (see the server's vote form).
    page.retry = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::services::BallotRetry>().cloned());
    Ok(page)
}

#[server(prefix = "/rpc", endpoint = "archive")]
pub async fn load_archive(page: usize) -> Result<ArchivePage, AppError> {
    let (service, _) = ssr::context().await?;
    service.archive(page).await.map_err(ssr::with_status)
}

#[server(prefix = "/rpc", endpoint = "vote", input = Json)]
pub async fn cast_vote(slug: String, choices: Vec<String>, comment: Option<String>) -> Result<VoteReceipt, AppError> {
    let (service, reader) = ssr::context().await?;
    service
        .cast_vote(&slug, &reader, &choices, comment.as_deref(), crate::domain::VoteSource::Web)
        .await
        .map_err(ssr::with_status)
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::domain::AppError;
    use crate::services::{Reader, SharedReaderService};
    use leptos::prelude::*;

    pub async fn context() -> Result<(SharedReaderService, Reader), AppError> {
        let service = use_context::<SharedReaderService>().ok_or(AppError::Internal)?;
        let axum::Extension(reader) =
            leptos_axum::extract::<axum::Extension<Reader>>().await.map_err(|_| AppError::Internal)?;
        Ok((service, reader))
    }

    /// This site's public address, as the server works it out for this request.
    pub async fn origin() -> String {
        let headers = leptos_axum::extract::<axum::http::HeaderMap>().await.unwrap_or_default();
        use_context::<crate::services::PublicOrigin>().map(|origin| (origin.0)(&headers)).unwrap_or_default()
    }

    /// Sends the error's own status instead of server functions' default 500.
    pub(crate) fn with_status(error: AppError) -> AppError {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = axum::http::StatusCode::from_u16(error.status()) {
                response.set_status(status);
            }
        }
        error
    }
}
