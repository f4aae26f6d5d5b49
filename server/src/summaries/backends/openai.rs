//! Any OpenAI-compatible chat-completions server: vLLM, llama.cpp's server, SGLang, or a
//! hosted one. Streaming answers are read as they come (plain JSON answers too); requests are
//! limited in number at once, each bounded in time, and retried on 429 and 5xx with backoff
//! (honouring `Retry-After`). Emails and phone numbers in comments are masked before any
//! text leaves the server.

use super::{prompt, Backend, SummariserConfig, Unavailable};
use crate::summaries::skeleton::Skeleton;
use crate::summaries::{Prose, WriteError, Writer};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// Ends in `/v1`.
    pub base_url: String,
    pub model: String,
    pub key: Option<String>,
    /// Requests in flight at once from this instance.
    pub concurrency: usize,
    /// Per request, the whole streamed answer included.
    pub timeout: Duration,
    /// Tries after the first, on 429, 5xx, time-outs and refused connections.
    pub retries: u32,
    /// Ask for server-sent events (a plain JSON answer is read either way).
    pub stream: bool,
}

pub const BACKEND: Backend = Backend { name: "openai", label: "Model server (OpenAI-compatible)", available, make };

/// When a server is configured.
fn available(config: &SummariserConfig) -> Result<(), Unavailable> {
    config.openai.as_ref().map(|_| ()).ok_or(Unavailable::NoServer)
}

fn make(config: &SummariserConfig) -> Option<Arc<dyn Writer>> {
    config.openai.clone().map(|c| Arc::new(OpenAi::new(c)) as Arc<dyn Writer>)
}

pub struct OpenAi {
    config: OpenAiConfig,
    client: reqwest::Client,
    permits: Arc<Semaphore>,
}

impl OpenAi {
    pub fn new(config: OpenAiConfig) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("a TLS-capable HTTP client");
        let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
        OpenAi { config, client, permits }
    }

    async fn ask(&self, body: &serde_json::Value) -> Result<String, (WriteError, Option<Duration>)> {
        let url = format!("{}/chat/completions", self.config.base_url.trim_end_matches('/'));
        let mut request = self.client.post(url).json(body);
        if let Some(key) = &self.config.key {
            request = request.bearer_auth(key);
        }
        let mut response = request.send().await.map_err(|e| (WriteError::Transport(without_url(e)), None))?;
        let status = response.status();
        if !status.is_success() {
            let wait = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let text = response.text().await.unwrap_or_default();
            return Err((WriteError::Status { status: status.as_u16(), body: text.chars().take(200).collect() }, wait));
        }
        let streamed = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !streamed {
            let value: serde_json::Value = response
                .json()
                .await
                .map_err(|e| (WriteError::Garbage(format!("the answer is not JSON: {}", without_url(e))), None))?;
            return value["choices"][0]["message"]["content"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| (WriteError::Garbage("the answer has no choices[0].message.content".into()), None));
        }
        // Server-sent events: `data: {chunk}` lines, then `data: [DONE]`.
        let mut pending = Vec::new();
        let mut text = String::new();
        loop {
            let chunk = response.chunk().await.map_err(|e| (WriteError::Transport(without_url(e)), None))?;
            let Some(chunk) = chunk else { break };
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                let Some(data) = line.trim().strip_prefix("data:") else { continue };
                let data = data.trim();
                if data == "[DONE]" {
                    return Ok(text);
                }
                let event: serde_json::Value = serde_json::from_str(data)
                    .map_err(|e| (WriteError::Garbage(format!("a streamed chunk is not JSON ({e})")), None))?;
                if let Some(piece) = event["choices"][0]["delta"]["content"].as_str() {
                    text.push_str(piece);
                }
            }
        }
        Ok(text)
    }
}

/// reqwest's errors name the URL; the key is never in it, but a base URL may carry
/// credentials, so only the kind of failure is kept.
fn without_url(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_decode() {
        "the body could not be read"
    } else if e.is_body() {
        "the body was cut short"
    } else {
        "request failed"
    };
    format!("{kind} ({})", e.without_url())
}

#[async_trait::async_trait]
impl Writer for OpenAi {
    fn backend(&self) -> &'static str {
        BACKEND.name
    }

    fn model(&self) -> String {
        self.config.model.clone()
    }

    fn parameters(&self) -> serde_json::Value {
        serde_json::json!({"temperature": 0.2, "max_tokens": 600, "stream": self.config.stream})
    }

    async fn write(&self, skeleton: &Skeleton, feedback: Option<&[String]>) -> Result<Prose, WriteError> {
        let body = serde_json::json!({
            "model": self.config.model,
            "messages": [
                {"role": "system", "content": prompt::SYSTEM},
                {"role": "user", "content": prompt::data(skeleton, feedback)},
            ],
            "temperature": 0.2,
            "max_tokens": 600,
            "stream": self.config.stream,
        });
        let mut last = WriteError::Unavailable("no request was made".into());
        for attempt in 0..=self.config.retries {
            let answer = {
                let _permit =
                    self.permits.acquire().await.map_err(|_| WriteError::Unavailable("shutting down".into()))?;
                tokio::time::timeout(self.config.timeout, self.ask(&body)).await
            };
            let wait = match answer {
                Ok(Ok(text)) => return prompt::parse(&text, skeleton.themes.len()),
                Ok(Err((error, wait))) => {
                    let again = match &error {
                        WriteError::Status { status, .. } => *status == 429 || *status >= 500,
                        WriteError::Transport(_) => true,
                        _ => false,
                    };
                    if !again {
                        return Err(error);
                    }
                    last = error;
                    wait
                }
                Err(_) => {
                    last = WriteError::Timeout(format!("{} s", self.config.timeout.as_secs_f32()));
                    None
                }
            };
            if attempt < self.config.retries {
                let backoff = Duration::from_millis(250 * 2u64.pow(attempt));
                tokio::time::sleep(wait.unwrap_or(backoff).min(Duration::from_secs(10))).await;
            }
        }
        Err(last)
    }
}
