//! The editor side over plain HTTP: sign-in and sign-out, the authoring forms (which work
//! without JavaScript and answer with a redirect), exports, and the JSON API in `api`.
//! The pages themselves are Leptos routes; `guard` stands in front of all of it.

pub mod api;
pub mod guard;
pub mod summaries;

use super::cookies;
use super::errors::{escape, page, ApiError, PageError};
use super::extract::{CommentPath, FormBody, PollIdPath};
use super::protect::{from_our_site, CspNonce};
use super::render::Pages;
use super::AppState;
use crate::services::auth::{KNOWN_BROWSER_DAYS, SESSION_MAX};
use app::domain::{
    AppError, ChoiceKind, DraftOption, EditorIdentity, PollAction, PollDraft, PollId, ResultsVisibility,
};
use app::services::{comments_csv, results_csv, Dashboard};
use app::services::{EditorService, SignInRetry};
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use chrono::{DateTime, NaiveDateTime, Utc};
use guard::{session_token, LOGIN_PATH, MAX_EDITOR_BODY};
use std::net::SocketAddr;
use tower_http::set_header::SetResponseHeaderLayer;

/// The editor's pages other than sign-in: what the editor guard stands in front of.
pub fn is_editor_page(path: &str) -> bool {
    (path == "/editor" || path.starts_with("/editor/")) && path != LOGIN_PATH
}

/// The sign-in form's target, the one editor route outside the guard (it checks its own origin).
pub fn public_routes(pages: Pages) -> Router<AppState> {
    Router::new()
        .route("/editor/session", post(login).layer(Extension(pages)))
        .layer(DefaultBodyLimit::max(MAX_EDITOR_BODY))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
}

/// The editor's forms (the guard is layered on them in `http::router`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(summaries::form_routes())
        .route("/editor/logout", post(logout))
        .route("/editor/polls", post(create_poll))
        .route("/editor/polls/{id}/save", post(update_poll))
        .route("/editor/polls/{id}/actions/{action}", post(act))
        .route("/editor/polls/{id}/comments/{comment}", post(moderate))
        .route("/editor/polls/{id}/export/{file}", get(export))
        .route("/editor/tokens/new", post(create_token))
        .route("/editor/tokens/{id}/revoke", post(revoke_token))
        .layer(DefaultBodyLimit::max(MAX_EDITOR_BODY))
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A form post's fields, or why it could not be read (as the page will say).
pub(super) fn form(body: Result<FormBody, ApiError>) -> Result<Vec<(String, String)>, AppError> {
    body.map(|FormBody(pairs)| pairs).map_err(|ApiError(e)| e)
}

pub(super) fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Only paths inside the editor are followed after sign-in, never another site.
fn local_editor_path(next: Option<&str>) -> &str {
    match next {
        Some(path) if (path == "/editor" || path.starts_with("/editor/")) && !path.contains("//") => path,
        _ => "/editor",
    }
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(pages): Extension<Pages>,
    mut parts: Parts,
    body: Result<FormBody, ApiError>,
) -> Response {
    let headers = parts.headers.clone();
    // Signing someone into the attacker's account is a CSRF attack too.
    if !from_our_site(&headers) {
        return PageError { error: AppError::CsrfFailed, back: LOGIN_PATH.into() }.into_response();
    }
    let pairs = match form(body) {
        Ok(pairs) => pairs,
        Err(error) => return PageError { error, back: LOGIN_PATH.into() }.into_response(),
    };
    let next = local_editor_path(field(&pairs, "next")).to_owned();
    let email = field(&pairs, "email").unwrap_or_default();
    let password = field(&pairs, "password").unwrap_or_default();
    let browser = cookies::read(&headers, cookies::KNOWN_BROWSER).next();
    match state.auth.login(email, password, peer.ip(), browser).await {
        Ok(session) => {
            let mut response = see_other(&next);
            let secure = state.secure_cookies_for(&headers);
            cookies::set(&mut response, cookies::session(session.token, SESSION_MAX, secure));
            let known_for = chrono::Duration::days(KNOWN_BROWSER_DAYS);
            cookies::set(&mut response, cookies::known_browser(session.known_browser, known_for, secure));
            response
        }
        // The sign-in form again, saying why, with the email as it was typed.
        Err(error) => {
            let next = percent_encoding::utf8_percent_encode(&next, percent_encoding::NON_ALPHANUMERIC);
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            parts.extensions.insert(SignInRetry { email: email.to_owned(), error });
            pages.render(parts, &format!("{LOGIN_PATH}?next={next}"), status).await
        }
    }
}

/// Signs out: this session, or with `everywhere=yes` every session and known browser.
async fn logout(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    headers: axum::http::HeaderMap,
    body: Result<FormBody, ApiError>,
) -> Response {
    let everywhere = form(body).is_ok_and(|pairs| field(&pairs, "everywhere") == Some("yes"));
    let ended = match (everywhere, session_token(&headers)) {
        (true, _) => state.auth.sign_out_everywhere(&by).await,
        (false, Some(token)) => state.auth.logout(token, &by).await,
        (false, None) => Ok(()),
    };
    if let Err(error) = ended {
        return PageError { error, back: "/editor".into() }.into_response();
    }
    let mut response = see_other(&format!("{LOGIN_PATH}?signed_out=1"));
    cookies::set(&mut response, cookies::cleared_session(state.secure_cookies_for(&headers)));
    response
}

/// Times from `<input type="datetime-local">` (no zone: taken as UTC, which the form says)
/// or full RFC 3339 from scripts and the in-page editor.
fn form_time(pairs: &[(String, String)], name: &str, label: &str) -> Result<DateTime<Utc>, AppError> {
    let raw = field(pairs, name).map(str::trim).unwrap_or_default();
    if raw.is_empty() {
        return Err(AppError::InvalidPoll(format!("Enter the {label} time.")));
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M").map(|t| t.and_utc()))
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S").map(|t| t.and_utc()))
        .map_err(|_| AppError::InvalidPoll(format!("The {label} time {raw:?} is not a date and time.")))
}

/// The authoring form: one `option_id` and one `option_label` per row, in order; rows left
/// blank (the spare rows offered without JavaScript) are skipped.
fn draft_form(pairs: &[(String, String)]) -> Result<PollDraft, AppError> {
    let ids = pairs.iter().filter(|(n, _)| n == "option_id").map(|(_, v)| v.as_str());
    let labels = pairs.iter().filter(|(n, _)| n == "option_label").map(|(_, v)| v.as_str());
    let options = ids
        .zip(labels)
        .filter(|(id, label)| !id.trim().is_empty() || !label.trim().is_empty())
        .map(|(id, label)| DraftOption {
            id: Some(id.to_owned()).filter(|id| !id.trim().is_empty()),
            label: label.to_owned(),
        })
        .collect();
    let number = |name: &str| -> Result<Option<i64>, AppError> {
        match field(pairs, name).map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| AppError::MalformedRequest(format!("{name} must be a number"))),
        }
    };
    let visibility = field(pairs, "results_visibility").unwrap_or("after_vote");
    let kind = field(pairs, "kind").unwrap_or("single");
    Ok(PollDraft {
        question: field(pairs, "question").unwrap_or_default().to_owned(),
        slug: field(pairs, "slug").map(str::to_owned),
        kind: ChoiceKind::parse(kind)
            .ok_or_else(|| AppError::InvalidPoll(format!("The kind must be single or multiple, not {kind:?}.")))?,
        max_choices: number("max_choices")?.unwrap_or(1).clamp(0, u32::MAX as i64) as u32,
        options,
        allow_comment: field(pairs, "allow_comment").is_some(),
        allow_vote_change: field(pairs, "allow_vote_change").is_some(),
        results_visibility: ResultsVisibility::parse(visibility)
            .ok_or_else(|| AppError::InvalidPoll(format!("Unknown results visibility {visibility:?}.")))?,
        opens_at: form_time(pairs, "opens_at", "opening")?,
        closes_at: form_time(pairs, "closes_at", "closing")?,
        version: number("version")?,
    })
}

fn poll_id(path: Result<PollIdPath, ApiError>) -> Result<PollId, AppError> {
    path.map(|PollIdPath(id)| id).map_err(|ApiError(e)| e)
}

async fn create_poll(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    body: Result<FormBody, ApiError>,
) -> Response {
    let created = async { state.authoring.create_poll(&by, draft_form(&form(body)?)?).await }.await;
    match created {
        Ok(poll) => see_other(&format!("/editor/polls/{}", poll.id)),
        Err(error) => PageError { error, back: "/editor/polls/new".into() }.into_response(),
    }
}

async fn update_poll(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    path: Result<PollIdPath, ApiError>,
    body: Result<FormBody, ApiError>,
) -> Response {
    let back = path.as_ref().map_or("/editor".into(), |PollIdPath(id)| format!("/editor/polls/{id}/edit"));
    let updated = async { state.authoring.update_poll(&by, poll_id(path)?, draft_form(&form(body)?)?).await }.await;
    match updated {
        Ok(poll) => see_other(&format!("/editor/polls/{}", poll.id)),
        Err(error) => PageError { error, back }.into_response(),
    }
}

async fn act(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    path: Result<Path<(i64, String)>, PathRejection>,
    body: Result<FormBody, ApiError>,
) -> Response {
    let Ok(Path((id, action))) = path else {
        return PageError { error: AppError::PollNotFound, back: "/editor".into() }.into_response();
    };
    let back = format!("/editor/polls/{id}");
    let action = PollAction::parse(&action);
    // A step readers feel at once is taken only from its confirmation (the poll's page with
    // `?confirm=`, which asks first); a bare press, from a stale page or a script, lands there.
    if let Some(PollAction::Step(step)) = action {
        let confirmed = form(body).is_ok_and(|pairs| field(&pairs, "confirm") == Some("yes"));
        if step.confirmation().is_some() && !confirmed {
            return see_other(&format!("{back}?confirm={}", step.name()));
        }
    }
    let done = match action {
        // A copy opens in the editor; a step stays on the poll's page.
        Some(PollAction::Duplicate) => state
            .authoring
            .act(&by, PollId(id), PollAction::Duplicate)
            .await
            .map(|copy| format!("/editor/polls/{}/edit", copy.id)),
        Some(action) => state.authoring.act(&by, PollId(id), action).await.map(|_| back.clone()),
        None => Err(AppError::NotFound),
    };
    match done {
        Ok(to) => see_other(&to),
        Err(error) => PageError { error, back }.into_response(),
    }
}

async fn moderate(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    path: Result<CommentPath, ApiError>,
    body: Result<FormBody, ApiError>,
) -> Response {
    let Ok(CommentPath(poll, comment)) = path else {
        return PageError { error: AppError::NotFound, back: "/editor".into() }.into_response();
    };
    // (An unreadable path names no comment: `CommentPath` refuses it as `not_found`.)
    let back = format!("/editor/polls/{poll}");
    let done = async {
        let hidden = match field(&form(body)?, "hidden") {
            Some("true") => true,
            Some("false") => false,
            _ => return Err(AppError::MalformedRequest("hidden must be true or false".into())),
        };
        state.authoring.set_comment_hidden(&by, poll, comment, hidden).await
    }
    .await;
    match done {
        Ok(()) => see_other(&format!("{back}#comment-{comment}")),
        Err(error) => PageError { error, back }.into_response(),
    }
}

/// Which export, as a download: `results.csv`, `comments.csv` or `poll.json`.
fn download(dashboard: &Dashboard, file: &str) -> Result<Response, AppError> {
    let slug = &dashboard.poll.poll.slug;
    let (body, content_type) = match file {
        "results.csv" => (results_csv(&dashboard.results), "text/csv; charset=utf-8"),
        "comments.csv" => (comments_csv(&dashboard.comments), "text/csv; charset=utf-8"),
        "poll.json" => (serde_json::to_string_pretty(dashboard).map_err(|_| AppError::Internal)?, "application/json"),
        _ => return Err(AppError::NotFound),
    };
    let disposition = format!("attachment; filename=\"{slug}-{file}\"");
    Ok(([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response())
}

async fn export(State(state): State<AppState>, path: Result<Path<(i64, String)>, PathRejection>) -> Response {
    let Ok(Path((id, file))) = path else {
        return PageError { error: AppError::NotFound, back: "/editor".into() }.into_response();
    };
    let exported = async { download(&state.authoring.dashboard(PollId(id)).await?, &file) }.await;
    exported.unwrap_or_else(|error| PageError { error, back: format!("/editor/polls/{id}") }.into_response())
}

async fn create_token(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    Extension(CspNonce(nonce)): Extension<CspNonce>,
    body: Result<FormBody, ApiError>,
) -> Response {
    let created = async {
        let pairs = form(body)?;
        let name = field(&pairs, "name").unwrap_or_default().to_owned();
        state.auth.create_api_token(&by, &name).await.map(|token| (name, token))
    }
    .await;
    match created {
        // Shown once, on a page of its own: only the hash is kept.
        Ok((name, token)) => (
            StatusCode::CREATED,
            Html(page(
                "New API token",
                &format!(
                    "<section class=\"poll-card\"><h1>New API token</h1>\
                     <p>Your token <strong>{name}</strong> is below. Copy it now: it will not be shown again.</p>\
                     <p><code class=\"token\" id=\"new-token\">{token}</code></p>\
                     <p><button type=\"button\" class=\"primary\" id=\"copy-token\" hidden>Copy token</button> \
                     <span id=\"copy-said\" role=\"status\"></span></p>\
                     <p>Send it as <code>Authorization: Bearer …</code> to <code>/api/v1/editor/</code>.</p>\
                     <p><a href=\"/editor/tokens\">Back to API tokens</a></p></section>\
                     <script nonce=\"{nonce}\">{COPY_TOKEN_SCRIPT}</script>",
                    name = escape(&name),
                    token = escape(&token),
                    nonce = escape(&nonce),
                ),
            )),
        )
            .into_response(),
        Err(error) => PageError { error, back: "/editor/tokens".into() }.into_response(),
    }
}

/// The new token page's Copy button: shown only where a script runs; the token stays
/// selectable by hand either way (`user-select: all`).
const COPY_TOKEN_SCRIPT: &str = "(function () {\
  var button = document.getElementById('copy-token'), said = document.getElementById('copy-said');\
  if (!navigator.clipboard) return;\
  button.hidden = false;\
  button.addEventListener('click', function () {\
    navigator.clipboard.writeText(document.getElementById('new-token').textContent).then(\
      function () { said.textContent = 'Copied.'; },\
      function () { said.textContent = 'The browser refused: select the token and copy it.'; });\
  });\
})();";

async fn revoke_token(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    path: Result<Path<i64>, PathRejection>,
) -> Response {
    let revoked = async {
        let Path(id) = path.map_err(|_| AppError::NotFound)?;
        state.auth.revoke_api_token(&by, id).await
    }
    .await;
    match revoked {
        Ok(()) => see_other("/editor/tokens"),
        Err(error) => PageError { error, back: "/editor/tokens".into() }.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Form fields as the form parser gives them (the summaries forms' tests use it too).
    pub(super) fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_authoring_form_becomes_a_draft() {
        let draft = draft_form(&pairs(&[
            ("question", "Which?"),
            ("kind", "multiple"),
            ("max_choices", "2"),
            ("option_id", "a"),
            ("option_label", "Alpha"),
            ("option_id", ""),
            ("option_label", ""),
            ("option_id", ""),
            ("option_label", "Beta"),
            ("allow_comment", "on"),
            ("results_visibility", "always"),
            ("opens_at", "2026-12-01T09:00"),
            ("closes_at", "2026-12-08T09:00:00+01:00"),
            ("version", "4"),
        ]))
        .unwrap();
        assert_eq!(draft.options.len(), 2);
        assert_eq!(draft.options[0].id.as_deref(), Some("a"));
        assert_eq!(draft.options[1].id, None);
        assert!(draft.allow_comment && !draft.allow_vote_change);
        assert_eq!(draft.opens_at.to_rfc3339(), "2026-12-01T09:00:00+00:00");
        assert_eq!(draft.closes_at.to_rfc3339(), "2026-12-08T08:00:00+00:00");
        assert_eq!(draft.version, Some(4));
        let bad = draft_form(&pairs(&[("question", "Q"), ("opens_at", "tomorrow"), ("closes_at", "2026-12-08T09:00")]));
        assert_eq!(bad.unwrap_err().code(), "invalid_poll");
    }

    #[test]
    fn sign_in_only_returns_inside_the_editor() {
        assert_eq!(local_editor_path(Some("/editor/polls/3")), "/editor/polls/3");
        assert_eq!(local_editor_path(Some("https://evil.example/editor")), "/editor");
        assert_eq!(local_editor_path(Some("/editor//evil.example")), "/editor");
        assert_eq!(local_editor_path(Some("/polls/x")), "/editor");
        assert_eq!(local_editor_path(None), "/editor");
    }
}
