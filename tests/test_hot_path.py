"""The router's hot path (issue 10): books read from the cache only where they changed and only as deep as a
decision needs, giving the same decisions as copying every book whole; what it keeps stays bounded."""

from __future__ import annotations

import pickle
import random
from dataclasses import FrozenInstanceError

import pytest
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import BookOrder, QuoteTick
from nautilus_trader.model.enums import BookType, LiquiditySide, OrderSide, OrderType
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import AccountId, ClientOrderId, InstrumentId, PositionId, StrategyId, TradeId, TraderId, VenueOrderId
from nautilus_trader.model.objects import Money, Price, Quantity

from nautilus_sor._core import Router, VenueSpec
from nautilus_sor.backtest.synthetic import SyntheticVenue, make_instrument
from nautilus_sor.smart_router import SmartOrderRouter, VenueAllocation
from nautilus_sor.units import UNIT_DECIMALS

VENUES = [SyntheticVenue(f"V{i}", maker_fee=0.0, taker_fee=0.0001 * (1 + i), latency_ms=1.0 + 30 * i) for i in range(4)]
CONFIGS = [v.terms() for v in VENUES]
INSTRUMENTS = {v.name: make_instrument(v) for v in VENUES}  # BTCUSDT.Vi, size precision 3, price precision 2
STEP = 10 ** (UNIT_DECIMALS - 3)  # units per lot of 0.001


class FakeCache:
    """The three cache calls the router makes, over real Nautilus order books and quotes."""

    def __init__(self) -> None:
        self.books: dict[InstrumentId, OrderBook] = {}
        self.quotes: dict[InstrumentId, QuoteTick] = {}

    def instrument(self, instrument_id):
        return INSTRUMENTS.get(instrument_id.venue.value)

    def order_book(self, instrument_id):
        return self.books.get(instrument_id)

    def quote_tick(self, instrument_id):
        return self.quotes.get(instrument_id)


def iid(venue: str) -> InstrumentId:
    return InstrumentId.from_str(f"BTCUSDT.{venue}")


def random_ladder(rng: random.Random, levels: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(price in cents, size in lots) per side, best first, not crossed."""
    mid = rng.randint(5_999_000, 6_001_000)
    tick = rng.choice([1, 50, 100, 250])
    bid0, ask0 = mid - rng.randint(1, 3) * tick, mid + rng.randint(1, 3) * tick
    bids = [(bid0 - k * tick, rng.randint(1, 3_000)) for k in range(rng.randint(1, levels))]
    asks = [(ask0 + k * tick, rng.randint(1, 3_000)) for k in range(rng.randint(1, levels))]
    return bids, asks


def nautilus_book(venue: str, bids, asks) -> OrderBook:
    book = OrderBook(iid(venue), BookType.L2_MBP)
    for side, levels in ((OrderSide.BUY, bids), (OrderSide.SELL, asks)):
        for cents, lots in levels:
            book.add(BookOrder(side, Price(cents / 100, 2), Quantity(lots / 1000, 3), cents), 0, 0)
    return book


def px(cents: int) -> float:
    return Price(cents / 100, 2).as_double()  # what Nautilus's book gives back


def reference_router(books: dict[str, tuple[list, list]], depth: int) -> Router:
    """The core with every venue's whole book (up to `depth` levels), as the router copied it before."""
    router = Router([VenueSpec(c["name"], c["maker_fee"], c["taker_fee"], c["latency_ms"]) for c in CONFIGS])
    for name, (bids, asks) in books.items():
        router.set_lot(name, STEP, STEP)
        router.set_book(name, [(px(c), q * STEP) for c, q in bids[:depth]], [(px(c), q * STEP) for c, q in asks[:depth]])
    for c in CONFIGS:
        router.set_lot(c["name"], STEP, STEP)
    return router


def test_decisions_equal_copying_every_book_whole():
    """Random books, sides, sizes and book changes: the same allocations as the full-copy reference."""
    rng = random.Random(11)
    cache = FakeCache()
    router = SmartOrderRouter(CONFIGS, cache=cache)
    books: dict[str, tuple[list, list]] = {}
    for name in (c["name"] for c in CONFIGS):
        books[name] = random_ladder(rng, 25)
        cache.books[iid(name)] = nautilus_book(name, *books[name])
    checked = 0
    for step in range(150):
        if rng.random() < 0.5:  # a venue's book changes
            name = rng.choice(list(books))
            books[name] = random_ladder(rng, 25)
            cache.books[iid(name)] = nautilus_book(name, *books[name]) if rng.random() < 0.5 else _mutate(cache.books[iid(name)], books[name])
        side = rng.choice([OrderSide.BUY, OrderSide.SELL])
        lots = rng.choice([1, 7, 500, 2_000, 6_000, 20_000])
        qty = Quantity(lots / 1000, 3)
        reference = reference_router(books, router.book_depth)
        max_venues = rng.choice([1, 2, 4])
        try:
            expected = reference.split(int(side), lots * STEP, max_venues)
        except Exception as exc:  # noqa: BLE001 - the router (and its lean call) must fail the same way
            with pytest.raises(type(exc)):
                router.route_order(iid("V0"), side, qty, max_venues)
            with pytest.raises(type(exc)):
                router.route_quantities(iid("V0"), side, qty, max_venues)
            with pytest.raises(type(exc)):
                router.split_score_bps(iid("V0"), side, qty, max_venues)
            continue
        # The lean call goes first half of the time, so that it is the one reading the changed books.
        lean_first = rng.random() < 0.5
        lean = router.route_quantities(iid("V0"), side, qty, max_venues) if lean_first else None
        got = router.route_order(iid("V0"), side, qty, max_venues)
        if not lean_first:
            lean = router.route_quantities(iid("V0"), side, qty, max_venues)
        assert [(a.venue.value, a.quantity.as_double(), a.expected_price) for a in got] == [
            (q.venue, q.qty / 1e9, q.expected_price) for q in expected.allocations
        ], step
        assert lean == [(a.instrument_id, a.quantity) for a in got], step
        # The estimate of taking now: the split's cost per unit, as the reference computes it.
        assert router.split_score_bps(iid("V0"), side, qty, max_venues) == pytest.approx(expected.score_bps, rel=1e-12, abs=1e-12), step
        assert all(q.precision == 3 for _, q in lean)
        checked += 1
    assert checked > 100


def _mutate(book: OrderBook, ladder: tuple[list, list]) -> OrderBook:
    """The same book object changed in place (as the cache's book is by deltas): clear and refill."""
    book.clear(0, 0)
    for side, levels in ((OrderSide.BUY, ladder[0]), (OrderSide.SELL, ladder[1])):
        for cents, lots in levels:
            book.add(BookOrder(side, Price(cents / 100, 2), Quantity(lots / 1000, 3), cents), 0, 0)
    return book


def test_only_changed_venues_are_reloaded_and_only_as_deep_as_needed():
    cache = FakeCache()
    router = SmartOrderRouter(CONFIGS, cache=cache)
    for i, name in enumerate(c["name"] for c in CONFIGS):
        cache.books[iid(name)] = nautilus_book(name, [(6_000_000 - 100 * k, 1_000) for k in range(20)], [(6_000_100 + 100 * k, 1_000) for k in range(20)])
    small = Quantity.from_str("1.500")  # 2 levels of 1.000 (a power of two of lots: 2,048 lots, 3 levels)
    router.route_order(iid("V0"), OrderSide.BUY, small, 2)
    reloads = router._books.reloads
    assert reloads == 4
    # What the core holds for a buy: the asks as deep as the quantity reaches, and the bid touch only.
    bids, asks = router.core.book("V1")
    assert len(bids) == 1 and 2 <= len(asks) < 20
    router.route_order(iid("V0"), OrderSide.BUY, small, 2)
    assert router._books.reloads == reloads  # nothing changed: nothing read
    cache.books[iid("V2")].update(BookOrder(OrderSide.SELL, Price(60001.00, 2), Quantity(0.5, 3), 6_000_100), 0, 0)
    router.route_order(iid("V0"), OrderSide.BUY, small, 2)
    assert router._books.reloads == reloads + 1  # V2 only
    assert router.core.book("V2")[1][0] == (px(6_000_100), 500 * STEP)
    router.route_order(iid("V0"), OrderSide.BUY, Quantity.from_str("10.000"), 4)
    assert router._books.reloads == reloads + 5  # deeper than what was read: every venue again
    router.route_order(iid("V0"), OrderSide.SELL, small, 2)
    assert router._books.reloads == reloads + 9  # the other side: its bids, every venue
    bids, asks = router.core.book("V1")
    assert len(asks) >= 10 and len(bids) >= 2  # the asks read for the buy are kept: the book did not change
    router.route_order(iid("V0"), OrderSide.BUY, Quantity.from_str("10.000"), 4)
    assert router._books.reloads == reloads + 9


def test_quote_venues_reload_on_a_new_quote_only():
    cache = FakeCache()
    router = SmartOrderRouter(CONFIGS[:2], cache=cache)

    def quote(venue: str, bid: float, ask: float) -> QuoteTick:
        return QuoteTick(iid(venue), Price(bid, 2), Price(ask, 2), Quantity(1, 3), Quantity(2, 3), 0, 0)

    cache.quotes[iid("V0")] = quote("V0", 100.0, 100.5)
    cache.quotes[iid("V1")] = quote("V1", 100.1, 100.2)
    assert router.select_venue(iid("V0"), OrderSide.BUY, Quantity.from_str("1.000")).venue.value == "V1"
    reloads = router._books.reloads
    router.select_venue(iid("V0"), OrderSide.BUY, Quantity.from_str("1.000"))
    assert router._books.reloads == reloads
    cache.quotes[iid("V1")] = quote("V1", 100.1, 101.0)
    assert router.select_venue(iid("V0"), OrderSide.BUY, Quantity.from_str("1.000")).venue.value == "V0"
    assert router._books.reloads == reloads + 1


def test_invalidate_books_after_a_direct_core_change():
    cache = FakeCache()
    router = SmartOrderRouter(CONFIGS[:2], cache=cache)
    for name in ("V0", "V1"):
        cache.books[iid(name)] = nautilus_book(name, [(10_000, 1_000)], [(10_100, 1_000)])
    router.select_venue(iid("V0"), OrderSide.BUY, Quantity.from_str("0.500"))
    router.core.set_book("V0", [(99.0, 10 * STEP)], [(100.5, 10 * STEP)])
    router.invalidate_books("V0")
    router.select_venue(iid("V0"), OrderSide.BUY, Quantity.from_str("0.500"))
    assert router.core.book("V0")[1][0] == (px(10_100), 512 * STEP)  # the cache's book again, as far as 512 lots


def test_allocation_reason_is_written_when_read_and_behaves_like_a_frozen_value():
    cache = FakeCache()
    router = SmartOrderRouter(CONFIGS[:2], cache=cache)
    for name in ("V0", "V1"):
        cache.books[iid(name)] = nautilus_book(name, [(10_000, 1_000)], [(10_100, 1_000)])
    a = router.select_venue(iid("V0"), OrderSide.BUY, Quantity.from_str("0.500"))
    assert a._reason is None
    assert a.reason.startswith("lowest all-in cost: avg 101, fee 1.00 bps")
    b = router.select_venue(iid("V0"), OrderSide.BUY, Quantity.from_str("0.500"))
    assert a == b and hash(a) == hash(b) and a is not b
    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(FrozenInstanceError):
        a.fee = 0.0  # type: ignore[misc]
    explicit = VenueAllocation(a.venue, a.instrument_id, a.quantity, None, 0.0, 0.0, 0.0, 0.0, 1.0, reason="equal split baseline")
    assert explicit.reason == "equal split baseline" and explicit != a
    with pytest.raises(TypeError):
        VenueAllocation(a.venue, a.instrument_id, a.quantity, None, 0.0, 0.0, 0.0, 0.0, 1.0)


def _fill(coid: ClientOrderId, allocation: VenueAllocation, side: OrderSide, k: int) -> OrderFilled:
    return OrderFilled(TraderId("T-001"), StrategyId("S-001"), allocation.instrument_id, coid, VenueOrderId(str(k)), AccountId("V0-001"),
                       TradeId(f"T-{k}"), PositionId("P-1"), side, OrderType.MARKET, allocation.quantity, Price(101.0, 2),
                       INSTRUMENTS["V0"].quote_currency, Money(0.0, INSTRUMENTS["V0"].quote_currency), LiquiditySide.TAKER, UUID4(), k, k)


def test_router_memory_is_bounded_by_open_orders_not_history():
    cache = FakeCache()
    router = SmartOrderRouter(CONFIGS[:2], cache=cache)
    router.max_expected_prices = 50
    for name in ("V0", "V1"):
        cache.books[iid(name)] = nautilus_book(name, [(10_000, 100_000)], [(10_100, 100_000)])
    for k in range(200):
        side = OrderSide.BUY if k % 2 else OrderSide.SELL
        allocation = router.select_venue(iid("V0"), side, Quantity.from_str("0.010"))
        coid = ClientOrderId(f"O-{k}")
        router.track(coid, allocation, side)
        assert len(router._tracked) == 1  # the one open order
        router.on_order_event(_fill(coid, allocation, side, k))
        assert len(router._tracked) == 0  # closed: forgotten
    assert len(router.expected_prices) == 50 and ClientOrderId("O-199") in router.expected_prices
    assert ClientOrderId("O-149") not in router.expected_prices
    assert router.history == [] and not router.record_history  # decision history is opt-in
    # Per instrument and per book change, not per decision: each venue's bids once, asks once.
    assert len(router._plans) == 1 and router._books.reloads == 2 * 2
