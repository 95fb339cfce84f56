//! Python wrapper of the consumed-liquidity rule (`sor_core::ConsumedLiquidity`), for the Nautilus fill
//! model (`nautilus_sor.fill_model_consumed`): the same record `evaluate`'s `VenueBook` keeps.

use pyo3::prelude::*;
use sor_core::ConsumedLiquidity;

use crate::convert::{bool_arg, float_arg, int_arg};
use crate::errors::invalid;

fn is_ask(ob: &Bound<'_, PyAny>) -> PyResult<bool> {
    bool_arg("is_ask", ob)
}

fn level(ob: &Bound<'_, PyAny>) -> PyResult<i64> {
    let value = int_arg("level", ob)?;
    i64::try_from(value).map_err(|_| invalid("level", value, "must fit in a signed 64-bit integer"))
}

/// A size in market units: finite and >= 0.
fn size(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<f64> {
    let value = float_arg(field, ob)?;
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(invalid(field, value, "must be a finite size >= 0"))
    }
}

fn recorded(ob: &Bound<'_, PyAny>) -> PyResult<f64> {
    size("recorded", ob)
}

fn taken(ob: &Bound<'_, PyAny>) -> PyResult<f64> {
    size("taken", ob)
}

/// What our aggressive fills took from each level of one book (`level`: the price in ticks), and what a
/// level recorded at `recorded` still offers us.
#[pyclass(name = "ConsumedLiquidity", module = "nautilus_sor._core")]
#[derive(Default)]
pub struct PyConsumedLiquidity(ConsumedLiquidity);

#[pymethods]
impl PyConsumedLiquidity {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// The size still offered to us at the level now recorded at `recorded` (drops the level's record
    /// once the recorded size is at or below what we left).
    fn available(
        &mut self,
        #[pyo3(from_py_with = is_ask)] is_ask: bool,
        #[pyo3(from_py_with = level)] level: i64,
        #[pyo3(from_py_with = recorded)] recorded: f64,
    ) -> f64 {
        self.0.available(is_ask, level, recorded)
    }

    /// Records that we took `taken` from the level recorded at `recorded`.
    fn consume(
        &mut self,
        #[pyo3(from_py_with = is_ask)] is_ask: bool,
        #[pyo3(from_py_with = level)] level: i64,
        #[pyo3(from_py_with = recorded)] recorded: f64,
        #[pyo3(from_py_with = taken)] taken: f64,
    ) {
        self.0.consume(is_ask, level, recorded, taken)
    }

    /// A recorded state of the level (a book update): drops its record if the recorded size is at or
    /// below what we left (the level refreshed).
    fn observe(
        &mut self,
        #[pyo3(from_py_with = is_ask)] is_ask: bool,
        #[pyo3(from_py_with = level)] level: i64,
        #[pyo3(from_py_with = recorded)] recorded: f64,
    ) {
        self.0.observe(is_ask, level, recorded)
    }

    /// The levels of that side on record, in no order.
    fn on_record(&self, #[pyo3(from_py_with = is_ask)] is_ask: bool) -> Vec<i64> {
        self.0.on_record(is_ask)
    }

    /// Whether any level of that side is on record.
    fn touches(&self, #[pyo3(from_py_with = is_ask)] is_ask: bool) -> bool {
        self.0.touches(is_ask)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyConsumedLiquidity>()
}
