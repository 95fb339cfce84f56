"""What the queue-position fill model costs in a Nautilus backtest: the same BacktestEngine run (the shared
USD-M BTCUSDT stream, ~28k deltas and trades over 345 s, 8 of our limit orders resting at the touch for up
to 60 s each, as in tests/peer_hftbacktest.py) with `nautilus_sor.fill_model.QueuePositionModule` on the
venue and without it (Nautilus's own L2 matching), same process and round. Target: <= 1.3x.

And what the consumed-liquidity fill model costs (`nautilus_sor.fill_model_consumed`): the same stream with a
taker sending two market buys and two market sells of 0.5 BTC in one book state every second (~1,360
aggressive orders, each but the first of a side meeting levels we consumed: the model's worst case), with
`ConsumedLiquidityFillModel` + `ConsumedLiquidityModule` on the venue and without them.

Run: pytest benches/bench_fill_model.py   (release build; needs ../shared/data)
"""

from __future__ import annotations


import pytest

import peer_hftbacktest as peer
from shared_data import DATA as SHARED
from shared_data import require_data

DATA = SHARED / "binance_btc_l2_20240808"


@pytest.fixture(scope="module")
def stream():
    require_data(DATA)
    instrument, data = peer.load_stream(DATA)
    return instrument, data, peer.send_times(data[0].ts_init)[0]


def run(stream, queue_model):
    instrument, data, times = stream
    return peer.run_ours(data, instrument, times, queue_model, peer.LATENCY_NS)


def test_backtest_with_queue_fill_model(benchmark, stream, record_ratio):
    outcomes = benchmark.pedantic(run, (stream, "prob_linear"), rounds=3, iterations=1)
    assert len(outcomes) == 2 * peer.SLOTS
    assert any(o.fill_ns is not None for o in outcomes)
    # Printed as "Nautilus's L2 matching N x faster than with the model": N is the model's cost factor.
    record_ratio("test_backtest_nautilus_l2_matching", "test_backtest_with_queue_fill_model")


def test_backtest_nautilus_l2_matching(benchmark, stream):
    outcomes = benchmark.pedantic(run, (stream, "off"), rounds=3, iterations=1)
    assert len(outcomes) == 2 * peer.SLOTS


TAKE_QTY = "0.500"
TAKE_EVERY_S = 1


def run_takers(stream, consume):
    """One BacktestEngine run of the taker above; returns its fills [(price, size)]."""
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.backtest.models import LatencyModel
    from nautilus_trader.config import LoggingConfig, StrategyConfig
    from nautilus_trader.model.enums import AccountType, BookType, OmsType, OrderSide
    from nautilus_trader.model.objects import Money, Quantity
    from nautilus_trader.trading.strategy import Strategy

    from nautilus_sor.fill_model_consumed import ConsumedLiquidityFillModel, ConsumedLiquidityModule

    instrument, data, _ = stream
    first, last = data[0].ts_init, data[-1].ts_init
    times = range(first + peer.LEAD_S * peer.NS + 123_457, last - peer.NS, TAKE_EVERY_S * peer.NS)

    class Taker(Strategy):
        def __init__(self) -> None:
            super().__init__(StrategyConfig(strategy_id="TAKE-001"))
            self.fills = []

        def on_start(self) -> None:
            for k, t in enumerate(times):
                self.clock.set_time_alert_ns(f"take-{k}", t, self._take)

        def _take(self, _event) -> None:
            for side in (OrderSide.BUY, OrderSide.BUY, OrderSide.SELL, OrderSide.SELL):
                self.submit_order(self.order_factory.market(instrument.id, side, Quantity.from_str(TAKE_QTY)))

        def on_order_filled(self, event) -> None:
            self.fills.append((float(event.last_px), float(event.last_qty)))

    extra = {"fill_model": ConsumedLiquidityFillModel(), "modules": [ConsumedLiquidityModule()]} if consume else {}
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR"), trader_id="TAKE-001"))
    engine.add_venue(venue=instrument.id.venue, oms_type=OmsType.NETTING, account_type=AccountType.MARGIN,
                     starting_balances=[Money(100_000_000, instrument.quote_currency)], base_currency=instrument.quote_currency,
                     book_type=BookType.L2_MBP, latency_model=LatencyModel(base_latency_nanos=peer.LATENCY_NS), **extra)
    engine.add_instrument(instrument)
    engine.add_data(data)
    strategy = Taker()
    engine.add_strategy(strategy)
    engine.run()
    fills = list(strategy.fills)
    engine.dispose()
    return fills


def test_takers_with_consumed_liquidity_model(benchmark, stream, record_ratio):
    fills = benchmark.pedantic(run_takers, (stream, True), rounds=3, iterations=1)
    plain = run_takers(stream, False)
    # Same size filled; the model makes later takers in a book state walk deeper, so more fill messages.
    assert round(sum(q for _, q in fills), 3) == round(sum(q for _, q in plain), 3)
    assert len(fills) > len(plain)
    # Printed as "Nautilus's L2 matching N x faster than with the model": N is the model's cost factor.
    record_ratio("test_takers_nautilus_l2_matching", "test_takers_with_consumed_liquidity_model")


def test_takers_nautilus_l2_matching(benchmark, stream):
    fills = benchmark.pedantic(run_takers, (stream, False), rounds=3, iterations=1)
    assert fills
