"""How a scheduled algorithm's slice is executed: the execution styles and the rules for a resting slice.

- `taker`: the slice crosses the spread now (market IOC, or IOC limit at the parent's limit).
- `maker`: the slice rests at the touch (best bid to buy, best ask to sell) on the venue the core's
  `select_passive` picks, post-only where the venue supports it. While it rests:
  - when the touch moves away from it (a better price appears on our side), it is re-priced to the new
    touch - at most once per `reprice_interval_s` per child, so a flickering book is not chased;
  - when the parent has fallen behind its schedule by more than `catch_up_fraction` of the parent, or
    the slice's time is up (the next slice is due), what is still resting is crossed.
- `adaptive`: per slice (and again at each re-price), rest or cross, whichever the core says is cheaper:
  resting then crossing the unfilled rest (`select_passive`'s expected cost: maker fee minus the half
  spread if filled, taker fee plus the half spread if not, with the fill probability
  `min(1, rate_against * horizon / (queue ahead + ours))`) against crossing now (the core split's score).
  The horizon is the time the child can rest: to the slice's deadline (the next slice; the last slice:
  the router's `passive_horizon_s`). `rate_against` is the venue's decayed trade tape, which a resting
  style's algorithm feeds from the start (it subscribes to the venue instruments' trades).

This module holds only the rules (pure functions of numbers, unit-tested); the algorithms apply them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

from nautilus_sor.exceptions import ConfigError

TAKER, MAKER, ADAPTIVE = "taker", "maker", "adaptive"
EXECUTION_STYLES = (TAKER, MAKER, ADAPTIVE)
DEFAULT_CATCH_UP_FRACTION = 0.1
DEFAULT_REPRICE_INTERVAL_S = 1.0
# The config fields that set a style, also settable per order (exec_algorithm_params).
STYLE_PARAMS = ("execution_style", "catch_up_fraction", "reprice_interval_s")
MAX_REPRICE_INTERVAL_S = 3600.0  # an hour: beyond it a "rate limit" never re-prices within a schedule


@dataclass(frozen=True, slots=True)
class StyleParams:
    """`style`: one of EXECUTION_STYLES. `catch_up_fraction`: cross what rests once the parent's filled
    quantity lags its schedule by more than this share of the parent (0 < f <= 1; 1: only at the slice's
    end). `reprice_interval_s`: at least this long between two re-prices of one resting child (> 0)."""

    style: str = TAKER
    catch_up_fraction: float = DEFAULT_CATCH_UP_FRACTION
    reprice_interval_s: float = DEFAULT_REPRICE_INTERVAL_S

    @property
    def rests(self) -> bool:
        return self.style != TAKER


def _number(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"invalid {field}: {value!r} (a finite number)", field=field, value=repr(value))
    return float(value)


def check_style(style: Any, catch_up_fraction: Any = DEFAULT_CATCH_UP_FRACTION,
                reprice_interval_s: Any = DEFAULT_REPRICE_INTERVAL_S) -> StyleParams:
    """The checked parameters; a ConfigError naming the field and the value otherwise."""
    if style not in EXECUTION_STYLES:
        raise ConfigError(f"invalid execution_style: {style!r} (one of {', '.join(EXECUTION_STYLES)})",
                          field="execution_style", value=repr(style))
    fraction = _number("catch_up_fraction", catch_up_fraction)
    if not 0.0 < fraction <= 1.0:
        raise ConfigError(f"invalid catch_up_fraction: {catch_up_fraction!r} (a share of the parent in (0, 1])",
                          field="catch_up_fraction", value=repr(catch_up_fraction))
    interval = _number("reprice_interval_s", reprice_interval_s)
    if not 0.0 < interval <= MAX_REPRICE_INTERVAL_S:
        raise ConfigError(f"invalid reprice_interval_s: {reprice_interval_s!r} (seconds in (0, {MAX_REPRICE_INTERVAL_S:g}])",
                          field="reprice_interval_s", value=repr(reprice_interval_s))
    return StyleParams(style, fraction, interval)


class Action(Enum):
    HOLD = "hold"
    REPRICE = "reprice"  # cancel, then rest the unfilled rest at the new touch
    CROSS = "cross"  # cancel, then take the unfilled rest


@dataclass(frozen=True, slots=True)
class Resting:
    """One resting child as the rules see it. Prices in the instrument's ticks (integers: no float ties)."""

    is_buy: bool
    price_tick: int
    deadline_ns: int  # the slice's end: the next slice's time (or the schedule's end)
    last_priced_ns: int  # when it was last (re-)priced


def touch_moved_away(resting: Resting, touch_tick: int | None) -> bool:
    """A better price than ours on our side: a bid above our bid, an ask below our ask. (A touch that
    moved *towards* us - ours is now the only best - needs nothing.)"""
    if touch_tick is None:
        return False
    return touch_tick > resting.price_tick if resting.is_buy else touch_tick < resting.price_tick


def decide(resting: Resting, params: StyleParams, *, now_ns: int, touch_tick: int | None, behind_units: int, parent_units: int) -> Action:
    """What to do with a resting child now. `behind_units`: the schedule's due quantity minus what the
    parent has filled (<= 0: on or ahead of schedule)."""
    if now_ns >= resting.deadline_ns:
        return Action.CROSS
    if parent_units > 0 and behind_units > params.catch_up_fraction * parent_units:
        return Action.CROSS
    if touch_moved_away(resting, touch_tick) and now_ns - resting.last_priced_ns >= params.reprice_interval_s * 1e9:
        return Action.REPRICE
    return Action.HOLD


def adaptive_rests(rest_then_cross_bps: float | None, cross_now_bps: float | None) -> bool:
    """Whether an adaptive slice rests: resting-then-crossing is expected to cost less than crossing now
    (both in bps versus the mid, fees in). Without an estimate for resting it crosses; without one for
    crossing (no book to cross into) it rests."""
    if rest_then_cross_bps is None or not math.isfinite(rest_then_cross_bps):
        return False
    if cross_now_bps is None or not math.isfinite(cross_now_bps):
        return True
    return rest_then_cross_bps < cross_now_bps


__all__ = ["ADAPTIVE", "EXECUTION_STYLES", "MAKER", "STYLE_PARAMS", "TAKER", "Action", "Resting", "StyleParams", "adaptive_rests", "check_style", "decide",
           "touch_moved_away"]
