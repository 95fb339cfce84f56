//! Exact integer allocation of a parent over slices: every part a whole number of lots, the parts
//! summing to the parent.

use crate::error::{SorError, SorResult};

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
pub(super) const REMAINDER_STEPS: f64 = 1e9;

/// Largest-remainder allocation; `weights` are finite, >= 0 and sum to `sum` > 0 (checked by callers).
pub(super) fn hamilton(total: u64, weights: &[f64], sum: f64) -> Vec<u64> {
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

/// Equal parts of `lots` over `n` slices, the remainder one each over the first slices.
pub(super) fn even_parts(lots: u64, n: usize) -> Vec<u64> {
    let n64 = n as u64;
    let (base, extra) = (lots / n64, lots % n64);
    (0..n64).map(|i| base + u64::from(i < extra)).collect()
}

/// Everything in the first of `n` slices (an urgency too extreme for the curve to say more).
pub(super) fn all_in_first(lots: u64, n: usize) -> Vec<u64> {
    let mut parts = vec![0; n];
    parts[0] = lots;
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
