//! The editor's pages and forms without JavaScript: sign in, write, save, act, moderate.

use crate::editing::setup;
use crate::helpers::*;
use crate::on_both_stores;
use reqwest::StatusCode;

on_both_stores!(the_editor_pages_and_forms_work_without_javascript,);

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
