"""Paired difference of two `nautilus-sor evaluate` runs of the same grid, scenario by scenario.

    nautilus-sor evaluate --market lean_equity --symbol IBM --date 20131007 --starts 12 --out runs/live
    nautilus-sor evaluate --market lean_equity --symbol IBM --date 20131007 --starts 12 --slice-rule within_slice --out runs/within
    python scripts/compare_runs.py runs/live runs/within --scenarios router,exante_best --algorithms twap,vwap

Prints, per scenario, algorithm and size, the mean of (first run's all-in cost - second's) over start times
(buy and sell of a start averaged, as the evaluation pairs them) with its 95% t interval, in bps: positive
means the first run cost more. Both runs must hold the same starts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from nautilus_sor.analysis.stats import paired_difference
from nautilus_sor.backtest.sim.evaluate import by_start


def per_start(runs: pd.DataFrame, scenario: str, algorithm: str, size: str) -> pd.Series:
    """`scenario`'s cost per start time of one series (`evaluate.by_start`: buy and sell averaged)."""
    group = by_start(runs[(runs["algorithm"] == algorithm) & (runs["size"] == size)])
    return group[scenario] if scenario in group else pd.Series(dtype=float)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("first", type=Path, help="an evaluate output directory (runs.parquet)")
    parser.add_argument("second", type=Path, help="the other run of the same grid")
    parser.add_argument("--scenarios", default="router", help="comma-separated scenarios (default router)")
    parser.add_argument("--algorithms", default=None, help="comma-separated algorithms (default: every one in both runs)")
    args = parser.parse_args(argv)
    first, second = (pd.read_parquet(d / "runs.parquet") for d in (args.first, args.second))
    algorithms = args.algorithms.split(",") if args.algorithms else sorted(set(first["algorithm"]) & set(second["algorithm"]))
    for scenario in args.scenarios.split(","):
        for algorithm in algorithms:
            cells = []
            for size in first.loc[first["algorithm"] == algorithm, "size"].unique():
                a, b = per_start(first, scenario, algorithm, size), per_start(second, scenario, algorithm, size)
                if a.empty or not a.index.equals(b.index):
                    print(f"{scenario} {algorithm} {size}: the runs do not hold the same starts", file=sys.stderr)
                    return 2
                d = paired_difference(a.to_numpy(), b.to_numpy())
                cells.append(f"{size} {d.mean:+.2f} [{d.low:+.2f}, {d.high:+.2f}]")
            print(f"{scenario} {algorithm}: " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
