use super::{OptionKey, Slug};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A poll's database id (editors' URLs and API use it; readers see the slug).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PollId(pub i64);

impl fmt::Display for PollId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PollKind {
    Single,
    Multiple { max_choices: u32 },
}

/// The name of a `PollKind`, as drafts and the public API spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ChoiceKind {
    Single,
    Multiple,
}

impl ChoiceKind {
    pub fn name(self) -> &'static str {
        match self {
            ChoiceKind::Single => "single",
            ChoiceKind::Multiple => "multiple",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [ChoiceKind::Single, ChoiceKind::Multiple].into_iter().find(|k| k.name() == name)
    }
}

impl PollKind {
    pub fn choice(self) -> ChoiceKind {
        match self {
            PollKind::Single => ChoiceKind::Single,
            PollKind::Multiple { .. } => ChoiceKind::Multiple,
        }
    }

    pub fn max_choices(self) -> u32 {
        match self {
            PollKind::Single => 1,
            PollKind::Multiple { max_choices } => max_choices,
        }
    }

    pub fn name(self) -> &'static str {
        self.choice().name()
    }

    /// Rebuilds the kind from its stored form (`kind`, `max_choices` columns).
    pub fn from_parts(name: &str, max_choices: u32) -> Option<Self> {
        match ChoiceKind::parse(name)? {
            ChoiceKind::Single => Some(PollKind::Single),
            ChoiceKind::Multiple if max_choices >= 1 => Some(PollKind::Multiple { max_choices }),
            ChoiceKind::Multiple => None,
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
            kind: self.kind.choice(),
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
    pub kind: ChoiceKind,
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
}
