"""Queue position of a resting order, through the core's `QueuedOrder` (the one implementation shared by
`evaluate`'s simulator and the Nautilus fill model). Expected values are worked by hand from hftbacktest's
documented ProbQueueModel arithmetic: p = f(back) / (f(back) + f(front)), ahead' = front - (1 - p) * chg +
min(back - p * chg, 0), chg = the decrease not explained by trades."""

import math

import pytest

from nautilus_sor._core import QueuedOrder
from nautilus_sor.exceptions import ValidationError
from nautilus_sor.queue_model import check_queue_model


def bid(ahead, qty=5.0, model="prob_linear", power=3.0, lot=1.0):
    return QueuedOrder("BUY", 100, qty, ahead, lot, model, power)


def test_joins_behind_the_displayed_size():
    assert bid(7.5).ahead == 7.5
    assert bid(0.0, model="risk_averse").ahead == 0.0


def test_trades_eat_the_queue_ahead_before_filling_us():
    q = bid(5.0)
    assert q.on_trade("SELL", 100, 3.0) == 0.0 and q.ahead == 2.0
    assert q.on_trade("SELL", 100, 4.0) == 2.0 and q.ahead == 0.0 and q.leaves == 3.0


def test_a_trade_through_our_price_fills_up_to_its_size_and_a_buyer_never_hits_our_bid():
    q = bid(5.0)
    assert q.on_trade("BUY", 100, 9.0) == 0.0
    assert q.on_trade("SELL", 101, 9.0) == 0.0  # above our bid: not ours
    assert q.on_trade("SELL", 99, 2.0) == 2.0 and q.ahead == 5.0
    assert q.on_trade("SELL", 99, 9.0, available=1.0) == 1.0  # the rest of that trade filled our other orders


def test_the_aggressor_is_read_as_the_router_reads_it_and_a_bad_one_is_named():
    q = bid(0.0)
    assert q.on_trade("SELLER", 100, 2.0) == 2.0  # Nautilus's AggressorSide names, as Router.record_trade
    assert q.on_trade(2, 100, 1.0) == 1.0
    for bad in ("NO_AGGRESSOR", 0, True):
        with pytest.raises(ValidationError) as err:
            q.on_trade(bad, 100, 1.0)
        assert err.value.field == "aggressor", err.value


@pytest.mark.parametrize(("model", "power", "expected"), [
    ("prob_linear", 3.0, 2.0 - 0.2 * 5),          # f(x) = x: p = 8/10
    ("prob_power", 2.0, 2.0 - 5 / 17),            # p = 64 / (64 + 4)
    ("prob_log", 3.0, 2.0 - 5 / 3),               # p = ln 9 / (ln 9 + ln 3) = 2/3
    ("risk_averse", 3.0, 2.0),                    # cancels are behind us
])
def test_five_cancelled_from_ten_with_two_ahead(model, power, expected):
    q = bid(2.0, model=model, power=power)
    q.on_depth(10.0, 5.0)
    assert q.ahead == pytest.approx(expected)


def test_the_level_decrease_explained_by_trades_is_not_a_cancel():
    q = bid(4.0)
    q.on_trade("SELL", 100, 2.0)  # ahead 2
    # 10 -> 6: 2 by the trade, 2 cancelled. front 2, back 8: p 0.8 -> 2 - 0.2 * 2 = 1.6.
    q.on_depth(10.0, 6.0)
    assert q.ahead == pytest.approx(1.6)


def test_an_increase_joins_behind_us_and_the_level_caps_the_queue():
    q = bid(4.0, model="risk_averse")
    q.on_depth(4.0, 9.0)
    assert q.ahead == 4.0
    q.on_depth(9.0, 3.0)
    assert q.ahead == 3.0


def test_a_level_cancelled_entirely_puts_us_at_the_front_not_filled():
    q = bid(4.0)
    q.on_depth(5.0, 0.0)
    assert (q.ahead, q.leaves) == (0.0, 5.0)
    assert q.on_trade("SELL", 100, 0.5, 0.5) == 0.0  # less than one lot
    assert q.on_trade("SELL", 100, 1.0) == 1.0


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"model": "fifo"}, "queue_model"),
    ({"model": "prob_power", "power": 0.0}, "queue_power"),
    ({"model": "prob_power", "power": 1e6}, "queue_power"),
    ({"model": "prob_power", "power": math.nan}, "queue_power"),
    ({"lot": 0.0}, "lot_size"),
    ({"qty": -1.0}, "qty"),
    ({"ahead": math.inf}, "displayed"),
])
def test_bad_input_is_refused_naming_the_field(kwargs, field):
    with pytest.raises(ValidationError) as err:
        bid(kwargs.pop("ahead", 1.0), **kwargs)
    assert err.value.field == field


def test_bad_events_are_refused_and_change_nothing():
    q = bid(4.0)
    for call, field in [(lambda: q.on_trade("SELL", 100, -1.0), "trade_qty"), (lambda: q.on_depth(math.nan, 1.0), "prev_qty"),
                        (lambda: q.on_trade("SELL", 2**70, 1.0), "price_tick"), (lambda: q.on_trade("HOLD", 100, 1.0), "aggressor")]:
        with pytest.raises(ValidationError) as err:
            call()
        assert err.value.field == field
    assert (q.ahead, q.leaves) == (4.0, 5.0)


def test_check_queue_model_names_the_field():
    assert check_queue_model("prob_log") == "prob_log"
    with pytest.raises(ValidationError) as err:
        check_queue_model("prob_power", -2.0)
    assert err.value.field == "queue_power"
