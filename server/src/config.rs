//! Everything the server reads from its environment and flags, validated at start.

use crate::summaries::backends::openai::OpenAiConfig;
use crate::summaries::{BackendKind, SummariserConfig};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/polltelligence.db";

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// `sqlite://PATH` (the default, created on first start) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub site_addr: SocketAddr,

    /// Where the built site (`pkg/`, public assets) lives.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Do not load demo polls into an empty database.
    #[arg(long)]
    pub no_demo: bool,

    /// Votes per minute allowed from one client address; 0 turns the limit off.
    #[arg(long, env = "POLLTELLIGENCE_RATE_LIMIT", default_value_t = 120)]
    pub rate_limit: u32,

    /// Key that signs voter cookies and email links (at least 32 characters), from the
    /// environment (`POLLTELLIGENCE_SECRET`) or `--secret-file`, never a flag: flags show in
    /// `ps`. Generated and kept in the database when not given, so instances share it.
    #[arg(skip)]
    pub secret: Option<String>,

    /// A file holding the key (its first line), in place of `POLLTELLIGENCE_SECRET`.
    #[arg(long, env = "POLLTELLIGENCE_SECRET_FILE")]
    pub secret_file: Option<PathBuf>,

    /// Keys retired by a rotation, still accepted on voter cookies and email links
    /// (`POLLTELLIGENCE_SECRET_PREVIOUS`, space-separated; environment only).
    #[arg(skip)]
    pub previous_secrets: Vec<String>,

    /// Addresses of reverse proxies (CIDRs, comma- or space-separated) whose
    /// `X-Forwarded-For` / `X-Forwarded-Proto` are believed; from anyone else they are ignored.
    #[arg(long, env = "POLLTELLIGENCE_TRUSTED_PROXIES", default_value = "", value_parser = parse_proxies)]
    pub trusted_proxies: TrustedProxies,

    /// Ordinary connections served at once (live-results streams have their own budget,
    /// `POLLTELLIGENCE_MAX_LISTENERS`); past it new connections get a 503.
    #[arg(long, env = "POLLTELLIGENCE_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,

    /// Ordinary connections from one client network (an IPv4 address or an IPv6 /64) at once;
    /// trusted proxies are exempt. 0: no cap.
    #[arg(long, env = "POLLTELLIGENCE_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 128)]
    pub max_connections_per_client: usize,

    /// Seconds a client has to send a request's head, and then its body.
    #[arg(long, env = "POLLTELLIGENCE_REQUEST_TIMEOUT", default_value_t = 10)]
    pub request_timeout_s: u64,

    /// Seconds a kept-alive connection may sit without a request (or a body without a byte).
    #[arg(long, env = "POLLTELLIGENCE_IDLE_TIMEOUT", default_value_t = 60)]
    pub idle_timeout_s: u64,

    /// Bearer token that `/metrics` requires; without one `/metrics` is not served.
    #[arg(long, env = "POLLTELLIGENCE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Mark cookies `Secure` (set this when served over HTTPS).
    #[arg(long, env = "POLLTELLIGENCE_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// The site's public address (`https://polls.example.com`), used in links that leave the
    /// site: embed snippets, oEmbed, email blocks, social cards. Default: from each request.
    #[arg(long, env = "POLLTELLIGENCE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Origins allowed to frame the widget (`/embed/…`), space-separated; default any site.
    #[arg(long, env = "POLLTELLIGENCE_FRAME_ANCESTORS")]
    pub frame_ancestors: Option<String>,

    /// Live-results connections (SSE) served at once; more are answered 503.
    #[arg(long, env = "POLLTELLIGENCE_MAX_LISTENERS", default_value_t = 10_000)]
    pub max_listeners: usize,

    /// Live-results streams from one client network at once (the vote limit's unit; behind a
    /// trusted proxy, the forwarded client). 0: no cap.
    #[arg(long, env = "POLLTELLIGENCE_MAX_LISTENERS_PER_CLIENT", default_value_t = 200)]
    pub max_listeners_per_client: usize,

    /// Keys the sign-in throttle keeps in memory (about 100 bytes each); past it the oldest
    /// counts are forgotten.
    #[arg(long, env = "POLLTELLIGENCE_SIGN_IN_KEYS", default_value_t = 100_000)]
    pub sign_in_keys: usize,

    #[command(flatten)]
    pub summariser: SummariserArgs,
}

/// The comment summariser (`README`, "Summaries of reader comments").
#[derive(Debug, Clone, Args)]
pub struct SummariserArgs {
    /// Who writes summaries by default: `extractive` (templates, no model), `local` (a GGUF
    /// model in process) or `openai` (an OpenAI-compatible server).
    #[arg(long = "summariser", env = "POLLTELLIGENCE_SUMMARISER", value_parser = BackendKind::parse, default_value = "extractive")]
    pub backend: BackendKind,

    /// For `openai`: the server's base URL, ending in `/v1`.
    #[arg(long = "summariser-url", env = "POLLTELLIGENCE_SUMMARISER_URL")]
    pub url: Option<String>,

    /// For `openai`: the model name the server knows.
    #[arg(long = "summariser-model", env = "POLLTELLIGENCE_SUMMARISER_MODEL")]
    pub model: Option<String>,

    /// For `openai`: the API key, if the server wants one.
    #[arg(long = "summariser-key", env = "POLLTELLIGENCE_SUMMARISER_KEY", hide_env_values = true)]
    pub key: Option<String>,

    /// For `openai`: requests in flight at once from this instance.
    #[arg(long = "summariser-concurrency", env = "POLLTELLIGENCE_SUMMARISER_CONCURRENCY", default_value_t = 4)]
    pub concurrency: usize,

    /// For `openai`: seconds one request (its whole streamed answer) may take.
    #[arg(long = "summariser-timeout", env = "POLLTELLIGENCE_SUMMARISER_TIMEOUT", default_value_t = 120)]
    pub timeout_s: u64,

    /// For `openai`: ask for a streamed answer (`false`: one JSON answer, for servers or proxies
    /// that buffer or refuse server-sent events).
    #[arg(long = "summariser-stream", env = "POLLTELLIGENCE_SUMMARISER_STREAM", default_value_t = true, action = clap::ArgAction::Set)]
    pub stream: bool,

    /// The model cache that `polltelligence models fetch` fills (embeddings, `local`).
    #[arg(long = "models", env = "POLLTELLIGENCE_MODELS")]
    pub models: Option<std::path::PathBuf>,

    /// Summaries this instance runs at once (0: none here; other instances run them).
    #[arg(long = "summary-workers", env = "POLLTELLIGENCE_SUMMARY_WORKERS", default_value_t = 1)]
    pub workers: usize,
}

impl Default for SummariserArgs {
    /// As with no flags and no environment: the extractive backend.
    fn default() -> Self {
        SummariserArgs {
            backend: BackendKind::EXTRACTIVE,
            url: None,
            model: None,
            key: None,
            concurrency: 4,
            timeout_s: 120,
            stream: true,
            models: None,
            workers: 1,
        }
    }
}

impl SummariserArgs {
    pub fn config(&self) -> Result<SummariserConfig, ConfigError> {
        let openai = match (&self.url, &self.model) {
            (Some(url), Some(model)) => {
                let parsed = url::Url::parse(url)
                    .map_err(|e| ConfigError::SummariserUrl { url: url.clone(), reason: e.to_string() })?;
                if !matches!(parsed.scheme(), "http" | "https") || !url.trim_end_matches('/').ends_with("/v1") {
                    return Err(ConfigError::SummariserUrlShape(url.clone()));
                }
                Some(OpenAiConfig {
                    base_url: url.trim_end_matches('/').to_owned(),
                    model: model.clone(),
                    key: self.key.clone().filter(|k| !k.is_empty()),
                    concurrency: self.concurrency.max(1),
                    timeout: std::time::Duration::from_secs(self.timeout_s.max(1)),
                    retries: 2,
                    stream: self.stream,
                })
            }
            (None, None) => None,
            _ => return Err(ConfigError::SummariserUrlWithoutModel),
        };
        let config = SummariserConfig {
            default: self.backend,
            openai,
            models: self.models.clone().unwrap_or_else(crate::summaries::models::default_dir),
            workers: self.workers.min(16),
            ..SummariserConfig::default()
        };
        // A default that cannot run would fail every summary: refuse to start instead.
        config
            .available(self.backend)
            .map_err(|why| ConfigError::SummariserUnavailable { backend: self.backend.as_str(), why })?;
        Ok(config)
    }
}

/// Why the server will not start with this configuration; each names the setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("POLLTELLIGENCE_SUMMARISER_URL is not a URL ({reason}): {url:?}")]
    SummariserUrl { url: String, reason: String },
    #[error("POLLTELLIGENCE_SUMMARISER_URL must be an http(s) base URL ending in /v1 (got {0:?})")]
    SummariserUrlShape(String),
    #[error("POLLTELLIGENCE_SUMMARISER_URL and POLLTELLIGENCE_SUMMARISER_MODEL go together")]
    SummariserUrlWithoutModel,
    #[error("POLLTELLIGENCE_SUMMARISER={backend}: {why}")]
    SummariserUnavailable { backend: &'static str, why: crate::summaries::backends::Unavailable },
    #[error("POLLTELLIGENCE_TRUSTED_PROXIES takes addresses or CIDRs such as 10.0.0.0/8 (got {0:?})")]
    TrustedProxy(String),
    #[error("set POLLTELLIGENCE_SECRET or POLLTELLIGENCE_SECRET_FILE, not both")]
    TwoSecrets,
    #[error("cannot read the secret file {path}: {reason}")]
    SecretFile { path: String, reason: String },
    #[error("the secret file {0} is empty")]
    EmptySecretFile(String),
    #[error("POLLTELLIGENCE_SECRET (and each previous secret) must be at least 32 characters")]
    ShortSecret,
    #[error("POLLTELLIGENCE_MAX_CONNECTIONS, _REQUEST_TIMEOUT and _IDLE_TIMEOUT must be above 0")]
    ZeroLimit,
    #[error("POLLTELLIGENCE_PUBLIC_URL must be a scheme and host without a path, like https://polls.example.com (got {0:?})")]
    PublicUrl(String),
    #[error("POLLTELLIGENCE_FRAME_ANCESTORS takes origins like https://news.example.com (got {0:?})")]
    FrameAncestor(String),
    #[error("DATABASE_URL must start with sqlite: or postgres:// (got {0:?})")]
    DatabaseUrl(String),
}

/// CIDRs of trusted reverse proxies.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<ipnet::IpNet>);

impl TrustedProxies {
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }
}

pub fn parse_proxies(list: &str) -> Result<TrustedProxies, ConfigError> {
    list.split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(|entry| {
            // A bare address is a network of one.
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError::TrustedProxy(entry.to_owned()))
        })
        .collect::<Result<_, _>>()
        .map(TrustedProxies)
}

impl Config {
    /// The signing keys from the environment or the secret file (`serve` calls this; keys
    /// are never flags). An empty or unreadable file is an error, not "generate one".
    pub fn read_secrets(&mut self) -> Result<(), ConfigError> {
        let from_env = std::env::var("POLLTELLIGENCE_SECRET").ok().filter(|s| !s.is_empty());
        self.secret = match (&self.secret_file, from_env) {
            (Some(_), Some(_)) => return Err(ConfigError::TwoSecrets),
            (Some(path), None) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError::SecretFile { path: path.display().to_string(), reason: e.to_string() })?;
                let key = text.lines().next().unwrap_or_default().trim().to_owned();
                if key.is_empty() {
                    return Err(ConfigError::EmptySecretFile(path.display().to_string()));
                }
                Some(key)
            }
            (None, from_env) => from_env.or(self.secret.take()),
        };
        if let Ok(previous) = std::env::var("POLLTELLIGENCE_SECRET_PREVIOUS") {
            self.previous_secrets = previous.split_whitespace().map(str::to_owned).collect();
        }
        Ok(())
    }

    /// `POLLTELLIGENCE_DEMO=0` is the environment's way of saying `--no-demo`.
    pub fn load_demo(&self) -> bool {
        !self.no_demo && std::env::var("POLLTELLIGENCE_DEMO").map_or(true, |v| v != "0" && v != "false")
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.secret.iter().chain(&self.previous_secrets).any(|secret| secret.len() < 32) {
            return Err(ConfigError::ShortSecret);
        }
        if self.max_connections == 0 || self.request_timeout_s == 0 || self.idle_timeout_s == 0 {
            return Err(ConfigError::ZeroLimit);
        }
        if let Some(public) = &self.public_url {
            let rest = public.strip_prefix("https://").or_else(|| public.strip_prefix("http://"));
            if rest.is_none_or(|host| host.is_empty() || host.contains(['/', '?', '#', ' '])) {
                return Err(ConfigError::PublicUrl(public.clone()));
            }
        }
        if let Some(origins) = &self.frame_ancestors {
            if let Some(bad) = origins
                .split_whitespace()
                .find(|o| !(o.starts_with("https://") || o.starts_with("http://")) || o.contains([';', ',', '\'', '"']))
            {
                return Err(ConfigError::FrameAncestor(bad.to_owned()));
            }
        }
        let url = &self.database_url;
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError::DatabaseUrl(url.clone()));
        }
        Ok(())
    }
}
