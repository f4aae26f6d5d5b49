use super::{BallotError, PollStatus};
use serde::{Deserialize, Serialize};

/// Every error a reader or API client can be shown. `code` and `status` are the public
/// contract of `server/src/http/CONTRACT.md`; the `Display` text is the human sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("There is no poll at this address.")]
    PollNotFound,
    #[error("This poll is {0} and is not taking votes.")]
    PollNotOpen(PollStatus),
    #[error("{0}")]
    InvalidChoices(String),
    #[error("{0}")]
    CommentTooLong(String),
    #[error("{0}")]
    CommentNotAllowed(String),
    #[error("The results of this poll are not shown yet.")]
    ResultsHidden,
    #[error("The request could not be read: {0}")]
    MalformedRequest(String),
    #[error("The request body is larger than {0} bytes.")]
    PayloadTooLarge(usize),
    #[error("Too many votes from your network in the last minute. Please wait a moment and try again.")]
    RateLimited,
    #[error("There is nothing at this address.")]
    NotFound,
    #[error("Please sign in as an editor.")]
    Unauthorized,
    #[error("This request did not come from a Polltelligence page (missing or wrong security token). Reload the page and try again.")]
    CsrfFailed,
    #[error("The email or password is not right.")]
    LoginFailed,
    #[error("Too many failed sign-ins. Please wait {0} minutes and try again.")]
    TooManyAttempts(u32),
    #[error("{0}")]
    InvalidPoll(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("Someone else saved this poll after you opened it. Reload to see their changes, then edit again.")]
    StaleEdit,
    #[error("{0}")]
    EditRefused(String),
    #[error("The address /polls/{0} is taken by another poll. Choose another.")]
    SlugTaken(String),
    #[error("Too many live-results connections are open right now. Please try again in a moment.")]
    TooManyListeners,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    BackendUnavailable(String),
    #[error("There is no such summary.")]
    SummaryNotFound,
    #[error("{0}")]
    SummaryNotReady(String),
    #[error("{0}")]
    SummaryCheckFailed(String),
    #[error("This request came from another website. Votes and changes are taken only from Polltelligence's own pages; open the poll here and vote there.")]
    CrossSite,
    #[error("Send this request as JSON (Content-Type: application/json).")]
    UnsupportedMediaType,
    #[error("The service is briefly unavailable (its database is not answering). Please try again in a moment.")]
    Unavailable,
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    #[error("The server could not be reached. Check your connection and try again.")]
    Unreachable,
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::PollNotFound => "poll_not_found",
            AppError::PollNotOpen(_) => "poll_not_open",
            AppError::InvalidChoices(_) => "invalid_choices",
            AppError::CommentTooLong(_) => "comment_too_long",
            AppError::CommentNotAllowed(_) => "comment_not_allowed",
            AppError::ResultsHidden => "results_hidden",
            AppError::MalformedRequest(_) => "malformed_request",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::RateLimited => "rate_limited",
            AppError::NotFound => "not_found",
            AppError::Unauthorized => "unauthorized",
            AppError::CsrfFailed => "csrf_failed",
            AppError::LoginFailed => "login_failed",
            AppError::TooManyAttempts(_) => "too_many_attempts",
            AppError::InvalidPoll(_) => "invalid_poll",
            AppError::InvalidInput(_) => "invalid_input",
            AppError::StaleEdit => "stale_edit",
            AppError::EditRefused(_) => "edit_refused",
            AppError::SlugTaken(_) => "slug_taken",
            AppError::TooManyListeners => "too_many_listeners",
            AppError::Forbidden(_) => "forbidden",
            AppError::Unsupported(_) => "not_implemented",
            AppError::BackendUnavailable(_) => "backend_unavailable",
            AppError::SummaryNotFound => "summary_not_found",
            AppError::SummaryNotReady(_) => "summary_not_ready",
            AppError::SummaryCheckFailed(_) => "summary_check_failed",
            AppError::CrossSite => "cross_site_request",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::Unavailable => "service_unavailable",
            AppError::Internal => "internal_error",
            AppError::Unreachable => "unreachable",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::MalformedRequest(_) => 400,
            AppError::Unauthorized | AppError::LoginFailed => 401,
            AppError::ResultsHidden | AppError::CsrfFailed | AppError::Forbidden(_) | AppError::CrossSite => 403,
            AppError::PollNotFound | AppError::NotFound | AppError::SummaryNotFound => 404,
            AppError::PollNotOpen(_)
            | AppError::StaleEdit
            | AppError::EditRefused(_)
            | AppError::SlugTaken(_)
            | AppError::SummaryNotReady(_) => 409,
            AppError::PayloadTooLarge(_) => 413,
            AppError::UnsupportedMediaType => 415,
            AppError::InvalidChoices(_)
            | AppError::CommentTooLong(_)
            | AppError::CommentNotAllowed(_)
            | AppError::InvalidPoll(_)
            | AppError::InvalidInput(_)
            | AppError::BackendUnavailable(_)
            | AppError::SummaryCheckFailed(_) => 422,
            AppError::RateLimited | AppError::TooManyAttempts(_) => 429,
            AppError::Internal => 500,
            AppError::Unsupported(_) => 501,
            AppError::Unreachable | AppError::TooManyListeners | AppError::Unavailable => 503,
        }
    }
}

impl From<BallotError> for AppError {
    fn from(e: BallotError) -> Self {
        let message = e.to_string();
        match e {
            BallotError::CommentTooLong => AppError::CommentTooLong(message),
            BallotError::CommentNotAllowed => AppError::CommentNotAllowed(message),
            BallotError::CommentControl(_) => AppError::InvalidInput(message),
            _ => AppError::InvalidChoices(message),
        }
    }
}

impl From<super::PollError> for AppError {
    fn from(e: super::PollError) -> Self {
        AppError::InvalidPoll(e.to_string())
    }
}

impl From<super::EditError> for AppError {
    fn from(e: super::EditError) -> Self {
        AppError::EditRefused(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballot_errors_map_to_api_codes() {
        assert_eq!(AppError::from(BallotError::NoChoice).code(), "invalid_choices");
        assert_eq!(AppError::from(BallotError::CommentTooLong).code(), "comment_too_long");
        assert_eq!(AppError::from(BallotError::CommentTooLong).status(), 422);
        assert_eq!(
            AppError::PollNotOpen(PollStatus::Closed).to_string(),
            "This poll is closed and is not taking votes."
        );
    }
}
