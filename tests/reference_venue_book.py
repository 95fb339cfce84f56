"""A test-only pure-Python stand-in for the core's `_core.VenueBook` (book walks + consumed liquidity of
`evaluate`'s simulator), for parity tests.

The walks are the Python simulator the core replaced (git show 7fcfe17^:python/nautilus_sor/backtest/
sim/exchange.py). The consumed-liquidity rule is written from its statement (docs/evaluation.md), the
plain brute-force way, not ported from the core's incremental bookkeeping:

- per (side, level) taken we keep the recorded size when we first took from it (`ref`), what we took
  (`used`) and the row of our latest take there; what we left is `ref - used`;
- when the level is read at row `r`, its record is dropped if, at ANY row after that take up to `r`, the
  recorded size was at or below what we left (a row that does not show the level counts as 0): the
  recorded book no longer showed our part, the level refreshed. The check looks at every such row, each
  time;
- otherwise we are offered `min(size, max(ref, size) - used)` of the `size` recorded now.
"""

from __future__ import annotations

import numpy as np

from nautilus_sor.backtest.data.recorded import BookSeries

EPS = 1e-12  # as the Python simulator (and the core)


class ReferenceVenueBook:
    """Same calls as `_core.VenueBook` (`side`: 1 buy, 2 sell), over a `BookSeries`."""

    def __init__(self, book: BookSeries, tick: float) -> None:
        self.book = book
        self.tick = tick
        self.tolerance = tick / 2
        self.levels: dict[tuple[bool, int], tuple[float, float, int]] = {}  # -> (ref, used, row of latest take)

    def key(self, price: float) -> int:
        return int(round(price / self.tick))

    def _side(self, is_ask: bool, row: int) -> tuple[np.ndarray, np.ndarray]:
        b = self.book
        return (b.ask_px[row], b.ask_sz[row]) if is_ask else (b.bid_px[row], b.bid_sz[row])

    def _recorded(self, is_ask: bool, key: int, row: int) -> float:
        """The level's recorded size at `row`, 0 when the row does not show it."""
        for price, size in zip(*self._side(is_ask, row)):
            if np.isfinite(price) and self.key(float(price)) == key:
                return max(float(size), 0.0) if np.isfinite(size) else 0.0
        return 0.0

    def available(self, is_ask: bool, key: int, recorded: float, row: int) -> float:
        entry = self.levels.get((is_ask, key))
        if entry is None:
            return recorded
        ref, used, taken_row = entry
        path = [self._recorded(is_ask, key, r) for r in range(taken_row + 1, row + 1)] + [recorded]
        if min(path) <= ref - used + EPS:
            del self.levels[(is_ask, key)]
            return recorded
        return max(0.0, min(recorded, max(ref, recorded) - used))

    def consume(self, is_ask: bool, key: int, recorded: float, taken: float, row: int) -> None:
        left = self.available(is_ask, key, recorded, row) - taken
        entry = self.levels.get((is_ask, key))
        ref = max(entry[0], recorded) if entry is not None else recorded
        self.levels[(is_ask, key)] = (ref, ref - left, row)

    # ----- the walks (the Python simulator's, unchanged but for the row passed to the rule) -----

    def offered(self, side: int, ts: int) -> tuple[np.ndarray, np.ndarray]:
        row = self.book.index_at(ts)
        if row < 0:
            return np.empty(0), np.empty(0)
        is_ask = side == 1
        prices, sizes = self._side(is_ask, row)
        ok = np.isfinite(prices) & (sizes > 0)
        px = prices[ok].astype(float)
        avail = sizes[ok].astype(float)
        for j, price in enumerate(px):
            avail[j] = self.available(is_ask, self.key(float(price)), float(avail[j]), row)
        return px, avail

    def take(self, side: int, qty: float, limit: float | None, ts: int) -> list[tuple[float, float]]:
        row = self.book.index_at(ts)
        if row < 0 or qty <= EPS:
            return []
        is_ask = side == 1  # a buy takes the asks
        fills: list[tuple[float, float]] = []
        left = qty
        for price, recorded in zip(*self._side(is_ask, row)):
            if left <= EPS or not np.isfinite(price) or recorded <= 0:
                break
            if limit is not None and (price > limit + self.tolerance if is_ask else price < limit - self.tolerance):
                break
            key = self.key(float(price))
            taken = min(self.available(is_ask, key, float(recorded), row), left)
            if taken <= EPS:
                continue
            self.consume(is_ask, key, float(recorded), taken, row)
            left -= taken
            fills.append((float(price), taken))
        return fills

    def consume_at(self, side: int, price: float, size: float, ts: int) -> None:
        row = self.book.index_at(ts)
        is_ask = side == 1
        prices, sizes = self._side(is_ask, row)
        j = int(np.nanargmin(np.abs(prices - price)))
        self.consume(is_ask, self.key(price), float(sizes[j]), size, row)
