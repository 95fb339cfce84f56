"""The TCA tables as HTML, main columns first."""

from __future__ import annotations

import html
from collections.abc import Mapping

import pandas as pd

from nautilus_sor.analysis.report.context import Context
from nautilus_sor.analysis.report.toolkit import explain, html_table, note


# The columns each TCA table shows first (the rest are one click away), in this order.
TCA_MAIN_COLUMNS: dict[str, tuple[str, ...]] = {
    "scenario_summary": ("scenario", "fill_rate", "all_in_bps", "is_bps", "drift_bps", "spread_bps", "impact_bps", "fees_bps",
                         "opportunity_bps", "child_orders", "rejects"),
    "parents": ("scenario", "parent_index", "side", "arrival_ts", "quantity", "fill_rate", "avg_price", "all_in_bps", "is_bps",
                "opportunity_bps", "rejects", "baseline_venue"),
    "venues": ("scenario", "parent_id", "venue", "ordered_qty", "filled_qty", "fill_rate", "avg_price", "is_bps", "fees",
               "rejects", "reject_reasons"),
}


def section(tca_tables: Mapping[str, pd.DataFrame] | None) -> str:
    if not tca_tables:
        return note("No TCA tables were given to the report.")
    out = [explain("Quantities in the instrument's unit, prices and fees in its quote currency, costs in bps (positive = cost), "
                    "times UTC. Each table shows its main columns; every column is one click below it.")]
    names = sorted(tca_tables, key=lambda n: (n != "scenario_summary", str(n)))
    for name in names:
        df = tca_tables[name]
        out.append(f"<h3>{html.escape(str(name))} ({len(df)} rows)</h3>")
        if df.empty:
            out.append(note(f"{name} is empty."))
            continue
        main = [c for c in TCA_MAIN_COLUMNS.get(str(name), ()) if c in df.columns]
        if main:
            out.append(html_table(df[main], digits=3))
            out.append(f"<details><summary>all {len(df.columns)} columns</summary>{html_table(df)}</details>")
        else:
            out.append(html_table(df))
    return "".join(out)
