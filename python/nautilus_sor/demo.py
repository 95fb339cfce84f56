"""A small, fixed three-venue market used by `nautilus-sor demo` and the README.

Venues differ the way real ones do: CHEAP has low fees but a thin book, DEEP is deep but expensive,
SLOW has good prices and fees but high latency.
"""

from __future__ import annotations

from nautilus_sor._core import Router, VenueSpec


def _ladder(best: float, tick: float, sizes: list[int], direction: int) -> list[tuple[float, int]]:
    return [(round(best + direction * i * tick, 2), size) for i, size in enumerate(sizes)]


def demo_router() -> Router:
    router = Router(
        [
            VenueSpec("CHEAP", maker_fee=0.0, taker_fee=0.0001, latency_ms=5.0),
            VenueSpec("DEEP", maker_fee=0.0002, taker_fee=0.0005, latency_ms=2.0),
            VenueSpec("SLOW", maker_fee=0.0001, taker_fee=0.0002, latency_ms=250.0),
        ],
        volatility=2e-4,
    )
    router.set_book("CHEAP", _ladder(99.99, 0.01, [20, 20, 30], -1), _ladder(100.01, 0.01, [15, 25, 30], +1))
    router.set_book("DEEP", _ladder(99.98, 0.01, [200, 300, 400], -1), _ladder(100.02, 0.01, [200, 300, 400], +1))
    router.set_book("SLOW", _ladder(99.99, 0.01, [50, 50], -1), _ladder(100.01, 0.01, [50, 50], +1))
    return router
