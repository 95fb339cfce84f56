"""Execution path vs market: per scenario the consolidated mid, each venue's bid and ask and the fills,
with a drop-down that focuses one parent."""

from __future__ import annotations

import html
import math

import numpy as np
import numpy.typing as npt

from nautilus_sor.analysis.report.context import Context
from nautilus_sor.analysis.report.context import side_sign
from nautilus_sor.analysis.report.toolkit import explain, note, plot_times, rows_in_window, thin


def section(ctx: Context) -> str:
    go = ctx.go
    out = [
        explain(
            "Consolidated mid (black) = (best bid + best ask across venues) / 2; each venue's bid (dotted) and "
            "ask (dashed) in its colour; fills as markers in the venue's colour (triangle up = buy, down = sell, "
            "size grows with quantity); x = parent arrival at the arrival mid. The drop-down focuses one parent: its "
            "window, its fills highlighted."
        )
    ]
    if ctx.market.empty:
        out.append(note("No market data in this run: the execution path is shown without the market."))
    out.extend(ctx.omitted_note("are in the fills, cost and table sections"))
    for s in ctx.featured:
        parents = ctx.parents_of(s)
        fills = ctx.fills_of(s)
        out.append(f"<h3>{html.escape(s)}</h3>")
        if fills.empty:
            out.append(note(f"No fills in scenario {s}: nothing executed."))
            continue
        stamps = [fills["ts"].to_numpy()]
        if not parents.empty:
            stamps += [parents["arrival_ts"].to_numpy(), parents["end_ts"].to_numpy()]
        t0 = int(min(int(a.min()) for a in stamps))
        t1 = int(max(int(a.max()) for a in stamps))
        pad = max((t1 - t0) // 20, 1_000_000_000)
        lo, hi = t0 - pad, t1 + pad

        fig = go.Figure()
        market_window = rows_in_window(ctx.market, lo, hi) if not ctx.market.empty else ctx.market
        if not ctx.consolidated.empty:
            cons = thin(rows_in_window(ctx.consolidated, lo, hi))
            fig.add_trace(
                go.Scatter(
                    x=plot_times(cons["ts"]),
                    y=cons["cmid"].to_numpy(),
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
            quotes = thin(rows_in_window(quotes, lo, hi))
            colour = ctx.venue_colour[venue]
            for field, dash in (("bid", "dot"), ("ask", "dash")):
                fig.add_trace(
                    go.Scatter(
                        x=plot_times(quotes["ts"]),
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
        selectable: list[tuple[int, npt.NDArray[np.object_]]] = []  # (trace index, parent id of each point)
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
                    x=plot_times(vf["ts"]),
                    y=vf["price"].to_numpy(dtype=float),
                    name=f"fills {venue}",
                    mode="markers",
                    marker={
                        "color": ctx.venue_colour.get(venue, "#333"),
                        "size": 7 + 9 * np.sqrt(np.clip(qty, 0, None) / qmax) if qmax > 0 else 8,
                        "symbol": ["triangle-up" if x > 0 else "triangle-down" for x in side_sign(vf["side"])],
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
                        x=plot_times(pa["arrival_ts"]),
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
                pm = rows_in_window(market_window, p_lo, p_hi)
                prices += [float(np.nanmin(pm[["bid", "ask"]].to_numpy(dtype=float), initial=np.inf))]
                prices += [float(np.nanmax(pm[["bid", "ask"]].to_numpy(dtype=float), initial=-np.inf))]
            finite = [p for p in prices if math.isfinite(p)]
            if not finite:
                continue
            ymin, ymax = min(finite), max(finite)
            yspan = max(ymax - ymin, abs(ymax) * 1e-5, 1e-9)
            ppad = max((p_hi - p_lo) // 10, 500_000_000)
            x_range = plot_times([p_lo - ppad, p_hi + ppad]).tolist()
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
        out.append(note("No scenarios in this run."))
    return "".join(out)
