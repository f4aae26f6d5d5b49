//! The editor JSON API under `/api/v1/editor/`, for scripts: the same operations as the
//! editor pages, authenticated by `Authorization: Bearer <API token>` (or a session).

use super::super::errors::ApiError;
use super::super::extract::{CommentPath, JsonBody, PollIdPath, Shape};
use super::super::openapi::{BodyRefusals, EditorRefusals, ErrorBody};
use super::super::AppState;
use super::{download, guard::MAX_EDITOR_BODY};
use app::domain::{AppError, AuditView, EditorIdentity, Esp, PollAction, PollDraft, PollId, Transition};
use app::services::EditorService;
use app::services::{Dashboard, EditorPoll};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The editor API, each route registered with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
        .routes(routes!(results))
        .routes(routes!(export))
        .routes(routes!(email_block))
        .routes(routes!(super::super::delivery::editor_events))
        .routes(routes!(moderate))
        .routes(routes!(schedule))
        .routes(routes!(unschedule))
        .routes(routes!(open))
        .routes(routes!(close))
        .routes(routes!(reopen))
        .routes(routes!(archive))
        .routes(routes!(duplicate))
        .routes(routes!(audit))
        .merge(super::summaries::api_routes())
        .layer(DefaultBodyLimit::max(MAX_EDITOR_BODY))
}

/// The `{id}` of a poll, as the editor API names polls.
#[derive(IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
#[allow(dead_code)] // Describes the path parameter for the document.
struct PollIdParam(i64);

#[derive(Serialize, ToSchema)]
struct EditorPollList {
    polls: Vec<EditorPoll>,
}

#[derive(Serialize, ToSchema)]
struct AuditLog {
    /// Newest first.
    entries: Vec<AuditView>,
}

type ApiResult<T> = Result<T, ApiError>;

/// Every poll, drafts included, newest first.
#[utoipa::path(get, path = "/polls", operation_id = "editorListPolls", security(("apiToken" = [])), responses(
    (status = 200, description = "The polls", body = EditorPollList),
    EditorRefusals,
))]
async fn list(State(state): State<AppState>) -> ApiResult<Json<EditorPollList>> {
    Ok(Json(EditorPollList { polls: state.authoring.polls().await? }))
}

/// One poll, with its stage, version and vote count.
#[utoipa::path(get, path = "/polls/{id}", operation_id = "editorGetPoll", security(("apiToken" = [])),
    params(PollIdParam), responses(
    (status = 200, description = "The poll", body = EditorPoll),
    (status = 404, description = "poll_not_found", body = ErrorBody),
    EditorRefusals,
))]
async fn show(State(state): State<AppState>, PollIdPath(id): PollIdPath) -> ApiResult<Json<EditorPoll>> {
    Ok(Json(state.authoring.poll(id).await?))
}

/// A new draft; the slug is made from the question when not given (`-2`, `-3`… if taken).
#[utoipa::path(post, path = "/polls", operation_id = "editorCreatePoll", security(("apiToken" = [])),
    request_body = PollDraft, responses(
    (status = 201, description = "The draft", body = EditorPoll),
    (status = 409, description = "slug_taken", body = ErrorBody),
    (status = 422, description = "invalid_poll: what is wrong, in words", body = ErrorBody),
    EditorRefusals, BodyRefusals,
))]
async fn create(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    JsonBody(draft): JsonBody<PollDraft>,
) -> ApiResult<(StatusCode, Json<EditorPoll>)> {
    Ok((StatusCode::CREATED, Json(state.authoring.create_poll(&by, draft).await?)))
}

/// Replaces the poll, if it is still at the `version` the draft names.
#[utoipa::path(put, path = "/polls/{id}", operation_id = "editorUpdatePoll", security(("apiToken" = [])),
    params(PollIdParam), request_body = PollDraft, responses(
    (status = 200, description = "The poll as saved", body = EditorPoll),
    (status = 404, description = "poll_not_found", body = ErrorBody),
    (status = 409, description = "stale_edit, edit_refused or slug_taken", body = ErrorBody),
    (status = 422, description = "invalid_poll", body = ErrorBody),
    EditorRefusals, BodyRefusals,
))]
async fn update(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    PollIdPath(id): PollIdPath,
    JsonBody(draft): JsonBody<PollDraft>,
) -> ApiResult<Json<EditorPoll>> {
    Ok(Json(state.authoring.update_poll(&by, id, draft).await?))
}

/// Moves a poll through its workflow.
async fn transition(
    state: &AppState,
    by: &EditorIdentity,
    id: PollId,
    step: Transition,
) -> ApiResult<Json<EditorPoll>> {
    Ok(Json(state.authoring.act(by, id, PollAction::Step(step)).await?))
}

/// One workflow step's handler and its documented operation. A macro because each step needs
/// its own `#[utoipa::path]` (its own path and operation id); the work is `transition`.
macro_rules! workflow_step {
    ($name:ident, $path:literal, $operation:literal, $step:expr, $what:literal) => {
        #[doc = $what]
        #[utoipa::path(post, path = $path, operation_id = $operation, security(("apiToken" = [])),
                    params(PollIdParam), responses(
                    (status = 200, description = "The poll at its new stage", body = EditorPoll),
                    (status = 404, description = "poll_not_found", body = ErrorBody),
                    (status = 409, description = "edit_refused: not possible from the poll's stage", body = ErrorBody),
    EditorRefusals,
))]
        async fn $name(
            State(state): State<AppState>,
            Extension(by): Extension<EditorIdentity>,
            PollIdPath(id): PollIdPath,
        ) -> ApiResult<Json<EditorPoll>> {
            transition(&state, &by, id, $step).await
        }
    };
}

workflow_step!(schedule, "/polls/{id}/schedule", "editorSchedule", Transition::Schedule, "Draft → scheduled.");
workflow_step!(unschedule, "/polls/{id}/unschedule", "editorUnschedule", Transition::Unschedule, "Scheduled → draft.");
workflow_step!(open, "/polls/{id}/open", "editorOpen", Transition::OpenNow, "Opens now (moves the start to now).");
workflow_step!(close, "/polls/{id}/close", "editorClose", Transition::CloseNow, "Closes now (moves the end to now).");
workflow_step!(
    reopen,
    "/polls/{id}/reopen",
    "editorReopen",
    Transition::Reopen,
    "Closed → open again for a day (until archived)."
);
workflow_step!(archive, "/polls/{id}/archive", "editorArchive", Transition::Archive, "Closed → archived.");

/// A new draft with the poll's question and options.
#[utoipa::path(post, path = "/polls/{id}/duplicate", operation_id = "editorDuplicate", security(("apiToken" = [])),
    params(PollIdParam), responses(
    (status = 201, description = "The new draft", body = EditorPoll),
    (status = 404, description = "poll_not_found", body = ErrorBody),
    (status = 409, description = "slug_taken", body = ErrorBody),
    EditorRefusals,
))]
async fn duplicate(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    PollIdPath(id): PollIdPath,
) -> ApiResult<(StatusCode, Json<EditorPoll>)> {
    Ok((StatusCode::CREATED, Json(state.authoring.act(&by, id, PollAction::Duplicate).await?)))
}

/// The results dashboard: counts, votes by hour and by source, comments, the latest summary.
#[utoipa::path(get, path = "/polls/{id}/results", operation_id = "editorResults", security(("apiToken" = [])),
    params(PollIdParam), responses(
    (status = 200, description = "The dashboard", body = Dashboard),
    (status = 404, description = "poll_not_found", body = ErrorBody),
    EditorRefusals,
))]
async fn results(State(state): State<AppState>, PollIdPath(id): PollIdPath) -> ApiResult<Json<Dashboard>> {
    Ok(Json(state.authoring.dashboard(id).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    /// `json` (the dashboard) or `csv`.
    #[serde(default = "json")]
    #[param(pattern = "^(json|csv)$")]
    format: String,
    /// For csv: `results` or `comments`.
    #[serde(default = "results_only")]
    #[param(pattern = "^(results|comments)$")]
    what: String,
}

fn json() -> String {
    "json".into()
}
fn results_only() -> String {
    "results".into()
}

/// A download: the dashboard as JSON, or the results or comments as CSV.
#[utoipa::path(get, path = "/polls/{id}/export", operation_id = "editorExport", security(("apiToken" = [])),
    params(PollIdParam, ExportQuery), responses(
    (status = 200, description = "The file (`Content-Disposition: attachment`)", content(
        (Dashboard = "application/json"),
        (String = "text/csv"),
    )),
    (status = 404, description = "poll_not_found", body = ErrorBody),
    EditorRefusals,
))]
async fn export(
    State(state): State<AppState>,
    PollIdPath(id): PollIdPath,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) = query.map_err(|e| AppError::MalformedRequest(e.body_text()))?;
    let file = match (query.format.as_str(), query.what.as_str()) {
        ("json", _) => "poll.json",
        ("csv", "results") => "results.csv",
        ("csv", "comments") => "comments.csv",
        _ => {
            return Err(AppError::MalformedRequest(
                "format must be json or csv; what (for csv) must be results or comments".into(),
            )
            .into())
        }
    };
    Ok(download(&state.authoring.dashboard(id).await?, file)?)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Moderation {
    /// True hides the comment from readers and summaries; false shows it again.
    hidden: bool,
}

impl Shape for Moderation {
    const EXPECTED: &'static str = r#"{"hidden": true|false}"#;
}

/// Hides or shows a reader's comment.
#[utoipa::path(post, path = "/polls/{id}/comments/{comment}", operation_id = "editorModerateComment",
    security(("apiToken" = [])), request_body = Moderation,
    params(PollIdParam, ("comment" = i64, Path, description = "The comment's id")), responses(
    (status = 204, description = "Done"),
    (status = 404, description = "not_found", body = ErrorBody),
    EditorRefusals, BodyRefusals,
))]
async fn moderate(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    CommentPath(poll, comment): CommentPath,
    JsonBody(Moderation { hidden }): JsonBody<Moderation>,
) -> ApiResult<StatusCode> {
    state.authoring.set_comment_hidden(&by, poll, comment, hidden).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EmailBlockQuery {
    /// The email service, whose merge tag fills in the subscriber (default `generic`).
    #[param(inline, value_type = Option<Esp>)]
    esp: Option<String>,
}

/// The email block for one ESP (`server/src/http/CONTRACT.md`, "Delivery"): HTML, text and the vote links.
#[utoipa::path(get, path = "/polls/{id}/email-block", operation_id = "editorEmailBlock", security(("apiToken" = [])),
    params(PollIdParam, EmailBlockQuery), responses(
    (status = 200, description = "The block", body = crate::delivery::email::EmailBlock),
    (status = 404, description = "poll_not_found", body = ErrorBody),
    (status = 422, description = "invalid_input: an unknown esp", body = ErrorBody),
    EditorRefusals,
))]
async fn email_block(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    PollIdPath(id): PollIdPath,
    query: Result<Query<EmailBlockQuery>, QueryRejection>,
) -> ApiResult<Json<crate::delivery::email::EmailBlock>> {
    let Query(query) = query.map_err(|e| AppError::MalformedRequest(e.body_text()))?;
    let esp = match query.esp.as_deref() {
        None | Some("") => Esp::Generic,
        Some(name) => Esp::parse(name).ok_or_else(|| {
            let names: Vec<&str> = Esp::ALL.iter().map(|e| e.name()).collect();
            AppError::InvalidInput(format!(
                "esp must be one of {} (got {:?}).",
                names.join(", "),
                name.chars().take(30).collect::<String>()
            ))
        })?,
    };
    let poll = state.authoring.poll(id).await?;
    Ok(Json(crate::delivery::email::block(&state.origin(&headers), &state.email_links, &poll.poll, esp)))
}

/// The audit log: who did what, when.
#[utoipa::path(get, path = "/audit", operation_id = "editorAudit", security(("apiToken" = [])), responses(
    (status = 200, description = "The log", body = AuditLog),
    EditorRefusals,
))]
async fn audit(State(state): State<AppState>) -> ApiResult<Json<AuditLog>> {
    Ok(Json(AuditLog { entries: state.authoring.audit_log().await? }))
}
