"""What a backtest run produces, as pandas DataFrames with fixed columns, saved as Parquet.

A run directory holds one Parquet file per table plus `run.json` (the config and summary). The TCA
(`nautilus_sor.tca`) and the report (`nautilus_sor.report`) read only these tables, so a report can be
rebuilt from a saved run (`nautilus-sor report run_dir/`).

All timestamps are int64 ns since the epoch (UTC). Quantities are float64 in instrument units
(e.g. BTC); prices in quote currency. `scenario` names the run the row belongs to: "router" for the
configured strategy, or a baseline ("best_single_venue", "equal_split", "single_venue_twap").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

# One row per parent order the strategy sent.
PARENTS_COLUMNS = {
    "scenario": "string",
    "parent_id": "string",
    "algorithm": "string",  # "TWAP", "VWAP", "POV", "IS", "ROUTER" (one-shot split), "MARKET"
    "side": "string",  # "BUY" / "SELL"
    "quantity": "float64",
    "arrival_ts": "int64",  # when the strategy sent it
    "end_ts": "int64",  # last fill or cancel of any of its children (arrival_ts if none)
}

# One row per child order (and per primary that was itself sent).
ORDERS_COLUMNS = {
    "scenario": "string",
    "parent_id": "string",
    "client_order_id": "string",
    "venue": "string",
    "instrument_id": "string",
    "side": "string",
    "order_type": "string",  # "MARKET" / "LIMIT"
    "quantity": "float64",
    "filled_qty": "float64",
    "status": "string",  # Nautilus OrderStatus name: FILLED, CANCELED, REJECTED, DENIED, ...
    "ts_init": "int64",  # created
    "ts_submitted": "int64",  # -1 if never submitted
    "ts_accepted": "int64",  # the venue's first answer (accept, or fill/reject without one); -1 if none
    # (ack latency = ts_accepted - ts_submitted)
    "ts_last": "int64",
    "expected_price": "float64",  # what the router expected (NaN without routing)
}

# One row per fill.
FILLS_COLUMNS = {
    "scenario": "string",
    "parent_id": "string",
    "client_order_id": "string",
    "venue": "string",
    "instrument_id": "string",
    "side": "string",
    "ts": "int64",
    "quantity": "float64",
    "price": "float64",
    "commission": "float64",  # in quote currency; negative = rebate
    "liquidity_side": "string",  # "MAKER" / "TAKER"
}

# The market as the run saw it: one row per top-of-book change per venue. A bar market adds an optional
# "mid" (float64): a venue's price where it has no quote (its bar close, bid/ask NaN), NaN elsewhere.
MARKET_COLUMNS = {
    "ts": "int64",
    "venue": "string",
    "bid": "float64",
    "ask": "float64",
    "bid_size": "float64",
    "ask_size": "float64",
}

# The trade tape per venue (for VWAP benchmarks and participation).
TRADES_COLUMNS = {
    "ts": "int64",
    "venue": "string",
    "price": "float64",
    "size": "float64",
}

# The router's view of each venue over time (one snapshot per routing decision or event batch).
VENUE_SCORES_COLUMNS = {
    "scenario": "string",
    "ts": "int64",
    "venue": "string",
    "score_bps": "float64",  # all-in cost of the last decision's allocation there (NaN if none)
    "fill_probability": "float64",
    "latency_mean_ms": "float64",
    "slippage_bps": "float64",
}

# The schedule each parent planned: one row per slice.
SCHEDULE_COLUMNS = {
    "scenario": "string",
    "parent_id": "string",
    "ts": "int64",
    "quantity": "float64",
}

TABLES: dict[str, dict[str, str]] = {
    "parents": PARENTS_COLUMNS,
    "orders": ORDERS_COLUMNS,
    "fills": FILLS_COLUMNS,
    "market": MARKET_COLUMNS,
    "trades": TRADES_COLUMNS,
    "venue_scores": VENUE_SCORES_COLUMNS,
    "schedule": SCHEDULE_COLUMNS,
}


def empty(table: str) -> pd.DataFrame:
    return frame(table, [])


def frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A DataFrame with exactly the table's columns and dtypes (missing keys are an error)."""
    columns = TABLES[table]
    df = pd.DataFrame(rows, columns=list(columns))
    return df.astype(columns)


@dataclass
class RunResults:
    """Everything a run produced; `summary` holds scalars (config echo, timings, counts)."""

    parents: pd.DataFrame = field(default_factory=lambda: empty("parents"))
    orders: pd.DataFrame = field(default_factory=lambda: empty("orders"))
    fills: pd.DataFrame = field(default_factory=lambda: empty("fills"))
    market: pd.DataFrame = field(default_factory=lambda: empty("market"))
    trades: pd.DataFrame = field(default_factory=lambda: empty("trades"))
    venue_scores: pd.DataFrame = field(default_factory=lambda: empty("venue_scores"))
    schedule: pd.DataFrame = field(default_factory=lambda: empty("schedule"))
    summary: dict[str, Any] = field(default_factory=dict)

    def save(self, run_dir: str | Path) -> Path:
        path = Path(run_dir)
        path.mkdir(parents=True, exist_ok=True)
        for table in TABLES:
            getattr(self, table).to_parquet(path / f"{table}.parquet", index=False)
        (path / "run.json").write_text(json.dumps(self.summary, indent=2, default=str))
        return path

    @classmethod
    def load(cls, run_dir: str | Path) -> RunResults:
        from nautilus_sor.exceptions import ValidationError

        path = Path(run_dir)
        if not (path / "run.json").is_file():
            raise ValidationError(f"invalid run_dir: {path} (no run.json: not a saved run)", field="run_dir", value=str(path))
        tables = {}
        for table, columns in TABLES.items():
            file = path / f"{table}.parquet"
            if not file.is_file():
                raise ValidationError(f"invalid run_dir: {file} is missing", field="run_dir", value=str(path))
            try:
                df = pd.read_parquet(file)
            except Exception as exc:  # pyarrow raises several types for a damaged file
                raise ValidationError(f"invalid run_dir: {file} is not a readable Parquet file ({exc})", field="run_dir", value=str(path)) from None
            missing = set(columns) - set(df.columns)
            if missing:
                raise ValidationError(f"invalid run_dir: {file} lacks columns {sorted(missing)}", field="run_dir", value=str(path))
            try:
                tables[table] = df.astype(columns)
            except (ValueError, TypeError) as exc:
                raise ValidationError(f"invalid run_dir: {file} has a column of the wrong type ({exc})", field="run_dir", value=str(path)) from None
        try:
            summary = json.loads((path / "run.json").read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValidationError(f"invalid run_dir: {path / 'run.json'} is not valid JSON ({exc})", field="run_dir", value=str(path)) from None
        return cls(**tables, summary=summary)

    def for_scenario(self, scenario: str) -> RunResults:
        """The rows of one scenario (market and trades are shared)."""
        pick = {t: getattr(self, t) for t in TABLES}
        for t, df in pick.items():
            if "scenario" in df.columns:
                pick[t] = df[df["scenario"] == scenario].reset_index(drop=True)
        return RunResults(**pick, summary=self.summary)
