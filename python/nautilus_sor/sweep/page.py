"""The sweep's HTML page: one self-contained file (plotly.js inlined, like the backtest report) ranking the
points by mean router cost with 95% confidence intervals, the cost against each swept parameter, the
ranking table, the failures and the best config."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from nautilus_sor.analysis.report.toolkit import figure_html, html_page, html_table, note  # one look for every page of the package
from nautilus_sor.run_dir import write_atomic
from nautilus_sor.sweep.ranking import COST

MAX_BARS = 60  # points drawn in the ranking chart (the table has them all)
_BASELINE_COLOURS = {"equal_split": "#ff7f0e", "exante_best_venue": "#8c564b", "hindsight_best_venue": "#2ca02c", "nautilus_twap": "#9467bd"}


def _means_with_intervals(shown: pd.DataFrame, prefix: str) -> tuple[list[str], npt.NDArray[np.float64], dict[str, Any]]:
    """The points' labels, the `<prefix>_mean_bps` column and its 95% CI as plotly error bars."""
    labels = [f"#{r} {p}" for r, p in zip(shown["rank"], shown["point_id"])]
    mean = shown[f"{prefix}_mean_bps"].to_numpy(dtype=float)
    high = shown[f"{prefix}_ci95_high_bps"].to_numpy(dtype=float) - mean
    low = mean - shown[f"{prefix}_ci95_low_bps"].to_numpy(dtype=float)
    return labels, mean, {"type": "data", "symmetric": False, "array": np.nan_to_num(high), "arrayminus": np.nan_to_num(low)}


def _ranking_figure(go: Any, ranking: pd.DataFrame) -> Any:
    shown = ranking.head(MAX_BARS)
    labels, mean, error_y = _means_with_intervals(shown, "cost")
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=labels, y=mean, mode="markers", name="router (mean, 95% CI)", marker={"size": 9, "color": "#1f77b4"},
        error_y=error_y,
        customdata=shown["point_id"], hovertemplate="%{customdata}: %{y:.3f} bps<extra></extra>",
    ))
    for col in shown.columns:
        if col.endswith("_cost_mean_bps") and col != "cost_mean_bps":
            name = col[: -len("_cost_mean_bps")]
            fig.add_trace(go.Scatter(x=labels, y=shown[col], mode="markers", name=f"{name} (mean)",
                                     marker={"symbol": "x", "size": 7, "color": _BASELINE_COLOURS.get(name, "#7f7f7f")}))
    fig.update_layout(yaxis_title="total shortfall, bps (lower is better)", xaxis_title="point, best first",
                      margin={"l": 60, "r": 20, "t": 30, "b": 80}, legend={"orientation": "h"})
    return fig


def _delta_figure(go: Any, ranking: pd.DataFrame) -> Any:
    """Each point's cost minus the best point's on the same seeds: paired, so the markets' noise cancels."""
    shown = ranking.head(MAX_BARS)
    labels, mean, error_y = _means_with_intervals(shown, "delta_vs_best")
    fig = go.Figure(go.Scatter(
        x=labels, y=mean, mode="markers", name="cost - best point's, same seed (mean, 95% CI)",
        marker={"size": 9, "color": "#d62728"},
        error_y=error_y,
    ))
    fig.add_hline(y=0.0, line={"color": "#888", "dash": "dot"})
    fig.update_layout(yaxis_title="difference to the best point, bps", xaxis_title="point, best first",
                      margin={"l": 60, "r": 20, "t": 30, "b": 80})
    return fig


def _parameter_figures(go: Any, table: pd.DataFrame) -> list[tuple[str, Any]]:
    """Router cost of every repeat against each numeric swept parameter (categories as they are)."""
    out = []
    for col in [c for c in table.columns if c.startswith("param:")]:
        fig = go.Figure(go.Scatter(
            x=table[col].astype(str) if table[col].dtype == object else table[col], y=table[COST], mode="markers",
            marker={"size": 7, "opacity": 0.7}, customdata=table["point_id"],
            hovertemplate="%{customdata}: %{y:.3f} bps<extra></extra>", name=col[len("param:"):],
        ))
        fig.update_layout(xaxis_title=col[len("param:"):], yaxis_title="router total shortfall, bps",
                          margin={"l": 60, "r": 20, "t": 20, "b": 50})
        out.append((col[len("param:"):], fig))
    return out


def write_page(path: Path, outcome: Any, title: str = "nautilus-sor sweep") -> Path:
    import plotly.graph_objects as go  # lazy, like the report

    def render(fig: Any, n: int, height: int = 420) -> str:
        return '<div class="figure">' + figure_html(fig, n, height) + "</div>"

    ranking, table = outcome.ranking, outcome.table
    repeats = int(table.groupby("point_id")["repeat"].count().max()) if len(table) else 0
    parts = [
        f"<p class='sub'>{len(outcome.points)} points, {repeats} repeat(s) each; ranked by the router's mean total "
        "shortfall (implementation shortfall of the filled part plus the opportunity cost of the unfilled part, "
        "in bps of the parents' quantity), with a 95% Student-t confidence interval over the repeats.</p>",
        "<section id='ranking'><h2>Ranking</h2>", render(_ranking_figure(go, ranking), 0),
        "<p class='explain'>The same points against the best one, repeat by repeat on the same market: an "
        "interval above zero says the best point is better beyond the markets' noise.</p>",
        render(_delta_figure(go, ranking), 1, 340), "</section>",
    ]
    figures = _parameter_figures(go, table)
    if figures:
        parts.append("<section id='parameters'><h2>Cost against each parameter</h2>")
        for n, (name, fig) in enumerate(figures, start=2):
            parts.append(f"<h3>{html.escape(name)}</h3>{render(fig, n, 340)}")
        parts.append("</section>")
    parts.append("<section id='table'><h2>All points</h2>" + html_table(ranking.drop(columns=["key"]), digits=3) + "</section>")
    if outcome.failures:
        failures = pd.DataFrame([f.__dict__ for f in outcome.failures])
        parts.append("<section id='failures'><h2>Failures</h2>" + note(
            "Each task that raised is listed; one that failed twice leaves its point unfinished (run the sweep "
            "again to retry it).") + failures.to_html(index=False, border=0, classes="data", escape=True) + "</section>")
    if outcome.best_config is not None:
        best = json.loads(Path(outcome.best_config).read_text())
        parts.append(f"<section id='best'><h2>Best config</h2><p class='explain'>{html.escape(str(outcome.best_config))}"
                     f"</p><pre>{html.escape(json.dumps(best, indent=2))}</pre></section>")
    document = html_page(title, "".join(parts))
    return write_atomic(path, document)  # a kill mid-write never leaves a partial page
