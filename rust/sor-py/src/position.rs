//! Python wrappers of the position book: registration, single fills, numpy batch fills (without
//! the GIL), positions and exposure snapshots.

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyInt, PyString};
use sor_core::{Fill, InstrumentSpec, OmsType, Position, PositionBook, Side, SorError};

use crate::convert::array_arg;
use crate::errors::{invalid, IntoPyResult};

fn repr(ob: &Bound<'_, PyAny>) -> String {
    ob.repr().map(|r| r.to_string()).unwrap_or_default()
}

/// An order side: Nautilus `OrderSide` (an int: BUY = 1, SELL = 2), 1/2, or "BUY"/"SELL".
/// Ints are tried first: it is the fast path of `apply_fill`.
fn side_arg(ob: &Bound<'_, PyAny>) -> PyResult<Side> {
    if let Ok(i) = ob.cast::<PyInt>() {
        return match i.extract::<i64>() {
            Ok(1) => Ok(Side::Buy),
            Ok(2) => Ok(Side::Sell),
            _ => Err(invalid(
                "side",
                repr(ob),
                "must be OrderSide.BUY (1) or OrderSide.SELL (2)",
            )),
        };
    }
    if let Ok(s) = ob.cast::<PyString>() {
        return match s.to_str()?.to_ascii_uppercase().as_str() {
            "BUY" => Ok(Side::Buy),
            "SELL" => Ok(Side::Sell),
            _ => Err(invalid("side", repr(ob), "must be BUY or SELL")),
        };
    }
    Err(invalid(
        "side",
        repr(ob),
        "must be OrderSide.BUY/SELL, 1/2 or \"BUY\"/\"SELL\"",
    ))
}

/// An OMS type: Nautilus `OmsType` (NETTING = 1, HEDGING = 2), or "NETTING"/"HEDGING".
fn oms_arg(ob: &Bound<'_, PyAny>) -> PyResult<OmsType> {
    if let Ok(i) = ob.cast::<PyInt>() {
        return match i.extract::<i64>() {
            Ok(1) => Ok(OmsType::Netting),
            Ok(2) => Ok(OmsType::Hedging),
            _ => Err(invalid(
                "oms_type",
                repr(ob),
                "must be OmsType.NETTING (1) or OmsType.HEDGING (2)",
            )),
        };
    }
    if let Ok(s) = ob.cast::<PyString>() {
        return match s.to_str()?.to_ascii_uppercase().as_str() {
            "NETTING" => Ok(OmsType::Netting),
            "HEDGING" => Ok(OmsType::Hedging),
            _ => Err(invalid("oms_type", repr(ob), "must be NETTING or HEDGING")),
        };
    }
    Err(invalid(
        "oms_type",
        repr(ob),
        "must be OmsType.NETTING/HEDGING or \"NETTING\"/\"HEDGING\"",
    ))
}

/// A snapshot of one position (for NETTING, its current cycle). Quantities are integer units
/// of the instrument's size increment.
#[pyclass(name = "Position", module = "nautilus_sor._core", frozen)]
pub struct PyPosition {
    pos: Position,
    venue: String,
    spec: InstrumentSpec,
}

#[pymethods]
impl PyPosition {
    #[getter]
    fn id(&self) -> u64 {
        self.pos.id
    }
    #[getter]
    fn venue(&self) -> &str {
        &self.venue
    }
    #[getter]
    fn venue_id(&self) -> u32 {
        self.pos.venue
    }
    #[getter]
    fn instrument(&self) -> &str {
        &self.spec.name
    }
    #[getter]
    fn instrument_id(&self) -> u32 {
        self.pos.instrument
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
    fn quantity(&self) -> u128 {
        self.pos.quantity_units()
    }
    #[getter]
    fn signed_units(&self) -> i128 {
        self.pos.signed_units
    }
    #[getter]
    fn signed_qty(&self) -> f64 {
        self.pos.signed_qty(&self.spec)
    }
    #[getter]
    fn peak_qty(&self) -> u128 {
        self.pos.peak_units
    }
    #[getter]
    fn buy_qty(&self) -> u128 {
        self.pos.buy_units
    }
    #[getter]
    fn sell_qty(&self) -> u128 {
        self.pos.sell_units
    }
    #[getter]
    fn avg_px_open(&self) -> f64 {
        self.pos.avg_px_open
    }
    #[getter]
    fn avg_px_close(&self) -> f64 {
        self.pos.avg_px_close
    }
    #[getter]
    fn realized_pnl(&self) -> f64 {
        self.pos.realized_pnl
    }
    #[getter]
    fn realized_return(&self) -> f64 {
        self.pos.realized_return
    }
    #[getter]
    fn commissions(&self) -> f64 {
        self.pos.commissions
    }
    #[getter]
    fn event_count(&self) -> u64 {
        self.pos.event_count
    }
    #[getter]
    fn prior_realized_pnl(&self) -> f64 {
        self.pos.prior_realized_pnl
    }
    #[getter]
    fn total_realized_pnl(&self) -> f64 {
        self.pos.total_realized_pnl()
    }
    #[getter]
    fn closed_cycles(&self) -> u64 {
        self.pos.closed_cycles
    }
    #[getter]
    fn is_open(&self) -> bool {
        self.pos.is_open()
    }
    #[getter]
    fn is_closed(&self) -> bool {
        !self.pos.is_open()
    }

    /// Unrealised PnL at `price` (0 when flat), as Nautilus `Position.unrealized_pnl`.
    fn unrealized_pnl(&self, price: f64) -> PyResult<f64> {
        self.pos.unrealized_pnl(&self.spec, price).py()
    }

    /// Realised PnL of this cycle plus unrealised PnL at `price`, as Nautilus `total_pnl`.
    fn total_pnl(&self, price: f64) -> PyResult<f64> {
        Ok(self.pos.realized_pnl + self.pos.unrealized_pnl(&self.spec, price).py()?)
    }

    fn __repr__(&self) -> String {
        let p = &self.pos;
        format!(
            "Position(id={}, venue={:?}, instrument={:?}, oms_type={}, side={}, signed_units={}, avg_px_open={}, avg_px_close={}, realized_pnl={}, event_count={})",
            p.id,
            self.venue,
            self.spec.name,
            p.oms_type.as_str(),
            p.side().as_str(),
            p.signed_units,
            p.avg_px_open,
            p.avg_px_close,
            p.realized_pnl,
            p.event_count
        )
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
    fn __repr__(&self) -> String {
        format!(
            "Exposure(underlying={:?}, net={}, long={}, short={}, netting={}, hedging={}, open_positions={}, realized_pnl={})",
            self.underlying, self.net, self.long, self.short, self.netting, self.hedging, self.open_positions, self.realized_pnl
        )
    }
}

/// NETTING / HEDGING positions of many venues and instruments, with cross-venue exposure.
#[pyclass(name = "PositionBook", module = "nautilus_sor._core")]
pub struct PyPositionBook(pub PositionBook);

impl PyPositionBook {
    fn venue(&self, ob: &Bound<'_, PyAny>) -> PyResult<u32> {
        if let Ok(i) = ob.cast::<PyInt>() {
            let id = i
                .extract::<u32>()
                .map_err(|_| crate::errors::to_pyerr(SorError::unknown_venue("venue", repr(ob))))?;
            self.0.venue_name(id).py()?;
            return Ok(id);
        }
        if let Ok(s) = ob.cast::<PyString>() {
            return self.0.venue_id(s.to_str()?).py();
        }
        Err(invalid("venue", repr(ob), "must be a venue id (int) or name (str)"))
    }

    fn instrument(&self, ob: &Bound<'_, PyAny>) -> PyResult<u32> {
        if let Ok(i) = ob.cast::<PyInt>() {
            let id = i
                .extract::<u32>()
                .map_err(|_| invalid("instrument", repr(ob), "instrument is not registered"))?;
            self.0.instrument(id).py()?;
            return Ok(id);
        }
        if let Ok(s) = ob.cast::<PyString>() {
            return self.0.instrument_id(s.to_str()?).py();
        }
        Err(invalid(
            "instrument",
            repr(ob),
            "must be an instrument id (int) or name (str)",
        ))
    }

    fn snapshot(&self, pos: &Position) -> PyResult<PyPosition> {
        Ok(PyPosition {
            pos: *pos,
            venue: self.0.venue_name(pos.venue).py()?.to_string(),
            spec: self.0.instrument(pos.instrument).py()?.clone(),
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
    let side = match side {
        1 => Side::Buy,
        2 => Side::Sell,
        other => {
            return Err(SorError::invalid(
                &format!("sides[{i}]"),
                other,
                "must be 1 (BUY) or 2 (SELL)",
            ))
        }
    };
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
        PyPositionBook(PositionBook::new())
    }

    /// Registers a venue with its OMS type; returns its id.
    fn add_venue(&mut self, name: &str, oms_type: &Bound<'_, PyAny>) -> PyResult<u32> {
        let oms = oms_arg(oms_type)?;
        self.0.add_venue(name, oms).py()
    }

    /// Registers an instrument (tradable on every venue) and its underlying; returns its id.
    #[pyo3(signature = (name, underlying, size_precision=0, multiplier=1.0, currency_precision=None))]
    fn add_instrument(
        &mut self,
        name: &str,
        underlying: &str,
        size_precision: i128,
        multiplier: f64,
        currency_precision: Option<i128>,
    ) -> PyResult<u32> {
        let precision = |field: &str, value: i128| {
            u8::try_from(value).map_err(|_| invalid(field, value, "must be a whole number of decimals >= 0"))
        };
        let size_precision = precision("size_precision", size_precision)?;
        let currency_precision = currency_precision
            .map(|p| precision("currency_precision", p))
            .transpose()?;
        let spec = InstrumentSpec::new(name, underlying, size_precision, multiplier, currency_precision).py()?;
        self.0.add_instrument(spec).py()
    }

    fn venue_id(&self, name: &str) -> PyResult<u32> {
        self.0.venue_id(name).py()
    }

    fn instrument_id(&self, name: &str) -> PyResult<u32> {
        self.0.instrument_id(name).py()
    }

    #[getter]
    fn venue_names(&self) -> PyResult<Vec<String>> {
        (0..self.0.venue_count() as u32)
            .map(|v| self.0.venue_name(v).map(str::to_string).py())
            .collect()
    }

    #[getter]
    fn instrument_names(&self) -> PyResult<Vec<String>> {
        (0..self.0.instrument_count() as u32)
            .map(|i| self.0.instrument(i).map(|s| s.name.clone()).py())
            .collect()
    }

    #[getter]
    fn position_count(&self) -> usize {
        self.0.position_count()
    }

    /// Books one fill; returns the id of the position now holding its quantity (for a flip, the
    /// position opened with the excess).
    #[pyo3(signature = (venue, instrument, side, quantity, price, commission=0.0, position_id=None))]
    #[allow(clippy::too_many_arguments)]
    fn apply_fill(
        &mut self,
        venue: &Bound<'_, PyAny>,
        instrument: &Bound<'_, PyAny>,
        side: &Bound<'_, PyAny>,
        quantity: i128,
        price: f64,
        commission: f64,
        position_id: Option<i128>,
    ) -> PyResult<u64> {
        let venue = self.venue(venue)?;
        let instrument = self.instrument(instrument)?;
        let side = side_arg(side)?;
        let quantity = u64::try_from(quantity)
            .map_err(|_| invalid("quantity", quantity, "must be a whole number of units in (0, 2**64)"))?;
        let position_id = match position_id {
            None => None,
            Some(id) => Some(u64::try_from(id).map_err(|_| invalid("position_id", id, "must be a position id >= 0"))?),
        };
        let fill = Fill {
            venue,
            instrument,
            side,
            quantity,
            price,
            commission,
            position_id,
        };
        Ok(self.0.apply(&fill).py()?.resulting_id())
    }

    /// Books many fills without the GIL, all or none. Returns, per fill, the id of the position
    /// holding its quantity. `position_ids` uses -1 for "none"; sides are 1 (BUY) / 2 (SELL).
    #[pyo3(signature = (venue_ids, instrument_ids, sides, quantities, prices, commissions=None, position_ids=None))]
    #[allow(clippy::too_many_arguments)]
    fn apply_fills<'py>(
        &mut self,
        py: Python<'py>,
        venue_ids: &Bound<'py, PyAny>,
        instrument_ids: &Bound<'py, PyAny>,
        sides: &Bound<'py, PyAny>,
        quantities: &Bound<'py, PyAny>,
        prices: &Bound<'py, PyAny>,
        commissions: Option<&Bound<'py, PyAny>>,
        position_ids: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let venue_ids = array_arg::<i64>("venue_ids", venue_ids, "int64")?;
        let instrument_ids = array_arg::<i64>("instrument_ids", instrument_ids, "int64")?;
        let sides = array_arg::<i8>("sides", sides, "int8 (1 = BUY, 2 = SELL)")?;
        let quantities = array_arg::<u64>("quantities", quantities, "uint64")?;
        let prices = array_arg::<f64>("prices", prices, "float64")?;
        let commissions = commissions
            .map(|c| array_arg::<f64>("commissions", c, "float64"))
            .transpose()?;
        let position_ids = position_ids
            .map(|p| array_arg::<i64>("position_ids", p, "int64 (-1 = none)"))
            .transpose()?;
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
        let book = &mut self.0;
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
    fn position(&self, position_id: i64) -> PyResult<PyPosition> {
        let id = u64::try_from(position_id).map_err(|_| invalid("position_id", position_id, "no such position"))?;
        let pos = self.0.position(id).py()?;
        self.snapshot(pos)
    }

    /// Ids of the open positions of a (venue, instrument), in no particular order.
    fn open_position_ids(&self, venue: &Bound<'_, PyAny>, instrument: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
        let (v, i) = (self.venue(venue)?, self.instrument(instrument)?);
        Ok(self.0.open_positions(v, i).py()?.to_vec())
    }

    /// The net position id of a NETTING (venue, instrument), or None before its first fill.
    fn netting_position_id(&self, venue: &Bound<'_, PyAny>, instrument: &Bound<'_, PyAny>) -> PyResult<Option<u64>> {
        let (v, i) = (self.venue(venue)?, self.instrument(instrument)?);
        self.0.netting_position(v, i).py()
    }

    /// Net signed units of a (venue, instrument) over all its positions.
    fn net_units(&self, venue: &Bound<'_, PyAny>, instrument: &Bound<'_, PyAny>) -> PyResult<i128> {
        let (v, i) = (self.venue(venue)?, self.instrument(instrument)?);
        self.0.net_units(v, i).py()
    }

    /// Realised PnL of every position and cycle of a (venue, instrument).
    fn realized_pnl(&self, venue: &Bound<'_, PyAny>, instrument: &Bound<'_, PyAny>) -> PyResult<f64> {
        let (v, i) = (self.venue(venue)?, self.instrument(instrument)?);
        self.0.realized_pnl(v, i).py()
    }

    /// Unrealised PnL of the open positions of a (venue, instrument) at `mark_price`.
    fn unrealized_pnl(
        &self,
        venue: &Bound<'_, PyAny>,
        instrument: &Bound<'_, PyAny>,
        mark_price: f64,
    ) -> PyResult<f64> {
        let (v, i) = (self.venue(venue)?, self.instrument(instrument)?);
        self.0.pair_unrealized_pnl(v, i, mark_price).py()
    }

    /// Net quantity of an underlying across venues and OMS types (quantity x multiplier).
    fn net_exposure(&self, underlying: &str) -> PyResult<f64> {
        self.0.net_exposure(underlying).py()
    }

    /// The breakdown of an underlying's exposure (net, gross long/short, by OMS type and venue).
    fn exposure(&self, py: Python<'_>, underlying: &str) -> PyResult<PyExposure> {
        let e = self.0.exposure(underlying).py()?;
        let by_venue = PyDict::new(py);
        for (v, net) in e.by_venue.iter().enumerate() {
            by_venue.set_item(self.0.venue_name(v as u32).py()?, net)?;
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

    fn __repr__(&self) -> String {
        format!(
            "PositionBook(venues={}, instruments={}, positions={})",
            self.0.venue_count(),
            self.0.instrument_count(),
            self.0.position_count()
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPosition>()?;
    m.add_class::<PyExposure>()?;
    m.add_class::<PyPositionBook>()?;
    Ok(())
}
