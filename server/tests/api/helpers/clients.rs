//! Clients the tests talk through: a signed-in editor (browser or API token), an editor's
//! script, and a Server-Sent Events reader.

use super::*;

pub const EDITOR_EMAIL: &str = "editor@example.com";

pub const EDITOR_PASSWORD: &str = "correct horse battery staple";

pub struct Editor {
    pub client: Client,
    pub csrf: String,
    /// The session cookie's value, and the whole `Set-Cookie` line that carried it.
    pub session: String,
    pub cookie: String,
    pub base: String,
}

impl Editor {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A form post from our own page, CSRF token included.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut fields = fields.to_vec();
        fields.push(("csrf", &self.csrf));
        self.client.post(self.url(path)).header("origin", &self.base).form(&fields).send().await.unwrap()
    }

    /// A JSON call from our own page, CSRF token in its header.
    pub async fn send_json(&self, method: reqwest::Method, path: &str, body: &Value) -> (StatusCode, Value) {
        let request = self.client.request(method, self.url(path)).header("origin", &self.base);
        json_of(request.header("x-csrf-token", &self.csrf).json(body).send().await.unwrap()).await
    }

    /// A new API token, read from the page that shows it once.
    pub async fn api_token(&self, name: &str) -> String {
        let response = self.post_form("/editor/tokens/new", &[("name", name)]).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let page = response.text().await.unwrap();
        let start = page.find("pt_").expect("the page shows the token");
        page[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect()
    }
}

/// A script using the editor API with a bearer token.
pub async fn api_call(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Client::new().request(method, app.url(&format!("/api/v1/editor{path}"))).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
}

/// A draft as an editor's script would send it.
pub fn draft(question: &str, labels: &[&str], opens_at: DateTime<Utc>, closes_at: DateTime<Utc>) -> Value {
    json!({
        "question": question,
        "options": labels.iter().map(|l| json!({"label": l})).collect::<Vec<_>>(),
        "allow_comment": true,
        "results_visibility": "always",
        "opens_at": opens_at,
        "closes_at": closes_at,
    })
}

/// A Server-Sent Events reader over a streaming response.
pub struct EventStream {
    response: Response,
    buffer: String,
}

impl EventStream {
    pub async fn open(client: &Client, url: String) -> Result<EventStream, (StatusCode, Value)> {
        let response = client.get(url).header("accept", "text/event-stream").send().await.unwrap();
        if response.status() != StatusCode::OK {
            return Err(json_of(response).await);
        }
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        Ok(EventStream { response, buffer: String::new() })
    }

    /// The next event's name and JSON data (comments skipped); `None` when the stream ends
    /// or nothing comes within `within`.
    pub async fn next(&mut self, within: std::time::Duration) -> Option<(String, Value)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = "message".to_owned();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // a comment (heartbeat) or a retry hint
                }
                return Some((name, serde_json::from_str(&data).expect("event data is JSON")));
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.ok()?.ok()??;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}
