"""Which prices are compared across venues: the basis between different instruments of one asset.

The rule (docs/evaluation.md, "Prices across venues", fixed before any result was looked at):

- Venues that trade the **same instrument** (an equity's venues) share one price: a venue quoting below
  the others is a real opportunity, and is never aligned away.
- Venues that trade **different instruments** of one asset (Binance spot, USD-M and COIN-M perpetuals: the
  loader marks them with a `price_offset` to its reference venue) differ by a basis that an execution
  does not earn: a buyer of the perpetual at a discount holds a position worth that discount less. The
  simulator runs on each venue's own recorded prices (its book, queue and tape untouched) and removes
  the basis only where prices are compared or costed: `basis(venue, t)` = the venue's mid minus the
  reference venue's mid, both as in force at `t`.
- Headline ("decision"): each child order is costed, and each decision routes, with the basis at its
  decision time: what the router sees is what it is charged for, and the basis moving while a parent
  runs is not credited to or charged on whichever venue happened to fill.
- Beside it ("arrival"): each fill costed against its own venue's mid at the parent's arrival (the basis
  at the parent's arrival removed): what a holder of each instrument paid against that instrument's mid,
  basis moves during the parent included.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from nautilus_sor.backtest.data.recorded import BookSeries, RecordedVenue, TradeTape

CONVENTIONS = ("decision", "arrival")


def recorded_prices(venue: RecordedVenue) -> RecordedVenue:
    """`venue` with the loader's basis offset added back to its book and trade prices (its own prices)."""
    if venue.price_offset is None:
        return venue
    book = venue.book
    if book is not None:
        o = venue.offset_at(book.ts)[:, None]
        book = BookSeries(ts=book.ts, bid_px=book.bid_px + o, bid_sz=book.bid_sz, ask_px=book.ask_px + o, ask_sz=book.ask_sz)
    t = venue.trades
    trades = TradeTape(ts=t.ts, price=t.price + venue.offset_at(t.ts), size=t.size, aggressor=t.aggressor)
    return dataclasses.replace(venue, book=book, trades=trades, price_offset=None)


def _mids(book: BookSeries) -> npt.NDArray[np.float64]:
    """The mid of every row, a one-sided row carrying the last two-sided mid (the first one backwards)."""
    mid: npt.NDArray[np.float64] = (book.bid_px[:, 0] + book.ask_px[:, 0]) / 2
    ok = np.isfinite(mid)
    if not ok.any():
        return np.zeros(len(mid))
    idx: npt.NDArray[np.intp] = np.where(ok, np.arange(len(mid)), 0)
    np.maximum.accumulate(idx, out=idx)
    idx[: int(np.argmax(ok))] = int(np.argmax(ok))
    return mid[idx]


class Basis:
    """`basis(venue, ts)`: what is subtracted from the venue's own prices at `ts` to compare them with
    the reference venue's (0 for the reference and for venues of the same instrument)."""

    def __init__(self, venues: list[RecordedVenue]) -> None:
        aligned = [v.name for v in venues if v.price_offset is not None]
        refs = [v for v in venues if v.price_offset is None]
        self.reference: str | None = refs[0].name if aligned and refs else None
        self._series: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]] = {}
        if self.reference is None:
            return
        for v in venues:
            if v.book is not None and len(v.book.ts):
                self._series[v.name] = (np.asarray(v.book.ts, dtype=np.int64), _mids(recorded_prices(v).book))  # type: ignore[arg-type]  # recorded_prices keeps v.book, not None here
        self.aligned = frozenset(aligned)

    @property
    def active(self) -> bool:
        return self.reference is not None

    def mid(self, name: str, ts: int) -> float:
        t, m = self._series[name]
        return float(m[max(0, int(np.searchsorted(t, ts, side="right")) - 1)])

    def __call__(self, name: str, ts: int) -> float:
        if self.reference is None or name not in self.aligned:
            return 0.0
        return self.mid(name, ts) - self.mid(self.reference, ts)

    def many(self, name: str, ts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """`basis(name, t)` for every `t` of `ts`."""
        ts = np.asarray(ts, dtype=np.int64)
        if self.reference is None or name not in self.aligned:
            return np.zeros(ts.shape)
        out = np.zeros(ts.shape)
        for sign, n in ((1.0, name), (-1.0, self.reference)):
            t, m = self._series[n]
            out += sign * m[np.clip(np.searchsorted(t, ts, side="right") - 1, 0, len(t) - 1)]
        return out


__all__ = ["Basis", "CONVENTIONS", "recorded_prices"]
