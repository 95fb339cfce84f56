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
//!
//! # Layout
//! - `lanes`: the eligible venues' levels in flat arrays, with each lane's cost and `phi`.
//! - `merge`: step 1, the one cheapest-level-next merge of ladders (used on the books directly for
//!   the fast path, and on lanes inside the search).
//! - `search`: step 2, the branch-and-bound over lanes and the reduced-cost pruning.
//! - `bounds`: the search's lower bounds (merged relaxation per suffix, Lagrangian dual).
//! - this file: `Router::split`, building the lanes, and the errors that say why no split exists.

mod bounds;
mod lanes;
mod merge;
mod search;

use super::{depth_within, score_bps, walk, Router, SplitResult, TakerCtx};
use crate::book::{Level, Side};
use crate::error::{SorError, SorResult};
use lanes::{all_unit, gcd, Lane, Lanes};
use merge::merge_lanes;
use search::{prune_by_reduced_cost, Search};

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
