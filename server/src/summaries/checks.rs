//! Grounding checks: what every summary must pass before an editor sees it, whichever
//! backend wrote it, and again after an editor's edits (`server/src/http/CONTRACT.md`, "Summaries").
//! - quotes are exact contiguous spans of the cited comment, after Unicode normalisation
//!   (NFC) and whitespace folding only;
//! - every cited comment exists, is visible, belongs to the poll, and was written by a
//!   reader who chose the theme's option;
//! - every number in titles and the overview is a statistic computed from the data, and
//!   each theme's count and share are what its comments give;
//! - titles and the overview are plain text: no markup (a model that followed an instruction
//!   planted in a comment may write tags; the editor pastes these words into an issue).
//!
//! Pure functions over plain data: no model, no database.

use std::collections::{BTreeSet, HashMap};
use unicode_normalization::UnicodeNormalization;

/// A visible comment of the poll, as the checks see it.
#[derive(Debug, Clone)]
pub struct SourceComment {
    pub id: i64,
    pub body: String,
    /// The option ids its writer chose.
    pub choices: Vec<String>,
}

/// The facts a summary is checked against: the poll's visible comments and its vote counts.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    comments: HashMap<i64, (String, Vec<String>)>,
    /// Vote counts per option id, and the total votes.
    votes: Vec<(String, u64)>,
    total_votes: u64,
    /// The poll's question and option labels (folded): a summary may name them, figures
    /// inside them included ("Before 2030"), and quote them.
    names: Vec<String>,
}

impl Facts {
    pub fn new(comments: &[SourceComment], votes: Vec<(String, u64)>, total_votes: u64) -> Self {
        let comments = comments.iter().map(|c| (c.id, (fold(&c.body), c.choices.clone()))).collect();
        Facts { comments, votes, total_votes, names: Vec::new() }
    }

    pub fn with_names<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Self {
        self.names = names.into_iter().map(fold).collect();
        self
    }

    pub fn comment_total(&self) -> usize {
        self.comments.len()
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Quote {
    pub comment_id: i64,
    pub text: String,
}

/// A theme as written: the comments the pipeline put in it (`members`) and what it claims.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub option: Option<String>,
    pub title: String,
    pub members: Vec<i64>,
    pub comment_count: u64,
    pub share: f64,
    pub quotes: Vec<Quote>,
    /// Its shared reason's number (the same reason in another answer), if any.
    pub shared: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub themes: Vec<Theme>,
    pub overview: String,
    /// Comments that fit no theme. With the themes' members: each comment exactly once.
    pub unassigned: Vec<i64>,
}

/// The outcome, as the contract's `checks`, with a sentence per problem: the reason given to a
/// model on its retry and shown to the editor.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    pub quotes_verbatim: bool,
    pub numbers_match: bool,
    pub citations_valid: bool,
    pub plain_text: bool,
    pub problems: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.quotes_verbatim && self.numbers_match && self.citations_valid && self.plain_text
    }
}

/// Whether `text` holds something a browser or mail client would read as markup: a tag or
/// comment opening (`<` then a letter, `/`, `!` or `?`), or a character reference (`&name;`,
/// `&#…;`). A lone "<" or "&" in prose ("< 5%", "R&D") is not.
pub fn has_markup(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, b)| {
        let next = bytes.get(i + 1).copied().unwrap_or(b' ');
        match b {
            b'<' => next.is_ascii_alphabetic() || matches!(next, b'/' | b'!' | b'?'),
            b'&' => {
                let rest = &bytes[i + 1..];
                let name = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'#').count();
                name > 0 && rest.get(name) == Some(&b';')
            }
            _ => false,
        }
    })
}

/// NFC, then every run of white space as one space, trimmed: the only liberties a quote may
/// take with its comment.
pub fn fold(text: &str) -> String {
    let normal: String = text.nfc().collect();
    normal.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A share as written in the API: three decimals.
pub fn share(count: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (count as f64 / total as f64 * 1000.0).round() / 1000.0
    }
}

pub fn check(draft: &Draft, facts: &Facts) -> Report {
    let mut report = Report {
        quotes_verbatim: true,
        numbers_match: true,
        citations_valid: true,
        plain_text: true,
        problems: Vec::new(),
    };
    let total = facts.comment_total() as u64;
    for (n, theme) in draft.themes.iter().enumerate() {
        let name = format!("theme {} ({:?})", n + 1, theme.title);
        for id in &theme.members {
            match facts.comments.get(id) {
                None => {
                    report.citations_valid = false;
                    report
                        .problems
                        .push(format!("{name} counts comment {id}, which is not a visible comment of this poll"));
                }
                Some((_, choices)) => {
                    if let Some(option) = &theme.option {
                        if !choices.contains(option) {
                            report.citations_valid = false;
                            report.problems.push(format!(
                                "{name} is about {option:?} but counts comment {id}, whose writer did not choose it"
                            ));
                        }
                    }
                }
            }
        }
        let distinct: BTreeSet<i64> = theme.members.iter().copied().collect();
        if theme.comment_count != distinct.len() as u64 || distinct.len() != theme.members.len() {
            report.numbers_match = false;
            report.problems.push(format!(
                "{name} says {} comments but holds {} distinct comments",
                theme.comment_count,
                distinct.len()
            ));
        }
        if (theme.share - share(theme.comment_count, total)).abs() > 1e-9 {
            report.numbers_match = false;
            report.problems.push(format!(
                "{name} gives a share of {} but {} of {total} comments is {}",
                theme.share,
                theme.comment_count,
                share(theme.comment_count, total)
            ));
        }
        for quote in &theme.quotes {
            let Some((body, _)) = facts.comments.get(&quote.comment_id) else {
                report.citations_valid = false;
                report.problems.push(format!(
                    "{name} quotes comment {}, which is not a visible comment of this poll",
                    quote.comment_id
                ));
                continue;
            };
            if !distinct.contains(&quote.comment_id) {
                report.citations_valid = false;
                report
                    .problems
                    .push(format!("{name} quotes comment {}, which is not one of its comments", quote.comment_id));
            }
            let text = fold(&quote.text);
            if text.is_empty() || !body.contains(&text) {
                report.quotes_verbatim = false;
                report.problems.push(format!(
                    "{name}: the quote {:?} is not in comment {} word for word",
                    quote.text, quote.comment_id
                ));
            }
        }
    }
    accounted_for(draft, facts, &mut report);
    // Words in quotation marks in a title or the overview are quotes too: they must be a
    // reader's words (or the poll's own), never a model's invention. And prose is plain text.
    for (what, text) in prose(draft) {
        // The poll's own question and labels, named in the prose, are neither quotes nor
        // markup of the summary's: their quotation marks and signs are the editor's text.
        let text = without_names(text, &facts.names);
        if has_markup(&text) {
            report.plain_text = false;
            report.problems.push(format!("{what} holds markup (HTML tags or entities); write plain text"));
        }
        for passage in quoted(&text) {
            let folded = fold(&passage);
            let known = facts.comments.values().any(|(body, _)| body.contains(&folded))
                || facts.names.iter().any(|n| n.contains(&folded));
            if !known {
                report.quotes_verbatim = false;
                report.problems.push(format!("{what} quotes {passage:?}, which no reader wrote"));
            }
        }
    }
    let mut allowed = statistics(draft, facts);
    allowed.extend(facts.names.iter().flat_map(|n| numbers_in(n)).map(|n| Number { percent: false, ..n }));
    allowed.extend(facts.names.iter().flat_map(|n| numbers_in(n)).map(|n| Number { percent: true, ..n }));
    for (what, text) in prose(draft) {
        for number in numbers_in(text) {
            if !allowed.contains(&number) {
                report.numbers_match = false;
                report
                    .problems
                    .push(format!("{what} says {}, which is not a figure from the votes or comments", number.written));
            }
        }
    }
    report
}

/// Every visible comment is in exactly one place: a theme (one per answer its writer chose) or
/// "fits no theme", never both, never neither.
fn accounted_for(draft: &Draft, facts: &Facts, report: &mut Report) {
    let mut problems = Vec::new();
    let mut placed: HashMap<i64, usize> = HashMap::new();
    let mut per_option: BTreeSet<(Option<&str>, i64)> = BTreeSet::new();
    for theme in &draft.themes {
        for &id in theme.members.iter().collect::<BTreeSet<_>>() {
            *placed.entry(id).or_default() += 1;
            if !per_option.insert((theme.option.as_deref(), id)) {
                problems.push(format!("comment {id} is in two themes of the same answer"));
            }
        }
    }
    for id in draft.unassigned.iter().collect::<BTreeSet<_>>() {
        if !facts.comments.contains_key(id) {
            problems.push(format!("\"fits no theme\" lists comment {id}, which is not a visible comment of this poll"));
        } else if placed.contains_key(id) {
            problems.push(format!("comment {id} is both in a theme and in \"fits no theme\""));
        }
        placed.insert(*id, 1);
    }
    let mut missing: Vec<i64> = facts.comments.keys().filter(|id| !placed.contains_key(id)).copied().collect();
    missing.sort_unstable();
    if let Some(first) = missing.first() {
        problems.push(format!(
            "{} comments (comment {first} first) are in no theme and not in \"fits no theme\"",
            missing.len()
        ));
    }
    if !problems.is_empty() {
        report.citations_valid = false;
        problems.truncate(5);
        report.problems.extend(problems);
    }
}

/// `text` (folded) with every occurrence of the poll's names (folded) taken out, longest first.
fn without_names(text: &str, names: &[String]) -> String {
    let mut names: Vec<&String> = names.iter().filter(|n| !n.is_empty()).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names.into_iter().fold(fold(text), |text, name| text.replace(name.as_str(), " "))
}

/// Every piece of prose in a draft, named for the problem sentences.
fn prose(draft: &Draft) -> impl Iterator<Item = (String, &str)> {
    draft
        .themes
        .iter()
        .enumerate()
        .map(|(n, t)| (format!("the title of theme {}", n + 1), t.title.as_str()))
        .chain(std::iter::once(("the overview".to_owned(), draft.overview.as_str())))
}

/// Passages between quotation marks (“…”, "…", «…», „…“) of two words or more; a single
/// quoted word is a name or a term, not a quote.
pub fn quoted(text: &str) -> Vec<String> {
    let pairs = [('“', '”'), ('"', '"'), ('«', '»'), ('„', '“')];
    let mut found = Vec::new();
    for (open, close) in pairs {
        let mut rest = text;
        while let Some(start) = rest.find(open) {
            let after = &rest[start + open.len_utf8()..];
            let Some(end) = after.find(close) else { break };
            let passage = after[..end].trim();
            if passage.split_whitespace().count() >= 2 {
                found.push(passage.trim_end_matches([',', '.']).to_owned());
            }
            rest = &after[end + close.len_utf8()..];
        }
    }
    found
}

/// A number as written in text: its value in thousandths, whether it was a percent, and
/// the text itself.
#[derive(Debug, Clone)]
pub struct Number {
    thousandths: i64,
    percent: bool,
    written: String,
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.thousandths == other.thousandths && self.percent == other.percent
    }
}

/// Numbers standing on their own: digits, with `,` between thousands and one `.` for
/// decimals, optionally followed by `%` (or "per cent"/"percent"). Digits inside a word
/// ("H100", "GPT-4", "3D") are names, not figures.
pub fn numbers_in(text: &str) -> Vec<Number> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let glued_before = start > 0
            && (chars[start - 1].is_alphanumeric()
                || chars[start - 1] == '-' && start > 1 && chars[start - 2].is_alphabetic());
        let mut end = i;
        while end < chars.len()
            && (chars[end].is_ascii_digit()
                || (matches!(chars[end], ',' | '.') && end + 1 < chars.len() && chars[end + 1].is_ascii_digit()))
        {
            end += 1;
        }
        let glued_after = end < chars.len() && chars[end].is_alphabetic();
        let raw: String = chars[start..end].iter().filter(|c| **c != ',').collect();
        let rest: String = chars[end..].iter().take(9).collect::<String>().to_lowercase();
        let percent = rest.starts_with('%') || rest.starts_with(" per cent") || rest.starts_with(" percent");
        i = end;
        if glued_before || glued_after {
            continue;
        }
        if let Ok(value) = raw.parse::<f64>() {
            found.push(Number {
                thousandths: (value * 1000.0).round() as i64,
                percent,
                written: chars[start..end].iter().collect::<String>() + if percent { "%" } else { "" },
            });
        }
    }
    found
}

/// Every figure a summary may state: counts of comments and votes, and their percentages
/// (whole or to one decimal).
fn statistics(draft: &Draft, facts: &Facts) -> Vec<Number> {
    let total_comments = facts.comment_total() as u64;
    let mut counts = vec![total_comments, facts.total_votes, draft.themes.len() as u64];
    let mut ratios = Vec::new();
    for theme in &draft.themes {
        counts.push(theme.comment_count);
        ratios.push((theme.comment_count, total_comments));
    }
    for (option, votes) in &facts.votes {
        counts.push(*votes);
        ratios.push((*votes, facts.total_votes));
        let commented = facts.comments.values().filter(|(_, choices)| choices.contains(option)).count() as u64;
        counts.push(commented);
        ratios.push((commented, total_comments));
    }
    let mut allowed: Vec<Number> = counts
        .iter()
        .map(|&n| Number { thousandths: n as i64 * 1000, percent: false, written: n.to_string() })
        .collect();
    for (part, whole) in ratios.into_iter().filter(|(_, whole)| *whole > 0) {
        let percent = part as f64 * 100.0 / whole as f64;
        for value in [percent.round(), (percent * 10.0).round() / 10.0] {
            allowed.push(Number {
                thousandths: (value * 1000.0).round() as i64,
                percent: true,
                written: String::new(),
            });
        }
    }
    allowed
}

#[cfg(test)]
mod tests;
