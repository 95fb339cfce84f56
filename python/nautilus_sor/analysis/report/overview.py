"""The first two sections: did routing help (the headline over the repeats), and the summary per scenario."""

from __future__ import annotations

import html
import json
from typing import Any

import pandas as pd

from nautilus_sor.analysis.headline import headline_lines, scenario_costs
from nautilus_sor.analysis.report.context import Context
from nautilus_sor.analysis.report.toolkit import explain, html_table, note
from nautilus_sor.analysis.scenarios import sort_key


def headline_section(ctx: Context) -> str:
    """The console's headline (the router's all-in saving against each baseline over the repeats), then
    each repeat's all-in cost per scenario."""
    r = ctx.r
    lines = r.summary.get("headline")
    if not isinstance(lines, list) or not lines:
        if r.repeats.empty:
            return note("This run has no repeats table (it was not made by `nautilus-sor backtest`): no headline.")
        lines = headline_lines(r, str(r.summary.get("quantity_unit", "units")))
    head, *rest = [str(x) for x in lines]
    items = "".join(
        f'<li class="{"warn" if x.strip().startswith("warning") else "lost" if " LOST " in x else ""}">{html.escape(x.strip())}</li>' for x in rest)
    out = [f'<p class="headline">{html.escape(head)}</p><ul class="headline">{items}</ul>']
    costs = scenario_costs(r.repeats)
    if not costs.empty:
        costs = costs[sorted(costs.columns, key=lambda c: sort_key(str(c)))]
        out.append(explain("All-in cost per repeat (bps of the parents' quantity, fees in, unfilled rest priced at the "
                            "schedule's end; positive = cost). Repeat 0 is the run the sections below detail."))
        table = costs.reset_index()
        table.columns = [str(c) for c in table.columns]
        out.append(html_table(table, digits=2))
    return "".join(out)


def summary_section(ctx: Context) -> str:
    r = ctx.r
    if not ctx.scenarios:
        return note("The run has no parents, orders or fills: nothing to report.")
    summary = ctx.tca_summary.set_index(ctx.tca_summary["scenario"].astype(str)) if not ctx.tca_summary.empty else pd.DataFrame()
    rows: list[dict[str, Any]] = []
    for s in ctx.scenarios:
        # Quantities, fill rate, orders, rejects and fees are the TCA's (one computation of each); the
        # counts of fills and venues come from the fills table.
        tca = summary.loc[s] if s in summary.index else None
        fills = r.fills[r.fills["scenario"] == s]

        def value(column: str, scale: float = 1.0) -> float:
            return float(tca[column]) * scale if tca is not None else float("nan")

        rows.append(
            {
                "scenario": s,
                "parents": int(tca["parents"]) if tca is not None else 0,
                f"parent qty{ctx.unit}": value("quantity"),
                f"filled qty{ctx.unit}": value("filled_qty"),
                "filled %": value("fill_rate", 100.0),
                "orders": int(tca["child_orders"]) if tca is not None else int((r.orders["scenario"] == s).sum()),
                "rejected/denied": int(tca["rejects"]) if tca is not None else 0,
                "fills": len(fills),
                "venues used": int(fills["venue"].nunique()),
                f"fees{ctx.ccy}": value("fees"),
                "all-in bps": value("all_in_bps"),
            }
        )
    out = [html_table(pd.DataFrame(rows))]
    empty = [str(row["scenario"]) for row in rows if row["fills"] == 0]
    if empty:
        out.append(note(f"No fills in scenario(s): {', '.join(empty)}."))
    scalars = dict(r.summary)
    if scalars:
        items = []
        for key, value in scalars.items():
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            if len(text) > 300:
                text = text[:297] + "..."
            items.append({"key": str(key), "value": text})
        out.append(f"<details><summary>Run summary (run.json, {len(items)} entries)</summary>")
        out.append(pd.DataFrame(items).to_html(index=False, border=0, classes="data", escape=True))
        out.append("</details>")
    return "".join(out)
