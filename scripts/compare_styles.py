"""Execution styles against each other in real Nautilus backtests: `maker` and `adaptive` against `taker`
for the example's scheduled algorithm, at three parent sizes, paired over the run's repeats.

    python scripts/compare_styles.py examples/binance_btc_twap.json --market-end 2024-08-09T00:00:00Z [--repeats 8] [--sizes 0.25,1,4] [--calibration] [--evaluate [--starts 30]]

For each size (the example's parent quantities times the factor) and style, the example runs as
`nautilus-sor backtest` runs it (the router scenario only: baselines off; the queue-position fill model on
book venues), repeated over the same start windows; the cost is the run's all-in cost in bps (fees in,
spread and impact against the arrival mid, the unfilled rest priced at the schedule's end), weighted by
quantity. Printed: per size, each style's mean cost and its paired difference to `taker` with a 95% t
interval (positive: cheaper than taker) and in how many repeats it was cheaper.

`--evaluate` also runs `nautilus-sor evaluate`'s simulator on the same market window in the same run (the
example's algorithm, duration and slice interval, venues with the example's fees and latencies, the
example's first parent quantity times the factor bought and sold at `--starts` evenly spaced start times,
the router scenario with each style: `evaluate --styles`) and prints both measurements side by side: each
style's saving over taker, paired (evaluate: by start time, buy and sell of a start averaged; backtest: by
repeat), 95% t intervals.

`--calibration` also prints, over every resting slice of the maker and adaptive runs, the router's
predicted fill probability and rest-then-cross cost when the slice was placed against what happened
(the share of its units filled while resting, its realised cost with re-prices and the cross of its
unfilled rest, bps of the router's reference price at placement - the consolidated mid both estimates are
measured against - fees in), binned by the predicted probability; and how many adaptive slices rested.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

STYLES = ("taker", "maker", "adaptive")


def _config(raw: dict[str, Any], style: str, factor: Decimal, repeats: int) -> Any:
    from nautilus_sor.config import parse_config

    raw = json.loads(json.dumps(raw))
    raw["strategy"]["execution_algorithm"] = {**raw["strategy"]["execution_algorithm"], "execution_style": style}
    for order in raw["orders"]:
        order["quantity"] = str(Decimal(str(order["quantity"])) * factor)
    raw["backtest"] = {**raw.get("backtest", {}), "baselines": [], "repeats": repeats}
    return parse_config(raw)


def costs(config: Any, market: Any) -> Any:
    """Per repeat: the router's quantity-weighted all-in cost (bps)."""
    from nautilus_sor.analysis.headline import scenario_costs
    from nautilus_sor.analysis.scenarios import ROUTER
    from nautilus_sor.backtest.repeats import plan_repeats, run_repeats
    from nautilus_sor.backtest.runner import prepare_run

    prepared = prepare_run(config, market=market)
    results = run_repeats(prepared, plan_repeats(config, prepared.market, config.backtest.repeats), workers=1)
    return scenario_costs(results.repeats)[ROUTER]


class _Captured:
    """The execution algorithms the runs build (in this process: `workers=1`), to read their resting slices."""

    def __init__(self) -> None:
        import nautilus_sor.backtest.runner as runner

        self.algorithms: list[Any] = []
        self._runner, self._build = runner, runner.build_exec_algorithm

        def build(*args: Any, **kwargs: Any) -> Any:
            algorithm = self._build(*args, **kwargs)
            self.algorithms.append(algorithm)
            return algorithm

        runner.build_exec_algorithm = build

    def take(self) -> list[Any]:
        out, self.algorithms = self.algorithms, []
        return out


def simulator_for(raw: dict[str, Any]) -> tuple[Any, Any]:
    """`evaluate`'s simulator on the example's market window, its venues with the example's fees and
    latencies, and the example's algorithm's duration, slice interval and max_retries: (SimMarket, ExecParams)."""
    import dataclasses

    import msgspec

    from nautilus_sor.backtest.data.sources import load_market
    from nautilus_sor.backtest.sim.market import SimMarket
    from nautilus_sor.backtest.sim.params import ExecParams
    from nautilus_sor.config import MarketBlock
    from nautilus_sor.execution_algorithms.base import DEFAULT_MAX_RETRIES

    market = load_market(msgspec.convert(raw["market"], MarketBlock))
    terms = {v["name"]: v for v in raw["strategy"]["venues"]}
    market.venues = tuple(dataclasses.replace(v, maker_fee=terms[v.name]["maker_fee"], taker_fee=terms[v.name]["taker_fee"],
                                              latency_ms=terms[v.name].get("latency_ms", v.latency_ms)) if v.name in terms else v for v in market.venues)
    algo = raw["strategy"]["execution_algorithm"]
    params = ExecParams(horizon_s=float(algo["duration_seconds"]), interval_s=float(algo["interval_seconds"]),
                        max_retries=int(algo.get("max_retries", DEFAULT_MAX_RETRIES)))
    return SimMarket(market, params), params


def evaluate_styles(raw: dict[str, Any], factors: list[Decimal], styles: tuple[str, ...], starts: int) -> dict[Decimal, dict[str, Any]]:
    """Per size factor and non-taker style: evaluate's paired saving over taker (`stats.PairedDifference`)."""
    import numpy as np

    from nautilus_sor.analysis.stats import paired_difference
    from nautilus_sor.backtest.sim.evaluate import EvalConfig, by_start, evaluate_market, style_scenario
    from nautilus_sor.backtest.sim.params import NS

    sim, params = simulator_for(raw)
    market, algo = sim.market, raw["strategy"]["execution_algorithm"]
    horizon_volume = sim.window_volume() * params.horizon_s / ((market.end_ns - market.start_ns) / NS)
    quantity = float(Decimal(str(raw["orders"][0]["quantity"])))
    sizes = {str(f): quantity * float(f) * (1 + 1e-9) / horizon_volume for f in factors}  # (not floored a lot below by rounding)
    cfg = EvalConfig(algorithms=(algo["type"].lower(),), sizes=sizes, starts=starts, params=params, styles=styles)
    runs = evaluate_market(sim, cfg)
    out: dict[Decimal, dict[str, Any]] = {}
    for f in factors:
        group = runs[runs["size"] == str(f)]
        per_start = by_start(group)
        taker = per_start[style_scenario("taker", params)].to_numpy()
        out[f] = {s: paired_difference(taker, per_start[style_scenario(s, params)].to_numpy()) for s in styles if s != "taker"}
        out[f]["quantity"] = float(group["quantity"].iloc[0])
        out[f]["taker_bps"] = float(np.mean(taker))
    return out


BINS = (0.0, 0.05, 0.2, 0.5, 0.8, 1.0000001)


def calibration(outcomes: list[Any]) -> list[str]:
    """Predicted vs realised per bin of predicted fill probability (unit-weighted)."""
    import numpy as np

    rows = [o for o in outcomes if o.predicted_fill_probability is not None and o.passive_units + o.crossed_units > 0]
    lines = [f"      {'predicted p':<13}{'slices':>7}{'mean p':>8}{'filled resting':>16}{'predicted bps':>15}{'realised bps':>14}"
             f"{'realised if filled':>20}{'if crossed':>12}"]
    for lo, hi in zip(BINS, BINS[1:]):
        inside = [o for o in rows if lo <= o.predicted_fill_probability < hi]
        if not inside:
            continue
        units = np.array([o.units for o in inside], dtype=float)
        p = np.array([o.predicted_fill_probability for o in inside])
        share = np.array([o.passive_units / o.units for o in inside])
        predicted = np.array([o.predicted_bps for o in inside])
        realised = np.array([o.realised_bps() for o in inside])
        passive = [o.passive_cost / o.passive_units for o in inside if o.passive_units]
        crossed = [o.crossed_cost / o.crossed_units for o in inside if o.crossed_units]
        lines.append(f"      [{lo:.2f}, {min(hi, 1):.2f}){len(inside):>7}{np.average(p, weights=units):>8.3f}{np.average(share, weights=units):>16.3f}"
                     f"{np.average(predicted, weights=units):>+15.2f}{np.average(realised, weights=units):>+14.2f}"
                     f"{(np.mean(passive) if passive else float('nan')):>+20.2f}{(np.mean(crossed) if crossed else float('nan')):>+12.2f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--sizes", default="0.25,1,4", help="factors on the example's parent quantities")
    parser.add_argument("--market-end", default=None, help="a later market.end, to fit the repeats' start windows")
    parser.add_argument("--calibration", action="store_true", help="predicted vs realised per resting slice (see the module doc)")
    parser.add_argument("--styles", default=",".join(STYLES), help="styles to run (taker is the reference: always run)")
    parser.add_argument("--evaluate", action="store_true", help="also run evaluate's simulator on the same window (see the module doc)")
    parser.add_argument("--starts", type=int, default=30, help="--evaluate: start times (default 30)")
    args = parser.parse_args(argv)
    from nautilus_sor.backtest.sim.evaluate import check_styles

    styles = check_styles(args.styles)  # taker first; an unknown name refused before anything runs
    captured = _Captured() if args.calibration else None
    from nautilus_sor.analysis.stats import mean_ci95, paired_difference
    from nautilus_sor.backtest.runner import build_market_for

    import msgspec

    from nautilus_sor.config import load_config

    path = Path(args.config)
    raw = msgspec.to_builtins(load_config(path))  # as `backtest` reads it (its market paths resolved)
    if args.market_end is not None:
        raw["market"]["end"] = args.market_end
    factors = [Decimal(f) for f in args.sizes.split(",")]
    market = build_market_for(_config(raw, "taker", Decimal(1), args.repeats))
    algo = raw["strategy"]["execution_algorithm"]["type"]
    print(f"{path.name}: {algo}, all-in cost in bps of the parent at arrival (fees in, unfilled priced at the schedule's end), "
          f"{args.repeats} repeats, paired 95% t intervals; saving > 0: cheaper than taker")
    backtest: dict[Decimal, dict[str, Any]] = {}
    for factor in factors:
        per_style, outcomes = {}, {}
        for style in styles:
            per_style[style] = costs(_config(raw, style, factor, args.repeats), market)
            if captured is not None:
                outcomes[style] = captured.take()
        sizes = ", ".join(str(Decimal(str(o["quantity"])) * factor) for o in raw["orders"])
        print(f"  parents {sizes}:")
        for style in styles:
            n, mean, _, low, high = mean_ci95(per_style[style].to_numpy())
            line = f"    {style:<9} cost {mean:+7.2f} bps [{low:+.2f}, {high:+.2f}]"
            if style != "taker":
                d = backtest.setdefault(factor, {})[style] = paired_difference(per_style["taker"].to_numpy(), per_style[style].to_numpy())
                line += f"   saves {d.mean:+.2f} ± {d.half_width:.2f} bps vs taker, cheaper in {d.positive} of {d.n}"
            print(line, flush=True)
        for style, algorithms in outcomes.items():
            if style == "taker":
                continue
            slices = [o for a in algorithms for o in a.resting.outcomes]
            rested, taken = sum(a.resting.adaptive_rested for a in algorithms), sum(a.resting.adaptive_taken for a in algorithms)
            extra = f", adaptive rested {rested} of {rested + taken} slices" if style == "adaptive" else ""
            print(f"    calibration, {style}: {len(slices)} resting slices{extra}")
            for line in calibration(slices):
                print(line, flush=True)
    if args.evaluate:
        evaluated = evaluate_styles(raw, factors, styles, args.starts)
        print(f"saving over taker, bps (positive: cheaper), mean ± 95% t half-width (cheaper in k of n): evaluate's simulator "
              f"({args.starts} starts, buy and sell averaged) | Nautilus backtest ({args.repeats} repeats)")
        print(f"  {'size':<8}{'parent (eval)':>14}{'taker (eval)':>14}  {'style':<9}{'evaluate':>28}  {'backtest':>28}")
        for factor in factors:
            for style in styles[1:]:
                cells = []
                for d in (evaluated[factor][style], backtest.get(factor, {}).get(style)):
                    cells.append("-" if d is None else f"{d.mean:+.2f} ± {d.half_width:.2f} ({d.positive} of {d.n})")
                print(f"  x{factor!s:<7}{evaluated[factor]['quantity']:>14.6g}{evaluated[factor]['taker_bps']:>+14.2f}  {style:<9}"
                      f"{cells[0]:>28}  {cells[1]:>28}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
