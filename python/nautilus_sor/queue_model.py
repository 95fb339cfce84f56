"""Names and parameters of the queue-position models (the rules live in the core: `_core.QueuedOrder`).

`risk_averse` (hftbacktest's RiskAdverseQueueModel: cancels are behind us), `prob_linear` (ProbQueueModel
with f(x) = x: cancels spread proportionally), `prob_power` (f(x) = x**queue_power, 0 < queue_power <= 10)
and `prob_log` (f(x) = ln(1 + x)).
"""

from __future__ import annotations

from nautilus_sor._core import QueuedOrder

QUEUE_MODELS = ("prob_linear", "risk_averse", "prob_power", "prob_log")
DEFAULT_QUEUE_MODEL = "prob_linear"
DEFAULT_QUEUE_POWER = 3.0
QUEUE_OFF = "off"  # a backtest without the queue-position fill model (Nautilus's own L2 matching)


def check_queue_model(model: str, power: float = DEFAULT_QUEUE_POWER) -> str:
    """Returns `model` if the core accepts it with `power`; a ValidationError naming `queue_model` or
    `queue_power` otherwise (the core is the one place the names and ranges are checked)."""
    QueuedOrder("BUY", 0, 0.0, 0.0, 1.0, model, power)
    return model


__all__ = ["DEFAULT_QUEUE_MODEL", "DEFAULT_QUEUE_POWER", "QUEUE_MODELS", "QUEUE_OFF", "check_queue_model"]
