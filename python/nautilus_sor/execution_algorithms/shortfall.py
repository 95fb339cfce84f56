"""Implementation shortfall: the Almgren-Chriss optimal trajectory (front-loaded by risk aversion;
exactly TWAP at zero risk aversion)."""

from __future__ import annotations

from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.orders import Order

from nautilus_sor._core import shortfall_schedule
from nautilus_sor.execution_algorithms.base import SmartExecAlgorithm, SmartExecAlgorithmConfig
from nautilus_sor.execution_algorithms.checks import check_number, check_slicing
from nautilus_sor.execution_algorithms.styles import STYLE_PARAMS


class ShortfallExecAlgorithmConfig(SmartExecAlgorithmConfig, kw_only=True, frozen=True):
    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("IS")
    duration_seconds: float = 3600.0
    interval_seconds: float = 60.0
    risk_aversion: float = 1e-6
    volatility: float = 0.5  # price units per sqrt(second)
    temporary_impact: float = 1e-6
    permanent_impact: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_slicing(self.duration_seconds, self.interval_seconds)
        check_number("risk_aversion", self.risk_aversion, low=0.0)
        check_number("volatility", self.volatility, low=0.0)
        check_number("temporary_impact", self.temporary_impact, low=0.0, low_open=True)
        check_number("permanent_impact", self.permanent_impact, low=0.0)


class ShortfallExecAlgorithm(SmartExecAlgorithm):
    """Per-order `exec_algorithm_params`: `duration_seconds`, `interval_seconds`, `risk_aversion`,
    `volatility`, `temporary_impact`, `permanent_impact`."""

    ORDER_PARAMS = ("duration_seconds", "interval_seconds", "risk_aversion", "volatility", "temporary_impact", "permanent_impact", *STYLE_PARAMS)

    def __init__(self, config: ShortfallExecAlgorithmConfig | None = None) -> None:
        config = config or ShortfallExecAlgorithmConfig()
        super().__init__(config)
        self.is_config = config

    def build_schedule(self, order: Order, units: int, lot_units: int) -> list[tuple[int, int]]:
        c = self.order_config(order.client_order_id)
        offsets, quantities = shortfall_schedule(
            units, c.duration_seconds, c.interval_seconds, risk_aversion=c.risk_aversion, volatility=c.volatility,
            temporary_impact=c.temporary_impact, permanent_impact=c.permanent_impact, lot_size=lot_units,
        )
        return list(zip(offsets.tolist(), quantities.tolist()))
