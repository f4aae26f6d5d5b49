//! Live results: one pump per poll that has listeners turns "votes changed" notices into
//! results snapshots, coalesced to at most four a second and shared by every listener (one
//! JSON text, however many readers watch). Notices come from this instance's own commits
//! and, on PostgreSQL, from every other instance through LISTEN/NOTIFY (`Store::vote_feed`).
//! Listeners hold a `watch` receiver: only the newest snapshot is kept, so a slow reader
//! costs nothing while it lags and simply gets the latest state when it catches up.

use super::Polls;
use app::domain::{AppError, PollId, PollStatus, ResultsView, Slug};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Fastest rate at which one poll's listeners are sent new results.
pub const COALESCE: Duration = Duration::from_millis(250);
/// Without notices, a pump still looks again this often: a poll that closes on its clock
/// reaches listeners within this (votes and editors' changes are announced at once).
const RECHECK: Duration = Duration::from_secs(5);

/// The results as listeners receive them.
#[derive(Debug)]
pub struct Snapshot {
    /// The results JSON of `server/src/http/CONTRACT.md`, serialised once for every listener.
    pub json: Arc<str>,
    pub status: PollStatus,
    /// What the snapshot says, without its time: equal keys mean nothing changed.
    key: (PollStatus, u64, Vec<u64>),
}

impl Snapshot {
    pub fn of(results: &ResultsView) -> Result<Self, AppError> {
        let json = serde_json::to_string(results).map_err(|_| AppError::Internal)?;
        Ok(Snapshot {
            json: json.into(),
            status: results.status,
            key: (results.status, results.total_votes, results.options.iter().map(|o| o.votes).collect()),
        })
    }

    pub fn same_as(&self, other: &Snapshot) -> bool {
        self.key == other.key
    }
}

pub type Listener = watch::Receiver<Option<Arc<Snapshot>>>;

struct Topic {
    snapshots: watch::Sender<Option<Arc<Snapshot>>>,
    wake: Arc<Notify>,
}

#[derive(Default)]
pub struct LiveHub {
    topics: Mutex<HashMap<PollId, Topic>>,
}

impl LiveHub {
    /// Something about `poll` changed (a vote, an editor's action): its pump looks again.
    pub fn touch(&self, poll: PollId) {
        if let Some(topic) = self.topics.lock().expect("live topics lock").get(&poll) {
            topic.wake.notify_one();
        }
    }

    /// Every pump looks again (notices may have been lost).
    pub fn touch_all(&self) {
        for topic in self.topics.lock().expect("live topics lock").values() {
            topic.wake.notify_one();
        }
    }

    /// Listeners right now, over all polls.
    fn listeners(&self) -> usize {
        self.topics.lock().expect("live topics lock").values().map(|t| t.snapshots.receiver_count()).sum()
    }
}

impl Polls {
    /// Live-results listeners connected to this instance now (for `/metrics`).
    pub fn live_listeners(&self) -> usize {
        self.live.listeners()
    }

    /// Tells live listeners of `poll` to look again.
    pub fn changed(&self, poll: PollId) {
        self.live.touch(poll);
    }

    /// Starts the pump of a poll's live results if it is not running, and listens to it.
    /// The caller checks first that this reader may see the results.
    pub fn listen(self: &Arc<Self>, poll: PollId, slug: &Slug) -> Listener {
        let mut topics = self.live.topics.lock().expect("live topics lock");
        if let Some(topic) = topics.get(&poll) {
            return topic.snapshots.subscribe();
        }
        let (snapshots, listener) = watch::channel(None);
        let wake = Arc::new(Notify::new());
        topics.insert(poll, Topic { snapshots: snapshots.clone(), wake: wake.clone() });
        tokio::spawn(self.clone().pump(poll, slug.clone(), snapshots, wake));
        listener
    }

    async fn pump(
        self: Arc<Self>,
        poll: PollId,
        slug: Slug,
        snapshots: watch::Sender<Option<Arc<Snapshot>>>,
        wake: Arc<Notify>,
    ) {
        let mut fresh = false;
        loop {
            match self.live_results(slug.as_str(), fresh).await {
                Ok(results) => match Snapshot::of(&results) {
                    Ok(next) => {
                        snapshots.send_if_modified(|current| match current {
                            Some(current) if current.same_as(&next) => false,
                            _ => {
                                *current = Some(Arc::new(next));
                                true
                            }
                        });
                    }
                    Err(e) => tracing::warn!(error = %e, "live results not serialisable"),
                },
                // Unpublished or gone: listeners are told by the channel closing.
                Err(AppError::PollNotFound) => break,
                Err(e) => tracing::warn!(error = %e, %slug, "live results unavailable; retrying"),
            }
            let closed = snapshots.borrow().as_ref().is_some_and(|s| s.status == PollStatus::Closed);
            {
                // Under the lock, so `listen` never hands out a receiver of a pump that is ending.
                let mut topics = self.live.topics.lock().expect("live topics lock");
                if closed || snapshots.receiver_count() == 0 {
                    topics.remove(&poll);
                    return;
                }
            }
            // At most one look per COALESCE; a notice that came meanwhile is kept by `wake`.
            tokio::time::sleep(COALESCE).await;
            fresh = tokio::time::timeout(RECHECK, wake.notified()).await.is_ok();
        }
        self.live.topics.lock().expect("live topics lock").remove(&poll);
    }
}
