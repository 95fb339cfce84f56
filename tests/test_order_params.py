"""Per-order `exec_algorithm_params` for every algorithm: applied to that order (the algorithm's config
says otherwise), and checked as the config's own fields (the primary denied with a reason naming
`exec_algorithm_params.<name>` and the value; the direct `execute` call raises the ConfigError).

Each expectation comes from the parameters themselves (slice count and span, participation, display
size), not from the schedule functions the algorithms call."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide, OmsType, OrderSide, OrderStatus
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import ExecAlgorithmId, TradeId
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy

from nautilus_env import NS, START, btcusdt, engine, quotes
from nautilus_sor.exceptions import ConfigError
from nautilus_sor.execution_algorithms import (
    IcebergExecAlgorithm,
    IcebergExecAlgorithmConfig,
    POVExecAlgorithm,
    POVExecAlgorithmConfig,
    ShortfallExecAlgorithm,
    ShortfallExecAlgorithmConfig,
    TWAPExecAlgorithm,
    TWAPExecAlgorithmConfig,
    VWAPExecAlgorithm,
    VWAPExecAlgorithmConfig,
    order_params,
)

SECONDS = 400


class OneParent(Strategy):
    def __init__(self, algorithm_id: str, quantity: str, params: dict | None) -> None:
        super().__init__()
        self.algorithm_id, self.quantity, self.params = algorithm_id, quantity, params
        self.primary = None

    def on_start(self) -> None:
        self.clock.set_time_alert_ns("go", START + NS, self._send)

    def _send(self, _event) -> None:
        iid = self.cache.instruments()[0].id
        self.primary = self.order_factory.market(iid, OrderSide.BUY, Quantity.from_str(self.quantity),
                                                 exec_algorithm_id=ExecAlgorithmId(self.algorithm_id), exec_algorithm_params=self.params)
        self.submit_order(self.primary)


def run(algorithm, quantity: str, params: dict | None, trade_size: str = "1.000"):
    """One venue, quotes each second, and (for POV) a trade of `trade_size` each second."""
    inst = btcusdt("BINANCE")
    mids = [100.0 - 0.1 * i for i in range(SECONDS)]  # falling: a resting bid is reached by the next ask
    data = quotes(inst, mids, 0.05, "50.000", START)
    data += [TradeTick(inst.id, inst.make_price(m), Quantity.from_str(trade_size), AggressorSide.SELLER, TradeId(f"T{i}"),
                       START + i * NS + NS // 2, START + i * NS + NS // 2) for i, m in enumerate(mids)]
    eng = engine({"BINANCE": OmsType.NETTING}, [inst], data)
    eng.add_exec_algorithm(algorithm)
    strategy = OneParent(algorithm.id.value, quantity, params)
    eng.add_strategy(strategy)
    eng.run()
    return eng, strategy


def fills(eng, strategy) -> list[tuple[int, Decimal]]:
    spawn = eng.cache.orders_for_exec_spawn(strategy.primary.client_order_id)
    return sorted((e.ts_event, e.last_qty.as_decimal()) for o in spawn for e in o.events if isinstance(e, OrderFilled))


def test_twap_and_vwap_take_the_orders_duration_and_interval():
    """The configs say 3600 s / 60 s; the order says 120 s / 10 s: 12 slices, 110 s apart end to end."""
    for algorithm, params in (
        (TWAPExecAlgorithm(TWAPExecAlgorithmConfig()), {"duration_seconds": 120, "interval_seconds": 10}),
        (TWAPExecAlgorithm(TWAPExecAlgorithmConfig()), {"horizon_secs": 120, "interval_secs": 10}),  # Nautilus's names
        (VWAPExecAlgorithm(VWAPExecAlgorithmConfig(volume_profile={h: 1.0 for h in range(24)})), {"duration_seconds": 120, "interval_seconds": 10}),
    ):
        eng, strategy = run(algorithm, "1.200", params)
        got = fills(eng, strategy)
        assert len(got) == 12 and got[-1][0] - got[0][0] == 110 * NS, (algorithm.id, params)
        assert sum(q for _, q in got) == Decimal("1.200")


def test_shortfall_takes_the_orders_horizon_and_risk_aversion():
    """IS over the order's 60 s / 10 s: 6 slices; with a high risk aversion the trajectory front-loads
    (the first slice is the largest), with zero it is flat (TWAP)."""
    config = ShortfallExecAlgorithmConfig(duration_seconds=3600, interval_seconds=60)
    flat = [q for _, q in fills(*run(ShortfallExecAlgorithm(config), "1.200", {"duration_seconds": 60, "interval_seconds": 10, "risk_aversion": 0.0}))]
    urgent = [q for _, q in fills(*run(ShortfallExecAlgorithm(config), "1.200",
                                      {"duration_seconds": 60, "interval_seconds": 10, "risk_aversion": 1e-8, "volatility": 0.5}))]
    assert flat == [Decimal("0.200")] * 6
    assert len(urgent) == 6 and sum(urgent) == Decimal("1.200") and urgent[0] > Decimal("0.400") and urgent == sorted(urgent, reverse=True)


def test_pov_takes_the_orders_participation_rate():
    """The tape trades 1.0 a second; the config says 10 %, the order 50 %: about 0.5 a second."""
    eng, strategy = run(POVExecAlgorithm(POVExecAlgorithmConfig(participation_rate=0.1)), "3.000", {"participation_rate": 0.5})
    got = fills(eng, strategy)
    assert sum(q for _, q in got) == Decimal("3.000")
    span_s = (got[-1][0] - got[0][0]) / NS
    assert 5 <= span_s <= 7  # 3.0 at 0.5 a second (at 10 % it would take 30 s)


def test_iceberg_takes_the_orders_display_size():
    eng, strategy = run(IcebergExecAlgorithm(IcebergExecAlgorithmConfig(visible_pct=0.1)), "2.000", {"visible_pct": 0.5})
    chunks = sorted(eng.cache.orders_for_exec_spawn(strategy.primary.client_order_id), key=lambda o: o.ts_init)
    chunks = [o for o in chunks if o.client_order_id != strategy.primary.client_order_id]
    assert [o.quantity for o in chunks] == [Quantity.from_str("1.000")] * 2
    assert all(o.status == OrderStatus.FILLED for o in chunks)


BAD = [
    (TWAPExecAlgorithm, TWAPExecAlgorithmConfig(), {"duration_seconds": -5}, "exec_algorithm_params.duration_seconds", "-5"),
    (TWAPExecAlgorithm, TWAPExecAlgorithmConfig(), {"horizon_secs": 10, "interval_secs": 60}, "exec_algorithm_params.interval_secs", "60"),
    (TWAPExecAlgorithm, TWAPExecAlgorithmConfig(), {"duration": 120}, "exec_algorithm_params.duration", "120"),
    (TWAPExecAlgorithm, TWAPExecAlgorithmConfig(), {"venues": []}, "exec_algorithm_params.venues", "[]"),
    (VWAPExecAlgorithm, VWAPExecAlgorithmConfig(volume_profile={9: 1.0}), {"interval_seconds": "10"}, "exec_algorithm_params.interval_seconds", "'10'"),
    (VWAPExecAlgorithm, VWAPExecAlgorithmConfig(volume_profile={9: 1.0}), {"volume_profile": {"25": 1.0}}, "exec_algorithm_params.volume_profile[25]", "'25'"),
    (VWAPExecAlgorithm, VWAPExecAlgorithmConfig(volume_profile={9: 1.0}), {"volume_profile": [1.0]}, "exec_algorithm_params.volume_profile", "[1.0]"),
    (ShortfallExecAlgorithm, ShortfallExecAlgorithmConfig(), {"temporary_impact": 0}, "exec_algorithm_params.temporary_impact", "0"),
    (POVExecAlgorithm, POVExecAlgorithmConfig(), {"participation_rate": 1.5}, "exec_algorithm_params.participation_rate", "1.5"),
    (POVExecAlgorithm, POVExecAlgorithmConfig(), {"min_child_quantity": 2.0, "max_child_quantity": 1.0}, "exec_algorithm_params.max_child_quantity", "1.0"),
    (IcebergExecAlgorithm, IcebergExecAlgorithmConfig(), {"visible_pct": 0}, "exec_algorithm_params.visible_pct", "0"),
    (IcebergExecAlgorithm, IcebergExecAlgorithmConfig(), {"passive_horizon_seconds": float("nan")}, "exec_algorithm_params.passive_horizon_seconds", "nan"),
]


@pytest.mark.parametrize(("algorithm", "config", "params", "field", "value"), BAD, ids=[f"{b[0].__name__}-{b[3].split('.')[-1]}" for b in BAD])
def test_a_bad_order_parameter_denies_the_primary_naming_it(algorithm, config, params, field, value):
    algo = algorithm(config)
    eng, strategy = run(algo, "1.000", params)
    primary = eng.cache.order(strategy.primary.client_order_id)
    assert primary.status == OrderStatus.DENIED
    reason = next(e.reason for e in primary.events if type(e).__name__ == "OrderDenied")
    assert f"invalid {field}: {value}" in reason
    assert eng.cache.orders_for_exec_spawn(primary.client_order_id) == [primary]  # nothing was sent
    # The same parameters through the direct call: the caller gets the typed error, nothing is submitted.
    before = len(eng.cache.orders())
    with pytest.raises(ConfigError) as err:
        algo.execute(instrument_id=primary.instrument_id, side=OrderSide.BUY, quantity=primary.quantity, strategy=strategy, **params)
    assert err.value.field == field and err.value.value == value
    assert len(eng.cache.orders()) == before


def test_a_strategy_gives_its_orders_only_the_per_order_fields_of_its_algorithm_block():
    spec = {"type": "VWAP", "duration_seconds": 120, "interval_seconds": 10, "volume_profile": {"9": 0.5, "15": 0.5},
            "max_retries": 3, "orphan_policy": "adopt", "use_smart_routing": False}
    assert order_params(spec) == {"duration_seconds": 120, "interval_seconds": 10, "volume_profile": {9: 0.5, 15: 0.5}}
    assert order_params({"type": "MYALGO", "x": 1}) == {"x": 1}  # not ours: passed through
