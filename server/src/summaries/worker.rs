//! The summary workers: claim a queued job (or one whose worker vanished), run the pipeline
//! with a heartbeat that renews the lease, and store the result in one statement.

use super::backends::{BackendKind, Extractive, Unavailable};
use super::checks::SourceComment;
use super::embed::{Embedder, Lexical};
use super::jobs::{internal, Summaries};
use super::pipeline::{self, PollInput};
use super::view::StoredResult;
use super::{SummaryError, Writer};
use crate::clock::Clock;
use crate::store::{FinishedSummary, Store, StoredSummary};
use app::domain::{AppError, PollId};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

impl Summaries {
    /// Starts this instance's workers and the close watcher; they run until the process ends.
    pub fn spawn(self: &Arc<Self>) {
        for _ in 0..self.config.workers {
            let me = self.clone();
            tokio::spawn(async move { me.work().await });
        }
        if let Some(every) = self.config.close_scan {
            let me = self.clone();
            tokio::spawn(async move {
                loop {
                    if let Err(e) = me.queue_closed_polls().await {
                        tracing::warn!(error = %e, "could not queue summaries of closed polls");
                    }
                    tokio::time::sleep(every).await;
                }
            });
        }
    }

    async fn work(self: &Arc<Self>) {
        loop {
            match self.run_next().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "summary worker"),
            }
            // New jobs wake a worker at once; jobs queued by other instances, or left by a
            // worker that died, are found on the next look.
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.config.lease.min(Duration::from_secs(5))) => {}
            }
        }
    }

    /// Queues summaries of polls that closed (`summarise_on_close`). Returns how many.
    pub async fn queue_closed_polls(&self) -> Result<u64, SummaryError> {
        let queued =
            self.store.summaries().enqueue_closed_polls(self.clock.now(), self.config.default.as_str()).await?;
        if queued > 0 {
            self.wake.notify_waiters();
        }
        Ok(queued)
    }

    /// The poll's facts as the pipeline takes them: visible comments only.
    pub(super) async fn input(&self, poll: &app::domain::Poll) -> Result<PollInput, AppError> {
        let comments = self.store.comments(poll.id).await.map_err(internal)?;
        let counts = self.store.counts(poll.id).await.map_err(internal)?;
        let key_of = |option: i64| poll.options.iter().find(|o| o.id == option).map(|o| o.key.as_str().to_owned());
        Ok(PollInput {
            question: poll.question.clone(),
            options: poll.options.iter().map(|o| (o.key.as_str().to_owned(), o.label.clone())).collect(),
            comments: comments
                .into_iter()
                .filter(|c| !c.hidden)
                .map(|c| SourceComment {
                    id: c.id,
                    body: c.body,
                    choices: c.option_ids.into_iter().filter_map(key_of).collect(),
                })
                .collect(),
            votes: poll
                .options
                .iter()
                .map(|o| (o.key.as_str().to_owned(), counts.by_option.get(&o.id).copied().unwrap_or(0)))
                .collect(),
            total_votes: counts.total,
        })
    }

    /// The embedding model: MiniLM when its files are in the cache and load, else hashed
    /// words, with a note saying why.
    async fn embedder(&self) -> (Arc<dyn Embedder>, Option<String>) {
        self.embedder
            .get_or_init(|| async {
                #[cfg(feature = "ml")]
                {
                    let dir = super::models::embedder_dir(&self.config.models);
                    match super::models::present(&self.config.models, &super::models::EMBEDDER, false) {
                        Ok(()) => {
                            let loaded = tokio::task::spawn_blocking(move || {
                                super::embed::MiniLm::load(&dir, super::embed::best_device())
                            })
                            .await;
                            match loaded {
                                Ok(Ok(model)) => return (Arc::new(model) as Arc<dyn Embedder>, None),
                                Ok(Err(e)) => return (Arc::new(Lexical) as Arc<dyn Embedder>, Some(e.to_string())),
                                Err(e) => return (Arc::new(Lexical) as Arc<dyn Embedder>, Some(e.to_string())),
                            }
                        }
                        Err(missing) => {
                            tracing::info!("summaries group comments by shared words: {missing}");
                        }
                    }
                }
                (Arc::new(Lexical) as Arc<dyn Embedder>, None)
            })
            .await
            .clone()
    }

    fn writer(&self, kind: BackendKind) -> Result<Arc<dyn Writer>, Unavailable> {
        self.config.available(kind)?;
        let made = self.writers.iter().find(|(k, _)| *k == kind).map(|(_, w)| w.clone());
        // Available yet not made: only `openai` without a server is left out when made.
        made.ok_or(Unavailable::NoServer)
    }

    /// The local backend's generation figures so far (tokens, seconds), for the benchmark.
    pub fn local_stats(&self) -> Option<(usize, Duration)> {
        self.writers.iter().find_map(|(_, w)| w.stats())
    }

    /// Claims and runs one job. `false` when there was none waiting.
    pub async fn run_next(self: &Arc<Self>) -> Result<bool, SummaryError> {
        let now = self.clock.now();
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::seconds(30));
        let Some(job) = self.store.summaries().claim_summary(&self.worker, now, now + lease).await? else {
            return Ok(false);
        };
        tracing::info!(summary = job.id, poll = job.poll_id, backend = %job.backend, attempt = job.attempts, "summarising");
        let (progress_tx, progress_rx) = watch::channel(0.0f64);
        let heartbeat = tokio::spawn(heartbeat(
            self.store.clone(),
            self.clock.clone(),
            job.id,
            self.worker.clone(),
            lease,
            progress_rx,
        ));
        // On a task of its own, so that a panic anywhere in a backend fails this job with a
        // message instead of taking the worker down.
        let (me, claimed) = (self.clone(), job.clone());
        let outcome = tokio::spawn(async move { me.run(&claimed, progress_tx).await })
            .await
            .unwrap_or_else(|e| Err(SummaryError::Internal(format!("the summariser stopped unexpectedly: {e}"))));
        heartbeat.abort();
        let now = self.clock.now();
        let written = match outcome {
            Ok(done) => self.store.summaries().finish_summary(job.id, &self.worker, &done, now).await?,
            Err(e) => {
                tracing::warn!(summary = job.id, error = %e, "summary failed");
                self.store.summaries().fail_summary(job.id, &self.worker, &e.to_string(), now).await?
            }
        };
        if !written {
            tracing::warn!(summary = job.id, "another worker took this summary over; its result stands");
        }
        Ok(true)
    }

    async fn run(&self, job: &StoredSummary, progress: watch::Sender<f64>) -> Result<FinishedSummary, SummaryError> {
        let poll = self.store.poll_by_id(PollId(job.poll_id)).await?.ok_or(SummaryError::PollGone)?;
        let input = self.input(&poll).await.map_err(|e| SummaryError::Internal(e.to_string()))?;
        let kind = BackendKind::parse(&job.backend).map_err(|e| SummaryError::Internal(e.to_string()))?;
        let (embedder, embedder_note) = self.embedder().await;
        progress.send_replace(0.02);
        let (writer, writer_note): (Arc<dyn Writer>, Option<String>) = match self.writer(kind) {
            Ok(w) => (w, None),
            // Configured when queued, gone now (a restart with other settings): say so, and
            // give the editor the extractive summary to review.
            Err(why) => (Arc::new(Extractive), Some(format!("the {} backend was not available: {why}", kind.as_str()))),
        };
        let report_progress: Arc<dyn Fn(f64) + Send + Sync> = Arc::new(move |p| {
            progress.send_if_modified(|current| {
                let changed = (p - *current).abs() >= 0.01;
                if changed {
                    *current = p;
                }
                changed
            });
        });
        let outcome = pipeline::summarise(Arc::new(input), embedder.clone(), &*writer, report_progress).await?;
        let mut result = StoredResult::new(&outcome.draft, &outcome.report);
        let notes: Vec<String> = [
            writer_note.clone(),
            outcome
                .fallback_reason
                .as_ref()
                .map(|r| format!("the {} backend's draft was not used: {r}", kind.as_str())),
            embedder_note.map(|e| format!("comments were grouped by shared words: {e}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        result.note = (!notes.is_empty()).then(|| notes.join(". "));
        result.embedder = embedder.id();
        let t = &outcome.timings;
        result.timings_ms =
            [("embed", t.embed), ("cluster", t.cluster), ("quotes", t.quotes), ("write", t.write), ("check", t.check)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.as_millis() as u64))
                .collect();
        Ok(FinishedSummary {
            backend: outcome.backend,
            model: outcome.model,
            parameters: serde_json::json!({"writer": outcome.parameters, "embedder": embedder.id()}).to_string(),
            input_hash: outcome.input_hash,
            needs_review: outcome.needs_review || writer_note.is_some(),
            comments_considered: outcome.comments_considered as i32,
            result: serde_json::to_string(&result).map_err(|e| SummaryError::Internal(e.to_string()))?,
        })
    }
}

/// Writes progress at most twice a second and renews the lease, until aborted.
async fn heartbeat(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    id: i64,
    worker: String,
    lease: chrono::Duration,
    mut progress: watch::Receiver<f64>,
) {
    let renew = (lease / 3).to_std().unwrap_or(Duration::from_secs(10)).max(Duration::from_millis(100));
    loop {
        let value = *progress.borrow_and_update();
        match store.summaries().summary_progress(id, &worker, value, clock.now() + lease).await {
            Ok(true) => {}
            Ok(false) => return, // no longer ours
            Err(e) => tracing::warn!(summary = id, error = %e, "could not record progress"),
        }
        tokio::select! {
            _ = progress.changed() => tokio::time::sleep(Duration::from_millis(500)).await,
            _ = tokio::time::sleep(renew) => {}
        }
    }
}
