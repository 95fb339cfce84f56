"""Queue position of a resting order (hand-checked against hftbacktest's ProbQueueModel arithmetic)."""

import pytest

from nautilus_sor.backtest.sim.queue import QueuePosition
from nautilus_sor.exceptions import ValidationError


def test_joins_behind_the_displayed_size():
    assert QueuePosition.join("prob_linear", 7.5).ahead == 7.5
    assert QueuePosition.join("risk_averse", 0.0).ahead == 0.0


def test_trades_eat_the_queue_ahead_before_filling_us():
    q = QueuePosition.join("prob_linear", 5.0)
    assert q.on_trade(3.0) == 0.0 and q.ahead == 2.0
    assert q.on_trade(4.0) == 2.0 and q.ahead == 0.0
    assert q.on_trade(1.0) == 1.0


def test_cancels_are_spread_proportionally_over_the_queue():
    q = QueuePosition.join("prob_linear", 4.0)
    # 10 displayed, 4 ahead, 6 behind; 5 cancelled: 5 * 4/10 = 2 of them ahead of us.
    q.on_depth(10.0, 5.0)
    assert q.ahead == pytest.approx(2.0)


def test_the_level_decrease_explained_by_trades_is_not_a_cancel():
    q = QueuePosition.join("prob_linear", 4.0)
    q.on_trade(2.0)  # ahead 2
    # Level 10 -> 6: 2 by the trade, 2 cancelled. front 2, back 8: p_behind 0.8 -> 2 - 0.2 * 2 = 1.6.
    q.on_depth(10.0, 6.0)
    assert q.ahead == pytest.approx(1.6)
    assert q.traded_since_update == 0.0


def test_risk_averse_cancels_are_behind_us():
    q = QueuePosition.join("risk_averse", 4.0)
    q.on_depth(10.0, 5.0)
    assert q.ahead == 4.0
    q.on_depth(5.0, 3.0)  # the level shrank below our queue ahead: it cannot be larger than the level
    assert q.ahead == 3.0


def test_an_increase_joins_behind_us():
    q = QueuePosition.join("prob_linear", 4.0)
    q.on_depth(4.0, 9.0)
    assert q.ahead == 4.0


def test_a_level_cancelled_entirely_puts_us_at_the_front_not_filled():
    q = QueuePosition.join("prob_linear", 4.0)
    q.on_depth(5.0, 0.0)  # front 4, back 1: est = 4 - 0.8 * 5 + min(1 - 0.2 * 5, 0) = 0
    assert q.ahead == 0.0
    assert q.on_trade(0.5) == 0.5


def test_unknown_queue_model_is_refused():
    with pytest.raises(ValidationError) as err:
        QueuePosition.join("fifo", 1.0)
    assert err.value.field == "queue_model"
