//! Argument conversions shared by the bindings.

use pyo3::prelude::*;
use pyo3::types::PyString;
use sor_core::Side;

use crate::errors::invalid;

/// An order side from Nautilus's `OrderSide` (BUY = 1, SELL = 2), an int, or "BUY"/"SELL".
pub struct PySide(pub Side);

impl<'a, 'py> FromPyObject<'a, 'py> for PySide {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        // Check the type first: a failed extraction builds a Python exception, which costs more
        // than the whole routing decision.
        if let Ok(text) = ob.cast::<PyString>() {
            let text = text.to_cow()?;
            return if text.eq_ignore_ascii_case("BUY") {
                Ok(PySide(Side::Buy))
            } else if text.eq_ignore_ascii_case("SELL") {
                Ok(PySide(Side::Sell))
            } else {
                Err(invalid("side", format!("{text:?}"), "must be BUY or SELL"))
            };
        }
        match ob.extract::<i64>() {
            Ok(1) => Ok(PySide(Side::Buy)),
            Ok(2) => Ok(PySide(Side::Sell)),
            _ => Err(invalid(
                "side",
                ob.repr().map(|r| r.to_string()).unwrap_or_default(),
                "must be OrderSide.BUY (1) or OrderSide.SELL (2)",
            )),
        }
    }
}

/// Side code used by the batch calls: 1 = buy, 2 = sell (Nautilus `OrderSide` values).
pub fn side_from_code(field: &str, code: i8) -> PyResult<Side> {
    match code {
        1 => Ok(Side::Buy),
        2 => Ok(Side::Sell),
        other => Err(invalid(field, other, "must be 1 (BUY) or 2 (SELL)")),
    }
}

/// A limit price where NaN means "no limit" (batch calls).
pub fn limit_from_f64(value: f64) -> Option<f64> {
    if value.is_nan() {
        None
    } else {
        Some(value)
    }
}

/// A non-negative integer argument as u64: taken as i128 so a negative or huge value becomes a
/// ValidationError naming the field, not PyO3's OverflowError.
pub fn units(field: &str, value: i128) -> PyResult<u64> {
    u64::try_from(value).map_err(|_| invalid(field, value, "must be a whole number in [0, 2**64)"))
}

/// A count argument (e.g. `max_venues`) as usize, with the same error.
pub fn count(field: &str, value: i128) -> PyResult<usize> {
    usize::try_from(value).map_err(|_| invalid(field, value, "must be a whole number >= 0"))
}
