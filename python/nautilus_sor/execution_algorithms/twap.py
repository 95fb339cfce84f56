"""TWAP: equal slices every `interval_seconds` over `duration_seconds` (the reference's config),
optionally with seeded size and time jitter."""

from __future__ import annotations

from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.orders import Order

from nautilus_sor._core import twap_schedule
from nautilus_sor.execution_algorithms.base import SmartExecAlgorithm, SmartExecAlgorithmConfig
from nautilus_sor.execution_algorithms.checks import check_number, check_slicing
from nautilus_sor.execution_algorithms.styles import STYLE_PARAMS


class TWAPExecAlgorithmConfig(SmartExecAlgorithmConfig, kw_only=True, frozen=True):
    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("TWAP")
    duration_seconds: float = 3600.0
    interval_seconds: float = 60.0
    size_jitter_pct: float = 0.0
    time_jitter_pct: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_slicing(self.duration_seconds, self.interval_seconds)
        check_number("size_jitter_pct", self.size_jitter_pct, low=0.0, high=1.0)
        check_number("time_jitter_pct", self.time_jitter_pct, low=0.0, high=1.0)


class TWAPExecAlgorithm(SmartExecAlgorithm):
    """Time-weighted execution. Per-order `exec_algorithm_params`: `duration_seconds`, `interval_seconds`
    (also as Nautilus's own TWAP names them, `horizon_secs` / `interval_secs`), `size_jitter_pct`,
    `time_jitter_pct`."""

    ORDER_PARAMS = ("duration_seconds", "interval_seconds", "size_jitter_pct", "time_jitter_pct", *STYLE_PARAMS)
    PARAM_ALIASES = {"horizon_secs": "duration_seconds", "interval_secs": "interval_seconds"}

    def __init__(self, config: TWAPExecAlgorithmConfig | None = None) -> None:
        super().__init__(config or TWAPExecAlgorithmConfig())
        self.twap_config: TWAPExecAlgorithmConfig = config or TWAPExecAlgorithmConfig()

    def build_schedule(self, order: Order, units: int, lot_units: int) -> list[tuple[int, int]]:
        c = self.order_config(order.client_order_id)
        offsets, quantities = twap_schedule(
            units,
            c.duration_seconds,
            c.interval_seconds,
            lot_size=lot_units,
            size_jitter_pct=c.size_jitter_pct,
            time_jitter_pct=c.time_jitter_pct,
            seed=c.seed,
        )
        return list(zip(offsets.tolist(), quantities.tolist()))
