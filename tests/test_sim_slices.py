"""What a TWAP slice leaves, in `evaluate`'s simulator: the live algorithms' rule
(`execution_algorithms/base.py`, `_return_units`), stated there as: a slice is sent once; what does not
fill, or cannot be routed then, goes back to the schedule and joins the next slice; after the last slice
it is sent again one retry delay (1 s) after its answer, at most `max_retries` times, then abandoned.

Each expectation below is worked out by hand from that statement on a one-venue market (taker style),
not from the simulator's code."""

from __future__ import annotations

import pytest

from nautilus_sor.backtest.sim.market import SimMarket
from nautilus_sor.backtest.sim.params import ExecParams
from nautilus_sor.backtest.sim.simulator import Parent, ParentRun
from nautilus_sor.exceptions import ValidationError
from sim_fixtures import market, venue

S = 1_000_000_000
MS = 1_000_000
T0 = 100 * S
BUY = 1


def _rows(ask_at):
    """The book every 0.5 s from 0 to 200 s: bid 99 x 5, asks `ask_at(t_ns)` (a list, best first)."""
    return [(k * S // 2, [(99.0, 5.0)], ask_at(k * S // 2)) for k in range(400)]


def _run(rows, scenario, *, latency_ms=0.0, **params):
    v = venue("A", rows, latency_ms=latency_ms, lot_size=0.1)
    sim = SimMarket(market([v], 0, 200 * S), ExecParams(horizon_s=10.0, interval_s=5.0, **params))
    # Two slices of 1.0: at T0 and T0 + 5 s.
    return ParentRun(sim, Parent(BUY, 2.0, T0, "twap"), scenario).run()


def _fills(res):
    return [(f.ts - T0, f.price, round(f.size, 9)) for f in res.fills]


@pytest.mark.parametrize("scenario", ["single:A", "equal_split", "router"])
def test_what_a_slice_leaves_waits_for_the_next_slice(scenario):
    # 101 x 0.3 until T0 + 0.5 s, then only 102 x 5. Slice 1 takes the 0.3 at T0; its 0.7 is not sent again
    # when the book refills at T0 + 0.5 s but joins slice 2: 1.7 at 102 at T0 + 5 s.
    res = _run(_rows(lambda t: [(101.0, 0.3)] if t < T0 + S // 2 else [(102.0, 5.0)]), scenario)
    assert _fills(res) == [(0, 101.0, 0.3), (5 * S, 102.0, 1.7)]
    assert res.unfilled == 0.0


@pytest.mark.parametrize("scenario", ["single:A", "equal_split", "router"])
def test_within_slice_rule_retakes_the_rest_at_the_next_book_update(scenario):
    # The sensitivity rule (`slice_rule="within_slice"`): slice 1's 0.7 is taken when the book next updates
    # (T0 + 0.5 s, at 102); slice 2 takes its own 1.0 at T0 + 5 s.
    res = _run(_rows(lambda t: [(101.0, 0.3)] if t < T0 + S // 2 else [(102.0, 5.0)]), scenario, slice_rule="within_slice")
    assert _fills(res) == [(0, 101.0, 0.3), (S // 2, 102.0, 0.7), (5 * S, 102.0, 1.0)]


@pytest.mark.parametrize("scenario", ["single:A", "router"])
def test_after_the_last_slice_the_rest_is_sent_again_a_retry_delay_after_its_answer(scenario):
    # Latency 10 ms. Slice 1 at T0 fills 1.0 at 101 on arrival (T0 + 10 ms). At T0 + 5 s the ask is 101 x
    # 0.4 until T0 + 5.5 s, then none until 102 x 5 from T0 + 7.5 s. Slice 2 arrives at T0 + 5.01 s and
    # fills 0.4; its answer is back at T0 + 5.02 s. Retries: T0 + 6.02 s (no ask: nothing sent), T0 + 7.02 s
    # (none yet), T0 + 8.02 s: arrives T0 + 8.03 s and fills the 0.6 at 102.
    def asks(t):
        if t < T0 + 5 * S:
            return [(101.0, 5.0)]
        if t < T0 + 5 * S + S // 2:
            return [(101.0, 0.4)]
        return [] if t < T0 + 7 * S + S // 2 else [(102.0, 5.0)]

    res = _run(_rows(asks), scenario, latency_ms=10.0)
    assert _fills(res) == [(10 * MS, 101.0, 1.0), (5 * S + 10 * MS, 101.0, 0.4), (8 * S + 30 * MS, 102.0, 0.6)]
    assert res.unfilled == 0.0


@pytest.mark.parametrize(("max_retries", "filled_at"), [(10, 14 * S), (9, 14 * S), (8, None), (0, None)])
def test_the_rest_is_abandoned_after_max_retries(max_retries, filled_at):
    # No ask from T0 + 4 s to T0 + 13.2 s, then 102 x 5; latency 0. Slice 1 takes 1.0 at T0. Slice 2 (T0 + 5
    # s) finds no ask; retries at T0 + 6, 7, ..., 14 s: the ninth, at T0 + 14 s, fills the 1.0 at 102. With
    # fewer than nine retries the 1.0 is left unfilled.
    res = _run(_rows(lambda t: [(101.0, 5.0)] if t < T0 + 4 * S else [] if t < T0 + 13 * S + S // 5 else [(102.0, 5.0)]),
               "single:A", max_retries=max_retries)
    expected = [(0, 101.0, 1.0)] + ([(filled_at, 102.0, 1.0)] if filled_at is not None else [])
    assert _fills(res) == expected
    assert res.unfilled == (0.0 if filled_at is not None else pytest.approx(1.0))


@pytest.mark.parametrize(("field", "value"), [("max_retries", -1), ("max_retries", 1.5), ("aggressive_retries", -2), ("retry_delay_s", 0.0),
                                            ("slice_rule", "next_slice")])
def test_bad_retry_params_are_refused_naming_the_field(field, value):
    with pytest.raises(ValidationError, match=field) as err:
        ExecParams(**{field: value}).validate()
    assert err.value.field == field


def test_the_cli_refuses_a_bad_slice_rule_before_loading_any_market(tmp_path, capsys):
    from nautilus_sor.cli import main

    # No data under tmp_path: the refusal must come before the market is read.
    assert main(["evaluate", "--market", "binance_btc", "--data", str(tmp_path), "--slice-rule", "next_slice", "--quiet", "--out", str(tmp_path / "out")]) == 2
    assert "invalid slice_rule: 'next_slice'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("quantity", "lots"), [(2.37, (0.1, 0.25)), (2.4, (0.1, 0.25)), (0.05, (0.1,)), (7.0, (0.3, 0.7))])
def test_schedules_are_whole_lots_of_the_finest_venue_with_the_sub_lot_rest_last(quantity, lots):
    # As the live algorithms schedule in their instrument's lots: every slice a whole number of the finest
    # lot, the parent's sub-lot rest (if any) riding with the last slice, the total exactly the parent. A
    # parent below one lot is one router unit at a time (nothing else can hold it).
    venues = [venue(f"V{i}", _rows(lambda t: [(101.0, 5.0)]), lot_size=lot) for i, lot in enumerate(lots)]
    sim = SimMarket(market(venues, 0, 200 * S), ExecParams(horizon_s=20.0, interval_s=5.0))
    units = sim.to_units(quantity)
    lot = sim.min_lot_units
    got = [round(q / sim.unit) for _, q in sim.schedule("twap", quantity, T0)]
    assert sum(got) == units and len(got) == 4
    if units >= lot:
        assert all(q % lot == 0 for q in got[:-1]) and got[-1] % lot == units % lot
    assert [t for t, _ in sim.schedule("twap", quantity, T0)] == [T0 + k * 5 * S for k in range(4)]


@pytest.mark.parametrize("seed", [1, 2])
def test_no_rule_ever_fills_more_than_the_parent_and_a_routed_taker_parent_on_deep_books_fills_whole(seed):
    # Random markets (books on every venue all the time): under either slice rule, every algorithm, style and
    # scenario, a parent never fills more than its quantity (what slices leave is carried, never sent twice),
    # and a routed taker TWAP/VWAP, whose books are never empty here, fills in full.
    from dataclasses import replace

    from sim_fixtures import random_market

    sim = SimMarket(random_market(seed=seed, seconds=300), ExecParams(horizon_s=30.0, interval_s=5.0))
    for algorithm, styles in (("twap", ("taker", "maker", "adaptive")), ("vwap", ("taker", "maker")), ("aggressive", ("taker",)), ("iceberg", ("taker",))):
        for style in styles:
            for scenario in ["router", "single:" + sim.names[0]] + (["equal_split"] if style == "taker" else []):
                for rule in ("live", "within_slice"):
                    for quantity in (0.37, 17.0):
                        params = replace(sim.params, execution_style=style, slice_rule=rule)
                        res = ParentRun(sim, Parent(BUY, quantity, 60 * S + seed * 7 * S, algorithm), scenario, params=params).run()
                        case = (algorithm, style, scenario, rule, quantity)
                        assert res.filled <= quantity + 1e-9, case
                        if scenario == "router" and style == "taker" and algorithm in ("twap", "vwap") and quantity < 1:
                            assert res.unfilled == 0.0, case
