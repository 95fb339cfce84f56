//! `nautilus_sor._core`: thin PyO3 bindings of `sor-core`. No logic lives here: wrap, convert,
//! map errors, and release the GIL on batch calls. Each area registers its own classes.

use pyo3::prelude::*;
use pyo3::types::PyDict;

#[macro_use]
mod methods;

mod book_feed;
mod consumed;
mod convert;
mod errors;
mod lock;
mod position;
mod queue;
mod router;
mod schedule;
mod sim;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // Benchmarks print this so an editable debug build is never mistaken for published figures.
    m.add(
        "__build_profile__",
        if cfg!(debug_assertions) { "debug" } else { "release" },
    )?;
    // Set by build.rs: what `__build_profile__` alone does not say (a release build without LTO).
    m.add("__build_opt_level__", env!("SOR_BUILD_OPT_LEVEL"))?;
    m.add("__build_lto__", env!("SOR_BUILD_LTO"))?;
    router::register(m)?;
    schedule::register(m)?;
    position::register(m)?;
    queue::register(m)?;
    book_feed::register(m)?;
    sim::register(m)?;
    consumed::register(m)?;
    register_limits(m)?;
    Ok(())
}

/// The core's defaults and bounds, so that Python reads them instead of repeating them.
fn register_limits(m: &Bound<'_, PyModule>) -> PyResult<()> {
    use sor_core::limits;
    let py = m.py();
    let d = sor_core::RouterParams::default();
    let defaults = PyDict::new(py);
    defaults.set_item("volatility", d.volatility)?;
    defaults.set_item("latency_risk_weight", d.latency_risk_weight)?;
    defaults.set_item("miss_cost_bps", d.miss_cost_bps)?;
    defaults.set_item("ewma_alpha", d.ewma_alpha)?;
    defaults.set_item("slippage_weight", d.slippage_weight)?;
    defaults.set_item("tape_tau_s", d.tape_tau_s)?;
    // Read-only: a caller cannot change the defaults every other caller reads.
    let proxy = PyModule::import(py, "types")?
        .getattr("MappingProxyType")?
        .call1((defaults,))?;
    m.add("ROUTER_DEFAULTS", proxy)?;
    m.add("MAX_SLICES", sor_core::schedule::MAX_SLICES)?;
    m.add("MAX_DURATION_NS", sor_core::schedule::MAX_DURATION_NS)?;
    m.add("MAX_PRICE", limits::MAX_PRICE)?;
    m.add("MIN_PRICE", limits::MIN_PRICE)?;
    m.add("MAX_LATENCY_MS", limits::MAX_LATENCY_MS)?;
    m.add("MAX_SLIPPAGE_BPS", limits::MAX_SLIPPAGE_BPS)?;
    m.add("MAX_VOLATILITY", limits::MAX_VOLATILITY)?;
    m.add("MAX_WEIGHT", limits::MAX_WEIGHT)?;
    m.add("MAX_MISS_COST_BPS", limits::MAX_MISS_COST_BPS)?;
    m.add("MAX_FILL_UNITS", sor_core::position::MAX_FILL_UNITS)?;
    m.add("MAX_MONEY", sor_core::position::MAX_MONEY)?;
    Ok(())
}
