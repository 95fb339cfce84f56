//! Nautilus's number handling, reproduced bit for bit: fixed-point quantities read back as floats,
//! `Money` rounding (half away from zero at the currency's precision) and the execution engine's
//! pro-rata commission split of a flip.

use super::instrument::InstrumentSpec;
use super::FIXED_PRECISION;

/// Nautilus's fixed-point scalar: `Quantity.raw = value * 1e16`.
pub(super) const FIXED_SCALAR: f64 = 1e16;

/// Integer units of `10^-precision` read back as Nautilus reads its fixed-point values:
/// `(units * 10^k) as f64 / 1e16` with `k = 16 - precision`. The product is formed as
/// `(units * 5^k) as f64 * 2^k` when that fits a u64 (scaling by a power of two is exact, so the
/// result is bit-identical) and as a u128 otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Fixed {
    pub(super) five_k: u64,
    pub(super) two_k: f64,
    pub(super) ten_k: u128,
}

impl Fixed {
    pub(super) fn new(precision: u8) -> Self {
        let k = u32::from(FIXED_PRECISION - precision);
        Fixed {
            five_k: 5u64.pow(k),
            two_k: 2f64.powi(k as i32),
            ten_k: 10u128.pow(k),
        }
    }

    pub(super) fn read(&self, units: u128) -> f64 {
        if let Ok(u) = u64::try_from(units) {
            if let Some(m) = u.checked_mul(self.five_k) {
                return m as f64 * self.two_k / FIXED_SCALAR;
            }
        }
        u128_to_f64(units.saturating_mul(self.ten_k)) / FIXED_SCALAR
    }

    pub(super) fn read_signed(&self, units: i128) -> f64 {
        let v = self.read(units.unsigned_abs());
        if units < 0 {
            -v
        } else {
            v
        }
    }
}

/// Money rounding of a currency precision, as Nautilus's `Money(value, currency)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct MoneyScale {
    /// 10^precision as a float.
    pub(super) pow1: f64,
    pub(super) fixed: Fixed,
}

/// Below this magnitude a float's integer part is exact in an i64 and its fraction exact.
pub(super) const EXACT_INT: f64 = 9_007_199_254_740_992.0; // 2^53

impl MoneyScale {
    pub(super) fn new(precision: u8) -> Self {
        MoneyScale {
            pow1: 10f64.powi(i32::from(precision)),
            fixed: Fixed::new(precision),
        }
    }

    /// Whole currency units (10^-precision) of `value`, rounded half away from zero as
    /// `f64::round` (computed without a libm call in the usual range).
    pub(super) fn units(&self, value: f64) -> i128 {
        let x = value * self.pow1;
        if x.abs() < EXACT_INT {
            let t = x as i64;
            let frac = x - t as f64;
            let r = if frac >= 0.5 {
                t + 1
            } else if frac <= -0.5 {
                t - 1
            } else {
                t
            };
            return i128::from(r);
        }
        x.round() as i128
    }

    /// The float Nautilus reads back from a `Money` of `units`.
    pub(super) fn amount(&self, units: i128) -> f64 {
        self.fixed.read_signed(units)
    }

    pub(super) fn round(&self, value: f64) -> f64 {
        self.amount(self.units(value))
    }
}

pub(super) fn i128_to_f64(x: i128) -> f64 {
    match i64::try_from(x) {
        Ok(small) => small as f64,
        Err(_) => x as f64,
    }
}

pub(super) fn u128_to_f64(x: u128) -> f64 {
    match u64::try_from(x) {
        Ok(small) => small as f64,
        Err(_) => x as f64,
    }
}

/// Per-instrument constants of the hot path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Scales {
    /// Units to Nautilus `Quantity.as_f64()`.
    pub(super) quantity: Fixed,
    /// 10^size_precision as a float.
    pub(super) units_per_qty: f64,
    pub(super) multiplier: f64,
    pub(super) money: Option<MoneyScale>,
}

impl Scales {
    pub(super) fn new(spec: &InstrumentSpec) -> Self {
        Scales {
            quantity: Fixed::new(spec.size_precision),
            units_per_qty: 10f64.powi(i32::from(spec.size_precision)),
            multiplier: spec.multiplier,
            money: spec.currency_precision.map(MoneyScale::new),
        }
    }

    /// `Quantity.as_f64()` of `units`.
    pub(super) fn qty(&self, units: u128) -> f64 {
        self.quantity.read(units)
    }

    /// Nautilus's `round(signed_qty, size_precision)`: the double nearest the decimal.
    pub(super) fn signed(&self, units: i128) -> f64 {
        i128_to_f64(units) / self.units_per_qty
    }

    pub(super) fn money(&self, value: f64) -> f64 {
        match self.money {
            Some(m) => m.round(value),
            None => value,
        }
    }
}

/// The commission of a flip's closing part, `commission * closing / total`, in currency units,
/// as the execution engine computes it: a `Decimal` share, read as a float, then rounded by
/// `Money`. The share is computed exactly; an exact tie (a half unit) goes the way the float of
/// the tie rounds, as it does in Nautilus.
pub(super) fn split_commission_units(m: &MoneyScale, commission: i128, closing: u128, total: u128) -> i128 {
    let (Ok(a), Ok(b)) = (i128::try_from(closing), i128::try_from(total)) else {
        return m.units(m.amount(commission) * (u128_to_f64(closing) / u128_to_f64(total)));
    };
    let Some(n) = commission.checked_mul(a) else {
        return m.units(m.amount(commission) * (u128_to_f64(closing) / u128_to_f64(total)));
    };
    let q = n.div_euclid(b);
    let twice_rem = 2 * n.rem_euclid(b);
    if twice_rem != b {
        return if twice_rem > b { q + 1 } else { q };
    }
    // r = q + 1/2 units exactly: Nautilus reads the nearest double of r / 10^p, then rounds it.
    let value = i128_to_f64(2 * q + 1) / (2.0 * m.pow1);
    m.units(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_rounds_half_away_from_zero() {
        let m = MoneyScale::new(2);
        assert_eq!(m.units(0.125), 13);
        assert_eq!(m.units(-0.125), -13);
        assert_eq!(m.round(1.004999), 1.0);
        assert_eq!(m.amount(150), 1.5);
    }

    #[test]
    fn fast_paths_equal_the_plain_formulas() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for p in 0..=16u8 {
            let m = MoneyScale::new(p);
            let fixed = Fixed::new(p);
            let ten_k = 10i128.pow(u32::from(16 - p));
            for _ in 0..2000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let units = (x >> (x % 64)) as i128 * if x & 1 == 0 { 1 } else { -1 };
                let plain = i128_to_f64(units.saturating_mul(ten_k)) / FIXED_SCALAR;
                assert_eq!(
                    fixed.read_signed(units).to_bits(),
                    plain.to_bits(),
                    "p={p} units={units}"
                );
                let v = f64::from_bits(x >> 2) * if x & 2 == 0 { 1.0 } else { -1.0 };
                let v = if v.is_finite() { v } else { 1.5 };
                for value in [
                    v,
                    (x % 100_000) as f64 / 8.0 / m.pow1,
                    -((x % 77) as f64 + 0.5) / m.pow1,
                ] {
                    assert_eq!(m.units(value), (value * m.pow1).round() as i128, "p={p} value={value}");
                }
            }
        }
    }

    #[test]
    fn commission_split_is_exact_except_ties() {
        let m = MoneyScale::new(2);
        // 0.07 * 1/3 = 0.02333 -> 2 cents; 0.07 * 2/3 = 0.04667 -> 5 cents.
        assert_eq!(split_commission_units(&m, 7, 1, 3), 2);
        assert_eq!(split_commission_units(&m, 7, 2, 3), 5);
        // Tie: 0.03 / 2 = 0.015, whose nearest double is 0.01499999..., times 100 rounds to 1.
        assert_eq!(split_commission_units(&m, 3, 1, 2), (0.015f64 * 100.0).round() as i128);
        // Negative (a rebate) rounds away from zero like Money.
        assert_eq!(split_commission_units(&m, -7, 1, 3), -2);
    }

    #[test]
    fn quantities_convert_as_nautilus_does() {
        let spec = InstrumentSpec::new("X", "U", 3, 1.0, None).unwrap();
        let s = Scales::new(&spec);
        assert_eq!(s.qty(1500), 1.5);
        assert_eq!(s.signed(-1), -0.001);
        assert!(s.qty(u128::MAX).is_finite());
    }
}
