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

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Extractive,
    Local,
    Openai,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Extractive => "extractive",
            BackendKind::Local => "local",
            BackendKind::Openai => "openai",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [BackendKind::Extractive, BackendKind::Local, BackendKind::Openai].into_iter().find(|k| k.as_str() == raw)
    }
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
            default: BackendKind::Extractive,
            openai: None,
            models: super::models::default_dir(),
            lease: Duration::from_secs(30),
            workers: 1,
            close_scan: Some(Duration::from_secs(15)),
        }
    }
}

impl SummariserConfig {
    /// Whether `kind` can run here: `local` needs an in-process model build and its file,
    /// `openai` a configured server.
    pub fn available(&self, kind: BackendKind) -> Result<(), Unavailable> {
        match kind {
            BackendKind::Extractive => Ok(()),
            BackendKind::Openai if self.openai.is_some() => Ok(()),
            BackendKind::Openai => Err(Unavailable::NoServer),
            BackendKind::Local if !cfg!(feature = "ml") => Err(Unavailable::NoModels),
            BackendKind::Local => {
                let file = super::models::generator_path(&self.models);
                if file.exists() {
                    Ok(())
                } else {
                    Err(Unavailable::NoModelFile(file))
                }
            }
        }
    }
}

/// Why a backend cannot run on this server (`backend_unavailable`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("the openai backend needs POLLTELLIGENCE_SUMMARISER_URL and _MODEL")]
    NoServer,
    #[error("this server was built without in-process models (feature \"ml\")")]
    NoModels,
    #[error("the local model is not in {}: run `polltelligence models fetch`", .0.display())]
    NoModelFile(std::path::PathBuf),
}
