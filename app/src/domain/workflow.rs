//! The editor's workflow: a poll's stage, the buttons that move it on, and what may change
//! once readers have voted. Pure functions of the poll and the clock.

use super::{NewPoll, Poll, Publication, Slug};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Why an edit or a button is refused. The messages are the editor's (`edit_refused`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("\"{}\" does not apply to {} poll.", .0.label(), .1.with_article())]
    DoesNotApply(Transition, Stage),
    #[error("The opening time is in the past: pick a later time, or use \"Open now\".")]
    OpensInThePast,
    #[error("The closing time is in the past: set a later one before opening.")]
    ClosedBeforeOpening,
    #[error("This poll is {}; its results are final and it can no longer be edited.", .0.name())]
    Final(Stage),
    #[error(
        "\"{label}\" already has votes counted against it ({votes} votes in this poll), so it cannot be removed. \
         Close this poll and duplicate it instead."
    )]
    OptionHasVotes { label: String, votes: u64 },
    #[error("\"{0}\" cannot be reworded: readers have already voted for the option as written.")]
    OptionReworded(String),
    #[error("The choice rules cannot change once readers have voted.")]
    RulesLocked,
    #[error("This poll is already open; its opening time cannot change.")]
    OpeningLocked,
    #[error("The closing time is in the past: use \"Close now\" to end the poll.")]
    ClosesInThePast,
    #[error("This poll is published and its address may already be in a newsletter; it cannot change.")]
    AddressLocked,
}

/// What an editor can do to a stored poll with one button: a workflow step, or a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollAction {
    Step(Transition),
    /// Next week's draft of the poll (`Poll::duplicate`).
    Duplicate,
}

impl PollAction {
    /// The form's and the API's name: a transition's, or `duplicate`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "duplicate" => Some(PollAction::Duplicate),
            _ => Transition::parse(name).map(PollAction::Step),
        }
    }
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
    /// "a draft", "an open": for sentences.
    pub fn with_article(self) -> &'static str {
        match self {
            Stage::Draft => "a draft",
            Stage::Scheduled => "a scheduled",
            Stage::Open => "an open",
            Stage::Closed => "a closed",
            Stage::Archived => "an archived",
        }
    }

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
    /// Closed → open again, for `REOPEN_FOR` (editable like any open poll), until archived.
    Reopen,
    Archive,
}

/// How long a reopened poll stays open unless the editor sets another closing time.
pub const REOPEN_FOR: Duration = Duration::days(1);

impl Transition {
    pub const ALL: [Transition; 6] = [
        Transition::Schedule,
        Transition::Unschedule,
        Transition::OpenNow,
        Transition::CloseNow,
        Transition::Reopen,
        Transition::Archive,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Transition::Schedule => "schedule",
            Transition::Unschedule => "unschedule",
            Transition::OpenNow => "open",
            Transition::CloseNow => "close",
            Transition::Reopen => "reopen",
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
            Transition::Reopen => "Reopen",
            Transition::Archive => "Archive",
        }
    }

    /// Steps readers feel at once (a poll appears, stops or starts taking votes again) are
    /// confirmed in a second step; the question asked there.
    pub fn confirmation(self) -> Option<&'static str> {
        match self {
            Transition::OpenNow => Some("Open this poll now? Readers can vote from this moment."),
            Transition::CloseNow => {
                Some("Close this poll now? Readers can no longer vote, and the results become final. You can reopen it until it is archived.")
            }
            Transition::Reopen => Some("Reopen this poll? Readers can vote again for a day; edit it to set another closing time."),
            Transition::Schedule | Transition::Unschedule | Transition::Archive => None,
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
                | (Transition::Reopen, Stage::Closed)
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
    pub fn after(&self, transition: Transition, now: DateTime<Utc>) -> Result<NewPoll, EditError> {
        let stage = self.stage_at(now);
        if !transition.applies_to(stage) {
            return Err(EditError::DoesNotApply(transition, stage));
        }
        let mut next = self.to_new();
        match transition {
            Transition::Schedule => {
                if self.opens_at <= now {
                    return Err(EditError::OpensInThePast);
                }
                next.publication = Publication::Published;
            }
            Transition::Unschedule => next.publication = Publication::Draft,
            Transition::OpenNow => {
                if self.closes_at <= now {
                    return Err(EditError::ClosedBeforeOpening);
                }
                next.publication = Publication::Published;
                next.opens_at = now;
            }
            Transition::CloseNow => next.closes_at = now,
            Transition::Reopen => next.closes_at = now + REOPEN_FOR,
            Transition::Archive => next.publication = Publication::Archived,
        }
        Ok(next)
    }

    /// Refuses edits that would change what readers already voted for, rewrite history,
    /// or move a live poll's times behind the clock.
    pub fn check_edit(&self, next: &NewPoll, votes: u64, now: DateTime<Utc>) -> Result<(), EditError> {
        let stage = self.stage_at(now);
        if matches!(stage, Stage::Closed | Stage::Archived) {
            return Err(EditError::Final(stage));
        }
        if votes > 0 {
            for option in &self.options {
                match next.options.iter().find(|(key, _)| key == &option.key) {
                    None => return Err(EditError::OptionHasVotes { label: option.label.clone(), votes }),
                    Some((_, label)) if label != &option.label => {
                        return Err(EditError::OptionReworded(option.label.clone()))
                    }
                    Some(_) => {}
                }
            }
            if next.kind != self.kind {
                return Err(EditError::RulesLocked);
            }
        }
        if stage == Stage::Open && next.opens_at != self.opens_at {
            return Err(EditError::OpeningLocked);
        }
        if stage == Stage::Scheduled && next.opens_at <= now {
            return Err(EditError::OpensInThePast);
        }
        if matches!(stage, Stage::Scheduled | Stage::Open) && next.closes_at <= now {
            return Err(EditError::ClosesInThePast);
        }
        Ok(())
    }

    /// Refuses moving a published poll to another address (it may be in a newsletter already).
    pub fn check_address(&self, next: &Slug) -> Result<(), EditError> {
        if next != &self.slug && self.publication != Publication::Draft {
            return Err(EditError::AddressLocked);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::poll::tests::{at, poll};
    use crate::domain::{OptionKey, PollKind, ResultsVisibility, Stage};

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
        assert_eq!(p.after(Transition::Schedule, at(8, 0)), Err(EditError::OpensInThePast));
        let opened = p.after(Transition::OpenNow, now).unwrap();
        assert_eq!((opened.publication, opened.opens_at), (Publication::Published, now));
        assert_eq!(
            p.after(Transition::CloseNow, now),
            Err(EditError::DoesNotApply(Transition::CloseNow, Stage::Draft))
        );
        assert_eq!(
            EditError::DoesNotApply(Transition::CloseNow, Stage::Draft).to_string(),
            "\"Close now\" does not apply to a draft poll."
        );
        p.publication = Publication::Published;
        let closed = p.after(Transition::CloseNow, at(8, 0)).unwrap();
        assert_eq!(closed.closes_at, at(8, 0));
        assert!(p.after(Transition::Archive, at(8, 0)).is_err());
        assert_eq!(p.after(Transition::Archive, at(15, 0)).unwrap().publication, Publication::Archived);
    }

    #[test]
    fn a_closed_poll_reopens_until_it_is_archived() {
        let mut p = poll(PollKind::Single, ResultsVisibility::Always);
        p.publication = Publication::Published;
        let open = at(8, 0);
        assert_eq!(p.after(Transition::Reopen, open), Err(EditError::DoesNotApply(Transition::Reopen, Stage::Open)));
        // Closed: reopening keeps everything but the closing time, a day from now.
        let now = at(15, 0);
        let reopened = p.after(Transition::Reopen, now).unwrap();
        assert_eq!((reopened.opens_at, reopened.closes_at), (p.opens_at, now + REOPEN_FOR));
        assert_eq!(reopened.publication, Publication::Published);
        p.publication = Publication::Archived;
        assert_eq!(p.after(Transition::Reopen, now), Err(EditError::DoesNotApply(Transition::Reopen, Stage::Archived)));
        // What readers feel at once is confirmed first; the rest is one press.
        let confirmed: Vec<_> = Transition::ALL.into_iter().filter(|t| t.confirmation().is_some()).collect();
        assert_eq!(confirmed, [Transition::OpenNow, Transition::CloseNow, Transition::Reopen]);
    }

    #[test]
    fn voted_options_are_locked() {
        let p = poll(PollKind::Single, ResultsVisibility::Always);
        let now = at(8, 0);
        let mut reworded = p.to_new();
        reworded.options[0].1 = "Yes, lots".into();
        assert_eq!(p.check_edit(&reworded, 3, now), Err(EditError::OptionReworded("YES".into())));
        assert!(p.check_edit(&reworded, 0, now).is_ok());
        let mut removed = p.to_new();
        removed.options.remove(2);
        assert_eq!(
            p.check_edit(&removed, 3, now),
            Err(EditError::OptionHasVotes { label: "NOT-SURE".into(), votes: 3 })
        );
        let mut reordered = p.to_new();
        reordered.options.reverse();
        reordered.options.push((OptionKey::parse("other").unwrap(), "Other".into()));
        reordered.question = "Do you own AI stocks?".into();
        assert_eq!(p.check_edit(&reordered, 3, now), Ok(()));
        assert_eq!(p.check_edit(&p.to_new(), 0, at(15, 0)), Err(EditError::Final(Stage::Closed)));
        let mut moved = p.to_new();
        moved.opens_at = at(9, 0);
        assert_eq!(p.check_edit(&moved, 0, now), Err(EditError::OpeningLocked));
        assert_eq!(p.check_address(&Slug::parse("elsewhere").unwrap()), Err(EditError::AddressLocked));
        assert_eq!(PollAction::parse("duplicate"), Some(PollAction::Duplicate));
        assert_eq!(PollAction::parse("close"), Some(PollAction::Step(Transition::CloseNow)));
        assert_eq!(PollAction::parse("delete"), None);
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
