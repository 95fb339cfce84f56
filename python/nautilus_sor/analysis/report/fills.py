"""Fills by venue: filled quantity per venue and scenario."""

from __future__ import annotations

import numpy as np

from nautilus_sor.analysis.report.context import Context
from nautilus_sor.analysis.report.toolkit import html_table, note


def section(ctx: Context) -> str:
    go = ctx.go
    fills = ctx.r.fills
    out = []
    if not ctx.scenarios:
        return note("No scenarios in this run.")
    if fills.empty:
        return note("No fills in any scenario.")
    by = (
        fills.assign(notional=fills["quantity"] * fills["price"])
        .groupby(["scenario", "venue"], observed=True)
        .agg(quantity=("quantity", "sum"), fills=("quantity", "size"), notional=("notional", "sum"))
    )
    totals = fills.groupby("scenario", observed=True)["quantity"].sum()
    fig = go.Figure()
    for venue in ctx.venues:
        qty, share, count = [], [], []
        for s in ctx.scenarios:
            key = (s, venue)
            q = float(by.loc[key, "quantity"]) if key in by.index else 0.0
            qty.append(q)
            total = float(totals.get(s, 0.0))
            share.append(100.0 * q / total if total > 0 else 0.0)
            count.append(int(by.loc[key, "fills"]) if key in by.index else 0)
        if not any(qty):
            continue
        fig.add_trace(
            go.Bar(
                x=ctx.scenarios,
                y=qty,
                name=venue,
                marker_color=ctx.venue_colour[venue],
                customdata=np.column_stack([share, count]),
                hovertemplate=f"{venue}<br>%{{x}}: %{{y:,.6g}} filled (%{{customdata[0]:.1f}}%%, "
                "%{customdata[1]} fills)<extra></extra>",
                text=[f"{v:.0f}%" if v >= 4 else "" for v in share],
                textposition="inside",
            )
        )
    fig.update_layout(
        barmode="stack",
        title={"text": "Filled quantity per venue and scenario", "x": 0.01},
        yaxis_title="filled quantity",
    )
    out.append(ctx.figure(fig, height=420))
    empty = [s for s in ctx.scenarios if float(totals.get(s, 0.0)) == 0.0]
    if empty:
        out.append(note(f"No fills in scenario(s): {', '.join(empty)}."))
    table = by.reset_index()[["scenario", "venue", "fills", "quantity", "notional"]]
    table["share %"] = [
        100.0 * q / float(totals[s]) if float(totals[s]) > 0 else float("nan")
        for s, q in zip(table["scenario"], table["quantity"], strict=True)
    ]
    rank = {s: i for i, s in enumerate(ctx.scenarios)}
    table = table.sort_values("scenario", key=lambda col: col.map(lambda s: rank.get(str(s), len(rank))), kind="stable")
    out.append(html_table(table.rename(columns={"quantity": f"quantity{ctx.unit}", "notional": f"notional{ctx.ccy}"})))
    return "".join(out)
