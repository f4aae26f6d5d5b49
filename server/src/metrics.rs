//! Counters for `/metrics`, in Prometheus text format. Plain atomics: no registry needed.

use app::domain::{AppError, VoteReceipt};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

#[derive(Default)]
pub struct Metrics {
    votes_recorded: AtomicU64,
    votes_repeated: AtomicU64,
    votes_rejected: Mutex<BTreeMap<&'static str, u64>>,
    responses: Mutex<BTreeMap<u16, u64>>,
}

impl Metrics {
    pub fn vote_result(&self, result: &Result<VoteReceipt, AppError>) {
        match result {
            Ok(receipt) if receipt.recorded => self.votes_recorded.fetch_add(1, Relaxed),
            Ok(_) => self.votes_repeated.fetch_add(1, Relaxed),
            Err(e) => {
                *self.votes_rejected.lock().expect("metrics lock").entry(e.code()).or_default() += 1;
                0
            }
        };
    }

    pub fn response(&self, status: u16) {
        *self.responses.lock().expect("metrics lock").entry(status).or_default() += 1;
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP polltelligence_votes_recorded_total Votes committed.");
        let _ = writeln!(out, "# TYPE polltelligence_votes_recorded_total counter");
        let _ = writeln!(out, "polltelligence_votes_recorded_total {}", self.votes_recorded.load(Relaxed));
        let _ = writeln!(out, "# HELP polltelligence_votes_repeated_total Repeat votes answered with the stored vote.");
        let _ = writeln!(out, "# TYPE polltelligence_votes_repeated_total counter");
        let _ = writeln!(out, "polltelligence_votes_repeated_total {}", self.votes_repeated.load(Relaxed));
        let _ = writeln!(out, "# HELP polltelligence_votes_rejected_total Votes refused, by error code.");
        let _ = writeln!(out, "# TYPE polltelligence_votes_rejected_total counter");
        for (code, n) in self.votes_rejected.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "polltelligence_votes_rejected_total{{code=\"{code}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP polltelligence_http_responses_total HTTP responses, by status.");
        let _ = writeln!(out, "# TYPE polltelligence_http_responses_total counter");
        for (status, n) in self.responses.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "polltelligence_http_responses_total{{status=\"{status}\"}} {n}");
        }
        out
    }
}
