//! What an attacker tries: guessing passwords in a burst, locking an editor out, making
//! other sites' visitors vote, lying about their address, holding connections open,
//! framing pages, reading operators' metrics. Each test fails on a server without the
//! defence it names.

use crate::delivery::{email_links, link_fields};
use crate::helpers::*;
use crate::on_both_stores;
use reqwest::header::SET_COOKIE;
use reqwest::{Client, StatusCode};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

on_both_stores!(
    a_burst_of_wrong_passwords_gets_exactly_the_allowed_guesses,
    a_stranger_cannot_lock_an_editor_out,
    other_sites_cannot_make_visitors_vote_on_any_door,
    forwarded_headers_count_only_from_trusted_proxies,
    slow_clients_are_cut_off_and_health_still_answers,
    connections_past_the_cap_get_a_503_at_once,
    headers_per_route_class,
    metrics_need_the_operators_token,
    import_is_all_or_nothing_checked_and_audited,
    backups_are_consistent_copies_taken_while_serving,
);

fn raw_client() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A sign-in through the form; where it redirected, and the cookies it set.
async fn sign_in_from(
    app: &TestApp,
    client: &Client,
    password: &str,
    forwarded_for: &str,
    cookie: Option<&str>,
) -> (String, Vec<String>) {
    let mut request = client.post(app.url("/editor/session")).header("x-forwarded-for", forwarded_for).form(&[
        ("email", EDITOR_EMAIL),
        ("password", password),
        ("next", "/editor"),
    ]);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookies = response.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    (response.headers()["location"].to_str().unwrap().to_owned(), cookies)
}

fn trusting_localhost() -> Options {
    Options { trusted_proxies: server::config::parse_proxies("127.0.0.1/32").unwrap(), ..Options::default() }
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
    let app = spawn_app_with(backend, trusting_localhost()).await;
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
    let options = Options { rate_limit: 2, ..trusting_localhost() };
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

/// Reads until the server closes the connection; what it sent, and when it closed.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> (String, Duration) {
    let start = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(within.saturating_sub(start.elapsed()), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the connection was still open after {within:?}"),
        }
    }
    (String::from_utf8_lossy(&received).into_owned(), start.elapsed())
}

async fn slow_clients_are_cut_off_and_health_still_answers(backend: Backend) {
    let options = Options { request_timeout_s: Some(1), idle_timeout_s: Some(2), ..Options::default() };
    let app = spawn_app_with(backend, options).await;
    app.add_poll(open_poll("slow")).await;
    let addr = app.base.strip_prefix("http://").unwrap().to_owned();

    // Headers one byte at a time, forever (slowloris).
    let slow_headers = {
        let addr = addr.clone();
        tokio::spawn(async move {
            let mut stream = TcpStream::connect(&addr).await.unwrap();
            let start = Instant::now();
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ".iter().cycle() {
                if stream.write_all(&[*byte]).await.is_err() || start.elapsed() > Duration::from_secs(8) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            start.elapsed()
        })
    };
    // A body announced and never sent.
    let mut stalled_body = TcpStream::connect(&addr).await.unwrap();
    stalled_body
        .write_all(b"POST /api/v1/polls/slow/votes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"choi")
        .await
        .unwrap();
    // A connection that says nothing at all.
    let mut silent = TcpStream::connect(&addr).await.unwrap();

    // Meanwhile the server answers everyone else.
    let client = voter();
    for _ in 0..3 {
        let (status, health) = get_json(&client, app.url("/healthz")).await;
        assert_eq!((status, health["status"].as_str()), (StatusCode::OK, Some("ok")));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    let (answer, after) = until_closed(&mut stalled_body, Duration::from_secs(5)).await;
    assert!(after <= Duration::from_secs(4), "stalled body held {after:?}");
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 4"), "{answer}");
    let (_, after) = until_closed(&mut silent, Duration::from_secs(5)).await;
    assert!(after <= Duration::from_secs(4), "silent connection held {after:?}");
    let slow_for = slow_headers.await.unwrap();
    assert!(slow_for <= Duration::from_secs(4), "slow headers held the connection {slow_for:?}");
    assert_eq!(app.stored_votes("slow").await, 0);

    // A live-results stream reads nothing from its client for minutes, by design: the idle
    // limit is for connections waiting on the client, so the stream lives on.
    let reader = voter();
    let mut events = EventStream::open(&reader, app.url("/api/v1/polls/slow/events")).await.unwrap();
    assert_eq!(events.next(Duration::from_secs(2)).await.unwrap().1["total_votes"], 0);
    tokio::time::sleep(Duration::from_secs(4)).await;
    vote(&voter(), &app, "slow", choices(&["yes"])).await;
    assert_eq!(
        events.next(Duration::from_secs(3)).await.expect("the stream outlived the idle limit").1["total_votes"],
        1
    );
}

async fn connections_past_the_cap_get_a_503_at_once(backend: Backend) {
    let options = Options { max_connections: Some(3), max_listeners: Some(1), ..Options::default() };
    let app = spawn_app_with(backend, options).await;
    let addr = app.base.strip_prefix("http://").unwrap().to_owned();
    // Four idle connections fill the cap (three ordinary, one live-results place).
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(&addr).await.unwrap();
    let (answer, after) = until_closed(&mut extra, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_lowercase().contains("retry-after: 1"), "{answer}");
    assert!(after < Duration::from_secs(1), "the refusal took {after:?}");
    // When they go, the server serves again.
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _) = get_json(&voter(), app.url("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
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

async fn metrics_need_the_operators_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = raw_client();
    let response = client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let response = client.get(app.url("/metrics")).bearer_auth("test-metrics-tokem").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(app.metrics().await.contains("polltelligence_votes_recorded_total 0"));

    let app = spawn_app_with(backend, Options { no_metrics_token: true, ..Options::default() }).await;
    for token in [None, Some(TEST_METRICS_TOKEN), Some("")] {
        let mut request = client.get(app.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_eq!(request.send().await.unwrap().status(), StatusCode::NOT_FOUND, "{token:?}");
    }
}

fn imported(slug: &str, question: &str) -> serde_json::Value {
    let now = chrono::Utc::now();
    json!({
        "slug": slug,
        "question": question,
        "options": [{"id": "yes", "label": "  Yes  "}, {"id": "no", "label": "No"}],
        "results_visibility": "always",
        "opens_at": now - chrono::Duration::hours(1),
        "closes_at": now + chrono::Duration::days(7),
    })
}

async fn import_is_all_or_nothing_checked_and_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("taken")).await;
    let import = |polls: serde_json::Value, editor: &'static str| {
        let store = app.store.clone();
        async move { server::import::import(&store, &polls.to_string(), editor, chrono::Utc::now()).await }
    };
    let exists = |slug: &'static str| {
        let store = app.store.clone();
        async move { store.poll_by_slug(&app::domain::Slug::parse(slug).unwrap()).await.unwrap().is_some() }
    };
    let file = json!([imported("first", "First?"), imported("second", "Second?"), imported("taken", "Third?")]);
    let error = import(file.clone(), EDITOR_EMAIL).await.unwrap_err();
    assert!(error.contains("no editor"), "{error}");
    app.add_editor(EDITOR_EMAIL, EDITOR_PASSWORD).await;

    // A clash on the third poll leaves the first two unpublished too.
    let error = import(file, EDITOR_EMAIL).await.unwrap_err();
    assert!(error.contains("taken"), "{error}");
    assert!(!exists("first").await && !exists("second").await);

    // The editor form's limits hold here too.
    let long = "Why? ".repeat(80);
    let error = import(json!([imported("long", &long)]), EDITOR_EMAIL).await.unwrap_err();
    assert!(error.contains("longer than 300"), "{error}");
    let error = import(json!([imported("dup", "A?"), imported("dup", "B?")]), EDITOR_EMAIL).await.unwrap_err();
    assert!(error.contains("twice"), "{error}");
    assert!(!exists("long").await && !exists("dup").await);

    // A good file: trimmed like the form, published, and in the audit log.
    let count = import(json!([imported("first", "  First?  "), imported("second", "Second?")]), EDITOR_EMAIL).await;
    assert_eq!(count, Ok(2));
    let (status, poll) = get_json(&voter(), app.url("/api/v1/polls/first")).await;
    assert_eq!(status, StatusCode::OK, "{poll}");
    assert_eq!(poll["question"], "First?");
    assert_eq!(poll["options"][0]["label"], "Yes");
    let editor = app.sign_in(EDITOR_EMAIL, EDITOR_PASSWORD).await.unwrap();
    let (_, audit) = get_json(&editor.client, editor.url("/api/v1/editor/audit")).await;
    let imports: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "imported")
        .map(|e| e["poll"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(imports.len(), 2, "{audit}");
}

async fn backups_are_consistent_copies_taken_while_serving(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("kept")).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    if backend == Backend::Postgres {
        let error = server::backup::backup(&app.database_url, &file).await.unwrap_err();
        assert!(error.contains("pg_dump") && error.contains("pg_restore"), "{error}");
        return;
    }
    for _ in 0..20 {
        vote(&voter(), &app, "kept", choices(&["yes"])).await;
    }
    // Votes keep arriving while the copy is taken.
    let voting = {
        let base = app.base.clone();
        tokio::spawn(async move {
            let mut recorded = 0;
            for _ in 0..200 {
                let url = format!("{base}/api/v1/polls/kept/votes");
                let response = voter().post(url).json(&choices(&["no"])).send().await.unwrap();
                recorded += u32::from(response.status() == StatusCode::CREATED);
            }
            recorded
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let copy = server::backup::backup(&app.database_url, &file).await.unwrap();
    let recorded = voting.await.unwrap();
    assert_eq!(recorded, 200);
    assert_eq!(copy.polls, 1);
    assert!((20..=220).contains(&copy.votes), "{copy:?}");
    assert!(server::backup::backup(&app.database_url, &file).await.unwrap_err().contains("exists"));

    // Restored (a server started on the copy), it answers with exactly what it holds.
    let restored = spawn_app_on(format!("sqlite://{}", file.display())).await;
    let (status, results) = get_json(&voter(), restored.url("/api/v1/polls/kept/results")).await;
    assert_eq!(status, StatusCode::OK, "{results}");
    assert_eq!(results["total_votes"], copy.votes);
    assert_eq!(restored.stored_votes("kept").await, copy.votes);
    let yes = results["options"].as_array().unwrap().iter().find(|o| o["id"] == "yes").unwrap()["votes"].clone();
    assert_eq!(yes, 20, "every vote committed before the copy is in it");
    assert_eq!(app.stored_votes("kept").await, 220);
}
