"""Books kept in the core from Nautilus deltas (`book_sync.DeltaFeed`, `sor_core::book::DeltaBook`) against
Nautilus's own `OrderBook` (its Rust L2 book, fed the same batches): after every batch the top 20 levels of
each side are equal, raw prices and raw sizes exactly. Over the recorded Binance markets, and on random
batches that hit every rule (ADD over a level, UPDATE of an absent level, DELETE of an absent level, CLEAR,
crossing levels; Nautilus refuses to build an ADD or UPDATE of size 0)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from nautilus_trader.core import nautilus_pyo3
from nautilus_trader.model.data import OrderBookDelta, OrderBookDeltas
from nautilus_trader.model.enums import BookAction, OrderSide, RecordFlag
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_sor import book_sync
from nautilus_sor._core import Router, VenueSpec
from nautilus_sor.book_sync import DeltaFeed
from nautilus_sor.exceptions import ValidationError
from shared_data import DATA, needs_data


def _binance_dir() -> Path:
    """The shared Binance capture (tests/shared_data.py: skipped when absent, failed under CI=true)."""
    return DATA / "binance_btc_l2_20240808"


DEPTH = 20


def nautilus_top(book, depth: int = DEPTH) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    side = lambda levels: [(level.price.raw, level.size_raw()) for level in levels]  # noqa: E731
    return side(book.bids(depth)), side(book.asks(depth))


def nautilus_book(instrument_id: InstrumentId):
    return nautilus_pyo3.OrderBook(nautilus_pyo3.InstrumentId.from_str(str(instrument_id)), nautilus_pyo3.BookType.L2_MBP)


def feed_for(venues: list[str], depth: int = DEPTH) -> tuple[Router, DeltaFeed]:
    router = Router([VenueSpec(v, 0.0, 0.0001, 1.0) for v in venues])
    return router, DeltaFeed(router, depth)


def test_the_bindings_read_this_nautilus_builds_deltas_through_its_accessor():
    assert book_sync.delta_reader() == book_sync.ACCESSOR, "Nautilus's C accessor of OrderBookDeltas was not bound or misread"


def test_the_accessor_refuses_what_is_not_an_order_book_deltas():
    from nautilus_sor._core import decode_deltas

    iid = InstrumentId.from_str("BTCUSDT.V0")
    assert book_sync.delta_reader() == book_sync.ACCESSOR
    deltas = [OrderBookDelta.clear(iid, 0, 1, 1)]
    with pytest.raises(ValidationError) as err:
        decode_deltas(deltas, True)  # a list, not a batch
    assert err.value.field == "deltas"
    batch = OrderBookDeltas(iid, deltas)
    assert decode_deltas(batch, True) == [(int(BookAction.CLEAR), 0, 0, 0, 0)]


@needs_data(DATA / "binance_btc_l2_20240808")
def test_books_equal_nautilus_after_every_batch_on_recorded_binance_markets():
    from nautilus_sor.backtest.data.binance import load_binance_btc

    market = load_binance_btc(_binance_dir())
    batches = [d for d in market.data if isinstance(d, OrderBookDeltas)]
    venues = sorted({d.instrument_id.venue.value for d in batches})
    assert len(venues) == 3 and len(batches) > 1_000
    _, feed = feed_for(venues)
    theirs = {}
    compared = crossed = 0
    for deltas in batches:
        iid = deltas.instrument_id
        book = theirs.get(iid)
        if book is None:
            book = theirs[iid] = nautilus_book(iid)
        book.apply_deltas(deltas.to_pyo3())
        assert feed.apply(iid.venue.value, deltas)
        ours = feed.levels(iid.venue.value, DEPTH)
        expected = nautilus_top(book)
        assert ours == expected, f"batch {compared} of {iid}: ours {ours[0][:3]}.. / {ours[1][:3]}.. vs Nautilus {expected[0][:3]}.. / {expected[1][:3]}.."
        crossed += bool(expected[0] and expected[1] and expected[0][0][0] >= expected[1][0][0])
        compared += 1
    assert compared == len(batches)
    print(f"{compared} batches over {venues}, {crossed} crossed states, all equal to Nautilus's top {DEPTH}")


def _random_batches(rng: random.Random, iid: InstrumentId, n: int) -> list[OrderBookDeltas]:
    batches = []
    for k in range(n):
        deltas = []
        if k % 97 == 0:
            deltas.append(OrderBookDelta.clear(iid, k, k, k))
        for _ in range(rng.randint(1, 25)):
            action = rng.choice((BookAction.ADD, BookAction.ADD, BookAction.UPDATE, BookAction.UPDATE, BookAction.DELETE))
            side = rng.choice((OrderSide.BUY, OrderSide.SELL))
            # bids around 90-100, asks around 100-110, overlapping: crossed states happen as on real feeds
            tick = rng.randint(880, 1_010) if side == OrderSide.BUY else rng.randint(990, 1_120)
            size = 0 if action == BookAction.DELETE else rng.randint(1, 50_000)  # Nautilus refuses size 0 otherwise
            deltas.append(OrderBookDelta.from_raw(iid, action, side, tick * 10**15, 1, size * 10**13, 3, 0, 0, k, k, k))
        last = deltas[-1]
        deltas[-1] = OrderBookDelta.from_raw(iid, last.action, last.order.side, last.order.price.raw, 1, last.order.size.raw, 3, 0,
                                             int(RecordFlag.F_LAST), k, k, k)
        batches.append(OrderBookDeltas(iid, deltas))
    return batches


@pytest.mark.parametrize("reader", [book_sync.ACCESSOR, book_sync.CAPSULE, book_sync.PYTHON])
def test_books_equal_nautilus_on_random_batches(reader):
    iid = InstrumentId.from_str("BTCUSDT.V0")
    _, feed = feed_for(["V0"])
    feed.reader = reader
    book = nautilus_book(iid)
    rng = random.Random(21)
    for k, deltas in enumerate(_random_batches(rng, iid, 3_000)):
        book.apply_deltas(deltas.to_pyo3())
        feed.apply("V0", deltas)
        assert feed.levels("V0", DEPTH) == nautilus_top(book), f"batch {k}"
    # deeper than 20 as well
    assert feed.levels("V0") == nautilus_top(book, 10_000)


def test_router_routes_on_the_fed_book_and_refuses_a_crossed_one():
    iid = InstrumentId.from_str("BTCUSDT.V0")
    router, feed = feed_for(["V0"], depth=2)
    mk = lambda action, side, px, qty, flags=0: OrderBookDelta.from_raw(iid, action, side, px * 10**16, 2, qty * 10**16, 3, 0, flags, 1, 1, 1)  # noqa: E731
    feed.apply("V0", OrderBookDeltas(iid, [OrderBookDelta.clear(iid, 0, 1, 1), mk(BookAction.ADD, OrderSide.BUY, 99, 1),
                                           mk(BookAction.ADD, OrderSide.SELL, 101, 2), mk(BookAction.ADD, OrderSide.SELL, 102, 3),
                                           mk(BookAction.ADD, OrderSide.SELL, 103, 4, int(RecordFlag.F_LAST))]))
    assert router.book("V0") == ([(99.0, 10**9)], [(101.0, 2 * 10**9), (102.0, 3 * 10**9)])  # depth 2; sizes in units (1e-9)
    assert feed.sides["V0"] == 3
    # a bid crossing the asks: kept in the book (as Nautilus keeps it), not routed on
    feed.apply("V0", OrderBookDeltas(iid, [mk(BookAction.ADD, OrderSide.BUY, 101, 1, int(RecordFlag.F_LAST))]))
    assert router.book("V0") is None and feed.sides["V0"] == 0
    feed.apply("V0", OrderBookDeltas(iid, [mk(BookAction.DELETE, OrderSide.BUY, 101, 0, int(RecordFlag.F_LAST))]))
    assert router.book("V0")[1][0] == (101.0, 2 * 10**9)


def test_a_bad_batch_is_refused_whole():
    router, feed = feed_for(["V0"])
    feed._feed.apply("V0", [1, 1], [1, 2], [99 * 10**16, 101 * 10**16], [10**16, 10**16])
    before = feed.levels("V0")
    with pytest.raises(ValidationError) as err:
        feed._feed.apply("V0", [1, 7], [1, 1], [98 * 10**16, 1], [1, 1])
    assert err.value.field == "deltas[1].action"
    with pytest.raises(ValidationError) as err:
        feed._feed.apply("V0", [2], [0], [98 * 10**16], [1])
    assert err.value.field == "deltas[0].side"
    with pytest.raises(ValidationError) as err:
        feed._feed.apply("V0", [2, 2], [1], [1], [1])
    assert err.value.field == "sides"
    assert feed.levels("V0") == before


def test_decisions_on_fed_books_equal_decisions_reading_the_cache():
    """Two routers over the same Nautilus books: one handed every batch (books kept in the core), one
    reading the cache's books (the path before): the same allocations on random batches, sides and sizes."""
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.enums import BookType
    from nautilus_trader.model.objects import Quantity

    from nautilus_sor.backtest.synthetic import SyntheticVenue, make_instrument
    from nautilus_sor.smart_router import SmartOrderRouter

    venues = [SyntheticVenue(f"V{i}", maker_fee=0.0, taker_fee=0.0001 * (1 + i), latency_ms=1.0 + 30 * i) for i in range(3)]
    instruments = {make_instrument(v).id: make_instrument(v) for v in venues}  # price precision 2, size precision 3

    class Cache:
        books = {iid: OrderBook(iid, BookType.L2_MBP) for iid in instruments}

        def instrument(self, instrument_id):
            return instruments.get(instrument_id)

        def order_book(self, instrument_id):
            return self.books.get(instrument_id)

        def quote_tick(self, instrument_id):
            return None

    cache = Cache()
    fed, reading = SmartOrderRouter([v.terms() for v in venues], cache=cache), SmartOrderRouter([v.terms() for v in venues], cache=cache)
    rng = random.Random(5)
    ids = list(instruments)
    mid = {iid: 6_000_000 for iid in ids}  # cents
    compared = 0
    for step in range(600):
        iid = rng.choice(ids)
        mid[iid] += rng.randint(-300, 300)
        deltas = [OrderBookDelta.clear(iid, step, step, step)] if step < len(ids) or rng.random() < 0.02 else []
        for _ in range(rng.randint(1, 30)):
            action = rng.choice((BookAction.ADD, BookAction.UPDATE, BookAction.UPDATE, BookAction.DELETE))
            side = rng.choice((OrderSide.BUY, OrderSide.SELL))
            cents = mid[iid] - rng.randint(0, 2_000) if side == OrderSide.BUY else mid[iid] + rng.randint(0, 2_000)  # crossing sometimes
            lots = 0 if action == BookAction.DELETE else rng.randint(1, 3_000)
            deltas.append(OrderBookDelta.from_raw(iid, action, side, cents * 10**14, 2, lots * 10**13, 3, 0, 0, step, step, step))
        batch = OrderBookDeltas(iid, deltas)
        cache.books[iid].apply_deltas(batch)  # Nautilus applies a batch to its book before strategies see it
        assert fed.on_order_book_deltas(batch)
        side = rng.choice((OrderSide.BUY, OrderSide.SELL))
        qty = Quantity(rng.choice([1, 7, 500, 2_000, 6_000, 20_000]) / 1000, 3)
        max_venues = rng.choice([1, 2, 3])
        outcome = []
        for router in (fed, reading):
            try:
                outcome.append(router.route_quantities(ids[0], side, qty, max_venues))
            except Exception as exc:  # noqa: BLE001 - both must fail the same way
                outcome.append(type(exc).__name__)
        assert outcome[0] == outcome[1], step
        compared += isinstance(outcome[0], list)
    assert compared > 300
    # nothing read from the cache once a venue was handed its first batch
    assert fed._books.reloads <= len(ids) and fed._books.feed.batches == 600 and reading._books.reloads > 300


@pytest.mark.parametrize("reader", [book_sync.ACCESSOR, book_sync.CAPSULE])
def test_apply_held_takes_only_the_instrument_a_venue_holds_and_records_its_sides(reader):
    v0, v1, other = (InstrumentId.from_str(s) for s in ("BTCUSDT.V0", "BTCUSDT.V1", "ETHUSDT.V0"))
    router, feed = feed_for(["V0", "V1"])
    feed.reader = reader
    mk = lambda iid, side, px, flags=0: OrderBookDelta.from_raw(iid, BookAction.ADD, side, px * 10**16, 2, 10**16, 3, 0, flags, 1, 1, 1)  # noqa: E731
    snapshot = lambda iid: OrderBookDeltas(iid, [OrderBookDelta.clear(iid, 0, 1, 1), mk(iid, OrderSide.BUY, 99), mk(iid, OrderSide.SELL, 101, int(RecordFlag.F_LAST))])  # noqa: E731
    assert not feed.apply_held(snapshot(v0))  # nothing held yet
    assert feed.apply("V0", snapshot(v0)) and feed.sides == {"V0": 3} and feed.batches == 1
    feed.displaced.add("V0")
    assert feed.apply_held(OrderBookDeltas(v0, [OrderBookDelta.clear(v0, 0, 2, 2)]))  # held: V0's book, now empty
    assert feed.sides == {"V0": 0} and "V0" not in feed.displaced and feed.batches == 2 and router.book("V0") is None
    assert not feed.apply_held(snapshot(v1)) and not feed.apply_held(snapshot(other))  # no venue holds them
    assert feed.apply("V1", snapshot(v1)) and feed.apply_held(snapshot(v1)) and feed.sides["V1"] == 3
    assert feed.levels("V0") == ([], []) and router.book("V1") is not None
    feed.displaced.add("V1")
    feed.forget("V1")
    assert "V1" not in feed.sides and "V1" not in feed.displaced and router.book("V1") is None
    assert not feed.apply_held(snapshot(v1)) and feed.batches == 4
