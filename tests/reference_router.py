"""A small pure-Python model of the core's select_venue / split, for parity tests.

It follows the cost model documented in `rust/sor-core/src/route/mod.rs` written the plain way: per-venue
terms and book walks. `split` is a brute force (dynamic programming over every valid allocation),
written from the problem statement, not a port of the core's algorithm, so it cannot share its bugs.
`brute_force_cost` is a second one: the optimal cost found unit by unit (lot size 1, no minimums).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class RefVenue:
    name: str
    taker_fee: float
    latency_ms: float
    lot_size: int = 1
    min_qty: int = 0
    enabled: bool = True
    fill_probability: float = 1.0
    slippage_bps: float = 0.0  # learned: fill price vs the price the book promised, + = worse
    bids: list[tuple[float, int]] = field(default_factory=list)
    asks: list[tuple[float, int]] | None = None  # None = no book

    def first_chunk(self) -> int:
        return max(1, -(-self.min_qty // self.lot_size)) * self.lot_size


@dataclass
class RefParams:
    volatility: float = 1e-4
    latency_risk_weight: float = 1.0
    miss_cost_bps: float = 5.0
    slippage_weight: float = 1.0


def _sign(side: str) -> float:
    return 1.0 if side == "BUY" else -1.0


def _taking(v: RefVenue, side: str) -> list[tuple[float, int]] | None:
    if v.asks is None:
        return None
    return v.asks if side == "BUY" else v.bids


def _within(side: str, price: float, limit: float | None) -> bool:
    return limit is None or (price <= limit if side == "BUY" else price >= limit)


def reference_price(venues: list[RefVenue], side: str, limit: float | None) -> float | None:
    live = [v for v in venues if v.enabled and v.asks is not None]
    bids = [v.bids[0][0] for v in live if v.bids]
    asks = [v.asks[0][0] for v in live if v.asks]
    if bids and asks:
        return (max(bids) + min(asks)) / 2.0
    if side == "BUY" and asks:
        return min(asks)
    if side == "SELL" and bids:
        return max(bids)
    return limit


def _extra(v: RefVenue, p: RefParams, ref: float) -> float:
    latency = p.latency_risk_weight * p.volatility * ref * math.sqrt(v.latency_ms / 1000.0)
    miss = (1.0 - v.fill_probability) * p.miss_cost_bps * 1e-4 * ref
    slippage = p.slippage_weight * v.slippage_bps * 1e-4 * ref
    return latency + miss + slippage


def _levels(v: RefVenue, side: str, book_mode: bool, ref: float) -> list[tuple[float, int]] | None:
    if not book_mode:
        return [(ref, 2**64 - 1)]
    return _taking(v, side)


def walk(levels: list[tuple[float, int]], start: tuple[int, int], qty: int, side: str, limit: float | None):
    """Walks qty units from (level, offset). Returns (notional, (level, offset)) or None."""
    level, offset = start
    left = qty
    notional = 0.0
    while left > 0:
        if level >= len(levels):
            return None
        price, size = levels[level]
        if not _within(side, price, limit):
            return None
        take = min(left, size - offset)
        notional += take * price
        left -= take
        offset += take
        if offset == size:
            level, offset = level + 1, 0
    return notional, (level, offset)


def split(venues, side, total, max_venues, limit=None, params=None):
    """The cheapest valid allocation, by exhaustive dynamic programming over (venue, units left, venues
    used): written from the problem statement, sharing nothing with the core's search. Valid: each venue
    0 or a whole number of its lots at or above its minimum, within the depth its book shows within the
    limit (in book mode; without any book, unlimited at the reference price), at most `max_venues`
    venues, summing to `total`. Returns ({venue_index: qty}, total_cost) or None when none exists.
    O(venues x total^2 x max_venues): for small totals."""
    params = params or RefParams()
    book_mode = any(v.enabled and v.asks is not None for v in venues)
    ref = reference_price(venues, side, limit)
    ref_px = 1.0 if ref is None else ref
    # Each venue's options: qty -> cost (0 always; the rest only if the venue can take exactly that).
    options: list[dict[int, float]] = []
    for v in venues:
        opts = {0: 0.0}
        levels = _levels(v, side, book_mode, ref_px) if v.enabled else None
        if levels is not None:
            extra = _extra(v, params, ref_px)
            for q in range(v.lot_size, total + 1, v.lot_size):
                if q < v.min_qty:
                    continue
                walked = walk(levels, (0, 0), q, side, limit)
                if walked is None:
                    break
                opts[q] = (_sign(side) + v.taker_fee) * walked[0] + extra * q
        options.append(opts)
    # best[(left, used)] = (cost, allocation) over the venues seen so far.
    best: dict[tuple[int, int], tuple[float, dict[int, int]]] = {(total, 0): (0.0, {})}
    for i, opts in enumerate(options):
        nxt: dict[tuple[int, int], tuple[float, dict[int, int]]] = {}
        for (left, used), (cost, alloc) in best.items():
            for q, c in opts.items():
                if q > left or (q > 0 and used == max_venues):
                    continue
                key = (left - q, used + (q > 0))
                cand = cost + c
                if key not in nxt or cand < nxt[key][0]:
                    nxt[key] = (cand, {**alloc, i: q} if q else alloc)
        best = nxt
    found = [v for (left, _), v in best.items() if left == 0]
    if not found:
        return None
    cost, alloc = min(found, key=lambda t: t[0])
    return alloc, cost


def select_venue(venues, side, qty, limit=None, params=None):
    """Returns (venue_index, score_bps) or None."""
    params = params or RefParams()
    book_mode = any(v.enabled and v.asks is not None for v in venues)
    ref = reference_price(venues, side, limit)
    ref_px = 1.0 if ref is None else ref
    best = None
    for i, v in enumerate(venues):
        if not v.enabled or qty % v.lot_size or qty < v.min_qty:
            continue
        levels = _levels(v, side, book_mode, ref_px)
        if levels is None:
            continue
        walked = walk(levels, (0, 0), qty, side, limit)
        if walked is None:
            continue
        notional = walked[0]
        cost = _sign(side) * notional + v.taker_fee * notional + _extra(v, params, ref_px) * qty
        score = (cost / qty - _sign(side) * ref_px) / ref_px * 1e4
        if best is None or score < best[1] or (score == best[1] and v.latency_ms < venues[best[0]].latency_ms):
            best = (i, score)
    return best


def brute_force_cost(venues, side, total, limit=None, params=None):
    """Optimal total cost taking one unit at a time from the cheapest venue (lot 1, no minimums)."""
    params = params or RefParams()
    ref = reference_price(venues, side, limit)
    ref_px = 1.0 if ref is None else ref
    usable = [i for i, v in enumerate(venues) if v.enabled and v.asks is not None]
    flat = {i: [(p, s) for p, s in _taking(venues[i], side) if _within(side, p, limit)] for i in usable}
    pos = {i: [0, 0] for i in usable}
    cost = 0.0
    for _ in range(total):
        best = None
        for i in usable:
            level, offset = pos[i]
            if level >= len(flat[i]):
                continue
            price = flat[i][level][0]
            unit = _sign(side) * price + venues[i].taker_fee * price + _extra(venues[i], params, ref_px)
            if best is None or unit < best[1]:
                best = (i, unit)
        if best is None:
            return None
        i, unit = best
        cost += unit
        pos[i][1] += 1
        if pos[i][1] == flat[i][pos[i][0]][1]:
            pos[i] = [pos[i][0] + 1, 0]
    return cost
