"""One venue's simulated matching over its recorded book and trade tape, with our own orders in it.

Rules (each is a stated assumption of the evaluation, see docs/evaluation.md):

- Latency: an order decided at `t` reaches the venue at `t + latency`; a cancel decided at `t` takes effect
  at `t + latency`, so fills between the decision and its arrival still happen.
- Aggressive orders (market, or a limit that crosses on arrival) walk the book in force at arrival, within
  the limit, and consume it (the core's `VenueBook`, `rust/sor-core/src/sim/`): size we took at a level is
  not offered to our later orders until the recorded level refreshes (its recorded size at or below what
  we left in any row since the take) or shows new size above what we met.
- Passive orders queue behind the displayed size at their price (the core's `QueuedOrder`, the same state
  machine as the Nautilus fill model); they fill from tape trades at their price beyond the queue ahead,
  and fully (up to the trade's size) from trades through their price. A trade's volume used to fill one of
  our orders is not used again. They also fill, at their price, when a book update after their arrival
  shows the other side at or through it: for what that side still offers us there (as an aggressive
  order would be offered it), which is then consumed like an aggressive order's take - Nautilus's
  matching rule, which the backtest keeps with the same consumption (`fill_model_consumed`). On one venue
  the other side can only reach our price once what was ahead of us there is gone: that order would
  have traded with ours.
- Fees: taker fee on aggressive fills, maker fee on passive fills, as fractions of notional.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nautilus_sor.backtest.data.recorded import BookSeries, RecordedVenue
from nautilus_sor import _core
from nautilus_sor._core import QueuedOrder
from nautilus_sor.exceptions import MarketDataError, ValidationError
from nautilus_sor.queue_model import DEFAULT_QUEUE_MODEL, DEFAULT_QUEUE_POWER, check_queue_model

BUY = 1
SELL = -1
_EPS = 1e-12


@dataclass(slots=True)
class Fill:
    ts: int  # ns, when the venue matched it
    venue: str
    price: float
    size: float
    fee: float  # in quote currency, >= 0 (a rebate would be negative)
    liquidity: str  # "TAKER" or "MAKER"
    decision_ts: int = -1  # ns, when the order was decided (its basis is costed then); -1: at `ts`

    @property
    def decided(self) -> int:
        return self.ts if self.decision_ts < 0 else self.decision_ts


@dataclass(slots=True)
class RestResult:
    """What became of one passive order."""

    fills: list[Fill]
    arrival_ts: int
    end_ts: int  # when it was done at the venue: fully filled, or the cancel arrived
    reason: str  # "filled", "cancelled" (at the requested time), "touch_moved", "decided" (`cancel_if`), "no_book"

    @property
    def filled(self) -> float:
        return float(sum(f.size for f in self.fills))


def infer_tick(book: BookSeries, sample: int = 2000) -> float:
    """The price increment of a venue, from the smallest gap between adjacent levels or sides it shows."""
    rows: npt.NDArray[np.int_] | list[int] = np.linspace(0, len(book.ts) - 1, num=min(sample, len(book.ts))).astype(int) if len(book.ts) else []
    gaps = [np.diff(book.ask_px[rows], axis=1), -np.diff(book.bid_px[rows], axis=1),
            (book.ask_px[rows, 0] - book.bid_px[rows, 0])[:, None]]
    values = np.concatenate([g.ravel() for g in gaps]) if len(rows) else np.array([])
    values = values[np.isfinite(values) & (values > 1e-9)]
    if not len(values):
        raise MarketDataError("cannot infer the tick size: the book shows no two distinct prices", field="book", value=len(book.ts))
    return float(np.min(values))


def core_book(book: BookSeries) -> _core.RecordedBook:
    """The core's copy of a recorded book (`_core.RecordedBook`), made once and shared by every run."""
    return _core.RecordedBook(np.ascontiguousarray(book.ts, dtype=np.int64), *(np.ascontiguousarray(a, dtype=np.float64)
                              for a in (book.bid_px, book.bid_sz, book.ask_px, book.ask_sz)))


class VenueExchange:
    """Our orders on one recorded venue, for one simulated run (state: consumed liquidity, used tape)."""

    def __init__(
        self,
        venue: RecordedVenue,
        *,
        latency_ms: float | None = None,
        queue_model: str = DEFAULT_QUEUE_MODEL,
        queue_power: float = DEFAULT_QUEUE_POWER,
        tick: float | None = None,
        book: _core.RecordedBook | None = None,
    ) -> None:
        if venue.book is None:
            raise MarketDataError(f"venue {venue.name} has no book: the execution simulator needs L1/L2 books", field="book", value=venue.name)
        latency = venue.latency_ms if latency_ms is None else latency_ms
        if not np.isfinite(latency) or latency < 0:
            raise ValidationError(f"invalid latency_ms for {venue.name}: {latency!r} (must be >= 0)", field="latency_ms", value=latency)
        self.venue = venue
        self.name = venue.name
        self.book = venue.book
        self.tape = venue.trades
        self.latency_ns = int(round(latency * 1e6))
        self.queue_model = check_queue_model(queue_model, queue_power)
        self.queue_power = queue_power
        self.tick = float(tick) if tick is not None else infer_tick(venue.book)
        self.tolerance = self.tick / 2  # prices within half a tick are the same level (basis-adjusted floats)
        # The book walks and the liquidity this run took (`book`: the core's copy, shared across runs).
        self.liquidity = _core.VenueBook(book if book is not None else core_book(venue.book), self.tick)
        self.tape_used = np.zeros(len(self.tape.ts))
        self._aggressor: npt.NDArray[np.int8] | None = None

    # ----- the book as recorded -----

    def row_at(self, ts: int) -> int:
        return self.book.index_at(ts)

    def touch(self, ts: int) -> tuple[float, float]:
        """(best bid, best ask) in force at `ts`; NaN where unknown."""
        row = self.row_at(ts)
        if row < 0:
            return float("nan"), float("nan")
        return float(self.book.bid_px[row, 0]), float(self.book.ask_px[row, 0])

    def _key(self, price: float) -> int:
        return self.liquidity.key(price)

    def aggressors(self) -> npt.NDArray[np.int8]:
        """The tape's aggressor, with unknown (0) ones inferred by the quote rule on this venue's book in
        force at the trade: at/below the bid -> seller, at/above the ask -> buyer, inside -> unknown."""
        if self._aggressor is None:
            agg = np.asarray(self.tape.aggressor, dtype=np.int8).copy()
            unknown = agg == 0
            if unknown.any():
                rows = np.searchsorted(self.book.ts, self.tape.ts[unknown], side="right") - 1
                ok = rows >= 0
                r = np.where(ok, rows, 0)
                px = self.tape.price[unknown]
                inferred = np.zeros(len(px), dtype=np.int8)
                inferred[ok & (px <= self.book.bid_px[r, 0] + self.tolerance)] = SELL
                inferred[ok & (px >= self.book.ask_px[r, 0] - self.tolerance)] = BUY
                agg[unknown] = inferred
            self._aggressor = agg
        return self._aggressor

    # ----- aggressive -----

    def take(self, side: int, qty: float, limit: float | None, decision_ts: int) -> tuple[list[Fill], int]:
        """An IOC order (a market order when `limit` is None) decided at `decision_ts`: walks the book in
        force at arrival within the limit, consuming it. Returns (fills, arrival ts); the rest is cancelled."""
        arrival = decision_ts + self.latency_ns
        return self._take_at(side, qty, limit, arrival, decision_ts), arrival

    def _take_at(self, side: int, qty: float, limit: float | None, ts: int, decision_ts: int) -> list[Fill]:
        if qty <= _EPS:
            return []
        fee_rate = self.venue.taker_fee
        return [Fill(ts, self.name, price, size, size * price * fee_rate, "TAKER", decision_ts)
                for price, size in self.liquidity.take(1 if side == BUY else 2, qty, limit, ts)]

    def offered(self, side: int, ts: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The levels a `side` order would take at `ts`: prices and the sizes still available to us."""
        return self.liquidity.offered(1 if side == BUY else 2, ts)

    def consume_at(self, side: int, price: float, size: float, ts: int) -> Fill:
        """Records a take of `size` at `price` decided elsewhere (the snapshot optimum's merged walk)."""
        self.liquidity.consume_at(1 if side == BUY else 2, price, size, ts)
        return Fill(ts, self.name, float(price), size, size * price * self.venue.taker_fee, "TAKER", ts)

    # ----- passive -----

    def rest(
        self,
        side: int,
        price: float,
        qty: float,
        decision_ts: int,
        cancel_decision_ts: int,
        *,
        cancel_on_touch_move: bool = False,
        checks: Sequence[int] = (),
        cancel_if: Callable[[int, float], bool] | None = None,
    ) -> RestResult:
        """A limit order decided at `decision_ts`, cancelled by a decision at `cancel_decision_ts` (and, with
        `cancel_on_touch_move`, by a decision when the published touch on our side moves away from our
        price; with `cancel_if`, by a decision at the first of the increasing `checks` times `c` for which
        `cancel_if(c, filled)` is true, `filled` being what the fills reported back to us by `c` sum to).
        Both reach the venue after the latency. A part marketable on arrival takes liquidity."""
        arrival = decision_ts + self.latency_ns
        end = max(arrival, cancel_decision_ts + self.latency_ns)
        row = self.row_at(arrival)
        if row < 0:
            return RestResult([], arrival, arrival, "no_book")
        is_bid = side == BUY
        tol = self.tolerance
        fills = self._take_at(side, qty, price, arrival, decision_ts)  # the part that crosses on arrival
        remaining = qty - sum(f.size for f in fills)
        if remaining <= _EPS:
            return RestResult(fills, arrival, arrival, "filled")
        own_px = self.book.bid_px if is_bid else self.book.ask_px
        own_sz = self.book.bid_sz if is_bid else self.book.ask_sz
        reason = "cancelled"
        last_row = self.row_at(end)
        if cancel_on_touch_move and last_row > row:
            touch = own_px[row + 1 : last_row + 1, 0]
            moved = np.flatnonzero(touch > price + tol) if is_bid else np.flatnonzero(touch < price - tol)
            if len(moved):
                moved_end = int(self.book.ts[row + 1 + moved[0]]) + self.latency_ns
                if moved_end < end:
                    end, reason = moved_end, "touch_moved"
                    last_row = self.row_at(end)
        # Displayed size at our price per row (NaN = our price is beyond the visible levels: unknown).
        rows = slice(row, last_row + 1)
        px, sz = own_px[rows], own_sz[rows]
        at_price = np.where(np.abs(px - price) <= tol, sz, 0.0).sum(axis=1)
        worst = np.fmin.reduce(px, axis=1) if is_bid else np.fmax.reduce(px, axis=1)  # NaN-skipping, no warning
        full = np.isfinite(px[:, -1])
        beyond = full & ((price < worst - tol) if is_bid else (price > worst + tol))
        level = np.where(beyond, np.nan, at_price)
        queue = QueuedOrder(side=1 if is_bid else 2, price_tick=self._key(price), qty=remaining,
                            displayed=0.0 if np.isnan(level[0]) else float(level[0]), lot_size=self.venue.lot_size,
                            queue_model=self.queue_model, queue_power=self.queue_power)
        aggressor = 2 if is_bid else 1  # sellers hit our bid, buyers lift our ask
        # Events after arrival up to the end: depth changes at our price, and trades (trades first on ties).
        changed = np.flatnonzero(np.isfinite(level[1:]) & (level[1:] != level[:-1])) + 1
        depth_ts = self.book.ts[row + changed] if len(changed) else np.empty(0, dtype=np.int64)
        t0 = int(np.searchsorted(self.tape.ts, arrival, side="right"))
        t1 = int(np.searchsorted(self.tape.ts, end, side="right"))
        agg = self.aggressors()[t0:t1]
        tp = self.tape.price[t0:t1]
        against_us = agg == (SELL if is_bid else BUY)
        reach = (tp <= price + tol) if is_bid else (tp >= price - tol)
        trade_idx = np.flatnonzero(against_us & reach) + t0
        # Book updates after arrival showing the other side at or through our price (the module doc).
        other = (self.book.ask_px if is_bid else self.book.bid_px)[rows, 0]
        touched = np.flatnonzero((other[1:] <= price + tol) if is_bid else (other[1:] >= price - tol)) + 1
        # On ties: trades, then depth at our price, then the other side (the backtest's module sees a batch's
        # depth before the matching engine matches against it).
        events = sorted([(int(self.tape.ts[k]), 0, int(k)) for k in trade_idx] + [(int(t), 1, int(c)) for t, c in zip(depth_ts, changed)]
                        + [(int(self.book.ts[row + c]), 2, int(c)) for c in touched])
        touch_filled = 0.0  # what the other side filled (the queue's `leaves` counts trade fills only)
        prev_level = level[0] if np.isfinite(level[0]) else 0.0
        fee_rate = self.venue.maker_fee
        done = end
        pending = [c for c in checks if c < cancel_decision_ts] if cancel_if is not None else []

        def cancelled_before(t: int) -> int | None:
            """The arrival of a cancel decided at a check whose cancel reaches the venue before `t`."""
            while pending and pending[0] + self.latency_ns < t:
                c = pending.pop(0)
                known = sum(f.size for f in fills if f.ts + self.latency_ns <= c)
                if cancel_if(c, known):  # type: ignore[misc]  # `pending` is empty without `cancel_if`
                    return c + self.latency_ns
            return None

        for ts, kind, idx in events:
            stop = cancelled_before(ts)
            if stop is not None:
                done, reason = stop, "decided"
                break
            if kind == 1:
                new_level = float(level[idx])
                queue.on_depth(prev_level, new_level)
                prev_level = new_level
                continue
            if kind == 2:
                taken = self.liquidity.take(1 if is_bid else 2, queue.leaves - touch_filled, price, ts)
                take = sum(size for _, size in taken)
                if take <= _EPS:
                    continue
                touch_filled += take
            else:
                size = float(self.tape.size[idx])
                free = max(0.0, size - self.tape_used[idx])
                take = queue.on_trade(aggressor, self._key(float(self.tape.price[idx])), size, min(free, queue.leaves - touch_filled))
                if take <= _EPS:
                    continue
                self.tape_used[idx] += take
            fills.append(Fill(ts, self.name, float(price), take, take * float(price) * fee_rate, "MAKER", decision_ts))
            if queue.leaves - touch_filled <= _EPS:
                done, reason = ts, "filled"
                break
        else:  # no more events: the checks left may still cancel it before the end
            stop = cancelled_before(end)
            if stop is not None:
                done, reason = stop, "decided"
        return RestResult(fills, arrival, done, reason)


def venue_exchanges(venues: Iterable[RecordedVenue], *, queue_model: str = DEFAULT_QUEUE_MODEL, queue_power: float = DEFAULT_QUEUE_POWER,
                    latency_ms: dict[str, float] | None = None, ticks: dict[str, float] | None = None,
                    books: dict[str, _core.RecordedBook] | None = None) -> dict[str, VenueExchange]:
    """Fresh exchanges (no consumed liquidity, unused tape) for every venue with a book (`books`: the
    core's copies, made once per market)."""
    latency_ms = latency_ms or {}
    ticks = ticks or {}
    books = books or {}
    return {v.name: VenueExchange(v, latency_ms=latency_ms.get(v.name), queue_model=queue_model, queue_power=queue_power,
                                  tick=ticks.get(v.name), book=books.get(v.name))
            for v in venues if v.book is not None}


__all__ = ["BUY", "SELL", "Fill", "RestResult", "VenueExchange", "core_book", "infer_tick", "venue_exchanges"]
