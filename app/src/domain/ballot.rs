use super::{OptionKey, Poll};

pub const COMMENT_MAX_CHARS: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BallotError {
    #[error("Choose at least one option.")]
    NoChoice,
    #[error("\"{0}\" is not an option of this poll.")]
    UnknownOption(String),
    #[error("\"{0}\" was chosen more than once.")]
    DuplicateChoice(String),
    #[error("Choose at most {max} options ({given} were chosen).")]
    TooManyChoices { max: u32, given: usize },
    #[error("Comments can be at most {max} characters.", max = COMMENT_MAX_CHARS)]
    CommentTooLong,
    #[error("This poll does not take comments.")]
    CommentNotAllowed,
    #[error("{}", super::control_problem("The comment", *.0))]
    CommentControl(char),
}

/// A reader's optional "why?": trimmed, refused if it holds a control character (other than
/// line breaks and tabs), and stripped of invisible characters that reorder or hide text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment(String);

impl Comment {
    pub fn parse(raw: &str) -> Result<Option<Self>, BallotError> {
        if let Some(c) = super::control_character(raw, true) {
            return Err(BallotError::CommentControl(c));
        }
        let cleaned = super::without_invisibles(raw.trim()).trim().to_owned();
        if cleaned.is_empty() {
            Ok(None)
        } else if cleaned.chars().count() > COMMENT_MAX_CHARS {
            Err(BallotError::CommentTooLong)
        } else {
            Ok(Some(Comment(cleaned)))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A valid vote for one poll: known options, no repeats, within the poll's maximum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    /// In the poll's option order.
    choices: Vec<OptionKey>,
    comment: Option<Comment>,
}

impl Ballot {
    pub fn parse<S: AsRef<str>>(poll: &Poll, choices: &[S], comment: Option<&str>) -> Result<Self, BallotError> {
        if choices.is_empty() {
            return Err(BallotError::NoChoice);
        }
        let mut chosen = vec![false; poll.options.len()];
        for choice in choices {
            let choice = choice.as_ref();
            let index = poll
                .options
                .iter()
                .position(|o| o.key.as_str() == choice)
                .ok_or_else(|| BallotError::UnknownOption(choice.chars().take(60).collect()))?;
            if std::mem::replace(&mut chosen[index], true) {
                return Err(BallotError::DuplicateChoice(choice.to_owned()));
            }
        }
        let max = poll.kind.max_choices();
        if choices.len() > max as usize {
            return Err(BallotError::TooManyChoices { max, given: choices.len() });
        }
        let comment = comment.map(Comment::parse).transpose()?.flatten();
        if comment.is_some() && !poll.allow_comment {
            return Err(BallotError::CommentNotAllowed);
        }
        let choices =
            poll.options.iter().zip(chosen).filter(|(_, picked)| *picked).map(|(o, _)| o.key.clone()).collect();
        Ok(Ballot { choices, comment })
    }

    pub fn choices(&self) -> &[OptionKey] {
        &self.choices
    }

    pub fn comment(&self) -> Option<&Comment> {
        self.comment.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::poll::tests::poll;
    use crate::domain::{PollKind, ResultsVisibility};

    fn single() -> Poll {
        poll(PollKind::Single, ResultsVisibility::Always)
    }

    #[test]
    fn a_single_choice_is_accepted() {
        let ballot = Ballot::parse(&single(), &["no"], None).unwrap();
        assert_eq!(ballot.choices(), &[OptionKey::parse("no").unwrap()]);
        assert_eq!(ballot.comment(), None);
    }

    #[test]
    fn bad_choices_are_refused_with_the_reason() {
        let p = single();
        assert_eq!(Ballot::parse::<&str>(&p, &[], None), Err(BallotError::NoChoice));
        assert_eq!(Ballot::parse(&p, &["maybe"], None), Err(BallotError::UnknownOption("maybe".into())));
        assert_eq!(Ballot::parse(&p, &["yes", "yes"], None), Err(BallotError::DuplicateChoice("yes".into())));
        assert_eq!(Ballot::parse(&p, &["yes", "no"], None), Err(BallotError::TooManyChoices { max: 1, given: 2 }));
    }

    #[test]
    fn multiple_choice_respects_the_maximum_and_keeps_poll_order() {
        let p = poll(PollKind::Multiple { max_choices: 2 }, ResultsVisibility::Always);
        let ballot = Ballot::parse(&p, &["not-sure", "yes"], None).unwrap();
        let keys: Vec<_> = ballot.choices().iter().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["yes", "not-sure"]);
        assert!(matches!(
            Ballot::parse(&p, &["yes", "no", "not-sure"], None),
            Err(BallotError::TooManyChoices { max: 2, given: 3 })
        ));
    }

    #[test]
    fn comments_are_cleaned_and_bounded() {
        let p = single();
        let ballot = Ballot::parse(&p, &["yes"], Some("  because\u{202E} cats\u{200B}\r\n ")).unwrap();
        assert_eq!(ballot.comment().unwrap().as_str(), "because cats");
        assert_eq!(Ballot::parse(&p, &["yes"], Some("because\u{0} cats")), Err(BallotError::CommentControl('\u{0}')));
        assert_eq!(Ballot::parse(&p, &["yes"], Some("\u{200B}")).unwrap().comment(), None);
        assert_eq!(Ballot::parse(&p, &["yes"], Some("   ")).unwrap().comment(), None);
        let long = "é".repeat(COMMENT_MAX_CHARS + 1);
        assert_eq!(Ballot::parse(&p, &["yes"], Some(&long)), Err(BallotError::CommentTooLong));
        assert!(Ballot::parse(&p, &["yes"], Some(&"é".repeat(COMMENT_MAX_CHARS))).is_ok());
        let silent = Poll { allow_comment: false, ..p };
        assert_eq!(Ballot::parse(&silent, &["yes"], Some("hi")), Err(BallotError::CommentNotAllowed));
    }
}
