"""The benchmark market (the same shape as the criterion one: n venues x 20 levels) and the baselines a
competent engineer would write for the lot-1 split: a heapq merge in pure Python, a lean NumPy cut
(argsort, cumsum, searchsorted, bincount), and a NumPy cut over levels presorted when the books change."""

from __future__ import annotations

import heapq
import math

import numpy as np

from nautilus_sor import Router, VenueSpec

VOLATILITY = 1e-4  # RouterParams' default, which the baselines price latency with
COPRIME_LOTS = (7, 11, 13, 17, 19)


def lot_of(i: int) -> tuple[int, int]:
    """Lot and minimum of venue i in the `lots` market: coprime lots, a minimum on every other venue."""
    lot = COPRIME_LOTS[i % 5]
    return lot, (3 * lot + 1 if i % 2 == 1 else 0)


def venue_params(n: int):
    for i in range(n):
        skew = (i % 3) * 0.01 + (i // 10) * 0.001
        sizes = [10 + ((i * 7 + k * 13) % 40) for k in range(21)]
        bids = [(round(99.99 - skew - 0.01 * k, 6), sizes[k]) for k in range(20)]
        asks = [(round(100.01 + skew + 0.01 * k, 6), sizes[k + 1]) for k in range(20)]
        yield f"V{i}", 0.0001 * (1 + i % 4), 1.0 + 20.0 * (i % 10), bids, asks


def core_market(n: int, lots: bool = False) -> Router:
    params = list(venue_params(n))
    specs = []
    for i, (name, fee, latency, _, _) in enumerate(params):
        lot, min_qty = lot_of(i) if lots else (1, 0)
        specs.append(VenueSpec(name, 0.0, fee, latency, lot, min_qty))
    # Fresh statistics (no misses, no slippage): the baselines price fees and latency risk only.
    router = Router(specs, miss_cost_bps=0.0)
    for name, _, _, bids, asks in params:
        router.set_book(name, bids, asks)
    return router


class Books:
    """The market as plain Python data, as a user's own router would hold it (asks, for buys)."""

    def __init__(self, n: int):
        params = list(venue_params(n))
        bid0 = max(b[0][0] for _, _, _, b, _ in params)
        ask0 = min(a[0][0] for _, _, _, _, a in params)
        mid = (bid0 + ask0) / 2
        self.n = n
        self.asks = [asks for _, _, _, _, asks in params]
        self.fee = [fee for _, fee, _, _, _ in params]
        self.extra = [VOLATILITY * mid * math.sqrt(lat / 1000.0) for _, _, lat, _, _ in params]


def heapq_split(books: Books, total: int) -> list[int]:
    """Cheapest level next across venues with a heap: what a competent engineer writes in pure Python."""
    heap = [((1.0 + books.fee[i]) * levels[0][0] + books.extra[i], i, 0) for i, levels in enumerate(books.asks)]
    heapq.heapify(heap)
    alloc = [0] * books.n
    left = total
    while left > 0:
        if not heap:
            raise ValueError("insufficient liquidity")
        _, i, k = heap[0]
        price, size = books.asks[i][k]
        take = size if size < left else left
        alloc[i] += take
        left -= take
        k += 1
        if k < len(books.asks[i]):
            heapq.heapreplace(heap, ((1.0 + books.fee[i]) * books.asks[i][k][0] + books.extra[i], i, k))
        else:
            heapq.heappop(heap)
    return alloc


class LeanNumpySplit:
    """The split the NumPy way, every call from the current books: unit costs, argsort, cumsum,
    searchsorted for the cut, bincount per venue."""

    def __init__(self, books: Books):
        self.prices = np.array([p for levels in books.asks for p, _ in levels])
        self.sizes = np.array([s for levels in books.asks for _, s in levels], dtype=np.int64)
        self.venue = np.repeat(np.arange(books.n), [len(levels) for levels in books.asks])
        self.factor = np.repeat(1.0 + np.array(books.fee), [len(levels) for levels in books.asks])
        self.extra = np.repeat(np.array(books.extra), [len(levels) for levels in books.asks])
        self.n = books.n

    def split(self, total: int) -> np.ndarray:
        order = np.argsort(self.prices * self.factor + self.extra)
        sizes = self.sizes[order]
        cum = np.cumsum(sizes)
        cut = int(np.searchsorted(cum, total))
        if cut >= len(cum):
            raise ValueError("insufficient liquidity")
        alloc = np.bincount(self.venue[order[:cut]], weights=sizes[:cut], minlength=self.n)
        alloc[self.venue[order[cut]]] += total - (cum[cut - 1] if cut else 0)
        return alloc.astype(np.int64)


class PresortedNumpySplit(LeanNumpySplit):
    """The lean NumPy cut with the sort and cumsum done once per book change, not per call."""

    def __init__(self, books: Books):
        super().__init__(books)
        order = np.argsort(self.prices * self.factor + self.extra)
        self.sorted_venue = self.venue[order]
        self.sorted_sizes = self.sizes[order]
        self.cum = np.cumsum(self.sorted_sizes)

    def split(self, total: int) -> np.ndarray:
        cut = int(np.searchsorted(self.cum, total))
        if cut >= len(self.cum):
            raise ValueError("insufficient liquidity")
        alloc = np.bincount(self.sorted_venue[:cut], weights=self.sorted_sizes[:cut], minlength=self.n)
        alloc[self.sorted_venue[cut]] += total - (self.cum[cut - 1] if cut else 0)
        return alloc.astype(np.int64)
