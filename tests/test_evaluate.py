"""The execution driver, the snapshot optimum, the lower bound and the evaluation grid, on tiny hand-made markets (and one short run
on the real Binance data when it is there)."""

from pathlib import Path

import numpy as np
import pytest
from sim_fixtures import MS, market, random_market, venue

from nautilus_sor.backtest.sim.evaluate import EvalConfig, evaluate_market, headline_lines, markdown_summary, summarize
from nautilus_sor.analysis.stats import t975 as t_quantile_975
from nautilus_sor.backtest.sim.exchange import BUY, SELL
from nautilus_sor.backtest.sim.optimum import lower_bound_bps, merged_take, snapshot_optimum_fills
from nautilus_sor.backtest.sim.market import SimMarket
from nautilus_sor.backtest.sim.params import ExecParams
from nautilus_sor.backtest.sim.simulator import Parent, cost_bps, run_parent
from nautilus_sor.exceptions import ValidationError
from shared_data import DATA, needs_data

S = 1_000_000_000


def two_venues(latency_b=0.0):
    # A: tight but thin and expensive; B: wide, deep and cheap. Static books over 100 s.
    a = venue("A", [(0, [(99.9, 1.0)], [(100.1, 1.0), (100.2, 1.0)])], taker_fee=0.001, lot_size=0.1)
    b = venue("B", [(0, [(99.8, 10.0)], [(100.2, 10.0), (100.3, 10.0)])], taker_fee=0.0, latency_ms=latency_b, lot_size=0.1)
    return market([a, b], 0, 100 * S)


def test_cost_is_bps_vs_arrival_mid_with_fees_and_mirrored_for_sells():
    from nautilus_sor.backtest.sim.exchange import Fill

    buy = [Fill(0, "A", 100.1, 1.0, 0.1001, "TAKER")]
    assert cost_bps(buy, BUY, 100.0) == pytest.approx((100.2001 - 100.0) / 100.0 * 1e4)
    sell = [Fill(0, "A", 99.9, 1.0, 0.0999, "TAKER")]
    assert cost_bps(sell, SELL, 100.0) == pytest.approx((100.0 - 99.8001) / 100.0 * 1e4)


def test_snapshot_optimum_takes_the_cheapest_all_in_units_across_venues_and_consumes_them():
    sim = SimMarket(two_venues())
    ex = sim.exchanges()
    # Buy 2: A's 100.1 costs 100.2001 all-in, B's 100.2 costs 100.2: B first (all 10 at 100.2 are cheaper).
    fills, left = merged_take(sim, ex, BUY, 2.0, 0)
    assert left == 0 and [(f.venue, f.price, f.size) for f in fills] == [("B", 100.2, 2.0)]
    # Two slices at the same book: the second does not reuse the first's liquidity.
    fills, left = snapshot_optimum_fills(sim, sim.exchanges(), BUY, [(0, 9.0), (0, 2.0)])
    assert [(f.venue, f.price, round(f.size, 9)) for f in fills] == [("B", 100.2, 9.0), ("B", 100.2, 1.0), ("A", 100.1, 1.0)]


def test_router_scenario_splits_by_all_in_cost_and_single_venue_takes_only_there():
    sim = SimMarket(two_venues(), ExecParams(horizon_s=10, interval_s=1, latency_risk_weight=0.0, miss_cost_bps=0.0))
    parent = Parent(BUY, 2.0, 1 * S, "aggressive")
    routed = run_parent(sim, parent, "router")
    assert routed.unfilled == 0 and {f.venue for f in routed.fills} == {"B"}
    single = run_parent(sim, parent, "single:A")
    assert {f.venue for f in single.fills} == {"A"}
    assert [round(f.size, 9) for f in single.fills] == [1.0, 1.0]  # walked A's two levels
    mid = sim.consolidated_mid(parent.start_ns)
    assert routed.cost_bps(mid) < single.cost_bps(mid)


def test_equal_split_divides_each_slice_over_the_venues_in_whole_lots():
    sim = SimMarket(two_venues(), ExecParams(horizon_s=10, interval_s=5))
    res = run_parent(sim, Parent(BUY, 1.0, 1 * S, "twap"), "equal_split")
    by_venue = {}
    for d in res.decisions:
        by_venue.setdefault(d.venue, []).append(round(d.qty, 9))
    assert by_venue == {"A": [0.3, 0.3], "B": [0.2, 0.2]}  # slices of 0.5 -> 0.2 each + the 0.1 remainder to A
    assert res.filled == pytest.approx(1.0)


def test_twap_slices_follow_the_core_schedule():
    sim = SimMarket(two_venues(), ExecParams(horizon_s=10, interval_s=2))
    res = run_parent(sim, Parent(SELL, 1.0, 1 * S, "twap"), "single:B")
    assert [d.ts for d in res.decisions] == [1 * S + k * 2 * S for k in range(5)]
    assert sum(d.qty for d in res.decisions) == pytest.approx(1.0)


def test_iceberg_rests_clips_at_the_touch_and_fills_from_the_tape():
    rows = [(0, [(99.9, 1.0)], [(100.1, 1.0)])]
    trades = [(2 * S + k * 100 * MS, 99.9, 0.5, SELL) for k in range(40)]
    v = venue("A", rows, trades, maker_fee=-0.0001, lot_size=0.1)
    sim = SimMarket(market([v], 0, 100 * S), ExecParams(horizon_s=20, interval_s=2, iceberg_visible_pct=0.5))
    res = run_parent(sim, Parent(BUY, 1.0, 1 * S, "iceberg"), "single:A")
    assert res.unfilled == 0 and {f.liquidity for f in res.fills} == {"MAKER"}
    assert {d.qty for d in res.decisions} == {0.5} and {d.price for d in res.decisions} == {99.9}
    # The first clip queued behind 1.0: the first two prints (1.0) filled the queue ahead.
    assert res.fills[0].ts == 2 * S + 200 * MS


def test_latency_changes_what_an_order_meets():
    rows = [(0, [(99.9, 5.0)], [(100.1, 5.0)]), (1 * S + 3 * MS, [(99.9, 5.0)], [(100.5, 5.0)])]
    fast = SimMarket(market([venue("A", rows, latency_ms=1.0)], 0, 100 * S))
    slow = SimMarket(market([venue("A", rows, latency_ms=5.0)], 0, 100 * S))
    parent = Parent(BUY, 1.0, 1 * S, "aggressive")
    assert run_parent(fast, parent, "single:A").fills[0].price == 100.1
    # Slow: the IOC (limit 100.1, what was published) meets 100.5 and is cancelled; with no later book
    # update the retry waits 1 s after the response (1.010 s), and pays 100.5 on arrival.
    res = run_parent(slow, parent, "single:A")
    assert [d.price for d in res.decisions] == [100.1, 100.5]
    assert [(f.price, f.ts) for f in res.fills] == [(100.5, 2 * S + 10 * MS + 5 * MS)]


def test_bad_inputs_are_refused_with_the_field():
    sim = SimMarket(two_venues())
    with pytest.raises(ValidationError) as err:
        run_parent(sim, Parent(BUY, 1.0, 0, "pov"), "router")
    assert err.value.field == "algorithm"
    with pytest.raises(ValidationError) as err:
        run_parent(sim, Parent(BUY, 1.0, 0, "twap"), "single:Z")
    assert err.value.field == "scenario"
    with pytest.raises(ValidationError) as err:
        ExecParams(horizon_s=0).validate()
    assert err.value.field == "horizon_s"


def test_t_quantile_matches_the_table():
    for df, q in [(1, 12.706), (2, 4.303), (3, 3.182), (5, 2.571), (10, 2.228), (29, 2.045), (100, 1.984)]:
        assert t_quantile_975(df) == pytest.approx(q, abs=2e-3)


def test_small_evaluation_grid_compares_every_scenario_in_one_run():
    sim = SimMarket(random_market(seconds=200), ExecParams(horizon_s=20, interval_s=4))
    cfg = EvalConfig(starts=3, sizes={"small": 0.002, "5%": 0.05}, params=sim.params)
    calls = []
    runs = evaluate_market(sim, cfg, progress=lambda: calls.append(1))
    assert len(calls) == 4 * 2 * 2 * 3  # once per parent (all of its scenarios)
    scenarios = set(runs["scenario"])
    assert {"router", "equal_split", "exante_best", "hindsight_best", "single_venue_twap", "snapshot_optimum", "lower_bound"} <= scenarios
    per_parent = runs.groupby(["algorithm", "size", "side", "start_ns"])
    assert per_parent.ngroups == 4 * 2 * 2 * 3
    # Hindsight best is, per parent, the cheapest single venue.
    for _, g in per_parent:
        singles = g[g["scenario"].str.startswith("single:")]["cost_all_in_bps"]
        assert g[g["scenario"] == "hindsight_best"]["cost_all_in_bps"].iloc[0] == pytest.approx(singles.min())
    summary = summarize(runs)
    assert len(summary) == 8 and np.isfinite(summary["router_bps"]).all()
    text = markdown_summary(summary, {sim.market.name: ["a note"]}, {"starts": 3})
    assert "a note" in text and "| aggressive | small |" in text
    # The console's headline per series: the router's paired saving against each baseline, as summarized.
    lines = headline_lines(summary)
    assert len(lines) == 8 * 4
    for k, (_, row) in enumerate(summary.iterrows()):
        assert lines[4 * k].startswith(f"{row['market']} {row['algorithm']} {row['size']} (")
        assert lines[4 * k].endswith("all-in, paired over 3 start times):")
        for j, base in enumerate(("equal_split", "exante_best", "hindsight_best")):
            mean, half = row[f"saving_vs_{base}_bps"], row[f"saving_vs_{base}_ci"]
            verb = "saved" if mean >= 0 else "LOST"
            assert lines[4 * k + 1 + j].strip().startswith(f"routing {verb} {abs(mean):.2f} ± {half:.2f} bps vs")
    # Every scenario of this grid fills in full before the clean-up, so no series has a warning; one whose
    # baseline (or router) filled less than 99.9% on average gets one line naming each such scenario.
    assert (summary[["router_fill", "equal_split_fill", "exante_best_fill", "hindsight_best_fill"]] >= 0.999).all().all()
    short = summary.iloc[[0, 1]].copy()
    short["exante_best_fill"] = [0.4, 0.9995]
    short["router_fill"] = [1.0, 0.9]
    warned = headline_lines(short)
    assert len(warned) == 2 * 5
    assert warned[4] == ("  warning: filled before the clean-up, mean over parents: exante_best 40.0% (router 100.0%); "
                         "the rest is priced by a clean-up across every venue's books at the horizon's end")
    assert warned[9].startswith("  warning: filled before the clean-up, mean over parents: router 90.0%; the rest")


@needs_data(DATA / "binance_btc_l2_20240808")
def test_short_evaluation_on_the_real_binance_data():
    path = DATA / "binance_btc_l2_20240808"
    from nautilus_sor.backtest.data.binance import load_binance_btc

    sim = SimMarket(load_binance_btc(path), ExecParams(horizon_s=30, interval_s=5))
    cfg = EvalConfig(starts=2, algorithms=("aggressive", "twap"), sizes={"1%": 0.01}, sides=(BUY,), params=sim.params)
    runs = evaluate_market(sim, cfg)
    routed = runs[runs["scenario"] == "router"]
    assert (routed["fill_ratio"] > 0.99).all()
    # Fees in: a taker buy on Binance costs at least the cheapest taker fee (5 bps) minus the half spread.
    assert (runs[runs["scenario"] == "snapshot_optimum"]["cost_all_in_bps"] > 4.0).all()
    # The perpetuals are other instruments: their basis is removed at each decision, and no scenario beats the bound.
    assert sim.basis.active and sim.basis.reference == "BINANCE_SPOT"
    _assert_bound_holds(runs)


def test_router_carries_a_sub_lot_rest_to_later_slices_instead_of_paying_the_fine_lot_venue():
    # F: lot 0.01, 10 bps taker; C: lot 0.1, no fee; same deep book. A TWAP of 0.45 in 3 slices of 0.15:
    # each slice's 0.05 rest fits only F's lot. Carried, the rests make whole C lots later; only the
    # last slice's exact rest (0.05 after 0.1 + 0.1 + 0.2 + ...) may go to F.
    f = venue("F", [(0, [(99.9, 50.0)], [(100.1, 50.0)])], taker_fee=0.001, lot_size=0.01)
    c = venue("C", [(0, [(99.9, 50.0)], [(100.1, 50.0)])], taker_fee=0.0, lot_size=0.1)
    sim = SimMarket(market([f, c], 0, 100 * S), ExecParams(horizon_s=30, interval_s=10, latency_risk_weight=0.0, miss_cost_bps=0.0))
    res = run_parent(sim, Parent(BUY, 0.45, 1 * S, "twap"), "router")
    per_slice = sorted((d.ts // S, d.venue, round(d.qty, 9)) for d in res.decisions)
    # Slice 1: 0.1 on C (0.05 carried); slice 2: 0.15 + 0.05 = 0.2 on C; slice 3 (last, exact): 0.15 -> 0.1 on C + 0.05 on F.
    assert per_slice == [(1, "C", 0.1), (11, "C", 0.2), (21, "C", 0.1), (21, "F", 0.05)]
    assert res.filled == pytest.approx(0.45) and res.unfilled == pytest.approx(0.0, abs=1e-12)


def _assert_bound_holds(runs):
    for column in ("cost_all_in_bps", "cost_all_in_arrival_basis_bps"):
        bound = runs[runs["scenario"] == "lower_bound"].set_index(["algorithm", "size", "side", "start_ns"])[column]
        others = runs[runs["scenario"] != "lower_bound"].join(bound.rename("bound"), on=["algorithm", "size", "side", "start_ns"])
        assert others["bound"].notna().all()
        below = others[others[column] < others["bound"] - 1e-9]
        assert below.empty, below[["scenario", "algorithm", "size", column, "bound"]]


def test_every_scenario_costs_at_least_the_lower_bound_and_the_snapshot_optimum_is_not_one():
    # Random books and tapes, every algorithm (passive clips included), both sides.
    sim = SimMarket(random_market(seed=3, seconds=200), ExecParams(horizon_s=20, interval_s=4))
    runs = evaluate_market(sim, EvalConfig(starts=4, sizes={"small": 0.002, "5%": 0.05}, params=sim.params))
    _assert_bound_holds(runs)
    # The snapshot optimum is beaten by some scenario on some parent: it is no bound.
    key = ["algorithm", "size", "side", "start_ns"]
    opt = runs[runs["scenario"] == "snapshot_optimum"].set_index(key)["cost_all_in_bps"]
    best_other = runs[~runs["scenario"].isin(["snapshot_optimum", "lower_bound"])].groupby(key)["cost_all_in_bps"].min()
    assert (best_other < opt.reindex(best_other.index) - 1e-6).any()


def test_lower_bound_is_the_best_touch_all_in_over_the_window_by_hand():
    # A's ask falls to 100.0 at 5 s (taker 10 bps -> 100.1 all-in), its bid 99.9 with a 10 bp maker fee is
    # 99.9999; B's bid 99.95 with a 1 bp maker fee -> 99.959995 all-in (a resting buy's price): the cheapest
    # unit in [0, 10 s] for a buy.
    a = venue("A", [(0, [(99.9, 1.0)], [(100.1, 1.0)]), (5 * S, [(99.9, 1.0)], [(100.0, 1.0)])], taker_fee=0.001, maker_fee=0.001)
    b = venue("B", [(0, [(99.95, 1.0)], [(100.2, 1.0)])], maker_fee=0.0001)
    sim = SimMarket(market([a, b], 0, 100 * S))
    assert lower_bound_bps(sim, BUY, 0, 10 * S, 100.0) == pytest.approx((99.95 * 1.0001 - 100.0) / 100.0 * 1e4)
    # For a sell the best received per unit is B's ask 100.2 resting, less its 1 bp maker fee.
    assert lower_bound_bps(sim, SELL, 0, 4 * S, 100.0) == pytest.approx((100.0 - 100.2 * 0.9999) / 100.0 * 1e4)


def test_basis_between_instruments_is_removed_at_each_decision_and_same_instrument_prices_are_not():
    from dataclasses import replace as dc_replace

    # P trades 10 above R (another instrument, the loader marked its basis with a price_offset of 10);
    # at 5 s P's quotes jump by 1 (its basis moves, R does not).
    r = venue("R", [(0, [(99.9, 5.0)], [(100.1, 5.0)])], taker_fee=0.0, lot_size=0.1)
    p_rows = [(0, [(109.95, 5.0)], [(110.05, 5.0)]), (5 * S, [(110.95, 5.0)], [(111.05, 5.0)])]
    p = venue("P", p_rows, taker_fee=0.0, lot_size=0.1)
    grid = np.array([0], dtype=np.int64)
    # As the Binance loader leaves it: array prices minus the offset, `price_offset` set.
    p_shifted = dc_replace(p, price_offset=(grid, np.array([10.0])),
                           book=dc_replace(p.book, bid_px=p.book.bid_px - 10.0, ask_px=p.book.ask_px - 10.0))
    sim = SimMarket(market([r, p_shifted], 0, 100 * S), ExecParams(horizon_s=10, interval_s=5))
    assert sim.basis.active and sim.basis("P", 1 * S) == pytest.approx(10.0) and sim.basis("P", 6 * S) == pytest.approx(11.0)
    # Executions see P's own prices.
    res = run_parent(sim, Parent(BUY, 1.0, 6 * S, "aggressive"), "single:P")
    assert res.fills[0].price == pytest.approx(111.05)
    # Costed with the basis at decision (6 s: 11): 100.05; with the basis at the arrival of a parent started
    # at 1 s (10): 101.05, the basis move charged.
    assert sim.consolidated_mid(6 * S) == pytest.approx(100.0)  # R 99.9/100.1 and P 99.95/100.05 aligned
    fill = res.fills[0]
    assert sim.aligned_fills([fill], "decision", 1 * S)[0].price == pytest.approx(100.05)
    assert sim.aligned_fills([fill], "arrival", 1 * S)[0].price == pytest.approx(101.05)
    # The router compares venues with the basis at decision removed: P's 100.05 beats R's 100.1.
    routed = run_parent(sim, Parent(BUY, 1.0, 6 * S, "aggressive"), "router")
    assert {f.venue for f in routed.fills} == {"P"}
    # Same instrument (no price_offset): nothing is removed, P at 110 is just dearer.
    same = SimMarket(market([r, p], 0, 100 * S), ExecParams(horizon_s=10, interval_s=5))
    assert not same.basis.active and same.basis("P", 6 * S) == 0.0
    assert {f.venue for f in run_parent(same, Parent(BUY, 1.0, 6 * S, "aggressive"), "router").fills} == {"R"}


def test_the_core_book_walks_match_a_pure_python_reference_on_every_row(monkeypatch):
    """Every row of this grid run twice: with the core's book walks and consumed liquidity
    (`_core.VenueBook`), and with `reference_venue_book.py` (the Python walks the core replaced, with the
    path-aware rule as a brute force over every recorded row since a take) in their place."""
    from reference_venue_book import ReferenceVenueBook
    from types import SimpleNamespace

    from nautilus_sor.backtest.sim import exchange, market

    def grid():
        sim = SimMarket(random_market(seed=11, seconds=240), ExecParams(horizon_s=20, interval_s=4))
        runs = evaluate_market(sim, EvalConfig(starts=4, sizes={"small": 0.002, "5%": 0.05}, params=sim.params))
        return {f"{r.algorithm}|{r.size}|{r.side}|{r.start_ns}|{r.scenario}": (r.cost_all_in_bps, r.filled, r.end_ns) for r in runs.itertuples()}

    core = grid()
    with monkeypatch.context() as m:  # the reference in place of the core's VenueBook, on the raw BookSeries
        m.setattr(exchange, "_core", SimpleNamespace(VenueBook=ReferenceVenueBook))
        m.setattr(exchange, "core_book", lambda book: book)
        m.setattr(market, "core_book", lambda book: book)
        reference = grid()
    assert len(core) == 640 and core.keys() == reference.keys()
    for key, want in reference.items():  # bit for bit: the same float operations in the same order
        assert all(a == b or (np.isnan(a) and np.isnan(b)) for a, b in zip(core[key], want)), (key, core[key], want)
