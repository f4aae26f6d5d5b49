//! One error, two faces: JSON for the API (`server/src/http/CONTRACT.md`), an HTML page for browsers.

pub use crate::html::escape;
use app::domain::AppError;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;

fn status_of(error: &AppError) -> StatusCode {
    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.0.code(), "message": self.0.to_string()}});
        (status_of(&self.0), Json(body)).into_response()
    }
}

pub struct PageError {
    pub error: AppError,
    /// Where "Back" goes: the poll the reader came from.
    pub back: String,
}

impl PageError {
    fn title(&self) -> &'static str {
        match self.error {
            AppError::PollNotFound | AppError::NotFound => "Not found",
            AppError::Internal => "Something went wrong",
            AppError::PollNotOpen(_)
            | AppError::InvalidChoices(_)
            | AppError::CommentTooLong(_)
            | AppError::CommentNotAllowed(_)
            | AppError::RateLimited => "Your vote was not counted",
            _ => "That did not work",
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body = format!(
            "<section class=\"problem\" role=\"alert\"><h1>{title}</h1><p>{message}</p>\
             <p><a href=\"{back}\">Go back</a></p></section>",
            title = self.title(),
            message = escape(&self.error.to_string()),
            back = escape(&self.back),
        );
        (status_of(&self.error), Html(page(self.title(), &body))).into_response()
    }
}

/// 405 for browsers: a page, not an empty body.
pub async fn method_not_allowed() -> Response {
    let body = "<section class=\"problem\" role=\"alert\"><h1>That did not work</h1>\
        <p>This address does not take that kind of request.</p><p><a href=\"/\">Go to the home page</a></p></section>";
    (StatusCode::METHOD_NOT_ALLOWED, Html(page("That did not work", body))).into_response()
}

/// A plain server-rendered page in the site's style, for answers to form posts.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <title>{title} · Polltelligence</title>\
         <link rel=\"stylesheet\" href=\"/pkg/polltelligence.css\"></head>\
         <body><header class=\"site-header\"><nav aria-label=\"Main\"><a class=\"brand\" href=\"/\">\
         Artificial Polltelligence 🗳️</a><a href=\"/archive\">The Results Show</a></nav></header>\
         <main id=\"main\">{body}</main></body></html>",
        title = escape(title),
    )
}

/// Maps axum's body-reading failures to our errors (too large, or unreadable).
pub fn body_error(rejection: axum::extract::rejection::BytesRejection) -> AppError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge(super::MAX_BODY_BYTES)
    } else {
        AppError::MalformedRequest(rejection.body_text())
    }
}
