//! What an attacker tries: guessing passwords in a burst, locking an editor out, making
//! other sites' visitors vote, lying about their address, holding connections open,
//! framing pages, reading operators' metrics. Each test fails on a server without the
//! defence it names.

use crate::email_votes::{email_links, link_fields};
use crate::helpers::*;
use crate::on_both_stores;
use reqwest::header::SET_COOKIE;
use reqwest::{Client, StatusCode};
use serde_json::json;

on_both_stores!(
    a_burst_of_wrong_passwords_gets_exactly_the_allowed_guesses,
    a_stranger_cannot_lock_an_editor_out,
    other_sites_cannot_make_visitors_vote_on_any_door,
    forwarded_headers_count_only_from_trusted_proxies,
    headers_per_route_class,
);

pub(crate) fn raw_client() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The editor's sign-in through the form; where it redirected, and the cookies it set.
async fn sign_in_from(
    app: &TestApp,
    client: &Client,
    password: &str,
    forwarded_for: &str,
    cookie: Option<&str>,
) -> (String, Vec<String>) {
    sign_in_as(app, client, EDITOR_EMAIL, password, forwarded_for, cookie).await
}

/// A sign-in to `email` through the form; where it redirected, and the cookies it set.
pub(crate) async fn sign_in_as(
    app: &TestApp,
    client: &Client,
    email: &str,
    password: &str,
    forwarded_for: &str,
    cookie: Option<&str>,
) -> (String, Vec<String>) {
    let mut request = client.post(app.url("/editor/session")).header("x-forwarded-for", forwarded_for).form(&[
        ("email", email),
        ("password", password),
        ("next", "/editor"),
    ]);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let cookies = response.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    // Refused sign-ins answer with the form again: 401 for a wrong guess, 429 once throttled.
    let outcome = match response.status() {
        StatusCode::SEE_OTHER => response.headers()["location"].to_str().unwrap().to_owned(),
        StatusCode::UNAUTHORIZED => "error=login_failed".to_owned(),
        StatusCode::TOO_MANY_REQUESTS => "error=too_many_attempts".to_owned(),
        other => panic!("unexpected answer to a sign-in: {other}"),
    };
    (outcome, cookies)
}

/// `options`, with 127.0.0.1 (the tests' own address) as a trusted proxy.
pub(crate) fn trusting_localhost(options: Options) -> Options {
    Options { trusted_proxies: server::config::parse_proxies("127.0.0.1/32").unwrap(), ..options }
}

async fn a_burst_of_wrong_passwords_gets_exactly_the_allowed_guesses(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_editor(EDITOR_EMAIL, EDITOR_PASSWORD).await;
    let client = raw_client();
    let attempts = (0..20).map(|_| sign_in_from(&app, &client, "wrong password guess", "", None));
    let outcomes = futures_util::future::join_all(attempts).await;
    let failed = outcomes.iter().filter(|(to, _)| to.contains("error=login_failed")).count();
    let throttled = outcomes.iter().filter(|(to, _)| to.contains("error=too_many_attempts")).count();
    // Five guesses were checked; the other fifteen were refused before any hashing.
    assert_eq!((failed, throttled), (5, 15), "{outcomes:?}");
}

async fn a_stranger_cannot_lock_an_editor_out(backend: Backend) {
    let app = spawn_app_with(backend, trusting_localhost(Options::default())).await;
    app.add_editor(EDITOR_EMAIL, EDITOR_PASSWORD).await;
    let client = raw_client();
    // The editor has signed in from their laptop before: it holds the known-browser mark.
    let (to, cookies) = sign_in_from(&app, &client, EDITOR_PASSWORD, "198.51.100.1", None).await;
    assert_eq!(to, "/editor");
    let mark = cookies.iter().find(|c| c.starts_with("pt_known=")).expect("a known-browser cookie");
    assert!(mark.contains("HttpOnly") && mark.contains("SameSite=Strict"), "{mark}");
    let mark = mark.split(';').next().unwrap().to_owned();

    // An attacker guesses from one address: that address is slowed down...
    for _ in 0..5 {
        assert!(sign_in_from(&app, &client, "guess", "203.0.113.66", None).await.0.contains("login_failed"));
    }
    assert!(sign_in_from(&app, &client, EDITOR_PASSWORD, "203.0.113.66", None).await.0.contains("too_many_attempts"));
    // ...but the editor, elsewhere, signs in as usual.
    assert_eq!(sign_in_from(&app, &client, EDITOR_PASSWORD, "198.51.100.2", None).await.0, "/editor");

    // A botnet spreads guesses over many addresses until the account is slowed down for
    // every new browser...
    for host in 1..=20 {
        for _ in 0..5 {
            sign_in_from(&app, &client, "guess", &format!("192.0.2.{host}"), None).await;
        }
    }
    let (to, _) = sign_in_from(&app, &client, EDITOR_PASSWORD, "198.51.100.3", None).await;
    assert!(to.contains("too_many_attempts"), "{to}");
    // ...yet the editor's own browser still gets in, from any address, even the attacker's.
    assert_eq!(sign_in_from(&app, &client, EDITOR_PASSWORD, "203.0.113.66", Some(&mark)).await.0, "/editor");
    // A forged mark is no mark.
    let (to, _) = sign_in_from(&app, &client, EDITOR_PASSWORD, "198.51.100.4", Some("pt_known=forged")).await;
    assert!(to.contains("too_many_attempts"), "{to}");
}

/// How a browser on another site would send a request: its `Sec-Fetch-Site` and `Origin`.
#[derive(Clone, Copy, Debug)]
enum Sender {
    CrossSiteFetchMetadata,
    ForeignOrigin,
    OurPage,
    /// Our page with `Referrer-Policy: no-referrer` (the email landing page): `Origin: null`.
    OurNoReferrerPage,
    AServer,
}

impl Sender {
    fn headers(self, app: &TestApp) -> Vec<(&'static str, String)> {
        match self {
            Sender::CrossSiteFetchMetadata => vec![("sec-fetch-site", "cross-site".into())],
            Sender::ForeignOrigin => vec![("origin", "https://evil.example".into())],
            Sender::OurPage => vec![("sec-fetch-site", "same-origin".into()), ("origin", app.base.clone())],
            Sender::OurNoReferrerPage => vec![("sec-fetch-site", "same-origin".into()), ("origin", "null".into())],
            Sender::AServer => vec![],
        }
    }

    fn allowed(self) -> bool {
        matches!(self, Sender::OurPage | Sender::OurNoReferrerPage | Sender::AServer)
    }
}

async fn other_sites_cannot_make_visitors_vote_on_any_door(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.editor().await;
    let doors = ["form", "widget", "api", "rpc", "email"];
    for (i, door) in doors.iter().enumerate() {
        for (j, from) in [
            Sender::CrossSiteFetchMetadata,
            Sender::ForeignOrigin,
            Sender::OurPage,
            Sender::OurNoReferrerPage,
            Sender::AServer,
        ]
        .iter()
        .enumerate()
        {
            let slug = format!("door-{i}-{j}");
            app.add_poll(open_poll(&slug)).await;
            let client = raw_client();
            let mut request = match *door {
                "form" => client.post(app.url(&format!("/polls/{slug}/vote"))).form(&[("choice", "yes")]),
                "widget" => client.post(app.url(&format!("/embed/{slug}/vote"))).form(&[("choice", "yes")]),
                "api" => client.post(app.url(&format!("/api/v1/polls/{slug}/votes"))).json(&choices(&["yes"])),
                "rpc" => client.post(app.url("/rpc/vote")).json(&json!({"slug": slug, "choices": ["yes"]})),
                _ => {
                    let links = email_links(&app, &editor, &slug, "generic").await;
                    let url = &links.iter().find(|(option, _)| option == "yes").unwrap().1;
                    let fields: Vec<(String, String)> = link_fields(url)
                        .into_iter()
                        .map(|(k, v)| if k == "sub" { (k, "subscriber-1".to_owned()) } else { (k, v) })
                        .collect();
                    client.post(app.url(&format!("/polls/{slug}/email-vote"))).form(&fields)
                }
            };
            for (name, value) in from.headers(&app) {
                request = request.header(name, value);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let sets_cookie = response.headers().contains_key(SET_COOKIE);
            let body = response.text().await.unwrap();
            let stored = app.stored_votes(&slug).await;
            if from.allowed() {
                assert!(status.is_success() || status.is_redirection(), "{door} {from:?}: {status} {body}");
                assert_eq!(stored, 1, "{door} {from:?}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{door} {from:?}: {body}");
                assert!(body.contains("cross_site_request") || body.contains("another website"), "{body}");
                assert!(!sets_cookie, "{door} {from:?}: a refused request must not replace the voter cookie");
                assert_eq!(stored, 0, "{door} {from:?}");
            }
        }
    }

    // The JSON API reads JSON only: a body a cross-site form could send is refused.
    app.add_poll(open_poll("plain")).await;
    let response = raw_client()
        .post(app.url("/api/v1/polls/plain/votes"))
        .header("content-type", "text/plain")
        .body(r#"{"choices": ["yes"]}"#)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
    assert_eq!(app.stored_votes("plain").await, 0);
}

async fn forwarded_headers_count_only_from_trusted_proxies(backend: Backend) {
    // Without trusted proxies, X-Forwarded-For is the client's own claim: ignored.
    let app = spawn_app_with(backend, Options { rate_limit: 2, ..Options::default() }).await;
    app.add_poll(open_poll("limited")).await;
    let statuses = vote_from_addresses(&app, "limited", &["203.0.113.1", "203.0.113.2", "203.0.113.3"], "http").await;
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CREATED, StatusCode::TOO_MANY_REQUESTS]);
    let response =
        raw_client().get(app.url("/polls/limited")).header("x-forwarded-proto", "https").send().await.unwrap();
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap();
    assert!(!cookie.contains("Secure"), "an untrusted client cannot claim HTTPS: {cookie}");
    assert!(!response.headers().contains_key("strict-transport-security"));

    // Behind a trusted proxy, each reader has their own budget; an IPv6 /64 has one.
    let options = Options { rate_limit: 2, ..trusting_localhost(Options::default()) };
    let app = spawn_app_with(backend, options).await;
    app.add_poll(open_poll("limited")).await;
    let addresses = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.3", "203.0.113.3"];
    let statuses = vote_from_addresses(&app, "limited", &addresses, "http").await;
    let expected = [StatusCode::CREATED, StatusCode::CREATED, StatusCode::CREATED, StatusCode::CREATED];
    assert_eq!(statuses[..4], expected);
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS);
    let same_net = ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3", "2001:db8:1:3::1"];
    let statuses = vote_from_addresses(&app, "limited", &same_net, "https").await;
    let expected = [StatusCode::CREATED, StatusCode::CREATED, StatusCode::TOO_MANY_REQUESTS, StatusCode::CREATED];
    assert_eq!(statuses, expected);
    let response =
        raw_client().get(app.url("/polls/limited")).header("x-forwarded-proto", "https").send().await.unwrap();
    assert!(response.headers()[SET_COOKIE].to_str().unwrap().contains("Secure"));
    assert!(response.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
}

/// One new voter per address, each voting through the (pretend) proxy.
async fn vote_from_addresses(app: &TestApp, slug: &str, addresses: &[&str], proto: &str) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for address in addresses {
        let response = raw_client()
            .post(app.url(&format!("/api/v1/polls/{slug}/votes")))
            .header("x-forwarded-for", format!("198.51.100.200, {address}"))
            .header("x-forwarded-proto", proto)
            .json(&choices(&["yes"]))
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    statuses
}

/// The nonce in a page's CSP, which its inline scripts must carry.
fn csp_nonce(csp: &str) -> String {
    csp.split('\'').find_map(|part| part.strip_prefix("nonce-")).expect("a nonce in the policy").to_owned()
}

async fn headers_per_route_class(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("framed")).await;
    let client = raw_client();
    let mut nonces = Vec::new();
    for (path, cache) in [
        ("/", "private, no-cache"),
        ("/polls/framed", "private, no-cache"),
        ("/archive", "private, no-cache"),
        ("/simulator", "private, no-cache"),
        ("/editor/login", "no-store"),
    ] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        let csp = headers["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("object-src 'none'") && csp.contains("base-uri 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-eval'") || csp.contains("'wasm-unsafe-eval'"), "{path}: {csp}");
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{path}: {csp}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["cache-control"], cache, "{path}");
        assert!(!headers.contains_key("strict-transport-security"), "{path}: plain HTTP gets no HSTS");
        let nonce = csp_nonce(&csp);
        let html = response.text().await.unwrap();
        // Every inline script carries this response's nonce.
        for script in html.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap();
            assert!(tag.contains(" src=") || tag.contains(&format!("nonce=\"{nonce}\"")), "{path}: <script{tag}>");
        }
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 5, "each response has its own nonce");

    // The widget may be framed by any site; nothing else may.
    let widget = client.get(app.url("/embed/framed")).send().await.unwrap();
    let csp = widget.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors *") && csp.contains("script-src 'self'"), "{csp}");
    assert!(!widget.headers().contains_key("x-frame-options"));
    let api = client.get(app.url("/api/v1/polls/framed")).send().await.unwrap();
    assert_eq!(api.headers()["content-security-policy"], "frame-ancestors 'none'");
    assert_eq!(api.headers()["cache-control"], "private, no-cache");
}
