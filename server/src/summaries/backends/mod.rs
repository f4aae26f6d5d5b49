//! Who writes titles and the overview. Every backend writes on top of the same skeleton
//! (themes, counts, quotes chosen by code) and every draft goes through the same checks.
//! - `extractive`: templates over the skeleton; deterministic, no model, always available;
//!   the default and the fallback;
//! - `local`: a small instruction-tuned GGUF model run in process with candle (CPU, or an
//!   NVIDIA GPU in a `--features cuda` build);
//! - `openai`: any OpenAI-compatible chat-completions server (vLLM, llama.cpp, SGLang).

mod extractive;
#[cfg(feature = "ml")]
pub mod local;
pub mod openai;
pub mod prompt;

pub use extractive::Extractive;

use super::Writer;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A backend: its name, what editors are shown, whether it can run with these settings, and its
/// writer. Each backend's file declares its own; [`ALL`] lists them.
pub struct Backend {
    pub name: &'static str,
    pub label: &'static str,
    /// Checked on every use, not once: a model fetched after start-up becomes usable.
    pub available: fn(&SummariserConfig) -> Result<(), Unavailable>,
    /// Its writer, made once per server (models load on first use); `None` where these settings
    /// leave it out.
    pub make: fn(&SummariserConfig) -> Option<Arc<dyn Writer>>,
}

/// Every backend, in the order editors are offered them: a new backend is its own file and one
/// line here. (`local` needs the in-process model build, feature "ml".)
pub const ALL: &[&Backend] = &[
    &extractive::BACKEND,
    #[cfg(feature = "ml")]
    &local::BACKEND,
    &openai::BACKEND,
];

/// A backend's name, known to be one of [`ALL`] (made only by [`BackendKind::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendKind(&'static Backend);

impl BackendKind {
    pub const EXTRACTIVE: BackendKind = BackendKind(&extractive::BACKEND);

    pub fn as_str(self) -> &'static str {
        self.0.name
    }

    pub fn backend(self) -> &'static Backend {
        self.0
    }

    /// Every backend of [`ALL`], in its order.
    pub fn all() -> impl Iterator<Item = BackendKind> {
        ALL.iter().map(|b| BackendKind(b))
    }

    pub fn parse(raw: &str) -> Result<Self, UnknownBackend> {
        Self::all().find(|k| k.as_str() == raw).ok_or_else(|| UnknownBackend { given: raw.to_owned() })
    }
}

impl PartialEq for Backend {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Backend {}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown backend {given:?}: this server knows {}", known())]
pub struct UnknownBackend {
    pub given: String,
}

fn known() -> String {
    ALL.iter().map(|b| format!("{:?}", b.name)).collect::<Vec<_>>().join(", ")
}

/// The summariser's settings (`config.rs` reads them from the environment and flags).
#[derive(Debug, Clone)]
pub struct SummariserConfig {
    pub default: BackendKind,
    pub openai: Option<openai::OpenAiConfig>,
    /// The model cache (`polltelligence models fetch` fills it).
    pub models: PathBuf,
    /// How long a worker's claim on a job lasts without a sign of life.
    pub lease: Duration,
    /// Summaries running at once in this instance (0: none; tests run jobs by hand).
    pub workers: usize,
    /// How often closed polls are looked for, to summarise them (per-poll setting, on by
    /// default); `None`: never.
    pub close_scan: Option<Duration>,
}

impl Default for SummariserConfig {
    fn default() -> Self {
        SummariserConfig {
            default: BackendKind::EXTRACTIVE,
            openai: None,
            models: super::models::default_dir(),
            lease: Duration::from_secs(30),
            workers: 1,
            close_scan: Some(Duration::from_secs(15)),
        }
    }
}

impl SummariserConfig {
    /// Whether `kind` can run here (each backend says: `local` needs its model file, `openai`
    /// a configured server).
    pub fn available(&self, kind: BackendKind) -> Result<(), Unavailable> {
        (kind.backend().available)(self)
    }
}

/// Why a backend cannot run on this server (`backend_unavailable`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("the openai backend needs POLLTELLIGENCE_SUMMARISER_URL and _MODEL")]
    NoServer,
    #[error("the local model is not in {}: run `polltelligence models fetch`", .0.display())]
    NoModelFile(std::path::PathBuf),
}
