//! The operations the pages and the public API share. Defined here, implemented by the
//! server crate, so the browser build never sees the database.

use crate::api::{ArchiveEntry, HomePage, PollPage};
use crate::domain::{AppError, PollStatus, PollView, ResultsView, VoteReceipt, VoteSource};
use std::net::IpAddr;
use std::sync::Arc;

/// Who is asking: the voter from the signed cookie and the client address (for rate limits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub voter: String,
    pub ip: IpAddr,
}

#[async_trait::async_trait]
pub trait ReaderService: Send + Sync + 'static {
    /// Published polls, newest first; `None` lists every status.
    async fn list_polls(&self, status: Option<PollStatus>) -> Result<Vec<PollView>, AppError>;
    async fn poll(&self, slug: &str) -> Result<PollView, AppError>;
    async fn results(&self, slug: &str, reader: &Reader) -> Result<ResultsView, AppError>;
    async fn poll_page(&self, slug: &str, reader: &Reader) -> Result<PollPage, AppError>;
    async fn home(&self, reader: &Reader) -> Result<HomePage, AppError>;
    async fn archive(&self) -> Result<Vec<ArchiveEntry>, AppError>;
    async fn cast_vote(
        &self,
        slug: &str,
        reader: &Reader,
        choices: &[String],
        comment: Option<&str>,
        source: VoteSource,
    ) -> Result<VoteReceipt, AppError>;
}

pub type SharedReaderService = Arc<dyn ReaderService>;
