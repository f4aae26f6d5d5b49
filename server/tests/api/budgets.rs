//! What every reader and editor shares, kept from any one stranger (issue 21): the sign-in
//! throttle's table, live-results places and connections per client network, the open-file
//! limit, per-browser known marks that signing out everywhere revokes, and an operator's
//! `editor disable`. Each test fails on a server without the defence it names.

use crate::hardening::{raw_client, sign_in_as, trusting_localhost};
use crate::helpers::*;
use crate::limits::until_closed;
use crate::on_both_stores;
use reqwest::{Client, Method, StatusCode};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

on_both_stores!(
    a_full_sign_in_throttle_still_lets_editors_in,
    each_browser_has_its_own_mark_and_signing_out_everywhere_revokes_them,
    an_operator_can_disable_an_editor_and_end_their_sessions_and_tokens,
    one_client_cannot_take_every_live_results_place_or_connection,
    caps_fit_under_the_open_file_limit_and_answer_503,
    odd_image_sizes_are_drawn_as_the_nearest_preset,
);

/// `GET /healthz` on a connection kept alive: the first 12 bytes of the answer's status line.
async fn status_kept_alive(stream: &mut TcpStream) -> std::io::Result<[u8; 12]> {
    stream.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n").await?;
    let mut head = [0u8; 12];
    tokio::io::AsyncReadExt::read_exact(stream, &mut head).await?;
    Ok(head)
}

/// A sign-in through the form from `from` (a forwarded address); the answer as a word, and
/// the known-browser mark it set, if any.
async fn sign_in(
    app: &TestApp,
    email: &str,
    password: &str,
    from: &str,
    mark: Option<&str>,
) -> (String, Option<String>) {
    let (to, cookies) = sign_in_as(app, &raw_client(), email, password, from, mark).await;
    let cookie =
        |name: &str| cookies.iter().find(|c| c.starts_with(name)).map(|c| c.split(';').next().unwrap().to_owned());
    let outcome = match to.as_str() {
        "error=login_failed" => "wrong".to_owned(),
        "error=too_many_attempts" => "throttled".to_owned(),
        _ => format!("in {}", cookie("pt_session=").unwrap_or_default()),
    };
    (outcome, cookie("pt_known="))
}

async fn a_full_sign_in_throttle_still_lets_editors_in(backend: Backend) {
    // A table of 30 keys: ten strangers' failed sign-ins fill it (three keys each).
    let app =
        spawn_app_with(backend, trusting_localhost(Options { sign_in_keys: Some(30), ..Options::default() })).await;
    app.add_editor(EDITOR_EMAIL, EDITOR_PASSWORD).await;
    let (outcome, mark) = sign_in(&app, EDITOR_EMAIL, EDITOR_PASSWORD, "198.51.100.1", None).await;
    assert!(outcome.starts_with("in"), "{outcome}");
    let mark = mark.expect("a known-browser mark");
    // Failed sign-ins, each from a new address and a new account name, then a top-up.
    for i in 0..60 {
        let from = format!("10.0.{}.{}", i / 250, i % 250 + 1);
        let (outcome, _) = sign_in(&app, &format!("nobody{i}@example.com"), "guess", &from, None).await;
        assert_eq!(outcome, "wrong", "stranger {i}");
    }
    // The right password from a fresh browser at a clean address, and from the editor's
    // known browser, still get in.
    let (outcome, _) = sign_in(&app, EDITOR_EMAIL, EDITOR_PASSWORD, "198.51.100.2", None).await;
    assert!(outcome.starts_with("in"), "a fresh browser: {outcome}");
    let (outcome, _) = sign_in(&app, EDITOR_EMAIL, EDITOR_PASSWORD, "203.0.113.50", Some(&mark)).await;
    assert!(outcome.starts_with("in"), "the known browser: {outcome}");
    // The newest guesser is still held to its limit.
    for _ in 0..5 {
        assert_eq!(sign_in(&app, EDITOR_EMAIL, "guess", "203.0.113.66", None).await.0, "wrong");
    }
    assert_eq!(sign_in(&app, EDITOR_EMAIL, EDITOR_PASSWORD, "203.0.113.66", None).await.0, "throttled");
}

/// A botnet's guesses until the account is slowed down for every browser it does not know.
async fn lock_out_strangers(app: &TestApp) {
    for host in 1..=20 {
        for _ in 0..5 {
            sign_in(app, EDITOR_EMAIL, "guess", &format!("192.0.2.{host}"), None).await;
        }
    }
    assert_eq!(sign_in(app, EDITOR_EMAIL, EDITOR_PASSWORD, "198.51.100.9", None).await.0, "throttled");
}

async fn each_browser_has_its_own_mark_and_signing_out_everywhere_revokes_them(backend: Backend) {
    let app = spawn_app_with(backend, trusting_localhost(Options::default())).await;
    app.add_editor(EDITOR_EMAIL, EDITOR_PASSWORD).await;
    let (_, laptop) = sign_in(&app, EDITOR_EMAIL, EDITOR_PASSWORD, "198.51.100.1", None).await;
    let (phone_session, phone) = sign_in(&app, EDITOR_EMAIL, EDITOR_PASSWORD, "198.51.100.2", None).await;
    let (laptop, phone) = (laptop.unwrap(), phone.unwrap());
    assert_ne!(laptop, phone, "each browser gets a mark of its own");
    lock_out_strangers(&app).await;

    // Whoever holds the old laptop's mark spends its tries...
    for _ in 0..5 {
        assert_eq!(sign_in(&app, EDITOR_EMAIL, "guess", "203.0.113.66", Some(&laptop)).await.0, "wrong");
    }
    assert_eq!(sign_in(&app, EDITOR_EMAIL, EDITOR_PASSWORD, "203.0.113.66", Some(&laptop)).await.0, "throttled");
    // ...and the phone keeps its own.
    let (outcome, renewed) = sign_in(&app, EDITOR_EMAIL, EDITOR_PASSWORD, "198.51.100.2", Some(&phone)).await;
    assert!(outcome.starts_with("in"), "{outcome}");
    let renewed = renewed.expect("a renewed mark");
    assert_eq!(renewed.split('.').next(), phone.split('.').next(), "the same browser, a new date");

    // Sign out everywhere, from the phone's first session: every session ends...
    let session = phone_session.strip_prefix("in ").unwrap().to_owned();
    assert!(signed_in(&app, &session).await);
    let csrf = {
        let response = raw_client().get(app.url("/rpc/editor/new")).header("cookie", &session).send().await.unwrap();
        json_of(response).await.1["me"]["csrf"].as_str().unwrap().to_owned()
    };
    let response = raw_client()
        .post(app.url("/editor/logout"))
        .header("cookie", &session)
        .header("origin", &app.base)
        .form(&[("csrf", csrf.as_str()), ("everywhere", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(!signed_in(&app, &session).await, "this session ended");
    // ...and every mark is revoked: the phone is a stranger again, and strangers are slowed.
    assert_eq!(sign_in(&app, EDITOR_EMAIL, EDITOR_PASSWORD, "198.51.100.2", Some(&renewed)).await.0, "throttled");
    assert_eq!(sign_in(&app, EDITOR_EMAIL, EDITOR_PASSWORD, "198.51.100.1", Some(&laptop)).await.0, "throttled");
}

/// Whether the session cookie `cookie` opens the editor's home page.
async fn signed_in(app: &TestApp, cookie: &str) -> bool {
    let page = raw_client().get(app.url("/editor")).header("cookie", cookie).send().await.unwrap();
    page.status() == StatusCode::OK
}

async fn an_operator_can_disable_an_editor_and_end_their_sessions_and_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.editor().await;
    let token = editor.api_token("script").await;
    let cli = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_polltelligence"))
            .args(["editor"])
            .args(args)
            .args([EDITOR_EMAIL, "--database-url", &app.database_url])
            .env("RUST_LOG", "error")
            .output()
            .expect("the CLI runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let (status, _) = api_call(&app, &token, Method::GET, "/polls", None).await;
    assert_eq!(status, StatusCode::OK);

    assert!(cli(&["disable"]).contains("disabled"));
    let page = editor.client.get(app.url("/editor")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER, "the session ended");
    let (status, _) = api_call(&app, &token, Method::GET, "/polls", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the API token is revoked");
    let refused = app.sign_in(EDITOR_EMAIL, EDITOR_PASSWORD).await.err().expect("a disabled editor cannot sign in");
    assert!(refused.starts_with("401"), "as for an unknown account: {refused}");

    assert!(cli(&["enable"]).contains("enabled"));
    let again = app.sign_in(EDITOR_EMAIL, EDITOR_PASSWORD).await.expect("enabled again");
    let (status, _) = api_call(&app, &token, Method::GET, "/polls", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked tokens stay revoked");
    let (_, audit) = get_json(&again.client, app.url("/api/v1/editor/audit")).await;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"disabled") && actions.contains(&"enabled"), "{audit}");

    // `editor sign-out` ends the sessions only.
    assert!(cli(&["sign-out"]).contains("signed out everywhere"));
    assert_eq!(again.client.get(app.url("/editor")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let fresh = app.sign_in(EDITOR_EMAIL, EDITOR_PASSWORD).await.expect("signs in again");
    let token = fresh.api_token("second script").await;
    assert!(cli(&["sign-out"]).contains("signed out"));
    assert_eq!(api_call(&app, &token, Method::GET, "/polls", None).await.0, StatusCode::OK, "tokens keep working");
}

/// A connection from another loopback address: another client, as the server sees it.
async fn connect_from(source: &str, to: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket.connect(to.parse::<SocketAddr>().unwrap()).await.unwrap()
}

/// `GET path` over `stream`: the status line.
async fn get_over(stream: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let (answer, _) = until_closed(stream, Duration::from_secs(5)).await;
    answer.lines().next().unwrap_or_default().to_owned()
}

async fn one_client_cannot_take_every_live_results_place_or_connection(backend: Backend) {
    let options = Options {
        max_connections: Some(8),
        max_connections_per_client: Some(3),
        max_listeners: Some(10),
        max_listeners_per_client: Some(2),
        ..Options::default()
    };
    let app = spawn_app_with(backend, trusting_localhost(options)).await;
    app.add_poll(open_poll("live")).await;
    let url = app.url("/api/v1/polls/live/events");
    let stream_from = |client: &'static str| {
        let url = url.clone();
        async move {
            let reader = Client::builder().default_headers(
                [(reqwest::header::HeaderName::from_static("x-forwarded-for"), client.parse().unwrap())]
                    .into_iter()
                    .collect(),
            );
            EventStream::open(&reader.build().unwrap(), url).await
        }
    };
    // One client (behind the trusted proxy) gets its two live-results places, no more...
    let _first = stream_from("203.0.113.1").await.unwrap();
    let _second = stream_from("203.0.113.1").await.unwrap();
    let (status, body) = stream_from("203.0.113.1").await.err().unwrap();
    assert_eq!((status, error_code(&body)), (StatusCode::SERVICE_UNAVAILABLE, "too_many_listeners"));
    // ...the same /64 counts as one client, and another client is still served.
    let _v6 = stream_from("2001:db8:1:2::1").await.unwrap();
    let _v6b = stream_from("2001:db8:1:2::2").await.unwrap();
    assert!(stream_from("2001:db8:1:2::3").await.is_err());
    let mut other = stream_from("198.51.100.7").await.unwrap();
    assert!(other.next(Duration::from_secs(3)).await.is_some());

    // Ordinary connections: one client address (not a proxy) holds three at most; streams do
    // not count among them (five are open through the proxy, over a cap of eight).
    let addr = app.base.strip_prefix("http://").unwrap().to_owned();
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(connect_from("127.0.0.2", &addr).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fourth = connect_from("127.0.0.2", &addr).await;
    let (answer, after) = until_closed(&mut fourth, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(after < Duration::from_secs(1));
    // Another client is served, health included.
    let mut elsewhere = connect_from("127.0.0.3", &addr).await;
    assert_eq!(get_over(&mut elsewhere, "/healthz").await, "HTTP/1.1 200 OK");
    drop(idle);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut back = connect_from("127.0.0.2", &addr).await;
    assert_eq!(get_over(&mut back, "/healthz").await, "HTTP/1.1 200 OK", "places are given back");

    // A client's streams count among its streams, not its connections: two streams from
    // 127.0.0.4, and it still has its three connections.
    let direct = Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 4])).build().unwrap();
    let _streams = (
        EventStream::open(&direct, url.clone()).await.unwrap(),
        EventStream::open(
            &Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 4])).build().unwrap(),
            url.clone(),
        )
        .await
        .unwrap(),
    );
    let mut three = Vec::new();
    for _ in 0..3 {
        let mut stream = connect_from("127.0.0.4", &addr).await;
        let head = status_kept_alive(&mut stream).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200", "{}", String::from_utf8_lossy(&head));
        three.push(stream);
    }
}

/// The real server under a low open-file limit (soft = hard = 300, as a service manager might
/// set it): it fits its caps under the limit and answers 503 past them, instead of failing to
/// accept ("Too many open files") and leaving clients hanging.
async fn caps_fit_under_the_open_file_limit_and_answer_503(backend: Backend) {
    let app = spawn_app(backend).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let server = std::process::Command::new("prlimit")
        .args(["--nofile=300:300", env!("CARGO_BIN_EXE_polltelligence"), "serve"])
        .env("DATABASE_URL", &app.database_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", dir.path().join("site"))
        .env("POLLTELLIGENCE_DEMO", "0")
        .env("POLLTELLIGENCE_SUMMARY_WORKERS", "0")
        .env("RUST_LOG", "warn")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("prlimit (util-linux) starts the server");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Kill(server);
    let addr = format!("127.0.0.1:{port}");
    let started = std::time::Instant::now();
    while TcpStream::connect(&addr).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // 300 descriptors, 256 kept aside: 44 for clients, 4 of them ordinary (1,024 of 11,024).
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(log.contains("lowered them to fit"), "{log}");
    // Four kept-alive connections, each served once: they hold the ordinary places. (A place
    // may still be held for a moment by the start-up probe: a refused one is tried again.)
    let mut held = Vec::new();
    while held.len() < 4 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        match tokio::time::timeout(Duration::from_secs(5), status_kept_alive(&mut stream)).await {
            Ok(Ok(head)) if head.starts_with(b"HTTP/1.1 200") => held.push(stream),
            Ok(Ok(head)) if head.starts_with(b"HTTP/1.1 503") => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the ordinary places never came free");
    }
    for _ in 0..50 {
        let mut extra = TcpStream::connect(&addr).await.unwrap();
        let (answer, _) = until_closed(&mut extra, Duration::from_secs(3)).await;
        assert!(answer.starts_with("HTTP/1.1 503") || answer.is_empty(), "{answer}");
    }
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    assert_eq!(get_over(&mut stream, "/healthz").await, "HTTP/1.1 200 OK");
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(!log.contains("Too many open files"), "{log}");
}

async fn odd_image_sizes_are_drawn_as_the_nearest_preset(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("pictured")).await;
    let fetch = |query: &'static str| {
        let url = app.url(&format!("/polls/pictured/results.png?{query}"));
        async move {
            let response = raw_client().get(url).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{query}");
            let etag = response.headers()["etag"].to_str().unwrap().to_owned();
            let png = response.bytes().await.unwrap();
            let dimension = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
            (etag, dimension(16), dimension(20))
        }
    };
    let card = fetch("w=1200&h=630").await;
    assert_eq!((card.1, card.2), (1200, 630));
    for odd in ["w=1199&h=631", "w=1203&h=628", "w=1150&h=620"] {
        assert_eq!(fetch(odd).await, card, "{odd} is the 1200×630 card");
    }
    let (_, width, _) = fetch("w=333").await;
    assert_eq!(width, 300);
}
