"""Execution algorithms carry a sub-lot rest forward instead of paying a fine-lot venue's fee
(docs/architecture.md, "Execution algorithms"; the evaluation simulator's rule, docs/evaluation.md).

Two venues quote the same prices: FINE (lot 0.001, taker 10 bps) and COARSE (lot 0.01, taker 2 bps).
A TWAP of 0.053 BTC in 4 slices (lot 0.001 on FINE, the primary's venue) is 0.014, 0.013, 0.013, 0.013.
Routed exactly, every slice pays FINE's fee for its odd rest: COARSE 0.010 + FINE 0.004, then
COARSE 0.010 + FINE 0.003 three times (FINE 0.013 in all). Carrying the rests (hand-checked):

    slice 1: 14 lots -> COARSE 10, carry 4          slice 3: 13 + 7 = 20 -> COARSE 20
    slice 2: 13 + 4 = 17 -> COARSE 10, carry 7      slice 4 (last): 13 exact -> COARSE 10 + FINE 3

i.e. COARSE 0.050 and only the last slice's 0.003 on FINE.
"""

from __future__ import annotations

import pytest
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.model.orders.unpacker import OrderUnpacker

from nautilus_env import NS, START, btcusdt, quotes
from nautilus_sor.exceptions import ValidationError
from nautilus_sor.execution_algorithms import (
    ShortfallExecAlgorithm,
    ShortfallExecAlgorithmConfig,
    TWAPExecAlgorithm,
    TWAPExecAlgorithmConfig,
    VWAPExecAlgorithm,
    VWAPExecAlgorithmConfig,
)
from nautilus_sor.execution_algorithms.state import STATE_KEY, decode_state
from nautilus_sor.smart_router import SmartOrderRouter
from nautilus_sor.strategy import MultiVenueStrategy, SmartRoutingStrategyConfig
from nautilus_sor.units import qty_to_units
from test_faults import MS, make_engine, pd_ts

LOT = 10**6  # units in 0.001 BTC, FINE's lot (COARSE's is 10 of them)
SECONDS = 10
PRIMARY = "BTCUSDT.FINE"


def venues(fine_fee: float, coarse_fee: float) -> list[dict]:
    return [
        {"name": "FINE", "maker_fee": 0.0, "taker_fee": fine_fee},
        {"name": "COARSE", "maker_fee": 0.0, "taker_fee": coarse_fee},
    ]


def market(fine_fee: str, coarse_fee: str, from_ns: int = 0) -> tuple[list, list]:
    fine = btcusdt("FINE", taker_fee=fine_fee, size_precision=3)
    coarse = btcusdt("COARSE", taker_fee=coarse_fee, size_precision=2)
    mids = [100.0] * SECONDS  # the same flat quotes on both venues: fees decide
    data = quotes(fine, mids, 0.05, "10.000", START) + quotes(coarse, mids, 0.05, "10.00", START)
    return [fine, coarse], [q for q in data if q.ts_event >= from_ns]


class Buyer(MultiVenueStrategy):
    """Buys `quantity` through the TWAP at START + 1 s (submit=False: the restarted node's strategy)."""

    def __init__(self, config, submit: bool = True, quantity: str = "0.053") -> None:
        super().__init__(config)
        self.submit = submit
        self.quantity = Quantity.from_str(quantity)
        self.primaries: list = []

    def on_start(self) -> None:
        super().on_start()
        if self.submit:
            self.clock.set_time_alert_ns("go", START + NS, lambda e: self.primaries.extend(self.execute_order(OrderSide.BUY, self.quantity)))


def twap(smart: bool, fees: tuple[float, float], kind: str = "TWAP"):
    """The TWAP of 4 slices; or a VWAP on a flat profile / an IS at zero risk aversion: the same slices."""
    common = dict(duration_seconds=4, interval_seconds=1, use_smart_routing=smart, venues=venues(*fees) if smart else None)
    if kind == "VWAP":
        return VWAPExecAlgorithm(VWAPExecAlgorithmConfig(volume_profile={h: 1.0 for h in range(24)}, **common))
    if kind == "IS":
        return ShortfallExecAlgorithm(ShortfallExecAlgorithmConfig(risk_aversion=0.0, **common))
    return TWAPExecAlgorithm(TWAPExecAlgorithmConfig(**common))


def buyer(smart: bool, fees: tuple[float, float], submit: bool = True, quantity: str = "0.053", kind: str = "TWAP") -> Buyer:
    config = SmartRoutingStrategyConfig(instrument_id=PRIMARY, use_smart_routing=smart, venues=venues(*fees) if smart else [],
                                        execution_algorithm={"type": kind})
    return Buyer(config, submit, quantity)


def run(smart: bool = True, fine_fee: str = "0.0010", coarse_fee: str = "0.0002", quantity: str = "0.053", kind: str = "TWAP"):
    fees = (float(fine_fee), float(coarse_fee))
    insts, data = market(fine_fee, coarse_fee)
    eng = make_engine(insts, data)
    algo = twap(smart, fees, kind)
    eng.add_exec_algorithm(algo)
    eng.add_strategy(buyer(smart, fees, quantity=quantity, kind=kind))
    eng.run()
    return eng, algo


def sent(orders) -> list[tuple[int, str, int]]:
    """(seconds after START, venue, lots) of every order that filled (children, and the primary when it was
    sent), at its last event: a market IOC fills when it is sent (the primary's own ts_init is its creation)."""
    return sorted(((o.ts_last - START) // NS, o.instrument_id.venue.value, qty_to_units(o.quantity) // LOT) for o in orders if o.filled_qty.as_double() > 0)


def filled_lots(orders) -> dict[str, int]:
    out: dict[str, int] = {}
    for o in orders:
        if o.filled_qty.as_double() > 0:
            out[o.instrument_id.venue.value] = out.get(o.instrument_id.venue.value, 0) + qty_to_units(o.filled_qty) // LOT
    return out


def ours(eng, algo) -> list:
    return [o for o in eng.cache.orders() if o.exec_algorithm_id == algo.id]


CARRIED = [(1, "COARSE", 10), (2, "COARSE", 10), (3, "COARSE", 20), (4, "COARSE", 10), (4, "FINE", 3)]


@pytest.mark.parametrize("kind", ["TWAP", "VWAP", "IS"])
def test_twap_carries_sub_lot_rests_to_the_coarse_lot_venue_and_only_the_last_rest_goes_to_the_fine_lot_venue(kind):
    eng, algo = run(kind=kind)
    (parent,) = algo.parents.values()
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (53 * LOT, 0, 0, 0)
    assert sent(ours(eng, algo)) == CARRIED
    assert filled_lots(ours(eng, algo)) == {"COARSE": 50, "FINE": 3}
    # The last slice's FINE rest is the primary itself (sent on its own instrument, quantity reduced).
    primary = eng.cache.order(parent.primary_id)
    assert (primary.instrument_id.venue.value, qty_to_units(primary.filled_qty)) == ("FINE", 3 * LOT)
    # The plan kept for reports is the schedule, not what the carry made of it.
    assert [round(q * 1000) for _, q in algo.planned[parent.primary_id.value]] == [14, 13, 13, 13]


def test_slices_smaller_than_a_coarse_lot_are_carried_whole_until_they_make_one():
    """0.013 in 4 slices: 4, 3, 3, 3 lots. 4 and 4 + 3 = 7 are carried whole (below COARSE's lot of 10);
    7 + 3 = 10 goes to COARSE; the last slice's 3 to FINE (routed exactly, as every last slice)."""
    eng, algo = run(quantity="0.013")
    (parent,) = algo.parents.values()
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (13 * LOT, 0, 0, 0)
    assert sent(ours(eng, algo)) == [(3, "COARSE", 10), (4, "FINE", 3)]
    assert parent.retries == 0  # a carry is not a failure: no catch-up slice, no retry spent


def test_exact_routing_of_a_slice_would_pay_the_fine_lot_fee_for_its_rest():
    """What the carry avoids: the router's exact split of a 13-lot slice puts 3 lots on FINE."""
    eng, algo = run()
    split = algo.router.route_order(InstrumentId.from_str(PRIMARY), OrderSide.BUY, Quantity.from_str("0.013"), 3)
    assert {a.venue.value: qty_to_units(a.quantity) // LOT for a in split} == {"COARSE": 10, "FINE": 3}


def test_without_smart_routing_every_slice_goes_as_scheduled():
    eng, algo = run(smart=False)
    (parent,) = algo.parents.values()
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (53 * LOT, 0, 0, 0)
    assert sent(ours(eng, algo)) == [(1, "FINE", 14), (2, "FINE", 13), (3, "FINE", 13), (4, "FINE", 13)]


def test_no_carry_when_the_fine_lot_venue_is_the_cheapest():
    eng, algo = run(fine_fee="0.0002", coarse_fee="0.0010")
    (parent,) = algo.parents.values()
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (53 * LOT, 0, 0, 0)
    assert sent(ours(eng, algo)) == [(1, "FINE", 14), (2, "FINE", 13), (3, "FINE", 13), (4, "FINE", 13)]


class Checked(TWAPExecAlgorithm):
    """Records its bookkeeping at every order event and after every slice (Nautilus logs, and swallows,
    an exception raised in an algorithm's handler: the test asserts on the records)."""

    def __init__(self, config) -> None:
        super().__init__(config)
        self.events: list[tuple[int, int, int, int, int]] = []  # (requested, filled, working, pending, abandoned)
        self.after_slices: list[tuple[int, int, list[int]]] = []  # (pending, returned, slice quantities)

    def on_order_event(self, event) -> None:
        super().on_order_event(event)
        for p in self.parents.values():
            self.events.append((p.requested, p.filled, p.working, p.pending, p.abandoned))

    def _fire_due(self, parent) -> None:
        super()._fire_due(parent)
        self.after_slices.append((parent.pending, parent.returned, [q for _, q in parent.slices]))


def test_conservation_holds_at_every_event_while_carrying():
    insts, data = market("0.0010", "0.0002")
    eng = make_engine(insts, data)
    fees = (0.0010, 0.0002)
    algo = Checked(TWAPExecAlgorithmConfig(duration_seconds=4, interval_seconds=1, use_smart_routing=True, venues=venues(*fees)))
    eng.add_exec_algorithm(algo)
    eng.add_strategy(buyer(True, fees))
    eng.run()
    assert sent(ours(eng, algo)) == CARRIED
    assert algo.events and all(requested == filled + working + pending + abandoned for requested, filled, working, pending, abandoned in algo.events)
    # Between slices every pending unit is in a slice (what a restart saves: slices + returned == pending),
    # the carried rest inside the next one.
    assert [(pending // LOT, returned, [q // LOT for q in qs]) for pending, returned, qs in algo.after_slices] == [
        (43, 0, [17, 13, 13]),
        (33, 0, [20, 13]),
        (13, 0, [13]),
        (0, 0, []),
    ]


# -- a restart while a rest is carried ------------------------------------------------------------


def copy_order(order):
    copy = OrderUnpacker.from_init(order.init_event)
    for event in order.events[1:]:
        copy.apply(event)
    return copy


def test_restart_mid_carry_saves_the_rest_with_the_next_slice_and_finishes_the_same():
    fees = (0.0010, 0.0002)
    stop, restart = START + 2 * NS + 500 * MS, START + 2 * NS + 700 * MS
    insts, data = market("0.0010", "0.0002")
    first = make_engine(insts, data)
    algo1 = twap(True, fees)
    first.add_exec_algorithm(algo1)
    first.add_strategy(buyer(True, fees))
    first.run(end=pd_ts(stop))
    saved = algo1.save()
    # After slice 1 (14 lots: 10 to COARSE, 4 carried): the 4 lots are saved inside the next slice.
    (record,) = decode_state(saved[STATE_KEY]).parents
    assert [q // LOT for _, q in record.slices] == [17, 13, 13]
    assert (record.pending // LOT, record.returned, record.held, record.filled // LOT) == (43, 0, 0, 10)

    insts, data = market("0.0010", "0.0002", from_ns=restart)
    second = make_engine(insts, data)
    for order in first.cache.orders():
        second.cache.add_order(copy_order(order), None)
    algo2 = twap(True, fees)
    second.add_exec_algorithm(algo2)
    second.add_strategy(buyer(True, fees, submit=False))
    algo2.load(saved)
    second.run()
    (parent,) = algo2.parents.values()
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (53 * LOT, 0, 0, 0)
    # Slice 2 (17 lots with the carried 4) was due while down: sent at the restart (merged), it carries 7 on
    # to slice 3 exactly as the uninterrupted run does; only the timing of its child differs.
    assert sent(ours(second, algo2)) == [(1, "COARSE", 10), (3, "COARSE", 10), (3, "COARSE", 20), (4, "COARSE", 10), (4, "FINE", 3)]
    assert filled_lots(ours(second, algo2)) == {"COARSE": 50, "FINE": 3}
    assert algo2.reconciliation.orphans == [] and algo2.reconciliation.missed_slices == 1


# -- the router's decision on its own (no books: fees decide, lots from the venue config) ----------------


def router(fine_fee: float, coarse_fee: float, *, coarse_enabled: bool = True) -> SmartOrderRouter:
    return SmartOrderRouter([
        {"name": "FINE", "maker_fee": 0.0, "taker_fee": fine_fee, "lot_size": "0.001"},
        {"name": "COARSE", "maker_fee": 0.0, "taker_fee": coarse_fee, "lot_size": "0.01", "enabled": coarse_enabled},
    ])


IID = InstrumentId.from_str(PRIMARY)


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        ("0.014", ("0.010", 1)),  # 4 lots carried
        ("0.020", ("0.020", 1)),  # whole coarse lots: nothing carried
        ("0.004", ("0.000", 3)),  # below a coarse lot: all carried
        ("0.010", ("0.010", 1)),
    ],
)
def test_lot_rounding_keeps_back_a_rest_only_the_fine_lot_venue_could_take(quantity, expected):
    now, max_venues = router(0.0010, 0.0002).lot_rounding(IID, OrderSide.BUY, Quantity.from_str(quantity), 3)
    assert (str(now), max_venues) == expected


def test_lot_rounding_changes_nothing_when_the_fine_lot_venue_is_cheapest_or_the_only_routable_one():
    assert router(0.0002, 0.0010).lot_rounding(IID, OrderSide.SELL, Quantity.from_str("0.014"), 3) == (Quantity.from_str("0.014"), 1)
    # COARSE disabled: one lot size left, so the quantity and max_venues come back as given.
    assert router(0.0010, 0.0002, coarse_enabled=False).lot_rounding(IID, OrderSide.BUY, Quantity.from_str("0.014"), 2) == (Quantity.from_str("0.014"), 2)


def test_lot_rounding_routes_a_rest_that_is_not_dearer_than_a_whole_coarse_lot():
    """Equal fees: a FINE rest costs what a COARSE lot does, so carrying it gains nothing."""
    now, _ = router(0.0005, 0.0005).lot_rounding(IID, OrderSide.BUY, Quantity.from_str("0.014"), 3)
    assert now == Quantity.from_str("0.014")


@pytest.mark.parametrize(("kwargs", "field"), [({"max_venues": 0}, "max_venues"), ({"max_venues": True}, "max_venues"),
                                               ({"price": Price.from_str("-1.00")}, "price"), ({"side": 7}, "side")])
def test_lot_rounding_bad_input_is_a_typed_error_naming_the_field(kwargs, field):
    args = {"instrument_id": IID, "side": OrderSide.BUY, "quantity": Quantity.from_str("0.014"), "max_venues": 3, **kwargs}
    with pytest.raises(ValidationError) as err:
        router(0.0010, 0.0002).lot_rounding(**args)
    assert err.value.field == field
