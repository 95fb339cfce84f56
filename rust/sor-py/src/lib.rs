//! `nautilus_sor._core`: thin PyO3 bindings of `sor-core`. No logic lives here: wrap, convert,
//! map errors, and release the GIL on batch calls. Each area registers its own classes.

use pyo3::prelude::*;

mod convert;
mod errors;
mod position;
mod queue;
mod router;
mod schedule;

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
    Ok(())
}
