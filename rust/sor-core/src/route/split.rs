//! `Router::split`: the exact, cheapest allocation of an order across venues.
//!
//! # The problem
//! Venue `i` can take `q_i` units where `q_i = 0` or `q_i` is a whole number of its lots, at least its
//! minimum (`first`: the minimum rounded up to lots) and at most what its book displays within the limit.
//! Taking `q` units costs `c_i(q)`: the book walked level by level, each unit at
//! `(side sign + taker fee) * price + extra_i` (extra: latency, miss and slippage terms of `mod.rs`).
//! Because levels only get worse, `c_i` is convex and piecewise linear. The split minimises
//! `sum c_i(q_i)` subject to `sum q_i = total` and at most `max_venues` non-zero `q_i`.
//!
//! # The algorithm, and why it is right
//! 1. **Merge** (the common case). Without lots, minimums or a binding `max_venues`, taking the cheapest
//!    next unit across all venues is optimal (each `c_i` is convex, so the marginal costs merged in
//!    order give the lower convex envelope). The ladders are merged with a heap: `O(levels consumed *
//!    log venues)`. The merged allocation is the optimum of the *relaxation* (lots, minimums and
//!    `max_venues` dropped); when it happens to satisfy them it is optimal outright.
//! 2. **Branch and bound** otherwise (exact combination with lots, minimums, `max_venues`). The
//!    problem is then NP-hard in general (subset sum is the special case of one-level books), so no
//!    polynomial algorithm is known; the search is exact and pruned by lower bounds:
//!    - venues are fixed one at a time (cheapest first); at venue `j` the candidate quantities are its
//!      lattice points `first, first + lot, ...`. Each candidate gets the bound
//!      `f(q) = c_j(q) + LB(rest, remaining - q)`, which is convex in `q` (`LB` is convex in its
//!      quantity, below), so the candidates are visited outward from the minimum of `f` and each
//!      direction stops at the first `f(q) >= incumbent`: every quantity beyond it is at least as
//!      costly, so nothing cheaper is skipped;
//!    - `LB(rest, x, k)` (venues `j..`, exactly `x` units, at most `k` of them) is the Lagrangian dual
//!      `max_lambda [lambda * x + sum of the k smallest phi_i(lambda)]`, with
//!      `phi_i(lambda) = min(0, min over q in {0} u [first_i, depth_i] of c_i(q) - lambda * q)`: a valid
//!      lower bound for any lot combination (lots relaxed, minimums and `max_venues` kept), a maximum of
//!      functions linear in `x` (so convex in `x`), and concave in `lambda` (a sum of the k smallest of
//!      concave functions), so its maximum over the breakpoints is found by bisection. When `k` does not
//!      bind it equals the merged relaxation, kept per suffix of venues as a piecewise-linear function
//!      for an `O(log)` evaluation;
//!    - a subtree is also cut when the gcd of its venues' lots does not divide what is left (no whole-lot
//!      combination can sum to it), and, with `max_venues` binding, venues whose reduced-cost bound
//!      (the dual at its optimum with that venue forced in) is not below the incumbent are dropped
//!      before the search: that is what keeps 200 venues with `max_venues = 3` far from `C(200, 3)`.
//!
//!    The first dive follows the minimum of each `f`, so it lands on (or next to) the relaxed optimum
//!    and the incumbent is good at once. Ties (within a relative 1e-12 of the cost) keep the first
//!    allocation found. Work is `O(nodes * bound)`; the measured figures are in docs/benchmarks.md.
//!
//! # Limits
//! The search is exponential in the worst case (the problem is NP-hard). Once an allocation is in
//! hand, at most `NODE_BUDGET` nodes are visited: a search that reaches it (many venues with coprime
//! lots and near-identical books) returns its best allocation with `optimality_gap_bps` > 0, the most
//! any allocation could save against it. Every other result is proven optimal (gap 0).
//!
//! The result is exact (whole lots, minimums, depth within the limit, at most `max_venues` venues,
//! summing to the request) whenever any such allocation exists, and no allocation is cheaper under
//! the cost model (up to the relative tolerance).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::{depth_within, score_bps, walk, Router, SplitResult, TakerCtx};
use crate::book::{Level, Side};
use crate::error::{SorError, SorResult};

/// Relative tolerance on costs: a candidate must beat the incumbent by more than this share of the
/// order's notional scale to count as cheaper.
const REL_TOL: f64 = 1e-12;

/// Above this many venues in the search, the relaxation is not kept per suffix (memory grows with
/// the square of the venues); the Lagrangian bound is used throughout instead.
const MAX_SUFFIX_MERGES: usize = 64;

/// Up to this many venues the merge scans the venues' next levels instead of keeping a heap.
const LINEAR_MERGE_MAX: usize = 12;

/// Search nodes allowed once an allocation is in hand. Exact combination with lots is NP-hard in
/// general (subset sum); past this budget the search stops with the best allocation found and reports
/// its gap to the lower bound (`SplitResult::optimality_gap_bps`) instead of running unbounded with
/// the GIL held. Reached only with many venues whose lots do not divide each other.
const NODE_BUDGET: usize = 5_000;

/// Search nodes allowed in all. Reached only by pathological requests (quantities near 2^64 units
/// with large coprime lots and minimums, found by fuzzing) where no allocation turns up: the split
/// then fails with an error saying so rather than holding the GIL indefinitely.
const NODE_LIMIT: usize = 200_000;

pub(crate) fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// One eligible venue as the split sees it.
#[derive(Debug, Clone, Copy)]
struct Lane {
    venue: usize,
    lot: u64,
    /// Smallest non-zero quantity: the minimum rounded up to whole lots.
    first: u64,
    /// Largest quantity: displayed depth within the limit, capped at the request, rounded down to lots.
    depth: u64,
    /// Displayed depth within the limit rounded down to lots, not capped (for the error message).
    shown: u64,
    /// Range of this lane's levels in the flat arrays of `Lanes`.
    start: usize,
    end: usize,
}

/// Every eligible venue's levels in flat arrays (one allocation each, whatever the venue count).
#[derive(Debug, Default)]
struct Lanes {
    lanes: Vec<Lane>,
    /// Units before each level (the level's start on the venue's own quantity axis).
    before_units: Vec<u64>,
    /// Cost of taking every unit before each level.
    before_cost: Vec<f64>,
    /// All-in cost per unit of each level.
    unit_cost: Vec<f64>,
    /// Units of each level (the last one truncated at the lane's depth).
    size: Vec<u64>,
}

impl Lanes {
    /// Units of lane `l` priced below `lambda`, and at or below it (both capped at its depth).
    fn units_around(&self, l: usize, lambda: f64) -> (u64, u64) {
        let lane = &self.lanes[l];
        let costs = &self.unit_cost[lane.start..lane.end];
        let at = |k: usize| {
            if k == costs.len() {
                lane.depth
            } else {
                self.before_units[lane.start + k].min(lane.depth)
            }
        };
        (
            at(costs.partition_point(|&u| u < lambda)),
            at(costs.partition_point(|&u| u <= lambda)),
        )
    }

    /// Cost of `q` units (0 <= q <= depth) on lane `l`.
    fn cost(&self, l: usize, q: u64) -> f64 {
        let lane = &self.lanes[l];
        let before = &self.before_units[lane.start..lane.end];
        let k = lane.start + before.partition_point(|&b| b <= q).saturating_sub(1);
        self.before_cost[k] + (q - self.before_units[k]) as f64 * self.unit_cost[k]
    }

    /// `phi(lambda)` of lane `l` and the quantity attaining it (0 when taking nothing is best).
    fn phi(&self, l: usize, lambda: f64) -> (f64, u64) {
        let lane = &self.lanes[l];
        let below = self.unit_cost[lane.start..lane.end].partition_point(|&u| u < lambda);
        let k = lane.start + below;
        let q = if below == lane.end - lane.start {
            lane.depth
        } else {
            self.before_units[k].min(lane.depth)
        };
        let q = q.max(lane.first);
        let v = self.cost(l, q) - lambda * q as f64;
        if v < 0.0 {
            (v, q)
        } else {
            (0.0, 0)
        }
    }
}

/// A convex piecewise-linear function of quantity: the merged relaxation of a set of lanes.
#[derive(Debug, Default, Clone)]
struct Merged {
    /// Units and cost at each breakpoint; `units[0] = 0`, `cost[0] = 0`.
    units: Vec<u64>,
    cost: Vec<f64>,
    /// Unit cost of the segment ending at each breakpoint (`slope[0]` unused): a lane's level cost, exact.
    slope: Vec<f64>,
}

impl Merged {
    /// The segment holding the `x`-th unit (1-based: the segment that ends at or after `x`).
    fn segment(&self, x: u64) -> usize {
        self.units.partition_point(|&u| u < x).max(1)
    }

    fn eval(&self, x: u64) -> f64 {
        let last = self.units.len() - 1;
        if x > self.units[last] {
            return f64::INFINITY;
        }
        if x == 0 {
            return 0.0;
        }
        let k = self.segment(x);
        self.cost[k - 1] + (x - self.units[k - 1]) as f64 * self.slope[k]
    }

    /// The marginal unit cost at `x` units (of the last unit taken), if `x` is within the function.
    fn marginal(&self, x: u64) -> Option<f64> {
        (x >= 1 && x <= self.units[self.units.len() - 1]).then(|| self.slope[self.segment(x)])
    }
}

/// Heap entry of the merge: a level's unit cost, venue and level (ties: lower venue, then level).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Head {
    unit_cost: f64,
    lane: usize,
    level: usize,
}

impl Eq for Head {}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and the cheapest level must come out first.
        other
            .unit_cost
            .total_cmp(&self.unit_cost)
            .then(other.lane.cmp(&self.lane))
            .then(other.level.cmp(&self.level))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The branch-and-bound search over lanes (see the module docs).
struct Search<'a> {
    lanes: &'a Lanes,
    /// Lane indices in search order.
    order: Vec<usize>,
    max_venues: usize,
    /// gcd of the lots of `order[j..]` (0 past the end).
    suffix_gcd: Vec<u64>,
    /// Smallest non-zero quantity any lane of `order[j..]` takes (u64::MAX past the end).
    suffix_min_first: Vec<u64>,
    /// Most `order[j..]` can take together (saturating).
    suffix_depth: Vec<u64>,
    /// Merged relaxation of `order[j..]`, built on first use (and only for few lanes).
    suffix_merged: Vec<Merged>,
    /// Every breakpoint of every lane's `phi`, sorted: where the dual's maximum is searched. Built on
    /// first use.
    lambdas: Vec<f64>,
    tol: f64,
    best_cost: f64,
    best: Vec<u64>,
    current: Vec<u64>,
    scratch: Vec<f64>,
    depths: Vec<u64>,
    /// Nodes visited since the first allocation was found; the search stops at `NODE_BUDGET`.
    nodes: usize,
    /// Nodes visited in all; the search stops at `NODE_LIMIT`.
    visited: usize,
    exhausted: bool,
}

impl<'a> Search<'a> {
    fn new(lanes: &'a Lanes, order: Vec<usize>, max_venues: usize, tol: f64) -> Self {
        let m = order.len();
        let mut suffix_gcd = vec![0u64; m + 1];
        let mut suffix_min_first = vec![u64::MAX; m + 1];
        let mut suffix_depth = vec![0u64; m + 1];
        for j in (0..m).rev() {
            let lane = &lanes.lanes[order[j]];
            suffix_gcd[j] = gcd(lane.lot, suffix_gcd[j + 1]);
            suffix_min_first[j] = lane.first.min(suffix_min_first[j + 1]);
            suffix_depth[j] = lane.depth.saturating_add(suffix_depth[j + 1]);
        }
        Search {
            lanes,
            order,
            max_venues,
            suffix_gcd,
            suffix_min_first,
            suffix_depth,
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

    fn build_lambdas(&mut self) {
        let lanes = self.lanes;
        for &l in &self.order {
            let lane = &lanes.lanes[l];
            self.lambdas.extend_from_slice(&lanes.unit_cost[lane.start..lane.end]);
            self.lambdas.push(lanes.cost(l, lane.first) / lane.first as f64);
        }
        self.lambdas.sort_unstable_by(f64::total_cmp);
        self.lambdas.dedup();
    }

    /// Whether the merged relaxation of `order[j..]` is available (built now if it is the first use).
    fn merged(&mut self) -> bool {
        if self.suffix_merged.is_empty() && self.order.len() <= MAX_SUFFIX_MERGES {
            self.build_suffix_merges();
        }
        !self.suffix_merged.is_empty()
    }

    fn build_suffix_merges(&mut self) {
        let m = self.order.len();
        let mut merged = vec![Merged::default(); m + 1];
        merged[m] = Merged {
            units: vec![0],
            cost: vec![0.0],
            slope: vec![0.0],
        };
        for j in (0..m).rev() {
            let lane = &self.lanes.lanes[self.order[j]];
            let next = &merged[j + 1];
            // Segments of both, by unit cost: this lane's levels, and the suffix's pieces.
            let cap = next.units.len() + lane.end - lane.start;
            let mut out = Merged {
                units: Vec::with_capacity(cap),
                cost: Vec::with_capacity(cap),
                slope: Vec::with_capacity(cap),
            };
            out.units.push(0u64);
            out.cost.push(0.0);
            out.slope.push(0.0);
            let (mut a, mut b) = (lane.start, 1usize);
            loop {
                let seg_a = (a < lane.end).then(|| (self.lanes.unit_cost[a], self.lanes.size[a]));
                let seg_b = (b < next.units.len()).then(|| (next.slope[b], next.units[b] - next.units[b - 1]));
                let (slope, du) = match (seg_a, seg_b) {
                    (None, None) => break,
                    (Some(sa), Some(sb)) if sa.0 <= sb.0 => {
                        a += 1;
                        sa
                    }
                    (Some(sa), None) => {
                        a += 1;
                        sa
                    }
                    (_, Some(sb)) => {
                        b += 1;
                        sb
                    }
                };
                if du == 0 {
                    continue;
                }
                let u = out.units[out.units.len() - 1];
                let c = out.cost[out.cost.len() - 1];
                out.units.push(u.saturating_add(du));
                out.cost.push(c + du as f64 * slope);
                out.slope.push(slope);
            }
            merged[j] = out;
        }
        self.suffix_merged = merged;
    }

    /// Lower bound on filling exactly `x` units from `order[j..]` with at most `k` venues (convex in x).
    fn bound(&mut self, j: usize, x: u64, k: usize) -> f64 {
        if x == 0 {
            return 0.0;
        }
        let m = self.order.len();
        if k == 0 || j == m {
            return f64::INFINITY;
        }
        if k >= m - j && self.merged() {
            return self.suffix_merged[j].eval(x);
        }
        self.dual(j, x, k).0
    }

    /// The Lagrangian dual's maximum for `order[j..]`, `x` units, at most `k` venues: (value, lambda).
    fn dual(&mut self, j: usize, x: u64, k: usize) -> (f64, f64) {
        let m = self.order.len();
        // Infeasible when even the k deepest venues cannot hold x.
        self.depths.clear();
        self.depths
            .extend(self.order[j..].iter().map(|&l| self.lanes.lanes[l].depth));
        let k = k.min(m - j);
        if k < self.depths.len() {
            self.depths.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
        }
        let capacity = self.depths[..k].iter().fold(0u64, |a, &d| a.saturating_add(d));
        if capacity < x {
            return (f64::INFINITY, f64::INFINITY);
        }
        if self.lambdas.is_empty() {
            self.build_lambdas();
        }
        let (mut lo, mut hi) = (0usize, self.lambdas.len() - 1);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.dual_at(j, x, k, self.lambdas[mid + 1]) > self.dual_at(j, x, k, self.lambdas[mid]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let lambda = self.lambdas[lo];
        (self.dual_at(j, x, k, lambda), lambda)
    }

    /// `lambda * x + the k smallest phi_i(lambda)` over `order[j..]`.
    fn dual_at(&mut self, j: usize, x: u64, k: usize, lambda: f64) -> f64 {
        self.scratch.clear();
        for &l in &self.order[j..] {
            self.scratch.push(self.lanes.phi(l, lambda).0);
        }
        if k < self.scratch.len() {
            self.scratch.select_nth_unstable_by(k - 1, f64::total_cmp);
        }
        lambda * x as f64 + self.scratch[..k].iter().sum::<f64>()
    }

    /// Whether some lot combination of `order[j..]` can sum to `x` as far as the lots' gcd tells.
    fn divisible(&self, j: usize, x: u64) -> bool {
        x == 0 || (self.suffix_gcd[j] != 0 && x % self.suffix_gcd[j] == 0)
    }

    /// Depth-first search from lane `order[j]` with `x` units left, `used` venues used, `cost` so far.
    fn dfs(&mut self, j: usize, x: u64, used: usize, cost: f64) {
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
        let g_rest = self.suffix_gcd[j + 1];
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
        let min_rest = self.suffix_min_first[j + 1];
        let (t_lo, t_hi) = {
            let q_min = x.saturating_sub(self.suffix_depth[j + 1]);
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
fn lattice_solution(a: u64, b: u64, m: u64) -> Option<(u64, u64)> {
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

impl Router {
    /// Splits `total` units across at most `max_venues` venues at the lowest total expected cost.
    ///
    /// Exact (whole lots, each venue 0 or at least its minimum, within displayed depth in book mode,
    /// summing to `total`) and optimal for the cost model whenever any such allocation exists; see
    /// the module docs of `route/split.rs` for the algorithm and its limits.
    pub fn split(&self, side: Side, total: u64, max_venues: usize, limit: Option<f64>) -> SorResult<SplitResult> {
        let ctx = self.taker_ctx(side, total, limit, "total_qty")?;
        if max_venues == 0 {
            return Err(SorError::invalid("max_venues", 0, "must be at least 1"));
        }
        if let Some(result) = self.merged_split(side, total, max_venues, limit, &ctx) {
            return Ok(result);
        }
        let lanes = self.lanes(side, total, limit, &ctx)?;
        let (alloc, gap_cost) = self.search(&lanes, total, max_venues, limit, &ctx)?;
        let mut allocations = Vec::with_capacity(lanes.lanes.len().min(max_venues));
        let mut cost = 0.0;
        for (l, &q) in alloc.iter().enumerate() {
            if q == 0 {
                continue;
            }
            let lane = &lanes.lanes[l];
            cost += lanes.cost(l, q);
            let levels = self
                .levels(lane.venue, side, &ctx)
                .expect("an eligible venue has levels");
            let notional = walk(levels, q, side, limit).expect("an allocation is within depth");
            allocations.push(self.quote(lane.venue, q, notional, side, ctx.reference));
        }
        Ok(SplitResult {
            allocations,
            total_qty: total,
            reference_price: ctx.reference,
            score_bps: score_bps(cost, total, side, ctx.ref_price),
            optimality_gap_bps: gap_cost / total as f64 / ctx.ref_price * 1e4,
        })
    }

    /// Step 1 of the module docs: the merged relaxation over the venues' ladders (cheapest level next,
    /// lower venue on ties), taken straight from the books. Some(result) when it is also exact (whole
    /// lots, minimums, at most `max_venues` venues) and so optimal; None otherwise (then search, which
    /// also explains any failure).
    fn merged_split(
        &self,
        side: Side,
        total: u64,
        max_venues: usize,
        limit: Option<f64>,
        ctx: &TakerCtx,
    ) -> Option<SplitResult> {
        let n = self.venues.len();
        // Per venue: its levels on this side (empty when it cannot take part), price factor and extra.
        let mut books: Vec<(&[Level], f64, f64)> = Vec::with_capacity(n);
        for (v, spec) in self.venues.iter().enumerate() {
            let terms = self.terms(v, ctx.ref_price);
            let levels = match self.levels(v, side, ctx) {
                Some(levels) if spec.enabled && spec.first_chunk() <= total => levels,
                _ => &[],
            };
            books.push((levels, side.sign() + terms.fee, terms.extra()));
        }
        // The next level each venue offers, as a heap entry (infinite cost: nothing left there).
        let head = |v: usize, level: usize| -> Head {
            let (levels, factor, extra) = books[v];
            let unit_cost = match levels.get(level) {
                Some(l) if crate::book::within_limit(side, l.price, limit) => factor * l.price + extra,
                _ => f64::INFINITY,
            };
            Head {
                unit_cost,
                lane: v,
                level,
            }
        };
        let mut alloc = vec![(0u64, 0.0f64); n]; // (units, notional) per venue
        let mut remaining = total;
        if n <= LINEAR_MERGE_MAX {
            // Few venues: a scan of their next levels beats a heap's sifting.
            let mut heads: Vec<Head> = (0..n).map(|v| head(v, 0)).collect();
            while remaining > 0 {
                let mut best = 0;
                for (i, h) in heads.iter().enumerate().skip(1) {
                    if h.unit_cost < heads[best].unit_cost {
                        best = i;
                    }
                }
                let h = heads[best];
                if h.unit_cost == f64::INFINITY {
                    return None;
                }
                let level = books[h.lane].0[h.level];
                let qty = level.size.min(remaining);
                alloc[h.lane].0 += qty;
                alloc[h.lane].1 += qty as f64 * level.price;
                remaining -= qty;
                heads[best] = head(h.lane, h.level + 1);
            }
        } else {
            let mut heap: BinaryHeap<Head> = (0..n).map(|v| head(v, 0)).filter(|h| h.unit_cost.is_finite()).collect();
            while remaining > 0 {
                let mut h = heap.peek_mut()?;
                let level = books[h.lane].0[h.level];
                let qty = level.size.min(remaining);
                alloc[h.lane].0 += qty;
                alloc[h.lane].1 += qty as f64 * level.price;
                remaining -= qty;
                let next = head(h.lane, h.level + 1);
                if next.unit_cost.is_finite() {
                    *h = next;
                } else {
                    std::collections::binary_heap::PeekMut::pop(h);
                }
            }
        }
        let mut used = 0;
        for (v, &(q, _)) in alloc.iter().enumerate() {
            if q > 0 {
                let spec = &self.venues[v];
                if q % spec.lot_size != 0 || q < spec.first_chunk() {
                    return None;
                }
                used += 1;
            }
        }
        if used > max_venues {
            return None;
        }
        let mut allocations = Vec::with_capacity(used);
        let mut cost = 0.0;
        for (v, &(q, notional)) in alloc.iter().enumerate() {
            if q > 0 {
                let (_, factor, extra) = books[v];
                cost += factor * notional + extra * q as f64;
                allocations.push(self.quote(v, q, notional, side, ctx.reference));
            }
        }
        Some(SplitResult {
            allocations,
            total_qty: total,
            reference_price: ctx.reference,
            score_bps: score_bps(cost, total, side, ctx.ref_price),
            optimality_gap_bps: 0.0,
        })
    }

    /// The eligible venues' lanes, in venue order; an error naming every venue's reason when none is.
    fn lanes(&self, side: Side, total: u64, limit: Option<f64>, ctx: &TakerCtx) -> SorResult<Lanes> {
        let mut lanes = Lanes::default();
        let mut reasons: Vec<String> = Vec::new();
        for (v, spec) in self.venues.iter().enumerate() {
            let first = spec.first_chunk();
            let levels = self.levels(v, side, ctx);
            let why = if !spec.enabled {
                Some("disabled".to_string())
            } else if first > total {
                Some(format!("minimum order {first} units exceeds the request"))
            } else {
                match levels {
                    None => Some("no book data".to_string()),
                    Some([]) => Some(format!("no {} side in its book", side_name(side))),
                    Some(levels) => {
                        let shown = depth_within(levels, side, limit);
                        let lot = spec.lot_size;
                        let depth = shown.min(total) / lot * lot;
                        if depth < first {
                            Some(format!(
                                "displays {shown} units{}, less than its smallest order {first}",
                                limit_text(limit)
                            ))
                        } else {
                            self.push_lane(&mut lanes, v, levels, depth, side, ctx);
                            lanes.lanes.last_mut().expect("just pushed").shown = shown / lot * lot;
                            None
                        }
                    }
                }
            };
            if let Some(why) = why {
                reasons.push(format!("{}: {why}", spec.name));
            }
        }
        if lanes.lanes.is_empty() {
            return Err(SorError::no_venue("total_qty", total, reasons.join("; ")));
        }
        let g = lanes.lanes.iter().fold(0, |acc, l| gcd(acc, l.lot));
        if total % g != 0 {
            return Err(SorError::invalid(
                "total_qty",
                total,
                &format!("not a multiple of the venues' common lot size {g}; no allocation can sum to it exactly"),
            ));
        }
        Ok(lanes)
    }

    fn push_lane(&self, lanes: &mut Lanes, v: usize, levels: &[Level], depth: u64, side: Side, ctx: &TakerCtx) {
        let spec = &self.venues[v];
        let terms = self.terms(v, ctx.ref_price);
        let price_factor = side.sign() + terms.fee;
        let extra = terms.extra();
        let start = lanes.unit_cost.len();
        let (mut units, mut cost) = (0u64, 0.0);
        for level in levels {
            if units >= depth {
                break;
            }
            let size = level.size.min(depth - units);
            let unit_cost = price_factor * level.price + extra;
            lanes.before_units.push(units);
            lanes.before_cost.push(cost);
            lanes.unit_cost.push(unit_cost);
            lanes.size.push(size);
            units += size;
            cost += size as f64 * unit_cost;
        }
        lanes.lanes.push(Lane {
            venue: v,
            lot: spec.lot_size,
            first: spec.first_chunk(),
            depth,
            shown: depth,
            start,
            end: lanes.unit_cost.len(),
        });
    }

    /// The branch-and-bound search, or the error that says why no allocation exists.
    fn search(
        &self,
        lanes: &Lanes,
        total: u64,
        max_venues: usize,
        limit: Option<f64>,
        ctx: &TakerCtx,
    ) -> SorResult<(Vec<u64>, f64)> {
        let m = lanes.lanes.len();
        let k = max_venues.min(m);
        // Enough depth (whole lots) on some k venues at all?
        let mut shown: Vec<u64> = lanes.lanes.iter().map(|l| l.shown).collect();
        shown.sort_unstable_by(|a, b| b.cmp(a));
        let available = shown[..k].iter().fold(0u64, |a, &d| a.saturating_add(d));
        if available < total {
            return Err(SorError::insufficient(total, available, limit));
        }
        let tol = REL_TOL * (ctx.ref_price * total as f64).abs().max(f64::MIN_POSITIVE);
        // Cheapest first chunk first: the first dive then lands near the relaxed optimum.
        let mut order: Vec<usize> = (0..m).collect();
        let first_cost = |l: usize| lanes.cost(l, lanes.lanes[l].first) / lanes.lanes[l].first as f64;
        order.sort_by(|&a, &b| first_cost(a).total_cmp(&first_cost(b)).then(a.cmp(&b)));
        if k < m {
            order = prune_by_reduced_cost(lanes, order, total, k, tol);
        }
        if order.len() <= k && all_unit(lanes, &order) {
            // max_venues no longer binds and every survivor takes any unit: the merge is exact.
            if let Some((alloc, _)) = merge_lanes(lanes, &order, total) {
                return Ok((alloc, 0.0));
            }
        }
        let mut search = Search::new(lanes, order, k, tol);
        // Any venue that can take the whole order alone is a first incumbent: the search then never
        // returns worse than the best single venue, whatever its limits.
        for (l, lane) in lanes.lanes.iter().enumerate() {
            if total % lane.lot == 0 && total >= lane.first && total <= lane.depth {
                let c = lanes.cost(l, total);
                if c < search.best_cost {
                    search.best_cost = c;
                    search.best.fill(0);
                    search.best[l] = total;
                }
            }
        }
        search.dfs(0, total, 0, 0.0);
        if search.best_cost.is_finite() {
            let gap = if search.exhausted {
                (search.best_cost - search.bound(0, total, k)).max(0.0)
            } else {
                0.0
            };
            return Ok((search.best, gap));
        }
        if search.exhausted {
            return Err(SorError::no_venue(
                "total_qty",
                total,
                format!(
                    "no allocation found within the search limit of {NODE_LIMIT} nodes ({} venues with lots that \
                     do not divide each other); a smaller quantity or fewer lot sizes route",
                    lanes.lanes.len()
                ),
            ));
        }
        let lots: Vec<String> = lanes
            .lanes
            .iter()
            .map(|l| {
                let spec = &self.venues[l.venue];
                format!(
                    "{} lot {} min {} depth {}",
                    spec.name, spec.lot_size, spec.min_qty, l.depth
                )
            })
            .collect();
        Err(SorError::no_venue(
            "total_qty",
            total,
            format!(
                "no combination of whole lots at or above each minimum, within displayed depth, on at most \
                 {max_venues} venue(s) sums to {total} units ({})",
                lots.join(", ")
            ),
        ))
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "ask",
        Side::Sell => "bid",
    }
}

fn limit_text(limit: Option<f64>) -> String {
    limit.map_or_else(String::new, |p| format!(" within limit price {p}"))
}

/// Whether every lane in `subset` takes any whole unit (lot 1, no minimum): then the merged relaxation
/// of the subset is its exact optimum.
fn all_unit(lanes: &Lanes, subset: &[usize]) -> bool {
    subset
        .iter()
        .all(|&l| lanes.lanes[l].lot == 1 && lanes.lanes[l].first == 1)
}

/// The merged relaxation of `subset` (cheapest level next): (allocation per lane, cost), or None when
/// the subset's depth cannot hold `total`.
fn merge_lanes(lanes: &Lanes, subset: &[usize], total: u64) -> Option<(Vec<u64>, f64)> {
    let mut next: Vec<usize> = subset.iter().map(|&l| lanes.lanes[l].start).collect();
    let mut alloc = vec![0u64; lanes.lanes.len()];
    let (mut remaining, mut cost) = (total, 0.0);
    while remaining > 0 {
        let mut best: Option<usize> = None;
        for (i, &l) in subset.iter().enumerate() {
            if next[i] < lanes.lanes[l].end && best.is_none_or(|b| lanes.unit_cost[next[i]] < lanes.unit_cost[next[b]])
            {
                best = Some(i);
            }
        }
        let i = best?;
        let k = next[i];
        let qty = lanes.size[k].min(remaining);
        alloc[subset[i]] += qty;
        cost += qty as f64 * lanes.unit_cost[k];
        remaining -= qty;
        next[i] += 1;
    }
    Some((alloc, cost))
}

/// With `max_venues` binding: finds a good allocation on the k venues the dual picks, then keeps only
/// the venues whose reduced-cost bound (the dual at its optimum with that venue forced in) is below
/// it. Any allocation using a dropped venue costs at least its bound, so none beats the incumbent.
fn prune_by_reduced_cost(lanes: &Lanes, order: Vec<usize>, total: u64, k: usize, tol: f64) -> Vec<usize> {
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
