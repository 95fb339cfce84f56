"""Every example of the reference (spec/oms_quick_reference.md), unchanged but for `backend.` ->
`nautilus_sor.`, running for real: the router on its own, the algorithms and patterns inside
BacktestEngines."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_trader.model.enums import OmsType, OrderSide, OrderStatus, OrderType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price, Quantity

from nautilus_env import NS, START, btcusdt, engine, quotes
from nautilus_sor.strategy import MultiVenueStrategy, SmartRoutingStrategyConfig


def test_smart_router_usage():
    from nautilus_sor.smart_router import SmartOrderRouter

    instrument_id = InstrumentId.from_str("BTCUSDT-PERP.BINANCE-FUTURES")

    # Initialize router
    venues = [
        {"name": "BINANCE-FUTURES", "maker_fee": 0.0002, "taker_fee": 0.0004},
        {"name": "DERIBIT", "maker_fee": 0.0001, "taker_fee": 0.0003},
    ]
    router = SmartOrderRouter(venues)

    # Select best venue
    venue = router.select_venue(
        instrument_id=instrument_id,
        side=OrderSide.BUY,
        quantity=Quantity.from_str("1.0"),
        price=Price.from_str("50000.0"),
    )

    # Route large order across venues
    allocations = router.route_order(
        instrument_id=instrument_id,
        side=OrderSide.BUY,
        total_quantity=Quantity.from_str("10.0"),
        max_venues=3,
    )

    # Without books, fees decide: DERIBIT is 1 bp cheaper and takes everything.
    assert venue.venue.value == "DERIBIT"
    assert venue.instrument_id == InstrumentId.from_str("BTCUSDT-PERP.DERIBIT")
    assert venue.expected_price == 50000.0 and venue.fee == pytest.approx(15.0)
    assert [(a.venue.value, a.quantity) for a in allocations] == [("DERIBIT", Quantity.from_str("10.0"))]
    assert "fee 3.00 bps" in allocations[0].reason


class Scripted(MultiVenueStrategy):
    """Runs `script(strategy)` at START + 1 s, and `on_fill(strategy, event)` on fills."""

    def __init__(self, config, script, on_fill=None):
        super().__init__(config)
        self.script = script
        self.fill_hook = on_fill
        self.result = None

    def on_start(self) -> None:
        super().on_start()
        self.clock.set_time_alert_ns("script", START + NS, lambda e: setattr(self, "result", self.script(self)))

    def on_order_filled(self, event) -> None:
        if self.fill_hook is not None:
            self.fill_hook(self, event)


def market(oms=OmsType.NETTING, size="5.000", seconds=4000, mids=None):
    instrument = btcusdt("BINANCE")
    mids = mids or [100.0 + 0.01 * (i % 7) for i in range(seconds)]
    eng = engine({"BINANCE": oms}, [instrument], quotes(instrument, mids, 0.05, size, START))
    return eng, instrument


def run(script, exec_algorithm=None, on_fill=None, execution_algorithm=None, **market_kwargs):
    eng, instrument = market(**market_kwargs)
    if exec_algorithm is not None:
        eng.add_exec_algorithm(exec_algorithm)
    config = SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", execution_algorithm=execution_algorithm)
    strategy = Scripted(config, script, on_fill)
    eng.add_strategy(strategy)
    eng.run()
    return eng, strategy, instrument


def test_twap_execution():
    from nautilus_sor.execution_algorithms import TWAPExecAlgorithm, TWAPExecAlgorithmConfig

    config = TWAPExecAlgorithmConfig(
        duration_seconds=3600,  # 1 hour
        interval_seconds=60,  # 1 minute intervals
    )
    algorithm = TWAPExecAlgorithm(config)
    instrument_id = InstrumentId.from_str("BTCUSDT.BINANCE")

    def script(strategy):
        return algorithm.execute(
            instrument_id=instrument_id,
            side=OrderSide.BUY,
            quantity=Quantity.from_str("10.0"),
            price=Price.from_str("101.00"),
        )

    eng, strategy, _ = run(script, algorithm, execution_algorithm={"type": "TWAP"})
    primary = strategy.result
    assert primary.order_type == OrderType.LIMIT and primary.exec_algorithm_id.value == "TWAP"
    parent = algorithm.parents[primary.client_order_id]
    assert (parent.requested, parent.filled, parent.working, parent.pending) == (10 * 10**9, 10 * 10**9, 0, 0)
    fills = sorted((o.ts_last, o.filled_qty) for o in eng.cache.orders() if o.status == OrderStatus.FILLED)
    assert len(fills) == 60 and all(q == Quantity.from_str("0.167") or q == Quantity.from_str("0.166") for _, q in fills)
    # One child a minute, from the order's arrival.
    assert fills[-1][0] - fills[0][0] == 59 * 60 * NS
    assert eng.cache.positions_open()[0].quantity == Quantity.from_str("10.000")
    # The primary's quantity was kept equal to what was unsent; it went out as the last slice.
    assert primary.status == OrderStatus.FILLED and primary.quantity == fills[-1][1]
    assert eng.cache.order(primary.client_order_id).ts_last == fills[-1][0]


def test_vwap_execution():
    from nautilus_sor.execution_algorithms import VWAPExecAlgorithm, VWAPExecAlgorithmConfig

    volume_profile = {
        0: 0.05,  # 5% of volume at midnight
        9: 0.15,  # 15% at 9 AM
        15: 0.20,  # 20% at 3 PM
        # ... etc
    }

    config = VWAPExecAlgorithmConfig(
        duration_seconds=3600,
        volume_profile=volume_profile,
    )
    algorithm = VWAPExecAlgorithm(config)

    def script(strategy):
        return strategy.execute_order(OrderSide.SELL, Quantity.from_str("3.000"))

    eng, strategy, _ = run(script, algorithm, execution_algorithm={"type": "VWAP"})
    parent = algorithm.parents[strategy.result[0].client_order_id]
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (3 * 10**9, 0, 0, 0)
    # The order's hour (00:00 UTC) is the only one of the window: equal minute slices within it.
    assert eng.cache.positions_open()[0].signed_qty == -3.0


def test_aggressive_buy_pattern():
    from nautilus_sor.execution_algorithms import AggressiveBuyPattern

    def script(strategy):
        order_factory, submit_order = strategy.order_factory, strategy.submit_order
        instrument_id, quantity = strategy.instrument_id, Quantity.from_str("1.500")

        pattern = AggressiveBuyPattern(order_factory)
        order = pattern.execute(instrument_id, quantity)
        submit_order(order)
        return order

    eng, strategy, _ = run(script)
    assert strategy.result.order_type == OrderType.MARKET
    assert strategy.result.time_in_force.name == "IOC"  # a market order's rest does not rest (patterns.py)
    assert strategy.result.status == OrderStatus.FILLED
    assert eng.cache.positions_open()[0].quantity == Quantity.from_str("1.500")


def test_passive_buy_pattern_joins_the_bid():
    from nautilus_sor.execution_algorithms import PassiveBuyPattern

    def script(strategy):
        order_factory, cache, submit_order = strategy.order_factory, strategy.cache, strategy.submit_order
        instrument_id, quantity = strategy.instrument_id, Quantity.from_str("1.000")

        pattern = PassiveBuyPattern(order_factory, cache)
        order = pattern.execute(instrument_id, quantity)
        submit_order(order)
        return order

    eng, strategy, _ = run(script)
    order = strategy.result
    # At START + 1 s the mid is 100.01: the bid is 99.96, below every ask, so it rests.
    assert order.order_type == OrderType.LIMIT and order.is_post_only
    assert order.price == Price.from_str("99.96")
    assert order.status == OrderStatus.ACCEPTED


def test_iceberg_buy_pattern_replenishes_until_done():
    from nautilus_sor.execution_algorithms import IcebergBuyPattern

    state = {}

    def script(strategy):
        order_factory, submit_order = strategy.order_factory, strategy.submit_order
        instrument_id, total_quantity = strategy.instrument_id, Quantity.from_str("1.000")

        pattern = IcebergBuyPattern(order_factory, visible_pct=0.1)
        result = pattern.execute(instrument_id, total_quantity)
        submit_order(result["visible_order"])
        # When visible order fills, submit next chunk
        state["pattern"] = pattern
        return result

    def on_fill(strategy, event):
        bid = strategy.cache.quote_tick(strategy.instrument_id).bid_price  # the touch the next chunk must join
        next_order = state["pattern"].on_fill(event)
        if next_order is not None:
            assert next_order.price == bid
            state.setdefault("bids", []).append(bid)
            strategy.submit_order(next_order)

    # A falling market (0.10 a second, spread 0.10): each chunk rests at the bid and the next quote's ask
    # comes down to it.
    eng, strategy, _ = run(script, on_fill=on_fill, mids=[100.0 - 0.1 * i for i in range(60)])
    result = strategy.result
    assert result["visible_quantity"] == Quantity.from_str("0.100")
    assert result["remaining_quantity"] == Quantity.from_str("0.900")  # hidden: the total less the visible chunk
    assert result["total_quantity"] == Quantity.from_str("1.000")
    assert state["pattern"].is_done and state["pattern"].remaining_quantity == Quantity.from_str("0.000")
    chunks = sorted(eng.cache.orders(), key=lambda o: o.ts_init)
    assert len(chunks) == 10 and all(o.status == OrderStatus.FILLED and o.quantity == Quantity.from_str("0.100") for o in chunks)
    # Limit chunks at the touch read from the cache when each was made (the first: the bid at 1 s).
    assert all(o.order_type == OrderType.LIMIT and o.time_in_force.name == "GTC" for o in chunks)
    assert [o.price for o in chunks] == [Price.from_str("99.85"), *state["bids"]]
    assert len(set(state["bids"])) >= 4  # the touch moved down with the market and the chunks followed it


def test_strategy_config_and_multi_venue_strategy():
    # Example 1's strategy block, verbatim, as the strategy config.
    example = {
        "name": "MultiVenueStrategy",
        "use_smart_routing": True,
        "venues": [
            {"name": "BINANCE-FUTURES", "maker_fee": 0.0002, "taker_fee": 0.0004, "latency_ms": 50},
            {"name": "DERIBIT", "maker_fee": 0.0001, "taker_fee": 0.0003, "latency_ms": 80},
        ],
    }
    config = SmartRoutingStrategyConfig(
        instrument_id="BTCUSDT-PERP.BINANCE-FUTURES",
        use_smart_routing=example["use_smart_routing"],
        venues=example["venues"],
        execution_algorithm={"type": "TWAP", "duration_seconds": 3600, "interval_seconds": 60},
    )
    strategy = MultiVenueStrategy(config)
    assert strategy.router is not None
    assert [v.name for v in strategy.router.venues] == ["BINANCE-FUTURES", "DERIBIT"]
    assert strategy.exec_algorithm_id.value == "TWAP"
    assert strategy.exec_algorithm_params == {"duration_seconds": 3600, "interval_seconds": 60}
    assert strategy.venue_instrument_ids() == [
        InstrumentId.from_str("BTCUSDT-PERP.BINANCE-FUTURES"),
        InstrumentId.from_str("BTCUSDT-PERP.DERIBIT"),
    ]
