"""Tiny hand-made `RecordedMarket`s for the execution simulator tests."""

from __future__ import annotations

import numpy as np

from nautilus_sor.backtest.data.recorded import BookSeries, RecordedMarket, RecordedVenue, TradeTape

MS = 1_000_000


def book(rows: list[tuple[int, list[tuple[float, float]], list[tuple[float, float]]]], levels: int = 3) -> BookSeries:
    """rows: (ts_ns, bids best first, asks best first)."""
    n = len(rows)
    bid_px = np.full((n, levels), np.nan)
    ask_px = np.full((n, levels), np.nan)
    bid_sz = np.zeros((n, levels))
    ask_sz = np.zeros((n, levels))
    for i, (_, bids, asks) in enumerate(rows):
        for j, (p, s) in enumerate(bids[:levels]):
            bid_px[i, j], bid_sz[i, j] = p, s
        for j, (p, s) in enumerate(asks[:levels]):
            ask_px[i, j], ask_sz[i, j] = p, s
    return BookSeries(np.array([r[0] for r in rows], dtype=np.int64), bid_px, bid_sz, ask_px, ask_sz)


def tape(trades: list[tuple[int, float, float, int]]) -> TradeTape:
    """trades: (ts_ns, price, size, aggressor)."""
    return TradeTape(
        np.array([t[0] for t in trades], dtype=np.int64),
        np.array([t[1] for t in trades], dtype=float),
        np.array([t[2] for t in trades], dtype=float),
        np.array([t[3] for t in trades], dtype=np.int8),
    )


def venue(name, rows, trades=(), *, maker_fee=0.0, taker_fee=0.0, latency_ms=0.0, lot_size=1.0, levels=3) -> RecordedVenue:
    return RecordedVenue(name=name, instrument=None, maker_fee=maker_fee, taker_fee=taker_fee, latency_ms=latency_ms,
                         book=book(rows, levels), trades=tape(list(trades)), lot_size=lot_size)


def market(venues, start_ns, end_ns, name="fixture") -> RecordedMarket:
    return RecordedMarket(name=name, asset="X", venues=tuple(venues), data=[], start_ns=start_ns, end_ns=end_ns)


def random_market(seed: int = 7, seconds: int = 300, n_venues: int = 3) -> RecordedMarket:
    """A small random-walk market: per venue a 5-level book updated every 100 ms and a trade tape, with
    different spreads, depths and fees per venue, so that routing has something to choose."""
    rng = np.random.default_rng(seed)
    steps = seconds * 10
    ts = (np.arange(steps) * 100 * MS).astype(np.int64)
    mid = 100.0 + np.cumsum(rng.normal(0, 0.01, steps))
    venues = []
    for v in range(n_venues):
        spread_ticks = 1 + v  # venue 0 tightest
        depth = 3.0 + 4.0 * v  # venue 2 deepest
        bid0 = np.floor(mid * 100 - spread_ticks / 2) / 100 + rng.integers(0, 2, steps) * 0.0
        levels = 5
        bid_px = bid0[:, None] - np.arange(levels)[None, :] * 0.01
        ask_px = bid0[:, None] + spread_ticks * 0.01 + np.arange(levels)[None, :] * 0.01
        bid_sz = rng.uniform(0.5, 1.5, (steps, levels)) * depth
        ask_sz = rng.uniform(0.5, 1.5, (steps, levels)) * depth
        n_tr = seconds * 5
        t_ts = np.sort(rng.integers(0, steps * 100 * MS, n_tr)).astype(np.int64)
        rows = np.searchsorted(ts, t_ts, side="right") - 1
        agg = rng.choice(np.array([-1, 1], dtype=np.int8), n_tr)
        price = np.where(agg > 0, ask_px[rows, 0], bid_px[rows, 0])
        size = rng.exponential(0.5 * depth, n_tr)
        venues.append(RecordedVenue(
            name=f"V{v}", instrument=None, maker_fee=0.0001 * v, taker_fee=0.0002 + 0.0001 * v, latency_ms=1.0 + 2 * v,
            book=BookSeries(ts, bid_px, bid_sz, ask_px, ask_sz), trades=TradeTape(t_ts, price, size, agg), lot_size=0.01))
    return market(venues, int(ts[0]), int(ts[-1]), name=f"random{seed}")
