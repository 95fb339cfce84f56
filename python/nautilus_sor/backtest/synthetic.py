"""(Over 600 lines: one seeded generator - its config and the checks that name each field, the price
path, the venues' ladders and tapes, and the Nautilus objects handed to the engine - whose parts share the
same integer price and size grids; the generated market is what the README's job and most tests run on.)

The embedded default market: a seeded synthetic market of several venues for one asset.

    market = build_market(SyntheticMarketConfig(seed=7))     # CHEAP, DEEP, SLOW; 10 minutes
    engine = engine_for(market, OmsType.NETTING)              # venues (L2_MBP), instruments, data
    router = SmartOrderRouter(market.venue_configs(), cache=engine.cache)

The model, per `step_ms` (default 100 ms):

- One efficient price for the asset, a geometric random walk with the configured annualised volatility
  (365-day year) and drift.
- Per venue, a mid that follows the efficient price as of `lag_ms` ago times a small idiosyncratic
  AR(1) noise (`noise_bps`), refreshed every `update_interval_ms` (a slow venue's book is stale in between).
  Around it, a quoted spread (`spread_bps`, at least one level step) and an L2 ladder of `levels` price
  levels per side, `tick` apart, with mean size `touch_size * depth_growth**k` at level k. A level keeps
  its size while its price stays in the ladder, except that each update redraws about a third of them
  (log-normal around the profile), so most updates change only a few levels.
- Per venue, a Poisson trade tape (`trade_rate_per_s`, exponential sizes of mean `mean_trade_size`,
  aggressor side random), printed at the venue's touch at that moment. Trades do not consume the book.

The Nautilus data, sorted by `ts_init` (at equal times: book, then quote, then trade of a venue):

- `OrderBookDeltas`: at a venue's first update a snapshot (CLEAR + one ADD per level, all F_SNAPSHOT,
  the last also F_LAST), then per update only the changed levels (DELETEs first, then UPDATEs and ADDs,
  the last flagged F_LAST), so the book is never crossed, not even between two deltas of one batch; a
  fresh snapshot every `snapshot_interval_seconds` (default 60). The venue's matching engine applies them
  (the venue is added with `book_type=BookType.L2_MBP`), and a strategy that calls
  `subscribe_order_book_deltas(instrument_id)` reads the same book through `cache.order_book(instrument_id)`:
  exactly, if it subscribed in `on_start`; from the next snapshot on, if it subscribed later.
- `QuoteTick`: the top of the book whenever it changed (what `subscribe_quote_ticks` and
  `cache.quote_tick` see; the L2 matching engine itself does not use quotes).
- `TradeTick`: the tape.

The same seed gives the same data, object for object. Nothing here reads files or the clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt
import pandas as pd
from nautilus_trader.model.currencies import BTC, USDT
from nautilus_trader.model.data import OrderBookDelta, OrderBookDeltas, QuoteTick, TradeTick
from nautilus_trader.model.enums import AggressorSide, BookAction, OrderSide, RecordFlag
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TradeId, Venue
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import FIXED_PRECISION, Price, Quantity

from nautilus_sor.analysis.results import MARKET_COLUMNS, TRADES_COLUMNS
from nautilus_sor.exceptions import ConfigError

SYMBOL = "BTCUSDT"
PRICE_PRECISION = 2  # the instruments' price increment: 0.01 USDT
SIZE_PRECISION = 3  # the instruments' size increment: 0.001 BTC
SECONDS_PER_YEAR = 365 * 24 * 3600
MAX_LEVELS = 50
# Share of a venue's levels whose size is redrawn at each update, and the spread of the draw.
SIZE_REFRESH_PROBABILITY = 0.3
SIZE_NOISE_SIGMA = 0.35
# Persistence of the venue noise between two of its updates.
NOISE_AR = 0.9

_PRICE_SCALE = 10 ** (FIXED_PRECISION - PRICE_PRECISION)  # raw per cent
_SIZE_SCALE = 10 ** (FIXED_PRECISION - SIZE_PRECISION)  # raw per lot
_CENTS = 10**PRICE_PRECISION
_LOTS = 10**SIZE_PRECISION
_NS = 1_000_000_000
_MS = 1_000_000


# -- configuration ------------------------------------------------------------------------------


def _fail(path: str, value: Any, why: str) -> NoReturn:
    raise ConfigError(f"invalid {path}: {value!r} ({why})", field=path, value=repr(value))


def _number(path: str, value: Any, *, low: float | None = None, low_open: bool = False, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        _fail(path, value, "must be a number")
    x = float(value)
    if not math.isfinite(x):
        _fail(path, value, "must be finite")
    if low is not None and (x <= low if low_open else x < low):
        _fail(path, value, f"must be {'>' if low_open else '>='} {low:g}")
    if high is not None and x > high:
        _fail(path, value, f"must be <= {high:g}")
    return x


def _integer(path: str, value: Any, *, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        _fail(path, value, "must be an integer")
    if value < low or (high is not None and value > high):
        _fail(path, value, f"must be an integer in [{low}, {high}]" if high is not None else f"must be an integer >= {low}")
    return int(value)


def _check_venue(v: SyntheticVenue, prefix: str) -> None:
    name = v.name
    if not isinstance(name, str) or not name or not name.isascii() or not name.replace("_", "").replace("-", "").isalnum():
        _fail(f"{prefix}name", name, "must be a non-empty ASCII venue name of letters, digits, '-' or '_'")
    _number(f"{prefix}maker_fee", v.maker_fee, low=-0.01, high=0.01)
    _number(f"{prefix}taker_fee", v.taker_fee, low=-0.01, high=0.01)
    _number(f"{prefix}latency_ms", v.latency_ms, low=0.0, high=60_000.0)
    _number(f"{prefix}spread_bps", v.spread_bps, low=0.0, high=1_000.0)
    touch = _number(f"{prefix}touch_size", v.touch_size, low=0.0, low_open=True)
    if touch < 1 / _LOTS:
        _fail(f"{prefix}touch_size", v.touch_size, f"must be at least one lot ({1 / _LOTS:g})")
    _number(f"{prefix}depth_growth", v.depth_growth, low=0.0, low_open=True, high=10.0)
    _integer(f"{prefix}levels", v.levels, low=1, high=MAX_LEVELS)
    tick = _number(f"{prefix}tick", v.tick, low=0.0, low_open=True)
    cents = tick * _CENTS
    if abs(cents - round(cents)) > 1e-6 or round(cents) < 1:
        _fail(f"{prefix}tick", v.tick, f"must be a positive multiple of the price increment {1 / _CENTS:g}")
    _integer(f"{prefix}update_interval_ms", v.update_interval_ms, low=1)
    _number(f"{prefix}trade_rate_per_s", v.trade_rate_per_s, low=0.0, high=1_000.0)
    _number(f"{prefix}mean_trade_size", v.mean_trade_size, low=0.0, low_open=True)
    _number(f"{prefix}noise_bps", v.noise_bps, low=0.0, high=1_000.0)
    _number(f"{prefix}lag_ms", v.lag_ms, low=0.0, high=60_000.0)
    # That the deepest level stays above 0 depends on the price path: `build_market` checks it.


def _start_ns(start: Any) -> int:
    if isinstance(start, bool):
        _fail("start", start, "must be an ISO time or ns since the epoch")
    if isinstance(start, (int, np.integer)):
        ns = int(start)
    else:
        try:
            ts = pd.Timestamp(start)
        except (ValueError, TypeError):
            _fail("start", start, "must be an ISO time or ns since the epoch")
        if ts is pd.NaT:
            _fail("start", start, "must be an ISO time or ns since the epoch")
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        ns = int(ts.value)
    if ns <= 0:
        _fail("start", start, "must be after 1970-01-01 (Nautilus misbehaves on data stamped near the epoch)")
    return ns


def _check_config(c: SyntheticMarketConfig) -> None:
    _integer("seed", c.seed, low=0)
    _start_ns(c.start)
    duration = _number("duration_seconds", c.duration_seconds, low=0.0, low_open=True, high=7 * 24 * 3600.0)
    _number("initial_price", c.initial_price, low=0.0, low_open=True, high=1e9)
    _number("annual_volatility", c.annual_volatility, low=0.0, high=10.0)
    _number("annual_drift", c.annual_drift, low=-10.0, high=10.0)
    step = _integer("step_ms", c.step_ms, low=1, high=60_000)
    if step > duration * 1000:
        _fail("step_ms", c.step_ms, f"must not exceed the duration ({duration:g} s)")
    if c.snapshot_interval_seconds is not None:
        _number("snapshot_interval_seconds", c.snapshot_interval_seconds, low=0.0, low_open=True)
    if not isinstance(c.venues, tuple) or not c.venues:
        _fail("venues", c.venues, "a non-empty list of venues is required")
    seen: set[str] = set()
    for i, v in enumerate(c.venues):
        if not isinstance(v, SyntheticVenue):
            _fail(f"venues[{i}]", v, "must be a SyntheticVenue")
        _check_venue(v, f"venues[{i}].")
        if v.name in seen:
            _fail(f"venues[{i}].name", v.name, "duplicate venue")
        seen.add(v.name)


@dataclass(frozen=True, slots=True)
class SyntheticVenue:
    """One venue of the synthetic market: its terms (for the router) and its market model.

    Checked when put in a `SyntheticMarketConfig`, so errors name the entry (`venues[1].spread_bps`)."""

    name: str
    maker_fee: float
    taker_fee: float
    latency_ms: float
    spread_bps: float = 1.0  # best ask - best bid, in bps of the mid (rounded out to the level grid)
    touch_size: float = 0.5  # mean size at the best level, in BTC
    depth_growth: float = 1.2  # mean size at level k = touch_size * depth_growth**k
    levels: int = 10  # price levels per side
    tick: float = 1.0  # price step between levels, USDT (a multiple of 0.01)
    update_interval_ms: int = 100  # book and quote refresh period
    trade_rate_per_s: float = 2.0  # Poisson arrival rate of tape trades
    mean_trade_size: float = 0.05  # BTC, exponential
    noise_bps: float = 0.5  # idiosyncratic deviation of the venue mid from the efficient price
    lag_ms: float = 0.0  # the venue mid follows the efficient price as of this long ago

    def terms(self) -> dict[str, Any]:
        """The venue as the router's (reference-format) config gives it."""
        return {"name": self.name, "maker_fee": self.maker_fee, "taker_fee": self.taker_fee, "latency_ms": self.latency_ms}


DEFAULT_VENUES: tuple[SyntheticVenue, ...] = (
    # Cheapest to take from, but a wide-stepped, thin book: large orders walk it fast.
    SyntheticVenue("CHEAP", maker_fee=0.0000, taker_fee=0.0002, latency_ms=20.0, spread_bps=1.5, touch_size=0.05,
                   depth_growth=1.25, levels=10, tick=2.5, update_interval_ms=100, trade_rate_per_s=2.0,
                   mean_trade_size=0.02, noise_bps=0.5),
    # Deep and tight, but the taker fee is three times CHEAP's.
    SyntheticVenue("DEEP", maker_fee=0.0002, taker_fee=0.0006, latency_ms=10.0, spread_bps=0.3, touch_size=2.0,
                   depth_growth=1.3, levels=10, tick=0.5, update_interval_ms=100, trade_rate_per_s=6.0,
                   mean_trade_size=0.08, noise_bps=0.2),
    # Middling fee and depth, but far away: high order latency, and a lagging book refreshed twice a second.
    SyntheticVenue("SLOW", maker_fee=0.0001, taker_fee=0.0005, latency_ms=250.0, spread_bps=1.0, touch_size=0.5,
                   depth_growth=1.2, levels=10, tick=1.0, update_interval_ms=500, trade_rate_per_s=1.0,
                   mean_trade_size=0.05, noise_bps=0.5, lag_ms=200.0),
)


@dataclass(frozen=True, slots=True)
class SyntheticMarketConfig:
    """What to generate: the common price path and the venues."""

    seed: int = 7
    start: str | int | pd.Timestamp = "2024-08-08T00:00:00Z"  # ISO time (UTC if naive) or ns since the epoch
    duration_seconds: float = 600.0
    initial_price: float = 60_000.0
    annual_volatility: float = 0.6
    annual_drift: float = 0.0
    step_ms: int = 100
    venues: tuple[SyntheticVenue, ...] = DEFAULT_VENUES
    # A full book snapshot (CLEAR + every level) this often per venue, besides the first: lets a strategy
    # that subscribes mid-run resynchronise its book. None: only the first.
    snapshot_interval_seconds: float | None = 60.0

    def __post_init__(self) -> None:
        if isinstance(self.venues, list):
            object.__setattr__(self, "venues", tuple(self.venues))
        _check_config(self)

    @property
    def start_ns(self) -> int:
        return _start_ns(self.start)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], field_prefix: str = "") -> SyntheticMarketConfig:
        """From a JSON-like mapping (venues as mappings); errors name the path, e.g. `venues[1].spread_bps`."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"invalid {field_prefix or 'market'}: {data!r} (must be a mapping)", field=field_prefix or "market", value=repr(data))
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                path = f"{field_prefix}{key}"
                raise ConfigError(f"invalid {path}: unknown field (expected one of {sorted(known)})", field=path, value=repr(data[key]))
        kwargs = dict(data)
        if "venues" in kwargs:
            raw = kwargs["venues"]
            if not isinstance(raw, (list, tuple)) or not raw:
                path = f"{field_prefix}venues"
                raise ConfigError(f"invalid {path}: {raw!r} (a non-empty list of venues is required)", field=path, value=repr(raw))
            kwargs["venues"] = tuple(_venue_from(v, f"{field_prefix}venues[{i}]") for i, v in enumerate(raw))
        try:
            return cls(**kwargs)
        except ConfigError as exc:
            if field_prefix and exc.field:
                raise ConfigError(f"invalid {field_prefix}{exc.field}: {exc}", field=f"{field_prefix}{exc.field}", value=exc.value) from None
            raise


def _venue_from(raw: Any, path: str) -> SyntheticVenue:
    if isinstance(raw, SyntheticVenue):
        return raw
    if not isinstance(raw, Mapping):
        raise ConfigError(f"invalid {path}: {raw!r} (must be a mapping)", field=path, value=repr(raw))
    known = {f.name for f in fields(SyntheticVenue)}
    for key in raw:
        if key not in known:
            raise ConfigError(f"invalid {path}.{key}: unknown field (expected one of {sorted(known)})", field=f"{path}.{key}", value=repr(raw[key]))
    for required in ("name", "maker_fee", "taker_fee", "latency_ms"):
        if required not in raw:
            raise ConfigError(f"invalid {path}.{required}: missing", field=f"{path}.{required}", value=None)
    return SyntheticVenue(**raw)  # checked with the config


# -- the market ----------------------------------------------------------------------------------


@dataclass(slots=True)
class VenueBooks:
    """Every book state a venue published: row j holds the ladder after its j-th update.

    Prices in cents (int64), sizes in lots of 0.001 (int64); level 0 is the touch."""

    ts: npt.NDArray[np.int64]  # int64 ns, one per update
    bid_px: npt.NDArray[np.int64]  # (updates, levels)
    bid_sz: npt.NDArray[np.int64]
    ask_px: npt.NDArray[np.int64]
    ask_sz: npt.NDArray[np.int64]


@dataclass(slots=True)
class SyntheticMarket:
    """The generated market: instruments, the time-sorted Nautilus data and plain arrays of the same."""

    config: SyntheticMarketConfig
    instruments: list[CurrencyPair]
    data: list[Any]
    efficient_price: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]  # (ts_ns int64, price float64)
    books: dict[str, VenueBooks]
    _quotes: dict[str, dict[str, npt.NDArray[Any]]] = field(repr=False)
    _trades: dict[str, dict[str, npt.NDArray[Any]]] = field(repr=False)

    @property
    def venues(self) -> tuple[SyntheticVenue, ...]:
        return self.config.venues

    @property
    def start_ns(self) -> int:
        return self.config.start_ns

    @property
    def end_ns(self) -> int:
        return self.config.start_ns + int(round(self.config.duration_seconds * _NS))

    def instrument_id(self, venue: str) -> InstrumentId:
        return InstrumentId(Symbol(SYMBOL), Venue(venue))

    def venue_configs(self) -> list[dict[str, Any]]:
        """The venues in the router's reference format: `{"name", "maker_fee", "taker_fee", "latency_ms"}`."""
        return [v.terms() for v in self.config.venues]

    def book_at(self, venue: str, ts_ns: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """The venue's published book at `ts_ns` (after every update stamped at or before it), as
        (bids, asks) lists of (price, size), best first; empty before its first update."""
        books = self.books[venue]
        j = int(np.searchsorted(books.ts, ts_ns, side="right")) - 1
        if j < 0:
            return [], []
        bids = [(p / _CENTS, s / _LOTS) for p, s in zip(books.bid_px[j].tolist(), books.bid_sz[j].tolist())]
        asks = [(p / _CENTS, s / _LOTS) for p, s in zip(books.ask_px[j].tolist(), books.ask_sz[j].tolist())]
        return bids, asks

    def market_table(self) -> pd.DataFrame:
        """Top of book per venue per change (the `market` table of `results.py`), sorted by time."""
        parts = [
            pd.DataFrame({
                "ts": q["ts"],
                "venue": v.name,
                "bid": q["bid"] / _CENTS,
                "ask": q["ask"] / _CENTS,
                "bid_size": q["bid_size"] / _LOTS,
                "ask_size": q["ask_size"] / _LOTS,
            })
            for v in self.config.venues
            for q in [self._quotes[v.name]]
        ]
        df = pd.concat(parts, ignore_index=True).sort_values("ts", kind="stable").reset_index(drop=True)
        return df[list(MARKET_COLUMNS)].astype(MARKET_COLUMNS)

    def trades_table(self) -> pd.DataFrame:
        """The tape (the `trades` table of `results.py`), sorted by time."""
        parts = [
            pd.DataFrame({"ts": t["ts"], "venue": v.name, "price": t["price"] / _CENTS, "size": t["size"] / _LOTS})
            for v in self.config.venues
            for t in [self._trades[v.name]]
        ]
        df = pd.concat(parts, ignore_index=True).sort_values("ts", kind="stable").reset_index(drop=True)
        return df[list(TRADES_COLUMNS)].astype(TRADES_COLUMNS)


def make_instrument(venue: SyntheticVenue) -> CurrencyPair:
    """The venue's BTCUSDT pair: price increment 0.01, size increment 0.001, the venue's fees."""
    increment = Quantity.from_raw(_SIZE_SCALE, SIZE_PRECISION)
    return CurrencyPair(
        instrument_id=InstrumentId(Symbol(SYMBOL), Venue(venue.name)),
        raw_symbol=Symbol(SYMBOL),
        base_currency=BTC,
        quote_currency=USDT,
        price_precision=PRICE_PRECISION,
        size_precision=SIZE_PRECISION,
        price_increment=Price.from_raw(_PRICE_SCALE, PRICE_PRECISION),
        size_increment=increment,
        lot_size=None,
        max_quantity=Quantity(9000, precision=SIZE_PRECISION),
        min_quantity=increment,
        max_notional=None,
        min_notional=None,
        max_price=Price(10_000_000, precision=PRICE_PRECISION),
        min_price=Price.from_raw(_PRICE_SCALE, PRICE_PRECISION),
        margin_init=Decimal(0),
        margin_maint=Decimal(0),
        maker_fee=Decimal(repr(float(venue.maker_fee))),
        taker_fee=Decimal(repr(float(venue.taker_fee))),
        ts_event=0,
        ts_init=0,
    )


def efficient_path(config: SyntheticMarketConfig, rng: np.random.Generator) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The common price: a geometric random walk on the `step_ms` grid (both ends included)."""
    start = config.start_ns
    step_ns = config.step_ms * _MS
    n = int(math.floor(config.duration_seconds * 1000 / config.step_ms)) + 1
    dt = config.step_ms / 1000 / SECONDS_PER_YEAR
    sigma = config.annual_volatility
    shocks = rng.standard_normal(n - 1)
    log_returns = (config.annual_drift - 0.5 * sigma**2) * dt + sigma * math.sqrt(dt) * shocks
    ts = start + np.arange(n, dtype=np.int64) * step_ns
    return ts, config.initial_price * np.exp(np.concatenate(([0.0], np.cumsum(log_returns))))


def _venue_ladders(config: SyntheticMarketConfig, v: SyntheticVenue, eff_ts: npt.NDArray[np.int64], eff_px: npt.NDArray[np.float64],
                   rng: np.random.Generator, index: int) -> tuple[VenueBooks, dict[str, npt.NDArray[Any]]]:
    """The venue's book after each of its updates, plus its trade tape (plain arrays)."""
    start, end = config.start_ns, config.start_ns + int(round(config.duration_seconds * _NS))
    interval = v.update_interval_ms * _MS
    phase = int(rng.integers(0, v.update_interval_ms)) * _MS  # venues do not all refresh at the same instant
    ts = np.arange(start + phase, end + 1, interval, dtype=np.int64)
    if ts.size == 0:
        _fail(f"venues[{index}].update_interval_ms", v.update_interval_ms, "the venue would never publish a book within the duration")
    n, levels = ts.size, v.levels
    # Mid: the efficient price as of lag_ms ago, times an AR(1) noise of stationary std noise_bps.
    src = np.clip(np.searchsorted(eff_ts, ts - int(round(v.lag_ms * _MS)), side="right") - 1, 0, eff_ts.size - 1)
    z = rng.standard_normal(n)
    noise = np.empty(n)
    noise[0] = z[0]
    innovation = math.sqrt(1 - NOISE_AR**2)
    for j in range(1, n):
        noise[j] = NOISE_AR * noise[j - 1] + innovation * z[j]
    mid = eff_px[src] * np.exp(v.noise_bps * 1e-4 * noise)
    half = mid * v.spread_bps * 1e-4 / 2
    tick_c = int(round(v.tick * _CENTS))
    bid0 = np.floor((mid - half) * _CENTS / tick_c).astype(np.int64)  # in level steps
    ask0 = np.maximum(np.ceil((mid + half) * _CENTS / tick_c).astype(np.int64), bid0 + 1)
    if int(bid0.min()) - levels + 1 < 1:
        _fail(f"venues[{index}].tick", v.tick, f"{levels} levels of {v.tick:g} reach a price <= 0 on this price path")
    steps = np.arange(levels, dtype=np.int64)
    bid_px = (bid0[:, None] - steps[None, :]) * tick_c
    ask_px = (ask0[:, None] + steps[None, :]) * tick_c
    # Sizes: a level keeps its size while its price stays in the ladder, unless redrawn.
    profile = v.touch_size * _LOTS * v.depth_growth ** steps.astype(float)
    draws = {}
    for side in ("bid", "ask"):
        fresh = profile[None, :] * rng.lognormal(-0.5 * SIZE_NOISE_SIGMA**2, SIZE_NOISE_SIGMA, size=(n, levels))
        draws[side] = (np.maximum(np.rint(fresh), 1).astype(np.int64), rng.random((n, levels)) < SIZE_REFRESH_PROBABILITY)
    bid_sz = _persist(bid0, *draws["bid"], direction=-1)
    ask_sz = _persist(ask0, *draws["ask"], direction=1)
    books = VenueBooks(ts=ts, bid_px=bid_px, bid_sz=bid_sz, ask_px=ask_px, ask_sz=ask_sz)
    # The tape: Poisson arrivals after the first book, printed at the touch of that moment.
    count = int(rng.poisson(v.trade_rate_per_s * (end - ts[0]) / _NS))
    t_ts = np.sort(rng.integers(ts[0], end + 1, size=count, dtype=np.int64))
    buyer = rng.random(count) < 0.5
    t_sz = np.maximum(np.rint(rng.exponential(v.mean_trade_size * _LOTS, size=count)), 1).astype(np.int64)
    at = np.searchsorted(ts, t_ts, side="right") - 1
    t_px = np.where(buyer, ask_px[at, 0], bid_px[at, 0])
    return books, {"ts": t_ts, "price": t_px, "size": t_sz, "buyer": buyer}


def _persist(top: npt.NDArray[np.int64], fresh: npt.NDArray[np.int64], redraw: npt.NDArray[np.bool_], direction: int) -> npt.NDArray[np.int64]:
    """Sizes per update and level: the previous size at the same price unless redrawn (or new).

    `top` is the touch in level steps; level k sits at top + direction * k."""
    n, levels = fresh.shape
    out = np.empty_like(fresh)
    out[0] = fresh[0]
    for j in range(1, n):
        # The level k now was level k + shift before (same price) when 0 <= k + shift < levels.
        shift = int(top[j] - top[j - 1]) * direction
        row = fresh[j].copy()
        lo, hi = max(0, -shift), min(levels, levels - shift)
        if lo < hi:
            keep = ~redraw[j, lo:hi]
            prev = out[j - 1, lo + shift : hi + shift]
            row[lo:hi] = np.where(keep, prev, row[lo:hi])
        out[j] = row
    return out


def _book_objects(iid: InstrumentId, books: VenueBooks, snapshot_interval_ns: int | None) -> list[OrderBookDeltas]:
    """A snapshot at the first update (and every `snapshot_interval_ns`), else only the changed levels."""
    from_raw = OrderBookDelta.from_raw
    add, update, delete = BookAction.ADD, BookAction.UPDATE, BookAction.DELETE
    buy, sell = OrderSide.BUY, OrderSide.SELL
    f_last, f_snap = int(RecordFlag.F_LAST), int(RecordFlag.F_SNAPSHOT)
    pp, sp, ps, ss = PRICE_PRECISION, SIZE_PRECISION, _PRICE_SCALE, _SIZE_SCALE
    ts_all = books.ts.tolist()
    bid_px, bid_sz, ask_px, ask_sz = (a.tolist() for a in (books.bid_px, books.bid_sz, books.ask_px, books.ask_sz))
    out: list[OrderBookDeltas] = []

    def emit(changes: list[tuple[BookAction, OrderSide, int, int]], flags: int, sequence: int, ts: int) -> None:
        last = len(changes) - 1
        # L2 books key a level by its price: the price (in cents) doubles as the order id.
        batch = [
            from_raw(iid, action, side, price * ps, pp, size * ss, sp, price, flags | (f_last if k == last else 0), sequence, ts, ts)
            for k, (action, side, price, size) in enumerate(changes)
        ]
        out.append(OrderBookDeltas(iid, batch))

    def snapshot(j: int) -> None:
        changes = [(BookAction.CLEAR, OrderSide.NO_ORDER_SIDE, 0, 0)]
        changes += [(add, buy, p, s) for p, s in zip(bid_px[j], bid_sz[j])]
        changes += [(add, sell, p, s) for p, s in zip(ask_px[j], ask_sz[j])]
        emit(changes, f_snap, j + 1, ts_all[j])

    snapshot(0)
    next_snapshot = ts_all[0] + snapshot_interval_ns if snapshot_interval_ns else None
    for j in range(1, len(ts_all)):
        if next_snapshot is not None and ts_all[j] >= next_snapshot:
            snapshot(j)
            next_snapshot += snapshot_interval_ns
            continue
        deletes: list[tuple[BookAction, OrderSide, int, int]] = []
        changes: list[tuple[BookAction, OrderSide, int, int]] = []
        for side, old_p, old_s, new_p, new_s in (
            (buy, bid_px[j - 1], bid_sz[j - 1], bid_px[j], bid_sz[j]),
            (sell, ask_px[j - 1], ask_sz[j - 1], ask_px[j], ask_sz[j]),
        ):
            old = dict(zip(old_p, old_s))
            new = set(new_p)
            deletes += [(delete, side, p, 0) for p in old_p if p not in new]
            for p, s in zip(new_p, new_s):
                before = old.get(p)
                if before is None:
                    changes.append((add, side, p, s))
                elif before != s:
                    changes.append((update, side, p, s))
        # Deletes first: the book is never crossed, even between two deltas of a batch.
        if deletes or changes:
            emit(deletes + changes, 0, j + 1, ts_all[j])
    return out


def _quote_arrays(books: VenueBooks) -> dict[str, npt.NDArray[np.int64]]:
    """The top of the book at each update where it changed."""
    top = np.stack([books.bid_px[:, 0], books.ask_px[:, 0], books.bid_sz[:, 0], books.ask_sz[:, 0]], axis=1)
    changed = np.ones(top.shape[0], dtype=bool)
    changed[1:] = np.any(top[1:] != top[:-1], axis=1)
    return {"ts": books.ts[changed], "bid": top[changed, 0], "ask": top[changed, 1], "bid_size": top[changed, 2], "ask_size": top[changed, 3]}


def _quote_objects(iid: InstrumentId, q: dict[str, npt.NDArray[Any]]) -> list[QuoteTick]:
    from_raw = QuoteTick.from_raw
    pp, sp, ps, ss = PRICE_PRECISION, SIZE_PRECISION, _PRICE_SCALE, _SIZE_SCALE
    return [
        from_raw(iid, b * ps, a * ps, pp, pp, bs * ss, as_ * ss, sp, sp, t, t)
        for t, b, a, bs, as_ in zip(q["ts"].tolist(), q["bid"].tolist(), q["ask"].tolist(), q["bid_size"].tolist(), q["ask_size"].tolist())
    ]


def _trade_objects(iid: InstrumentId, venue: str, t: dict[str, npt.NDArray[Any]]) -> list[TradeTick]:
    from_raw = TradeTick.from_raw
    pp, sp, ps, ss = PRICE_PRECISION, SIZE_PRECISION, _PRICE_SCALE, _SIZE_SCALE
    buyer, seller = AggressorSide.BUYER, AggressorSide.SELLER
    return [
        from_raw(iid, p * ps, pp, s * ss, sp, buyer if b else seller, TradeId(f"{venue}-{i}"), ts, ts)
        for i, (ts, p, s, b) in enumerate(zip(t["ts"].tolist(), t["price"].tolist(), t["size"].tolist(), t["buyer"].tolist()))
    ]


def build_market(config: SyntheticMarketConfig | None = None) -> SyntheticMarket:
    """Generates the market of `config` (default: CHEAP, DEEP and SLOW for 10 minutes, seed 7)."""
    config = config if config is not None else SyntheticMarketConfig()
    if not isinstance(config, SyntheticMarketConfig):
        raise ConfigError(f"invalid config: {config!r} (must be a SyntheticMarketConfig)", field="config", value=repr(config))
    seeds = np.random.SeedSequence(config.seed).spawn(1 + len(config.venues))
    eff_ts, eff_px = efficient_path(config, np.random.default_rng(seeds[0]))
    instruments: list[CurrencyPair] = []
    books: dict[str, VenueBooks] = {}
    quotes: dict[str, dict[str, npt.NDArray[Any]]] = {}
    tape: dict[str, dict[str, npt.NDArray[Any]]] = {}
    streams: list[tuple[list[Any], int]] = []  # (objects, kind rank) per venue and kind
    interval = config.snapshot_interval_seconds
    snapshot_ns = int(round(interval * _NS)) if interval is not None else None
    for i, v in enumerate(config.venues):
        instrument = make_instrument(v)
        instruments.append(instrument)
        b, t = _venue_ladders(config, v, eff_ts, eff_px, np.random.default_rng(seeds[1 + i]), i)
        books[v.name], quotes[v.name], tape[v.name] = b, _quote_arrays(b), t
        streams.append((_book_objects(instrument.id, b, snapshot_ns), 3 * i))
        streams.append((_quote_objects(instrument.id, quotes[v.name]), 3 * i + 1))
        streams.append((_trade_objects(instrument.id, v.name, t), 3 * i + 2))
    data = _merge(streams)
    return SyntheticMarket(config=config, instruments=instruments, data=data, efficient_price=(eff_ts, eff_px),
                           books=books, _quotes=quotes, _trades=tape)


def _merge(streams: list[tuple[list[Any], int]]) -> list[Any]:
    """All objects by `ts_init`; at equal times in stream order (each venue's book, quote, trade)."""
    ts = np.concatenate([np.fromiter((o.ts_init for o in objs), dtype=np.int64, count=len(objs)) for objs, _ in streams])
    rank = np.concatenate([np.full(len(objs), r, dtype=np.int64) for objs, r in streams])
    order = np.lexsort((np.arange(ts.size), rank, ts))
    flat = [o for objs, _ in streams for o in objs]
    return [flat[k] for k in order.tolist()]


# -- a BacktestEngine over the market --------------------------------------------------------------


def engine_for(
    market: SyntheticMarket,
    oms_type: Any = "NETTING",
    *,
    usdt_balance: float = 1_000_000,
    btc_balance: float = 100,
    latency: bool = True,
    log_level: str = "ERROR",
    trader_id: str = "BACKTESTER-001",
    run_analysis: bool = False,
) -> Any:
    """A BacktestEngine with the market's venues (L2_MBP books, MARGIN accounts, the venue's order latency
    when `latency`), instruments and data. `oms_type`: one for all venues or a {venue: type} mapping,
    each an `OmsType` or its name. Balances stay well below 1e7 (Nautilus's margin accounting breaks above).
    Built by `engine.engine_for_market` on the market's `synthetic_feeds`."""
    from nautilus_sor.backtest.engine import engine_for_market

    for name, value in (("usdt_balance", usdt_balance), ("btc_balance", btc_balance)):
        _number(name, value, low=0.0, low_open=True, high=1e7)
    return engine_for_market(market, oms_type, latency=latency, log_level=log_level, trader_id=trader_id, run_analysis=run_analysis,
                             feeds=synthetic_feeds(market), quote_balance=usdt_balance, base_balance=btc_balance)


def synthetic_feeds(market: SyntheticMarket) -> Any:
    """The market's data as `engine.MarketFeeds`: every venue an L2_MBP book (also a market without data
    yet), one stream per (instrument, kind) in instrument order, then book, quote, trade: the order of
    `market.data` at equal times, kept by the engine's stable sort."""
    from nautilus_sor.backtest.engine import MarketFeeds

    kinds = (OrderBookDeltas, QuoteTick, TradeTick)
    groups: dict[tuple[str, type], list[Any]] = {(str(i.id), kind): [] for i in market.instruments for kind in kinds}
    for obj in market.data:
        groups[(obj.instrument_id.value, type(obj))].append(obj)
    return MarketFeeds(streams={key: objs for key, objs in groups.items() if objs},
                       book_instruments=frozenset(str(i.id) for i in market.instruments), bar_types=())


def add_market_data(engine: Any, market: SyntheticMarket) -> None:
    """Adds the market's data to `engine`, one (instrument, type) stream at a time (Nautilus registers
    book data and market data clients from the first object of each `add_data` call), sorted once."""
    from nautilus_sor.backtest.engine import add_streams

    add_streams(engine, synthetic_feeds(market).streams)


__all__ = [
    "DEFAULT_VENUES",
    "SyntheticMarket",
    "SyntheticMarketConfig",
    "SyntheticVenue",
    "VenueBooks",
    "add_market_data",
    "build_market",
    "efficient_path",
    "engine_for",
    "make_instrument",
    "synthetic_feeds",
]
