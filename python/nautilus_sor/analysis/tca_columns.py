"""What each column of the TCA's tables means (the definitions behind them: `tca.py`'s docstring), and the
tables' column order and dtypes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

MARKOUT_HORIZONS_S: tuple[float, ...] = (1, 10, 60)
REJECT_STATUSES = frozenset({"REJECTED", "DENIED"})

# The columns `analyze` reads from each table (others are ignored; `parents.algorithm` is passed through).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "parents": ("scenario", "parent_id", "side", "quantity", "arrival_ts", "end_ts"),
    "orders": ("scenario", "parent_id", "venue", "quantity", "filled_qty", "status", "ts_submitted", "ts_accepted"),
    "fills": ("scenario", "parent_id", "venue", "ts", "quantity", "price", "commission"),
    "market": ("ts", "venue", "bid", "ask"),
    "trades": ("ts", "venue", "price", "size"),
}


def markout_col(h: float) -> str:
    return f"markout_{h:g}s_bps"


# What a column means wherever the parent and the venue tables both carry it (per parent, or per parent
# and venue); a table that means something else by a name says so in its own entry.
_SHARED = {
    "scenario": "scenario name",
    "parent_id": "parent order id",
    "filled_qty": "filled quantity (sum of fill quantities)",
    "avg_price": "quantity-weighted average fill price (NaN if nothing filled)",
    "filled_notional": "sum(quantity * price) over fills",
    "child_orders": "number of orders (rows of the orders table)",
    "rejects": "orders with status REJECTED or DENIED",
    "reject_reasons": "why they were rejected or denied: 'reason xN; ...', most frequent first",
    "fees": "sum of commissions in quote currency (negative = net rebate)",
    "fees_bps": "fees / filled_notional * 1e4",
    "is_ex_fees_bps": "s * (avg_price - arrival_price) / arrival_price * 1e4 (positive = cost)",
    "is_bps": "is_ex_fees_bps + fees_bps: implementation shortfall of the filled part, fees included",
    "drift_bps": "s * (qw consolidated mid at the fills - arrival_price) / arrival_price * 1e4: the market's move",
    "impact_bps": "qw s * (price - venue touch) / arrival_price * 1e4 where positive: walking the book",
    "spread_bps": "s * (avg_price - qw consolidated mid at the fills) / arrival_price * 1e4 - impact_bps: the spread",
    "market_vwap": "VWAP of the trade tape of all venues over [arrival_ts, end_ts]",
    "market_volume": "tape size of all venues over [arrival_ts, end_ts]",
    "vwap_slippage_bps": "s * (avg_price - market_vwap) / market_vwap * 1e4, fees excluded (positive = worse)",
    "participation": "filled_qty / market_volume",
    "spread_capture": "quantity-weighted s * (venue mid - price) / venue half-spread: 1 bid, 0 mid, -1 ask (buy)",
    "spread_capture_bps": "quantity-weighted s * (venue mid - price) / venue mid * 1e4",
    **{
        markout_col(h): f"quantity-weighted s * (cmid(ts + {h:g} s) - price) / price * 1e4"
        for h in MARKOUT_HORIZONS_S
    },
    "latency_mean_ms": "mean of (ts_accepted - ts_submitted) in ms over orders with both set",
    "latency_p95_ms": "95th percentile (linear) of the same",
}
# Column groups the parent and venue tables both carry, in table order.
_FILLS_AND_COSTS = (
    "avg_price", "filled_notional", "child_orders", "rejects", "reject_reasons",
    "fees", "fees_bps", "is_ex_fees_bps", "is_bps", "drift_bps", "impact_bps", "spread_bps",
)
_CAPTURE_AND_LATENCY = (
    "spread_capture", "spread_capture_bps", *(markout_col(h) for h in MARKOUT_HORIZONS_S),
    "latency_mean_ms", "latency_p95_ms",
)


def _shared(*names: str) -> dict[str, str]:
    """These columns with their shared meanings (`_SHARED`), in this order."""
    return {name: _SHARED[name] for name in names}


PARENT_COLUMNS: dict[str, str] = {
    **_shared("scenario", "parent_id"),
    "parent_index": "its position in the config's orders (-1: not given)",
    "baseline_venue": "the venue a single-venue baseline traded it on ('' otherwise)",
    "algorithm": "the parent's algorithm",
    "side": "BUY / SELL",
    "quantity": "parent quantity",
    "arrival_ts": "parent arrival ts (ns)",
    "end_ts": "parent end ts (ns)",
    "arrival_price": "consolidated mid at arrival_ts",
    **_shared("filled_qty"),
    "unfilled_qty": "max(quantity - filled_qty, 0)",
    "fill_rate": "filled_qty / quantity",
    **_shared(*_FILLS_AND_COSTS),
    "opportunity_bps": "cost of taking the unfilled quantity at the schedule's end vs arrival, fees in, bps of quantity",
    "all_in_bps": "is_bps * fill_rate + opportunity_bps: the whole parent's cost, fees in, the rest priced",
    **_shared("market_vwap", "market_volume", "vwap_slippage_bps", "participation", *_CAPTURE_AND_LATENCY),
}

VENUE_COLUMNS: dict[str, str] = {
    **_shared("scenario", "parent_id"),
    "venue": "venue",
    "side": "the parent's side",
    "arrival_price": "the parent's arrival price (consolidated mid at arrival_ts)",
    "ordered_qty": "sum of orders.quantity of the parent's orders at this venue (rejected/denied included)",
    "filled_qty": "filled quantity at this venue",
    "fill_rate": "filled_qty / ordered_qty",
    **_shared(*_FILLS_AND_COSTS),
    "market_vwap": _SHARED["market_vwap"] + " (the parent's benchmark)",
    **_shared("market_volume", "vwap_slippage_bps"),
    "participation": "filled_qty / market_volume (all venues)",
    "venue_volume": "this venue's tape size over [arrival_ts, end_ts]",
    "venue_participation": "filled_qty / venue_volume",
    **_shared(*_CAPTURE_AND_LATENCY),
}

FILL_COLUMNS: dict[str, str] = {
    "scenario": "scenario name",
    "parent_id": "parent order id",
    "client_order_id": "child order id (if the fills table has it)",
    "venue": "venue",
    "ts": "fill ts (ns)",
    "quantity": "fill quantity",
    "price": "fill price",
    "commission": "commission (negative = rebate)",
    "side_sign": "s: +1 for a BUY parent, -1 for a SELL parent",
    "venue_bid": "the venue's bid at or before ts",
    "venue_ask": "the venue's ask at or before ts",
    "spread_capture": "s * (venue mid - price) / venue half-spread",
    "spread_capture_bps": "s * (venue mid - price) / venue mid * 1e4",
    **{markout_col(h): f"s * (cmid(ts + {h:g} s) - price) / price * 1e4" for h in MARKOUT_HORIZONS_S},
}

SUMMARY_COLUMNS: dict[str, str] = {
    "scenario": "scenario name",
    "parents": "number of parents",
    "quantity": "sum of parent quantities",
    "filled_qty": "sum of filled quantities",
    "fill_rate": "filled_qty / quantity",
    "filled_notional": "sum of filled notionals",
    "child_orders": "number of orders",
    "rejects": "orders REJECTED or DENIED",
    "fees": "total commissions in quote currency (negative = net rebate)",
    "fees_bps": "parents' fees_bps weighted by filled quantity",
    "is_ex_fees_bps": "parents' is_ex_fees_bps weighted by filled quantity",
    "is_bps": "parents' is_bps weighted by filled quantity",
    "drift_bps": "parents' drift_bps weighted by filled quantity",
    "impact_bps": "parents' impact_bps weighted by filled quantity",
    "spread_bps": "parents' spread_bps weighted by filled quantity",
    "opportunity_bps": "parents' opportunity_bps weighted by quantity",
    "all_in_bps": "parents' all_in_bps weighted by quantity",
    "vwap_slippage_bps": "parents' vwap_slippage_bps weighted by filled quantity",
    "participation": "filled_qty / sum of the parents' window market volumes",
    "spread_capture": "quantity-weighted over all fills of the scenario",
    "spread_capture_bps": "quantity-weighted over all fills of the scenario",
    **{markout_col(h): "quantity-weighted over all fills of the scenario" for h in MARKOUT_HORIZONS_S},
    "latency_mean_ms": "mean over all orders of the scenario",
    "latency_p95_ms": "95th percentile over all orders of the scenario",
}

INT_COLUMNS = {"parents", "child_orders", "rejects", "arrival_ts", "end_ts", "ts", "parent_index"}
PRICE_COLUMNS = {"arrival_price", "avg_price", "market_vwap", "price", "venue_bid", "venue_ask"}
STR_COLUMNS = {"scenario", "parent_id", "algorithm", "side", "venue", "client_order_id", "baseline_venue", "reject_reasons"}


def columns_for(base: dict[str, str], horizons: Sequence[float]) -> list[str]:
    cols = [c for c in base if not c.startswith("markout_")]
    at = cols.index("spread_capture_bps") + 1
    return cols[:at] + [markout_col(h) for h in horizons] + cols[at:]


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for c in columns:
        if c in STR_COLUMNS:
            data[c] = pd.Series([], dtype="string")
        elif c in INT_COLUMNS:
            data[c] = pd.Series([], dtype="int64")
        else:
            data[c] = pd.Series([], dtype="float64")
    return pd.DataFrame(data)


__all__ = ["FILL_COLUMNS", "INT_COLUMNS", "MARKOUT_HORIZONS_S", "PARENT_COLUMNS", "PRICE_COLUMNS", "REJECT_STATUSES",
           "REQUIRED_COLUMNS", "STR_COLUMNS", "SUMMARY_COLUMNS", "VENUE_COLUMNS", "columns_for", "empty_frame", "markout_col"]
