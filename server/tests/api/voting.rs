use crate::helpers::*;
use crate::on_both_stores;
use app::domain::{ChoiceKind, PollDraft};
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

on_both_stores!(
    a_vote_is_recorded_with_results,
    a_second_vote_from_the_same_voter_does_not_count,
    multiple_choice_counts_each_option,
    a_tampered_cookie_is_a_new_voter,
    the_cookie_key_survives_a_restart,
    votes_are_rate_limited_per_address,
);

async fn a_vote_is_recorded_with_results(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("first")).await;
    let (status, receipt) = vote(&voter(), &app, "first", json!({"choices": ["no"], "comment": "Too risky"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(receipt["vote"]["choices"], json!(["no"]));
    let results = &receipt["results"];
    assert_eq!(results["slug"], "first");
    assert_eq!(results["status"], "open");
    assert_eq!(results["total_votes"], 1);
    assert_eq!(results["options"][1], json!({"id": "no", "label": "No", "votes": 1, "percent": 100.0}));
    assert!(chrono::DateTime::parse_from_rfc3339(results["as_of"].as_str().unwrap()).is_ok());
    assert_eq!(app.stored_votes("first").await, 1);
    assert_eq!(app.stored_comments().await, 1);
}

async fn a_second_vote_from_the_same_voter_does_not_count(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("once")).await;
    let reader = voter();
    assert_eq!(vote(&reader, &app, "once", choices(&["yes"])).await.0, StatusCode::CREATED);
    let (status, again) = vote(&reader, &app, "once", choices(&["no"])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["vote"]["choices"], json!(["yes"]), "the stored vote is returned");
    assert_eq!(again["recorded"], false);
    assert_eq!(again["results"]["total_votes"], 1);
    assert_eq!(app.stored_votes("once").await, 1);

    let (status, other) = vote(&voter(), &app, "once", choices(&["no"])).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(other["results"]["total_votes"], 2);
    let (_, results) = get_json(&reader, app.url("/api/v1/polls/once/results")).await;
    assert_eq!(results["options"][0]["votes"], 1);
    assert_eq!(results["options"][1]["votes"], 1);
    assert_eq!(results["options"][0]["percent"], 50.0);
}

async fn multiple_choice_counts_each_option(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(PollDraft { kind: ChoiceKind::Multiple, max_choices: 2, ..open_poll("many") }).await;
    let (status, receipt) = vote(&voter(), &app, "many", choices(&["maybe", "yes"])).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(receipt["vote"]["choices"], json!(["yes", "maybe"]), "stored in poll order");
    vote(&voter(), &app, "many", choices(&["yes"])).await;
    let (_, results) = get_json(&voter(), app.url("/api/v1/polls/many/results")).await;
    assert_eq!(results["total_votes"], 2);
    let votes: Vec<_> = results["options"].as_array().unwrap().iter().map(|o| o["votes"].as_u64().unwrap()).collect();
    assert_eq!(votes, [2, 0, 1]);
    assert_eq!(results["options"][0]["percent"], 100.0);
    assert_eq!(results["options"][2]["percent"], 50.0);
}

async fn a_tampered_cookie_is_a_new_voter(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("tamper")).await;
    let plain = reqwest::Client::new();
    let first = plain.post(app.url("/api/v1/polls/tamper/votes")).json(&choices(&["yes"])).send().await.unwrap();
    let cookie =
        first.headers().get(SET_COOKIE).expect("voter cookie set on first contact").to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let value = cookie.split(';').next().unwrap().to_owned();

    // The same cookie is the same voter.
    let again = plain
        .post(app.url("/api/v1/polls/tamper/votes"))
        .header(COOKIE, &value)
        .json(&choices(&["no"]))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);

    // Flip one character of the id: a different, new voter, not an error.
    let (name, signed) = value.split_once('=').unwrap();
    let mut chars: Vec<char> = signed.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    let forged = format!("{name}={}", chars.into_iter().collect::<String>());
    let response = plain
        .post(app.url("/api/v1/polls/tamper/votes"))
        .header(COOKIE, forged)
        .json(&choices(&["no"]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().get(SET_COOKIE).is_some(), "a fresh cookie replaces the forged one");
    assert_eq!(app.stored_votes("tamper").await, 2);

    let garbage = plain.get(app.url("/polls/tamper")).header(COOKIE, "pt_voter=%%%; other=1").send().await.unwrap();
    assert_eq!(garbage.status(), StatusCode::OK);
}

async fn the_cookie_key_survives_a_restart(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("persist")).await;
    let reader = voter();
    assert_eq!(vote(&reader, &app, "persist", choices(&["yes"])).await.0, StatusCode::CREATED);
    let app = app.restart().await;
    let (status, body) = vote(&reader, &app, "persist", choices(&["no"])).await;
    assert_eq!(status, StatusCode::OK, "still the same voter after a restart: {body}");
}

async fn votes_are_rate_limited_per_address(backend: Backend) {
    let app = spawn_app_with(backend, Options { rate_limit: 3, ..Options::default() }).await;
    app.add_poll(open_poll("limited")).await;
    for _ in 0..3 {
        assert_eq!(vote(&voter(), &app, "limited", choices(&["yes"])).await.0, StatusCode::CREATED);
    }
    let (status, body) = vote(&voter(), &app, "limited", choices(&["yes"])).await;
    assert_eq!((status, error_code(&body)), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    // The form gets the short error page, not a whole poll page rendered per refusal.
    let form = post_ballot(&voter(), &app, "limited", "choice=yes").await;
    assert_eq!(form.status(), StatusCode::TOO_MANY_REQUESTS);
    let html = form.text().await.unwrap();
    assert!(!html.contains("action=\"/polls/limited/vote\"") && html.contains("href=\"/polls/limited\""), "{html}");
    assert_eq!(app.stored_votes("limited").await, 3);
}
