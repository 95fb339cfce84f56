"""(Over 600 lines: one data format, read in three layers that share its file and line positions - the
markets' terms, the stream reader whose every check names file and line, and the book arrays; the
sections below are marked.)

Binance L2 captures of one asset on up to three markets recorded together, as one `RecordedMarket`
whose venues are the markets (the shared `../shared/data/binance_btc_l2_20240808` is BTC):

    BINANCE_SPOT   spot <BASE>USDT           CurrencyPair     <BASE>USDT.BINANCE_SPOT        sizes in <BASE>
    BINANCE_USDM   USD-M perp <BASE>USDT     CryptoPerpetual  <BASE>USDT-PERP.BINANCE_USDM   sizes in <BASE>
    BINANCE_COINM  COIN-M perp <BASE>USD_PERP CryptoPerpetual <BASE>USD-PERP.BINANCE_COINM   inverse, contracts of N USD

`market_specs(data_dir, symbol, ...)` names each market's files, symbol and terms: files
`<spot|usdm|cm>_<raw symbol lowercased>_<YYYYMMDD>.gz` found by pattern (read in name order, one stream), or
listed; tick, size step and COIN-M contract size from the config, else the defaults per market type in
`MARKET_TYPES` (tick/step: Binance's exchangeInfo for BTC; COIN-M contract: 100 USD for BTC, 10 USD for every
other pair, Binance's rule). Without a symbol, the one the files name is taken (several: an error listing
them). Each is checked against the data: every price on the tick grid, every stream and `s` symbol the
market's, a COIN-M stream's pair (`ps` / the snapshot's `pair`) one whose contract size is the one used, and
the venues one asset (each venue's mid within `MAX_BASIS` of the reference's; a file of another asset under
this one's name is refused): a `MarketDataError` naming the file and line. The market's name
(`binance_<base>_<YYYYMMDD of the window start>`), asset and instruments come from what was loaded.

Every line (`<local receive ts ns> <raw JSON>`) is decoded with NautilusTrader's own Binance msgspec
schemas (`BinanceDepth` for the REST snapshot, `BinanceOrderBookMsg` for diffs, `BinanceQuoteMsg` for
bookTicker, `BinanceSpotTradeMsg` / `BinanceFuturesTradeMsg` for trades); `ts_init` is the local receive
time, `ts_event` the exchange's. The L2 book is rebuilt from the snapshot and the diffs with Binance's
update-id rules (spot: the first diff applied has U <= lastUpdateId+1 <= u, then U == previous u + 1;
futures: the first has U <= lastUpdateId <= u, then pu == previous u). Diffs received before the snapshot
are buffered; those wholly inside it (u <= lastUpdateId) are dropped, as the protocol says. Any other break
raises `MarketDataError` naming the file, the line and the ids.

Every line is checked, and any failure is a `MarketDataError` naming the file and line: the local
timestamp an integer >= 0, never more than `clock_tolerance_ms` behind an earlier line nor more than
`MAX_GAP_S` after the previous one (a timestamp far in the future); prices finite and > 0 on the
instrument's tick, sizes finite and >= 0 (a trade's > 0); the stream name and the `s` symbol those of the
market read; the book never crossed after the snapshot (refused) or after a diff, and a bookTicker never
crossed: `crossed_books="refuse"` (default) raises, `"drop"` removes the levels a diff crossed from the
other side (as DELETE deltas, so Nautilus's book agrees) and skips a crossed bookTicker, with the counts
in the market's notes.

The Nautilus objects are built with `from_raw` at each instrument's precision (the recorded strings carry
more decimals than the instruments, e.g. spot prices have 8), with the values `parse_to_*` gives
(`tests/test_data_binance.py` compares them); the arrays are normalised as `RecordedMarket.notes` says.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
from nautilus_trader.adapters.binance.common.schemas.market import BinanceDepth, BinanceOrderBookMsg, BinanceQuoteMsg
from nautilus_trader.adapters.binance.futures.schemas.market import BinanceFuturesTradeMsg
from nautilus_trader.adapters.binance.spot.schemas.market import BinanceSpotTradeMsg
from nautilus_trader.model.data import OrderBookDelta, OrderBookDeltas, QuoteTick, TradeTick
from nautilus_trader.model.enums import AggressorSide, BookAction, OrderSide, RecordFlag
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TradeId, Venue
from nautilus_trader.model.instruments import CryptoPerpetual, CurrencyPair
from nautilus_trader.model.objects import FIXED_PRECISION, Currency, Price, Quantity
from sortedcontainers import SortedDict

from nautilus_sor.backtest.data.recorded import BookSeries, RecordedMarket, RecordedVenue, TradeTape, rolling_basis, shift_prices, window_ns
from nautilus_sor.exceptions import ConfigError, MarketDataError

NS_PER_MS = 1_000_000
#: Book depth kept in the arrays: the top 20 levels after each diff (deeper levels change the snapshot
#: optimum of large parents; `levels` sets it, up to the snapshot's 1000).
DEFAULT_LEVELS = 20
MAX_LEVELS = 1000
DEFAULT_LATENCY_MS = 5.0
DEFAULT_BASIS_WINDOW_S = 60.0
#: Binance COIN-M contract values: BTC 100 USD, every other pair 10 USD.
COINM_CONTRACT_USD = {"BTC": 100.0}
COINM_CONTRACT_USD_OTHER = 10.0
#: Venues further apart than this (|rolling basis| / mid) are not one asset: a file of another asset.
MAX_BASIS = 0.05
#: How far a line's local timestamp may be behind an earlier line's (the capture's clock never went back).
DEFAULT_CLOCK_TOLERANCE_MS = 100.0
#: A local timestamp more than this after the previous line's is taken as corrupt (the capture's largest gap is < 1 s).
MAX_GAP_S = 3600.0
CROSSED_POLICIES = ("refuse", "drop")


@dataclass(frozen=True, slots=True)
class BinanceMarketSpec:
    """One recorded market: its files (one stream, in order), instrument terms and fees."""

    venue: str
    files: tuple[str, ...]
    raw_symbol: str  # the exchange's symbol in the stream
    symbol: str  # the Nautilus symbol (as Nautilus's Binance adapter names it)
    futures: bool
    price_precision: int
    price_increment: str
    size_precision: int
    size_increment: str
    maker_fee: float
    taker_fee: float
    base: str  # the asset ("BTC"), the unit of the arrays' sizes
    quote: str
    contract_usd: float | None = None  # inverse contract value in USD (COIN-M)


@dataclass(frozen=True, slots=True)
class MarketType:
    """A Binance market type: its venue, file prefix, symbol pattern and default terms."""

    venue: str
    prefix: str  # file name prefix
    quote: str
    raw_suffix: str  # raw symbol = base + quote + suffix
    futures: bool
    price_increment: str
    size_increment: str
    maker_fee: float
    taker_fee: float
    inverse: bool = False


# Defaults: Binance's public default (VIP 0, no BNB discount) fees; tick and step sizes from Binance's exchangeInfo
# for BTC (`KNOWN_TICKS` for the BTC perps, whose tick is coarser). Another symbol's terms are set in the config
# (`instruments`); a default tick finer than the true one loads the same prices (the check cannot see a finer grid).
# A handful of spot book sizes (3 of ~380k in the BTC capture) are finer than the 0.00001 step: they are rounded to
# it and counted in the notes (a size precision of 8 would break Nautilus's own TWAP, which rounds slices to the step).
MARKET_TYPES: dict[str, MarketType] = {
    "spot": MarketType("BINANCE_SPOT", "spot", "USDT", "", False, "0.01", "0.00001", 0.001, 0.001),
    "usdm": MarketType("BINANCE_USDM", "usdm", "USDT", "", True, "0.01", "0.001", 0.0002, 0.0005),
    "coinm": MarketType("BINANCE_COINM", "cm", "USD", "_PERP", True, "0.01", "1", 0.0002, 0.0005, inverse=True),
}
KNOWN_TICKS = {("usdm", "BTCUSDT"): "0.10", ("coinm", "BTCUSD_PERP"): "0.1"}
VENUES = tuple(t.venue for t in MARKET_TYPES.values())
_TYPE_OF_VENUE = {t.venue: k for k, t in MARKET_TYPES.items()}
REFERENCE_VENUE = "BINANCE_SPOT"
#: Per-venue config keys (`instruments: {venue: {...}}`).
INSTRUMENT_KEYS = ("raw_symbol", "files", "price_increment", "size_increment", "contract_size", "maker_fee", "taker_fee")


def coinm_contract_usd(base: str) -> float:
    """Binance's COIN-M contract value for a base asset (BTC 100 USD, others 10 USD)."""
    return COINM_CONTRACT_USD.get(base.upper(), COINM_CONTRACT_USD_OTHER)


def _precision(increment: str, field: str) -> int:
    try:
        d = Decimal(increment)
    except (ArithmeticError, ValueError, TypeError):
        d = Decimal("NaN")
    if not (d.is_finite() and d > 0):
        raise ConfigError(f"invalid {field}: {increment!r} (a decimal string > 0, e.g. '0.01')", field=field, value=repr(increment))
    return max(0, -int(d.as_tuple().exponent))  # as written: "0.10" has precision 2, as Nautilus reads it


def _files_of(data_dir: Path, kind: MarketType, raw_symbol: str) -> tuple[str, ...]:
    return tuple(sorted(p.name for p in data_dir.glob(f"{kind.prefix}_{raw_symbol.lower()}_*.gz") if p.is_file()))


def symbols_in(data_dir: str | Path) -> dict[str, list[str]]:
    """The base assets the file names in `data_dir` carry, per venue ({"BINANCE_SPOT": ["BTC"], ...})."""
    out: dict[str, list[str]] = {}
    for kind in MARKET_TYPES.values():
        tail = (kind.quote + kind.raw_suffix).lower()
        bases = set()
        for p in Path(data_dir).glob(f"{kind.prefix}_*_*.gz"):
            raw = p.name[len(kind.prefix) + 1 :].rsplit("_", 1)[0]
            if raw.endswith(tail) and len(raw) > len(tail):
                bases.add(raw[: -len(tail)].upper())
        if bases:
            out[kind.venue] = sorted(bases)
    return out


def market_specs(data_dir: str | Path, symbol: str | None = None, venues: Sequence[str] | None = None,
                 instruments: dict[str, dict[str, Any]] | None = None) -> tuple[BinanceMarketSpec, ...]:
    """The markets of `symbol` (a base asset, e.g. "ETH"; default: the one the file names carry) in
    `data_dir`, for `venues` (default: every market with files). `instruments`: per venue overrides of
    `INSTRUMENT_KEYS` (a listed `files` is read as given, in order)."""
    data_dir = Path(data_dir)
    instruments = dict(instruments or {})
    for venue, terms in instruments.items():
        if venue not in VENUES:
            raise ConfigError(f"invalid instruments.{venue}: unknown venue (one of {', '.join(VENUES)})", field=f"instruments.{venue}", value=repr(venue))
        if not isinstance(terms, dict):
            raise ConfigError(f"invalid instruments.{venue}: {terms!r} (a mapping of {', '.join(INSTRUMENT_KEYS)})",
                              field=f"instruments.{venue}", value=repr(terms))
        for key in terms:
            if key not in INSTRUMENT_KEYS:
                raise ConfigError(f"invalid instruments.{venue}.{key}: unknown key (one of {', '.join(INSTRUMENT_KEYS)})",
                                  field=f"instruments.{venue}.{key}", value=repr(key))
    if symbol is None:
        found = symbols_in(data_dir)
        bases = sorted({b for v, bs in found.items() if venues is None or v in venues for b in bs})
        if len(bases) != 1:
            raise ConfigError(f"invalid symbol: missing, and the files in {data_dir} name {bases or 'no symbol'} "
                              "(set market.symbol to the base asset, e.g. 'BTC')", field="symbol", value=None)
        symbol = bases[0]
    if not (isinstance(symbol, str) and symbol.isalnum() and symbol.upper() == symbol.upper().strip()):
        raise ConfigError(f"invalid symbol: {symbol!r} (a base asset such as 'BTC' or 'ETH')", field="symbol", value=repr(symbol))
    base = symbol.upper()
    chosen = list(venues) if venues is not None else None
    specs = []
    for key, kind in MARKET_TYPES.items():
        if chosen is not None and kind.venue not in chosen:
            continue
        terms = instruments.get(kind.venue, {})
        raw = str(terms.get("raw_symbol", base + kind.quote + kind.raw_suffix)).upper()
        files = tuple(terms["files"]) if "files" in terms else _files_of(data_dir, kind, raw)
        if not files:
            if chosen is None:
                continue  # a market without files is not part of the capture
            raise MarketDataError(f"missing data files for {kind.venue}: no {kind.prefix}_{raw.lower()}_<YYYYMMDD>.gz in {data_dir} "
                                  f"(or list them in instruments.{kind.venue}.files)", field="path", value=str(data_dir))
        f = f"instruments.{kind.venue}"
        tick = str(terms.get("price_increment", KNOWN_TICKS.get((key, raw), kind.price_increment)))
        step = str(terms.get("size_increment", kind.size_increment))
        contract = None
        if kind.inverse:
            contract = terms.get("contract_size", coinm_contract_usd(base))
            if isinstance(contract, bool) or not isinstance(contract, (int, float)) or not (0 < contract < 1e9) or contract != int(contract):
                raise ConfigError(f"invalid {f}.contract_size: {contract!r} (a whole number of USD > 0)", field=f"{f}.contract_size", value=repr(contract))
            contract = float(contract)
        elif "contract_size" in terms:
            raise ConfigError(f"invalid {f}.contract_size: only for BINANCE_COINM (inverse contracts)", field=f"{f}.contract_size",
                              value=repr(terms["contract_size"]))
        fees = []
        for name, default in (("maker_fee", kind.maker_fee), ("taker_fee", kind.taker_fee)):
            fee = terms.get(name, default)
            if isinstance(fee, bool) or not isinstance(fee, (int, float)) or not -0.01 <= fee <= 0.01:
                raise ConfigError(f"invalid {f}.{name}: {fee!r} (a fraction in [-0.01, 0.01])", field=f"{f}.{name}", value=repr(fee))
            fees.append(float(fee))
        symbol_name = base + kind.quote + ("-PERP" if kind.futures else "")
        specs.append(BinanceMarketSpec(
            kind.venue, files, raw, symbol_name, kind.futures, _precision(tick, f"{f}.price_increment"), tick,
            _precision(step, f"{f}.size_increment"), step, fees[0], fees[1], contract_usd=contract, base=base, quote=kind.quote))
    if not specs:
        raise MarketDataError(f"no Binance {base} files in {data_dir} (<spot|usdm|cm>_<symbol>_<YYYYMMDD>.gz; have: {symbols_in(data_dir) or 'none'})",
                              field="path", value=str(data_dir))
    return tuple(specs)


def _currency(code: str) -> Currency:
    return Currency.from_str(code, strict=False)


def make_instrument(spec: BinanceMarketSpec) -> CurrencyPair | CryptoPerpetual:
    """The market's Nautilus instrument, with the terms Nautilus's Binance instrument provider would set."""
    iid = InstrumentId(Symbol(spec.symbol), Venue(spec.venue))
    price_inc, size_inc = Price.from_str(spec.price_increment), Quantity.from_str(spec.size_increment)
    common = dict(
        instrument_id=iid, raw_symbol=Symbol(spec.raw_symbol), price_precision=spec.price_precision,
        size_precision=spec.size_precision, price_increment=price_inc, size_increment=size_inc,
        max_quantity=Quantity(1_000_000 if spec.contract_usd else 9000, precision=spec.size_precision),
        min_quantity=size_inc, max_notional=None, min_notional=None,
        max_price=Price(10_000_000, precision=spec.price_precision), min_price=price_inc,
        margin_init=Decimal(0), margin_maint=Decimal(0),
        maker_fee=Decimal(repr(spec.maker_fee)), taker_fee=Decimal(repr(spec.taker_fee)), ts_event=0, ts_init=0,
    )
    base, quote = _currency(spec.base), _currency(spec.quote)
    if not spec.futures:
        return CurrencyPair(base_currency=base, quote_currency=quote, lot_size=None, **common)
    if spec.contract_usd:
        return CryptoPerpetual(base_currency=base, quote_currency=quote, settlement_currency=base, is_inverse=True,
                               multiplier=Quantity.from_int(int(spec.contract_usd)), **common)
    return CryptoPerpetual(base_currency=base, quote_currency=quote, settlement_currency=quote, is_inverse=False, **common)


# -- reading one market's stream ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Lines:
    """A market's lines: per file, its name, the raw lines (without the trailing empty one) and their
    local timestamps (checked: `_check_clock`)."""

    files: list[tuple[str, list[bytes], list[int]]]

    def last_ts(self) -> int:
        return next(ts[-1] for _, _, ts in reversed(self.files) if ts)

    def snapshot_ts(self) -> int:
        """The receive time of the first REST snapshot: the book exists from then on."""
        for name, lines, ts in self.files:
            for n, line in enumerate(lines):
                if b'{"lastUpdateId"' in line[:40]:
                    return ts[n]
        raise MarketDataError(f"no REST depth snapshot in {[n for n, _, _ in self.files]}: the book cannot be rebuilt",
                              field="snapshot", value=[n for n, _, _ in self.files])


def _ts(line: bytes, name: str, n: int) -> int:
    cut = line.find(b" ")
    prefix = line[:cut]
    if cut <= 0 or not prefix.isdigit():  # digits only: no sign, no spaces, no float
        raise MarketDataError(f"{name} line {n}: no '<ts_ns> <json>' prefix (a local timestamp in ns >= 0): {line[:60]!r}",
                              field=f"{name} line {n}", value=line[:60])
    return int(prefix)


def _check_clock(files: list[tuple[str, list[bytes], list[int]]], tolerance_ms: float) -> None:
    """Local timestamps never go back more than `tolerance_ms` behind the latest so far, and never jump
    more than `MAX_GAP_S` ahead (one line far in the future made the reader stop there, without a word)."""
    back, gap = int(tolerance_ms * NS_PER_MS), int(MAX_GAP_S * 1e9)
    latest, latest_at = None, ""
    for name, _, ts in files:
        for n, t in enumerate(ts, 1):
            if latest is not None:
                if t < latest - back:
                    raise MarketDataError(f"{name} line {n}: local timestamp {t} is {(latest - t) / 1e9:.3f} s behind {latest_at} "
                                          f"({latest}); the clock may go back at most {tolerance_ms:g} ms", field=f"{name} line {n}", value=t)
                if t > latest + gap:
                    raise MarketDataError(f"{name} line {n}: local timestamp {t} is {(t - latest) / 1e9:,.0f} s after {latest_at} "
                                          f"({latest}); more than {MAX_GAP_S:g} s: a corrupt timestamp", field=f"{name} line {n}", value=t)
            if latest is None or t > latest:
                latest, latest_at = t, f"{name} line {n}"


def _read_lines(data_dir: Path, spec: BinanceMarketSpec, clock_tolerance_ms: float = DEFAULT_CLOCK_TOLERANCE_MS) -> _Lines:
    out = []
    for name in spec.files:
        path = data_dir / name
        if not path.is_file():
            raise MarketDataError(f"missing data file {path} (market {spec.venue})", field="path", value=str(path))
        try:
            raw = gzip.decompress(path.read_bytes())
        except (OSError, EOFError) as exc:
            raise MarketDataError(f"{path}: not a readable gzip file ({exc})", field="path", value=str(path)) from None
        lines = raw.split(b"\n")
        if lines and not lines[-1]:
            lines.pop()
        out.append((name, lines, [_ts(line, name, n) for n, line in enumerate(lines, 1)]))
    _check_clock(out, clock_tolerance_ms)
    return _Lines(out)


@dataclass(slots=True)
class _VenueStream:
    """What one market's pass produced: Nautilus objects in the window and the arrays (recorded prices,
    instrument sizes)."""

    data: list[Any]
    book_ts: list[int]
    book_rows: list[tuple[list[int], list[int], list[int], list[int]]]  # ticks and size steps (`_Book.top`)
    trade_ts: list[int]
    trade_px: list[float]
    trade_sz: list[float]
    trade_side: list[int]


class _Book:
    """A full-depth L2 book keyed by integer ticks; sizes in integer size steps."""

    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict()  # -tick -> steps (best first)
        self.asks: SortedDict = SortedDict()  # tick -> steps

    def set(self, side_bids: bool, tick: int, steps: int) -> None:
        book, key = (self.bids, -tick) if side_bids else (self.asks, tick)
        if steps:
            book[key] = steps
        else:
            book.pop(key, None)

    def crossed(self) -> tuple[int, int] | None:
        """(best bid, best ask) ticks if the book is crossed or locked, else None."""
        if self.bids and self.asks:
            bid, ask = -self.bids.peekitem(0)[0], self.asks.peekitem(0)[0]
            if bid >= ask:
                return bid, ask
        return None

    def top(self, levels: int) -> tuple[list[int], list[int], list[int], list[int]]:
        bids = list(islice(self.bids.items(), levels))
        asks = list(islice(self.asks.items(), levels))
        return [-k for k, _ in bids], [s for _, s in bids], [k for k, _ in asks], [s for _, s in asks]


class _MarketReader:
    """Decodes and rebuilds one market over [start_ns, end_ns]."""

    pscale: int  # 10**precision: declared, as mypy types int ** int as Any (a negative power is a float)
    sscale: int

    def __init__(self, spec: BinanceMarketSpec, instrument: Any, start_ns: int, end_ns: int, levels: int, crossed_books: str = "refuse") -> None:
        self.spec, self.iid, self.start, self.end, self.levels = spec, instrument.id, start_ns, end_ns, levels
        self.crossed_books = crossed_books
        self.dropped_levels = 0  # levels a crossing diff removed from the other side (crossed_books="drop")
        self.dropped_quotes = 0  # crossed bookTickers skipped (crossed_books="drop")
        self.stream_prefix = spec.raw_symbol.lower() + "@"
        self.pp, self.sp = spec.price_precision, spec.size_precision
        self.pscale, self.sscale = 10**self.pp, 10**self.sp
        self.tick_units = round(float(spec.price_increment) * self.pscale)  # the tick in units of 10^-precision
        self.pair_checked = not spec.contract_usd
        self.praw, self.sraw = 10 ** (FIXED_PRECISION - self.pp), 10 ** (FIXED_PRECISION - self.sp)
        self.depth_dec = msgspec.json.Decoder(BinanceOrderBookMsg)
        self.snap_dec = msgspec.json.Decoder(BinanceDepth)
        self.quote_dec = msgspec.json.Decoder(BinanceQuoteMsg)
        self.trade_dec = msgspec.json.Decoder(BinanceFuturesTradeMsg if spec.futures else BinanceSpotTradeMsg)
        self.book = _Book()
        self.last_u: int | None = None  # the last update id applied (the snapshot's at first); None before it
        self.snapshot_where = ""
        self.need_bridge = False  # after the snapshot, until a diff has bridged it
        self.pending: list[tuple[str, Any]] = []  # diffs received before the snapshot
        self.started = False
        self.off_grid_sizes = 0  # sizes finer than the size step, rounded to it (stated in the notes)
        self.out = _VenueStream([], [], [], [], [], [], [])

    # -- numbers

    def _tick(self, text: str, where: str) -> int:
        x = float(text) * self.pscale
        if not (math.isfinite(x) and x > 0):
            raise MarketDataError(f"{where}: price {text} must be finite and > 0", field=where, value=text)
        tick = round(x)
        # The grid is the increment, not only its precision (0.10 has 2 decimals: 2682.17 is off it); float
        # error stays far below a thousandth of a step.
        if abs(x - tick) > 1e-3 or tick % self.tick_units:
            raise MarketDataError(f"{where}: price {text} is not a multiple of {self.spec.venue}'s tick {self.spec.price_increment} "
                                  "(set instruments.<venue>.price_increment)", field=where, value=text)
        return tick

    def _steps(self, text: str, where: str, *, positive: bool = False) -> int:
        x = float(text) * self.sscale
        if not (math.isfinite(x) and (x > 0 if positive else x >= 0)):
            raise MarketDataError(f"{where}: size {text} must be finite and {'> 0' if positive else '>= 0'}", field=where, value=text)
        steps = round(x)
        if abs(x - steps) > 1e-3:
            if steps == 0 and x > 0:
                steps = 1  # a positive size stays a level of the book
            self.off_grid_sizes += 1
        return steps

    # -- the stream

    def run(self, lines: _Lines) -> _VenueStream:
        prev_ts = 0
        for name, file_lines, stamps in lines.files:
            for n, (line, ts) in enumerate(zip(file_lines, stamps), 1):
                cut = line.find(b" ")
                if ts > self.end:
                    return self._finish(name, n)
                if not self.started and ts >= self.start and self.last_u is not None and not self.need_bridge:
                    # The book as of every line before this one: the book at the window start (or, when it
                    # was bridged only later, at the previous line).
                    self._begin(max(self.start, prev_ts))
                self._line(ts, line[cut + 1 :], name, n)
                prev_ts = ts
        return self._finish(lines.files[-1][0], len(lines.files[-1][1]))

    def _line(self, ts: int, body: bytes, name: str, n: int) -> None:
        where = f"{name} line {n}"
        head = body[:80]
        try:
            if head.startswith(b'{"lastUpdateId"'):
                self._snapshot(self.snap_dec.decode(body), where)
            elif b"@depth" in head:
                self._diff(ts, self._of_market(self.depth_dec.decode(body), "@depth", where), where)
            elif b"@bookTicker" in head:
                if self.started:
                    self._quote(ts, self._of_market(self.quote_dec.decode(body), "@bookTicker", where), where)
            elif b"@trade" in head:
                if self.started:
                    self._trade(ts, self._of_market(self.trade_dec.decode(body), "@trade", where), where)
            else:
                raise MarketDataError(f"{where}: unknown message {head!r}", field=where, value=head)
        except msgspec.DecodeError as exc:
            raise MarketDataError(f"{where}: does not decode with Nautilus's Binance schema ({exc})", field=where, value=head) from None
        except (ValueError, OverflowError, TypeError, AttributeError) as exc:
            # Whatever else a damaged line trips (a number that does not parse, ...): the line, not a traceback.
            raise MarketDataError(f"{where}: unreadable message ({type(exc).__name__}: {exc})", field=where, value=head) from None

    def _of_market(self, msg: Any, kind: str, where: str) -> Any:
        """The message's data, if its stream and symbol are this market's (another symbol's stream in the
        file would otherwise be read as this one's)."""
        stream, symbol = msg.stream, getattr(msg.data, "s", None)
        if not (stream.startswith(self.stream_prefix) and kind in stream) or symbol != self.spec.raw_symbol:
            raise MarketDataError(f"{where}: stream {stream!r} symbol {symbol!r} is not {self.spec.venue}'s "
                                  f"({self.stream_prefix}{kind[1:]}..., {self.spec.raw_symbol}): a file of another symbol?", field=where, value=stream)
        if not self.pair_checked:
            self._check_pair(getattr(msg.data, "ps", None), where)
        return msg.data

    def _check_pair(self, pair: str | None, where: str) -> None:
        """COIN-M: the pair the data names (`ps`, the snapshot's `pair`) must have the contract size used
        (Binance's rule: BTCUSD 100 USD, other pairs 10 USD): the stream does not carry the size itself."""
        if not pair:
            return
        self.pair_checked = True
        base = pair[: -len("USD")] if pair.endswith("USD") else pair
        expected = coinm_contract_usd(base)
        if base != self.spec.base or expected != self.spec.contract_usd:
            raise MarketDataError(f"{where}: pair {pair!r} has contracts of {expected:g} USD on Binance, but {self.spec.venue} is read as "
                                  f"{self.spec.base} with contracts of {self.spec.contract_usd:g} USD (instruments.{self.spec.venue}.contract_size)",
                                  field=where, value=pair)

    def _bridge_id(self) -> int:
        """The update id the first applied diff must span: lastUpdateId (futures) or lastUpdateId + 1 (spot)."""
        assert self.last_u is not None
        return self.last_u if self.spec.futures else self.last_u + 1

    def _snapshot(self, snap: BinanceDepth, where: str) -> None:
        if self.last_u is not None:
            return  # the stream is checked continuous from the first snapshot on; a later one adds nothing
        if snap.symbol is not None and snap.symbol != self.spec.raw_symbol:  # futures snapshots name their symbol
            raise MarketDataError(f"{where}: the REST snapshot is of {snap.symbol!r}, not {self.spec.venue}'s {self.spec.raw_symbol}: "
                                  "a file of another symbol?", field=where, value=snap.symbol)
        if not self.pair_checked:
            self._check_pair(snap.pair, where)
        for px, sz in snap.bids:
            self.book.set(True, self._tick(px, where), self._steps(sz, where))
        for px, sz in snap.asks:
            self.book.set(False, self._tick(px, where), self._steps(sz, where))
        crossed = self.book.crossed()
        if crossed is not None:  # a crossed REST snapshot is corrupt whatever the policy: no side is the newer
            raise MarketDataError(f"{where}: the REST snapshot is crossed (best bid {crossed[0] / self.pscale} >= best ask "
                                  f"{crossed[1] / self.pscale})", field=where, value=crossed)
        self.last_u, self.snapshot_where, self.need_bridge = snap.lastUpdateId, where, True
        buffered, self.pending = self.pending, []
        for d_where, data in buffered:
            self._sync(data, d_where)

    def _sync(self, data: Any, where: str) -> list[tuple[bool, int, int]] | None:
        """Checks a diff against the ids so far and applies it; None when it lies wholly inside the snapshot."""
        if self.need_bridge:
            target = self._bridge_id()
            if data.u < target:
                return None  # already in the snapshot (Binance: drop it)
            if not data.U <= target <= data.u:
                rule = "U <= lastUpdateId <= u" if self.spec.futures else "U <= lastUpdateId + 1 <= u"
                raise MarketDataError(
                    f"{where}: the first diff after the snapshot ({self.snapshot_where}, lastUpdateId={self.last_u}) does not "
                    f"bridge it: U={data.U} u={data.u}, need {rule}",
                    field=where, value={"U": data.U, "u": data.u, "lastUpdateId": self.last_u})
            self.need_bridge = False
        elif self.spec.futures:
            if data.pu != self.last_u:
                raise MarketDataError(
                    f"{where}: update-id gap: pu={data.pu} but the previous diff ended at u={self.last_u} (U={data.U} u={data.u})",
                    field=where, value={"pu": data.pu, "previous_u": self.last_u, "U": data.U, "u": data.u})
        elif data.U != self.last_u + 1:  # type: ignore[operator]  # set by the snapshot: need_bridge was cleared after it
            raise MarketDataError(
                f"{where}: update-id gap: U={data.U} but the previous diff ended at u={self.last_u} (expected U={self.last_u + 1})",  # type: ignore[operator]
                field=where, value={"U": data.U, "previous_u": self.last_u, "u": data.u})
        changes = [(True, self._tick(d.price, where), self._steps(d.size, where)) for d in data.b]
        changes += [(False, self._tick(d.price, where), self._steps(d.size, where)) for d in data.a]
        for is_bid, tick, steps in changes:
            self.book.set(is_bid, tick, steps)
        self._uncross(changes, where)
        self.last_u = data.u
        return changes

    def _uncross(self, changes: list[tuple[bool, int, int]], where: str) -> None:
        """After a diff the book must not be crossed: refused, or (drop) the other side's levels the diff's
        own levels crossed are removed, appended to `changes` as deletes."""
        crossed = self.book.crossed()
        if crossed is None:
            return
        bid, ask = crossed
        if self.crossed_books == "refuse":
            raise MarketDataError(f"{where}: the diff crosses the book (best bid {bid / self.pscale} >= best ask {ask / self.pscale}); "
                                  "crossed_books='drop' removes the crossed levels instead", field=where, value=crossed)
        new_bids = [t for is_bid, t, s in changes if is_bid and s]
        new_asks = [t for is_bid, t, s in changes if not is_bid and s]
        stale = []
        if new_bids:
            stale += [(False, t) for t in list(self.book.asks.irange(maximum=max(new_bids)))]
        if new_asks:
            stale += [(True, -k) for k in list(self.book.bids.irange(maximum=-min(new_asks)))]
        for is_bid, tick in stale:
            self.book.set(is_bid, tick, 0)
            changes.append((is_bid, tick, 0))
        if self.book.crossed() is not None:
            raise MarketDataError(f"{where}: the book stays crossed after dropping the levels the diff crossed", field=where, value=crossed)
        self.dropped_levels += len(stale)

    def _diff(self, ts: int, data: Any, where: str) -> None:
        if self.last_u is None:
            self.pending.append((where, data))
            return
        changes = self._sync(data, where)
        if changes is not None and self.started:
            self._emit_diff(ts, data, changes)
            self._row(ts)

    def _begin(self, t: int) -> None:
        """The window opens: the whole book as a snapshot (CLEAR + ADDs, F_SNAPSHOT, F_LAST on the last), at `t`."""
        self.started = True
        flags = int(RecordFlag.F_SNAPSHOT)
        deltas = [OrderBookDelta.clear(self.iid, self.last_u, t, t)]
        items = [(OrderSide.BUY, -k, s) for k, s in self.book.bids.items()] + [(OrderSide.SELL, k, s) for k, s in self.book.asks.items()]
        last = len(items) - 1
        from_raw = OrderBookDelta.from_raw
        for i, (side, tick, steps) in enumerate(items):
            f = flags | (int(RecordFlag.F_LAST) if i == last else 0)
            deltas.append(from_raw(self.iid, BookAction.ADD, side, tick * self.praw, self.pp, steps * self.sraw, self.sp, 0, f, self.last_u, t, t))
        self.out.data.append(OrderBookDeltas(self.iid, deltas))
        self._row(t)

    def _emit_diff(self, ts: int, data: Any, changes: list[tuple[bool, int, int]]) -> None:
        """The diff as Nautilus deltas (as `BinanceOrderBookData.parse_to_order_book_deltas` makes them:
        UPDATE, or DELETE at size 0; bids then asks; F_LAST on the last; sequence u)."""
        if not changes:
            return
        ts_event = (data.T or data.E) * NS_PER_MS
        from_raw = OrderBookDelta.from_raw
        last = len(changes) - 1
        f_last = int(RecordFlag.F_LAST)
        buy, sell, update, delete = OrderSide.BUY, OrderSide.SELL, BookAction.UPDATE, BookAction.DELETE
        deltas = [
            from_raw(self.iid, update if steps else delete, buy if is_bid else sell, tick * self.praw, self.pp, steps * self.sraw, self.sp,
                     0, f_last if i == last else 0, data.u, ts_event, ts)
            for i, (is_bid, tick, steps) in enumerate(changes)
        ]
        self.out.data.append(OrderBookDeltas(self.iid, deltas))

    def _row(self, ts: int) -> None:
        bp, bs, ap, as_ = self.book.top(self.levels)
        self.out.book_ts.append(ts)
        self.out.book_rows.append((bp, bs, ap, as_))

    def _quote(self, ts: int, q: Any, where: str) -> None:
        ts_event = q.T * NS_PER_MS if q.T else ts
        bid, ask = self._tick(q.b, where), self._tick(q.a, where)
        if bid >= ask:
            if self.crossed_books == "refuse":
                raise MarketDataError(f"{where}: crossed bookTicker (bid {q.b} >= ask {q.a}); crossed_books='drop' skips it",
                                      field=where, value=(q.b, q.a))
            self.dropped_quotes += 1
            return
        self.out.data.append(QuoteTick.from_raw(
            self.iid, bid * self.praw, ask * self.praw, self.pp, self.pp,
            self._steps(q.B, where) * self.sraw, self._steps(q.A, where) * self.sraw, self.sp, self.sp, ts_event, ts))

    def _trade(self, ts: int, t: Any, where: str) -> None:
        tick, steps = self._tick(t.p, where), self._steps(t.q, where, positive=True)
        side = AggressorSide.SELLER if t.m else AggressorSide.BUYER
        self.out.data.append(TradeTick.from_raw(self.iid, tick * self.praw, self.pp, steps * self.sraw, self.sp, side,
                                                TradeId(str(t.t)), t.T * NS_PER_MS, ts))
        self.out.trade_ts.append(ts)
        self.out.trade_px.append(tick / self.pscale)
        self.out.trade_sz.append(steps / self.sscale)
        self.out.trade_side.append(-1 if t.m else 1)

    def _finish(self, name: str, n: int) -> _VenueStream:
        if self.last_u is None:
            raise MarketDataError(f"{self.spec.venue}: no REST snapshot up to {name} line {n}: the book cannot be rebuilt",
                                  field="snapshot", value=self.spec.venue)
        if self.need_bridge:
            raise MarketDataError(f"{self.spec.venue}: no diff bridges the snapshot ({self.snapshot_where}, lastUpdateId={self.last_u}) "
                                  f"up to {name} line {n}", field="snapshot", value=self.last_u)
        if not self.started:
            raise MarketDataError(f"{self.spec.venue}: no data in the window [{self.start}, {self.end}]", field="window", value=(self.start, self.end))
        return self.out


def read_market(spec: BinanceMarketSpec, data_dir: str | Path, *, start_ns: int | None = None, end_ns: int | None = None,
                levels: int = DEFAULT_LEVELS, crossed_books: str = "refuse",
                clock_tolerance_ms: float = DEFAULT_CLOCK_TOLERANCE_MS) -> tuple[Any, _VenueStream]:
    """One market's instrument and stream over [start_ns, end_ns] (default: from its snapshot to its end)."""
    lines = _read_lines(Path(data_dir), spec, clock_tolerance_ms)
    start = lines.snapshot_ts() if start_ns is None else start_ns
    end = lines.last_ts() if end_ns is None else end_ns
    instrument = make_instrument(spec)
    return instrument, _MarketReader(spec, instrument, start, end, levels, crossed_books).run(lines)


# -- the market -----------------------------------------------------------------------------------------


def _arrays(spec: BinanceMarketSpec, s: _VenueStream, levels: int) -> tuple[BookSeries, TradeTape]:
    """Recorded prices; sizes in the base asset (COIN-M contracts * contract USD / the level's or trade's price)."""
    n = len(s.book_rows)
    shape = (n, levels)
    # declared: `np.where` below returns an array of unknown rank, np.zeros one of rank 2
    bid_sz: npt.NDArray[np.float64]
    ask_sz: npt.NDArray[np.float64]
    bid_px, ask_px = np.full(shape, np.nan), np.full(shape, np.nan)
    bid_sz, ask_sz = np.zeros(shape), np.zeros(shape)
    for j, (bp, bs, ap, as_) in enumerate(s.book_rows):
        bid_px[j, : len(bp)], bid_sz[j, : len(bs)], ask_px[j, : len(ap)], ask_sz[j, : len(as_)] = bp, bs, ap, as_
    pscale, sscale = 10**spec.price_precision, 10**spec.size_precision
    bid_px, ask_px, bid_sz, ask_sz = bid_px / pscale, ask_px / pscale, bid_sz / sscale, ask_sz / sscale
    t_px, t_sz = np.asarray(s.trade_px, dtype=np.float64), np.asarray(s.trade_sz, dtype=np.float64)
    if spec.contract_usd:
        with np.errstate(invalid="ignore"):
            bid_sz = np.where(bid_sz > 0, bid_sz * spec.contract_usd / bid_px, 0.0)
            ask_sz = np.where(ask_sz > 0, ask_sz * spec.contract_usd / ask_px, 0.0)
        t_sz = t_sz * spec.contract_usd / t_px
    book = BookSeries(ts=np.asarray(s.book_ts, dtype=np.int64), bid_px=bid_px, bid_sz=bid_sz, ask_px=ask_px, ask_sz=ask_sz)
    tape = TradeTape(ts=np.asarray(s.trade_ts, dtype=np.int64), price=t_px, size=t_sz, aggressor=np.asarray(s.trade_side, dtype=np.int8))
    return book, tape


def _merge(streams: list[list[Any]]) -> list[Any]:
    """All objects by ts_init; at equal times in venue order, each venue's own order kept."""
    ts = np.concatenate([np.fromiter((o.ts_init for o in objs), dtype=np.int64, count=len(objs)) for objs in streams])
    order = np.argsort(ts, kind="stable")
    flat = [o for objs in streams for o in objs]
    return [flat[k] for k in order.tolist()]


def load_binance_btc(data_dir: str | Path, **options: Any) -> RecordedMarket:
    """`load_binance` for BTC (the shared capture)."""
    return load_binance(data_dir, symbol="BTC", **options)


def load_binance(
    data_dir: str | Path,
    *,
    symbol: str | None = None,
    start: Any = None,
    end: Any = None,
    venues: Sequence[str] | None = None,
    instruments: dict[str, dict[str, Any]] | None = None,
    latency_ms: dict[str, float] | float | None = None,
    levels: int = DEFAULT_LEVELS,
    reference: str | None = None,
    basis_window_s: float = DEFAULT_BASIS_WINDOW_S,
    crossed_books: str = "refuse",
    clock_tolerance_ms: float = DEFAULT_CLOCK_TOLERANCE_MS,
) -> RecordedMarket:
    """The Binance markets of one asset in `data_dir` as venues of one market (see the module docstring).

    `symbol`: the base asset ("BTC", "ETH"; default: the one the file names carry). `venues`: a subset of
    `VENUES` (default: every market with files). `instruments`: per-venue terms and files (`market_specs`).
    Window: by default where every chosen venue has a book (from the last of their REST snapshots) up to
    the first of their last messages; `start`/`end` (ISO time or ns) must lie inside that. `reference`: the
    venue the others' basis is measured against (default BINANCE_SPOT if loaded, else the first venue).
    `latency_ms`: one value or {venue: ms} (default 5 ms each). `levels`: book levels kept in the arrays.
    `crossed_books` and `clock_tolerance_ms`: see the module docstring."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise MarketDataError(f"missing Binance data directory {data_dir}", field="path", value=str(data_dir))
    if venues is not None:
        for i, name in enumerate(venues):  # not `v`: that is a RecordedVenue below
            if name not in VENUES:
                raise ConfigError(f"invalid venues[{i}]: {name!r} (one of {', '.join(VENUES)})", field=f"venues[{i}]", value=repr(name))
        if not venues or len(set(venues)) != len(venues):
            raise ConfigError(f"invalid venues: {list(venues)!r} (a non-empty list without duplicates)", field="venues", value=repr(list(venues)))
    if isinstance(levels, bool) or not (isinstance(levels, int) and 1 <= levels <= MAX_LEVELS):
        raise ConfigError(f"invalid levels: {levels!r} (an integer in [1, {MAX_LEVELS}])", field="levels", value=repr(levels))
    if crossed_books not in CROSSED_POLICIES:
        raise ConfigError(f"invalid crossed_books: {crossed_books!r} (one of {', '.join(CROSSED_POLICIES)})", field="crossed_books",
                          value=repr(crossed_books))
    if isinstance(clock_tolerance_ms, bool) or not isinstance(clock_tolerance_ms, (int, float)) or not 0 <= clock_tolerance_ms < 3_600_000:
        raise ConfigError(f"invalid clock_tolerance_ms: {clock_tolerance_ms!r} (ms in [0, 3600000))", field="clock_tolerance_ms",
                          value=repr(clock_tolerance_ms))
    specs = list(market_specs(data_dir, symbol, venues, instruments))
    chosen = [s.venue for s in specs]
    if reference is None:
        reference = REFERENCE_VENUE if REFERENCE_VENUE in chosen else chosen[0]
    if reference not in chosen:
        raise ConfigError(f"invalid reference: {reference!r} (must be one of the venues {chosen})", field="reference", value=repr(reference))
    latency = _latencies(latency_ms, chosen)

    lines = {s.venue: _read_lines(data_dir, s, clock_tolerance_ms) for s in specs}
    lo = max(lines[s.venue].snapshot_ts() for s in specs)
    hi = min(lines[s.venue].last_ts() for s in specs)
    start_ns, end_ns = window_ns(start, "start"), window_ns(end, "end")
    start_ns = lo if start_ns is None else start_ns
    end_ns = hi if end_ns is None else end_ns
    if not (lo <= start_ns < end_ns <= hi):
        raise ConfigError(f"invalid window: [{start_ns}, {end_ns}] (must satisfy {lo} <= start < end <= {hi}: where every venue has a book)",
                          field="start" if not lo <= start_ns else "end", value=repr((start, end)))

    out_venues, streams, rounded, dropped = [], [], {}, {}
    for spec in specs:
        instrument = make_instrument(spec)
        reader = _MarketReader(spec, instrument, start_ns, end_ns, levels, crossed_books)
        stream = reader.run(lines[spec.venue])
        rounded[spec.venue] = reader.off_grid_sizes
        dropped[spec.venue] = (reader.dropped_levels, reader.dropped_quotes)
        book, tape = _arrays(spec, stream, levels)
        mid0 = float((book.bid_px[0, 0] + book.ask_px[0, 0]) / 2)
        lot = spec.contract_usd / mid0 if spec.contract_usd else float(spec.size_increment)
        out_venues.append(RecordedVenue(
            name=spec.venue, instrument=instrument, maker_fee=spec.maker_fee, taker_fee=spec.taker_fee, latency_ms=latency[spec.venue],
            book=book, trades=tape, lot_size=lot, size_to_instrument=mid0 / spec.contract_usd if spec.contract_usd else 1.0))
        streams.append(stream.data)
        del lines[spec.venue]  # free the raw text as we go

    ref = next(v for v in out_venues if v.name == reference)
    normalised = []
    for v in out_venues:
        if v.name == reference:
            normalised.append(v)
            continue
        # every Binance venue has a book (`_arrays`); RecordedVenue.book is Optional for bar markets
        grid, offset = rolling_basis(ref.book, v.book, start_ns, end_ns, window_s=basis_window_s)  # type: ignore[arg-type]
        _check_same_asset(v, ref, offset, next(s for s in specs if s.venue == v.name), next(s for s in specs if s.venue == reference))
        normalised.append(shift_prices(v, grid, offset))
    notes = _notes(specs, normalised, reference, basis_window_s, start_ns, end_ns, levels)
    for venue, count in rounded.items():
        if count:
            notes.append(f"sizes: {count} recorded {venue} size(s) finer than its size step were rounded to the step (at least one step)")
    for venue, (levels_dropped, quotes_dropped) in dropped.items():
        if levels_dropped or quotes_dropped:
            notes.append(f"crossed books (crossed_books='drop'): {venue}: {levels_dropped} level(s) a diff crossed removed from the other "
                         f"side, {quotes_dropped} crossed bookTicker(s) skipped")
    import pandas as pd

    name = f"binance_{specs[0].base.lower()}_{pd.Timestamp(start_ns, tz='UTC').strftime('%Y%m%d')}"
    market = RecordedMarket(name=name, asset=specs[0].base, venues=tuple(normalised), data=_merge(streams),
                            start_ns=start_ns, end_ns=end_ns, notes=notes)
    return market


def _check_same_asset(venue: RecordedVenue, ref: RecordedVenue, offset: npt.NDArray[np.float64], spec: BinanceMarketSpec, ref_spec: BinanceMarketSpec) -> None:
    """Perp and spot mids of one asset differ by a basis of well under `MAX_BASIS`; a file of another asset under
    this one's name (its prices on every grid) is seen here."""
    mid = float(np.nanmedian((ref.book.bid_px[:, 0] + ref.book.ask_px[:, 0]) / 2))  # type: ignore[union-attr]  # a Binance venue has a book
    worst = float(np.nanmax(np.abs(offset))) if offset.size else 0.0
    if not worst <= MAX_BASIS * mid:
        raise MarketDataError(f"{spec.files[0]} line 1: {venue.name} ({spec.raw_symbol}) trades {worst:,.2f} away from {ref.name} "
                              f"({ref_spec.raw_symbol}, {ref_spec.files[0]}, mid {mid:,.2f}): more than {MAX_BASIS:.0%}, not one asset",
                              field=f"{spec.files[0]} line 1", value=worst)


def _latencies(latency_ms: dict[str, float] | float | None, venues: list[str]) -> dict[str, float]:
    if latency_ms is None:
        return {v: DEFAULT_LATENCY_MS for v in venues}
    if isinstance(latency_ms, dict):
        for k in latency_ms:
            if k not in venues:
                raise ConfigError(f"invalid latency_ms.{k}: unknown venue (one of {', '.join(venues)})", field=f"latency_ms.{k}", value=repr(k))
        out = {v: latency_ms.get(v, DEFAULT_LATENCY_MS) for v in venues}
    else:
        out = {v: latency_ms for v in venues}
    for k, ms in out.items():
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not 0 <= ms < 60_000:
            raise ConfigError(f"invalid latency_ms.{k}: {ms!r} (milliseconds in [0, 60000))", field=f"latency_ms.{k}", value=repr(ms))
    return {k: float(v) for k, v in out.items()}


def _notes(specs: list[BinanceMarketSpec], venues: list[RecordedVenue], reference: str, window_s: float, start: int, end: int,
           levels: int) -> list[str]:
    import pandas as pd

    notes = [
        f"window {pd.Timestamp(start, tz='UTC')} -> {pd.Timestamp(end, tz='UTC')} ({(end - start) / 1e9:.0f} s): where every venue "
        "has a rebuilt book; times are the local receive clock (about 1.27 s behind the exchange's)",
        "instruments: " + ", ".join(f"{s.venue} {s.raw_symbol} tick {s.price_increment} step {s.size_increment}"
                                    + (f" contract {s.contract_usd:g} USD" if s.contract_usd else "") + f" ({', '.join(s.files)})" for s in specs),
        "books rebuilt from one REST snapshot + every diff with Binance's update-id checks (no gap); arrays keep the top "
        f"{levels} levels after each diff message",
        "fees: Binance public default tiers: " + ", ".join(f"{s.venue} maker {s.maker_fee:.2%} taker {s.taker_fee:.2%}" for s in specs),
        "latency: " + ", ".join(f"{v.name} {v.latency_ms:g} ms" for v in venues),
    ]
    for v in venues:
        if v.price_offset is not None:
            off = v.price_offset[1]
            notes.append(f"basis: {v.name} array prices minus its rolling offset to {reference} (trailing {window_s:g} s median of "
                         f"mid - {reference} mid, sampled every 1 s; offset {off.min():+.2f} .. {off.max():+.2f} USD, mean {off.mean():+.2f})")
    for s in specs:
        if s.contract_usd:
            notes.append(f"contracts: {s.venue} sizes converted from contracts of {s.contract_usd:g} USD to {s.base} "
                         f"(contracts * {s.contract_usd:g} / price, per level and per trade, at the recorded price)")
    notes.append("the Nautilus data keeps each market's own instrument, prices (with basis) and sizes (COIN-M in contracts)")
    return notes


__all__ = ["MARKET_TYPES", "VENUES", "BinanceMarketSpec", "coinm_contract_usd", "load_binance", "load_binance_btc", "make_instrument",
           "market_specs", "read_market", "symbols_in"]
