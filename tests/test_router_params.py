"""The `router` settings dict of strategy and algorithm configs: checked whole when the config is built."""

import pytest

from nautilus_sor.exceptions import ConfigError
from nautilus_sor.execution_algorithms.iceberg import IcebergExecAlgorithmConfig
from nautilus_sor.execution_algorithms.twap import TWAPExecAlgorithmConfig
from nautilus_sor.smart_router import ROUTER_PARAMS, SmartOrderRouter, check_router_params
from nautilus_sor.strategy import SmartRoutingStrategyConfig

BUILDERS = {
    "strategy": lambda router: SmartRoutingStrategyConfig(instrument_id="BTCUSDT.A", router=router),
    "twap": lambda router: TWAPExecAlgorithmConfig(router=router),
    "iceberg": lambda router: IcebergExecAlgorithmConfig(router=router),
}


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
@pytest.mark.parametrize(
    ("router", "field"),
    [
        ({"nope": 1}, "router.nope"),
        ({"tape_tau_s": 0}, "router.tape_tau_s"),
        ({"miss_cost_bps": "5"}, "router.miss_cost_bps"),
        ({"ewma_alpha": 1.5}, "router.ewma_alpha"),
        ({"slippage_weight": float("nan")}, "router.slippage_weight"),
        ({"passive_horizon_s": -1}, "router.passive_horizon_s"),
        ({"book_depth": 0}, "router.book_depth"),
        ({"latency_risk_weight": True}, "router.latency_risk_weight"),
        ("fast", "router"),
    ],
)
def test_a_bad_router_setting_is_a_config_error_naming_it(build, router, field) -> None:
    with pytest.raises(ConfigError) as err:
        build(router)
    assert err.value.field == field


def test_every_accepted_setting_is_a_smart_order_router_keyword() -> None:
    good = {"volatility": 2e-4, "latency_risk_weight": 0.5, "miss_cost_bps": 1, "ewma_alpha": 0.2, "slippage_weight": 0,
            "tape_tau_s": 60, "passive_horizon_s": 10, "book_depth": 5}
    assert set(good) == set(ROUTER_PARAMS)
    check_router_params(good)
    router = SmartOrderRouter([{"name": "A", "maker_fee": 0, "taker_fee": 0, "latency_ms": 1}], **good)
    assert router.book_depth == 5 and router.passive_horizon_s == 10
    for build in BUILDERS.values():
        build(good)
