"""The one shape every recorded market takes, whatever its source.

A `RecordedMarket` holds, per venue of one asset:

- the Nautilus side: the instrument and the time-sorted Nautilus data (`OrderBookDeltas`, `QuoteTick`,
  `TradeTick`, or `Bar`s for a bar market), exactly what a `ParquetDataCatalog` stores and a
  `BacktestEngine` replays;
- the array side, for the fast execution simulator and the evaluation: `BookSeries` (the top `levels`
  of the book after every update) and `TradeTape`, in float64 prices and sizes of the *asset*
  (BTC, shares), after any normalisation the loader states in `notes` (basis removed, contracts
  converted).

Prices in the arrays are comparable across venues (basis removed where the loader says so); the
Nautilus objects keep each venue's own instrument and prices, as recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(slots=True)
class BookSeries:
    """Every book state a venue published: row j is the book after its j-th update (at `ts[j]`).

    Level 0 is the touch. Missing levels are NaN price and 0 size. Sizes in units of the asset."""

    ts: np.ndarray  # int64 ns (ts_init: the local receive clock where the source has one), non-decreasing
    bid_px: np.ndarray  # float64 (updates, levels), best first (descending)
    bid_sz: np.ndarray  # float64 (updates, levels)
    ask_px: np.ndarray  # float64 (updates, levels), best first (ascending)
    ask_sz: np.ndarray  # float64 (updates, levels)

    @property
    def levels(self) -> int:
        return int(self.bid_px.shape[1])

    def index_at(self, ts_ns: int) -> int:
        """Row of the book in force at `ts_ns` (last update stamped at or before it); -1 before the first."""
        return int(np.searchsorted(self.ts, ts_ns, side="right")) - 1


@dataclass(slots=True)
class TradeTape:
    """A venue's trades, time-sorted. `aggressor`: +1 buyer-initiated (lifted the ask), -1
    seller-initiated (hit the bid), 0 unknown. Sizes in units of the asset."""

    ts: np.ndarray  # int64 ns
    price: np.ndarray  # float64
    size: np.ndarray  # float64
    aggressor: np.ndarray  # int8


@dataclass(slots=True)
class RecordedVenue:
    """One venue of the market: its name (the Nautilus venue id), instrument, terms and arrays."""

    name: str
    instrument: Any  # a Nautilus Instrument
    maker_fee: float
    taker_fee: float
    latency_ms: float
    book: BookSeries | None  # None for a bar-only market
    trades: TradeTape
    lot_size: float  # the smallest tradable size, in units of the asset
    # Multiply an array size by this to get the instrument's own size (1 except e.g. COIN-M contracts).
    size_to_instrument: float = 1.0

    def terms(self) -> dict[str, Any]:
        """The venue in the router's reference format."""
        return {"name": self.name, "maker_fee": self.maker_fee, "taker_fee": self.taker_fee, "latency_ms": self.latency_ms}


@dataclass(slots=True)
class RecordedMarket:
    """A recorded market of several venues for one asset (see the module docstring)."""

    name: str  # e.g. "binance_btc_20240808", "lean_ibm_20131007"
    asset: str  # e.g. "BTC", "IBM"
    venues: tuple[RecordedVenue, ...]
    data: list[Any]  # Nautilus data objects, sorted by ts_init
    start_ns: int
    end_ns: int
    notes: list[str] = field(default_factory=list)  # every normalisation applied, in plain words
    volume_profile: Any = None  # optional: VWAP volume curve built from history (see the loader)

    @property
    def instruments(self) -> list[Any]:
        return [v.instrument for v in self.venues]

    def venue(self, name: str) -> RecordedVenue:
        for v in self.venues:
            if v.name == name:
                return v
        raise KeyError(name)

    def instrument_id(self, venue: str) -> Any:
        return self.venue(venue).instrument.id

    def venue_configs(self) -> list[dict[str, Any]]:
        return [v.terms() for v in self.venues]
