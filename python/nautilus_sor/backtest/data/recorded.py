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
import numpy.typing as npt

from nautilus_sor.exceptions import ConfigError


def window_ns(value: Any, field: str) -> int | None:
    """A market window bound as ns since the epoch: None, an int (ns), or an ISO time (naive = UTC)."""
    if value is None:
        return None
    import pandas as pd

    if isinstance(value, bool):
        raise ConfigError(f"invalid {field}: {value!r} (an ISO time or ns since the epoch)", field=field, value=repr(value))
    if isinstance(value, (int, np.integer)):
        return int(value)
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ConfigError(f"invalid {field}: {value!r} (an ISO time or ns since the epoch)", field=field, value=repr(value)) from None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.value)


@dataclass(slots=True)
class BookSeries:
    """Every book state a venue published: row j is the book after its j-th update (at `ts[j]`).

    Level 0 is the touch. Missing levels are NaN price and 0 size. Sizes in units of the asset."""

    ts: npt.NDArray[np.int64]  # int64 ns (ts_init: the local receive clock where the source has one), non-decreasing
    bid_px: npt.NDArray[np.float64]  # float64 (updates, levels), best first (descending)
    bid_sz: npt.NDArray[np.float64]  # float64 (updates, levels)
    ask_px: npt.NDArray[np.float64]  # float64 (updates, levels), best first (ascending)
    ask_sz: npt.NDArray[np.float64]  # float64 (updates, levels)

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

    ts: npt.NDArray[np.int64]  # int64 ns
    price: npt.NDArray[np.float64]  # float64
    size: npt.NDArray[np.float64]  # float64
    aggressor: npt.NDArray[np.int8]  # int8


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
    # The basis taken out of the array prices, if any: (ts int64 ns, offset float64), a step function
    # (offset[k] applies from ts[k] on); array price = recorded price - offset. None: prices as recorded.
    price_offset: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None = None

    def offset_at(self, ts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """The basis offset subtracted from this venue's array prices at each of `ts` (0 without one)."""
        ts = np.asarray(ts, dtype=np.int64)
        if self.price_offset is None or self.price_offset[0].size == 0:
            return np.zeros(ts.shape, dtype=np.float64)
        grid, offset = self.price_offset
        return offset[np.clip(np.searchsorted(grid, ts, side="right") - 1, 0, grid.size - 1)]

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
    # optional: every print of the asset, routable venues or not (e.g. off-exchange), for participation;
    # None: the venues' own tapes are the whole market.
    market_trades: TradeTape | None = None

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

    def market_table(self, *, recorded_prices: bool = False) -> Any:
        """Top of book per venue per change (the `market` table of `results.py`), sorted by time, from
        the arrays (basis removed, sizes in the asset). `recorded_prices`: add the basis back, i.e. the
        prices the Nautilus data and a BacktestEngine's fills carry.

        A venue without a book (a bar market) gets one row per bar time from its Nautilus bars: the
        BID/ASK bars' closes as bid and ask (their volumes as sizes) where it has quote bars, else NaN
        bid, ask and sizes with the LAST bar's close in the optional `mid` column (the venue's price,
        no quote). The column is there only when some venue needs it; `tca` reads it as the mid where
        no venue quotes."""
        import pandas as pd

        from nautilus_sor.analysis.results import MARKET_COLUMNS

        parts = []
        bar_venues = [v for v in self.venues if v.book is None]
        bars = _bars_by_venue(self.data, {v.instrument.id for v in bar_venues}) if bar_venues else {}
        for v in self.venues:
            if v.book is not None:
                b = v.book
                top = np.stack([b.bid_px[:, 0], b.ask_px[:, 0], b.bid_sz[:, 0], b.ask_sz[:, 0]], axis=1)
                changed = np.ones(top.shape[0], dtype=bool)
                changed[1:] = np.any(top[1:] != top[:-1], axis=1)
                ts, top = b.ts[changed], top[changed]
                shift = v.offset_at(ts) if recorded_prices else 0.0
                parts.append(pd.DataFrame({"ts": ts, "venue": v.name, "bid": top[:, 0] + shift, "ask": top[:, 1] + shift,
                                           "bid_size": top[:, 2], "ask_size": top[:, 3]}))
            else:
                rows = _bar_rows(bars.get(v.instrument.id, {}))
                shift = 0.0 if recorded_prices else v.offset_at(rows["ts"])  # bars carry recorded prices
                to_asset = 1.0 / v.size_to_instrument  # bar sizes are the instrument's (contracts)
                parts.append(pd.DataFrame({"ts": rows["ts"], "venue": v.name, "bid": rows["bid"] - shift, "ask": rows["ask"] - shift,
                                           "bid_size": rows["bid_size"] * to_asset, "ask_size": rows["ask_size"] * to_asset,
                                           "mid": rows["mid"] - shift}))
        columns = dict(MARKET_COLUMNS)
        if any("mid" in p and p["mid"].notna().any() for p in parts):
            columns["mid"] = "float64"
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
        df = pd.concat(parts, ignore_index=True).sort_values("ts", kind="stable").reset_index(drop=True)
        if "mid" in columns and "mid" not in df:
            df["mid"] = np.nan
        return df[list(columns)].astype(columns)

    def trades_table(self, *, recorded_prices: bool = False) -> Any:
        """The tape of every venue (the `trades` table of `results.py`), sorted by time, from the arrays."""
        import pandas as pd

        from nautilus_sor.analysis.results import TRADES_COLUMNS

        parts = [
            pd.DataFrame({"ts": v.trades.ts, "venue": v.name,
                          "price": v.trades.price + (v.offset_at(v.trades.ts) if recorded_prices else 0.0),
                          "size": v.trades.size})
            for v in self.venues
        ]
        df = pd.concat(parts, ignore_index=True).sort_values("ts", kind="stable").reset_index(drop=True)
        return df[list(TRADES_COLUMNS)].astype(TRADES_COLUMNS)


def _bars_by_venue(data: list[Any], instrument_ids: set[Any]) -> dict[Any, dict[str, list[Any]]]:
    """The Bars of `instrument_ids` in `data`, by instrument and price type name (LAST, BID, ASK, MID)."""
    from nautilus_trader.model.data import Bar

    out: dict[Any, dict[str, list[Any]]] = {}
    for obj in data:
        if type(obj) is Bar and obj.bar_type.instrument_id in instrument_ids:
            out.setdefault(obj.bar_type.instrument_id, {}).setdefault(obj.bar_type.spec.price_type.name, []).append(obj)
    return out


def _bar_rows(bars: dict[str, list[Any]]) -> dict[str, npt.NDArray[Any]]:
    """One venue's market rows from its bars (see `RecordedMarket.market_table`): a quote row at each
    time with both a BID and an ASK bar, a mid-only row (the LAST, else MID, bar's close) at other bar times."""
    def closes(kind: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        objs = bars.get(kind, [])
        return (np.fromiter((b.ts_init for b in objs), dtype=np.int64, count=len(objs)),
                np.fromiter((b.close.as_double() for b in objs), dtype=np.float64, count=len(objs)),
                np.fromiter((b.volume.as_double() for b in objs), dtype=np.float64, count=len(objs)))

    bid_ts, bid, bid_size = closes("BID")
    ask_ts, ask, ask_size = closes("ASK")
    quote_ts, at_bid, at_ask = np.intersect1d(bid_ts, ask_ts, assume_unique=False, return_indices=True)
    last_ts, last, _ = closes("LAST") if "LAST" in bars else closes("MID")
    mid_only = ~np.isin(last_ts, quote_ts)
    nan_q, nan_m = np.full(quote_ts.size, np.nan), np.full(int(mid_only.sum()), np.nan)
    ts = np.concatenate([quote_ts, last_ts[mid_only]])
    order = np.argsort(ts, kind="stable")
    return {"ts": ts[order],
            "bid": np.concatenate([bid[at_bid], nan_m])[order], "ask": np.concatenate([ask[at_ask], nan_m])[order],
            "bid_size": np.concatenate([bid_size[at_bid], nan_m])[order], "ask_size": np.concatenate([ask_size[at_ask], nan_m])[order],
            "mid": np.concatenate([nan_q, last[mid_only]])[order]}


# -- helpers every loader shares ------------------------------------------------------------------


def rolling_basis(ref: BookSeries, other: BookSeries, start_ns: int, end_ns: int, *, window_s: float = 60.0,
                  step_s: float = 1.0) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The basis of `other` to `ref` as a trailing median: on a common clock every `step_s` from
    `start_ns`, sample (mid_other - mid_ref) of the books in force, and at each sample take the median of
    the samples of the last `window_s` (the current one included; fewer at the start). No look-ahead:
    the offset at a time uses samples at or before it. Returns (grid ts, offset), for `price_offset`."""
    step = int(round(step_s * 1e9))
    grid = np.arange(start_ns, end_ns + 1, step, dtype=np.int64)
    diff = _mid_at(other, grid) - _mid_at(ref, grid)
    width = max(1, int(round(window_s / step_s)))
    offset = np.empty(grid.size)
    for k in range(grid.size):
        window = diff[max(0, k - width + 1) : k + 1]
        window = window[np.isfinite(window)]
        offset[k] = np.median(window) if window.size else np.nan
    # Before the first finite sample there is nothing to go on: carry the first finite offset back
    # (only happens when a book is one-sided at the very start).
    finite = np.isfinite(offset)
    if not finite.any():
        return grid, np.zeros(grid.size)
    first = int(np.argmax(finite))
    offset[:first] = offset[first]
    for k in range(first + 1, grid.size):  # a gap in the middle: keep the last offset
        if not finite[k]:
            offset[k] = offset[k - 1]
    return grid, offset


def _mid_at(book: BookSeries, ts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    rows = np.searchsorted(book.ts, ts, side="right") - 1
    ok = rows >= 0
    mid = np.full(ts.shape, np.nan)
    mid[ok] = (book.bid_px[rows[ok], 0] + book.ask_px[rows[ok], 0]) / 2
    return mid


def shift_prices(venue: RecordedVenue, grid: npt.NDArray[np.int64], offset: npt.NDArray[np.float64]) -> RecordedVenue:
    """`venue` with `offset` (a step function on `grid`) subtracted from its book and trade prices."""
    import dataclasses

    shifted = dataclasses.replace(venue, price_offset=(grid, offset))
    book = venue.book
    if book is not None:
        o = shifted.offset_at(book.ts)[:, None]
        book = BookSeries(ts=book.ts, bid_px=book.bid_px - o, bid_sz=book.bid_sz, ask_px=book.ask_px - o, ask_sz=book.ask_sz)
    t = venue.trades
    trades = TradeTape(ts=t.ts, price=t.price - shifted.offset_at(t.ts), size=t.size, aggressor=t.aggressor)
    return dataclasses.replace(shifted, book=book, trades=trades)
