"""Execution styles in `evaluate`'s simulator (`ExecParams.execution_style`): maker and adaptive TWAP
slices on hand-built one-venue markets, checked against what the rules of `execution_algorithms/styles.py`
say should happen, worked out by hand from each market below."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nautilus_sor.backtest.sim.evaluate import EvalConfig, check_styles
from nautilus_sor.backtest.sim.market import SimMarket
from nautilus_sor.backtest.sim.params import ExecParams
from nautilus_sor.backtest.sim.simulator import Parent, ParentRun
from nautilus_sor.exceptions import ConfigError, ValidationError
from sim_fixtures import market, venue

S = 1_000_000_000
T0 = 100 * S  # the parent's start (the market starts at 0: room for the tape before it)
BUY = 1


def _flat_book(until_s: int = 400, step_s: float = 0.5) -> list:
    """Bid 100 x 5, ask 101 x 5, republished every `step_s`."""
    return [(int(k * step_s * S), [(100.0, 5.0)], [(101.0, 5.0)]) for k in range(int(until_s / step_s))]


def _run(rows, trades, *, style="maker", scenario="single:A", quantity=2.0, horizon_s=10.0, interval_s=5.0, latency_ms=0.0, **params):
    v = venue("A", rows, trades, maker_fee=0.0002, taker_fee=0.0005, latency_ms=latency_ms, lot_size=0.1)
    sim = SimMarket(market([v], 0, 400 * S), ExecParams(horizon_s=horizon_s, interval_s=interval_s))
    p = replace(sim.params, execution_style=style, **params)
    return ParentRun(sim, Parent(BUY, quantity, T0, "twap"), scenario, params=p).run()


@pytest.mark.parametrize("scenario", ["single:A", "router"])
def test_maker_slice_rests_and_fills_from_a_trade_through_its_price_at_the_maker_fee(scenario):
    # Two slices of 1 at T0 and T0+5 s rest at our touch, the bid 100; a seller trades 3 at 99 (through
    # our price) inside each slice: each slice fills whole at 100 as maker, fee 1 * 100 * 2 bps = 0.02.
    trades = [(T0 + 2 * S, 99.0, 3.0, -1), (T0 + 7 * S, 99.0, 3.0, -1)]
    res = _run(_flat_book(), trades, scenario=scenario, catch_up_fraction=1.0)
    assert [(f.ts, f.price, f.size, f.liquidity) for f in res.fills] == [(T0 + 2 * S, 100.0, 1.0, "MAKER"), (T0 + 7 * S, 100.0, 1.0, "MAKER")]
    assert [f.fee for f in res.fills] == pytest.approx([0.02, 0.02])
    assert res.unfilled == 0.0
    assert res.rested_slices == 2 and res.taken_slices == 0


def test_the_unfilled_rest_is_crossed_at_the_slice_end_and_quantity_is_conserved():
    # Latency 10 ms. Slice 1 (1.0 at T0) gets 0.4 from a trade through its price; nothing else trades. At
    # its end (T0+5 s) the rest, 0.6, is cancelled (arrives +10 ms, confirmed +20 ms) and taken at the ask
    # 101 (arrives +30 ms). Slice 2 gets nothing resting and is taken whole at its end (T0+10 s, the
    # horizon; the last slice may rest passive_horizon_s = 5 s). Filled + unfilled = the parent, exactly.
    trades = [(T0 + 1 * S, 99.0, 0.4, -1)]
    res = _run(_flat_book(), trades, latency_ms=10.0, catch_up_fraction=1.0)
    got = [(f.ts - T0, f.price, round(f.size, 9), f.liquidity) for f in res.fills]
    ms = 1_000_000
    assert got == [(1 * S, 100.0, 0.4, "MAKER"), (5 * S + 30 * ms, 101.0, 0.6, "TAKER"), (10 * S + 30 * ms, 101.0, 1.0, "TAKER")]
    assert res.filled + res.unfilled == 2.0
    assert res.unfilled == 0.0
    assert sum(f.fee for f in res.fills if f.liquidity == "TAKER") == pytest.approx(1.6 * 101 * 0.0005)


def test_behind_schedule_by_more_than_catch_up_fraction_crosses_at_the_first_check():
    # Slice 1 is half the parent: from T0 it is 50% of the parent behind, more than 10%, so the first check
    # (T0 + reprice_interval_s = T0+0.5 s) crosses it; with catch_up_fraction 1 it rests to T0+5 s.
    early = _run(_flat_book(), [], catch_up_fraction=0.1, reprice_interval_s=0.5)
    late = _run(_flat_book(), [], catch_up_fraction=1.0, reprice_interval_s=0.5)
    assert [f.ts - T0 for f in early.fills][:1] == [S // 2]
    assert [f.ts - T0 for f in late.fills][:1] == [5 * S]
    assert early.filled == late.filled == 2.0


def _rising_bid() -> list:
    """Bid 100 at 0; our side's touch moves away (up) at T0+0.3 s (100.5), T0+0.6 s (101), T0+1.6 s (101.5)."""
    rows = [(int(k * 0.5 * S), [(100.0, 5.0)], [(102.0, 5.0)]) for k in range(2 * T0 // S)]
    for at, bid in ((0.3, 100.5), (0.6, 101.0), (1.6, 101.5)):
        rows.append((T0 + int(at * S), [(bid, 5.0)], [(102.0, 5.0)]))
    rows.append((T0 + 50 * S, [(101.5, 5.0)], [(102.0, 5.0)]))
    return rows


@pytest.mark.parametrize(("interval", "expected"), [
    # Checks every interval after each (re-)pricing; a check re-prices to the touch it sees if it moved away.
    (1.0, [(0.0, 100.0), (1.0, 101.0), (2.0, 101.5)]),
    (0.25, [(0.0, 100.0), (0.5, 100.5), (0.75, 101.0), (1.75, 101.5)]),
])
def test_a_resting_slice_is_repriced_when_the_touch_moves_away_at_most_once_per_interval(interval, expected):
    # One slice of 1 (horizon = interval = 5 s) resting to T0+5 s; no trades, so it is crossed then.
    res = _run(_rising_bid(), [], quantity=1.0, horizon_s=5.0, interval_s=5.0, reprice_interval_s=interval, catch_up_fraction=1.0)
    limits = [((d.ts - T0) / S, d.price) for d in res.decisions if d.kind == "LIMIT"]
    assert limits == expected
    assert res.reprices == len(expected) - 1
    assert all(b[0] - a[0] >= interval for a, b in zip(limits, limits[1:]))
    assert [(f.ts - T0, f.liquidity) for f in res.fills] == [(5 * S, "TAKER")]


def _two_venue_run(trades_a):
    """A: bid 100 x 5 / ask 101 x 5 (taker 5 bps, maker 2 bps); B: asks only, 100.6 x 5 (nothing to join
    there, cheaper to cross). An adaptive TWAP buying 2 in two slices of 1, router scenario."""
    a = venue("A", _flat_book(), trades_a, maker_fee=0.0002, taker_fee=0.0005, lot_size=0.1)
    b = venue("B", [(int(k * 0.5 * S), [], [(100.6, 5.0), (100.7, 5.0)]) for k in range(800)], [], maker_fee=0.0002, taker_fee=0.0005,
              lot_size=0.1)
    sim = SimMarket(market([a, b], 0, 400 * S), ExecParams(horizon_s=10.0, interval_s=5.0))
    p = replace(sim.params, execution_style="adaptive", catch_up_fraction=1.0)
    return ParentRun(sim, Parent(BUY, 2.0, T0, "twap"), "router", params=p).run()


def test_adaptive_crosses_without_trades_and_rests_when_trades_are_plentiful():
    # No trades on A: fill probability 0, so resting on A then crossing there is expected to cost A's taker
    # fee + half spread, 5 + 0.5 / 100.5 = 54.75 bps of A's mid, against crossing now on B at 100.6:
    # 5 + (100.6 - 100.3) / 100.3 = 34.9 bps of the consolidated mid (bid 100, ask 100.6): both slices are
    # taken, on B. Sellers hitting A's bid (1 every 100 ms for 2 minutes before and during; the queue ahead
    # is 5): probability 1, resting costs the maker fee minus the half spread, 2 - 49.75 bps: both rest on
    # A and fill there as maker.
    quiet = _two_venue_run([])
    assert (quiet.rested_slices, quiet.taken_slices) == (0, 2)
    assert [(f.venue, f.price, f.size, f.liquidity) for f in quiet.fills] == [("B", 100.6, 1.0, "TAKER")] * 2
    busy = _two_venue_run([(k * S // 10, 100.0, 1.0, -1) for k in range(10, 1200)])
    assert (busy.rested_slices, busy.taken_slices) == (2, 0)
    assert [(f.venue, f.price, f.size, f.liquidity) for f in busy.fills] == [("A", 100.0, 1.0, "MAKER")] * 2


def test_adaptive_without_the_router_takes_as_the_live_algorithm_does():
    busy_tape = [(k * S // 10, 100.0, 1.0, -1) for k in range(10, 1200)]
    res = _run(_flat_book(), busy_tape, style="adaptive", scenario="single:A")
    assert (res.rested_slices, res.taken_slices) == (0, 2)


def test_bad_styles_are_refused_naming_the_field_and_value():
    with pytest.raises(ConfigError) as exc:
        ExecParams(execution_style="passive").validate()
    assert exc.value.field == "execution_style" and "'passive'" in str(exc.value)
    with pytest.raises(ConfigError) as exc:
        ExecParams(execution_style="maker", catch_up_fraction=0.0).validate()
    assert exc.value.field == "catch_up_fraction"
    with pytest.raises(ConfigError) as exc:
        ExecParams(execution_style="maker", reprice_interval_s=-1.0).validate()
    assert exc.value.field == "reprice_interval_s"
    with pytest.raises(ValidationError) as exc:
        ExecParams(execution_style="maker", passive_first_s=2.0).validate()
    assert exc.value.field == "passive_first_s"
    with pytest.raises(ConfigError) as exc:
        EvalConfig(styles=("taker", "Maker")).validate()
    assert exc.value.field == "styles" and "'Maker'" in str(exc.value)
    assert check_styles("maker,adaptive") == ("taker", "maker", "adaptive")
    with pytest.raises(ValidationError) as exc:
        _run(_flat_book(), [], scenario="equal_split")
    assert exc.value.field == "execution_style"


def test_evaluate_reports_each_style_paired_with_taker_by_start():
    from sim_fixtures import random_market

    from nautilus_sor.backtest.sim.evaluate import evaluate_market, markdown_summary, summarize

    sim = SimMarket(random_market(seconds=200), ExecParams(horizon_s=30.0, interval_s=5.0))
    cfg = EvalConfig(algorithms=("twap", "iceberg"), starts=3, params=sim.params, styles=check_styles("maker,adaptive"), sizes={"small": 0.01})
    runs = evaluate_market(sim, cfg)
    assert set(runs.loc[runs["algorithm"] == "iceberg", "scenario"]) & {"router:maker", "router:adaptive"} == set()  # styles: TWAP/VWAP only
    twap = runs[runs["algorithm"] == "twap"]
    row = summarize(runs).set_index("algorithm").loc["twap"]
    for style in ("maker", "adaptive"):
        # By hand: per start, buy and sell averaged, taker minus the style; then the mean over the 3 starts.
        diffs = []
        for start in sorted(twap["start_ns"].unique()):
            at = twap[twap["start_ns"] == start]
            taker = at.loc[at["scenario"] == "router", "cost_all_in_bps"].mean()
            styled = at.loc[at["scenario"] == f"router:{style}", "cost_all_in_bps"].mean()
            diffs.append(taker - styled)
        assert row[f"style_{style}_vs_taker_bps"] == pytest.approx(sum(diffs) / 3)
        assert row[f"style_{style}_vs_taker_n"] == 3
        assert row[f"style_{style}_maker_share"] > 0  # it did rest and fill passively
    assert pd_isnan(summarize(runs).set_index("algorithm").loc["iceberg"].get("styles"))
    assert "### Execution styles" in markdown_summary(summarize(runs), {}, {})


def pd_isnan(value: object) -> bool:
    return value is None or value != value


def test_with_the_router_a_slice_rests_what_the_coarsest_lot_holds_and_takes_the_rest_at_once():
    # As the live algorithm (`resting.py` `_placement`): A (lot 0.1) and C (lot 1.0) show the same book;
    # sellers hit A's bid all along, C trades nothing. One slice of 2.5: the venue is chosen for 2.0 (the
    # slice rounded down to the coarsest lot, 1.0): A, where the queue trades away (C's fill probability
    # is 0). A's lot holds all of 2.0, which rests and fills at the bid 100 as maker; the rest, 0.5, is
    # taken at once on A (C's lot cannot hold it) at the ask 101.
    busy = [(k * S // 10, 100.0, 1.0, -1) for k in range(10, 1200)]
    a = venue("A", _flat_book(), busy, maker_fee=0.0002, taker_fee=0.0005, lot_size=0.1)
    c = venue("C", _flat_book(), [], maker_fee=0.0002, taker_fee=0.0005, lot_size=1.0)
    sim = SimMarket(market([a, c], 0, 400 * S), ExecParams(horizon_s=5.0, interval_s=5.0))
    p = replace(sim.params, execution_style="maker", catch_up_fraction=1.0)
    res = ParentRun(sim, Parent(BUY, 2.5, T0, "twap"), "router", params=p).run()
    taker = [(f.ts - T0, f.venue, f.price, round(f.size, 9)) for f in res.fills if f.liquidity == "TAKER"]
    maker = [f for f in res.fills if f.liquidity == "MAKER"]
    assert taker == [(0, "A", 101.0, 0.5)]
    assert {f.venue for f in maker} == {"A"} and {f.price for f in maker} == {100.0}
    assert sum(f.size for f in maker) == pytest.approx(2.0)
    assert res.rested_slices == 1 and res.unfilled == 0.0
