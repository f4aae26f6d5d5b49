//! Poll authoring and the results dashboard: what editors' pages, forms and API call.
//! Rules come from `app::domain` (drafts, stages, edit guards); this layer sequences
//! them with storage and writes the audit log with every change.

use super::auth::Auth;
use super::{internal, Clock, Polls};
use crate::store::{NewAudit, Store, StoreError};
use app::domain::{
    slug_candidates, ApiTokenView, AppError, AuditAction, AuditView, EditorIdentity, NewPoll, Poll, PollAction,
    PollDraft, PollError, PollId, Publication, ShareKit, Slug, Transition, VoteSource,
};
use app::services::EditorService;
use app::services::{CommentView, Dashboard, EditorPoll, SourceCount, TimelinePoint};
use std::sync::Arc;

const AUDIT_LINES: i64 = 500;

pub struct Authoring {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    polls: Arc<Polls>,
    auth: Arc<Auth>,
    links: crate::delivery::email::LinkKey,
    summaries: app::services::SharedSummaryService,
}

impl Authoring {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        polls: Arc<Polls>,
        auth: Arc<Auth>,
        links: crate::delivery::email::LinkKey,
        summaries: app::services::SharedSummaryService,
    ) -> Self {
        Authoring { store, clock, polls, auth, links, summaries }
    }

    async fn stored(&self, id: PollId) -> Result<Poll, AppError> {
        self.store.poll_by_id(id).await.map_err(internal)?.ok_or(AppError::PollNotFound)
    }

    async fn votes(&self, poll: &Poll) -> Result<u64, AppError> {
        Ok(self.store.counts(poll.id).await.map_err(internal)?.total)
    }

    async fn editor_poll(&self, poll: &Poll) -> Result<EditorPoll, AppError> {
        Ok(editor_view(poll, self.votes(poll).await?, self.clock.now()))
    }

    /// The first free slug from `base` on, or `base` itself when `exact` (the editor chose it).
    async fn free_slug(&self, base: Slug, exact: bool) -> Result<Slug, AppError> {
        for slug in slug_candidates(&base).take(if exact { 1 } else { 100 }) {
            if self.store.poll_by_slug(&slug).await.map_err(internal)?.is_none() {
                return Ok(slug);
            }
        }
        Err(AppError::SlugTaken(base.to_string()))
    }

    async fn insert(
        &self,
        by: &EditorIdentity,
        poll: NewPoll,
        action: AuditAction,
        detail: String,
    ) -> Result<EditorPoll, AppError> {
        let audit = NewAudit { editor: by.id, action, detail, at: self.clock.now() };
        let id = self.store.create_poll(&poll, &audit).await.map_err(|e| store_error(e, &poll))?;
        self.editor_poll(&self.stored(id).await?).await
    }

    /// Writes `next` over `current` if nobody saved in between.
    async fn replace(
        &self,
        by: &EditorIdentity,
        current: &Poll,
        next: NewPoll,
        action: AuditAction,
        detail: String,
    ) -> Result<EditorPoll, AppError> {
        let audit = NewAudit { editor: by.id, action, detail, at: self.clock.now() };
        self.store.update_poll(current.id, current.version, &next, &audit).await.map_err(|e| store_error(e, &next))?;
        self.polls.forget(&current.slug);
        self.polls.forget(next.slug());
        // Live listeners, here and on other instances, see a poll closed, reopened or
        // reworded without waiting for a vote.
        self.polls.changed(current.id);
        if let Err(e) = self.store.announce_change(current.id).await {
            tracing::warn!(error = %e, "could not tell other instances of an edit");
        }
        self.editor_poll(&self.stored(current.id).await?).await
    }

    async fn transition(
        &self,
        by: &EditorIdentity,
        current: Poll,
        transition: Transition,
    ) -> Result<EditorPoll, AppError> {
        let next = current.after(transition, self.clock.now())?;
        let detail = match transition {
            Transition::Schedule => format!("opens {}", next.opens_at().to_rfc3339()),
            Transition::OpenNow => "opened now".into(),
            Transition::CloseNow => "closed now".into(),
            Transition::Reopen => format!("reopened until {}", next.closes_at().to_rfc3339()),
            Transition::Unschedule => "back to draft".into(),
            Transition::Archive => "archived".into(),
        };
        self.replace(by, &current, next, AuditAction::Step(transition), detail).await
    }

    /// Next week's draft of `original`, at the first free address after its own.
    async fn duplicate(&self, by: &EditorIdentity, original: Poll) -> Result<EditorPoll, AppError> {
        let copy = original.duplicate(self.clock.now()).at(self.free_slug(original.slug.clone(), false).await?);
        self.insert(by, copy, AuditAction::Duplicated, format!("from {}", original.slug)).await
    }
}

fn editor_view(poll: &Poll, total_votes: u64, now: chrono::DateTime<chrono::Utc>) -> EditorPoll {
    EditorPoll { id: poll.id, version: poll.version, stage: poll.stage_at(now), total_votes, poll: poll.view(now) }
}

fn store_error(e: StoreError, poll: &NewPoll) -> AppError {
    match e {
        StoreError::Stale => AppError::StaleEdit,
        StoreError::Conflict(_) => AppError::SlugTaken(poll.slug().to_string()),
        other => internal(other),
    }
}

/// Which fields an edit changed, for the audit log.
fn changes(before: &NewPoll, after: &NewPoll) -> String {
    match after.changes_from(before) {
        changed if changed.is_empty() => "no changes".into(),
        changed => format!("changed {}", changed.join(", ")),
    }
}

#[async_trait::async_trait]
impl EditorService for Authoring {
    async fn polls(&self) -> Result<Vec<EditorPoll>, AppError> {
        let mut polls = Vec::new();
        for poll in self.store.all_polls().await.map_err(internal)? {
            polls.push(self.editor_poll(&poll).await?);
        }
        Ok(polls)
    }

    async fn poll(&self, id: PollId) -> Result<EditorPoll, AppError> {
        self.editor_poll(&self.stored(id).await?).await
    }

    async fn dashboard(&self, id: PollId) -> Result<Dashboard, AppError> {
        let poll = self.stored(id).await?;
        let now = self.clock.now();
        let counts = self.store.counts(poll.id).await.map_err(internal)?;
        let tally = app::domain::Tally::from_rows(&poll, counts.total, counts.by_option.iter().map(|(k, v)| (*k, *v)));
        let timeline = self.store.vote_timeline(poll.id).await.map_err(internal)?;
        let sources = self.store.vote_sources(poll.id).await.map_err(internal)?;
        let comments = self.store.comments(poll.id).await.map_err(internal)?;
        let label = |option: &i64| poll.options.iter().find(|o| o.id == *option).map(|o| o.label.clone());
        Ok(Dashboard {
            poll: editor_view(&poll, counts.total, now),
            results: tally.view(&poll, now),
            timeline: timeline.into_iter().map(|(hour, votes)| TimelinePoint { hour, votes }).collect(),
            sources: sources
                .into_iter()
                .map(|(source, votes)| SourceCount { source: VoteSource::describe(&source).to_owned(), votes })
                .collect(),
            comments: comments
                .into_iter()
                .map(|c| CommentView {
                    id: c.id,
                    body: c.body,
                    hidden: c.hidden,
                    at: c.at,
                    choices: c.option_ids.iter().filter_map(label).collect(),
                })
                .collect(),
            summary: self.summaries.list(id.0).await?.into_iter().next(),
            summary_backends: self.summaries.backends(),
            summarise_on_close: self.summaries.summarise_on_close(id.0).await?,
        })
    }

    async fn create_poll(&self, by: &EditorIdentity, draft: PollDraft) -> Result<EditorPoll, AppError> {
        let wanted = draft.wanted_slug()?;
        // Check the draft before looking for a free address, so bad input is told first.
        let poll = draft.build(wanted.clone(), Publication::Draft)?;
        let poll = poll.at(self.free_slug(wanted, draft.chosen_slug().is_some()).await?);
        let detail = format!("\"{}\"", poll.question());
        self.insert(by, poll, AuditAction::Created, detail).await
    }

    async fn update_poll(&self, by: &EditorIdentity, id: PollId, draft: PollDraft) -> Result<EditorPoll, AppError> {
        let version = draft.version.ok_or(PollError::NoVersion)?;
        let current = self.stored(id).await?;
        if current.version != version {
            return Err(AppError::StaleEdit);
        }
        // An emptied slug field keeps the address; only an explicit new slug moves it.
        let slug = match draft.chosen_slug() {
            None => current.slug.clone(),
            Some(_) => draft.wanted_slug()?,
        };
        let next = draft.build(slug, current.publication)?;
        current.check_address(next.slug())?;
        current.check_edit(&next, self.votes(&current).await?, self.clock.now())?;
        let detail = changes(&current.to_new(), &next);
        self.replace(by, &current, next, AuditAction::Edited, detail).await
    }

    async fn act(&self, by: &EditorIdentity, id: PollId, action: PollAction) -> Result<EditorPoll, AppError> {
        let poll = self.stored(id).await?;
        match action {
            PollAction::Step(transition) => self.transition(by, poll, transition).await,
            PollAction::Duplicate => self.duplicate(by, poll).await,
        }
    }

    async fn set_comment_hidden(
        &self,
        by: &EditorIdentity,
        poll: PollId,
        comment: i64,
        hidden: bool,
    ) -> Result<(), AppError> {
        let action = if hidden { AuditAction::HidComment } else { AuditAction::RestoredComment };
        let audit = NewAudit { editor: by.id, action, detail: format!("comment {comment}"), at: self.clock.now() };
        match self.store.set_comment_hidden(poll, comment, hidden, &audit).await.map_err(internal)? {
            true => Ok(()),
            false => Err(AppError::NotFound),
        }
    }

    async fn audit_log(&self) -> Result<Vec<AuditView>, AppError> {
        self.store.audit_log(AUDIT_LINES).await.map_err(internal)
    }

    async fn api_tokens(&self, by: &EditorIdentity) -> Result<Vec<ApiTokenView>, AppError> {
        self.auth.api_tokens(by).await
    }

    async fn share_kit(&self, id: PollId, origin: &str) -> Result<ShareKit, AppError> {
        let poll = self.stored(id).await?;
        Ok(crate::delivery::share_kit(origin, &self.links, &poll.view(self.clock.now())))
    }
}
