"""How a parent is executed in `evaluate`'s simulator (`ExecParams`: the same for every scenario of a
comparison), with the algorithms and slice rules it knows. The execution itself: `simulator.py`."""

from __future__ import annotations

import math
from dataclasses import dataclass

from nautilus_sor.exceptions import ValidationError
from nautilus_sor.execution_algorithms.base import DEFAULT_MAX_RETRIES, RETRY_DELAY_NS
from nautilus_sor.execution_algorithms.resting import DEFAULT_LAST_SLICE_HORIZON_S
from nautilus_sor.execution_algorithms.styles import DEFAULT_CATCH_UP_FRACTION, DEFAULT_REPRICE_INTERVAL_S, TAKER, StyleParams, check_style
from nautilus_sor.queue_model import DEFAULT_QUEUE_MODEL, DEFAULT_QUEUE_POWER, check_queue_model

ALGORITHMS = ("aggressive", "twap", "vwap", "iceberg")
SLICE_RULES = ("live", "within_slice")
NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ExecParams:
    """How parents are executed (the same for every scenario of a comparison)."""

    horizon_s: float = 60.0
    interval_s: float = 5.0
    iceberg_visible_pct: float = 0.1
    passive_first_s: float | None = None  # TWAP/VWAP: rest at the touch this long before crossing
    # TWAP/VWAP execution style (`execution_algorithms/styles.py`: taker, maker, adaptive) and its rules'
    # parameters; `passive_horizon_s`: how long the last slice may rest (the live router's default).
    execution_style: str = TAKER
    catch_up_fraction: float = DEFAULT_CATCH_UP_FRACTION
    reprice_interval_s: float = DEFAULT_REPRICE_INTERVAL_S
    passive_horizon_s: float = DEFAULT_LAST_SLICE_HORIZON_S
    # TWAP/VWAP: re-sends of what the last slice leaves, as the live algorithms' (`max_retries`, the retry
    # delay); `aggressive` (and an iceberg's end) re-sends as soon as the answers are back, up to
    # `aggressive_retries` times within the horizon.
    max_retries: int = DEFAULT_MAX_RETRIES
    retry_delay_s: float = RETRY_DELAY_NS / NS
    aggressive_retries: int = 50
    slice_rule: str = "live"  # or "within_slice" (see `simulator.py`'s docstring)
    queue_model: str = DEFAULT_QUEUE_MODEL  # see nautilus_sor.queue_model
    queue_power: float = DEFAULT_QUEUE_POWER  # f(x) = x**queue_power, read by "prob_power" only
    # Router cost-model weights (`_core.Router`).
    volatility: float = 1e-4
    latency_risk_weight: float = 1.0
    miss_cost_bps: float = 5.0
    ewma_alpha: float = 0.05
    slippage_weight: float = 1.0  # learned arrival slippage priced in (0: off, the evaluation's first runs)
    # The books decisions see: as published (False), or published minus what we ourselves took from them
    # (True: what a live feed shows once our own trades have printed). Default True: the router knows
    # its own fills live; False reproduces the evaluation's first, published-books-only run.
    see_own_consumption: bool = True
    # Where the router rests passive clips: "router" (the core's taker `select_venue` with learned fill
    # rates) or "tape" (the core's `select_passive`: expected cost with a fill probability from the recent
    # tape, decayed with time constant `tape_tau_s`, over one slice interval).
    passive_scoring: str = "tape"
    tape_tau_s: float = 30.0

    def validate(self) -> ExecParams:
        for name in ("horizon_s", "interval_s", "tape_tau_s", "passive_horizon_s", "retry_delay_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValidationError(f"invalid {name}: {value!r} (must be > 0 seconds)", field=name, value=value)
        if not 0 < self.iceberg_visible_pct <= 1:
            raise ValidationError(f"invalid iceberg_visible_pct: {self.iceberg_visible_pct!r} (must be in (0, 1])",
                                  field="iceberg_visible_pct", value=self.iceberg_visible_pct)
        if self.passive_first_s is not None and not self.passive_first_s > 0:
            raise ValidationError(f"invalid passive_first_s: {self.passive_first_s!r} (must be > 0)", field="passive_first_s", value=self.passive_first_s)
        for name in ("max_retries", "aggressive_retries"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 0):
                raise ValidationError(f"invalid {name}: {value!r} (must be a whole number >= 0)", field=name, value=value)
        if self.slice_rule not in SLICE_RULES:
            raise ValidationError(f"invalid slice_rule: {self.slice_rule!r} (one of {', '.join(SLICE_RULES)})", field="slice_rule", value=self.slice_rule)
        if self.passive_scoring not in ("router", "tape"):
            raise ValidationError(f"invalid passive_scoring: {self.passive_scoring!r} (router or tape)", field="passive_scoring", value=self.passive_scoring)
        check_queue_model(self.queue_model, self.queue_power)
        style = self.style()
        if style.rests and self.passive_first_s is not None:
            raise ValidationError(f"invalid passive_first_s: {self.passive_first_s!r} (a resting execution_style {style.style!r} decides how long a "
                                  "slice rests; passive_first_s is for taker)", field="passive_first_s", value=self.passive_first_s)
        return self

    def style(self) -> StyleParams:
        """The checked execution style (`styles.check_style`: a ConfigError naming the field otherwise)."""
        return check_style(self.execution_style, self.catch_up_fraction, self.reprice_interval_s)


__all__ = ["ALGORITHMS", "NS", "SLICE_RULES", "ExecParams"]
