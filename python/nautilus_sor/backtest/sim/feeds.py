"""What `evaluate`'s router learns as the simulation goes, never ahead of it: its statistics from our own
outcomes (`LearningFeed`) and the recorded trades on its tape (`TapeFeed`)."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from nautilus_sor.backtest.sim.exchange import BUY, VenueExchange
from nautilus_sor.backtest.sim.params import NS

if TYPE_CHECKING:
    from nautilus_sor.backtest.sim.market import SimMarket


class LearningFeed:
    """Router statistics updates, applied in time order once their time has come (no look-ahead)."""

    def __init__(self, router: Any) -> None:
        self.router = router
        self._events: list[tuple[int, int, str, tuple[Any, ...]]] = []
        self._seq = 0
        self.tape: TapeFeed | None = None  # the router's trade tape, made by the first passive decision

    def push(self, ts: int, method: str, *args: Any) -> None:
        heapq.heappush(self._events, (ts, self._seq, method, args))
        self._seq += 1

    def apply_until(self, ts: int) -> None:
        while self._events and self._events[0][0] <= ts:
            _, _, method, args = heapq.heappop(self._events)
            getattr(self.router, method)(*args)


class TapeFeed:
    """The recorded trades fed to a router's tape (`record_trade`) up to each decision time, never beyond.

    Parents of a series share one router but overlap in time: a decision earlier than the last one fed
    clears the tapes and replays the trades of the `REPLAY_TAUS` time constants before it (an older
    trade weighs less than e^-10 of a fresh one). Trades whose aggressor the quote rule cannot tell
    (`VenueExchange.aggressors`: 0) are not fed."""

    REPLAY_TAUS = 10

    def __init__(self, router: Any, sim: SimMarket, exchanges: dict[str, VenueExchange]) -> None:
        self.router = router
        self.window_ns = int(self.REPLAY_TAUS * sim.params.tape_tau_s * NS)
        self.tapes: dict[str, tuple[npt.NDArray[np.int64], list[int], list[int], list[int]]] = {}
        for name, ex in exchanges.items():
            units = np.floor(np.asarray(ex.tape.size, dtype=float) / sim.unit + 1e-6).astype(np.int64)
            agg = ex.aggressors()
            keep = (agg != 0) & (units > 0)
            ts = np.asarray(ex.tape.ts, dtype=np.int64)[keep]
            codes = np.where(agg[keep] == BUY, 1, 2)
            self.tapes[name] = (ts, ts.tolist(), codes.tolist(), units[keep].tolist())
        self.cursor: dict[str, int] = {}
        self.fed_until: int | None = None

    def feed_until(self, ts: int) -> None:
        if self.fed_until is None or ts < self.fed_until:
            self.router.clear_tapes()
            self.cursor = {name: int(np.searchsorted(t[0], ts - self.window_ns, side="left")) for name, t in self.tapes.items()}
        record = self.router.record_trade
        for name, (arr, times, codes, sizes) in self.tapes.items():
            lo, hi = self.cursor[name], int(np.searchsorted(arr, ts, side="right"))
            for i in range(lo, hi):
                record(name, codes[i], sizes[i], times[i])
            self.cursor[name] = max(lo, hi)
        self.fed_until = ts


__all__ = ["LearningFeed", "TapeFeed"]
