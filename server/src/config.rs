//! Everything the server reads from its environment and flags, validated at start.

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

    /// Key that signs voter cookies (at least 32 characters). Generated and kept in the
    /// database when not given, so every instance on one database shares it.
    #[arg(long, env = "POLLTELLIGENCE_SECRET", hide_env_values = true)]
    pub secret: Option<String>,

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
}

impl Config {
    /// `POLLTELLIGENCE_DEMO=0` is the environment's way of saying `--no-demo`.
    pub fn load_demo(&self) -> bool {
        !self.no_demo && std::env::var("POLLTELLIGENCE_DEMO").map_or(true, |v| v != "0" && v != "false")
    }

    pub fn validate(&self) -> Result<(), String> {
        if let Some(secret) = &self.secret {
            if secret.len() < 32 {
                return Err("POLLTELLIGENCE_SECRET must be at least 32 characters".into());
            }
        }
        if let Some(public) = &self.public_url {
            let rest = public.strip_prefix("https://").or_else(|| public.strip_prefix("http://"));
            if rest.is_none_or(|host| host.is_empty() || host.contains(['/', '?', '#', ' '])) {
                return Err(format!(
                    "POLLTELLIGENCE_PUBLIC_URL must be a scheme and host without a path, like https://polls.example.com (got {public:?})"
                ));
            }
        }
        if let Some(origins) = &self.frame_ancestors {
            if let Some(bad) = origins
                .split_whitespace()
                .find(|o| !(o.starts_with("https://") || o.starts_with("http://")) || o.contains([';', ',', '\'', '"']))
            {
                return Err(format!(
                    "POLLTELLIGENCE_FRAME_ANCESTORS takes origins like https://news.example.com (got {bad:?})"
                ));
            }
        }
        let url = &self.database_url;
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(format!("DATABASE_URL must start with sqlite: or postgres:// (got {url:?})"));
        }
        Ok(())
    }
}
