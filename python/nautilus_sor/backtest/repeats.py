"""Repeats: the whole run (router and every baseline) on several markets.

What a repeat changes (`plan_repeats`):

- a synthetic market: its seed (`market.seed`, else `backtest.seed`, then + 1, + 2, ...), and the
  algorithms' seed (`backtest.seed` + i) with it;
- a recorded market: where the parents start. They keep their spacing and are shifted together by evenly
  spaced offsets from 0 to the room the market leaves after the last schedule ends (at least 1 s apart);
  the data is loaded once. The windows may overlap: then the repeats share data and the interval is
  narrower than independent days would give (the headline says so). An algorithm without a duration
  (POV, ICEBERG) runs until the market ends: there is nothing to shift, so one repeat.

The `repeats` table they fill is what the headline pairs (`nautilus_sor.analysis.headline`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pandas as pd

from nautilus_sor.analysis import results as R
from nautilus_sor.config import DEFAULT_REPEATS, RunConfig
from nautilus_sor.exceptions import ConfigError

MIN_WINDOW_SPACING_S = 1.0


@dataclass(frozen=True)
class Repeat:
    index: int
    config: RunConfig
    market_seed: int  # -1 on a recorded market
    offset_s: float  # 0 on a synthetic market


@dataclass(frozen=True)
class RepeatPlan:
    repeats: list[Repeat]
    description: str  # e.g. "market seeds 7-16", for the headline
    notes: list[str] = field(default_factory=list)


def plan_repeats(config: RunConfig, market: Any, requested: int | None = None) -> RepeatPlan:
    """The repeats of `config` (see the module docstring). `requested`: a count that overrides the
    config's `backtest.repeats` (the command line's --repeats); neither: `DEFAULT_REPEATS`."""
    from nautilus_sor.backtest.runner import algorithm_horizon_s, is_recorded, market_seconds

    explicit = requested if requested is not None else config.backtest.repeats
    n = explicit if explicit is not None else DEFAULT_REPEATS
    field_name = "--repeats" if requested is not None else "backtest.repeats"
    if not 1 <= n <= 1000:
        raise ConfigError(f"invalid {field_name}: {n!r} (an integer in [1, 1000])", field=field_name, value=repr(n))
    if not is_recorded(market):
        first = config.market.seed if config.market.seed is not None else config.backtest.seed
        reps = [Repeat(i, _with_seeds(config, first + i, config.backtest.seed + i), first + i, 0.0) for i in range(n)]
        return RepeatPlan(reps, f"market seeds {first}-{first + n - 1}" if n > 1 else f"market seed {first}")
    length = market_seconds(market)
    algo = config.strategy.execution_algorithm
    horizon = algorithm_horizon_s(algo)
    if algo is not None and horizon is None:
        room, why = 0.0, f"the {str(algo['type']).upper()} algorithm has no duration_seconds: it runs until the market ends"
    else:
        last_end = max(o.at_seconds + (horizon or 0.0) for o in config.orders)
        room, why = max(length - last_end, 0.0), f"the last schedule ends at {last_end:g} s of the market's {length:g} s"
    fits = 1 + int(math.floor(room / MIN_WINDOW_SPACING_S + 1e-9))
    notes = []
    if n > fits:
        if explicit is not None:
            raise ConfigError(f"invalid {field_name}: {n} (start windows at least {MIN_WINDOW_SPACING_S:g} s apart: only {fits} fit, "
                              f"as {why}; lengthen the market window or lower the count)", field=field_name, value=repr(n))
        notes.append(f"{fits} repeat(s) instead of the default {n}: {why}")
        n = fits
    offsets = [round(room * i / (n - 1), 3) if n > 1 else 0.0 for i in range(n)]
    reps = [Repeat(i, _shifted(config, offsets[i], config.backtest.seed + i), -1, offsets[i]) for i in range(n)]
    span = (horizon or 0.0) if horizon else 0.0
    if n > 1 and span > 0 and offsets[1] < span:
        notes.append(f"the start windows overlap (shifted {offsets[1]:g} s apart, each schedule lasts {span:g} s): the repeats share "
                     "market data, so the interval is narrower than independent days would give")
    description = f"start windows shifted 0-{offsets[-1]:g} s into {market.name}" if n > 1 else f"one start window of {market.name}"
    return RepeatPlan(reps, description, notes)


def _with_seeds(config: RunConfig, market_seed: int, algorithm_seed: int) -> RunConfig:
    return msgspec.structs.replace(config, market=msgspec.structs.replace(config.market, seed=market_seed),
                                   backtest=msgspec.structs.replace(config.backtest, seed=algorithm_seed))


def _shifted(config: RunConfig, offset_s: float, algorithm_seed: int) -> RunConfig:
    orders = [msgspec.structs.replace(o, at_seconds=o.at_seconds + offset_s) for o in config.orders]
    return msgspec.structs.replace(config, orders=orders, backtest=msgspec.structs.replace(config.backtest, seed=algorithm_seed))


ProgressHook = Callable[[int, int, str, int, int, float], None]  # (repeat, repeats, scenario, index, count, fraction)


def default_workers(repeats: int) -> int:
    """Processes for the repeats: one per CPU, at most one per repeat."""
    return max(1, min(os.cpu_count() or 1, repeats))


def run_repeats(prepared: Any, plan: RepeatPlan, progress: ProgressHook | None = None, workers: int | None = None) -> R.RunResults:
    """Runs every repeat of `plan` (repeat 0 on `prepared`, the config as validated, in this process; the
    others in `workers` processes, default `default_workers`, 1: all here in turn); returns repeat 0's
    results in full with the `repeats` table (one row per repeat, scenario and parent) and the plan in its
    summary. The repeats are independent, so how they are spread over processes changes no number."""
    from nautilus_sor.backtest.runner import run_with_costs

    workers = default_workers(len(plan.repeats)) if workers is None else workers
    if workers < 1:
        raise ConfigError(f"invalid workers: {workers!r} (at least 1)", field="workers", value=repr(workers))
    rows: dict[int, pd.DataFrame] = {}
    first = plan.repeats[0]
    if workers == 1 or len(plan.repeats) == 1:
        for rep in plan.repeats:
            if rep.index == 0:
                results, costs = run_with_costs(prepared, _hook(progress, rep.index, len(plan.repeats)))
            else:
                costs = _run_repeat(rep, _hook(progress, rep.index, len(plan.repeats)), prepared.market)[1]
            rows[rep.index] = _repeat_rows(costs, rep)
    else:
        results, costs = _run_in_processes(prepared, plan, progress, workers, rows)
        rows[0] = _repeat_rows(costs, first)
    results.repeats = R.frame("repeats", pd.concat([rows[i] for i in sorted(rows)], ignore_index=True).to_dict("records"))
    results.summary["repeats"] = {"count": len(plan.repeats), "description": plan.description, "notes": plan.notes,
                                  "market_seeds": [r.market_seed for r in plan.repeats], "offsets_s": [r.offset_s for r in plan.repeats]}
    return results


def _hook(progress: ProgressHook | None, repeat: int, repeats: int) -> Any:
    if progress is None:
        return None

    def hook(scenario: str, index: int, count: int, fraction: float) -> None:
        progress(repeat, repeats, scenario, index, count, fraction)

    return hook


def _run_repeat(rep: Repeat, hook: Any, market: Any = None) -> tuple[R.RunResults, pd.DataFrame]:
    """One repeat other than 0: on `market` when it is recorded (the same data, the parents shifted), else
    on the synthetic market of its seed."""
    from nautilus_sor.backtest.runner import build_market_for, prepare_run, run_with_costs

    market = market if rep.market_seed < 0 and market is not None else build_market_for(rep.config)
    return run_with_costs(prepare_run(rep.config, market=market), hook)


def _run_in_processes(prepared: Any, plan: RepeatPlan, progress: ProgressHook | None, workers: int,
                      rows: dict[int, pd.DataFrame]) -> tuple[R.RunResults, pd.DataFrame]:
    """Repeats 1.. in a pool of `workers` processes while this one runs repeat 0; their progress comes back
    through a queue."""
    import multiprocessing
    import queue as queues
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from nautilus_sor.backtest.runner import run_with_costs

    context = multiprocessing.get_context("spawn")  # no fork of a process that runs Nautilus's threads
    n = len(plan.repeats)
    with context.Manager() as manager:
        events = manager.Queue() if progress is not None else None

        def drain() -> None:
            while events is not None:
                try:
                    progress(*events.get_nowait())  # type: ignore[misc]
                except queues.Empty:
                    return

        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            pending = {pool.submit(_worker, rep, n, events): rep for rep in plan.repeats[1:]}

            def local(scenario: str, index: int, count: int, fraction: float) -> None:
                drain()
                if progress is not None:
                    progress(0, n, scenario, index, count, fraction)

            results, costs = run_with_costs(prepared, local)
            while pending:
                done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                drain()
                for future in done:
                    rep = pending.pop(future)
                    outcome = future.result()
                    if isinstance(outcome, BaseException):
                        raise outcome
                    rows[rep.index] = _repeat_rows(outcome, rep)
            drain()
    return results, costs


def _worker(rep: Repeat, repeats: int, events: Any) -> Any:
    """A pool process's repeat: its costs table, or the typed error it raised (re-raised by the caller)."""
    from nautilus_sor.exceptions import NautilusSorError

    def hook(scenario: str, index: int, count: int, fraction: float) -> None:
        events.put((rep.index, repeats, scenario, index, count, fraction))

    try:
        return _run_repeat(rep, hook if events is not None else None)[1]
    except NautilusSorError as exc:
        return type(exc)(f"repeat {rep.index} (market seed {rep.market_seed}, offset {rep.offset_s:g} s): {exc}", field=exc.field,
                         value=exc.value)


def _repeat_rows(costs: pd.DataFrame, rep: Repeat) -> pd.DataFrame:
    cols = ["scenario", "parent_index", "parent_id", "side", "quantity", "filled_qty", "fill_rate", "is_bps", "opportunity_bps",
            "all_in_bps", "baseline_venue"]
    out = costs[cols].copy()
    out.insert(0, "offset_s", rep.offset_s)
    out.insert(0, "market_seed", rep.market_seed)
    out.insert(0, "repeat", rep.index)
    return out


__all__ = ["Repeat", "RepeatPlan", "plan_repeats", "run_repeats"]
