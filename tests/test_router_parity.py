"""The Rust core against the pure-Python reference model and a brute-force optimum."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference_router as ref
from nautilus_sor import (
    InsufficientLiquidityError,
    NoEligibleVenueError,
    NautilusSorError,
    Router,
    VenueSpec,
)

SIDES = ["BUY", "SELL"]


@st.composite
def markets(draw, lots=(1, 2, 5, 10), with_mins=True, allow_bookless=True):
    n = draw(st.integers(1, 5))
    # Far enough from zero that the deepest generated level (11 ticks of 1.0 away) stays positive.
    mid = draw(st.floats(20.0, 1000.0))
    tick = draw(st.sampled_from([0.01, 0.5, 1.0]))
    venues = []
    for i in range(n):
        lot = draw(st.sampled_from(lots))
        min_qty = draw(st.integers(0, 3 * lot)) if with_mins else 0
        has_book = draw(st.booleans()) if allow_bookless else True
        v = ref.RefVenue(
            name=f"V{i}",
            taker_fee=draw(st.sampled_from([0.0, 0.0001, 0.0004, 0.001])),
            latency_ms=draw(st.sampled_from([0.0, 1.0, 20.0, 80.0, 300.0])),
            lot_size=lot,
            min_qty=min_qty,
            enabled=draw(st.booleans()) or i == 0,
        )
        if has_book:
            spread = draw(st.integers(1, 5))
            nb, na = draw(st.integers(0, 6)), draw(st.integers(0, 6))
            v.bids = [(round(mid - (spread + k) * tick, 6), draw(st.integers(1, 40))) for k in range(nb)]
            v.asks = [(round(mid + (spread + k) * tick, 6), draw(st.integers(1, 40))) for k in range(na)]
        venues.append(v)
    return venues


def core_router(venues: list[ref.RefVenue], **params) -> Router:
    router = Router(
        [VenueSpec(v.name, 0.0, v.taker_fee, v.latency_ms, v.lot_size, v.min_qty, v.enabled) for v in venues],
        **params,
    )
    for v in venues:
        if v.asks is not None:
            router.set_book(v.name, v.bids, v.asks)
    return router


def core_cost(split, side: str) -> float:
    sign = 1.0 if side == "BUY" else -1.0
    price = split.reference_price if split.reference_price is not None else 1.0
    # Each allocation's score is its all-in cost per unit against the reference price.
    return sum((a.score_bps * 1e-4 * price + sign * price) * a.qty for a in split.allocations)


# Lots 1..20 (coprime pairs occur), minimums, disabled and bookless venues, empty sides, max_venues 1..5.
LOTS = tuple(range(1, 21))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markets(lots=LOTS), st.sampled_from(SIDES), st.integers(1, 60), st.integers(1, 5), st.booleans())
def test_split_is_the_brute_force_optimum_with_lots_and_minimums(venues, side, total, max_venues, use_limit):
    limit = None
    if use_limit:
        r = ref.reference_price(venues, side, None)
        limit = None if r is None else r * (1.002 if side == "BUY" else 0.998)
    router = core_router(venues)
    expected = ref.split(venues, side, total, max_venues, limit)
    try:
        got = router.split(side, total, max_venues, limit)
    except NautilusSorError as e:
        assert expected is None, f"core refused a split that exists ({e}): {expected}"
        return
    assert expected is not None, f"core found a split where none is valid: {got}"
    _, best_cost = expected
    assert sum(a.qty for a in got.allocations) == total
    assert len(got.allocations) <= max_venues
    for a in got.allocations:
        v = venues[a.venue_index]
        assert a.qty % v.lot_size == 0 and a.qty >= v.min_qty and v.enabled
    # Never dearer than the optimum (equal within float tolerance: it is the optimum).
    assert core_cost(got, side) <= best_cost + 1e-9 * max(1.0, abs(best_cost))
    assert math.isclose(core_cost(got, side), best_cost, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.slow
@settings(max_examples=5_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markets(lots=LOTS), st.sampled_from(SIDES), st.integers(1, 40), st.integers(1, 5))
def test_split_is_the_brute_force_optimum_at_scale(venues, side, total, max_venues):
    router = core_router(venues)
    expected = ref.split(venues, side, total, max_venues)
    try:
        got = router.split(side, total, max_venues)
    except NautilusSorError:
        assert expected is None
        return
    assert expected is not None
    assert math.isclose(core_cost(got, side), expected[1], rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(markets(lots=(1,), with_mins=False, allow_bookless=False), st.sampled_from(SIDES), st.integers(1, 120))
def test_split_cost_is_the_brute_force_optimum(venues, side, total):
    router = core_router(venues)
    best = ref.brute_force_cost(venues, side, total)
    try:
        got = router.split(side, total, len(venues))
    except InsufficientLiquidityError as e:
        assert best is None
        assert e.shortfall == total - e.available > 0
        return
    except NoEligibleVenueError as e:
        # Every venue's side is empty (or disabled): the error says so, venue by venue.
        assert best is None and all(not v.enabled or not (v.asks if side == "BUY" else v.bids) for v in venues), e
        return
    assert best is not None
    assert math.isclose(core_cost(got, side), best, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=300, deadline=None)
@given(markets(), st.sampled_from(SIDES), st.integers(1, 60))
def test_select_venue_matches_reference(venues, side, qty):
    router = core_router(venues)
    expected = ref.select_venue(venues, side, qty)
    try:
        got = router.select_venue(side, qty)
    except NautilusSorError:
        assert expected is None
        return
    assert expected is not None
    assert got.best.venue_index == expected[0]
    assert math.isclose(got.best.score_bps, expected[1], rel_tol=1e-9, abs_tol=1e-9)
    # Every candidate is explained: a quote or a reason.
    assert len(got.candidates) == len(venues)
    assert all((q is None) != (why is None) for _, q, why in got.candidates)


@settings(max_examples=100, deadline=None)
@given(markets(), st.lists(st.integers(0, 6), min_size=5, max_size=5), st.sampled_from(SIDES), st.integers(1, 60))
def test_learned_rejects_enter_the_score_as_the_reference_predicts(venues, rejects, side, qty):
    alpha = 0.1
    router = core_router(venues, ewma_alpha=alpha)
    for v, k in zip(venues, rejects):
        for _ in range(k):
            router.record_reject(v.name)
        # Each reject moves fill rate toward 0 and reject rate toward 1 by alpha.
        v.fill_probability = (1 - alpha) ** k * (1 - alpha) ** k
        assert math.isclose(router.venue_stats(v.name).fill_probability, v.fill_probability, rel_tol=1e-12)
    expected = ref.select_venue(venues, side, qty)
    try:
        got = router.select_venue(side, qty)
    except NautilusSorError:
        assert expected is None
        return
    assert (got.best.venue_index, pytest.approx(got.best.score_bps, rel=1e-9, abs=1e-9)) == (
        expected[0],
        expected[1],
    )


@settings(max_examples=60, deadline=None)
@given(markets(), st.lists(st.tuples(st.sampled_from([1, 2]), st.integers(1, 80)), min_size=1, max_size=20))
def test_batch_calls_equal_single_calls(venues, requests):
    router = core_router(venues)
    sides = np.array([s for s, _ in requests], dtype=np.int8)
    qtys = np.array([q for _, q in requests], dtype=np.uint64)
    limits = np.full(len(requests), np.nan)
    alloc, status = router.route_batch(sides, qtys, limits, 3)
    venue_idx, scores = router.select_batch(sides, qtys, limits)
    assert alloc.shape == (len(requests), len(venues))
    for row, (s, q) in enumerate(requests):
        side = "BUY" if s == 1 else "SELL"
        try:
            split = router.split(side, q, 3)
            assert status[row] == 0
            assert int(alloc[row].sum()) == q
            assert {a.venue_index: a.qty for a in split.allocations} == {
                i: int(x) for i, x in enumerate(alloc[row]) if x
            }
        except NautilusSorError:
            assert status[row] != 0 and alloc[row].sum() == 0
        try:
            sel = router.select_venue(side, q)
            assert venue_idx[row] == sel.best.venue_index and scores[row] == sel.best.score_bps
        except NautilusSorError:
            assert venue_idx[row] == -1 and np.isnan(scores[row])
