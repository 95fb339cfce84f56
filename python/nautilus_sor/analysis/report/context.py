"""What every section of the report reads: the run's tables sorted once, the consolidated quote, the
scenarios in display order, the venues' colours, the TCA's scenario summary, and the figures collected in
page order (a section returns HTML with `FIGURE_MARK` where its figure goes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from nautilus_sor.analysis.market import consolidated, mid_at
from nautilus_sor.analysis.report.toolkit import PALETTE, note
from nautilus_sor.analysis.results import TABLES, RunResults
from nautilus_sor.analysis.scenarios import ALL_ON, sort_key
from nautilus_sor.exceptions import ValidationError

FIGURE_MARK = "\x00FIGURE\x00"


def validate(results: RunResults, tca_tables: Mapping[str, pd.DataFrame] | None) -> None:
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


class Context:
    """The run's tables, sorted once, plus colours and the figures collected in page order."""

    def __init__(self, results: RunResults, go: Any, tca_summary: pd.DataFrame | None = None,
                 tca_notes: Sequence[str] = ()) -> None:
        self.go = go
        self.r = results
        # The TCA's scenario summary: every cost and fill figure the sections show comes from it (`tca_notes`:
        # what the report had to say about where it came from).
        self.tca_summary = tca_summary if tca_summary is not None else pd.DataFrame()
        self.tca_notes = list(tca_notes)
        self.figures: list[tuple[Any, int]] = []
        self.market = results.market.sort_values(["ts", "venue"], kind="stable").reset_index(drop=True)
        self.fills = results.fills.sort_values(["ts"], kind="stable").reset_index(drop=True)
        self.consolidated = consolidated(self.market)
        self.scenarios = scenario_order(results)
        # The scenarios drawn one figure each (execution, schedule, venue scores): all but the all_on:<venue>
        # runs, which the ex-ante and hindsight scenarios show where they were chosen (and the fills, costs
        # and tables show in full).
        self.featured = [s for s in self.scenarios if not s.startswith(ALL_ON)] or self.scenarios
        self.omitted = [s for s in self.scenarios if s not in self.featured]
        venues: set[str] = set()
        for df in (results.market, results.fills, results.venue_scores, results.orders, results.trades):
            venues.update(str(v) for v in df["venue"].dropna().unique())
        self.venues = sorted(venues)
        self.venue_colour = {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(self.venues)}
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
        return FIGURE_MARK

    def omitted_note(self, about_them: str) -> list[str]:
        """The note of a per-scenario section that draws only the featured scenarios: which it draws, and
        `about_them` (where the omitted ones are shown); none when every scenario is drawn."""
        if not self.omitted:
            return []
        return [note(f"Drawn for {', '.join(self.featured)}; {', '.join(self.omitted)} {about_them}.")]

    def parents_of(self, scenario: str) -> pd.DataFrame:
        """The scenario's parents in arrival order."""
        parents = self.r.parents
        return parents[parents["scenario"] == scenario].sort_values("arrival_ts", kind="stable")

    def fills_of(self, scenario: str) -> pd.DataFrame:
        """The scenario's fills in time order."""
        return self.fills[self.fills["scenario"] == scenario]

    def mid_at(self, ts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """The consolidated mid in force at each ts (`market.mid_at`: NaN before any quote)."""
        return mid_at(self.consolidated, ts)


def scenario_order(results: RunResults) -> list[str]:
    names: set[str] = set()
    for table in ("parents", "orders", "fills", "schedule", "venue_scores"):
        names.update(str(s) for s in getattr(results, table)["scenario"].dropna().unique())
    return sorted(names, key=lambda s: (sort_key(s), s))


def side_sign(side: pd.Series) -> npt.NDArray[np.float64]:
    return np.where(side.astype(str).str.upper() == "SELL", -1.0, 1.0)


__all__ = ["FIGURE_MARK", "Context", "scenario_order", "side_sign", "validate"]
