//! `/polls/{slug}/results.svg` and `.png`: the results as a picture for emails and social
//! cards. Revalidated on every use (`ETag` + `no-cache`), drawn only when what it shows
//! changed (`delivery::images`).

use super::super::errors::{ApiError, PageError};
use super::super::extract::SlugPath;
use super::super::AppState;
use crate::delivery::images::{Format, Picture};
use app::domain::AppError;
use axum::extract::{ConnectInfo, State};
use axum::http::Uri;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// The results as SVG.
#[utoipa::path(get, path = "/polls/{slug}/results.svg", operation_id = "resultsSvg", params(("slug" = String, Path, description = "The poll's slug"), ImageSize), responses(
    (status = 200, description = "The picture; `ETag`, revalidated on each use", content_type = "image/svg+xml", body = String),
    (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
    (status = 404, description = "No such poll (an HTML page)", content_type = "text/html", body = String),
    (status = 422, description = "`w` or `h` out of range (an HTML page)", content_type = "text/html", body = String),
    (status = 429, description = "This client already has an image being drawn (an HTML page)", content_type = "text/html", body = String),
))]
pub async fn svg(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    path: Result<SlugPath, ApiError>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    image(state, peer, path, headers, uri, Format::Svg).await
}

/// The results as PNG (default 600 px wide).
#[utoipa::path(get, path = "/polls/{slug}/results.png", operation_id = "resultsPng", params(("slug" = String, Path, description = "The poll's slug"), ImageSize), responses(
    (status = 200, description = "The picture; `ETag`, revalidated on each use", content_type = "image/png", body = Vec<u8>),
    (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
    (status = 404, description = "No such poll (an HTML page)", content_type = "text/html", body = String),
    (status = 422, description = "`w` or `h` out of range (an HTML page)", content_type = "text/html", body = String),
    (status = 429, description = "This client already has an image being drawn (an HTML page)", content_type = "text/html", body = String),
))]
pub async fn png(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    path: Result<SlugPath, ApiError>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    image(state, peer, path, headers, uri, Format::Png).await
}

/// The picture's size in pixels, drawn as the nearest preset (`Size::parse` reads it; else 422).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Describes the query for the document.
struct ImageSize {
    #[param(minimum = 200, maximum = 2400)]
    w: Option<u32>,
    #[param(minimum = 100, maximum = 2400)]
    h: Option<u32>,
}

async fn image(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    path: Result<SlugPath, ApiError>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    format: Format,
) -> Response {
    let Ok(SlugPath(slug)) = path else {
        return PageError { error: AppError::PollNotFound, back: "/".into() }.into_response();
    };
    let back = || "/".to_owned();
    let result = async {
        let pairs = super::super::extract::form_pairs(uri.query().unwrap_or_default().as_bytes())?;
        let param = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let size = crate::delivery::images::Size::parse(param("w"), param("h"))
            .map_err(|e| AppError::InvalidInput(e.to_string()))?;
        let poll = state.polls.find(&slug).await?;
        let (status, results) = state.polls.public_results(&poll).await?;
        let picture = Picture::new(&poll, status, results.as_ref());
        // Outside the page middleware: the client behind a trusted proxy is resolved here.
        let (client, _) = super::super::protect::resolve_client(&state.trusted_proxies, peer.ip(), &headers);
        state.images.get(poll.id.0, picture, size, format, state.polls.now(), client).await.map_err(|e| match e {
            crate::delivery::images::ImageError::Busy => AppError::RateLimited,
            e => {
                tracing::error!(error = %e, %slug, "results image failed to render");
                AppError::Internal
            }
        })
    }
    .await;
    let rendered = match result {
        Ok(rendered) => rendered,
        Err(error) => return PageError { error, back: back() }.into_response(),
    };
    let etag = HeaderValue::from_str(&rendered.etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == rendered.etag || t.trim() == "*"));
    if fresh {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag), cache]).into_response();
    }
    let content_type = match format {
        Format::Svg => "image/svg+xml",
        Format::Png => "image/png",
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::ETAG, etag),
            cache,
            // An SVG opened on its own is a document: it may run nothing and load nothing.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
            ),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
        ],
        rendered.bytes,
    )
        .into_response()
}
