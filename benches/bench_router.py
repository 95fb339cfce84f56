"""Routing through Python vs the pure-Python reference and a NumPy implementation, in one run.

Run: pytest benches/bench_router.py   (on a release build: pip install . or maturin develop --release)
"""

from __future__ import annotations

import numpy as np
import pytest

import reference_router as ref
from market import NumpySplit, core_market, reference_market

N_VENUES = [2, 5, 10]


def qty(n: int) -> int:
    return 150 * n


@pytest.mark.parametrize("n", N_VENUES)
def test_split_core(benchmark, n, record_ratio):
    router = core_market(n)
    result = benchmark(router.split, "BUY", qty(n), n)
    assert sum(a.qty for a in result.allocations) == qty(n)
    record_ratio(f"test_split_core[{n}]", f"test_split_reference[{n}]")
    record_ratio(f"test_split_core[{n}]", f"test_split_numpy[{n}]")


@pytest.mark.parametrize("n", N_VENUES)
def test_split_reference(benchmark, n):
    venues = reference_market(n)
    alloc, _ = benchmark(ref.split, venues, "BUY", qty(n), n)
    assert sum(alloc.values()) == qty(n)
    # Same allocation as the core.
    core = core_market(n).split("BUY", qty(n), n)
    assert {a.venue_index: a.qty for a in core.allocations} == alloc


@pytest.mark.parametrize("n", N_VENUES)
def test_split_numpy(benchmark, n):
    splitter = NumpySplit(reference_market(n), "BUY")
    alloc = benchmark(splitter.split, qty(n))
    core = core_market(n).split("BUY", qty(n), n)
    assert {i: int(x) for i, x in enumerate(alloc) if x} == {a.venue_index: a.qty for a in core.allocations}


@pytest.mark.parametrize("n", N_VENUES)
def test_select_core(benchmark, n, record_ratio):
    router = core_market(n)
    benchmark(router.select_venue, "BUY", 150)
    record_ratio(f"test_select_core[{n}]", f"test_select_reference[{n}]")


@pytest.mark.parametrize("n", N_VENUES)
def test_select_reference(benchmark, n):
    venues = reference_market(n)
    best = benchmark(ref.select_venue, venues, "BUY", 150)
    assert best[0] == core_market(n).select_venue("BUY", 150).best.venue_index


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
    """100k splits over 5 venues x 20 levels in one call; per-decision time is median / 100k."""
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
