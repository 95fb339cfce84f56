"""A bar market's venues as one-level books for the execution simulator (docs/evaluation.md, "Minute bar markets").

The rule, fixed before any result was looked at: each venue's book at the close of minute k is its quote
bar's close (bid close / bid size, ask close / ask size; inverse contracts converted to the asset at that
price), one level, nothing deeper; a minute without a quote bar is a minute without a book (NaN row: not
routable then, never an older snapshot carried forward); a venue without quote bars is not routable. Every
venue is its own instrument (own exchange, contract, quote currency), so every venue but the first is marked
as aligned (`price_offset` 0: prices stay as recorded) and `sim.basis.Basis` removes its basis to the first
venue at each decision. Decisions are made only at bar closes (`bar_closes`, `snap_to_closes`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from nautilus_sor.backtest.data.recorded import BookSeries, RecordedMarket, RecordedVenue, _bars_by_venue
from nautilus_sor.exceptions import MarketDataError

#: Algorithms a bar market can evaluate: no passive ones (one print per minute, aggressor unknown, says
#: nothing about a resting order's queue).
BAR_ALGORITHMS = ("aggressive", "twap", "vwap")
BAR_NS = 60_000_000_000


def is_bar_market(market: RecordedMarket) -> bool:
    """No venue has a book, and the data holds bars (a Lean crypto bar market, or its catalog)."""
    from nautilus_trader.model.data import Bar

    return all(v.book is None for v in market.venues) and any(type(o) is Bar for o in market.data)


def _venue_book(venue: RecordedVenue, bars: dict[str, list[object]], grid: npt.NDArray[np.int64]) -> BookSeries | None:
    bid_bars, ask_bars = bars.get("BID", []), bars.get("ASK", [])
    if not bid_bars or not ask_bars:
        return None
    shape = (grid.size, 1)
    bid_px, ask_px = np.full(shape, np.nan), np.full(shape, np.nan)
    bid_sz, ask_sz = np.zeros(shape), np.zeros(shape)
    inverse = bool(getattr(venue.instrument, "is_inverse", False))
    contract = float(venue.instrument.multiplier) if inverse else 1.0
    for objs, px, sz in ((bid_bars, bid_px, bid_sz), (ask_bars, ask_px, ask_sz)):
        ts = np.fromiter((b.ts_init for b in objs), dtype=np.int64, count=len(objs))  # type: ignore[attr-defined]  # Bars
        close = np.fromiter((b.close.as_double() for b in objs), dtype=np.float64, count=len(objs))  # type: ignore[attr-defined]  # Bars
        size = np.fromiter((b.volume.as_double() for b in objs), dtype=np.float64, count=len(objs))  # type: ignore[attr-defined]  # Bars
        rows = np.searchsorted(grid, ts)
        ok = (rows < grid.size) & (grid[np.minimum(rows, grid.size - 1)] == ts) & (close > 0) & (size > 0)  # 0: an absent side
        px[rows[ok], 0] = close[ok]
        sz[rows[ok], 0] = size[ok] * contract / close[ok] if inverse else size[ok]
    return BookSeries(ts=grid, bid_px=bid_px, bid_sz=bid_sz, ask_px=ask_px, ask_sz=ask_sz)


def bar_books(market: RecordedMarket) -> tuple[RecordedMarket, list[str]]:
    """`market` with each venue that has quote bars given its one-level book on the minute grid (the rule
    above), the others dropped; and notes saying what was done. Fewer than two such venues: MarketDataError."""
    grid = np.arange(market.start_ns + BAR_NS, market.end_ns + 1, BAR_NS, dtype=np.int64)
    by_venue = _bars_by_venue(market.data, {v.instrument.id for v in market.venues})
    routable: list[RecordedVenue] = []
    skipped: list[str] = []
    for venue in market.venues:
        book = _venue_book(venue, by_venue.get(venue.instrument.id, {}), grid)
        if book is None:
            skipped.append(venue.name)
            continue
        aligned = (np.array([market.start_ns], dtype=np.int64), np.zeros(1)) if routable else None
        routable.append(dataclasses.replace(venue, book=book, price_offset=aligned))
    if len(routable) < 2:
        raise MarketDataError(
            f"market {market.name} has {len(routable)} venue(s) with quote bars ({', '.join(v.name for v in routable) or 'none'}; trade bars only: "
            f"{', '.join(skipped) or 'none'}): a routing evaluation on minute bars needs the quoted top of at least two venues "
            "(trade bars say where trades printed, not what was offered)", field="venues", value=market.name)
    shown = {v.name: int(np.isfinite(v.book.bid_px[:, 0]).sum()) for v in routable}  # type: ignore[union-attr]  # set above
    notes = [f"bar books: each venue's quote bar close (bid/ask and their sizes) as a one-level book at each minute close; a minute "
             f"without a quote bar has no book ({', '.join(f'{n} {k}/{grid.size} minutes' for n, k in shown.items())})",
             f"basis: every venue its own instrument; each one's basis to {routable[0].name} (top mids at the decision's minute) removed at "
             "each decision",
             f"decisions at bar closes only; algorithms {', '.join(BAR_ALGORITHMS)} (no passive: one print per minute cannot fill a queue)"]
    if skipped:
        notes.append(f"not routable (trade bars only): {', '.join(skipped)}")
    return dataclasses.replace(market, venues=tuple(routable)), notes


def snap_to_closes(starts: npt.NDArray[np.int64], closes: npt.NDArray[np.int64], routable: npt.NDArray[np.bool_], latest: int) -> npt.NDArray[np.int64]:
    """Each start moved to the first bar close at or after it where at least two venues show a two-sided top
    (`routable[k]` for `closes[k]`), no later than `latest` (a whole horizon must fit); past it, the last such close."""
    usable = closes[routable & (closes <= latest)]
    if usable.size == 0:
        raise MarketDataError("no minute with the quoted top of two venues", field="venues", value=int(closes.size))
    k = np.minimum(np.searchsorted(usable, starts, side="left"), usable.size - 1)
    return np.asarray(usable[k], dtype=np.int64)


__all__ = ["BAR_ALGORITHMS", "bar_books", "is_bar_market", "snap_to_closes"]
