"""Execution styles against each other in real Nautilus backtests: `maker` and `adaptive` against `taker`
for the example's scheduled algorithm, at three parent sizes, paired over the run's repeats.

    python scripts/compare_styles.py examples/binance_btc_twap.json --market-end 2024-08-09T00:00:00Z [--repeats 8] [--sizes 0.25,1,4]

For each size (the example's parent quantities times the factor) and style, the example runs as
`nautilus-sor backtest` runs it (the router scenario only: baselines off; the queue-position fill model on
book venues), repeated over the same start windows; the cost is the run's all-in cost in bps (fees in,
spread and impact against the arrival mid, the unfilled rest priced at the schedule's end), weighted by
quantity. Printed: per size, each style's mean cost and its paired difference to `taker` with a 95% t
interval (positive: cheaper than taker) and in how many repeats it was cheaper.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--sizes", default="0.25,1,4", help="factors on the example's parent quantities")
    parser.add_argument("--market-end", default=None, help="a later market.end, to fit the repeats' start windows")
    args = parser.parse_args(argv)
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
    for factor in factors:
        per_style = {style: costs(_config(raw, style, factor, args.repeats), market) for style in STYLES}
        sizes = ", ".join(str(Decimal(str(o["quantity"])) * factor) for o in raw["orders"])
        print(f"  parents {sizes}:")
        for style in STYLES:
            n, mean, _, low, high = mean_ci95(per_style[style].to_numpy())
            line = f"    {style:<9} cost {mean:+7.2f} bps [{low:+.2f}, {high:+.2f}]"
            if style != "taker":
                d = paired_difference(per_style["taker"].to_numpy(), per_style[style].to_numpy())
                line += f"   saves {d.mean:+.2f} ± {d.half_width:.2f} bps vs taker, cheaper in {d.positive} of {d.n}"
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
