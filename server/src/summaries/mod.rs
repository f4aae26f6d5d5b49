//! The comment summariser (`server/src/http/CONTRACT.md`, "Summaries"): a room of its own, reached through one
//! service (`Summaries`) and one worker (`jobs`).
//! - `pipeline`: comments → embeddings → themes per option → quotes → counts → prose → checks;
//! - `embed`, `cluster`, `themes`: sentence vectors (MiniLM through candle, or hashed words),
//!   seeded k-means, and the rules that find an answer's reasons and what fits none;
//! - `backends`: who writes titles and the overview (`extractive` templates, a `local` GGUF
//!   model in process, or an `openai`-compatible server), behind `Writer`;
//! - `checks`: what every summary must pass, whichever backend wrote it and after an editor's
//!   edits; `privacy`: masking before text leaves the server;
//! - `models`: the model cache and `polltelligence models fetch`;
//! - `jobs`: summaries as database jobs, run by a worker in each server instance;
//! - `fixtures`, `evaluate`, `argkp`: fixture polls with references, the quality score, the
//!   benchmark, and the figures on IBM's ArgKP-2021 beside a TF-IDF baseline.

pub mod argkp;
pub mod backends;
pub mod checks;
pub mod cluster;
pub mod embed;
pub mod evaluate;
pub mod fixtures;
pub mod jobs;
pub mod models;
pub mod pipeline;
pub mod privacy;
pub mod skeleton;
pub mod themes;
pub mod view;
mod worker;

pub use backends::{BackendKind, SummariserConfig};
pub use jobs::Summaries;

/// Titles (one per theme, in order) and the overview: all a writer may contribute.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prose {
    pub titles: Vec<String>,
    pub overview: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error("{0}")]
    Model(String),
    #[error("the poll is gone")]
    PollGone,
    #[error("storage failed: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Internal(String),
}

/// Why a writer produced nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the model server did not answer in time ({0})")]
    Timeout(String),
    #[error("the model server answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the model server could not be reached: {0}")]
    Transport(String),
    #[error("the model's answer was not usable: {0}")]
    Garbage(String),
    #[error("{0}")]
    Unavailable(String),
}

impl WriteError {
    /// Worth the pipeline's one retry: the model may write a usable answer next time. (A
    /// server that is down or slow has had its own retries, in the backend.)
    pub fn retryable(&self) -> bool {
        matches!(self, WriteError::Garbage(_))
    }
}

/// Writes titles and the overview over a skeleton whose facts are fixed.
#[async_trait::async_trait]
pub trait Writer: Send + Sync {
    /// `extractive`, `local` or `openai`.
    fn backend(&self) -> &'static str;
    fn model(&self) -> String;
    fn parameters(&self) -> serde_json::Value;
    /// `feedback`: why the previous draft failed the checks, for the one retry.
    async fn write(&self, skeleton: &skeleton::Skeleton, feedback: Option<&[String]>) -> Result<Prose, WriteError>;
    /// Tokens generated so far and the time that took, for writers that generate in process.
    fn stats(&self) -> Option<(usize, std::time::Duration)> {
        None
    }
}
