//! The editor JSON API under `/api/v1/editor/`, for scripts: the same operations as the
//! editor pages, authenticated by `Authorization: Bearer <API token>` (or a session).

use super::super::errors::{body_error, ApiError};
use super::super::AppState;
use super::{download, guard::MAX_EDITOR_BODY};
use app::domain::{AppError, AuditView, Dashboard, EditorIdentity, EditorPoll, Esp, PollDraft, Transition};
use app::services::EditorService;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/polls", get(list).post(create))
        .route("/polls/{id}", get(show).put(update))
        .route("/polls/{id}/results", get(results))
        .route("/polls/{id}/export", get(export))
        .route("/polls/{id}/email-block", get(email_block))
        .route("/polls/{id}/events", get(super::super::delivery::editor_events))
        .route("/polls/{id}/comments/{comment}", post(moderate))
        .route("/polls/{id}/{action}", post(act))
        .route("/audit", get(audit))
        .merge(super::summaries::api_routes())
        .layer(DefaultBodyLimit::max(MAX_EDITOR_BODY))
}

type ApiResult<T> = Result<T, ApiError>;

fn id_of(path: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    path.map(|Path(id)| id).map_err(|_| ApiError(AppError::PollNotFound))
}

fn json_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>, shape: &str) -> Result<T, AppError> {
    let body = body.map_err(body_error)?;
    serde_json::from_slice(&body).map_err(|e| AppError::MalformedRequest(format!("expected {shape}: {e}")))
}

async fn list(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(serde_json::json!({ "polls": state.authoring.polls().await? })))
}

async fn show(State(state): State<AppState>, path: Result<Path<i64>, PathRejection>) -> ApiResult<Json<EditorPoll>> {
    Ok(Json(state.authoring.poll(id_of(path)?).await?))
}

async fn create(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<EditorPoll>)> {
    let draft: PollDraft = json_body(body, "a poll draft")?;
    Ok((StatusCode::CREATED, Json(state.authoring.create_poll(&by, draft).await?)))
}

async fn update(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    path: Result<Path<i64>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<EditorPoll>> {
    let id = id_of(path)?;
    let draft: PollDraft = json_body(body, "a poll draft with its \"version\"")?;
    Ok(Json(state.authoring.update_poll(&by, id, draft).await?))
}

async fn act(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    path: Result<Path<(i64, String)>, PathRejection>,
) -> ApiResult<Response> {
    let Path((id, action)) = path.map_err(|_| ApiError(AppError::PollNotFound))?;
    if action == "duplicate" {
        return Ok((StatusCode::CREATED, Json(state.authoring.duplicate(&by, id).await?)).into_response());
    }
    let transition = Transition::parse(&action).ok_or(AppError::NotFound)?;
    Ok(Json(state.authoring.transition(&by, id, transition).await?).into_response())
}

async fn results(State(state): State<AppState>, path: Result<Path<i64>, PathRejection>) -> ApiResult<Json<Dashboard>> {
    Ok(Json(state.authoring.dashboard(id_of(path)?).await?))
}

#[derive(Deserialize)]
struct ExportQuery {
    #[serde(default = "json")]
    format: String,
    #[serde(default = "results_only")]
    what: String,
}

fn json() -> String {
    "json".into()
}
fn results_only() -> String {
    "results".into()
}

async fn export(
    State(state): State<AppState>,
    path: Result<Path<i64>, PathRejection>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let id = id_of(path)?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Moderation {
    hidden: bool,
}

async fn moderate(
    State(state): State<AppState>,
    Extension(by): Extension<EditorIdentity>,
    path: Result<Path<(i64, i64)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<StatusCode> {
    let Path((poll, comment)) = path.map_err(|_| ApiError(AppError::NotFound))?;
    let Moderation { hidden } = json_body(body, "{\"hidden\": true|false}")?;
    state.authoring.set_comment_hidden(&by, poll, comment, hidden).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct EmailBlockQuery {
    esp: Option<String>,
}

/// The email block for one ESP (`api.md`, "Delivery"): HTML, text and the vote links.
async fn email_block(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    path: Result<Path<i64>, PathRejection>,
    query: Result<Query<EmailBlockQuery>, QueryRejection>,
) -> ApiResult<Json<crate::delivery::email::EmailBlock>> {
    let id = id_of(path)?;
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

async fn audit(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let entries: Vec<AuditView> = state.authoring.audit_log().await?;
    Ok(Json(serde_json::json!({ "entries": entries })))
}
