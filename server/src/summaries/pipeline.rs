//! From a poll's visible comments to a checked summary. Stages, each timed:
//! 1. embed every comment (`embed`);
//! 2. group each option's comments into themes (`cluster`, seeded: the same input gives the
//!    same themes), folding groups too small to stand alone into "other reasons";
//! 3. pick up to three representative quotes per theme: the comments nearest its centre,
//!    verbatim (a long comment is cut at a sentence end, still a contiguous span);
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
use std::collections::{BTreeMap, HashMap, HashSet};
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
    let unique =
        embedder.embed(&distinct, &mut |done, total| progress(0.05 + 0.6 * done as f64 / total.max(1) as f64))?;
    if unique.len() != distinct.len() {
        return Err(SummaryError::Model("the embedding model returned the wrong number of vectors".into()));
    }
    let vectors: Vec<Vec<f32>> = slots.iter().map(|&s| unique[s].clone()).collect();
    timings.distinct_texts = distinct.len();
    timings.embed = started.elapsed();

    let started = Instant::now();
    let df = document_frequencies(&texts);
    let mut themes = Vec::new();
    let mut options = Vec::new();
    let mut groups_of_option = Vec::new();
    for (n, (key, label)) in input.options.iter().enumerate() {
        let members: Vec<usize> = (0..comments.len()).filter(|&i| comments[i].choices.contains(key)).collect();
        let votes = input.votes.iter().find(|(k, _)| k == key).map(|(_, v)| *v).unwrap_or(0);
        options.push(OptionFacts { key: key.clone(), label: label.clone(), votes, comments: members.len() as u64 });
        if members.is_empty() {
            continue;
        }
        let refs: Vec<&[f32]> = members.iter().map(|&i| vectors[i].as_slice()).collect();
        let k = super::cluster::themes_for(members.len());
        let groups = super::cluster::kmeans(&refs, k, 0x5eed_0000 + n as u64);
        groups_of_option.push((key.clone(), label.clone(), members, groups));
    }
    timings.cluster = started.elapsed();
    progress(0.7);

    let started = Instant::now();
    for (key, label, members, groups) in groups_of_option {
        // A group under 5% of the option's comments (or under 3 comments) joins "other reasons".
        let small = (members.len() as f64 * 0.05).ceil().max(3.0) as usize;
        let (kept, rest): (Vec<_>, Vec<_>) =
            groups.into_iter().partition(|(g, _)| g.len() >= small || members.len() < small * 2);
        // (group, centre, made of small groups)
        let mut themed: Vec<(Vec<usize>, Vec<f32>, bool)> = kept.into_iter().map(|(g, c)| (g, c, false)).collect();
        if themed.is_empty() {
            themed = rest.into_iter().map(|(g, c)| (g, c, false)).collect();
        } else if !rest.is_empty() {
            let mut other: Vec<usize> = rest.iter().flat_map(|(g, _)| g.iter().copied()).collect();
            other.sort_unstable();
            let mut centre = vec![0f32; vectors[0].len()];
            for &m in &other {
                centre.iter_mut().zip(&vectors[members[m]]).for_each(|(c, x)| *c += x);
            }
            embed::normalise(&mut centre);
            themed.push((other, centre, true));
        }
        for (group, centre, other) in themed {
            let indices: Vec<usize> = group.iter().map(|&m| members[m]).collect();
            themes.push(SkeletonTheme {
                option: Some(key.clone()),
                option_label: label.clone(),
                members: indices.iter().map(|&i| comments[i].id).collect(),
                quotes: quotes(&indices, &comments, &vectors, &centre),
                keywords: keywords(&indices, &texts, &df),
                other,
            });
        }
    }
    timings.quotes = started.elapsed();
    progress(0.8);

    Ok(Skeleton {
        question: input.question.clone(),
        options,
        total_votes: input.total_votes,
        total_comments: comments.len() as u64,
        themes,
        bodies: comments.iter().map(|c| (c.id, c.body.clone())).collect(),
    })
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// In how many comments each content word appears.
fn document_frequencies(texts: &[&str]) -> HashMap<String, usize> {
    let mut df = HashMap::new();
    for text in texts {
        let unique: HashSet<String> = embed::words(text).collect();
        for word in unique {
            *df.entry(word).or_default() += 1;
        }
    }
    df
}

/// Words frequent in the theme and rarer elsewhere; never figures (a title must not state a
/// number that is not a statistic) and never stop words.
fn keywords(indices: &[usize], texts: &[&str], df: &HashMap<String, usize>) -> Vec<String> {
    let total = texts.len() as f64;
    let mut in_theme: BTreeMap<String, usize> = BTreeMap::new();
    for &i in indices {
        let unique: HashSet<String> = embed::words(texts[i]).collect();
        for word in unique {
            *in_theme.entry(word).or_default() += 1;
        }
    }
    let mut scored: Vec<(f64, String)> = in_theme
        .into_iter()
        .filter(|(w, n)| {
            *n >= 2.min(indices.len())
                && w.chars().count() >= 3
                && !w.chars().any(|c| c.is_ascii_digit())
                && !embed::is_stopword(w)
        })
        .map(|(w, n)| {
            let idf = (total / *df.get(&w).unwrap_or(&1) as f64).ln() + 1.0;
            (n as f64 * idf, w)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(3).map(|(_, w)| w).collect()
}

/// Quotes longer than this are cut at a sentence end.
const QUOTE_CHARS: usize = 280;

/// Up to three distinct comments nearest the centre, verbatim, without personal data.
fn quotes(indices: &[usize], comments: &[&SourceComment], vectors: &[Vec<f32>], centre: &[f32]) -> Vec<Quote> {
    let mut ranked: Vec<usize> = indices.to_vec();
    ranked.sort_by(|&a, &b| dot(&vectors[b], centre).total_cmp(&dot(&vectors[a], centre)).then(a.cmp(&b)));
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for i in ranked {
        let text = excerpt(&comments[i].body);
        let folded = checks::fold(text).to_lowercase();
        // A quote may be printed in the newsletter: never one that carries an email address
        // or a phone number.
        let personal = super::privacy::mask(text) != text;
        if personal || folded.chars().filter(|c| c.is_alphanumeric()).count() < 3 || !seen.insert(folded) {
            continue;
        }
        out.push(Quote { comment_id: comments[i].id, text: text.to_owned() });
        if out.len() == 3 {
            break;
        }
    }
    out
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
