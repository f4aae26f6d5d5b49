//! The Polltelligence server: storage, services and HTTP around the `app` crate.

pub mod backup;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod html;
pub mod http;
pub mod import;
pub mod metrics;
pub mod net;
pub mod networks;
pub mod services;
pub mod store;
pub mod summaries;

use crate::config::Config;
use crate::http::voter::VoterKey;
use crate::http::AppState;
use crate::services::{Auth, Authoring, Clock, Polls, RateLimiter, SystemClock};
use leptos::prelude::LeptosOptions;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("storage: {0}")]
    Store(#[from] store::StoreError),
    #[error("cannot prepare sign-in: {0}")]
    Auth(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    addr: SocketAddr,
    store: Arc<dyn store::Store>,
    summaries: Arc<summaries::Summaries>,
    limits: net::Limits,
}

impl Application {
    /// Connects storage (applying migrations), loads demo content into an empty
    /// database if asked, and binds the listener. Port 0 picks a free port.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        config.validate()?;
        let summariser = config.summariser.config()?;
        Self::build_with(config, clock, summariser).await
    }

    /// Like `build_with_clock`, with the summariser's settings given (tests shorten its lease).
    pub async fn build_with(
        config: Config,
        clock: Arc<dyn Clock>,
        summariser: summaries::SummariserConfig,
    ) -> Result<Self, StartError> {
        config.validate()?;
        let store = store::connect(&config.database_url).await?;
        if config.load_demo() && demo::load_if_empty(&store, clock.now()).await? {
            tracing::info!("loaded demo polls into the empty database");
        }
        let secret = match &config.secret {
            Some(secret) => secret.clone(),
            None => store.secret("voter_cookie_key", &http::voter::new_voter_id().repeat(2)).await?,
        };
        // The current key signs; retired ones still verify until they are dropped.
        let keys: Vec<&str> =
            std::iter::once(secret.as_str()).chain(config.previous_secrets.iter().map(String::as_str)).collect();
        let metrics = Arc::new(metrics::Metrics::default());
        let summaries = summaries::Summaries::new(store.clone(), clock.clone(), summariser);
        let polls = Arc::new(Polls::new(
            store.clone(),
            clock.clone(),
            RateLimiter::new(config.rate_limit),
            metrics.clone(),
            summaries.clone(),
        ));
        polls.follow_other_instances();
        let auth = Auth::with_throttle(store.clone(), clock.clone(), config.sign_in_keys).await;
        let auth = Arc::new(auth.map_err(|e| StartError::Auth(e.to_string()))?);
        // Every connection is a descriptor: the caps must fit under the open-file limit, or
        // accepting fails ("Too many open files") and a client hangs instead of getting a 503.
        let files = net::raise_file_limit();
        let (max_connections, max_listeners) = net::fit_to_files(config.max_connections, config.max_listeners, files);
        if (max_connections, max_listeners) != (config.max_connections, config.max_listeners) {
            tracing::warn!(
                files,
                max_connections,
                max_listeners,
                "the open-file limit is too low for the configured connection caps; lowered them to fit \
                 (raise LimitNOFILE / ulimit -n to at least the caps plus {})",
                net::FILES_RESERVED
            );
        }
        let email_links = delivery::email::LinkKey::new(&keys);
        summaries.spawn();
        let authoring = Arc::new(Authoring::new(
            store.clone(),
            clock,
            polls.clone(),
            auth.clone(),
            email_links.clone(),
            summaries.clone(),
        ));
        let listener = TcpListener::bind(config.site_addr)
            .await
            .map_err(|source| StartError::Listen { addr: config.site_addr, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Listen { addr: config.site_addr, source })?;
        let leptos = LeptosOptions::builder()
            .output_name("polltelligence")
            .site_root(config.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build();
        let state = AppState::new(http::Shared {
            leptos,
            polls,
            auth,
            authoring,
            voter_key: VoterKey::new(&keys),
            email_links,
            secure_cookies: config.secure_cookies,
            public_url: config.public_url.as_deref().map(|u| u.trim_end_matches('/').into()),
            embed_frame_policy: http::embed_frame_policy(config.frame_ancestors.as_deref()),
            images: Arc::new(delivery::images::Images::default()),
            listeners: Arc::new(tokio::sync::Semaphore::new(max_listeners)),
            listeners_per_client: Arc::new(networks::PerClient::new(config.max_listeners_per_client)),
            metrics,
            metrics_token: config.metrics_token.clone().filter(|t| !t.is_empty()).map(Into::into),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            store: store.clone(),
            summaries: summaries.clone(),
            pages: Default::default(),
        });
        let proxies = config.trusted_proxies.clone();
        let limits = net::Limits {
            connections: max_connections,
            per_client: config.max_connections_per_client,
            exempt: Arc::new(move |ip| proxies.contains(ip.to_canonical())),
            request_timeout: std::time::Duration::from_secs(config.request_timeout_s),
            idle_timeout: std::time::Duration::from_secs(config.idle_timeout_s),
        };
        Ok(Application { listener, router: http::router(state), addr, store, summaries, limits })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The storage this server uses (tests create polls through it).
    pub fn store(&self) -> Arc<dyn store::Store> {
        self.store.clone()
    }

    /// The summariser (tests run its jobs by hand).
    pub fn summaries(&self) -> Arc<summaries::Summaries> {
        self.summaries.clone()
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        net::serve(self.listener, self.router, self.limits, shutdown).await
    }
}
