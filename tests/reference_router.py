"""A small pure-Python model of the core's select_venue / split, for parity tests and benchmarks.

It follows the cost model documented in `rust/sor-core/src/route.rs` written the plain way: per-venue
terms, a cheapest-next-chunk walk over the ladders, lots and minimums, exhaustive subset search for
`max_venues`. It deliberately shares no code with the core. `brute_force_cost` is a second, independent
reference: the optimal cost found unit by unit (valid for lot size 1 and no minimums).
"""

from __future__ import annotations

import itertools
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


class _Split:
    def __init__(self, venues, side, limit, params, book_mode, ref):
        self.venues, self.side, self.limit, self.params = venues, side, limit, params
        self.book_mode, self.ref = book_mode, ref
        self.levels = [_levels(v, side, book_mode, ref) or [] for v in venues]
        self.extra = [_extra(v, params, ref) for v in venues]

    def cost(self, i: int, qty: int, notional: float) -> float:
        return (_sign(self.side) + self.venues[i].taker_fee) * notional + self.extra[i] * qty

    def floor(self, i, state):
        v = self.venues[i]
        return v.first_chunk() if state[2] == 0 else v.lot_size

    def next_chunk(self, i, state, remaining):
        """(size, unit_cost, price or None, state after a full multi-price chunk) or None."""
        v = self.venues[i]
        level, offset, alloc, notional = state
        floor = self.floor(i, state)
        if floor > remaining or level >= len(self.levels[i]):
            return None
        price, size = self.levels[i][level]
        left = size - offset
        if left >= floor:
            if not _within(self.side, price, self.limit):
                return None
            unit = (_sign(self.side) + v.taker_fee) * price + self.extra[i]
            return left // v.lot_size * v.lot_size, unit, price, None
        walked = walk(self.levels[i], (level, offset), floor, self.side, self.limit)
        if walked is None:
            return None
        cost = self.cost(i, floor, walked[0])
        return floor, cost / floor, None, (walked[1][0], walked[1][1], alloc + floor, notional + walked[0])

    def take(self, i, chunk, state, remaining):
        size, _, price, after = chunk
        if price is None:
            return size, after
        lot = self.venues[i].lot_size
        qty = min(size, remaining // lot * lot)
        level, offset, alloc, notional = state
        offset += qty
        if offset == self.levels[i][level][1]:
            level, offset = level + 1, 0
        return qty, (level, offset, alloc + qty, notional + qty * price)

    def greedy(self, subset, total):
        states = {i: (0, 0, 0, 0.0) for i in subset}
        remaining = total
        while remaining > 0:
            best = None
            for i in subset:
                chunk = self.next_chunk(i, states[i], remaining)
                if chunk is not None and (best is None or chunk[1] < best[1][1]):
                    best = (i, chunk)
            if best is None:
                return self.repair(subset, states, remaining)
            i, chunk = best
            qty, states[i] = self.take(i, chunk, states[i], remaining)
            remaining -= qty
        return states

    def fresh(self, i, qty):
        v = self.venues[i]
        if qty == 0:
            return (0, 0, 0, 0.0)
        if qty % v.lot_size or qty < v.min_qty:
            return None
        walked = walk(self.levels[i], (0, 0), qty, self.side, self.limit)
        if walked is None:
            return None
        return (walked[1][0], walked[1][1], qty, walked[0])

    def repair(self, subset, states, remaining):
        best = None
        for a in subset:
            for b in subset:
                if a == b:
                    continue
                la, lb = self.venues[a].lot_size, self.venues[b].lot_size
                alloc_a = states[a][2]
                max_k = 0 if alloc_a == 0 else min(lb // math.gcd(la, lb), alloc_a // la)
                for k in range(max_k + 1):
                    extra = remaining + k * la
                    if extra % lb:
                        continue
                    sa, sb = self.fresh(a, alloc_a - k * la), self.fresh(b, states[b][2] + extra)
                    if sa is None or sb is None:
                        continue
                    trial = dict(states)
                    trial[a], trial[b] = sa, sb
                    c = self.total_cost(trial)
                    if best is None or c < best[0]:
                        best = (c, trial)
        return None if best is None else best[1]

    def total_cost(self, states):
        return sum(self.cost(i, s[2], s[3]) for i, s in states.items() if s[2] > 0)


def split(venues, side, total, max_venues, limit=None, params=None):
    """Returns ({venue_index: qty}, total_cost) or None when it cannot be routed."""
    params = params or RefParams()
    book_mode = any(v.enabled and v.asks is not None for v in venues)
    ref = reference_price(venues, side, limit)
    ref_px = 1.0 if ref is None else ref
    eligible = [
        i
        for i, v in enumerate(venues)
        if v.enabled and v.first_chunk() <= total and (not book_mode or v.asks is not None)
    ]
    if not eligible:
        return None
    g = 0
    for i in eligible:
        g = math.gcd(g, venues[i].lot_size)
    if total % g:
        return None
    ctx = _Split(venues, side, limit, params, book_mode, ref_px)
    states = ctx.greedy(eligible, total)
    if states is not None and sum(1 for s in states.values() if s[2] > 0) > max_venues:
        best = None
        for subset in itertools.combinations(eligible, max_venues):
            st = ctx.greedy(list(subset), total)
            if st is not None:
                c = ctx.total_cost(st)
                if best is None or c < best[0]:
                    best = (c, st)
        states = None if best is None else best[1]
    if states is None:
        return None
    alloc = {i: s[2] for i, s in states.items() if s[2] > 0}
    return alloc, ctx.total_cost(states)


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
