use super::{OptionKey, Poll, PollKind, PollStatus, Slug};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Vote counts of one poll, aligned with `Poll::options`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tally {
    pub total_votes: u64,
    pub counts: Vec<u64>,
}

impl Tally {
    /// Builds a tally from stored `(option id, count)` rows; options without votes count zero.
    pub fn from_rows(poll: &Poll, total_votes: u64, rows: impl IntoIterator<Item = (i64, u64)>) -> Self {
        let mut counts = vec![0; poll.options.len()];
        for (option_id, count) in rows {
            if let Some(i) = poll.options.iter().position(|o| o.id == option_id) {
                counts[i] = count;
            }
        }
        Tally { total_votes, counts }
    }

    /// Adds one newly committed vote.
    pub fn add(&mut self, poll: &Poll, choices: &[OptionKey]) {
        self.total_votes += 1;
        for (i, option) in poll.options.iter().enumerate() {
            if choices.contains(&option.key) {
                self.counts[i] += 1;
            }
        }
    }

    pub fn view(&self, poll: &Poll, now: DateTime<Utc>) -> ResultsView {
        let tenths = percent_tenths(poll.kind, self.total_votes, &self.counts);
        ResultsView {
            slug: poll.slug.clone(),
            status: poll.status_at(now),
            total_votes: self.total_votes,
            options: poll
                .options
                .iter()
                .zip(&self.counts)
                .zip(tenths)
                .map(|((o, &votes), t)| OptionResult {
                    id: o.key.clone(),
                    label: o.label.clone(),
                    votes,
                    percent: t as f64 / 10.0,
                })
                .collect(),
            as_of: now,
        }
    }
}

/// Percentages in tenths of a percent. For a single-choice poll they add up to exactly
/// 100.0 (largest remainder); for multiple choice each is the share of voters who picked it.
fn percent_tenths(kind: PollKind, total: u64, counts: &[u64]) -> Vec<u64> {
    if total == 0 {
        return vec![0; counts.len()];
    }
    let exact: Vec<(u64, u64)> = counts.iter().map(|&c| ((c * 1000) / total, (c * 1000) % total)).collect();
    if let PollKind::Multiple { .. } = kind {
        return exact.iter().map(|&(q, r)| q + u64::from(2 * r >= total)).collect();
    }
    let mut tenths: Vec<u64> = exact.iter().map(|&(q, _)| q).collect();
    let missing = 1000 - tenths.iter().sum::<u64>();
    let mut by_remainder: Vec<usize> = (0..counts.len()).collect();
    by_remainder.sort_by(|&a, &b| exact[b].1.cmp(&exact[a].1).then(a.cmp(&b)));
    for &i in by_remainder.iter().take(missing as usize) {
        tenths[i] += 1;
    }
    tenths
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResultsView {
    pub slug: Slug,
    pub status: PollStatus,
    pub total_votes: u64,
    pub options: Vec<OptionResult>,
    #[cfg_attr(feature = "hydrate", serde(deserialize_with = "super::wire::rfc3339"))]
    pub as_of: DateTime<Utc>,
}

impl ResultsView {
    /// The leading options; several on a tie, none before the first vote.
    pub fn leaders(&self) -> Vec<&OptionResult> {
        let top = self.options.iter().map(|o| o.votes).max().unwrap_or(0);
        if top == 0 {
            return Vec::new();
        }
        self.options.iter().filter(|o| o.votes == top).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OptionResult {
    pub id: OptionKey,
    pub label: String,
    pub votes: u64,
    pub percent: f64,
}

/// How a vote reached us; recorded with each vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteSource {
    Web,
    Api,
    Embed,
    Email,
}

impl VoteSource {
    pub fn name(self) -> &'static str {
        match self {
            VoteSource::Web => "web",
            VoteSource::Api => "api",
            VoteSource::Embed => "embed",
            VoteSource::Email => "email",
        }
    }

    /// How the dashboard names the source.
    pub fn describe(name: &str) -> &'static str {
        match name {
            "web" => "Poll page",
            "api" => "API",
            "embed" => "Embedded widget",
            "email" => "Email link",
            _ => "Other",
        }
    }
}

/// What the store did with a ballot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoteOutcome {
    Recorded,
    /// The voter had already voted in this poll; their stored choices are returned.
    AlreadyVoted(Vec<OptionKey>),
    /// The poll allows changes and the voter's earlier choices (option ids) were replaced.
    Changed {
        previous: Vec<i64>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VoterChoices {
    pub choices: Vec<OptionKey>,
}

/// The answer to a vote: the voter's (stored) choices, and results where visible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VoteReceipt {
    pub vote: VoterChoices,
    pub results: Option<ResultsView>,
    /// False when this voter had already voted and nothing changed.
    pub recorded: bool,
    /// True when an earlier vote was replaced by this one.
    #[serde(default)]
    pub changed: bool,
}

/// What a poll's figures count, as readers are told. A single-choice poll counts votes and
/// its percents add up to 100; a multiple-choice poll counts readers, and each percent is of
/// the readers who picked that option (so together they pass 100%: the page says so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Counted {
    #[default]
    Votes,
    Readers,
}

impl Counted {
    pub fn of(max_choices: u32) -> Self {
        if max_choices > 1 {
            Counted::Readers
        } else {
            Counted::Votes
        }
    }

    /// One option's count: "1 vote", "8 votes"; "1 reader", "8 readers".
    pub fn count(self, n: u64) -> String {
        let word = match self {
            Counted::Votes => "vote",
            Counted::Readers => "reader",
        };
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    }

    /// The line under the bars: "20 votes in total"; "20 readers · % who picked each".
    pub fn total(self, n: u64) -> String {
        match self {
            Counted::Votes => format!("{} in total", self.count(n)),
            Counted::Readers => format!("{} · % who picked each", self.count(n)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::poll::tests::{at, poll};
    use crate::domain::ResultsVisibility;

    fn view(kind: PollKind, counts: Vec<u64>, total: u64) -> ResultsView {
        let p = poll(kind, ResultsVisibility::Always);
        Tally { total_votes: total, counts }.view(&p, at(8, 0))
    }

    fn percents(r: &ResultsView) -> Vec<f64> {
        r.options.iter().map(|o| o.percent).collect()
    }

    #[test]
    fn single_choice_percents_add_up_to_one_hundred() {
        let r = view(PollKind::Single, vec![1, 1, 1], 3);
        assert_eq!(percents(&r), [33.4, 33.3, 33.3]);
        let r = view(PollKind::Single, vec![2, 1, 0], 3);
        assert_eq!(percents(&r), [66.7, 33.3, 0.0]);
        let r = view(PollKind::Single, vec![38, 62, 0], 100);
        assert_eq!(percents(&r), [38.0, 62.0, 0.0]);
        for total in 1..60u64 {
            let counts = vec![total / 3, total / 2, total - total / 3 - total / 2];
            let sum: f64 = percents(&view(PollKind::Single, counts, total)).iter().sum();
            assert!((sum - 100.0).abs() < 1e-9, "total {total}: {sum}");
        }
    }

    #[test]
    fn multiple_choice_percent_is_share_of_voters() {
        let r = view(PollKind::Multiple { max_choices: 3 }, vec![3, 2, 1], 3);
        assert_eq!(percents(&r), [100.0, 66.7, 33.3]);
    }

    #[test]
    fn no_votes_means_zero_and_no_leader() {
        let r = view(PollKind::Single, vec![0, 0, 0], 0);
        assert_eq!(percents(&r), [0.0, 0.0, 0.0]);
        assert!(r.leaders().is_empty());
    }

    #[test]
    fn tally_adds_votes_and_finds_leaders() {
        let p = poll(PollKind::Single, ResultsVisibility::Always);
        let mut t = Tally::from_rows(&p, 3, [(1, 1), (2, 2), (99, 5)]);
        assert_eq!(t.counts, [1, 2, 0]);
        t.add(&p, &[OptionKey::parse("yes").unwrap()]);
        assert_eq!((t.total_votes, t.counts.clone()), (4, vec![2, 2, 0]));
        let leaders: Vec<_> = t.view(&p, at(8, 0)).leaders().iter().map(|o| o.id.to_string()).collect();
        assert_eq!(leaders, ["yes", "no"]);
    }

    #[test]
    fn multiple_choice_figures_say_what_the_percent_is_of() {
        assert_eq!(Counted::of(1), Counted::Votes);
        assert_eq!(Counted::of(2), Counted::Readers);
        assert_eq!(Counted::Votes.total(20), "20 votes in total");
        assert_eq!(Counted::Votes.total(1), "1 vote in total");
        assert_eq!(Counted::Readers.total(20), "20 readers · % who picked each");
        assert_eq!(Counted::Readers.count(1), "1 reader");
    }
}
