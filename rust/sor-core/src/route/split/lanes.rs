//! The eligible venues as the split sees them: each venue's levels within depth, in flat arrays,
//! with the per-lane cost `c_i(q)` and Lagrangian term `phi_i(lambda)` of the module docs.

pub(super) fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// One eligible venue as the split sees it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lane {
    pub(super) venue: usize,
    pub(super) lot: u64,
    /// Smallest non-zero quantity: the minimum rounded up to whole lots.
    pub(super) first: u64,
    /// Largest quantity: displayed depth within the limit, capped at the request, rounded down to lots.
    pub(super) depth: u64,
    /// Displayed depth within the limit rounded down to lots, not capped (for the error message).
    pub(super) shown: u64,
    /// Range of this lane's levels in the flat arrays of `Lanes`.
    pub(super) start: usize,
    pub(super) end: usize,
}

/// Every eligible venue's levels in flat arrays (one allocation each, whatever the venue count).
#[derive(Debug, Default)]
pub(super) struct Lanes {
    pub(super) lanes: Vec<Lane>,
    /// Units before each level (the level's start on the venue's own quantity axis).
    pub(super) before_units: Vec<u64>,
    /// Cost of taking every unit before each level.
    pub(super) before_cost: Vec<f64>,
    /// All-in cost per unit of each level.
    pub(super) unit_cost: Vec<f64>,
    /// Units of each level (the last one truncated at the lane's depth).
    pub(super) size: Vec<u64>,
}

impl Lanes {
    /// Units of lane `l` priced below `lambda`, and at or below it (both capped at its depth).
    pub(super) fn units_around(&self, l: usize, lambda: f64) -> (u64, u64) {
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
    pub(super) fn cost(&self, l: usize, q: u64) -> f64 {
        let lane = &self.lanes[l];
        let before = &self.before_units[lane.start..lane.end];
        let k = lane.start + before.partition_point(|&b| b <= q).saturating_sub(1);
        self.before_cost[k] + (q - self.before_units[k]) as f64 * self.unit_cost[k]
    }

    /// `phi(lambda)` of lane `l` and the quantity attaining it (0 when taking nothing is best).
    pub(super) fn phi(&self, l: usize, lambda: f64) -> (f64, u64) {
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

/// Whether every lane in `subset` takes any whole unit (lot 1, no minimum): then the merged relaxation
/// of the subset is its exact optimum.
pub(super) fn all_unit(lanes: &Lanes, subset: &[usize]) -> bool {
    subset
        .iter()
        .all(|&l| lanes.lanes[l].lot == 1 && lanes.lanes[l].first == 1)
}
