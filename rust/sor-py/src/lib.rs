//! `nautilus_sor._core`: thin PyO3 bindings of `sor-core`. No logic lives here: wrap, convert,
//! map errors, and release the GIL on batch calls.

use pyo3::prelude::*;

mod convert;
mod errors;
mod router;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<router::PyVenueSpec>()?;
    m.add_class::<router::PyVenueStats>()?;
    m.add_class::<router::PyVenueQuote>()?;
    m.add_class::<router::PySelection>()?;
    m.add_class::<router::PySplitResult>()?;
    m.add_class::<router::PyRouter>()?;
    m.add("ROUTE_OK", router::ROUTE_OK)?;
    m.add("ROUTE_INSUFFICIENT_LIQUIDITY", router::ROUTE_INSUFFICIENT_LIQUIDITY)?;
    m.add("ROUTE_NO_ELIGIBLE_VENUE", router::ROUTE_NO_ELIGIBLE_VENUE)?;
    Ok(())
}
