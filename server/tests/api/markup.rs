//! What readers and editors write. No text ever becomes markup on a page: every reader and
//! editor page is rendered with a field-ending `</textarea>` and an attribute-ending `">` in
//! each such text (question, option labels, comments, a kept ballot comment, token names,
//! summary quotes), and none of the planted tags may appear as a tag. Control characters are
//! refused with a 4xx everywhere (a NUL was a 500 on PostgreSQL), and comments lose the
//! invisible characters that reorder or hide text.

use crate::helpers::*;
use crate::on_both_stores;
use crate::summaries::run_jobs;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_stores!(no_written_text_becomes_markup_on_any_page, control_characters_are_refused_on_every_door);

/// What an attacker writes: it ends a textarea, then an attribute, and plants a tag each time.
fn planted(what: &str) -> String {
    format!("{what} </textarea><b>x</b> \"><img src=x> end")
}

/// The planted tags, as they would read had they become markup.
const TAGS: [&str; 3] = ["<b>x</b>", "<img src=x>", "<img src=x "];

fn assert_inert(page: &str, html: &str) {
    for tag in TAGS {
        assert!(!html.contains(tag), "{page}: {tag:?} became markup:\n{html}");
    }
}

async fn no_written_text_becomes_markup_on_any_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.editor().await;
    let token = editor.api_token(&planted("Token")).await;
    // The page that shows a new token names it.
    let shown = editor.post_form("/editor/tokens/new", &[("name", planted("Second").as_str())]).await;
    assert_eq!(shown.status(), StatusCode::CREATED);
    assert_inert("the new token's page", &shown.text().await.unwrap());
    let now = chrono::Utc::now();
    let body = draft(
        &planted("Q"),
        &[&planted("Yes"), &planted("No")],
        now + chrono::Duration::minutes(5),
        now + chrono::Duration::days(1),
    );
    let (status, poll) = api_call(&app, &token, Method::POST, "/polls", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{poll}");
    let id = poll["id"].as_i64().unwrap();
    let (status, _) = api_call(&app, &token, Method::POST, &format!("/polls/{id}/open"), None).await;
    assert_eq!(status, StatusCode::OK);
    let slug = poll["poll"]["slug"].as_str().unwrap().to_owned();
    let options: Vec<String> =
        poll["poll"]["options"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_owned()).collect();

    // Readers comment (ten, so the summary has themes to quote).
    for n in 0..10 {
        let comment = planted(&format!("Reader {n} thinks the grid is the limit because"));
        let (status, body) =
            vote(&voter(), &app, &slug, json!({"choices": [options[n % 2]], "comment": comment})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // A refused ballot without JavaScript comes back with its comment kept in the field.
    let kept = voter()
        .post(app.url(&format!("/polls/{slug}/vote")))
        .form(&[("comment", planted("Kept").as_str())])
        .send()
        .await
        .unwrap();
    assert!(kept.status().is_client_error(), "{}", kept.status());
    let kept = kept.text().await.unwrap();
    assert!(kept.contains("Kept </textarea>") || kept.contains("Kept &lt;/textarea&gt;"), "{kept}");
    assert_inert("a refused ballot", &kept);

    let (_, block) = api_call(&app, &token, Method::GET, &format!("/polls/{id}/email-block"), None).await;
    let link = with_subscriber(&block["links"][0]["url"].as_str().unwrap().replace(&app.base, ""), "1007");

    let reader_pages = [
        "/".to_owned(),
        format!("/polls/{slug}"),
        "/archive".into(),
        format!("/embed/{slug}"),
        format!("/polls/{slug}/results.svg"),
        format!("/oembed?url={}", app.url(&format!("/polls/{slug}"))),
        link,
    ];
    let editor_pages = || {
        [
            "/editor".to_owned(),
            format!("/editor/polls/{id}"),
            format!("/editor/polls/{id}/edit"),
            "/editor/audit".into(),
            "/editor/tokens".into(),
        ]
    };
    let check_all = |when: &'static str| {
        let (app, editor, reader_pages) = (&app, &editor, &reader_pages);
        async move {
            let reader = voter();
            for path in reader_pages.iter() {
                let response = reader.get(app.url(path)).send().await.unwrap();
                assert!(response.status().is_success(), "{when} {path}: {}", response.status());
                let mut body = response.text().await.unwrap();
                if path.starts_with("/oembed") {
                    // JSON: its title is plain text; its `html` is what host pages insert.
                    body = serde_json::from_str::<Value>(&body).unwrap()["html"].as_str().unwrap().to_owned();
                }
                assert_inert(&format!("{when} {path}"), &body);
            }
            for path in editor_pages() {
                let response = editor.client.get(app.url(&path)).send().await.unwrap();
                assert_eq!(response.status(), StatusCode::OK, "{when} {path}");
                let html = response.text().await.unwrap();
                // Every page shows the planted text, escaped (a closed poll's edit page is a notice).
                let shown = html.contains("&lt;/textarea&gt;");
                assert!(
                    shown || (when != "open" && path.ends_with("/edit")),
                    "{when} {path}: the planted text is shown"
                );
                assert_inert(&format!("{when} {path}"), &html);
            }
        }
    };
    check_all("open").await;

    // Closed and summarised: the dashboard shows the summary's quotes and its overview field,
    // and the share panel the summary's blocks; readers see the approved summary.
    let (status, _) = api_call(&app, &token, Method::POST, &format!("/polls/{id}/close"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, started) =
        editor.send_json(Method::POST, &format!("/api/v1/editor/polls/{id}/summaries"), &json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let summary = started["summary"]["id"].as_i64().unwrap();
    assert_eq!(run_jobs(&app).await, 1);
    let approve = |edits: Value| {
        let editor = &editor;
        async move { editor.send_json(Method::POST, &format!("/api/v1/editor/summaries/{summary}/approve"), &edits).await }
    };
    // An editor's edit that writes markup is refused by the checks.
    let themes = crate::summaries::summary(&editor, summary).await["themes"].as_array().unwrap().len();
    assert!(themes > 0);
    let titles: Vec<String> = (0..themes).map(|n| planted(&format!("Reason {n}"))).collect();
    for edits in [json!({"overview": planted("Readers split.")}), json!({"titles": titles})] {
        let (status, body) = approve(edits).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(error_code(&body), "summary_check_failed", "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("holds markup"), "{body}");
    }
    let (status, body) = approve(json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let quotes = body["summary"]["themes"].to_string();
    assert!(quotes.contains("</textarea>"), "the summary quotes the planted comments: {quotes}");
    check_all("summarised").await;
}

/// The link with its subscriber merge tag (whatever the ESP writes) set to `sub`.
fn with_subscriber(link: &str, sub: &str) -> String {
    let Some(start) = link.find("sub=") else { return link.to_owned() };
    let end = link[start..].find('&').map_or(link.len(), |e| start + e);
    format!("{}sub={sub}{}", &link[..start], &link[end..])
}

async fn control_characters_are_refused_on_every_door(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_poll(open_poll("controlled")).await;
    let editor = app.editor().await;
    let token = editor.api_token("tests").await;
    let now = chrono::Utc::now();
    let (start, end) = (now + chrono::Duration::hours(1), now + chrono::Duration::days(1));
    // The editor API: question and labels.
    for body in [draft("Which\u{0}chip?", &["A", "B"], start, end), draft("Which chip?", &["A\u{0}", "B"], start, end)]
    {
        let (status, body) = api_call(&app, &token, Method::POST, "/polls", Some(body)).await;
        assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_poll"), "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("U+0000"), "{body}");
    }
    // The editor's form.
    let form = editor
        .post_form(
            "/editor/polls",
            &[
                ("question", "Bell\u{7}?"),
                ("option_id", ""),
                ("option_label", "A"),
                ("option_id", ""),
                ("option_label", "B"),
                ("opens_at", "2031-01-06T09:00"),
                ("closes_at", "2031-01-13T09:00"),
                ("version", ""),
            ],
        )
        .await;
    assert_eq!(form.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(form.text().await.unwrap().contains("U+0007"));
    // An API token's name.
    let named = editor.post_form("/editor/tokens/new", &[("name", "script\u{0}")]).await;
    assert_eq!(named.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (status, polls) = api_call(&app, &token, Method::GET, "/polls", None).await;
    assert_eq!((status, polls["polls"].as_array().unwrap().len()), (StatusCode::OK, 1), "nothing was stored");

    // A reader's comment: a NUL is refused; bidirectional overrides and zero-width spaces go.
    let (status, body) = vote(&voter(), &app, "controlled", json!({"choices": ["yes"], "comment": "ok\u{0}"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"), "{body}");
    let spoof = "my file gpj\u{202E}exe.txt is\u{200B} fine\r\nreally";
    let (status, body) = vote(&voter(), &app, "controlled", json!({"choices": ["yes"], "comment": spoof})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let poll = app.store.poll_by_slug(&app::domain::Slug::parse("controlled").unwrap()).await.unwrap().unwrap();
    let comments: Vec<String> = app.store.comments(poll.id).await.unwrap().into_iter().map(|c| c.body).collect();
    assert_eq!(comments, ["my file gpjexe.txt is fine\r\nreally"]);
}
