//! Polls, ballots and results: the rules of the product, with no I/O.
//! Both the server and the browser build use these types.

mod authoring;
mod ballot;
mod delivery;
mod editor;
mod error;
mod export;
mod names;
mod poll;
mod results;
mod summary;
#[cfg(any(feature = "hydrate", test))]
pub(crate) mod wire;

pub use authoring::{
    slug_candidates, slugify, CommentView, Dashboard, DraftOption, EditorPoll, PollDraft, SourceCount, Stage,
    TimelinePoint, Transition, LABEL_MAX_CHARS, QUESTION_MAX_CHARS,
};
pub use ballot::{Ballot, BallotError, Comment, COMMENT_MAX_CHARS};
pub use delivery::{check_subscriber, EmailBlockView, Esp, ShareKit, SubscriberProblem, SUBSCRIBER_MAX_CHARS};
pub use editor::{check_new_password, ApiTokenView, AuditView, EditorId, EditorIdentity, Email, PASSWORD_MIN_CHARS};
pub use error::AppError;
pub use export::{comments_csv, results_csv};
pub use names::{NameError, OptionKey, Slug};
pub use poll::{
    NewPoll, OptionView, Poll, PollId, PollKind, PollOption, PollStatus, PollView, Publication, ResultsVisibility,
};
pub use results::{OptionResult, ResultsView, Tally, VoteOutcome, VoteReceipt, VoteSource, VoterChoices};
pub use summary::{summary_email, SummaryChecks, SummaryEdits, SummaryQuote, SummaryTheme, SummaryView, ThemeEdit};
