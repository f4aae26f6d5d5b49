//! Poll authoring through the editor API: the workflow on a controllable clock, the rules
//! on edits, bad input, the dashboard and exports.

use crate::helpers::*;
use crate::on_both_stores;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_stores!(
    a_poll_goes_from_draft_to_archived_on_the_clock,
    edits_that_change_what_readers_voted_for_are_refused,
    a_second_editor_is_told_of_a_stale_edit,
    bad_drafts_are_refused_and_nothing_is_saved,
    the_dashboard_shows_sources_comments_and_exports,
    a_duplicate_is_next_weeks_draft,
    readers_may_change_their_vote_where_allowed,
);

pub(crate) async fn setup(backend: Backend) -> (TestApp, Editor, String) {
    let app = spawn_app(backend).await;
    let editor = app.editor().await;
    let token = editor.api_token("tests").await;
    (app, editor, token)
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, poll) = api_call(app, token, Method::POST, "/polls", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{poll}");
    poll
}

async fn act(app: &TestApp, token: &str, poll: &Value, action: &str) -> (StatusCode, Value) {
    api_call(app, token, Method::POST, &format!("/polls/{}/{action}", poll["id"]), None).await
}

/// The draft an edit form would send back: the poll as stored, changed by `change`.
fn edited(poll: &Value, change: impl FnOnce(&mut Value)) -> Value {
    let view = &poll["poll"];
    let mut body = json!({
        "question": view["question"],
        "kind": view["kind"],
        "max_choices": view["max_choices"],
        "options": view["options"],
        "allow_comment": view["allow_comment"],
        "allow_vote_change": view["allow_vote_change"],
        "results_visibility": view["results_visibility"],
        "opens_at": view["opens_at"],
        "closes_at": view["closes_at"],
        "version": poll["version"],
    });
    change(&mut body);
    body
}

async fn put(app: &TestApp, token: &str, poll: &Value, body: Value) -> (StatusCode, Value) {
    api_call(app, token, Method::PUT, &format!("/polls/{}", poll["id"]), Some(body)).await
}

fn soon() -> (DateTime<Utc>, DateTime<Utc>) {
    let now = Utc::now().trunc_subsecs(0);
    (now + Duration::days(1), now + Duration::days(8))
}

async fn a_poll_goes_from_draft_to_archived_on_the_clock(backend: Backend) {
    let start = Utc::now().trunc_subsecs(0);
    let clock = TestClock::at(start);
    let app = spawn_app_with(backend, Options { clock: Some(clock.clone()), ..Options::default() }).await;
    let editor = app.editor().await;
    let token = editor.api_token("lifecycle").await;
    let reader = voter();
    let opens = start + Duration::days(1);
    let poll =
        create(&app, &token, draft("Do you own any AI stocks?", &["Yes", "No"], opens, opens + Duration::days(7)))
            .await;
    assert_eq!((poll["stage"].as_str(), poll["version"].as_i64()), (Some("draft"), Some(1)));
    let slug = poll["poll"]["slug"].as_str().unwrap().to_owned();
    assert_eq!(slug, "do-you-own-any-ai-stocks");
    let public = app.url(&format!("/api/v1/polls/{slug}"));
    assert_eq!(get_json(&reader, public.clone()).await.0, StatusCode::NOT_FOUND, "drafts are not public");

    let (status, scheduled) = act(&app, &token, &poll, "schedule").await;
    assert_eq!((status, scheduled["stage"].as_str()), (StatusCode::OK, Some("scheduled")));
    assert_eq!(get_json(&reader, public.clone()).await.1["status"], "scheduled");
    let (status, body) = vote(&reader, &app, &slug, choices(&["yes"])).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "poll_not_open"));

    clock.advance(Duration::days(1));
    assert_eq!(get_json(&reader, public.clone()).await.1["status"], "open", "opens on time by itself");
    assert_eq!(vote(&reader, &app, &slug, choices(&["yes"])).await.0, StatusCode::CREATED);
    let (_, shown) = api_call(&app, &token, Method::GET, &format!("/polls/{}", poll["id"]), None).await;
    assert_eq!((shown["stage"].as_str(), shown["total_votes"].as_u64()), (Some("open"), Some(1)));

    clock.advance(Duration::days(7));
    assert_eq!(get_json(&reader, public.clone()).await.1["status"], "closed", "closes on time by itself");
    let (status, body) = vote(&voter(), &app, &slug, choices(&["no"])).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "poll_not_open"));
    let (status, body) = act(&app, &token, &poll, "close").await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "edit_refused"));
    let (status, archived) = act(&app, &token, &poll, "archive").await;
    assert_eq!((status, archived["stage"].as_str()), (StatusCode::OK, Some("archived")));
    assert_eq!(get_json(&reader, public).await.1["status"], "closed");

    let (_, audit) = api_call(&app, &token, Method::GET, "/audit", None).await;
    let lines: Vec<String> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {} {}", e["editor"].as_str().unwrap(), e["action"].as_str().unwrap(), e["poll"]))
        .collect();
    let poll_lines = &lines[..3];
    assert_eq!(
        poll_lines,
        [
            format!("{EDITOR_EMAIL} archive \"{slug}\""),
            format!("{EDITOR_EMAIL} schedule \"{slug}\""),
            format!("{EDITOR_EMAIL} created \"{slug}\""),
        ]
    );
}

async fn edits_that_change_what_readers_voted_for_are_refused(backend: Backend) {
    let (app, _, token) = setup(backend).await;
    let (opens, closes) = soon();
    let poll = create(&app, &token, draft("Which chip?", &["H100", "MI300", "TPU"], opens, closes)).await;
    let (_, poll) = act(&app, &token, &poll, "open").await;
    assert_eq!(poll["stage"], "open");
    let slug = poll["poll"]["slug"].as_str().unwrap();
    assert_eq!(vote(&voter(), &app, slug, choices(&["h100"])).await.0, StatusCode::CREATED);

    let (status, body) =
        put(&app, &token, &poll, edited(&poll, |b| b["options"][0]["label"] = json!("Nvidia H100"))).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "edit_refused"));
    assert!(body["error"]["message"].as_str().unwrap().contains("cannot be reworded"));
    let (status, body) = put(
        &app,
        &token,
        &poll,
        edited(&poll, |b| {
            b["options"].as_array_mut().unwrap().remove(0);
        }),
    )
    .await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "edit_refused"));
    assert!(body["error"]["message"].as_str().unwrap().contains("cannot be removed"));

    let (status, changed) = put(
        &app,
        &token,
        &poll,
        edited(&poll, |b| {
            let options = b["options"].as_array_mut().unwrap();
            options.reverse();
            options.push(json!({"label": "Something else"}));
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["version"].as_i64(), poll["version"].as_i64().map(|v| v + 1));
    let (_, public) = get_json(&voter(), app.url(&format!("/api/v1/polls/{slug}"))).await;
    let ids: Vec<&str> = public["options"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["tpu", "mi300", "h100", "something-else"], "reordered at once for readers");
    let (_, results) = get_json(&voter(), app.url(&format!("/api/v1/polls/{slug}/results"))).await;
    assert_eq!(results["options"][2]["votes"], 1, "the vote stays with its option");
}

async fn a_second_editor_is_told_of_a_stale_edit(backend: Backend) {
    let (app, first, token) = setup(backend).await;
    app.add_editor("second@example.com", "another long passphrase").await;
    let second = app.sign_in("second@example.com", "another long passphrase").await.unwrap();
    let (opens, closes) = soon();
    let poll = create(&app, &token, draft("Draft question?", &["A", "B"], opens, closes)).await;
    let path = format!("/api/v1/editor/polls/{}", poll["id"]);
    let (status, _) = first.send_json(Method::PUT, &path, &edited(&poll, |b| b["question"] = json!("First?"))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) =
        second.send_json(Method::PUT, &path, &edited(&poll, |b| b["question"] = json!("Second?"))).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "stale_edit"));
    let (_, stored) = api_call(&app, &token, Method::GET, &format!("/polls/{}", poll["id"]), None).await;
    assert_eq!(stored["poll"]["question"], "First?");
    let (_, audit) = api_call(&app, &token, Method::GET, "/audit", None).await;
    assert_eq!(audit["entries"][0]["detail"], "changed question");
}

async fn bad_drafts_are_refused_and_nothing_is_saved(backend: Backend) {
    let (app, _, token) = setup(backend).await;
    let (opens, closes) = soon();
    let good = draft("A fine question?", &["Yes", "No"], opens, closes);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = good.clone();
        change(&mut body);
        body
    };
    let many: Vec<Value> = (0..21).map(|i| json!({"label": format!("Option {i}")})).collect();
    let cases: Vec<(Value, u16, &str)> = vec![
        (with(&|b| b["closes_at"] = json!(opens - Duration::hours(1))), 422, "invalid_poll"),
        (with(&|b| b["question"] = json!("   ")), 422, "invalid_poll"),
        (with(&|b| b["options"] = json!([{"label": "Yes"}, {"label": "yes "}])), 422, "invalid_poll"),
        (with(&|b| b["options"] = json!([{"label": "Yes"}, {"label": ""}])), 422, "invalid_poll"),
        (with(&|b| b["options"] = json!(many.clone())), 422, "invalid_poll"),
        (with(&|b| b["question"] = json!("q".repeat(301))), 422, "invalid_poll"),
        (with(&|b| b["slug"] = json!("Not A Slug")), 422, "invalid_poll"),
        (with(&|b| b["opens_at"] = json!("next tuesday")), 400, "malformed_request"),
        (with(&|b| b["surprise"] = json!(true)), 400, "malformed_request"),
        (json!({"question": "x".repeat(70_000), "options": []}), 413, "payload_too_large"),
    ];
    for (body, status, code) in cases {
        let (got, answer) = api_call(&app, &token, Method::POST, "/polls", Some(body.clone())).await;
        assert_eq!(
            (got.as_u16(), error_code(&answer)),
            (status, code),
            "{}",
            &body.to_string()[..80.min(body.to_string().len())]
        );
        assert!(answer["error"]["message"].as_str().unwrap().len() > 10);
    }
    let (_, polls) = api_call(&app, &token, Method::GET, "/polls", None).await;
    assert_eq!(polls["polls"], json!([]), "nothing half-saved");

    let poll = create(&app, &token, with(&|b| b["slug"] = json!("fine"))).await;
    let (status, body) =
        api_call(&app, &token, Method::POST, "/polls", Some(with(&|b| b["slug"] = json!("fine")))).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "slug_taken"));
    let second = create(&app, &token, good.clone()).await;
    assert_eq!(second["poll"]["slug"], "a-fine-question");
    let third = create(&app, &token, good.clone()).await;
    assert_eq!(third["poll"]["slug"], "a-fine-question-2", "made slugs stay unique");

    let (status, body) = put(
        &app,
        &token,
        &poll,
        edited(&poll, |b| {
            b.as_object_mut().unwrap().remove("version");
        }),
    )
    .await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_poll"));
    for path in ["/polls/999999", "/polls/999999/results", "/polls/not-a-number"] {
        let (status, body) = api_call(&app, &token, Method::GET, path, None).await;
        assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "poll_not_found"), "{path}");
    }
    let (status, _) = api_call(&app, &token, Method::POST, "/polls/999999/open", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let past = create(&app, &token, with(&|b| b["opens_at"] = json!(Utc::now() - Duration::hours(2)))).await;
    let (status, body) = act(&app, &token, &past, "schedule").await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "edit_refused"));
    assert!(body["error"]["message"].as_str().unwrap().contains("in the past"));
    let (_, still) = api_call(&app, &token, Method::GET, &format!("/polls/{}", past["id"]), None).await;
    assert_eq!((still["stage"].as_str(), still["version"].as_i64()), (Some("draft"), Some(1)));
}

async fn the_dashboard_shows_sources_comments_and_exports(backend: Backend) {
    let (app, editor, token) = setup(backend).await;
    let (opens, closes) = soon();
    let poll = create(&app, &token, draft("Own AI stocks?", &["Yes", "No"], opens, closes)).await;
    let (_, poll) = act(&app, &token, &poll, "open").await;
    let slug = poll["poll"]["slug"].as_str().unwrap();
    vote(&voter(), &app, slug, json!({"choices": ["no"], "comment": "=cmd|' /C calc'!A0"})).await;
    vote(&voter(), &app, slug, json!({"choices": ["no"], "comment": "Bubble, \"obviously\""})).await;
    let page_vote = voter()
        .post(app.url(&format!("/polls/{slug}/vote")))
        .form(&[("choice", "yes"), ("comment", "Long Nvidia")])
        .send()
        .await
        .unwrap();
    assert_eq!(page_vote.status(), StatusCode::SEE_OTHER);

    let (status, dashboard) =
        api_call(&app, &token, Method::GET, &format!("/polls/{}/results", poll["id"]), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dashboard["results"]["total_votes"], 3);
    assert_eq!(dashboard["sources"], json!([{"source": "API", "votes": 2}, {"source": "Poll page", "votes": 1}]));
    assert_eq!(dashboard["timeline"].as_array().unwrap().iter().map(|p| p["votes"].as_u64().unwrap()).sum::<u64>(), 3);
    let comments = dashboard["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 3);
    let bubble = comments.iter().find(|c| c["body"] == "Bubble, \"obviously\"").unwrap();
    assert_eq!(bubble["choices"], json!(["No"]));

    let hide = format!("/editor/polls/{}/comments/{}", poll["id"], bubble["id"]);
    assert_eq!(editor.post_form(&hide, &[("hidden", "true")]).await.status(), StatusCode::SEE_OTHER);
    let csv =
        editor.client.get(app.url(&format!("/editor/polls/{}/export/comments.csv", poll["id"]))).send().await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains(&format!("{slug}-comments.csv")));
    let csv = csv.text().await.unwrap();
    assert!(csv.contains(",No,\"Bubble, \"\"obviously\"\"\",yes\r\n"), "{csv}");
    assert!(csv.contains(",'=cmd|' /C calc'!A0,no\r\n"), "formulas are defused: {csv}");
    let (_, results) =
        api_call(&app, &token, Method::GET, &format!("/polls/{}/export?format=csv", poll["id"]), None).await;
    assert_eq!(
        results.as_str().unwrap(),
        "option_id,label,votes,percent\r\nyes,Yes,1,33.3\r\nno,No,2,66.7\r\ntotal,,3,\r\n"
    );
    let (status, _) = api_call(
        &app,
        &token,
        Method::POST,
        &format!("/polls/{}/comments/{}", poll["id"], bubble["id"]),
        Some(json!({"hidden": false})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, json_export) = api_call(&app, &token, Method::GET, &format!("/polls/{}/export", poll["id"]), None).await;
    assert!(json_export["comments"].as_array().unwrap().iter().all(|c| c["hidden"] == false));
    let (status, _) = api_call(
        &app,
        &token,
        Method::POST,
        &format!("/polls/{}/comments/999999", poll["id"]),
        Some(json!({"hidden": true})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Readers never see comments, hidden or not.
    let (_, public) = get_json(&voter(), app.url(&format!("/api/v1/polls/{slug}/results"))).await;
    assert!(!public.to_string().contains("Bubble"));
}

async fn a_duplicate_is_next_weeks_draft(backend: Backend) {
    let (app, _, token) = setup(backend).await;
    let (opens, closes) = soon();
    let poll = create(&app, &token, draft("Weekly pulse?", &["Up", "Down"], opens, closes)).await;
    let (status, copy) = act(&app, &token, &poll, "duplicate").await;
    assert_eq!(status, StatusCode::CREATED, "{copy}");
    assert_eq!(copy["stage"], "draft");
    assert_eq!(copy["poll"]["slug"], "weekly-pulse-2");
    assert_eq!(copy["poll"]["question"], poll["poll"]["question"]);
    assert_eq!(copy["poll"]["options"], poll["poll"]["options"]);
    let moved = |field: &str| {
        let parse = |v: &Value| DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
        parse(&copy["poll"][field]) - parse(&poll["poll"][field])
    };
    assert_eq!((moved("opens_at"), moved("closes_at")), (Duration::weeks(1), Duration::weeks(1)));
}

async fn readers_may_change_their_vote_where_allowed(backend: Backend) {
    let (app, _, token) = setup(backend).await;
    let (opens, closes) = soon();
    let mut body = draft("Change your mind?", &["Yes", "No"], opens, closes);
    body["allow_vote_change"] = json!(true);
    let poll = create(&app, &token, body).await;
    let (_, poll) = act(&app, &token, &poll, "open").await;
    let slug = poll["poll"]["slug"].as_str().unwrap();
    let reader = voter();
    assert_eq!(vote(&reader, &app, slug, choices(&["yes"])).await.0, StatusCode::CREATED);
    let (status, receipt) = vote(&reader, &app, slug, choices(&["no"])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((receipt["vote"]["choices"].clone(), receipt["changed"].clone()), (json!(["no"]), json!(true)));
    let counts: Vec<u64> =
        receipt["results"]["options"].as_array().unwrap().iter().map(|o| o["votes"].as_u64().unwrap()).collect();
    assert_eq!((counts, receipt["results"]["total_votes"].as_u64()), (vec![0, 1], Some(1)));
    assert_eq!(app.stored_votes(slug).await, 1);
}
