//! The operations the pages and the public API share. Defined here, implemented by the
//! server crate, so the browser build never sees the database.

use crate::api::{ArchiveEntry, HomePage, PollPage};
use crate::domain::{
    ApiTokenView, AppError, AuditView, Dashboard, EditorIdentity, EditorPoll, PollDraft, PollStatus, PollView,
    ResultsView, ShareKit, Transition, VoteReceipt, VoteSource,
};
use std::net::IpAddr;
use std::sync::Arc;

/// Who is asking: the voter from the signed cookie, the client address (for rate limits) and,
/// for a vote from a signed email link, the newsletter subscriber (a keyed hash of their id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub voter: String,
    pub ip: IpAddr,
    pub subscriber: Option<String>,
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

/// What editors do with polls. The signed-in editor (`by`) is named on every change, for
/// the audit log.
#[async_trait::async_trait]
pub trait EditorService: Send + Sync + 'static {
    /// Every poll, drafts included, newest first.
    async fn polls(&self) -> Result<Vec<EditorPoll>, AppError>;
    async fn poll(&self, id: i64) -> Result<EditorPoll, AppError>;
    async fn dashboard(&self, id: i64) -> Result<Dashboard, AppError>;
    async fn create_poll(&self, by: &EditorIdentity, draft: PollDraft) -> Result<EditorPoll, AppError>;
    async fn update_poll(&self, by: &EditorIdentity, id: i64, draft: PollDraft) -> Result<EditorPoll, AppError>;
    async fn transition(&self, by: &EditorIdentity, id: i64, transition: Transition) -> Result<EditorPoll, AppError>;
    /// Next week's draft of poll `id`.
    async fn duplicate(&self, by: &EditorIdentity, id: i64) -> Result<EditorPoll, AppError>;
    async fn set_comment_hidden(
        &self,
        by: &EditorIdentity,
        poll: i64,
        comment: i64,
        hidden: bool,
    ) -> Result<(), AppError>;
    async fn audit_log(&self) -> Result<Vec<AuditView>, AppError>;
    async fn api_tokens(&self, by: &EditorIdentity) -> Result<Vec<ApiTokenView>, AppError>;
    /// Links, snippets and email blocks for poll `id`, with addresses on `origin`.
    async fn share_kit(&self, id: i64, origin: &str) -> Result<ShareKit, AppError>;
}

pub type SharedEditorService = Arc<dyn EditorService>;

/// The site's public address for a request (`https://polls.example.com`): links that leave
/// the site (social cards, oEmbed, snippets) need it absolute. Provided by the server.
#[derive(Clone)]
pub struct PublicOrigin(pub Arc<dyn Fn(&axum::http::HeaderMap) -> String + Send + Sync>);
