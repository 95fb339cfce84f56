//! What every schedule checks and shares: the parent in lots, seconds as nanoseconds, jitter
//! fractions, and the slice grid of the window.

use super::{Schedule, MAX_DURATION_NS, MAX_SLICES, NS_PER_SECOND};
use crate::error::{check_non_negative, SorError, SorResult};

/// The parent in lots: checks the lot size and that the parent is a non-zero whole number of lots.
pub(super) fn parent_lots(quantity: u64, lot_size: u64) -> SorResult<u64> {
    if lot_size == 0 {
        return Err(SorError::invalid("lot_size", 0, "must be at least 1 unit"));
    }
    if quantity == 0 {
        return Err(SorError::invalid("quantity", 0, "must be greater than zero"));
    }
    if quantity % lot_size != 0 {
        return Err(SorError::invalid(
            "quantity",
            quantity,
            &format!("must be a whole multiple of lot_size={lot_size}"),
        ));
    }
    Ok(quantity / lot_size)
}

/// A positive, finite number of seconds as whole nanoseconds (rounded), at least 1 ns.
pub fn seconds_to_ns(field: &str, seconds: f64) -> SorResult<u64> {
    if !seconds.is_finite() {
        return Err(SorError::invalid(field, seconds, "must be a finite number of seconds"));
    }
    if seconds <= 0.0 {
        return Err(SorError::invalid(field, seconds, "must be greater than zero"));
    }
    let ns = (seconds * NS_PER_SECOND as f64).round();
    if ns < 1.0 {
        return Err(SorError::invalid(field, seconds, "must be at least one nanosecond"));
    }
    if ns > MAX_DURATION_NS as f64 {
        return Err(SorError::invalid(
            field,
            seconds,
            &format!("must be at most {} seconds", MAX_DURATION_NS / NS_PER_SECOND),
        ));
    }
    Ok(ns as u64)
}

/// A fraction in `[0, 1]` (jitter amounts).
pub(super) fn check_fraction(field: &str, value: f64) -> SorResult<f64> {
    check_non_negative(field, value)?;
    if value > 1.0 {
        return Err(SorError::invalid(field, value, "must be a fraction between 0 and 1"));
    }
    Ok(value)
}

/// `x.floor()`, except that a value within 1e-9 (relative) of an integer counts as that integer, so
/// `0.29 * 100.0 = 28.999999999999996` gives 29, as the user meant.
pub(super) fn floor_tolerant(x: f64) -> f64 {
    let r = x.round();
    if (x - r).abs() <= 1e-9 * r.abs().max(1.0) {
        r
    } else {
        x.floor()
    }
}

/// The slice grid of a window: `slices = ceil(duration / interval)`, slice `i` is
/// `[i * interval, min((i + 1) * interval, duration))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Grid {
    pub(super) duration_ns: u64,
    pub(super) interval_ns: u64,
    pub(super) slices: u64,
}

impl Grid {
    pub(super) fn new(duration_seconds: f64, interval_seconds: f64) -> SorResult<Self> {
        let duration_ns = seconds_to_ns("duration_seconds", duration_seconds)?;
        let interval_ns = seconds_to_ns("interval_seconds", interval_seconds)?;
        if interval_ns > duration_ns {
            return Err(SorError::invalid(
                "interval_seconds",
                interval_seconds,
                &format!("must not exceed duration_seconds={duration_seconds}"),
            ));
        }
        let slices = duration_ns.div_ceil(interval_ns);
        if slices > MAX_SLICES {
            return Err(SorError::invalid(
                "interval_seconds",
                interval_seconds,
                &format!("gives {slices} slices of the duration; at most {MAX_SLICES} are allowed"),
            ));
        }
        Ok(Grid {
            duration_ns,
            interval_ns,
            slices,
        })
    }

    pub(super) fn len(&self) -> usize {
        self.slices as usize
    }

    pub(super) fn start(&self, i: usize) -> u64 {
        (i as u64).saturating_mul(self.interval_ns)
    }

    pub(super) fn end(&self, i: usize) -> u64 {
        (i as u64 + 1).saturating_mul(self.interval_ns).min(self.duration_ns)
    }
}

impl Schedule {
    /// The children of per-slice `parts` (in lots), each sent at its slice's start.
    pub(super) fn on_grid(grid: &Grid, parts: &[u64], lot_size: u64) -> Self {
        let mut out = Schedule::with_capacity(grid.len());
        for (i, &p) in parts.iter().enumerate() {
            out.push(grid.start(i), p * lot_size);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_tolerant_forgives_representation_error() {
        assert_eq!(floor_tolerant(0.29 * 100.0), 29.0);
        assert_eq!(floor_tolerant(2.5), 2.0);
        assert_eq!(floor_tolerant(2.999), 2.0);
    }
}
