"""The package's HTML toolkit: one look for every page it writes (the backtest report, the sweep's page).

A page is `html_page(title, body)`: self-contained, plotly.js inlined once, so it opens offline. Figures go
in as `figure_html(fig, n, height)` fragments; tables as `html_table(df)` (scrolling sideways, ns
timestamps as UTC); prose as `note` (a warning box) and `explain` (a caption). `plot_times`, `thin` and
`rows_in_window` prepare time series for plotly. plotly is imported inside the functions that need it.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

# Market and venue-score series are thinned to at most this many points per venue and figure (the last
# value in each time bucket is kept), so a long run still gives a report a browser opens quickly.
MAX_POINTS_PER_SERIES = 600  # a step per two pixels of a full-width plot: more points draw nothing the eye sees
# Rows shown per TCA table (the rest is summarised in a note).
MAX_TABLE_ROWS = 500
PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
]

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #222;
       background: #fafafa; }
main { max-width: 1240px; margin: 0 auto; padding: 12px 24px 48px; }
h1 { font-size: 1.6em; margin: 18px 0 4px; }
h2 { font-size: 1.3em; margin: 36px 0 8px; border-bottom: 2px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 1.05em; margin: 22px 0 6px; color: #444; }
p.sub { color: #666; margin: 0 0 12px; }
nav { font-size: 0.92em; margin: 8px 0 0; }
nav a { margin-right: 14px; color: #1f5fa8; text-decoration: none; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 6px 12px; margin: 8px 0;
        color: #5b4a00; font-size: 0.92em; }
.explain { color: #555; font-size: 0.9em; margin: 4px 0 8px; }
.figure { background: #fff; border: 1px solid #e4e4e4; margin: 8px 0 16px; }
div.scroll { max-width: 100%; overflow-x: auto; margin: 6px 0 14px; }
table.data { border-collapse: collapse; font-size: 0.86em; background: #fff; margin: 0; }
table.data th, table.data td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
table.data th { background: #f0f2f5; }
table.data td:first-child, table.data th:first-child { text-align: left; }
details { margin: 6px 0; }
p.headline { font-weight: 600; margin: 6px 0 4px; }
ul.headline { margin: 4px 0 10px; padding-left: 22px; font-size: 1.02em; }
ul.headline li { margin: 3px 0; }
ul.headline li.lost { color: #a11; }
ul.headline li.warn { color: #7a5200; }
summary { cursor: pointer; color: #1f5fa8; }
"""


def figure_html(fig: Any, n: int, height: int) -> str:
    """A figure as an HTML fragment (`figure-<n>`, `height` px) of a page that inlines plotly.js once."""
    from plotly.io import to_html

    return str(
        to_html(
            fig,
            include_plotlyjs=False,
            full_html=False,
            div_id=f"figure-{n}",
            default_height=f"{height}px",
            default_width="100%",
            config={"displaylogo": False, "responsive": True},
        )
    )


def html_page(title: str, body: str, *, head: str = "") -> str:
    """A self-contained HTML page of the package's look: `CSS`, plotly.js inlined (after `head`, extra
    head elements), `title` as heading, then `body`."""
    from plotly.offline import get_plotlyjs

    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{CSS}</style>
{head}<script charset="utf-8" type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
<main>
<h1>{html.escape(title)}</h1>
{body}
</main>
</body>
</html>
"""


def plot_times(ts: Any) -> npt.NDArray[np.int64]:
    """Timestamps (ns) as ms since the epoch: what a plotly date axis reads, in a third of the bytes of ISO
    text (the figures set `xaxis type="date"`)."""
    return np.asarray(ts, dtype=np.int64) // 1_000_000


def rows_in_window(df: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    """Rows with lo <= ts <= hi of a ts-sorted frame, plus the row in force at lo."""
    times = df["ts"].to_numpy()
    start = max(int(np.searchsorted(times, lo, side="left")) - 1, 0)
    stop = int(np.searchsorted(times, hi, side="right"))
    return df.iloc[start:stop]


def thin(df: pd.DataFrame, max_points: int = MAX_POINTS_PER_SERIES) -> pd.DataFrame:
    """At most ~max_points rows of a ts-sorted frame: the last row of each equal time bucket (and the first)."""
    if len(df) <= max_points:
        return df
    times = df["ts"].to_numpy().astype(float)
    edges = np.linspace(times[0], times[-1], max_points)
    bucket = np.searchsorted(edges, times, side="right")
    keep = np.r_[bucket[1:] != bucket[:-1], True]
    keep[0] = True
    return df[keep]


def note(text: str) -> str:
    return f'<div class="note">{html.escape(text)}</div>'


def explain(text: str) -> str:
    return f'<p class="explain">{html.escape(text)}</p>'


def html_table(df: pd.DataFrame, digits: int = 4) -> str:
    """`df` as an HTML table in a box that scrolls sideways rather than overflow the page; timestamps (ns
    columns named `ts` or `*_ts`) as UTC date and time."""
    shown = human_times(df.head(MAX_TABLE_ROWS))

    def fmt(x: float) -> str:
        if isinstance(x, float) and math.isnan(x):
            return "–"
        return f"{x:,.{digits}f}"

    out = shown.to_html(index=False, border=0, classes="data", float_format=fmt, na_rep="–", escape=True)
    out = f'<div class="scroll">{out}</div>'
    if len(df) > len(shown):
        out += note(f"{len(df) - len(shown)} more rows not shown ({len(df)} in all).")
    return str(out)


def human_times(df: pd.DataFrame) -> pd.DataFrame:
    """Integer ns timestamp columns (`ts`, `*_ts`) as "2024-08-08 00:00:10.039" UTC ("–" for -1: none)."""
    cols = [c for c in df.columns if (str(c) == "ts" or str(c).endswith("_ts")) and pd.api.types.is_integer_dtype(df[c])]
    if not cols:
        return df
    out = df.copy()
    for c in cols:
        ns = out[c].to_numpy(dtype=np.int64)
        text = pd.to_datetime(np.where(ns > 0, ns, 0), unit="ns").strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3]
        out[c] = np.where(ns > 0, text, "–")
    return out


__all__ = ["CSS", "MAX_POINTS_PER_SERIES", "MAX_TABLE_ROWS", "PALETTE", "explain", "figure_html", "html_page", "html_table",
           "human_times", "note", "plot_times", "rows_in_window", "thin"]
