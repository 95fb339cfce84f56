"""Execution styles inside a Nautilus BacktestEngine: a "maker" TWAP rests each slice post-only at the
touch, re-prices when the touch moves away (rate-limited), crosses what is left at the slice's end, and
accounts for every unit at every event."""

from __future__ import annotations

import math

import pytest
from nautilus_trader.model.enums import OmsType, OrderSide, OrderStatus, OrderType, TimeInForce
from nautilus_trader.model.objects import Quantity

from nautilus_env import NS, START, btcusdt, engine, quotes
from nautilus_sor.exceptions import ConfigError
from nautilus_sor.execution_algorithms import TWAPExecAlgorithm, TWAPExecAlgorithmConfig
from nautilus_sor.strategy import MultiVenueStrategy, SmartRoutingStrategyConfig

VENUES = [{"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0004}, {"name": "BYBIT", "maker_fee": 0.0001, "taker_fee": 0.0003}]


class OneParent(MultiVenueStrategy):
    def __init__(self, config, quantity, side=OrderSide.BUY, params=None):
        super().__init__(config)
        self.quantity, self.side, self.params = Quantity.from_str(quantity), side, params
        self.parents = []

    def on_start(self) -> None:
        super().on_start()
        self.clock.set_time_alert_ns("go", START + NS, self._go)

    def _go(self, _event):
        order = self.order_factory.market(self.config_instrument_id, self.side, self.quantity, exec_algorithm_id=self.algorithm_id,
                                          exec_algorithm_params=self.params)
        self.parents.append(order)
        self.submit_order(order)


def run(config: TWAPExecAlgorithmConfig, mids: list[float], *, params=None, routed=True, quantity="2.000", bybit_precision=3):
    a = btcusdt("BINANCE", taker_fee="0.0004", size_precision=5)
    b = btcusdt("BYBIT", taker_fee="0.0003", size_precision=bybit_precision)
    data = quotes(a, mids, 0.05, "10.00000", START) + quotes(b, mids, 0.05, "10." + "0" * bybit_precision, START)
    eng = engine({"BINANCE": OmsType.NETTING, "BYBIT": OmsType.NETTING}, [a, b], data)
    algo = TWAPExecAlgorithm(config)
    eng.add_exec_algorithm(algo)
    strategy = OneParent(SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", use_smart_routing=routed, venues=VENUES,
                                                    execution_algorithm={"type": str(algo.id)}), quantity, params=params)
    strategy.config_instrument_id = a.id
    strategy.algorithm_id = algo.id
    eng.add_strategy(strategy)
    eng.run()
    return eng, algo, strategy


def children(eng, strategy):
    primary = strategy.parents[0].client_order_id
    return [o for o in eng.cache.orders() if o.exec_spawn_id == primary and o.client_order_id != primary]


def test_a_maker_twap_rests_reprices_and_crosses_and_loses_nothing():
    # The market rises a cent a second: a resting bid is left behind by the touch every second.
    mids = [100.0 + 0.01 * i for i in range(90)]
    config = TWAPExecAlgorithmConfig(duration_seconds=30, interval_seconds=10, use_smart_routing=True, venues=VENUES,
                                     execution_style="maker", reprice_interval_s=2.0, catch_up_fraction=1.0)
    eng, algo, strategy = run(config, mids)
    kids = children(eng, strategy)
    resting = [o for o in kids if o.order_type == OrderType.LIMIT and o.time_in_force == TimeInForce.GTC]
    assert resting and all(o.is_post_only for o in resting)
    # On quotes alone nothing reaches a resting bid (the ask stays above it): every slice is re-priced
    # as the bid rises, no more often than every 2 s, then crossed at its end.
    assert algo.resting.reprices >= 3
    assert algo.resting.crosses >= 3
    assert all(o.status == OrderStatus.CANCELED and o.filled_qty == 0 for o in resting)
    takers = [o for o in kids if o.order_type == OrderType.MARKET]
    assert sum(o.filled_qty.as_double() for o in takers) == pytest.approx(2.0)
    summary = algo.parent_summary(strategy.parents[0].client_order_id)
    assert summary["filled"] == summary["requested"] and summary["working"] == summary["pending"] == summary["abandoned"] == 0
    # Re-prices follow the touch: each resting bid sits at the best bid of its moment (mid - 0.05).
    for order in resting:
        t = (order.ts_init - START) // NS
        assert order.price.as_double() == pytest.approx(mids[min(t, len(mids) - 1)] - 0.05, abs=0.011)
    # ... and no two of one slice's re-prices are closer than the rate limit.
    times = sorted(o.ts_init for o in resting)
    slices = [START + NS + k * 10 * NS for k in range(3)]
    for lo, hi in zip(slices, slices[1:] + [slices[-1] + 10 * NS]):
        inside = [t for t in times if lo <= t < hi]
        assert all(b - a >= 2 * NS for a, b in zip(inside, inside[1:]))


def test_a_taker_twap_sends_no_resting_child():
    mids = [100.0 + 0.01 * i for i in range(60)]
    config = TWAPExecAlgorithmConfig(duration_seconds=30, interval_seconds=10, use_smart_routing=True, venues=VENUES)
    eng, algo, strategy = run(config, mids)
    assert all(o.order_type == OrderType.MARKET for o in children(eng, strategy))
    assert algo.resting.reprices == algo.resting.crosses == 0


def test_the_style_can_be_set_per_order():
    mids = [100.0 + 0.01 * i for i in range(60)]
    config = TWAPExecAlgorithmConfig(duration_seconds=30, interval_seconds=10, use_smart_routing=True, venues=VENUES)
    eng, algo, strategy = run(config, mids, params={"execution_style": "maker", "reprice_interval_s": 5.0})
    assert any(o.order_type == OrderType.LIMIT and o.is_post_only for o in children(eng, strategy))


@pytest.mark.parametrize(("fields", "field"), [({"execution_style": "passive"}, "execution_style"),
                                               ({"execution_style": "maker", "catch_up_fraction": 0}, "catch_up_fraction"),
                                               ({"execution_style": "maker", "reprice_interval_s": -1.0}, "reprice_interval_s")])
def test_bad_style_settings_are_refused_at_config_time(fields, field):
    with pytest.raises(ConfigError) as info:
        TWAPExecAlgorithmConfig(duration_seconds=30, interval_seconds=10, **fields)
    assert info.value.field == field


def test_a_slice_rests_what_the_chosen_venue_lot_holds_and_the_sub_lot_rest_goes_the_taker_way():
    # 0.5 BTC in 3 slices of 0.16667/0.16667/0.16666: BYBIT (lot 0.001, cheaper maker fee) can rest 0.166 of
    # each; the sub-lot rest goes the taker path's way (taken, or carried to the next slice by its lot
    # rounding) instead of the whole slice resting on the one fine-lot venue that could hold it.
    mids = [100.0 + 0.01 * i for i in range(90)]
    config = TWAPExecAlgorithmConfig(duration_seconds=30, interval_seconds=10, use_smart_routing=True, venues=VENUES,
                                     execution_style="maker", catch_up_fraction=1.0)
    eng, algo, strategy = run(config, mids, quantity="0.50000")
    kids = children(eng, strategy)
    resting = sorted((o for o in kids if o.order_type == OrderType.LIMIT and o.time_in_force == TimeInForce.GTC), key=lambda o: o.ts_init)
    assert resting[0].quantity.as_double() == pytest.approx(0.166)
    assert {o.instrument_id.venue.value for o in resting} == {"BYBIT"}
    assert all(round(o.quantity.as_double() * 1000, 9) == int(round(o.quantity.as_double() * 1000)) for o in resting)
    summary = algo.parent_summary(strategy.parents[0].client_order_id)
    assert summary["filled"] == summary["requested"] and summary["abandoned"] == 0
    primary = eng.cache.order(strategy.parents[0].client_order_id)  # the last slice's rest may go as the primary
    assert sum(o.filled_qty.as_double() for o in kids) + primary.filled_qty.as_double() == pytest.approx(0.5)


def sells_into_bids(instrument, size: str, start_ns: int, seconds: int) -> list:
    """One seller-aggressor trade a second at the bid (mid 100 - 0.05): volume that fills a resting buy."""
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.model.enums import AggressorSide
    from nautilus_trader.model.identifiers import TradeId
    from nautilus_trader.model.objects import Price

    return [TradeTick(instrument.id, Price.from_str("99.95"), Quantity.from_str(size), AggressorSide.SELLER, TradeId(f"{instrument.id.venue}-{i}"),
                      start_ns + i * NS + NS // 2, start_ns + i * NS + NS // 2) for i in range(seconds)]


@pytest.mark.parametrize("style", ["maker", "adaptive", "taker"])
def test_a_resting_style_feeds_the_routers_tape_behind_its_fill_probability(style):
    # BYBIT's tape sells 1.0 a second into its bid; BINANCE trades nothing. A resting style's router keeps
    # the tape (trades subscribed from the start), so the resting slice's predicted fill probability is
    # the core's rate_against * horizon / (queue ahead + ours) on BYBIT, not 0, for the horizon the slice
    # rests for (to the next slice); taker subscribes nothing.
    a = btcusdt("BINANCE", taker_fee="0.0004", size_precision=5)
    b = btcusdt("BYBIT", taker_fee="0.0003", size_precision=3)
    mids = [100.0] * 40
    data = quotes(a, mids, 0.05, "10.00000", START) + quotes(b, mids, 0.05, "10.000", START) + sells_into_bids(b, "1.000", START - 30 * NS, 70)
    eng = engine({"BINANCE": OmsType.NETTING, "BYBIT": OmsType.NETTING}, [a, b], sorted(data, key=lambda d: d.ts_init))
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=30, interval_seconds=10, use_smart_routing=True, venues=VENUES,
                                                     execution_style=style, catch_up_fraction=1.0))
    eng.add_exec_algorithm(algo)
    strategy = OneParent(SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", use_smart_routing=True, venues=VENUES,
                                                    execution_algorithm={"type": str(algo.id)}), "2.000")
    strategy.config_instrument_id, strategy.algorithm_id = a.id, algo.id
    eng.add_strategy(strategy)
    eng.run()
    if style == "taker":
        assert algo.router.tape_instruments == [] and not algo.resting.outcomes
        return
    first = algo.resting.outcomes[0]
    assert first.venue == "BYBIT"
    # The tape at the first slice (START + 1 s): 1.0/s since START - 30 s, decayed with tau = 30 s (the
    # router's default): rate = sum 1 * exp(-(t_now - t_i) / 30) / 30 over the 31 trades before it.
    now = START + NS
    rate = sum(1.0 * math.exp(-(now - t) / NS / 30.0) for t in (START - 30 * NS + i * NS + NS // 2 for i in range(31))) / 30.0
    # Asked for the time it can rest: to the next slice (10 s); 10.0 displayed ahead of it at the bid.
    assert first.horizon_s == 10.0
    expected = min(1.0, rate * 10.0 / (10.0 + first.units / 1e9))
    assert first.predicted_fill_probability == pytest.approx(expected, rel=1e-6)
    assert 0.0 < first.predicted_fill_probability < 1.0
    assert first.passive_units > 0  # the tape did fill it
