"""Schedule vs actual: cumulative planned against cumulative filled quantity per parent."""

from __future__ import annotations

import html

import numpy as np
import numpy.typing as npt

from nautilus_sor.analysis.report.context import Context
from nautilus_sor.analysis.report.toolkit import explain, note, PALETTE, plot_times


# Up to this many parents per scenario get their own colour in "schedule vs actual".
MAX_PARENT_TRACES = 12


def section(ctx: Context) -> str:
    go = ctx.go
    out = [
        explain(
            "Cumulative planned quantity (dashed, from the schedule) against cumulative filled quantity (solid, "
            "from the fills) per parent. Double-click a legend entry to isolate a parent."
        )
    ]
    if not ctx.scenarios:
        return note("No scenarios in this run.")
    out.extend(ctx.omitted_note("follow the same schedule"))
    for s in ctx.featured:
        out.append(f"<h3>{html.escape(s)}</h3>")
        parents = ctx.parents_of(s)
        sched = ctx.r.schedule[ctx.r.schedule["scenario"] == s].sort_values("ts", kind="stable")
        fills = ctx.fills_of(s)
        if sched.empty and fills.empty:
            out.append(note(f"No schedule and no fills in scenario {s}."))
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
        series: list[tuple[str, str, str, npt.NDArray[np.int64], npt.NDArray[np.float64]]] = []  # pid, label, kind, ts, cumulative
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
            colour_of = {pid: PALETTE[i % len(PALETTE)] for i, pid in enumerate(parent_ids)}
            for pid, label, kind, ts, cum in series:
                fig.add_trace(
                    go.Scatter(
                        x=plot_times(ts),
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
                        x=plot_times(np.r_[first, ordered["ts"].to_numpy(dtype=np.int64)]),
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
            out.extend(note(n) for n in notes)
            fig.update_layout(title={"text": f"Schedule vs actual: {s}", "x": 0.01})
            out.append(ctx.figure(fig, height=440))
            continue
        t_lo = min(int(ts[0]) for *_, ts, _ in series)
        t_hi = max(int(ts[-1]) for *_, ts, _ in series)
        t_pad = max((t_hi - t_lo) // 40, 100_000_000)  # so the last step is not drawn on the frame
        fig.update_layout(
            title={"text": f"Schedule vs actual: {s}", "x": 0.01},
            xaxis_title="time (UTC)",
            xaxis_range=plot_times([t_lo - t_pad, t_hi + t_pad]).tolist(),
            xaxis_type="date",
            yaxis_title="cumulative quantity",
        )
        out.extend(note(n) for n in notes)
        out.append(ctx.figure(fig, height=420))
    return "".join(out)
