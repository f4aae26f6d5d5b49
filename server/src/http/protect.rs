//! What every request passes through before a handler, outermost first:
//! - `client_address`: who the client is. `X-Forwarded-For` / `-Proto` / `-Host` are believed
//!   only from `POLLTELLIGENCE_TRUSTED_PROXIES`; from anyone else they are removed, so no
//!   handler can be fooled by them. Downstream, `ConnectInfo` holds the client's address.
//! - `security_headers`: a Content-Security-Policy with a fresh nonce for the page's inline
//!   scripts (Leptos's hydration scripts carry it), framing only for `/embed/…`, HSTS when
//!   the client used HTTPS, and `Cache-Control: private` on everything not marked public.
//! - `refuse_cross_site_writes`: no other site can make a visitor vote, sign in or post.
//!   Browsers say where a request comes from (`Sec-Fetch-Site`, `Origin`); a write that says
//!   "another site" is refused. Clients that send neither (servers, scripts) are unaffected.
//!   The editor side has its own guard (session, CSRF token) and is left to it.
//! - `json_only`: the JSON API takes bodies as `application/json` only; a form or
//!   `text/plain` body (what a cross-site page can send without asking) is refused.

use super::errors::{ApiError, PageError};
use super::AppState;
use crate::config::TrustedProxies;
use app::domain::AppError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use std::net::{IpAddr, SocketAddr};

const FORWARDED_FOR: &str = "x-forwarded-for";
const FORWARDED_PROTO: &str = "x-forwarded-proto";
const FORWARDED_HOST: &str = "x-forwarded-host";

/// The client's address and whether it used HTTPS, given the TCP peer and its headers.
/// Through trusted proxies the client is the nearest untrusted hop of `X-Forwarded-For`
/// (read right to left: each proxy appends the address it saw); entries further left are
/// whatever the client wrote and are never believed.
pub fn resolve_client(trusted: &TrustedProxies, peer: IpAddr, headers: &HeaderMap) -> (IpAddr, bool) {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return (peer, false);
    }
    let hops: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else { break };
        client = ip;
        if !trusted.contains(ip) {
            break;
        }
    }
    let https = headers
        .get_all(FORWARDED_PROTO)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last()
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    (client, https)
}

/// `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>().or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip())).ok().map(|ip| ip.to_canonical())
}

pub async fn client_address(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let (client, https) = resolve_client(&state.trusted_proxies, peer.ip(), request.headers());
    let trusted = state.trusted_proxies.contains(peer.ip().to_canonical());
    let headers = request.headers_mut();
    headers.remove(FORWARDED_FOR);
    headers.remove(FORWARDED_PROTO);
    if !trusted {
        headers.remove(FORWARDED_HOST);
    }
    if https {
        headers.insert(FORWARDED_PROTO, HeaderValue::from_static("https"));
    }
    request.extensions_mut().insert(ConnectInfo(SocketAddr::new(client, peer.port())));
    next.run(request).await
}

/// The nonce of this response's Content-Security-Policy, for the page's inline scripts.
#[derive(Clone)]
pub struct CspNonce(pub String);

fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The policy for an HTML page. Scripts: our files and inline scripts bearing the nonce;
/// `wasm-unsafe-eval` lets the page compile its WebAssembly (and nothing else). Inline
/// `style` attributes (bar widths) need `unsafe-inline` styles, which cannot run code.
pub fn page_policy(nonce: &str, frame_ancestors: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; {frame_ancestors}"
    )
}

pub async fn security_headers(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let nonce = new_nonce();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let path = request.uri().path().to_owned();
    let secure = state.secure_cookies_for(request.headers());
    let mut response = next.run(request).await;
    let embeddable = path.starts_with("/embed/");
    let frame_ancestors = if embeddable {
        state.embed_frame_policy.to_str().unwrap_or("frame-ancestors *").to_owned()
    } else {
        "frame-ancestors 'none'".to_owned()
    };
    let headers = response.headers_mut();
    let html = headers.get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    let policy = if html { page_policy(&nonce, &frame_ancestors) } else { frame_ancestors };
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    if embeddable {
        headers.remove(header::X_FRAME_OPTIONS);
    } else {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if secure {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000"));
    }
    // Pages show who is signed in or how this reader voted: no shared cache may keep them
    // (the editor's side says `no-store` itself: its guard, and its sign-in page and form).
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("private, no-cache"));
    response
}

/// True unless the browser says the request came from another site (or from an opaque
/// origin, such as a sandboxed frame). Clients that send neither header pass.
/// `Sec-Fetch-Site`, where sent, decides alone: a page with `Referrer-Policy: no-referrer`
/// (the email landing page) makes the browser send `Origin: null` even to its own site.
/// Without it (browsers before 2023), the `Origin` must name this site.
pub fn from_our_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    let host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    [header::HOST.as_str(), FORWARDED_HOST]
        .iter()
        .filter_map(|h| headers.get(*h)?.to_str().ok())
        .any(|ours| host == Some(ours))
}

fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/rpc/")
}

/// A layer on the readers' side (the editor's side has its own guard).
pub async fn refuse_cross_site_writes(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = request.uri().path();
    if safe || from_our_site(request.headers()) {
        return next.run(request).await;
    }
    tracing::info!(path, "refused a cross-site write");
    if is_api_path(path) {
        ApiError(AppError::CrossSite).into_response()
    } else {
        PageError { error: AppError::CrossSite, back: "/".into() }.into_response()
    }
}

/// A body's media type is JSON: `application/json` or `application/…+json`, any parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|n| n.trim().parse::<u64>().map_or(true, |n| n > 0))
}

pub async fn json_only(request: Request, next: Next) -> Response {
    let writes = matches!(*request.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
    if writes && has_body(request.headers()) && !is_json(request.headers()) {
        return ApiError(AppError::UnsupportedMediaType).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn proxies(list: &str) -> TrustedProxies {
        crate::config::parse_proxies(list).unwrap()
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let h = headers(&[("x-forwarded-for", "198.51.100.9, 203.0.113.7"), ("x-forwarded-proto", "https")]);
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(resolve_client(&proxies(""), stranger, &h), (stranger, false));
        assert_eq!(resolve_client(&proxies("10.0.0.0/8"), stranger, &h), (stranger, false));
        // Through one trusted proxy the client is the last hop it appended; what the client
        // itself wrote further left is ignored.
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(resolve_client(&proxies("10.0.0.0/8"), proxy, &h), ("203.0.113.7".parse().unwrap(), true));
        // Through two trusted proxies (both appended), the next hop out.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.9.9.9")]);
        assert_eq!(resolve_client(&proxies("10.0.0.0/8"), proxy, &h), ("203.0.113.7".parse().unwrap(), false));
        // Ports and IPv6 forms parse; garbage stops the walk at the last good hop.
        let h = headers(&[("x-forwarded-for", "[2001:db8::1]:4711")]);
        assert_eq!(resolve_client(&proxies("10.0.0.0/8"), proxy, &h).0, "2001:db8::1".parse::<IpAddr>().unwrap());
        let h = headers(&[("x-forwarded-for", "not-an-address")]);
        assert_eq!(resolve_client(&proxies("10.0.0.0/8"), proxy, &h).0, proxy);
    }

    #[test]
    fn same_site_is_what_the_browser_says() {
        assert!(from_our_site(&headers(&[("host", "polls.example")])));
        assert!(from_our_site(&headers(&[("host", "polls.example"), ("origin", "https://polls.example")])));
        assert!(from_our_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!from_our_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!from_our_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!from_our_site(&headers(&[("host", "polls.example"), ("origin", "https://evil.example")])));
        assert!(!from_our_site(&headers(&[("host", "polls.example"), ("origin", "null")])));
        // A no-referrer page of ours posting to us: Origin is null, fetch metadata is right.
        let own_no_referrer = [("host", "polls.example"), ("origin", "null"), ("sec-fetch-site", "same-origin")];
        assert!(from_our_site(&headers(&own_no_referrer)));
        let cross = [("host", "polls.example"), ("origin", "https://polls.example"), ("sec-fetch-site", "cross-site")];
        assert!(!from_our_site(&headers(&cross)));
    }

    #[test]
    fn json_means_json() {
        assert!(is_json(&headers(&[("content-type", "application/json")])));
        assert!(is_json(&headers(&[("content-type", "Application/JSON; charset=utf-8")])));
        assert!(is_json(&headers(&[("content-type", "application/merge-patch+json")])));
        assert!(!is_json(&headers(&[("content-type", "text/plain")])));
        assert!(!is_json(&headers(&[("content-type", "application/x-www-form-urlencoded")])));
        assert!(!is_json(&headers(&[])));
    }
}
