"""The backtest's console tables (rich), at most `WIDTH` columns wide, in instrument units: quantities in
the instrument's unit (BTC, IBM shares), prices and fees in its quote currency, costs in bps. Parents are
named by their place in the config (#1, #2, ...) and their arrival time (UTC); scenarios by name."""

from __future__ import annotations

import io
import math
import shutil
from typing import Any

import pandas as pd

from nautilus_sor.backtest import scenarios as S

WIDTH = 100
DETAILED_VENUE_SCENARIOS = (S.ROUTER, S.EQUAL_SPLIT)  # the per-venue table (the others trade one venue each)


def width() -> int:
    """The terminal's width, at most `WIDTH` (`WIDTH` when not a terminal)."""
    return min(shutil.get_terminal_size((WIDTH, 24)).columns, WIDTH)


def _num(x: Any, fmt: str) -> str:
    if x is None or x is pd.NA or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return format(x, fmt)


def _time(ts: Any) -> str:
    return pd.Timestamp(int(ts), unit="ns", tz="UTC").strftime("%H:%M:%S") if int(ts) > 0 else "-"


def parent_label(index: Any) -> str:
    return f"#{int(index) + 1}" if index is not None and int(index) >= 0 else "-"


def render(tca: Any, results: Any, columns: int | None = None) -> str:
    """The scenario summary, the parents, the router's venues, the reject reasons and the TCA's notes."""
    from rich import box
    from rich.console import Console, JustifyMethod
    from rich.table import Table

    unit = str(results.summary.get("quantity_unit", "units"))
    ccy = str(results.summary.get("quote_currency", "quote"))
    info = results.summary.get("repeats", {})
    seeds = info.get("market_seeds") or []
    offsets = info.get("offsets_s") or []
    which = (f"market seed {seeds[0]}" if seeds and seeds[0] >= 0 else f"start offset {offsets[0]:g} s" if offsets else "")
    out = io.StringIO()
    console = Console(file=out, width=columns or width(), color_system=None, force_terminal=False, highlight=False)

    def table(title: str, caption: str | None = None) -> Table:
        return Table(title=title, caption=caption, box=box.SIMPLE_HEAD, title_justify="left", caption_justify="left", pad_edge=False,
                     padding=(0, 0), collapse_padding=True)

    s = tca.scenario_summary
    justify: JustifyMethod  # the column loops below
    t = table(f"Scenarios, repeat 0 ({which}): costs in bps (positive = cost)" if which else "Scenarios: costs in bps (positive = cost)",
              "all-in = IS x fill + opport. (bps of the quantity); IS = drift + spread + impact + fees (bps of what filled); "
              "opport. = the unfilled rest taken at the schedule's end")
    for name, justify in (("scenario", "left"), ("fill", "right"), ("all-in", "right"), ("IS", "right"), ("drift", "right"),
                          ("spread", "right"), ("impact", "right"), ("fees", "right"), ("opport.", "right"), ("orders", "right"),
                          ("rejects", "right")):
        t.add_column(name, justify=justify, no_wrap=True)
    for r in s.itertuples():
        t.add_row(str(r.scenario), _num(100 * r.fill_rate, ".1f") + "%", _num(r.all_in_bps, "+.2f"), _num(r.is_bps, "+.2f"),
                  _num(r.drift_bps, "+.2f"), _num(r.spread_bps, "+.2f"), _num(r.impact_bps, "+.2f"), _num(r.fees_bps, "+.2f"),
                  _num(r.opportunity_bps, "+.2f"), str(r.child_orders), str(r.rejects))
    console.print(t)

    p = tca.parents
    t = table(f"Parents, repeat 0: quantities in {unit}, prices in {ccy}, costs in bps")
    for name, justify in (("scenario", "left"), ("parent", "left"), ("arrival", "left"), (f"qty {unit}", "right"),
                          ("fill", "right"), (f"avg px {ccy}", "right"), ("all-in", "right"), ("IS", "right"), ("opport.", "right"),
                          ("venue", "left")):
        t.add_column(name, justify=justify, no_wrap=True)
    for r in p.itertuples():
        t.add_row(str(r.scenario), f"{parent_label(r.parent_index)} {r.side}", _time(r.arrival_ts), _num(r.quantity, ",.10g"),
                  _num(100 * r.fill_rate, ".1f") + "%", _num(r.avg_price, ",.8g"), _num(r.all_in_bps, "+.2f"), _num(r.is_bps, "+.2f"),
                  _num(r.opportunity_bps, "+.2f"), str(r.baseline_venue or ""))
    console.print(t)

    v = tca.venues[tca.venues["scenario"].isin(DETAILED_VENUE_SCENARIOS)]
    if len(v):
        index_of = dict(zip(zip(p["scenario"], p["parent_id"]), p["parent_index"]))
        t = table(f"Venues of {' and '.join(DETAILED_VENUE_SCENARIOS)}, repeat 0: quantities in {unit}, fees in {ccy}",
                  "every scenario's venues: tca_venues.parquet and the report")
        for name, justify in (("scenario", "left"), ("parent", "left"), ("venue", "left"), ("ordered", "right"), ("filled", "right"),
                              ("fill", "right"), (f"avg px {ccy}", "right"), ("IS bps", "right"), (f"fees {ccy}", "right"),
                              ("rejects", "right"), ("latency ms", "right")):
            t.add_column(name, justify=justify, no_wrap=True)
        for r in v.itertuples():
            t.add_row(str(r.scenario), parent_label(index_of.get((r.scenario, r.parent_id), -1)), str(r.venue), _num(r.ordered_qty, ",.10g"),
                      _num(r.filled_qty, ",.10g"), _num(100 * r.fill_rate, ".1f") + "%", _num(r.avg_price, ",.8g"), _num(r.is_bps, "+.2f"),
                      _num(r.fees, ",.2f"), str(r.rejects), _num(r.latency_mean_ms, ".1f"))
        console.print(t)
    reasons = tca.venues[tca.venues["reject_reasons"].astype(str) != ""]
    if len(reasons):
        index_of = dict(zip(zip(p["scenario"], p["parent_id"]), p["parent_index"]))
        console.print("Rejected or denied orders, repeat 0 (orders.parquet has each one's reason):")
        for r in reasons.itertuples():
            console.print(f"  {r.scenario} {parent_label(index_of.get((r.scenario, r.parent_id), -1))} {r.venue}: {r.reject_reasons}")
    if tca.notes:
        console.print("Notes:")
        for note in tca.notes:
            console.print(f"  - {note}")
    return "\n".join(line.rstrip() for line in out.getvalue().rstrip().splitlines()) + "\n"


def wrap(lines: list[str], columns: int | None = None) -> str:
    """Lines of text wrapped at the console's width, a wrapped line's rest indented under its start."""
    import textwrap

    out = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip()))
        out += textwrap.wrap(line, width=columns or width(), subsequent_indent=indent + "    ") or [""]
    return "\n".join(out)


__all__ = ["WIDTH", "parent_label", "render", "width", "wrap"]
