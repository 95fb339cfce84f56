"""One task of a sweep: one repeat of one point, run as a backtest on the stored market and reduced to a
small row of costs. A plain function: the driver runs it as a Ray task, the benchmark also in-process."""

from __future__ import annotations

import json
import math
import os
import socket
import time
from typing import Any

# Scenario columns of a row: f"{scenario}_{metric}".
SCENARIO_METRICS = ("cost_bps", "is_bps", "fill_rate", "opportunity_bps", "fees_bps")


def total_cost_bps(is_bps: float, fill_rate: float, opportunity_bps: float) -> float:
    """Perold's total shortfall in bps of the whole quantity: the filled part's cost plus the unfilled
    part's opportunity cost (see `tca.py`); nothing filled costs only the opportunity."""
    filled_part = 0.0 if fill_rate == 0 or (isinstance(is_bps, float) and math.isnan(is_bps)) else is_bps * fill_rate
    return filled_part + (0.0 if math.isnan(opportunity_bps) else opportunity_bps)


def scenario_costs(summary: Any) -> dict[str, float]:
    """`{scenario}_{metric}` for every scenario of a TCA scenario summary."""
    row: dict[str, float] = {}
    for rec in summary.to_dict("records"):
        name = str(rec["scenario"])
        values = {m: float(rec[m]) for m in ("is_bps", "fill_rate", "opportunity_bps", "fees_bps")}
        values["cost_bps"] = total_cost_bps(values["is_bps"], values["fill_rate"], values["opportunity_bps"])
        row.update({f"{name}_{m}": values[m] for m in SCENARIO_METRICS})
    return row


HINDSIGHT_BEST = "hindsight_best_venue"  # backtest.scenarios.HINDSIGHT_BEST (imported lazily: this module stays light)


def run_point_repeat(config_raw: dict[str, Any], market_path: str | None, *, point_id: str, key: str, repeat: int,
                     params: dict[str, Any], cache_dir: str | None = None) -> dict[str, Any]:
    """Runs one repeat of a point; returns its row (point, params, repeat, seed, each scenario's costs,
    elapsed seconds). The market: a synthetic one stored at `market_path` (`market_store`), else the
    config's recorded market, read from its cached catalog under `cache_dir`."""
    from nautilus_sor.backtest.runner import build_market_for, market_config_for, run_backtest
    from nautilus_sor.config import parse_config
    from nautilus_sor.sweep.market_store import load_stored_market
    from nautilus_sor.analysis.tca import analyze

    started = time.perf_counter()
    config = parse_config(config_raw)
    if market_path is not None:
        market_config = market_config_for(config)
        market = load_stored_market(market_path, market_config)
        seed = int(market_config.seed)
    else:
        market = build_market_for(config, cache_dir=cache_dir)
        seed = int(config.backtest.seed)
    results = run_backtest(config, market=market)
    row: dict[str, Any] = {
        "point_id": point_id,
        "key": key,
        "repeat": repeat,
        "seed": seed,
        "params": json.dumps(params, sort_keys=True),
        **scenario_costs(analyze(results).scenario_summary),
        "best_single_venue_name": ",".join(sorted(set(results.parents.loc[results.parents["scenario"] == HINDSIGHT_BEST, "baseline_venue"]))),
        "elapsed_s": time.perf_counter() - started,
        "host": f"{socket.gethostname()}:{os.getpid()}",
    }
    return row
