//! Step 1 of the module docs: cheapest level next across ladders. One merge serves both callers:
//! `Router::merged_split` reads the venues' books directly (the common, fast path: no lanes are
//! built), and `merge_lanes` reads a subset of lanes inside the search.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::lanes::Lanes;
use super::{score_bps, Router, SplitResult, TakerCtx, LINEAR_MERGE_MAX};
use crate::book::{Level, Side};

/// Heap entry of the merge: a level's unit cost, venue and level (ties: lower venue, then level).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Head {
    unit_cost: f64,
    lane: usize,
    level: usize,
    size: u64,
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

impl Router {
    /// Step 1 of the module docs: the merged relaxation over the venues' ladders (cheapest level next,
    /// lower venue on ties), taken straight from the books. Some(result) when it is also exact (whole
    /// lots, minimums, at most `max_venues` venues) and so optimal; None otherwise (then search, which
    /// also explains any failure).
    pub(super) fn merged_split(
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
        let level = |v: usize, k: usize| -> Option<(f64, u64)> {
            let (levels, factor, extra) = books[v];
            levels
                .get(k)
                .filter(|l| crate::book::within_limit(side, l.price, limit))
                .map(|l| (factor * l.price + extra, l.size))
        };
        let mut alloc = vec![(0u64, 0.0f64); n]; // (units, notional) per venue
        let filled = merge_ladders(n, total, level, |v, k, qty| {
            alloc[v].0 += qty;
            alloc[v].1 += qty as f64 * books[v].0[k].price;
        });
        if !filled {
            return None;
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
}

/// The merged relaxation of `subset` (cheapest level next, earlier in `subset` on ties):
/// (allocation per lane, cost), or None when the subset's depth cannot hold `total`.
pub(super) fn merge_lanes(lanes: &Lanes, subset: &[usize], total: u64) -> Option<(Vec<u64>, f64)> {
    let level = |i: usize, k: usize| -> Option<(f64, u64)> {
        let lane = &lanes.lanes[subset[i]];
        let at = lane.start + k;
        (at < lane.end).then(|| (lanes.unit_cost[at], lanes.size[at]))
    };
    let mut alloc = vec![0u64; lanes.lanes.len()];
    let mut cost = 0.0;
    let filled = merge_ladders(subset.len(), total, level, |i, k, qty| {
        alloc[subset[i]] += qty;
        cost += qty as f64 * lanes.unit_cost[lanes.lanes[subset[i]].start + k];
    });
    filled.then_some((alloc, cost))
}

/// Takes `total` units from `n` ladders, cheapest level next, the lower ladder on ties (then the
/// lower level): step 1 of the module docs. `level(i, k)` is the unit cost and size of ladder `i`'s
/// `k`-th level, None past its last usable one (levels only get worse along a ladder);
/// `take(i, k, qty)` books `qty` units of that level. False when the ladders hold less than `total`
/// (some units are then booked: the callers discard them).
fn merge_ladders(
    n: usize,
    total: u64,
    level: impl Fn(usize, usize) -> Option<(f64, u64)>,
    mut take: impl FnMut(usize, usize, u64),
) -> bool {
    // The next level a ladder offers (infinite cost: nothing left there).
    let head = |i: usize, k: usize| -> Head {
        let (unit_cost, size) = level(i, k).unwrap_or((f64::INFINITY, 0));
        Head {
            unit_cost,
            lane: i,
            level: k,
            size,
        }
    };
    let mut remaining = total;
    if n <= LINEAR_MERGE_MAX {
        // Few ladders: a scan of their next levels beats a heap's sifting.
        let mut heads: Vec<Head> = (0..n).map(|i| head(i, 0)).collect();
        while remaining > 0 {
            let mut best = 0;
            for (i, h) in heads.iter().enumerate().skip(1) {
                if h.unit_cost < heads[best].unit_cost {
                    best = i;
                }
            }
            let Some(&h) = heads.get(best) else {
                return false;
            };
            if h.unit_cost == f64::INFINITY {
                return false;
            }
            let qty = h.size.min(remaining);
            take(h.lane, h.level, qty);
            remaining -= qty;
            heads[best] = head(h.lane, h.level + 1);
        }
    } else {
        let mut heap: BinaryHeap<Head> = (0..n).map(|i| head(i, 0)).filter(|h| h.unit_cost.is_finite()).collect();
        while remaining > 0 {
            let Some(mut h) = heap.peek_mut() else {
                return false;
            };
            let qty = h.size.min(remaining);
            take(h.lane, h.level, qty);
            remaining -= qty;
            let next = head(h.lane, h.level + 1);
            if next.unit_cost.is_finite() {
                *h = next;
            } else {
                std::collections::binary_heap::PeekMut::pop(h);
            }
        }
    }
    true
}
