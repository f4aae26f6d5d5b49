use crate::helpers::*;
use crate::on_both_stores;
use app::domain::NewPoll;
use reqwest::header::LOCATION;
use reqwest::StatusCode;

on_both_stores!(
    pages_render_on_the_server,
    a_form_vote_without_javascript_lands_on_the_results,
    form_errors_are_html_pages,
    markup_in_questions_renders_as_text,
);

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn pages_render_on_the_server(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("this-week")).await;
    app.add_poll(closed_poll("last-week")).await;
    let client = voter();
    let (status, home) = page(&client, &app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("Question for this-week?"), "home shows the open poll");
    assert!(home.contains("action=\"/polls/this-week/vote\""), "a form that works without JavaScript");

    let (status, archive) = page(&client, &app, "/archive").await;
    assert_eq!(status, StatusCode::OK);
    assert!(archive.contains("Question for last-week?"));
    assert!(archive.contains("No votes were cast."));

    let (status, closed) = page(&client, &app, "/polls/last-week").await;
    assert_eq!(status, StatusCode::OK);
    assert!(closed.contains("This poll is closed"));
    assert!(!closed.contains("action=\"/polls/last-week/vote\""));

    for missing in ["/polls/no-such-poll", "/polls/UPPER", "/nowhere/at/all"] {
        let (status, body) = page(&client, &app, missing).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert!(body.contains("Page not found"), "{missing}");
    }
}

async fn a_form_vote_without_javascript_lands_on_the_results(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("plain-form")).await;
    let client = voter();
    page(&client, &app, "/polls/plain-form").await;
    let response = client
        .post(app.url("/polls/plain-form/vote"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("choice=maybe&comment=Because+of+the+cats")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/polls/plain-form");
    let (_, after) = page(&client, &app, "/polls/plain-form").await;
    assert!(after.contains("You voted: Maybe."), "the reload shows the vote");
    assert!(after.contains("1 vote in total"));
    assert_eq!(app.stored_votes("plain-form").await, 1);
    assert_eq!(app.stored_comments().await, 1);
}

async fn form_errors_are_html_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("form-errors")).await;
    app.add_poll(closed_poll("form-closed")).await;
    let client = voter();
    let cases = [
        ("form-errors", "comment=no+choice", StatusCode::UNPROCESSABLE_ENTITY, "Choose at least one option."),
        ("form-errors", "choice=%FF", StatusCode::BAD_REQUEST, "not valid UTF-8"),
        ("form-closed", "choice=yes", StatusCode::CONFLICT, "This poll is closed"),
        ("no-such-poll", "choice=yes", StatusCode::NOT_FOUND, "There is no poll at this address."),
        ("%FF%FE", "choice=yes", StatusCode::NOT_FOUND, "There is no poll at this address."),
    ];
    for (slug, body, status, text) in cases {
        let response = client
            .post(app.url(&format!("/polls/{slug}/vote")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{slug} {body}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = response.text().await.unwrap();
        assert!(html.contains(text), "{html}");
    }
    assert_eq!(app.stored_votes("form-errors").await, 0);
}

/// Route-list generation (done while an instance starts) used to leave any page whose data
/// started loading meanwhile, in another instance of the same process, pending forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_other_instances_start() {
    let app = spawn_app(Backend::Sqlite).await;
    app.add_poll(open_poll("busy")).await;
    let starting = tokio::spawn(async {
        for _ in 0..200 {
            spawn_app(Backend::Sqlite).await;
        }
    });
    let client = voter();
    let mut rendered = 0;
    while !starting.is_finished() {
        let (status, html) = page(&client, &app, "/polls/busy").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Question for busy?"), "the page finished with its poll");
        rendered += 1;
    }
    starting.await.unwrap();
    assert!(rendered > 8, "pages were rendered while instances started ({rendered})");
}

async fn markup_in_questions_renders_as_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut poll = open_poll("markup");
    poll.question = "Is </title><script>alert('pwned')</script> a question?".into();
    poll.options[0].1 = "<b>bold</b> & brave".into();
    app.add_poll(NewPoll { ..poll }).await;
    let (_, html) = page(&voter(), &app, "/polls/markup").await;
    assert!(!html.contains("<script>alert"), "script tag must not reach the page: {html}");
    assert!(html.contains("&lt;script&gt;alert"), "the question is shown as text");
    assert_eq!(html.matches("</title>").count(), 1, "the question cannot end the <title> early");
    assert!(!html.contains("<b>bold</b>"));
}
