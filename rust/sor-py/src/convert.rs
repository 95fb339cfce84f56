//! Argument conversions shared by the bindings.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyString};
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

fn repr(ob: &Bound<'_, PyAny>) -> String {
    ob.repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "<unprintable>".to_string())
}

/// An integer argument (int, numpy integer, IntEnum), never a float or bool: a wrong type is a
/// ValidationError naming the field rather than PyO3's TypeError.
pub fn int_arg(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<i128> {
    if ob.is_instance_of::<PyBool>() || ob.is_instance_of::<PyFloat>() {
        return Err(invalid(field, repr(ob), "must be an integer"));
    }
    ob.extract::<i128>()
        .map_err(|_| invalid(field, repr(ob), "must be an integer"))
}

/// A string argument.
pub fn str_arg(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<String> {
    match ob.cast::<PyString>() {
        Ok(s) => Ok(s.to_cow()?.into_owned()),
        Err(_) => Err(invalid(field, repr(ob), "must be a string")),
    }
}

/// A 1-d numpy array of the element type the batch call needs, or a ValidationError naming it.
pub fn array_arg<'py, T: numpy::Element>(
    field: &str,
    ob: &Bound<'py, PyAny>,
    dtype: &str,
) -> PyResult<numpy::PyReadonlyArray1<'py, T>> {
    ob.extract::<numpy::PyReadonlyArray1<'py, T>>().map_err(|_| {
        let got = ob.getattr("dtype").map(|d| repr(&d)).unwrap_or_else(|_| repr(ob));
        invalid(field, got, &format!("must be a 1-d numpy array of {dtype}"))
    })
}

/// Book levels: a sequence of (price, size) pairs; each bad entry is named `field[i]`.
pub fn levels_arg(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<Vec<(f64, i128)>> {
    let items = ob
        .try_iter()
        .map_err(|_| invalid(field, repr(ob), "must be a sequence of (price, size) pairs"))?;
    let mut out = Vec::new();
    for (i, item) in items.enumerate() {
        let item = item?;
        let (price, size) = item
            .extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()
            .map_err(|_| invalid(&format!("{field}[{i}]"), repr(&item), "must be a (price, size) pair"))?;
        let price = price
            .extract::<f64>()
            .map_err(|_| invalid(&format!("{field}[{i}].price"), repr(&price), "must be a number"))?;
        out.push((price, int_arg(&format!("{field}[{i}].size"), &size)?));
    }
    Ok(out)
}
