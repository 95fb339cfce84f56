"""The two measurements of a whole parent agree: `evaluate`'s simulator and a real Nautilus backtest
(`nautilus-sor backtest`'s runner) execute the IBM example's VWAP parents, taker and maker, at 500 / 375
shares over the backtest's 4 start windows, and their all-in costs per parent are compared.

They are independent implementations of the execution (the simulator's own matching and slice loop
against Nautilus's engine with our algorithms, fill model and clock), sharing only the core's rules, so
agreement checks both. Before the backtest's clock ticks and tie order (docs/evaluation.md, "Backtest
clock"), maker differed by -0.42 bps a parent on average and by up to 0.72."""

from __future__ import annotations

import dataclasses
import sys
from decimal import Decimal

import msgspec
import numpy as np
import pandas as pd
import pytest

from shared_data import DATA, ROOT, needs_data

sys.path.insert(0, str(ROOT / "scripts"))
import compare_styles  # noqa: E402  (the style comparison's own config and simulator set-up)

IBM = DATA / "lean_equity_ticks" / "ibm"
FACTOR = Decimal("0.25")  # the example's parents, 2000 / 1500 shares, at 500 / 375


def _backtest_costs(raw: dict, market, style: str) -> dict[tuple[str, int], float]:
    """All-in cost (bps) of each router parent over the 4 repeat windows, keyed by (side, arrival ns)."""
    from nautilus_sor.backtest.repeats import plan_repeats, run_repeats
    from nautilus_sor.backtest.runner import prepare_run

    config = compare_styles._config(raw, style, FACTOR, 4)
    repeats = run_repeats(prepare_run(config, market=market), plan_repeats(config, market, 4), workers=1).repeats
    rows = repeats[repeats["scenario"] == "router"]
    # A parent's id carries its arrival second (Nautilus's O-YYYYMMDD-HHMMSS-... client order ids).
    arrival = pd.to_datetime(rows["parent_id"].str.slice(2, 17), format="%Y%m%d-%H%M%S", utc=True).astype("int64")
    return {(str(side), int(ts)): float(cost) for side, ts, cost in zip(rows["side"], arrival, rows["all_in_bps"])}


def _simulator_cost(sim, params, side: str, quantity: float, start_ns: int, style: str) -> float:
    from nautilus_sor.backtest.sim.evaluate import _row
    from nautilus_sor.backtest.sim.exchange import BUY, SELL
    from nautilus_sor.backtest.sim.feeds import LearningFeed
    from nautilus_sor.backtest.sim.simulator import Parent, ParentRun

    router = sim.router()
    parent = Parent(BUY if side == "BUY" else SELL, quantity, start_ns, "vwap")
    run = ParentRun(sim, parent, "router", router=router, feed=LearningFeed(router), params=dataclasses.replace(params, execution_style=style))
    result = run.run()
    row = _row(sim, parent, "router", style, result.fills, result.unfilled, result.end_ns, run.ex, sim.consolidated_mid(start_ns), len(result.decisions))
    return float(row["cost_all_in_bps"])


@pytest.mark.slow
@needs_data(IBM)
def test_evaluate_and_the_backtest_cost_each_ibm_parent_alike():
    from nautilus_sor.backtest.runner import build_market_for
    from nautilus_sor.config import load_config

    config = load_config(ROOT / "examples" / "ibm_vwap.json")
    raw = msgspec.to_builtins(config)
    market = build_market_for(config)
    backtest = {style: _backtest_costs(raw, market, style) for style in ("taker", "maker")}
    sim, params = compare_styles.simulator_for(raw)
    quantity = {o["side"]: float(Decimal(o["quantity"]) * FACTOR) for o in raw["orders"]}
    assert quantity == {"BUY": 500.0, "SELL": 375.0}
    assert len(backtest["maker"]) == 8 and backtest["maker"].keys() == backtest["taker"].keys()
    diffs = {style: [] for style in ("taker", "maker")}
    for (side, start_ns), _ in sorted(backtest["maker"].items()):
        for style in ("taker", "maker"):
            diffs[style].append(backtest[style][(side, start_ns)] - _simulator_cost(sim, params, side, quantity[side], start_ns, style))
    taker, maker = np.array(diffs["taker"]), np.array(diffs["maker"])
    # Measured (10 ms clock; the simulator on the live slice rule, its schedules in whole lots): taker within
    # 0.004 bps a parent (0.039 with router-unit slices, 0.10 when the simulator also retried within a
    # slice), maker within 0.17 (0.44, 0.40), maker's mean +0.02.
    assert np.abs(taker).max() < 0.02, taker
    assert np.abs(maker).max() < 0.3, maker
    assert abs(maker.mean()) < 0.1, maker  # before the clock and tie fixes: -0.42
