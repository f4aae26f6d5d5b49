//! The doors of delivery (`server/src/http/CONTRACT.md`, "Delivery"): the embeddable widget and its scripts,
//! oEmbed, results images, one-click email votes and live results over SSE. Every vote
//! here goes through `Polls::cast_vote`, like the poll page's and the API's.

mod email;
mod embed;
mod events;
mod images;

pub use embed::embed_frame_policy;
pub use events::{__path_editor_events, editor_events};

use super::errors::escape;
use super::AppState;
use app::domain::{Counted, OptionKey, PollStatus, ResultsView};
use axum::routing::get;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes that know who the reader is (they sit behind the voter cookie).
pub fn reader_routes() -> Router<AppState> {
    Router::new()
        .route("/embed/{slug}", get(embed::widget))
        .route("/embed/{slug}/vote", axum::routing::post(embed::vote).get(|path| super::form::back_to("/embed/", path)))
        .route("/polls/{slug}/email-vote", get(email::landing).post(email::confirm))
}

/// Routes that are the same for everyone: no cookie is read or set.
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/embed.js", get(embed::host_script)).route("/embed/widget.js", get(embed::widget_script))
}

/// oEmbed: the same for everyone, and part of the documented contract.
pub fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(embed::oembed))
}

/// The results images (documented too): served outside the page middleware, like the bundle,
/// since mail proxies fetch them by the thousand and they need none of it.
pub fn image_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(images::svg)).routes(routes!(images::png))
}

/// `/api/v1/polls/{slug}/events`, nested with the rest of the public API.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events::reader_events))
}

/// Results bars as plain HTML, in the markup (and so the style) of the app's `ResultsBars`;
/// `live` names the event stream that keeps them current.
pub fn results_html(results: &ResultsView, counted: Counted, mine: &[OptionKey], live: Option<&str>) -> String {
    let closed = results.status == PollStatus::Closed;
    let title = if closed { "Final results" } else { "Results so far" };
    let leaders: Vec<&OptionKey> = results.leaders().iter().map(|o| &o.id).collect();
    let mut html = format!(
        "<section class=\"results\" aria-label=\"{title}\"{live}{readers}><h2 class=\"results-title\">{title}</h2><ol class=\"bars\">",
        live = live.map(|url| format!(" data-live=\"{}\"", escape(url))).unwrap_or_default(),
        readers = if counted == Counted::Readers { " data-counted=\"readers\"" } else { "" },
    );
    for o in &results.options {
        let mine = mine.contains(&o.id);
        let class = match (mine, closed && leaders.contains(&&o.id)) {
            (true, true) => "bar mine leader",
            (true, false) => "bar mine",
            (false, true) => "bar leader",
            (false, false) => "bar",
        };
        html.push_str(&format!(
            "<li class=\"{class}\" data-option=\"{id}\"><div class=\"bar-text\"><span class=\"bar-label\">{label}{tag}</span>\
             <span class=\"bar-figures\">{percent:.1}% · {votes}</span></div>\
             <div class=\"bar-track\" aria-hidden=\"true\"><div class=\"bar-fill\" style=\"width: {width:.1}%\"></div></div></li>",
            id = escape(o.id.as_str()),
            label = escape(&o.label),
            tag = if mine { " <span class=\"tag\">your vote</span>" } else { "" },
            percent = o.percent,
            votes = counted.count(o.votes),
            width = o.percent.min(100.0),
        ));
    }
    html.push_str(&format!("</ol><p class=\"total\">{}</p></section>", counted.total(results.total_votes)));
    html
}
