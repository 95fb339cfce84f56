//! Python wrappers of the router: `Router` and its methods (this file), venue terms and statistics
//! (`venue`), decision results (`results`), and the router's argument conversions (`args`).

mod args;
mod plan;
mod results;
mod venue;

use numpy::ndarray::Array2;
use numpy::IntoPyArray;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use pyo3::prelude::*;
use pyo3::types::PyString;
use sor_core::{Ladder, Level, Router, RouterParams, SorError, SplitResult};

use crate::convert::{count, flag, int_arg, levels_arg, num, opt_num, py_repr, unit, units_arg, PyAggressor, PySide};
use crate::errors::{invalid, IntoPyResult};
use crate::lock::lock_attached;
use args::{batch_requests, ladder_side, venue_arg, BatchSelect, BatchSplit, Pairs, Requests};
use results::{Names, PyPassiveQuote, PyPassiveSelection, PySelection, PySplitResult, PyVenueQuote};
use venue::{PyVenueSpec, PyVenueStats};

/// Routing status codes returned by `Router.route_batch`, one per request.
pub const ROUTE_OK: i8 = 0;
pub const ROUTE_INSUFFICIENT_LIQUIDITY: i8 = 1;
pub const ROUTE_NO_ELIGIBLE_VENUE: i8 = 2;

/// Smart order router over a fixed set of venues.
///
/// Safe to share between threads: every call takes the router's lock for its duration (a batch call
/// holds it while it runs without the GIL), so a second caller waits for the first instead of failing.
/// The lock is uncontended in a single thread: a few nanoseconds a call (`docs/benchmarks.md`).
#[pyclass(name = "Router", module = "nautilus_sor._core", frozen)]
pub struct PyRouter {
    core: Mutex<Router>,
    /// Venue names as Python strings, made once: results share them instead of copying.
    names: Names,
}

impl PyRouter {
    /// The router, waiting (without the GIL) while another thread uses it. A panic while it was
    /// held is a bug, not a state to refuse: the router was never left half-changed by one (every
    /// mutation is checked before it starts), so the lock is taken over.
    pub(crate) fn lock(&self, py: Python<'_>) -> MutexGuard<'_, Router> {
        lock_attached(&self.core, py)
    }

    /// `f` on the router and the index of `venue` (its name), under the lock.
    fn on_venue<R>(
        &self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        f: impl FnOnce(&mut Router, usize) -> Result<R, SorError>,
    ) -> PyResult<R> {
        let mut core = self.lock(py);
        let i = venue_arg(&core, venue)?;
        f(&mut core, i).py()
    }

    /// `f` on `venue`'s learned statistics, under the lock.
    fn on_stats<R>(
        &self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        f: impl FnOnce(&mut sor_core::VenueStats) -> Result<R, SorError>,
    ) -> PyResult<R> {
        self.on_venue(py, venue, |core, i| f(core.stats_mut(i)?))
    }

    /// `f` on the router and a batch call's requests (its three arrays, checked up front), under the
    /// lock and without the GIL.
    fn on_batch<R: Send>(
        &self,
        py: Python<'_>,
        sides: &Bound<'_, PyAny>,
        quantities: &Bound<'_, PyAny>,
        limit_prices: &Bound<'_, PyAny>,
        f: impl FnOnce(&Router, &Requests) -> R + Send,
    ) -> PyResult<R> {
        let requests = batch_requests(sides, quantities, limit_prices)?;
        let core = self.lock(py);
        let router: &Router = &core;
        Ok(py.detach(|| f(router, &requests)))
    }

    /// The split of `split`'s arguments, checked as it checks them (`split`, `split_units` and
    /// `RoutePlan.split` share it).
    pub(crate) fn split_checked(
        &self,
        py: Python<'_>,
        side: PySide,
        total_qty: &Bound<'_, PyAny>,
        max_venues: &Bound<'_, PyAny>,
        limit_price: Option<f64>,
    ) -> PyResult<SplitResult> {
        let (total_qty, max_venues) = quantity_and_count("total_qty", total_qty, max_venues)?;
        self.lock(py).split(side.0, total_qty, max_venues, limit_price).py()
    }
}

/// A request's quantity (whole units, named `field`) and `max_venues`.
fn quantity_and_count(
    field: &str,
    quantity: &Bound<'_, PyAny>,
    max_venues: &Bound<'_, PyAny>,
) -> PyResult<(u64, usize)> {
    Ok((
        units_arg(field, quantity)?,
        count("max_venues", int_arg("max_venues", max_venues)?)?,
    ))
}

#[pymethods]
impl PyRouter {
    #[new]
    #[pyo3(signature = (venues, volatility=1e-4, latency_risk_weight=1.0, miss_cost_bps=5.0, ewma_alpha=0.05, slippage_weight=1.0, tape_tau_s=30.0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        venues: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = num::volatility)] volatility: f64,
        #[pyo3(from_py_with = num::latency_risk_weight)] latency_risk_weight: f64,
        #[pyo3(from_py_with = num::miss_cost_bps)] miss_cost_bps: f64,
        #[pyo3(from_py_with = num::ewma_alpha)] ewma_alpha: f64,
        #[pyo3(from_py_with = num::slippage_weight)] slippage_weight: f64,
        #[pyo3(from_py_with = num::tape_tau_s)] tape_tau_s: f64,
    ) -> PyResult<Self> {
        let params = RouterParams {
            volatility,
            latency_risk_weight,
            miss_cost_bps,
            ewma_alpha,
            slippage_weight,
            tape_tau_s,
        };
        // A bytes or str object iterates too: neither is a list of venues.
        let items = (!venues.is_instance_of::<PyString>() && !venues.is_instance_of::<pyo3::types::PyBytes>())
            .then(|| venues.try_iter().ok())
            .flatten()
            .ok_or_else(|| {
                let shown = py_repr(venues);
                invalid("venues", shown, "must be a list of VenueSpec")
            })?;
        let mut specs = Vec::new();
        for (i, item) in items.enumerate() {
            let item = item?;
            let spec = item.cast::<PyVenueSpec>().map_err(|_| {
                let shown = py_repr(&item);
                invalid(&format!("venues[{i}]"), shown, "must be a VenueSpec")
            })?;
            specs.push(spec.get().0.clone());
        }
        params.validate().py()?;
        let core = Router::new(specs, params).py()?;
        let names = core
            .venues()
            .iter()
            .map(|v| PyString::intern(py, &v.name).unbind())
            .collect::<Vec<_>>();
        let names = Arc::new(names);
        Ok(PyRouter {
            core: Mutex::new(core),
            names,
        })
    }

    #[getter]
    fn venue_names(&self, py: Python<'_>) -> Vec<String> {
        self.lock(py).venues().iter().map(|v| v.name.clone()).collect()
    }

    #[getter]
    fn venues(&self, py: Python<'_>) -> Vec<PyVenueSpec> {
        self.lock(py).venues().iter().cloned().map(PyVenueSpec).collect()
    }

    fn venue_index(&self, py: Python<'_>, venue: &Bound<'_, PyAny>) -> PyResult<usize> {
        venue_arg(&self.lock(py), venue)
    }

    /// Replaces a venue's book. Levels are (price, size in units), best first.
    fn set_book(
        &self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        bids: &Bound<'_, PyAny>,
        asks: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let (bids, asks) = (levels_arg("bids", bids)?, levels_arg("asks", asks)?);
        let ladder = Ladder::new(ladder_side("bids", bids)?, ladder_side("asks", asks)?).py()?;
        self.on_venue(py, venue, |core, i| core.set_book(i, Some(ladder)))
    }

    /// Forgets a venue's book (the venue then has no market data).
    fn clear_book(&self, py: Python<'_>, venue: &Bound<'_, PyAny>) -> PyResult<()> {
        self.on_venue(py, venue, |core, i| core.set_book(i, None))
    }

    /// Sets one level (size 0 removes it); refused, leaving the book as it was, if it would cross.
    /// On a venue without a book, a bad level is refused without creating one, and a delete is a
    /// no-op (it does not create an empty book, which would switch the router into book mode).
    fn update_level(
        &self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = flag::is_bid)] is_bid: bool,
        #[pyo3(from_py_with = num::price)] price: f64,
        #[pyo3(from_py_with = unit::size)] size: u64,
    ) -> PyResult<()> {
        self.on_venue(py, venue, |core, i| core.update_level(i, is_bid, price, size))
    }

    /// The venue's book as (bids, asks) lists of (price, size), or None.
    fn book(&self, py: Python<'_>, venue: &Bound<'_, PyAny>) -> PyResult<Option<(Pairs, Pairs)>> {
        let core = self.lock(py);
        let i = venue_arg(&core, venue)?;
        let pairs = |levels: &[Level]| levels.iter().map(|l| (l.price, l.size)).collect::<Vec<_>>();
        Ok(core.book(i).py()?.map(|b| (pairs(b.bids()), pairs(b.asks()))))
    }

    /// Sets a venue's lot size and minimum order, in units.
    fn set_lot(
        &self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = unit::lot_size)] lot_size: u64,
        #[pyo3(from_py_with = unit::min_qty)] min_qty: u64,
    ) -> PyResult<()> {
        self.on_venue(py, venue, |core, i| core.set_lot(i, lot_size, min_qty))
    }

    fn set_enabled(
        &self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = flag::enabled)] enabled: bool,
    ) -> PyResult<()> {
        self.on_venue(py, venue, |core, i| core.set_enabled(i, enabled))
    }

    #[pyo3(signature = (side, quantity, limit_price=None))]
    fn select_venue(
        &self,
        py: Python<'_>,
        side: PySide,
        quantity: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = opt_num::limit_price)] limit_price: Option<f64>,
    ) -> PyResult<PySelection> {
        let quantity = units_arg("quantity", quantity)?;
        let inner = self.lock(py).select_venue(side.0, quantity, limit_price).py()?;
        Ok(PySelection::new(inner, &self.names))
    }

    #[pyo3(signature = (side, total_qty, max_venues, limit_price=None))]
    fn split(
        &self,
        py: Python<'_>,
        side: PySide,
        total_qty: &Bound<'_, PyAny>,
        max_venues: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = opt_num::limit_price)] limit_price: Option<f64>,
    ) -> PyResult<PySplitResult> {
        let inner = self.split_checked(py, side, total_qty, max_venues, limit_price)?;
        Ok(PySplitResult {
            inner,
            names: Arc::clone(&self.names),
            allocations: OnceLock::new(),
        })
    }

    /// How much of a slice that is not a parent's last to route now, and over at most how many venues:
    /// (units to route now, max_venues to use); 0 units means carry it all. The sub-lot carry rule of
    /// the core (`route/rounding.rs`), shared by `SmartOrderRouter.lot_rounding` and `evaluate`.
    #[pyo3(signature = (side, quantity, max_venues, limit_price=None))]
    fn lot_rounding(
        &self,
        py: Python<'_>,
        side: PySide,
        quantity: &Bound<'_, PyAny>,
        max_venues: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = opt_num::limit_price)] limit_price: Option<f64>,
    ) -> PyResult<(u64, usize)> {
        let (quantity, max_venues) = quantity_and_count("quantity", quantity, max_venues)?;
        self.lock(py)
            .lot_rounding(side.0, quantity, max_venues, limit_price)
            .py()
    }

    /// The same split as `split`, as a list of (venue name, units) in venue order: no result or quote
    /// objects, for a caller that only sends the quantities (a hot loop).
    #[pyo3(signature = (side, total_qty, max_venues, limit_price=None))]
    fn split_units(
        &self,
        py: Python<'_>,
        side: PySide,
        total_qty: &Bound<'_, PyAny>,
        max_venues: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = opt_num::limit_price)] limit_price: Option<f64>,
    ) -> PyResult<Vec<(Py<PyString>, u64)>> {
        let inner = self.split_checked(py, side, total_qty, max_venues, limit_price)?;
        Ok(inner
            .allocations
            .iter()
            .map(|a| (self.names[a.venue].clone_ref(py), a.qty))
            .collect())
    }

    /// Splits many requests in one call, without the GIL. Returns (allocations[n, venues] in units,
    /// status[n]); a row that cannot be routed has zero allocations and a non-zero status.
    #[pyo3(signature = (sides, quantities, limit_prices, max_venues))]
    fn route_batch<'py>(
        &self,
        py: Python<'py>,
        sides: &Bound<'py, PyAny>,
        quantities: &Bound<'py, PyAny>,
        limit_prices: &Bound<'py, PyAny>,
        max_venues: &Bound<'py, PyAny>,
    ) -> PyResult<BatchSplit<'py>> {
        let max_venues = count("max_venues", int_arg("max_venues", max_venues)?)?;
        if max_venues == 0 {
            return Err(invalid("max_venues", 0, "must be at least 1"));
        }
        let (allocations, status) = self.on_batch(py, sides, quantities, limit_prices, |router, requests| {
            let n_venues = router.venues().len();
            let mut allocations = Array2::<u64>::zeros((requests.len(), n_venues));
            let mut status = vec![ROUTE_OK; requests.len()];
            for (row, &(side, qty, limit)) in requests.iter().enumerate() {
                match router.split(side, qty, max_venues, limit) {
                    Ok(split) => {
                        for a in &split.allocations {
                            allocations[[row, a.venue]] = a.qty;
                        }
                    }
                    Err(SorError::InsufficientLiquidity { .. }) => status[row] = ROUTE_INSUFFICIENT_LIQUIDITY,
                    Err(_) => status[row] = ROUTE_NO_ELIGIBLE_VENUE,
                }
            }
            (allocations, status)
        })?;
        Ok((allocations.into_pyarray(py), status.into_pyarray(py)))
    }

    /// Best venue for many requests in one call, without the GIL. Returns (venue index or -1,
    /// score in bps or NaN) per request.
    fn select_batch<'py>(
        &self,
        py: Python<'py>,
        sides: &Bound<'py, PyAny>,
        quantities: &Bound<'py, PyAny>,
        limit_prices: &Bound<'py, PyAny>,
    ) -> PyResult<BatchSelect<'py>> {
        let (venues, scores): (Vec<i64>, Vec<f64>) =
            self.on_batch(py, sides, quantities, limit_prices, |router, requests| {
                requests
                    .iter()
                    .map(|&(side, qty, limit)| match router.select_venue(side, qty, limit) {
                        Ok(sel) => (sel.best.venue as i64, sel.best.score_bps),
                        Err(_) => (-1, f64::NAN),
                    })
                    .unzip()
            })?;
        Ok((venues.into_pyarray(py), scores.into_pyarray(py)))
    }

    fn record_ack(
        &self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = num::latency_ms)] latency_ms: f64,
    ) -> PyResult<()> {
        self.on_stats(py, venue, |stats| stats.record_ack(latency_ms))
    }

    fn record_reject(&self, py: Python<'_>, venue: &Bound<'_, PyAny>) -> PyResult<()> {
        self.on_stats(py, venue, |stats| {
            stats.record_reject();
            Ok(())
        })
    }

    fn record_fill(
        &self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        side: PySide,
        #[pyo3(from_py_with = num::expected_price)] expected_price: f64,
        #[pyo3(from_py_with = num::fill_price)] fill_price: f64,
    ) -> PyResult<()> {
        let is_buy = side.0 == sor_core::Side::Buy;
        self.on_stats(py, venue, |stats| stats.record_fill(expected_price, fill_price, is_buy))
    }

    fn record_order_done(
        &self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = unit::filled)] filled: u64,
        #[pyo3(from_py_with = unit::ordered)] ordered: u64,
    ) -> PyResult<()> {
        self.on_stats(py, venue, |stats| stats.record_order_done(filled, ordered))
    }

    /// A trade on `venue`: `aggressor` BUY/SELL (or Nautilus `AggressorSide.BUYER` 1 / `SELLER` 2),
    /// `size` in units, `ts_ns` its time. Out-of-order trades are folded in exactly.
    fn record_trade(
        &self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        aggressor: PyAggressor,
        #[pyo3(from_py_with = unit::size)] size: u64,
        #[pyo3(from_py_with = unit::ts_ns)] ts_ns: u64,
    ) -> PyResult<()> {
        self.on_venue(py, venue, |core, i| core.record_trade(i, aggressor.0, size, ts_ns))
    }

    /// Units per second traded by `aggressor`s on `venue`, decayed to `now_ns`.
    fn tape_rate(
        &self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        aggressor: PyAggressor,
        #[pyo3(from_py_with = unit::now_ns)] now_ns: u64,
    ) -> PyResult<f64> {
        self.on_venue(py, venue, |core, i| core.tape_rate(i, aggressor.0, now_ns))
    }

    /// Forgets every venue's trade tape.
    fn clear_tapes(&self, py: Python<'_>) {
        self.lock(py).clear_tapes();
    }

    /// The venue where resting `quantity` units at the touch for about `horizon_s`, then crossing the
    /// rest, is expected to cost least at `now_ns` (the decayed tape gives the fill probability).
    fn select_passive(
        &self,
        py: Python<'_>,
        side: PySide,
        quantity: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = num::horizon_s)] horizon_s: f64,
        #[pyo3(from_py_with = unit::now_ns)] now_ns: u64,
    ) -> PyResult<PyPassiveSelection> {
        let quantity = units_arg("quantity", quantity)?;
        let inner = self.lock(py).select_passive(side.0, quantity, horizon_s, now_ns).py()?;
        Ok(PyPassiveSelection::new(inner, &self.names))
    }

    /// The price every score is measured against on the books held now: the consolidated mid of the
    /// enabled venues, else the touch a `side` order takes, else `limit_price` (checked as a split's);
    /// None without any.
    #[pyo3(signature = (side, limit_price=None))]
    fn reference_price(
        &self,
        py: Python<'_>,
        side: PySide,
        #[pyo3(from_py_with = opt_num::limit_price)] limit_price: Option<f64>,
    ) -> PyResult<Option<f64>> {
        sor_core::limits::check_limit("limit_price", limit_price).py()?;
        Ok(self.lock(py).reference_price(side.0, limit_price))
    }

    fn venue_stats(&self, py: Python<'_>, venue: &Bound<'_, PyAny>) -> PyResult<PyVenueStats> {
        let core = self.lock(py);
        let i = venue_arg(&core, venue)?;
        let s = core.stats(i).py()?;
        Ok(PyVenueStats {
            venue: core.venues()[i].name.clone(),
            fill_rate: s.fill_rate,
            reject_rate: s.reject_rate,
            latency_mean_ms: s.latency_mean_ms,
            latency_tail_ms: s.latency_tail_ms,
            latency_var_ms2: s.latency_var_ms2,
            slippage_bps: s.slippage_bps,
            fill_probability: s.completion_probability(),
            orders: s.orders,
            fills: s.fills,
            rejects: s.rejects,
            acks: s.acks,
        })
    }

    /// Puts a venue's learned statistics back (from `venue_stats` saved before a restart), exactly.
    #[pyo3(signature = (venue, *, fill_rate, reject_rate, latency_mean_ms, latency_var_ms2, slippage_bps, orders, fills, rejects, acks))]
    #[allow(clippy::too_many_arguments)]
    fn restore_venue_stats(
        &self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = num::fill_rate)] fill_rate: f64,
        #[pyo3(from_py_with = num::reject_rate)] reject_rate: f64,
        #[pyo3(from_py_with = num::latency_mean_ms)] latency_mean_ms: f64,
        #[pyo3(from_py_with = num::latency_var_ms2)] latency_var_ms2: f64,
        #[pyo3(from_py_with = num::slippage_bps)] slippage_bps: f64,
        #[pyo3(from_py_with = unit::orders)] orders: u64,
        #[pyo3(from_py_with = unit::fills)] fills: u64,
        #[pyo3(from_py_with = unit::rejects)] rejects: u64,
        #[pyo3(from_py_with = unit::acks)] acks: u64,
    ) -> PyResult<()> {
        let counts = [orders, fills, rejects, acks];
        self.on_stats(py, venue, |stats| {
            stats.restore(
                fill_rate,
                reject_rate,
                latency_mean_ms,
                latency_var_ms2,
                slippage_bps,
                counts,
            )
        })
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!("Router(venues={:?})", self.venue_names(py))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyVenueSpec>()?;
    m.add_class::<PyVenueStats>()?;
    m.add_class::<PyVenueQuote>()?;
    m.add_class::<PySelection>()?;
    m.add_class::<PySplitResult>()?;
    m.add_class::<PyPassiveQuote>()?;
    m.add_class::<PyPassiveSelection>()?;
    m.add_class::<PyRouter>()?;
    m.add_class::<plan::PyRoutePlan>()?;
    m.add("ROUTE_OK", ROUTE_OK)?;
    m.add("ROUTE_INSUFFICIENT_LIQUIDITY", ROUTE_INSUFFICIENT_LIQUIDITY)?;
    m.add("ROUTE_NO_ELIGIBLE_VENUE", ROUTE_NO_ELIGIBLE_VENUE)?;
    Ok(())
}
