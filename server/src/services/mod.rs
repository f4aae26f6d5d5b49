//! What the pages and the JSON API both call. Rules come from `app::domain`; storage from
//! `crate::store`; this layer sequences them and turns storage failures into `Internal`.

pub mod auth;
mod authoring;
pub mod live;
mod rate_limit;
mod throttle;

pub use auth::{Auth, EditorAccess};
pub use authoring::Authoring;
pub use rate_limit::RateLimiter;

use crate::metrics::Metrics;
use crate::store::{NewVote, Store, StoreError};
use app::services::{ArchiveEntry, ArchivePage, HomePage, PollLink, PollPage, ARCHIVE_PAGE_SIZE};

use app::domain::{
    AppError, Ballot, Poll, PollStatus, PollView, ResultsView, Slug, Tally, VoteOutcome, VoteReceipt, VoteSource,
    VoterChoices,
};
use app::services::{Reader, ReaderService};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub use crate::clock::{Clock, SystemClock};

/// Polls change rarely and are read on every vote; a short cache keeps votes off the
/// database's read path while editors' changes still show within seconds everywhere.
const POLL_TTL: Duration = Duration::from_secs(2);

pub struct Polls {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    limiter: RateLimiter,
    metrics: Arc<Metrics>,
    /// Readers see a closed poll's approved summary with its final results.
    summaries: app::services::SharedSummaryService,
    by_slug: RwLock<HashMap<Slug, (Instant, Arc<Poll>)>>,
    live: live::LiveHub,
    /// Counts editors' changes made here, so renders made before one are not reused.
    edits: std::sync::atomic::AtomicU64,
}

fn internal(e: StoreError) -> AppError {
    if e.is_unavailable() {
        // The database is down or restarting: a 503 tells clients and balancers to retry.
        tracing::warn!(error = %e, "storage unavailable");
        return AppError::Unavailable;
    }
    tracing::error!(error = %e, "storage failure");
    AppError::Internal
}

impl Polls {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        limiter: RateLimiter,
        metrics: Arc<Metrics>,
        summaries: app::services::SharedSummaryService,
    ) -> Self {
        Polls {
            store,
            clock,
            limiter,
            metrics,
            summaries,
            by_slug: RwLock::default(),
            live: live::LiveHub::default(),
            edits: Default::default(),
        }
    }

    /// Follows votes committed by other instances (PostgreSQL), so live listeners here see
    /// them too. Runs until the store's feed ends.
    pub fn follow_other_instances(self: &Arc<Self>) {
        let Some(mut feed) = self.store.vote_feed() else { return };
        let polls = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let notice = feed.recv().await;
                let Some(polls) = polls.upgrade() else { return };
                match notice {
                    Ok(Some(poll)) => polls.live.touch(poll),
                    Ok(None) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => polls.live.touch_all(),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }

    /// An editor changed something readers may see (the editor guard calls this after every
    /// successful write).
    pub fn note_edit(&self) {
        self.edits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many editors' changes this instance has made: a page rendered before the count
    /// moved may show a poll as it was.
    pub fn edits(&self) -> u64 {
        self.edits.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The published poll at `slug` (cached for a moment).
    pub async fn find(&self, slug: &str) -> Result<Arc<Poll>, AppError> {
        let slug = Slug::parse(slug).map_err(|_| AppError::PollNotFound)?;
        if let Some((at, poll)) = self.by_slug.read().expect("poll cache lock").get(&slug) {
            if at.elapsed() < POLL_TTL {
                return Ok(poll.clone());
            }
        }
        let poll = self.store.poll_by_slug(&slug).await.map_err(internal)?;
        let poll = Arc::new(poll.filter(Poll::is_public).ok_or(AppError::PollNotFound)?);
        self.by_slug.write().expect("poll cache lock").insert(slug, (Instant::now(), poll.clone()));
        Ok(poll)
    }

    /// Drops a cached poll after an editor changed it, so this instance shows the change at once.
    pub fn forget(&self, slug: &Slug) {
        self.by_slug.write().expect("poll cache lock").remove(slug);
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The poll's status and its results as the public sees them (no vote of their own):
    /// what images and other public copies may show.
    pub async fn public_results(&self, poll: &Poll) -> Result<(PollStatus, Option<ResultsView>), AppError> {
        let now = self.clock.now();
        let status = poll.status_at(now);
        let results =
            if poll.results_visible(status, false) { Some(self.results_view(poll, now, false).await?) } else { None };
        Ok((status, results))
    }

    /// A poll's results as live listeners get them, whoever may see them; `fresh` after a
    /// notice of a change (the poll and its counts read past this instance's short caches:
    /// the change may have been made on another instance).
    async fn live_results(&self, slug: &str, fresh: bool) -> Result<ResultsView, AppError> {
        if fresh {
            if let Ok(slug) = Slug::parse(slug) {
                self.forget(&slug);
            }
        }
        let poll = self.find(slug).await?;
        self.results_view(&poll, self.clock.now(), fresh).await
    }

    /// Whether this reader may see the poll's results now.
    pub async fn may_see_results(&self, poll: &Poll, reader: &Reader) -> Result<bool, AppError> {
        let status = poll.status_at(self.clock.now());
        Ok(poll.results_visible(status, false)
            || (poll.results_visible(status, true)
                && self.store.vote_of(poll.id, &reader.voter).await.map_err(internal)?.is_some()))
    }

    async fn results_view(&self, poll: &Poll, now: DateTime<Utc>, after_vote: bool) -> Result<ResultsView, AppError> {
        let counts =
            if after_vote { self.store.counts_after_vote(poll.id).await } else { self.store.counts(poll.id).await }
                .map_err(internal)?;
        let rows = counts.by_option.iter().map(|(id, n)| (*id, *n));
        Ok(Tally::from_rows(poll, counts.total, rows).view(poll, now))
    }

    /// The page for one reader: their vote, and results if the poll's rule allows.
    async fn page_for(&self, poll: &Poll, reader: &Reader, now: DateTime<Utc>) -> Result<PollPage, AppError> {
        let my_vote = self.store.vote_of(poll.id, &reader.voter).await.map_err(internal)?;
        let status = poll.status_at(now);
        let results = if poll.results_visible(status, my_vote.is_some()) {
            Some(self.results_view(poll, now, false).await?)
        } else {
            None
        };
        // Readers see an approved summary only with final results.
        let summary = if status == PollStatus::Closed && results.is_some() {
            self.summaries.approved(poll.id).await?
        } else {
            None
        };
        Ok(PollPage {
            poll: poll.view(now),
            my_vote,
            results,
            origin: String::new(),
            summary,
            next_poll: None,
            retry: None,
        })
    }

    /// The most recently opened poll that is open now, other than `poll`.
    async fn next_poll(&self, poll: &Poll, now: DateTime<Utc>) -> Result<Option<PollLink>, AppError> {
        let polls = self.published().await?;
        let next = polls.iter().find(|p| p.id != poll.id && p.status_at(now) == PollStatus::Open);
        Ok(next.map(|p| PollLink { slug: p.slug.clone(), question: p.question.clone() }))
    }

    async fn archive_entry(&self, poll: &Poll, now: DateTime<Utc>) -> Result<ArchiveEntry, AppError> {
        let results = if poll.results_visible(PollStatus::Closed, false) {
            Some(self.results_view(poll, now, false).await?)
        } else {
            None
        };
        Ok(ArchiveEntry { poll: poll.view(now), results })
    }

    async fn published(&self) -> Result<Vec<Poll>, AppError> {
        self.store.published_polls().await.map_err(internal)
    }
}

#[async_trait::async_trait]
impl ReaderService for Polls {
    async fn list_polls(&self, status: Option<PollStatus>) -> Result<Vec<PollView>, AppError> {
        let now = self.clock.now();
        Ok(self
            .published()
            .await?
            .iter()
            .filter(|p| status.is_none_or(|s| p.status_at(now) == s))
            .map(|p| p.view(now))
            .collect())
    }

    async fn poll(&self, slug: &str) -> Result<PollView, AppError> {
        Ok(self.find(slug).await?.view(self.clock.now()))
    }

    async fn results(&self, slug: &str, reader: &Reader) -> Result<ResultsView, AppError> {
        let poll = self.find(slug).await?;
        if !self.may_see_results(&poll, reader).await? {
            return Err(AppError::ResultsHidden);
        }
        self.results_view(&poll, self.clock.now(), false).await
    }

    async fn poll_page(&self, slug: &str, reader: &Reader) -> Result<PollPage, AppError> {
        let poll = self.find(slug).await?;
        let now = self.clock.now();
        let mut page = self.page_for(&poll, reader, now).await?;
        page.next_poll = self.next_poll(&poll, now).await?;
        Ok(page)
    }

    async fn home(&self, reader: &Reader) -> Result<HomePage, AppError> {
        let now = self.clock.now();
        let polls = self.published().await?;
        let mut open = polls.iter().filter(|p| p.status_at(now) == PollStatus::Open);
        let featured = match open.next() {
            Some(poll) => Some(self.page_for(poll, reader, now).await?),
            None => None,
        };
        let also_open: Vec<PollView> = open.map(|p| p.view(now)).collect();
        let featured = featured.map(|mut page| {
            page.next_poll = also_open.first().map(|p| PollLink { slug: p.slug.clone(), question: p.question.clone() });
            page
        });
        let latest_results = match polls.iter().find(|p| p.status_at(now) == PollStatus::Closed) {
            Some(poll) => Some(self.archive_entry(poll, now).await?),
            None => None,
        };
        Ok(HomePage { featured, also_open, latest_results })
    }

    async fn archive(&self, page: usize) -> Result<ArchivePage, AppError> {
        let now = self.clock.now();
        let polls = self.published().await?;
        let closed: Vec<&Poll> = polls.iter().filter(|p| p.status_at(now) == PollStatus::Closed).collect();
        let pages = closed.len().div_ceil(ARCHIVE_PAGE_SIZE).max(1);
        let page = page.clamp(1, pages);
        let mut entries = Vec::new();
        for poll in closed.iter().skip((page - 1) * ARCHIVE_PAGE_SIZE).take(ARCHIVE_PAGE_SIZE) {
            entries.push(self.archive_entry(poll, now).await?);
        }
        Ok(ArchivePage { entries, page, pages })
    }

    async fn cast_vote(
        &self,
        slug: &str,
        reader: &Reader,
        choices: &[String],
        comment: Option<&str>,
        source: VoteSource,
    ) -> Result<VoteReceipt, AppError> {
        let result = self.vote(slug, reader, choices, comment, source).await;
        self.metrics.vote_result(&result);
        result
    }
}

impl Polls {
    async fn vote(
        &self,
        slug: &str,
        reader: &Reader,
        choices: &[String],
        comment: Option<&str>,
        source: VoteSource,
    ) -> Result<VoteReceipt, AppError> {
        if !self.limiter.allow(reader.ip) {
            return Err(AppError::RateLimited);
        }
        let poll = self.find(slug).await?;
        let now = self.clock.now();
        match poll.status_at(now) {
            PollStatus::Open => {}
            status => return Err(AppError::PollNotOpen(status)),
        }
        let ballot = Ballot::parse(&poll, choices, comment)?;
        let option_ids = ballot.choices().iter().filter_map(|key| poll.option(key.as_str()).map(|o| o.id)).collect();
        let vote = NewVote {
            poll: poll.id,
            voter: reader.voter.clone(),
            option_ids,
            comment: ballot.comment().map(|c| c.as_str().to_owned()),
            source,
            at: now,
            // A vote from an email link is once per subscriber, never a change.
            replace: poll.allow_vote_change && reader.subscriber.is_none(),
            subscriber: reader.subscriber.clone(),
        };
        let outcome = self.store.record_vote(vote).await.map_err(internal)?;
        if !matches!(outcome, VoteOutcome::AlreadyVoted(_)) {
            self.live.touch(poll.id);
        }
        let (choices, recorded, changed) = match outcome {
            VoteOutcome::Recorded => (ballot.choices().to_vec(), true, false),
            VoteOutcome::Changed { .. } => (ballot.choices().to_vec(), false, true),
            VoteOutcome::AlreadyVoted(stored) => (stored, false, false),
        };
        let results = if poll.results_visible(PollStatus::Open, true) {
            Some(self.results_view(&poll, now, true).await?)
        } else {
            None
        };
        Ok(VoteReceipt { vote: VoterChoices { choices }, results, recorded, changed })
    }
}
