"""Checks of the algorithms' config fields, shared by every algorithm's config: a ConfigError naming the
field and the value for anything out of range."""

from __future__ import annotations

from typing import Any

from nautilus_sor._core import MAX_SLICES  # the core's cap on a schedule's slices
from nautilus_sor.exceptions import ConfigError


def check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False) -> float:
    """A finite number within the bounds, else a ConfigError naming `name`."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and abs(value) != float("inf")
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "" if low is None else f"{'>' if low_open else '>='} {low}"
        hi = "" if high is None else f"{'<' if high_open else '<='} {high}"
        raise ConfigError(f"invalid {name}: {value!r} (must be a finite number {' and '.join(x for x in (lo, hi) if x)})", field=name, value=repr(value))
    return float(value)


def check_slicing(duration: float, interval: float) -> None:
    """Both positive, interval <= duration, and a number of slices the core can build."""
    check_positive_seconds("duration_seconds", duration)
    check_positive_seconds("interval_seconds", interval)
    if interval > duration:
        raise ConfigError(f"invalid interval_seconds: {interval} (greater than duration_seconds {duration})", field="interval_seconds", value=repr(interval))
    if duration / interval > MAX_SLICES:
        raise ConfigError(
            f"invalid interval_seconds: {interval} ({duration / interval:.3g} slices over {duration} s; at most {MAX_SLICES:,})",
            field="interval_seconds",
            value=repr(interval),
        )


def check_positive_seconds(name: str, value: Any) -> None:
    """A finite number of seconds > 0."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0 or value != value or value == float("inf"):
        raise ConfigError(f"invalid {name}: {value!r} (must be a finite number of seconds > 0)", field=name, value=repr(value))


def check_max_finished_parents(value: Any) -> None:
    """None (keep every finished parent) or an integer >= 0."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ConfigError(f"invalid max_finished_parents: {value!r} (an integer >= 0, or None to keep all)", field="max_finished_parents",
                          value=repr(value))
