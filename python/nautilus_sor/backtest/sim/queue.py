"""Queue position of one resting order of ours at one price level, from market-by-price data.

With L2 data we only see the total displayed size at a price, so where our order sits has to be estimated.
The rules follow hftbacktest's queue models (nkaz001/hftbacktest, `backtest/models/queue.rs`):

- On arrival we join the back: the queue ahead of us is the displayed size at our price (the recorded book
  never contains our order, so that size is everyone else's).
- A trade at our price on our side (the tape) first eats the queue ahead; only volume beyond it can fill us.
- A decrease of the displayed size that the trades since the last book update do not explain is cancels.
  `"prob_linear"` (default, hftbacktest's `ProbQueueModel` with `PowerProbQueueFunc(1)`): a cancel is ahead
  of us with probability front / (front + back), i.e. cancels are spread proportionally over the queue.
  `"risk_averse"` (hftbacktest's `RiskAdverseQueueModel`): cancels are always behind us; the queue ahead
  only shrinks by trades (and never exceeds the displayed size).
- An increase of the displayed size joins behind us: the queue ahead is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from nautilus_sor.exceptions import ValidationError

QUEUE_MODELS = ("prob_linear", "risk_averse")


def check_queue_model(model: str) -> str:
    if model not in QUEUE_MODELS:
        raise ValidationError(f"invalid queue_model: {model!r} (one of {', '.join(QUEUE_MODELS)})", field="queue_model", value=model)
    return model


@dataclass(slots=True)
class QueuePosition:
    """Size ahead of our order at its level, and the traded volume not yet matched by a book update."""

    model: str
    ahead: float
    traded_since_update: float = 0.0

    @classmethod
    def join(cls, model: str, displayed: float) -> QueuePosition:
        """Our order arrives at a level showing `displayed` (others' size): we are behind all of it."""
        check_queue_model(model)
        return cls(model=model, ahead=max(0.0, float(displayed)))

    def on_trade(self, qty: float) -> float:
        """A trade of `qty` at our price against our side. Returns the volume left after the queue ahead
        (what could fill us)."""
        eaten = min(self.ahead, qty)
        self.ahead -= eaten
        self.traded_since_update += qty
        return qty - eaten

    def on_depth(self, prev_qty: float, new_qty: float) -> None:
        """The recorded size at our price changed from `prev_qty` to `new_qty`."""
        change = prev_qty - new_qty - self.traded_since_update  # the part trades do not explain: cancels
        self.traded_since_update = 0.0
        if self.model == "risk_averse" or change <= 0.0:
            self.ahead = min(self.ahead, max(0.0, new_qty))
            return
        front = self.ahead
        back = max(0.0, prev_qty - front)
        # Probability a cancel is behind us (hftbacktest's f(back) / (f(back) + f(front)), f(x) = x).
        p_behind = back / (front + back) if front + back > 0.0 else 1.0
        estimate = front - (1.0 - p_behind) * change + min(back - p_behind * change, 0.0)
        self.ahead = max(0.0, min(estimate, new_qty))
