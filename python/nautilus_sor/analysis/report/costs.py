"""Cost breakdown: the TCA's one cost split (drift, spread, impact, fees, opportunity) per scenario."""

from __future__ import annotations

import math

import pandas as pd

from nautilus_sor.analysis.report.context import Context
from nautilus_sor.analysis.report.toolkit import explain, html_table, note

# The TCA's split of the all-in cost (`tca.py`): label -> its scenario_summary column.
COMPONENT_COLUMNS: dict[str, str] = {"drift": "drift_bps", "spread": "spread_bps", "impact": "impact_bps", "fees": "fees_bps"}
# What the cost breakdown reads from a scenario summary.
REQUIRED_COLUMNS = ("scenario", *COMPONENT_COLUMNS.values(), "fill_rate", "opportunity_bps", "all_in_bps")
_COMPONENT_COLOURS = {
    "drift": "#9d9d9d",
    "spread": "#4c78a8",
    "impact": "#f58518",
    "fees": "#e45756",
    "opportunity": "#b279a2",
}


def cost_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """Per scenario (index): drift, spread, impact, fees (the filled part's components times the fill share),
    opportunity and the all-in total, in bps of the parents' whole quantity: the components stack to the
    total because the TCA defines them so (drift + spread + impact + fees = is_bps, and all_in_bps =
    is_bps * fill_rate + opportunity_bps). Scenarios without a finite all-in cost are left out."""
    share = summary["fill_rate"].astype(float).fillna(0.0)
    cols = {label: (summary[name].astype(float) * share).where(share > 0, 0.0) for label, name in COMPONENT_COLUMNS.items()}
    cols["opportunity"] = summary["opportunity_bps"].astype(float)
    cols["total"] = summary["all_in_bps"].astype(float)
    frame = pd.DataFrame({"scenario": summary["scenario"].astype(str), **cols}).set_index("scenario")
    return frame[frame["total"].notna()]


def section(ctx: Context) -> str:
    go = ctx.go
    if not ctx.scenarios:
        return note("No scenarios in this run.")
    out = [explain(
        "All-in cost per scenario, in bps of the parents' whole quantity at the arrival mid (positive = cost), split by "
        "the TCA: drift = the market's move from arrival to the fills (not ours: a replay does not move the market); "
        "spread = the fills against the mid, up to the touch; impact = beyond the touch (walking the book); fees; "
        "opportunity = what taking the unfilled rest at the schedule's end would have cost. The diamond is the total.")]
    out.extend(note(n) for n in ctx.tca_notes)
    summary = ctx.tca_summary
    costs = cost_frame(summary) if not summary.empty else pd.DataFrame()
    labels = [*COMPONENT_COLUMNS, "opportunity"]
    if costs.empty:
        out.append(note("No cost to show: no scenario has a consolidated quote at its parents' arrival."))
        return "".join(out)
    shown = [s for s in ctx.scenarios if s in costs.index] + [s for s in costs.index if s not in ctx.scenarios]
    missing = [s for s in ctx.scenarios if s not in costs.index]
    fig = go.Figure()
    for label in labels:
        fig.add_trace(
            go.Bar(
                x=shown,
                y=[float(costs.loc[s, label]) for s in shown],
                name=label,
                marker_color=_COMPONENT_COLOURS.get(label, "#888"),
                hovertemplate=f"{label}<br>%{{x}}: %{{y:.3f}} bps<extra></extra>",
            )
        )
    totals = [float(costs.loc[s, "total"]) for s in shown]
    fig.add_trace(
        go.Scatter(
            x=shown,
            y=totals,
            name="all-in total",
            mode="markers+text",
            marker={"symbol": "diamond", "size": 12, "color": "#111"},
            text=[f"{t:.2f}" if math.isfinite(t) else "" for t in totals],
            textposition="top center",
            hovertemplate="total<br>%{x}: %{y:.3f} bps<extra></extra>",
        )
    )
    fig.update_layout(
        barmode="relative",
        title={"text": "All-in cost by component (bps)", "x": 0.01},
        yaxis_title="bps (positive = cost)",
    )
    fig.add_hline(y=0, line={"color": "#999", "width": 1})
    out.append(ctx.figure(fig, height=440))
    if missing:
        out.append(note(f"No cost for scenario(s) without a priced parent: {', '.join(missing)}."))
    table = costs.loc[shown].reset_index(names="scenario")
    table.columns = [c if c == "scenario" else f"{c} bps" for c in table.columns]
    out.append(html_table(table, digits=3))
    return "".join(out)
