"""VWAP: slices follow a volume profile, the reference's `{hour_of_day: fraction}` or a per-bucket
curve built from history (e.g. `volume_curve_from_bars` on minute bars)."""

from __future__ import annotations

from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.orders import Order

from nautilus_sor._core import vwap_curve_schedule, vwap_schedule
from nautilus_sor.exceptions import ConfigError
from nautilus_sor.execution_algorithms.base import (
    SmartExecAlgorithm,
    SmartExecAlgorithmConfig,
    _check_number,
    _check_positive_seconds,
    _check_slicing,
)


class VWAPExecAlgorithmConfig(SmartExecAlgorithmConfig, kw_only=True, frozen=True):
    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("VWAP")
    duration_seconds: float = 3600.0
    interval_seconds: float = 60.0
    # {hour_of_day (0-23, UTC): fraction}; fractions are normalised over the order's window.
    volume_profile: dict[int, float] | None = None
    # Or a curve: one weight per bucket of `bucket_seconds`, repeating daily from midnight UTC.
    bucket_weights: list[float] | None = None
    bucket_seconds: float = 60.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_slicing(self.duration_seconds, self.interval_seconds)
        _check_positive_seconds("bucket_seconds", self.bucket_seconds)
        if self.bucket_weights is not None:
            if not isinstance(self.bucket_weights, (list, tuple)):
                raise ConfigError(f"invalid bucket_weights: {self.bucket_weights!r} (must be a list of weights)", field="bucket_weights", value=repr(self.bucket_weights))
            for i, weight in enumerate(self.bucket_weights):
                _check_number(f"bucket_weights[{i}]", weight, low=0.0)
            if not sum(self.bucket_weights) > 0:
                raise ConfigError("invalid bucket_weights: all weights are zero", field="bucket_weights", value=repr(self.bucket_weights))
        if (self.volume_profile is None) == (self.bucket_weights is None):
            raise ConfigError(
                "invalid volume_profile: give exactly one of volume_profile or bucket_weights",
                field="volume_profile",
                value=repr(self.volume_profile),
            )
        if self.volume_profile is not None:
            for hour, weight in self.volume_profile.items():
                if not 0 <= int(hour) <= 23:
                    raise ConfigError(f"invalid volume_profile[{hour}]: hour must be 0..23", field=f"volume_profile[{hour}]", value=repr(hour))
                if not weight >= 0 or weight == float("inf"):
                    raise ConfigError(f"invalid volume_profile[{hour}]: {weight!r} (must be a finite fraction >= 0)", field=f"volume_profile[{hour}]", value=repr(weight))
            if not sum(self.volume_profile.values()) > 0:
                raise ConfigError("invalid volume_profile: all fractions are zero", field="volume_profile", value=repr(self.volume_profile))


class VWAPExecAlgorithm(SmartExecAlgorithm):
    """Volume-weighted execution over `duration_seconds` from when the order arrives."""

    def __init__(self, config: VWAPExecAlgorithmConfig | None = None) -> None:
        config = config or VWAPExecAlgorithmConfig(volume_profile={h: 1.0 for h in range(24)})
        super().__init__(config)
        self.vwap_config = config

    def build_schedule(self, order: Order, units: int, lot_units: int) -> list[tuple[int, int]]:
        c = self.vwap_config
        now = self.clock.timestamp_ns()
        if c.volume_profile is not None:
            offsets, quantities = vwap_schedule(
                units, {int(h): float(w) for h, w in c.volume_profile.items()}, c.duration_seconds, c.interval_seconds,
                start_time_ns=now, lot_size=lot_units,
            )
        else:
            offsets, quantities = vwap_curve_schedule(
                units, c.bucket_weights or [], c.bucket_seconds, c.duration_seconds, c.interval_seconds,
                start_time_ns=now, lot_size=lot_units,
            )
        return list(zip(offsets.tolist(), quantities.tolist()))
