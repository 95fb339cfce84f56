"""Keeps the core's per-venue ladders in step with Nautilus's cache, doing work only where the market changed.

The router reads books at decision time (no event wiring needed, backtest or live). Reading a whole
Nautilus book into Python costs about 5 us a side plus 0.15 us a level (and decoding the deltas
themselves about 1 us each), so a strategy that routes on every tick cannot afford to copy every venue's
book each time. Per venue, `LadderSync` remembers what the core holds (from which cache object, at which
`OrderBook.update_count`, for which side and depth) and reloads only a venue whose book changed, and
only what the decision reads:

- the taking side (asks for a buy, bids for a sell) as far as the quantity asked for reaches, rounded
  up to a power of two of lots, read in one call into Nautilus's Rust book (`simulate_fills` of a
  never-submitted probe order). No venue can be given more than the quantity, so deeper levels cannot
  change the decision. At most `book_depth` levels;
- the other side's touch only (the consolidated mid, the reference price, needs it).

A decision for more quantity than was read, or on the other side, reads that side (the side already
read is kept while the book is unchanged); another instrument, or a changed book, reads afresh. Venues
without a book fall back to the cache's last quote (one level a side), reloaded when the cache holds a
new quote object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId, StrategyId, TraderId
from nautilus_trader.model.objects import FIXED_PRECISION, Quantity
from nautilus_trader.model.orders import MarketOrder

from nautilus_sor._core import Router
from nautilus_sor.exceptions import ValidationError
from nautilus_sor.units import UNIT_DECIMALS, qty_to_units

BUY, SELL = 1, 2
_COMPLETE = -1  # a side loaded as far as `book_depth` (or all the book has)
_RAW_PER_UNIT = 10 ** (FIXED_PRECISION - UNIT_DECIMALS)
# The probe orders asked of a book: never submitted, so their ids only need to be valid.
_PROBE_TRADER, _PROBE_STRATEGY, _PROBE_ORDER = TraderId("SOR-000"), StrategyId("SOR-000"), ClientOrderId("SOR-PROBE")
_MAX_PROBES = 1024


@dataclass(slots=True)
class _Loaded:
    """What the core's ladder of one venue was loaded from, and how much of each side it holds."""

    instrument_id: InstrumentId
    source: Any  # the cache's OrderBook or QuoteTick object (held, so `is` cannot match a recycled id)
    version: int  # the book's update_count then (0 for a quote)
    bids: list[tuple[float, int]]
    asks: list[tuple[float, int]]
    bid_units: int  # units of bids walked for a sell (_COMPLETE: the whole side; 0: the touch only)
    ask_units: int  # the same for asks, walked for a buy

    def covers(self, side: int, units: int) -> bool:
        held = self.ask_units if side == BUY else self.bid_units if side == SELL else min(self.bid_units, self.ask_units)
        return held == _COMPLETE or (side != 0 and held >= units)


class LadderSync:
    """The core's ladders against the cache: `load` before each decision, cheap when nothing changed."""

    def __init__(self, core: Router, book_depth: int) -> None:
        if isinstance(book_depth, bool) or not isinstance(book_depth, int) or book_depth < 1:
            raise ValidationError(f"invalid book_depth: {book_depth!r} (must be an integer >= 1)", field="book_depth", value=repr(book_depth))
        self._core = core
        self.book_depth = book_depth
        self._loaded: dict[str, _Loaded | None] = {}  # venue -> what the core holds (None: cleared)
        self.reloads = 0  # venue ladders copied from the cache (for tests and benchmarks)
        self._probes: dict[tuple[InstrumentId, int, int], MarketOrder] = {}

    def invalidate(self, venue: str | None = None) -> None:
        """Forgets what the core holds (one venue, or all): the next decision reloads it."""
        if venue is None:
            self._loaded.clear()
        else:
            self._loaded.pop(venue, None)

    def load(self, cache: Any, venue: str, instrument_id: InstrumentId, instrument: Any, side: int, units: int) -> None:
        """Makes the core's ladder of `venue` right for a decision on `side` for `units` units."""
        state = self._loaded.get(venue)
        book = cache.order_book(instrument_id)
        if book is not None:
            version = book.update_count
            same = state is not None and state.source is book and state.version == version and (state.instrument_id is instrument_id or state.instrument_id == instrument_id)
            if same:
                # covers(), inlined: this is the check every decision makes for every venue.
                held = state.ask_units if side == BUY else state.bid_units if side == SELL else -2  # type: ignore[union-attr]
                if held == _COMPLETE or held >= units > 0 or (held == -2 and state.covers(side, units)):  # type: ignore[union-attr]
                    return
            if not same and state is not None and state.source is book and state.instrument_id is instrument_id and side:
                # The same book changed (the common case on a tick): reuse the record, read the side afresh.
                # Forgotten until `_set` stores it again, so that a read that raises leaves nothing stale.
                del self._loaded[venue]
                state.version, state.bid_units, state.ask_units = version, 0, 0
                self._load_book(venue, instrument_id, instrument, book, version, side, units, None, state)
                return
            self._load_book(venue, instrument_id, instrument, book, version, side, units, state if same else None)
            return
        quote = cache.quote_tick(instrument_id)
        if quote is not None and state is not None and state.source is quote and state.instrument_id == instrument_id:
            return
        if quote is None and venue in self._loaded and state is None:
            return  # still no data, already cleared
        self._load_quote(venue, instrument_id, quote)

    def empty_taking_sides(self, venues: list[str], side: int) -> list[str]:
        """Of `venues` (as last loaded), those whose book or quote shows no level on the side a `side` order
        takes, when another one shows some (book mode); [] otherwise. A venue without any (no data) is not
        among them: nothing says its side is empty."""
        showing: dict[str, bool] = {}
        for venue in venues:
            state = self._loaded.get(venue)
            if state is not None:
                showing[venue] = bool(state.asks if side == BUY else state.bids)
        if not any(showing.values()):
            return []
        return [venue for venue, shows in showing.items() if not shows]

    def _load_book(self, venue: str, instrument_id: InstrumentId, instrument: Any, book: Any, version: int, side: int, units: int,
                   current: _Loaded | None, reuse: _Loaded | None = None) -> None:
        """Reads the side `side` takes as deep as `units` need (side 0: both sides whole); the other side
        is kept from `current` (the same book, unchanged since) or read at its touch only. `reuse`: a
        stale record of this book to overwrite instead of allocating one."""
        loaded = current or reuse or _Loaded(instrument_id, book, version, [], [], 0, 0)
        for taking in ((BUY, SELL) if side == 0 else (side,)):
            walked = None
            if side and instrument is not None:
                try:
                    walked = self._walk(book, instrument, taking, units)
                except RuntimeError:  # the book's sizes are not at the instrument's precision: read it whole
                    walked = None
            if walked is None:
                walked = self._levels(book.asks() if taking == BUY else book.bids(), instrument), 0, True
            levels, held, complete = walked
            if taking == BUY:
                loaded.asks, loaded.ask_units = levels, _COMPLETE if complete else held
            else:
                loaded.bids, loaded.bid_units = levels, _COMPLETE if complete else held
        if current is None and side != 0:
            # The other side's touch only: the consolidated mid (the reference price) needs it.
            price = book.best_bid_price() if side == BUY else book.best_ask_price()
            size = book.best_bid_size() if side == BUY else book.best_ask_size()
            touch = size.raw // _RAW_PER_UNIT if price is not None and size is not None else 0
            other = [(price.as_double(), touch)] if touch > 0 else []
            if side == BUY:
                loaded.bids = other
            else:
                loaded.asks = other
        self._set(venue, loaded.bids, loaded.asks, loaded)

    def _levels(self, levels: list[Any], instrument: Any) -> list[tuple[float, int]]:
        """A whole side (up to `book_depth` levels) from Nautilus BookLevels (sizes are floats there)."""
        precision = instrument.size_precision if instrument is not None else UNIT_DECIMALS
        scale, step = 10**precision, 10 ** (UNIT_DECIMALS - precision)
        out = [(lv.price.as_double(), int(round(lv.size() * scale)) * step) for lv in levels[: self.book_depth]]
        return [lv for lv in out if lv[1] > 0]

    def _walk(self, book: Any, instrument: Any, side: int, units: int) -> tuple[list[tuple[float, int]], int, bool]:
        """The taking side's levels as far as `units` reach, rounded up to a power of two of lots (so
        that a handful of probe orders serve every size), in one call into Nautilus's Rust book.

        Returns (levels, units held, whether the side ended before the probe's quantity)."""
        step = 10 ** (UNIT_DECIMALS - instrument.size_precision)
        lots = max(-(-units // step), 1)
        probe = self._probe(instrument, side, 1 << (lots - 1).bit_length())
        levels: list[tuple[float, int]] = []
        held = 0
        for price, size in book.simulate_fills(probe, instrument.price_precision, instrument.size_precision, True):
            px, qty = price.as_double(), size.raw // _RAW_PER_UNIT
            if levels and levels[-1][0] == px:  # an L3 book fills order by order: one level per price
                levels[-1] = (px, levels[-1][1] + qty)
                continue
            if len(levels) == self.book_depth:
                return levels, held, True
            levels.append((px, qty))
            held += qty
        return levels, held, held < probe.quantity.raw // _RAW_PER_UNIT

    def _probe(self, instrument: Any, side: int, lots: int) -> Any:
        """A never-submitted market order of `lots` lots, the question asked of the book."""
        key = (instrument.id, side, lots)
        probe = self._probes.get(key)
        if probe is None:
            if len(self._probes) >= _MAX_PROBES:
                self._probes.clear()
            quantity = Quantity.from_raw(lots * 10 ** (FIXED_PRECISION - instrument.size_precision), instrument.size_precision)
            probe = MarketOrder(_PROBE_TRADER, _PROBE_STRATEGY, instrument.id, _PROBE_ORDER, OrderSide(side), quantity, UUID4(), 0)
            self._probes[key] = probe
        return probe

    def _load_quote(self, venue: str, instrument_id: InstrumentId, quote: Any) -> None:
        bids: list[tuple[float, int]] = []
        asks: list[tuple[float, int]] = []
        if quote is not None:
            if quote.bid_size.as_double() > 0:
                bids = [(quote.bid_price.as_double(), qty_to_units(quote.bid_size, "bid_size"))]
            if quote.ask_size.as_double() > 0:
                asks = [(quote.ask_price.as_double(), qty_to_units(quote.ask_size, "ask_size"))]
        self._set(venue, bids, asks, _Loaded(instrument_id, quote, 0, bids, asks, _COMPLETE, _COMPLETE) if quote is not None else None)

    def _set(self, venue: str, bids: list[tuple[float, int]], asks: list[tuple[float, int]], loaded: _Loaded | None) -> None:
        self.reloads += 1
        self._loaded[venue] = loaded
        if not bids and not asks:
            self._core.clear_book(venue)
            return
        try:
            self._core.set_book(venue, bids, asks)
        except ValidationError:
            # A locked/crossed book or quote on one venue is not a book to route on: treat as no data.
            self._core.clear_book(venue)
