"""The execution-style rules (execution_algorithms/styles.py), checked against their statement."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nautilus_sor.exceptions import ConfigError
from nautilus_sor.execution_algorithms.styles import (
    EXECUTION_STYLES,
    Action,
    Resting,
    StyleParams,
    adaptive_rests,
    check_style,
    decide,
    touch_moved_away,
)

S = 1_000_000_000


@pytest.mark.parametrize(("args", "field"), [
    (("passive",), "execution_style"),
    ((None,), "execution_style"),
    (("maker", 0.0), "catch_up_fraction"),
    (("maker", 1.5), "catch_up_fraction"),
    (("maker", float("nan")), "catch_up_fraction"),
    (("maker", True), "catch_up_fraction"),
    (("maker", 0.1, 0.0), "reprice_interval_s"),
    (("maker", 0.1, -1.0), "reprice_interval_s"),
    (("maker", 0.1, 1e9), "reprice_interval_s"),
    (("maker", 0.1, "1"), "reprice_interval_s"),
])
def test_bad_parameters_are_refused_naming_the_field(args, field):
    with pytest.raises(ConfigError) as info:
        check_style(*args)
    assert info.value.field == field
    assert repr(args[-1]) in str(info.value)


def test_good_parameters_are_kept():
    assert check_style("adaptive", 0.25, 2) == StyleParams("adaptive", 0.25, 2.0)
    assert [check_style(s).rests for s in EXECUTION_STYLES] == [False, True, True]


def test_the_touch_moving_away_is_a_better_price_on_our_side_only():
    bid = Resting(True, 100, 10 * S, 0)
    ask = Resting(False, 101, 10 * S, 0)
    assert touch_moved_away(bid, 101) and not touch_moved_away(bid, 100) and not touch_moved_away(bid, 99)
    assert touch_moved_away(ask, 100) and not touch_moved_away(ask, 101) and not touch_moved_away(ask, 102)
    assert not touch_moved_away(bid, None)


@given(is_buy=st.booleans(), price=st.integers(1, 1000), touch=st.one_of(st.none(), st.integers(1, 1000)),
       deadline=st.integers(0, 100), priced=st.integers(0, 100), now=st.integers(0, 100),
       behind=st.integers(-50, 50), parent=st.integers(0, 50), fraction=st.sampled_from([0.05, 0.1, 0.5, 1.0]),
       interval=st.sampled_from([0.5, 1.0, 5.0]))
def test_decide_follows_the_stated_priorities(is_buy, price, touch, deadline, priced, now, behind, parent, fraction, interval):
    # Times in seconds here, ns in the call.
    resting = Resting(is_buy, price, deadline * S, priced * S)
    params = StyleParams("maker", fraction, interval)
    action = decide(resting, params, now_ns=now * S, touch_tick=touch, behind_units=behind, parent_units=parent)
    time_up = now >= deadline
    too_far_behind = parent > 0 and behind > fraction * parent
    better_on_our_side = touch is not None and (touch > price if is_buy else touch < price)
    may_reprice = now - priced >= interval
    if time_up or too_far_behind:
        assert action is Action.CROSS
    elif better_on_our_side and may_reprice:
        assert action is Action.REPRICE
    else:
        assert action is Action.HOLD


@pytest.mark.parametrize(("rest", "cross", "rests"), [
    (1.0, 2.0, True), (2.0, 1.0, False), (1.0, 1.0, False),  # a tie crosses: no queue risk for nothing
    (None, 1.0, False), (float("nan"), 1.0, False), (1.0, None, True), (None, None, False),
])
def test_adaptive_rests_only_when_resting_is_expected_cheaper(rest, cross, rests):
    assert adaptive_rests(rest, cross) is rests
