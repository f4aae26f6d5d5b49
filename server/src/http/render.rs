//! The app's pages for form handlers: a POST that cannot go on answers with the page it came
//! from, rendered as a GET would have been, plus what went wrong (a request extension that
//! the page's data loader reads), instead of a bare error page.

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, Method, Request, StatusCode, Uri};
use axum::response::Response;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

type Render = dyn Fn(Request<Body>) -> Pin<Box<dyn Future<Output = Response> + Send>> + Send + Sync;

/// The app's page renderer (leptos), so a form handler can answer with a page.
#[derive(Clone)]
pub struct Pages(Arc<Render>);

impl Pages {
    pub fn new(
        render: impl Fn(Request<Body>) -> Pin<Box<dyn Future<Output = Response> + Send>> + Send + Sync + 'static,
    ) -> Self {
        Pages(Arc::new(render))
    }

    /// The page at `path` as a GET with this request's cookies and extensions would get it,
    /// answered with `status`.
    pub async fn render(&self, mut parts: Parts, path: &str, status: StatusCode) -> Response {
        parts.method = Method::GET;
        parts.uri = path.parse::<Uri>().unwrap_or_default();
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::CONTENT_LENGTH);
        let mut response = (self.0)(Request::from_parts(parts, Body::empty())).await;
        if response.status() == StatusCode::OK {
            *response.status_mut() = status;
        }
        response
    }
}
