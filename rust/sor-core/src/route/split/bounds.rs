//! Lower bounds of the search: the merged relaxation of each suffix of lanes (a convex
//! piecewise-linear function, exact when `max_venues` does not bind) and the Lagrangian dual
//! (when it does). See the module docs of `split` for why both are valid and convex.

use super::search::Search;
use super::MAX_SUFFIX_MERGES;

/// A convex piecewise-linear function of quantity: the merged relaxation of a set of lanes.
#[derive(Debug, Default, Clone)]
pub(super) struct Merged {
    /// Units and cost at each breakpoint; `units[0] = 0`, `cost[0] = 0`.
    pub(super) units: Vec<u64>,
    pub(super) cost: Vec<f64>,
    /// Unit cost of the segment ending at each breakpoint (`slope[0]` unused): a lane's level cost, exact.
    pub(super) slope: Vec<f64>,
}

impl Merged {
    /// The segment holding the `x`-th unit (1-based: the segment that ends at or after `x`).
    pub(super) fn segment(&self, x: u64) -> usize {
        self.units.partition_point(|&u| u < x).max(1)
    }

    pub(super) fn eval(&self, x: u64) -> f64 {
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
    pub(super) fn marginal(&self, x: u64) -> Option<f64> {
        (x >= 1 && x <= self.units[self.units.len() - 1]).then(|| self.slope[self.segment(x)])
    }
}

impl Search<'_> {
    pub(super) fn build_lambdas(&mut self) {
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
    pub(super) fn merged(&mut self) -> bool {
        if self.suffix_merged.is_empty() && self.order.len() <= MAX_SUFFIX_MERGES {
            self.build_suffix_merges();
        }
        !self.suffix_merged.is_empty()
    }

    pub(super) fn build_suffix_merges(&mut self) {
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
    pub(super) fn bound(&mut self, j: usize, x: u64, k: usize) -> f64 {
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
    pub(super) fn dual(&mut self, j: usize, x: u64, k: usize) -> (f64, f64) {
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
    pub(super) fn dual_at(&mut self, j: usize, x: u64, k: usize, lambda: f64) -> f64 {
        self.scratch.clear();
        for &l in &self.order[j..] {
            self.scratch.push(self.lanes.phi(l, lambda).0);
        }
        if k < self.scratch.len() {
            self.scratch.select_nth_unstable_by(k - 1, f64::total_cmp);
        }
        lambda * x as f64 + self.scratch[..k].iter().sum::<f64>()
    }
}
