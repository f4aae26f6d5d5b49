//! The reasons readers of one answer gave: how many there are, which comments give each, and
//! which comments fit none. Rules, each from the data rather than a fixed count:
//! - **What everyone shares is taken out.** Every reader of an answer writes about the question's
//!   topic; the answer's mean vector is that common part. It is subtracted from each comment's
//!   vector before grouping, and so is the direction of the question itself (how much a comment
//!   restates the question is not a reason), so comments group by the reason they give, not by
//!   the topic words they share (without this the biggest theme was readers restating the question).
//! - **A theme needs [`MIN_SHARE`] of the answer's comments, and at least [`MIN_MEMBERS`].**
//! - **How many themes: as many as the data keeps apart.** The comments are first split into as
//!   many groups as the minimum size allows (at most [`MAX_GROUPS`]); then the two groups whose
//!   centres are most alike are merged, again and again, while their centres' cosine is at least
//!   [`MERGE_COSINE`]. What stays apart are the themes.
//! - **Fits no theme:** the comments of groups left below the minimum size, and comments whose
//!   cosine to their theme's centre is under [`FIT_COSINE`] (they share little with it).

use super::cluster;
use super::embed::normalise;

pub const MIN_SHARE: f64 = 0.05;
pub const MIN_MEMBERS: usize = 3;
pub const MAX_GROUPS: usize = 12;
/// In the centred space two unrelated reasons sit near 0 and paraphrases near 1; 0.3 joins
/// groups that are one reason said two ways (tuned on ArgKP's training topics by this rule,
/// not per topic).
pub const MERGE_COSINE: f32 = 0.3;
pub const FIT_COSINE: f32 = 0.1;

/// One answer's themes, as indices into the vectors given to [`find`].
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Largest first; each with its members (ascending) and unit centre in the centred space.
    pub themes: Vec<(Vec<usize>, Vec<f32>)>,
    pub unassigned: Vec<usize>,
    /// The vectors with the answer's common part taken out, unit length.
    pub centred: Vec<Vec<f32>>,
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn centre_of(members: &[usize], vectors: &[Vec<f32>]) -> Vec<f32> {
    let mut sum = vec![0f32; vectors.first().map_or(0, Vec::len)];
    for &m in members {
        sum.iter_mut().zip(&vectors[m]).for_each(|(s, x)| *s += x);
    }
    normalise(&mut sum);
    sum
}

/// The smallest theme `n` comments may have.
pub fn min_members(n: usize) -> usize {
    ((n as f64 * MIN_SHARE).ceil() as usize).max(MIN_MEMBERS)
}

/// Finds the themes of one answer's comments (unit vectors). The same input always gives the
/// same themes (`seed`).
pub fn find(vectors: &[&[f32]], question: Option<&[f32]>, seed: u64) -> Found {
    let n = vectors.len();
    if n == 0 {
        return Found::default();
    }
    let min = min_members(n);
    // Too few comments to tell reasons apart: one theme of them all (centring two or three
    // vectors would only push them apart).
    if n < 2 * min {
        let centred: Vec<Vec<f32>> = vectors.iter().map(|v| v.to_vec()).collect();
        let all: Vec<usize> = (0..n).collect();
        let centre = centre_of(&all, &centred);
        return Found { themes: vec![(all, centre)], unassigned: Vec::new(), centred };
    }
    let dims = vectors[0].len();
    let mut mean = vec![0f32; dims];
    for v in vectors {
        mean.iter_mut().zip(v.iter()).for_each(|(m, x)| *m += x / n as f32);
    }
    // The question's direction, in the centred space.
    let asked: Option<Vec<f32>> = question.map(|q| {
        let mut a: Vec<f32> = q.iter().zip(&mean).map(|(x, m)| x - m).collect();
        normalise(&mut a);
        a
    });
    let centred: Vec<Vec<f32>> = vectors
        .iter()
        .map(|v| {
            let mut c: Vec<f32> = v.iter().zip(&mean).map(|(x, m)| x - m).collect();
            if let Some(a) = &asked {
                let along = dot(&c, a);
                c.iter_mut().zip(a).for_each(|(x, y)| *x -= along * y);
            }
            normalise(&mut c);
            c
        })
        .collect();
    let refs: Vec<&[f32]> = centred.iter().map(Vec::as_slice).collect();
    let k = (n / min).clamp(1, MAX_GROUPS);
    let mut groups: Vec<(Vec<usize>, Vec<f32>)> = cluster::kmeans(&refs, k, seed);
    // Merge the closest pair while it is one reason said two ways.
    loop {
        let mut best: Option<(f32, usize, usize)> = None;
        for a in 0..groups.len() {
            for b in a + 1..groups.len() {
                let cosine = dot(&groups[a].1, &groups[b].1);
                if best.is_none_or(|(c, _, _)| cosine > c) {
                    best = Some((cosine, a, b));
                }
            }
        }
        match best {
            Some((cosine, a, b)) if cosine >= MERGE_COSINE => {
                let (taken, _) = groups.remove(b);
                groups[a].0.extend(taken);
                groups[a].0.sort_unstable();
                groups[a].1 = centre_of(&groups[a].0, &centred);
            }
            _ => break,
        }
    }
    let mut themes = Vec::new();
    let mut unassigned = Vec::new();
    for (members, centre) in groups {
        let (fit, loose): (Vec<usize>, Vec<usize>) =
            members.into_iter().partition(|&m| dot(&centred[m], &centre) >= FIT_COSINE);
        unassigned.extend(loose);
        if fit.len() < min {
            unassigned.extend(fit);
        } else {
            let centre = centre_of(&fit, &centred);
            themes.push((fit, centre));
        }
    }
    // Nothing reached the minimum: the comments are all different reasons, but an answer
    // with comments keeps at least its biggest group as a theme.
    if themes.is_empty() {
        unassigned.clear();
        let all: Vec<usize> = (0..n).collect();
        let centre = centre_of(&all, &centred);
        themes.push((all, centre));
    }
    themes.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0[0].cmp(&b.0[0])));
    unassigned.sort_unstable();
    Found { themes, unassigned, centred }
}

/// How typical each of a theme's members is: how close its five nearest fellow members are (a
/// dense core is where a reason is stated most plainly: on ArgKP such quotes share their key
/// point more often than those nearest the centre), with a tenth of its cosine to the centre.
/// Scored for the `limit` members nearest the centre only (the rest are never quoted), so the
/// cost stays linear in the theme's size.
pub fn typical(members: &[usize], centre: &[f32], vectors: &[Vec<f32>], limit: usize) -> Vec<(usize, f32)> {
    let mut near: Vec<(usize, f32)> = members.iter().map(|&m| (m, dot(&vectors[m], centre))).collect();
    near.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    near.truncate(limit);
    const NEIGHBOURS: usize = 5;
    let mut scored: Vec<(usize, f32)> = near
        .iter()
        .map(|&(m, to_centre)| {
            let mut best = [f32::MIN; NEIGHBOURS];
            for &other in members.iter().filter(|&&o| o != m) {
                let cosine = dot(&vectors[m], &vectors[other]);
                if cosine > best[NEIGHBOURS - 1] {
                    best[NEIGHBOURS - 1] = cosine;
                    best.sort_by(|a, b| b.total_cmp(a));
                }
            }
            let kept: Vec<f32> = best.into_iter().filter(|c| *c > f32::MIN).collect();
            let density = if kept.is_empty() { 0.0 } else { kept.iter().sum::<f32>() / kept.len() as f32 };
            (m, density + 0.1 * to_centre)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let mut v = v.to_vec();
        normalise(&mut v);
        v
    }

    /// Four reasons of different sizes, each also sharing a big common (topic) component.
    fn reasons(sizes: &[usize]) -> Vec<Vec<f32>> {
        let mut out = Vec::new();
        for (r, &size) in sizes.iter().enumerate() {
            for i in 0..size {
                let mut v = vec![3.0f32; 1];
                v.extend((0..sizes.len()).map(|d| if d == r { 1.0 } else { 0.0 }));
                v.push((i % 5) as f32 * 0.05);
                out.push(unit(&v));
            }
        }
        out
    }

    #[test]
    fn the_number_of_themes_comes_from_the_reasons_not_the_size() {
        for sizes in [vec![40, 30, 20, 10], vec![50, 50], vec![100, 60, 40, 30, 20, 14]] {
            let vectors = reasons(&sizes);
            let refs: Vec<&[f32]> = vectors.iter().map(Vec::as_slice).collect();
            let found = find(&refs, None, 1);
            let mut got: Vec<usize> = found.themes.iter().map(|t| t.0.len()).collect();
            got.sort_unstable_by(|a, b| b.cmp(a));
            assert_eq!(got, sizes, "themes for {sizes:?}");
            assert!(found.unassigned.is_empty());
        }
    }

    #[test]
    fn a_reason_too_small_to_stand_alone_fits_no_theme() {
        let vectors = reasons(&[60, 50, 2]);
        let refs: Vec<&[f32]> = vectors.iter().map(Vec::as_slice).collect();
        let found = find(&refs, None, 1);
        assert_eq!(found.themes.len(), 2);
        assert_eq!(found.unassigned, vec![110, 111]);
        let mut all: Vec<usize> = found.themes.iter().flat_map(|t| t.0.clone()).chain(found.unassigned).collect();
        all.sort_unstable();
        assert_eq!(all, (0..112).collect::<Vec<_>>(), "every comment is in exactly one place");
    }

    #[test]
    fn tiny_and_identical_inputs_give_one_theme() {
        assert!(find(&[], None, 1).themes.is_empty());
        let same = unit(&[1.0, 2.0]);
        let refs: Vec<&[f32]> = vec![&same; 30];
        let found = find(&refs, None, 1);
        assert_eq!(found.themes.len(), 1);
        assert_eq!(found.themes[0].0.len(), 30);
        let refs: Vec<&[f32]> = vec![&same; 1];
        assert_eq!(find(&refs, None, 1).themes[0].0, vec![0]);
    }
}
