"""A self-contained HTML report of a backtest run (plotly, with plotly.js inlined: opens offline).

`build_report(results, path, tca_tables=None)` reads only the fixed tables of `RunResults`
(`nautilus_sor.analysis.results`) and the TCA's tables (`nautilus_sor.analysis.tca`: given, or computed
here from the same results). One module per section; the HTML look is the public `toolkit` the sweep's
page uses too. Sections:

- Did routing help: the headline (`analysis/headline.py`) and each repeat's all-in cost per scenario.
- Summary: per scenario the TCA's parents, quantities, fill rate, orders, rejects, fees and all-in cost, the
  fills and venues used; the run's scalars (`run.json`).
- Execution path vs market: per scenario, the consolidated mid (best bid across venues + best ask across
  venues, halved, as the router measures costs: `analysis/market.py`) and each venue's bid/ask over time, with the fills as markers
  coloured by venue; a drop-down focuses one parent (its fills and its time window).
- Fills by venue: filled quantity per venue per scenario (stacked bars).
- Cost breakdown: the TCA's split of each scenario's all-in cost (drift, spread, impact, fees of the filled
  part, opportunity of the rest), stacking to the all-in total (the one cost split of the package).
- Schedule vs actual: per scenario and parent, cumulative planned quantity (`schedule`) against cumulative
  filled quantity (`fills`).
- Venue score evolution: per scenario, the router's `score_bps` and `fill_probability` per venue over time.
- TCA tables: the given tables as HTML (`scenario_summary` first).

A section with nothing to show (a scenario without fills, a run without venue scores) says so in a note.
plotly is imported only inside `build_report`: `import nautilus_sor` never loads it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from nautilus_sor.analysis.results import RunResults

DEFAULT_TITLE = "nautilus-sor backtest report"


def build_report(
    results: RunResults,
    path: str | Path,
    tca_tables: Mapping[str, pd.DataFrame] | None = None,
    title: str = DEFAULT_TITLE,
) -> Path:
    """Writes the report of `results` to `path` as one self-contained HTML file and returns the path.

    `tca_tables` maps names to DataFrames the TCA computed from these results (`TcaReport.tables()`; every
    table is shown as HTML, `scenario_summary` drives the summary and the cost breakdown). Without it, or
    when its `scenario_summary` lacks the TCA's columns, the TCA is computed here from `results`.
    """
    from nautilus_sor.analysis.report import costs, execution, fills, overview, schedule, scores, tables
    from nautilus_sor.analysis.report.context import FIGURE_MARK, Context, validate
    from nautilus_sor.analysis.report.toolkit import figure_html, html_page

    validate(results, tca_tables)
    import plotly.graph_objects as go  # lazy: the report is plotly's only user

    shown, summary, notes = _tca(results, tca_tables)
    ctx = Context(results, go, summary, notes)
    sections: list[tuple[str, str, str]] = [
        ("headline", "Did routing help?", overview.headline_section(ctx)),
        ("summary", "Summary", overview.summary_section(ctx)),
        ("execution", "Execution path vs market", execution.section(ctx)),
        ("fills", "Fills by venue", fills.section(ctx)),
        ("costs", "Cost breakdown", costs.section(ctx)),
        ("schedule", "Schedule vs actual", schedule.section(ctx)),
        ("venue-scores", "Venue score evolution", scores.section(ctx)),
        ("tca", "TCA tables", tables.section(shown)),
    ]

    body: list[str] = []
    for anchor, heading, content in sections:
        body.append(f'<section id="{anchor}"><h2>{html.escape(heading)}</h2>{content}</section>')
    text = "\n".join(body)
    # Figures were left as placeholders so they are numbered in page order.
    parts = text.split(FIGURE_MARK)
    out = [parts[0]]
    for n, part in enumerate(parts[1:]):
        fig, height = ctx.figures[n]
        out.append(f'<div class="figure">{figure_html(fig, n, height)}</div>')
        out.append(part)
    nav = " ".join(f'<a href="#{a}">{html.escape(h)}</a>' for a, h, _ in sections)
    scenarios = ", ".join(ctx.scenarios) or "none"
    document = html_page(
        title,
        f'<p class="sub">Scenarios: {html.escape(scenarios)}. Times are UTC.</p>\n<nav>{nav}</nav>\n{"".join(out)}',
        head="<script type=\"text/javascript\">window.PlotlyConfig = {MathJaxConfig: 'local'};</script>\n",
    )
    from nautilus_sor.run_dir import write_atomic

    return write_atomic(path, document)  # a kill mid-write never leaves a partial report


def _tca(results: RunResults, given: Mapping[str, pd.DataFrame] | None
         ) -> tuple[Mapping[str, pd.DataFrame], pd.DataFrame, list[str]]:
    """(the TCA tables to show, the scenario summary the sections read, notes on where it came from): the
    given tables when their scenario summary has what the sections read, else the TCA of `results`."""
    from nautilus_sor.analysis.report.costs import REQUIRED_COLUMNS
    from nautilus_sor.analysis.tca import analyze

    summary = given.get("scenario_summary") if given else None
    if summary is not None and set(REQUIRED_COLUMNS) <= set(summary.columns):
        return given or {}, summary, []
    computed = analyze(results)
    if not given:
        return computed.tables(), computed.scenario_summary, []
    missing = sorted(set(REQUIRED_COLUMNS) - set(summary.columns)) if summary is not None else ["scenario_summary"]
    return given, computed.scenario_summary, [f"The given TCA tables lack {', '.join(missing)}: the summary and the cost "
                                             "breakdown use the TCA computed from this run."]


def main_report(run_dir: str, output: str | None = None) -> Path:
    """Builds the report of a saved run directory (loaded and verified, its TCA computed): `output`, or
    `run_dir/report.html` by default."""
    from nautilus_sor.analysis.tca import analyze

    results = RunResults.load(run_dir)
    target = Path(output) if output is not None else Path(run_dir) / "report.html"
    name = results.summary.get("name") if isinstance(results.summary.get("name"), str) else Path(run_dir).name
    return build_report(results, target, tca_tables=analyze(results).tables(), title=f"{DEFAULT_TITLE}: {name}")


__all__ = ["DEFAULT_TITLE", "build_report", "main_report"]
