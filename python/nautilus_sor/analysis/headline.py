"""The headline: the router's all-in saving against each baseline, paired repeat by repeat (the same
market seed or start window), mean and 95% t interval (`stats.paired_difference`), from the results'
`repeats` table.

Each repeat's cost of a scenario is its parents' all-in cost (`tca.py`: fees in, the unfilled rest priced
by a clean-up at the schedule's end) weighted by quantity; the saving against a baseline is the
baseline's cost minus the router's in the same repeat (positive: routing was cheaper).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from nautilus_sor.analysis import scenarios as S
from nautilus_sor.analysis.results import RunResults
from nautilus_sor.analysis.stats import mean_half_width, paired_difference

UNDERFILLED = 0.999  # a parent filled less than this share is listed under the headline


@dataclass(frozen=True)
class Saving:
    """The router's all-in saving against one baseline: mean and 95% half-width over `n` paired repeats,
    in bps (positive: routing was cheaper), and in how many repeats routing was cheaper."""

    baseline: str
    label: str
    mean_bps: float
    half_width_bps: float
    n: int
    wins: int

    def sentence(self, subject: str = "routing") -> str:
        verb = "saved" if self.mean_bps >= 0 else "LOST"
        half = f"{self.half_width_bps:.2f}" if math.isfinite(self.half_width_bps) else "n/a"
        text = f"{subject} {verb} {abs(self.mean_bps):.2f} ± {half} bps vs {self.label}"
        if self.n < 2:
            return text + " (one repeat: no interval)"
        if abs(self.mean_bps) <= self.half_width_bps:
            text += " (not distinguishable from 0 at 95%)"
        return text + f"; cheaper in {self.wins} of {self.n}"


def scenario_costs(repeats: pd.DataFrame) -> pd.DataFrame:
    """Per repeat (rows) and scenario (columns): the parents' all-in cost in bps, weighted by quantity."""
    if repeats.empty:
        return pd.DataFrame()
    df = repeats.assign(_w=repeats["quantity"] * repeats["all_in_bps"])
    g = df.groupby(["repeat", "scenario"], observed=True)[["_w", "quantity"]].sum()
    return (g["_w"] / g["quantity"]).unstack("scenario")


def savings(repeats: pd.DataFrame) -> list[Saving]:
    """The router's saving against each headline baseline the run has (`scenarios.HEADLINE`)."""
    costs = scenario_costs(repeats)
    if S.ROUTER not in costs:
        return []
    out: list[Saving] = []
    for baseline, label in S.HEADLINE:
        if baseline not in costs:
            continue
        paired = paired_difference(costs[baseline], costs[S.ROUTER])
        out.append(Saving(baseline, label, paired.mean, paired.half_width, paired.n, paired.positive))
    return out


def underfilled(repeats: pd.DataFrame, units: str) -> list[str]:
    """One line per scenario with parents filled below `UNDERFILLED` (router first): how many, the worst."""
    if repeats.empty:
        return []
    short = repeats[repeats["fill_rate"] < UNDERFILLED]
    lines: list[str] = []
    for scenario, group in sorted(short.groupby("scenario", observed=True), key=lambda kv: S.sort_key(str(kv[0]))):
        worst = group.sort_values("fill_rate", kind="stable").iloc[0]
        total = int((repeats["scenario"] == scenario).sum())
        venue = f" on {worst['baseline_venue']}" if worst["baseline_venue"] else ""
        lines.append(f"{scenario}: {len(group)} of {total} parents filled below {UNDERFILLED:.1%}; worst {worst['fill_rate']:.1%} "
                     f"({worst['filled_qty']:g} of {worst['quantity']:g} {units}, parent #{int(worst['parent_index']) + 1} "
                     f"{worst['side']}{venue}, repeat {int(worst['repeat'])}): the rest is charged as a clean-up at the schedule's end")
    return lines


def headline_lines(results: RunResults, units: str) -> list[str]:
    """The headline block: the savings, the router's own all-in cost, the under-filled parents, the notes."""
    info: dict[str, Any] = results.summary.get("repeats", {})
    n = int(info.get("count", 0))
    lines = [f"All-in cost (fees in, unfilled rest priced at the schedule's end), paired over {n} repeat(s) "
             f"({info.get('description', '')}), mean ± 95% t interval:"]
    found = savings(results.repeats)
    routed = results.summary.get("use_smart_routing", True)
    if not found:
        lines.append("  no baseline to compare with (backtest.baselines has none of single_venues, equal_split, nautilus_twap)")
    lines += [f"  {s.sentence('routing' if routed else 'the configured strategy')}" for s in found]
    costs = scenario_costs(results.repeats)
    if S.ROUTER in costs:
        mean, half, _ = mean_half_width(costs[S.ROUTER])
        lines.append(f"  router all-in cost {mean:+.2f} ± {half:.2f} bps" if math.isfinite(half) else f"  router all-in cost {mean:+.2f} bps")
    if not routed:
        lines.append("  note: strategy.use_smart_routing is false: the configured strategy trades its instrument's venue only")
    for line in underfilled(results.repeats, units):
        lines.append(f"  warning: {line}")
    for line in results.summary.get("warnings", []):
        lines.append(f"  warning (repeat 0): {line}")
    for note in info.get("notes", []):
        lines.append(f"  note: {note}")
    return lines


__all__ = ["UNDERFILLED", "Saving", "headline_lines", "savings", "scenario_costs", "underfilled"]
