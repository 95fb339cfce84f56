"""The market as every metric of the analysis prices against it: the consolidated quote and the as-of join.

**The consolidated quote** (`consolidated`), one rule for the TCA, the report and the sweep:

* A venue's quote at t is its last `market` row with ts <= t (rows at the same ts: the last in table
  order). It stays in force until the venue's next row, however old it is.
* A non-positive or non-finite bid (ask) in a row means the venue has no bid (ask) from that row on: it
  replaces the venue's earlier bid (ask) instead of letting it be carried forward, since a venue that
  says it has no bid must not keep pricing the mid with a stale one.
* best bid = max over the venues' bids, best ask = min over their asks; a side no venue quotes is NaN.
* cmid = (best bid + best ask) / 2 when both exist, crossed (best bid > best ask, across venues: one
  venue's stale quote against another's fresh one) and locked books included: that is the mid the router
  prices its decisions against (`reference_price` in the core), so costs are measured on the same scale.
* Where a side is missing everywhere, the mean of the venues' `mid` (the market table's optional column:
  a bar market's venue price without a quote, e.g. its last bar close; like a side, a venue's row without
  a positive mid clears its earlier one), else NaN. Before a venue's first row it has no quote: no mid is
  ever taken from the future.

**The as-of join** (`asof`): the row of a ts-sorted table in force at each time (the last with ts <= t:
a row at exactly t is in force at t), NaN before the first row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

CONSOLIDATED_COLUMNS = ("ts", "best_bid", "best_ask", "cmid")


def consolidated(market: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct `market` ts: ts, best_bid, best_ask and cmid (the rule in the module docstring).
    `market` has the results' market columns ts, venue, bid, ask (and optionally mid), in any order."""
    if market.empty:
        return pd.DataFrame({"ts": np.empty(0, dtype="int64"), "best_bid": np.empty(0), "best_ask": np.empty(0),
                             "cmid": np.empty(0)})
    m = market.sort_values("ts", kind="stable")
    bid = m["bid"].to_numpy(dtype=float)
    ask = m["ask"].to_numpy(dtype=float)
    # A missing side is -inf / +inf so that it overrides the venue's previous quote (ffill fills only venues
    # without a row at that ts) and never wins the max / min. A missing mid is 0 for the same reason.
    bid = np.where(np.isfinite(bid) & (bid > 0), bid, -np.inf)
    ask = np.where(np.isfinite(ask) & (ask > 0), ask, np.inf)
    mid = m["mid"].to_numpy(dtype=float) if "mid" in m.columns else np.zeros(len(m))
    mid = np.where(np.isfinite(mid) & (mid > 0), mid, 0.0)
    m = pd.DataFrame({"ts": m["ts"].to_numpy(dtype="int64"), "venue": m["venue"].astype(object).fillna("<NA>").to_numpy(),
                      "bid": bid, "ask": ask, "mid": mid})
    last = m.groupby(["ts", "venue"], sort=True).last()
    wide_bid = last["bid"].unstack("venue").ffill()
    wide_ask = last["ask"].unstack("venue").ffill()
    best_bid = wide_bid.max(axis=1).to_numpy(dtype=float)
    best_ask = wide_ask.min(axis=1).to_numpy(dtype=float)
    best_bid[~np.isfinite(best_bid)] = np.nan
    best_ask[~np.isfinite(best_ask)] = np.nan
    cmid = (best_bid + best_ask) / 2.0
    if (mid > 0).any():
        wide_mid = last["mid"].unstack("venue").ffill().to_numpy(dtype=float)
        priced = np.isfinite(wide_mid) & (wide_mid > 0)
        counts = priced.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_mid = np.where(counts > 0, np.where(priced, wide_mid, 0.0).sum(axis=1) / counts, np.nan)
        cmid = np.where(np.isfinite(cmid), cmid, mean_mid)
    return pd.DataFrame({"ts": wide_bid.index.to_numpy(dtype="int64"), "best_bid": best_bid, "best_ask": best_ask,
                         "cmid": cmid})


def asof(times: Sequence[int] | npt.NDArray[np.int64], right: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """`right`'s row in force at each of `times` (right sorted by `ts`; the last row with ts <= t, a row at
    exactly t included), in the order of `times`; NaN before right's first row."""
    left = pd.DataFrame({"_t": np.asarray(times, dtype="int64"), "_i": np.arange(len(times))})
    left = left.sort_values("_t", kind="stable")
    merged = pd.merge_asof(left, right[["ts", *columns]], left_on="_t", right_on="ts", direction="backward")
    merged = merged.sort_values("_i")
    return merged[list(columns)].reset_index(drop=True)


def mid_at(cons: pd.DataFrame, times: Sequence[int] | npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """The consolidated mid (`consolidated(...)`'s cmid) in force at each of `times` (NaN before any)."""
    if len(times) == 0:
        return np.zeros(0)
    return np.asarray(asof(times, cons, ["cmid"])["cmid"].to_numpy(dtype=float), dtype=float)


def venue_quote_at(market: pd.DataFrame, times: Sequence[int] | npt.NDArray[np.int64], venues: Sequence[object] | npt.NDArray[np.object_]
                   ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(bid, ask) of venue `venues[i]`'s last `market` row with ts <= `times[i]` (rows at the same ts: the
    last in table order), as they were recorded (a missing side stays NaN or non-positive: the caller
    decides what it can price); NaN where the venue had no row yet."""
    if len(times) == 0:
        return np.zeros(0), np.zeros(0)
    quotes = market.sort_values("ts", kind="stable")
    quotes = pd.DataFrame({"ts": quotes["ts"].to_numpy(dtype="int64"),
                           "_venue": quotes["venue"].astype(object).fillna("<NA>").to_numpy(),
                           "bid": quotes["bid"].to_numpy(dtype=float), "ask": quotes["ask"].to_numpy(dtype=float)})
    left = pd.DataFrame({"ts": np.asarray(times, dtype="int64"), "_venue": pd.Series(venues, dtype=object).fillna("<NA>").to_numpy(),
                         "_i": np.arange(len(times))}).sort_values("ts", kind="stable")
    joined = pd.merge_asof(left, quotes, on="ts", by="_venue", direction="backward").sort_values("_i")
    return joined["bid"].to_numpy(dtype=float), joined["ask"].to_numpy(dtype=float)


__all__ = ["CONSOLIDATED_COLUMNS", "asof", "consolidated", "mid_at", "venue_quote_at"]
