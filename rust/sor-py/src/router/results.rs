//! What the router's decisions return: quotes, selections and splits, with the venue names shared
//! from the router instead of copied.

use std::sync::{Arc, OnceLock};

use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

use crate::methods::properties_repr;

/// The expected cost of sending `qty` units to one venue, and its parts.
#[pyclass(name = "VenueQuote", module = "nautilus_sor._core", frozen)]
pub struct PyVenueQuote {
    #[pyo3(get)]
    venue: Py<PyString>,
    quote: sor_core::VenueQuote,
}

wrapper_pymethods! {
    PyVenueQuote.quote {
        field usize: venue_index = venue;
        field u64: qty;
        field Option<f64>: expected_price;
        field f64: fee, latency_cost, miss_cost, slippage_cost, score_bps, fill_probability;
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        properties_repr(slf, "venue qty expected_price fee latency_cost miss_cost slippage_cost score_bps")
    }
}

pub(super) fn quote(py: Python<'_>, names: &[Py<PyString>], q: &sor_core::VenueQuote) -> PyVenueQuote {
    let venue = names[q.venue].clone_ref(py);
    PyVenueQuote {
        venue,
        quote: q.clone(),
    }
}

/// Venue names as Python strings, made once per router and shared by its results.
pub(super) type Names = Arc<Vec<Py<PyString>>>;

/// A venue selection class (`Selection`, `PassiveSelection`): the core's result (`$inner`) with the
/// router's venue names; its `#[pymethods]` give the chosen venue's name, its quote (made by `$quote`
/// once, on the first read), every venue's quote or the reason it was not eligible, and the repr; then
/// the class's own methods, as written.
macro_rules! selection_class {
    ($(#[$doc:meta])* $class:ident($py_name:literal, $inner:ty), $quote:ident -> $quote_ty:ty, $($rest:tt)*) => {
        $(#[$doc])*
        #[pyclass(name = $py_name, module = "nautilus_sor._core", frozen)]
        pub struct $class {
            inner: $inner,
            names: Names,
            best: OnceLock<Py<$quote_ty>>,
        }

        impl $class {
            pub(super) fn new(inner: $inner, names: &Names) -> Self {
                $class {
                    inner,
                    names: Arc::clone(names),
                    best: OnceLock::new(),
                }
            }
        }

        #[pymethods]
        impl $class {
            #[getter]
            fn venue(&self, py: Python<'_>) -> Py<PyString> {
                self.names[self.inner.best.venue].clone_ref(py)
            }

            /// The chosen venue's quote (made once, on the first read).
            #[getter]
            fn best(&self, py: Python<'_>) -> PyResult<Py<$quote_ty>> {
                if let Some(best) = self.best.get() {
                    return Ok(best.clone_ref(py));
                }
                let best = Py::new(py, $quote(py, &self.names, &self.inner.best))?;
                Ok(self.best.get_or_init(|| best).clone_ref(py))
            }

            /// Per venue: (name, its quote or None, the reason it was not eligible or None).
            #[getter]
            fn candidates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
                let list = PyList::empty(py);
                for (name, candidate) in self.names.iter().zip(&self.inner.candidates) {
                    let (quote, reason) = match candidate {
                        Ok(q) => (Some(Py::new(py, $quote(py, &self.names, q))?), None),
                        Err(reason) => (None, Some(reason.as_str())),
                    };
                    list.append((name.clone_ref(py), quote, reason))?;
                }
                Ok(list)
            }

            fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
                properties_repr(slf, "venue best")
            }

            $($rest)*
        }
    };
}

selection_class! {
    /// The result of `Router.select_venue`. The explanation objects are built only when read.
    PySelection("Selection", sor_core::Selection), quote -> PyVenueQuote,

    #[getter]
    fn reference_price(&self) -> Option<f64> {
        self.inner.reference_price
    }
}

/// The result of `Router.split`: allocations that sum exactly to `total_qty`.
#[pyclass(name = "SplitResult", module = "nautilus_sor._core", frozen)]
pub struct PySplitResult {
    pub(super) inner: sor_core::SplitResult,
    pub(super) names: Names,
    pub(super) allocations: OnceLock<Py<PyList>>,
}

wrapper_pymethods! {
    PySplitResult.inner {
        field u64: total_qty;
        field Option<f64>: reference_price;
        field f64: score_bps;
    }

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
#[pyclass(name = "PassiveQuote", module = "nautilus_sor._core", frozen)]
pub struct PyPassiveQuote {
    #[pyo3(get)]
    venue: Py<PyString>,
    quote: sor_core::PassiveQuote,
}

wrapper_pymethods! {
    PyPassiveQuote.quote {
        field usize: venue_index = venue;
        field u64: qty, queue_ahead;
        field f64: expected_price, mid, reference_price, rate_against, fill_probability, half_spread_bps, fee_bps, latency_bps, score_bps;
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let shown = "venue qty expected_price queue_ahead rate_against fill_probability half_spread_bps fee_bps latency_bps score_bps";
        properties_repr(slf, shown)
    }
}

pub(super) fn passive_quote(py: Python<'_>, names: &[Py<PyString>], q: &sor_core::PassiveQuote) -> PyPassiveQuote {
    let venue = names[q.venue].clone_ref(py);
    PyPassiveQuote {
        venue,
        quote: q.clone(),
    }
}

selection_class! {
    /// The result of `Router.select_passive`: the venue to rest on, and how every venue fared.
    PyPassiveSelection("PassiveSelection", sor_core::PassiveSelection), passive_quote -> PyPassiveQuote,
}
