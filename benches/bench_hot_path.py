"""The hot path (issue 10), small: a strategy re-routing on every book update vs the same strategy not
routing, in a BacktestEngine (5 venues x 20 levels), and one routing call when nothing / one venue / every
venue changed. The 1M-tick percentiles come from `python benches/hot_path.py latency` (docs/benchmarks.md).

Run: pytest benches/bench_hot_path.py   (release build)
"""

from __future__ import annotations

import pytest
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.objects import Quantity

from hot_path import N_VENUES, QUANTITY, hot_path_venues, run_latency

TICKS = 2_000


@pytest.mark.parametrize("mode", ["off", "route_order"])
def test_engine_ticks(benchmark, mode, record_ratio):
    """TICKS book updates through an engine; the strategy routes on each (or not). Work is per change:
    one venue's book is read per tick (the one that updated), never the others'."""
    result = benchmark.pedantic(run_latency, (TICKS, (mode,), 600.0), rounds=3, iterations=1)
    stats = result[mode]
    if mode != "off":
        assert stats["book_reloads"] <= TICKS + N_VENUES
        benchmark.extra_info.update({k: stats[k] for k in ("p50", "p99", "p99.9")})
        record_ratio("test_engine_ticks[off]", "test_engine_ticks[route_order]")


@pytest.fixture(scope="module")
def routed():
    """A router on an engine's cache after a short run (the books as a live strategy sees them)."""
    from hot_path import HotPathConfig, HotPathStrategy, engine_for_chunk, market_chunks

    venues = hot_path_venues()
    chunk = next(market_chunks(500, 600.0, venues))
    engine = engine_for_chunk(chunk, venues)
    engine.add_data(chunk.deltas)
    strategy = HotPathStrategy(HotPathConfig(strategy_id="HOT-000", venues=[v.terms() for v in venues],
                                             instrument_ids=[str(i.id) for i in chunk.instruments], capacity=len(chunk.deltas)))
    engine.add_strategy(strategy)
    engine.run()
    yield strategy.router, chunk.instruments[0].id
    engine.dispose()


def _route(router, instrument_id, changed, lean=False):
    qty = Quantity.from_str(QUANTITY)
    route = router.route_quantities if lean else router.route_order

    def call():
        if changed == "one":
            router.invalidate_books("V2")
        elif changed == "all":
            router.invalidate_books()
        return route(instrument_id, OrderSide.BUY, qty, 3)

    return call


@pytest.mark.parametrize("changed", ["none", "one", "all"])
def test_route_order_books_changed(benchmark, routed, changed, record_ratio):
    router, instrument_id = routed
    allocations = benchmark(_route(router, instrument_id, changed))
    assert sum(a.quantity.as_double() for a in allocations) == pytest.approx(float(QUANTITY))
    if changed == "one":
        record_ratio("test_route_order_books_changed[one]", "test_route_order_books_changed[all]")


@pytest.mark.parametrize("changed", ["none", "one"])
def test_route_quantities_books_changed(benchmark, routed, changed, record_ratio):
    """The lean call (plain (instrument id, quantity) pairs) against `route_order` on the same books."""
    router, instrument_id = routed
    pairs = benchmark(_route(router, instrument_id, changed, lean=True))
    assert sum(q.as_double() for _, q in pairs) == pytest.approx(float(QUANTITY))
    record_ratio(f"test_route_quantities_books_changed[{changed}]", f"test_route_order_books_changed[{changed}]")
