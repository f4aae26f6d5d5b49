//! Summary jobs: queued at close, surviving a restart, never shared by two workers, their
//! progress streamed until done.

use crate::helpers::*;
use crate::on_both_stores;
use crate::summaries::{add_comments, poll_id, reader_comments, run_jobs};
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_stores!(
    closing_a_poll_queues_its_summary,
    a_job_survives_a_restart,
    workers_never_share_a_job,
    progress_streams_until_done,
);

async fn closing_a_poll_queues_its_summary(backend: Backend) {
    let clock = TestClock::at(Utc::now());
    let app = spawn_app_with(backend, Options { clock: Some(clock.clone()), ..Options::default() }).await;
    app.add_poll(open_poll("closes-soon")).await;
    app.add_poll(open_poll("no-auto")).await;
    app.add_poll(open_poll("no-comments")).await;
    add_comments(&app, "closes-soon", &reader_comments()[..5]).await;
    add_comments(&app, "no-auto", &reader_comments()[..5]).await;
    let no_auto = poll_id(&app, "no-auto").await;
    let editor = app.editor().await;
    let response = editor.post_form(&format!("/editor/polls/{no_auto}/summaries/automatic"), &[("on", "false")]).await;
    assert!(response.status().is_redirection() || response.status().is_success(), "{}", response.status());
    assert!(!app.summaries.summarise_on_close(no_auto).await.unwrap());
    let response = editor.post_form(&format!("/editor/polls/{no_auto}/summaries/automatic"), &[("on", "maybe")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.summaries.queue_closed_polls().await.unwrap(), 0, "nothing has closed yet");
    clock.advance(Duration::days(2));
    assert_eq!(app.summaries.queue_closed_polls().await.unwrap(), 1);
    assert_eq!(app.summaries.queue_closed_polls().await.unwrap(), 0, "once per poll");
    assert_eq!(run_jobs(&app).await, 1);
    let closes = poll_id(&app, "closes-soon").await;
    let listed = app.summaries.list(closes).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, app::domain::SummaryStatus::Done);
    assert!(app.summaries.list(no_auto).await.unwrap().is_empty());
}

/// A worker that dies after claiming a job (its lease runs out) does not lose the job: the
/// next instance takes it over and finishes it once.
async fn a_job_survives_a_restart(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(closed_poll("restart-me")).await;
    add_comments(&app, "restart-me", &reader_comments()[..8]).await;
    let poll = poll_id(&app, "restart-me").await;
    let (queued, _) = app.summaries.start(poll, None, None).await.unwrap();
    // The first server claims it and stops (its lease: one second).
    let now = Utc::now();
    let claimed = app.store.summaries().claim_summary("crashed-worker", now, now + Duration::seconds(1)).await.unwrap();
    assert_eq!(claimed.map(|c| c.id), Some(queued.id));
    assert!(!app.summaries.run_next().await.unwrap(), "a job under a live lease is not taken twice");
    let restarted = app
        .another_instance_with(Options {
            summariser: Some(server::summaries::SummariserConfig {
                workers: 1,
                lease: std::time::Duration::from_secs(1),
                ..summariser()
            }),
            ..Options::default()
        })
        .await;
    let mut finished = None;
    for _ in 0..100 {
        let s = restarted.summaries.get(queued.id).await.unwrap();
        if s.finished() {
            finished = Some(s);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let finished = finished.expect("the restarted server finished the job");
    assert_eq!(finished.status, app::domain::SummaryStatus::Done, "{finished:?}");
    let stored = restarted.store.summaries().summary(queued.id).await.unwrap().unwrap();
    assert_eq!(stored.attempts, 2, "claimed once by the dead worker, once by the new one");
    // The dead worker coming back cannot overwrite the result.
    let late = server::store::FinishedSummary {
        backend: "extractive".into(),
        model: "x".into(),
        parameters: "{}".into(),
        input_hash: "x".into(),
        needs_review: true,
        comments_considered: 0,
        result: "{}".into(),
    };
    assert!(!app.store.summaries().finish_summary(queued.id, "crashed-worker", &late, Utc::now()).await.unwrap());
}

/// Two instances' workers claiming at once never take the same job.
async fn workers_never_share_a_job(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = app.another_instance().await;
    let mut queued = Vec::new();
    for n in 0..6 {
        let slug = format!("shared-{n}");
        app.add_poll(closed_poll(&slug)).await;
        add_comments(&app, &slug, &reader_comments()[..4]).await;
        queued.push(app.summaries.start(poll_id(&app, &slug).await, None, None).await.unwrap().0.id);
    }
    let now = Utc::now();
    let lease = now + Duration::seconds(60);
    let mut claims = Vec::new();
    for n in 0..12 {
        let store = if n % 2 == 0 { app.store.clone() } else { other.store.clone() };
        claims.push(tokio::spawn(async move {
            store.summaries().claim_summary(&format!("worker-{n}"), now, lease).await.unwrap().map(|s| s.id)
        }));
    }
    let mut taken = Vec::new();
    for claim in claims {
        taken.extend(claim.await.unwrap());
    }
    taken.sort();
    assert_eq!(taken, queued, "each job claimed exactly once");

    // And whole jobs, run by both instances at once, each run once.
    for n in 6..12 {
        let slug = format!("shared-{n}");
        app.add_poll(closed_poll(&slug)).await;
        add_comments(&app, &slug, &reader_comments()[..4]).await;
        app.summaries.start(poll_id(&app, &slug).await, None, None).await.unwrap();
    }
    let (a, b) = tokio::join!(run_jobs(&app), run_jobs(&other));
    assert_eq!(a + b, 6, "{a} + {b}");
    for n in 6..12 {
        let summaries = app.summaries.list(poll_id(&app, &format!("shared-{n}")).await).await.unwrap();
        assert_eq!(summaries[0].status, app::domain::SummaryStatus::Done);
        let stored = app.store.summaries().summary(summaries[0].id).await.unwrap().unwrap();
        assert_eq!(stored.attempts, 1);
    }
}

/// Progress reaches the dashboard over the summary's event stream, which ends when it is done.
async fn progress_streams_until_done(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(closed_poll("watch-me")).await;
    add_comments(&app, "watch-me", &reader_comments()).await;
    let poll = poll_id(&app, "watch-me").await;
    let editor = app.editor().await;
    let (_, body) = editor.send_json(Method::POST, &format!("/api/v1/editor/polls/{poll}/summaries"), &json!({})).await;
    let id = body["summary"]["id"].as_i64().unwrap();
    let mut events = EventStream::open(&editor.client, editor.url(&format!("/api/v1/editor/summaries/{id}/events")))
        .await
        .expect("the stream opens");
    let (name, first) = events.next(std::time::Duration::from_secs(5)).await.expect("a first event");
    assert_eq!(name, "summary");
    assert_eq!(first["status"], "queued");
    run_jobs(&app).await;
    let mut last = first;
    while let Some((_, event)) = events.next(std::time::Duration::from_secs(10)).await {
        last = event;
    }
    assert_eq!(last["status"], "done", "the stream ends with the finished summary: {last}");
    assert_eq!(last["progress"], 1.0);
}
