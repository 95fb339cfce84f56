//! Child-order schedules: TWAP, VWAP (hourly profile or any bucket curve), POV, implementation
//! shortfall (Almgren-Chriss) and iceberg, with seeded randomisation.
//!
//! Conventions shared by every schedule:
//! - Quantities are integer units (`u64`). An optional `lot_size` makes every child a whole number of
//!   lots; the parent must then be a whole number of lots too. Children always sum *exactly* to the
//!   parent: integer lots are allocated by largest remainder (Hamilton), never rounded and dropped.
//! - A schedule is a list of children `(offset_ns, quantity)`: the offset is in nanoseconds from the
//!   order's start, non-decreasing, inside `[0, duration)`. Children of zero quantity are left out (a
//!   slice with no expected volume, or more slices than lots), so a schedule can have fewer children
//!   than slices; `Schedule::slices` says how many slices the window was cut into.
//! - The window is cut into `ceil(duration / interval)` slices starting at `i * interval`: when the
//!   interval does not divide the duration, the last slice is shorter and the order still finishes
//!   inside the duration (rather than running past it or folding the tail into the previous slice).
//! - Randomisation is driven by a seeded SplitMix64 generator: the same seed gives the same children.
//! - Bad input returns `SorError::InvalidInput` naming the field; no input panics.

use crate::error::{check_non_negative, SorError, SorResult};

/// Nanoseconds in one second.
pub const NS_PER_SECOND: u64 = 1_000_000_000;
/// Nanoseconds in one hour.
pub const NS_PER_HOUR: u64 = 3_600 * NS_PER_SECOND;
/// Nanoseconds in one day (Unix time has no leap seconds, so midnight UTC is a multiple of this).
pub const NS_PER_DAY: u64 = 24 * NS_PER_HOUR;
/// Longest duration, interval or curve period accepted: 2^62 ns, about 146 years. Keeps every
/// `start + offset` sum far from `u64` overflow.
pub const MAX_DURATION_NS: u64 = 1 << 62;
/// Most slices one schedule may have (a tenth of a second for eleven days); bounds memory.
pub const MAX_SLICES: u64 = 10_000_000;

// ---------------------------------------------------------------------------------------------
// Seeded randomness
// ---------------------------------------------------------------------------------------------

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, fast, well-mixed generator; fully determined by
/// its seed. Not for cryptography.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in the open interval (0, 1): 53 random bits, centred in their cell.
    pub fn unit_open(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform in the open interval (-1, 1).
    pub fn symmetric(&mut self) -> f64 {
        2.0 * self.unit_open() - 1.0
    }
}

/// Stream of a seed used for size jitter; time jitter uses another, so turning one kind of jitter on
/// or off never changes the other's draws.
const SIZE_STREAM: u64 = 0x5EED_0000_0000_0001;
const TIME_STREAM: u64 = 0x5EED_0000_0000_0002;

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// A child-order schedule: parallel arrays of offsets (ns from the order's start) and quantities
/// (units). Only non-zero children are listed; they sum exactly to the parent quantity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schedule {
    pub offsets_ns: Vec<u64>,
    pub quantities: Vec<u64>,
    /// How many slices the window was cut into (children of zero quantity are not listed).
    pub slices: usize,
}

impl Schedule {
    pub fn len(&self) -> usize {
        self.quantities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.quantities.is_empty()
    }

    /// Sum of the children (the parent quantity).
    pub fn total(&self) -> u128 {
        self.quantities.iter().map(|&q| q as u128).sum()
    }

    /// The children as `(offset_ns, quantity)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.offsets_ns.iter().copied().zip(self.quantities.iter().copied())
    }

    fn with_capacity(slices: usize) -> Self {
        Schedule {
            offsets_ns: Vec::with_capacity(slices),
            quantities: Vec::with_capacity(slices),
            slices,
        }
    }

    fn push(&mut self, offset_ns: u64, qty: u64) {
        if qty > 0 {
            self.offsets_ns.push(offset_ns);
            self.quantities.push(qty);
        }
    }
}

/// The parent in lots: checks the lot size and that the parent is a non-zero whole number of lots.
fn parent_lots(quantity: u64, lot_size: u64) -> SorResult<u64> {
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
fn check_fraction(field: &str, value: f64) -> SorResult<f64> {
    check_non_negative(field, value)?;
    if value > 1.0 {
        return Err(SorError::invalid(field, value, "must be a fraction between 0 and 1"));
    }
    Ok(value)
}

/// `x.floor()`, except that a value within 1e-9 (relative) of an integer counts as that integer, so
/// `0.29 * 100.0 = 28.999999999999996` gives 29, as the user meant.
fn floor_tolerant(x: f64) -> f64 {
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
struct Grid {
    duration_ns: u64,
    interval_ns: u64,
    slices: u64,
}

impl Grid {
    fn new(duration_seconds: f64, interval_seconds: f64) -> SorResult<Self> {
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

    fn len(&self) -> usize {
        self.slices as usize
    }

    fn start(&self, i: usize) -> u64 {
        (i as u64).saturating_mul(self.interval_ns)
    }

    fn end(&self, i: usize) -> u64 {
        (i as u64 + 1).saturating_mul(self.interval_ns).min(self.duration_ns)
    }
}

/// Splits `total` into integer parts proportional to `weights` by largest remainder (Hamilton): each
/// part gets the floor of its quota and the units left over go one each to the largest fractional
/// remainders, ties to the earlier index (remainders are compared rounded to 1e-9 of a unit, so
/// that floating-point noise in equal weights does not scatter the extra units). Parts sum exactly to
/// `total`; a zero weight gets nothing.
///
/// Weights must be finite and non-negative with a positive sum (`weights[i]` / `weights` name the
/// offending entry otherwise).
pub fn largest_remainder(total: u64, weights: &[f64]) -> SorResult<Vec<u64>> {
    let mut sum = 0.0;
    for (i, &w) in weights.iter().enumerate() {
        if !w.is_finite() || w < 0.0 {
            return Err(SorError::invalid(
                &format!("weights[{i}]"),
                w,
                "must be finite and not negative",
            ));
        }
        sum += w;
    }
    if !sum.is_finite() || sum <= 0.0 {
        return Err(SorError::invalid("weights", sum, "must have a finite, positive sum"));
    }
    Ok(hamilton(total, weights, sum))
}

/// Resolution of remainders in `hamilton`: differences below 1e-9 of a unit are noise.
const REMAINDER_STEPS: f64 = 1e9;

/// Largest-remainder allocation; `weights` are finite, >= 0 and sum to `sum` > 0 (checked by callers).
fn hamilton(total: u64, weights: &[f64], sum: f64) -> Vec<u64> {
    let n = weights.len();
    let t = total as f64;
    let mut parts = Vec::with_capacity(n);
    let mut rems = Vec::with_capacity(n);
    let mut assigned: u128 = 0;
    for &w in weights {
        let q = if w > 0.0 { t * (w / sum) } else { 0.0 };
        // q >= 0, so truncation is the floor (and cheaper than `floor()` on baseline x86-64).
        // `as` saturates: a quota rounded past u64::MAX becomes u64::MAX and is corrected below.
        let p = q as u64;
        parts.push(p);
        // Remainders are compared in steps of 1e-9 of a unit, so slices whose weights differ only
        // by floating-point noise tie, and ties go to the earlier slice (as in TWAP). A negative
        // remainder (saturated quota) casts to 0.
        rems.push(((q - p as f64) * REMAINDER_STEPS + 0.5) as u64);
        assigned += p as u128;
    }
    let total = total as u128;
    if assigned < total {
        // Floating-point quotas can fall short by more than the number of slices only for totals
        // beyond 2^53; hand out whole rounds first, then the largest remainders.
        let mut left = total - assigned;
        let m = weights.iter().filter(|&&w| w > 0.0).count() as u128;
        if m == 0 {
            return parts;
        }
        if left >= m {
            let each = (left / m) as u64;
            for (p, &w) in parts.iter_mut().zip(weights) {
                if w > 0.0 {
                    *p += each;
                }
            }
            left %= m;
        }
        let k = left as usize;
        if k > 0 {
            // The k largest remainders, ties to the earlier slice: everything above the k-th largest
            // key, then the earliest slices holding exactly that key.
            let mut keys: Vec<u64> = (0..n).filter(|&i| weights[i] > 0.0).map(|i| rems[i]).collect();
            let (_, &mut kth, _) = keys.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
            let above = (0..n).filter(|&i| weights[i] > 0.0 && rems[i] > kth).count();
            let mut ties = k - above;
            for i in 0..n {
                if weights[i] > 0.0 && (rems[i] > kth || (rems[i] == kth && ties > 0)) {
                    if rems[i] == kth {
                        ties -= 1;
                    }
                    parts[i] += 1;
                }
            }
        }
    } else {
        // Quotas rounded up past an integer can overshoot: take back from the smallest remainders.
        let mut excess = assigned - total;
        while excess > 0 {
            let mut held: Vec<usize> = (0..n).filter(|&i| parts[i] > 0).collect();
            if held.is_empty() {
                break;
            }
            let k = excess.min(held.len() as u128) as usize;
            held.select_nth_unstable_by(k - 1, |&a, &b| rems[a].cmp(&rems[b]).then(b.cmp(&a)));
            for &i in &held[..k] {
                parts[i] -= 1;
            }
            excess -= k as u128;
        }
    }
    parts
}

// ---------------------------------------------------------------------------------------------
// TWAP
// ---------------------------------------------------------------------------------------------

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

/// Equal parts of `lots` over `n` slices, the remainder one each over the first slices.
fn even_parts(lots: u64, n: usize) -> Vec<u64> {
    let n64 = n as u64;
    let (base, extra) = (lots / n64, lots % n64);
    (0..n64).map(|i| base + u64::from(i < extra)).collect()
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
    let jittered = (size_jitter > 0.0).then(|| {
        let mut rng = SplitMix64::new(params.seed ^ SIZE_STREAM);
        let weights: Vec<f64> = (0..n).map(|_| 1.0 + size_jitter * rng.symmetric()).collect();
        let sum = weights.iter().sum();
        hamilton(lots, &weights, sum)
    });
    // Even parts: `base` each, one more for the first `extra` slices.
    let (base, extra) = (lots / grid.slices, lots % grid.slices);
    let mut time_rng = SplitMix64::new(params.seed ^ TIME_STREAM);
    let mut out = Schedule::with_capacity(n);
    for i in 0..n {
        let p = match &jittered {
            Some(parts) => parts[i],
            None => base + u64::from((i as u64) < extra),
        };
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

// ---------------------------------------------------------------------------------------------
// VWAP
// ---------------------------------------------------------------------------------------------

/// A periodic volume curve: `weights[i]` is the (normalised) share of volume traded in bucket `i`,
/// each bucket `bucket_ns` long; the curve repeats every `weights.len() * bucket_ns` (a day for an
/// hourly profile or a day of minute buckets). Volume is spread evenly inside a bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeProfile {
    weights: Vec<f64>,
    /// `cum[i]` = sum of weights of buckets before `i`; `cum[n]` is the whole period (about 1).
    cum: Vec<f64>,
    bucket_ns: u64,
    period_ns: u64,
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
    let mut out = Schedule::with_capacity(n);
    for (i, &p) in parts.iter().enumerate() {
        out.push(grid.start(i), p * params.lot_size);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Implementation shortfall (Almgren-Chriss)
// ---------------------------------------------------------------------------------------------

/// Almgren-Chriss (2000) parameters. Units must agree: time in seconds, quantities in units,
/// `volatility` in price per unit per sqrt(second), `temporary_impact` (eta) in price per
/// (unit/second), `permanent_impact` (gamma) in price per unit, `risk_aversion` (lambda) per unit of
/// currency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShortfallParams {
    pub duration_seconds: f64,
    pub interval_seconds: f64,
    pub risk_aversion: f64,
    pub volatility: f64,
    pub temporary_impact: f64,
    pub permanent_impact: f64,
    pub lot_size: u64,
}

impl ShortfallParams {
    fn validate(&self) -> SorResult<()> {
        check_non_negative("risk_aversion", self.risk_aversion)?;
        check_non_negative("volatility", self.volatility)?;
        crate::error::check_positive("temporary_impact", self.temporary_impact)?;
        check_non_negative("permanent_impact", self.permanent_impact)?;
        Ok(())
    }

    /// `kappa * tau` of the discrete model: `2 (cosh(kappa tau) - 1) = kappa_tilde^2 tau^2` with
    /// `kappa_tilde^2 = lambda sigma^2 / eta_tilde`, `eta_tilde = eta - gamma tau / 2`; solved as
    /// `kappa tau = 2 asinh(kappa_tilde tau / 2)`, exact for small values. May be +inf.
    fn kappa_tau(&self, tau_seconds: f64) -> SorResult<f64> {
        self.validate()?;
        let eta_tilde = self.temporary_impact - self.permanent_impact * tau_seconds / 2.0;
        if eta_tilde <= 0.0 {
            return Err(SorError::invalid(
                "permanent_impact",
                self.permanent_impact,
                &format!(
                    "eta_tilde = temporary_impact - permanent_impact * interval_seconds / 2 = {eta_tilde} must be > 0"
                ),
            ));
        }
        let kt_tau = (self.risk_aversion * self.volatility * self.volatility / eta_tilde).sqrt() * tau_seconds;
        Ok(2.0 * (kt_tau / 2.0).asinh())
    }

    /// The urgency `kappa`, per second (may be +inf for extreme parameters: all at once).
    pub fn kappa(&self) -> SorResult<f64> {
        let grid = Grid::new(self.duration_seconds, self.interval_seconds)?;
        let tau = grid.interval_ns as f64 / NS_PER_SECOND as f64;
        Ok(self.kappa_tau(tau)? / tau)
    }
}

/// Fraction of the parent still held after `j` of `n` periods: `sinh(a (n - j)) / sinh(a n)`, written
/// as `exp(-a j) * expm1(-2 a (n - j)) / expm1(-2 a n)` so that it cannot overflow (a = kappa tau > 0).
fn holding(a: f64, j: f64, n: f64) -> f64 {
    let den = (-2.0 * a * n).exp_m1();
    if den == 0.0 {
        return (n - j) / n;
    }
    let decay = if j == 0.0 { 1.0 } else { (-a * j).exp() };
    decay * (-2.0 * a * (n - j)).exp_m1() / den
}

/// Almgren-Chriss optimal schedule: holdings `x_j = X sinh(kappa (T - t_j)) / sinh(kappa T)` on the
/// slice grid, children are the differences `x_j - x_{j+1}` (sent at the start of slice `j`), rounded
/// to whole lots by largest remainder. Like TWAP, `N = ceil(duration / interval)` and the model runs
/// on N periods of length `interval` (`T = N * interval`), so a shorter last slice counts as one
/// period. With `kappa = 0` (risk aversion or volatility 0) this is exactly `twap`; an extreme
/// `kappa * T` sends (almost) everything in the first slice, never NaN.
pub fn shortfall(quantity: u64, params: &ShortfallParams) -> SorResult<Schedule> {
    let lots = parent_lots(quantity, params.lot_size)?;
    let grid = Grid::new(params.duration_seconds, params.interval_seconds)?;
    let tau = grid.interval_ns as f64 / NS_PER_SECOND as f64;
    let a = params.kappa_tau(tau)?;
    let n = grid.len();
    let parts = if a == 0.0 || a.is_nan() {
        even_parts(lots, n)
    } else if !a.is_finite() {
        let mut p = vec![0; n];
        p[0] = lots;
        p
    } else {
        let nf = n as f64;
        let mut weights = Vec::with_capacity(n);
        let mut prev = 1.0;
        let mut sum = 0.0;
        for j in 1..=n {
            let x = if j == n { 0.0 } else { holding(a, j as f64, nf) };
            let w = (prev - x).max(0.0);
            prev = x;
            sum += w;
            weights.push(w);
        }
        if sum.is_finite() && sum > 0.0 {
            hamilton(lots, &weights, sum)
        } else {
            let mut p = vec![0; n];
            p[0] = lots;
            p
        }
    };
    let mut out = Schedule::with_capacity(n);
    for (i, &p) in parts.iter().enumerate() {
        out.push(grid.start(i), p * params.lot_size);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// POV
// ---------------------------------------------------------------------------------------------

/// Percentage-of-volume participation: keeps what has been sent at or below
/// `participation_rate * observed market volume`.
///
/// Rule, on each `on_market_volume(v)`: add `v` to the observed volume; the target is
/// `floor(rate * observed)` capped at the parent (a product within 1e-9 of an integer counts as that
/// integer); the child is `min(target - sent, max_child, remaining)` rounded down to whole lots. It is
/// sent if it is at least `min_child`, or if it is the whole remainder (the last child may be small);
/// otherwise 0 is returned and the deficit carries over to the next volume. Pass the market's printed
/// volume including our own fills if the tape includes them: the rate is then our share of the total.
#[derive(Debug, Clone, PartialEq)]
pub struct PovTracker {
    quantity: u64,
    rate: f64,
    min_child: u64,
    max_child: u64,
    lot_size: u64,
    sent: u64,
    observed: u64,
    children: u64,
}

impl PovTracker {
    /// `max_child = None` means no cap. `min_child` and `max_child` are in units; `max_child` is
    /// rounded down to whole lots and must hold at least one lot and at least `min_child` (otherwise
    /// no child could ever be sent).
    pub fn new(
        quantity: u64,
        participation_rate: f64,
        min_child: u64,
        max_child: Option<u64>,
        lot_size: u64,
    ) -> SorResult<Self> {
        parent_lots(quantity, lot_size)?;
        if !participation_rate.is_finite() || participation_rate <= 0.0 || participation_rate > 1.0 {
            return Err(SorError::invalid(
                "participation_rate",
                participation_rate,
                "must be in (0, 1]",
            ));
        }
        let max_child = match max_child {
            None => u64::MAX - u64::MAX % lot_size,
            Some(m) => {
                if m < lot_size {
                    return Err(SorError::invalid(
                        "max_child",
                        m,
                        &format!("must be at least one lot ({lot_size} units)"),
                    ));
                }
                let whole = m - m % lot_size;
                if whole < min_child {
                    return Err(SorError::invalid(
                        "max_child",
                        m,
                        &format!("in whole lots ({whole} units) must not be below min_child={min_child}"),
                    ));
                }
                whole
            }
        };
        Ok(PovTracker {
            quantity,
            rate: participation_rate,
            min_child,
            max_child,
            lot_size,
            sent: 0,
            observed: 0,
            children: 0,
        })
    }

    /// Market volume traded since the last call; returns the child to send now (0 for none).
    pub fn on_market_volume(&mut self, volume: u64) -> u64 {
        self.observed = self.observed.saturating_add(volume);
        let remaining = self.remaining();
        if remaining == 0 {
            return 0;
        }
        let target = (floor_tolerant(self.rate * self.observed as f64) as u64).min(self.quantity);
        let deficit = target.saturating_sub(self.sent);
        let mut child = deficit.min(self.max_child).min(remaining);
        child -= child % self.lot_size;
        if child == 0 || (child < self.min_child && child != remaining) {
            return 0;
        }
        self.sent += child;
        self.children += 1;
        child
    }

    /// Units the schedule wants sent by now (`floor(rate * observed)`, capped at the parent).
    pub fn target(&self) -> u64 {
        (floor_tolerant(self.rate * self.observed as f64) as u64).min(self.quantity)
    }

    pub fn quantity(&self) -> u64 {
        self.quantity
    }

    pub fn participation_rate(&self) -> f64 {
        self.rate
    }

    pub fn sent(&self) -> u64 {
        self.sent
    }

    pub fn remaining(&self) -> u64 {
        self.quantity - self.sent
    }

    pub fn observed_volume(&self) -> u64 {
        self.observed
    }

    pub fn children(&self) -> u64 {
        self.children
    }

    pub fn is_done(&self) -> bool {
        self.sent == self.quantity
    }
}

// ---------------------------------------------------------------------------------------------
// Iceberg
// ---------------------------------------------------------------------------------------------

/// An iceberg: shows `visible_pct` of the parent at a time and replenishes when the shown chunk has
/// completely filled. Accounting: `filled + working + hidden == quantity` at every step, where
/// `working` is the chunk on display (not yet filled) and `hidden` has not been shown yet.
///
/// The display size is `floor(visible_pct * lots)` lots (at least one); with `display_jitter_pct > 0`
/// each chunk is drawn (seeded) within +- that fraction of it, rounded to whole lots, at least one lot.
/// A chunk never exceeds what is hidden, so the last chunk is the leftover.
#[derive(Debug, Clone, PartialEq)]
pub struct Iceberg {
    quantity: u64,
    lot_size: u64,
    visible_pct: f64,
    display_lots: u64,
    display_jitter_pct: f64,
    rng: SplitMix64,
    filled: u64,
    working: u64,
    chunks: u64,
}

impl Iceberg {
    pub fn new(quantity: u64, visible_pct: f64, lot_size: u64, display_jitter_pct: f64, seed: u64) -> SorResult<Self> {
        let lots = parent_lots(quantity, lot_size)?;
        if !visible_pct.is_finite() || visible_pct <= 0.0 || visible_pct > 1.0 {
            return Err(SorError::invalid("visible_pct", visible_pct, "must be in (0, 1]"));
        }
        check_fraction("display_jitter_pct", display_jitter_pct)?;
        if display_jitter_pct >= 1.0 {
            // +-100% could draw a display of nothing: an iceberg must always show something.
            return Err(SorError::invalid(
                "display_jitter_pct",
                display_jitter_pct,
                "must be in [0, 1)",
            ));
        }
        let display_lots = (floor_tolerant(visible_pct * lots as f64) as u64).clamp(1, lots);
        Ok(Iceberg {
            quantity,
            lot_size,
            visible_pct,
            display_lots,
            display_jitter_pct,
            rng: SplitMix64::new(seed ^ SIZE_STREAM),
            filled: 0,
            working: 0,
            chunks: 0,
        })
    }

    /// Shows the next chunk if nothing is on display and something is hidden; returns its size
    /// (0 when a chunk is still working or everything has been shown).
    pub fn next_chunk(&mut self) -> u64 {
        let hidden = self.hidden();
        if self.working > 0 || hidden == 0 {
            return 0;
        }
        let lots = if self.display_jitter_pct > 0.0 {
            let f = self.display_lots as f64 * (1.0 + self.display_jitter_pct * self.rng.symmetric());
            (f.round() as u64).max(1)
        } else {
            self.display_lots
        };
        let chunk = lots.saturating_mul(self.lot_size).min(hidden);
        self.working = chunk;
        self.chunks += 1;
        chunk
    }

    /// Books a fill of the working chunk. Returns the next chunk to show when this fill completes the
    /// chunk (0 otherwise). A fill of zero, of a partial lot, or beyond the working chunk is an error
    /// (`fill_qty`) and changes nothing.
    pub fn on_fill(&mut self, fill_qty: u64) -> SorResult<u64> {
        if fill_qty == 0 {
            return Err(SorError::invalid("fill_qty", 0, "must be greater than zero"));
        }
        if fill_qty > self.working {
            return Err(SorError::invalid(
                "fill_qty",
                fill_qty,
                &format!("exceeds the working visible chunk of {} units", self.working),
            ));
        }
        if fill_qty % self.lot_size != 0 {
            return Err(SorError::invalid(
                "fill_qty",
                fill_qty,
                &format!("must be a whole multiple of lot_size={}", self.lot_size),
            ));
        }
        self.filled += fill_qty;
        self.working -= fill_qty;
        Ok(if self.working == 0 { self.next_chunk() } else { 0 })
    }

    /// The working chunk was cancelled or rejected: its unfilled part goes back to hidden (returned).
    pub fn on_cancel(&mut self) -> u64 {
        std::mem::take(&mut self.working)
    }

    pub fn quantity(&self) -> u64 {
        self.quantity
    }

    pub fn visible_pct(&self) -> f64 {
        self.visible_pct
    }

    /// The nominal display size in units (before jitter).
    pub fn display_qty(&self) -> u64 {
        self.display_lots * self.lot_size
    }

    pub fn filled(&self) -> u64 {
        self.filled
    }

    pub fn working(&self) -> u64 {
        self.working
    }

    /// Not yet shown.
    pub fn hidden(&self) -> u64 {
        self.quantity - self.filled - self.working
    }

    /// Not yet filled (working + hidden).
    pub fn remaining(&self) -> u64 {
        self.quantity - self.filled
    }

    pub fn chunks(&self) -> u64 {
        self.chunks
    }

    pub fn is_done(&self) -> bool {
        self.filled == self.quantity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_reference_values() {
        // First outputs of SplitMix64 seeded with 0 (as in the reference C implementation).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let u = SplitMix64::new(7).unit_open();
        assert!(u > 0.0 && u < 1.0);
    }

    #[test]
    fn hamilton_gives_remainders_to_largest_then_earliest() {
        assert_eq!(largest_remainder(10, &[1.0, 1.0, 1.0]).unwrap(), vec![4, 3, 3]);
        assert_eq!(largest_remainder(10, &[0.5, 0.3, 0.2]).unwrap(), vec![5, 3, 2]);
        // quotas 3.33.., 6.66..: the second has the larger remainder
        assert_eq!(largest_remainder(10, &[1.0, 2.0]).unwrap(), vec![3, 7]);
        assert_eq!(largest_remainder(1, &[0.0, 1.0, 0.0]).unwrap(), vec![0, 1, 0]);
        assert_eq!(
            largest_remainder(u64::MAX, &[1.0, 1.0, 1.0])
                .unwrap()
                .iter()
                .map(|&p| p as u128)
                .sum::<u128>(),
            u64::MAX as u128
        );
        assert_eq!(largest_remainder(5, &[f64::NAN]).unwrap_err().field(), "weights[0]");
        assert_eq!(largest_remainder(5, &[0.0, 0.0]).unwrap_err().field(), "weights");
    }

    #[test]
    fn floor_tolerant_forgives_representation_error() {
        assert_eq!(floor_tolerant(0.29 * 100.0), 29.0);
        assert_eq!(floor_tolerant(2.5), 2.0);
        assert_eq!(floor_tolerant(2.999), 2.0);
    }

    #[test]
    fn holding_is_stable_at_the_extremes() {
        assert_eq!(holding(1e-3, 0.0, 10.0), 1.0);
        assert_eq!(holding(800.0, 0.0, 10.0), 1.0);
        assert_eq!(holding(800.0, 1.0, 10.0), 0.0);
        let h = holding(1e-12, 5.0, 10.0);
        assert!((h - 0.5).abs() < 1e-9, "{h}");
    }

    #[test]
    fn profile_cumulative_wraps_days() {
        let p = VolumeProfile::hourly(&[(23, 1.0), (0, 1.0)]).unwrap();
        // 23:30 to 00:30: half of hour 23 and half of hour 0 = half the day's volume.
        let w = p.weight_between(23 * NS_PER_HOUR + NS_PER_HOUR / 2, 24 * NS_PER_HOUR + NS_PER_HOUR / 2);
        assert!((w - 0.5).abs() < 1e-12);
        assert_eq!(p.weight_between(NS_PER_HOUR, 2 * NS_PER_HOUR), 0.0);
    }
}
