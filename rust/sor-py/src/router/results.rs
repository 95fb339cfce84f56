//! What the router's decisions return: quotes, selections and splits, with the venue names shared
//! from the router instead of copied.

use std::sync::{Arc, OnceLock};

use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

/// The expected cost of sending `qty` units to one venue, and its parts.
#[pyclass(name = "VenueQuote", module = "nautilus_sor._core", frozen, get_all)]
pub struct PyVenueQuote {
    pub(super) venue: Py<PyString>,
    pub(super) venue_index: usize,
    pub(super) qty: u64,
    pub(super) expected_price: Option<f64>,
    pub(super) fee: f64,
    pub(super) latency_cost: f64,
    pub(super) miss_cost: f64,
    pub(super) slippage_cost: f64,
    pub(super) score_bps: f64,
    pub(super) fill_probability: f64,
}

#[pymethods]
impl PyVenueQuote {
    fn __repr__(&self) -> String {
        format!(
            "VenueQuote(venue={:?}, qty={}, expected_price={:?}, fee={:.6}, latency_cost={:.6}, miss_cost={:.6}, slippage_cost={:.6}, score_bps={:.4})",
            self.venue, self.qty, self.expected_price, self.fee, self.latency_cost, self.miss_cost, self.slippage_cost, self.score_bps
        )
    }
}

pub(super) fn quote(py: Python<'_>, names: &[Py<PyString>], q: &sor_core::VenueQuote) -> PyVenueQuote {
    PyVenueQuote {
        venue: names[q.venue].clone_ref(py),
        venue_index: q.venue,
        qty: q.qty,
        expected_price: q.expected_price,
        fee: q.fee,
        latency_cost: q.latency_cost,
        miss_cost: q.miss_cost,
        slippage_cost: q.slippage_cost,
        score_bps: q.score_bps,
        fill_probability: q.fill_probability,
    }
}

/// Venue names as Python strings, made once per router and shared by its results.
pub(super) type Names = Arc<Vec<Py<PyString>>>;

/// The result of `Router.select_venue`. The explanation objects are built only when read.
#[pyclass(name = "Selection", module = "nautilus_sor._core", frozen)]
pub struct PySelection {
    pub(super) inner: sor_core::Selection,
    pub(super) names: Names,
    pub(super) best: OnceLock<Py<PyVenueQuote>>,
}

#[pymethods]
impl PySelection {
    #[getter]
    fn venue(&self, py: Python<'_>) -> Py<PyString> {
        self.names[self.inner.best.venue].clone_ref(py)
    }

    #[getter]
    fn best(&self, py: Python<'_>) -> PyResult<Py<PyVenueQuote>> {
        if let Some(best) = self.best.get() {
            return Ok(best.clone_ref(py));
        }
        let best = Py::new(py, quote(py, &self.names, &self.inner.best))?;
        Ok(self.best.get_or_init(|| best).clone_ref(py))
    }

    #[getter]
    fn reference_price(&self) -> Option<f64> {
        self.inner.reference_price
    }

    /// Per venue: (name, its quote or None, the reason it was not eligible or None).
    #[getter]
    fn candidates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for (i, c) in self.inner.candidates.iter().enumerate() {
            let name = self.names[i].clone_ref(py);
            match c {
                Ok(q) => list.append((name, Some(Py::new(py, quote(py, &self.names, q))?), None::<&str>))?,
                Err(reason) => list.append((name, None::<Py<PyVenueQuote>>, Some(reason.as_str())))?,
            }
        }
        Ok(list)
    }

    fn __repr__(&self) -> String {
        let b = &self.inner.best;
        format!(
            "Selection(venue={}, qty={}, score_bps={:.4})",
            self.names[b.venue], b.qty, b.score_bps
        )
    }
}

/// The result of `Router.split`: allocations that sum exactly to `total_qty`.
#[pyclass(name = "SplitResult", module = "nautilus_sor._core", frozen)]
pub struct PySplitResult {
    pub(super) inner: sor_core::SplitResult,
    pub(super) names: Names,
    pub(super) allocations: OnceLock<Py<PyList>>,
}

#[pymethods]
impl PySplitResult {
    /// One `VenueQuote` per venue that gets a non-zero quantity, in venue order.
    #[getter]
    fn allocations(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        if let Some(list) = self.allocations.get() {
            return Ok(list.clone_ref(py));
        }
        let list = PyList::empty(py);
        for a in &self.inner.allocations {
            list.append(Py::new(py, quote(py, &self.names, a))?)?;
        }
        Ok(self.allocations.get_or_init(|| list.unbind()).clone_ref(py))
    }

    #[getter]
    fn total_qty(&self) -> u64 {
        self.inner.total_qty
    }

    #[getter]
    fn reference_price(&self) -> Option<f64> {
        self.inner.reference_price
    }

    #[getter]
    fn score_bps(&self) -> f64 {
        self.inner.score_bps
    }

    /// 0 when the split is proven optimal; else at most how much cheaper (bps) an allocation could be.
    #[getter]
    fn optimality_gap_bps(&self) -> f64 {
        self.inner.optimality_gap_bps
    }

    fn __len__(&self) -> usize {
        self.inner.allocations.len()
    }

    fn __repr__(&self) -> String {
        let parts: Vec<String> = self
            .inner
            .allocations
            .iter()
            .map(|a| format!("{}={}", self.names[a.venue], a.qty))
            .collect();
        format!(
            "SplitResult(total_qty={}, score_bps={:.4}, [{}])",
            self.inner.total_qty,
            self.inner.score_bps,
            parts.join(", ")
        )
    }
}

/// The expected cost of resting `qty` units at one venue's touch (`Router.select_passive`).
#[pyclass(name = "PassiveQuote", module = "nautilus_sor._core", frozen, get_all)]
pub struct PyPassiveQuote {
    pub(super) venue: Py<PyString>,
    pub(super) venue_index: usize,
    pub(super) qty: u64,
    pub(super) expected_price: f64,
    pub(super) mid: f64,
    pub(super) queue_ahead: u64,
    pub(super) rate_against: f64,
    pub(super) fill_probability: f64,
    pub(super) half_spread_bps: f64,
    pub(super) fee_bps: f64,
    pub(super) latency_bps: f64,
    pub(super) score_bps: f64,
}

#[pymethods]
impl PyPassiveQuote {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "PassiveQuote(venue={:?}, qty={}, expected_price={}, queue_ahead={}, rate_against={:.6}, fill_probability={:.4}, half_spread_bps={:.4}, fee_bps={:.4}, latency_bps={:.4}, score_bps={:.4})",
            self.venue.bind(py).to_string(), self.qty, self.expected_price, self.queue_ahead, self.rate_against, self.fill_probability, self.half_spread_bps, self.fee_bps, self.latency_bps, self.score_bps
        )
    }
}

pub(super) fn passive_quote(py: Python<'_>, names: &[Py<PyString>], q: &sor_core::PassiveQuote) -> PyPassiveQuote {
    PyPassiveQuote {
        venue: names[q.venue].clone_ref(py),
        venue_index: q.venue,
        qty: q.qty,
        expected_price: q.expected_price,
        mid: q.mid,
        queue_ahead: q.queue_ahead,
        rate_against: q.rate_against,
        fill_probability: q.fill_probability,
        half_spread_bps: q.half_spread_bps,
        fee_bps: q.fee_bps,
        latency_bps: q.latency_bps,
        score_bps: q.score_bps,
    }
}

/// The result of `Router.select_passive`: the venue to rest on, and how every venue fared.
#[pyclass(name = "PassiveSelection", module = "nautilus_sor._core", frozen)]
pub struct PyPassiveSelection {
    pub(super) inner: sor_core::PassiveSelection,
    pub(super) names: Names,
}

#[pymethods]
impl PyPassiveSelection {
    #[getter]
    fn venue(&self, py: Python<'_>) -> Py<PyString> {
        self.names[self.inner.best.venue].clone_ref(py)
    }

    #[getter]
    fn best(&self, py: Python<'_>) -> PyPassiveQuote {
        passive_quote(py, &self.names, &self.inner.best)
    }

    /// Per venue: (name, its quote or None, the reason it was not eligible or None).
    #[getter]
    fn candidates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for (i, c) in self.inner.candidates.iter().enumerate() {
            let name = self.names[i].clone_ref(py);
            match c {
                Ok(q) => list.append((
                    name,
                    Some(Py::new(py, passive_quote(py, &self.names, q))?),
                    None::<&str>,
                ))?,
                Err(reason) => list.append((name, None::<Py<PyPassiveQuote>>, Some(reason.as_str())))?,
            }
        }
        Ok(list)
    }

    fn __repr__(&self) -> String {
        let b = &self.inner.best;
        format!(
            "PassiveSelection(venue={}, qty={}, fill_probability={:.4}, score_bps={:.4})",
            self.names[b.venue], b.qty, b.fill_probability, b.score_bps
        )
    }
}
