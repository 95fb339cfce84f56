"""Routing through Python against the baselines a competent engineer would write, in one run.

Lot-1 split (n venues x 20 levels): the core (`Router.split`, `Router.split_units`) against a heapq merge
in pure Python, a lean NumPy cut and a presorted NumPy cut (benches/market.py); each baseline's
allocation is checked equal to the core's. With coprime lots and minimums, or `max_venues` binding, no
baseline solves the same problem (they ignore lots and venue counts): those report the core's time next
to its own lot-1 split on the same market (the price of exactness).

Run: pytest benches/bench_router.py   (on the installed release build: pip install .)
"""

from __future__ import annotations

import numpy as np
import pytest

from market import Books, LeanNumpySplit, PresortedNumpySplit, core_market, heapq_split

N_VENUES = [2, 5, 10, 50]


def qty(n: int) -> int:
    return 150 * n


def core_alloc(n: int, total: int) -> dict[int, int]:
    return {a.venue_index: a.qty for a in core_market(n).split("BUY", total, n).allocations}


@pytest.mark.parametrize("n", N_VENUES)
def test_split_core(benchmark, n, record_ratio):
    router = core_market(n)
    result = benchmark(router.split, "BUY", qty(n), n)
    assert sum(a.qty for a in result.allocations) == qty(n)
    for baseline in ("heapq", "numpy_lean", "numpy_presorted"):
        record_ratio(f"test_split_core[{n}]", f"test_split_{baseline}[{n}]")


@pytest.mark.parametrize("n", N_VENUES)
def test_split_units_core(benchmark, n, record_ratio):
    router = core_market(n)
    pairs = benchmark(router.split_units, "BUY", qty(n), n)
    assert sum(q for _, q in pairs) == qty(n)
    for baseline in ("heapq", "numpy_lean", "numpy_presorted"):
        record_ratio(f"test_split_units_core[{n}]", f"test_split_{baseline}[{n}]")


@pytest.mark.parametrize("n", N_VENUES)
def test_split_heapq(benchmark, n):
    alloc = benchmark(heapq_split, Books(n), qty(n))
    assert {i: q for i, q in enumerate(alloc) if q} == core_alloc(n, qty(n))


@pytest.mark.parametrize("n", N_VENUES)
def test_split_numpy_lean(benchmark, n):
    alloc = benchmark(LeanNumpySplit(Books(n)).split, qty(n))
    assert {i: int(q) for i, q in enumerate(alloc) if q} == core_alloc(n, qty(n))


@pytest.mark.parametrize("n", N_VENUES)
def test_split_numpy_presorted(benchmark, n):
    alloc = benchmark(PresortedNumpySplit(Books(n)).split, qty(n))
    assert {i: int(q) for i, q in enumerate(alloc) if q} == core_alloc(n, qty(n))


@pytest.mark.parametrize("n", [5, 10, 50])
def test_split_lots_mins_core(benchmark, n, record_ratio):
    """Coprime lots (7, 11, 13, 17, 19) and minimums; the total is no single lot's multiple."""
    router = core_market(n, lots=True)
    result = benchmark(router.split, "BUY", qty(n) + 1, n)
    assert sum(a.qty for a in result.allocations) == qty(n) + 1
    record_ratio(f"test_split_lots_mins_core[{n}]", f"test_split_core[{n}]")


@pytest.mark.parametrize("n", [5, 10, 50, 200])
def test_split_max3_core(benchmark, n, record_ratio):
    """At most 3 venues of n (exact subset search, pruned by bounds)."""
    router = core_market(n)
    total = 1500 if n >= 50 else qty(n) // 2
    result = benchmark(router.split, "BUY", total, 3)
    assert len(result.allocations) <= 3 and sum(a.qty for a in result.allocations) == total
    if n in N_VENUES:
        record_ratio(f"test_split_max3_core[{n}]", f"test_split_core[{n}]")


@pytest.mark.parametrize("n", [10, 200])
def test_split_lots_mins_max3_core(benchmark, n):
    router = core_market(n, lots=True)
    total = 1501 if n >= 50 else qty(n) // 2 + 1
    result = benchmark(router.split, "BUY", total, 3)
    assert len(result.allocations) <= 3 and sum(a.qty for a in result.allocations) == total


@pytest.mark.parametrize("n", [5, 10])
def test_select_core(benchmark, n):
    router = core_market(n)
    best = benchmark(router.select_venue, "BUY", 150)
    assert best.best.qty == 150


BATCH = 100_000


def batch_arrays(max_qty: int):
    rng = np.random.default_rng(7)
    sides = rng.choice(np.array([1, 2], dtype=np.int8), BATCH)
    qtys = rng.integers(1, max_qty, BATCH, dtype=np.uint64)
    limits = np.full(BATCH, np.nan)
    return sides, qtys, limits


def record_rate(benchmark) -> None:
    if benchmark.stats is not None:  # None when run with --benchmark-disable
        benchmark.extra_info["decisions_per_second"] = round(BATCH / benchmark.stats.stats.median)


def test_route_batch_5(benchmark, record_ratio):
    """100k splits over 5 venues x 20 levels in one call, without the GIL; per decision: median / 100k."""
    router = core_market(5)
    sides, qtys, limits = batch_arrays(qty(5))
    alloc, status = benchmark.pedantic(router.route_batch, (sides, qtys, limits, 5), rounds=5, iterations=1)
    assert (status == 0).all() and (alloc.sum(axis=1) == qtys).all()
    record_rate(benchmark)


def test_select_batch_5(benchmark):
    """100k venue selections over 5 venues x 20 levels in one call (sizes one venue can fill)."""
    router = core_market(5)
    sides, qtys, limits = batch_arrays(150)
    venues, _ = benchmark.pedantic(router.select_batch, (sides, qtys, limits), rounds=5, iterations=1)
    assert (venues >= 0).all()
    record_rate(benchmark)


def test_split_python_loop_5(benchmark, record_ratio):
    """The same 100k splits as route_batch, one Python call each: what batching saves."""
    router = core_market(5)
    sides, qtys, _ = batch_arrays(qty(5))
    pairs = list(zip(sides.tolist(), qtys.tolist()))

    def loop():
        for s, q in pairs:
            router.split(s, q, 5)

    benchmark.pedantic(loop, rounds=1, iterations=1)
    record_ratio("test_route_batch_5", "test_split_python_loop_5")
