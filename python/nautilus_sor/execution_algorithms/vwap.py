"""VWAP: slices follow a volume profile, the reference's `{hour_of_day: fraction}` or a per-bucket
curve built from history (e.g. `volume_curve_from_bars` on minute bars).

In a run config, `"volume_profile": "market"` asks for the recorded market's own curve (a loader's
`RecordedMarket.volume_profile`, built from other days' minute bars: no look-ahead). It validates without
the data; the backtest runner replaces it with the curve once the market is loaded
(`resolve_market_profile`), and a market without a curve is a ConfigError there.
"""

from __future__ import annotations

from typing import Any, Literal

from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.orders import Order

from nautilus_sor._core import vwap_curve_schedule, vwap_schedule
from nautilus_sor.exceptions import ConfigError
from nautilus_sor.execution_algorithms.base import SmartExecAlgorithm, SmartExecAlgorithmConfig
from nautilus_sor.execution_algorithms.checks import check_number, check_positive_seconds, check_slicing
from nautilus_sor.execution_algorithms.styles import STYLE_PARAMS

MARKET_PROFILE = "market"
_MARKET_FIELD = "strategy.execution_algorithm.volume_profile"


class VWAPExecAlgorithmConfig(SmartExecAlgorithmConfig, kw_only=True, frozen=True):
    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("VWAP")
    duration_seconds: float = 3600.0
    interval_seconds: float = 60.0
    # {hour_of_day (0-23, UTC): fraction}; fractions are normalised over the order's window. Or "market":
    # the recorded market's own curve, put in `bucket_weights` by the runner (see the module doc).
    volume_profile: dict[int, float] | Literal["market"] | None = None
    # Or a curve: one weight per bucket of `bucket_seconds`, repeating daily from midnight UTC.
    bucket_weights: list[float] | None = None
    bucket_seconds: float = 60.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_slicing(self.duration_seconds, self.interval_seconds)
        check_positive_seconds("bucket_seconds", self.bucket_seconds)
        if self.bucket_weights is not None:
            if not isinstance(self.bucket_weights, (list, tuple)):
                raise ConfigError(f"invalid bucket_weights: {self.bucket_weights!r} (must be a list of weights)", field="bucket_weights", value=repr(self.bucket_weights))
            for i, weight in enumerate(self.bucket_weights):
                check_number(f"bucket_weights[{i}]", weight, low=0.0)
            if not sum(self.bucket_weights) > 0:
                raise ConfigError("invalid bucket_weights: all weights are zero", field="bucket_weights", value=repr(self.bucket_weights))
        if (self.volume_profile is None) == (self.bucket_weights is None):
            raise ConfigError(
                "invalid volume_profile: give exactly one of volume_profile or bucket_weights",
                field="volume_profile",
                value=repr(self.volume_profile),
            )
        if isinstance(self.volume_profile, str):
            if self.volume_profile != MARKET_PROFILE:
                raise ConfigError(f"invalid volume_profile: {self.volume_profile!r} (an {{hour: fraction}} map, or {MARKET_PROFILE!r} for the "
                                  "recorded market's own curve)", field="volume_profile", value=repr(self.volume_profile))
        elif self.volume_profile is not None:
            if not isinstance(self.volume_profile, dict):
                raise ConfigError(f"invalid volume_profile: {self.volume_profile!r} (an {{hour: fraction}} map)", field="volume_profile",
                                  value=repr(self.volume_profile))
            for hour, weight in self.volume_profile.items():
                if isinstance(hour, bool) or not isinstance(hour, (int, str)) or not str(hour).strip().isdigit() or not 0 <= int(hour) <= 23:
                    raise ConfigError(f"invalid volume_profile[{hour}]: {hour!r} (an hour 0..23)", field=f"volume_profile[{hour}]", value=repr(hour))
                check_number(f"volume_profile[{hour}]", weight, low=0.0)
            if not sum(self.volume_profile.values()) > 0:
                raise ConfigError("invalid volume_profile: all fractions are zero", field="volume_profile", value=repr(self.volume_profile))


class VWAPExecAlgorithm(SmartExecAlgorithm):
    """Volume-weighted execution over `duration_seconds` from when the order arrives. Per-order
    `exec_algorithm_params`: `duration_seconds`, `interval_seconds`, and a curve (`volume_profile`, or
    `bucket_weights` with `bucket_seconds`) that replaces the configured one."""

    ORDER_PARAMS = ("duration_seconds", "interval_seconds", "volume_profile", "bucket_weights", "bucket_seconds", *STYLE_PARAMS)
    EXCLUSIVE_PARAMS = ("volume_profile", "bucket_weights")

    def __init__(self, config: VWAPExecAlgorithmConfig | None = None) -> None:
        config = config or VWAPExecAlgorithmConfig(volume_profile={h: 1.0 for h in range(24)})
        super().__init__(config)
        self.vwap_config = config

    def build_schedule(self, order: Order, units: int, lot_units: int) -> list[tuple[int, int]]:
        c = self.order_config(order.client_order_id)
        now = self.clock.timestamp_ns()
        if c.volume_profile == MARKET_PROFILE:
            raise ConfigError("invalid volume_profile: 'market' was not resolved to the market's curve (the backtest runner does it "
                              "with resolve_market_profile; elsewhere give the curve's bucket_weights)", field="volume_profile",
                              value=repr(MARKET_PROFILE))
        if isinstance(c.volume_profile, dict):
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


def uses_market_profile(spec: Any) -> bool:
    """Whether a reference-format algorithm dict asks for the market's own volume curve."""
    return isinstance(spec, dict) and spec.get("volume_profile") == MARKET_PROFILE


def resolve_market_profile(spec: dict[str, Any] | None, curve: Any, *, market: str = "the market") -> dict[str, Any] | None:
    """`spec` with `"volume_profile": "market"` replaced by the curve's buckets (`bucket_weights`,
    `bucket_seconds`); any other spec as it is. `curve`: the market's `volume_profile` (a
    `lean_bars.VolumeCurve`); None is a ConfigError naming `strategy.execution_algorithm.volume_profile`."""
    if spec is None or not uses_market_profile(spec):
        return spec
    if curve is None:
        raise ConfigError(f"invalid {_MARKET_FIELD}: 'market' but {market} has no volume curve (only a recorded market whose loader "
                          "builds one from other days' minute bars has it, e.g. lean_ibm with its minute bars; give an {hour: fraction} "
                          "profile or bucket_weights instead)", field=_MARKET_FIELD, value=repr(MARKET_PROFILE))
    # bucket_seconds beside "market" is refused by `exec_algorithm_fields` (the curve has its own buckets).
    resolved = {k: v for k, v in spec.items() if k != "volume_profile"}
    resolved.update(curve.vwap_params())
    return resolved
