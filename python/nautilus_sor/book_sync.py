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

Books kept from the deltas (`DeltaFeed`, the hot path): a router handed each `OrderBookDeltas` batch
(`SmartOrderRouter.on_order_book_deltas`, which `MultiVenueStrategy.on_order_book_deltas` calls) keeps that
venue's book in the core itself, an exact copy of Nautilus's own L2 book (`sor_core::book::DeltaBook`,
Nautilus's apply rules), updated in one call per batch; a decision then reads nothing from Nautilus for
that venue. The batch crosses into Rust as Nautilus's own C structs: read by Nautilus's exported C accessor
of the batch (`orderbook_deltas_vec_deltas`, found in its loaded `nautilus_trader.model.data` module; about
0.1 us a batch), else through `OrderBookDelta.capsule_from_list(deltas.deltas)` (about 1.5 us for 27 deltas,
most of it `deltas.deltas` building a Python object per delta), else, when this build of Nautilus does not
lay the structs out as the bindings read them, decoded in Python (about 2.5 us a delta). Which one is
decided once per process by decoding batches made here with known values (`delta_reader`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model import data as nautilus_data
from nautilus_trader.model.data import OrderBookDelta, OrderBookDeltas
from nautilus_trader.model.enums import BookAction, OrderSide
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId, StrategyId, TraderId
from nautilus_trader.model.objects import FIXED_PRECISION, Quantity
from nautilus_trader.model.orders import MarketOrder

from nautilus_sor._core import BookFeed, Router, VenueSpec, bind_deltas_accessor, decode_capsule, decode_deltas
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
    routable: bool = True  # False: the core refused these levels (a crossed book), the venue has no data there

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
        self.feed = DeltaFeed(core, book_depth)

    def invalidate(self, venue: str | None = None) -> None:
        """Forgets what the core holds (one venue, or all): the next decision reloads it (a venue kept from
        deltas: sends its book to the core again)."""
        if venue is None:
            self._loaded.clear()
            self.feed.displaced.update(self.feed.instrument)
        else:
            self._loaded.pop(venue, None)
            if venue in self.feed.instrument:
                self.feed.displaced.add(venue)

    def load(self, cache: Any, venue: str, instrument_id: InstrumentId, instrument: Any, side: int, units: int) -> None:
        """Makes the core's ladder of `venue` right for a decision on `side` for `units` units."""
        fed = self.feed.instrument.get(venue)
        if fed is not None and (fed is instrument_id or fed == instrument_id):
            if venue in self.feed.displaced:
                self.feed.resend(venue)
            return  # kept from the deltas: nothing to read
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
        fed = self.feed.sides
        for venue in venues:
            if venue in fed:
                showing[venue] = bool(fed[venue] & (2 if side == BUY else 1))
                continue
            state = self._loaded.get(venue)
            if state is not None:
                showing[venue] = state.routable and bool(state.asks if side == BUY else state.bids)
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
        if venue in self.feed.instrument:  # a decision on another instrument of a venue kept from deltas
            self.feed.displaced.add(venue)
        if not bids and not asks:
            self._core.clear_book(venue)
            return
        try:
            self._core.set_book(venue, bids, asks)
        except ValidationError:
            # A locked/crossed book or quote on one venue is not a book to route on: treat as no data
            # (it shows no side either, as a crossed book kept from deltas does not: `empty_taking_sides`).
            self._core.clear_book(venue)
            if loaded is not None:
                loaded.routable = False
            return
        if loaded is not None:
            loaded.routable = True


class DeltaFeed:
    """The core's books kept from Nautilus `OrderBookDeltas`, one call into Rust per batch.

    One book per venue, of the first instrument whose deltas the venue is handed (a router routes one
    asset; deltas of another instrument of that venue are ignored and its decisions read the cache). The
    first batch of a venue that is not a snapshot (a router subscribed after the book started) is taken
    from the cache's book instead, which already holds it: Nautilus applies a batch to its own book before
    it hands it to strategies."""

    def __init__(self, core: Router, book_depth: int) -> None:
        # Both written by the core's feed after every batch: the sides each venue's routing view shows (1
        # bids, 2 asks, 3 both), and the venues whose core book was since replaced (sent again before use).
        self.sides: dict[str, int] = {}
        self.displaced: set[str] = set()
        self._feed = BookFeed(core, book_depth, FIXED_PRECISION, UNIT_DECIMALS, self.sides, self.displaced)
        self.instrument: dict[str, InstrumentId] = {}  # venue -> the instrument whose book the core holds from deltas
        self._held: dict[InstrumentId, str] = {}  # the same, the other way round (the readers but the accessor)
        self._apply_batch: Callable[[str, Any], int]  # (venue, OrderBookDeltas) -> sides: the chosen reader
        self.apply_held: Callable[[Any], bool]  # the hot path: see `_apply_held`
        self.reader = delta_reader()

    @property
    def batches(self) -> int:
        """The non-empty batches applied so far."""
        return self._feed.batches

    @property
    def reader(self) -> str:
        """How batches cross into the core (ACCESSOR, CAPSULE or PYTHON; `delta_reader` picks the fastest
        this process reads right)."""
        return self._reader

    @reader.setter
    def reader(self, reader: str) -> None:
        feed = self._feed
        self.apply_held = feed.apply_held if reader == ACCESSOR else self._apply_held  # the core's needs no dict look-up
        if reader == ACCESSOR:
            self._apply_batch = feed.apply_deltas
        elif reader == CAPSULE:
            self._apply_batch = lambda venue, deltas: feed.apply_capsule(venue, OrderBookDelta.capsule_from_list(deltas.deltas))
        elif reader == PYTHON:
            self._apply_batch = lambda venue, deltas: feed.apply(venue, *decode_in_python(deltas.deltas))
        else:
            raise ValidationError(f"invalid reader: {reader!r} (one of {ACCESSOR}, {CAPSULE}, {PYTHON})", field="reader", value=repr(reader))
        self._reader = reader

    def _apply_held(self, deltas: Any) -> bool:
        """`apply_held`: applies a batch of an instrument whose book the core already keeps; False (nothing
        done) for any other, which `apply` then takes. With the accessor it is the core's own
        (`BookFeed.apply_held`: the instrument found by its interned id, no Python object)."""
        venue = self._held.get(deltas.instrument_id)
        if venue is None:
            return False
        self._apply_batch(venue, deltas)
        return True

    def apply(self, venue: str, deltas: Any, cache: Any = None) -> bool:
        """Applies one `OrderBookDeltas` batch to `venue`'s book; False if the venue keeps another instrument's."""
        instrument_id = deltas.instrument_id
        held = self.instrument.get(venue)
        if held is None:
            self.instrument[venue] = instrument_id
            self._held[instrument_id] = venue
            book = cache.order_book(instrument_id) if cache is not None else None
            items = deltas.deltas
            if items and items[0].action != BookAction.CLEAR and book is not None and book.update_count > 0:
                self._seed(venue, book)
                return True
        elif held != instrument_id:
            return False
        self._apply_batch(venue, deltas)
        return True

    def resend(self, venue: str) -> None:
        """Sends the venue's book to the core again (after something else replaced it there)."""
        self._feed.resend(venue)

    def forget(self, venue: str) -> None:
        """Drops the venue's book (core included): the next batch starts it again."""
        held = self.instrument.pop(venue, None)
        if held is not None:
            self._held.pop(held, None)
        self._feed.reset(venue)

    def levels(self, venue: str, depth: int | None = None) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """The venue's book as kept, best first: (bids, asks) of (raw price, raw size)."""
        return self._feed.levels(venue, depth)

    def _seed(self, venue: str, book: Any) -> None:
        actions, sides, prices, sizes = [int(BookAction.CLEAR)], [0], [0], [0]
        for side, levels in ((1, book.bids()), (2, book.asks())):
            for level in levels:
                actions.append(int(BookAction.ADD))
                sides.append(side)
                prices.append(level.price.raw)
                sizes.append(sum(order.size.raw for order in level.orders()))
        self._feed.apply(venue, actions, sides, prices, sizes)


def decode_in_python(items: list[Any]) -> tuple[list[int], list[int], list[int], list[int]]:
    """(actions, sides, raw prices, raw sizes) of deltas, read attribute by attribute (the slow path)."""
    actions, sides, prices, sizes = [], [], [], []
    for delta in items:
        order = delta.order
        actions.append(int(delta.action))
        sides.append(int(order.side))
        prices.append(order.price.raw)
        sizes.append(order.size.raw)
    return actions, sides, prices, sizes


ACCESSOR, CAPSULE, PYTHON = "accessor", "capsule", "python"  # how batches cross into the core, fastest first
_READER: str | None = None


def delta_reader() -> str:
    """How this process hands a batch to the core: the first of ACCESSOR (Nautilus's C accessor of the
    batch), CAPSULE (`capsule_from_list`), PYTHON (attribute by attribute) whose reading of batches made
    here, with values that differ in every field, equals what was made. Decided once per process."""
    global _READER
    if _READER is None:
        iid = InstrumentId.from_str("SORCHECK.SOR")
        made = [(int(BookAction.UPDATE), 2, 123_456_789 * 10**7, 987_654 * 10**6, 0x80),
                (int(BookAction.DELETE), 1, -5 * 10**9, 3, 0x20), (int(BookAction.CLEAR), 0, 0, 0, 0x60)]
        deltas = [OrderBookDelta.from_raw(iid, BookAction(a), OrderSide(s), p, 2, q, 3, 7 + k, f, 11 + k, 13 + k, 17 + k)
                  for k, (a, s, p, q, f) in enumerate(made)]
        wide = FIXED_PRECISION == 16
        _READER = PYTHON
        try:
            if decode_capsule(OrderBookDelta.capsule_from_list(deltas), wide) == made:
                _READER = CAPSULE
                batch = OrderBookDeltas(iid, deltas)
                if bind_deltas_accessor(nautilus_data.__file__, OrderBookDeltas) and decode_deltas(batch, wide) == made \
                        and _finds_held_instruments(iid, deltas):
                    _READER = ACCESSOR
        except Exception:  # noqa: BLE001 - any failure means: do not trust that layout
            pass
    return _READER


def _finds_held_instruments(iid: InstrumentId, deltas: list[Any]) -> bool:
    """Whether the core's feed tells instruments apart by the accessor's instrument id: a batch of the
    instrument one venue holds is taken (by that venue), one of another instrument is not."""
    other = InstrumentId.from_str("SORCHECK.OTHER")
    feed = BookFeed(Router([VenueSpec("SOR", 0.0, 0.0, 1.0), VenueSpec("OTHER", 0.0, 0.0, 1.0)]), 5, FIXED_PRECISION, UNIT_DECIMALS, {}, set())
    clear = [OrderBookDelta.clear(other, 0, 1, 1)]
    feed.apply_deltas("SOR", OrderBookDeltas(iid, deltas[-1:]))
    return bool(feed.apply_held(OrderBookDeltas(iid, deltas[-1:]))) and not feed.apply_held(OrderBookDeltas(other, clear)) \
        and feed.batches == 2
