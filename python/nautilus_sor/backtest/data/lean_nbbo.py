"""Per-venue tops of book and trade aggressors from Lean's venue-labelled NBBO rows (pure NumPy).

Lean (AlgoSeek) equity quote rows each carry one side of the consolidated NBBO and the venue that set
it. From them:

- the consolidated NBBO: each side forward-filled from its own rows;
- a venue's top: the last bid (ask) the venue set at the NBBO, with its size, valid while it is not
  better than the current NBBO bid (ask). When the NBBO bid moved below it, the venue's bid was hit or
  cancelled and its new level is unknown: it is *dropped* (unknown) until the venue sets the NBBO bid
  again - never kept or capped, which would show liquidity that is not known to be there. A venue whose
  own last bid and ask cross or lock (impossible on one exchange) drops the older of the two.
- trade aggressors by the quote rule against the NBBO in force just before the trade (quote rows
  stamped strictly earlier): at/above the ask -> buyer (+1), at/below the bid -> seller (-1); inside the
  spread, or without a two-sided uncrossed NBBO, the tick rule on the consolidated tape (uptick +1, downtick -1,
  zero tick = the last non-zero tick), 0 before any price change.

Prices stay integers (1/10,000 USD) here; 0 marks an unknown price.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

BID = 1
ASK = -1


@dataclass(slots=True)
class QuoteRows:
    """Lean quote rows, one side each, in file order."""

    ms: npt.NDArray[np.int64]  # int64 ms after local midnight
    side: npt.NDArray[np.int8]  # int8: BID or ASK
    price: npt.NDArray[np.int64]  # int64, x10,000
    size: npt.NDArray[np.int64]  # int64 shares
    venue: npt.NDArray[np.object_]  # str codes (object array)


@dataclass(slots=True)
class Top:
    """One top of book per quote row (after that row). Price 0 and size 0 where a side is unknown."""

    bid_px: npt.NDArray[np.int64]
    bid_sz: npt.NDArray[np.int64]
    ask_px: npt.NDArray[np.int64]
    ask_sz: npt.NDArray[np.int64]


def _last_index(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.intp]:
    """Per row, the index of the last row at or before it where `mask` holds; -1 before the first."""
    return np.maximum.accumulate(np.where(mask, np.arange(mask.size), -1))


def _take(values: npt.NDArray[np.int64], index: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
    """values[index], 0 where index is -1."""
    return np.where(index >= 0, values[np.maximum(index, 0)], 0)


def consolidated_nbbo(rows: QuoteRows) -> Top:
    """The NBBO after each row: each side forward-filled from its own rows."""
    bid_at = _last_index(rows.side == BID)
    ask_at = _last_index(rows.side == ASK)
    return Top(_take(rows.price, bid_at), _take(rows.size, bid_at), _take(rows.price, ask_at), _take(rows.size, ask_at))


def venue_top(rows: QuoteRows, venue: str, nbbo: Top) -> Top:
    """The venue's known top of book after each row (the stale and self-cross rules of the module doc)."""
    of_venue = rows.venue == venue
    bid_at = _last_index(of_venue & (rows.side == BID))
    ask_at = _last_index(of_venue & (rows.side == ASK))
    bid, ask = _take(rows.price, bid_at), _take(rows.price, ask_at)
    both = (bid_at >= 0) & (ask_at >= 0)
    self_crossed = both & (bid >= ask)
    bid_bad = (bid_at >= 0) & ((bid > nbbo.bid_px) | (self_crossed & (bid_at < ask_at)))
    ask_bad = (ask_at >= 0) & ((ask < nbbo.ask_px) | (self_crossed & (ask_at < bid_at)))
    # Once bad, a side stays unknown until the venue sets that side of the NBBO again.
    bid_known = (bid_at >= 0) & (_last_index(bid_bad) < bid_at)
    ask_known = (ask_at >= 0) & (_last_index(ask_bad) < ask_at)
    return Top(
        np.where(bid_known, bid, 0),
        np.where(bid_known, _take(rows.size, bid_at), 0),
        np.where(ask_known, ask, 0),
        np.where(ask_known, _take(rows.size, ask_at), 0),
    )


def change_rows(top: Top, first: int, last: int) -> npt.NDArray[np.intp]:
    """Indices in [first, last) where the top differs from the row before (`first` always included when
    any side is known there); rows before a venue's first known side are left out."""
    if last <= first:
        return np.empty(0, dtype=np.int64)
    stacked = np.stack([top.bid_px[first:last], top.bid_sz[first:last], top.ask_px[first:last], top.ask_sz[first:last]])
    changed = np.ones(last - first, dtype=bool)
    changed[1:] = np.any(stacked[:, 1:] != stacked[:, :-1], axis=0)
    any_known = (stacked[0] > 0) | (stacked[2] > 0)
    started = np.maximum.accumulate(any_known)
    return np.flatnonzero(changed & started) + first


def tick_rule(price: npt.NDArray[np.int64]) -> npt.NDArray[np.int8]:
    """+1 uptick, -1 downtick, zero ticks carry the last non-zero tick; 0 before any price change."""
    ticks = np.zeros(price.size, dtype=np.int8)
    if price.size > 1:
        ticks[1:] = np.sign(np.diff(price.astype(np.int64)))
    last_nonzero = _last_index(ticks != 0)
    return np.where(last_nonzero >= 0, ticks[np.maximum(last_nonzero, 0)], 0).astype(np.int8)


def trade_aggressors(trade_ms: npt.NDArray[np.int64], trade_price: npt.NDArray[np.int64], quote_ms: npt.NDArray[np.int64],
                     nbbo: Top) -> npt.NDArray[np.int8]:
    """Aggressor per trade (+1 buyer, -1 seller, 0 unknown): quote rule, else tick rule (module doc)."""
    before = np.searchsorted(quote_ms, trade_ms, side="left") - 1
    bid = _take(nbbo.bid_px, before)
    ask = _take(nbbo.ask_px, before)
    two_sided = (bid > 0) & (bid < ask)  # a locked or crossed NBBO says nothing: tick rule
    side = tick_rule(trade_price)
    side = np.where(two_sided & (trade_price <= bid), -1, side)
    side = np.where(two_sided & (trade_price >= ask), 1, side)
    return side.astype(np.int8)
