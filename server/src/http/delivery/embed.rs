//! The widget for other sites' pages: `/embed/{slug}` is a small server-rendered page (no
//! WebAssembly; one hand-written script of about 1 KB) that votes with a plain form inside
//! its frame, tells the host page its height, and follows live results. `/embed.js` is the
//! host page's side: it resizes the frames. `/oembed` hands the frame to editors that paste
//! a poll's link. Only `/embed/…` may be framed; every other page refuses (`protect::security_headers`).

use super::super::errors::{escape, ApiError, PageError};
use super::super::extract::{FormBody, SlugPath};
use super::super::form::vote_by_form;
use super::super::AppState;
use super::results_html;
use app::domain::{AppError, PollStatus, PollView, Slug, VoteSource};
use app::services::PollPage;
use app::services::{Reader, ReaderService};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Json};

const WIDGET_JS: &str = include_str!("widget.js");
const HOST_JS: &str = include_str!("embed.js");
const WIDGET_CSS: &str = include_str!("widget.css");

/// Framing: the widget may be framed by the configured origins (any site by default);
/// every other response says it must not be framed at all.
/// The `frame-ancestors` policy for the widget, from `POLLTELLIGENCE_FRAME_ANCESTORS`.
pub fn embed_frame_policy(origins: Option<&str>) -> HeaderValue {
    let sources = origins.map(str::split_whitespace).map(|o| o.collect::<Vec<_>>().join(" "));
    let value = match sources.as_deref() {
        None | Some("") => "frame-ancestors *".to_owned(),
        Some(list) => format!("frame-ancestors 'self' {list}"),
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("frame-ancestors *"))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Theme {
    Auto,
    Light,
    Dark,
}

impl Theme {
    /// `?theme=` from a query string; anything unknown is `auto`.
    fn from_query(query: Option<&str>) -> Theme {
        let value =
            query.unwrap_or_default().split('&').find_map(|pair| pair.strip_prefix("theme=")).unwrap_or_default();
        match value {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::Auto,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

fn widget_path(slug: &str, theme: Theme) -> String {
    match theme {
        Theme::Auto => format!("/embed/{slug}"),
        theme => format!("/embed/{slug}?theme={}", theme.name()),
    }
}

/// Whether a vote made in this frame can be remembered. Over HTTPS the voter cookie is
/// `SameSite=None; Secure; Partitioned`, kept per host site. Over plain HTTP browsers keep
/// no cookie in a cross-site frame, so every vote there would be a new reader: the widget
/// sends such readers to the poll page (a new tab) to vote instead.
fn can_vote_in_frame(state: &AppState, headers: &HeaderMap) -> bool {
    state.secure_cookies_for(headers)
        || headers.get("sec-fetch-site").is_none_or(|site| site.as_bytes() != b"cross-site")
}

pub async fn widget(
    State(state): State<AppState>,
    Extension(reader): Extension<Reader>,
    path: Result<SlugPath, ApiError>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let theme = Theme::from_query(uri.query());
    let Ok(SlugPath(slug)) = path else { return embed_error(AppError::PollNotFound, theme, None) };
    match state.polls.poll_page(&slug, &reader).await {
        Ok(page) => {
            let in_frame = can_vote_in_frame(&state, &headers);
            let origin = state.origin(&headers);
            let mut response = Html(widget_page(&page, theme, in_frame, &origin)).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => embed_error(error, theme, Slug::parse(&slug).ok()),
    }
}

pub async fn vote(
    State(state): State<AppState>,
    Extension(reader): Extension<Reader>,
    path: Result<SlugPath, ApiError>,
    uri: axum::http::Uri,
    body: Result<FormBody, ApiError>,
) -> Response {
    let theme = Theme::from_query(uri.query());
    let Ok(SlugPath(slug)) = path else { return embed_error(AppError::PollNotFound, theme, None) };
    let back = Slug::parse(&slug).map_or_else(|_| "/".to_owned(), |slug| widget_path(slug.as_str(), theme));
    vote_by_form(&state, &slug, &reader, body, VoteSource::Embed, back).await
}

fn embed_error(error: AppError, theme: Theme, slug: Option<Slug>) -> Response {
    let back = slug.map_or_else(|| "/".to_owned(), |slug| widget_path(slug.as_str(), theme));
    PageError { error, back }.into_response()
}

fn widget_page(page: &PollPage, theme: Theme, in_frame: bool, origin: &str) -> String {
    let PollPage { poll, my_vote, results, .. } = page;
    let slug = poll.slug.as_str();
    let status = match poll.status {
        PollStatus::Scheduled => format!("Opens {}", poll.opens_at.format("%-d %b %Y, %H:%M UTC")),
        PollStatus::Open => format!("Open until {}", poll.closes_at.format("%-d %b %Y, %H:%M UTC")),
        PollStatus::Closed => format!("Closed {}", poll.closes_at.format("%-d %b %Y")),
    };
    let live_url = format!("/api/v1/polls/{slug}/events");
    let live = (poll.status == PollStatus::Open).then_some(live_url.as_str());
    let counted = app::domain::Counted::of(poll.max_choices);
    let results_part = |mine: &[app::domain::OptionKey]| match results {
        Some(results) => results_html(results, counted, mine, live),
        None => format!("<p class=\"notice muted\">{}</p>", poll.results_visibility.hidden_reason(poll.status)),
    };
    let body = match (my_vote, poll.status) {
        (Some(mine), _) => {
            let labels: Vec<&str> =
                poll.options.iter().filter(|o| mine.contains(&o.id)).map(|o| o.label.as_str()).collect();
            format!(
                "<p class=\"notice success\" role=\"status\">You voted: {}.</p>{}",
                escape(&labels.join(", ")),
                results_part(mine)
            )
        }
        (None, PollStatus::Open) if in_frame => {
            ballot(poll, theme) + &results.as_ref().map(|r| results_html(r, counted, &[], live)).unwrap_or_default()
        }
        (None, PollStatus::Open) => format!(
            "<ul class=\"options\">{}</ul><p><a class=\"primary button\" href=\"{origin}/polls/{slug}\" target=\"_blank\" \
             rel=\"noopener\">Vote on {host} ↗</a></p><p class=\"hint\">This site is not served over HTTPS, so the poll \
             cannot remember your vote inside another page.</p>{}",
            poll.options.iter().map(|o| format!("<li>{}</li>", escape(&o.label))).collect::<String>(),
            results.as_ref().map(|r| results_html(r, counted, &[], live)).unwrap_or_default(),
            origin = escape(origin),
            host = escape(origin.split("://").nth(1).unwrap_or(origin)),
        ),
        (None, PollStatus::Closed) => {
            format!("<p class=\"notice\">This poll is closed.</p>{}", results_part(&[]))
        }
        (None, PollStatus::Scheduled) => "<p class=\"notice\">This poll has not opened yet.</p>".to_owned(),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\" data-theme=\"{theme}\" data-slug=\"{slug}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
         <title>{title} · Polltelligence</title><style>{WIDGET_CSS}</style></head>\
         <body><main class=\"widget\"><h1 id=\"question\">{title}</h1><p class=\"meta\">{status}</p>{body}\
         <p class=\"foot\"><a href=\"{origin}/polls/{slug}\" target=\"_blank\" rel=\"noopener\">Polltelligence · see the poll page ↗</a></p>\
         </main><script src=\"/embed/widget.js\" defer></script></body></html>",
        theme = theme.name(),
        title = escape(&poll.question),
        origin = escape(origin),
    )
}

fn ballot(poll: &PollView, theme: Theme) -> String {
    let single = poll.max_choices == 1;
    let (kind, hint) = if single {
        ("radio", "Choose one.".to_owned())
    } else {
        ("checkbox", format!("Choose up to {}.", poll.max_choices))
    };
    let options: String = poll
        .options
        .iter()
        .map(|o| {
            let id = format!("o-{}", o.id);
            format!(
                "<div class=\"choice\"><input type=\"{kind}\" id=\"{id}\" name=\"choice\" value=\"{value}\"{required}>\
                 <label for=\"{id}\">{label}</label></div>",
                id = escape(&id),
                value = escape(o.id.as_str()),
                required = if single { " required" } else { "" },
                label = escape(&o.label)
            )
        })
        .collect();
    let comment = if poll.allow_comment {
        format!(
            "<div class=\"comment\"><label for=\"comment\">Why? <span class=\"muted\">(optional)</span></label>\
             <textarea id=\"comment\" name=\"comment\" rows=\"2\" maxlength=\"{}\"></textarea></div>",
            app::domain::COMMENT_MAX_CHARS
        )
    } else {
        String::new()
    };
    format!(
        "<form class=\"ballot\" method=\"post\" action=\"{action}\"><fieldset aria-labelledby=\"question\" \
         aria-describedby=\"hint\"><p id=\"hint\" class=\"hint\">{hint}</p>{options}</fieldset>{comment}\
         <button type=\"submit\" class=\"primary\">Vote</button></form>",
        action = escape(&format!(
            "/embed/{}/vote{}",
            poll.slug,
            if theme == Theme::Auto { String::new() } else { format!("?theme={}", theme.name()) }
        )),
    )
}

fn script(source: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
        ],
        source,
    )
        .into_response()
}

pub async fn widget_script() -> Response {
    script(WIDGET_JS)
}

pub async fn host_script() -> Response {
    script(HOST_JS)
}

/// oEmbed 1.0 for a poll page or widget URL of this site.
#[utoipa::path(get, path = "/oembed", operation_id = "oembed", params(OEmbedQuery), responses(
    (status = 200, description = "oEmbed rich response", body = OEmbed),
    (status = 400, description = "malformed_request: no url, or a format other than json and xml", body = super::super::openapi::ErrorBody),
    (status = 404, description = "not_found (a URL not on this site) or poll_not_found", body = super::super::openapi::ErrorBody),
    (status = 501, description = "not_implemented: format=xml (oEmbed's own answer for it)", body = super::super::openapi::ErrorBody),
    (status = 503, description = "service_unavailable", body = super::super::openapi::ErrorBody),
))]
pub async fn oembed(State(state): State<AppState>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let origin = state.origin(&headers);
    match oembed_json(&state, &origin, uri.query().unwrap_or_default()).await {
        Ok(body) => {
            let mut response = Json(body).into_response();
            response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            response
        }
        Err(error) => ApiError(error).into_response(),
    }
}

/// oEmbed's query.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Describes the query for the document; `oembed_json` reads it.
struct OEmbedQuery {
    /// A poll page or widget URL of this site.
    url: String,
    #[param(pattern = "^(json|xml)$")]
    format: Option<String>,
    #[param(minimum = 1)]
    maxwidth: Option<u32>,
    #[param(minimum = 1)]
    maxheight: Option<u32>,
}

/// An oEmbed 1.0 `rich` response.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct OEmbed {
    version: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    html: String,
    width: u32,
    height: u32,
    title: String,
    provider_name: &'static str,
    provider_url: String,
    cache_age: u32,
}

async fn oembed_json(state: &AppState, origin: &str, query: &str) -> Result<OEmbed, AppError> {
    let pairs = super::super::extract::form_pairs(query.as_bytes())?;
    let param = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    // oEmbed's 501 is for a format the spec defines that a provider does not offer (xml);
    // anything else, empty included, is the client's mistake.
    match param("format") {
        None | Some("json") => {}
        Some("xml") => return Err(AppError::Unsupported("Only format=json is offered (got \"xml\").".into())),
        Some(other) => {
            return Err(AppError::MalformedRequest(format!(
                "format must be json (got {:?}).",
                other.chars().take(20).collect::<String>()
            )))
        }
    }
    let url = param("url").filter(|u| !u.is_empty()).ok_or_else(|| {
        AppError::MalformedRequest("url is required: the address of a poll page or widget of this site".into())
    })?;
    let slug = poll_slug_in(url, origin).ok_or(AppError::NotFound)?;
    let poll = state.polls.poll(&slug).await?;
    let max = |name: &str| param(name).and_then(|v| v.parse::<u32>().ok()).filter(|v| *v > 0);
    let width = max("maxwidth").map_or(600, |w| w.min(600));
    let height = max("maxheight")
        .map_or(crate::delivery::widget_height(&poll), |h| h.min(crate::delivery::widget_height(&poll)));
    Ok(OEmbed {
        version: "1.0",
        kind: "rich",
        html: crate::delivery::embed_snippet(origin, &poll),
        width,
        height,
        title: poll.question,
        provider_name: "Polltelligence",
        provider_url: format!("{origin}/"),
        cache_age: 3600,
    })
}

/// The slug in `url` when it is a poll page or widget on this site (`origin`); scheme and
/// host must match, a query or fragment is ignored.
fn poll_slug_in(url: &str, origin: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let ours = url::Url::parse(origin).ok()?;
    let same_host = parsed.host_str()?.eq_ignore_ascii_case(ours.host_str()?)
        && parsed.port_or_known_default() == ours.port_or_known_default()
        && matches!(parsed.scheme(), "http" | "https");
    if !same_host {
        return None;
    }
    let path = parsed.path().trim_end_matches('/');
    let slug = path.strip_prefix("/polls/").or_else(|| path.strip_prefix("/embed/"))?;
    Slug::parse(slug).ok().map(|s| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_poll_urls_name_a_poll() {
        let ours = "https://polls.example.com";
        assert_eq!(poll_slug_in("https://polls.example.com/polls/ai-stocks", ours).as_deref(), Some("ai-stocks"));
        assert_eq!(
            poll_slug_in("https://polls.example.com/embed/ai-stocks/?theme=dark", ours).as_deref(),
            Some("ai-stocks")
        );
        assert_eq!(poll_slug_in("http://polls.example.com/polls/ai-stocks#x", ours), None);
        assert_eq!(poll_slug_in("https://evil.example/polls/ai-stocks", ours), None);
        assert_eq!(poll_slug_in("https://polls.example.com.evil.example/polls/a", ours), None);
        assert_eq!(poll_slug_in("https://polls.example.com/archive", ours), None);
        assert_eq!(poll_slug_in("https://polls.example.com/polls/a/b", ours), None);
        assert_eq!(poll_slug_in("javascript:alert(1)", ours), None);
        assert_eq!(poll_slug_in("not a url", ours), None);
    }

    #[test]
    fn frame_policy_lists_configured_origins() {
        assert_eq!(embed_frame_policy(None), "frame-ancestors *");
        assert_eq!(
            embed_frame_policy(Some("https://a.example  https://b.example")),
            "frame-ancestors 'self' https://a.example https://b.example"
        );
    }
}
