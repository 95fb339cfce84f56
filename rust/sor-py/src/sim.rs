//! Python wrappers of the execution simulator's per-event book work (`sor_core::sim`).

use std::sync::Arc;

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use sor_core::{RecordedBook, RecordedSide, VenueBook};

use crate::convert::{array_arg, PySide};
use crate::errors::{invalid, IntoPyResult};

fn matrix(name: &str, ob: &Bound<'_, PyAny>, rows: usize) -> PyResult<(Vec<f64>, usize)> {
    let arr: PyReadonlyArray2<'_, f64> = ob.extract().map_err(|_| {
        invalid(
            name,
            ob.get_type().name().map(|n| n.to_string()).unwrap_or_default(),
            "must be a 2-d numpy array of float64",
        )
    })?;
    let view = arr.as_array();
    let (n, levels) = view.dim();
    if n != rows {
        return Err(invalid(name, n, "must have one row per timestamp"));
    }
    Ok((view.iter().copied().collect(), levels))
}

/// One venue's recorded book (rows of `levels` levels a side, best first), shared by every simulated run.
#[pyclass(name = "RecordedBook", module = "nautilus_sor._core", frozen)]
pub struct PyRecordedBook(Arc<RecordedBook>);

#[pymethods]
impl PyRecordedBook {
    #[new]
    #[pyo3(text_signature = "(ts, bid_px, bid_sz, ask_px, ask_sz)")]
    fn new(
        ts: &Bound<'_, PyAny>,
        bid_px: &Bound<'_, PyAny>,
        bid_sz: &Bound<'_, PyAny>,
        ask_px: &Bound<'_, PyAny>,
        ask_sz: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let ts: Vec<i64> = array_arg::<i64>("ts", ts, "int64")?.as_array().to_vec();
        let rows = ts.len();
        let (bid_px, levels) = matrix("bid_px", bid_px, rows)?;
        let bids = RecordedSide {
            px: bid_px,
            sz: matrix("bid_sz", bid_sz, rows)?.0,
        };
        let asks = RecordedSide {
            px: matrix("ask_px", ask_px, rows)?.0,
            sz: matrix("ask_sz", ask_sz, rows)?.0,
        };
        RecordedBook::new(ts, levels, bids, asks)
            .py()
            .map(|b| PyRecordedBook(Arc::new(b)))
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }
}

/// A recorded book with the liquidity one simulated run took from it.
#[pyclass(name = "VenueBook", module = "nautilus_sor._core")]
pub struct PyVenueBook(VenueBook);

#[pymethods]
impl PyVenueBook {
    #[new]
    #[pyo3(text_signature = "(book, tick)")]
    fn new(book: &Bound<'_, PyRecordedBook>, tick: f64) -> PyResult<Self> {
        VenueBook::new(Arc::clone(&book.get().0), tick).py().map(PyVenueBook)
    }

    /// The levels a `side` order would take at `ts`: (prices, sizes still available to us) arrays.
    fn offered<'py>(
        &mut self,
        py: Python<'py>,
        side: PySide,
        ts: i64,
    ) -> (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>) {
        let levels = self.0.offered(side.0, ts);
        let (px, sz): (Vec<f64>, Vec<f64>) = levels.into_iter().unzip();
        (px.into_pyarray(py), sz.into_pyarray(py))
    }

    /// An aggressive order meeting the book in force at `ts` within `limit` (None: market), consuming
    /// what it takes: [(price, size)].
    #[pyo3(signature = (side, qty, limit, ts))]
    fn take(&mut self, side: PySide, qty: f64, limit: Option<f64>, ts: i64) -> Vec<(f64, f64)> {
        self.0.take(side.0, qty, limit, ts)
    }

    /// Records a take of `size` at `price` at `ts` decided elsewhere.
    fn consume_at(&mut self, side: PySide, price: f64, size: f64, ts: i64) -> PyResult<()> {
        self.0.consume_at(side.0, price, size, ts).py()
    }

    /// The level key of `price` (price / tick rounded half to even).
    fn key(&self, price: f64) -> i64 {
        self.0.key(price)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRecordedBook>()?;
    m.add_class::<PyVenueBook>()
}
