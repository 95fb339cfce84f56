//! A venue's static terms (`VenueSpec`) and what the router learned about it (`VenueStats`).

use pyo3::prelude::*;
use sor_core::VenueSpec;

use crate::convert::{flag, num, str_arg, unit};
use crate::errors::IntoPyResult;

/// A venue's static terms. Quantities are integer units of the router's size increment.
#[pyclass(name = "VenueSpec", module = "nautilus_sor._core", frozen, from_py_object)]
#[derive(Clone)]
pub struct PyVenueSpec(pub VenueSpec);

#[pymethods]
impl PyVenueSpec {
    #[new]
    #[pyo3(signature = (name, maker_fee, taker_fee, latency_ms=0.0, lot_size=1, min_qty=0, enabled=true))]
    fn new(
        name: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = num::maker_fee)] maker_fee: f64,
        #[pyo3(from_py_with = num::taker_fee)] taker_fee: f64,
        #[pyo3(from_py_with = num::latency_ms)] latency_ms: f64,
        #[pyo3(from_py_with = unit::lot_size)] lot_size: u64,
        #[pyo3(from_py_with = unit::min_qty)] min_qty: u64,
        #[pyo3(from_py_with = flag::enabled)] enabled: bool,
    ) -> PyResult<Self> {
        let name = str_arg("name", name)?;
        VenueSpec::new(&name, maker_fee, taker_fee, latency_ms, lot_size, min_qty, enabled)
            .py()
            .map(PyVenueSpec)
    }

    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    #[getter]
    fn maker_fee(&self) -> f64 {
        self.0.maker_fee
    }
    #[getter]
    fn taker_fee(&self) -> f64 {
        self.0.taker_fee
    }
    #[getter]
    fn latency_ms(&self) -> f64 {
        self.0.latency_ms
    }
    #[getter]
    fn lot_size(&self) -> u64 {
        self.0.lot_size
    }
    #[getter]
    fn min_qty(&self) -> u64 {
        self.0.min_qty
    }
    #[getter]
    fn enabled(&self) -> bool {
        self.0.enabled
    }

    fn __repr__(&self) -> String {
        let v = &self.0;
        format!(
            "VenueSpec(name={:?}, maker_fee={}, taker_fee={}, latency_ms={}, lot_size={}, min_qty={}, enabled={})",
            v.name,
            v.maker_fee,
            v.taker_fee,
            v.latency_ms,
            v.lot_size,
            v.min_qty,
            if v.enabled { "True" } else { "False" }
        )
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
    fn __repr__(&self) -> String {
        format!(
            "VenueStats(venue={:?}, fill_rate={:.4}, reject_rate={:.4}, latency_mean_ms={:.3}, latency_tail_ms={:.3}, slippage_bps={:.3}, orders={}, fills={}, rejects={}, acks={})",
            self.venue, self.fill_rate, self.reject_rate, self.latency_mean_ms, self.latency_tail_ms, self.slippage_bps, self.orders, self.fills, self.rejects, self.acks
        )
    }
}
