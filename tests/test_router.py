"""Router behaviour through Python: bad input gets typed errors naming the field; learning moves flow."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nautilus_sor import (
    InsufficientLiquidityError,
    NautilusSorError,
    NoEligibleVenueError,
    Router,
    UnknownVenueError,
    ValidationError,
    VenueSpec,
)
from nautilus_trader.model.enums import OrderSide


def two_venue_router(**params) -> Router:
    router = Router(
        [
            VenueSpec("A", maker_fee=0.0, taker_fee=0.001, latency_ms=10.0),
            VenueSpec("B", maker_fee=0.0, taker_fee=0.0, latency_ms=10.0),
        ],
        **params,
    )
    router.set_book("A", [(99.0, 5)], [(100.0, 5), (101.0, 5)])
    router.set_book("B", [(99.5, 5)], [(100.5, 3), (102.0, 10)])
    return router


def test_hand_checked_split_and_terms():
    router = two_venue_router(volatility=0.0, miss_cost_bps=0.0)
    split = router.split(OrderSide.BUY, 10, 5)
    assert [(a.venue, a.qty) for a in split.allocations] == [("A", 7), ("B", 3)]
    a = split.allocations[0]
    assert a.expected_price == pytest.approx(702.0 / 7)
    assert a.fee == pytest.approx(0.702)
    assert split.reference_price == 99.75
    assert split.score_bps == pytest.approx((1004.202 / 10 - 99.75) / 99.75 * 1e4)


def test_nautilus_order_side_strings_and_ints_are_accepted():
    router = two_venue_router()
    for side in (OrderSide.BUY, 1, "BUY", "buy"):
        assert router.select_venue(side, 5).venue == "A"
    for side in (OrderSide.SELL, 2, "SELL"):
        assert router.select_venue(side, 5).venue == "B"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "", "maker_fee": 0.0, "taker_fee": 0.0}, "name"),
        ({"name": "A", "maker_fee": math.nan, "taker_fee": 0.0}, "maker_fee"),
        ({"name": "A", "maker_fee": 0.0, "taker_fee": -0.0004}, "taker_fee"),
        ({"name": "A", "maker_fee": 0.0, "taker_fee": math.nan}, "taker_fee"),
        ({"name": "A", "maker_fee": 0.0, "taker_fee": 4.0}, "taker_fee"),
        ({"name": "A", "maker_fee": 0.0, "taker_fee": 0.0, "latency_ms": -1.0}, "latency_ms"),
        ({"name": "A", "maker_fee": 0.0, "taker_fee": 0.0, "latency_ms": math.nan}, "latency_ms"),
        ({"name": "A", "maker_fee": 0.0, "taker_fee": 0.0, "lot_size": 0}, "lot_size"),
    ],
)
def test_bad_venue_specs_name_the_field(kwargs, field):
    with pytest.raises(ValidationError) as info:
        VenueSpec(**kwargs)
    assert info.value.field == field
    assert field in str(info.value)


def test_bad_router_construction():
    a = VenueSpec("A", 0.0, 0.0)
    with pytest.raises(ValidationError) as info:
        Router([])
    assert info.value.field == "venues"
    with pytest.raises(ValidationError) as info:
        Router([a, VenueSpec("A", 0.0, 0.0)])
    assert (info.value.field, info.value.value) == ("venues[1].name", "A")
    for param in ("volatility", "latency_risk_weight", "miss_cost_bps"):
        with pytest.raises(ValidationError) as info:
            Router([a], **{param: math.nan})
        assert info.value.field == param
    with pytest.raises(ValidationError) as info:
        Router([a], ewma_alpha=0.0)
    assert info.value.field == "ewma_alpha"


@pytest.mark.parametrize(
    ("call", "field", "value"),
    [
        (lambda r: r.split("BUY", 0, 2), "total_qty", "0"),
        (lambda r: r.select_venue("BUY", 0), "quantity", "0"),
        (lambda r: r.split("BUY", 5, 0), "max_venues", "0"),
        (lambda r: r.split("BUY", 5, 2, math.nan), "limit_price", "NaN"),
        (lambda r: r.select_venue("BUY", 5, -1.0), "limit_price", "-1"),
        (lambda r: r.select_venue("HOLD", 5), "side", '"HOLD"'),
        (lambda r: r.select_venue(3, 5), "side", "3"),
    ],
)
def test_bad_requests_name_field_and_value(call, field, value):
    with pytest.raises(ValidationError) as info:
        call(two_venue_router())
    assert (info.value.field, info.value.value) == (field, value)


def test_negative_integers_are_validation_errors_not_overflows():
    router = two_venue_router()
    for call, field in [
        (lambda: router.split("BUY", -5, 2), "total_qty"),
        (lambda: router.split("BUY", 5, -1), "max_venues"),
        (lambda: router.select_venue("BUY", -1), "quantity"),
        (lambda: router.set_book("A", [(98.0, -1)], []), "bids[0].size"),
        (lambda: VenueSpec("X", 0.0, 0.0, lot_size=-1), "lot_size"),
        (lambda: router.record_order_done("A", -1, 1), "filled"),
    ]:
        with pytest.raises(ValidationError) as info:
            call()
        assert info.value.field == field


@pytest.mark.parametrize(
    ("bids", "asks", "field"),
    [
        ([(100.0, 1)], [(100.0, 1)], "bids[0].price"),  # crossed
        ([(99.0, 1), (99.5, 1)], [], "bids[1].price"),  # unsorted
        ([], [(101.0, 1), (100.5, 1)], "asks[1].price"),  # unsorted
        ([], [(math.nan, 1)], "asks[0].price"),
        ([(-1.0, 1)], [], "bids[0].price"),
        ([], [(101.0, 0)], "asks[0].size"),
    ],
)
def test_bad_ladders_name_the_level_and_leave_the_book(bids, asks, field):
    router = two_venue_router()
    before = router.book("A")
    with pytest.raises(ValidationError) as info:
        router.set_book("A", bids, asks)
    assert info.value.field == field
    assert router.book("A") == before


def test_unknown_venue_is_typed():
    router = two_venue_router()
    with pytest.raises(UnknownVenueError) as info:
        router.set_book("C", [], [])
    assert (info.value.field, info.value.value) == ("venue", "C")
    with pytest.raises(UnknownVenueError):
        router.record_reject("C")


def test_quantity_not_a_multiple_of_any_lot():
    router = Router([VenueSpec("A", 0.0, 0.0, lot_size=10), VenueSpec("B", 0.0, 0.0, lot_size=4)])
    with pytest.raises(ValidationError) as info:
        router.split("BUY", 7, 2)
    assert info.value.field == "total_qty"
    with pytest.raises(ValidationError) as info:
        router.select_venue("BUY", 7)
    assert info.value.field == "quantity"
    # 18 = 10 + 2*4 is reachable exactly.
    split = router.split("BUY", 18, 2, 100.0)
    assert sorted((a.venue, a.qty) for a in split.allocations) == [("A", 10), ("B", 8)]


def test_insufficient_liquidity_reports_the_shortfall():
    with pytest.raises(InsufficientLiquidityError) as info:
        two_venue_router().split("BUY", 20, 5, 101.0)
    e = info.value
    assert (e.requested, e.available, e.shortfall, e.limit_price) == (20, 13, 7, 101.0)
    assert "shortfall 7" in str(e)


def test_all_disabled_is_no_eligible_venue():
    router = two_venue_router()
    router.set_enabled("A", False)
    router.set_enabled("B", False)
    with pytest.raises(NoEligibleVenueError):
        router.select_venue("BUY", 1)


def test_rejecting_venue_loses_flow():
    router = Router(
        [
            VenueSpec("BINANCE-FUTURES", maker_fee=0.0002, taker_fee=0.0004, latency_ms=50),
            VenueSpec("DERIBIT", maker_fee=0.0001, taker_fee=0.0003, latency_ms=80),
        ],
        ewma_alpha=0.2,
    )
    assert router.select_venue("BUY", 1, 50_000.0).venue == "DERIBIT"
    for _ in range(5):
        router.record_reject("DERIBIT")
    assert router.select_venue("BUY", 1, 50_000.0).venue == "BINANCE-FUTURES"
    stats = router.venue_stats("DERIBIT")
    assert stats.rejects == 5 and stats.reject_rate == pytest.approx(1 - 0.8**5)
    # It recovers as acks and complete fills come back.
    for _ in range(30):
        router.record_ack("DERIBIT", 80.0)
        router.record_order_done("DERIBIT", 1, 1)
    assert router.select_venue("BUY", 1, 50_000.0).venue == "DERIBIT"


def test_slippage_and_latency_are_learned():
    router = two_venue_router(ewma_alpha=1.0)
    router.record_fill("A", "BUY", 100.0, 100.05)
    router.record_ack("A", 42.0)
    s = router.venue_stats("A")
    assert s.slippage_bps == pytest.approx(5.0)
    assert s.latency_mean_ms == 42.0
    with pytest.raises(ValidationError) as info:
        router.record_fill("A", "BUY", math.nan, 100.0)
    assert info.value.field == "expected_price"
    with pytest.raises(ValidationError) as info:
        router.record_order_done("A", 2, 1)
    assert info.value.field == "filled"


@pytest.mark.parametrize(
    ("sides", "qtys", "limits", "field"),
    [
        ([1, 3], [1, 1], [np.nan, np.nan], "sides[1]"),
        ([1, 1], [1, 0], [np.nan, np.nan], "quantities[1]"),
        ([1, 1], [1, 1], [np.nan, -1.0], "limit_prices[1]"),
        ([1, 1], [1], [np.nan, np.nan], "quantities"),
        ([1, 1], [1, 1], [np.nan], "limit_prices"),
    ],
)
def test_batch_validates_every_row_first(sides, qtys, limits, field):
    router = two_venue_router()
    with pytest.raises(ValidationError) as info:
        router.route_batch(
            np.array(sides, dtype=np.int8), np.array(qtys, dtype=np.uint64), np.array(limits), 2
        )
    assert info.value.field == field


def test_every_error_is_a_nautilus_sor_error():
    for exc in (ValidationError, UnknownVenueError, NoEligibleVenueError, InsufficientLiquidityError):
        assert issubclass(exc, NautilusSorError)
    assert issubclass(ValidationError, ValueError)


def test_restore_venue_stats_round_trips_exactly_and_refuses_bad_state_whole() -> None:
    from nautilus_sor._core import Router, VenueSpec
    from nautilus_sor.exceptions import ValidationError

    learned = Router([VenueSpec("A", 0.0, 0.0004, 5.0), VenueSpec("B", 0.0, 0.0004, 5.0)], ewma_alpha=0.2)
    learned.record_ack("A", 9.0)
    learned.record_ack("A", 2.5)
    learned.record_reject("A")
    learned.record_fill("A", "BUY", 100.0, 100.02)
    learned.record_order_done("A", 3, 7)
    s = learned.venue_stats("A")
    fields = ("fill_rate", "reject_rate", "latency_mean_ms", "latency_var_ms2", "slippage_bps", "orders", "fills", "rejects", "acks")
    saved = {f: getattr(s, f) for f in fields}
    fresh = Router([VenueSpec("A", 0.0, 0.0004, 5.0), VenueSpec("B", 0.0, 0.0004, 5.0)], ewma_alpha=0.2)
    fresh.restore_venue_stats("A", **saved)
    assert repr(fresh.venue_stats("A")) == repr(s)
    assert fresh.venue_stats("A").latency_tail_ms == s.latency_tail_ms
    # Learning continues identically from the restored state.
    for r in (learned, fresh):
        r.record_ack("A", 4.0)
    assert repr(fresh.venue_stats("A")) == repr(learned.venue_stats("A"))
    before = repr(fresh.venue_stats("A"))
    with pytest.raises(ValidationError) as err:
        fresh.restore_venue_stats("A", **{**saved, "fill_rate": 1.5})
    assert err.value.field == "fill_rate"
    with pytest.raises(ValidationError) as err:
        fresh.restore_venue_stats("A", **{**saved, "acks": -1})
    assert err.value.field == "acks"
    assert repr(fresh.venue_stats("A")) == before
