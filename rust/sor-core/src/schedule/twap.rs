//! Time-weighted schedule.

use super::allocation::{even_parts, hamilton};
use super::rng::{SplitMix64, SIZE_STREAM, TIME_STREAM};
use super::window::{check_fraction, parent_lots, Grid};
use super::Schedule;
use crate::error::SorResult;

/// Parameters of a TWAP schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwapParams {
    pub duration_seconds: f64,
    pub interval_seconds: f64,
    /// Every child is a whole multiple of this many units.
    pub lot_size: u64,
    /// Each slice's size is drawn within +- this fraction of the even size (0..=1), then the draws are
    /// scaled to keep the exact total.
    pub size_jitter_pct: f64,
    /// Each child is sent up to this fraction of its slice later than the slice start (0..=1).
    pub time_jitter_pct: f64,
    pub seed: u64,
}

impl TwapParams {
    /// Even slices, no lots, no randomisation.
    pub fn new(duration_seconds: f64, interval_seconds: f64) -> Self {
        TwapParams {
            duration_seconds,
            interval_seconds,
            lot_size: 1,
            size_jitter_pct: 0.0,
            time_jitter_pct: 0.0,
            seed: 0,
        }
    }
}

/// Time-weighted schedule: `ceil(duration / interval)` slices of equal size (in lots); the remainder
/// lots go one each to the first slices. A shorter last slice still gets an equal share (a TWAP child
/// per slice, each the same size within one lot). With more slices than lots, the first `lots` slices
/// get one lot each and the rest are empty (left out).
///
/// Randomisation (seeded): slice sizes are weights `1 + size_jitter_pct * u` with `u` uniform in
/// (-1, 1), allocated by largest remainder so the total and lot multiples stay exact; each child's
/// time moves later by `time_jitter_pct * u * slice length` with `u` uniform in [0, 1), so it stays
/// inside its own slice: times remain strictly increasing and inside the window.
pub fn twap(quantity: u64, params: &TwapParams) -> SorResult<Schedule> {
    let lots = parent_lots(quantity, params.lot_size)?;
    let grid = Grid::new(params.duration_seconds, params.interval_seconds)?;
    let size_jitter = check_fraction("size_jitter_pct", params.size_jitter_pct)?;
    let time_jitter = check_fraction("time_jitter_pct", params.time_jitter_pct)?;
    let n = grid.len();
    let parts = if size_jitter > 0.0 {
        let mut rng = SplitMix64::new(params.seed ^ SIZE_STREAM);
        let weights: Vec<f64> = (0..n).map(|_| 1.0 + size_jitter * rng.symmetric()).collect();
        let sum = weights.iter().sum();
        hamilton(lots, &weights, sum)
    } else {
        even_parts(lots, n)
    };
    let mut time_rng = SplitMix64::new(params.seed ^ TIME_STREAM);
    let mut out = Schedule::with_capacity(n);
    for (i, &p) in parts.iter().enumerate() {
        let start = grid.start(i);
        let offset = if time_jitter > 0.0 {
            let len = grid.end(i) - start;
            // u < 1 and jitter <= 1, so the shift is below the slice length.
            let shift = (time_rng.unit_open() * time_jitter * len as f64) as u64; // >= 0: the floor
            start + shift.min(len.saturating_sub(1))
        } else {
            start
        };
        out.push(offset, p * params.lot_size);
    }
    Ok(out)
}
