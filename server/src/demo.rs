//! Demo content for an empty database: the closed poll from the 14 November 2023 issue of
//! AI Collision ("the winner is … No!"), this week's open poll, and more to explore. Every
//! date is relative to the day the demo is loaded, so the closed poll is last week's.

use crate::store::{NewVote, Store, StoreError};
use app::domain::{
    DraftOption, PollDraft, PollError, PollId, PollKind, Publication, ResultsVisibility, Slug, VoteSource,
};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

/// Demo votes arrive the ways real ones do, so the dashboard has something to show.
const SOURCES: [VoteSource; 5] =
    [VoteSource::Web, VoteSource::Email, VoteSource::Web, VoteSource::Embed, VoteSource::Api];
const COMMENTS: [&str; 4] = [
    "The valuations already price in a decade of growth.",
    "I hold an index fund, which is mostly the same five companies anyway.",
    "Power is the bottleneck, not chips.",
    "Too early to tell who the winners are.",
];

struct DemoPoll {
    slug: &'static str,
    question: &'static str,
    kind: PollKind,
    options: &'static [(&'static str, &'static str, u32)],
    allow_comment: bool,
    visibility: ResultsVisibility,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
}

fn polls(now: DateTime<Utc>) -> Vec<DemoPoll> {
    vec![
        DemoPoll {
            slug: "do-you-own-ai-stocks",
            question: "Do you own any AI-specific stocks in your portfolio?",
            kind: PollKind::Single,
            options: &[("yes", "Yes", 41), ("no", "No", 87)],
            allow_comment: true,
            visibility: ResultsVisibility::Always,
            opens_at: now - Duration::days(8),
            closes_at: now - Duration::days(2),
        },
        DemoPoll {
            slug: "will-grok-compute-keep-doubling",
            question: "Grok was trained on 8,000 A100s. Will xAI really double its compute every couple of months?",
            kind: PollKind::Single,
            options: &[
                ("yes-and-faster", "Yes, and faster", 9),
                ("for-a-while", "For a while, then it stalls", 14),
                ("power-runs-out", "No, power and money run out first", 6),
                ("not-sure", "Not sure", 3),
            ],
            allow_comment: true,
            visibility: ResultsVisibility::AfterVote,
            opens_at: now - Duration::days(1),
            closes_at: now + Duration::days(6),
        },
        DemoPoll {
            slug: "which-ai-stories-next",
            question: "Which stories do you want more of? Pick up to two.",
            kind: PollKind::Multiple { max_choices: 2 },
            options: &[
                ("gpus", "GPUs, chips and who buys them", 7),
                ("miners", "Bitcoin miners turning to AI", 5),
                ("devices", "AI devices like the Humane pin", 2),
                ("stocks", "Boomers & Busters: AI stocks", 6),
            ],
            allow_comment: false,
            visibility: ResultsVisibility::Always,
            opens_at: now - Duration::days(2),
            closes_at: now + Duration::days(5),
        },
        DemoPoll {
            slug: "is-the-ai-pin-an-iphone-moment",
            question: "Is the Humane AI pin the \"iPhone moment\" for AI devices?",
            kind: PollKind::Single,
            options: &[
                ("yes", "Yes", 0),
                ("palmpilot", "No, more PalmPilot than iPhone", 0),
                ("too-early", "Too early to tell", 0),
            ],
            allow_comment: true,
            visibility: ResultsVisibility::AfterClose,
            opens_at: now + Duration::days(2),
            closes_at: now + Duration::days(9),
        },
    ]
}

pub async fn load_if_empty(store: &Arc<dyn Store>, now: DateTime<Utc>) -> Result<bool, StoreError> {
    if store.has_polls().await? {
        return Ok(false);
    }
    for demo in polls(now) {
        // Through the editor's own checks, like every other poll.
        let draft = PollDraft {
            question: demo.question.to_owned(),
            slug: Some(demo.slug.to_owned()),
            kind: demo.kind.choice(),
            max_choices: demo.kind.max_choices(),
            options: demo
                .options
                .iter()
                .map(|(key, label, _)| DraftOption { id: Some((*key).to_owned()), label: (*label).to_owned() })
                .collect(),
            allow_comment: demo.allow_comment,
            allow_vote_change: false,
            results_visibility: demo.visibility,
            opens_at: demo.opens_at,
            closes_at: demo.closes_at,
            version: None,
        };
        let invalid = |e: PollError| StoreError::Corrupt(format!("demo poll {}: {e}", demo.slug));
        let poll = draft.build(draft.wanted_slug().map_err(invalid)?, Publication::Published).map_err(invalid)?;
        let id = store.insert_poll(&poll, now).await?;
        cast_demo_votes(store, id, &demo).await?;
    }
    Ok(true)
}

/// Concurrent, so the vote writer commits them in a few groups.
async fn cast_demo_votes(store: &Arc<dyn Store>, id: PollId, demo: &DemoPoll) -> Result<(), StoreError> {
    let Some(poll) = store.poll_by_slug(&Slug::parse(demo.slug).expect("valid")).await? else {
        return Err(StoreError::Corrupt(format!("demo poll {} vanished", demo.slug)));
    };
    let mut tasks = tokio::task::JoinSet::new();
    let mut voter = 0;
    for (i, (_, _, votes)) in demo.options.iter().enumerate() {
        for _ in 0..*votes {
            voter += 1;
            let second = (demo.kind != PollKind::Single && voter % 2 == 0)
                .then(|| poll.options[(i + 1) % poll.options.len()].id);
            let vote = NewVote {
                poll: id,
                voter: format!("demo-{}-{voter}", demo.slug),
                option_ids: std::iter::once(poll.options[i].id).chain(second).collect(),
                comment: (demo.allow_comment && voter % 6 == 0)
                    .then(|| COMMENTS[(voter as usize / 6) % COMMENTS.len()].to_owned()),
                source: SOURCES[voter as usize % SOURCES.len()],
                at: demo.opens_at + Duration::minutes(voter * 7),
                replace: false,
                subscriber: None,
            };
            let store = store.clone();
            tasks.spawn(async move { store.record_vote(vote).await });
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| StoreError::Corrupt(e.to_string()))??;
    }
    Ok(())
}
