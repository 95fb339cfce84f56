//! A venue's static terms (`VenueSpec`) and what the router learned about it (`VenueStats`).

use pyo3::prelude::*;
use sor_core::VenueSpec;

use crate::convert::{flag, num, text, unit};
use crate::errors::IntoPyResult;
use crate::methods::properties_repr;

/// A venue's static terms. Quantities are integer units of the router's size increment.
#[pyclass(name = "VenueSpec", module = "nautilus_sor._core", frozen, from_py_object)]
#[derive(Clone)]
pub struct PyVenueSpec(pub VenueSpec);

wrapper_pymethods! {
    PyVenueSpec.0 {
        field f64: maker_fee, taker_fee, latency_ms;
        field u64: lot_size, min_qty;
        field bool: enabled;
    }

    #[new]
    #[pyo3(signature = (name, maker_fee, taker_fee, latency_ms=0.0, lot_size=1, min_qty=0, enabled=true))]
    fn new(
        #[pyo3(from_py_with = text::name)] name: String,
        #[pyo3(from_py_with = num::maker_fee)] maker_fee: f64,
        #[pyo3(from_py_with = num::taker_fee)] taker_fee: f64,
        #[pyo3(from_py_with = num::latency_ms)] latency_ms: f64,
        #[pyo3(from_py_with = unit::lot_size)] lot_size: u64,
        #[pyo3(from_py_with = unit::min_qty)] min_qty: u64,
        #[pyo3(from_py_with = flag::enabled)] enabled: bool,
    ) -> PyResult<Self> {
        VenueSpec::new(&name, maker_fee, taker_fee, latency_ms, lot_size, min_qty, enabled)
            .py()
            .map(PyVenueSpec)
    }

    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        properties_repr(slf, "name maker_fee taker_fee latency_ms lot_size min_qty enabled")
    }
}

/// A snapshot of what the router learned about one venue.
#[pyclass(name = "VenueStats", module = "nautilus_sor._core", frozen, get_all)]
pub struct PyVenueStats {
    pub(super) venue: String,
    pub(super) fill_rate: f64,
    pub(super) reject_rate: f64,
    pub(super) latency_mean_ms: f64,
    pub(super) latency_tail_ms: f64,
    pub(super) latency_var_ms2: f64,
    pub(super) slippage_bps: f64,
    pub(super) fill_probability: f64,
    pub(super) orders: u64,
    pub(super) fills: u64,
    pub(super) rejects: u64,
    pub(super) acks: u64,
}

#[pymethods]
impl PyVenueStats {
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let shown =
            "venue fill_rate reject_rate latency_mean_ms latency_tail_ms slippage_bps orders fills rejects acks";
        properties_repr(slf, shown)
    }
}
