//! Summaries of reader comments over HTTP (`server/src/http/CONTRACT.md`, "Summaries"): the JSON API under
//! `/api/v1/editor/`, a progress stream, and the dashboard's forms (which work without
//! JavaScript and answer with a redirect back to the dashboard).

use super::super::errors::{ApiError, PageError};
use super::super::extract::{FormBody, JsonOrEmpty, PollIdPath, Shape, SummaryIdPath};
use super::super::openapi::{BodyRefusals, EditorRefusals, ErrorBody};
use super::super::AppState;
use super::{field, form};
use app::domain::{AppError, EditorIdentity, PollId, SummaryEdits, SummaryView, ThemeEdit};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use std::time::Duration;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Under `/api/v1/editor`, each route registered with its OpenAPI operation.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, start))
        .routes(routes!(show))
        .routes(routes!(approve))
        .routes(routes!(events))
}

/// `{"summary": …}`, as one summary is answered.
#[derive(serde::Serialize, ToSchema)]
struct OneSummary {
    summary: SummaryView,
}

/// `{"summaries": […]}`, newest first.
#[derive(serde::Serialize, ToSchema)]
struct SummaryList {
    summaries: Vec<SummaryView>,
}

/// The dashboard's forms, under `/editor`.
pub fn form_routes() -> Router<AppState> {
    Router::new()
        .route("/editor/polls/{id}/summaries", post(start_form).get(dashboard))
        .route("/editor/summaries/{id}/approve", post(approve_form).get(|| async { Redirect::to("/editor") }))
        .route("/editor/polls/{id}/summaries/automatic", post(automatic_form).get(dashboard))
}

type ApiResult<T> = Result<T, ApiError>;

#[derive(serde::Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
struct StartBody {
    /// `extractive`, `local` or `openai`; the server's default when left out.
    #[schema(pattern = "^(extractive|local|openai)$")]
    backend: Option<String>,
}

impl Shape for StartBody {
    const EXPECTED: &'static str = r#"{} or {"backend": "extractive"|"local"|"openai"}"#;
}

impl Shape for SummaryEdits {
    const EXPECTED: &'static str = r#"{} or {"overview": "…", "themes": [{"title": "…"}, …]}"#;
}

/// Summarise the poll's comments: 202 with the queued job, or 200 with the one already running.
#[utoipa::path(post, path = "/polls/{id}/summaries", operation_id = "editorStartSummary", security(("apiToken" = [])),
    params(("id" = i64, Path, description = "The poll's id")), request_body(content = StartBody, description = "`{}` or empty for the default backend"),
    responses(
    (status = 202, description = "Queued", body = OneSummary),
    (status = 200, description = "One was already queued or running", body = OneSummary),
    (status = 404, description = "poll_not_found", body = ErrorBody),
    (status = 422, description = "backend_unavailable", body = ErrorBody),
    EditorRefusals, BodyRefusals,
))]
async fn start(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    PollIdPath(poll): PollIdPath,
    JsonOrEmpty(request): JsonOrEmpty<StartBody>,
) -> ApiResult<Response> {
    let (summary, created) = state.summaries.start(poll.0, request.backend.as_deref(), Some(&by)).await?;
    let status = if created { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, Json(OneSummary { summary })).into_response())
}

/// The poll's summaries, newest first.
#[utoipa::path(get, path = "/polls/{id}/summaries", operation_id = "editorListSummaries", security(("apiToken" = [])),
    params(("id" = i64, Path, description = "The poll's id")), responses(
    (status = 200, description = "The summaries", body = SummaryList),
    (status = 404, description = "poll_not_found", body = ErrorBody),
    EditorRefusals,
))]
async fn list(State(state): State<AppState>, PollIdPath(poll): PollIdPath) -> ApiResult<Json<SummaryList>> {
    Ok(Json(SummaryList { summaries: state.summaries.list(poll.0).await? }))
}

/// One summary: status and progress while it runs; themes, quotes, overview and checks once done.
#[utoipa::path(get, path = "/summaries/{summary_id}", operation_id = "editorGetSummary", security(("apiToken" = [])),
    params(("summary_id" = i64, Path, description = "The summary's id")), responses(
    (status = 200, description = "The summary", body = OneSummary),
    (status = 404, description = "summary_not_found", body = ErrorBody),
    EditorRefusals,
))]
async fn show(State(state): State<AppState>, SummaryIdPath(id): SummaryIdPath) -> ApiResult<Json<OneSummary>> {
    Ok(Json(OneSummary { summary: state.summaries.get(id).await? }))
}

/// Approves a finished summary for readers, optionally with edited titles and overview,
/// which are checked against the data again.
#[utoipa::path(post, path = "/summaries/{summary_id}/approve", operation_id = "editorApproveSummary",
    security(("apiToken" = [])), params(("summary_id" = i64, Path, description = "The summary's id")),
    request_body(content = SummaryEdits, description = "`{}` or empty to approve as it is"), responses(
    (status = 200, description = "The approved summary", body = OneSummary),
    (status = 404, description = "summary_not_found", body = ErrorBody),
    (status = 409, description = "summary_not_ready", body = ErrorBody),
    (status = 422, description = "summary_check_failed: what failed", body = ErrorBody),
    EditorRefusals, BodyRefusals,
))]
async fn approve(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    SummaryIdPath(id): SummaryIdPath,
    JsonOrEmpty(edits): JsonOrEmpty<SummaryEdits>,
) -> ApiResult<Json<OneSummary>> {
    Ok(Json(OneSummary { summary: state.summaries.approve(id, &by, edits).await? }))
}

/// `summary` events (the summary as `GET` gives it) whenever its status or progress moves,
/// ending once it is done or failed. Read from the database, so progress made by a worker in
/// another instance shows too.
#[utoipa::path(get, path = "/summaries/{summary_id}/events", operation_id = "editorSummaryEvents",
    security(("apiToken" = [])), params(("summary_id" = i64, Path, description = "The summary's id")), responses(
    (status = 200, description = "The event stream: `summary` events, each the summary as JSON", content_type = "text/event-stream", body = crate::http::openapi::SummaryEvent),
    (status = 404, description = "summary_not_found", body = ErrorBody),
    EditorRefusals,
))]
async fn events(State(state): State<AppState>, SummaryIdPath(id): SummaryIdPath) -> ApiResult<Response> {
    let first = state.summaries.get(id).await?;
    let permit = state.listeners.clone().try_acquire_owned().map_err(|_| AppError::TooManyListeners)?;
    let start = (state.summaries.clone(), Some(first), None::<String>, false, permit);
    let stream =
        futures_util::stream::unfold(start, move |(summaries, mut next, mut sent, finished, permit)| async move {
            if finished {
                return None;
            }
            loop {
                let current = match next.take() {
                    Some(s) => s,
                    None => {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        summaries.get(id).await.ok()?
                    }
                };
                let json = serde_json::to_string(&current).ok()?;
                if sent.as_deref() != Some(json.as_str()) {
                    let done = current.finished();
                    sent = Some(json.clone());
                    let event = Event::default().event("summary").data(json);
                    return Some((Ok::<_, std::convert::Infallible>(event), (summaries, None, sent, done, permit)));
                }
            }
        });
    let mut response = Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// A GET of the form's address (a reload after the redirect): the dashboard.
async fn dashboard(path: Result<PollIdPath, ApiError>) -> Redirect {
    match path {
        Ok(PollIdPath(poll)) => Redirect::to(&format!("/editor/polls/{poll}#summary")),
        Err(_) => Redirect::to("/editor"),
    }
}

async fn start_form(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    path: Result<PollIdPath, ApiError>,
    body: Result<FormBody, ApiError>,
) -> Response {
    let (state, by) = (&state, &by);
    from_dashboard(path, body, move |poll, pairs| async move {
        let backend = field(&pairs, "backend").filter(|b| !b.is_empty());
        state.summaries.start(poll.0, backend, Some(by)).await.map(|_| ())
    })
    .await
}

/// Field `on`: `true` or `false`: whether closing the poll queues a summary.
async fn automatic_form(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    path: Result<PollIdPath, ApiError>,
    body: Result<FormBody, ApiError>,
) -> Response {
    let (state, by) = (&state, &by);
    from_dashboard(path, body, move |poll, pairs| async move {
        let on = match field(&pairs, "on") {
            Some("true") => true,
            Some("false") => false,
            _ => return Err(AppError::MalformedRequest("on must be true or false".into())),
        };
        state.summaries.set_summarise_on_close(by, poll.0, on).await
    })
    .await
}

/// A form posted from a poll's dashboard: `act` on its fields, then back to the dashboard's
/// summary section, or an error page with a link there.
async fn from_dashboard<Act, Done>(
    path: Result<PollIdPath, ApiError>,
    body: Result<FormBody, ApiError>,
    act: Act,
) -> Response
where
    Act: FnOnce(PollId, Vec<(String, String)>) -> Done,
    Done: std::future::Future<Output = Result<(), AppError>>,
{
    let Ok(PollIdPath(poll)) = path else {
        return PageError { error: AppError::PollNotFound, back: "/editor".into() }.into_response();
    };
    let back = format!("/editor/polls/{poll}");
    match async { act(poll, form(body)?).await }.await {
        Ok(()) => Redirect::to(&format!("{back}#summary")).into_response(),
        Err(error) => PageError { error, back }.into_response(),
    }
}

/// Fields: `overview`, and `title-N` (or `title-N-M-…`: one shared reason's themes) with the
/// title of the themes at those positions; themes without a field keep theirs.
async fn approve_form(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    path: Result<SummaryIdPath, ApiError>,
    body: Result<FormBody, ApiError>,
) -> Response {
    let Ok(SummaryIdPath(id)) = path else {
        return PageError { error: AppError::SummaryNotFound, back: "/editor".into() }.into_response();
    };
    let back = match state.summaries.get(id).await {
        Ok(summary) => format!("/editor/polls/{}", summary.poll_id),
        Err(error) => return PageError { error, back: "/editor".into() }.into_response(),
    };
    let done = async {
        let pairs = form(body)?;
        let edits = SummaryEdits {
            overview: field(&pairs, "overview").map(str::to_owned),
            titles: None,
            themes: title_fields(&pairs)?,
        };
        state.summaries.approve(id, &by, edits).await
    }
    .await;
    match done {
        Ok(_) => Redirect::to(&format!("{back}#summary")).into_response(),
        Err(error) => PageError { error, back }.into_response(),
    }
}

/// The `title-N-M-…` fields as edits by theme position; `None` when there are none.
fn title_fields(pairs: &[(String, String)]) -> Result<Option<Vec<ThemeEdit>>, AppError> {
    let mut edits: Vec<ThemeEdit> = Vec::new();
    for (name, value) in pairs {
        let Some(positions) = name.strip_prefix("title-") else { continue };
        for position in positions.split('-') {
            let n: usize = position
                .parse()
                .ok()
                .filter(|n| *n < 1_000)
                .ok_or_else(|| AppError::InvalidInput(format!("{name:?} names no theme")))?;
            if edits.len() <= n {
                edits.resize(n + 1, ThemeEdit::default());
            }
            edits[n].title = Some(value.clone());
        }
    }
    Ok((!edits.is_empty()).then_some(edits))
}

#[cfg(test)]
mod tests {
    use super::super::tests::pairs;
    use super::*;

    #[test]
    fn one_title_field_sets_every_theme_of_a_shared_reason() {
        let edits = title_fields(&pairs(&[("overview", "o"), ("title-0", "Own"), ("title-3-1", "Shared")])).unwrap();
        let titles: Vec<Option<String>> = edits.unwrap().into_iter().map(|e| e.title).collect();
        let titles: Vec<Option<&str>> = titles.iter().map(Option::as_deref).collect();
        assert_eq!(titles, vec![Some("Own"), Some("Shared"), None, Some("Shared")]);
        assert_eq!(title_fields(&pairs(&[("overview", "o")])).unwrap(), None);
        for bad in ["title-", "title-x", "title-1-", "title-99999"] {
            assert!(matches!(title_fields(&pairs(&[(bad, "t")])), Err(AppError::InvalidInput(_))), "{bad}");
        }
    }
}
