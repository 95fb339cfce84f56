"""What a backtest run produces, as pandas DataFrames with fixed columns, saved as Parquet: the schema the
analysis reads.

A run directory holds one Parquet file per table plus `run.json` (the config and summary, and under
`manifest` each table's SHA-256 and row count). The backtest harness writes it whole or not at all
(`RunResults.write` into the staging directory of `nautilus_sor.run_dir.RunDirectory`), and
`load` refuses a damaged one (`DamagedRunError` naming the file and the check). The TCA
(`nautilus_sor.analysis.tca`) and the report (`nautilus_sor.analysis.report`) read only these tables, so a
report can be rebuilt from a saved run (`nautilus-sor report run_dir/`).

All timestamps are int64 ns since the epoch (UTC). Quantities are float64 in instrument units
(e.g. BTC); prices in quote currency. `scenario` names the run the row belongs to: "router" for the
configured strategy, or a baseline (`nautilus_sor.analysis.scenarios`): "equal_split",
"all_on:<VENUE>", "exante_best_venue", "hindsight_best_venue", "nautilus_twap".

Columns marked optional get their default when a table is built without them (`frame`) or loaded from a
run saved before they existed (`RunResults.load`).
"""

from __future__ import annotations

import hashlib
import json
import math
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
    # optional: its position in the config's `orders` (pairs a parent across scenarios and repeats)
    "parent_index": "int64",
    # optional: when its schedule ends (arrival + the algorithm's duration; the market's end for an algorithm
    # without one); -1: unknown (the TCA then uses end_ts)
    "horizon_end_ts": "int64",
    # optional: the clean-up of what was left unfilled, taken at max(end_ts, horizon_end_ts) across every
    # venue's book at taker fees (`backtest/cleanup.py`); NaN: not priced (the TCA marks it to the mid)
    "cleanup_qty": "float64",
    "cleanup_notional": "float64",
    "cleanup_fees": "float64",
    # optional: the venue a single-venue baseline traded this parent on ("" for the others)
    "baseline_venue": "string",
}

# The columns that say which child order a row of `orders` or `fills` is about.
_CHILD_ORDER_COLUMNS = {
    "scenario": "string",
    "parent_id": "string",
    "client_order_id": "string",
    "venue": "string",
    "instrument_id": "string",
    "side": "string",
}

# One row per child order (and per primary that was itself sent).
ORDERS_COLUMNS = {
    **_CHILD_ORDER_COLUMNS,
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
    "reason": "string",  # optional: why it was rejected, denied or canceled ("" otherwise)
}

# One row per fill.
FILLS_COLUMNS = {
    **_CHILD_ORDER_COLUMNS,
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

# One row per (repeat, scenario, parent) of a run with repeats (`backtest/repeats.py`): the all-in costs the
# headline pairs. Repeat 0 is the run every other table details.
REPEATS_COLUMNS = {
    "repeat": "int64",
    "market_seed": "int64",  # the synthetic market's seed (-1 on a recorded market)
    "offset_s": "float64",  # how far the parents were shifted into a recorded market's window (0 on a synthetic one)
    "scenario": "string",
    "parent_index": "int64",
    "parent_id": "string",
    "side": "string",
    "quantity": "float64",
    "filled_qty": "float64",
    "fill_rate": "float64",
    "is_bps": "float64",
    "opportunity_bps": "float64",
    "all_in_bps": "float64",
    "baseline_venue": "string",
}

TABLES: dict[str, dict[str, str]] = {
    "parents": PARENTS_COLUMNS,
    "orders": ORDERS_COLUMNS,
    "fills": FILLS_COLUMNS,
    "market": MARKET_COLUMNS,
    "trades": TRADES_COLUMNS,
    "venue_scores": VENUE_SCORES_COLUMNS,
    "schedule": SCHEDULE_COLUMNS,
    "repeats": REPEATS_COLUMNS,
}

# Defaults of the optional columns (see the module docstring).
OPTIONAL_DEFAULTS: dict[str, dict[str, Any]] = {
    "parents": {"parent_index": -1, "horizon_end_ts": -1, "cleanup_qty": float("nan"), "cleanup_notional": float("nan"),
                "cleanup_fees": float("nan"), "baseline_venue": ""},
    "orders": {"reason": ""},
}


def empty(table: str) -> pd.DataFrame:
    return frame(table, [])


def frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A DataFrame with exactly the table's columns and dtypes (a missing key is an error unless its column
    is optional: then it takes the default)."""
    columns = TABLES[table]
    df = pd.DataFrame(rows, columns=list(columns))
    return with_optional_defaults(table, df).astype(columns)


def with_optional_defaults(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """`df` with its table's optional columns set to their defaults where absent or missing."""
    for column, default in OPTIONAL_DEFAULTS.get(table, {}).items():
        if column not in df.columns:
            df[column] = default
        elif isinstance(default, str) or not (isinstance(default, float) and default != default):
            df[column] = df[column].where(df[column].notna(), default) if len(df) else df[column]
    return df


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
    repeats: pd.DataFrame = field(default_factory=lambda: empty("repeats"))
    summary: dict[str, Any] = field(default_factory=dict)

    def save(self, run_dir: str | Path) -> Path:
        """Writes the run to `run_dir` whole (staged, locked, renamed into place: `nautilus_sor.run_dir`)."""
        from nautilus_sor.run_dir import RunDirectory

        with RunDirectory(run_dir) as out:
            self.write(out.staging)
        return Path(run_dir)

    def write(self, directory: str | Path) -> Path:
        """Writes the tables and run.json (with each table's hash and row count) into `directory` as it
        is: for a staging directory (`RunDirectory.staging`); `save` is the safe call."""
        path = Path(directory)
        manifest: dict[str, dict[str, Any]] = {}
        for table in TABLES:
            file = path / f"{table}.parquet"
            getattr(self, table).to_parquet(file, index=False)
            manifest[table] = {"file": file.name, "sha256": _sha256(file), "rows": int(len(getattr(self, table)))}
        document = {**self.summary, MANIFEST_KEY: {"format": 1, "tables": manifest}}
        (path / "run.json").write_text(json.dumps(document, indent=2, default=str))
        return path

    @classmethod
    def load(cls, run_dir: str | Path) -> RunResults:
        """A saved run, verified: run.json an object, every table present, readable, of its content hash
        and row count, with its columns, and the run's invariants (`check_invariants`)."""
        from nautilus_sor.exceptions import ValidationError

        path = Path(run_dir)
        if not (path / "run.json").is_file():
            raise ValidationError(f"invalid run_dir: {path} (no run.json: not a saved run)", field="run_dir", value=str(path))
        try:
            summary = json.loads((path / "run.json").read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValidationError(f"invalid run_dir: {path / 'run.json'} is not valid JSON ({exc})", field="run_dir", value=str(path)) from None
        if not isinstance(summary, dict):
            raise _damaged(path, "run.json", "object", f"is a JSON {type(summary).__name__}, not an object")
        manifest = _manifest(path, summary.pop(MANIFEST_KEY, None))
        tables: dict[str, pd.DataFrame] = {}
        for table, columns in TABLES.items():
            file = path / f"{table}.parquet"
            if table == "repeats" and not file.is_file() and manifest is None:  # a run saved before repeats existed
                tables[table] = empty(table)
                continue
            if not file.is_file():
                raise ValidationError(f"invalid run_dir: {file} is missing", field="run_dir", value=str(path))
            expected = manifest.get(table) if manifest is not None else None
            if expected is not None and _sha256(file) != expected["sha256"]:
                raise _damaged(path, file.name, "sha256", "content differs from the hash run.json recorded (damaged, or from another run)")
            try:
                df = pd.read_parquet(file)
            except Exception as exc:  # pyarrow raises several types for a damaged file
                raise ValidationError(f"invalid run_dir: {file} is not a readable Parquet file ({exc})", field="run_dir", value=str(path)) from None
            missing = set(columns) - set(df.columns) - set(OPTIONAL_DEFAULTS.get(table, {}))
            if missing:
                raise ValidationError(f"invalid run_dir: {file} lacks columns {sorted(missing)}", field="run_dir", value=str(path))
            try:
                tables[table] = with_optional_defaults(table, df).astype(columns)
            except (ValueError, TypeError) as exc:
                raise ValidationError(f"invalid run_dir: {file} has a column of the wrong type ({exc})", field="run_dir", value=str(path)) from None
            if expected is not None and len(df) != expected["rows"]:
                raise _damaged(path, file.name, "rows", f"has {len(df)} rows, run.json recorded {expected['rows']}")
        results = cls(**tables, summary=summary)
        check_invariants(results, path)
        return results


#: The key of run.json holding each table's file, SHA-256 and row count.
MANIFEST_KEY = "manifest"


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _damaged(path: Path, file: str, check: str, detail: str) -> Exception:
    from nautilus_sor.exceptions import DamagedRunError

    return DamagedRunError(f"invalid run_dir: {path / file} fails check {check!r}: {detail}", field="run_dir", value=str(path), file=file, check=check)


def _manifest(path: Path, manifest: Any) -> dict[str, dict[str, Any]] | None:
    """run.json's manifest, checked for shape (None: a run saved before manifests, which is not hashed)."""
    if manifest is None:
        return None
    tables = manifest.get("tables") if isinstance(manifest, dict) else None
    if not isinstance(tables, dict) or set(tables) != set(TABLES) or not all(
        isinstance(e, dict) and isinstance(e.get("sha256"), str) and isinstance(e.get("rows"), int) and not isinstance(e.get("rows"), bool)
        for e in tables.values()
    ):
        raise _damaged(path, "run.json", "manifest", f"its manifest must list {sorted(TABLES)}, each with sha256 and rows")
    return tables


def check_invariants(results: RunResults, path: Path) -> None:
    """What any run satisfies: positive quantities, finite positive fill and trade prices, no order filled
    beyond its quantity (by its own filled_qty or by the sum of its fills), so no fill rate above 1; the
    summary's fill and order counts, when it has them, equal the tables'."""
    tolerance = 1e-9

    def fail(table: str, check: str, detail: str) -> None:
        raise _damaged(path, f"{table}.parquet", check, detail)

    for table in ("parents", "orders", "fills", "schedule"):
        df = getattr(results, table)
        bad = df[~(df["quantity"] > 0)]
        if len(bad):
            fail(table, "quantity > 0", f"{len(bad)} rows have quantity <= 0 or NaN (first: {bad['quantity'].iloc[0]})")
    for table in ("fills", "trades"):
        df = getattr(results, table)
        bad = df[~(df["price"].map(math.isfinite) & (df["price"] > 0))] if len(df) else df
        if len(bad):
            fail(table, "finite price > 0", f"{len(bad)} rows have a NaN, infinite or non-positive price (first: {bad['price'].iloc[0]})")
    orders, fills = results.orders, results.fills
    over = orders[orders["filled_qty"] > orders["quantity"] * (1 + tolerance)]
    if len(over):
        fail("orders", "filled_qty <= quantity", f"{len(over)} orders filled beyond their quantity (first: {over['client_order_id'].iloc[0]})")
    if len(fills):
        keys = ["scenario", "client_order_id"]
        filled = fills.groupby(keys, observed=True)["quantity"].sum().rename("fills_qty").reset_index()
        merged = filled.merge(orders[keys + ["quantity"]], on=keys, how="left")
        orphans = merged[merged["quantity"].isna()]
        if len(orphans):
            fail("fills", "fills <= orders", f"{len(orphans)} orders have fills but no row in orders.parquet (first: {orphans['client_order_id'].iloc[0]})")
        beyond = merged[merged["fills_qty"] > merged["quantity"] * (1 + tolerance)]
        if len(beyond):
            first = beyond.iloc[0]
            fail("fills", "fill_rate <= 1", f"{len(beyond)} orders' fills sum beyond their quantity (first: {first['client_order_id']}: "
                 f"{first['fills_qty']} of {first['quantity']})")
    for key, table in (("fills", fills), ("orders", orders)):
        count = results.summary.get(key)
        if isinstance(count, int) and not isinstance(count, bool) and count != len(table):
            fail(key, "rows", f"has {len(table)} rows, run.json's summary says {key}={count}")
