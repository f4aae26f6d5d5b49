//! The editor's side of a poll: drafts as typed, the workflow stages, and the rules for
//! what may change once readers have voted.

use super::{NewPoll, OptionKey, Poll, PollKind, PollView, Publication, ResultsView, ResultsVisibility, Slug};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

pub const QUESTION_MAX_CHARS: usize = 300;
pub const LABEL_MAX_CHARS: usize = 200;

/// A poll as an editor writes it, before it is checked. Option ids may be left out: new
/// options get one made from their label; existing ones keep theirs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PollDraft {
    pub question: String,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default = "single")]
    pub kind: String,
    #[serde(default = "one")]
    pub max_choices: u32,
    pub options: Vec<DraftOption>,
    #[serde(default)]
    pub allow_comment: bool,
    #[serde(default)]
    pub allow_vote_change: bool,
    #[serde(default = "after_vote")]
    pub results_visibility: ResultsVisibility,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    /// The version the editor started from; required when updating, so a second editor's
    /// save cannot silently overwrite the first.
    #[serde(default)]
    pub version: Option<i64>,
}

fn single() -> String {
    "single".into()
}
fn one() -> u32 {
    1
}
fn after_vote() -> ResultsVisibility {
    ResultsVisibility::AfterVote
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DraftOption {
    #[serde(default)]
    pub id: Option<String>,
    pub label: String,
}

/// Lowercase ASCII words joined by hyphens, cut at a word boundary: "Do you own AI stocks?"
/// becomes `do-you-own-ai-stocks`. Empty when the text has no ASCII letters or digits.
pub fn slugify(text: &str, max: usize) -> String {
    let mut out = String::new();
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        let extra = if out.is_empty() { word.len() } else { word.len() + 1 };
        if out.len() + extra > max {
            if out.is_empty() {
                out.push_str(&word[..max]);
            }
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(word);
    }
    out.to_ascii_lowercase()
}

/// `base`, then `base-2`, `base-3`, … within the slug length limit.
pub fn slug_candidates(base: &Slug) -> impl Iterator<Item = Slug> + '_ {
    std::iter::once(base.clone()).chain((2..).map(move |n: u32| {
        let suffix = format!("-{n}");
        let stem = slugify(base.as_str(), Slug::MAX_LEN - suffix.len());
        Slug::parse(&format!("{stem}{suffix}")).expect("a slug stem plus a number is a slug")
    }))
}

fn normalised_label(label: &str) -> String {
    label.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl PollDraft {
    /// The slug the editor asked for, or one made from the question.
    pub fn wanted_slug(&self) -> Result<Slug, String> {
        match self.slug.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(slug) => Slug::parse(slug).map_err(|e| format!("the address (slug) {e}")),
            None => {
                let made = slugify(&self.question, 60);
                Slug::parse(if made.is_empty() { "poll" } else { &made }).map_err(|e| e.to_string())
            }
        }
    }

    /// Checks everything a draft must satisfy and builds the poll to store.
    pub fn build(&self, slug: Slug, publication: Publication) -> Result<NewPoll, String> {
        let question = self.question.trim();
        if question.is_empty() {
            return Err("The question is empty.".into());
        }
        if question.chars().count() > QUESTION_MAX_CHARS {
            return Err(format!("The question is longer than {QUESTION_MAX_CHARS} characters."));
        }
        if self.options.len() < 2 {
            return Err("A poll needs at least two options.".into());
        }
        if self.options.len() > NewPoll::MAX_OPTIONS {
            return Err(format!("A poll has at most {} options.", NewPoll::MAX_OPTIONS));
        }
        let mut labels = HashSet::new();
        let mut keys = HashSet::new();
        let mut options = Vec::with_capacity(self.options.len());
        for (i, option) in self.options.iter().enumerate() {
            let label = option.label.trim();
            if label.is_empty() {
                return Err(format!("Option {} is empty.", i + 1));
            }
            if label.chars().count() > LABEL_MAX_CHARS {
                return Err(format!("Option {} is longer than {LABEL_MAX_CHARS} characters.", i + 1));
            }
            if !labels.insert(normalised_label(label)) {
                return Err(format!("The option \"{label}\" appears twice."));
            }
            let key = match option.id.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
                Some(id) => OptionKey::parse(id).map_err(|e| format!("The id of option {} {e}.", i + 1))?,
                None => unique_key(label, i, &keys),
            };
            if !keys.insert(key.clone()) {
                return Err(format!("The option id \"{key}\" appears twice."));
            }
            options.push((key, label.to_owned()));
        }
        let kind = match self.kind.as_str() {
            "single" => PollKind::Single,
            "multiple" if (1..=options.len() as u32).contains(&self.max_choices) => {
                PollKind::Multiple { max_choices: self.max_choices }
            }
            "multiple" => return Err(format!("The maximum number of choices must be 1 to {}.", options.len())),
            other => return Err(format!("The kind must be single or multiple, not {other:?}.")),
        };
        if self.closes_at <= self.opens_at {
            return Err("The poll must close after it opens.".into());
        }
        let poll = NewPoll {
            slug,
            question: question.to_owned(),
            kind,
            options,
            allow_comment: self.allow_comment,
            allow_vote_change: self.allow_vote_change,
            results_visibility: self.results_visibility,
            publication,
            opens_at: self.opens_at,
            closes_at: self.closes_at,
        };
        poll.validate().map(|()| poll).map_err(|e| format!("The poll is not valid: {e}."))
    }

    /// A new poll's starting point: opens tomorrow at 09:00 UTC and runs a week, as
    /// newsletter polls usually do.
    pub fn blank(now: DateTime<Utc>) -> Self {
        let tomorrow = (now + Duration::days(1)).date_naive();
        let opens = tomorrow.and_hms_opt(9, 0, 0).expect("09:00 exists").and_utc();
        PollDraft {
            question: String::new(),
            slug: None,
            kind: single(),
            max_choices: 1,
            options: Vec::new(),
            allow_comment: true,
            allow_vote_change: false,
            results_visibility: ResultsVisibility::AfterVote,
            opens_at: opens,
            closes_at: opens + Duration::days(7),
            version: None,
        }
    }

    /// The draft that reproduces a stored poll, for the edit form.
    pub fn of(poll: &PollView, version: i64) -> Self {
        PollDraft {
            question: poll.question.clone(),
            slug: Some(poll.slug.to_string()),
            kind: poll.kind.clone(),
            max_choices: poll.max_choices,
            options: poll
                .options
                .iter()
                .map(|o| DraftOption { id: Some(o.id.to_string()), label: o.label.clone() })
                .collect(),
            allow_comment: poll.allow_comment,
            allow_vote_change: poll.allow_vote_change,
            results_visibility: poll.results_visibility,
            opens_at: poll.opens_at,
            closes_at: poll.closes_at,
            version: Some(version),
        }
    }
}

fn unique_key(label: &str, index: usize, taken: &HashSet<OptionKey>) -> OptionKey {
    let made = slugify(label, 30);
    let base = if made.is_empty() { format!("option-{}", index + 1) } else { made };
    let base = OptionKey::parse(&base).expect("slugify makes keys");
    std::iter::once(base.clone())
        .chain((2..).map(|n| OptionKey::parse(&format!("{base}-{n}")).expect("key plus number is a key")))
        .find(|k| !taken.contains(k))
        .expect("an unused key exists")
}

/// Where a poll is in the editor's workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Stage {
    Draft,
    Scheduled,
    Open,
    Closed,
    Archived,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Draft => "draft",
            Stage::Scheduled => "scheduled",
            Stage::Open => "open",
            Stage::Closed => "closed",
            Stage::Archived => "archived",
        }
    }
}

/// The buttons of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// Draft → scheduled: opens by itself at its opening time.
    Schedule,
    /// Scheduled → draft.
    Unschedule,
    OpenNow,
    CloseNow,
    Archive,
}

impl Transition {
    pub const ALL: [Transition; 5] =
        [Transition::Schedule, Transition::Unschedule, Transition::OpenNow, Transition::CloseNow, Transition::Archive];

    pub fn name(self) -> &'static str {
        match self {
            Transition::Schedule => "schedule",
            Transition::Unschedule => "unschedule",
            Transition::OpenNow => "open",
            Transition::CloseNow => "close",
            Transition::Archive => "archive",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn label(self) -> &'static str {
        match self {
            Transition::Schedule => "Schedule",
            Transition::Unschedule => "Back to draft",
            Transition::OpenNow => "Open now",
            Transition::CloseNow => "Close now",
            Transition::Archive => "Archive",
        }
    }

    /// Whether the button applies to a poll in `stage`.
    pub fn applies_to(self, stage: Stage) -> bool {
        matches!(
            (self, stage),
            (Transition::Schedule, Stage::Draft)
                | (Transition::Unschedule, Stage::Scheduled)
                | (Transition::OpenNow, Stage::Draft | Stage::Scheduled)
                | (Transition::CloseNow, Stage::Open)
                | (Transition::Archive, Stage::Closed)
        )
    }
}

impl Poll {
    pub fn stage_at(&self, now: DateTime<Utc>) -> Stage {
        match self.publication {
            Publication::Draft => Stage::Draft,
            Publication::Archived => Stage::Archived,
            Publication::Published if now < self.opens_at => Stage::Scheduled,
            Publication::Published if now < self.closes_at => Stage::Open,
            Publication::Published => Stage::Closed,
        }
    }

    /// The poll as a `NewPoll`, the shape every write takes.
    pub fn to_new(&self) -> NewPoll {
        NewPoll {
            slug: self.slug.clone(),
            question: self.question.clone(),
            kind: self.kind,
            options: self.options.iter().map(|o| (o.key.clone(), o.label.clone())).collect(),
            allow_comment: self.allow_comment,
            allow_vote_change: self.allow_vote_change,
            results_visibility: self.results_visibility,
            publication: self.publication,
            opens_at: self.opens_at,
            closes_at: self.closes_at,
        }
    }

    /// The poll after pressing `transition` at `now`, or why the button does not apply.
    pub fn after(&self, transition: Transition, now: DateTime<Utc>) -> Result<NewPoll, String> {
        let stage = self.stage_at(now);
        if !transition.applies_to(stage) {
            return Err(format!("\"{}\" does not apply to a {} poll.", transition.label(), stage.name()));
        }
        let mut next = self.to_new();
        match transition {
            Transition::Schedule => {
                if self.opens_at <= now {
                    return Err("The opening time is in the past: pick a later time, or use \"Open now\".".into());
                }
                next.publication = Publication::Published;
            }
            Transition::Unschedule => next.publication = Publication::Draft,
            Transition::OpenNow => {
                if self.closes_at <= now {
                    return Err("The closing time is in the past: set a later one before opening.".into());
                }
                next.publication = Publication::Published;
                next.opens_at = now;
            }
            Transition::CloseNow => next.closes_at = now,
            Transition::Archive => next.publication = Publication::Archived,
        }
        Ok(next)
    }

    /// Refuses edits that would change what readers already voted for, rewrite history,
    /// or move a live poll's times behind the clock.
    pub fn check_edit(&self, next: &NewPoll, votes: u64, now: DateTime<Utc>) -> Result<(), String> {
        let stage = self.stage_at(now);
        if matches!(stage, Stage::Closed | Stage::Archived) {
            return Err(format!(
                "This poll is {}; its results are final and it can no longer be edited.",
                stage.name()
            ));
        }
        if votes > 0 {
            for option in &self.options {
                match next.options.iter().find(|(key, _)| key == &option.key) {
                    None => {
                        return Err(format!(
                            "\"{}\" already has votes counted against it ({votes} votes in this poll), so it cannot \
                             be removed. Close this poll and duplicate it instead.",
                            option.label
                        ))
                    }
                    Some((_, label)) if label != &option.label => {
                        return Err(format!(
                            "\"{}\" cannot be reworded: readers have already voted for the option as written.",
                            option.label
                        ))
                    }
                    Some(_) => {}
                }
            }
            if next.kind != self.kind {
                return Err("The choice rules cannot change once readers have voted.".into());
            }
        }
        if stage == Stage::Open && next.opens_at != self.opens_at {
            return Err("This poll is already open; its opening time cannot change.".into());
        }
        if stage == Stage::Scheduled && next.opens_at <= now {
            return Err("The opening time is in the past: pick a later time, or use \"Open now\".".into());
        }
        if matches!(stage, Stage::Scheduled | Stage::Open) && next.closes_at <= now {
            return Err("The closing time is in the past: use \"Close now\" to end the poll.".into());
        }
        Ok(())
    }

    /// Next week's draft of this poll: same question and options, times moved on by whole
    /// weeks until the poll opens in the future.
    pub fn duplicate(&self, now: DateTime<Utc>) -> NewPoll {
        let mut next = self.to_new();
        next.publication = Publication::Draft;
        let weeks = ((now - self.opens_at).num_weeks() + 1).max(1);
        next.opens_at = self.opens_at + Duration::weeks(weeks);
        next.closes_at = self.closes_at + Duration::weeks(weeks);
        next
    }
}

/// A poll with what only editors see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EditorPoll {
    pub id: i64,
    pub version: i64,
    pub stage: Stage,
    pub total_votes: u64,
    pub poll: PollView,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TimelinePoint {
    /// Start of the hour (UTC).
    pub hour: DateTime<Utc>,
    pub votes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SourceCount {
    pub source: String,
    pub votes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommentView {
    pub id: i64,
    pub body: String,
    pub hidden: bool,
    pub at: DateTime<Utc>,
    /// Labels of the options the commenter chose.
    pub choices: Vec<String>,
}

/// What the results dashboard shows; also the JSON export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub poll: EditorPoll,
    pub results: ResultsView,
    pub timeline: Vec<TimelinePoint>,
    pub sources: Vec<SourceCount>,
    pub comments: Vec<CommentView>,
    /// The latest summary of the comments, if any was made.
    #[serde(default)]
    pub summary: Option<super::SummaryView>,
    /// Summariser backends this server can run (`extractive` always).
    #[serde(default)]
    pub summary_backends: Vec<String>,
    #[serde(default)]
    pub summarise_on_close: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::poll::tests::{at, poll};

    fn draft() -> PollDraft {
        PollDraft {
            question: "Do you own any AI-specific stocks?".into(),
            slug: None,
            kind: "single".into(),
            max_choices: 1,
            options: ["Yes", "No", "Not sure"].iter().map(|l| DraftOption { id: None, label: (*l).into() }).collect(),
            allow_comment: true,
            allow_vote_change: false,
            results_visibility: ResultsVisibility::Always,
            opens_at: at(7, 9),
            closes_at: at(14, 9),
            version: None,
        }
    }

    fn built(d: &PollDraft) -> Result<NewPoll, String> {
        d.build(d.wanted_slug()?, Publication::Draft)
    }

    #[test]
    fn slugs_and_keys_are_made_from_text() {
        assert_eq!(slugify("Do you own AI-specific stocks?", 60), "do-you-own-ai-specific-stocks");
        assert_eq!(slugify("Grok: 8,000 A100s!", 60), "grok-8-000-a100s");
        assert_eq!(slugify("one two three", 8), "one-two");
        assert_eq!(slugify("¿¡!", 60), "");
        assert_eq!(draft().wanted_slug().unwrap().as_str(), "do-you-own-any-ai-specific-stocks");
        let keys: Vec<_> = built(&draft()).unwrap().options.into_iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(keys, ["yes", "no", "not-sure"]);
        let mut odd = draft();
        odd.options = vec![
            DraftOption { id: None, label: "🚀".into() },
            DraftOption { id: None, label: "Yes!".into() },
            DraftOption { id: None, label: "Yes?".into() },
        ];
        let keys: Vec<_> = built(&odd).unwrap().options.into_iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(keys, ["option-1", "yes", "yes-2"]);
        let base = Slug::parse(&"a".repeat(80)).unwrap();
        let second = slug_candidates(&base).nth(1).unwrap();
        assert!(second.as_str().ends_with("-2") && second.as_str().len() <= Slug::MAX_LEN);
    }

    #[test]
    fn drafts_refuse_bad_input_with_a_reason() {
        type Change = Box<dyn Fn(&mut PollDraft)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|d| d.question = "  ".into()), "question is empty"),
            (Box::new(|d| d.question = "q".repeat(301)), "longer than 300"),
            (Box::new(|d| d.options.truncate(1)), "at least two"),
            (Box::new(|d| d.options[1].label = " ".into()), "Option 2 is empty"),
            (Box::new(|d| d.options[1].label = " yes ".into()), "appears twice"),
            (Box::new(|d| d.options[0].label = "x".repeat(201)), "longer than 200"),
            (
                Box::new(|d| d.options = (0..21).map(|i| DraftOption { id: None, label: format!("O{i}") }).collect()),
                "at most 20",
            ),
            (Box::new(|d| d.closes_at = d.opens_at), "close after it opens"),
            (Box::new(|d| d.kind = "ranked".into()), "single or multiple"),
            (
                Box::new(|d| {
                    d.kind = "multiple".into();
                    d.max_choices = 4
                }),
                "1 to 3",
            ),
            (Box::new(|d| d.slug = Some("Bad Slug".into())), "slug"),
            (Box::new(|d| d.options[0].id = Some("No Way".into())), "id of option 1"),
        ];
        for (change, expected) in cases {
            let mut d = draft();
            change(&mut d);
            let error = built(&d).unwrap_err();
            assert!(error.contains(expected), "expected {expected:?} in {error:?}");
        }
    }

    #[test]
    fn a_blank_draft_opens_tomorrow_morning_for_a_week() {
        let blank = PollDraft::blank(at(7, 15));
        assert_eq!((blank.opens_at, blank.closes_at), (at(8, 9), at(15, 9)));
        assert!(blank.question.is_empty() && blank.options.is_empty());
    }

    #[test]
    fn stages_follow_publication_and_clock() {
        let mut p = poll(PollKind::Single, ResultsVisibility::Always);
        p.publication = Publication::Draft;
        assert_eq!(p.stage_at(at(10, 0)), Stage::Draft);
        p.publication = Publication::Published;
        assert_eq!(p.stage_at(at(7, 8)), Stage::Scheduled);
        assert_eq!(p.stage_at(at(7, 9)), Stage::Open);
        assert_eq!(p.stage_at(at(14, 9)), Stage::Closed);
        p.publication = Publication::Archived;
        assert_eq!(p.stage_at(at(20, 0)), Stage::Archived);
    }

    #[test]
    fn transitions_move_through_the_workflow() {
        let mut p = poll(PollKind::Single, ResultsVisibility::Always);
        p.publication = Publication::Draft;
        let now = at(6, 0);
        let scheduled = p.after(Transition::Schedule, now).unwrap();
        assert_eq!(scheduled.publication, Publication::Published);
        assert!(p.after(Transition::Schedule, at(8, 0)).unwrap_err().contains("in the past"));
        let opened = p.after(Transition::OpenNow, now).unwrap();
        assert_eq!((opened.publication, opened.opens_at), (Publication::Published, now));
        assert!(p.after(Transition::CloseNow, now).unwrap_err().contains("does not apply to a draft"));
        p.publication = Publication::Published;
        let closed = p.after(Transition::CloseNow, at(8, 0)).unwrap();
        assert_eq!(closed.closes_at, at(8, 0));
        assert!(p.after(Transition::Archive, at(8, 0)).is_err());
        assert_eq!(p.after(Transition::Archive, at(15, 0)).unwrap().publication, Publication::Archived);
    }

    #[test]
    fn voted_options_are_locked() {
        let p = poll(PollKind::Single, ResultsVisibility::Always);
        let now = at(8, 0);
        let mut reworded = p.to_new();
        reworded.options[0].1 = "Yes, lots".into();
        assert!(p.check_edit(&reworded, 3, now).unwrap_err().contains("cannot be reworded"));
        assert!(p.check_edit(&reworded, 0, now).is_ok());
        let mut removed = p.to_new();
        removed.options.remove(2);
        assert!(p.check_edit(&removed, 3, now).unwrap_err().contains("cannot be removed"));
        let mut reordered = p.to_new();
        reordered.options.reverse();
        reordered.options.push((OptionKey::parse("other").unwrap(), "Other".into()));
        reordered.question = "Do you own AI stocks?".into();
        assert_eq!(p.check_edit(&reordered, 3, now), Ok(()));
        assert!(p.check_edit(&p.to_new(), 0, at(15, 0)).unwrap_err().contains("final"));
        let mut moved = p.to_new();
        moved.opens_at = at(9, 0);
        assert!(p.check_edit(&moved, 0, now).unwrap_err().contains("already open"));
    }

    #[test]
    fn duplicates_are_next_weeks_drafts() {
        let p = poll(PollKind::Single, ResultsVisibility::Always);
        let copy = p.duplicate(at(15, 0));
        assert_eq!(copy.publication, Publication::Draft);
        assert_eq!(copy.opens_at, at(21, 9));
        assert_eq!(copy.closes_at, at(28, 9));
        assert_eq!(copy.options, p.to_new().options);
    }
}
