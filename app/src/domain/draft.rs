//! Drafts: a poll as an editor types it (the form, the editor API, an import file), and the
//! one place it is checked and turned into a `NewPoll`.

use super::new_poll::{PollError, LABEL_MAX_CHARS, MAX_OPTIONS, QUESTION_MAX_CHARS};
use super::{ChoiceKind, NewPoll, OptionKey, PollKind, PollView, Publication, ResultsVisibility, Slug};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

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
    pub kind: ChoiceKind,
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

fn single() -> ChoiceKind {
    ChoiceKind::Single
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
/// becomes `do-you-own-ai-stocks`, and "Über Grok" `uber-grok` (letters of any script are
/// transliterated to ASCII with `deunicode`; symbols and emoji separate words, as punctuation
/// does). Empty when the text has no letters or digits.
pub fn slugify(text: &str, max: usize) -> String {
    let mut ascii = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if c.is_ascii() || !c.is_alphanumeric() => ascii.push(c),
            c => ascii.push_str(deunicode::deunicode_char(c).unwrap_or(" ")),
        }
    }
    let mut out = String::new();
    for word in ascii.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
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
    pub fn wanted_slug(&self) -> Result<Slug, PollError> {
        let made;
        let slug = match self.chosen_slug() {
            Some(slug) => slug,
            None => {
                made = slugify(&self.question, 60);
                if made.is_empty() {
                    "poll"
                } else {
                    &made
                }
            }
        };
        Slug::parse(slug).map_err(PollError::BadSlug)
    }

    /// The slug the editor typed, if any (an emptied field is none).
    pub fn chosen_slug(&self) -> Option<&str> {
        self.slug.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    /// Checks everything a draft must satisfy and builds the poll to store.
    pub fn build(&self, slug: Slug, publication: Publication) -> Result<NewPoll, PollError> {
        let question = self.question.trim();
        if question.is_empty() {
            return Err(PollError::EmptyQuestion);
        }
        if question.chars().count() > QUESTION_MAX_CHARS {
            return Err(PollError::QuestionTooLong);
        }
        if let Some(c) = super::control_character(question, true) {
            return Err(PollError::ControlCharacter("The question".into(), c));
        }
        if self.options.len() < 2 {
            return Err(PollError::TooFewOptions);
        }
        if self.options.len() > MAX_OPTIONS {
            return Err(PollError::TooManyOptions);
        }
        let mut labels = HashSet::new();
        let mut keys = HashSet::new();
        let mut options = Vec::with_capacity(self.options.len());
        for (i, option) in self.options.iter().enumerate() {
            let label = option.label.trim();
            if label.is_empty() {
                return Err(PollError::EmptyOption(i + 1));
            }
            if label.chars().count() > LABEL_MAX_CHARS {
                return Err(PollError::OptionTooLong(i + 1));
            }
            if let Some(c) = super::control_character(label, false) {
                return Err(PollError::ControlCharacter(format!("Option {}", i + 1), c));
            }
            if !labels.insert(normalised_label(label)) {
                return Err(PollError::RepeatedLabel(label.to_owned()));
            }
            let key = match option.id.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
                Some(id) => OptionKey::parse(id).map_err(|e| PollError::BadOptionId(i + 1, e))?,
                None => unique_key(label, i, &keys),
            };
            if !keys.insert(key.clone()) {
                return Err(PollError::RepeatedOptionId(key));
            }
            options.push((key, label.to_owned()));
        }
        let kind = match self.kind {
            ChoiceKind::Single => PollKind::Single,
            // Several choices means at least two, and no more than there are options.
            ChoiceKind::Multiple if (2..=options.len() as u32).contains(&self.max_choices) => {
                PollKind::Multiple { max_choices: self.max_choices }
            }
            ChoiceKind::Multiple => return Err(PollError::MaxChoices(options.len())),
        };
        if self.closes_at <= self.opens_at {
            return Err(PollError::ClosesBeforeItOpens);
        }
        Ok(NewPoll {
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
        })
    }

    /// A new poll's starting point: opens tomorrow at 09:00 UTC and runs a week, as
    /// newsletter polls usually do.
    pub fn blank(now: DateTime<Utc>) -> Self {
        let tomorrow = (now + Duration::days(1)).date_naive();
        let opens = tomorrow.and_hms_opt(9, 0, 0).expect("09:00 exists").and_utc();
        PollDraft {
            question: String::new(),
            slug: None,
            kind: ChoiceKind::Single,
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
            kind: poll.kind,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::poll::tests::at;
    use crate::domain::NameError;

    fn draft() -> PollDraft {
        PollDraft {
            question: "Do you own any AI-specific stocks?".into(),
            slug: None,
            kind: ChoiceKind::Single,
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

    fn built(d: &PollDraft) -> Result<NewPoll, PollError> {
        d.build(d.wanted_slug()?, Publication::Draft)
    }

    #[test]
    fn slugs_and_keys_are_made_from_text() {
        assert_eq!(slugify("Do you own AI-specific stocks?", 60), "do-you-own-ai-specific-stocks");
        assert_eq!(slugify("Grok: 8,000 A100s!", 60), "grok-8-000-a100s");
        assert_eq!(slugify("one two three", 8), "one-two");
        assert_eq!(slugify("¿¡!", 60), "");
        assert_eq!(draft().wanted_slug().unwrap().as_str(), "do-you-own-any-ai-specific-stocks");
        assert_eq!(slugify("Über Grok: ça va?", 60), "uber-grok-ca-va");
        assert_eq!(slugify("Straße 🚀 Œuvre", 60), "strasse-oeuvre");
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
    fn multiple_choice_means_two_or_more_and_no_more_than_the_options() {
        let with = |kind: ChoiceKind, max_choices: u32| {
            let mut d = draft();
            d.kind = kind;
            d.max_choices = max_choices;
            built(&d).map(|poll| poll.kind())
        };
        // Three options: "up to 2" and "up to 3" are multiple choice; 0, 1 and 4 are not.
        assert_eq!(with(ChoiceKind::Multiple, 2), Ok(PollKind::Multiple { max_choices: 2 }));
        assert_eq!(with(ChoiceKind::Multiple, 3), Ok(PollKind::Multiple { max_choices: 3 }));
        for refused in [0, 1, 4] {
            assert_eq!(with(ChoiceKind::Multiple, refused), Err(PollError::MaxChoices(3)), "up to {refused}");
        }
        // A single-choice poll ignores the maximum.
        assert_eq!(with(ChoiceKind::Single, 3), Ok(PollKind::Single));
        // Two options: the only multiple-choice poll is "up to 2".
        let mut two = draft();
        two.options.truncate(2);
        two.kind = ChoiceKind::Multiple;
        two.max_choices = 2;
        assert_eq!(built(&two).map(|p| p.kind()), Ok(PollKind::Multiple { max_choices: 2 }));
        two.max_choices = 1;
        assert_eq!(built(&two).map(|p| p.kind()), Err(PollError::MaxChoices(2)));
    }

    #[test]
    fn drafts_refuse_bad_input_with_a_reason() {
        type Change = Box<dyn Fn(&mut PollDraft)>;
        let cases: Vec<(Change, PollError)> = vec![
            (Box::new(|d| d.question = "  ".into()), PollError::EmptyQuestion),
            (Box::new(|d| d.question = "q".repeat(301)), PollError::QuestionTooLong),
            (Box::new(|d| d.options.truncate(1)), PollError::TooFewOptions),
            (Box::new(|d| d.options[1].label = " ".into()), PollError::EmptyOption(2)),
            (Box::new(|d| d.options[1].label = " yes ".into()), PollError::RepeatedLabel("yes".into())),
            (Box::new(|d| d.options[0].label = "x".repeat(201)), PollError::OptionTooLong(1)),
            (
                Box::new(|d| d.question = "Which\u{0}chip?".into()),
                PollError::ControlCharacter("The question".into(), '\u{0}'),
            ),
            (Box::new(|d| d.options[1].label = "N\no".into()), PollError::ControlCharacter("Option 2".into(), '\n')),
            (
                Box::new(|d| d.options = (0..21).map(|i| DraftOption { id: None, label: format!("O{i}") }).collect()),
                PollError::TooManyOptions,
            ),
            (Box::new(|d| d.closes_at = d.opens_at), PollError::ClosesBeforeItOpens),
            (
                Box::new(|d| {
                    d.kind = ChoiceKind::Multiple;
                    d.max_choices = 4
                }),
                PollError::MaxChoices(3),
            ),
            (Box::new(|d| d.slug = Some("Bad Slug".into())), PollError::BadSlug(NameError::BadCharacters)),
            (
                Box::new(|d| d.options[0].id = Some("No Way".into())),
                PollError::BadOptionId(1, NameError::BadCharacters),
            ),
            (
                Box::new(|d| d.options[1].id = Some("yes".into())),
                PollError::RepeatedOptionId(OptionKey::parse("yes").unwrap()),
            ),
        ];
        for (change, expected) in cases {
            let mut d = draft();
            change(&mut d);
            assert_eq!(built(&d).unwrap_err(), expected);
        }
        assert_eq!(
            PollError::MaxChoices(3).to_string(),
            "A multiple-choice poll lets readers pick 2 to 3 options: set the maximum between 2 and 3, or make it single choice."
        );
        assert_eq!(
            PollError::BadOptionId(1, NameError::BadCharacters).to_string(),
            "The id of option 1 may contain only lowercase letters, digits and single hyphens between them."
        );
    }

    #[test]
    fn unknown_kinds_are_refused_when_read() {
        let json = r#"{"question": "Q?", "kind": "ranked", "options": [], "opens_at": "2023-11-07T09:00:00Z",
            "closes_at": "2023-11-14T09:00:00Z"}"#;
        let error = serde_json::from_str::<PollDraft>(json).unwrap_err().to_string();
        assert!(error.contains("unknown variant `ranked`"), "{error}");
    }

    #[test]
    fn a_blank_draft_opens_tomorrow_morning_for_a_week() {
        let blank = PollDraft::blank(at(7, 15));
        assert_eq!((blank.opens_at, blank.closes_at), (at(8, 9), at(15, 9)));
        assert!(blank.question.is_empty() && blank.options.is_empty());
    }
}
