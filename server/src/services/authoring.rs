//! Poll authoring and the results dashboard: what editors' pages, forms and API call.
//! Rules come from `app::domain` (drafts, stages, edit guards); this layer sequences
//! them with storage and writes the audit log with every change.

use super::auth::Auth;
use super::{internal, Clock, Polls};
use crate::store::{NewAudit, Store, StoreError};
use app::domain::{
    slug_candidates, ApiTokenView, AppError, AuditView, CommentView, Dashboard, EditorIdentity, EditorPoll, NewPoll,
    Poll, PollDraft, PollId, Publication, ShareKit, Slug, SourceCount, TimelinePoint, Transition, VoteSource,
};
use app::services::EditorService;
use std::sync::Arc;

const AUDIT_LINES: i64 = 500;

pub struct Authoring {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    polls: Arc<Polls>,
    auth: Arc<Auth>,
    links: crate::delivery::email::LinkKey,
    summaries: Arc<crate::summaries::Summaries>,
}

impl Authoring {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        polls: Arc<Polls>,
        auth: Arc<Auth>,
        links: crate::delivery::email::LinkKey,
        summaries: Arc<crate::summaries::Summaries>,
    ) -> Self {
        Authoring { store, clock, polls, auth, links, summaries }
    }

    async fn stored(&self, id: i64) -> Result<Poll, AppError> {
        self.store.poll_by_id(PollId(id)).await.map_err(internal)?.ok_or(AppError::PollNotFound)
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
        action: &'static str,
        detail: String,
    ) -> Result<EditorPoll, AppError> {
        let audit = NewAudit { editor: by.id, action, detail, at: self.clock.now() };
        let id = self.store.create_poll(&poll, &audit).await.map_err(|e| store_error(e, &poll))?;
        self.editor_poll(&self.stored(id.0).await?).await
    }

    /// Writes `next` over `current` if nobody saved in between.
    async fn replace(
        &self,
        by: &EditorIdentity,
        current: &Poll,
        next: NewPoll,
        action: &'static str,
        detail: String,
    ) -> Result<EditorPoll, AppError> {
        let audit = NewAudit { editor: by.id, action, detail, at: self.clock.now() };
        self.store.update_poll(current.id, current.version, &next, &audit).await.map_err(|e| store_error(e, &next))?;
        self.polls.forget(&current.slug);
        self.polls.forget(&next.slug);
        // Live listeners, here and on other instances, see a poll closed, reopened or
        // reworded without waiting for a vote.
        self.polls.changed(current.id);
        if let Err(e) = self.store.announce_change(current.id).await {
            tracing::warn!(error = %e, "could not tell other instances of an edit");
        }
        self.editor_poll(&self.stored(current.id.0).await?).await
    }
}

fn editor_view(poll: &Poll, total_votes: u64, now: chrono::DateTime<chrono::Utc>) -> EditorPoll {
    EditorPoll { id: poll.id.0, version: poll.version, stage: poll.stage_at(now), total_votes, poll: poll.view(now) }
}

fn store_error(e: StoreError, poll: &NewPoll) -> AppError {
    match e {
        StoreError::Stale => AppError::StaleEdit,
        StoreError::Conflict(_) => AppError::SlugTaken(poll.slug.to_string()),
        other => internal(other),
    }
}

/// Which fields an edit changed, for the audit log.
fn changes(before: &NewPoll, after: &NewPoll) -> String {
    let fields = [
        ("question", before.question != after.question),
        ("address", before.slug != after.slug),
        ("options", before.options != after.options),
        ("choice rules", before.kind != after.kind),
        ("comment box", before.allow_comment != after.allow_comment),
        ("vote changes", before.allow_vote_change != after.allow_vote_change),
        ("results visibility", before.results_visibility != after.results_visibility),
        ("times", before.opens_at != after.opens_at || before.closes_at != after.closes_at),
    ];
    let changed: Vec<&str> = fields.iter().filter(|(_, c)| *c).map(|(name, _)| *name).collect();
    if changed.is_empty() {
        "no changes".into()
    } else {
        format!("changed {}", changed.join(", "))
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

    async fn poll(&self, id: i64) -> Result<EditorPoll, AppError> {
        self.editor_poll(&self.stored(id).await?).await
    }

    async fn dashboard(&self, id: i64) -> Result<Dashboard, AppError> {
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
            summary: self.summaries.list(id).await?.into_iter().next(),
            summary_backends: self.summaries.backends(),
            summarise_on_close: self.summaries.summarise_on_close(id).await?,
        })
    }

    async fn create_poll(&self, by: &EditorIdentity, draft: PollDraft) -> Result<EditorPoll, AppError> {
        let wanted = draft.wanted_slug().map_err(AppError::InvalidPoll)?;
        let exact = draft.slug.as_deref().is_some_and(|s| !s.trim().is_empty());
        // Check the draft before looking for a free address, so bad input is told first.
        draft.build(wanted.clone(), Publication::Draft).map_err(AppError::InvalidPoll)?;
        let slug = self.free_slug(wanted, exact).await?;
        let poll = draft.build(slug, Publication::Draft).map_err(AppError::InvalidPoll)?;
        let detail = format!("\"{}\"", poll.question);
        self.insert(by, poll, "created", detail).await
    }

    async fn update_poll(&self, by: &EditorIdentity, id: i64, draft: PollDraft) -> Result<EditorPoll, AppError> {
        let version = draft
            .version
            .ok_or_else(|| AppError::InvalidPoll("Say which version of the poll you edited (\"version\").".into()))?;
        let current = self.stored(id).await?;
        if current.version != version {
            return Err(AppError::StaleEdit);
        }
        // An emptied slug field keeps the address; only an explicit new slug moves it.
        let slug = match draft.slug.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => current.slug.clone(),
            Some(_) => draft.wanted_slug().map_err(AppError::InvalidPoll)?,
        };
        let next = draft.build(slug, current.publication).map_err(AppError::InvalidPoll)?;
        if next.slug != current.slug && current.publication != Publication::Draft {
            return Err(AppError::EditRefused(
                "This poll is published and its address may already be in a newsletter; it cannot change.".into(),
            ));
        }
        let now = self.clock.now();
        current.check_edit(&next, self.votes(&current).await?, now).map_err(AppError::EditRefused)?;
        let detail = changes(&current.to_new(), &next);
        self.replace(by, &current, next, "edited", detail).await
    }

    async fn transition(&self, by: &EditorIdentity, id: i64, transition: Transition) -> Result<EditorPoll, AppError> {
        let current = self.stored(id).await?;
        let now = self.clock.now();
        let next = current.after(transition, now).map_err(AppError::EditRefused)?;
        let detail = match transition {
            Transition::Schedule => format!("opens {}", next.opens_at.to_rfc3339()),
            Transition::OpenNow => "opened now".into(),
            Transition::CloseNow => "closed now".into(),
            Transition::Unschedule => "back to draft".into(),
            Transition::Archive => "archived".into(),
        };
        self.replace(by, &current, next, transition.name(), detail).await
    }

    async fn duplicate(&self, by: &EditorIdentity, id: i64) -> Result<EditorPoll, AppError> {
        let original = self.stored(id).await?;
        let mut copy = original.duplicate(self.clock.now());
        copy.slug = self.free_slug(original.slug.clone(), false).await?;
        self.insert(by, copy, "duplicated", format!("from {}", original.slug)).await
    }

    async fn set_comment_hidden(
        &self,
        by: &EditorIdentity,
        poll: i64,
        comment: i64,
        hidden: bool,
    ) -> Result<(), AppError> {
        let action = if hidden { "hid_comment" } else { "restored_comment" };
        let audit = NewAudit { editor: by.id, action, detail: format!("comment {comment}"), at: self.clock.now() };
        match self.store.set_comment_hidden(PollId(poll), comment, hidden, &audit).await.map_err(internal)? {
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

    async fn share_kit(&self, id: i64, origin: &str) -> Result<ShareKit, AppError> {
        let poll = self.stored(id).await?;
        Ok(crate::delivery::share_kit(origin, &self.links, &poll.view(self.clock.now())))
    }
}
