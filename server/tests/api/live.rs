//! Live results over Server-Sent Events: after a vote, at close, within visibility and the
//! listener cap; on PostgreSQL, across instances.

use crate::helpers::*;
use crate::on_both_stores;
use app::domain::ResultsVisibility;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

on_both_stores!(
    live_results_arrive_after_a_vote_and_end_at_close,
    live_results_respect_visibility_and_the_listener_cap,
);

mod postgres_only {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_vote_on_one_instance_reaches_listeners_on_another() {
        super::a_vote_on_one_instance_reaches_listeners_on_another(crate::helpers::Backend::Postgres).await
    }
}

async fn poll_id(editor: &Editor, slug: &str) -> Value {
    let (_, polls) = get_json(&editor.client, editor.url("/api/v1/editor/polls")).await;
    polls["polls"].as_array().unwrap().iter().find(|p| p["poll"]["slug"] == slug).unwrap()["id"].clone()
}

async fn live_results_arrive_after_a_vote_and_end_at_close(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("live")).await;
    let listener = voter();
    let mut events = EventStream::open(&listener, app.url("/api/v1/polls/live/events")).await.unwrap();
    let (name, first) = events.next(Duration::from_secs(5)).await.expect("the current results at once");
    assert_eq!(
        (name.as_str(), &first["total_votes"], &first["status"]),
        ("results", &Value::from(0), &Value::from("open"))
    );

    vote(&voter(), &app, "live", choices(&["maybe"])).await;
    let (_, next) = events.next(Duration::from_secs(2)).await.expect("an event within 2 s of the vote");
    assert_eq!(next["total_votes"], 1);
    assert_eq!(next["options"][2]["votes"], 1);
    // A burst is coalesced into few events, the last with every vote.
    for _ in 0..20 {
        vote(&voter(), &app, "live", choices(&["yes"])).await;
    }
    let mut seen = 0;
    let mut last = Value::Null;
    while last["total_votes"] != 21 {
        last = events.next(Duration::from_secs(3)).await.expect("the burst arrives").1;
        seen += 1;
    }
    assert!(seen < 20, "{seen} events for 20 votes");

    // A listener that connects again gets the current state at once.
    let mut again = EventStream::open(&voter(), app.url("/api/v1/polls/live/events")).await.unwrap();
    assert_eq!(again.next(Duration::from_secs(2)).await.unwrap().1["total_votes"], 21);

    // Closing sends a final event, then the stream ends.
    let editor = app.editor().await;
    let id = poll_id(&editor, "live").await;
    let (status, body) =
        editor.send_json(Method::POST, &format!("/api/v1/editor/polls/{id}/close"), &Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, last) = events.next(Duration::from_secs(5)).await.expect("a final event at close");
    assert_eq!((&last["status"], &last["total_votes"]), (&Value::from("closed"), &Value::from(21)));
    assert!(events.next(Duration::from_secs(5)).await.is_none(), "the stream ends after the final event");
    let mut closed = EventStream::open(&voter(), app.url("/api/v1/polls/live/events")).await.unwrap();
    assert_eq!(closed.next(Duration::from_secs(2)).await.unwrap().1["status"], "closed");
    assert!(closed.next(Duration::from_secs(3)).await.is_none());

    // The editor's dashboard stream.
    let mut dashboard =
        EventStream::open(&editor.client, editor.url(&format!("/api/v1/editor/polls/{id}/events"))).await.unwrap();
    assert_eq!(dashboard.next(Duration::from_secs(2)).await.unwrap().1["total_votes"], 21);
    let anonymous = EventStream::open(&voter(), app.url(&format!("/api/v1/editor/polls/{id}/events"))).await;
    assert_eq!(anonymous.err().unwrap().0, StatusCode::UNAUTHORIZED);
}

async fn live_results_respect_visibility_and_the_listener_cap(backend: Backend) {
    let app = spawn_app_with(backend, Options { max_listeners: Some(2), ..Options::default() }).await;
    app.add_poll(app::domain::PollDraft {
        results_visibility: ResultsVisibility::AfterVote,
        ..open_poll("after-vote")
    })
    .await;
    let reader = voter();
    let (status, body) = EventStream::open(&reader, app.url("/api/v1/polls/after-vote/events")).await.err().unwrap();
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "results_hidden"));
    vote(&reader, &app, "after-vote", choices(&["no"])).await;
    let mut mine = EventStream::open(&reader, app.url("/api/v1/polls/after-vote/events")).await.unwrap();
    assert_eq!(mine.next(Duration::from_secs(2)).await.unwrap().1["total_votes"], 1);
    let (status, body) = EventStream::open(&reader, app.url("/api/v1/polls/nope/events")).await.err().unwrap();
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "poll_not_found"));

    let _second = EventStream::open(&reader, app.url("/api/v1/polls/after-vote/events")).await.unwrap();
    let metrics = app.metrics().await;
    assert!(metrics.contains("polltelligence_live_listeners 2"), "{metrics}");
    let (status, body) = EventStream::open(&reader, app.url("/api/v1/polls/after-vote/events")).await.err().unwrap();
    assert_eq!((status, error_code(&body)), (StatusCode::SERVICE_UNAVAILABLE, "too_many_listeners"));
    drop(mine);
    // The place is given back once the server notices the closed connection, at its next
    // write to it (here an event from new votes; the 15 s heartbeat does it when idle).
    let mut reopened = None;
    for _ in 0..50 {
        vote(&voter(), &app, "after-vote", choices(&["yes"])).await;
        if let Ok(stream) = EventStream::open(&reader, app.url("/api/v1/polls/after-vote/events")).await {
            reopened = Some(stream);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "a closed listener frees its place");
}

async fn a_vote_on_one_instance_reaches_listeners_on_another(backend: Backend) {
    let first = spawn_app(backend).await;
    first.add_poll(open_poll("shared")).await;
    let second = first.another_instance().await;
    let mut events = EventStream::open(&voter(), second.url("/api/v1/polls/shared/events")).await.unwrap();
    assert_eq!(events.next(Duration::from_secs(2)).await.unwrap().1["total_votes"], 0);
    // Let the second instance's LISTEN settle before the vote it must hear about.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    vote(&voter(), &first, "shared", choices(&["yes"])).await;
    let (_, event) = events.next(Duration::from_secs(2)).await.expect("the other instance's vote within 2 s");
    assert_eq!(event["total_votes"], 1);
    println!("vote on instance A reached a listener on instance B in {:?}", started.elapsed());
    // An editor's close on the first instance ends the stream on the second at once too
    // (well before the pumps' own 5 s recheck).
    let editor = first.editor().await;
    let id = poll_id(&editor, "shared").await;
    let started = std::time::Instant::now();
    let (status, _) = editor.send_json(Method::POST, &format!("/api/v1/editor/polls/{id}/close"), &Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let (_, last) = events.next(Duration::from_secs(2)).await.expect("the close within 2 s");
    assert_eq!(last["status"], "closed");
    println!("a close on instance A reached a listener on instance B in {:?}", started.elapsed());
}
