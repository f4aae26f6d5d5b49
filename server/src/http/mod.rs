//! The HTTP doors: Leptos pages and server functions, the public JSON API, the no-JS vote
//! form, the editor side (`editor`: its guard, forms, exports and JSON API), health and
//! metrics. Handlers parse, call a service (`Polls`, `Auth`, `Authoring`), and render.

mod api;
mod assets;
mod cookies;
mod delivery;
pub mod editor;
pub(crate) mod errors;
mod extract;
mod form;
pub mod openapi;
pub mod page_cache;
pub mod protect;
mod render;
pub mod voter;

use crate::metrics::Metrics;
use crate::services::{Auth, Authoring, Polls};
use app::services::{PublicOrigin, SharedEditorService, SharedReaderService};
use app::{shell, App};
use axum::extract::{FromRef, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use leptos::prelude::{provide_context, use_context, LeptosOptions};
use leptos_axum::{file_and_error_handler, generate_route_list, AxumRouteListing, LeptosRoutes};
use std::sync::{Arc, LazyLock};
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use voter::VoterKey;

/// Largest request body accepted anywhere (votes are tiny).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// What every handler and layer shares, behind one `Arc`: axum clones the state for every
/// layer of every request, and a clone of the fields themselves (the Leptos options' strings
/// among them) cost more than the static-file handler's own work.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub leptos: LeptosOptions,
    pub polls: Arc<Polls>,
    pub auth: Arc<Auth>,
    pub authoring: Arc<Authoring>,
    pub voter_key: VoterKey,
    pub email_links: crate::delivery::email::LinkKey,
    pub secure_cookies: bool,
    /// `POLLTELLIGENCE_PUBLIC_URL` without a trailing slash, when configured.
    pub public_url: Option<Arc<str>>,
    pub embed_frame_policy: axum::http::HeaderValue,
    pub images: Arc<crate::delivery::images::Images>,
    /// Live-results connections still allowed.
    pub listeners: Arc<tokio::sync::Semaphore>,
    /// Live-results connections per client network.
    pub listeners_per_client: Arc<crate::networks::PerClient>,
    pub metrics: Arc<Metrics>,
    /// `/metrics` answers only requests bearing this token; without one it is not served.
    pub metrics_token: Option<Arc<str>>,
    pub trusted_proxies: Arc<crate::config::TrustedProxies>,
    pub store: Arc<dyn crate::store::Store>,
    pub summaries: app::services::SharedSummaryService,
    /// Reader pages rendered for readers who have not voted (`page_cache`).
    pub pages: Arc<page_cache::PageCache>,
}

impl AppState {
    /// Cookies get `Secure` when configured to, or when a trusted proxy says the client used
    /// HTTPS (`protect::client_address` has removed the header from anyone else).
    pub fn secure_cookies_for(&self, headers: &axum::http::HeaderMap) -> bool {
        self.secure_cookies || headers.get("x-forwarded-proto").is_some_and(|p| p.as_bytes() == b"https")
    }

    /// The site's address as readers reach it, for links that leave the site: the configured
    /// public URL, else the request's host (only plain host characters are trusted).
    pub fn origin(&self, headers: &axum::http::HeaderMap) -> String {
        if let Some(url) = &self.public_url {
            return url.to_string();
        }
        let scheme = if self.secure_cookies_for(headers) { "https" } else { "http" };
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
            .map_or_else(|| self.leptos.site_addr.to_string(), str::to_owned);
        format!("{scheme}://{host}")
    }
}

pub use delivery::embed_frame_policy;

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// The app's page routes and server functions, listed once per process and split between the
/// readers' side and the editor's (whose routers get the editor guard as a layer). While
/// leptos lists them it holds every data load in the process pending, and one that starts
/// meanwhile (a page being rendered by another instance, as in the tests) never resumes.
struct RouteLists {
    readers: Vec<AxumRouteListing>,
    editor_pages: Vec<AxumRouteListing>,
    editor_functions: Vec<AxumRouteListing>,
}

static ROUTES: LazyLock<RouteLists> = LazyLock::new(|| {
    let pages: Vec<String> = generate_route_list(App).iter().map(|r| r.path().to_owned()).collect();
    let functions: Vec<String> = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.to_owned()).collect();
    let is_editor_page = |path: &&String| editor::is_editor_page(path);
    let is_editor_function = |path: &&String| path.starts_with("/rpc/editor/");
    let (editor_pages, reader_pages): (Vec<&String>, Vec<&String>) = pages.iter().partition(is_editor_page);
    let (editor_functions, reader_functions): (Vec<&String>, Vec<&String>) =
        functions.iter().partition(is_editor_function);
    // Each list holds its own routes; leptos leaves out the paths named here.
    let without = |left_out: Vec<&Vec<&String>>| {
        let left_out: Vec<String> = left_out.into_iter().flatten().map(|p| (*p).clone()).collect();
        leptos_axum::generate_route_list_with_exclusions(App, Some(left_out))
    };
    RouteLists {
        readers: without(vec![&editor_pages, &editor_functions]),
        editor_pages: without(vec![&reader_pages, &reader_functions, &editor_functions]),
        editor_functions: without(vec![&reader_pages, &editor_pages, &reader_functions]),
    }
});

pub fn router(state: AppState) -> Router {
    let service: SharedReaderService = state.polls.clone();
    let editing: SharedEditorService = state.authoring.clone();
    let origin_state = state.clone();
    let origin = PublicOrigin(Arc::new(move |headers: &axum::http::HeaderMap| origin_state.origin(headers)));
    let leptos = state.leptos.clone();
    let pkg_dir = std::path::Path::new(leptos.site_root.as_ref()).join(leptos.site_pkg_dir.as_ref());

    // The documented routes, and the document made from them (served by `api::openapi`).
    let (api_v1, api_doc) = api::routes().split_for_parts();
    // The editor API is documented under `/api/v1/editor` with the rest, and routed on its own
    // (behind the guard, outside the readers' layers).
    let (_, editor_doc) = OpenApiRouter::new().nest("/editor", editor::api::routes()).split_for_parts();
    let (editor_api, _) = editor::api::routes().split_for_parts();
    let (documented, documented_doc) = OpenApiRouter::new()
        .merge(delivery::documented_routes())
        .routes(routes!(healthz))
        .routes(routes!(metrics))
        .split_for_parts();
    let (images, images_doc) = delivery::image_routes().split_for_parts();
    let mut api_doc = api_doc;
    api_doc.merge(editor_doc);
    let mut documented_doc = documented_doc;
    documented_doc.merge(images_doc);
    api::DOCUMENT.get_or_init(|| openapi::document(api_doc, documented_doc));

    let context = move || {
        provide_context(service.clone());
        provide_context(editing.clone());
        provide_context(origin.clone());
        // The page's inline scripts carry the nonce that `protect` put in its CSP.
        let nonce = use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<protect::CspNonce>().cloned());
        if let Some(protect::CspNonce(nonce)) = nonce {
            provide_context(leptos::nonce::Nonce::from_value(nonce));
        }
    };
    let app = move || shell(leptos.clone());
    // The vote form answers a refused ballot with the poll page itself.
    let pages = render::Pages::new(leptos_axum::render_app_async_with_context(context.clone(), app.clone()));
    let guarded = |door| middleware::from_fn_with_state((state.clone(), door), editor::guard::guard);

    // Readers' side: pages and server functions, the vote form, delivery, the public API.
    // Writes from other sites are refused here (outside the voter cookie, so a refused
    // request sets none); the editor's side has its own guard.
    let reader_routes = Router::new()
        .leptos_routes_with_context(&state, ROUTES.readers.clone(), context.clone(), app.clone())
        .route(
            "/polls/{slug}/vote",
            post(form::vote).get(|path| form::back_to("/polls/", path)).layer(axum::Extension(pages.clone())),
        )
        .merge(delivery::reader_routes())
        .nest("/api/v1", api::fallbacks(api_v1).layer(middleware::from_fn(protect::json_only)))
        .route_layer(middleware::from_fn_with_state(state.clone(), page_cache::serve))
        .route_layer(middleware::from_fn_with_state(state.clone(), voter::identify))
        .merge(delivery::public_routes())
        .merge(documented)
        .route_layer(middleware::from_fn(protect::refuse_cross_site_writes));

    // The editor's side, each door behind the guard: pages and forms, server functions, API.
    let editor_pages = Router::new()
        .leptos_routes_with_context(&state, ROUTES.editor_pages.clone(), context.clone(), app.clone())
        .merge(editor::routes())
        .route_layer(guarded(editor::guard::Door::Page));
    let editor_functions = Router::new()
        .leptos_routes_with_context(&state, ROUTES.editor_functions.clone(), context, app)
        .route_layer(guarded(editor::guard::Door::Rpc));
    let editor_api = api::fallbacks(editor_api)
        .layer(middleware::from_fn(protect::json_only))
        .layer(guarded(editor::guard::Door::Api));

    let pages = Router::new()
        .merge(reader_routes)
        .merge(editor_pages)
        .merge(editor_functions)
        .nest("/api/v1/editor", editor_api)
        .merge(editor::public_routes(pages))
        .fallback(file_and_error_handler::<AppState, _>(shell))
        .method_not_allowed_fallback(errors::method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Small bodies (a poll's results JSON) go as they are: starting a gzip stream costs
        // more time than the few hundred bytes it would save. Pages (streamed, no length) and
        // larger answers are compressed; images and live-results streams never are.
        .layer(
            CompressionLayer::new().compress_when(
                SizeAbove::new(1024)
                    .and(NotForContentType::GRPC)
                    .and(NotForContentType::IMAGES)
                    .and(NotForContentType::SSE),
            ),
        )
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            header::HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            header::HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(middleware::from_fn_with_state(state.clone(), protect::security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), protect::client_address))
        .layer(middleware::from_fn_with_state(state.clone(), count_responses))
        .with_state(state.clone());
    // The bundle and the results images stay outside the page middleware: they need none of
    // it (no cookie, no CSP: a policy governs documents, not the files they load), and they
    // are the hottest routes.
    let bundle = assets::Assets::load(&pkg_dir).unwrap_or_else(|e| {
        tracing::error!(error = %e, dir = %pkg_dir.display(), "cannot read the browser bundle; /pkg will answer 404");
        assets::Assets::default()
    });
    bundle
        .router()
        .merge(images.method_not_allowed_fallback(errors::method_not_allowed).with_state(state))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            header::HeaderValue::from_static("nosniff"),
        ))
        .merge(pages)
}

/// 200 once the database answers.
#[utoipa::path(get, path = "/healthz", operation_id = "health", responses(
    (status = 200, description = "Serving", body = Object, example = json!({"status": "ok"})),
    (status = 503, description = "The database is not answering", body = Object, example = json!({"status": "unavailable"})),
))]
async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, axum::Json(serde_json::json!({"status": "ok"}))).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({"status": "unavailable"}))).into_response()
        }
    }
}

/// Operators' figures, not the public's: vote counters would tell the tally of a poll whose
/// results are hidden. Served only with `Authorization: Bearer $POLLTELLIGENCE_METRICS_TOKEN`.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", security(("metricsToken" = [])), responses(
    (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
    (status = 401, description = "The metrics token is missing or wrong", content_type = "text/plain", body = String),
    (status = 404, description = "No metrics token is configured, so /metrics is not served", content_type = "text/plain", body = String),
))]
async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let Some(token) = &state.metrics_token else {
        return (StatusCode::NOT_FOUND, "Not found. Set POLLTELLIGENCE_METRICS_TOKEN to serve /metrics.\n")
            .into_response();
    };
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .trim();
    if !bool::from(subtle::ConstantTimeEq::ct_eq(offered.as_bytes(), token.as_bytes())) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "A metrics token is required.\n")
            .into_response();
    }
    let mut text = state.metrics.render();
    text.push_str("# HELP polltelligence_live_listeners Live-results (SSE) connections open now.\n");
    text.push_str("# TYPE polltelligence_live_listeners gauge\n");
    text.push_str(&format!("polltelligence_live_listeners {}\n", state.polls.live_listeners()));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn count_responses(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    state.metrics.response(response.status().as_u16());
    response
}
