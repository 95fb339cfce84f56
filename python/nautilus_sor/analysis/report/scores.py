"""Venue score evolution: the router's score and learned fill probability per venue over time."""

from __future__ import annotations

import html

import numpy as np

from nautilus_sor.analysis.report.context import Context
from nautilus_sor.analysis.report.toolkit import explain, note, plot_times, thin


def section(ctx: Context) -> str:
    go = ctx.go
    from plotly.subplots import make_subplots

    scores = ctx.r.venue_scores
    out = [
        explain(
            "The router's view of each venue at each decision: all-in cost score in bps against the consolidated "
            "mid (lower is better; gaps = no allocation there) and the learned fill probability."
        )
    ]
    if not ctx.scenarios:
        return note("No scenarios in this run.")
    if scores.empty:
        out.append(note("No venue scores in this run (no routing decisions were recorded)."))
        return "".join(out)
    without = [s for s in ctx.scenarios if not scores.loc[scores["scenario"] == s, "score_bps"].notna().any()]
    if without:
        out.append(note(f"No venue scores in scenario(s) {', '.join(without)}: no router scored venues there (one venue, "
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
            vs = thin(vs)
            colour = ctx.venue_colour.get(venue, "#333")
            custom = np.column_stack(
                [vs["latency_mean_ms"].to_numpy(dtype=float), vs["slippage_bps"].to_numpy(dtype=float)]
            )
            common = {"x": plot_times(vs["ts"]), "customdata": custom, "legendgroup": venue, "mode": "lines+markers"}
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
