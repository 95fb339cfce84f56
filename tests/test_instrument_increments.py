"""Patterns and algorithms put every quantity on the instrument's size increment (price on its tick), as the
venue accepts them, and refuse what would change the order by more than half an increment.

References: Decimal arithmetic written from the rule (nearest multiple, ties to even), and Nautilus's own
matching engine (which rejects a quantity of the wrong precision)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nautilus_trader.model.enums import OmsType, OrderSide, OrderStatus, OrderType
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.trading.strategy import Strategy

from nautilus_env import NS, START, btcusdt, engine, quotes
from nautilus_sor.exceptions import MarketDataError, ValidationError
from nautilus_sor.execution_algorithms import AggressiveBuyPattern, IcebergBuyPattern, IcebergSellPattern, TWAPExecAlgorithm
from nautilus_sor.rounding import bound_price, round_price, round_quantity


class _Instrument:
    """The fields the rounding reads, with any increment (Nautilus's test instruments have 10^-p only)."""

    def __init__(self, size_increment: Quantity, price_increment: Price, min_quantity=None, max_quantity=None) -> None:
        self.id = "X.VENUE"
        self.size_increment, self.size_precision = size_increment, size_increment.precision
        self.price_increment, self.price_precision = price_increment, price_increment.precision
        self.min_quantity, self.max_quantity = min_quantity, max_quantity
        self.min_price = self.max_price = None


increments = st.tuples(st.integers(0, 8), st.integers(1, 50)).map(lambda t: Decimal(t[1]).scaleb(-t[0]))
values = st.decimals(min_value=Decimal("0"), max_value=Decimal("1000"), places=9)


@settings(max_examples=400, deadline=None)
@given(increment=increments, value=values)
def test_quantity_goes_to_the_nearest_increment_or_is_refused(increment, value):
    precision = -increment.as_tuple().exponent
    inst = _Instrument(Quantity(increment, precision), Price(Decimal("0.01"), 2))
    expected = (value / increment).quantize(Decimal(1), rounding=ROUND_HALF_EVEN) * increment
    if value == 0:
        return  # not a Quantity an order can carry (qty_to_units refuses it before any rounding)
    quantity = Quantity(value, 9)
    if expected == 0:
        with pytest.raises(ValidationError) as err:
            round_quantity(inst, quantity)
        assert err.value.field == "quantity" and "rounds to zero" in str(err.value)
        return
    rounded = round_quantity(inst, quantity)
    assert rounded.as_decimal() == expected and rounded.precision == precision
    assert abs(rounded.as_decimal() - value) <= increment / 2


@settings(max_examples=300, deadline=None)
@given(tick=increments, value=st.decimals(min_value=Decimal("0.000000001"), max_value=Decimal("100000"), places=9),
       side=st.sampled_from([OrderSide.BUY, OrderSide.SELL]))
def test_price_goes_to_the_nearest_tick_and_a_bound_to_the_passive_side(tick, value, side):
    precision = -tick.as_tuple().exponent
    inst = _Instrument(Quantity.from_str("0.001"), Price(tick, precision))
    price = Price(value, 9)
    nearest = (value / tick).quantize(Decimal(1), rounding=ROUND_HALF_EVEN) * tick
    assert round_price(inst, price).as_decimal() == nearest
    bound = bound_price(inst, price, side).as_decimal()
    assert bound % tick == 0 and abs(bound - value) < tick
    assert bound <= value if side == OrderSide.BUY else bound >= value  # never through the limit


def test_min_and_max_quantity_are_refused_with_the_field():
    inst = _Instrument(Quantity.from_str("0.001"), Price.from_str("0.01"), Quantity.from_str("0.010"), Quantity.from_str("5.000"))
    assert round_quantity(inst, Quantity.from_str("0.0096")) == Quantity.from_str("0.010")  # within half an increment
    for value, word in (("0.009", "min_quantity"), ("5.001", "max_quantity")):
        with pytest.raises(ValidationError) as err:
            round_quantity(inst, Quantity.from_str(value), "total_quantity")
        assert err.value.field == "total_quantity" and word in str(err.value) and err.value.value == value


class Script(Strategy):
    def __init__(self, script) -> None:
        super().__init__()
        self.script = script
        self.result = None

    def on_start(self) -> None:
        self.clock.set_time_alert_ns("go", START + NS, lambda e: setattr(self, "result", self.script(self)))


def run_on_fine_instrument(script, algorithm=None):
    """BTCUSDT with size precision 6 (as Binance spot), quotes 5 BTC deep."""
    inst = btcusdt("BINANCE", size_precision=6)
    eng = engine({"BINANCE": OmsType.NETTING}, [inst], quotes(inst, [60_000.0 - 10 * i for i in range(120)], 0.5, "5.000000", START))
    if algorithm is not None:
        eng.add_exec_algorithm(algorithm)
    strategy = Script(script)
    eng.add_strategy(strategy)
    eng.run()
    return eng, strategy, inst


def test_aggressive_pattern_quantity_fits_the_instrument_where_a_plain_order_is_rejected():
    def script(s):
        # As the reference writes it, with the reference's Quantity.from_str("1.0") (precision 1).
        pattern_order = AggressiveBuyPattern(s.order_factory).execute(s.cache.instruments()[0].id, Quantity.from_str("1.0"))
        plain = s.order_factory.market(s.cache.instruments()[0].id, OrderSide.BUY, Quantity.from_str("1.0"))
        s.submit_order(pattern_order)
        s.submit_order(plain)
        return pattern_order, plain

    eng, strategy, inst = run_on_fine_instrument(script)
    pattern_order, plain = strategy.result
    assert pattern_order.quantity.precision == 6 and pattern_order.status == OrderStatus.FILLED
    assert plain.status == OrderStatus.REJECTED  # what the pattern used to send: the venue's precision check
    assert eng.cache.positions_open()[0].quantity == Quantity.from_str("1.000000")


def test_iceberg_as_the_reference_writes_it_rests_limit_chunks_at_the_touch_or_refuses_without_a_quote():
    def script(s):
        iid = s.cache.instruments()[0].id
        result = IcebergBuyPattern(s.order_factory, visible_pct=0.1).execute(iid, Quantity.from_str("2.0"))
        sell = IcebergSellPattern(s.order_factory, visible_pct=0.25).execute(iid, Quantity.from_str("1.0"), price=Price.from_str("60100.004"))
        return result, sell, s.cache.quote_tick(iid)

    _, strategy, inst = run_on_fine_instrument(script)
    result, sell, quote = strategy.result
    visible = result["visible_order"]
    assert visible.order_type == OrderType.LIMIT and visible.price == quote.bid_price
    assert (visible.quantity, result["remaining_quantity"], result["total_quantity"]) == (
        Quantity.from_str("0.200000"), Quantity.from_str("1.800000"), Quantity.from_str("2.000000"))
    assert sell["visible_order"].price == Price.from_str("60100.00")  # the given price, on the tick

    class NoQuotes:
        def instrument(self, instrument_id):
            return inst

        def quote_tick(self, instrument_id):
            return None

        def order_book(self, instrument_id):
            return None

    pattern = IcebergBuyPattern(strategy.order_factory, visible_pct=0.1, cache=NoQuotes())
    with pytest.raises(MarketDataError) as err:
        pattern.execute(inst.id, Quantity.from_str("1.0"))
    assert err.value.field == "instrument_id" and "best bid" in str(err.value)
    assert pattern.remaining_quantity is None  # nothing started


def test_a_pattern_without_any_cache_refuses_by_name():
    from nautilus_trader.common.component import TestClock
    from nautilus_trader.common.factories import OrderFactory
    from nautilus_trader.model.identifiers import InstrumentId, StrategyId, TraderId

    factory = OrderFactory(TraderId("T-001"), StrategyId("S-001"), TestClock())  # owned by no component
    with pytest.raises(ValidationError) as err:
        AggressiveBuyPattern(factory).execute(InstrumentId.from_str("BTCUSDT.BINANCE"), Quantity.from_str("1.0"))
    assert err.value.field == "instrument_id" and "pass cache=" in str(err.value)


@pytest.mark.parametrize(("quantity", "fills"), [("1.0", "1.000000"), ("1.0000004", "1.000000")])
def test_twap_parent_in_the_callers_precision_executes_on_the_instruments_increment(quantity, fills):
    from nautilus_sor.execution_algorithms import TWAPExecAlgorithmConfig

    def script(s):
        order = s.order_factory.market(s.cache.instruments()[0].id, OrderSide.BUY, Quantity.from_str(quantity),
                                       exec_algorithm_id=ExecAlgorithmId("TWAP"))
        s.submit_order(order)
        return order

    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=30, interval_seconds=10))
    eng, strategy, inst = run_on_fine_instrument(script, algo)
    primary = strategy.result
    spawn = eng.cache.orders_for_exec_spawn(primary.client_order_id)
    assert len(spawn) == 3 and all(o.status == OrderStatus.FILLED and o.quantity.precision == 6 for o in spawn)
    assert eng.cache.exec_spawn_total_filled_qty(primary.client_order_id) == Quantity.from_str(fills)
    assert eng.cache.positions_open()[0].quantity == Quantity.from_str(fills)


def test_a_parent_that_rounds_to_zero_is_denied_with_the_reason():
    from nautilus_sor.execution_algorithms import TWAPExecAlgorithmConfig

    def script(s):
        order = s.order_factory.market(s.cache.instruments()[0].id, OrderSide.BUY, Quantity.from_str("0.0000004"),
                                       exec_algorithm_id=ExecAlgorithmId("TWAP"))
        s.submit_order(order)
        return order

    eng, strategy, _ = run_on_fine_instrument(script, TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=30, interval_seconds=10)))
    primary = eng.cache.order(strategy.result.client_order_id)
    assert primary.status == OrderStatus.DENIED
    reason = [e for e in primary.events if type(e).__name__ == "OrderDenied"][0].reason
    assert "invalid quantity: 0.0000004 rounds to zero" in reason and "size increment 0.000001" in reason
