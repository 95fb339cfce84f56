"""A self-contained HTML report of a backtest run (plotly, with plotly.js inlined: opens offline).

`build_report(results, path, tca_tables=None)` reads only the fixed tables of `RunResults`
(`nautilus_sor.analysis.results`) and, optionally, tables already computed by the TCA. Sections:

- Summary: per scenario parents, quantities, fill rate, orders, rejects, fees; the run's scalars (`run.json`).
- Execution path vs market: per scenario, the consolidated mid (best bid across venues + best ask across
  venues, halved, as the router measures costs) and each venue's bid/ask over time, with the fills as markers
  coloured by venue; a drop-down focuses one parent (its fills and its time window).
- Fills by venue: filled quantity per venue per scenario (stacked bars).
- Cost breakdown: implementation shortfall in bps per scenario split into components. From the TCA's
  `scenario_summary` when given (columns such as `spread_bps`, `impact_bps`, `fees_bps`, `is_bps`);
  otherwise computed here from the fills against the arrival consolidated mid: spread (fill price vs the mid
  at the fill), impact/drift (mid at the fill vs the arrival mid) and fees (commission), which add up to
  the shortfall of the filled quantity.
- Schedule vs actual: per scenario and parent, cumulative planned quantity (`schedule`) against cumulative
  filled quantity (`fills`).
- Venue score evolution: per scenario, the router's `score_bps` and `fill_probability` per venue over time.
- TCA tables: the given tables as HTML (`scenario_summary` first).

A section with nothing to show (a scenario without fills, a run without venue scores) says so in a note.
plotly is imported only inside `build_report`: `import nautilus_sor` never loads it.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from nautilus_sor.analysis.results import TABLES, RunResults
from nautilus_sor.backtest.scenarios import ALL_ON
from nautilus_sor.exceptions import ValidationError

if TYPE_CHECKING:
    import plotly.graph_objects as go

DEFAULT_TITLE = "nautilus-sor backtest report"

# Market and venue-score series are thinned to at most this many points per venue and figure (the last
# value in each time bucket is kept), so a long run still gives a report a browser opens quickly.
MAX_POINTS_PER_SERIES = 600  # a step per two pixels of a full-width plot: more points draw nothing the eye sees
# Up to this many parents per scenario get their own colour in "schedule vs actual".
MAX_PARENT_TRACES = 12
# Rows shown per TCA table (the rest is summarised in a note).
MAX_TABLE_ROWS = 500

_PALETTE = [
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

# How cost components are recognised in a TCA scenario summary: label -> accepted column names.
TCA_COMPONENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "drift": ("drift_bps", "timing_drift_bps"),
    "spread": ("spread_bps", "spread_cost_bps", "half_spread_bps"),
    "impact": ("impact_bps", "market_impact_bps", "impact_cost_bps"),
    "fees": ("fees_bps", "fee_bps", "commission_bps", "commissions_bps"),
    "delay": ("delay_bps", "timing_bps", "delay_cost_bps"),
}
TCA_TOTAL_COLUMNS: tuple[str, ...] = ("is_bps", "implementation_shortfall_bps", "shortfall_bps", "total_bps")
_COMPONENT_COLOURS = {
    "drift": "#9d9d9d",
    "spread": "#4c78a8",
    "impact": "#f58518",
    "fees": "#e45756",
    "delay": "#72b7b2",
    "opportunity": "#b279a2",
}

_CSS = """
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


def build_report(
    results: RunResults,
    path: str | Path,
    tca_tables: Mapping[str, pd.DataFrame] | None = None,
    title: str = DEFAULT_TITLE,
) -> Path:
    """Writes the report of `results` to `path` as one self-contained HTML file and returns the path.

    `tca_tables` maps names to DataFrames already computed by the TCA (`scenario_summary` drives the cost
    breakdown when it has recognised component columns; every table is shown as HTML). Without it the cost
    breakdown is computed from the fills against the arrival consolidated mid.
    """
    _validate(results, tca_tables)
    import plotly.graph_objects as go  # lazy: the report is the only user of plotly

    ctx = _Context(results, go)
    sections: list[tuple[str, str, str]] = [
        ("headline", "Did routing help?", _headline_section(ctx)),
        ("summary", "Summary", _summary_section(ctx)),
        ("execution", "Execution path vs market", _execution_section(ctx)),
        ("fills", "Fills by venue", _fills_section(ctx)),
        ("costs", "Cost breakdown", _cost_section(ctx, tca_tables)),
        ("schedule", "Schedule vs actual", _schedule_section(ctx)),
        ("venue-scores", "Venue score evolution", _venue_score_section(ctx)),
        ("tca", "TCA tables", _tca_tables_section(tca_tables)),
    ]

    body: list[str] = []
    for anchor, heading, content in sections:
        body.append(f'<section id="{anchor}"><h2>{html.escape(heading)}</h2>{content}</section>')
    text = "\n".join(body)
    # Figures were left as placeholders so they are numbered in page order.
    parts = text.split(_FIGURE_MARK)
    out = [parts[0]]
    for n, part in enumerate(parts[1:]):
        fig, height = ctx.figures[n]
        out.append(f'<div class="figure">{_figure_html(fig, n, height)}</div>')
        out.append(part)
    nav = " ".join(f'<a href="#{a}">{html.escape(h)}</a>' for a, h, _ in sections)
    scenarios = ", ".join(ctx.scenarios) or "none"
    document = _html_page(
        title,
        f'<p class="sub">Scenarios: {html.escape(scenarios)}. Times are UTC.</p>\n<nav>{nav}</nav>\n{"".join(out)}',
        head="<script type=\"text/javascript\">window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n",
    )
    from nautilus_sor.backtest.run_dir import write_atomic

    return write_atomic(path, document)  # a kill mid-write never leaves a partial report


def _figure_html(fig: Any, n: int, height: int) -> str:
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


def _html_page(title: str, body: str, *, head: str = "") -> str:
    """A self-contained HTML page of the package's look: `_CSS`, plotly.js inlined (after `head`, extra
    head elements), `title` as heading, then `body`."""
    from plotly.offline import get_plotlyjs

    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
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


def main_report(
    run_dir: str,
    output: str | None = None,
    *,
    tca_tables: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Builds the report of a saved run directory: `output`, or `run_dir/report.html` by default."""
    results = RunResults.load(run_dir)
    target = Path(output) if output is not None else Path(run_dir) / "report.html"
    name = results.summary.get("name") if isinstance(results.summary.get("name"), str) else Path(run_dir).name
    return build_report(results, target, tca_tables=tca_tables, title=f"{DEFAULT_TITLE}: {name}")


# --- input checks ------------------------------------------------------------------------------------------


def _validate(results: RunResults, tca_tables: Mapping[str, pd.DataFrame] | None) -> None:
    if not isinstance(results, RunResults):
        raise ValidationError(
            f"invalid results: expected RunResults, got {type(results).__name__}",
            field="results",
            value=type(results).__name__,
        )
    for table, columns in TABLES.items():
        df = getattr(results, table)
        if not isinstance(df, pd.DataFrame):
            raise ValidationError(f"invalid results.{table}: not a DataFrame", field=table, value=type(df).__name__)
        missing = set(columns) - set(df.columns)
        if missing:
            raise ValidationError(
                f"invalid results.{table}: lacks columns {sorted(missing)}", field=table, value=sorted(missing)
            )
    if tca_tables is not None:
        if not isinstance(tca_tables, Mapping):
            raise ValidationError(
                "invalid tca_tables: expected a mapping of name -> DataFrame",
                field="tca_tables",
                value=type(tca_tables).__name__,
            )
        for name, df in tca_tables.items():
            if not isinstance(df, pd.DataFrame):
                raise ValidationError(
                    f"invalid tca_tables[{name!r}]: not a DataFrame", field="tca_tables", value=str(name)
                )


# --- shared state ------------------------------------------------------------------------------------------

_FIGURE_MARK = "\x00FIGURE\x00"


class _Context:
    """The run's tables, sorted once, plus colours and the figures collected in page order."""

    def __init__(self, results: RunResults, go: Any) -> None:
        self.go = go
        self.r = results
        self.figures: list[tuple[Any, int]] = []
        self.market = results.market.sort_values(["ts", "venue"], kind="stable").reset_index(drop=True)
        self.fills = results.fills.sort_values(["ts"], kind="stable").reset_index(drop=True)
        self.consolidated = _consolidated(self.market)
        self.scenarios = _scenario_order(results)
        # The scenarios drawn one figure each (execution, schedule, venue scores): all but the all_on:<venue>
        # runs, which the ex-ante and hindsight scenarios show where they were chosen (and the fills, costs
        # and tables show in full).
        self.featured = [s for s in self.scenarios if not s.startswith(ALL_ON)] or self.scenarios
        self.omitted = [s for s in self.scenarios if s not in self.featured]
        venues: set[str] = set()
        for df in (results.market, results.fills, results.venue_scores, results.orders, results.trades):
            venues.update(str(v) for v in df["venue"].dropna().unique())
        self.venues = sorted(venues)
        self.venue_colour = {v: _PALETTE[i % len(_PALETTE)] for i, v in enumerate(self.venues)}
        # Units for column headings: " (BTC)", " (USDT)" when the run says them.
        self.unit = f" ({results.summary['quantity_unit']})" if results.summary.get("quantity_unit") else ""
        self.ccy = f" ({results.summary['quote_currency']})" if results.summary.get("quote_currency") else ""

    def figure(self, fig: Any, height: int = 460) -> str:
        fig.update_layout(
            template="plotly_white",
            height=height,
            margin={"l": 64, "r": 24, "t": 56, "b": 48},
            legend={"orientation": "v", "x": 1.01, "y": 1, "font": {"size": 11}},
            hoverlabel={"namelength": -1},
        )
        self.figures.append((fig, height))
        return _FIGURE_MARK

    def mid_at(self, ts: np.ndarray) -> np.ndarray:
        """Consolidated mid in force at each ts (the first one for times before any quote)."""
        cons = self.consolidated
        if cons.empty:
            return np.full(len(ts), np.nan)
        times = cons["ts"].to_numpy()
        idx = np.searchsorted(times, np.asarray(ts, dtype=np.int64), side="right") - 1
        return np.asarray(cons["mid"].to_numpy()[np.clip(idx, 0, len(times) - 1)], dtype=float)


def _scenario_order(results: RunResults) -> list[str]:
    names: set[str] = set()
    for table in ("parents", "orders", "fills", "schedule", "venue_scores"):
        names.update(str(s) for s in getattr(results, table)["scenario"].dropna().unique())
    from nautilus_sor.backtest.scenarios import sort_key

    return sorted(names, key=lambda s: (sort_key(s), s))


def _consolidated(market: pd.DataFrame) -> pd.DataFrame:
    """ts, best_bid, best_ask, mid: each venue's last quote carried forward, best across venues."""
    if market.empty:
        return pd.DataFrame({"ts": pd.Series([], dtype="int64"), "best_bid": [], "best_ask": [], "mid": []})
    m = market.drop_duplicates(["ts", "venue"], keep="last")
    # An explicitly missing side (one-sided book) stays missing after the forward fill: mark it first.
    bid = m.pivot(index="ts", columns="venue", values="bid").astype(float)
    ask = m.pivot(index="ts", columns="venue", values="ask").astype(float)
    present = m.pivot(index="ts", columns="venue", values="ts").notna()
    bid = bid.where(~(present & bid.isna()), -np.inf).ffill()
    ask = ask.where(~(present & ask.isna()), np.inf).ffill()
    best_bid = bid.replace(-np.inf, np.nan).max(axis=1)
    best_ask = ask.replace(np.inf, np.nan).min(axis=1)
    mid = (best_bid + best_ask) / 2.0
    if "mid" in market.columns:  # a bar market: venue prices without quotes give the mid, as in the TCA
        from nautilus_sor.analysis.tca import consolidated

        mid = mid.fillna(consolidated(market).set_index("ts")["cmid"].reindex(bid.index))
    return pd.DataFrame(
        {
            "ts": bid.index.to_numpy(dtype=np.int64),
            "best_bid": best_bid.to_numpy(),
            "best_ask": best_ask.to_numpy(),
            "mid": mid.to_numpy(),
        }
    )


def _times(ts: Any) -> np.ndarray:
    """Timestamps (ns) as ms since the epoch: what a plotly date axis reads, in a third of the bytes of ISO
    text (the figures set `xaxis type="date"`)."""
    return np.asarray(ts, dtype=np.int64) // 1_000_000


def _window(df: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    """Rows with lo <= ts <= hi of a ts-sorted frame, plus the row in force at lo."""
    times = df["ts"].to_numpy()
    start = max(int(np.searchsorted(times, lo, side="left")) - 1, 0)
    stop = int(np.searchsorted(times, hi, side="right"))
    return df.iloc[start:stop]


def _thin(df: pd.DataFrame, max_points: int = MAX_POINTS_PER_SERIES) -> pd.DataFrame:
    """At most ~max_points rows of a ts-sorted frame: the last row of each equal time bucket (and the first)."""
    if len(df) <= max_points:
        return df
    times = df["ts"].to_numpy().astype(float)
    edges = np.linspace(times[0], times[-1], max_points)
    bucket = np.searchsorted(edges, times, side="right")
    keep = np.r_[bucket[1:] != bucket[:-1], True]
    keep[0] = True
    return df[keep]


def _note(text: str) -> str:
    return f'<div class="note">{html.escape(text)}</div>'


def _explain(text: str) -> str:
    return f'<p class="explain">{html.escape(text)}</p>'


def _table(df: pd.DataFrame, digits: int = 4) -> str:
    """`df` as an HTML table in a box that scrolls sideways rather than overflow the page; timestamps (ns
    columns named `ts` or `*_ts`) as UTC date and time."""
    shown = _human_times(df.head(MAX_TABLE_ROWS))

    def fmt(x: float) -> str:
        if isinstance(x, float) and math.isnan(x):
            return "–"
        return f"{x:,.{digits}f}"

    out = shown.to_html(index=False, border=0, classes="data", float_format=fmt, na_rep="–", escape=True)
    out = f'<div class="scroll">{out}</div>'
    if len(df) > len(shown):
        out += _note(f"{len(df) - len(shown)} more rows not shown ({len(df)} in all).")
    return str(out)


def _human_times(df: pd.DataFrame) -> pd.DataFrame:
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


def _sign(side: pd.Series) -> np.ndarray:
    return np.where(side.astype(str).str.upper() == "SELL", -1.0, 1.0)


# --- sections ----------------------------------------------------------------------------------------------


def _headline_section(ctx: _Context) -> str:
    """The console's headline (the router's all-in saving against each baseline over the repeats), then
    each repeat's all-in cost per scenario."""
    from nautilus_sor.backtest.repeats import headline_lines, scenario_costs

    r = ctx.r
    lines = r.summary.get("headline")
    if not isinstance(lines, list) or not lines:
        if r.repeats.empty:
            return _note("This run has no repeats table (it was not made by `nautilus-sor backtest`): no headline.")
        lines = headline_lines(r, str(r.summary.get("quantity_unit", "units")))
    head, *rest = [str(x) for x in lines]
    items = "".join(
        f'<li class="{"warn" if x.strip().startswith("warning") else "lost" if " LOST " in x else ""}">{html.escape(x.strip())}</li>' for x in rest)
    out = [f'<p class="headline">{html.escape(head)}</p><ul class="headline">{items}</ul>']
    costs = scenario_costs(r.repeats)
    if not costs.empty:
        from nautilus_sor.backtest.scenarios import sort_key

        costs = costs[sorted(costs.columns, key=lambda c: sort_key(str(c)))]
        out.append(_explain("All-in cost per repeat (bps of the parents' quantity, fees in, unfilled rest priced at the "
                            "schedule's end; positive = cost). Repeat 0 is the run the sections below detail."))
        table = costs.reset_index()
        table.columns = [str(c) for c in table.columns]
        out.append(_table(table, digits=2))
    return "".join(out)


def _summary_section(ctx: _Context) -> str:
    r = ctx.r
    if not ctx.scenarios:
        return _note("The run has no parents, orders or fills: nothing to report.")
    rows: list[dict[str, Any]] = []
    for s in ctx.scenarios:
        parents = r.parents[r.parents["scenario"] == s]
        orders = r.orders[r.orders["scenario"] == s]
        fills = r.fills[r.fills["scenario"] == s]
        qty = float(parents["quantity"].sum())
        filled = float(fills["quantity"].sum())
        rejected = int(orders["status"].isin(["REJECTED", "DENIED"]).sum())
        notional = float((fills["quantity"] * fills["price"]).sum())
        rows.append(
            {
                "scenario": s,
                "parents": len(parents),
                f"parent qty{ctx.unit}": qty,
                f"filled qty{ctx.unit}": filled,
                "filled %": 100.0 * filled / qty if qty > 0 else float("nan"),
                "orders": len(orders),
                "rejected/denied": rejected,
                "fills": len(fills),
                "venues used": int(fills["venue"].nunique()),
                f"avg fill price{ctx.ccy}": notional / filled if filled > 0 else float("nan"),
                f"commission{ctx.ccy}": float(fills["commission"].sum()),
            }
        )
    out = [_table(pd.DataFrame(rows))]
    empty = [str(row["scenario"]) for row in rows if row["fills"] == 0]
    if empty:
        out.append(_note(f"No fills in scenario(s): {', '.join(empty)}."))
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


def _execution_section(ctx: _Context) -> str:
    go = ctx.go
    r = ctx.r
    out = [
        _explain(
            "Consolidated mid (black) = (best bid + best ask across venues) / 2; each venue's bid (dotted) and "
            "ask (dashed) in its colour; fills as markers in the venue's colour (triangle up = buy, down = sell, "
            "size grows with quantity); x = parent arrival at the arrival mid. The drop-down focuses one parent: its "
            "window, its fills highlighted."
        )
    ]
    if ctx.market.empty:
        out.append(_note("No market data in this run: the execution path is shown without the market."))
    if ctx.omitted:
        out.append(_note(f"Drawn for {', '.join(ctx.featured)}; {', '.join(ctx.omitted)} are in the fills, cost and table sections."))
    for s in ctx.featured:
        parents = r.parents[r.parents["scenario"] == s].sort_values("arrival_ts", kind="stable")
        fills = ctx.fills[ctx.fills["scenario"] == s]
        out.append(f"<h3>{html.escape(s)}</h3>")
        if fills.empty:
            out.append(_note(f"No fills in scenario {s}: nothing executed."))
            continue
        stamps = [fills["ts"].to_numpy()]
        if not parents.empty:
            stamps += [parents["arrival_ts"].to_numpy(), parents["end_ts"].to_numpy()]
        t0 = int(min(int(a.min()) for a in stamps))
        t1 = int(max(int(a.max()) for a in stamps))
        pad = max((t1 - t0) // 20, 1_000_000_000)
        lo, hi = t0 - pad, t1 + pad

        fig = go.Figure()
        market_window = _window(ctx.market, lo, hi) if not ctx.market.empty else ctx.market
        if not ctx.consolidated.empty:
            cons = _thin(_window(ctx.consolidated, lo, hi))
            fig.add_trace(
                go.Scatter(
                    x=_times(cons["ts"]),
                    y=cons["mid"].to_numpy(),
                    name="consolidated mid",
                    mode="lines",
                    line={"color": "#111", "width": 1.6, "shape": "hv"},
                    legendgroup="mid",
                )
            )
        for venue in ctx.venues:
            quotes = ctx.market[ctx.market["venue"] == venue]
            if quotes.empty:
                continue
            quotes = _thin(_window(quotes, lo, hi))
            colour = ctx.venue_colour[venue]
            for field, dash in (("bid", "dot"), ("ask", "dash")):
                fig.add_trace(
                    go.Scatter(
                        x=_times(quotes["ts"]),
                        y=quotes[field].to_numpy(dtype=float),
                        name=f"{venue} {field}",
                        mode="lines",
                        line={"color": colour, "width": 1, "dash": dash, "shape": "hv"},
                        opacity=0.7,
                        legendgroup=f"quotes-{venue}",
                    )
                )
        # Fills: one trace per venue; arrivals: one trace. The parent drop-down selects points (the others
        # are dimmed) and zooms to the parent's window, so the page size grows with the fills, not parents².
        qmax = float(fills["quantity"].max())
        selectable: list[tuple[int, np.ndarray]] = []  # (trace index, parent id of each point)
        for venue, vf in fills.groupby("venue", sort=True, observed=True):
            venue = str(venue)
            qty = vf["quantity"].to_numpy(dtype=float)
            text = [
                f"{pid} {sd} {q:g} @ {p:.6g}<br>{venue} {liq} fee {c:.4g}"
                for pid, sd, q, p, liq, c in zip(
                    vf["parent_id"].astype(str),
                    vf["side"].astype(str),
                    qty,
                    vf["price"].to_numpy(dtype=float),
                    vf["liquidity_side"].astype(str),
                    vf["commission"].to_numpy(dtype=float),
                    strict=True,
                )
            ]
            fig.add_trace(
                go.Scatter(
                    x=_times(vf["ts"]),
                    y=vf["price"].to_numpy(dtype=float),
                    name=f"fills {venue}",
                    mode="markers",
                    marker={
                        "color": ctx.venue_colour.get(venue, "#333"),
                        "size": 7 + 9 * np.sqrt(np.clip(qty, 0, None) / qmax) if qmax > 0 else 8,
                        "symbol": ["triangle-up" if x > 0 else "triangle-down" for x in _sign(vf["side"])],
                        "line": {"width": 0.8, "color": "#fff"},
                        "opacity": 0.85,
                    },
                    unselected={"marker": {"opacity": 0.12}},
                    legendgroup=f"fills-{venue}",
                    hovertext=text,
                    hoverinfo="text+x",
                )
            )
            selectable.append((len(fig.data) - 1, vf["parent_id"].astype(str).to_numpy()))
        if not parents.empty and not ctx.consolidated.empty:
            arrival_mid = ctx.mid_at(parents["arrival_ts"].to_numpy())
            ok = np.isfinite(arrival_mid)
            pa = parents[ok]
            text = [
                f"{pid} {sd} {q:g} {algo}<br>arrival mid {m:.6g}"
                for pid, sd, q, algo, m in zip(
                    pa["parent_id"].astype(str),
                    pa["side"].astype(str),
                    pa["quantity"].to_numpy(dtype=float),
                    pa["algorithm"].astype(str),
                    arrival_mid[ok],
                    strict=True,
                )
            ]
            if len(pa):
                fig.add_trace(
                    go.Scatter(
                        x=_times(pa["arrival_ts"]),
                        y=arrival_mid[ok],
                        name="parent arrival",
                        mode="markers",
                        marker={"symbol": "x-thin", "size": 12, "line": {"width": 2, "color": "#111"}},
                        unselected={"marker": {"opacity": 0.15}},
                        legendgroup="arrivals",
                        hovertext=text,
                        hoverinfo="text+x",
                    )
                )
                selectable.append((len(fig.data) - 1, pa["parent_id"].astype(str).to_numpy()))

        # Each parent's window: arrival (or first fill) to end (or last fill), prices of its fills and quotes.
        span_of = fills.groupby("parent_id", observed=True).agg(
            lo=("ts", "min"), hi=("ts", "max"), pmin=("price", "min"), pmax=("price", "max")
        )
        span_of.index = span_of.index.astype(str)
        parent_ids = list(dict.fromkeys([*parents["parent_id"].astype(str), *span_of.index]))
        arrival_of = dict(zip(parents["parent_id"].astype(str), parents["arrival_ts"].astype(int), strict=True))
        end_of = dict(zip(parents["parent_id"].astype(str), parents["end_ts"].astype(int), strict=True))
        trace_ids = [i for i, _ in selectable]
        buttons = [
            {
                "label": "all parents",
                "method": "update",
                "args": [
                    {"selectedpoints": [None] * len(selectable)},
                    {"xaxis.autorange": True, "yaxis.autorange": True},
                    trace_ids,
                ],
            }
        ]
        for pid in parent_ids:
            bounds = [arrival_of.get(pid), end_of.get(pid)]
            prices = []
            if pid in span_of.index:
                row = span_of.loc[pid]
                bounds += [int(row["lo"]), int(row["hi"])]
                prices += [float(row["pmin"]), float(row["pmax"])]
            known = [b for b in bounds if b is not None]
            p_lo, p_hi = min(known), max(known)
            if not market_window.empty:
                pm = _window(market_window, p_lo, p_hi)
                prices += [float(np.nanmin(pm[["bid", "ask"]].to_numpy(dtype=float), initial=np.inf))]
                prices += [float(np.nanmax(pm[["bid", "ask"]].to_numpy(dtype=float), initial=-np.inf))]
            finite = [p for p in prices if math.isfinite(p)]
            if not finite:
                continue
            ymin, ymax = min(finite), max(finite)
            yspan = max(ymax - ymin, abs(ymax) * 1e-5, 1e-9)
            ppad = max((p_hi - p_lo) // 10, 500_000_000)
            x_range = _times([p_lo - ppad, p_hi + ppad]).tolist()
            buttons.append(
                {
                    "label": pid,
                    "method": "update",
                    "args": [
                        {"selectedpoints": [np.flatnonzero(pids == pid).tolist() for _, pids in selectable]},
                        {"xaxis.range": x_range, "yaxis.range": [ymin - 0.08 * yspan, ymax + 0.08 * yspan]},
                        trace_ids,
                    ],
                }
            )
        fig.update_layout(
            title={"text": f"Execution path vs market: {s}", "x": 0.01},
            xaxis_title="time (UTC)",
            xaxis_type="date",
            yaxis_title="price",
            yaxis_tickformat=",.8~g",
            updatemenus=[
                {
                    "buttons": buttons,
                    "direction": "down",
                    "x": 0.5,
                    "xanchor": "center",
                    "y": 1.16,
                    "yanchor": "top",
                    "showactive": True,
                    "font": {"size": 11},
                }
            ]
            if len(buttons) > 2
            else [],
        )
        out.append(ctx.figure(fig, height=500))
    if not ctx.scenarios:
        out.append(_note("No scenarios in this run."))
    return "".join(out)


def _fills_section(ctx: _Context) -> str:
    go = ctx.go
    fills = ctx.r.fills
    out = []
    if not ctx.scenarios:
        return _note("No scenarios in this run.")
    if fills.empty:
        return _note("No fills in any scenario.")
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
        out.append(_note(f"No fills in scenario(s): {', '.join(empty)}."))
    table = by.reset_index()[["scenario", "venue", "fills", "quantity", "notional"]]
    table["share %"] = [
        100.0 * q / float(totals[s]) if float(totals[s]) > 0 else float("nan")
        for s, q in zip(table["scenario"], table["quantity"], strict=True)
    ]
    rank = {s: i for i, s in enumerate(ctx.scenarios)}
    table = table.sort_values("scenario", key=lambda col: col.map(lambda s: rank.get(str(s), len(rank))), kind="stable")
    out.append(_table(table.rename(columns={"quantity": f"quantity{ctx.unit}", "notional": f"notional{ctx.ccy}"})))
    return "".join(out)


def _tca_costs(tca_tables: Mapping[str, pd.DataFrame] | None) -> tuple[pd.DataFrame, list[str]] | None:
    """(per-scenario frame with component columns named by label [+ 'total'], labels) from the TCA."""
    if not tca_tables:
        return None
    summary = tca_tables.get("scenario_summary")
    if summary is None or summary.empty or "scenario" not in summary.columns:
        return None
    picked: dict[str, str] = {}
    for label, names in TCA_COMPONENT_COLUMNS.items():
        for name in names:
            if name in summary.columns and pd.api.types.is_numeric_dtype(summary[name]):
                picked[label] = name
                break
    if not picked:
        return None
    total = next(
        (c for c in TCA_TOTAL_COLUMNS if c in summary.columns and pd.api.types.is_numeric_dtype(summary[c])), None
    )
    cols = {label: summary[name].astype(float) for label, name in picked.items()}
    labels = list(picked)
    if {"opportunity_bps", "fill_rate"} <= set(summary.columns):
        # In bps of the parents' whole quantity: what filled (its components times the fill share) plus the
        # unfilled rest's clean-up, stacking to the all-in cost.
        share = summary["fill_rate"].astype(float).fillna(0.0)
        cols = {label: (col * share).where(share > 0, 0.0) for label, col in cols.items()}
        cols["opportunity"] = summary["opportunity_bps"].astype(float)
        labels.append("opportunity")
        total = "all_in_bps" if "all_in_bps" in summary.columns else None
        if total is None:
            cols["total"] = sum(cols.values())
    if total is not None:
        cols["total"] = summary[total].astype(float)
    frame = pd.DataFrame({"scenario": summary["scenario"].astype(str), **cols})
    frame = frame.groupby("scenario", sort=False).mean()
    return frame, labels


def _computed_costs(ctx: _Context) -> pd.DataFrame:
    """Per scenario: spread, impact, fees and total in bps of the arrival notional of the filled quantity."""
    fills = ctx.r.fills
    parents = ctx.r.parents
    if fills.empty or ctx.consolidated.empty:
        return pd.DataFrame(columns=["drift", "spread", "fees", "total", "filled qty"])
    f = fills[["scenario", "parent_id", "side", "ts", "quantity", "price", "commission"]].copy()
    arrival = parents.drop_duplicates(["scenario", "parent_id"]).set_index(["scenario", "parent_id"])["arrival_ts"]
    first_fill = f.groupby(["scenario", "parent_id"], observed=True)["ts"].transform("min")
    keys = pd.MultiIndex.from_arrays([f["scenario"], f["parent_id"]])
    f["arrival_ts"] = arrival.reindex(keys).to_numpy()
    f["arrival_ts"] = f["arrival_ts"].fillna(first_fill).astype("int64")
    arr_mid = ctx.mid_at(f["arrival_ts"].to_numpy())
    fill_mid = ctx.mid_at(f["ts"].to_numpy())
    sign = _sign(f["side"])
    qty = f["quantity"].to_numpy(dtype=float)
    price = f["price"].to_numpy(dtype=float)
    f["spread"] = sign * (price - fill_mid) * qty
    f["impact"] = sign * (fill_mid - arr_mid) * qty
    f["fees"] = f["commission"].to_numpy(dtype=float)
    f["ref"] = qty * arr_mid
    f = f[np.isfinite(f["ref"]) & np.isfinite(f["spread"])]
    if f.empty:
        return pd.DataFrame(columns=["drift", "spread", "fees", "total", "filled qty"])
    g = f.groupby("scenario", observed=True)[["spread", "impact", "fees", "ref", "quantity"]].sum()
    out = pd.DataFrame(
        {
            "spread": 1e4 * g["spread"] / g["ref"],
            "drift": 1e4 * g["impact"] / g["ref"],
            "fees": 1e4 * g["fees"] / g["ref"],
        },
        index=g.index.astype(str),
    )
    out["total"] = out.sum(axis=1)
    out["filled qty"] = g["quantity"].to_numpy()
    return out


def _cost_section(ctx: _Context, tca_tables: Mapping[str, pd.DataFrame] | None) -> str:
    go = ctx.go
    out = []
    if not ctx.scenarios:
        return _note("No scenarios in this run.")
    from_tca = _tca_costs(tca_tables)
    if from_tca is not None:
        costs, labels = from_tca
        if "opportunity" in labels:
            out.append(_explain(
                "All-in cost per scenario, in bps of the parents' whole quantity at the arrival mid (positive = cost), split by "
                "the TCA: drift = the market's move from arrival to the fills (not ours: a replay does not move the market); "
                "spread = the fills against the mid, up to the touch; impact = beyond the touch (walking the book); fees; "
                "opportunity = what taking the unfilled rest at the schedule's end would have cost. The diamond is the total."))
        else:
            out.append(_explain("Implementation shortfall per scenario in bps, split by the TCA (scenario_summary)."))
    else:
        if tca_tables and "scenario_summary" in tca_tables:
            out.append(
                _note(
                    "The TCA scenario_summary has no recognised cost columns "
                    f"({', '.join(n for names in TCA_COMPONENT_COLUMNS.values() for n in names[:1])}, ...): "
                    "the breakdown below is computed from the fills."
                )
            )
        costs, labels = _computed_costs(ctx), ["drift", "spread", "fees"]
        out.append(
            _explain(
                "Computed from the fills (no TCA given): bps of the filled quantity's value at the arrival "
                "consolidated mid. spread = fill price vs the mid at the fill; drift = mid at the fill vs the "
                "arrival mid; fees = commission. Positive = cost. Unfilled quantity is not counted here (no "
                "opportunity cost: the TCA's all-in cost has it)."
            )
        )
    if costs.empty:
        out.append(_note("No cost to show: no fills with a market price at arrival in any scenario."))
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
    if "total" in costs.columns:
        totals = [float(costs.loc[s, "total"]) for s in shown]
        fig.add_trace(
            go.Scatter(
                x=shown,
                y=totals,
                name="all-in total" if "opportunity" in labels else "total IS",
                mode="markers+text",
                marker={"symbol": "diamond", "size": 12, "color": "#111"},
                text=[f"{t:.2f}" if math.isfinite(t) else "" for t in totals],
                textposition="top center",
                hovertemplate="total<br>%{x}: %{y:.3f} bps<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="relative",
        title={"text": "All-in cost by component (bps)" if "opportunity" in labels else "Implementation shortfall by component (bps)",
               "x": 0.01},
        yaxis_title="bps (positive = cost)",
    )
    fig.add_hline(y=0, line={"color": "#999", "width": 1})
    out.append(ctx.figure(fig, height=440))
    if missing:
        out.append(_note(f"No cost for scenario(s) without fills: {', '.join(missing)}."))
    table = costs.loc[shown].reset_index(names="scenario")
    table.columns = [c if c in ("scenario", "filled qty") else f"{c} bps" for c in table.columns]
    out.append(_table(table, digits=3))
    return "".join(out)


def _schedule_section(ctx: _Context) -> str:
    go = ctx.go
    r = ctx.r
    out = [
        _explain(
            "Cumulative planned quantity (dashed, from the schedule) against cumulative filled quantity (solid, "
            "from the fills) per parent. Double-click a legend entry to isolate a parent."
        )
    ]
    if not ctx.scenarios:
        return _note("No scenarios in this run.")
    if ctx.omitted:
        out.append(_note(f"Drawn for {', '.join(ctx.featured)}; {', '.join(ctx.omitted)} follow the same schedule."))
    for s in ctx.featured:
        out.append(f"<h3>{html.escape(s)}</h3>")
        parents = r.parents[r.parents["scenario"] == s].sort_values("arrival_ts", kind="stable")
        sched = r.schedule[r.schedule["scenario"] == s].sort_values("ts", kind="stable")
        fills = ctx.fills[ctx.fills["scenario"] == s]
        if sched.empty and fills.empty:
            out.append(_note(f"No schedule and no fills in scenario {s}."))
            continue
        notes = []
        if sched.empty:
            notes.append(f"No planned schedule recorded in scenario {s} (one-shot orders, or Nautilus's own algorithm): only the "
                         "filled quantity is shown.")
        if fills.empty:
            notes.append(f"No fills in scenario {s}: only the plan is shown.")
        parent_ids = list(
            dict.fromkeys(
                [*parents["parent_id"].astype(str), *sched["parent_id"].astype(str), *fills["parent_id"].astype(str)]
            )
        )
        fig = go.Figure()
        groups = [
            {str(k): g for k, g in df.groupby("parent_id", sort=False, observed=True)} for df in (parents, sched, fills)
        ]
        series: list[tuple[str, str, str, np.ndarray, np.ndarray]] = []  # pid, label, kind, ts, cumulative
        for pid in parent_ids:
            prow = groups[0].get(pid, parents.iloc[0:0])
            ps = groups[1].get(pid, sched.iloc[0:0])
            pf = groups[2].get(pid, fills.iloc[0:0])
            starts = [int(a.min()) for a in (ps["ts"].to_numpy(), pf["ts"].to_numpy()) if a.size]
            start = int(prow["arrival_ts"].iloc[0]) if not prow.empty else min(starts)
            end = int(prow["end_ts"].iloc[0]) if not prow.empty else start
            label = pid
            if not prow.empty:
                first = prow.iloc[0]
                label = f"{pid} ({first['algorithm']} {first['side']} {float(first['quantity']):g})"
            if not pf.empty:
                last = max(end, int(pf["ts"].iloc[-1]))
                ts = np.r_[min(start, int(pf["ts"].iloc[0])), pf["ts"].to_numpy(dtype=np.int64), last]
                cum = pf["quantity"].cumsum().to_numpy(dtype=float)
                series.append((pid, label, "filled", ts, np.r_[0.0, cum, cum[-1]]))
            if not ps.empty:
                ts = np.r_[min(start, int(ps["ts"].iloc[0])), ps["ts"].to_numpy(dtype=np.int64)]
                cum = np.r_[0.0, ps["quantity"].cumsum().to_numpy(dtype=float)]
                series.append((pid, label, "planned", ts, cum))
        style = {
            "planned": {"dash": "dash", "shape": "hv", "width": 1.5},
            "filled": {"shape": "hv", "width": 2.2},
        }
        if len(parent_ids) <= MAX_PARENT_TRACES:
            colour_of = {pid: _PALETTE[i % len(_PALETTE)] for i, pid in enumerate(parent_ids)}
            for pid, label, kind, ts, cum in series:
                fig.add_trace(
                    go.Scatter(
                        x=_times(ts),
                        y=cum,
                        name=f"{label} {kind}",
                        mode="lines",
                        line={"color": colour_of[pid], **style[kind]},
                        legendgroup=pid,
                        hovertemplate=f"{pid} {kind}<br>%{{x}}<br>%{{y:,.6g}}<extra></extra>",
                    )
                )
        else:
            # Many parents: the scenario's total (left) and every parent as a share of its quantity against the
            # time since its arrival (right), one trace per kind with gaps between parents.
            notes.append(
                f"{len(parent_ids)} parents (more than {MAX_PARENT_TRACES}): left, the sum over all parents; "
                "right, each parent in % of its quantity against the time since its arrival (hover names it)."
            )
            from plotly.subplots import make_subplots

            fig = make_subplots(
                rows=1,
                cols=2,
                horizontal_spacing=0.08,
                subplot_titles=("all parents: cumulative quantity", "each parent: % of its quantity"),
            )
            qty_of = dict(zip(parents["parent_id"].astype(str), parents["quantity"].astype(float), strict=True))
            for kind, colour in (("filled", "#1f77b4"), ("planned", "#444444")):
                rows = sched if kind == "planned" else fills
                if rows.empty:
                    continue
                ordered = rows.sort_values("ts", kind="stable")
                first = min(int(ordered["ts"].iloc[0]), int(parents["arrival_ts"].min()) if len(parents) else 2**62)
                fig.add_trace(
                    go.Scatter(
                        x=_times(np.r_[first, ordered["ts"].to_numpy(dtype=np.int64)]),
                        y=np.r_[0.0, ordered["quantity"].cumsum().to_numpy(dtype=float)],
                        name=kind,
                        mode="lines",
                        line={"color": colour, **style[kind]},
                        legendgroup=kind,
                        hovertemplate=f"all parents {kind}<br>%{{x}}<br>%{{y:,.6g}}<extra></extra>",
                    ),
                    row=1,
                    col=1,
                )
                picked = [(pid, ts, cum) for pid, _, k, ts, cum in series if k == kind]
                xs = np.concatenate([np.r_[ts - ts[0], ts[-1] - ts[0]] / 1e9 for _, ts, _ in picked])
                ys = np.concatenate(
                    [np.r_[100.0 * cum / (qty_of.get(pid) or max(cum[-1], 1e-12)), np.nan] for pid, _, cum in picked]
                )
                names = [pid for pid, ts, _ in picked for _ in range(len(ts) + 1)]
                fig.add_trace(
                    go.Scatter(
                        x=xs,
                        y=ys,
                        name=kind,
                        mode="lines",
                        line={"color": colour, **style[kind], "width": 1},
                        opacity=0.5,
                        legendgroup=kind,
                        showlegend=False,
                        text=names,
                        hovertemplate=f"%{{text}} {kind}<br>%{{x:.3f}} s<br>%{{y:.1f}}%<extra></extra>",
                    ),
                    row=1,
                    col=2,
                )
            fig.update_xaxes(title_text="time (UTC)", type="date", row=1, col=1)
            fig.update_xaxes(title_text="seconds since arrival", row=1, col=2)
            fig.update_yaxes(title_text="cumulative quantity", row=1, col=1)
            fig.update_yaxes(title_text="% of parent quantity", row=1, col=2)
            out.extend(_note(n) for n in notes)
            fig.update_layout(title={"text": f"Schedule vs actual: {s}", "x": 0.01})
            out.append(ctx.figure(fig, height=440))
            continue
        t_lo = min(int(ts[0]) for *_, ts, _ in series)
        t_hi = max(int(ts[-1]) for *_, ts, _ in series)
        t_pad = max((t_hi - t_lo) // 40, 100_000_000)  # so the last step is not drawn on the frame
        fig.update_layout(
            title={"text": f"Schedule vs actual: {s}", "x": 0.01},
            xaxis_title="time (UTC)",
            xaxis_range=_times([t_lo - t_pad, t_hi + t_pad]).tolist(),
            xaxis_type="date",
            yaxis_title="cumulative quantity",
        )
        out.extend(_note(n) for n in notes)
        out.append(ctx.figure(fig, height=420))
    return "".join(out)


def _venue_score_section(ctx: _Context) -> str:
    go = ctx.go
    from plotly.subplots import make_subplots

    scores = ctx.r.venue_scores
    out = [
        _explain(
            "The router's view of each venue at each decision: all-in cost score in bps against the consolidated "
            "mid (lower is better; gaps = no allocation there) and the learned fill probability."
        )
    ]
    if not ctx.scenarios:
        return _note("No scenarios in this run.")
    if scores.empty:
        out.append(_note("No venue scores in this run (no routing decisions were recorded)."))
        return "".join(out)
    without = [s for s in ctx.scenarios if not scores.loc[scores["scenario"] == s, "score_bps"].notna().any()]
    if without:
        out.append(_note(f"No venue scores in scenario(s) {', '.join(without)}: no router scored venues there (one venue, "
                         "an equal split, or Nautilus's own algorithm)."))
    for s in [s for s in ctx.scenarios if s not in without]:
        sc = scores[scores["scenario"] == s].sort_values("ts", kind="stable")
        out.append(f"<h3>{html.escape(s)}</h3>")
        fig = make_subplots(
            rows=2,
            cols=1,
            shared_xaxes=True,
            vertical_spacing=0.1,
            subplot_titles=("score (bps, all-in cost)", "fill probability"),
        )
        for venue, vs in sc.groupby("venue", sort=True):
            venue = str(venue)
            vs = _thin(vs)
            colour = ctx.venue_colour.get(venue, "#333")
            custom = np.column_stack(
                [vs["latency_mean_ms"].to_numpy(dtype=float), vs["slippage_bps"].to_numpy(dtype=float)]
            )
            common = {"x": _times(vs["ts"]), "customdata": custom, "legendgroup": venue, "mode": "lines+markers"}
            fig.add_trace(
                go.Scatter(
                    y=vs["score_bps"].to_numpy(dtype=float),
                    name=venue,
                    line={"color": colour, "width": 1.5},
                    marker={"size": 4, "color": colour},
                    hovertemplate=f"{venue}<br>%{{x}}<br>score %{{y:.3f}} bps<br>latency %{{customdata[0]:.1f}} ms"
                    "<br>slippage %{customdata[1]:.3f} bps<extra></extra>",
                    **common,
                ),
                row=1,
                col=1,
            )
            fig.add_trace(
                go.Scatter(
                    y=vs["fill_probability"].to_numpy(dtype=float),
                    name=venue,
                    showlegend=False,
                    line={"color": colour, "width": 1.5},
                    marker={"size": 4, "color": colour},
                    hovertemplate=f"{venue}<br>%{{x}}<br>fill probability %{{y:.3f}}<extra></extra>",
                    **common,
                ),
                row=2,
                col=1,
            )
        fig.update_yaxes(title_text="bps", row=1, col=1)
        fig.update_yaxes(title_text="p(fill)", range=[0, 1.05], row=2, col=1)
        fig.update_xaxes(title_text="time (UTC)", row=2, col=1)
        fig.update_xaxes(type="date")
        fig.update_layout(title={"text": f"Venue scores: {s}", "x": 0.01})
        out.append(ctx.figure(fig, height=520))
    return "".join(out)


# The columns each TCA table shows first (the rest are one click away), in this order.
TCA_MAIN_COLUMNS: dict[str, tuple[str, ...]] = {
    "scenario_summary": ("scenario", "fill_rate", "all_in_bps", "is_bps", "drift_bps", "spread_bps", "impact_bps", "fees_bps",
                         "opportunity_bps", "child_orders", "rejects"),
    "parents": ("scenario", "parent_index", "side", "arrival_ts", "quantity", "fill_rate", "avg_price", "all_in_bps", "is_bps",
                "opportunity_bps", "rejects", "baseline_venue"),
    "venues": ("scenario", "parent_id", "venue", "ordered_qty", "filled_qty", "fill_rate", "avg_price", "is_bps", "fees",
               "rejects", "reject_reasons"),
}


def _tca_tables_section(tca_tables: Mapping[str, pd.DataFrame] | None) -> str:
    if not tca_tables:
        return _note("No TCA tables were given to the report.")
    out = [_explain("Quantities in the instrument's unit, prices and fees in its quote currency, costs in bps (positive = cost), "
                    "times UTC. Each table shows its main columns; every column is one click below it.")]
    names = sorted(tca_tables, key=lambda n: (n != "scenario_summary", str(n)))
    for name in names:
        df = tca_tables[name]
        out.append(f"<h3>{html.escape(str(name))} ({len(df)} rows)</h3>")
        if df.empty:
            out.append(_note(f"{name} is empty."))
            continue
        main = [c for c in TCA_MAIN_COLUMNS.get(str(name), ()) if c in df.columns]
        if main:
            out.append(_table(df[main], digits=3))
            out.append(f"<details><summary>all {len(df.columns)} columns</summary>{_table(df)}</details>")
        else:
            out.append(_table(df))
    return "".join(out)
