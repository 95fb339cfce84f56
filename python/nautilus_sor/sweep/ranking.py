"""A sweep's results: one row per (point, repeat) gathered into one table, the points ranked by mean router
cost with a 95% confidence interval over the repeats, and the best point's config as a runnable file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nautilus_sor.sweep.points import SweepPoint

POINTS_DIR = "points"
COST = "router_cost_bps"  # the ranking criterion: the router's total shortfall (fills + opportunity), bps

# Student's t 97.5% quantile for 1..30 degrees of freedom (two-sided 95% interval).
_T975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010, 2.1788,
         2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639,
         2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)


def t975(df: int) -> float:
    """Student's t 0.975 quantile: tabulated up to 30 degrees of freedom, Cornish-Fisher beyond (error < 1e-4)."""
    if df < 1:
        return math.nan
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


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


def mean_ci95(values: Any) -> tuple[int, float, float, float, float]:
    """(n, mean, sd, low, high) over the finite values: a two-sided 95% Student-t interval of the mean,
    half-width t(0.975, n-1) * sd / sqrt(n); sd and the interval are NaN below two values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return 0, math.nan, math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n == 1:
        return 1, mean, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    half = t975(n - 1) * sd / math.sqrt(n)
    return n, mean, sd, mean - half, mean + half


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
        mine = table[table["key"] == key].set_index("repeat")[COST]
        _, mean, _, low, high = mean_ci95((mine - best).dropna())
        deltas.append((mean, low, high))
    ranking[["delta_vs_best_mean_bps", "delta_vs_best_ci95_low_bps", "delta_vs_best_ci95_high_bps"]] = deltas
    return ranking


def write_best_config(output_dir: Path, point: SweepPoint) -> Path:
    """The best point's run config (the base's own seed or window), runnable with `nautilus-sor backtest`."""
    target = output_dir / "best_config.json"
    target.write_text(json.dumps(point.config, indent=2) + "\n", encoding="utf-8")
    return target
