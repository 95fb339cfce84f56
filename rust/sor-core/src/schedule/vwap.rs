//! Volume-weighted schedule over a periodic volume curve.

use super::allocation::hamilton;
use super::window::{parent_lots, seconds_to_ns, Grid};
use super::{Schedule, MAX_DURATION_NS, MAX_SLICES, NS_PER_DAY, NS_PER_HOUR};
use crate::error::{SorError, SorResult};

/// A periodic volume curve: `weights[i]` is the (normalised) share of volume traded in bucket `i`,
/// each bucket `bucket_ns` long; the curve repeats every `weights.len() * bucket_ns` (a day for an
/// hourly profile or a day of minute buckets). Volume is spread evenly inside a bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeProfile {
    pub(super) weights: Vec<f64>,
    /// `cum[i]` = sum of weights of buckets before `i`; `cum[n]` is the whole period (about 1).
    pub(super) cum: Vec<f64>,
    pub(super) bucket_ns: u64,
    pub(super) period_ns: u64,
}

impl VolumeProfile {
    fn build(field: &str, raw: Vec<f64>, bucket_ns: u64) -> SorResult<Self> {
        let total: f64 = raw.iter().sum();
        if !total.is_finite() {
            return Err(SorError::invalid(field, total, "weights must have a finite sum"));
        }
        if total <= 0.0 {
            return Err(SorError::invalid(
                field,
                total,
                "all weights are zero: there is no volume to follow",
            ));
        }
        let weights: Vec<f64> = raw.iter().map(|w| w / total).collect();
        let mut cum = Vec::with_capacity(weights.len() + 1);
        let mut acc = 0.0;
        cum.push(acc);
        for w in &weights {
            acc += w;
            cum.push(acc);
        }
        let period_ns = (weights.len() as u64).saturating_mul(bucket_ns);
        Ok(VolumeProfile {
            weights,
            cum,
            bucket_ns,
            period_ns,
        })
    }

    /// The reference's `{hour_of_day: fraction}` profile. Hours not listed trade nothing; fractions
    /// are normalised (they need not sum to 1). Hours must be 0..=23, each given once; weights finite
    /// and not negative, not all zero. Errors name `volume_profile` or `volume_profile[hour]`.
    pub fn hourly(entries: &[(i64, f64)]) -> SorResult<Self> {
        let mut raw = vec![0.0; 24];
        let mut seen = [false; 24];
        for &(hour, w) in entries {
            if !(0..24).contains(&hour) {
                return Err(SorError::invalid("volume_profile", hour, "hour of day must be 0..23"));
            }
            let h = hour as usize;
            let field = format!("volume_profile[{hour}]");
            if seen[h] {
                return Err(SorError::invalid(&field, w, "hour given twice"));
            }
            if !w.is_finite() || w < 0.0 {
                return Err(SorError::invalid(&field, w, "must be a finite, non-negative fraction"));
            }
            seen[h] = true;
            raw[h] = w;
        }
        if entries.is_empty() {
            return Err(SorError::invalid("volume_profile", "{}", "must give at least one hour"));
        }
        Self::build("volume_profile", raw, NS_PER_HOUR)
    }

    /// Any curve of bucket weights (e.g. volume per minute of the day from historical bars), each
    /// bucket `bucket_seconds` long; the curve repeats after its last bucket. Weights are normalised.
    pub fn from_buckets(weights: &[f64], bucket_seconds: f64) -> SorResult<Self> {
        if weights.is_empty() {
            return Err(SorError::invalid(
                "bucket_weights",
                "[]",
                "must have at least one bucket",
            ));
        }
        for (i, &w) in weights.iter().enumerate() {
            if !w.is_finite() || w < 0.0 {
                return Err(SorError::invalid(
                    &format!("bucket_weights[{i}]"),
                    w,
                    "must be finite and not negative",
                ));
            }
        }
        let bucket_ns = seconds_to_ns("bucket_seconds", bucket_seconds)?;
        if (weights.len() as u128) * (bucket_ns as u128) > MAX_DURATION_NS as u128 {
            return Err(SorError::invalid(
                "bucket_seconds",
                bucket_seconds,
                "times the number of buckets must be at most 2^62 ns",
            ));
        }
        Self::build("bucket_weights", weights.to_vec(), bucket_ns)
    }

    /// A day's curve from observations (e.g. bars): the volume of every observation is added to its
    /// bucket of the day (`timestamp mod 1 day`, UTC), so feed whole days. `bucket_seconds` must
    /// divide a day.
    pub fn from_bars(timestamps_ns: &[u64], volumes: &[f64], bucket_seconds: f64) -> SorResult<Self> {
        if volumes.len() != timestamps_ns.len() {
            return Err(SorError::invalid(
                "volumes",
                volumes.len(),
                &format!("length must equal len(timestamps_ns) = {}", timestamps_ns.len()),
            ));
        }
        let bucket_ns = seconds_to_ns("bucket_seconds", bucket_seconds)?;
        if bucket_ns > NS_PER_DAY || NS_PER_DAY % bucket_ns != 0 {
            return Err(SorError::invalid(
                "bucket_seconds",
                bucket_seconds,
                "must divide a day (86400 s)",
            ));
        }
        if NS_PER_DAY / bucket_ns > MAX_SLICES {
            return Err(SorError::invalid(
                "bucket_seconds",
                bucket_seconds,
                &format!("gives more than {MAX_SLICES} buckets a day"),
            ));
        }
        let mut raw = vec![0.0; (NS_PER_DAY / bucket_ns) as usize];
        for (i, (&t, &v)) in timestamps_ns.iter().zip(volumes).enumerate() {
            if !v.is_finite() || v < 0.0 {
                return Err(SorError::invalid(
                    &format!("volumes[{i}]"),
                    v,
                    "must be finite and not negative",
                ));
            }
            raw[((t % NS_PER_DAY) / bucket_ns) as usize] += v;
        }
        Self::build("volumes", raw, bucket_ns)
    }

    /// Normalised bucket weights (they sum to 1).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    pub fn bucket_ns(&self) -> u64 {
        self.bucket_ns
    }

    pub fn period_ns(&self) -> u64 {
        self.period_ns
    }

    /// Cumulative weight from the curve's origin to `t` ns (any number of periods).
    fn cumulative(&self, t: u64) -> f64 {
        let cycles = t / self.period_ns;
        let r = t - cycles * self.period_ns;
        let b = (r / self.bucket_ns) as usize;
        let within = r - b as u64 * self.bucket_ns;
        let whole = self.cum[self.weights.len()];
        cycles as f64 * whole + self.cum[b] + self.weights[b] * (within as f64 / self.bucket_ns as f64)
    }

    /// Share of volume expected in `[a, b)` ns from the curve's origin (a part of a bucket gets that
    /// part of its weight).
    pub fn weight_between(&self, a: u64, b: u64) -> f64 {
        if b <= a {
            return 0.0;
        }
        // Shift both ends back by whole periods so the sums stay small and precise.
        let shift = (a / self.period_ns) * self.period_ns;
        (self.cumulative(b - shift) - self.cumulative(a - shift)).max(0.0)
    }
}

/// Where and how a VWAP order runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VwapParams {
    /// Start of the order in ns from the profile's origin (midnight UTC for an hourly profile or a
    /// day's curve). Taken modulo the curve's period, so a Unix timestamp in ns works for a day curve.
    pub start_time_ns: u64,
    pub duration_seconds: f64,
    pub interval_seconds: f64,
    pub lot_size: u64,
}

impl VwapParams {
    pub fn new(start_time_ns: u64, duration_seconds: f64, interval_seconds: f64) -> Self {
        VwapParams {
            start_time_ns,
            duration_seconds,
            interval_seconds,
            lot_size: 1,
        }
    }
}

/// Nanoseconds since midnight of an hour of the day (`0 <= hour < 24`, fractions allowed: 9.5 is
/// 09:30).
pub fn start_of_hour(hour: f64) -> SorResult<u64> {
    if !hour.is_finite() || !(0.0..24.0).contains(&hour) {
        return Err(SorError::invalid(
            "start_hour",
            hour,
            "must be an hour of the day in [0, 24)",
        ));
    }
    Ok(((hour * NS_PER_HOUR as f64).round() as u64).min(NS_PER_DAY - 1))
}

/// Volume-weighted schedule: the window is sliced like TWAP, and each slice's share is the profile's
/// weight over the time the slice covers (hours outside the window are ignored). Lots are allocated by
/// largest remainder so the sum is exact; slices with no expected volume get no child. A window with
/// no profile weight at all is an error (`volume_profile`), not a silent TWAP.
pub fn vwap(quantity: u64, profile: &VolumeProfile, params: &VwapParams) -> SorResult<Schedule> {
    let lots = parent_lots(quantity, params.lot_size)?;
    let grid = Grid::new(params.duration_seconds, params.interval_seconds)?;
    let start = params.start_time_ns % profile.period_ns;
    let n = grid.len();
    let mut weights = Vec::with_capacity(n);
    let mut sum = 0.0;
    // Each slice boundary is evaluated once: a slice's weight is the rise of the cumulative curve.
    let mut prev = profile.cumulative(start);
    for i in 0..n {
        let next = profile.cumulative(start + grid.end(i));
        let w = (next - prev).max(0.0);
        prev = next;
        sum += w;
        weights.push(w);
    }
    if sum.is_nan() || sum <= 0.0 {
        return Err(SorError::invalid(
            "volume_profile",
            format!("window [{start} ns, +{} ns)", grid.duration_ns),
            "has no volume in the order's window",
        ));
    }
    let parts = hamilton(lots, &weights, sum);
    Ok(Schedule::on_grid(&grid, &parts, params.lot_size))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_cumulative_wraps_days() {
        let p = VolumeProfile::hourly(&[(23, 1.0), (0, 1.0)]).unwrap();
        // 23:30 to 00:30: half of hour 23 and half of hour 0 = half the day's volume.
        let w = p.weight_between(23 * NS_PER_HOUR + NS_PER_HOUR / 2, 24 * NS_PER_HOUR + NS_PER_HOUR / 2);
        assert!((w - 0.5).abs() < 1e-12);
        assert_eq!(p.weight_between(NS_PER_HOUR, 2 * NS_PER_HOUR), 0.0);
    }
}
