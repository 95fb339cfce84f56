//! Python wrappers of the position book: registration, single fills, numpy batch fills (without
//! the GIL), positions and exposure snapshots.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyString};
use sor_core::{Fill, InstrumentSpec, Position, PositionBook, SorError};
use std::sync::{Mutex, MutexGuard};

use crate::convert::{
    array, int, int_arg, num, oms_arg, opt_unit, py_repr, side_arg, side_of_code, text, unit, SIDE_CODE_REASON,
};
use crate::errors::{invalid, to_pyerr, IntoPyResult};
use crate::lock::lock_attached;
use crate::methods::properties_repr;

/// A snapshot of one position (for NETTING, its current cycle). Quantities are integer units
/// of the instrument's size increment.
#[pyclass(name = "Position", module = "nautilus_sor._core", frozen)]
pub struct PyPosition {
    pos: Position,
    #[pyo3(get)]
    venue: String,
    spec: InstrumentSpec,
}

wrapper_pymethods! {
    PyPosition.pos {
        field u64: id, event_count, closed_cycles;
        field u32: venue_id = venue, instrument_id = instrument;
        field i128: signed_units;
        field u128: peak_qty = peak_units, buy_qty = buy_units, sell_qty = sell_units;
        field f64: avg_px_open, avg_px_close, realized_pnl, realized_return, commissions, prior_realized_pnl;
        call u128: quantity = quantity_units;
        call f64: total_realized_pnl;
        call bool: is_open;
    }

    #[getter]
    fn instrument(&self) -> &str {
        &self.spec.name
    }
    #[getter]
    fn oms_type(&self) -> &'static str {
        self.pos.oms_type.as_str()
    }
    #[getter]
    fn side(&self) -> &'static str {
        self.pos.side().as_str()
    }
    #[getter]
    fn signed_qty(&self) -> f64 {
        self.pos.signed_qty(&self.spec)
    }
    #[getter]
    fn is_closed(&self) -> bool {
        !self.pos.is_open()
    }

    /// Unrealised PnL at `mark_price` (0 when flat), as Nautilus `Position.unrealized_pnl`.
    fn unrealized_pnl(&self, #[pyo3(from_py_with = num::mark_price)] mark_price: f64) -> PyResult<f64> {
        self.pos.unrealized_pnl(&self.spec, mark_price).py()
    }

    /// Realised PnL of this cycle plus unrealised PnL at `mark_price`, as Nautilus `total_pnl`.
    fn total_pnl(&self, #[pyo3(from_py_with = num::mark_price)] mark_price: f64) -> PyResult<f64> {
        Ok(self.pos.realized_pnl + self.pos.unrealized_pnl(&self.spec, mark_price).py()?)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        properties_repr(slf, "id venue instrument oms_type side signed_units avg_px_open avg_px_close realized_pnl event_count")
    }
}

/// Net exposure to one underlying across venues and OMS types, in underlying units.
#[pyclass(name = "Exposure", module = "nautilus_sor._core", frozen, get_all)]
pub struct PyExposure {
    underlying: String,
    net: f64,
    long: f64,
    short: f64,
    netting: f64,
    hedging: f64,
    by_venue: Py<PyDict>,
    open_positions: usize,
    realized_pnl: f64,
}

#[pymethods]
impl PyExposure {
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        properties_repr(
            slf,
            "underlying net long short netting hedging open_positions realized_pnl",
        )
    }
}

/// NETTING / HEDGING positions of many venues and instruments, with cross-venue exposure.
///
/// Safe to share between threads: every call takes the book's lock (a batch holds it while it runs
/// without the GIL), so a second caller waits instead of failing.
#[pyclass(name = "PositionBook", module = "nautilus_sor._core", frozen)]
pub struct PyPositionBook(Mutex<PositionBook>);

impl PyPositionBook {
    /// The book, waiting (without the GIL) while another thread uses it; see `PyRouter::lock`.
    fn lock(&self, py: Python<'_>) -> MutexGuard<'_, PositionBook> {
        lock_attached(&self.0, py)
    }

    /// `query` of the book for a (venue, instrument).
    fn pair_query<T>(
        &self,
        py: Python<'_>,
        venue: VenueKey,
        instrument: InstrumentKey,
        query: impl FnOnce(&PositionBook, u32, u32) -> Result<T, SorError>,
    ) -> PyResult<T> {
        let book = self.lock(py);
        let (v, i) = (book.venue_arg(venue)?, book.instrument_arg(instrument)?);
        query(&book, v, i).py()
    }
}

/// A venue or instrument argument before the book resolves it: an id (an int, not a bool) or a name.
enum IdOrName {
    /// The id, or the repr of an int no id can be.
    Id(Result<u32, String>),
    Name(String),
}

impl IdOrName {
    fn extract(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<Self> {
        if !ob.is_instance_of::<PyBool>() {
            if let Ok(i) = ob.cast::<PyInt>() {
                return Ok(IdOrName::Id(i.extract::<u32>().map_err(|_| py_repr(ob))));
            }
            if let Ok(Ok(name)) = ob.cast::<PyString>().map(|s| s.to_str()) {
                return Ok(IdOrName::Name(name.to_string()));
            }
        }
        Err(invalid(
            field,
            py_repr(ob),
            &format!("must be a {field} id (int) or name (str)"),
        ))
    }

    /// The registered id: `by_name` finds a name, `check` refuses an id not registered, and
    /// `unregistered` is the error of an int no id can be.
    fn resolve<T>(
        self,
        by_name: impl FnOnce(&str) -> Result<u32, SorError>,
        check: impl FnOnce(u32) -> Result<T, SorError>,
        unregistered: impl FnOnce(String) -> SorError,
    ) -> PyResult<u32> {
        match self {
            IdOrName::Name(name) => by_name(&name).py(),
            IdOrName::Id(Ok(id)) => check(id).py().map(|_| id),
            IdOrName::Id(Err(repr)) => Err(to_pyerr(unregistered(repr))),
        }
    }
}

/// A venue argument of the position book: its id or name.
struct VenueKey(IdOrName);

impl<'a, 'py> FromPyObject<'a, 'py> for VenueKey {
    type Error = PyErr;
    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        IdOrName::extract("venue", &ob).map(VenueKey)
    }
}

/// An instrument argument of the position book: its id or name.
struct InstrumentKey(IdOrName);

impl<'a, 'py> FromPyObject<'a, 'py> for InstrumentKey {
    type Error = PyErr;
    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        IdOrName::extract("instrument", &ob).map(InstrumentKey)
    }
}

trait BookArgs {
    fn venue_arg(&self, venue: VenueKey) -> PyResult<u32>;
    fn instrument_arg(&self, instrument: InstrumentKey) -> PyResult<u32>;
    fn snapshot(&self, pos: &Position) -> PyResult<PyPosition>;
}

impl BookArgs for PositionBook {
    fn venue_arg(&self, venue: VenueKey) -> PyResult<u32> {
        let unregistered = |value| SorError::unknown_venue("venue", value);
        venue
            .0
            .resolve(|name| self.venue_id(name), |id| self.venue_name(id), unregistered)
    }

    fn instrument_arg(&self, instrument: InstrumentKey) -> PyResult<u32> {
        let unregistered = |value| SorError::invalid("instrument", value, "instrument is not registered");
        let check = |id| PositionBook::instrument(self, id);
        instrument
            .0
            .resolve(|name| self.instrument_id(name), check, unregistered)
    }

    fn snapshot(&self, pos: &Position) -> PyResult<PyPosition> {
        Ok(PyPosition {
            pos: *pos,
            venue: self.venue_name(pos.venue).py()?.to_string(),
            spec: PositionBook::instrument(self, pos.instrument).py()?.clone(),
        })
    }
}

/// Converts one batch row's ids, naming the column and row on error.
#[allow(clippy::too_many_arguments)]
fn batch_fill(
    i: usize,
    venue: i64,
    instrument: i64,
    side: i8,
    quantity: u64,
    price: f64,
    commission: f64,
    position_id: i64,
) -> Result<Fill, SorError> {
    let venue = u32::try_from(venue).map_err(|_| SorError::unknown_venue(&format!("venue_ids[{i}]"), venue))?;
    let instrument = u32::try_from(instrument).map_err(|_| {
        SorError::invalid(
            &format!("instrument_ids[{i}]"),
            instrument,
            "instrument is not registered",
        )
    })?;
    let side = side_of_code(i64::from(side))
        .ok_or_else(|| SorError::invalid(&format!("sides[{i}]"), side, SIDE_CODE_REASON))?;
    let position_id = match position_id {
        -1 => None,
        id => Some(u64::try_from(id).map_err(|_| {
            SorError::invalid(
                &format!("position_ids[{i}]"),
                id,
                "must be a position id >= 0, or -1 for none",
            )
        })?),
    };
    Ok(Fill {
        venue,
        instrument,
        side,
        quantity,
        price,
        commission,
        position_id,
    })
}

#[pymethods]
impl PyPositionBook {
    #[new]
    fn new() -> Self {
        PyPositionBook(Mutex::new(PositionBook::new()))
    }

    /// Registers a venue with its OMS type; returns its id.
    fn add_venue(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = text::name)] name: String,
        oms_type: &Bound<'_, PyAny>,
    ) -> PyResult<u32> {
        let oms = oms_arg("oms_type", oms_type)?;
        self.lock(py).add_venue(&name, oms).py()
    }

    /// Registers an instrument (tradable on every venue) and its underlying; returns its id.
    #[pyo3(signature = (name, underlying, size_precision=0, multiplier=1.0, currency_precision=None))]
    fn add_instrument(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = text::name)] name: String,
        #[pyo3(from_py_with = text::underlying)] underlying: String,
        #[pyo3(from_py_with = int::size_precision)] size_precision: i128,
        #[pyo3(from_py_with = num::multiplier)] multiplier: f64,
        currency_precision: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u32> {
        let currency_precision = currency_precision
            .filter(|p| !p.is_none())
            .map(|p| int_arg("currency_precision", p))
            .transpose()?;
        let precision = |field: &str, value: i128| {
            u8::try_from(value).map_err(|_| invalid(field, value, "must be a whole number of decimals >= 0"))
        };
        let size_precision = precision("size_precision", size_precision)?;
        let currency_precision = currency_precision
            .map(|p| precision("currency_precision", p))
            .transpose()?;
        let spec = InstrumentSpec::new(&name, &underlying, size_precision, multiplier, currency_precision).py()?;
        self.lock(py).add_instrument(spec).py()
    }

    fn venue_id(&self, py: Python<'_>, #[pyo3(from_py_with = text::name)] name: String) -> PyResult<u32> {
        self.lock(py).venue_id(&name).py()
    }

    fn instrument_id(&self, py: Python<'_>, #[pyo3(from_py_with = text::name)] name: String) -> PyResult<u32> {
        self.lock(py).instrument_id(&name).py()
    }

    #[getter]
    fn venue_names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let book = self.lock(py);
        (0..book.venue_count() as u32)
            .map(|v| book.venue_name(v).map(str::to_string).py())
            .collect()
    }

    #[getter]
    fn instrument_names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let book = self.lock(py);
        (0..book.instrument_count() as u32)
            .map(|i| book.instrument(i).map(|s| s.name.clone()).py())
            .collect()
    }

    #[getter]
    fn position_count(&self, py: Python<'_>) -> usize {
        self.lock(py).position_count()
    }

    /// Books one fill; returns the id of the position now holding its quantity (for a flip, the
    /// position opened with the excess).
    #[pyo3(signature = (venue, instrument, side, quantity, price, commission=0.0, position_id=None))]
    #[allow(clippy::too_many_arguments)]
    fn apply_fill(
        &self,
        py: Python<'_>,
        venue: VenueKey,
        instrument: InstrumentKey,
        side: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = unit::quantity)] quantity: u64,
        #[pyo3(from_py_with = num::price)] price: f64,
        #[pyo3(from_py_with = num::commission)] commission: f64,
        #[pyo3(from_py_with = opt_unit::position_id)] position_id: Option<u64>,
    ) -> PyResult<u64> {
        let side = side_arg("side", side)?;
        let mut book = self.lock(py);
        let fill = Fill {
            venue: book.venue_arg(venue)?,
            instrument: book.instrument_arg(instrument)?,
            side,
            quantity,
            price,
            commission,
            position_id,
        };
        Ok(book.apply(&fill).py()?.resulting_id())
    }

    /// Books many fills without the GIL, all or none. Returns, per fill, the id of the position
    /// holding its quantity. `position_ids` uses -1 for "none"; sides are 1 (BUY) / 2 (SELL).
    #[pyo3(signature = (venue_ids, instrument_ids, sides, quantities, prices, commissions=None, position_ids=None))]
    #[allow(clippy::too_many_arguments)]
    fn apply_fills<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = array::venue_ids)] venue_ids: PyReadonlyArray1<'py, i64>,
        #[pyo3(from_py_with = array::instrument_ids)] instrument_ids: PyReadonlyArray1<'py, i64>,
        #[pyo3(from_py_with = array::sides)] sides: PyReadonlyArray1<'py, i8>,
        #[pyo3(from_py_with = array::quantities)] quantities: PyReadonlyArray1<'py, u64>,
        #[pyo3(from_py_with = array::prices)] prices: PyReadonlyArray1<'py, f64>,
        #[pyo3(from_py_with = array::opt_commissions)] commissions: Option<PyReadonlyArray1<'py, f64>>,
        #[pyo3(from_py_with = array::opt_position_ids)] position_ids: Option<PyReadonlyArray1<'py, i64>>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let venues = venue_ids.as_array();
        let instruments = instrument_ids.as_array();
        let sides = sides.as_array();
        let quantities = quantities.as_array();
        let prices = prices.as_array();
        let commissions = commissions.as_ref().map(|c| c.as_array());
        let position_ids = position_ids.as_ref().map(|p| p.as_array());
        let n = venues.len();
        let lengths = [
            ("instrument_ids", instruments.len()),
            ("sides", sides.len()),
            ("quantities", quantities.len()),
            ("prices", prices.len()),
            ("commissions", commissions.as_ref().map_or(n, |c| c.len())),
            ("position_ids", position_ids.as_ref().map_or(n, |p| p.len())),
        ];
        for (name, len) in lengths {
            if len != n {
                return Err(invalid(name, len, &format!("length must equal len(venue_ids) = {n}")));
            }
        }
        let mut guard = self.lock(py);
        let book: &mut PositionBook = &mut guard;
        let ids = py
            .detach(|| {
                let mut fills = Vec::with_capacity(n);
                for i in 0..n {
                    fills.push(batch_fill(
                        i,
                        venues[i],
                        instruments[i],
                        sides[i],
                        quantities[i],
                        prices[i],
                        commissions.as_ref().map_or(0.0, |c| c[i]),
                        position_ids.as_ref().map_or(-1, |p| p[i]),
                    )?);
                }
                let ids = book.apply_batch(&fills)?;
                Ok::<Vec<i64>, SorError>(ids.into_iter().map(|id| id as i64).collect())
            })
            .py()?;
        Ok(ids.into_pyarray(py))
    }

    /// A snapshot of a position by id.
    fn position(&self, py: Python<'_>, position_id: &Bound<'_, PyAny>) -> PyResult<PyPosition> {
        let raw = int_arg("position_id", position_id)?;
        let id = u64::try_from(raw).map_err(|_| invalid("position_id", raw, "no such position"))?;
        let book = self.lock(py);
        let pos = book.position(id).py()?;
        book.snapshot(pos)
    }

    /// Ids of the open positions of a (venue, instrument), in no particular order.
    fn open_position_ids(&self, py: Python<'_>, venue: VenueKey, instrument: InstrumentKey) -> PyResult<Vec<u64>> {
        self.pair_query(py, venue, instrument, |book, v, i| {
            book.open_positions(v, i).map(<[u64]>::to_vec)
        })
    }

    /// The net position id of a NETTING (venue, instrument), or None before its first fill.
    fn netting_position_id(&self, py: Python<'_>, venue: VenueKey, instrument: InstrumentKey) -> PyResult<Option<u64>> {
        self.pair_query(py, venue, instrument, |book, v, i| book.netting_position(v, i))
    }

    /// Net signed units of a (venue, instrument) over all its positions.
    fn net_units(&self, py: Python<'_>, venue: VenueKey, instrument: InstrumentKey) -> PyResult<i128> {
        self.pair_query(py, venue, instrument, |book, v, i| book.net_units(v, i))
    }

    /// Realised PnL of every position and cycle of a (venue, instrument).
    fn realized_pnl(&self, py: Python<'_>, venue: VenueKey, instrument: InstrumentKey) -> PyResult<f64> {
        self.pair_query(py, venue, instrument, |book, v, i| book.realized_pnl(v, i))
    }

    /// Unrealised PnL of the open positions of a (venue, instrument) at `mark_price`.
    fn unrealized_pnl(
        &self,
        py: Python<'_>,
        venue: VenueKey,
        instrument: InstrumentKey,
        #[pyo3(from_py_with = num::mark_price)] mark_price: f64,
    ) -> PyResult<f64> {
        self.pair_query(py, venue, instrument, |book, v, i| {
            book.pair_unrealized_pnl(v, i, mark_price)
        })
    }

    /// Net quantity of an underlying across venues and OMS types (quantity x multiplier).
    fn net_exposure(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = text::underlying)] underlying: String,
    ) -> PyResult<f64> {
        self.lock(py).net_exposure(&underlying).py()
    }

    /// The breakdown of an underlying's exposure (net, gross long/short, by OMS type and venue).
    fn exposure(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = text::underlying)] underlying: String,
    ) -> PyResult<PyExposure> {
        let book = self.lock(py);
        let e = book.exposure(&underlying).py()?;
        let by_venue = PyDict::new(py);
        for (v, net) in e.by_venue.iter().enumerate() {
            by_venue.set_item(book.venue_name(v as u32).py()?, net)?;
        }
        Ok(PyExposure {
            underlying: e.underlying,
            net: e.net,
            long: e.long,
            short: e.short,
            netting: e.netting,
            hedging: e.hedging,
            by_venue: by_venue.unbind(),
            open_positions: e.open_positions,
            realized_pnl: e.realized_pnl,
        })
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let book = self.lock(py);
        format!(
            "PositionBook(venues={}, instruments={}, positions={})",
            book.venue_count(),
            book.instrument_count(),
            book.position_count()
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPosition>()?;
    m.add_class::<PyExposure>()?;
    m.add_class::<PyPositionBook>()?;
    Ok(())
}
