"""The reference API inside real Nautilus BacktestEngines, with the Rust core doing the work."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.model.enums import OmsType, OrderSide, OrderStatus
from nautilus_trader.model.identifiers import InstrumentId, Venue
from nautilus_trader.model.objects import Quantity

from nautilus_env import NS, START, btcusdt, engine, quotes, trades
from nautilus_sor.execution_algorithms import TWAPExecAlgorithm, TWAPExecAlgorithmConfig
from nautilus_sor.strategy import MultiVenueStrategy, SmartRoutingStrategyConfig
from nautilus_sor.units import qty_to_units

VENUES = [
    {"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0004, "latency_ms": 5},
    {"name": "BYBIT", "maker_fee": 0.0001, "taker_fee": 0.0004, "latency_ms": 5},
]


class OneParent(MultiVenueStrategy):
    """Sends one parent order at t = 1 s."""

    def __init__(self, config, side=OrderSide.BUY, quantity="2.000"):
        super().__init__(config)
        self.side = side
        self.quantity = Quantity.from_str(quantity)
        self.parents = []

    def on_start(self) -> None:
        super().on_start()
        self.clock.set_time_alert_ns("go", START + 1 * NS, lambda e: self.parents.extend(self.execute_order(self.side, self.quantity)))


def run_twap(oms: OmsType, a_size="0.150", b_size="5.000", duration=10, interval=1):
    a, b = btcusdt("BINANCE"), btcusdt("BYBIT")
    mids = [100.0 + 0.01 * i for i in range(40)]
    data = quotes(a, mids, 0.05, a_size, START) + quotes(b, [m + 0.02 for m in mids], 0.05, b_size, START)
    eng = engine({"BINANCE": oms, "BYBIT": oms}, [a, b], data)
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=duration, interval_seconds=interval,
                                                     use_smart_routing=True, venues=VENUES))
    eng.add_exec_algorithm(algo)
    venues = [{**v, "oms_type": oms.name} for v in VENUES]
    strategy = OneParent(SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", use_smart_routing=True, venues=venues,
                                                    execution_algorithm={"type": "TWAP"}, oms_type=oms.name))
    eng.add_strategy(strategy)
    eng.run()
    return eng, strategy, algo


@pytest.mark.parametrize("oms", [OmsType.NETTING, OmsType.HEDGING])
def test_twap_over_two_venues_with_smart_routing(oms):
    eng, strategy, algo = run_twap(oms)
    cache = eng.cache
    primary = strategy.parents[0]
    parent = algo.parents[primary.client_order_id]
    # Conservation: everything requested was filled; nothing lost or left working.
    assert (parent.requested, parent.filled, parent.working, parent.pending, parent.abandoned) == (2_000_000_000, 2_000_000_000, 0, 0, 0)
    children = [o for o in cache.orders() if o.client_order_id.value.startswith(primary.client_order_id.value)]
    by_venue = {}
    for order in children:
        if order.status == OrderStatus.FILLED:
            by_venue.setdefault(order.instrument_id.venue.value, Decimal(0))
            by_venue[order.instrument_id.venue.value] += order.filled_qty.as_decimal()
    # BINANCE is cheaper but shows only 0.150 per slice of 0.200: the router splits every slice.
    assert by_venue == {"BINANCE": Decimal("1.500"), "BYBIT": Decimal("0.500")}
    # Every fill is booked to its own venue's position, and Nautilus agrees with the core's book.
    for venue, qty in by_venue.items():
        iid = InstrumentId.from_str(f"BTCUSDT.{venue}")
        positions = cache.positions(instrument_id=iid)
        assert sum(p.quantity.as_decimal() for p in positions if p.is_open) == qty
        assert strategy.book.net_units(venue, iid.value) == qty_to_units(Quantity.from_str(str(qty))) // 10**6
    assert strategy.net_exposure("BTC") == pytest.approx(2.0)
    # One position per venue for the parent (HEDGING too: its children share it, tests/test_spawn_accounting.py).
    assert len(cache.positions()) == 2
