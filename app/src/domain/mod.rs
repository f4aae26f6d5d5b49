//! Polls, ballots and results: the rules of the product, with no I/O.
//! Both the server and the browser build use these types.

mod ballot;
mod delivery;
mod draft;
mod editor;
mod error;
mod names;
mod new_poll;
pub(crate) mod poll;
mod results;
mod summary;
mod text;
#[cfg(any(feature = "hydrate", test))]
pub(crate) mod wire;
mod workflow;

pub use ballot::{Ballot, BallotError, Comment, COMMENT_MAX_CHARS};
pub use delivery::{check_subscriber, EmailBlockView, Esp, ShareKit, SubscriberProblem, SUBSCRIBER_MAX_CHARS};
pub use draft::{slug_candidates, slugify, DraftOption, PollDraft};
pub use editor::{
    check_new_password, ApiTokenView, AuditAction, AuditView, CredentialError, EditorId, EditorIdentity, Email,
    PASSWORD_MIN_CHARS,
};
pub use error::AppError;
pub use names::{NameError, OptionKey, Slug};
pub use new_poll::{NewPoll, PollError, LABEL_MAX_CHARS, MAX_OPTIONS, QUESTION_MAX_CHARS};
pub use poll::{
    ChoiceKind, OptionView, Poll, PollId, PollKind, PollOption, PollStatus, PollView, Publication, ResultsVisibility,
};
pub use results::{Counted, OptionResult, ResultsView, Tally, VoteOutcome, VoteReceipt, VoteSource, VoterChoices};
pub use summary::{
    summary_email, Reason, ReasonSection, SummaryChecks, SummaryEdits, SummaryQuote, SummaryStatus, SummaryTheme,
    SummaryView, ThemeEdit,
};
pub use text::{control_character, control_problem, without_invisibles};
pub use workflow::{EditError, PollAction, Stage, Transition};
