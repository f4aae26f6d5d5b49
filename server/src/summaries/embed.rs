//! Sentence vectors for grouping comments: MiniLM-L6 (sentence-transformers' all-MiniLM-L6-v2)
//! through candle when its files are in the model cache, else hashed word vectors, so a server
//! without the model still groups comments (less well: by shared words, not by meaning). The
//! result records which one ran.

use super::SummaryError;

/// Unit-length vectors, one per text, in order.
pub trait Embedder: Send + Sync {
    /// What ran, as recorded with each summary.
    fn id(&self) -> String;
    /// `progress(done, total)` is called after each batch.
    fn embed(&self, texts: &[&str], progress: &mut dyn FnMut(usize, usize)) -> Result<Vec<Vec<f32>>, SummaryError>;
}

/// Words of a text, lower-cased, for the hashed vectors and for theme keywords.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty())
}

/// Hashed unigrams and bigrams of content words, weighted 1 + ln(tf), in 1,024 dimensions.
pub struct Lexical;

const LEXICAL_DIMS: usize = 1024;

impl Embedder for Lexical {
    fn id(&self) -> String {
        "hashed-words-1024".into()
    }

    fn embed(&self, texts: &[&str], progress: &mut dyn FnMut(usize, usize)) -> Result<Vec<Vec<f32>>, SummaryError> {
        let mut out = Vec::with_capacity(texts.len());
        for (n, text) in texts.iter().enumerate() {
            let content: Vec<String> = words(text).filter(|w| !is_stopword(w)).collect();
            let mut counts = std::collections::HashMap::<u64, f32>::new();
            for (i, word) in content.iter().enumerate() {
                *counts.entry(fnv(word.as_bytes())).or_default() += 1.0;
                if let Some(next) = content.get(i + 1) {
                    *counts.entry(fnv(format!("{word} {next}").as_bytes())).or_default() += 0.5;
                }
            }
            let mut vector = vec![0f32; LEXICAL_DIMS];
            for (hash, tf) in counts {
                let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
                vector[(hash % LEXICAL_DIMS as u64) as usize] += sign * (1.0 + tf.ln());
            }
            normalise(&mut vector);
            out.push(vector);
            if (n + 1) % 512 == 0 || n + 1 == texts.len() {
                progress(n + 1, texts.len());
            }
        }
        Ok(out)
    }
}

/// FNV-1a: a stable hash (std's `DefaultHasher` may change between releases, and the
/// vectors must not, so that the same comments give the same summary).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3))
}

pub fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// A text's distinct words less stop words: what titles and ROUGE-1 compare.
pub fn content_words(text: &str) -> std::collections::HashSet<String> {
    words(text).filter(|w| !is_stopword(w)).collect()
}

/// Whether a text says "not", "no", "never", "nor", "cannot" or a word in "n't": the polarity a
/// shared reason must agree in.
pub fn negated(text: &str) -> bool {
    words(&text.replace('’', "'"))
        .any(|w| matches!(w.as_str(), "not" | "no" | "never" | "nor" | "cannot") || w.ends_with("n't"))
}

/// Common English function words: they say nothing about a theme.
pub fn is_stopword(word: &str) -> bool {
    const STOP: &[&str] = &[
        "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because",
        "been", "before", "being", "but", "by", "can", "could", "did", "do", "does", "doing", "don't", "down", "each",
        "even", "few", "for", "from", "get", "gets", "got", "had", "has", "have", "having", "he", "her", "here", "him",
        "his", "how", "i", "i'm", "if", "in", "into", "is", "isn't", "it", "it's", "its", "just", "like", "me", "more",
        "most", "much", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "one", "only", "or", "other",
        "our", "out", "over", "own", "really", "same", "she", "should", "so", "some", "still", "such", "than", "that",
        "that's", "the", "their", "them", "then", "there", "these", "they", "think", "this", "those", "through", "to",
        "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who",
        "why", "will", "with", "won't", "would", "you", "your", "yes", "way", "going", "thing", "things", "lot",
        "well", "already", "yet", "anyway", "maybe", "probably", "actually", "let", "keep", "keeps", "make", "makes",
        "need", "needs", "say", "says", "see", "know", "want", "every", "many", "long", "new", "next", "use", "used",
        "take", "takes", "come", "comes", "go", "goes", "year", "years", "de", "la", "le", "les", "et", "der", "die",
        "das", "und", "el", "los", "y",
    ];
    STOP.contains(&word)
}

#[cfg(feature = "ml")]
pub use minilm::{best_device, MiniLm};

#[cfg(feature = "ml")]
mod minilm {
    use super::{normalise, Embedder, SummaryError};
    use candle_core::{DType, Device, Tensor};
    use candle_nn::VarBuilder;
    use candle_transformers::models::bert::{BertModel, Config};
    use std::path::Path;
    use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

    /// Comments are cut to this many tokens for grouping (their start says what they are about;
    /// attention cost grows with the square of the length).
    const MAX_TOKENS: usize = 128;
    const BATCH: usize = 64;

    /// The first GPU where candle was built with CUDA (`.ci/build-cuda`) and one is present, else
    /// the CPU (`CUDA_VISIBLE_DEVICES=` forces the CPU on a GPU machine).
    pub fn best_device() -> Device {
        Device::new_cuda(0).unwrap_or(Device::Cpu)
    }

    pub struct MiniLm {
        model: BertModel,
        tokenizer: Tokenizer,
        device: Device,
        name: String,
    }

    impl MiniLm {
        /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`.
        pub fn load(dir: &Path, device: Device) -> Result<Self, SummaryError> {
            let bad = |what: &str, e: &dyn std::fmt::Display| {
                SummaryError::Model(format!("the embedding model in {} is unusable ({what}): {e}", dir.display()))
            };
            let config = std::fs::read_to_string(dir.join("config.json")).map_err(|e| bad("config.json", &e))?;
            let config: Config = serde_json::from_str(&config).map_err(|e| bad("config.json", &e))?;
            let mut tokenizer =
                Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| bad("tokenizer.json", &e))?;
            tokenizer
                .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
                .map_err(|e| bad("tokenizer.json", &e))?;
            tokenizer.with_padding(Some(PaddingParams::default()));
            // Safety: the file is memory-mapped read-only; the model cache is ours and checked by
            // SHA-256 when fetched (`models fetch`), and nothing writes to it while we run.
            let vb = unsafe {
                VarBuilder::from_mmaped_safetensors(&[dir.join("model.safetensors")], DType::F32, &device)
                    .map_err(|e| bad("model.safetensors", &e))?
            };
            let model = BertModel::load(vb, &config).map_err(|e| bad("model.safetensors", &e))?;
            Ok(MiniLm { model, tokenizer, device, name: "sentence-transformers/all-MiniLM-L6-v2".into() })
        }

        fn batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, SummaryError> {
            let failed = |e: &dyn std::fmt::Display| SummaryError::Model(format!("embedding failed: {e}"));
            let encodings = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| failed(&e))?;
            let ids: Vec<Tensor> = encodings
                .iter()
                .map(|e| Tensor::new(e.get_ids(), &self.device))
                .collect::<Result<_, _>>()
                .map_err(|e| failed(&e))?;
            let masks: Vec<Tensor> = encodings
                .iter()
                .map(|e| Tensor::new(e.get_attention_mask(), &self.device))
                .collect::<Result<_, _>>()
                .map_err(|e| failed(&e))?;
            let run = || -> candle_core::Result<Vec<Vec<f32>>> {
                let ids = Tensor::stack(&ids, 0)?;
                let mask = Tensor::stack(&masks, 0)?;
                let types = ids.zeros_like()?;
                let hidden = self.model.forward(&ids, &types, Some(&mask))?;
                // Mean of the token vectors, padding left out (the model's own pooling).
                let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
                let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
                let pooled = summed.broadcast_div(&mask.sum(1)?)?;
                pooled.to_vec2::<f32>()
            };
            let mut vectors = run().map_err(|e| failed(&e))?;
            vectors.iter_mut().for_each(|v| normalise(v));
            Ok(vectors)
        }
    }

    impl Embedder for MiniLm {
        fn id(&self) -> String {
            self.name.clone()
        }

        fn embed(&self, texts: &[&str], progress: &mut dyn FnMut(usize, usize)) -> Result<Vec<Vec<f32>>, SummaryError> {
            // Batches of similar length waste little on padding: sort by length, restore order.
            let mut order: Vec<usize> = (0..texts.len()).collect();
            order.sort_by_key(|&i| (texts[i].len(), i));
            let mut out = vec![Vec::new(); texts.len()];
            let mut done = 0;
            for chunk in order.chunks(BATCH) {
                // Long comments: only their first few thousand characters can reach the model.
                let batch: Vec<&str> = chunk.iter().map(|&i| cut(texts[i], 2_000)).collect();
                for (i, vector) in chunk.iter().zip(self.batch(&batch)?) {
                    out[*i] = vector;
                }
                done += chunk.len();
                progress(done, texts.len());
            }
            Ok(out)
        }
    }

    fn cut(text: &str, max: usize) -> &str {
        if text.len() <= max {
            return text;
        }
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_vectors_are_unit_length_and_close_for_shared_words() {
        let texts = ["The power grid is the bottleneck", "Grid power is the real bottleneck", "Chips are cheap now"];
        let v = Lexical.embed(&texts, &mut |_, _| {}).unwrap();
        let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
        assert!((dot(&v[0], &v[0]) - 1.0).abs() < 1e-5);
        assert!(dot(&v[0], &v[1]) > dot(&v[0], &v[2]) + 0.3);
        // Emoji only, or nothing but stop words: a zero vector, not a panic or NaN.
        let odd = Lexical.embed(&["🙂🙂", "the and of"], &mut |_, _| {}).unwrap();
        assert!(odd.iter().flatten().all(|x| x.is_finite()));
    }
}
