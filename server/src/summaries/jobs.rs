//! Summaries as jobs: an editor (or a poll closing) queues one; a worker in any server
//! instance claims it under a lease, runs the pipeline with the chosen backend, reports
//! progress (renewing the lease), and stores the result in one statement. A worker that
//! dies mid-job lets its lease lapse and another instance takes the job over; after three
//! such tries the job fails with a message.

use super::backends::{BackendKind, SummariserConfig};
use super::checks::{self};
use super::embed::Embedder;
use super::view::{self, StoredResult};
use crate::clock::Clock;
use crate::store::{Audited, NewAudit, Store};
use app::domain::{AppError, AuditAction, EditorIdentity, PollId, SummaryEdits, SummaryView};
use app::services::SummaryService;
use std::sync::Arc;
use tokio::sync::{Notify, OnceCell};

pub struct Summaries {
    pub(super) store: Arc<dyn Store>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) config: SummariserConfig,
    /// This process's name on the jobs it claims.
    pub(super) worker: String,
    pub(super) wake: Notify,
    pub(super) embedder: OnceCell<(Arc<dyn Embedder>, Option<String>)>,
    /// Each backend's writer that these settings include, made once.
    pub(super) writers: Vec<(BackendKind, Arc<dyn super::Writer>)>,
}

impl Summaries {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: SummariserConfig) -> Arc<Self> {
        let writers = BackendKind::all().filter_map(|k| Some((k, (k.backend().make)(&config)?))).collect();
        let worker = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
        Arc::new(Summaries { store, clock, config, worker, wake: Notify::new(), embedder: OnceCell::new(), writers })
    }
}

/// The summaries room's one door: what pages, forms and the API call.
#[async_trait::async_trait]
impl SummaryService for Summaries {
    /// The backends this server can run (name and what editors are shown), the default first.
    fn backends(&self) -> Vec<(String, String)> {
        let mut kinds = vec![self.config.default];
        kinds.extend(self.writers.iter().map(|(k, _)| *k).filter(|k| *k != self.config.default));
        kinds
            .into_iter()
            .filter(|k| self.config.available(*k).is_ok())
            .map(|k| (k.as_str().to_owned(), k.backend().label.to_owned()))
            .collect()
    }

    /// Queues a summary of `poll` (or returns the one in progress, `false`).
    async fn start(
        &self,
        poll: i64,
        backend: Option<&str>,
        by: Option<&EditorIdentity>,
    ) -> Result<(SummaryView, bool), AppError> {
        let kind = match backend {
            None => self.config.default,
            Some(name) => BackendKind::parse(name).map_err(|e| AppError::BackendUnavailable(e.to_string()))?,
        };
        self.config.available(kind).map_err(|why| AppError::BackendUnavailable(why.to_string()))?;
        let target = self.store.poll_by_id(PollId(poll)).await.map_err(internal)?.ok_or(AppError::PollNotFound)?;
        let now = self.clock.now();
        let audit = by.map(|by| {
            move |id: i64| NewAudit {
                editor: by.id,
                action: AuditAction::SummarisedComments,
                detail: format!("summary {id} ({})", kind.as_str()),
                at: now,
            }
        });
        let audited = audit.as_ref().map(|entry| Audited { entry, poll: (target.id, target.slug.as_str()) });
        let (stored, created) = self
            .store
            .summaries()
            .enqueue_summary(PollId(poll), kind.as_str(), by.map(|b| b.id.0), now, audited)
            .await
            .map_err(internal)?;
        if created {
            self.wake.notify_one();
        }
        Ok((view::view(&stored), created))
    }

    async fn get(&self, id: i64) -> Result<SummaryView, AppError> {
        let stored = self.store.summaries().summary(id).await.map_err(internal)?.ok_or(AppError::SummaryNotFound)?;
        Ok(view::view(&stored))
    }

    async fn list(&self, poll: i64) -> Result<Vec<SummaryView>, AppError> {
        self.store.poll_by_id(PollId(poll)).await.map_err(internal)?.ok_or(AppError::PollNotFound)?;
        let all = self.store.summaries().summaries_of(PollId(poll)).await.map_err(internal)?;
        Ok(all.iter().map(view::view).collect())
    }

    /// The summary readers see with the poll's final results.
    async fn approved(&self, poll: PollId) -> Result<Option<SummaryView>, AppError> {
        let stored = self.store.summaries().approved_summary(poll).await.map_err(internal)?;
        Ok(stored.as_ref().map(view::view))
    }

    async fn summarise_on_close(&self, poll: i64) -> Result<bool, AppError> {
        self.store.summaries().summarise_on_close(PollId(poll)).await.map_err(internal)
    }

    async fn set_summarise_on_close(&self, by: &EditorIdentity, poll: i64, on: bool) -> Result<(), AppError> {
        let target = self.store.poll_by_id(PollId(poll)).await.map_err(internal)?.ok_or(AppError::PollNotFound)?;
        let now = self.clock.now();
        let entry = move |_: i64| NewAudit {
            editor: by.id,
            action: AuditAction::SetSummaryOnClose,
            detail: if on { "on".into() } else { "off".into() },
            at: now,
        };
        let audited = Audited { entry: &entry, poll: (target.id, target.slug.as_str()) };
        self.store.summaries().set_summarise_on_close(target.id, on, audited).await.map_err(internal)?;
        Ok(())
    }

    /// Approves a finished summary, with the editor's edits, after checking it again against
    /// the poll as it is now (a comment hidden since, or votes cast since, fail it).
    async fn approve(&self, id: i64, by: &EditorIdentity, edits: SummaryEdits) -> Result<SummaryView, AppError> {
        let stored = self.store.summaries().summary(id).await.map_err(internal)?.ok_or(AppError::SummaryNotFound)?;
        if stored.status() != app::domain::SummaryStatus::Done {
            return Err(AppError::SummaryNotReady(format!(
                "This summary is {}: only a finished one can be approved.",
                stored.status().as_str()
            )));
        }
        let mut result: StoredResult = stored
            .result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .ok_or_else(|| AppError::SummaryNotReady("This summary has no result to approve.".into()))?;
        // `themes: [{"title": …}]` (the contract's shape) may leave titles out: those stay as they are.
        let titles = edits.titles.or_else(|| {
            edits.themes.map(|edits| {
                (0..result.themes.len().max(edits.len()))
                    .map(|i| match edits.get(i).and_then(|e| e.title.clone()) {
                        Some(title) => title,
                        None => result.themes.get(i).map(|t| t.title.clone()).unwrap_or_default(),
                    })
                    .collect()
            })
        });
        if let Some(titles) = titles {
            if titles.len() != result.themes.len() {
                return Err(AppError::InvalidInput(format!(
                    "{} titles were sent for {} themes",
                    titles.len(),
                    result.themes.len()
                )));
            }
            for (theme, title) in result.themes.iter_mut().zip(titles) {
                theme.title = edited(&title, super::backends::prompt::MAX_TITLE_CHARS, "A theme title")?;
            }
        }
        if let Some(overview) = edits.overview {
            result.overview = edited(&overview, super::backends::prompt::MAX_OVERVIEW_CHARS, "The overview")?;
        }
        let poll =
            self.store.poll_by_id(PollId(stored.poll_id)).await.map_err(internal)?.ok_or(AppError::PollNotFound)?;
        let input = self.input(&poll).await?;
        let report = checks::check(&result.draft(), &input.facts());
        if !report.passed() {
            return Err(AppError::SummaryCheckFailed(format!(
                "The summary no longer matches the poll and was not approved: {}",
                report.problems.join("; ")
            )));
        }
        result.checks = view::checks_of(&report);
        let json = serde_json::to_string(&result).map_err(|_| AppError::Internal)?;
        let now = self.clock.now();
        let entry = move |id: i64| NewAudit {
            editor: by.id,
            action: AuditAction::ApprovedSummary,
            detail: format!("summary {id}"),
            at: now,
        };
        let audited = Audited { entry: &entry, poll: (poll.id, poll.slug.as_str()) };
        if !self
            .store
            .summaries()
            .approve_summary(id, by.id.0, &json, stored.needs_review, now, audited)
            .await
            .map_err(internal)?
        {
            return Err(AppError::SummaryNotReady("This summary changed while you approved it; reload.".into()));
        }
        self.get(id).await
    }
}

/// An edited title or overview: one line of text, not empty, not too long.
fn edited(text: &str, max: usize, what: &str) -> Result<String, AppError> {
    if let Some(c) = app::domain::control_character(text, true) {
        return Err(AppError::InvalidInput(app::domain::control_problem(what, c)));
    }
    let clean = super::backends::prompt::clean(text, usize::MAX);
    if clean.is_empty() {
        return Err(AppError::InvalidInput(format!("{what} cannot be empty.")));
    }
    if clean.chars().count() > max {
        return Err(AppError::InvalidInput(format!("{what} can be at most {max} characters.")));
    }
    Ok(clean)
}

pub(super) fn internal(e: crate::store::StoreError) -> AppError {
    if e.is_unavailable() {
        // The database is down or restarting: a 503, as the other services answer, so clients retry.
        tracing::warn!(error = %e, "storage unavailable (summaries)");
        return AppError::Unavailable;
    }
    tracing::error!(error = %e, "storage failure (summaries)");
    AppError::Internal
}
