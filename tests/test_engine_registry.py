"""Two engines in one process (a backtest and its baselines, Ray workers) with the same trader id and the
same algorithm id: each strategy finds its own engine's algorithm, never the other's. Also: an algorithm
keeps finished parents only up to `max_finished_parents`, and a bool is never a side."""

from __future__ import annotations

import pytest
from nautilus_trader.model.enums import OmsType, OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Quantity

from nautilus_env import NS, START, btcusdt, engine, quotes
from nautilus_sor.exceptions import ConfigError, ValidationError
from nautilus_sor.execution_algorithms import TWAPExecAlgorithm, TWAPExecAlgorithmConfig
from nautilus_sor.execution_algorithms.registry import registered_algorithm, strategy_for
from nautilus_sor.execution_algorithms.state import decode_state
from nautilus_sor.strategy import ALGORITHM_STATE_PREFIX, MultiVenueStrategy, SmartRoutingStrategyConfig

VENUES = [{"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0004}, {"name": "BYBIT", "maker_fee": 0.0001, "taker_fee": 0.0003}]


class Parents(MultiVenueStrategy):
    def __init__(self, config, quantities):
        super().__init__(config)
        self.quantities = quantities

    def on_start(self) -> None:
        super().on_start()
        for i, q in enumerate(self.quantities):
            self.clock.set_time_alert_ns(f"go{i}", START + (1 + 5 * i) * NS,
                                         lambda e, q=q: self.execute_order(OrderSide.BUY, Quantity.from_str(q)))


def build(quantities, **algo):
    a, b = btcusdt("BINANCE"), btcusdt("BYBIT")
    mids = [100.0 + 0.01 * (i % 5) for i in range(60)]
    eng = engine({"BINANCE": OmsType.NETTING, "BYBIT": OmsType.NETTING}, [a, b],
                 quotes(a, mids, 0.05, "10.000", START) + quotes(b, mids, 0.05, "10.000", START))
    algorithm = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=4, interval_seconds=1, use_smart_routing=True, venues=VENUES, **algo))
    eng.add_exec_algorithm(algorithm)
    strategy = Parents(SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", use_smart_routing=True, venues=VENUES,
                                                  execution_algorithm={"type": "TWAP"}), quantities)
    eng.add_strategy(strategy)
    return eng, algorithm, strategy


def test_two_engines_in_one_process_each_see_their_own_algorithm_and_strategy():
    eng1, algo1, strategy1 = build(["1.000"])
    eng2, algo2, strategy2 = build(["2.000", "3.000"])  # registered after engine 1's: the same trader and algorithm ids
    assert str(algo1.trader_id) == str(algo2.trader_id) and algo1.id == algo2.id
    assert registered_algorithm(algo1.msgbus, "TWAP") is algo1
    assert registered_algorithm(algo2.msgbus, "TWAP") is algo2
    eng1.run()
    assert strategy_for(algo1.msgbus, algo1.id) is strategy1 and strategy_for(algo2.msgbus, algo2.id) is None
    # The strategy saves its own engine's algorithm (one parent), not the other engine's (none yet).
    saved = decode_state(strategy1.on_save()[f"{ALGORITHM_STATE_PREFIX}TWAP"])
    assert [p.requested for p in saved.parents] == [10**9]
    assert strategy1._routers() == [strategy1.router, algo1.router]
    eng2.run()
    assert strategy_for(algo2.msgbus, algo2.id) is strategy2 and strategy_for(algo1.msgbus, algo1.id) is strategy1
    saved = decode_state(strategy2.on_save()[f"{ALGORITHM_STATE_PREFIX}TWAP"])
    assert sorted(p.requested for p in saved.parents) == [2 * 10**9, 3 * 10**9]
    # The direct call creates its primary through its own engine's strategy.
    order = algo1.execute(instrument_id=InstrumentId.from_str("BTCUSDT.BINANCE"), side=OrderSide.BUY, quantity=Quantity.from_str("0.500"))
    assert order.strategy_id == strategy1.id and eng1.cache.order(order.client_order_id) is order
    assert order.time_in_force.name == "IOC"  # a market primary goes out IOC as its last slice (strategy.py)
    assert eng2.cache.order(order.client_order_id) is None or eng2.cache.order(order.client_order_id) is not order


def test_finished_parents_past_max_finished_parents_are_dropped_and_open_ones_conserve():
    eng, algo, strategy = build(["1.000", "1.000", "1.000", "1.000"], max_finished_parents=1)
    eng.run()
    # All four finished (the stop's sweep sees the last): only the most recent finished one is kept.
    primaries = sorted((o for o in eng.cache.orders() if o.exec_spawn_id == o.client_order_id), key=lambda o: o.ts_init)
    assert len(primaries) == 4
    assert list(algo.parents) == [primaries[-1].client_order_id]
    assert list(algo.planned) == [primaries[-1].client_order_id.value]
    filled = sum(o.filled_qty.as_double() for o in eng.cache.orders())
    assert filled == pytest.approx(4.0)  # every parent executed whole all the same
    for p in algo.parents.values():
        assert p.filled + p.working + p.pending + p.abandoned == p.requested


@pytest.mark.parametrize("bad", [-1, True, 2.5])
def test_a_bad_max_finished_parents_is_a_config_error(bad):
    with pytest.raises(ConfigError) as info:
        TWAPExecAlgorithmConfig(max_finished_parents=bad)
    assert info.value.field == "max_finished_parents"


def test_a_bool_is_not_a_side_in_the_direct_call():
    eng, algo, strategy = build([])
    eng.run()
    with pytest.raises(ValidationError) as info:
        algo.execute(instrument_id=InstrumentId.from_str("BTCUSDT.BINANCE"), side=True, quantity=Quantity.from_str("0.500"))
    assert info.value.field == "side" and info.value.value == "True"
