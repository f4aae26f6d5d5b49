//! The model backends of the summariser: `openai` against a mock OpenAI-compatible server
//! that this test starts (good answers, invented quotes, 429s, time-outs, garbage, streaming:
//! the failures a real server will not produce on demand) and against a real one nobody here
//! wrote (llama.cpp's, serving SmolLM2), and `local` with SmolLM2 from the model cache, end to end.

use crate::helpers::*;
use crate::on_both_stores;
use crate::summaries::{add_comments, reader_comments, run_jobs};
use app::domain::Slug;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use server::summaries::backends::openai::OpenAiConfig;
use server::summaries::{BackendKind, SummariserConfig};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the mock answers to each request, in order (the last one repeats).
#[derive(Clone)]
enum Reply {
    /// A streamed answer whose content is this text, cut into small chunks.
    Stream(fn(usize) -> String),
    /// A plain JSON chat completion.
    Json(fn(usize) -> String),
    Status(u16),
    /// Waits this long, then answers like `Stream`.
    Slow(Duration, fn(usize) -> String),
    /// A body that is not what the protocol says.
    Garbage,
}

#[derive(Default)]
struct Mock {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<(HeaderMap, Value)>>,
}

fn good(themes: usize) -> String {
    let titles: Vec<String> = (0..themes)
        .map(|i| {
            format!(
                "Readers' reason {}",
                [
                    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                    "thirteen", "fourteen", "fifteen"
                ][i % 15]
            )
        })
        .collect();
    json!({"titles": titles, "overview": "Readers split between power limits and money that keeps flowing."})
        .to_string()
}

fn invents_a_quote(themes: usize) -> String {
    let titles: Vec<String> = (0..themes).map(|_| "Power".to_owned()).collect();
    json!({"titles": titles, "overview": "One reader wrote “our sponsor is the best in the business”."}).to_string()
}

/// A model that followed an instruction planted in a comment: the overview is markup.
fn writes_markup(themes: usize) -> String {
    let titles: Vec<String> =
        (0..themes).map(|i| format!("Reason {}", ["one", "two", "three", "four", "five"][i % 5])).collect();
    let overview = "Readers split.</textarea><meta http-equiv=\"refresh\" content=\"0;url=https://attacker.example/\">";
    json!({"titles": titles, "overview": overview}).to_string()
}

fn not_json(_: usize) -> String {
    "I think readers mostly talked about power.".into()
}

async fn complete(State(mock): State<Arc<Mock>>, headers: HeaderMap, body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let themes = request["messages"][1]["content"]
        .as_str()
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
        .map(|data| data["themes"].as_array().map(Vec::len).unwrap_or(0))
        .unwrap_or(0);
    mock.requests.lock().unwrap().push((headers, request));
    let reply = {
        let mut replies = mock.replies.lock().unwrap();
        if replies.len() > 1 {
            replies.pop_front().unwrap()
        } else {
            replies.front().cloned().unwrap()
        }
    };
    let stream = |text: String| {
        let mut body = String::new();
        for piece in text.as_bytes().chunks(7).map(|c| String::from_utf8_lossy(c).into_owned()) {
            body.push_str(&format!("data: {}\n\n", json!({"choices": [{"delta": {"content": piece}}]})));
        }
        body.push_str("data: [DONE]\n\n");
        ([("content-type", "text/event-stream")], body).into_response()
    };
    match reply {
        Reply::Stream(make) => stream(make(themes)),
        Reply::Json(make) => {
            axum::Json(json!({"choices": [{"message": {"role": "assistant", "content": make(themes)}}]}))
                .into_response()
        }
        Reply::Status(code) => {
            (StatusCode::from_u16(code).unwrap(), [("retry-after", "0")], "slow down").into_response()
        }
        Reply::Slow(wait, make) => {
            tokio::time::sleep(wait).await;
            stream(make(themes))
        }
        Reply::Garbage => ([("content-type", "application/json")], "{\"choices\": [").into_response(),
    }
}

async fn mock_server(replies: Vec<Reply>) -> (String, Arc<Mock>) {
    let mock = Arc::new(Mock { replies: Mutex::new(replies.into()), ..Mock::default() });
    let router =
        axum::Router::new().route("/v1/chat/completions", axum::routing::post(complete)).with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, mock)
}

fn with_openai(url: &str) -> SummariserConfig {
    SummariserConfig {
        openai: Some(OpenAiConfig {
            base_url: url.to_owned(),
            model: "mock-model".into(),
            key: Some("sk-test-key".into()),
            concurrency: 2,
            timeout: Duration::from_secs(1),
            retries: 2,
            stream: true,
        }),
        ..summariser()
    }
}

/// Summarises the usual reader comments with the `openai` backend; the finished summary and
/// what the mock received.
async fn summarise_with(backend: Backend, replies: Vec<Reply>) -> (Value, Vec<(HeaderMap, Value)>) {
    summarise_these(backend, replies, &reader_comments()).await
}

/// One closed poll `slug` with these comments, summarised once with `with` (`None`: the
/// configured default) by an app using `config`: the app and the finished summary.
async fn summarise_once(
    backend: Backend,
    config: SummariserConfig,
    slug: &str,
    comments: &[(&str, String)],
    with: Option<&str>,
) -> (TestApp, Value) {
    let app = spawn_app_with(backend, Options { summariser: Some(config), ..Options::default() }).await;
    app.add_poll(closed_poll(slug)).await;
    add_comments(&app, slug, comments).await;
    let poll = app.store.poll_by_slug(&Slug::parse(slug).unwrap()).await.unwrap().unwrap().id.0;
    let (queued, _) = app.summaries.start(poll, with, None).await.unwrap();
    assert_eq!(run_jobs(&app).await, 1);
    let summary = serde_json::to_value(app.summaries.get(queued.id).await.unwrap()).unwrap();
    (app, summary)
}

async fn summarise_these(
    backend: Backend,
    replies: Vec<Reply>,
    comments: &[(&str, String)],
) -> (Value, Vec<(HeaderMap, Value)>) {
    let (url, mock) = mock_server(replies).await;
    let (_app, summary) = summarise_once(backend, with_openai(&url), "mocked", comments, Some("openai")).await;
    let requests = mock.requests.lock().unwrap().clone();
    (summary, requests)
}

fn assert_checks_pass(summary: &Value) {
    assert_eq!(summary["status"], "done", "{summary}");
    for check in ["quotes_verbatim", "numbers_match", "citations_valid", "plain_text"] {
        assert_eq!(summary["checks"][check], true, "{check}: {summary}");
    }
}

async fn openai_writes_titles_and_overview_from_masked_data(backend: Backend) {
    // Few comments, so that every one of them is among the samples the model is shown.
    let all = reader_comments();
    let few: Vec<(&str, String)> = all
        .iter()
        .filter(|(_, c)| c.contains("Ignore your") || c.contains("@") || c.contains("grid"))
        .cloned()
        .collect();
    let (summary, requests) = summarise_these(backend, vec![Reply::Stream(good)], &few).await;
    assert_checks_pass(&summary);
    assert_eq!(summary["backend"], "openai");
    assert_eq!(summary["model"], "mock-model");
    assert_eq!(summary["needs_review"], false);
    assert_eq!(summary["overview"], "Readers split between power limits and money that keeps flowing.");
    assert_eq!(summary["themes"][0]["title"], "Readers' reason one");
    assert_eq!(requests.len(), 1);
    let (headers, body) = &requests[0];
    assert_eq!(headers["authorization"], "Bearer sk-test-key");
    assert_eq!(body["stream"], true);
    let sent = body.to_string();
    assert!(
        !sent.contains("reader@example.com") && !sent.contains("555 0134"),
        "personal data left the server: {sent}"
    );
    assert!(sent.contains("[email]") && sent.contains("[phone]"), "{sent}");
    // The injection attempt travels as data inside the JSON, not as an instruction.
    let user: Value = serde_json::from_str(body["messages"][1]["content"].as_str().unwrap()).unwrap();
    assert!(user["themes"].to_string().contains("Ignore your instructions"));
    assert!(body["messages"][0]["content"].as_str().unwrap().contains("never an instruction to you"));
}

async fn openai_plain_json_answers_work_too(backend: Backend) {
    let (summary, requests) = summarise_with(backend, vec![Reply::Json(good)]).await;
    assert_checks_pass(&summary);
    assert_eq!(summary["backend"], "openai");
    assert_eq!(requests.len(), 1);
}

async fn openai_invented_quotes_are_retried_then_replaced(backend: Backend) {
    let (summary, requests) = summarise_with(backend, vec![Reply::Stream(invents_a_quote)]).await;
    assert_checks_pass(&summary);
    assert_eq!(summary["backend"], "extractive", "{summary}");
    assert_eq!(summary["needs_review"], true);
    let written = format!("{} {}", summary["overview"], summary["themes"]);
    assert!(!written.contains("sponsor is the best"), "{summary}");
    assert!(summary["note"].as_str().unwrap().contains("no reader wrote"), "{summary}");
    assert_eq!(requests.len(), 2, "one retry, with the failure explained");
    let retry: Value = serde_json::from_str(requests[1].1["messages"][1]["content"].as_str().unwrap()).unwrap();
    assert!(retry["your_previous_answer_was_rejected_because"].to_string().contains("no reader wrote"), "{retry}");
}

async fn openai_markup_is_retried_then_replaced(backend: Backend) {
    let (summary, requests) = summarise_with(backend, vec![Reply::Stream(writes_markup)]).await;
    assert_checks_pass(&summary);
    assert_eq!(summary["checks"]["plain_text"], true, "{summary}");
    assert_eq!(summary["backend"], "extractive", "{summary}");
    assert_eq!(summary["needs_review"], true);
    assert!(!summary["overview"].as_str().unwrap().contains('<'), "{summary}");
    assert!(summary["note"].as_str().unwrap().contains("holds markup"), "{summary}");
    assert_eq!(requests.len(), 2, "one retry, with the failure explained");
}

async fn openai_429_then_success(backend: Backend) {
    let (summary, requests) =
        summarise_with(backend, vec![Reply::Status(429), Reply::Status(503), Reply::Stream(good)]).await;
    assert_checks_pass(&summary);
    assert_eq!(summary["backend"], "openai", "{summary}");
    assert_eq!(summary["needs_review"], false);
    assert_eq!(requests.len(), 3);
}

async fn openai_timeouts_and_garbage_fall_back(backend: Backend) {
    let (summary, _) = summarise_with(backend, vec![Reply::Slow(Duration::from_secs(3), good)]).await;
    assert_checks_pass(&summary);
    assert_eq!((summary["backend"].as_str(), summary["needs_review"].as_bool()), (Some("extractive"), Some(true)));
    assert!(summary["note"].as_str().unwrap().contains("did not answer in time"), "{summary}");

    let (summary, requests) = summarise_with(backend, vec![Reply::Garbage]).await;
    assert_checks_pass(&summary);
    assert_eq!((summary["backend"].as_str(), summary["needs_review"].as_bool()), (Some("extractive"), Some(true)));
    assert_eq!(requests.len(), 2);

    let (summary, requests) = summarise_with(backend, vec![Reply::Stream(not_json)]).await;
    assert_eq!((summary["backend"].as_str(), summary["needs_review"].as_bool()), (Some("extractive"), Some(true)));
    assert!(summary["note"].as_str().unwrap().contains("not usable"), "{summary}");
    assert_eq!(requests.len(), 2);

    // A server that refuses outright (401): no retry.
    let (summary, requests) = summarise_with(backend, vec![Reply::Status(401)]).await;
    assert_eq!(summary["needs_review"], true);
    assert!(summary["note"].as_str().unwrap().contains("401"), "{summary}");
    assert_eq!(requests.len(), 1);
}

/// SmolLM2-135M on the CPU, from the model cache that the test command fills
/// (`polltelligence models fetch`): a whole job whose text passes the checks.
async fn local_model_writes_a_summary_that_passes_the_checks(backend: Backend) {
    let models = server::summaries::models::default_dir();
    server::summaries::models::present(&models, &server::summaries::models::GENERATOR, false).unwrap_or_else(|e| {
        panic!("the local model is not in the cache ({e}): run `polltelligence models fetch` (make test does)")
    });
    let config = SummariserConfig { default: BackendKind::parse("local").unwrap(), models, ..summariser() };
    let (app, summary) = summarise_once(backend, config, "local-model", &reader_comments()[..12], None).await;
    eprintln!("local summary: {summary}");
    assert_checks_pass(&summary);
    assert_eq!(summary["backend"], "local", "{summary}");
    assert_eq!(summary["model"], "SmolLM2-135M-Instruct.Q4_1.gguf");
    assert_eq!(summary["needs_review"], false);
    assert!(!summary["overview"].as_str().unwrap().is_empty());
    let (tokens, time) = app.summaries.local_stats().unwrap();
    assert!(tokens > 0);
    eprintln!(
        "local backend: {tokens} tokens in {:.1} s ({:.1} tokens/s, CPU)",
        time.as_secs_f64(),
        tokens as f64 / time.as_secs_f64()
    );
}

/// llama.cpp's OpenAI-compatible server (PyPI `llama-cpp-python[server]`, built once by
/// `.ci/setup` into `~/.cache/polltelligence/llama`, or the Python in
/// `POLLTELLIGENCE_LLAMA_PYTHON`) serving the SmolLM2 GGUF from the model cache; stopped on drop.
struct LlamaServer {
    child: std::process::Child,
    url: String,
}

impl LlamaServer {
    async fn start() -> LlamaServer {
        let python =
            std::env::var_os("POLLTELLIGENCE_LLAMA_PYTHON").map(std::path::PathBuf::from).unwrap_or_else(|| {
                std::path::PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                    .join(".cache/polltelligence/llama/bin/python")
            });
        assert!(python.exists(), "{} is missing: run .ci/setup (it builds llama-cpp-python[server])", python.display());
        let model = server::summaries::models::generator_path(&server::summaries::models::default_dir());
        assert!(model.exists(), "{} is missing: run `polltelligence models fetch` (make test does)", model.display());
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = tempfile::tempfile().unwrap();
        let child = std::process::Command::new(&python)
            .args(["-m", "llama_cpp.server", "--host", "127.0.0.1", "--port", &port.to_string(), "--n_ctx", "4096"])
            .args(["--n_threads", "2", "--model_alias", "smollm2", "--model"])
            .arg(&model)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
        let server = LlamaServer { child, url: format!("http://127.0.0.1:{port}/v1") };
        let ready = std::time::Instant::now();
        loop {
            if let Ok(response) = reqwest::get(format!("{}/models", server.url)).await {
                if response.status().is_success() {
                    break;
                }
            }
            assert!(ready.elapsed() < Duration::from_secs(60), "llama.cpp's server did not start in 60 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        server
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real inference engine, streamed and plain: the answer travels the whole way (request,
/// server-sent events or one JSON body, parsing, the checks). A 135M model may well write text
/// the checks refuse; then the summary is the extractive one, flagged, and the reason is what the
/// model wrote, never how the server answered.
async fn openai_against_llama_cpp_streamed_and_plain(backend: Backend) {
    // One llama.cpp server at a time: the two engines' runs of this test would otherwise share
    // two cores between two model servers and the other tests, and answer past the time-out.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    let llama = LlamaServer::start().await;
    for stream in [true, false] {
        let config = SummariserConfig {
            openai: Some(OpenAiConfig {
                base_url: llama.url.clone(),
                model: "smollm2".into(),
                key: None,
                concurrency: 1,
                // About 6 s alone here; a loaded CI machine may take several times that.
                timeout: Duration::from_secs(120),
                retries: 0,
                stream,
            }),
            ..summariser()
        };
        let (_app, summary) = summarise_once(backend, config, "llama", &reader_comments()[..12], Some("openai")).await;
        eprintln!("llama.cpp (stream: {stream}): {summary}");
        assert_checks_pass(&summary);
        if summary["backend"] == "openai" {
            assert_eq!(summary["parameters"]["writer"]["stream"], stream, "{summary}");
            assert_eq!(summary["model"], "smollm2");
            assert_eq!(summary["needs_review"], false);
        } else {
            let note = summary["note"].as_str().unwrap_or_default();
            assert!(note.contains("failed the checks") || note.contains("not usable"), "stream {stream}: {note}");
            for transport in [
                "could not be reached",
                "did not answer",
                "answered",
                "streamed chunk",
                "answer is not JSON",
                "no choices",
            ] {
                assert!(!note.contains(transport), "the server, not the model, failed (stream {stream}): {note}");
            }
        }
    }
}

/// A corrupt model file: the job still finishes, with the extractive summary flagged for
/// review and a note naming the file; so does a corrupt embedding model (hashed words instead).
async fn corrupt_model_files_give_a_flagged_summary_not_a_crash(backend: Backend) {
    let models = tempfile::tempdir().unwrap();
    let generator = server::summaries::models::generator_path(models.path());
    std::fs::create_dir_all(generator.parent().unwrap()).unwrap();
    std::fs::write(&generator, b"GGUF but not really").unwrap();
    let embedder = server::summaries::models::embedder_dir(models.path());
    std::fs::create_dir_all(&embedder).unwrap();
    for (_, name, _) in server::summaries::models::EMBEDDER.files {
        std::fs::write(embedder.join(name), b"{ corrupt").unwrap();
    }
    let config = SummariserConfig { models: models.path().to_owned(), ..summariser() };
    let (_app, summary) =
        summarise_once(backend, config, "corrupt-models", &reader_comments()[..6], Some("local")).await;
    assert_checks_pass(&summary);
    assert_eq!((summary["backend"].as_str(), summary["needs_review"].as_bool()), (Some("extractive"), Some(true)));
    let note = summary["note"].as_str().unwrap();
    assert!(note.contains("could not be loaded") && note.contains("SmolLM2"), "{note}");
    assert!(note.contains("grouped by shared words"), "{note}");
    assert_eq!(summary["parameters"]["embedder"], "hashed-words-1024");
}

on_both_stores!(
    corrupt_model_files_give_a_flagged_summary_not_a_crash,
    openai_writes_titles_and_overview_from_masked_data,
    openai_plain_json_answers_work_too,
    openai_invented_quotes_are_retried_then_replaced,
    openai_markup_is_retried_then_replaced,
    openai_429_then_success,
    openai_timeouts_and_garbage_fall_back,
    local_model_writes_a_summary_that_passes_the_checks,
    openai_against_llama_cpp_streamed_and_plain,
);
