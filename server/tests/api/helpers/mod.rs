use app::domain::{ChoiceKind, DraftOption, PollDraft, Publication, ResultsVisibility};
/// Tests drive the summaries room through its one door, as the pages and the API do.
pub use app::services::SummaryService;
use chrono::{DateTime, Duration, Utc};
use reqwest::header::SET_COOKIE;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use server::config::Config;
use server::services::{Auth, Clock, SystemClock};
use server::store::Store;
use server::Application;
use sqlx::Connection;
use std::sync::{Arc, Mutex};

mod clients;
pub use clients::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each listed scenario `async fn name(backend: Backend)` once per storage engine.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Backend::Postgres).await } )*
        }
    };
}

pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    pub database_url: String,
    pub clock: Arc<dyn Clock>,
    /// The summariser; test servers start with no summary worker, so tests run jobs by hand.
    pub summaries: Arc<server::summaries::Summaries>,
    _dir: tempfile::TempDir,
}

/// Test servers start without demo content, without a vote rate limit and without per-client
/// connection caps (every test client is 127.0.0.1).
#[derive(Default)]
pub struct Options {
    pub demo: bool,
    pub rate_limit: u32,
    /// A clock the test moves by hand; the system clock when `None`.
    pub clock: Option<Arc<TestClock>>,
    /// Live-results connections allowed at once (the server's default when `None`).
    pub max_listeners: Option<usize>,
    /// The summariser's settings (`summariser()`: extractive, no worker, when `None`).
    pub summariser: Option<server::summaries::SummariserConfig>,
    /// `POLLTELLIGENCE_TRUSTED_PROXIES` (none by default).
    pub trusted_proxies: server::config::TrustedProxies,
    pub max_connections: Option<usize>,
    /// Per-client caps (`POLLTELLIGENCE_MAX_CONNECTIONS_PER_CLIENT`, `_LISTENERS_`): off when `None`.
    pub max_connections_per_client: Option<usize>,
    pub max_listeners_per_client: Option<usize>,
    /// `POLLTELLIGENCE_SIGN_IN_KEYS`: the sign-in throttle's size.
    pub sign_in_keys: Option<usize>,
    pub request_timeout_s: Option<u64>,
    pub idle_timeout_s: Option<u64>,
    /// `/metrics` without a token (not served); test servers have `TEST_METRICS_TOKEN`.
    pub no_metrics_token: bool,
    /// Files of the browser bundle (`site/pkg/<name>`); test servers have none by default.
    pub bundle: Vec<(&'static str, Vec<u8>)>,
}

/// The metrics token test servers are started with (`TestApp::metrics`).
pub const TEST_METRICS_TOKEN: &str = "test-metrics-token";

/// Test servers' summariser: the extractive backend, no worker and no scan for closed polls
/// (tests run jobs with `summaries.run_next()`), models from the cache that `make test` fills.
pub fn summariser() -> server::summaries::SummariserConfig {
    server::summaries::SummariserConfig { workers: 0, close_scan: None, ..Default::default() }
}

/// Time that passes only when a test says so.
pub struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    pub fn at(start: DateTime<Utc>) -> Arc<Self> {
        Arc::new(TestClock(Mutex::new(start)))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// A fresh database: a new SQLite file, or a new database in the test PostgreSQL cluster
/// that the test command started (`POLLTELLIGENCE_TEST_PG` is its admin URL).
async fn fresh_database(backend: Backend, dir: &tempfile::TempDir) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("test.db").display()),
        Backend::Postgres => {
            let admin = std::env::var("POLLTELLIGENCE_TEST_PG").expect(
                "POLLTELLIGENCE_TEST_PG is not set: run the suite with `make test`, which starts a throwaway \
                 PostgreSQL cluster, or point it at an admin URL such as postgres://postgres@127.0.0.1:54329/postgres",
            );
            let name = format!("test_{}", server::http::voter::new_voter_id().to_lowercase().replace(['-', '_'], ""));
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to the test cluster");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");
            let (base, _) = admin.rsplit_once('/').expect("admin URL ends in a database name");
            format!("{base}/{name}")
        }
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, Options::default()).await
}

pub async fn spawn_app_with(backend: Backend, options: Options) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database(backend, &dir).await;
    start(database_url, dir, options).await
}

/// A server on an existing database (a restored backup).
pub async fn spawn_app_on(database_url: String) -> TestApp {
    start(database_url, tempfile::tempdir().expect("temp dir"), Options::default()).await
}

async fn start(database_url: String, dir: tempfile::TempDir, options: Options) -> TestApp {
    for (name, bytes) in &options.bundle {
        let path = dir.path().join("site/pkg").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let config = Config {
        database_url: database_url.clone(),
        site_addr: "127.0.0.1:0".parse().unwrap(),
        site_root: dir.path().join("site"),
        no_demo: !options.demo,
        rate_limit: options.rate_limit,
        secret: None,
        secret_file: None,
        previous_secrets: Vec::new(),
        trusted_proxies: options.trusted_proxies.clone(),
        max_connections: options.max_connections.unwrap_or(1024),
        request_timeout_s: options.request_timeout_s.unwrap_or(10),
        idle_timeout_s: options.idle_timeout_s.unwrap_or(60),
        metrics_token: (!options.no_metrics_token).then(|| TEST_METRICS_TOKEN.to_owned()),
        secure_cookies: false,
        public_url: None,
        frame_ancestors: None,
        max_listeners: options.max_listeners.unwrap_or(10_000),
        max_listeners_per_client: options.max_listeners_per_client.unwrap_or(0),
        max_connections_per_client: options.max_connections_per_client.unwrap_or(0),
        sign_in_keys: options.sign_in_keys.unwrap_or(100_000),
        summariser: Default::default(),
    };
    let clock: Arc<dyn Clock> = match options.clock {
        Some(clock) => clock,
        None => Arc::new(SystemClock),
    };
    let summariser = options.summariser.unwrap_or_else(summariser);
    let app = Application::build_with(config, clock.clone(), summariser).await.expect("server starts");
    let base = format!("http://{}", app.addr());
    let store = app.store();
    let summaries = app.summaries();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp { base, store, database_url, clock, summaries, _dir: dir }
}

impl TestApp {
    /// A second server on the same database, as after a restart or on another instance.
    pub async fn restart(self) -> TestApp {
        start(self.database_url.clone(), self._dir, Options::default()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `/metrics` as the operator's scraper fetches it (with the token).
    pub async fn metrics(&self) -> String {
        let response = voter().get(self.url("/metrics")).bearer_auth(TEST_METRICS_TOKEN).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    }

    /// Stores a published poll, checked as the editor's form checks it.
    pub async fn add_poll(&self, poll: PollDraft) {
        self.add_poll_as(poll, Publication::Published).await
    }

    pub async fn add_poll_as(&self, draft: PollDraft, publication: Publication) {
        let poll = draft.build(draft.wanted_slug().expect("test slug"), publication).expect("test poll is valid");
        self.store.insert_poll(&poll, Utc::now()).await.expect("insert poll");
    }

    /// Total vote rows for a poll, straight from the database.
    pub async fn stored_votes(&self, slug: &str) -> i64 {
        let sql = "SELECT COUNT(*) FROM votes v JOIN polls p ON p.id = v.poll_id WHERE p.slug = $1";
        if self.database_url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(&self.database_url).await.unwrap();
            sqlx::query_scalar(sql).bind(slug).fetch_one(&mut conn).await.unwrap()
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.database_url).await.unwrap();
            sqlx::query_scalar(sql).bind(slug).fetch_one(&mut conn).await.unwrap()
        }
    }

    /// Creates an editor account, as `polltelligence editor add` does.
    pub async fn add_editor(&self, email: &str, password: &str) {
        let auth = Auth::new(self.store.clone(), self.clock.clone()).await.unwrap();
        auth.add_editor(email, password.to_owned()).await.expect("add editor");
    }

    /// A signed-in editor's browser: cookies kept, requests sent as our own pages send them.
    pub async fn editor(&self) -> Editor {
        self.add_editor(EDITOR_EMAIL, EDITOR_PASSWORD).await;
        self.sign_in(EDITOR_EMAIL, EDITOR_PASSWORD).await.expect("editor signs in")
    }

    /// Signs in through the login form; `Err` holds where the failed sign-in redirected.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<Editor, String> {
        let client = voter();
        let response = client
            .post(self.url("/editor/session"))
            .header("origin", &self.base)
            .form(&[("email", email), ("password", password), ("next", "/editor")])
            .send()
            .await
            .unwrap();
        // Refused: the sign-in page again, as "<status> <page>".
        if response.status() != StatusCode::SEE_OTHER {
            return Err(format!("{} {}", response.status().as_u16(), response.text().await.unwrap()));
        }
        let to = response.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(to, "/editor");
        let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        let session = cookie.strip_prefix("pt_session=").unwrap().split(';').next().unwrap().to_owned();
        let (status, me) = get_json(&client, self.url("/rpc/editor/new")).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        let csrf = me["me"]["csrf"].as_str().expect("a session has a CSRF token").to_owned();
        Ok(Editor { client, csrf, session, cookie, base: self.base.clone() })
    }

    pub async fn stored_comments(&self) -> i64 {
        let sql = "SELECT COUNT(*) FROM comments";
        if self.database_url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(&self.database_url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.database_url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
        }
    }
}

/// A client that keeps cookies: one voter. Redirects are not followed, so tests see them.
/// A reader's browser. A response that stalls fails its test instead of hanging the suite.
/// The poll page's ballot form as a browser without JavaScript posts it: `body` is the
/// urlencoded form exactly as sent (repeated `choice` fields, raw bytes where a test needs them).
pub async fn post_ballot(client: &Client, app: &TestApp, slug: &str, body: &'static str) -> Response {
    client
        .post(app.url(&format!("/polls/{slug}/vote")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

pub fn voter() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

pub async fn vote(client: &Client, app: &TestApp, slug: &str, body: Value) -> (StatusCode, Value) {
    let response = client.post(app.url(&format!("/api/v1/polls/{slug}/votes"))).json(&body).send().await.unwrap();
    json_of(response).await
}

pub async fn get_json(client: &Client, url: String) -> (StatusCode, Value) {
    json_of(client.get(url).send().await.unwrap()).await
}

pub async fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.text().await.unwrap();
    let value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON ({status}): {body}"));
    (status, value)
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {body}"))
}

/// An open single-choice poll (yes / no / maybe) with comments and results always visible.
pub fn open_poll(slug: &str) -> PollDraft {
    let now = Utc::now();
    PollDraft {
        slug: Some(slug.to_owned()),
        question: format!("Question for {slug}?"),
        kind: ChoiceKind::Single,
        max_choices: 1,
        options: [("yes", "Yes"), ("no", "No"), ("maybe", "Maybe")]
            .iter()
            .map(|(k, l)| DraftOption { id: Some(k.to_string()), label: l.to_string() })
            .collect(),
        allow_comment: true,
        allow_vote_change: false,
        results_visibility: ResultsVisibility::Always,
        opens_at: now - Duration::hours(1),
        closes_at: now + Duration::days(1),
        version: None,
    }
}

pub fn closed_poll(slug: &str) -> PollDraft {
    let now = Utc::now();
    PollDraft { opens_at: now - Duration::days(8), closes_at: now - Duration::days(1), ..open_poll(slug) }
}

pub fn scheduled_poll(slug: &str) -> PollDraft {
    let now = Utc::now();
    PollDraft { opens_at: now + Duration::days(1), closes_at: now + Duration::days(8), ..open_poll(slug) }
}

pub fn choices(keys: &[&str]) -> Value {
    json!({ "choices": keys })
}

impl TestApp {
    /// Another server on the same database, running beside this one (a second instance).
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_with(Options::default()).await
    }

    pub async fn another_instance_with(&self, options: Options) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        start(self.database_url.clone(), dir, options).await
    }

    /// The `source` of every vote of a poll, straight from the database.
    pub async fn stored_sources(&self, slug: &str) -> Vec<String> {
        let sql = "SELECT v.source FROM votes v JOIN polls p ON p.id = v.poll_id WHERE p.slug = $1 ORDER BY v.id";
        if self.database_url.starts_with("postgres") {
            let mut conn = sqlx::PgConnection::connect(&self.database_url).await.unwrap();
            sqlx::query_scalar(sql).bind(slug).fetch_all(&mut conn).await.unwrap()
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.database_url).await.unwrap();
            sqlx::query_scalar(sql).bind(slug).fetch_all(&mut conn).await.unwrap()
        }
    }
}
