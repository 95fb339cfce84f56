"""The router's per-instrument plan in the core (`_core.RoutePlan`): a venue's terms are re-read when the
cache hands another instrument object, and only then; a bad one is refused with nothing half-applied; the
lean call's pairs follow the terms (and are the same values `route_order` returns)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.enums import BookType, OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import Price, Quantity

from nautilus_sor.backtest.synthetic import SyntheticVenue, make_instrument
from nautilus_sor.exceptions import ValidationError
from nautilus_sor.smart_router import SmartOrderRouter

VENUES = [SyntheticVenue(f"V{i}", maker_fee=0.0, taker_fee=0.0001 * (1 + i), latency_ms=1.0 + 30 * i) for i in range(3)]


def with_size_precision(instrument: CurrencyPair, precision: int) -> CurrencyPair:
    """The same pair with size increment and minimum 10**-precision."""
    d = CurrencyPair.to_dict(instrument)
    step = str(Decimal(1).scaleb(-precision))
    d.update(size_precision=precision, size_increment=step, min_quantity=step)
    return CurrencyPair.from_dict(d)


class Cache:
    def __init__(self) -> None:
        self.instruments = {v.name: make_instrument(v) for v in VENUES}
        self.books: dict[InstrumentId, OrderBook] = {}
        for i, instrument in self.instruments.items():
            book = OrderBook(instrument.id, BookType.L2_MBP)
            for side, cents in ((OrderSide.BUY, 5_999_900), (OrderSide.SELL, 6_000_100)):
                for k in range(5):
                    price = cents - 100 * k if side == OrderSide.BUY else cents + 100 * k
                    book.add(BookOrder(side, Price(price / 100, 2), Quantity(0.4, 3), price), 0, 0)
            self.books[instrument.id] = book

    def instrument(self, instrument_id):
        return self.instruments.get(instrument_id.venue.value)

    def order_book(self, instrument_id):
        return self.books.get(instrument_id)

    def quote_tick(self, instrument_id):
        return None


def lean_and_full(router: SmartOrderRouter, qty: Quantity) -> tuple[list, list]:
    iid = InstrumentId.from_str("BTCUSDT.V0")
    lean = router.route_quantities(iid, OrderSide.BUY, qty, 3)
    full = [(a.instrument_id, a.quantity) for a in router.route_order(iid, OrderSide.BUY, qty, 3)]
    return lean, full


def test_terms_follow_a_new_instrument_object_and_the_pairs_with_them():
    cache = Cache()
    router = SmartOrderRouter([v.terms() for v in VENUES], cache=cache)
    qty = Quantity.from_str("1.0000")
    lean, full = lean_and_full(router, qty)
    assert lean == full and sum(q.as_double() for _, q in lean) == 1.0
    assert {q.precision for _, q in lean} == {3}
    assert router.route_quantities(InstrumentId.from_str("BTCUSDT.V0"), OrderSide.BUY, qty, 3) == lean  # same again
    # The cache now holds another instrument object for every venue: size precision 4.
    for name in list(cache.instruments):
        cache.instruments[name] = with_size_precision(cache.instruments[name], 4)
    assert {spec.lot_size for spec in router.core.venues} == {10**6}
    lean, full = lean_and_full(router, qty)
    assert lean == full
    assert {q.precision for _, q in lean} == {4}
    assert {spec.lot_size for spec in router.core.venues} == {10**5}


def test_a_bad_instrument_is_refused_and_changes_nothing():
    cache = Cache()
    router = SmartOrderRouter([v.terms() for v in VENUES], cache=cache)
    qty = Quantity.from_str("1.000")
    before = lean_and_full(router, qty)
    good = cache.instruments["V2"]
    cache.instruments["V1"] = with_size_precision(cache.instruments["V1"], 4)  # fine on its own
    cache.instruments["V2"] = with_size_precision(good, 10)  # finer than the router's units
    with pytest.raises(ValidationError) as err:
        router.route_quantities(InstrumentId.from_str("BTCUSDT.V0"), OrderSide.BUY, qty, 3)
    assert err.value.field == "size_increment"
    assert {spec.lot_size for spec in router.core.venues} == {10**6}  # V1's new lot was not applied either
    cache.instruments["V1"], cache.instruments["V2"] = make_instrument(VENUES[1]), good  # V1: a new object, the old terms
    assert lean_and_full(router, qty) == before


def test_a_quantity_a_venue_precision_cannot_hold_is_refused_by_both_calls():
    """A venue whose configured lot is finer than its instrument's size precision: the split may give it a
    quantity Nautilus cannot express at that precision; both calls say so, naming the units."""
    cache = Cache()
    configs = [v.terms() for v in VENUES]
    configs[0].update(lot_size="0.0001", min_quantity="0.0001")  # finer than the instrument's 0.001
    router = SmartOrderRouter(configs, cache=cache)
    qty = Quantity.from_str("0.0001")
    iid = InstrumentId.from_str("BTCUSDT.V0")
    for call in (router.route_quantities, router.route_order):
        with pytest.raises(ValidationError) as err:
            call(iid, OrderSide.BUY, qty, 1)
        assert err.value.field == "quantity" and err.value.value == str(10**5)
