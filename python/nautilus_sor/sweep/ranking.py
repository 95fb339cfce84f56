"""A sweep's results: one row per (point, repeat) gathered into one table, the points ranked by mean router
cost with a 95% confidence interval over the repeats, and the best point's config as a runnable file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nautilus_sor.analysis.stats import mean_ci95, paired_difference
from nautilus_sor.sweep.points import SweepPoint

POINTS_DIR = "points"
COST = "router_cost_bps"  # the ranking criterion: the router's total shortfall (fills + opportunity), bps

def point_file(output_dir: Path, point: SweepPoint) -> Path:
    return output_dir / POINTS_DIR / f"{point.key}.parquet"


def write_point(output_dir: Path, point: SweepPoint, rows: list[dict[str, Any]]) -> Path:
    """Writes a finished point's rows (all its repeats) atomically: a file there means the point is done."""
    target = point_file(output_dir, point)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_suffix(".parquet.partial")
    frame = pd.DataFrame(rows).sort_values("repeat").reset_index(drop=True)
    frame.insert(1, "point_index", point.index)
    for path, value in point.params.items():
        frame[f"param:{path}"] = _param_value(value)
    frame.to_parquet(staging, index=False)
    staging.replace(target)
    return target


def _param_value(value: Any) -> Any:
    """Scalars as they are (a numeric column when every point's value is a number); others as JSON."""
    return value if isinstance(value, (int, float, str, bool)) or value is None else json.dumps(value, sort_keys=True)


def gather(output_dir: Path, points: list[SweepPoint]) -> pd.DataFrame:
    """Every finished point of this sweep (other files under points/ are ignored), in point order."""
    frames = [pd.read_parquet(f) for p in points if (f := point_file(output_dir, p)).is_file()]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True).sort_values(["point_index", "repeat"], kind="stable").reset_index(drop=True)


def rank(table: pd.DataFrame) -> pd.DataFrame:
    """One row per point: mean, standard deviation and 95% CI of the router's cost over the repeats, the
    baselines' mean costs, the router's mean fill rate and the parameters; ranked by mean cost, lowest
    first (NaN last). `delta_vs_best_*`: the point's cost minus the best point's on the same repeat
    (same market seed or window), mean and 95% CI: an interval above 0 says the best point is better beyond the noise
    the markets add to both (a paired comparison, much tighter than comparing the two intervals)."""
    if table.empty:
        return pd.DataFrame()
    param_cols = [c for c in table.columns if c.startswith("param:")]
    baseline_cols = [c for c in table.columns if c.endswith("_cost_bps") and c != COST]
    rows = []
    for (point_id, key), group in table.groupby(["point_id", "key"], sort=False):
        _, mean, sd, low, high = mean_ci95(group[COST])
        rows.append({
            "point_id": point_id,
            "key": key,
            "point_index": int(group["point_index"].iloc[0]),
            "repeats": int(len(group)),
            "cost_mean_bps": mean,
            "cost_sd_bps": sd,
            "cost_ci95_low_bps": low,
            "cost_ci95_high_bps": high,
            "router_is_mean_bps": float(group["router_is_bps"].mean()),
            "router_fill_rate_mean": float(group["router_fill_rate"].mean()),
            **{f"{c[:-len('_cost_bps')]}_cost_mean_bps": float(group[c].mean()) for c in baseline_cols},
            **{c: group[c].iloc[0] for c in param_cols},
        })
    ranking = pd.DataFrame(rows)
    ranking = ranking.sort_values(["cost_mean_bps", "point_index"], na_position="last", kind="stable").reset_index(drop=True)
    ranking.insert(0, "rank", np.arange(1, len(ranking) + 1))
    # Repeat i of every point ran on the same market (seed or window): pair them by repeat.
    best = table[table["key"] == ranking["key"].iloc[0]].set_index("repeat")[COST]
    deltas = []
    for key in ranking["key"]:
        mine, same_repeats = table[table["key"] == key].set_index("repeat")[COST].align(best, join="inner")
        paired = paired_difference(mine, same_repeats)
        deltas.append((paired.mean, paired.low, paired.high))
    ranking[["delta_vs_best_mean_bps", "delta_vs_best_ci95_low_bps", "delta_vs_best_ci95_high_bps"]] = deltas
    return ranking


def write_best_config(output_dir: Path, point: SweepPoint) -> Path:
    """The best point's run config (the base's own seed or window), runnable with `nautilus-sor backtest`."""
    target = output_dir / "best_config.json"
    target.write_text(json.dumps(point.config, indent=2) + "\n", encoding="utf-8")
    return target
