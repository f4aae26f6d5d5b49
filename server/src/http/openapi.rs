//! The OpenAPI document of the HTTP contract (`server/src/http/CONTRACT.md`), generated from the code: every
//! documented route is registered through `utoipa_axum::routes!` from a handler's
//! `#[utoipa::path]` (so a route cannot be served undocumented, nor documented unserved),
//! and the schemas come from the types the handlers exchange (`ToSchema`).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Polltelligence API",
        version = "1.0.0",
        description = "Reader routes, and the editor API under /api/v1/editor/. Readers: the voter is the holder \
            of the signed, HttpOnly `pt_voter` cookie set on first contact; a client that keeps cookies is one voter. \
            Editors: send `Authorization: Bearer <token>` with an API token (the editor's API tokens page, or \
            `polltelligence editor token`); a signed-in browser session also works, with its CSRF token in \
            `X-CSRF-Token` on writes. Every 4xx/5xx from /api/ is `{\"error\": {\"code\", \"message\"}}`. \
            Writes that a browser marks as coming from another site are refused (403 `cross_site_request`); \
            JSON bodies must be sent as `application/json` (415 otherwise).",
        license(name = "MIT")
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security)
)]
pub struct ApiDoc;

/// The two bearer schemes: editors' API tokens, and the operator's metrics token.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |what: &str| {
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(what)).build())
        };
        components.add_security_scheme("apiToken", bearer("An editor's API token (`pt_…`)"));
        components.add_security_scheme("metricsToken", bearer("POLLTELLIGENCE_METRICS_TOKEN"));
    }
}

/// The complete document as JSON: the routes under `/api/v1` and those at the root (oEmbed,
/// images, health, metrics), in the document's frame.
pub fn document(api_v1: utoipa::openapi::OpenApi, root: utoipa::openapi::OpenApi) -> String {
    let mut doc = ApiDoc::openapi().nest("/api/v1", api_v1);
    doc.merge(root);
    let mut json = serde_json::to_value(&doc).expect("the OpenAPI document serialises");
    // utoipa has no `contentSchema` keyword: it says which schema an event's JSON data has.
    for (event, data) in [("ResultsEvent", "ResultsView"), ("SummaryEvent", "SummaryView")] {
        let has_data = json.pointer(&format!("/components/schemas/{data}")).is_some();
        if let Some(field) =
            json.pointer_mut(&format!("/components/schemas/{event}/properties/data")).filter(|_| has_data)
        {
            field["contentSchema"] = serde_json::json!({"$ref": format!("#/components/schemas/{data}")});
        }
    }
    json.to_string()
}

/// One event of a `text/event-stream` whose data is JSON. OpenAPI 3.1 has no `itemSchema`, so
/// this is the stream's schema, which Schemathesis reads as each event's.
fn event_schema(name: &str, data: &str) -> RefOr<Schema> {
    use utoipa::openapi::schema::Type;
    let string = || ObjectBuilder::new().schema_type(Type::String);
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("event", string().enum_values(Some([name])))
        .property("data", string().content_media_type("application/json").description(Some(format!("{data} as JSON"))))
        .property("retry", ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
        .property("id", string())
        .required("event")
        .required("data")
        .into()
}

/// A live-results event: `results`, the poll's results as data.
pub struct ResultsEvent;

impl PartialSchema for ResultsEvent {
    fn schema() -> RefOr<Schema> {
        event_schema("results", "The results (`ResultsView`)")
    }
}

impl ToSchema for ResultsEvent {}

/// A summary's progress event: `summary`, the summary as `GET` gives it.
pub struct SummaryEvent;

impl PartialSchema for SummaryEvent {
    fn schema() -> RefOr<Schema> {
        event_schema("summary", "The summary (`SummaryView`)")
    }
}

impl ToSchema for SummaryEvent {}

/// Every error body: `{"error": {"code": "…", "message": "…"}}`.
#[derive(ToSchema)]
#[schema(as = Error)]
#[allow(dead_code)] // The shape of `ApiError`'s body, for the schema only.
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ErrorDetail {
    code: ErrorCode,
    /// A sentence for people.
    message: String,
}

/// The `code` of every error the API gives (`AppError::code`).
struct ErrorCode;

pub const ERROR_CODES: &[&str] = &[
    "poll_not_found",
    "poll_not_open",
    "invalid_choices",
    "comment_too_long",
    "comment_not_allowed",
    "results_hidden",
    "malformed_request",
    "payload_too_large",
    "rate_limited",
    "not_found",
    "unauthorized",
    "csrf_failed",
    "login_failed",
    "too_many_attempts",
    "invalid_poll",
    "invalid_input",
    "stale_edit",
    "edit_refused",
    "slug_taken",
    "too_many_listeners",
    "forbidden",
    "not_implemented",
    "backend_unavailable",
    "summary_not_found",
    "summary_not_ready",
    "summary_check_failed",
    "cross_site_request",
    "unsupported_media_type",
    "service_unavailable",
    "internal_error",
    "unreachable",
];

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(ERROR_CODES.iter().copied()))
            .into()
    }
}

impl ToSchema for ErrorCode {}

/// An error answer with `description`: the `Error` body as JSON.
fn error_response(description: &str) -> RefOr<utoipa::openapi::response::Response> {
    utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("Error")))
                .build(),
        )
        .into()
}

fn responses(list: &[(u16, &str)]) -> std::collections::BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
    list.iter().map(|(status, description)| (status.to_string(), error_response(description))).collect()
}

/// What any database-backed operation may answer while the database is down.
pub struct Unavailable;

impl utoipa::IntoResponses for Unavailable {
    fn responses() -> std::collections::BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        responses(&[(503, "service_unavailable: the database is not answering")])
    }
}

/// What every editor operation may answer besides its own results.
pub struct EditorRefusals;

impl utoipa::IntoResponses for EditorRefusals {
    fn responses() -> std::collections::BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        responses(&[
            (400, "malformed_request: a parameter or body that cannot be read"),
            (401, "unauthorized: no live API token or session"),
            (503, "service_unavailable: the database is not answering"),
        ])
    }
}

/// What every operation that reads a JSON body may answer about the body itself.
pub struct BodyRefusals;

impl utoipa::IntoResponses for BodyRefusals {
    fn responses() -> std::collections::BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        responses(&[
            (400, "malformed_request: the body is not the JSON described"),
            (413, "payload_too_large"),
            (415, "unsupported_media_type: the body must be application/json"),
        ])
    }
}

/// `GET /api/v1/simulate`'s query, from the simulator's own field table (names, ranges,
/// defaults), so the document states exactly what `Inputs::from_query` accepts.
pub struct SimulatorQuery;

impl utoipa::IntoParams for SimulatorQuery {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::schema::Type;
        let defaults = app::simulator::Inputs::default();
        let defaults = serde_json::to_value(&defaults).unwrap_or_default();
        let choice = |name: &str, values: Vec<serde_json::Value>, about: &str| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .description(Some(about))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values))))
                .build()
        };
        use app::simulator::{CostMode, Growth};
        use serde_json::json;
        // Names as the query parser reads them: the types' own serde names.
        let mut params = vec![
            choice("chip", app::simulator::Chip::ALL.iter().map(|c| json!(c.id())).collect(), "The GPU bought"),
            choice(
                "mode",
                vec![json!(CostMode::Article), json!(CostMode::Full)],
                "Which costs count: the chips alone, or servers and networking too",
            ),
            choice(
                "growth",
                vec![json!(Growth::Discrete), json!(Growth::Continuous)],
                "Doubling in steps, or smoothly",
            ),
        ];
        params.extend(app::simulator::NUMBER_FIELDS.iter().map(|field| {
            let schema = ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(field.min))
                .maximum(Some(field.max))
                .default(defaults.get(field.name).cloned());
            ParameterBuilder::new()
                .name(field.name)
                .parameter_in(ParameterIn::Query)
                .description(Some(field.label))
                .schema(Some(schema))
                .build()
        }));
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::{AppError, PollStatus};

    /// Every variant, so a new one fails to compile here until it is listed.
    fn one_of_each(error: &AppError) -> AppError {
        use AppError::*;
        match error {
            PollNotFound
            | PollNotOpen(_)
            | InvalidChoices(_)
            | CommentTooLong(_)
            | CommentNotAllowed(_)
            | ResultsHidden
            | MalformedRequest(_)
            | PayloadTooLarge(_)
            | RateLimited
            | NotFound
            | Unauthorized
            | CsrfFailed
            | LoginFailed
            | TooManyAttempts(_)
            | InvalidPoll(_)
            | InvalidInput(_)
            | StaleEdit
            | EditRefused(_)
            | SlugTaken(_)
            | TooManyListeners
            | Forbidden(_)
            | Unsupported(_)
            | BackendUnavailable(_)
            | SummaryNotFound
            | SummaryNotReady(_)
            | SummaryCheckFailed(_)
            | CrossSite
            | UnsupportedMediaType
            | Unavailable
            | Internal
            | Unreachable => error.clone(),
        }
    }

    #[test]
    fn the_document_lists_every_error_code() {
        let s = String::new;
        let all = [
            AppError::PollNotFound,
            AppError::PollNotOpen(PollStatus::Closed),
            AppError::InvalidChoices(s()),
            AppError::CommentTooLong(s()),
            AppError::CommentNotAllowed(s()),
            AppError::ResultsHidden,
            AppError::MalformedRequest(s()),
            AppError::PayloadTooLarge(1),
            AppError::RateLimited,
            AppError::NotFound,
            AppError::Unauthorized,
            AppError::CsrfFailed,
            AppError::LoginFailed,
            AppError::TooManyAttempts(1),
            AppError::InvalidPoll(s()),
            AppError::InvalidInput(s()),
            AppError::StaleEdit,
            AppError::EditRefused(s()),
            AppError::SlugTaken(s()),
            AppError::TooManyListeners,
            AppError::Forbidden(s()),
            AppError::Unsupported(s()),
            AppError::BackendUnavailable(s()),
            AppError::SummaryNotFound,
            AppError::SummaryNotReady(s()),
            AppError::SummaryCheckFailed(s()),
            AppError::CrossSite,
            AppError::UnsupportedMediaType,
            AppError::Unavailable,
            AppError::Internal,
            AppError::Unreachable,
        ];
        let codes: Vec<&str> = all.iter().map(|e| one_of_each(e).code()).collect();
        assert_eq!(codes, ERROR_CODES);
    }
}
