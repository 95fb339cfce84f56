"""Child-order schedules through the bindings: hand-checked cases, properties (hypothesis) and parity
with the pure-Python model in `reference_schedule.py`, and bad input."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import reference_schedule as ref
from hypothesis import given, settings
from hypothesis import strategies as st

from nautilus_sor import (
    Iceberg,
    PovTracker,
    shortfall_kappa,
    shortfall_schedule,
    twap_schedule,
    volume_curve_from_bars,
    vwap_curve_schedule,
    vwap_schedule,
)
from nautilus_sor.exceptions import ValidationError

S = 1_000_000_000
H = 3600 * S
AC = dict(risk_aversion=1e-6, volatility=0.95, temporary_impact=2.5e-6, permanent_impact=2.5e-7)


def check(offsets: np.ndarray, qtys: np.ndarray, quantity: int, duration_ns: int, lot: int = 1) -> None:
    """The invariants every schedule keeps."""
    assert offsets.dtype == np.uint64 and qtys.dtype == np.uint64
    assert offsets.ndim == 1 and offsets.shape == qtys.shape
    assert int(qtys.sum(dtype=object)) == quantity
    assert (qtys > 0).all()
    assert (qtys % lot == 0).all()
    assert (np.diff(offsets.astype(object)) >= 0).all()
    assert offsets.size == 0 or int(offsets[-1]) < duration_ns


# ---------------------------------------------------------------------------------------------
# Hand-checked cases
# ---------------------------------------------------------------------------------------------


def test_twap_reference_config_one_hour_by_minute():
    # 10_000 = 60 * 166 + 40: the first 40 children are 167.
    offsets, qtys = twap_schedule(10_000, 3600, 60)
    assert offsets.tolist() == [i * 60 * S for i in range(60)]
    assert qtys.tolist() == [167] * 40 + [166] * 20


def test_twap_ceil_slices_lots_and_fewer_lots_than_slices():
    assert [a.tolist() for a in twap_schedule(10, 100, 30)] == [[0, 30 * S, 60 * S, 90 * S], [3, 3, 2, 2]]
    assert twap_schedule(50, 3, 1, lot_size=5)[1].tolist() == [20, 15, 15]
    offsets, qtys = twap_schedule(3, 10, 1)
    assert offsets.tolist() == [0, S, 2 * S] and qtys.tolist() == [1, 1, 1]


def test_twap_jitter_is_seeded():
    a = twap_schedule(100_000, 600, 60, size_jitter_pct=0.3, time_jitter_pct=0.5, seed=42)
    b = twap_schedule(100_000, 600, 60, size_jitter_pct=0.3, time_jitter_pct=0.5, seed=42)
    c = twap_schedule(100_000, 600, 60, size_jitter_pct=0.3, time_jitter_pct=0.5, seed=43)
    assert all((x == y).all() for x, y in zip(a, b))
    assert not (a[1] == c[1]).all()
    assert int(a[1].sum()) == 100_000


def test_vwap_hourly_profile_and_partial_hours():
    profile = {9: 0.2, 10: 0.6}  # normalises to 0.25 / 0.75
    offsets, qtys = vwap_schedule(100, profile, 3600, 1800, start_hour=9.5)
    assert offsets.tolist() == [0, 1800 * S] and qtys.tolist() == [25, 75]
    # [09:50, 10:10) = 1/6 of the volume, [10:10, 10:30) = 1/4: 2:3.
    _, qtys = vwap_schedule(100, profile, 2400, 1200, start_time_ns=9 * H + 50 * 60 * S)
    assert qtys.tolist() == [40, 60]


def test_vwap_skips_hours_without_volume_and_wraps_midnight():
    offsets, qtys = vwap_schedule(100, {0: 100.0, 9: 1.0, 11: 1.0}, 3 * 3600, 3600, start_hour=9)
    assert offsets.tolist() == [0, 2 * 3600 * S] and qtys.tolist() == [50, 50]
    # A Unix timestamp works: 2023-11-14 23:00 UTC.
    _, qtys = vwap_schedule(100, {23: 1.0, 0: 3.0}, 7200, 3600, start_time_ns=1_700_002_800 * S)
    assert qtys.tolist() == [25, 75]


def test_vwap_curve_from_bars():
    day = 24 * H
    curve = volume_curve_from_bars(np.array([0, 60 * S, day, 12 * H], dtype=np.uint64), [1.0, 2.0, 1.0, 4.0])
    assert curve.dtype == np.float64 and curve.shape == (1440,)
    assert curve[0] == 0.25 and curve[1] == 0.25 and curve[720] == 0.5
    _, qtys = vwap_curve_schedule(600, [10, 20, 30], 60, 180, 60, start_time_ns=0)
    assert qtys.tolist() == [100, 200, 300]
    _, qtys = vwap_curve_schedule(600, curve, 60, 120, 60, start_time_ns=0)
    assert qtys.tolist() == [300, 300]


def test_shortfall_almgren_chriss_example():
    kappa = shortfall_kappa(5, 1, **AC)
    assert kappa == pytest.approx(math.acosh(1.19), abs=1e-12)
    _, qtys = shortfall_schedule(1_000_000, 5, 1, **AC)
    want = ref.shortfall_quotas(1_000_000, 5, 1, **AC)
    assert all(abs(q - w) < 1 for q, w in zip(qtys.tolist(), want))
    assert qtys.tolist() == sorted(qtys.tolist(), reverse=True)


def test_shortfall_without_risk_aversion_is_twap():
    for args in [(10_000, 3600, 60), (10, 100, 30), (3, 10, 1)]:
        a = shortfall_schedule(*args, risk_aversion=0.0, volatility=0.95, temporary_impact=2.5e-6)
        b = twap_schedule(*args)
        assert all((x == y).all() for x, y in zip(a, b))


def test_shortfall_extreme_urgency_front_loads():
    offsets, qtys = shortfall_schedule(12_345, 3600, 1, risk_aversion=1e300, volatility=1e10, temporary_impact=1e-6)
    assert offsets.tolist() == [0] and qtys.tolist() == [12_345]
    assert shortfall_kappa(3600, 1, risk_aversion=1e300, volatility=1e300, temporary_impact=1e-6) == math.inf


def test_pov_rule():
    p = PovTracker(100, 0.1, min_child=5, max_child=20)
    assert [p.on_market_volume(v) for v in (30, 30, 500, 0, 0, 0)] == [0, 6, 20, 20, 10, 0]
    assert (p.sent, p.remaining, p.observed_volume, p.target) == (56, 44, 560, 56)
    assert [p.on_market_volume(v) for v in (10_000, 0, 0, 5)] == [20, 20, 4, 0]
    assert p.is_done and p.children == 7


def test_iceberg_lifecycle():
    ice = Iceberg(25, 0.4)
    assert ice.display_qty == 10
    assert ice.next_chunk() == 10 and ice.next_chunk() == 0
    assert ice.on_fill(4) == 0
    assert (ice.filled, ice.working, ice.hidden, ice.remaining) == (4, 6, 15, 21)
    assert ice.on_fill(6) == 10
    assert ice.on_cancel() == 10 and ice.hidden == 15
    assert ice.next_chunk() == 10
    assert ice.on_fill(10) == 5
    assert ice.on_fill(5) == 0 and ice.is_done and ice.chunks == 4


def test_a_day_of_one_second_slices():
    offsets, qtys = twap_schedule(1_000_000, 86_400, 1)
    assert qtys.size == 86_400
    check(offsets, qtys, 1_000_000, 86_400 * S)
    profile = {h: 1.0 + h % 5 for h in range(24)}
    offsets, qtys = vwap_schedule(10_000_000, profile, 86_400, 1, start_time_ns=0)
    check(offsets, qtys, 10_000_000, 86_400 * S)


# ---------------------------------------------------------------------------------------------
# Properties and parity
# ---------------------------------------------------------------------------------------------

lots_and_lot = st.tuples(st.integers(1, 10**6), st.sampled_from([1, 1, 2, 5, 10, 100, 997]))
# Times in milliseconds, so seconds convert to ns without rounding questions.
interval_ms = st.integers(1, 100_000)


@settings(max_examples=300, deadline=None)
@given(
    lots_and_lot,
    interval_ms,
    st.integers(1, 2_000),
    st.integers(0, 999),
    st.one_of(st.just(0.0), st.floats(0.0, 1.0)),
    st.one_of(st.just(0.0), st.floats(0.0, 1.0)),
    st.integers(0, 2**64 - 1),
)
def test_twap_properties_and_parity(ll, step_ms, slices, extra_ms, size_jitter, time_jitter, seed):
    lots, lot = ll
    quantity = lots * lot
    duration_ms = step_ms * slices + (extra_ms * step_ms // 1000 if slices > 1 else 0)
    d, i = duration_ms / 1000, step_ms / 1000
    kwargs = dict(lot_size=lot, size_jitter_pct=size_jitter, time_jitter_pct=time_jitter, seed=seed)
    offsets, qtys = twap_schedule(quantity, d, i, **kwargs)
    check(offsets, qtys, quantity, ref.seconds_to_ns(d), lot)
    want_offsets, want_qtys = ref.twap(quantity, d, i, **kwargs)
    assert offsets.tolist() == want_offsets
    assert qtys.tolist() == want_qtys
    again = twap_schedule(quantity, d, i, **kwargs)
    assert (again[0] == offsets).all() and (again[1] == qtys).all()


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.integers(0, 23), st.one_of(st.just(0.0), st.floats(0.001, 10.0)), min_size=1),
    lots_and_lot,
    st.integers(0, 3 * 24 * 3600) .map(lambda s: s * S),
    st.integers(1, 3600),
    st.integers(1, 200),
)
def test_vwap_properties_against_exact_quotas(profile, ll, start_ns, step_s, slices):
    if not any(w > 0 for w in profile.values()):
        with pytest.raises(ValidationError) as e:
            vwap_schedule(100, profile, 60, 1, start_time_ns=start_ns)
        assert e.value.field == "volume_profile"
        return
    lots, lot = ll
    quantity = lots * lot
    duration = step_s * slices
    quotas = ref.exact_vwap_quotas(lots, profile, start_ns, duration, step_s)
    if sum(quotas) == 0:
        with pytest.raises(ValidationError) as e:
            vwap_schedule(quantity, profile, duration, step_s, start_time_ns=start_ns, lot_size=lot)
        assert e.value.field == "volume_profile"
        return
    offsets, qtys = vwap_schedule(quantity, profile, duration, step_s, start_time_ns=start_ns, lot_size=lot)
    check(offsets, qtys, quantity, duration * S, lot)
    got = dict(zip((offsets // (step_s * S)).tolist(), (qtys // lot).tolist()))
    for k, q in enumerate(quotas):
        g = got.get(k, 0)
        # Largest remainder: the floor or the ceiling of the exact quota (float noise of 1e-9 allowed).
        assert math.floor(q - Fraction(1, 10**9)) <= g <= math.ceil(q + Fraction(1, 10**9)), (k, g, float(q))
        if q == 0:
            assert g == 0


@settings(max_examples=200, deadline=None)
@given(
    lots_and_lot,
    st.integers(1, 3600),
    st.integers(1, 500),
    st.one_of(st.just(0.0), st.floats(1e-9, 1e-3)),
    st.floats(0.0, 2.0),
    st.floats(1e-4, 1.0),
)
def test_shortfall_properties(ll, step_s, slices, risk_aversion, volatility, eta):
    lots, lot = ll
    quantity = lots * lot
    duration = step_s * slices
    params = dict(risk_aversion=risk_aversion, volatility=volatility, temporary_impact=eta)
    offsets, qtys = shortfall_schedule(quantity, duration, step_s, lot_size=lot, **params)
    check(offsets, qtys, quantity, duration * S, lot)
    if risk_aversion == 0.0 or volatility == 0.0:
        tw = twap_schedule(quantity, duration, step_s, lot_size=lot)
        assert (tw[0] == offsets).all() and (tw[1] == qtys).all()
    kappa = shortfall_kappa(duration, step_s, **params)
    if kappa * duration < 50:
        got = dict(zip((offsets // (step_s * S)).tolist(), (qtys // lot).tolist()))
        for k, q in enumerate(ref.shortfall_quotas(lots, duration, step_s, **params)):
            assert abs(got.get(k, 0) - q) < 1 + 1e-6 * max(1.0, q), (k, got.get(k, 0), q)


@settings(max_examples=300, deadline=None)
@given(
    lots_and_lot,
    st.floats(0.001, 1.0),
    st.integers(0, 5_000),
    st.one_of(st.none(), st.integers(0, 50)),
    st.lists(st.one_of(st.just(0), st.integers(0, 100_000), st.integers(0, 2**64 - 1)), max_size=60),
)
def test_pov_parity(ll, rate, min_child, extra_lots, volumes):
    lots, lot = ll
    quantity = lots * lot
    max_child = None if extra_lots is None else (max(-(-min_child // lot), 1) + extra_lots) * lot
    p = PovTracker(quantity, rate, min_child=min_child, max_child=max_child, lot_size=lot)
    r = ref.RefPov(quantity, rate, min_child, max_child, lot)
    for v in volumes:
        child = p.on_market_volume(v)
        assert child == r.on_market_volume(v)
        assert p.sent <= min(p.target, quantity)
        if child:
            assert child % lot == 0
            assert child >= min_child or p.is_done
            assert max_child is None or child <= max_child
    assert p.sent + p.remaining == quantity


@settings(max_examples=300, deadline=None)
@given(
    lots_and_lot,
    st.floats(0.001, 1.0),
    st.one_of(st.just(0.0), st.floats(0.0, 1.0, exclude_max=True)),  # display jitter is in [0, 1)
    st.integers(0, 2**64 - 1),
    st.lists(st.tuples(st.floats(0.0, 1.0), st.booleans()), min_size=1, max_size=100),
)
def test_iceberg_parity_and_conservation(ll, visible, jitter, seed, events):
    lots, lot = ll
    quantity = lots * lot
    ice = Iceberg(quantity, visible, lot_size=lot, display_jitter_pct=jitter, seed=seed)
    r = ref.RefIceberg(quantity, visible, lot, jitter, seed)
    assert ice.next_chunk() == r.next_chunk()
    for frac, cancel in events:
        if ice.working == 0:
            assert ice.next_chunk() == r.next_chunk()
        if cancel and frac < 0.1:
            assert ice.on_cancel() == r.on_cancel()
        elif ice.working:
            w = ice.working // lot
            fill = min(max(math.ceil(w * frac), 1), w) * lot
            assert ice.on_fill(fill) == r.on_fill(fill)
        assert ice.filled + ice.working + ice.hidden == quantity
        assert (ice.filled, ice.working, ice.hidden) == (r.filled, r.working, r.hidden)
        with pytest.raises(ValidationError) as e:
            ice.on_fill(ice.working + lot)
        assert e.value.field == "fill_qty"


# ---------------------------------------------------------------------------------------------
# Bad input: the exception class and the field
# ---------------------------------------------------------------------------------------------


def raises_field(field, fn, *args, **kwargs):
    with pytest.raises(ValidationError) as e:
        fn(*args, **kwargs)
    assert e.value.field == field, (e.value.field, str(e.value))
    return e.value


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        ((100, 60, 61), {}, "interval_seconds"),
        ((100, 0, 1), {}, "duration_seconds"),
        ((100, -60, 1), {}, "duration_seconds"),
        ((100, math.nan, 1), {}, "duration_seconds"),
        ((100, math.inf, 1), {}, "duration_seconds"),
        ((100, 60, 0), {}, "interval_seconds"),
        ((100, 60, -1), {}, "interval_seconds"),
        ((100, 60, math.nan), {}, "interval_seconds"),
        ((0, 60, 1), {}, "quantity"),
        ((-5, 60, 1), {}, "quantity"),
        ((100, 60, 1), {"lot_size": 3}, "quantity"),
        ((100, 60, 1), {"lot_size": 0}, "lot_size"),
        ((100, 60, 1), {"size_jitter_pct": 1.5}, "size_jitter_pct"),
        ((100, 60, 1), {"time_jitter_pct": -0.1}, "time_jitter_pct"),
        ((100, 60, 1), {"seed": -1}, "seed"),
    ],
)
def test_twap_bad_input(args, kwargs, field):
    err = raises_field(field, twap_schedule, *args, **kwargs)
    assert field in str(err)


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({9: -0.1}, "volume_profile[9]"),
        ({9: 0.0, 10: 0.0}, "volume_profile"),
        ({}, "volume_profile"),
        ({3: math.nan}, "volume_profile[3]"),
        ({24: 1.0}, "volume_profile"),
        ({-1: 1.0}, "volume_profile"),
        ({"nine": 1.0}, "volume_profile"),
        ({9: "lots"}, "volume_profile[9]"),
        ([0.5, 0.5], "volume_profile"),
    ],
)
def test_vwap_bad_profiles(profile, field):
    raises_field(field, vwap_schedule, 100, profile, 3600, 60, start_hour=9)


def test_vwap_bad_window_and_start():
    # The order's window has no volume: an error, not a silent TWAP.
    raises_field("volume_profile", vwap_schedule, 100, {9: 1.0}, 3600, 60, start_hour=12)
    raises_field("interval_seconds", vwap_schedule, 100, {9: 1.0}, 60, 120, start_hour=9)
    raises_field("duration_seconds", vwap_schedule, 100, {9: 1.0}, -60, 1, start_hour=9)
    raises_field("start_time_ns", vwap_schedule, 100, {9: 1.0}, 60, 1)
    raises_field("start_hour", vwap_schedule, 100, {9: 1.0}, 60, 1, start_hour=9, start_time_ns=0)
    raises_field("start_hour", vwap_schedule, 100, {9: 1.0}, 60, 1, start_hour=24)
    raises_field("start_time_ns", vwap_schedule, 100, {9: 1.0}, 60, 1, start_time_ns=-1)
    raises_field("bucket_weights[1]", vwap_curve_schedule, 100, [1.0, -1.0], 60, 60, 1, start_time_ns=0)
    raises_field("bucket_weights", vwap_curve_schedule, 100, [0.0, 0.0], 60, 60, 1, start_time_ns=0)
    raises_field("bucket_weights", vwap_curve_schedule, 100, [], 60, 60, 1, start_time_ns=0)
    raises_field("bucket_weights", vwap_curve_schedule, 100, "abc", 60, 60, 1, start_time_ns=0)
    raises_field("bucket_seconds", vwap_curve_schedule, 100, [1.0], 0, 60, 1, start_time_ns=0)
    raises_field("volumes", volume_curve_from_bars, [0, 1], [1.0])
    raises_field("timestamps_ns[0]", volume_curve_from_bars, [-1], [1.0])
    raises_field("bucket_seconds", volume_curve_from_bars, [0], [1.0], 7.0)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"risk_aversion": math.nan}, "risk_aversion"),
        ({"risk_aversion": -1e-6}, "risk_aversion"),
        ({"volatility": -0.1}, "volatility"),
        ({"volatility": math.nan}, "volatility"),
        ({"temporary_impact": 0.0}, "temporary_impact"),
        ({"permanent_impact": -1.0}, "permanent_impact"),
        ({"permanent_impact": 1e-5}, "permanent_impact"),  # eta_tilde = eta - gamma * tau / 2 <= 0
    ],
)
def test_shortfall_bad_input(overrides, field):
    params = {**AC, **overrides}
    raises_field(field, shortfall_schedule, 100, 60, 1, **params)
    raises_field(field, shortfall_kappa, 60, 1, **params)


def test_shortfall_bad_window():
    raises_field("interval_seconds", shortfall_schedule, 100, 60, 61, **AC)
    raises_field("duration_seconds", shortfall_schedule, 100, 0, 1, **AC)


@pytest.mark.parametrize("visible", [0.0, -0.1, 1.01, 2.0, math.nan, math.inf])
def test_iceberg_visible_pct_outside_unit_interval(visible):
    raises_field("visible_pct", Iceberg, 100, visible)


def test_iceberg_bad_fills_change_nothing():
    ice = Iceberg(100, 0.1, lot_size=5)
    assert ice.next_chunk() == 10
    for bad in (11, 0, 3, -1):
        raises_field("fill_qty", ice.on_fill, bad)
    assert (ice.filled, ice.working, ice.hidden) == (0, 10, 90)
    raises_field("display_jitter_pct", Iceberg, 100, 0.1, display_jitter_pct=2.0)
    raises_field("display_jitter_pct", Iceberg, 100, 0.1, display_jitter_pct=1.0)
    raises_field("quantity", Iceberg, 0, 0.1)


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        ((100, 0.0), {}, "participation_rate"),
        ((100, 1.5), {}, "participation_rate"),
        ((100, math.nan), {}, "participation_rate"),
        ((100, 0.1), {"min_child": 10, "max_child": 5}, "max_child"),
        ((100, 0.1), {"max_child": 5, "lot_size": 10}, "max_child"),
        ((100, 0.1), {"max_child": -1}, "max_child"),
        ((0, 0.1), {}, "quantity"),
        ((100, 0.1), {"min_child": -1}, "min_child"),
    ],
)
def test_pov_bad_input(args, kwargs, field):
    raises_field(field, PovTracker, *args, **kwargs)


def test_pov_negative_volume():
    raises_field("volume", PovTracker(100, 0.1).on_market_volume, -1)
