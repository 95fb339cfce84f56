//! Python wrapper of one resting order's queue position (`sor_core::queue::QueuedOrder`).

use pyo3::prelude::*;
use sor_core::{QueueModel, QueuedOrder, Side};

use crate::convert::{int, num, opt_num, str_arg, PyAggressor, PySide};
use crate::errors::{invalid, IntoPyResult};

fn tick(value: i128) -> PyResult<i64> {
    i64::try_from(value).map_err(|_| invalid("price_tick", value, "must fit in a signed 64-bit integer"))
}

fn queue_model_arg(ob: &Bound<'_, PyAny>) -> PyResult<String> {
    str_arg("queue_model", ob)
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

/// One resting limit order and the size estimated ahead of it at its price.
#[pyclass(name = "QueuedOrder", module = "nautilus_sor._core")]
pub struct PyQueue(QueuedOrder);

#[pymethods]
impl PyQueue {
    #[new]
    #[pyo3(signature = (side, price_tick, qty, displayed, lot_size, queue_model="prob_linear".to_string(), queue_power=3.0))]
    #[pyo3(text_signature = "(side, price_tick, qty, displayed, lot_size, queue_model='prob_linear', queue_power=3.0)")]
    fn new(
        side: PySide,
        #[pyo3(from_py_with = int::price_tick)] price_tick: i128,
        #[pyo3(from_py_with = num::qty)] qty: f64,
        #[pyo3(from_py_with = num::displayed)] displayed: f64,
        #[pyo3(from_py_with = num::lot_size_f64)] lot_size: f64,
        #[pyo3(from_py_with = queue_model_arg)] queue_model: String,
        #[pyo3(from_py_with = num::queue_power)] queue_power: f64,
    ) -> PyResult<Self> {
        let model = QueueModel::from_name(&queue_model, queue_power).py()?;
        QueuedOrder::new(model, side.0, tick(price_tick)?, qty, displayed, lot_size)
            .py()
            .map(PyQueue)
    }

    /// A tape trade: returns the units that fill us (whole lots, at most `leaves` and `available`).
    #[pyo3(signature = (aggressor, price_tick, trade_qty, available=None))]
    fn on_trade(
        &mut self,
        aggressor: PyAggressor,
        #[pyo3(from_py_with = int::price_tick)] price_tick: i128,
        #[pyo3(from_py_with = num::trade_qty)] trade_qty: f64,
        #[pyo3(from_py_with = opt_num::available)] available: Option<f64>,
    ) -> PyResult<f64> {
        let tick = tick(price_tick)?;
        self.0
            .on_trade(aggressor.0, tick, trade_qty, available.unwrap_or(trade_qty))
            .py()
    }

    /// The displayed size at our price changed from `prev_qty` to `new_qty`.
    fn on_depth(
        &mut self,
        #[pyo3(from_py_with = num::prev_qty)] prev_qty: f64,
        #[pyo3(from_py_with = num::new_qty)] new_qty: f64,
    ) -> PyResult<()> {
        self.0.on_depth(prev_qty, new_qty).py()
    }

    #[getter]
    fn leaves(&self) -> f64 {
        self.0.leaves()
    }
    #[getter]
    fn ahead(&self) -> f64 {
        self.0.ahead()
    }
    #[getter]
    fn price_tick(&self) -> i64 {
        self.0.price_tick()
    }
    #[getter]
    fn side(&self) -> &'static str {
        side_name(self.0.side())
    }

    fn __repr__(&self) -> String {
        format!(
            "QueuedOrder(side={}, price_tick={}, leaves={}, ahead={})",
            side_name(self.0.side()),
            self.0.price_tick(),
            self.0.leaves(),
            self.0.ahead()
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyQueue>()
}
