//! Who may use the editor side: sign-in, sessions, API tokens, and CSRF defences, over
//! every editor route and server function.

use crate::hardening::raw_client;
use crate::helpers::*;
use crate::on_both_stores;
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_stores!(
    every_editor_route_refuses_strangers_and_forgeries,
    sign_in_failures_say_nothing_about_accounts_and_are_throttled,
    sessions_expire_when_idle_and_after_a_week,
    api_tokens_work_until_revoked,
    only_the_editors_routes_are_behind_the_guard,
);

/// How a route answers refusals: pages redirect to sign-in, the rest answer JSON.
#[derive(Clone, Copy, PartialEq)]
enum Door {
    Page,
    Json,
}

struct Route {
    method: Method,
    path: String,
    door: Door,
    /// Accepts an API token (the JSON API only).
    token: bool,
}

fn routes(poll: i64) -> Vec<Route> {
    let page = |method: Method, path: String| Route { method, path, door: Door::Page, token: false };
    let rpc = |method: Method, path: String| Route { method, path, door: Door::Json, token: false };
    let api = |method: Method, path: &str| Route {
        method,
        path: format!("/api/v1/editor{path}"),
        door: Door::Json,
        token: true,
    };
    vec![
        page(Method::GET, "/editor".into()),
        page(Method::GET, "/editor/polls/new".into()),
        page(Method::GET, format!("/editor/polls/{poll}")),
        page(Method::GET, format!("/editor/polls/{poll}/edit")),
        page(Method::GET, format!("/editor/polls/{poll}/export/results.csv")),
        page(Method::GET, "/editor/audit".into()),
        page(Method::GET, "/editor/tokens".into()),
        page(Method::POST, "/editor/logout".into()),
        page(Method::POST, "/editor/polls".into()),
        page(Method::POST, format!("/editor/polls/{poll}/save")),
        page(Method::POST, format!("/editor/polls/{poll}/actions/open")),
        page(Method::POST, format!("/editor/polls/{poll}/comments/1")),
        page(Method::POST, "/editor/tokens/new".into()),
        page(Method::POST, "/editor/tokens/1/revoke".into()),
        rpc(Method::GET, "/rpc/editor/polls".into()),
        rpc(Method::GET, format!("/rpc/editor/poll?id={poll}")),
        rpc(Method::GET, "/rpc/editor/new".into()),
        rpc(Method::GET, format!("/rpc/editor/dashboard?id={poll}")),
        rpc(Method::GET, "/rpc/editor/audit".into()),
        rpc(Method::GET, "/rpc/editor/tokens".into()),
        rpc(Method::POST, "/rpc/editor/save".into()),
        api(Method::GET, "/polls"),
        api(Method::POST, "/polls"),
        api(Method::GET, &format!("/polls/{poll}")),
        api(Method::PUT, &format!("/polls/{poll}")),
        api(Method::GET, &format!("/polls/{poll}/results")),
        api(Method::GET, &format!("/polls/{poll}/export?format=csv")),
        api(Method::POST, &format!("/polls/{poll}/comments/1")),
        api(Method::POST, &format!("/polls/{poll}/close")),
        api(Method::GET, "/audit"),
    ]
}

/// Sends `route` with the given cookie, bearer token, CSRF token and Origin.
async fn send(
    app: &TestApp,
    route: &Route,
    session: Option<&str>,
    bearer: Option<&str>,
    csrf: Option<&str>,
    origin: Option<&str>,
) -> reqwest::Response {
    let mut request = raw_client().request(route.method.clone(), app.url(&route.path));
    if let Some(session) = session {
        request = request.header("cookie", format!("pt_session={session}"));
    }
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    if route.method != Method::GET {
        request = match (route.door, csrf) {
            // (`confirm`: the second step "Open now" asks for; other forms ignore it.)
            (Door::Page, Some(csrf)) => request.form(&[("csrf", csrf), ("confirm", "yes")]),
            (Door::Page, None) => request.form(&[("name", "x")]),
            (Door::Json, Some(csrf)) => request.header("x-csrf-token", csrf).json(&json!({})),
            (Door::Json, None) => request.json(&json!({})),
        };
    }
    request.send().await.unwrap()
}

async fn assert_refused(response: reqwest::Response, route: &Route, expected_code: &str) {
    let what = format!("{} {}", route.method, route.path);
    let status = response.status();
    match (route.door, expected_code) {
        (Door::Page, "unauthorized") => {
            assert_eq!(status, StatusCode::SEE_OTHER, "{what}");
            let to = response.headers()["location"].to_str().unwrap();
            assert!(to.starts_with("/editor/login?next="), "{what} → {to}");
        }
        (Door::Page, _) => {
            assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
            assert!(response.text().await.unwrap().contains("security token"), "{what}");
        }
        (Door::Json, code) => {
            let (status, body) = json_of(response).await;
            assert_eq!(error_code(&body), code, "{what}");
            assert_eq!(status, if code == "unauthorized" { 401 } else { 403 }, "{what}");
        }
    }
}

async fn every_editor_route_refuses_strangers_and_forgeries(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.editor().await;
    let token = editor.api_token("matrix").await;
    let now = Utc::now();
    let (status, poll) = api_call(
        &app,
        &token,
        Method::POST,
        "/polls",
        Some(draft("Matrix?", &["A", "B"], now + Duration::days(1), now + Duration::days(2))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{poll}");
    let poll = poll["id"].as_i64().unwrap();

    // A session that was signed out, and a token that was revoked.
    let gone = app.sign_in(EDITOR_EMAIL, EDITOR_PASSWORD).await.unwrap();
    let response = gone.post_form("/editor/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let revoked = editor.api_token("revoked").await;
    let (_, tokens) = get_json(&editor.client, app.url("/rpc/editor/tokens")).await;
    let revoked_id =
        tokens["data"].as_array().unwrap().iter().find(|t| t["name"] == "revoked").unwrap()["id"].as_i64().unwrap();
    let response = editor.post_form(&format!("/editor/tokens/{revoked_id}/revoke"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let evil = Some("https://evil.example");
    let own = Some(app.base.as_str());
    for route in routes(poll) {
        assert_refused(send(&app, &route, None, None, None, None).await, &route, "unauthorized").await;
        assert_refused(
            send(&app, &route, Some(&gone.session), None, Some(&gone.csrf), own).await,
            &route,
            "unauthorized",
        )
        .await;
        assert_refused(send(&app, &route, Some("forged"), None, None, own).await, &route, "unauthorized").await;
        if route.token {
            assert_refused(send(&app, &route, None, Some(&revoked), None, None).await, &route, "unauthorized").await;
            let live = send(&app, &route, None, Some(&token), None, None).await;
            assert!(![401, 403].contains(&live.status().as_u16()), "{} {} with a live token", route.method, route.path);
        }
        if route.method == Method::GET {
            continue;
        }
        let session = Some(editor.session.as_str());
        let csrf = Some(editor.csrf.as_str());
        assert_refused(send(&app, &route, session, None, None, own).await, &route, "csrf_failed").await;
        assert_refused(send(&app, &route, session, None, Some("wrong"), own).await, &route, "csrf_failed").await;
        assert_refused(send(&app, &route, session, None, csrf, evil).await, &route, "csrf_failed").await;
        let cross_site = raw_client()
            .request(route.method.clone(), app.url(&route.path))
            .header("cookie", format!("pt_session={}", editor.session))
            .header("sec-fetch-site", "cross-site")
            .header("x-csrf-token", &editor.csrf)
            .send()
            .await
            .unwrap();
        assert_refused(cross_site, &route, "csrf_failed").await;
    }
    // The same requests from our own pages get through (the matrix can tell the difference).
    let opened = send(&app, &routes(poll)[10], Some(&editor.session), None, Some(&editor.csrf), own).await;
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    assert_eq!(opened.headers()["location"], format!("/editor/polls/{poll}").as_str());
    let (_, shown) = api_call(&app, &token, Method::GET, &format!("/polls/{poll}"), None).await;
    assert_eq!(shown["stage"], "open");
}

async fn sign_in_failures_say_nothing_about_accounts_and_are_throttled(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.editor().await;
    assert!(editor.cookie.contains("HttpOnly") && editor.cookie.contains("SameSite=Lax"), "{}", editor.cookie);
    assert!(!editor.cookie.contains("Secure"), "plain HTTP in tests");

    let wrong_password = app.sign_in(EDITOR_EMAIL, "not the password at all").await.err().expect("sign-in fails");
    let unknown_email = app.sign_in("nobody@example.com", EDITOR_PASSWORD).await.err().expect("sign-in fails");
    // The same answer either way: the sign-in form again, saying so, the email as typed.
    for (page, email) in [(&wrong_password, EDITOR_EMAIL), (&unknown_email, "nobody@example.com")] {
        assert!(page.starts_with("401 ") && page.contains("The email or password is not right."), "{page}");
        assert!(page.contains(&format!("value=\"{email}\"")), "the email is kept: {page}");
        assert!(page.contains("name=\"next\" value=\"/editor\""), "and where to go next");
        assert!(!page.contains("not the password at all"), "never the password");
    }

    for _ in 0..4 {
        app.sign_in(EDITOR_EMAIL, "still wrong, still wrong").await.err().expect("sign-in fails");
    }
    let throttled = app.sign_in(EDITOR_EMAIL, EDITOR_PASSWORD).await.err().expect("sign-in fails");
    assert!(throttled.starts_with("429 ") && throttled.contains("Too many failed sign-ins"), "{throttled}");

    // A sign-in posted from another site is refused outright.
    let forged = raw_client()
        .post(app.url("/editor/session"))
        .header("origin", "https://evil.example")
        .form(&[("email", "other@example.com"), ("password", EDITOR_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.headers().get("set-cookie").is_none());
}

async fn sessions_expire_when_idle_and_after_a_week(backend: Backend) {
    let clock = TestClock::at(Utc::now());
    let app = spawn_app_with(backend, Options { clock: Some(clock.clone()), ..Options::default() }).await;
    let editor = app.editor().await;
    let me = app.url("/rpc/editor/new");
    assert_eq!(editor.client.get(&me).send().await.unwrap().status(), StatusCode::OK);
    clock.advance(Duration::hours(11));
    assert_eq!(editor.client.get(&me).send().await.unwrap().status(), StatusCode::OK, "used within 12 hours");
    clock.advance(Duration::hours(12) + Duration::minutes(1));
    assert_eq!(editor.client.get(&me).send().await.unwrap().status(), StatusCode::UNAUTHORIZED, "idle too long");

    let busy = app.sign_in(EDITOR_EMAIL, EDITOR_PASSWORD).await.unwrap();
    for _ in 0..14 {
        clock.advance(Duration::hours(12) - Duration::minutes(1));
        assert_eq!(busy.client.get(&me).send().await.unwrap().status(), StatusCode::OK);
    }
    clock.advance(Duration::hours(12) - Duration::minutes(1));
    assert_eq!(busy.client.get(&me).send().await.unwrap().status(), StatusCode::UNAUTHORIZED, "a week at most");
}

async fn api_tokens_work_until_revoked(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.editor().await;
    let token = editor.api_token("newsletter script").await;
    let (status, polls) = api_call(&app, &token, Method::GET, "/polls", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(polls["polls"], json!([]));
    let (_, tokens) = get_json(&editor.client, app.url("/rpc/editor/tokens")).await;
    let listed = &tokens["data"][0];
    assert_eq!(listed["name"], "newsletter script");
    assert!(listed["last_used_at"].is_string(), "use is noted: {listed}");
    assert!(!tokens.to_string().contains(&token), "the token itself is never shown again");
    let id = listed["id"].as_i64().unwrap();
    editor.post_form(&format!("/editor/tokens/{id}/revoke"), &[]).await;
    let (status, body) = api_call(&app, &token, Method::GET, "/polls", None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (_, audit) = get_json(&editor.client, app.url("/rpc/editor/audit")).await;
    let actions: Vec<&str> = audit["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["revoked_api_token", "created_api_token", "signed_in"]);
}

/// The guard stands in front of exactly the editor's routes: its pages, its server functions
/// and its API (unknown API paths too); not the sign-in page and form, nor look-alike paths.
async fn only_the_editors_routes_are_behind_the_guard(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = raw_client();
    for path in
        ["/editor", "/editor/polls/new", "/editor/polls/1", "/editor/polls/1/edit", "/editor/audit", "/editor/tokens"]
    {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        let to = response.headers()["location"].to_str().unwrap();
        assert!(to.starts_with("/editor/login?next="), "{path} → {to}");
    }
    for path in ["/rpc/editor/polls", "/api/v1/editor/polls", "/api/v1/editor/nowhere"] {
        let (status, body) = json_of(client.get(app.url(path)).send().await.unwrap()).await;
        assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"), "{path}: {body}");
    }
    let login = client.get(app.url("/editor/login")).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    assert_eq!(login.headers()["cache-control"], "no-store", "the sign-in page is never cached");
    let refused = client.post(app.url("/editor/session")).form(&[("email", "a@b.example"), ("password", "x")]);
    let refused = refused.send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "the sign-in form is open to all, and says why it refused");
    assert!(refused.text().await.unwrap().contains("The email or password is not right."));
    assert_eq!(client.get(app.url("/editorial")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(client.get(app.url("/api/v1/polls")).send().await.unwrap().status(), StatusCode::OK);
}
