//! Python wrappers of the child-order schedules: functions returning numpy arrays
//! `(offsets_ns: uint64, quantities: uint64)` and the stateful POV tracker and iceberg.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use sor_core::schedule::start_of_hour;
use sor_core::{
    shortfall, twap, vwap, Iceberg, PovTracker, Schedule, ShortfallParams, TwapParams, VolumeProfile, VwapParams,
};

use crate::convert::{num, opt_num, opt_unit, py_repr, unit, units};
use crate::errors::{invalid, IntoPyResult};
use crate::methods::properties_repr;

type Arrays<'py> = (Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<u64>>);

/// A Python int as a count of units: negative or too large is a `ValidationError` naming the field.
fn arrays(py: Python<'_>, s: Schedule) -> Arrays<'_> {
    (s.offsets_ns.into_pyarray(py), s.quantities.into_pyarray(py))
}

/// Floats from a numpy float64 array or any sequence of numbers.
fn f64_vec(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    if let Ok(a) = obj.extract::<PyReadonlyArray1<'_, f64>>() {
        return Ok(a.as_array().to_vec());
    }
    obj.extract::<Vec<f64>>()
        .map_err(|_| invalid(field, py_repr(obj), "must be a 1-D array or sequence of numbers"))
}

/// Non-negative integers from a numpy uint64/int64 array or any sequence of ints.
fn u64_vec(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
    if let Ok(a) = obj.extract::<PyReadonlyArray1<'_, u64>>() {
        return Ok(a.as_array().to_vec());
    }
    let signed: Vec<i128> = if let Ok(a) = obj.extract::<PyReadonlyArray1<'_, i64>>() {
        a.as_array().iter().map(|&v| v as i128).collect()
    } else {
        obj.extract::<Vec<i128>>()
            .map_err(|_| invalid(field, py_repr(obj), "must be a 1-D array or sequence of ints"))?
    };
    signed
        .into_iter()
        .enumerate()
        .map(|(i, v)| units(&format!("{field}[{i}]"), v))
        .collect()
}

/// `{hour_of_day: fraction}` from any mapping.
fn hourly_entries(profile: &Bound<'_, PyAny>) -> PyResult<Vec<(i64, f64)>> {
    let items = profile.call_method0("items").map_err(|_| {
        invalid(
            "volume_profile",
            py_repr(profile),
            "must be a mapping {hour_of_day: fraction}",
        )
    })?;
    let mut out = Vec::new();
    for item in items.try_iter()? {
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
        let hour = key.extract::<i64>().map_err(|_| {
            invalid(
                "volume_profile",
                py_repr(&key),
                "keys must be whole hours of the day 0..23",
            )
        })?;
        let weight = value
            .extract::<f64>()
            .map_err(|_| invalid(&format!("volume_profile[{hour}]"), py_repr(&value), "must be a number"))?;
        out.push((hour, weight));
    }
    Ok(out)
}

/// Time-weighted schedule. Returns `(offsets_ns, quantities)` as uint64 arrays: children at
/// `i * interval` (later by up to `time_jitter_pct` of the slice when jittered), summing exactly to
/// `quantity`. See `sor_core::schedule::twap` for the rules.
#[pyfunction]
#[pyo3(signature = (quantity, duration_seconds, interval_seconds, *, lot_size=1, size_jitter_pct=0.0, time_jitter_pct=0.0, seed=0))]
#[allow(clippy::too_many_arguments)]
fn twap_schedule<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = unit::quantity)] quantity: u64,
    #[pyo3(from_py_with = num::duration_seconds)] duration_seconds: f64,
    #[pyo3(from_py_with = num::interval_seconds)] interval_seconds: f64,
    #[pyo3(from_py_with = unit::lot_size)] lot_size: u64,
    #[pyo3(from_py_with = num::size_jitter_pct)] size_jitter_pct: f64,
    #[pyo3(from_py_with = num::time_jitter_pct)] time_jitter_pct: f64,
    #[pyo3(from_py_with = unit::seed)] seed: u64,
) -> PyResult<Arrays<'py>> {
    let params = TwapParams {
        duration_seconds,
        interval_seconds,
        lot_size,
        size_jitter_pct,
        time_jitter_pct,
        seed,
    };
    let s = py.detach(|| twap(quantity, &params)).py()?;
    Ok(arrays(py, s))
}

/// Volume-weighted schedule from the reference's `{hour_of_day: fraction}` profile. The order starts
/// at `start_time_ns` since midnight UTC (a Unix timestamp in ns works too) or at `start_hour`
/// (e.g. 9.5 for 09:30): give exactly one.
#[pyfunction]
#[pyo3(signature = (quantity, volume_profile, duration_seconds, interval_seconds, *, start_time_ns=None, start_hour=None, lot_size=1))]
#[allow(clippy::too_many_arguments)]
fn vwap_schedule<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = unit::quantity)] quantity: u64,
    volume_profile: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = num::duration_seconds)] duration_seconds: f64,
    #[pyo3(from_py_with = num::interval_seconds)] interval_seconds: f64,
    #[pyo3(from_py_with = opt_unit::start_time_ns)] start_time_ns: Option<u64>,
    #[pyo3(from_py_with = opt_num::start_hour)] start_hour: Option<f64>,
    #[pyo3(from_py_with = unit::lot_size)] lot_size: u64,
) -> PyResult<Arrays<'py>> {
    let start = match (start_time_ns, start_hour) {
        (Some(ns), None) => ns,
        (None, Some(h)) => start_of_hour(h).py()?,
        (Some(_), Some(h)) => return Err(invalid("start_hour", h, "give start_time_ns or start_hour, not both")),
        (None, None) => {
            return Err(invalid(
                "start_time_ns",
                "None",
                "give the order's start: start_time_ns (since midnight UTC) or start_hour",
            ))
        }
    };
    let profile = VolumeProfile::hourly(&hourly_entries(volume_profile)?).py()?;
    let params = VwapParams {
        lot_size,
        ..VwapParams::new(start, duration_seconds, interval_seconds)
    };
    let s = py.detach(|| vwap(quantity, &profile, &params)).py()?;
    Ok(arrays(py, s))
}

/// Volume-weighted schedule from any curve of bucket weights (e.g. volume per minute of the day),
/// each bucket `bucket_seconds` long, repeating after the last bucket. `start_time_ns` is measured
/// from the start of bucket 0 (midnight for a day's curve).
#[pyfunction]
#[pyo3(signature = (quantity, bucket_weights, bucket_seconds, duration_seconds, interval_seconds, *, start_time_ns, lot_size=1))]
#[allow(clippy::too_many_arguments)]
fn vwap_curve_schedule<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = unit::quantity)] quantity: u64,
    bucket_weights: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = num::bucket_seconds)] bucket_seconds: f64,
    #[pyo3(from_py_with = num::duration_seconds)] duration_seconds: f64,
    #[pyo3(from_py_with = num::interval_seconds)] interval_seconds: f64,
    #[pyo3(from_py_with = unit::start_time_ns)] start_time_ns: u64,
    #[pyo3(from_py_with = unit::lot_size)] lot_size: u64,
) -> PyResult<Arrays<'py>> {
    let weights = f64_vec("bucket_weights", bucket_weights)?;
    let params = VwapParams {
        lot_size,
        ..VwapParams::new(start_time_ns, duration_seconds, interval_seconds)
    };
    let s = py
        .detach(|| {
            let profile = VolumeProfile::from_buckets(&weights, bucket_seconds)?;
            vwap(quantity, &profile, &params)
        })
        .py()?;
    Ok(arrays(py, s))
}

/// A day's volume curve from bars: the volume of each bar is added to its bucket of the day
/// (`timestamp mod 1 day`, UTC). Returns the normalised bucket weights (float64, summing to 1) for
/// `vwap_curve_schedule`. `bucket_seconds` must divide a day.
#[pyfunction]
#[pyo3(signature = (timestamps_ns, volumes, bucket_seconds=60.0))]
fn volume_curve_from_bars<'py>(
    py: Python<'py>,
    timestamps_ns: &Bound<'py, PyAny>,
    volumes: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = num::bucket_seconds)] bucket_seconds: f64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let ts = u64_vec("timestamps_ns", timestamps_ns)?;
    let vol = f64_vec("volumes", volumes)?;
    let profile = py.detach(|| VolumeProfile::from_bars(&ts, &vol, bucket_seconds)).py()?;
    Ok(profile.weights().to_vec().into_pyarray(py))
}

fn shortfall_params(
    duration_seconds: f64,
    interval_seconds: f64,
    risk_aversion: f64,
    volatility: f64,
    temporary_impact: f64,
    permanent_impact: f64,
    lot_size: u64,
) -> PyResult<ShortfallParams> {
    Ok(ShortfallParams {
        duration_seconds,
        interval_seconds,
        risk_aversion,
        volatility,
        temporary_impact,
        permanent_impact,
        lot_size,
    })
}

/// Implementation-shortfall (Almgren-Chriss) schedule: holdings `X sinh(kappa (T - t)) / sinh(kappa T)`
/// on the slice grid, children the differences, rounded to whole lots exactly. `risk_aversion = 0`
/// gives exactly `twap_schedule`. Units: seconds, units of quantity, price.
#[pyfunction]
#[pyo3(signature = (quantity, duration_seconds, interval_seconds, *, risk_aversion, volatility, temporary_impact, permanent_impact=0.0, lot_size=1))]
#[allow(clippy::too_many_arguments)]
fn shortfall_schedule<'py>(
    py: Python<'py>,
    #[pyo3(from_py_with = unit::quantity)] quantity: u64,
    #[pyo3(from_py_with = num::duration_seconds)] duration_seconds: f64,
    #[pyo3(from_py_with = num::interval_seconds)] interval_seconds: f64,
    #[pyo3(from_py_with = num::risk_aversion)] risk_aversion: f64,
    #[pyo3(from_py_with = num::volatility)] volatility: f64,
    #[pyo3(from_py_with = num::temporary_impact)] temporary_impact: f64,
    #[pyo3(from_py_with = num::permanent_impact)] permanent_impact: f64,
    #[pyo3(from_py_with = unit::lot_size)] lot_size: u64,
) -> PyResult<Arrays<'py>> {
    let params = shortfall_params(
        duration_seconds,
        interval_seconds,
        risk_aversion,
        volatility,
        temporary_impact,
        permanent_impact,
        lot_size,
    )?;
    let s = py.detach(|| shortfall(quantity, &params)).py()?;
    Ok(arrays(py, s))
}

/// The Almgren-Chriss urgency `kappa` (per second) of these parameters; `inf` means all at once.
#[pyfunction]
#[pyo3(signature = (duration_seconds, interval_seconds, *, risk_aversion, volatility, temporary_impact, permanent_impact=0.0))]
fn shortfall_kappa(
    #[pyo3(from_py_with = num::duration_seconds)] duration_seconds: f64,
    #[pyo3(from_py_with = num::interval_seconds)] interval_seconds: f64,
    #[pyo3(from_py_with = num::risk_aversion)] risk_aversion: f64,
    #[pyo3(from_py_with = num::volatility)] volatility: f64,
    #[pyo3(from_py_with = num::temporary_impact)] temporary_impact: f64,
    #[pyo3(from_py_with = num::permanent_impact)] permanent_impact: f64,
) -> PyResult<f64> {
    shortfall_params(
        duration_seconds,
        interval_seconds,
        risk_aversion,
        volatility,
        temporary_impact,
        permanent_impact,
        1,
    )?
    .kappa()
    .py()
}

/// Percentage-of-volume participation: `on_market_volume(v)` returns the child to send now.
#[pyclass(name = "PovTracker", module = "nautilus_sor._core")]
pub struct PyPovTracker(PovTracker);

wrapper_pymethods! {
    PyPovTracker.0 {
        call u64: quantity, sent, remaining, observed_volume, target, children;
        call f64: participation_rate;
        call bool: is_done;
    }

    #[new]
    #[pyo3(signature = (quantity, participation_rate, min_child=0, max_child=None, lot_size=1))]
    fn new(
        #[pyo3(from_py_with = unit::quantity)] quantity: u64,
        #[pyo3(from_py_with = num::participation_rate)] participation_rate: f64,
        #[pyo3(from_py_with = unit::min_child)] min_child: u64,
        #[pyo3(from_py_with = opt_unit::max_child)] max_child: Option<u64>,
        #[pyo3(from_py_with = unit::lot_size)] lot_size: u64,
    ) -> PyResult<Self> {
        PovTracker::new(quantity, participation_rate, min_child, max_child, lot_size)
            .py()
            .map(PyPovTracker)
    }

    /// Market volume traded since the last call (units); returns the child to send now (0 for none).
    fn on_market_volume(&mut self, #[pyo3(from_py_with = unit::volume)] volume: u64) -> PyResult<u64> {
        Ok(self.0.on_market_volume(volume))
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        properties_repr(slf, "quantity participation_rate sent observed_volume")
    }
}

/// An iceberg: one visible chunk at a time, replenished when it has completely filled.
/// `filled + working + hidden == quantity` always.
#[pyclass(name = "Iceberg", module = "nautilus_sor._core")]
pub struct PyIceberg(Iceberg);

wrapper_pymethods! {
    PyIceberg.0 {
        call u64: quantity, display_qty, filled, working, hidden, remaining, chunks;
        call f64: visible_pct;
        call bool: is_done;
    }

    #[new]
    #[pyo3(signature = (quantity, visible_pct, lot_size=1, display_jitter_pct=0.0, seed=0))]
    fn new(
        #[pyo3(from_py_with = unit::quantity)] quantity: u64,
        #[pyo3(from_py_with = num::visible_pct)] visible_pct: f64,
        #[pyo3(from_py_with = unit::lot_size)] lot_size: u64,
        #[pyo3(from_py_with = num::display_jitter_pct)] display_jitter_pct: f64,
        #[pyo3(from_py_with = unit::seed)] seed: u64,
    ) -> PyResult<Self> {
        Iceberg::new(quantity, visible_pct, lot_size, display_jitter_pct, seed)
            .py()
            .map(PyIceberg)
    }

    /// Shows the next chunk if none is working; returns its size (0 if one is working or all shown).
    fn next_chunk(&mut self) -> u64 {
        self.0.next_chunk()
    }

    /// Books a fill of the working chunk; returns the next chunk to show when this one completes.
    fn on_fill(&mut self, #[pyo3(from_py_with = unit::fill_qty)] fill_qty: u64) -> PyResult<u64> {
        self.0.on_fill(fill_qty).py()
    }

    /// The working chunk was cancelled or rejected: its unfilled part goes back to hidden (returned).
    fn on_cancel(&mut self) -> u64 {
        self.0.on_cancel()
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        properties_repr(slf, "quantity visible_pct filled working hidden")
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(twap_schedule, m)?)?;
    m.add_function(wrap_pyfunction!(vwap_schedule, m)?)?;
    m.add_function(wrap_pyfunction!(vwap_curve_schedule, m)?)?;
    m.add_function(wrap_pyfunction!(volume_curve_from_bars, m)?)?;
    m.add_function(wrap_pyfunction!(shortfall_schedule, m)?)?;
    m.add_function(wrap_pyfunction!(shortfall_kappa, m)?)?;
    m.add_class::<PyPovTracker>()?;
    m.add_class::<PyIceberg>()?;
    Ok(())
}
