use app::domain::{NewPoll, OptionKey, PollKind, Publication, ResultsVisibility, Slug};
use chrono::{Duration, Utc};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use server::config::Config;
use server::store::Store;
use server::Application;
use sqlx::Connection;
use std::sync::Arc;

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
    _dir: tempfile::TempDir,
}

/// Test servers start without demo content and without a vote rate limit.
#[derive(Default)]
pub struct Options {
    pub demo: bool,
    pub rate_limit: u32,
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

async fn start(database_url: String, dir: tempfile::TempDir, options: Options) -> TestApp {
    let config = Config {
        database_url: database_url.clone(),
        site_addr: "127.0.0.1:0".parse().unwrap(),
        site_root: dir.path().join("site"),
        no_demo: !options.demo,
        rate_limit: options.rate_limit,
        secret: None,
        secure_cookies: false,
    };
    let app = Application::build(config).await.expect("server starts");
    let base = format!("http://{}", app.addr());
    let store = app.store();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp { base, store, database_url, _dir: dir }
}

impl TestApp {
    /// A second server on the same database, as after a restart or on another instance.
    pub async fn restart(self) -> TestApp {
        start(self.database_url.clone(), self._dir, Options::default()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn add_poll(&self, poll: NewPoll) {
        poll.validate().expect("test poll is valid");
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
pub fn voter() -> Client {
    Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
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
pub fn open_poll(slug: &str) -> NewPoll {
    let now = Utc::now();
    NewPoll {
        slug: Slug::parse(slug).unwrap(),
        question: format!("Question for {slug}?"),
        kind: PollKind::Single,
        options: [("yes", "Yes"), ("no", "No"), ("maybe", "Maybe")]
            .iter()
            .map(|(k, l)| (OptionKey::parse(k).unwrap(), l.to_string()))
            .collect(),
        allow_comment: true,
        results_visibility: ResultsVisibility::Always,
        publication: Publication::Published,
        opens_at: now - Duration::hours(1),
        closes_at: now + Duration::days(1),
    }
}

pub fn closed_poll(slug: &str) -> NewPoll {
    let now = Utc::now();
    NewPoll { opens_at: now - Duration::days(8), closes_at: now - Duration::days(1), ..open_poll(slug) }
}

pub fn scheduled_poll(slug: &str) -> NewPoll {
    let now = Utc::now();
    NewPoll { opens_at: now + Duration::days(1), closes_at: now + Duration::days(8), ..open_poll(slug) }
}

pub fn choices(keys: &[&str]) -> Value {
    json!({ "choices": keys })
}
