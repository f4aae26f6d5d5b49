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
//! - **Shared reasons** ([`shared`]): a theme of one answer and a theme of another are one reason
//!   when, with what the whole poll shares taken out, each is the other's nearest theme in that
//!   answer and their centres' cosine is at least [`SHARED_COSINE`]; when their members cannot be
//!   told apart by their neighbours ([`mixing`] at least [`SHARED_MIXING`]); and when they say it
//!   with the same polarity (as many negations, within [`SHARED_POLARITY`]).

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
/// Stricter than [`MERGE_COSINE`]: calling two answers' reasons one misleads more than showing
/// a reason twice.
pub const SHARED_COSINE: f32 = 0.5;
/// At least this [`mixing`]: on ArgKP-2021, whose key points are each one stance's, opposite
/// stances' themes on one aspect mixed at 0.1–0.7 mostly.
pub const SHARED_MIXING: f32 = 0.8;
/// The two themes' shares of comments with a negation differ by at most this.
pub const SHARED_POLARITY: f32 = 0.2;

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

/// What a set of comments shares: their mean vector, and the question's direction once that
/// mean is out. Both are taken out of a vector before comparing reasons.
struct Common {
    mean: Vec<f32>,
    asked: Option<Vec<f32>>,
}

impl Common {
    fn of<'a>(vectors: impl ExactSizeIterator<Item = &'a [f32]>, question: Option<&[f32]>) -> Common {
        let n = vectors.len() as f32;
        let mut mean: Vec<f32> = Vec::new();
        for v in vectors {
            mean.resize(v.len(), 0.0);
            mean.iter_mut().zip(v).for_each(|(m, x)| *m += x / n);
        }
        let asked = question.map(|q| {
            let mut a: Vec<f32> = q.iter().zip(&mean).map(|(x, m)| x - m).collect();
            normalise(&mut a);
            a
        });
        Common { mean, asked }
    }

    /// `v` less the mean and its part along the question, unit length.
    fn take_out(&self, v: &[f32]) -> Vec<f32> {
        let mut c: Vec<f32> = v.iter().zip(&self.mean).map(|(x, m)| x - m).collect();
        if let Some(a) = &self.asked {
            let along = dot(&c, a);
            c.iter_mut().zip(a).for_each(|(x, y)| *x -= along * y);
        }
        normalise(&mut c);
        c
    }
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
    let common = Common::of(vectors.iter().copied(), question);
    let centred: Vec<Vec<f32>> = vectors.iter().map(|v| common.take_out(v)).collect();
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

/// Which themes of different answers give the same reason. `themes`: each theme's answer and
/// members (indices into `vectors`, every comment's unit vector; `negated`: whether each comment
/// says "not", "no", "never" or a word in "n't"); `question`: the question's vector. Returns
/// each theme's shared group (numbered from 0 in order of first theme) or `None`; a group holds
/// at most one theme per answer.
pub fn shared(
    themes: &[(usize, &[usize])],
    vectors: &[Vec<f32>],
    negated: &[bool],
    question: Option<&[f32]>,
) -> Vec<Option<usize>> {
    let mut groups = vec![None; themes.len()];
    if themes.len() < 2 || vectors.first().is_none_or(Vec::is_empty) {
        return groups;
    }
    // What the whole poll shares (its topic) and the question's direction are taken out.
    let common = Common::of(vectors.iter().map(Vec::as_slice), question);
    let centres: Vec<Vec<f32>> =
        themes.iter().map(|(_, members)| common.take_out(&centre_of(members, vectors))).collect();
    // Theme `a`'s nearest theme of `answer`, with the cosine.
    let nearest = |a: usize, answer: usize| -> Option<(usize, f32)> {
        (0..themes.len())
            .filter(|&b| themes[b].0 == answer)
            .map(|b| (b, dot(&centres[a], &centres[b])))
            .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)))
    };
    let mut next = 0;
    for a in 0..themes.len() {
        for b in a + 1..themes.len() {
            let (answer_a, answer_b) = (themes[a].0, themes[b].0);
            if answer_a == answer_b {
                continue;
            }
            let mutual = nearest(a, answer_b).is_some_and(|(n, c)| n == b && c >= SHARED_COSINE)
                && nearest(b, answer_a).is_some_and(|(n, _)| n == a);
            // Readers of two answers who argue the same point from opposite sides ("it should be
            // banned" / "it should not be") sit close too: a shared reason is also one whose
            // members' neighbours cross between the answers as often as chance, said with the
            // same polarity.
            let negated_share =
                |t: usize| themes[t].1.iter().filter(|&&m| negated[m]).count() as f32 / themes[t].1.len().max(1) as f32;
            if !mutual
                || (negated_share(a) - negated_share(b)).abs() > SHARED_POLARITY
                || mixing(themes[a].1, themes[b].1, vectors) < SHARED_MIXING
            {
                continue;
            }
            match (groups[a], groups[b]) {
                (None, None) => {
                    groups[a] = Some(next);
                    groups[b] = Some(next);
                    next += 1;
                }
                (Some(g), None) | (None, Some(g)) => {
                    // One theme per answer in a group.
                    let joining = if groups[a].is_none() { a } else { b };
                    let taken = (0..themes.len()).any(|t| groups[t] == Some(g) && themes[t].0 == themes[joining].0);
                    if !taken {
                        groups[joining] = Some(g);
                    }
                }
                (Some(_), Some(_)) => {}
            }
        }
    }
    groups
}

/// How mixed two groups are: for each member, the share of its nearest fellow members (of
/// both groups) that are of the other group, over the share a random pick would give; 1 when
/// the groups cannot be told apart, 0 when no member's neighbours cross over.
pub fn mixing(a: &[usize], b: &[usize], vectors: &[Vec<f32>]) -> f32 {
    const SAMPLE: usize = 200;
    const NEIGHBOURS: usize = 5;
    let pick = |g: &[usize]| -> Vec<usize> {
        let step = g.len().div_ceil(SAMPLE).max(1);
        g.iter().step_by(step).copied().collect()
    };
    let (a, b) = (pick(a), pick(b));
    let all: Vec<(usize, bool)> = a.iter().map(|&m| (m, false)).chain(b.iter().map(|&m| (m, true))).collect();
    if a.len() < 2 || b.len() < 2 {
        return 0.0;
    }
    let mut total = 0.0;
    for (i, &(m, side)) in all.iter().enumerate() {
        let mut near: Vec<(f32, bool)> = all
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, &(o, s))| (dot(&vectors[m], &vectors[o]), s))
            .collect();
        near.sort_by(|x, y| y.0.total_cmp(&x.0));
        let k = NEIGHBOURS.min(near.len());
        let crossed = near[..k].iter().filter(|(_, s)| *s != side).count() as f32 / k as f32;
        let others = if side { a.len() } else { b.len() } as f32;
        let expected = others / (all.len() - 1) as f32;
        total += crossed / expected;
    }
    total / all.len() as f32
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
    fn a_reason_both_answers_give_is_shared_and_the_others_are_not() {
        // Reasons 0 and 1 are Yes readers', 2 and 3 No readers', 4 both answers'.
        let vectors = reasons(&[20, 20, 20, 20, 20, 20]);
        let yes_only: Vec<usize> = (0..20).collect();
        let yes_too: Vec<usize> = (20..40).collect();
        let no_only: Vec<usize> = (40..60).collect();
        let no_too: Vec<usize> = (60..80).collect();
        let both_yes: Vec<usize> = (80..100).collect();
        let both_no: Vec<usize> = (100..120).collect();
        // The last 20 vectors repeat reason 4's direction, given by No readers.
        let mut vectors = vectors;
        for i in 100..120 {
            vectors[i] = vectors[i - 20].clone();
        }
        let themes: Vec<(usize, &[usize])> =
            vec![(0, &yes_only), (0, &yes_too), (0, &both_yes), (1, &no_only), (1, &no_too), (1, &both_no)];
        let plain = vec![false; vectors.len()];
        let groups = shared(&themes, &vectors, &plain, None);
        assert_eq!(groups, vec![None, None, Some(0), None, None, Some(0)]);
        // Within one answer nothing is shared.
        let one_answer: Vec<(usize, &[usize])> = themes.iter().map(|(_, m)| (0, *m)).collect();
        assert!(shared(&one_answer, &vectors, &plain, None).iter().all(Option::is_none));
        // Said with the opposite polarity ("not"), it is each answer's own.
        let mut negated = plain.clone();
        negated[100..120].iter_mut().for_each(|n| *n = true);
        assert!(shared(&themes, &vectors, &negated, None).iter().all(Option::is_none));
        // Two groups whose neighbours never cross are not mixed; copies of one group are.
        assert!(mixing(&yes_only, &no_only, &vectors) < 0.1);
        assert!(mixing(&both_yes, &both_no, &vectors) > 0.8);
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
