//! What the position book needs to know of an instrument, validated field by field.

use super::{FIXED_PRECISION, MAX_PRICE};
use crate::error::{SorError, SorResult};

/// What the book needs to know of an instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct InstrumentSpec {
    pub name: String,
    /// What the instrument exposes the holder to (e.g. "BTC" for BTCUSDT on any venue).
    pub underlying: String,
    /// Quantities are integer units of `10^-size_precision`.
    pub size_precision: u8,
    /// Contract multiplier: PnL and exposure per unit of quantity and price.
    pub multiplier: f64,
    /// Settlement currency precision: PnL and commissions are rounded to it as Nautilus's `Money`
    /// rounds them. None keeps full floats.
    pub currency_precision: Option<u8>,
}

impl InstrumentSpec {
    /// A validated instrument; every field is checked and named in the error.
    pub fn new(
        name: &str,
        underlying: &str,
        size_precision: u8,
        multiplier: f64,
        currency_precision: Option<u8>,
    ) -> SorResult<Self> {
        if name.trim().is_empty() {
            return Err(SorError::invalid(
                "name",
                format!("{name:?}"),
                "instrument name must not be empty",
            ));
        }
        if underlying.trim().is_empty() {
            return Err(SorError::invalid(
                "underlying",
                format!("{underlying:?}"),
                "underlying must not be empty",
            ));
        }
        if size_precision > FIXED_PRECISION {
            return Err(SorError::invalid(
                "size_precision",
                size_precision,
                "must be at most 16",
            ));
        }
        if !multiplier.is_finite() || multiplier <= 0.0 || multiplier > MAX_PRICE {
            return Err(SorError::invalid(
                "multiplier",
                multiplier,
                "must be a finite number in (0, 1e15]",
            ));
        }
        if let Some(p) = currency_precision {
            if p > FIXED_PRECISION {
                return Err(SorError::invalid("currency_precision", p, "must be at most 16"));
            }
        }
        Ok(InstrumentSpec {
            name: name.to_string(),
            underlying: underlying.to_string(),
            size_precision,
            multiplier,
            currency_precision,
        })
    }
}
