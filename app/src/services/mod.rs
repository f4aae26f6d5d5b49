//! The operations the pages, server functions and the public API share, and what they
//! answer. The traits are implemented by the server crate, so the browser build never sees
//! the database; the answers (`pages`, `editor`) travel to the browser too.

mod editor;
mod export;
mod pages;

pub use editor::{CommentView, Dashboard, EditorPoll, SignInRetry, SourceCount, TimelinePoint};
pub use export::{comments_csv, results_csv};
pub use pages::{ArchiveEntry, ArchivePage, BallotRetry, HomePage, PollLink, PollPage, ARCHIVE_PAGE_SIZE};

#[cfg(feature = "ssr")]
pub use traits::*;

#[cfg(feature = "ssr")]
mod traits {
    use super::{ArchivePage, Dashboard, EditorPoll, HomePage, PollPage};
    use crate::domain::{
        ApiTokenView, AppError, AuditView, EditorIdentity, PollAction, PollDraft, PollId, PollStatus, PollView,
        ResultsView, ShareKit, SummaryEdits, SummaryView, VoteReceipt, VoteSource,
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
        /// Page `page` (from 1) of the closed polls; a page past the end is the last page.
        async fn archive(&self, page: usize) -> Result<ArchivePage, AppError>;
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
        async fn poll(&self, id: PollId) -> Result<EditorPoll, AppError>;
        async fn dashboard(&self, id: PollId) -> Result<Dashboard, AppError>;
        async fn create_poll(&self, by: &EditorIdentity, draft: PollDraft) -> Result<EditorPoll, AppError>;
        async fn update_poll(&self, by: &EditorIdentity, id: PollId, draft: PollDraft) -> Result<EditorPoll, AppError>;
        /// A workflow step, or next week's draft (`PollAction::Duplicate`: the copy comes back).
        async fn act(&self, by: &EditorIdentity, id: PollId, action: PollAction) -> Result<EditorPoll, AppError>;
        async fn set_comment_hidden(
            &self,
            by: &EditorIdentity,
            poll: PollId,
            comment: i64,
            hidden: bool,
        ) -> Result<(), AppError>;
        async fn audit_log(&self) -> Result<Vec<AuditView>, AppError>;
        async fn api_tokens(&self, by: &EditorIdentity) -> Result<Vec<ApiTokenView>, AppError>;
        /// Links, snippets and email blocks for poll `id`, with addresses on `origin`.
        async fn share_kit(&self, id: PollId, origin: &str) -> Result<ShareKit, AppError>;
    }

    pub type SharedEditorService = Arc<dyn EditorService>;

    /// Summaries of a poll's reader comments: queued by an editor (or when the poll closes),
    /// made by a worker, checked, then approved for readers.
    #[async_trait::async_trait]
    pub trait SummaryService: Send + Sync + 'static {
        /// The backends this server can run, the default first: name and what editors are shown.
        fn backends(&self) -> Vec<(String, String)>;
        /// Queues a summary of `poll` with `backend` (`None`: the default), or returns the one
        /// in progress (`false`).
        async fn start(
            &self,
            poll: i64,
            backend: Option<&str>,
            by: Option<&EditorIdentity>,
        ) -> Result<(SummaryView, bool), AppError>;
        async fn get(&self, id: i64) -> Result<SummaryView, AppError>;
        /// The poll's summaries, newest first.
        async fn list(&self, poll: i64) -> Result<Vec<SummaryView>, AppError>;
        /// The summary readers see with the poll's final results.
        async fn approved(&self, poll: PollId) -> Result<Option<SummaryView>, AppError>;
        async fn summarise_on_close(&self, poll: i64) -> Result<bool, AppError>;
        async fn set_summarise_on_close(&self, by: &EditorIdentity, poll: i64, on: bool) -> Result<(), AppError>;
        /// Checks the edited summary again and shows it to readers.
        async fn approve(&self, id: i64, by: &EditorIdentity, edits: SummaryEdits) -> Result<SummaryView, AppError>;
    }

    pub type SharedSummaryService = Arc<dyn SummaryService>;

    /// The site's public address for a request (`https://polls.example.com`): links that leave
    /// the site (social cards, oEmbed, snippets) need it absolute. Provided by the server.
    #[derive(Clone)]
    pub struct PublicOrigin(pub Arc<dyn Fn(&axum::http::HeaderMap) -> String + Send + Sync>);
}
