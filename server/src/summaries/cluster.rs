//! Groups of similar comments: spherical k-means (cosine similarity on unit vectors) with
//! k-means++ seeding from a fixed seed, so the same comments always give the same groups.
//! Hand-written (about 80 lines): the clustering crates we looked at (linfa) bring ndarray
//! and BLAS for what is a few loops over a few thousand short vectors.

/// SplitMix64: a tiny generator whose sequence never changes between library releases.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// How many themes `n` comments support: one for a handful, at most five.
pub fn themes_for(n: usize) -> usize {
    ((n as f64 / 10.0).sqrt().round() as usize).clamp(1, 5).min(n.max(1))
}

/// Assigns each vector (by index) to one of at most `k` groups; returns the groups' members,
/// largest first (ties: the group whose first member comes first), and each group's centroid.
pub fn kmeans(vectors: &[&[f32]], k: usize, seed: u64) -> Vec<(Vec<usize>, Vec<f32>)> {
    let n = vectors.len();
    if n == 0 {
        return Vec::new();
    }
    let dims = vectors[0].len();
    let k = k.clamp(1, n);
    let mut rng = SplitMix(seed);
    // k-means++: each next centre far (in cosine distance) from those chosen.
    let mut centres: Vec<Vec<f32>> = vec![vectors[(rng.next() % n as u64) as usize].to_vec()];
    let mut nearest: Vec<f32> = vectors.iter().map(|v| 1.0 - dot(v, &centres[0])).collect();
    while centres.len() < k {
        let total: f64 = nearest.iter().map(|d| d.max(0.0) as f64).sum();
        if total <= 1e-9 {
            break; // every comment says the same thing: fewer groups
        }
        let mut target = rng.unit() * total;
        let mut chosen = n - 1;
        for (i, d) in nearest.iter().enumerate() {
            target -= d.max(0.0) as f64;
            if target <= 0.0 {
                chosen = i;
                break;
            }
        }
        centres.push(vectors[chosen].to_vec());
        for (i, v) in vectors.iter().enumerate() {
            nearest[i] = nearest[i].min(1.0 - dot(v, centres.last().expect("a centre")));
        }
    }
    let mut assignment = vec![usize::MAX; n];
    for _ in 0..30 {
        let mut moved = false;
        for (i, v) in vectors.iter().enumerate() {
            let best = (0..centres.len())
                .max_by(|&a, &b| dot(v, &centres[a]).total_cmp(&dot(v, &centres[b])).then(b.cmp(&a)))
                .expect("at least one centre");
            if assignment[i] != best {
                assignment[i] = best;
                moved = true;
            }
        }
        if !moved {
            break;
        }
        for (c, centre) in centres.iter_mut().enumerate() {
            let mut sum = vec![0f32; dims];
            let mut count = 0;
            for (i, v) in vectors.iter().enumerate() {
                if assignment[i] == c {
                    sum.iter_mut().zip(v.iter()).for_each(|(s, x)| *s += x);
                    count += 1;
                }
            }
            if count > 0 {
                super::embed::normalise(&mut sum);
                *centre = sum;
            }
        }
    }
    let mut groups: Vec<(Vec<usize>, Vec<f32>)> = centres
        .into_iter()
        .enumerate()
        .map(|(c, centre)| ((0..n).filter(|&i| assignment[i] == c).collect::<Vec<_>>(), centre))
        .filter(|(members, _)| !members.is_empty())
        .collect();
    groups.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0[0].cmp(&b.0[0])));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let mut v = v.to_vec();
        crate::summaries::embed::normalise(&mut v);
        v
    }

    #[test]
    fn separates_clear_groups_the_same_way_every_time() {
        let mut points = Vec::new();
        for i in 0..30 {
            let jitter = (i % 7) as f32 * 0.01;
            points.push(unit(&[1.0, jitter, 0.0]));
            points.push(unit(&[0.0, 1.0, jitter]));
            if i < 10 {
                points.push(unit(&[jitter, 0.0, 1.0]));
            }
        }
        let refs: Vec<&[f32]> = points.iter().map(|p| p.as_slice()).collect();
        let groups = kmeans(&refs, 3, 7);
        assert_eq!(groups.iter().map(|g| g.0.len()).collect::<Vec<_>>(), vec![30, 30, 10]);
        let again = kmeans(&refs, 3, 7);
        assert_eq!(groups.iter().map(|g| &g.0).collect::<Vec<_>>(), again.iter().map(|g| &g.0).collect::<Vec<_>>());
    }

    #[test]
    fn identical_vectors_and_tiny_inputs_do_not_break_it() {
        let same = unit(&[1.0, 1.0]);
        let refs: Vec<&[f32]> = vec![&same; 12];
        let groups = kmeans(&refs, 4, 1);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].0.len(), 12);
        assert!(kmeans(&[], 3, 1).is_empty());
        assert_eq!(themes_for(1), 1);
        assert_eq!(themes_for(20), 1);
        assert_eq!(themes_for(10_000), 5);
    }
}
