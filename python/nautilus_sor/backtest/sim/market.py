"""A recorded market prepared for `evaluate`'s simulator (`SimMarket`): the venues with a book, their
ticks, the router's units and lots, schedules, and the prices compared across venues (`basis.py`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from nautilus_sor import _core
from nautilus_sor.backtest.data.recorded import RecordedMarket
from nautilus_sor.backtest.exante import exante_best_venue
from nautilus_sor.backtest.sim.basis import Basis, recorded_prices
from nautilus_sor.backtest.sim.exchange import BUY, Fill, VenueExchange, core_book, infer_tick, venue_exchanges
from nautilus_sor.backtest.sim.params import ALGORITHMS, NS, ExecParams
from nautilus_sor.exceptions import MarketDataError, ValidationError


class SimMarket:
    """A recorded market prepared for simulation: venues with books, ticks, router units, schedules."""

    def __init__(self, market: RecordedMarket, params: ExecParams | None = None, *, latency_ms: dict[str, float] | None = None) -> None:
        self.market = market
        self.params = (params or ExecParams()).validate()
        booked = [v for v in market.venues if v.book is not None and len(v.book.ts)]
        if not booked:
            raise MarketDataError(f"market {market.name} has no venue with a book", field="venues", value=market.name)
        # Venues execute on their own recorded prices; the basis between instruments is removed only where
        # prices are compared or costed (`basis.py`).
        self.basis = Basis(booked)
        self.venues = [recorded_prices(v) for v in booked]
        self.names = [v.name for v in self.venues]
        self.latency_ms = {v.name: float(v.latency_ms if latency_ms is None or v.name not in latency_ms else latency_ms[v.name]) for v in self.venues}
        self.ticks = {v.name: infer_tick(v.book) for v in self.venues}  # type: ignore[arg-type]  # SimMarket keeps only venues with a book
        lots = [v.lot_size for v in self.venues if v.lot_size > 0]
        # Router units: a thousandth of the smallest lot, so every venue's lot is a whole number of units.
        self.unit = (min(lots) if lots else 1e-8) / 1000
        self.lot_units = {v.name: max(1, int(round(v.lot_size / self.unit))) if v.lot_size > 0 else 1 for v in self.venues}
        self.min_lot_units = min(self.lot_units.values())
        self.core_books = {v.name: core_book(v.book) for v in self.venues}  # type: ignore[arg-type]  # SimMarket keeps only venues with a book
        self.update_ts = np.unique(np.concatenate([np.asarray(v.book.ts, dtype=np.int64) for v in self.venues]))  # type: ignore[union-attr]  # SimMarket keeps only venues with a book

    # ----- plumbing -----

    def exchanges(self) -> dict[str, VenueExchange]:
        return venue_exchanges(self.venues, queue_model=self.params.queue_model, queue_power=self.params.queue_power, latency_ms=self.latency_ms, ticks=self.ticks,
                               books=self.core_books)

    def router(self) -> Any:
        p = self.params
        specs = [_core.VenueSpec(v.name, v.maker_fee, v.taker_fee, self.latency_ms[v.name], self.lot_units[v.name], 0) for v in self.venues]
        return _core.Router(specs, p.volatility, p.latency_risk_weight, p.miss_cost_bps, p.ewma_alpha, p.slippage_weight, p.tape_tau_s)

    def to_units(self, qty: float) -> int:
        return int(math.floor(qty / self.unit + 1e-6))

    def consolidated_mid(self, ts: int) -> float:
        """(Best bid + best ask) / 2 across venues at `ts`, each venue's basis at `ts` removed."""
        bids, asks = [], []
        for v in self.venues:
            row = v.book.index_at(ts)  # type: ignore[union-attr]  # SimMarket keeps only venues with a book
            if row >= 0:
                b = self.basis(v.name, ts)
                bids.append(v.book.bid_px[row, 0] - b)  # type: ignore[union-attr]  # SimMarket keeps only venues with a book
                asks.append(v.book.ask_px[row, 0] - b)  # type: ignore[union-attr]  # SimMarket keeps only venues with a book
        bid, ask = np.nanmax(bids) if bids else np.nan, np.nanmin(asks) if asks else np.nan
        return float((bid + ask) / 2)

    def schedule(self, algorithm: str, quantity: float, start_ns: int) -> list[tuple[int, float]]:
        """(ts, qty) slices of a parent: one for `aggressive`, the core TWAP/VWAP schedule otherwise, in whole
        lots of the finest venue as the live algorithms schedule in their instrument's lots (a parent's
        sub-lot rest, where its quantity is not a whole number of them, rides with the last slice)."""
        p = self.params
        units = self.to_units(quantity)
        if units <= 0:
            raise ValidationError(f"invalid quantity: {quantity!r} (below one router unit {self.unit})", field="quantity", value=quantity)
        if algorithm == "aggressive":
            return [(start_ns, quantity)]
        lot = self.min_lot_units if units >= self.min_lot_units else 1
        whole = units - units % lot
        if algorithm in ("twap", "iceberg"):
            offsets, qtys = _core.twap_schedule(whole, p.horizon_s, p.interval_s, lot_size=lot)
        elif algorithm == "vwap":
            offsets, qtys = self._vwap(whole, start_ns, lot)
        else:
            raise ValidationError(f"invalid algorithm: {algorithm!r} (one of {', '.join(ALGORITHMS)})", field="algorithm", value=algorithm)
        slices = [(start_ns + int(o), int(q)) for o, q in zip(offsets, qtys)]
        slices[-1] = (slices[-1][0], slices[-1][1] + units - whole)
        return [(ts, q * self.unit) for ts, q in slices]

    def _vwap(self, units: int, start_ns: int, lot: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        p = self.params
        profile = self.market.volume_profile
        if profile is None:
            # No history to build a curve from: a flat curve (VWAP degenerates to TWAP; stated in the report).
            return _core.twap_schedule(units, p.horizon_s, p.interval_s, lot_size=lot)
        if isinstance(profile, dict):
            return _core.vwap_schedule(units, {int(h): float(w) for h, w in profile.items()}, p.horizon_s, p.interval_s, start_time_ns=start_ns,
                                       lot_size=lot)
        weights = np.asarray(getattr(profile, "weights", getattr(profile, "bucket_weights", profile)), dtype=float)
        bucket_s = float(getattr(profile, "bucket_seconds", 86400.0 / len(weights)))
        return _core.vwap_curve_schedule(units, weights, bucket_s, p.horizon_s, p.interval_s, start_time_ns=start_ns, lot_size=lot)

    def aligned_books(self, exchanges: dict[str, VenueExchange], side: int, ts: int) -> dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]]:
        """Every venue's levels a `side` order would take at `ts` (what is left to us), prices with the
        basis at `ts` removed, with its taker fee: the merged ladders of the optimum and the clean-up."""
        out = {}
        for name, ex in exchanges.items():
            px, avail = ex.offered(side, ts)
            out[name] = (px - self.basis(name, ts), avail, ex.venue.taker_fee)
        return out

    def aligned_fills(self, fills: list[Fill], convention: str, arrival_ns: int) -> list[Fill]:
        """`fills` with each venue's basis removed from its price: at the fill's decision time
        ("decision", the headline) or at the parent's arrival ("arrival"). Fees stay as charged."""
        if not self.basis.active:
            return fills
        out = []
        for f in fills:
            b = self.basis(f.venue, f.decided if convention == "decision" else arrival_ns)
            out.append(f if b == 0.0 else Fill(f.ts, f.venue, f.price - b, f.size, f.fee, f.liquidity, f.decision_ts))
        return out

    def seen_levels(self, ex: VenueExchange, side: int, ts: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The levels a `side` order would take at `ts`, as a decision sees them."""
        if self.params.see_own_consumption:
            return ex.offered(side, ts)
        row = ex.row_at(ts)
        if row < 0:
            return np.empty(0), np.empty(0)
        book = ex.book
        px, sz = (book.ask_px[row], book.ask_sz[row]) if side == BUY else (book.bid_px[row], book.bid_sz[row])
        ok = np.isfinite(px) & (sz > 0)
        return px[ok], sz[ok]

    def exante_best_venue(self, ts: int, lookback_s: float = 60.0) -> str:
        """The venue with the lowest average (half spread + taker fee) over the `lookback_s` before `ts`
        (`backtest/exante.py`, the rule the backtest's ex-ante baseline uses too)."""
        quotes = {v.name: (v.book.ts, v.book.bid_px[:, 0], v.book.ask_px[:, 0]) for v in self.venues}  # type: ignore[union-attr]  # SimMarket keeps only venues with a book
        return exante_best_venue(quotes, {v.name: v.taker_fee for v in self.venues}, ts, lookback_s)[0]

    def home_venue(self, ts: int, lookback_s: float = 60.0) -> str:
        """The venue that traded the most over the `lookback_s` before `ts` (where a one-venue desk trades)."""
        volumes = []
        for v in self.venues:
            lo, hi = np.searchsorted(v.trades.ts, [ts - int(lookback_s * NS), ts])
            volumes.append(float(v.trades.size[lo:hi].sum()))
        return self.names[int(np.argmax(volumes))]

    def window_volume(self, start_ns: int | None = None, end_ns: int | None = None) -> float:
        start = self.market.start_ns if start_ns is None else start_ns
        end = self.market.end_ns if end_ns is None else end_ns
        total = 0.0
        for v in self.market.venues:
            lo, hi = np.searchsorted(v.trades.ts, [start, end])
            total += float(v.trades.size[lo:hi].sum())
        return total


__all__ = ["SimMarket"]
