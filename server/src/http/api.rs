//! The public JSON API of `server/src/http/CONTRACT.md`: reader routes and the OpenAPI document.

use super::errors::ApiError;
use super::extract::{JsonBody, Shape, SlugPath};
use super::openapi::{ErrorBody, SimulatorQuery};
use super::AppState;
use app::domain::{AppError, PollStatus, PollView, ResultsView, VoteReceipt, VoteSource};
use app::services::{Reader, ReaderService};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes under `/api/v1`, each registered with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_polls))
        .routes(routes!(poll))
        .routes(routes!(results))
        .routes(routes!(vote))
        .routes(routes!(simulate))
        .routes(routes!(openapi))
        .merge(super::delivery::api_routes())
}

/// What `/api/v1` answers outside its routes (added once the document is taken).
pub fn fallbacks(router: Router<AppState>) -> Router<AppState> {
    router.fallback(|| async { ApiError(AppError::NotFound) }).method_not_allowed_fallback(|| async {
        ApiError(AppError::MalformedRequest("this method is not allowed on this route".into()))
    })
}

/// The document served at `/api/v1/openapi.json`, made once when the routes are built.
pub static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

type ApiResult<T> = Result<T, ApiError>;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Which polls: `open`, `closed`, `scheduled` or `all` (the default).
    #[param(pattern = "^(open|closed|scheduled|all)$")]
    status: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct PollList {
    polls: Vec<PollView>,
}

/// List published polls, newest first.
#[utoipa::path(get, path = "/polls", operation_id = "listPolls", params(ListQuery), responses(
    (status = 200, description = "The polls", body = PollList),
    (status = 400, description = "malformed_request: an unknown status", body = ErrorBody),
    (status = 503, description = "service_unavailable", body = ErrorBody),
))]
async fn list_polls(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<PollList>> {
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
    Ok(Json(PollList { polls }))
}

/// One published poll.
#[utoipa::path(get, path = "/polls/{slug}", operation_id = "getPoll", params(SlugParam), responses(
    (status = 200, description = "The poll", body = PollView),
    (status = 404, description = "poll_not_found", body = ErrorBody),
    (status = 503, description = "service_unavailable", body = ErrorBody),
))]
async fn poll(State(state): State<AppState>, SlugPath(slug): SlugPath) -> ApiResult<Json<PollView>> {
    Ok(Json(state.polls.poll(&slug).await?))
}

/// The results, where the poll's visibility rule lets this caller see them.
#[utoipa::path(get, path = "/polls/{slug}/results", operation_id = "getResults", params(SlugParam), responses(
    (status = 200, description = "Counts and percents; the shown percents are consistent with the counts", body = ResultsView),
    (status = 403, description = "results_hidden", body = ErrorBody),
    (status = 404, description = "poll_not_found", body = ErrorBody),
    (status = 503, description = "service_unavailable", body = ErrorBody),
))]
async fn results(
    State(state): State<AppState>,
    Extension(reader): Extension<Reader>,
    SlugPath(slug): SlugPath,
) -> ApiResult<Json<ResultsView>> {
    Ok(Json(state.polls.results(&slug, &reader).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VoteRequest)]
struct VoteBody {
    choices: Vec<String>,
    #[serde(default)]
    comment: Option<String>,
}

impl Shape for VoteBody {
    const EXPECTED: &'static str = r#"{"choices": [...], "comment": "..."}"#;
}

/// Vote. The voter is the holder of the `pt_voter` cookie (set on first contact).
#[utoipa::path(post, path = "/polls/{slug}/votes", operation_id = "vote", params(SlugParam), request_body = VoteBody,
    responses(
        (status = 201, description = "Recorded", body = VoteReceipt),
        (status = 200, description = "This voter had voted: the stored (or, where allowed, changed) vote", body = VoteReceipt),
        (status = 400, description = "malformed_request", body = ErrorBody),
        (status = 403, description = "cross_site_request: sent by a page on another site", body = ErrorBody),
        (status = 404, description = "poll_not_found", body = ErrorBody),
        (status = 409, description = "poll_not_open", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody),
        (status = 415, description = "unsupported_media_type: the body must be application/json", body = ErrorBody),
        (status = 422, description = "invalid_choices, comment_too_long or comment_not_allowed", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "service_unavailable", body = ErrorBody),
    ))]
async fn vote(
    State(state): State<AppState>,
    Extension(reader): Extension<Reader>,
    SlugPath(slug): SlugPath,
    JsonBody(VoteBody { choices, comment }): JsonBody<VoteBody>,
) -> ApiResult<(StatusCode, Json<VoteReceipt>)> {
    let receipt = state.polls.cast_vote(&slug, &reader, &choices, comment.as_deref(), VoteSource::Api).await?;
    let status = if receipt.recorded { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(receipt)))
}

/// The compute-doubling simulator: the same model the /simulator page runs in the browser.
#[utoipa::path(get, path = "/simulate", operation_id = "simulate", params(SimulatorQuery), responses(
    (status = 200, description = "At the horizon: GPUs, H100 equivalents, costs, power, trainable models; the \
        month-by-month series; and the inputs used", body = Object),
    (status = 400, description = "malformed_request: the query is not valid UTF-8", body = ErrorBody),
    (status = 422, description = "invalid_input: the message starts with the field's name", body = ErrorBody),
))]
async fn simulate(uri: axum::http::Uri) -> ApiResult<Json<serde_json::Value>> {
    let pairs = super::extract::form_pairs(uri.query().unwrap_or_default().as_bytes())?;
    let inputs = app::simulator::Inputs::from_query(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .map_err(|e| AppError::InvalidInput(format!("{e}.")))?;
    let outputs = app::simulator::simulate(&inputs);
    let mut body = serde_json::to_value(&outputs).map_err(|_| AppError::Internal)?;
    body["inputs"] = serde_json::to_value(&inputs).map_err(|_| AppError::Internal)?;
    Ok(Json(body))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", operation_id = "openapi", responses(
    (status = 200, description = "OpenAPI 3.1", body = Object),
))]
async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT.get().cloned().unwrap_or_default())
}

/// The `{slug}` of a poll's address.
#[derive(IntoParams)]
#[into_params(names("slug"), parameter_in = Path)]
#[allow(dead_code)] // Describes the path parameter for the document.
struct SlugParam(#[param(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 80)] String);
