//! Polls, ballots and results: the rules of the product, with no I/O.
//! Both the server and the browser build use these types.

mod ballot;
mod error;
mod names;
mod poll;
mod results;

pub use ballot::{Ballot, BallotError, Comment, COMMENT_MAX_CHARS};
pub use error::AppError;
pub use names::{NameError, OptionKey, Slug};
pub use poll::{
    NewPoll, OptionView, Poll, PollId, PollKind, PollOption, PollStatus, PollView, Publication, ResultsVisibility,
};
pub use results::{OptionResult, ResultsView, Tally, VoteOutcome, VoteReceipt, VoteSource, VoterChoices};
