//! `polltelligence summaries eval --argkp DIR`: the summariser judged on data nobody here wrote.
//! IBM's ArgKP-2021 (`../shared/data/argkp-2021-train/README.md`; CDLA-Sharing 1.0) holds crowd
//! arguments for and against debate topics and the key points experts wrote for each side. Each
//! topic is cast as a poll (topic = question, stance = answer, argument = a reader's "why?"
//! comment) and summarised by the product's own pipeline with the `extractive` backend; beside it,
//! in the same run on the same data, a plain baseline: TF-IDF vectors and k-means with k = the
//! number of key points (titles: the centre's five heaviest terms; quotes: the three arguments
//! nearest the centre).
//!
//! Figures, per answer, then averaged over answers. An argument's *gold group* is the key point
//! it is labelled 1 with (the first in the file if several; none: unmatched).
//! - **quote purity**: the share of a theme's quotes whose gold group is the theme's majority
//!   gold group (of its quotes; an unmatched quote never counts as pure);
//! - **coverage**: of the key points holding ≥ 5% of the answer's matched arguments, the share
//!   that is the majority gold group of some theme's quotes;
//! - **title ROUGE-1**: unigram F1 (lower-case, stop words out) between a theme's title and its
//!   majority key point;
//! - **ARI** and **V-measure** between theme membership and gold groups, over the matched
//!   arguments, with "fits no theme" counted as one more group (so leaving comments out is not
//!   free).

use super::backends::Extractive;
use super::checks::SourceComment;
use super::embed::{self, Embedder};
use super::evaluate::EvalError;
use super::pipeline::{self, PollInput};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, serde::Deserialize)]
struct ArgumentRow {
    arg_id: String,
    argument: String,
    topic: String,
    stance: i8,
}

#[derive(Debug, serde::Deserialize)]
struct KeyPointRow {
    key_point_id: String,
    key_point: String,
    topic: String,
    stance: i8,
}

#[derive(Debug, serde::Deserialize)]
struct LabelRow {
    arg_id: String,
    key_point_id: String,
    label: u8,
}

/// One answer (topic and stance) as the figures see it.
pub struct Answer {
    pub topic: String,
    pub stance: i8,
    /// Arguments: (text, gold key point index into `key_points`).
    pub arguments: Vec<(String, Option<usize>)>,
    pub key_points: Vec<String>,
}

/// A theme as scored: indices into the answer's arguments.
#[derive(Debug, Clone)]
pub struct Scored {
    pub members: Vec<usize>,
    pub quotes: Vec<usize>,
    pub title: String,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Figures {
    pub purity: f64,
    pub coverage: f64,
    pub rouge: f64,
    pub ari: f64,
    pub v_measure: f64,
}

impl Figures {
    fn mean(all: &[Figures]) -> Figures {
        let n = all.len().max(1) as f64;
        let sum = |f: fn(&Figures) -> f64| all.iter().map(f).sum::<f64>() / n;
        Figures {
            purity: sum(|f| f.purity),
            coverage: sum(|f| f.coverage),
            rouge: sum(|f| f.rouge),
            ari: sum(|f| f.ari),
            v_measure: sum(|f| f.v_measure),
        }
    }

    fn row(&self) -> String {
        format!(
            "{:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3}",
            self.purity, self.coverage, self.rouge, self.ari, self.v_measure
        )
    }
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, EvalError> {
    let bad = |e: &dyn std::fmt::Display| EvalError::Summariser(format!("{}: {e}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(&e))?;
    reader.deserialize().map(|row| row.map_err(|e| bad(&e))).collect()
}

/// Every answer of the ArgKP-format CSVs in `dir` (`arguments_*.csv`, `key_points_*.csv`,
/// `labels_*.csv`, any one split), in the order the arguments file first names them.
pub fn load(dir: &Path) -> Result<Vec<Answer>, EvalError> {
    let find = |prefix: &str| -> Result<std::path::PathBuf, EvalError> {
        let entries = std::fs::read_dir(dir).map_err(|e| EvalError::Summariser(format!("{}: {e}", dir.display())))?;
        let mut found: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix) && n.ends_with(".csv"))
            })
            .collect();
        found.sort();
        found.into_iter().next().ok_or_else(|| {
            EvalError::Summariser(format!("{} has no {prefix}*.csv (an ArgKP-format folder)", dir.display()))
        })
    };
    let arguments: Vec<ArgumentRow> = read(&find("arguments_")?)?;
    let key_points: Vec<KeyPointRow> = read(&find("key_points_")?)?;
    let labels: Vec<LabelRow> = read(&find("labels_")?)?;
    let order: HashMap<&str, usize> =
        key_points.iter().enumerate().map(|(i, k)| (k.key_point_id.as_str(), i)).collect();
    let mut gold: HashMap<&str, usize> = HashMap::new();
    for label in labels.iter().filter(|l| l.label == 1) {
        if let Some(&k) = order.get(label.key_point_id.as_str()) {
            let entry = gold.entry(label.arg_id.as_str()).or_insert(k);
            *entry = (*entry).min(k);
        }
    }
    let mut answers: Vec<Answer> = Vec::new();
    let mut index: HashMap<(String, i8), usize> = HashMap::new();
    for argument in &arguments {
        let slot = *index.entry((argument.topic.clone(), argument.stance)).or_insert_with(|| {
            answers.push(Answer {
                topic: argument.topic.clone(),
                stance: argument.stance,
                arguments: Vec::new(),
                key_points: Vec::new(),
            });
            answers.len() - 1
        });
        answers[slot].arguments.push((argument.argument.clone(), gold.get(argument.arg_id.as_str()).copied()));
    }
    // Key point indices are global so far; make them the answer's own.
    for answer in &mut answers {
        let own: Vec<usize> = key_points
            .iter()
            .enumerate()
            .filter(|(_, k)| k.topic == answer.topic && k.stance == answer.stance)
            .map(|(i, _)| i)
            .collect();
        answer.key_points = own.iter().map(|&i| key_points[i].key_point.clone()).collect();
        for (_, g) in &mut answer.arguments {
            *g = g.and_then(|k| own.iter().position(|&o| o == k));
        }
    }
    if answers.is_empty() {
        return Err(EvalError::Summariser(format!("{}: no arguments", dir.display())));
    }
    Ok(answers)
}

/// Unigram F1 of content words (lower-case, stop words out).
pub fn rouge1(a: &str, b: &str) -> f64 {
    let (a, b) = (embed::content_words(a), embed::content_words(b));
    let both = a.intersection(&b).count() as f64;
    if both == 0.0 {
        return 0.0;
    }
    let (p, r) = (both / a.len() as f64, both / b.len() as f64);
    2.0 * p * r / (p + r)
}

fn pairs(n: u64) -> f64 {
    (n * n.saturating_sub(1)) as f64 / 2.0
}

/// Adjusted Rand index and V-measure of two labellings of the same items.
pub fn agreement(truth: &[usize], found: &[usize]) -> (f64, f64) {
    let n = truth.len() as u64;
    if n < 2 {
        return (1.0, 1.0);
    }
    let mut table: HashMap<(usize, usize), u64> = HashMap::new();
    let mut rows: HashMap<usize, u64> = HashMap::new();
    let mut cols: HashMap<usize, u64> = HashMap::new();
    for (&t, &f) in truth.iter().zip(found) {
        *table.entry((t, f)).or_default() += 1;
        *rows.entry(t).or_default() += 1;
        *cols.entry(f).or_default() += 1;
    }
    let index: f64 = table.values().map(|&c| pairs(c)).sum();
    let a: f64 = rows.values().map(|&c| pairs(c)).sum();
    let b: f64 = cols.values().map(|&c| pairs(c)).sum();
    let expected = a * b / pairs(n);
    let most = (a + b) / 2.0;
    let ari = if (most - expected).abs() < 1e-12 { 1.0 } else { (index - expected) / (most - expected) };
    let total = n as f64;
    let entropy = |m: &HashMap<usize, u64>| -> f64 { m.values().map(|&c| c as f64 / total).map(|p| -p * p.ln()).sum() };
    let (h_truth, h_found) = (entropy(&rows), entropy(&cols));
    let conditional = |given: &HashMap<usize, u64>, by_given: bool| -> f64 {
        table
            .iter()
            .map(|(&(t, f), &c)| {
                let g = if by_given { given[&f] } else { given[&t] };
                -(c as f64 / total) * (c as f64 / g as f64).ln()
            })
            .sum()
    };
    let homogeneity = if h_truth == 0.0 { 1.0 } else { 1.0 - conditional(&cols, true) / h_truth };
    let completeness = if h_found == 0.0 { 1.0 } else { 1.0 - conditional(&rows, false) / h_found };
    let v = if homogeneity + completeness == 0.0 {
        0.0
    } else {
        2.0 * homogeneity * completeness / (homogeneity + completeness)
    };
    (ari, v)
}

/// The most frequent gold group among `items` (ties: the lower key point), if any is matched.
fn majority(items: &[usize], answer: &Answer) -> Option<usize> {
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for &i in items {
        if let Some(g) = answer.arguments[i].1 {
            *counts.entry(g).or_default() += 1;
        }
    }
    counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0))).map(|(g, _)| g)
}

/// The figures for one answer's themes (the rest of its arguments fit no theme).
pub fn score(answer: &Answer, themes: &[Scored]) -> Figures {
    let matched: Vec<usize> = (0..answer.arguments.len()).filter(|&i| answer.arguments[i].1.is_some()).collect();
    let mut sizes: BTreeMap<usize, usize> = BTreeMap::new();
    for &i in &matched {
        *sizes.entry(answer.arguments[i].1.expect("matched")).or_default() += 1;
    }
    let big: HashSet<usize> =
        sizes.iter().filter(|(_, &c)| c as f64 >= 0.05 * matched.len() as f64).map(|(&g, _)| g).collect();
    let (mut purity, mut rouge, mut covered) = (Vec::new(), Vec::new(), HashSet::new());
    for theme in themes {
        let major = majority(&theme.quotes, answer);
        if let Some(g) = major {
            covered.insert(g);
        }
        let major = major.or_else(|| majority(&theme.members, answer));
        let pure = theme.quotes.iter().filter(|&&q| answer.arguments[q].1.is_some() && answer.arguments[q].1 == major);
        purity.push(pure.count() as f64 / theme.quotes.len().max(1) as f64);
        rouge.push(major.map_or(0.0, |g| rouge1(&theme.title, &answer.key_points[g])));
    }
    let mean = |v: &[f64]| if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
    let mut place = vec![usize::MAX; answer.arguments.len()];
    for (t, theme) in themes.iter().enumerate() {
        for &m in &theme.members {
            place[m] = t;
        }
    }
    let truth: Vec<usize> = matched.iter().map(|&i| answer.arguments[i].1.expect("matched")).collect();
    let found: Vec<usize> = matched.iter().map(|&i| place[i]).collect();
    let (ari, v_measure) = agreement(&truth, &found);
    Figures {
        purity: mean(&purity),
        coverage: if big.is_empty() { 1.0 } else { big.intersection(&covered).count() as f64 / big.len() as f64 },
        rouge: mean(&rouge),
        ari,
        v_measure,
    }
}

/// The baseline: TF-IDF (raw counts × smoothed IDF, unit length; words of two letters or more,
/// stop words out) and k-means with k = the number of key points.
pub fn baseline(answer: &Answer) -> Vec<Scored> {
    let docs: Vec<Vec<String>> = answer
        .arguments
        .iter()
        .map(|(text, _)| embed::words(text).filter(|w| w.chars().count() >= 2 && !embed::is_stopword(w)).collect())
        .collect();
    let mut vocabulary: BTreeMap<&str, usize> = BTreeMap::new();
    for doc in &docs {
        for w in doc {
            let next = vocabulary.len();
            vocabulary.entry(w.as_str()).or_insert(next);
        }
    }
    let mut df = vec![0usize; vocabulary.len()];
    for doc in &docs {
        for w in doc.iter().map(|w| vocabulary[w.as_str()]).collect::<HashSet<_>>() {
            df[w] += 1;
        }
    }
    let n = docs.len() as f64;
    let idf: Vec<f64> = df.iter().map(|&d| ((1.0 + n) / (1.0 + d as f64)).ln() + 1.0).collect();
    let vectors: Vec<Vec<f32>> = docs
        .iter()
        .map(|doc| {
            let mut v = vec![0f32; vocabulary.len()];
            for w in doc {
                let i = vocabulary[w.as_str()];
                v[i] += idf[i] as f32;
            }
            embed::normalise(&mut v);
            v
        })
        .collect();
    let refs: Vec<&[f32]> = vectors.iter().map(Vec::as_slice).collect();
    let terms: Vec<&str> = {
        let mut t = vec![""; vocabulary.len()];
        vocabulary.iter().for_each(|(w, &i)| t[i] = w);
        t
    };
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    super::cluster::kmeans(&refs, answer.key_points.len().max(1), 0)
        .into_iter()
        .map(|(members, centre)| {
            let mut near = members.clone();
            near.sort_by(|&a, &b| dot(&vectors[b], &centre).total_cmp(&dot(&vectors[a], &centre)).then(a.cmp(&b)));
            let mut heavy: Vec<usize> = (0..centre.len()).collect();
            heavy.sort_by(|&a, &b| centre[b].total_cmp(&centre[a]).then(a.cmp(&b)));
            let title = heavy.iter().take(5).map(|&i| terms[i]).collect::<Vec<_>>().join(" ");
            Scored { quotes: near.into_iter().take(3).collect(), members, title }
        })
        .collect()
}

/// Both methods on every topic of `dir`; prints the table and returns (project, baseline).
pub async fn eval(dir: &Path, embedder: Arc<dyn Embedder>, show_themes: bool) -> Result<(Figures, Figures), EvalError> {
    let answers = load(dir)?;
    let mut topics: Vec<&str> = Vec::new();
    for a in &answers {
        if !topics.contains(&a.topic.as_str()) {
            topics.push(&a.topic);
        }
    }
    println!(
        "summaries eval --argkp {}: {} topics, {} answers, {} arguments; embeddings: {}, backend: extractive",
        dir.display(),
        topics.len(),
        answers.len(),
        answers.iter().map(|a| a.arguments.len()).sum::<usize>(),
        embedder.id()
    );
    println!("ArgKP-2021 © IBM 2020, CDLA-Sharing 1.0 (https://cdla.io/sharing-1-0/)");
    println!(
        "{:<36} {:>3} {:>4} {:>3} {:>6} | {:>6} {:>6} {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6} {:>6} {:>6}",
        "topic",
        "ans",
        "args",
        "kps",
        "themes",
        "purity",
        "cover",
        "rouge1",
        "ARI",
        "V",
        "purity",
        "cover",
        "rouge1",
        "ARI",
        "V"
    );
    println!("{:<62}| {:<34} | {:<34}", "", "this project", "TF-IDF + k-means (k = key points)");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut shared: Vec<(String, String)> = Vec::new();
    for topic in topics {
        let mine: Vec<&Answer> = answers.iter().filter(|a| a.topic == topic).collect();
        // The poll: one answer per stance, every argument a comment of its answer.
        let key = |stance: i8| if stance > 0 { "for" } else { "against" };
        let mut comments = Vec::new();
        let mut ids: Vec<Vec<i64>> = Vec::new();
        for answer in &mine {
            let mut own = Vec::new();
            for (text, _) in &answer.arguments {
                let id = comments.len() as i64 + 1;
                comments.push(SourceComment { id, body: text.clone(), choices: vec![key(answer.stance).into()] });
                own.push(id);
            }
            ids.push(own);
        }
        let votes: Vec<(String, u64)> =
            mine.iter().map(|a| (key(a.stance).to_owned(), a.arguments.len() as u64)).collect();
        let input = PollInput {
            question: topic.to_owned(),
            options: mine
                .iter()
                .map(|a| (key(a.stance).to_owned(), if a.stance > 0 { "For".into() } else { "Against".into() }))
                .collect(),
            total_votes: comments.len() as u64,
            comments,
            votes,
        };
        let outcome = pipeline::summarise(Arc::new(input), embedder.clone(), &Extractive, Arc::new(|_| {}))
            .await
            .map_err(|e| EvalError::Summariser(e.to_string()))?;
        if !outcome.report.passed() {
            let problems = outcome.report.problems.iter().map(|p| format!("{p:?}")).collect();
            return Err(EvalError::FailedChecks { slug: topic.to_owned(), problems });
        }
        // Reasons both stances' readers gave, by the pipeline's own rule (`themes::shared`).
        let mut groups: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        for theme in &outcome.draft.themes {
            if let Some(n) = theme.shared {
                groups.entry(n).or_default().push(&theme.title);
            }
        }
        shared.extend(groups.into_values().map(|titles| (topic.to_owned(), titles.join(" | "))));
        for (answer, own) in mine.iter().zip(&ids) {
            let local: HashMap<i64, usize> = own.iter().enumerate().map(|(i, &id)| (id, i)).collect();
            let themes: Vec<Scored> = outcome
                .draft
                .themes
                .iter()
                .filter(|t| t.option.as_deref() == Some(key(answer.stance)))
                .map(|t| Scored {
                    members: t.members.iter().map(|id| local[id]).collect(),
                    quotes: t.quotes.iter().map(|q| local[&q.comment_id]).collect(),
                    title: t.title.clone(),
                })
                .collect();
            let (f, b) = (score(answer, &themes), score(answer, &baseline(answer)));
            let short: String = answer.topic.chars().take(36).collect();
            println!(
                "{short:<36} {:>3} {:>4} {:>3} {:>6} | {} | {}",
                if answer.stance > 0 { "for" } else { "agn" },
                answer.arguments.len(),
                answer.key_points.len(),
                themes.len(),
                f.row(),
                b.row()
            );
            if show_themes {
                for theme in &themes {
                    let major = majority(&theme.quotes, answer).or_else(|| majority(&theme.members, answer));
                    println!("    theme {:?}: {} comments", theme.title, theme.members.len());
                    for &q in &theme.quotes {
                        println!("      “{}”", answer.arguments[q].0.trim());
                    }
                    println!("      key point: {}", major.map_or("(none matched)", |g| answer.key_points[g].as_str()));
                }
            }
            ours.push(f);
            theirs.push(b);
        }
    }
    let (f, b) = (Figures::mean(&ours), Figures::mean(&theirs));
    println!("{:<62}| {} | {}", "mean over answers", f.row(), b.row());
    println!("shared reasons (a theme of each stance, shown once): {}", shared.len());
    if show_themes {
        for (topic, titles) in &shared {
            println!("    {topic}: {titles}");
        }
    }
    let ratio = |x: f64, y: f64| if y > 0.0 { format!("{:>6.2}", x / y) } else { format!("{:>6}", "-") };
    println!(
        "{:<62}| {} {} {} {} {} |",
        "ratio (this project / baseline)",
        ratio(f.purity, b.purity),
        ratio(f.coverage, b.coverage),
        ratio(f.rouge, b.rouge),
        ratio(f.ari, b.ari),
        ratio(f.v_measure, b.v_measure)
    );
    Ok((f, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_matches_known_values() {
        // Identical up to renaming: perfect.
        let (ari, v) = agreement(&[0, 0, 1, 1], &[5, 5, 7, 7]);
        assert!((ari - 1.0).abs() < 1e-9 && (v - 1.0).abs() < 1e-9);
        // scikit-learn's adjusted_rand_score([0,0,1,1],[0,0,1,2]) = 0.5714…, v_measure 0.8.
        let (ari, v) = agreement(&[0, 0, 1, 1], &[0, 0, 1, 2]);
        assert!((ari - 4.0 / 7.0).abs() < 1e-9, "{ari}");
        assert!((v - 0.8).abs() < 1e-9, "{v}");
        // Everything in one group tells nothing: ARI 0.
        let (ari, _) = agreement(&[0, 1, 2, 0, 1, 2], &[0; 6]);
        assert!(ari.abs() < 1e-9);
    }

    #[test]
    fn figures_follow_their_definitions() {
        let answer = Answer {
            topic: "t".into(),
            stance: 1,
            arguments: vec![
                ("Cheap power matters a lot".into(), Some(0)),
                ("Power is cheap".into(), Some(0)),
                ("Jobs will vanish".into(), Some(1)),
                ("Unmatched words".into(), None),
            ],
            key_points: vec!["Power is cheap".into(), "Jobs vanish".into()],
        };
        let themes = vec![
            Scored { members: vec![0, 1, 3], quotes: vec![0, 1, 3], title: "Cheap power matters".into() },
            Scored { members: vec![2], quotes: vec![2], title: "Jobs vanish".into() },
        ];
        let f = score(&answer, &themes);
        assert!((f.purity - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-9, "{f:?}");
        assert_eq!(f.coverage, 1.0);
        assert!((f.rouge - (0.8 + 1.0) / 2.0).abs() < 1e-9, "{f:?}");
        assert!((f.ari - 1.0).abs() < 1e-9);
        // The second reason left in "fits no theme": coverage halves.
        let f = score(&answer, &themes[..1]);
        assert_eq!(f.coverage, 0.5);
        assert_eq!(rouge1("The cat", "the dog"), 0.0);
    }
}
