"""Execution algorithms (real Nautilus `ExecAlgorithm`s fed by the core's schedules) and order patterns."""

from __future__ import annotations

from typing import Any

from nautilus_sor.exceptions import ConfigError
from nautilus_sor.msgspec_errors import config_error
from nautilus_sor.execution_algorithms.base import SmartExecAlgorithm, SmartExecAlgorithmConfig
from nautilus_sor.execution_algorithms.iceberg import IcebergExecAlgorithm, IcebergExecAlgorithmConfig
from nautilus_sor.execution_algorithms.patterns import (
    AggressiveBuyPattern,
    AggressiveSellPattern,
    IcebergBuyPattern,
    IcebergSellPattern,
    PassiveBuyPattern,
    PassiveSellPattern,
)
from nautilus_sor.execution_algorithms.pov import POVExecAlgorithm, POVExecAlgorithmConfig
from nautilus_sor.execution_algorithms.shortfall import ShortfallExecAlgorithm, ShortfallExecAlgorithmConfig
from nautilus_sor.execution_algorithms.twap import TWAPExecAlgorithm, TWAPExecAlgorithmConfig
from nautilus_sor.execution_algorithms.vwap import (
    MARKET_PROFILE,
    VWAPExecAlgorithm,
    VWAPExecAlgorithmConfig,
    resolve_market_profile,
    uses_market_profile,
)

ALGORITHMS: dict[str, tuple[type[SmartExecAlgorithm], type[SmartExecAlgorithmConfig]]] = {
    "TWAP": (TWAPExecAlgorithm, TWAPExecAlgorithmConfig),
    "VWAP": (VWAPExecAlgorithm, VWAPExecAlgorithmConfig),
    "POV": (POVExecAlgorithm, POVExecAlgorithmConfig),
    "IS": (ShortfallExecAlgorithm, ShortfallExecAlgorithmConfig),
    "ICEBERG": (IcebergExecAlgorithm, IcebergExecAlgorithmConfig),
}


def exec_algorithm_fields(
    spec: dict[str, Any], **shared: Any
) -> tuple[type[SmartExecAlgorithm], type[SmartExecAlgorithmConfig], dict[str, Any]]:
    """The algorithm class, its config class and the config fields of the reference's
    `{"type": "TWAP", ...}` dict (type checked, JSON hour keys made integers); `shared` (e.g.
    use_smart_routing, venues) fills settings the dict does not give."""
    if not isinstance(spec, dict) or "type" not in spec:
        raise ConfigError(f"invalid execution_algorithm.type: <missing> (the spec {spec!r} needs a 'type')", field="execution_algorithm.type",
                          value="<missing>")
    kind = str(spec["type"]).upper()
    if kind not in ALGORITHMS:
        raise ConfigError(
            f"invalid execution_algorithm.type: {spec['type']!r} (one of {', '.join(ALGORITHMS)})",
            field="execution_algorithm.type",
            value=repr(spec["type"]),
        )
    algorithm, config_type = ALGORITHMS[kind]
    fields = {**shared, **{k: v for k, v in spec.items() if k != "type"}}
    if uses_market_profile(spec) and "bucket_seconds" in spec:
        raise ConfigError(
            f"invalid execution_algorithm.bucket_seconds: {spec['bucket_seconds']!r} (volume_profile 'market' takes the market curve's own "
            "buckets; drop bucket_seconds)",
            field="execution_algorithm.bucket_seconds",
            value=repr(spec["bucket_seconds"]),
        )
    if isinstance(fields.get("volume_profile"), dict):
        # JSON object keys are strings: {"9": 0.15} is hour 9.
        profile = {}
        for hour, weight in fields["volume_profile"].items():
            try:
                profile[int(hour)] = weight
            except (TypeError, ValueError):
                raise ConfigError(
                    f"invalid execution_algorithm.volume_profile[{hour}]: {hour!r} (an hour is an integer 0..23)",
                    field=f"execution_algorithm.volume_profile[{hour}]",
                    value=repr(hour),
                ) from None
        for hour, weight in profile.items():
            if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                raise ConfigError(
                    f"invalid execution_algorithm.volume_profile[{hour}]: {weight!r} (must be a fraction)",
                    field=f"execution_algorithm.volume_profile[{hour}]",
                    value=repr(weight),
                )
        fields["volume_profile"] = profile
    return algorithm, config_type, fields


def order_params(spec: dict[str, Any]) -> dict[str, Any] | None:
    """The `exec_algorithm_params` a strategy gives its orders for the reference's `{"type": ..., ...}`
    dict: for one of ours, the fields it takes per order (the others configure the algorithm itself);
    for another algorithm, every field but the type."""
    kind = str(spec.get("type", "")).upper()
    if kind not in ALGORITHMS:
        params = {k: v for k, v in spec.items() if k != "type"}
    else:
        algorithm, _, fields = exec_algorithm_fields(spec)
        params = {k: v for k, v in fields.items() if k in algorithm.ORDER_PARAMS or k in algorithm.PARAM_ALIASES}
    return params or None


def build_exec_algorithm(spec: dict[str, Any], **shared: Any) -> SmartExecAlgorithm:
    """An algorithm from the reference's `{"type": "TWAP", "duration_seconds": ..., ...}` dict.

    `shared` (e.g. use_smart_routing, venues) fills settings the dict does not give."""
    import msgspec

    algorithm, config_type, fields = exec_algorithm_fields(spec, **shared)
    try:
        config = msgspec.convert(fields, config_type)
    except msgspec.ValidationError as exc:
        # msgspec wraps our own __post_init__ errors: rebuild directly to surface the field they name.
        try:
            config_type(**fields)
        except ConfigError as own:  # named within the spec, as msgspec's errors below are
            raise ConfigError(f"invalid execution_algorithm.{str(own).removeprefix('invalid ')}", field=f"execution_algorithm.{own.field}",
                              value=own.value) from None
        except Exception:  # noqa: BLE001 - a type error msgspec already described
            pass
        raise config_error(exc, fields, "execution_algorithm") from None
    return algorithm(config)


__all__ = [
    "ALGORITHMS",
    "MARKET_PROFILE",
    "AggressiveBuyPattern",
    "AggressiveSellPattern",
    "IcebergBuyPattern",
    "IcebergExecAlgorithm",
    "IcebergExecAlgorithmConfig",
    "IcebergSellPattern",
    "POVExecAlgorithm",
    "POVExecAlgorithmConfig",
    "PassiveBuyPattern",
    "PassiveSellPattern",
    "ShortfallExecAlgorithm",
    "ShortfallExecAlgorithmConfig",
    "SmartExecAlgorithm",
    "SmartExecAlgorithmConfig",
    "TWAPExecAlgorithm",
    "TWAPExecAlgorithmConfig",
    "VWAPExecAlgorithm",
    "VWAPExecAlgorithmConfig",
    "build_exec_algorithm",
    "exec_algorithm_fields",
    "order_params",
    "resolve_market_profile",
    "uses_market_profile",
]
