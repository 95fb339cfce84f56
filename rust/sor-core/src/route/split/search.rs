//! Step 2 of the module docs: the branch-and-bound search over lanes, and the reduced-cost pruning
//! that runs before it when `max_venues` binds.

use super::bounds::Merged;
use super::lanes::{all_unit, gcd, Lanes};
use super::merge::merge_lanes;
use super::{NODE_BUDGET, NODE_LIMIT};

/// What the lanes `order[j..]` can take together, for each `j` (the entry past the end is for none).
pub(super) struct Suffixes {
    /// gcd of their lots (0 past the end).
    pub(super) gcd: Vec<u64>,
    /// Smallest non-zero quantity any of them takes (u64::MAX past the end).
    pub(super) min_first: Vec<u64>,
    /// Most they can take together (saturating).
    pub(super) depth: Vec<u64>,
}

impl Suffixes {
    fn new(lanes: &Lanes, order: &[usize]) -> Self {
        let m = order.len();
        let mut suffix = Suffixes {
            gcd: vec![0; m + 1],
            min_first: vec![u64::MAX; m + 1],
            depth: vec![0; m + 1],
        };
        for j in (0..m).rev() {
            let lane = &lanes.lanes[order[j]];
            suffix.gcd[j] = gcd(lane.lot, suffix.gcd[j + 1]);
            suffix.min_first[j] = lane.first.min(suffix.min_first[j + 1]);
            suffix.depth[j] = lane.depth.saturating_add(suffix.depth[j + 1]);
        }
        suffix
    }
}

/// The branch-and-bound search over lanes (see the module docs).
pub(super) struct Search<'a> {
    pub(super) lanes: &'a Lanes,
    /// Lane indices in search order.
    pub(super) order: Vec<usize>,
    pub(super) max_venues: usize,
    /// What the lanes `order[j..]` can take together, per `j`.
    pub(super) suffix: Suffixes,
    /// Merged relaxation of `order[j..]`, built on first use (and only for few lanes).
    pub(super) suffix_merged: Vec<Merged>,
    /// Every breakpoint of every lane's `phi`, sorted: where the dual's maximum is searched. Built on
    /// first use.
    pub(super) lambdas: Vec<f64>,
    pub(super) tol: f64,
    pub(super) best_cost: f64,
    pub(super) best: Vec<u64>,
    pub(super) current: Vec<u64>,
    pub(super) scratch: Vec<f64>,
    pub(super) depths: Vec<u64>,
    /// Nodes visited since the first allocation was found; the search stops at `NODE_BUDGET`.
    pub(super) nodes: usize,
    /// Nodes visited in all; the search stops at `NODE_LIMIT`.
    pub(super) visited: usize,
    pub(super) exhausted: bool,
}

impl<'a> Search<'a> {
    pub(super) fn new(lanes: &'a Lanes, order: Vec<usize>, max_venues: usize, tol: f64) -> Self {
        Search {
            lanes,
            suffix: Suffixes::new(lanes, &order),
            order,
            max_venues,
            suffix_merged: Vec::new(),
            lambdas: Vec::new(),
            tol,
            best_cost: f64::INFINITY,
            best: vec![0; lanes.lanes.len()],
            current: vec![0; lanes.lanes.len()],
            scratch: Vec::new(),
            depths: Vec::new(),
            nodes: 0,
            visited: 0,
            exhausted: false,
        }
    }

    /// Whether some lot combination of `order[j..]` can sum to `x` as far as the lots' gcd tells.
    pub(super) fn divisible(&self, j: usize, x: u64) -> bool {
        x == 0 || (self.suffix.gcd[j] != 0 && x % self.suffix.gcd[j] == 0)
    }

    /// Depth-first search from lane `order[j]` with `x` units left, `used` venues used, `cost` so far.
    pub(super) fn dfs(&mut self, j: usize, x: u64, used: usize, cost: f64) {
        self.visited += 1;
        if self.best_cost.is_finite() {
            self.nodes += 1;
        }
        if self.nodes > NODE_BUDGET || self.visited > NODE_LIMIT {
            self.exhausted = true;
        }
        if self.exhausted {
            return;
        }
        if x == 0 {
            if cost < self.best_cost - self.tol {
                self.best_cost = cost;
                self.best.copy_from_slice(&self.current);
            }
            return;
        }
        let m = self.order.len();
        if j == m || used == self.max_venues || !self.divisible(j, x) {
            return;
        }
        let l = self.order[j];
        let lane = self.lanes.lanes[l];
        let threshold = self.best_cost - self.tol;
        if j + 1 == m {
            // The last lane takes exactly what is left, if it can.
            if x % lane.lot == 0 && x >= lane.first && x <= lane.depth {
                let c = cost + self.lanes.cost(l, x);
                if c < threshold {
                    self.current[l] = x;
                    self.dfs(j + 1, 0, used + 1, c);
                    self.current[l] = 0;
                }
            }
            return;
        }
        let top = lane.depth.min(x);
        let steps = if top >= lane.first {
            Some((top - lane.first) / lane.lot)
        } else {
            None
        };
        let k_rest_used = self.max_venues - used - 1;
        let k_rest_unused = self.max_venues - used;
        let f_zero = cost + self.bound(j + 1, x, k_rest_unused);
        let Some(steps) = steps else {
            if f_zero < threshold {
                self.dfs(j + 1, x, used, cost);
            }
            return;
        };
        // Only quantities that leave a multiple of the rest's lot gcd can complete: t = t0 + s * period.
        let g_rest = self.suffix.gcd[j + 1];
        let Some((t0, period)) = lattice_solution(lane.lot % g_rest, (x - lane.first) % g_rest, g_rest) else {
            if f_zero < threshold {
                self.dfs(j + 1, x, used, cost);
            }
            return;
        };
        if t0 > steps {
            if f_zero < threshold {
                self.dfs(j + 1, x, used, cost);
            }
            return;
        }
        let steps = (steps - t0) / period;
        let q_at = |t: u64| lane.first + (t0 + t * period) * lane.lot;
        // Taking everything that is left here is a leaf of its own (the rest then takes nothing).
        if x <= top && x >= lane.first && (x - lane.first) % lane.lot == 0 {
            let c = cost + self.lanes.cost(l, x);
            if c < threshold {
                self.current[l] = x;
                self.dfs(j + 1, 0, used + 1, c);
                self.current[l] = 0;
            }
        }
        // Otherwise the rest is at least the rest's smallest order and at most what it can hold: only
        // the t in between can complete (without this clamp a large minimum further on would have the
        // scan step through every lot before reaching a quantity the rest can take).
        let base = lane.first + t0 * lane.lot;
        let stride = lane.lot as u128 * period as u128;
        let min_rest = self.suffix.min_first[j + 1];
        let (t_lo, t_hi) = {
            let q_min = x.saturating_sub(self.suffix.depth[j + 1]);
            let t_lo = if q_min <= base {
                0
            } else {
                ((q_min - base) as u128).div_ceil(stride) as u64
            };
            let t_hi = match x.checked_sub(min_rest) {
                Some(q_max) if q_max >= base => ((q_max - base) as u128 / stride).min(steps as u128) as u64,
                _ => 0,
            };
            let empty = x < min_rest || x - min_rest < base;
            if empty || t_lo > t_hi {
                if f_zero < self.best_cost - self.tol {
                    self.dfs(j + 1, x, used, cost);
                }
                return;
            }
            (t_lo, t_hi)
        };
        // f(t): the bound of taking q_at(t) here; convex in t, infinite for a prefix of t.
        let f = |s: &mut Self, t: u64| {
            let q = q_at(t);
            cost + s.lanes.cost(l, q) + s.bound(j + 1, x - q, k_rest_used)
        };
        let argmin = |s: &mut Self, mut lo: u64, mut hi: u64| {
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let f_mid = f(s, mid);
                if f_mid.is_infinite() || f(s, mid + 1) < f_mid {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo
        };
        // Where the relaxation of order[j..] takes x units, lane j's marginal cost meets the rest's: the
        // minimum of f lies next to that quantity, so search only there (then check it is a minimum).
        let mut narrow = None;
        if k_rest_used + 1 >= m - j && self.merged() {
            if let Some(lambda) = self.suffix_merged[j].marginal(x) {
                let (q_lo, q_hi) = self.lanes.units_around(l, lambda);
                let base = lane.first + t0 * lane.lot;
                let index = |q: u64| {
                    if q <= base {
                        0
                    } else {
                        ((q - base) / lane.lot / period).clamp(t_lo, t_hi)
                    }
                };
                narrow = Some((index(q_lo).saturating_sub(1).max(t_lo), (index(q_hi) + 1).min(t_hi)));
            }
        }
        let t_min = match narrow {
            Some((lo, hi)) => {
                let t = argmin(self, lo, hi);
                let here = f(self, t);
                let is_min = (t == t_lo || f(self, t - 1) >= here) && (t == t_hi || f(self, t + 1) >= here);
                if is_min {
                    t
                } else {
                    argmin(self, t_lo, t_hi)
                }
            }
            None => argmin(self, t_lo, t_hi),
        };
        // Visit candidates cheapest bound first: taking nothing here, and outward from t_min.
        let mut zero_pending = true;
        let mut left: Option<(u64, f64)> = None; // next candidate below, with its bound
        let mut right: Option<(u64, f64)> = Some((t_min, f(self, t_min)));
        let below = |t: u64| (t > t_lo).then(|| t - 1);
        let mut left_next = below(t_min);
        loop {
            if left.is_none() {
                if let Some(t) = left_next {
                    left = Some((t, f(self, t)));
                    left_next = below(t);
                }
            }
            if self.exhausted {
                return;
            }
            let threshold = self.best_cost - self.tol;
            let candidates = [
                zero_pending.then_some((None, f_zero)),
                left.map(|(t, v)| (Some((t, false)), v)),
                right.map(|(t, v)| (Some((t, true)), v)),
            ];
            let Some((pick, _)) = candidates
                .into_iter()
                .flatten()
                .filter(|(_, v)| *v < threshold)
                .min_by(|a, b| a.1.total_cmp(&b.1))
            else {
                return;
            };
            match pick {
                None => {
                    zero_pending = false;
                    self.dfs(j + 1, x, used, cost);
                }
                Some((t, is_right)) => {
                    if is_right {
                        right = (t < t_hi).then(|| (t + 1, f(self, t + 1)));
                    } else {
                        left = None;
                    }
                    let q = q_at(t);
                    self.current[l] = q;
                    let c = cost + self.lanes.cost(l, q);
                    self.dfs(j + 1, x - q, used + 1, c);
                    self.current[l] = 0;
                }
            }
        }
    }
}

/// The smallest `t >= 0` with `a * t = b (mod m)` and the period of all solutions, if any
/// (extended Euclid; `m >= 1`, `a, b < m`).
pub(super) fn lattice_solution(a: u64, b: u64, m: u64) -> Option<(u64, u64)> {
    let g = gcd(a, m);
    let g = if g == 0 { m } else { g };
    if b % g != 0 {
        return None;
    }
    let period = m / g;
    if period == 1 {
        return Some((0, 1));
    }
    let (a, b, m) = ((a / g) as i128, (b / g) as i128, period as i128);
    let (mut old_r, mut r) = (a, m);
    let (mut old_s, mut s) = (1i128, 0i128);
    while r != 0 {
        let q = old_r / r;
        (old_r, r) = (r, old_r - q * r);
        (old_s, s) = (s, old_s - q * s);
    }
    let inverse = old_s.rem_euclid(m) as u128;
    let t0 = (inverse * b as u128 % m as u128) as u64;
    Some((t0, period))
}

/// With `max_venues` binding: finds a good allocation on the k venues the dual picks, then keeps only
/// the venues whose reduced-cost bound (the dual at its optimum with that venue forced in) is below
/// it. Any allocation using a dropped venue costs at least its bound, so none beats the incumbent.
pub(super) fn prune_by_reduced_cost(lanes: &Lanes, order: Vec<usize>, total: u64, k: usize, tol: f64) -> Vec<usize> {
    let mut root = Search::new(lanes, order.clone(), k, tol);
    let (value, lambda) = root.dual(0, total, k);
    if !value.is_finite() {
        return order;
    }
    let phis: Vec<(f64, usize)> = order.iter().map(|&l| (lanes.phi(l, lambda).0, l)).collect();
    let mut phi_of = vec![0.0; lanes.lanes.len()];
    for &(phi, l) in &phis {
        phi_of[l] = phi;
    }
    let mut sorted = phis;
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let kth = sorted[k - 1].0;
    // Incumbent: the exact optimum on the k venues the dual picks at its optimum.
    let picked: Vec<usize> = {
        let mut p: Vec<usize> = sorted[..k].iter().map(|&(_, l)| l).collect();
        p.sort_by_key(|l| order.iter().position(|o| o == l));
        p
    };
    let incumbent = if all_unit(lanes, &picked) {
        merge_lanes(lanes, &picked, total).map_or(f64::INFINITY, |(_, c)| c)
    } else {
        let mut small = Search::new(lanes, picked, k, tol);
        small.dfs(0, total, 0, 0.0);
        small.best_cost
    };
    if !incumbent.is_finite() {
        return order;
    }
    order
        .into_iter()
        .filter(|&l| {
            let phi = phi_of[l];
            // Forcing l in replaces the k-th smallest phi (if l is not among the k already).
            let forced = if phi <= kth { value } else { value - kth + phi };
            forced < incumbent - tol || sorted[..k].iter().any(|&(_, p)| p == l)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lattice_solution_matches_a_scan() {
        for m in 1..25u64 {
            for a in 0..m {
                for b in 0..m {
                    let scan: Vec<u64> = (0..2 * m).filter(|t| (a * t) % m == b).collect();
                    match lattice_solution(a, b, m) {
                        None => assert!(scan.is_empty(), "{a} {b} {m}"),
                        Some((t0, period)) => {
                            assert_eq!(scan[0], t0, "{a} {b} {m}");
                            assert_eq!(scan[1] - scan[0], period, "{a} {b} {m}");
                        }
                    }
                }
            }
        }
        assert_eq!(
            lattice_solution(2, 1, 1_000_000_001),
            Some((500_000_001, 1_000_000_001))
        );
    }
}
