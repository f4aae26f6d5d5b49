use super::{OptionKey, Slug};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PollId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PollKind {
    Single,
    Multiple { max_choices: u32 },
}

impl PollKind {
    pub fn max_choices(self) -> u32 {
        match self {
            PollKind::Single => 1,
            PollKind::Multiple { max_choices } => max_choices,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PollKind::Single => "single",
            PollKind::Multiple { .. } => "multiple",
        }
    }

    /// Rebuilds the kind from its stored form (`kind`, `max_choices` columns).
    pub fn from_parts(name: &str, max_choices: u32) -> Option<Self> {
        match name {
            "single" => Some(PollKind::Single),
            "multiple" if max_choices >= 1 => Some(PollKind::Multiple { max_choices }),
            _ => None,
        }
    }
}

/// Who may see the running tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ResultsVisibility {
    Always,
    AfterVote,
    AfterClose,
    Never,
}

impl ResultsVisibility {
    /// Why a reader who may not see the results does not, in one sentence: the same words
    /// on the poll page, the widget, email pages and the results image.
    pub fn hidden_reason(self, status: PollStatus) -> &'static str {
        match (self, status) {
            (Self::Never, _) | (_, PollStatus::Closed) => "The results of this poll are not published.",
            (Self::AfterVote, PollStatus::Open) => "Vote to see the results.",
            _ => "Results will be shown when the poll closes.",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::AfterVote => "after_vote",
            Self::AfterClose => "after_close",
            Self::Never => "never",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Always, Self::AfterVote, Self::AfterClose, Self::Never].into_iter().find(|v| v.name() == name)
    }
}

/// Where a poll is in the editor's workflow; readers never see drafts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Publication {
    Draft,
    Published,
    Archived,
}

impl Publication {
    pub fn name(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Archived => "archived",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Draft, Self::Published, Self::Archived].into_iter().find(|v| v.name() == name)
    }
}

/// What a reader sees of a published poll at a given moment, derived from its times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum PollStatus {
    Scheduled,
    Open,
    Closed,
}

impl fmt::Display for PollStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PollStatus::Scheduled => "scheduled",
            PollStatus::Open => "open",
            PollStatus::Closed => "closed",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollOption {
    pub id: i64,
    pub key: OptionKey,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Poll {
    pub id: PollId,
    pub slug: Slug,
    pub question: String,
    pub kind: PollKind,
    /// In display order.
    pub options: Vec<PollOption>,
    pub allow_comment: bool,
    /// Whether a reader may change their vote until the poll closes.
    pub allow_vote_change: bool,
    pub results_visibility: ResultsVisibility,
    pub publication: Publication,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    /// Bumped by every edit; an edit names the version it started from.
    pub version: i64,
}

impl Poll {
    pub fn is_public(&self) -> bool {
        self.publication != Publication::Draft
    }

    pub fn status_at(&self, now: DateTime<Utc>) -> PollStatus {
        if self.publication == Publication::Archived || now >= self.closes_at {
            PollStatus::Closed
        } else if now < self.opens_at {
            PollStatus::Scheduled
        } else {
            PollStatus::Open
        }
    }

    pub fn results_visible(&self, status: PollStatus, has_voted: bool) -> bool {
        match self.results_visibility {
            ResultsVisibility::Always => true,
            ResultsVisibility::AfterVote => has_voted || status == PollStatus::Closed,
            ResultsVisibility::AfterClose => status == PollStatus::Closed,
            ResultsVisibility::Never => false,
        }
    }

    pub fn option(&self, key: &str) -> Option<&PollOption> {
        self.options.iter().find(|o| o.key.as_str() == key)
    }

    pub fn view(&self, now: DateTime<Utc>) -> PollView {
        PollView {
            slug: self.slug.clone(),
            question: self.question.clone(),
            kind: self.kind.name().to_owned(),
            max_choices: self.kind.max_choices(),
            options: self.options.iter().map(|o| OptionView { id: o.key.clone(), label: o.label.clone() }).collect(),
            status: self.status_at(now),
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            results_visibility: self.results_visibility,
            allow_comment: self.allow_comment,
            allow_vote_change: self.allow_vote_change,
        }
    }
}

/// A poll as the public API describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PollView {
    pub slug: Slug,
    pub question: String,
    pub kind: String,
    pub max_choices: u32,
    pub options: Vec<OptionView>,
    pub status: PollStatus,
    #[cfg_attr(feature = "hydrate", serde(deserialize_with = "super::wire::rfc3339"))]
    pub opens_at: DateTime<Utc>,
    #[cfg_attr(feature = "hydrate", serde(deserialize_with = "super::wire::rfc3339"))]
    pub closes_at: DateTime<Utc>,
    pub results_visibility: ResultsVisibility,
    pub allow_comment: bool,
    #[serde(default)]
    pub allow_vote_change: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OptionView {
    pub id: OptionKey,
    pub label: String,
}

/// A poll before it is stored; `validate` guards what every store may assume.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPoll {
    pub slug: Slug,
    pub question: String,
    pub kind: PollKind,
    pub options: Vec<(OptionKey, String)>,
    pub allow_comment: bool,
    pub allow_vote_change: bool,
    pub results_visibility: ResultsVisibility,
    pub publication: Publication,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
}

impl NewPoll {
    pub const MAX_OPTIONS: usize = 20;

    pub fn validate(&self) -> Result<(), String> {
        if self.question.trim().is_empty() {
            return Err("the question is empty".into());
        }
        if self.options.len() < 2 || self.options.len() > Self::MAX_OPTIONS {
            return Err(format!("a poll needs 2 to {} options", Self::MAX_OPTIONS));
        }
        let mut keys: Vec<_> = self.options.iter().map(|(k, _)| k).collect();
        keys.sort();
        keys.dedup();
        if keys.len() != self.options.len() {
            return Err("option ids must be unique".into());
        }
        if self.options.iter().any(|(_, label)| label.trim().is_empty()) {
            return Err("an option label is empty".into());
        }
        if self.kind.max_choices() as usize > self.options.len() {
            return Err("max_choices exceeds the number of options".into());
        }
        if self.closes_at <= self.opens_at {
            return Err("the poll must close after it opens".into());
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 11, day, hour, 0, 0).unwrap()
    }

    pub fn poll(kind: PollKind, visibility: ResultsVisibility) -> Poll {
        let options = ["yes", "no", "not-sure"]
            .iter()
            .enumerate()
            .map(|(i, key)| PollOption {
                id: i as i64 + 1,
                key: OptionKey::parse(key).unwrap(),
                label: key.to_uppercase(),
            })
            .collect();
        Poll {
            id: PollId(1),
            slug: Slug::parse("ai-stocks").unwrap(),
            question: "Do you own any AI-specific stocks?".into(),
            kind,
            options,
            allow_comment: true,
            allow_vote_change: false,
            results_visibility: visibility,
            publication: Publication::Published,
            opens_at: at(7, 9),
            closes_at: at(14, 9),
            version: 1,
        }
    }

    #[test]
    fn status_follows_the_clock() {
        let p = poll(PollKind::Single, ResultsVisibility::Always);
        assert_eq!(p.status_at(at(7, 8)), PollStatus::Scheduled);
        assert_eq!(p.status_at(at(7, 9)), PollStatus::Open);
        assert_eq!(p.status_at(at(14, 8)), PollStatus::Open);
        assert_eq!(p.status_at(at(14, 9)), PollStatus::Closed);
        let archived = Poll { publication: Publication::Archived, ..p };
        assert_eq!(archived.status_at(at(10, 0)), PollStatus::Closed);
    }

    #[test]
    fn visibility_rules() {
        use PollStatus::*;
        use ResultsVisibility::*;
        let cases = [
            (Always, Open, false, true),
            (AfterVote, Open, false, false),
            (AfterVote, Open, true, true),
            (AfterVote, Closed, false, true),
            (AfterClose, Open, true, false),
            (AfterClose, Closed, false, true),
            (Never, Closed, true, false),
        ];
        for (visibility, status, voted, expected) in cases {
            let p = poll(PollKind::Single, visibility);
            assert_eq!(p.results_visible(status, voted), expected, "{visibility:?} {status:?} voted={voted}");
        }
    }

    #[test]
    fn new_polls_are_validated() {
        let p = poll(PollKind::Multiple { max_choices: 2 }, ResultsVisibility::Always);
        let new = NewPoll {
            slug: p.slug.clone(),
            question: p.question.clone(),
            kind: p.kind,
            options: p.options.iter().map(|o| (o.key.clone(), o.label.clone())).collect(),
            allow_comment: true,
            allow_vote_change: false,
            results_visibility: p.results_visibility,
            publication: p.publication,
            opens_at: p.opens_at,
            closes_at: p.closes_at,
        };
        assert_eq!(new.validate(), Ok(()));
        let mut dup = new.clone();
        dup.options[1].0 = dup.options[0].0.clone();
        assert!(dup.validate().unwrap_err().contains("unique"));
        let backwards = NewPoll { closes_at: new.opens_at, ..new.clone() };
        assert!(backwards.validate().is_err());
        let too_many = NewPoll { kind: PollKind::Multiple { max_choices: 4 }, ..new };
        assert!(too_many.validate().is_err());
    }
}
