//! `RoutePlan`: one routed instrument's venues as the router's hot path needs them - each venue's
//! instrument id (the caller's own object, returned as is), its lot, minimum and size precision, and
//! which cache instrument object those terms came from - so that preparing a decision and answering it
//! are one call each instead of a Python loop over the venues.
//!
//! The rules stay where they are: the terms of a venue are computed by the Python callback `terms` (the
//! venue config's overrides, the instrument's increments, their errors), called only when the cache
//! hands a different instrument object; the books kept from deltas are the Python `DeltaFeed`'s, whose
//! dicts the plan reads (never writes).

use std::sync::Mutex;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyList, PySet, PyString, PyTuple, PyType};
use sor_core::{Side, SplitResult};

use super::results::quote;
use super::PyRouter;
use crate::convert::{opt_num, PySide};
use crate::errors::{invalid, IntoPyResult};
use crate::lock::lock_attached;

/// A venue's terms in units: (size precision, lot, minimum order).
type Terms = (u32, u64, u64);

struct PlanVenue {
    /// The venue's index in the router.
    index: usize,
    name: Py<PyString>,
    instrument_id: Py<PyAny>,
    /// The cache's instrument object the terms were computed from (None: not in the cache).
    source: Option<Py<PyAny>>,
    /// Without an instrument: the quantity precision the terms were computed from.
    none_precision: Option<u32>,
    terms: Option<Terms>,
    /// The feed's instrument id object last found equal to `instrument_id` (an `is` test next time).
    fed_as: Option<Py<PyAny>>,
    /// The last pair `split_quantities` returned for this venue, with its units: returned again for
    /// the same units (a Quantity and a tuple are immutable), so a steady hot loop allocates no pair.
    last_pair: Option<(u64, Py<PyTuple>)>,
}

/// What `prepare` found: whether the core's lots were (re)set, the venues whose book the caller must
/// load, and the venues with nothing on the side taken (bit i: venue i), when the plan could tell.
type Prepared = (bool, Vec<usize>, Option<u64>);

/// One routed instrument's per-venue terms and ids, for `SmartOrderRouter`'s decisions.
#[pyclass(name = "RoutePlan", module = "nautilus_sor._core", frozen)]
pub struct PyRoutePlan {
    router: Py<PyRouter>,
    venues: Mutex<Vec<PlanVenue>>,
    terms: Py<PyAny>,
    feed: FeedView,
    quantities: Quantities,
    exact: ExactTypes,
}

/// The argument types of a steady decision (`steady_split`): Nautilus's `OrderSide`, `Quantity` and
/// `Price` classes. An argument of any other type takes the caller's checked path.
struct ExactTypes {
    side: Py<PyType>,
    quantity: Py<PyType>,
    price: Py<PyType>,
}

/// The `DeltaFeed`'s state the plan reads (never writes): venue -> instrument kept from deltas, venues
/// whose core book was since replaced, venue -> sides its book shows.
struct FeedView {
    instrument: Py<PyDict>,
    displaced: Py<PySet>,
    sides: Py<PyDict>,
}

/// How the plan makes Nautilus quantities: `Quantity.from_raw`, `units_to_qty` (for its error when a
/// precision cannot hold the units) and Nautilus raw per router unit.
struct Quantities {
    from_raw: Py<PyAny>,
    to_qty: Py<PyAny>,
    raw_per_unit: u128,
}

impl Quantities {
    /// The `Quantity` of `units` at `precision` (the Python `units_to_qty`, whose error a quantity the
    /// precision cannot hold raises, when it is not exact).
    fn make<'py>(&self, py: Python<'py>, units: u64, precision: u32) -> PyResult<Bound<'py, PyAny>> {
        let step = 10u64.checked_pow(9u32.saturating_sub(precision)).unwrap_or(u64::MAX);
        if precision > 9 || units % step != 0 {
            return self.to_qty.bind(py).call1((units, precision));
        }
        let raw = u128::from(units) * self.raw_per_unit;
        match u64::try_from(raw) {
            Ok(raw) => self.from_raw.bind(py).call1((raw, precision)), // a small int converts faster
            Err(_) => self.from_raw.bind(py).call1((raw, precision)),
        }
    }
}

impl PyRoutePlan {
    /// The venue's book in the core is kept from deltas of this instrument and current (`displaced`:
    /// the feed has displaced venues).
    fn fed(&self, py: Python<'_>, v: &mut PlanVenue, displaced: bool) -> PyResult<bool> {
        let name = v.name.bind(py);
        let Some(held) = self.feed.instrument.bind(py).get_item(name)? else {
            return Ok(false);
        };
        let known = v.fed_as.as_ref().is_some_and(|f| f.is(&held));
        if !known {
            if !(held.is(v.instrument_id.bind(py)) || held.eq(v.instrument_id.bind(py))?) {
                return Ok(false);
            }
            v.fed_as = Some(held.unbind());
        }
        Ok(!(displaced && self.feed.displaced.bind(py).contains(name)?))
    }

    /// The venue's (instrument id, Quantity) pair for `units` (the last one again for the same units).
    fn pair<'py>(&self, py: Python<'py>, v: &mut PlanVenue, units: u64) -> PyResult<Bound<'py, PyTuple>> {
        if let Some((held, pair)) = &v.last_pair {
            if *held == units {
                return Ok(pair.bind(py).clone());
            }
        }
        let precision = v.terms.map_or(9, |t| t.0);
        let qty = self.quantities.make(py, units, precision)?;
        let pair = PyTuple::new(py, [v.instrument_id.bind(py).clone(), qty])?;
        v.last_pair = Some((units, pair.clone().unbind()));
        Ok(pair)
    }
}

#[pymethods]
impl PyRoutePlan {
    /// `venues`: the router's venue names, in its order; `instrument_ids`: each venue's instrument id.
    /// `terms(i, instrument or None, quantity precision) -> (size precision, lot, minimum)` in units;
    /// `fed`, `displaced`, `sides`: the `DeltaFeed`'s venue -> instrument, displaced venues and venue ->
    /// sides shown; `from_raw`: `Quantity.from_raw`; `to_qty`: `units_to_qty`; `raw_per_unit`: raw per unit;
    /// `exact_types`: Nautilus's (`OrderSide`, `Quantity`, `Price`) classes, for `steady_split`.
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        router: Py<PyRouter>,
        venues: Vec<Bound<'_, PyString>>,
        instrument_ids: Vec<Py<PyAny>>,
        terms: Py<PyAny>,
        fed: Py<PyDict>,
        displaced: Py<PySet>,
        sides: Py<PyDict>,
        from_raw: Py<PyAny>,
        to_qty: Py<PyAny>,
        raw_per_unit: u128,
        exact_types: (Py<PyType>, Py<PyType>, Py<PyType>),
    ) -> PyResult<Self> {
        if venues.len() != instrument_ids.len() {
            return Err(invalid(
                "instrument_ids",
                instrument_ids.len(),
                &format!("length must equal len(venues) = {}", venues.len()),
            ));
        }
        let core = router.get().lock(py);
        let venues = venues
            .into_iter()
            .zip(instrument_ids)
            .map(|(name, instrument_id)| {
                Ok(PlanVenue {
                    index: core.venue_index(&name.to_cow()?).py()?,
                    name: name.unbind(),
                    instrument_id,
                    source: None,
                    none_precision: None,
                    terms: None,
                    fed_as: None,
                    last_pair: None,
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        drop(core);
        Ok(PyRoutePlan {
            router,
            venues: Mutex::new(venues),
            terms,
            feed: FeedView {
                instrument: fed,
                displaced,
                sides,
            },
            quantities: Quantities {
                from_raw,
                to_qty,
                raw_per_unit,
            },
            exact: ExactTypes {
                side: exact_types.0,
                quantity: exact_types.1,
                price: exact_types.2,
            },
        })
    }

    /// Before a decision: re-reads each venue's terms when the cache (None: no cache) holds another
    /// instrument object for it (or, without one, for another `quantity_precision`), and sets every
    /// venue's lot in the core when a term changed or `force`. All terms are computed before any is
    /// kept, so an error leaves the plan and the core as they were.
    ///
    /// Returns (lots set, positions of the venues whose book the caller loads from the cache - none
    /// without a cache - and, when every venue's book is kept from deltas, the venues that show nothing
    /// on the side a `taking` order takes while another venue shows some, as bits; else None).
    fn prepare(
        &self,
        py: Python<'_>,
        cache: &Bound<'_, PyAny>,
        quantity_precision: u32,
        force: bool,
        taking: u8,
    ) -> PyResult<Prepared> {
        let mut venues = lock_attached(&self.venues, py);
        let mut fresh: Vec<(usize, Option<Bound<'_, PyAny>>, Terms)> = Vec::new();
        let mut to_load = Vec::new();
        let mut all_fed = true;
        let displaced = !self.feed.displaced.bind(py).is_empty();
        let lookup = instrument_lookup(cache)?;
        for (i, v) in venues.iter_mut().enumerate() {
            let (instrument, current) = cached_instrument(v, lookup.as_ref(), quantity_precision)?;
            if !current {
                let arg = instrument
                    .as_ref()
                    .map_or_else(|| py.None().into_bound(py), Bound::clone);
                let terms: Terms = self.terms.bind(py).call1((i, arg, quantity_precision))?.extract()?;
                fresh.push((i, instrument, terms));
            }
            let fed = self.fed(py, v, displaced)?;
            all_fed &= fed;
            if lookup.is_some() && !fed {
                to_load.push(i);
            }
        }
        let mut changed = force;
        for (i, instrument, terms) in fresh {
            let v = &mut venues[i];
            changed |= v.terms != Some(terms);
            v.none_precision = instrument.is_none().then_some(quantity_precision);
            v.source = instrument.map(Bound::unbind);
            if v.terms != Some(terms) {
                v.last_pair = None; // its quantity was at the old precision
            }
            v.terms = Some(terms);
        }
        if changed {
            let mut core = self.router.get().lock(py);
            for v in venues.iter() {
                let (_, lot, minimum) = v.terms.unwrap_or((0, 1, 0));
                core.set_lot(v.index, lot, minimum).py()?;
            }
        }
        let empty = if taking == 0 {
            Some(0)
        } else if all_fed {
            self.empty_sides(py, &venues, taking)?
        } else {
            None
        };
        Ok((changed, to_load, empty))
    }

    /// Each venue's size precision (-1 before the first `prepare`).
    #[getter]
    fn precisions(&self, py: Python<'_>) -> Vec<i64> {
        let venues = lock_attached(&self.venues, py);
        venues.iter().map(|v| v.terms.map_or(-1, |t| i64::from(t.0))).collect()
    }

    /// Each venue's instrument in the cache at the last `prepare` (None: not there).
    #[getter]
    fn instruments(&self, py: Python<'_>) -> Vec<Py<PyAny>> {
        let venues = lock_attached(&self.venues, py);
        venues
            .iter()
            .map(|v| v.source.as_ref().map_or_else(|| py.None(), |s| s.clone_ref(py)))
            .collect()
    }

    /// The router's split (`Router.split`, checked the same) as [(venue instrument id, Quantity)] in venue
    /// order, the quantities at each venue's size precision; with `quotes`, [(VenueQuote, venue instrument
    /// id, Quantity)] (what `SmartOrderRouter.route_order` builds its allocations from).
    #[pyo3(signature = (side, total_qty, max_venues, limit_price=None, quotes=false))]
    fn split<'py>(
        &self,
        py: Python<'py>,
        side: PySide,
        total_qty: &Bound<'py, PyAny>,
        max_venues: &Bound<'py, PyAny>,
        #[pyo3(from_py_with = opt_num::limit_price)] limit_price: Option<f64>,
        quotes: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let split: SplitResult = self
            .router
            .get()
            .split_checked(py, side, total_qty, max_venues, limit_price)?;
        let mut venues = lock_attached(&self.venues, py);
        self.items(py, &mut venues, &split, quotes)
    }

    /// A steady decision in one call: `split`'s answer when nothing needs the caller first - `side` an
    /// `OrderSide` BUY/SELL, `total_qty` a whole-unit `Quantity` of precision <= 9, `max_venues` an int
    /// >= 1, `limit_price` None or a positive `Price`; every venue's cache instrument the one its terms
    /// came from (no cache: the same quantity precision), every venue's book kept from deltas, and the
    /// venues with nothing on the side taken those of `empty_mask` (the router's current ones). None
    /// otherwise, with nothing changed: the caller takes its checked path (which raises an argument's
    /// error, loads books, sets lots and leaves out empty sides), then `split`s. The caller holds the
    /// router's lock and knows the core's lots are this plan's.
    #[pyo3(signature = (side, total_qty, max_venues, limit_price, cache, empty_mask, quotes=false))]
    #[allow(clippy::too_many_arguments)]
    fn steady_split<'py>(
        &self,
        py: Python<'py>,
        side: &Bound<'py, PyAny>,
        total_qty: &Bound<'py, PyAny>,
        max_venues: &Bound<'py, PyAny>,
        limit_price: &Bound<'py, PyAny>,
        cache: &Bound<'py, PyAny>,
        empty_mask: u64,
        quotes: bool,
    ) -> PyResult<Option<Bound<'py, PyList>>> {
        let Some(request) = self.exact_request(py, [side, total_qty, max_venues, limit_price])? else {
            return Ok(None);
        };
        let mut venues = lock_attached(&self.venues, py);
        if !self.steady(py, &mut venues, cache, request.precision)?
            || self.empty_sides(py, &venues, request.side_code())? != Some(empty_mask)
        {
            return Ok(None);
        }
        let split = self
            .router
            .get()
            .lock(py)
            .split(request.side, request.units, request.max_venues, request.limit)
            .py()?;
        self.items(py, &mut venues, &split, quotes).map(Some)
    }
}

/// `steady_split`'s (side, total_qty, max_venues, limit_price), as given.
type RequestArguments<'a, 'py> = [&'a Bound<'py, PyAny>; 4];

/// A decision's arguments, read from the exact types `steady_split` takes.
struct ExactRequest {
    side: Side,
    units: u64,
    precision: u32,
    max_venues: usize,
    limit: Option<f64>,
}

impl ExactRequest {
    /// The side's code, as `prepare`'s `taking` (1 buy, 2 sell).
    fn side_code(&self) -> u8 {
        match self.side {
            Side::Buy => 1,
            Side::Sell => 2,
        }
    }
}

impl PyRoutePlan {
    /// The arguments as the core takes them when each is of the exact type and in range; None otherwise
    /// (the checked path says what is wrong).
    fn exact_request(&self, py: Python<'_>, arguments: RequestArguments<'_, '_>) -> PyResult<Option<ExactRequest>> {
        let [side, total_qty, max_venues, limit_price] = arguments;
        let exact = &self.exact;
        if !side.get_type().is(exact.side.bind(py)) || !total_qty.get_type().is(exact.quantity.bind(py)) {
            return Ok(None);
        }
        let side = match side.extract::<i64>()? {
            1 => Side::Buy,
            2 => Side::Sell,
            _ => return Ok(None),
        };
        let Some(max_venues) = max_venues
            .cast_exact::<PyInt>()
            .ok()
            .and_then(|m| m.extract::<usize>().ok())
        else {
            return Ok(None);
        };
        let limit = if limit_price.is_none() {
            None
        } else if limit_price.get_type().is(exact.price.bind(py)) {
            let value: f64 = limit_price.call_method0(intern!(py, "as_double"))?.extract()?;
            if !(value > 0.0 && value.is_finite()) {
                return Ok(None);
            }
            Some(value)
        } else {
            return Ok(None);
        };
        let precision: u32 = total_qty.getattr(intern!(py, "precision"))?.extract()?;
        let raw: u128 = total_qty.getattr(intern!(py, "raw"))?.extract()?;
        let per_unit = self.quantities.raw_per_unit;
        let units = u64::try_from(raw / per_unit).unwrap_or(0);
        if max_venues == 0 || precision > 9 || raw % per_unit != 0 || units == 0 {
            return Ok(None);
        }
        Ok(Some(ExactRequest {
            side,
            units,
            precision,
            max_venues,
            limit,
        }))
    }

    /// Every venue's terms are current for `quantity_precision` (the cache hands the same instrument
    /// objects; without one, the same precision) and its book is kept from deltas: `prepare` would
    /// change nothing and load nothing. Reads only (the feed's `is` cache aside).
    fn steady(
        &self,
        py: Python<'_>,
        venues: &mut [PlanVenue],
        cache: &Bound<'_, PyAny>,
        quantity_precision: u32,
    ) -> PyResult<bool> {
        let displaced = !self.feed.displaced.bind(py).is_empty();
        let lookup = instrument_lookup(cache)?;
        for v in venues.iter_mut() {
            let (_, current) = cached_instrument(v, lookup.as_ref(), quantity_precision)?;
            if !current || !self.fed(py, v, displaced)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// `split`'s list for `split`: (instrument id, Quantity) pairs, with `quotes` (VenueQuote, id, Quantity).
    fn items<'py>(
        &self,
        py: Python<'py>,
        venues: &mut [PlanVenue],
        split: &SplitResult,
        quotes: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let router = self.router.get();
        let items = split
            .allocations
            .iter()
            .map(|a| {
                let pair = self.pair(py, venue_mut(venues, a.venue)?, a.qty)?;
                if !quotes {
                    return Ok(pair);
                }
                let quote = Bound::new(py, quote(py, &router.names, a))?.into_any();
                PyTuple::new(py, [quote, pair.get_item(0)?, pair.get_item(1)?])
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }
}

/// The cache's `instrument` method (None: no cache), looked up once per call.
fn instrument_lookup<'py>(cache: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    if cache.is_none() {
        return Ok(None);
    }
    cache.getattr(intern!(cache.py(), "instrument")).map(Some)
}

/// The venue's instrument in the cache now (None: no cache, or not in it), and whether the venue's terms
/// are current: computed from that same instrument object (without one, for `quantity_precision`).
fn cached_instrument<'py>(
    v: &PlanVenue,
    lookup: Option<&Bound<'py, PyAny>>,
    quantity_precision: u32,
) -> PyResult<(Option<Bound<'py, PyAny>>, bool)> {
    let instrument = match lookup {
        None => None,
        Some(lookup) => {
            let found = lookup.call1((v.instrument_id.bind(lookup.py()),))?;
            (!found.is_none()).then_some(found)
        }
    };
    let current = v.terms.is_some()
        && match (&instrument, &v.source) {
            (None, None) => v.none_precision == Some(quantity_precision),
            (Some(found), Some(held)) => found.is(held.bind(found.py())),
            _ => false,
        };
    Ok((instrument, current))
}

/// The plan's venue of router index `index`.
fn venue_mut(venues: &mut [PlanVenue], index: usize) -> PyResult<&mut PlanVenue> {
    venues
        .iter_mut()
        .find(|v| v.index == index)
        .ok_or_else(|| invalid("venue", index, "is not one of this plan's venues"))
}

impl PyRoutePlan {
    fn empty_sides(&self, py: Python<'_>, venues: &[PlanVenue], taking: u8) -> PyResult<Option<u64>> {
        if venues.len() > 64 {
            return Ok(None); // more venues than bits: the caller's rule decides
        }
        let bit = if taking == 1 { 2 } else { 1 };
        let sides = self.feed.sides.bind(py);
        let mut shows = Vec::with_capacity(venues.len());
        for v in venues {
            match sides.get_item(v.name.bind(py))? {
                Some(s) => shows.push(s.extract::<u8>()? & bit != 0),
                None => return Ok(None), // fed but no view yet: the caller's rule decides
            }
        }
        if !shows.iter().any(|&s| s) {
            return Ok(Some(0));
        }
        Ok(Some(
            shows
                .iter()
                .enumerate()
                .filter(|(_, &s)| !s)
                .fold(0, |m, (i, _)| m | (1 << i)),
        ))
    }
}
