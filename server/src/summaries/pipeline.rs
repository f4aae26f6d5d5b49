//! From a poll's visible comments to a checked summary. Stages, each timed:
//! 1. embed every comment (`embed`);
//! 2. find each option's themes (`themes`: the reasons its readers gave, as many as the data
//!    keeps apart, seeded so the same input gives the same themes) and the comments that fit
//!    none;
//! 3. pick up to three quotes per theme from its most typical members, verbatim (a long comment
//!    is cut at a sentence end, still a contiguous span), never two near-duplicates; and a title
//!    candidate in readers' own words (a typical member's opening sentence);
//! 4. count: each theme's comments and share come from the data, never from a model;
//! 5. write titles and an overview (a `Writer`: templates, or a model);
//! 6. check (`checks`); a model's draft that fails is redone once with the failures
//!    explained, then replaced by the extractive draft, flagged `needs_review`.

use super::checks::{self, Draft, Facts, Quote, Report, SourceComment};
use super::embed::{self, Embedder};
pub use super::skeleton::{OptionFacts, Skeleton, SkeletonTheme};
use super::{SummaryError, Writer};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// What the pipeline is given: one poll's facts. Hidden comments are never in `comments`.
#[derive(Debug, Clone)]
pub struct PollInput {
    pub question: String,
    /// Option ids (keys) and labels, in the poll's order.
    pub options: Vec<(String, String)>,
    pub comments: Vec<SourceComment>,
    /// Votes per option id, and the total number of votes.
    pub votes: Vec<(String, u64)>,
    pub total_votes: u64,
}

impl PollInput {
    /// What the checks hold a summary of this poll to; the question and labels may be named.
    pub fn facts(&self) -> Facts {
        Facts::new(&self.comments, self.votes.clone(), self.total_votes)
            .with_names(std::iter::once(self.question.as_str()).chain(self.options.iter().map(|(_, l)| l.as_str())))
    }
}

/// How long each stage took.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    /// Texts the embedding model ran on (duplicates are embedded once).
    pub distinct_texts: usize,
    pub embed: Duration,
    pub cluster: Duration,
    pub quotes: Duration,
    pub write: Duration,
    pub check: Duration,
}

/// The finished summary and how it came about.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub draft: Draft,
    pub report: Report,
    pub needs_review: bool,
    /// The backend and model whose text is in the draft (the extractive one after a fallback).
    pub backend: String,
    pub model: String,
    pub parameters: serde_json::Value,
    pub input_hash: String,
    pub comments_considered: usize,
    /// Why a model's draft was not used, if it was not.
    pub fallback_reason: Option<String>,
    pub timings: Timings,
}

/// A hash of everything that decides the summary: the poll, its visible comments and votes,
/// the embedding model and the writer with its parameters.
pub fn input_hash(input: &PollInput, embedder: &str, writer: &dyn Writer) -> String {
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    field(input.question.as_bytes());
    for (key, label) in &input.options {
        field(key.as_bytes());
        field(label.as_bytes());
    }
    let mut comments: Vec<&SourceComment> = input.comments.iter().collect();
    comments.sort_by_key(|c| c.id);
    for c in comments {
        field(&c.id.to_le_bytes());
        field(c.body.as_bytes());
        field(c.choices.join("\u{1f}").as_bytes());
    }
    for (key, votes) in &input.votes {
        field(key.as_bytes());
        field(&votes.to_le_bytes());
    }
    field(&input.total_votes.to_le_bytes());
    field(embedder.as_bytes());
    field(writer.backend().as_bytes());
    field(writer.model().as_bytes());
    field(writer.parameters().to_string().as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Stages 1–4. `progress` goes from 0 to `share` of the whole job.
pub fn skeleton(
    input: &PollInput,
    embedder: &dyn Embedder,
    progress: &mut dyn FnMut(f64),
    timings: &mut Timings,
) -> Result<Skeleton, SummaryError> {
    let started = Instant::now();
    let mut comments: Vec<&SourceComment> = input.comments.iter().collect();
    comments.sort_by_key(|c| c.id);
    let texts: Vec<&str> = comments.iter().map(|c| c.body.as_str()).collect();
    // Each distinct text is embedded once: readers paste the same line, and a model pass is
    // the costliest step by far.
    let mut distinct: Vec<&str> = Vec::new();
    let mut slot_of: HashMap<&str, usize> = HashMap::new();
    let slots: Vec<usize> = texts
        .iter()
        .map(|t| {
            *slot_of.entry(t.trim()).or_insert_with(|| {
                distinct.push(t.trim());
                distinct.len() - 1
            })
        })
        .collect();
    // The question too: its direction is taken out of the comments' vectors (`themes`).
    distinct.push(input.question.trim());
    let mut unique =
        embedder.embed(&distinct, &mut |done, total| progress(0.05 + 0.6 * done as f64 / total.max(1) as f64))?;
    if unique.len() != distinct.len() {
        return Err(SummaryError::Model("the embedding model returned the wrong number of vectors".into()));
    }
    let question = unique.pop().filter(|q| q.iter().any(|x| *x != 0.0));
    distinct.pop();
    let vectors: Vec<Vec<f32>> = slots.iter().map(|&s| unique[s].clone()).collect();
    timings.distinct_texts = distinct.len();
    timings.embed = started.elapsed();

    let started = Instant::now();
    let mut themes = Vec::new();
    let mut unassigned = Vec::new();
    let mut options = Vec::new();
    let mut found_of_option = Vec::new();
    for (n, (key, label)) in input.options.iter().enumerate() {
        let members: Vec<usize> = (0..comments.len()).filter(|&i| comments[i].choices.contains(key)).collect();
        let votes = input.votes.iter().find(|(k, _)| k == key).map(|(_, v)| *v).unwrap_or(0);
        options.push(OptionFacts { key: key.clone(), label: label.clone(), votes, comments: members.len() as u64 });
        if members.is_empty() {
            continue;
        }
        let refs: Vec<&[f32]> = members.iter().map(|&i| vectors[i].as_slice()).collect();
        let found = super::themes::find(&refs, question.as_deref(), 0x5eed_0000 + n as u64);
        found_of_option.push((key.clone(), label.clone(), members, found));
    }
    timings.cluster = started.elapsed();
    progress(0.7);

    let started = Instant::now();
    // A title must give a reason, not restate the question: it needs a word the question lacks.
    let asked = embed::content_words(&input.question);
    let mut of_answer: Vec<(usize, Vec<usize>)> = Vec::new();
    for (answer, (key, label, members, found)) in found_of_option.into_iter().enumerate() {
        unassigned.extend(found.unassigned.iter().map(|&m| comments[members[m]].id));
        for (group, centre) in &found.themes {
            let ranked = super::themes::typical(group, centre, &found.centred, TYPICAL);
            let ranked: Vec<usize> = ranked.into_iter().map(|(m, _)| members[m]).collect();
            let indices: Vec<usize> = group.iter().map(|&m| members[m]).collect();
            of_answer.push((answer, indices.clone()));
            let (title, title_from) = match title_span(&ranked, &indices, &comments, &vectors, &asked) {
                Some((id, span)) => (span, Some(id)),
                None => (String::new(), None),
            };
            themes.push(SkeletonTheme {
                option: Some(key.clone()),
                option_label: label.clone(),
                members: indices.iter().map(|&i| comments[i].id).collect(),
                quotes: quotes(&ranked, &comments),
                title,
                title_from,
                shared: None,
            });
        }
    }
    let by_answer: Vec<(usize, &[usize])> = of_answer.iter().map(|(a, m)| (*a, m.as_slice())).collect();
    let negated: Vec<bool> = comments.iter().map(|c| embed::negated(&c.body)).collect();
    let groups = super::themes::shared(&by_answer, &vectors, &negated, question.as_deref());
    for (theme, group) in themes.iter_mut().zip(groups) {
        theme.shared = group;
    }
    // A writer of several answers (a multiple-choice poll) whose comment fits a theme of one
    // answer is accounted for there, even where it fits no theme of another.
    let themed: HashSet<i64> = themes.iter().flat_map(|t| t.members.iter().copied()).collect();
    unassigned.retain(|id| !themed.contains(id));
    unassigned.sort_unstable();
    unassigned.dedup();
    timings.quotes = started.elapsed();
    progress(0.8);

    Ok(Skeleton {
        question: input.question.clone(),
        options,
        total_votes: input.total_votes,
        total_comments: comments.len() as u64,
        themes,
        unassigned,
        bodies: comments.iter().map(|c| (c.id, c.body.clone())).collect(),
    })
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Quotes longer than this are cut at a sentence end.
const QUOTE_CHARS: usize = 280;

/// How many of a theme's most central members are scored for quotes and titles.
const TYPICAL: usize = 40;

/// Up to three quotes from the most typical members, verbatim, without personal data, and never
/// two that say nearly the same words ([`near_duplicate`]).
fn quotes(ranked: &[usize], comments: &[&SourceComment]) -> Vec<Quote> {
    let mut taken: Vec<HashSet<String>> = Vec::new();
    let mut out = Vec::new();
    for &i in ranked {
        let text = excerpt(&comments[i].body);
        // A quote may be printed in the newsletter: never one that carries an email address
        // or a phone number.
        let personal = super::privacy::mask(text) != text;
        let words = word_set(text);
        if personal || text.chars().filter(|c| c.is_alphanumeric()).count() < 3 {
            continue;
        }
        if taken.iter().any(|t| near_duplicate(t, &words)) {
            continue;
        }
        taken.push(words);
        out.push(Quote { comment_id: comments[i].id, text: text.to_owned() });
        if out.len() == 3 {
            break;
        }
    }
    out
}

/// A comment's words, lower-cased, after Unicode normalisation.
fn word_set(text: &str) -> HashSet<String> {
    embed::words(&checks::fold(text)).collect()
}

/// The same words, or nearly: four in five words in common (Jaccard), so "AI will take jobs"
/// and "AI will take our jobs!" are one quote. Texts without words compare whole.
pub fn near_duplicate(a: &HashSet<String>, b: &HashSet<String>) -> bool {
    if a.is_empty() || b.is_empty() {
        return a.is_empty() && b.is_empty();
    }
    let both = a.intersection(b).count();
    both as f64 >= 0.8 * (a.len() + b.len() - both) as f64
}

/// Titles are at most this many words.
pub const TITLE_WORDS: usize = 12;

/// A title in readers' own words: the opening sentence of a typical member, 3 to
/// [`TITLE_WORDS`] words, that names the theme best: nearest the theme's centre before the
/// answer's common part was taken out, so that it names the topic as well as the reason
/// (as key point analysis takes short, typical arguments as its key points), and says a content
/// word the question does not ("We should not legalize it" restates the question). Spans with figures
/// (a title states no number that is not a statistic), personal data or markup are passed over.
fn title_span(
    ranked: &[usize],
    members: &[usize],
    comments: &[&SourceComment],
    vectors: &[Vec<f32>],
    asked: &HashSet<String>,
) -> Option<(i64, String)> {
    let mut raw = vec![0f32; vectors.first().map_or(0, Vec::len)];
    for &i in members {
        raw.iter_mut().zip(&vectors[i]).for_each(|(r, x)| *r += x);
    }
    embed::normalise(&mut raw);
    // In how many of the theme's comments each content word appears.
    let mut spread: HashMap<String, usize> = HashMap::new();
    for &i in members {
        for word in embed::content_words(&comments[i].body) {
            *spread.entry(word).or_default() += 1;
        }
    }
    ranked
        .iter()
        .filter_map(|&i| {
            let span = opening_sentence(&comments[i].body)?;
            let words = span.split_whitespace().count();
            let clean = (3..=TITLE_WORDS).contains(&words)
                && !span.chars().any(|c| c.is_ascii_digit())
                && super::privacy::mask(span) == span
                && !checks::has_markup(span);
            if !clean {
                return None;
            }
            let own = embed::content_words(span);
            // Not one word the question lacks: it restates the question.
            own.difference(asked).next()?;
            // Its words are the theme's common words: the mean share of members using each.
            let common = own.iter().map(|w| *spread.get(w).unwrap_or(&0) as f64).sum::<f64>()
                / (own.len().max(1) as f64 * members.len() as f64);
            Some((dot(&vectors[i], &raw) as f64 + common, comments[i].id, span.to_owned()))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, id, span)| (id, span))
}

/// A comment's first sentence (up to `.`, `!`, `?` or `;` before a space or the end, or a line
/// break), without a closing full stop or semicolon: a contiguous span of it.
fn opening_sentence(body: &str) -> Option<&str> {
    let body = body.trim();
    let mut end = body.len();
    for (i, c) in body.char_indices() {
        let after = &body[i + c.len_utf8()..];
        if c == '\n'
            || matches!(c, '.' | '!' | '?' | ';') && (after.is_empty() || after.starts_with(char::is_whitespace))
        {
            end = if matches!(c, '!' | '?') { i + c.len_utf8() } else { i };
            break;
        }
    }
    let span = body[..end].trim();
    (!span.is_empty()).then_some(span)
}

/// The comment itself, or its opening sentences up to `QUOTE_CHARS` (a contiguous span).
pub fn excerpt(body: &str) -> &str {
    let body = body.trim();
    if body.chars().count() <= QUOTE_CHARS {
        return body;
    }
    let limit = body.char_indices().nth(QUOTE_CHARS).map(|(i, _)| i).unwrap_or(body.len());
    let head = &body[..limit];
    let sentence_end = head
        .char_indices()
        .filter(|(i, c)| matches!(c, '.' | '!' | '?' | '。') && *i > 40)
        .map(|(i, c)| i + c.len_utf8())
        .next_back();
    match sentence_end {
        Some(end) => body[..end].trim(),
        None => {
            // No sentence end: cut at the last space.
            let end = head.rfind(char::is_whitespace).filter(|&e| e > 40).unwrap_or(limit);
            body[..end].trim()
        }
    }
}

/// Stages 5 and 6 for one writer, with the one retry and the fallback.
pub async fn write_and_check(
    skeleton: &Skeleton,
    facts: &Facts,
    writer: &dyn Writer,
    timings: &mut Timings,
) -> (Draft, Report, bool, Option<String>, bool) {
    let extractive = super::backends::Extractive;
    let started = Instant::now();
    let mut feedback: Option<Vec<String>> = None;
    let mut reason = None;
    for _attempt in 0..2 {
        match writer.write(skeleton, feedback.as_deref()).await {
            Ok(prose) => {
                let checked = Instant::now();
                let draft = skeleton.draft(&prose);
                let report = checks::check(&draft, facts);
                timings.check += checked.elapsed();
                if report.passed() {
                    timings.write = started.elapsed() - timings.check;
                    return (draft, report, false, None, false);
                }
                reason = Some(format!("failed the checks: {}", report.problems.join("; ")));
                feedback = Some(report.problems);
            }
            Err(e) => {
                reason = Some(e.to_string());
                if !e.retryable() {
                    break;
                }
                feedback = None;
            }
        }
    }
    // The model's draft could not be used: the extractive one, flagged for an editor.
    let prose = extractive.prose(skeleton);
    let draft = skeleton.draft(&prose);
    let checked = Instant::now();
    let report = checks::check(&draft, facts);
    timings.check += checked.elapsed();
    timings.write = started.elapsed() - timings.check;
    (draft, report, true, reason, true)
}

/// The whole pipeline: stages 1–4 on the blocking pool (they are CPU work), then the writer.
pub async fn summarise(
    input: std::sync::Arc<PollInput>,
    embedder: std::sync::Arc<dyn Embedder>,
    writer: &dyn Writer,
    progress: std::sync::Arc<dyn Fn(f64) + Send + Sync>,
) -> Result<Outcome, SummaryError> {
    let (skeleton, mut timings) = {
        let (input, embedder, progress) = (input.clone(), embedder.clone(), progress.clone());
        tokio::task::spawn_blocking(move || {
            let mut timings = Timings::default();
            skeleton(&input, &*embedder, &mut |p| progress(p), &mut timings).map(|s| (s, timings))
        })
        .await
        .map_err(|e| SummaryError::Internal(format!("the summariser stopped: {e}")))??
    };
    let facts = input.facts();
    let (draft, report, needs_review, fallback_reason, fell_back) =
        write_and_check(&skeleton, &facts, writer, &mut timings).await;
    progress(0.95);
    let (backend, model, parameters) = if fell_back {
        let e = super::backends::Extractive;
        (e.backend().to_owned(), e.model(), e.parameters())
    } else {
        (writer.backend().to_owned(), writer.model(), writer.parameters())
    };
    Ok(Outcome {
        draft,
        needs_review: needs_review || !report.passed(),
        report,
        backend,
        model,
        parameters,
        input_hash: input_hash(&input, &embedder.id(), writer),
        comments_considered: input.comments.len(),
        fallback_reason,
        timings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A two-answer poll (key, label, votes) summarised with hashed words and the extractive
    /// backend; its checks passed.
    async fn summarise_words(question: &str, answers: [(&str, &str, u64); 2], comments: Vec<SourceComment>) -> Outcome {
        let input = PollInput {
            question: question.into(),
            options: answers.iter().map(|(k, l, _)| (k.to_string(), l.to_string())).collect(),
            votes: answers.iter().map(|(k, _, v)| (k.to_string(), *v)).collect(),
            total_votes: answers.iter().map(|(_, _, v)| v).sum(),
            comments,
        };
        let outcome = summarise(
            std::sync::Arc::new(input),
            std::sync::Arc::new(embed::Lexical),
            &crate::summaries::backends::Extractive,
            std::sync::Arc::new(|_| {}),
        )
        .await
        .unwrap();
        assert!(outcome.report.passed(), "{:?}", outcome.report.problems);
        outcome
    }

    /// A multiple-choice poll: a comment counts in each answer its writer chose; it is never
    /// both in a theme and in "fits no theme".
    #[tokio::test]
    async fn comments_of_readers_of_several_answers_are_accounted_for_once() {
        // Three readers of both answers give answer A's main reason; among answer B's 80 readers
        // those three are too few for a theme (5%: 4), so in B they fit none.
        let mut comments = Vec::new();
        let mut add = |body: String, choices: &[&str]| {
            let id = comments.len() as i64 + 1;
            comments.push(SourceComment { id, body, choices: choices.iter().map(|c| c.to_string()).collect() });
        };
        for i in 0..20 {
            add(format!("The power grid cannot keep up, reader {i}"), &["a"]);
        }
        for i in 0..3 {
            add(format!("The power grid cannot keep up at all, says {i}"), &["a", "b"]);
        }
        for i in 0..77 {
            let reason =
                if i % 2 == 0 { "Chips keep getting cheaper every year" } else { "Money keeps pouring into labs" };
            add(format!("{reason}, from reader {i}"), &["b"]);
        }
        let outcome = summarise_words("What slows AI down?", [("a", "A", 23), ("b", "B", 80)], comments).await;
        let themed: HashSet<i64> = outcome.draft.themes.iter().flat_map(|t| t.members.iter().copied()).collect();
        assert!(outcome.draft.unassigned.iter().all(|id| !themed.contains(id)));
        assert_eq!(themed.len() + outcome.draft.unassigned.len(), 100);
    }

    /// Readers of both answers blame the grid; each answer also has a reason of its own. The
    /// grid is one shared reason (a theme in each answer, the same number); the others are not.
    #[tokio::test]
    async fn a_reason_readers_of_two_answers_give_is_marked_shared() {
        let mut comments = Vec::new();
        let mut add = |body: String, choice: &str| {
            let id = comments.len() as i64 + 1;
            comments.push(SourceComment { id, body, choices: vec![choice.to_owned()] });
        };
        // Readers of either answer put the grid in the same few ways.
        const GRID: [&str; 3] =
            ["Power grids cannot keep up", "Power grids and substations take years", "Power grids lack transformers"];
        const WHO: [&str; 5] = ["says Ann", "says Bo", "says Cy", "says Di", "says Ed"];
        for i in 0..30 {
            let (way, who) = (GRID[i % 3], WHO[i % 5]);
            add(format!("{way}, {who}"), "stalls");
            add(format!("Interest rates will choke venture funding, {who}"), "stalls");
            add(format!("{way}, {who}"), "booms");
            add(format!("Cheaper chips arrive every single year, {who}"), "booms");
        }
        let answers = [("stalls", "Stalls", 60), ("booms", "Booms", 60)];
        let outcome = summarise_words("Will the compute boom stall?", answers, comments).await;
        let about = |word: &str| -> Vec<&checks::Theme> {
            outcome.draft.themes.iter().filter(|t| t.quotes.iter().all(|q| q.text.contains(word))).collect()
        };
        let grid = about("Power grids");
        assert_eq!(grid.len(), 2, "{:#?}", outcome.draft.themes);
        assert!(grid[0].shared.is_some() && grid[0].shared == grid[1].shared, "{:#?}", outcome.draft.themes);
        assert_ne!(grid[0].option, grid[1].option);
        for own in ["Interest rates", "Cheaper chips"] {
            assert!(about(own).iter().all(|t| t.shared.is_none()), "{own}: {:#?}", outcome.draft.themes);
            assert!(!about(own).is_empty(), "{own}");
        }
    }

    #[test]
    fn titles_are_short_spans_of_members_that_do_not_restate_the_question() {
        let bodies = [
            "We should ban cars.",
            "We should ban cars!",
            "Yes, we should ban cars",
            "Cars pollute the air in every city. They are loud too.",
            "Cars pollute the air we breathe",
            "Exhaust from cars pollutes the air",
            "Streets would be safe for children again",
            "Children could play safely in the streets",
            "Safe streets for our children, finally",
        ];
        let comments: Vec<SourceComment> = bodies
            .iter()
            .cycle()
            .take(36)
            .enumerate()
            .map(|(i, b)| SourceComment {
                id: i as i64 + 1,
                body: format!("{b}{}", " ".repeat(i / 9)),
                choices: vec!["yes".into()],
            })
            .collect();
        let input = PollInput {
            question: "Should we ban cars?".into(),
            options: vec![("yes".into(), "Yes".into())],
            votes: vec![("yes".into(), 36)],
            total_votes: 36,
            comments,
        };
        let skeleton = skeleton(&input, &embed::Lexical, &mut |_| {}, &mut Timings::default()).unwrap();
        assert!(!skeleton.themes.is_empty());
        // Readers who only restate the question give no title (the writer names the answer).
        assert!(skeleton.themes.iter().filter(|t| t.title_from.is_some()).count() >= 2, "{:?}", skeleton.themes);
        for theme in &skeleton.themes {
            let Some(from) = theme.title_from else {
                assert!(theme.title.is_empty());
                continue;
            };
            assert!(theme.members.contains(&from));
            assert!(skeleton.bodies[&from].contains(&theme.title), "{:?}", theme.title);
            assert!(theme.title.split_whitespace().count() <= TITLE_WORDS);
            let asked = embed::content_words(&input.question);
            assert!(
                embed::content_words(&theme.title).difference(&asked).count() > 0,
                "restates the question: {:?}",
                theme.title
            );
        }
        let placed: usize = skeleton.themes.iter().map(|t| t.members.len()).sum::<usize>() + skeleton.unassigned.len();
        assert_eq!(placed, 36, "every comment in one place");
    }

    #[test]
    fn long_comments_are_quoted_by_a_contiguous_opening_span() {
        let long =
            format!("{} Second sentence here. {}", "First sentence about power grids and permits.", "x ".repeat(300));
        let cut = excerpt(&long);
        assert!(long.contains(cut));
        assert!(cut.ends_with("here."), "{cut}");
        let no_stops = "word ".repeat(200);
        let cut = excerpt(&no_stops);
        assert!(no_stops.contains(cut) && cut.len() <= 280 && !cut.ends_with(' '));
        assert_eq!(excerpt("  short one  "), "short one");
        let emoji = "🙂".repeat(400);
        assert!(emoji.contains(excerpt(&emoji)));
    }
}
