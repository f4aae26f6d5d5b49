use crate::helpers::*;
use crate::on_both_stores;
use app::domain::{ChoiceKind, PollDraft};
use reqwest::StatusCode;
use serde_json::json;

on_both_stores!(bad_votes_get_their_error_and_write_nothing, unknown_api_routes_answer_json);

async fn raw_vote(app: &TestApp, slug: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, serde_json::Value) {
    let response = voter()
        .post(app.url(&format!("/api/v1/polls/{slug}/votes")))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    json_of(response).await
}

async fn bad_votes_get_their_error_and_write_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("strict")).await;
    app.add_poll(PollDraft { kind: ChoiceKind::Multiple, max_choices: 2, ..open_poll("pick-two") }).await;
    app.add_poll(PollDraft { allow_comment: false, ..open_poll("no-comments") }).await;
    app.add_poll(closed_poll("gone")).await;
    app.add_poll(scheduled_poll("soon")).await;

    let cases: Vec<(&str, serde_json::Value, StatusCode, &str)> = vec![
        ("strict", json!({"choices": ["perhaps"]}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_choices"),
        ("strict", json!({"choices": []}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_choices"),
        ("strict", json!({"choices": ["yes", "no"]}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_choices"),
        ("pick-two", json!({"choices": ["yes", "yes"]}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_choices"),
        ("pick-two", json!({"choices": ["yes", "no", "maybe"]}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_choices"),
        (
            "strict",
            json!({"choices": ["yes"], "comment": "x".repeat(1001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "comment_too_long",
        ),
        (
            "no-comments",
            json!({"choices": ["yes"], "comment": "hi"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "comment_not_allowed",
        ),
        ("strict", json!({"choices": "yes"}), StatusCode::BAD_REQUEST, "malformed_request"),
        ("strict", json!({"choice": ["yes"]}), StatusCode::BAD_REQUEST, "malformed_request"),
        ("strict", json!({"choices": [1]}), StatusCode::BAD_REQUEST, "malformed_request"),
        ("gone", json!({"choices": ["yes"]}), StatusCode::CONFLICT, "poll_not_open"),
        ("soon", json!({"choices": ["yes"]}), StatusCode::CONFLICT, "poll_not_open"),
        ("missing", json!({"choices": ["yes"]}), StatusCode::NOT_FOUND, "poll_not_found"),
        ("Bad%20Slug%3Cscript%3E", json!({"choices": ["yes"]}), StatusCode::NOT_FOUND, "poll_not_found"),
        ("%C3%A9t%C3%A9", json!({"choices": ["yes"]}), StatusCode::NOT_FOUND, "poll_not_found"),
    ];
    for (slug, body, status, code) in cases {
        let (got, error) = vote(&voter(), &app, slug, body.clone()).await;
        assert_eq!((got, error_code(&error)), (status, code), "{slug} {body}");
        assert!(!error["error"]["message"].as_str().unwrap().is_empty());
    }

    let raw: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("application/json", b"{\"choices\": [\"yes\"".to_vec(), StatusCode::BAD_REQUEST, "malformed_request"),
        ("application/json", b"{\"choices\": [\"y\xffs\"]}".to_vec(), StatusCode::BAD_REQUEST, "malformed_request"),
        // Only JSON: a body another site's form could send is not read at all.
        (
            "application/x-www-form-urlencoded",
            b"choice=yes".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        ("application/json", vec![], StatusCode::BAD_REQUEST, "malformed_request"),
        (
            "application/json",
            format!("{{\"choices\": [\"yes\"], \"comment\": \"{}\"}}", "a".repeat(20_000)).into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (content_type, body, status, code) in raw {
        let (got, error) = raw_vote(&app, "strict", content_type, body).await;
        assert_eq!((got, error_code(&error)), (status, code), "{content_type}");
    }

    for slug in ["strict", "pick-two", "no-comments", "gone", "soon"] {
        assert_eq!(app.stored_votes(slug).await, 0, "nothing written for {slug}");
    }
    assert_eq!(app.stored_comments().await, 0);
}

async fn unknown_api_routes_answer_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, body) = get_json(&voter(), app.url("/api/v1/nothing-here")).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    let (status, body) = get_json(&voter(), app.url("/api/v1/polls/missing/results")).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "poll_not_found"));
    let response = voter().delete(app.url("/api/v1/polls")).send().await.unwrap();
    let (status, body) = json_of(response).await;
    assert!(status.is_client_error(), "{status}");
    assert!(!error_code(&body).is_empty());
}
