//! The public JSON API of `api.md`: reader routes and the OpenAPI document.

use super::errors::{body_error, ApiError};
use super::AppState;
use app::domain::{AppError, PollStatus, PollView, ResultsView, VoteReceipt, VoteSource};
use app::services::{Reader, ReaderService};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/polls", get(list_polls))
        .route("/polls/{slug}", get(poll))
        .route("/polls/{slug}/results", get(results))
        .route("/polls/{slug}/votes", post(vote))
        .route("/simulate", get(simulate))
        .route("/openapi.json", get(openapi))
        .merge(super::delivery::api_routes())
        .nest("/editor", super::editor::api::routes())
        .fallback(|| async { ApiError(AppError::NotFound) })
        .method_not_allowed_fallback(|| async {
            ApiError(AppError::MalformedRequest("this method is not allowed on this route".into()))
        })
}

type ApiResult<T> = Result<T, ApiError>;

fn slug_of(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(slug)| slug).map_err(|_| ApiError(AppError::PollNotFound))
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
}

async fn list_polls(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(query) = query.map_err(|e| AppError::MalformedRequest(e.body_text()))?;
    let status = match query.status.as_deref() {
        None | Some("all") => None,
        Some("open") => Some(PollStatus::Open),
        Some("closed") => Some(PollStatus::Closed),
        Some("scheduled") => Some(PollStatus::Scheduled),
        Some(other) => {
            return Err(AppError::MalformedRequest(format!(
                "status must be open, closed, scheduled or all (got {:?})",
                other.chars().take(40).collect::<String>()
            ))
            .into())
        }
    };
    let polls = state.polls.list_polls(status).await?;
    Ok(Json(serde_json::json!({ "polls": polls })))
}

async fn poll(State(state): State<AppState>, path: Result<Path<String>, PathRejection>) -> ApiResult<Json<PollView>> {
    Ok(Json(state.polls.poll(&slug_of(path)?).await?))
}

async fn results(
    State(state): State<AppState>,
    Extension(reader): Extension<Reader>,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<ResultsView>> {
    Ok(Json(state.polls.results(&slug_of(path)?, &reader).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VoteBody {
    choices: Vec<String>,
    #[serde(default)]
    comment: Option<String>,
}

async fn vote(
    State(state): State<AppState>,
    Extension(reader): Extension<Reader>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<VoteReceipt>)> {
    let slug = slug_of(path)?;
    let body = body.map_err(body_error)?;
    let VoteBody { choices, comment } = serde_json::from_slice(&body).map_err(|e| {
        AppError::MalformedRequest(format!("expected {{\"choices\": [...], \"comment\": \"...\"}}: {e}"))
    })?;
    let receipt = state.polls.cast_vote(&slug, &reader, &choices, comment.as_deref(), VoteSource::Api).await?;
    let status = if receipt.recorded { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(receipt)))
}

/// The simulator's model on the server: the same code the browser runs.
async fn simulate(uri: axum::http::Uri) -> ApiResult<Json<serde_json::Value>> {
    let pairs = super::form::form_pairs(uri.query().unwrap_or_default().as_bytes())?;
    let inputs = app::simulator::Inputs::from_query(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .map_err(|e| AppError::InvalidInput(format!("{e}.")))?;
    let outputs = app::simulator::simulate(&inputs);
    let mut body = serde_json::to_value(&outputs).map_err(|_| AppError::Internal)?;
    body["inputs"] = serde_json::to_value(&inputs).map_err(|_| AppError::Internal)?;
    Ok(Json(body))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], include_str!("openapi.json"))
}
