"""The `router` settings block (SmartOrderRouter's cost-model keywords) and the router's argument checks."""

from __future__ import annotations

from typing import Any

from nautilus_sor._core import Router, VenueSpec
from nautilus_sor.exceptions import ConfigError, ValidationError


def check_horizon(value: Any, field: str) -> float:
    """A horizon in seconds: a finite number > 0 (a bool is not one)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ValidationError(f"invalid {field}: {value!r} (must be a finite number of seconds > 0)", field=field, value=repr(value))
    return float(value)


# The cost-model keywords of `SmartOrderRouter` a config's `router` block may set (the core's, then ours).
CORE_ROUTER_PARAMS = ("volatility", "latency_risk_weight", "miss_cost_bps", "ewma_alpha", "slippage_weight", "tape_tau_s")
ROUTER_PARAMS = (*CORE_ROUTER_PARAMS, "passive_horizon_s", "book_depth")


def check_max_venues(max_venues: Any) -> None:
    """An integer in [1, 2**64)."""
    # Checked whole here, before the call sets the core's lots: the core's own check would come after.
    if isinstance(max_venues, bool) or not isinstance(max_venues, int) or not 1 <= max_venues < 2**64:
        raise ValidationError(f"invalid max_venues: {max_venues!r} (must be an integer in [1, 2**64))", field="max_venues", value=repr(max_venues))


def check_router_params(params: Any, field: str = "router") -> None:
    """A `router` settings dict, checked whole before anything is built: known keys, numbers, and the
    core's own ranges. ConfigError naming `<field>.<key>`."""
    if params is None:
        return
    if not isinstance(params, dict):
        raise ConfigError(f"invalid {field}: {params!r} (a dict of {', '.join(ROUTER_PARAMS)})", field=field, value=repr(params))
    for key, value in params.items():
        if key not in ROUTER_PARAMS:
            raise ConfigError(f"invalid {field}.{key}: unknown setting (one of {', '.join(ROUTER_PARAMS)})", field=f"{field}.{key}", value=repr(value))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"invalid {field}.{key}: {value!r} (must be a number)", field=f"{field}.{key}", value=repr(value))
    depth = params.get("book_depth", 1)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ConfigError(f"invalid {field}.book_depth: {depth!r} (must be an integer >= 1)", field=f"{field}.book_depth", value=repr(depth))
    try:
        if "passive_horizon_s" in params:
            check_horizon(params["passive_horizon_s"], "passive_horizon_s")
        Router([VenueSpec("CHECK", 0.0, 0.0, 0.0)], **{k: v for k, v in params.items() if k in CORE_ROUTER_PARAMS})
    except ValidationError as exc:
        raise ConfigError(f"invalid {field}.{exc.field}: {exc}", field=f"{field}.{exc.field}", value=exc.value) from None



def check_int(value: Any, field: str) -> int:
    """An integer argument (a bool is not one)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"invalid {field}: {value!r} (must be an integer)", field=field, value=repr(value))
    return value


def check_flag(value: Any, field: str) -> bool:
    """A True/False argument: a string such as "false" or a number is refused, not read as truthy."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy's bool too
        return bool(value)
    raise ValidationError(f"invalid {field}: {value!r} (must be True or False)", field=field, value=repr(value))


def router_keywords(params: dict[str, float] | None) -> dict[str, Any]:
    """A checked `router` settings block as `SmartOrderRouter` keywords (None: its defaults)."""
    return dict(params or {})
