//! A poll ready to store. It can only be made by checking a draft (`PollDraft::build`) or
//! from a stored poll (`Poll::to_new` and the workflow), so every door (the editor's form and
//! API, imports, the demo) goes through the same rules, and storage may assume them.

use super::PollKind;
use super::{NameError, OptionKey, Publication, ResultsVisibility, Slug};
use chrono::{DateTime, Utc};

pub const QUESTION_MAX_CHARS: usize = 300;
pub const LABEL_MAX_CHARS: usize = 200;
pub const MAX_OPTIONS: usize = 20;

/// Why a draft is not a poll yet. The messages are the editor's: shown beside the form and
/// in the API's `invalid_poll` errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PollError {
    #[error("The question is empty.")]
    EmptyQuestion,
    #[error("The question is longer than {QUESTION_MAX_CHARS} characters.")]
    QuestionTooLong,
    #[error("A poll needs at least two options.")]
    TooFewOptions,
    #[error("A poll has at most {MAX_OPTIONS} options.")]
    TooManyOptions,
    /// Options are numbered from 1, as the form shows them.
    #[error("Option {0} is empty.")]
    EmptyOption(usize),
    #[error("Option {0} is longer than {LABEL_MAX_CHARS} characters.")]
    OptionTooLong(usize),
    #[error("The option \"{0}\" appears twice.")]
    RepeatedLabel(String),
    #[error("The id of option {0} {1}.")]
    BadOptionId(usize, NameError),
    #[error("The option id \"{0}\" appears twice.")]
    RepeatedOptionId(OptionKey),
    #[error("A multiple-choice poll lets readers pick 2 to {0} options: set the maximum between 2 and {0}, or make it single choice.")]
    MaxChoices(usize),
    #[error("The poll must close after it opens.")]
    ClosesBeforeItOpens,
    #[error("The address (slug) {0}.")]
    BadSlug(NameError),
    #[error("Say which version of the poll you edited (\"version\").")]
    NoVersion,
    /// The field (as the form names it) and the character.
    #[error("{}", super::control_problem(.0, *.1))]
    ControlCharacter(String, char),
}

/// A checked poll: a question, 2 to 20 uniquely keyed, non-empty options, a choice limit
/// within them, and a closing time after the opening time.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPoll {
    pub(super) slug: Slug,
    pub(super) question: String,
    pub(super) kind: PollKind,
    pub(super) options: Vec<(OptionKey, String)>,
    pub(super) allow_comment: bool,
    pub(super) allow_vote_change: bool,
    pub(super) results_visibility: ResultsVisibility,
    pub(super) publication: Publication,
    pub(super) opens_at: DateTime<Utc>,
    pub(super) closes_at: DateTime<Utc>,
}

impl NewPoll {
    pub fn slug(&self) -> &Slug {
        &self.slug
    }
    pub fn question(&self) -> &str {
        &self.question
    }
    pub fn kind(&self) -> PollKind {
        self.kind
    }
    /// In display order.
    pub fn options(&self) -> &[(OptionKey, String)] {
        &self.options
    }
    pub fn allow_comment(&self) -> bool {
        self.allow_comment
    }
    pub fn allow_vote_change(&self) -> bool {
        self.allow_vote_change
    }
    pub fn results_visibility(&self) -> ResultsVisibility {
        self.results_visibility
    }
    pub fn publication(&self) -> Publication {
        self.publication
    }
    pub fn opens_at(&self) -> DateTime<Utc> {
        self.opens_at
    }
    pub fn closes_at(&self) -> DateTime<Utc> {
        self.closes_at
    }

    /// The same poll at another address (a free slug found for a copy).
    pub fn at(self, slug: Slug) -> Self {
        NewPoll { slug, ..self }
    }

    /// Which fields differ from `before`, in the editor's words (the audit log).
    pub fn changes_from(&self, before: &NewPoll) -> Vec<&'static str> {
        let fields = [
            ("question", before.question != self.question),
            ("address", before.slug != self.slug),
            ("options", before.options != self.options),
            ("choice rules", before.kind != self.kind),
            ("comment box", before.allow_comment != self.allow_comment),
            ("vote changes", before.allow_vote_change != self.allow_vote_change),
            ("results visibility", before.results_visibility != self.results_visibility),
            ("times", before.opens_at != self.opens_at || before.closes_at != self.closes_at),
        ];
        fields.iter().filter(|(_, changed)| *changed).map(|(name, _)| *name).collect()
    }
}
