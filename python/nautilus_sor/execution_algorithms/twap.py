"""TWAP: equal slices every `interval_seconds` over `duration_seconds` (the reference's config),
optionally with seeded size and time jitter."""

from __future__ import annotations

from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.orders import Order

from nautilus_sor._core import twap_schedule
from nautilus_sor.execution_algorithms.base import SmartExecAlgorithm, SmartExecAlgorithmConfig, _check_number, _check_slicing


class TWAPExecAlgorithmConfig(SmartExecAlgorithmConfig, kw_only=True, frozen=True):
    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("TWAP")
    duration_seconds: float = 3600.0
    interval_seconds: float = 60.0
    size_jitter_pct: float = 0.0
    time_jitter_pct: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_slicing(self.duration_seconds, self.interval_seconds)
        _check_number("size_jitter_pct", self.size_jitter_pct, low=0.0, high=1.0)
        _check_number("time_jitter_pct", self.time_jitter_pct, low=0.0, high=1.0)


class TWAPExecAlgorithm(SmartExecAlgorithm):
    """Time-weighted execution. Per-order overrides: `exec_algorithm_params` with
    `duration_seconds` / `interval_seconds` (also Nautilus's `horizon_secs` / `interval_secs`)."""

    def __init__(self, config: TWAPExecAlgorithmConfig | None = None) -> None:
        super().__init__(config or TWAPExecAlgorithmConfig())
        self.twap_config: TWAPExecAlgorithmConfig = config or TWAPExecAlgorithmConfig()

    def build_schedule(self, order: Order, units: int, lot_units: int) -> list[tuple[int, int]]:
        c = self.twap_config
        params = order.exec_algorithm_params or {}
        duration = float(params.get("duration_seconds", params.get("horizon_secs", c.duration_seconds)))
        interval = float(params.get("interval_seconds", params.get("interval_secs", c.interval_seconds)))
        offsets, quantities = twap_schedule(
            units,
            duration,
            interval,
            lot_size=lot_units,
            size_jitter_pct=c.size_jitter_pct,
            time_jitter_pct=c.time_jitter_pct,
            seed=c.seed,
        )
        return list(zip(offsets.tolist(), quantities.tolist()))
