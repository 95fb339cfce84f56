//! Argument conversions shared by the bindings.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyString};
use sor_core::{OmsType, Side};

use crate::errors::invalid;

/// An order side argument (the one side parser of the bindings): see [`side_arg`].
pub struct PySide(pub Side);

impl<'a, 'py> FromPyObject<'a, 'py> for PySide {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        side_arg("side", &ob).map(PySide)
    }
}

/// A trade's aggressor argument: see [`aggressor_arg`].
pub struct PyAggressor(pub sor_core::Side);

impl<'a, 'py> FromPyObject<'a, 'py> for PyAggressor {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        aggressor_arg(&ob).map(PyAggressor)
    }
}

/// A trade's aggressor: BUY/SELL (BUYER/SELLER), or the codes 1/2 of `OrderSide` and `AggressorSide`.
fn aggressor_arg(ob: &Bound<'_, PyAny>) -> PyResult<sor_core::Side> {
    if let Ok(text) = ob.cast::<PyString>() {
        let text = text.to_cow()?;
        match text.to_ascii_uppercase().as_str() {
            "BUY" | "BUYER" => return Ok(sor_core::Side::Buy),
            "SELL" | "SELLER" => return Ok(sor_core::Side::Sell),
            _ => {}
        }
    }
    side_arg("aggressor", ob).map_err(|_| {
        let shown = py_repr(ob);
        invalid(
            "aggressor",
            shown,
            "must be BUY/BUYER (1) or SELL/SELLER (2); a trade without aggressor cannot be attributed",
        )
    })
}

/// A two-valued Nautilus enum argument: the enum itself (an `IntEnum`), its code as an int (numpy
/// integers too), or its name in any case; never a bool or a float. `type_name` and the
/// `(name, code, value)` pairs make the error messages.
fn choice_arg<T: Copy>(
    field: &str,
    ob: &Bound<'_, PyAny>,
    type_name: &str,
    choices: [(&str, i64, T); 2],
) -> PyResult<T> {
    let [(a, code_a, _), (b, code_b, _)] = choices;
    if let Ok(text) = ob.cast::<PyString>() {
        // Check the type first: a failed extraction builds a Python exception, which costs more
        // than the whole routing decision.
        let reason = format!("must be {a} or {b}");
        let Ok(text) = text.to_cow() else {
            return Err(invalid(field, py_repr(ob), &reason));
        };
        let found = choices.iter().find(|c| text.eq_ignore_ascii_case(c.0)).map(|c| c.2);
        return found.ok_or_else(|| invalid(field, format!("{text:?}"), &reason));
    }
    if ob.is_instance_of::<PyBool>() {
        return Err(invalid(
            field,
            py_repr(ob),
            &format!("must be {type_name}.{a}/{b}, not a bool"),
        ));
    }
    match ob.extract::<i64>() {
        Ok(code) => choices.iter().find(|c| c.1 == code).map(|c| c.2).ok_or_else(|| {
            invalid(
                field,
                py_repr(ob),
                &format!("must be {type_name}.{a} ({code_a}) or {type_name}.{b} ({code_b})"),
            )
        }),
        Err(_) => Err(invalid(
            field,
            py_repr(ob),
            &format!("must be {type_name}.{a}/{b}, {code_a}/{code_b} or \"{a}\"/\"{b}\""),
        )),
    }
}

/// An order side: Nautilus `OrderSide` (BUY = 1, SELL = 2), the int 1 or 2, or "BUY"/"SELL".
pub fn side_arg(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<Side> {
    choice_arg(field, ob, "OrderSide", [("BUY", 1, Side::Buy), ("SELL", 2, Side::Sell)])
}

/// An OMS type: Nautilus `OmsType` (NETTING = 1, HEDGING = 2), the int 1 or 2, or "NETTING"/"HEDGING".
pub fn oms_arg(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<OmsType> {
    choice_arg(
        field,
        ob,
        "OmsType",
        [("NETTING", 1, OmsType::Netting), ("HEDGING", 2, OmsType::Hedging)],
    )
}

/// The side of a batch row's code (Nautilus `OrderSide` values: 1 = buy, 2 = sell).
pub fn side_of_code(code: i64) -> Option<Side> {
    match code {
        1 => Some(Side::Buy),
        2 => Some(Side::Sell),
        _ => None,
    }
}

/// The reason a batch side code is refused.
pub const SIDE_CODE_REASON: &str = "must be 1 (BUY) or 2 (SELL)";

/// Side code used by the batch calls: 1 = buy, 2 = sell (Nautilus `OrderSide` values).
pub fn side_from_code(field: &str, code: i8) -> PyResult<Side> {
    side_of_code(i64::from(code)).ok_or_else(|| invalid(field, code, SIDE_CODE_REASON))
}

/// A limit price where NaN means "no limit" (batch calls).
pub fn limit_from_f64(value: f64) -> Option<f64> {
    if value.is_nan() {
        None
    } else {
        Some(value)
    }
}

/// A non-negative integer argument as u64: taken as i128 so a negative or huge value becomes a
/// ValidationError naming the field, not PyO3's OverflowError.
pub fn units(field: &str, value: i128) -> PyResult<u64> {
    u64::try_from(value).map_err(|_| invalid(field, value, "must be a whole number in [0, 2**64)"))
}

/// A count argument (e.g. `max_venues`) as usize, with the same error.
pub fn count(field: &str, value: i128) -> PyResult<usize> {
    usize::try_from(value).map_err(|_| invalid(field, value, "must be a whole number >= 0"))
}

/// The Python `repr` of an argument, for error messages (the one such helper of the bindings).
pub fn py_repr(ob: &Bound<'_, PyAny>) -> String {
    ob.repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "<unprintable>".to_string())
}

/// An integer argument (int, numpy integer, IntEnum), never a float or bool: a wrong type is a
/// ValidationError naming the field rather than PyO3's TypeError.
pub fn int_arg(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<i128> {
    if ob.is_instance_of::<PyBool>() || ob.is_instance_of::<PyFloat>() {
        return Err(invalid(field, py_repr(ob), "must be an integer"));
    }
    ob.extract::<i128>()
        .map_err(|_| invalid(field, py_repr(ob), "must be an integer"))
}

/// A string argument (a string that cannot be encoded as UTF-8, e.g. a lone surrogate, is refused).
pub fn str_arg(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<String> {
    match ob.cast::<PyString>().map(|s| s.to_cow()) {
        Ok(Ok(s)) => Ok(s.into_owned()),
        Ok(Err(_)) => Err(invalid(
            field,
            py_repr(ob),
            "must be valid Unicode (no lone surrogates)",
        )),
        Err(_) => Err(invalid(field, py_repr(ob), "must be a string")),
    }
}

/// A number argument (int, float, numpy number), never a bool or a string.
pub fn float_arg(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<f64> {
    if ob.is_instance_of::<PyFloat>() {
        // The common case, without the generic conversion.
        return ob
            .extract::<f64>()
            .map_err(|_| invalid(field, py_repr(ob), "must be a number"));
    }
    if ob.is_instance_of::<PyBool>() || ob.is_instance_of::<PyString>() {
        return Err(invalid(field, py_repr(ob), "must be a number, not a bool or a string"));
    }
    ob.extract::<f64>().map_err(|_| {
        invalid(
            field,
            py_repr(ob),
            "must be a number (an int too large for a float is refused)",
        )
    })
}

/// An optional argument: None is absent, anything else goes through `arg`.
fn optional<T>(
    field: &str,
    ob: &Bound<'_, PyAny>,
    arg: fn(&str, &Bound<'_, PyAny>) -> PyResult<T>,
) -> PyResult<Option<T>> {
    if ob.is_none() {
        Ok(None)
    } else {
        arg(field, ob).map(Some)
    }
}

/// An optional number argument (None: absent).
pub fn opt_float_arg(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<Option<f64>> {
    optional(field, ob, float_arg)
}

/// A whole number of units, as u64: an int (not a bool or float) in [0, 2**64).
pub fn units_arg(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<u64> {
    units(field, int_arg(field, ob)?)
}

/// An optional whole number of units (None: absent).
pub fn opt_units_arg(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<Option<u64>> {
    optional(field, ob, units_arg)
}

/// A flag: True or False (or numpy's bool), never an int or a string such as "false".
pub fn bool_arg(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<bool> {
    if let Ok(b) = ob.cast::<PyBool>() {
        return Ok(b.is_true());
    }
    if ob.is_instance_of::<PyString>() || ob.is_instance_of::<pyo3::types::PyInt>() {
        return Err(invalid(field, py_repr(ob), "must be True or False"));
    }
    ob.extract::<bool>()
        .map_err(|_| invalid(field, py_repr(ob), "must be True or False"))
}

/// Converters for `#[pyo3(from_py_with = ...)]`, one per argument name: a wrong type or an overflow
/// is then a `ValidationError` naming the argument (PyO3's own conversion raises an untyped
/// TypeError/OverflowError and takes a bool for a number), and the signature keeps its defaults.
macro_rules! named_args {
    ($conv:ident -> $t:ty: $($name:ident),* $(,)?) => {
        $(
            pub fn $name(ob: &pyo3::Bound<'_, pyo3::PyAny>) -> pyo3::PyResult<$t> {
                super::$conv(stringify!($name), ob)
            }
        )*
    };
}

/// Number arguments.
pub mod num {
    named_args!(float_arg -> f64:
        maker_fee, taker_fee, latency_ms, volatility, latency_risk_weight, miss_cost_bps, ewma_alpha,
        slippage_weight, tape_tau_s, price, expected_price, fill_price, horizon_s, fill_rate, reject_rate,
        latency_mean_ms, latency_var_ms2, slippage_bps, multiplier, commission, mark_price,
        duration_seconds, interval_seconds, size_jitter_pct, time_jitter_pct, bucket_seconds,
        risk_aversion, temporary_impact, permanent_impact, participation_rate, visible_pct,
        display_jitter_pct, qty, displayed, queue_power, trade_qty, prev_qty, new_qty);
    /// A float lot size (the queue model's sizes are market units, not whole units).
    pub fn lot_size_f64(ob: &pyo3::Bound<'_, pyo3::PyAny>) -> pyo3::PyResult<f64> {
        super::float_arg("lot_size", ob)
    }
}

/// Optional number arguments.
pub mod opt_num {
    named_args!(opt_float_arg -> Option<f64>: limit_price, start_hour, available);
}

/// Whole-unit arguments (u64).
pub mod unit {
    named_args!(units_arg -> u64:
        lot_size, min_qty, size, filled, ordered, ts_ns, now_ns, orders, fills, rejects, acks, quantity,
        seed, start_time_ns, min_child, volume, fill_qty);
}

/// Optional whole-unit arguments.
pub mod opt_unit {
    named_args!(opt_units_arg -> Option<u64>: max_child, start_time_ns, position_id);
}

/// Integer arguments (i128; the caller checks the range).
pub mod int {
    named_args!(int_arg -> i128: size_precision, price_tick);
}

/// Text arguments.
pub mod text {
    named_args!(str_arg -> String: name, underlying);
}

/// Flag arguments.
pub mod flag {
    named_args!(bool_arg -> bool: enabled, is_bid);
}

/// A 1-d numpy array of the element type the batch call needs, or a ValidationError naming it.
pub fn array_arg<'py, T: numpy::Element>(
    field: &str,
    ob: &Bound<'py, PyAny>,
    dtype: &str,
) -> PyResult<numpy::PyReadonlyArray1<'py, T>> {
    ob.extract::<numpy::PyReadonlyArray1<'py, T>>().map_err(|_| {
        let got = ob.getattr("dtype").map(|d| py_repr(&d)).unwrap_or_else(|_| py_repr(ob));
        invalid(field, got, &format!("must be a 1-d numpy array of {dtype}"))
    })
}

/// The numpy array arguments of the batch calls, each with the element type it must have; an
/// optional one (`opt_`) takes None for absent.
pub mod array {
    use numpy::PyReadonlyArray1;
    use pyo3::prelude::*;

    macro_rules! named_arrays {
        ($t:ty, $dtype:literal: $($name:ident $(/ $opt_name:ident)?),+) => {$(
            pub fn $name<'py>(ob: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArray1<'py, $t>> {
                super::array_arg(stringify!($name), ob, $dtype)
            }
            $(
                pub fn $opt_name<'py>(ob: &Bound<'py, PyAny>) -> PyResult<Option<PyReadonlyArray1<'py, $t>>> {
                    (!ob.is_none()).then(|| $name(ob)).transpose()
                }
            )?
        )+};
    }

    named_arrays!(i64, "int64": venue_ids, instrument_ids);
    named_arrays!(i8, "int8 (1 = BUY, 2 = SELL)": sides);
    named_arrays!(u64, "uint64": quantities);
    named_arrays!(f64, "float64": prices, commissions / opt_commissions);
    named_arrays!(i64, "int64 (-1 = none)": position_ids / opt_position_ids);
}

/// Book levels: a sequence of (price, size) pairs; each bad entry is named `field[i]`.
pub fn levels_arg(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<Vec<(f64, i128)>> {
    let items = ob
        .try_iter()
        .map_err(|_| invalid(field, py_repr(ob), "must be a sequence of (price, size) pairs"))?;
    let mut out = Vec::new();
    for (i, item) in items.enumerate() {
        let item = item?;
        let (price, size) = item
            .extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()
            .map_err(|_| invalid(&format!("{field}[{i}]"), py_repr(&item), "must be a (price, size) pair"))?;
        let price = price
            .extract::<f64>()
            .map_err(|_| invalid(&format!("{field}[{i}].price"), py_repr(&price), "must be a number"))?;
        out.push((price, int_arg(&format!("{field}[{i}].size"), &size)?));
    }
    Ok(out)
}
