use crate::helpers::*;
use crate::on_both_stores;
use app::domain::{PollDraft, ResultsVisibility};
use reqwest::StatusCode;

on_both_stores!(
    demo_content_has_the_newsletter_poll_where_no_wins,
    polls_are_listed_by_status_newest_first,
    poll_detail_follows_the_contract,
    results_follow_the_visibility_rule,
    health_metrics_and_openapi_answer,
    drafts_are_invisible,
);

async fn demo_content_has_the_newsletter_poll_where_no_wins(backend: Backend) {
    let app = spawn_app_with(backend, Options { demo: true, ..Options::default() }).await;
    let client = voter();
    let (status, open) = get_json(&client, app.url("/api/v1/polls?status=open")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!open["polls"].as_array().unwrap().is_empty(), "at least one open poll");

    let (_, closed) = get_json(&client, app.url("/api/v1/polls?status=closed")).await;
    let stocks = closed["polls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["question"] == "Do you own any AI-specific stocks in your portfolio?")
        .expect("the newsletter's poll is in the demo content");
    let labels: Vec<_> = stocks["options"].as_array().unwrap().iter().map(|o| o["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["Yes", "No"]);

    let slug = stocks["slug"].as_str().unwrap();
    let (status, results) = get_json(&client, app.url(&format!("/api/v1/polls/{slug}/results"))).await;
    assert_eq!(status, StatusCode::OK);
    let options = results["options"].as_array().unwrap();
    let (yes, no) = (options[0]["votes"].as_u64().unwrap(), options[1]["votes"].as_u64().unwrap());
    assert!(no > yes, "No wins: yes={yes} no={no}");
    assert_eq!(results["total_votes"].as_u64().unwrap(), yes + no);
    let percent_sum: f64 = options.iter().map(|o| o["percent"].as_f64().unwrap()).sum();
    assert!((percent_sum - 100.0).abs() < 1e-9, "percents add up: {percent_sum}");

    // A restart on the same database does not load the demo twice.
    let app = app.restart().await;
    let (_, all) = get_json(&client, app.url("/api/v1/polls?status=all")).await;
    let stock_polls = all["polls"].as_array().unwrap().iter().filter(|p| p["slug"] == slug).count();
    assert_eq!(stock_polls, 1);
}

async fn polls_are_listed_by_status_newest_first(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(closed_poll("old-one")).await;
    app.add_poll(open_poll("current")).await;
    app.add_poll(scheduled_poll("next-week")).await;
    let client = voter();
    let slugs = |v: serde_json::Value| -> Vec<String> {
        v["polls"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap().to_owned()).collect()
    };
    let (_, all) = get_json(&client, app.url("/api/v1/polls")).await;
    assert_eq!(slugs(all), ["next-week", "current", "old-one"]);
    let (_, open) = get_json(&client, app.url("/api/v1/polls?status=open")).await;
    assert_eq!(slugs(open), ["current"]);
    let (_, closed) = get_json(&client, app.url("/api/v1/polls?status=closed")).await;
    assert_eq!(slugs(closed), ["old-one"]);
    let (status, bad) = get_json(&client, app.url("/api/v1/polls?status=sideways")).await;
    assert_eq!((status, error_code(&bad)), (StatusCode::BAD_REQUEST, "malformed_request"));
}

async fn poll_detail_follows_the_contract(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("contract")).await;
    let (status, poll) = get_json(&voter(), app.url("/api/v1/polls/contract")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(poll["slug"], "contract");
    assert_eq!(poll["kind"], "single");
    assert_eq!(poll["max_choices"], 1);
    assert_eq!(poll["status"], "open");
    assert_eq!(poll["results_visibility"], "always");
    assert_eq!(poll["allow_comment"], true);
    assert_eq!(poll["options"][1], serde_json::json!({"id": "no", "label": "No"}));
    for field in ["opens_at", "closes_at"] {
        let text = poll[field].as_str().unwrap();
        let parsed = chrono::DateTime::parse_from_rfc3339(text).expect("RFC 3339");
        assert_eq!(parsed.offset().local_minus_utc(), 0, "{field} is UTC: {text}");
    }
}

async fn results_follow_the_visibility_rule(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(PollDraft { results_visibility: ResultsVisibility::AfterVote, ..open_poll("after-vote") }).await;
    app.add_poll(PollDraft { results_visibility: ResultsVisibility::Never, ..open_poll("never") }).await;
    app.add_poll(PollDraft { results_visibility: ResultsVisibility::AfterClose, ..closed_poll("after-close") }).await;
    let client = voter();

    let (status, body) = get_json(&client, app.url("/api/v1/polls/after-vote/results")).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "results_hidden"));
    let (status, receipt) = vote(&client, &app, "after-vote", choices(&["yes"])).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(receipt["results"]["total_votes"], 1);
    let (status, results) = get_json(&client, app.url("/api/v1/polls/after-vote/results")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(results["options"][0]["votes"], 1);
    // Another reader who has not voted still sees nothing.
    let (status, _) = get_json(&voter(), app.url("/api/v1/polls/after-vote/results")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, receipt) = vote(&client, &app, "never", choices(&["no"])).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(receipt["results"].is_null());
    let (status, _) = get_json(&client, app.url("/api/v1/polls/never/results")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, results) = get_json(&client, app.url("/api/v1/polls/after-close/results")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(results["status"], "closed");
}

async fn health_metrics_and_openapi_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("counted")).await;
    let client = voter();
    let home = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.headers()["x-content-type-options"], "nosniff");
    assert_eq!(home.headers()["referrer-policy"], "strict-origin-when-cross-origin");
    let (status, health) = get_json(&client, app.url("/healthz")).await;
    assert_eq!((status, health["status"].as_str()), (StatusCode::OK, Some("ok")));

    vote(&client, &app, "counted", choices(&["yes"])).await;
    vote(&client, &app, "counted", choices(&["nope"])).await;
    let metrics = app.metrics().await;
    assert!(metrics.contains("polltelligence_votes_recorded_total 1"), "{metrics}");
    assert!(metrics.contains("polltelligence_votes_rejected_total{code=\"invalid_choices\"} 1"), "{metrics}");

    let (status, doc) = get_json(&client, app.url("/api/v1/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/polls",
        "/api/v1/polls/{slug}",
        "/api/v1/polls/{slug}/votes",
        "/api/v1/polls/{slug}/results",
        "/healthz",
        "/metrics",
        "/api/v1/editor/polls",
        "/api/v1/editor/polls/{id}",
        "/api/v1/editor/polls/{id}/results",
        "/api/v1/editor/polls/{id}/export",
        "/api/v1/editor/polls/{id}/comments/{comment}",
        "/api/v1/editor/audit",
        "/api/v1/simulate",
        "/api/v1/polls/{slug}/events",
        "/api/v1/editor/polls/{id}/summaries",
        "/api/v1/editor/summaries/{summary_id}",
        "/api/v1/editor/summaries/{summary_id}/approve",
        "/api/v1/editor/summaries/{summary_id}/events",
        "/oembed",
        "/polls/{slug}/results.png",
        "/polls/{slug}/results.svg",
        "/api/v1/editor/polls/{id}/email-block",
        "/api/v1/editor/polls/{id}/events",
    ] {
        assert!(doc["paths"][path].is_object(), "OpenAPI documents {path}");
    }
    // Each live-results event is described: `results`, its data the results JSON.
    for path in ["/api/v1/polls/{slug}/events", "/api/v1/editor/polls/{id}/events"] {
        let stream = &doc["paths"][path]["get"]["responses"]["200"]["content"]["text/event-stream"]["schema"];
        assert_eq!(stream["$ref"], "#/components/schemas/ResultsEvent", "{path}: {stream}");
    }
    let summary = &doc["paths"]["/api/v1/editor/summaries/{summary_id}/events"]["get"]["responses"]["200"];
    assert_eq!(summary["content"]["text/event-stream"]["schema"]["$ref"], "#/components/schemas/SummaryEvent");
    for name in ["ResultsEvent", "SummaryEvent"] {
        let event = &doc["components"]["schemas"][name];
        assert_eq!(event["required"], serde_json::json!(["event", "data"]), "{event}");
        assert_eq!(event["properties"]["data"]["contentMediaType"], "application/json", "{event}");
        let data = event["properties"]["data"]["contentSchema"]["$ref"].as_str().unwrap_or_else(|| panic!("{event}"));
        assert!(doc["components"]["schemas"][data.rsplit('/').next().unwrap()].is_object(), "{data}");
    }
    for action in app::domain::Transition::ALL.map(|t| t.name()).into_iter().chain(["duplicate"]) {
        let path = format!("/api/v1/editor/polls/{{id}}/{action}");
        assert!(doc["paths"][&path]["post"]["security"].is_array(), "OpenAPI documents {path}");
    }
}

async fn drafts_are_invisible(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll_as(open_poll("secret-draft"), app::domain::Publication::Draft).await;
    let client = voter();
    let (status, body) = get_json(&client, app.url("/api/v1/polls/secret-draft")).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "poll_not_found"));
    let (_, all) = get_json(&client, app.url("/api/v1/polls")).await;
    assert!(all["polls"].as_array().unwrap().is_empty());
    let (status, _) = vote(&client, &app, "secret-draft", choices(&["yes"])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
