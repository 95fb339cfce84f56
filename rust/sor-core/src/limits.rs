//! The bounds every input that feeds a score or a learned statistic must respect.
//!
//! Inputs outside them are refused at the door (a typed error naming the field, nothing changed),
//! never clamped: a value this far out is a unit mistake or a broken feed, and learning from it
//! would poison the venue for good. Inside them every score and statistic is finite: prices times
//! u64 sizes stay far below `f64::MAX`, latencies and slippage are bounded, so an EWMA of bounded
//! samples stays bounded, and whatever a router saves its `restore` accepts.

use crate::error::{SorError, SorResult};
use crate::route::RouterParams;

/// Largest price (and absolute commission) accepted anywhere: larger values are unit mistakes and
/// would overflow notional and PnL arithmetic.
pub const MAX_PRICE: f64 = 1e15;
/// Smallest price a router book, fill or limit accepts: below it a basis point is not representable
/// against a u64 size (and a slippage ratio against it explodes).
pub const MIN_PRICE: f64 = 1e-12;
/// Largest latency accepted for a venue or an acknowledgement (one hour, in ms).
pub const MAX_LATENCY_MS: f64 = 3_600_000.0;
/// Largest slippage of one fill against its expected price, in bps (a fill at more than twice, or
/// for a sell at zero, the expected price): beyond it the two prices are in different units.
pub const MAX_SLIPPAGE_BPS: f64 = 10_000.0;
/// Largest volatility per sqrt(second) (100%): beyond it the latency term is meaningless.
pub const MAX_VOLATILITY: f64 = 1.0;
/// Largest multiplier of the latency-risk and learned-slippage terms (a million: large enough to make one
/// term decide alone, as a sweep may want, small enough that every score stays finite).
pub const MAX_WEIGHT: f64 = 1e6;
/// Largest cost of a missed order, in bps (100%).
pub const MAX_MISS_COST_BPS: f64 = 10_000.0;

/// `value` is finite and in `[low, high]`; else an error naming `field` and the range.
pub fn check_range(field: &str, value: f64, low: f64, high: f64) -> SorResult<f64> {
    check_within(field, value, low, high, "number")
}

/// A price a router book, fill or limit may carry: finite, in `[MIN_PRICE, MAX_PRICE]`.
pub fn check_price(field: &str, value: f64) -> SorResult<f64> {
    check_within(field, value, MIN_PRICE, MAX_PRICE, "price")
}

/// `value` is finite and in `[low, high]`; else "must be a finite `what` in [low, high]".
fn check_within(field: &str, value: f64, low: f64, high: f64, what: &str) -> SorResult<f64> {
    if value.is_finite() && (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(SorError::invalid(
            field,
            value,
            &format!("must be a finite {what} in [{low:e}, {high:e}]"),
        ))
    }
}

/// A limit price (None: no limit).
pub fn check_limit(field: &str, value: Option<f64>) -> SorResult<()> {
    value.map_or(Ok(()), |v| check_price(field, v).map(|_| ()))
}

/// A latency in ms: finite, in `[0, MAX_LATENCY_MS]`.
pub fn check_latency(field: &str, value: f64) -> SorResult<f64> {
    check_range(field, value, 0.0, MAX_LATENCY_MS)
}

/// The cost-model weights, bounded so that every score is finite (`RouterParams::validate` checks
/// their sign and finiteness; this their size).
pub fn check_params(params: &RouterParams) -> SorResult<()> {
    check_range("volatility", params.volatility, 0.0, MAX_VOLATILITY)?;
    check_range("latency_risk_weight", params.latency_risk_weight, 0.0, MAX_WEIGHT)?;
    check_range("miss_cost_bps", params.miss_cost_bps, 0.0, MAX_MISS_COST_BPS)?;
    check_range("slippage_weight", params.slippage_weight, 0.0, MAX_WEIGHT)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_name_the_field_and_accept_their_ends() {
        assert!(check_price("p", MIN_PRICE).is_ok());
        assert!(check_price("p", MAX_PRICE).is_ok());
        for bad in [0.0, -1.0, 1e-300, 1.7e308, f64::NAN, f64::INFINITY] {
            assert_eq!(check_price("p", bad).unwrap_err().field(), "p");
        }
        assert!(check_latency("l", MAX_LATENCY_MS).is_ok());
        assert!(check_latency("l", MAX_LATENCY_MS * 2.0).is_err());
        let params = RouterParams {
            volatility: 1e308,
            ..RouterParams::default()
        };
        assert_eq!(check_params(&params).unwrap_err().field(), "volatility");
        assert!(check_params(&RouterParams::default()).is_ok());
    }
}
