//! `polltelligence summaries eval` and `… bench`: the summariser judged on the fixture polls
//! (quality against hand-written references) and timed on a generated 10,000-comment poll.

use super::backends::Extractive;
use super::embed::{Embedder, Lexical};
use super::fixtures::{self, Fixture};
use super::pipeline;
use super::Writer;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Why an evaluation or a benchmark stopped.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Fixture(#[from] fixtures::FixtureError),
    #[error(transparent)]
    Model(#[from] super::models::ModelError),
    #[error("this build has no in-process models; use --words")]
    NoModels,
    #[error("{0}")]
    Summariser(String),
    #[error("{slug}: the summary failed its checks: {problems:?}")]
    FailedChecks { slug: String, problems: Vec<String> },
    #[error("{0}: an answer with 10% of the comments has no theme")]
    Uncovered(String),
}

fn summariser(e: impl std::fmt::Display) -> EvalError {
    EvalError::Summariser(e.to_string())
}

/// The embedding model: MiniLM from the cache (`words`: hashed words instead).
pub fn embedder(models: &Path, words: bool) -> Result<Arc<dyn Embedder>, EvalError> {
    if words {
        return Ok(Arc::new(Lexical));
    }
    #[cfg(feature = "ml")]
    {
        super::models::present(models, &super::models::EMBEDDER, false)?;
        let model = super::embed::MiniLm::load(&super::models::embedder_dir(models), super::embed::best_device())
            .map_err(summariser)?;
        Ok(Arc::new(model))
    }
    #[cfg(not(feature = "ml"))]
    {
        let _ = models;
        Err(EvalError::NoModels)
    }
}

async fn run(
    fixture: &Fixture,
    embedder: Arc<dyn Embedder>,
    writer: &dyn Writer,
) -> Result<pipeline::Outcome, EvalError> {
    pipeline::summarise(Arc::new(fixture.input.clone()), embedder, writer, Arc::new(|_| {})).await.map_err(summariser)
}

/// Scores every fixture; prints a table and the mean. Fails if a summary fails its checks or
/// leaves an answer with 10% of the comments without a theme.
pub async fn eval(dir: &Path, embedder: Arc<dyn Embedder>) -> Result<f64, EvalError> {
    let fixtures = fixtures::load_dir(dir)?;
    println!("summaries eval: {} fixture polls, embeddings: {}, backend: extractive", fixtures.len(), embedder.id());
    println!(
        "{:<26} {:>8} {:>11} {:>9} {:>11} {:>9} {:>8} {:>8}",
        "poll", "comments", "themes r/s", "theme F1", "title words", "coverage", "overall", "seconds"
    );
    let mut sum = 0.0;
    for fixture in &fixtures {
        let started = Instant::now();
        let outcome = run(fixture, embedder.clone(), &Extractive).await?;
        let seconds = started.elapsed().as_secs_f64();
        if !outcome.report.passed() {
            let problems = outcome.report.problems.iter().map(|p| format!("{p:?}")).collect();
            return Err(EvalError::FailedChecks { slug: fixture.slug.clone(), problems });
        }
        let score = fixtures::score(&outcome.draft, fixture);
        if score.coverage < 1.0 {
            return Err(EvalError::Uncovered(fixture.slug.clone()));
        }
        sum += score.overall();
        println!(
            "{:<26} {:>8} {:>11} {:>9.3} {:>11.3} {:>9.2} {:>8.3} {:>8.2}",
            fixture.slug,
            fixture.input.comments.len(),
            format!("{}/{}", fixture.reference.len(), outcome.draft.themes.len()),
            score.themes_f1,
            score.title_words,
            score.coverage,
            score.overall(),
            seconds
        );
    }
    let mean = sum / fixtures.len().max(1) as f64;
    println!("mean overall score: {mean:.3} (0.7 × theme F1 + 0.3 × title words; 1.0 = the reference)");
    Ok(mean)
}

/// Times each stage on a generated poll of `comments` distinct comments (the largest fixture,
/// scaled, no text repeated), with the extractive backend, and prints the peak memory; then the
/// local backend's generation speed.
pub async fn bench(dir: &Path, comments: usize, embedder: Arc<dyn Embedder>, models: &Path) -> Result<(), EvalError> {
    let base = fixtures::load(&dir.join("10-agi-by-2030.json"), 1)?;
    let scale = comments.div_ceil(base.input.comments.len().max(1)).max(1);
    let mut fixture = fixtures::load(&dir.join("10-agi-by-2030.json"), scale)?;
    fixture.input.comments.truncate(comments);
    distinct(&mut fixture.input.comments);
    let n = fixture.input.comments.len();
    println!(
        "summaries bench: {n} distinct comments, embeddings: {} on {}, backend: extractive",
        embedder.id(),
        embedder_device(&*embedder)
    );
    let started = Instant::now();
    let outcome = run(&fixture, embedder, &Extractive).await?;
    let total = started.elapsed();
    let t = &outcome.timings;
    for (stage, time) in
        [("embed", t.embed), ("cluster", t.cluster), ("quotes", t.quotes), ("write", t.write), ("check", t.check)]
    {
        println!("  {stage:<8} {:>8.2} s", time.as_secs_f64());
    }
    println!(
        "  embeddings/s {:>8.0}  ({} distinct texts of {n}; duplicates are embedded once)",
        t.distinct_texts as f64 / t.embed.as_secs_f64().max(1e-9),
        t.distinct_texts
    );
    let goal = if n <= 10_000 {
        format!("goal at 10,000 comments ≤ 45 s: {}", if total.as_secs_f64() <= 45.0 { "met" } else { "MISSED" })
    } else {
        "the time goal is for 10,000 comments".to_owned()
    };
    println!(
        "  total    {:>8.2} s  ({goal}; checks {})",
        total.as_secs_f64(),
        if outcome.report.passed() { "passed" } else { "FAILED" }
    );
    match peak_memory() {
        Some(kib) => println!("  peak RSS {:>7.0} MiB  (goal at 50,000 comments: ≤ 2,048 MiB)", kib as f64 / 1024.0),
        None => println!("  peak RSS: not known on this system"),
    }
    local_speed(dir, models).await
}

/// Makes every comment's text different from every other's, as real readers' are (a repeated
/// text is embedded once, so a benchmark with repeats would time less work than it claims):
/// a repeat gets a closing remark, the n-th repeat of a text the n-th remark of a fixed list.
pub fn distinct(comments: &mut [super::checks::SourceComment]) {
    const TONES: [&str; 8] =
        ["Honestly", "Frankly", "Plainly", "Simply put", "In short", "To me", "Seriously", "Clearly"];
    const WHERE: [&str; 16] = [
        "at work",
        "in my team",
        "for our clients",
        "in our city",
        "at home",
        "in my field",
        "for small firms",
        "in schools",
        "for hospitals",
        "in banking",
        "in farming",
        "for startups",
        "in research",
        "for artists",
        "in retail",
        "this week",
    ];
    let mut seen = std::collections::HashSet::new();
    let mut repeats: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for comment in comments.iter_mut() {
        while !seen.insert(comment.body.clone()) {
            let n = repeats.entry(comment.body.clone()).or_default();
            let (tone, place, also) = (TONES[*n % 8], WHERE[(*n / 8) % 16], WHERE[(*n / 128) % 16]);
            *n += 1;
            comment.body = format!("{} {tone}, I see it {place}, and {also}.", comment.body);
        }
    }
}

/// Where the embeddings run: the hashed words always on the CPU, MiniLM where candle found a GPU.
fn embedder_device(embedder: &dyn Embedder) -> &'static str {
    #[cfg(feature = "ml")]
    if embedder.id() != Lexical.id() {
        return if super::embed::best_device().is_cuda() { "cuda" } else { "cpu" };
    }
    let _ = embedder;
    "cpu"
}

/// This process's peak resident memory (KiB), from Linux's `/proc/self/status`.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(feature = "ml")]
async fn local_speed(dir: &Path, models: &Path) -> Result<(), EvalError> {
    let path = super::models::generator_path(models);
    if !path.exists() {
        println!("local backend: no model in {} (run `polltelligence models fetch`)", models.display());
        return Ok(());
    }
    let local = super::backends::local::Local::new(path);
    let fixture = fixtures::load(&dir.join("03-open-vs-closed-models.json"), 1)?;
    let mut timings = pipeline::Timings::default();
    let skeleton = pipeline::skeleton(&fixture.input, &Lexical, &mut |_| {}, &mut timings).map_err(summariser)?;
    // The first call loads the model; time a second one.
    local.write(&skeleton, None).await.map_err(summariser)?;
    let (tokens_before, time_before) = local.stats();
    local.write(&skeleton, None).await.map_err(summariser)?;
    let (tokens, time) = local.stats();
    let (tokens, seconds) = (tokens - tokens_before, (time - time_before).as_secs_f64());
    println!(
        "local backend ({}, {}): {tokens} tokens generated in {seconds:.1} s: {:.1} tokens/s (prompts included)",
        local.model(),
        super::backends::local::Local::device_name(),
        tokens as f64 / seconds.max(1e-9)
    );
    Ok(())
}

#[cfg(not(feature = "ml"))]
async fn local_speed(_: &Path, _: &Path) -> Result<(), EvalError> {
    println!("local backend: not in this build");
    Ok(())
}
