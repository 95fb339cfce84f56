//! The one mapping from core errors to the Python exception hierarchy in `nautilus_sor.exceptions`.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};
use sor_core::SorError;

static EXCEPTIONS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn exceptions(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    EXCEPTIONS
        .get_or_try_init(py, || {
            PyModule::import(py, "nautilus_sor.exceptions").map(Bound::unbind)
        })
        .map(|m| m.bind(py))
}

fn build(py: Python<'_>, err: &SorError) -> PyResult<PyErr> {
    let module = exceptions(py)?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("field", err.field())?;
    kwargs.set_item("value", err.value())?;
    let class = match err {
        SorError::InvalidInput { .. } => "ValidationError",
        SorError::UnknownVenue { .. } => "UnknownVenueError",
        SorError::NoEligibleVenue { .. } => "NoEligibleVenueError",
        SorError::InsufficientLiquidity {
            requested,
            available,
            shortfall,
            limit_price,
            ..
        } => {
            kwargs.set_item("requested", requested)?;
            kwargs.set_item("available", available)?;
            kwargs.set_item("shortfall", shortfall)?;
            kwargs.set_item("limit_price", limit_price)?;
            "InsufficientLiquidityError"
        }
    };
    let instance = module.getattr(class)?.call((err.to_string(),), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}

/// Converts a core error into the matching `NautilusSorError` subclass.
pub fn to_pyerr(err: SorError) -> PyErr {
    Python::attach(|py| build(py, &err).unwrap_or_else(|e| e))
}

/// `?`-friendly conversion of core results.
pub trait IntoPyResult<T> {
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, SorError> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_pyerr)
    }
}

/// A validation error raised from the bindings themselves (argument conversion).
pub fn invalid(field: &str, value: impl std::fmt::Display, reason: &str) -> PyErr {
    to_pyerr(SorError::invalid(field, value, reason))
}
