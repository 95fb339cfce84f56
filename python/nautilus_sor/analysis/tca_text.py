"""The TCA as plain fixed-width text (the `tca` command and `TcaReport.to_text`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from nautilus_sor.analysis.tca_columns import INT_COLUMNS, PRICE_COLUMNS, STR_COLUMNS, markout_col

if TYPE_CHECKING:
    from nautilus_sor.analysis.tca import TcaReport


def report_text(report: TcaReport, *, parents: bool = False, venues: bool = False, max_rows: int = 50) -> str:
    """The scenario summary (metrics as rows, scenarios as columns), optionally the per-parent and per-venue
    tables (at most `max_rows` rows each), then the notes."""
    out = ["Transaction-cost analysis (bps: positive = cost, except spread capture and markouts)"]
    out.append(_summary_text(report.scenario_summary, report.markout_horizons_s))
    if parents:
        cols = ["scenario", "parent_id", "side", "quantity", "fill_rate", "avg_price", "is_bps", "fees_bps",
                "vwap_slippage_bps", "spread_capture", "participation", markout_col(report.markout_horizons_s[0])]
        out += ["", "Per parent", format_table(report.parents, [c for c in cols if c in report.parents], max_rows)]
    if venues:
        cols = ["scenario", "parent_id", "venue", "ordered_qty", "filled_qty", "fill_rate", "avg_price",
                "is_bps", "fees", "spread_capture", "rejects", "latency_mean_ms"]
        table = format_table(report.venues, [c for c in cols if c in report.venues], max_rows)
        out += ["", "Per parent and venue", table]
    if report.notes:
        out += ["", "Notes"] + [f"- {n}" for n in report.notes]
    return "\n".join(out)


def _fmt(col: str, value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "-"
    if col in STR_COLUMNS or isinstance(value, str):
        return str(value)
    if col in INT_COLUMNS:
        return f"{int(value):d}"
    if col.endswith("_bps"):
        return f"{value:+.3f}"
    if col.endswith("_ms"):
        return f"{value:.3f}"
    if col in ("fill_rate", "participation", "venue_participation", "spread_capture"):
        return f"{value:.4f}"
    if col in PRICE_COLUMNS:
        return f"{value:.10g}"
    return f"{value:.8g}" if abs(value) < 1e8 else f"{value:,.2f}"


def format_table(df: pd.DataFrame, columns: Sequence[str] | None = None, max_rows: int | None = None) -> str:
    """`df` as a plain fixed-width table (text left-aligned, numbers right-aligned, NaN as "-")."""
    columns = list(df.columns if columns is None else columns)
    rows = df if max_rows is None else df.head(max_rows)
    cells = [[_fmt(c, v) for c, v in zip(columns, rec)] for rec in rows[columns].itertuples(index=False)]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    left = [c in STR_COLUMNS for c in columns]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) if lf else v.rjust(w) for v, w, lf in zip(values, widths, left)).rstrip()

    text = [line(columns), "  ".join("-" * w for w in widths)] + [line(r) for r in cells]
    if max_rows is not None and len(df) > max_rows:
        text.append(f"... {len(df) - max_rows} more rows")
    return "\n".join(text)


def _summary_text(summary: pd.DataFrame, horizons: Sequence[float]) -> str:
    if summary.empty:
        return "(no parents)"
    metrics = [c for c in summary.columns if c != "scenario"]
    names = [str(s) for s in summary["scenario"]]
    cells = [[_fmt(m, v) for v in summary[m]] for m in metrics]
    w0 = max(len("metric"), *(len(m) for m in metrics))
    widths = [max(len(n), *(len(r[i]) for r in cells)) for i, n in enumerate(names)]
    head = "metric".ljust(w0) + "".join("  " + n.rjust(w) for n, w in zip(names, widths))
    text = [head, "-" * len(head)]
    text += [m.ljust(w0) + "".join("  " + v.rjust(w) for v, w in zip(r, widths)) for m, r in zip(metrics, cells)]
    return "\n".join(text)


__all__ = ["format_table", "report_text"]
