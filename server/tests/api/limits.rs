//! Holding connections open past the limits, and the operator's doors: metrics behind a token,
//! imports that are all or nothing, backups taken while serving. Each test fails on a server
//! without what it names.

use crate::hardening::raw_client;
use crate::helpers::*;
use crate::on_both_stores;
use app::domain::PollError;
use reqwest::StatusCode;
use serde_json::json;
use server::backup::BackupError;
use server::import::ImportError;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

on_both_stores!(
    slow_clients_are_cut_off_and_health_still_answers,
    connections_past_the_cap_get_a_503_at_once,
    metrics_need_the_operators_token,
    import_is_all_or_nothing_checked_and_audited,
    backups_are_consistent_copies_taken_while_serving,
);

/// Reads until the server closes the connection; what it sent, and when it closed.
pub(crate) async fn until_closed(stream: &mut TcpStream, within: Duration) -> (String, Duration) {
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
    // Three idle connections fill the cap (live-results streams have places of their own).
    let mut held = Vec::new();
    for _ in 0..3 {
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
    assert!(matches!(error, ImportError::NoEditor(_)) && error.to_string().contains("no editor"), "{error}");
    app.add_editor(EDITOR_EMAIL, EDITOR_PASSWORD).await;

    // A clash on the third poll leaves the first two unpublished too.
    let error = import(file, EDITOR_EMAIL).await.unwrap_err();
    assert!(matches!(error, ImportError::Taken(_)) && error.to_string().contains("taken"), "{error}");
    assert!(!exists("first").await && !exists("second").await);

    // The editor form's limits hold here too.
    let long = "Why? ".repeat(80);
    let error = import(json!([imported("long", &long)]), EDITOR_EMAIL).await.unwrap_err();
    assert!(
        matches!(error, ImportError::Invalid { error: PollError::QuestionTooLong, .. })
            && error.to_string().contains("longer than 300"),
        "{error}"
    );
    let error = import(json!([imported("dup", "A?"), imported("dup", "B?")]), EDITOR_EMAIL).await.unwrap_err();
    assert!(matches!(error, ImportError::Repeated { .. }) && error.to_string().contains("twice"), "{error}");
    assert!(!exists("long").await && !exists("dup").await);

    // A good file: trimmed like the form, published, and in the audit log.
    let count = import(json!([imported("first", "  First?  "), imported("second", "Second?")]), EDITOR_EMAIL).await;
    assert_eq!(count.unwrap(), 2);
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
        let message = error.to_string();
        assert!(matches!(error, BackupError::Postgres), "{error}");
        assert!(message.contains("pg_dump") && message.contains("pg_restore"), "{message}");
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
    let again = server::backup::backup(&app.database_url, &file).await.unwrap_err();
    assert!(matches!(again, BackupError::Exists(_)) && again.to_string().contains("exists"), "{again}");

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
