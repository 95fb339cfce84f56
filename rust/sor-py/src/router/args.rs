//! The router's own argument conversions: book sides, a venue name, and the request arrays of the
//! batch calls.

use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyString;
use sor_core::{Level, Router};

use crate::convert::{array_arg, limit_from_f64, py_repr, side_from_code, units};
use crate::errors::{invalid, IntoPyResult};

/// One side of a book from (price, size) pairs; a negative or huge size names its level.
pub(super) fn ladder_side(field: &str, levels: Vec<(f64, i128)>) -> PyResult<Vec<Level>> {
    levels
        .into_iter()
        .enumerate()
        .map(|(i, (price, size))| {
            Ok(Level {
                price,
                size: units(&format!("{field}[{i}].size"), size)?,
            })
        })
        .collect()
}

/// A book side as (price, size in units) pairs, best first.
pub(super) type Pairs = Vec<(f64, u64)>;
/// `route_batch`'s result: allocations[n, venues] and status[n].
pub(super) type BatchSplit<'py> = (Bound<'py, PyArray2<u64>>, Bound<'py, PyArray1<i8>>);
/// `select_batch`'s result: venue index and score per request.
pub(super) type BatchSelect<'py> = (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<f64>>);

/// A venue argument: its name (str), looked up in `core`.
pub(super) fn venue_arg(core: &Router, venue: &Bound<'_, PyAny>) -> PyResult<usize> {
    match venue.cast::<PyString>().map(|s| s.to_cow()) {
        Ok(Ok(name)) => core.venue_index(&name).py(),
        _ => Err(invalid("venue", py_repr(venue), "must be a venue name (str)")),
    }
}

/// A batch call's requests: (side, units, limit price) each.
pub(super) type Requests = Vec<(sor_core::Side, u64, Option<f64>)>;

/// Reads the three request arrays of a batch call, checking lengths and values up front.
pub(super) fn batch_requests(
    sides: &Bound<'_, PyAny>,
    quantities: &Bound<'_, PyAny>,
    limit_prices: &Bound<'_, PyAny>,
) -> PyResult<Requests> {
    let sides = array_arg::<i8>("sides", sides, "int8 (1 = BUY, 2 = SELL)")?;
    let quantities = array_arg::<u64>("quantities", quantities, "uint64")?;
    let limit_prices = array_arg::<f64>("limit_prices", limit_prices, "float64 (NaN = no limit)")?;
    let sides = sides.as_array();
    let quantities = quantities.as_array();
    let limits = limit_prices.as_array();
    if quantities.len() != sides.len() {
        return Err(invalid(
            "quantities",
            quantities.len(),
            &format!("length must equal len(sides) = {}", sides.len()),
        ));
    }
    if limits.len() != sides.len() {
        return Err(invalid(
            "limit_prices",
            limits.len(),
            &format!("length must equal len(sides) = {}", sides.len()),
        ));
    }
    let mut out = Vec::with_capacity(sides.len());
    for i in 0..sides.len() {
        let side = side_from_code(&format!("sides[{i}]"), sides[i])?;
        if quantities[i] == 0 {
            return Err(invalid(&format!("quantities[{i}]"), 0, "must be greater than zero"));
        }
        let limit = limit_from_f64(limits[i]);
        sor_core::limits::check_limit(&format!("limit_prices[{i}]"), limit).py()?;
        out.push((side, quantities[i], limit));
    }
    Ok(out)
}
