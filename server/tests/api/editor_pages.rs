//! The editor's pages and forms without JavaScript: sign in, write, save, act, moderate.

use crate::editing::setup;
use crate::helpers::*;
use crate::on_both_stores;
use reqwest::StatusCode;

on_both_stores!(
    the_editor_pages_and_forms_work_without_javascript,
    closing_and_opening_ask_first_and_a_closed_poll_reopens_until_archived,
);

async fn the_editor_pages_and_forms_work_without_javascript(backend: Backend) {
    let (app, editor, _) = setup(backend).await;
    let form = |version: &str, question: &str, closes: &str| {
        vec![
            ("question".to_owned(), question.to_owned()),
            ("kind".into(), "multiple".into()),
            ("max_choices".into(), "2".into()),
            ("option_id".into(), String::new()),
            ("option_label".into(), "Nvidia <b>H100</b>".into()),
            ("option_id".into(), String::new()),
            ("option_label".into(), String::new()),
            ("option_id".into(), String::new()),
            ("option_label".into(), "AMD".into()),
            ("option_id".into(), String::new()),
            ("option_label".into(), "TPU".into()),
            ("results_visibility".into(), "after_close".into()),
            ("allow_comment".into(), "on".into()),
            ("opens_at".into(), "2031-01-06T09:00".into()),
            ("closes_at".into(), closes.to_owned()),
            ("version".into(), version.to_owned()),
        ]
    };
    let post = |path: &str, fields: Vec<(String, String)>| {
        let path = path.to_owned();
        let editor = &editor;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            editor.post_form(&path, &fields).await
        }
    };

    let created = post("/editor/polls", form("", "Which accelerator?", "2031-01-13T09:00")).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let dashboard = created.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = dashboard.rsplit('/').next().unwrap().parse().unwrap();

    let page = editor.client.get(app.url(&dashboard)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("Which accelerator?") && html.contains(">Schedule</button>"), "{html}");
    assert!(html.contains("Nvidia &lt;b&gt;H100&lt;/b&gt;"), "labels render as text");
    let edit =
        editor.client.get(app.url(&format!("/editor/polls/{id}/edit"))).send().await.unwrap().text().await.unwrap();
    assert!(edit.contains("value=\"nvidia-b-h100-b\""), "the edit form carries option ids");
    assert!(edit.contains("2031-01-06T09:00"), "times shown in UTC without JavaScript");

    let bad = post(&format!("/editor/polls/{id}/save"), form("1", "Which accelerator?", "2031-01-05T09:00")).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(html.contains("The poll must close after it opens.") && html.contains(&format!("/editor/polls/{id}/edit")));
    let saved =
        post(&format!("/editor/polls/{id}/save"), form("1", "Which accelerator wins?", "2031-01-13T09:00")).await;
    assert_eq!(saved.headers()["location"], dashboard.as_str());
    let stale =
        post(&format!("/editor/polls/{id}/save"), form("1", "Which accelerator, really?", "2031-01-13T09:00")).await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    assert!(stale.text().await.unwrap().contains("Someone else saved this poll"));

    let list = editor.client.get(app.url("/editor")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("Which accelerator wins?") && list.contains("stage-draft"));
    let audit = editor.client.get(app.url("/editor/audit")).send().await.unwrap().text().await.unwrap();
    assert!(audit.contains("changed question") && audit.contains("created"));
    let unknown = editor.client.get(app.url("/editor/polls/999999")).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

/// "Close now" and "Open now" take a second step (a page of its own, no JavaScript needed);
/// a closed poll reopens until it is archived; each step that happened is in the audit log.
async fn closing_and_opening_ask_first_and_a_closed_poll_reopens_until_archived(backend: Backend) {
    let (app, editor, token) = setup(backend).await;
    app.add_poll(open_poll("second-thoughts")).await;
    let (_, polls) = api_call(&app, &token, reqwest::Method::GET, "/polls", None).await;
    let id = polls["polls"].as_array().unwrap().iter().find(|p| p["poll"]["slug"] == "second-thoughts").unwrap()["id"]
        .clone();
    let dashboard = format!("/editor/polls/{id}");
    let stage = || async {
        let (_, poll) = api_call(&app, &token, reqwest::Method::GET, &format!("/polls/{id}"), None).await;
        poll["stage"].as_str().unwrap().to_owned()
    };
    let audit = || async {
        let (_, audit) = api_call(&app, &token, reqwest::Method::GET, "/audit", None).await;
        let entries = audit["entries"].as_array().unwrap().clone();
        entries.iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let before = audit().await;

    // The dashboard offers "Close now…" as a link to the question, not as a one-press button.
    let html = editor.client.get(app.url(&dashboard)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("href=\"{dashboard}?confirm=close\"")) && html.contains("Close now…"), "{html}");
    assert!(!html.contains("role=\"alertdialog\""), "no question until asked");
    let asking = editor.client.get(app.url(&format!("{dashboard}?confirm=close"))).send().await.unwrap();
    let html = asking.text().await.unwrap();
    assert!(html.contains("role=\"alertdialog\"") && html.contains("Close this poll now?"), "{html}");
    assert!(html.contains("name=\"confirm\" value=\"yes\"") && html.contains("Yes, close now"), "{html}");

    // A bare press (an old page, a script posting the form) only leads to the question.
    let bare = editor.post_form(&format!("{dashboard}/actions/close"), &[]).await;
    assert_eq!(bare.status(), StatusCode::SEE_OTHER);
    assert_eq!(bare.headers()["location"], format!("{dashboard}?confirm=close").as_str());
    assert_eq!(stage().await, "open");
    assert_eq!(audit().await, before, "nothing happened, nothing logged");

    // Confirmed: closed, and logged.
    let closed = editor.post_form(&format!("{dashboard}/actions/close"), &[("confirm", "yes")]).await;
    assert_eq!((closed.status(), closed.headers()["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, &*dashboard));
    assert_eq!(stage().await, "closed");
    assert_eq!(audit().await[0], "close");

    // Closed is not final until archived: the dashboard offers "Reopen…", which asks too.
    let html = editor.client.get(app.url(&dashboard)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("href=\"{dashboard}?confirm=reopen\"")), "{html}");
    let bare = editor.post_form(&format!("{dashboard}/actions/reopen"), &[]).await;
    assert_eq!(bare.headers()["location"], format!("{dashboard}?confirm=reopen").as_str());
    assert_eq!(stage().await, "closed");
    let reopened = editor.post_form(&format!("{dashboard}/actions/reopen"), &[("confirm", "yes")]).await;
    assert_eq!(reopened.status(), StatusCode::SEE_OTHER);
    assert_eq!(stage().await, "open");
    let (status, _) = vote(&voter(), &app, "second-thoughts", choices(&["yes"])).await;
    assert_eq!(status, StatusCode::CREATED, "readers vote again");
    let (_, audit_log) = api_call(&app, &token, reqwest::Method::GET, "/audit", None).await;
    assert_eq!(audit_log["entries"][0]["action"], "reopen");
    assert!(audit_log["entries"][0]["detail"].as_str().unwrap().starts_with("reopened until "), "{audit_log}");

    // Archived, it stays closed: reopening is refused, by form and by API.
    let closed = editor.post_form(&format!("{dashboard}/actions/close"), &[("confirm", "yes")]).await;
    assert_eq!(closed.status(), StatusCode::SEE_OTHER);
    let archived = editor.post_form(&format!("{dashboard}/actions/archive"), &[]).await;
    assert_eq!(archived.status(), StatusCode::SEE_OTHER, "archiving is one press");
    assert_eq!(stage().await, "archived");
    let refused = editor.post_form(&format!("{dashboard}/actions/reopen"), &[("confirm", "yes")]).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(refused.text().await.unwrap().contains("Reopen&quot; does not apply to an archived poll."));
    let (status, body) = api_call(&app, &token, reqwest::Method::POST, &format!("/polls/{id}/reopen"), None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "edit_refused"));
    let actions = audit().await;
    assert_eq!(actions[..4], ["archive", "close", "reopen", "close"]);
    assert_eq!(actions.len(), before.len() + 4, "the refused steps left no line");
}
