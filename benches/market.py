"""The benchmark market: the same shape as the criterion one (n venues x 20 levels)."""

from __future__ import annotations

import math

import numpy as np

import reference_router as ref
from nautilus_sor import Router, VenueSpec


def venue_params(n: int):
    for i in range(n):
        skew = (i % 3) * 0.01
        sizes = [10 + ((i * 7 + k * 13) % 40) for k in range(21)]
        bids = [(round(99.99 - skew - 0.01 * k, 6), sizes[k]) for k in range(20)]
        asks = [(round(100.01 + skew + 0.01 * k, 6), sizes[k + 1]) for k in range(20)]
        yield f"V{i}", 0.0001 * (1 + i % 4), 1.0 + 20.0 * i, bids, asks


def core_market(n: int) -> Router:
    params = list(venue_params(n))
    router = Router([VenueSpec(name, 0.0, fee, latency) for name, fee, latency, _, _ in params])
    for name, _, _, bids, asks in params:
        router.set_book(name, bids, asks)
    return router


def reference_market(n: int) -> list[ref.RefVenue]:
    return [
        ref.RefVenue(name=name, taker_fee=fee, latency_ms=latency, bids=bids, asks=asks)
        for name, fee, latency, bids, asks in venue_params(n)
    ]


class NumpySplit:
    """The same split written the NumPy way: sort every level by all-in unit cost, cut at the total.

    Exact for lot size 1 and no minimums (what the benchmark market has); max_venues not applied.
    """

    def __init__(self, venues: list[ref.RefVenue], side: str, params: ref.RefParams | None = None):
        params = params or ref.RefParams()
        sign = 1.0 if side == "BUY" else -1.0
        mid = ref.reference_price(venues, side, None)
        prices, sizes, venue_idx, factor, extra = [], [], [], [], []
        for i, v in enumerate(venues):
            levels = v.asks if side == "BUY" else v.bids
            lat = params.latency_risk_weight * params.volatility * mid * math.sqrt(v.latency_ms / 1000.0)
            for p, s in levels:
                prices.append(p)
                sizes.append(s)
                venue_idx.append(i)
                factor.append(sign + v.taker_fee)
                extra.append(lat)
        self.prices = np.array(prices)
        self.sizes = np.array(sizes, dtype=np.int64)
        self.venue_idx = np.array(venue_idx, dtype=np.int64)
        self.unit_cost = self.prices * np.array(factor) + np.array(extra)
        self.n = len(venues)

    def split(self, total: int) -> np.ndarray:
        order = np.argsort(self.unit_cost, kind="stable")
        sizes = self.sizes[order]
        before = np.cumsum(sizes) - sizes
        take = np.clip(total - before, 0, sizes)
        if take.sum() < total:
            raise ValueError("insufficient liquidity")
        return np.bincount(self.venue_idx[order], weights=take, minlength=self.n).astype(np.int64)
