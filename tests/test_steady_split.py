"""A steady decision in one core call (`RoutePlan.steady_split`, issue 21) gives what the checked path gives:
the same allocations, the same errors, and it steps aside (None, nothing changed) whenever the checked path
has something to do: an argument of another type or out of range, an instrument object the cache replaced,
a venue whose book is not kept from deltas, another set of venues with an empty side."""

from __future__ import annotations

import random

import pytest
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import OrderBookDelta, OrderBookDeltas
from nautilus_trader.model.enums import BookAction, BookType, OrderSide
from nautilus_trader.model.objects import Price, Quantity

from nautilus_sor.backtest.synthetic import SyntheticVenue, make_instrument
from nautilus_sor.smart_router import SmartOrderRouter

VENUES = [SyntheticVenue(f"V{i}", maker_fee=0.0, taker_fee=0.0001 * (1 + i), latency_ms=1.0 + 30 * i) for i in range(4)]


class Cache:
    """The cache calls the router makes, over Nautilus's own books (price precision 2, size precision 3)."""

    def __init__(self) -> None:
        self.instruments = {make_instrument(v).id: make_instrument(v) for v in VENUES}
        self.books = {iid: OrderBook(iid, BookType.L2_MBP) for iid in self.instruments}

    def instrument(self, instrument_id):
        return self.instruments.get(instrument_id)

    def order_book(self, instrument_id):
        return self.books.get(instrument_id)

    def quote_tick(self, instrument_id):
        return None


def batch(rng: random.Random, iid, step: int, mid: int, clear: bool) -> OrderBookDeltas:
    deltas = [OrderBookDelta.clear(iid, step, step, step)] if clear else []
    for _ in range(rng.randint(1, 30)):
        action = rng.choice((BookAction.ADD, BookAction.UPDATE, BookAction.UPDATE, BookAction.DELETE))
        side = rng.choice((OrderSide.BUY, OrderSide.SELL))
        cents = mid - rng.randint(1, 2_000) if side == OrderSide.BUY else mid + rng.randint(1, 2_000)
        lots = 0 if action == BookAction.DELETE else rng.randint(1, 3_000)
        deltas.append(OrderBookDelta.from_raw(iid, action, side, cents * 10**14, 2, lots * 10**13, 3, 0, 0, step, step, step))
    return OrderBookDeltas(iid, deltas)


def outcome(call):
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - both paths must fail the same way
        return (type(exc).__name__, getattr(exc, "field", None), str(exc))


def checked(router: SmartOrderRouter, call):
    """`call` on the checked path: with the plan's lots not marked as the core's, the router prepares first."""
    router._lots_for = None
    return outcome(call)


def test_steady_decisions_equal_the_checked_path_on_random_books_and_arguments():
    cache = Cache()
    ids = list(cache.instruments)
    steady, slow = (SmartOrderRouter([v.terms() for v in VENUES], cache=cache) for _ in range(2))
    rng = random.Random(21)
    mid = {iid: 6_000_000 for iid in ids}
    took_steady = compared = 0
    arguments = [OrderSide.BUY, OrderSide.SELL, True, "BUY", 1]  # sides: the last three are refused
    for step in range(800):
        iid = rng.choice(ids)
        mid[iid] += rng.randint(-300, 300)
        deltas = batch(rng, iid, step, mid[iid], clear=step < len(ids) or rng.random() < 0.03)
        cache.books[iid].apply_deltas(deltas)
        assert steady.on_order_book_deltas(deltas) and slow.on_order_book_deltas(deltas)
        side = rng.choice(arguments[:2] * 8 + arguments[2:])
        # mostly valid arguments, and each way of being refused now and then
        qty = rng.choice([Quantity(rng.choice([1, 7, 500, 2_000, 6_000, 20_000]) / 1000, 3)] * 6
                         + [Quantity(0.5, 1), Quantity(0.0015, 4), Quantity(0, 3), 1.0])
        max_venues = rng.choice([1, 2, 3, 4] * 3 + [0, True, 2**64, 2.0])
        price = rng.choice([None] * 6 + [Price((mid[ids[0]] + rng.randint(-3_000, 3_000)) / 100, 2)] * 3 + [Price(0, 2), 60_000.0])
        plan = steady._plans.get(ids[0])
        if plan is not None and plan is steady._lots_for:
            probe = outcome(lambda: plan.core.steady_split(side, qty, max_venues, price, cache, steady._empty_mask))
            took_steady += isinstance(probe, list)
        for name in ("route_quantities", "route_order"):
            got = outcome(lambda: getattr(steady, name)(ids[0], side, qty, max_venues, price))
            want = checked(slow, lambda: getattr(slow, name)(ids[0], side, qty, max_venues, price))
            if name == "route_order" and isinstance(got, list):
                got, want = ([(a.instrument_id, a.quantity, a.expected_price, a.fee, a.score_bps, a.reason) for a in r] for r in (got, want))
            assert got == want, (step, name, side, qty, max_venues, price)
            compared += isinstance(got, list)
    assert compared > 450, compared
    assert took_steady > 200, f"the steady path was taken {took_steady} times"


def fed_router(seed: int) -> tuple[Cache, list, SmartOrderRouter]:
    """A router whose every venue was handed one batch (a snapshot), as the cache's books were."""
    cache = Cache()
    ids = list(cache.instruments)
    router = SmartOrderRouter([v.terms() for v in VENUES], cache=cache)
    rng = random.Random(seed)
    for step, iid in enumerate(ids):
        deltas = batch(rng, iid, step, 6_000_000, clear=True)
        cache.books[iid].apply_deltas(deltas)
        router.on_order_book_deltas(deltas)
    return cache, ids, router


def test_steady_split_steps_aside_when_the_checked_path_has_work():
    cache, ids, router = fed_router(3)
    qty = Quantity.from_str("1.000")
    router.route_quantities(ids[0], OrderSide.BUY, qty, 3)  # prepares the plan once
    core = router._plans[ids[0]].core
    mask = router._empty_mask

    def steady(side=OrderSide.BUY, quantity=qty, max_venues=3, price=None, empty_mask=mask):
        return core.steady_split(side, quantity, max_venues, price, cache, empty_mask)

    assert steady() == router.route_quantities(ids[0], OrderSide.BUY, qty, 3)
    for refused in (dict(side=True), dict(side=3), dict(side="BUY"), dict(quantity=1.0), dict(quantity=Quantity(0, 3)),
                    dict(quantity=Quantity.from_str("0.0000000001")), dict(max_venues=0), dict(max_venues=True),
                    dict(max_venues=2.0), dict(price=Price(0, 2)), dict(price=60_000.0), dict(empty_mask=mask ^ 1)):
        assert steady(**refused) is None, refused
    # the cache hands another instrument object for a venue: its terms are read again by the checked path
    first = ids[1]
    cache.instruments[first] = make_instrument(VENUES[1])
    assert steady() is None
    router.route_quantities(ids[0], OrderSide.BUY, qty, 3)
    assert steady() is not None
    # a venue whose book the router stops keeping from deltas (the book depth changed): the checked path reloads it
    router.book_depth = 10
    router.route_quantities(ids[0], OrderSide.BUY, qty, 3)
    assert router._plans[ids[0]].core.steady_split(OrderSide.BUY, qty, 3, None, cache, router._empty_mask) is None


@pytest.mark.parametrize("side", [OrderSide.BUY, OrderSide.SELL])
def test_a_venue_with_an_empty_side_is_left_out_on_both_paths(side):
    cache, ids, router = fed_router(8)
    # V2 shows nothing on the side a `side` order takes
    taken = OrderSide.SELL if side == OrderSide.BUY else OrderSide.BUY
    v2 = ids[2]
    empty = OrderBookDeltas(v2, [OrderBookDelta.clear(v2, 99, 99, 99),
                                 OrderBookDelta.from_raw(v2, BookAction.ADD, side, 6_000_000 * 10**14 - (10**16 if side == OrderSide.BUY else -10**16),
                                                         2, 5 * 10**15, 3, 0, 0, 99, 99, 99)])
    cache.books[v2].apply_deltas(empty)
    router.on_order_book_deltas(empty)
    qty = Quantity.from_str("5.000")
    first = router.route_quantities(ids[0], side, qty, 4)  # the checked path sees the change of empty sides
    again = router.route_quantities(ids[0], side, qty, 4)  # the steady path, with the router's new mask
    assert first == again
    assert v2 not in {venue_id for venue_id, _ in again}, f"{v2} shows no {taken.name} side and must get nothing"
    assert sum(q.as_double() for _, q in again) == pytest.approx(5.0)
