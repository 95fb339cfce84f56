"""Lean crypto and cryptofuture minute bars as a recorded market of any symbol and day (spot, perpetuals).

    market = load_lean_crypto_bars("../shared/data/lean_crypto_minute")   # BINANCE BTCBUSD vs BYBIT BTCUSDT
    perps = load_lean_crypto_bars("../shared/data/lean_crypto_minute", market="perp")
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from nautilus_trader.model.data import Bar, BarSpecification, BarType
from nautilus_trader.model.enums import AggregationSource, BarAggregation, PriceType
from nautilus_trader.model.identifiers import InstrumentId, Symbol, Venue
from nautilus_trader.model.instruments import CryptoPerpetual, CurrencyPair
from nautilus_trader.model.objects import Currency, Price, Quantity

from nautilus_sor.backtest.data.lean_bars import (
    BAR_MS,
    QUOTE_BAR_COLUMNS,
    QUOTE_BAR_TYPES,
    QUOTE_BAR_VALUES,
    QUOTE_PRICES,
    TRADE_BAR_COLUMNS,
    TRADE_BAR_TYPES,
    TRADE_BAR_VALUES,
    TRADE_PRICES,
)
from nautilus_sor.backtest.data.lean_files import (
    day_tag,
    fee_pair,
    known_venue,
    latency_table,
    parse_day,
    pick_day,
    read_lean_csv,
    requested_window,
    utc_ms_to_ns,
)
from nautilus_sor.backtest.data.recorded import RecordedMarket, RecordedVenue, TradeTape
from nautilus_sor.exceptions import DataFileError, ValidationError


# -- the crypto bar market ---------------------------------------------------------------------------
#
# Files: Lean's crypto (spot) and cryptofuture (perpetual) minute bars of one day, either flat,
# `<crypto|cryptofuture>_<exchange>_<raw symbol>_<YYYYMMDD>_<trade|quote>.zip` (the shared folder), or in Lean's own
# tree, `<crypto|cryptofuture>/<exchange>/minute/<raw symbol>/<YYYYMMDD>_<trade|quote>.zip`; or listed per venue
# (`instruments.<venue>.files`). Each zip holds one CSV that Lean names `<YYYYMMDD>_<raw symbol>_minute_<trade|quote>
# [_perp].csv`: that name is the stream's symbol, day and kind, checked against the file's.

MARKET_KINDS = {"spot": "crypto", "perp": "cryptofuture"}
#: Quote currencies a raw symbol may end with: base = the rest (longest match first, so BTCUSDT is BTC/USDT,
#: not BTCUSD/T). Another quote: `instruments.<venue>.quote`.
QUOTE_CURRENCIES = ("FDUSD", "USDT", "BUSD", "USDC", "TUSD", "DAI", "USD", "EUR", "GBP", "TRY", "BTC", "ETH", "BNB")
#: Futures venue names per exchange: (inverse, linear) suffixes; Binance's own words, else INVERSE / LINEAR.
FUTURES_SUFFIXES = {"binance": ("COINM", "USDM")}
_DEFAULT_FUTURES_SUFFIXES = ("INVERSE", "LINEAR")


@dataclass(frozen=True, slots=True)
class BarVenueDefaults:
    """A venue type's default terms (every one overridable per venue in `instruments`)."""

    price_increment: str
    size_increment: str  # inverse: whole contracts
    fees: tuple[float, float]  # (maker, taker) fractions: the exchange's standard public tier


#: Defaults per (kind, exchange, inverse): tick and step of the exchanges' BTC instruments in Dec 2022 (other symbols:
#: a tick finer than the true one loads the same prices, the check cannot see a finer grid; set it in `instruments`).
#: `BTC_TICKS`: the BTC perpetuals' coarser ticks. Another exchange: `GENERIC_DEFAULTS`.
BAR_VENUE_DEFAULTS: dict[tuple[str, str, bool], BarVenueDefaults] = {
    ("crypto", "binance", False): BarVenueDefaults("0.01", "0.00001", (0.001, 0.001)),
    ("crypto", "bybit", False): BarVenueDefaults("0.01", "0.000001", (0.001, 0.001)),
    ("cryptofuture", "binance", True): BarVenueDefaults("0.01", "1", (0.0002, 0.0005)),
    ("cryptofuture", "binance", False): BarVenueDefaults("0.01", "0.001", (0.0002, 0.0005)),
    ("cryptofuture", "bybit", True): BarVenueDefaults("0.01", "1", (0.0001, 0.0006)),
    ("cryptofuture", "bybit", False): BarVenueDefaults("0.01", "0.001", (0.0001, 0.0006)),
}
GENERIC_DEFAULTS = {"crypto": BarVenueDefaults("0.01", "0.00000001", (0.001, 0.001)),
                    "cryptofuture": BarVenueDefaults("0.01", "0.001", (0.0002, 0.0005))}
BTC_TICKS = {("cryptofuture", "binance", "BTCUSD"): "0.1", ("cryptofuture", "binance", "BTCUSDT"): "0.1",
             ("cryptofuture", "bybit", "BTCUSD"): "0.5", ("cryptofuture", "bybit", "BTCUSDT"): "0.5"}
#: Inverse contract values in USD by exchange (Binance COIN-M: `binance.coinm_contract_usd`, BTC 100, others 10;
#: Bybit inverse: 1 USD). Another exchange's: `instruments.<venue>.contract_size` (required).
BYBIT_INVERSE_CONTRACT_USD = 1.0
#: Per-venue config keys (`instruments: {venue: {...}}`).
BAR_INSTRUMENT_KEYS = ("raw_symbol", "quote", "files", "price_increment", "size_increment", "contract_size")
DEFAULT_CRYPTO_LATENCY_MS = 20.0  # the same for every venue unless configured
_FLAT_NAME = re.compile(r"^(crypto|cryptofuture)_([a-z0-9]+)_([a-z0-9]+)_(\d{8})_(trade|quote)\.zip$")
_MEMBER_NAME = re.compile(r"^(\d{8})_([a-z0-9]+)_minute_(trade|quote)(?:_[a-z]+)?\.csv$")


@dataclass(frozen=True, slots=True)
class BarVenueSpec:
    """One venue of a crypto bar market: what is read and the instrument's terms."""

    venue: str  # Nautilus venue name
    kind: str  # "crypto" (spot) or "cryptofuture" (perpetual)
    exchange: str  # Lean's market name, lower case ("binance")
    raw_symbol: str  # upper case, e.g. "BTCBUSD"
    base: str
    quote: str
    trade_file: Path
    quote_file: Path | None
    price_increment: str
    size_increment: str
    fees: tuple[float, float]
    contract_usd: float | None = None  # inverse perpetual: contract value in USD (sizes are contracts)

    @property
    def perpetual(self) -> bool:
        return self.kind == "cryptofuture"

    @property
    def symbol(self) -> str:
        """The Nautilus symbol: the raw symbol for spot, `<base><quote>-PERP` for a perpetual."""
        return f"{self.base}{self.quote}-PERP" if self.perpetual else self.raw_symbol


def split_symbol(raw: str, quote: str | None = None) -> tuple[str, str] | None:
    """(base, quote) of a raw symbol: `quote` when given, else the longest of `QUOTE_CURRENCIES` it ends with."""
    raw = raw.upper()
    for q in ([quote.upper()] if quote else sorted(QUOTE_CURRENCIES, key=len, reverse=True)):
        if raw.endswith(q) and len(raw) > len(q):
            return raw[: -len(q)], q
    return None


def venue_name(kind: str, exchange: str, inverse: bool) -> str:
    """The Nautilus venue of a Lean (kind, exchange): spot `BINANCE`; perpetuals `BINANCE_COINM` / `BINANCE_USDM`,
    `BYBIT_INVERSE` / `BYBIT_LINEAR` (`FUTURES_SUFFIXES`)."""
    if kind == "crypto":
        return exchange.upper()
    suffixes = FUTURES_SUFFIXES.get(exchange, _DEFAULT_FUTURES_SUFFIXES)
    return f"{exchange.upper()}_{suffixes[0] if inverse else suffixes[1]}"


def _found_files(directory: Path) -> dict[tuple[str, str, str], dict[dt.date, dict[str, Path]]]:
    """{(kind, exchange, raw symbol lower): {day: {"trade"|"quote": path}}} of the flat names and Lean's tree."""
    out: dict[tuple[str, str, str], dict[dt.date, dict[str, Path]]] = {}
    if not directory.is_dir():
        return out
    for path in directory.iterdir():
        match = _FLAT_NAME.match(path.name)
        if match and path.is_file():
            kind, exchange, raw, day, what = match.groups()
            out.setdefault((kind, exchange, raw), {}).setdefault(parse_day(day, path.name), {})[what] = path
    for kind in MARKET_KINDS.values():
        for path in directory.glob(f"{kind}/*/minute/*/*.zip"):
            day_match = re.match(r"^(\d{8})_(trade|quote)\.zip$", path.name)
            if day_match:
                exchange, raw = path.parts[-4], path.parts[-2]
                out.setdefault((kind, exchange, raw), {}).setdefault(parse_day(day_match.group(1), path.name), {})[day_match.group(2)] = path
    return out


def _venue_parts(venue: str) -> tuple[str, str, bool | None]:
    """(kind, exchange, inverse) of a venue name (`venue_name` read backwards; spot: inverse None)."""
    exchange, _, suffix = venue.partition("_")
    if not suffix:
        return "crypto", exchange.lower(), None
    inverse_word, linear_word = FUTURES_SUFFIXES.get(exchange.lower(), _DEFAULT_FUTURES_SUFFIXES)
    if suffix not in (inverse_word, linear_word):
        raise ValidationError(f"invalid instruments.{venue}: not a crypto bar venue name (<EXCHANGE> for spot, <EXCHANGE>_{inverse_word} / "
                              f"<EXCHANGE>_{linear_word} for perpetuals)", field=f"instruments.{venue}", value=repr(venue))
    return "cryptofuture", exchange.lower(), suffix == inverse_word


def bar_market_specs(data_dir: str | Path, symbol: str | None = None, date: object = None, *, market: str = "spot",
                     venues: Sequence[str] | None = None, instruments: Mapping[str, Mapping[str, Any]] | None = None,
                     fees: Mapping[str, tuple[float, float]] | None = None) -> tuple[dt.date, tuple[BarVenueSpec, ...]]:
    """The day and venues of a crypto bar market of `symbol` (a base asset, "BTC"; default: the one the files
    carry, several: an error listing them) in `data_dir`. `venues`: the venues to load, of either kind (default:
    every venue of `market`'s kind, "spot" or "perp", with files). `date`: default the first day every venue has
    trade bars. `instruments`: per venue `BAR_INSTRUMENT_KEYS` (a listed `files` is read as given)."""
    from nautilus_sor.backtest.data.binance import _precision, coinm_contract_usd

    if market not in MARKET_KINDS:
        raise ValidationError(f"invalid market: {market!r} (one of {sorted(MARKET_KINDS)})", field="market", value=repr(market))
    directory = Path(data_dir)
    nested = directory / "lean_crypto_minute"
    directory = nested if nested.is_dir() else directory
    terms_of = {str(k): dict(v) for k, v in (instruments or {}).items()}
    for venue, terms in terms_of.items():
        for key in terms:
            if key not in BAR_INSTRUMENT_KEYS:
                raise ValidationError(f"invalid instruments.{venue}.{key}: unknown key (one of {', '.join(BAR_INSTRUMENT_KEYS)})",
                                      field=f"instruments.{venue}.{key}", value=repr(key))
    if symbol is not None and not (isinstance(symbol, str) and symbol.isalnum()):
        raise ValidationError(f"invalid symbol: {symbol!r} (a base asset such as 'BTC' or 'ETH')", field="symbol", value=repr(symbol))
    # Candidates: (venue, kind, exchange, raw, base, quote, {day: files}) of every file group, then listed venues.
    candidates: dict[str, list[tuple[str, str, str, str, str, dict[dt.date, dict[str, Path]]]]] = {}
    for (kind, exchange, raw), days in sorted(_found_files(directory).items()):
        split = split_symbol(raw)
        if split is None:
            continue
        inverse = kind == "cryptofuture" and split[1] == "USD"
        name = venue_name(kind, exchange, inverse)
        terms = terms_of.get(name, {})
        if "quote" in terms or "raw_symbol" in terms:
            if str(terms.get("raw_symbol", raw)).lower() != raw:
                continue
            split = split_symbol(raw, terms.get("quote"))
            if split is None:
                continue
        candidates.setdefault(name, []).append((kind, exchange, raw, *split, days))
    for name, terms in terms_of.items():
        if "files" not in terms:
            continue
        kind, exchange, _ = _venue_parts(name)
        listed = [Path(f) if Path(f).is_absolute() else directory / f for f in terms["files"]]
        days_of: dict[dt.date, dict[str, Path]] = {}
        raws = set()
        for path in listed:
            member_day, raw, what = _member_of(path)
            days_of.setdefault(member_day, {})[what] = path
            raws.add(raw)
        if len(raws) != 1:
            raise ValidationError(f"invalid instruments.{name}.files: streams of {sorted(raws)} (one symbol per venue)", field=f"instruments.{name}.files",
                                  value=repr(terms["files"]))
        raw = raws.pop()
        split = split_symbol(raw, terms.get("quote"))
        if split is None:
            raise ValidationError(f"invalid instruments.{name}.quote: the quote currency of {raw.upper()} is not known (set it)",
                                  field=f"instruments.{name}.quote", value=repr(terms.get("quote")))
        candidates[name] = [(kind, exchange, raw, *split, days_of)]
    wanted_kind = MARKET_KINDS[market]
    names = list(venues) if venues is not None else sorted(n for n, c in candidates.items() if any(x[0] == wanted_kind for x in c))
    unknown = [n for n in names if n not in candidates] + [n for n in terms_of if n not in candidates]
    if unknown:
        raise ValidationError(f"invalid venues: no crypto minute bars for {sorted(set(unknown))} in {directory} (have: {sorted(candidates) or 'none'})",
                              field="venues", value=repr(sorted(set(unknown))))
    if symbol is None:
        bases = sorted({c[3] for n in names for c in candidates[n]})
        if len(bases) != 1:
            raise ValidationError(f"invalid symbol: missing, and the files in {directory} name {bases or 'no symbol'} (set symbol to the base "
                                  "asset, e.g. 'BTC')", field="symbol", value=None)
        symbol = bases[0]
    base = symbol.upper()
    chosen = []
    for name in names:
        of_base = [c for c in candidates[name] if c[3] == base]
        if not of_base:
            if venues is None:
                continue
            raise ValidationError(f"invalid venues: {name} has no {base} minute bars in {directory} (it has "
                                  f"{sorted(c[2].upper() for c in candidates[name])})", field="venues", value=name)
        if len(of_base) > 1:
            raise ValidationError(f"invalid instruments.{name}.raw_symbol: {name} has {base} bars of {sorted(c[2].upper() for c in of_base)} "
                                  "(name the one to load)", field=f"instruments.{name}.raw_symbol", value=None)
        chosen.append((name, of_base[0]))
    if not chosen:
        raise ValidationError(f"no {market} minute bars of {base} in {directory}", field="symbol", value=base)
    trade_days = [set(d for d, files in c[5].items() if "trade" in files) for _, c in chosen]
    common = sorted(set.intersection(*trade_days))
    day = pick_day(common, date, directory, f"trade bars of every venue ({', '.join(n for n, _ in chosen)})")
    fee_table = _crypto_fees(fees, [n for n, _ in chosen])
    specs = []
    for name, (kind, exchange, raw, base_code, quote, days) in chosen:
        inverse = kind == "cryptofuture" and quote == "USD"
        terms = terms_of.get(name, {})
        defaults = BAR_VENUE_DEFAULTS.get((kind, exchange, inverse), GENERIC_DEFAULTS[kind])
        f = f"instruments.{name}"
        tick = str(terms.get("price_increment", BTC_TICKS.get((kind, exchange, raw.upper()), defaults.price_increment)))
        step = str(terms.get("size_increment", defaults.size_increment))
        _precision(tick, f"{f}.price_increment"), _precision(step, f"{f}.size_increment")  # checked: decimal strings > 0
        contract = None
        if inverse:
            default_contract = coinm_contract_usd(base_code) if exchange == "binance" else BYBIT_INVERSE_CONTRACT_USD if exchange == "bybit" else None
            contract = terms.get("contract_size", default_contract)
            if isinstance(contract, bool) or not isinstance(contract, (int, float)) or not (0 < contract < 1e9) or contract != int(contract):
                raise ValidationError(f"invalid {f}.contract_size: {contract!r} (a whole number of USD > 0; {exchange} has no default)",
                                      field=f"{f}.contract_size", value=repr(contract))
            contract = float(contract)
        elif "contract_size" in terms:
            raise ValidationError(f"invalid {f}.contract_size: only for inverse perpetuals (quote USD)", field=f"{f}.contract_size",
                                  value=repr(terms["contract_size"]))
        files = days[day]
        specs.append(BarVenueSpec(name, kind, exchange, raw.upper(), base_code, quote, files["trade"], files.get("quote"), tick, step,
                                  fee_table.get(name, defaults.fees), contract))
    return day, tuple(specs)


def _member_of(path: Path) -> tuple[dt.date, str, str]:
    """(day, raw symbol lower, "trade"|"quote") named by the CSV inside a Lean minute zip."""
    if not path.is_file():
        raise ValidationError(f"missing Lean data file: {path}", field="path", value=str(path))
    try:
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if not n.endswith("/")]
    except zipfile.BadZipFile as exc:
        raise ValidationError(f"invalid Lean file {path}: {exc}", field="path", value=str(path)) from exc
    match = _MEMBER_NAME.match(members[0]) if len(members) == 1 else None
    if match is None:
        raise DataFileError(f"invalid Lean file {path} line 0: member {members!r} is not one '<YYYYMMDD>_<symbol>_minute_<trade|quote>.csv'",
                            field=f"{path.name}:member", value=repr(members), file=str(path), line=0)
    return parse_day(match.group(1), path.name), match.group(2), match.group(3)


def _check_stream(spec: BarVenueSpec, path: Path, day: dt.date, what: str) -> None:
    """The stream in `path` is this venue's symbol, day and kind (a renamed copy of another's is refused)."""
    member_day, raw, member_what = _member_of(path)
    if (member_day, raw, member_what) != (day, spec.raw_symbol.lower(), what):
        raise DataFileError(f"invalid Lean file {path} line 0: it holds the {member_what} bars of {raw.upper()} on {day_tag(member_day)}, not "
                            f"{spec.venue}'s {what} bars of {spec.raw_symbol} on {day_tag(day)}: a file of another symbol?",
                            field=f"{path.name}:member", value=raw.upper(), file=str(path), line=0)


def _check_grid(frame: Any, columns: tuple[str, ...], increment: str, path: Path, what: str, key: str, *, refuse: bool = True) -> int:
    """How many values of `columns` are not whole multiples of `increment` (0, an absent quote side, is on it);
    with `refuse`, the first such value is a `DataFileError` naming the file and line."""
    step = float(Decimal(increment))
    count = 0
    for column in columns:
        x = frame[column].to_numpy(dtype=np.float64) / step
        bad = np.abs(x - np.round(x)) > np.maximum(1e-6, 1e-12 * np.abs(x))  # far above float error, far below a step
        count += int(bad.sum())
        if refuse and bad.any():
            row = int(np.argmax(bad))
            line = row + 1
            value = float(frame[column].iloc[row])
            raise DataFileError(f"invalid Lean file {path} line {line}: {column} {value!r} is not a multiple of the {what} {increment} (set {key})",
                                field=f"{path.name}:{line}", value=repr(value), file=str(path), line=line)
    return count


def load_lean_crypto_bars(
    data_dir: str | Path,
    date: object = None,
    *,
    symbol: str | None = None,
    market: str = "spot",
    venues: Sequence[str] | None = None,
    instruments: Mapping[str, Mapping[str, Any]] | None = None,
    start: object = None,
    end: object = None,
    latency_ms: float | Mapping[str, float] | None = None,
    fees: Mapping[str, tuple[float, float]] | None = None,
) -> RecordedMarket:
    """Lean crypto minute bars of one asset and day as a bar market of its venues (`bar_market_specs` finds them).

    Venues: spot `<EXCHANGE>` (e.g. BINANCE BTCBUSD, BYBIT BTCUSDT) and perpetuals `BINANCE_COINM`,
    `BINANCE_USDM`, `<EXCHANGE>_INVERSE` / `_LINEAR` (quote USD: inverse, coin-margined, sizes in contracts of
    `contract_size` USD). `market` picks the kind when `venues` does not name them ("spot" or "perp").
    Instruments: `CurrencyPair` `<raw symbol>.<venue>` / `CryptoPerpetual` `<base><quote>-PERP.<venue>`,
    currencies from the symbol (`split_symbol`), tick / step / contract size from `instruments` else the
    defaults (`BAR_VENUE_DEFAULTS`, `BTC_TICKS`, contract sizes above); each file's stream (the CSV's name), prices
    and sizes checked against them (`DataFileError` naming the file and line), and the venues checked to be one
    asset (closes within `binance.MAX_BASIS` of the first venue's).

    Per venue: 1-minute LAST trade `Bar`s and, where the day has quote bars, BID and ASK `Bar`s (Nautilus stamps a bar
    at its close: open time + 1 minute), all as recorded (inverse sizes in contracts); `book=None`; a
    `TradeTape` with one print per bar at its close: the close price and the bar's volume in the base asset
    (contracts * contract USD / close), aggressor 0 (unknown). Only bars inside the window all venues' trade
    bars cover are kept, narrowed by `start`/`end` (ISO time, naive = UTC, or ns; a bar is kept when it
    opens at or after `start` and closes at or before `end`; `date` defaults to the UTC day of `start`). `fees`:
    (maker, taker) fractions per venue; `latency_ms`: one value or per venue (default 20 ms each)."""
    date, start_at, end_at = requested_window(date, start, end, "UTC")
    day, specs = bar_market_specs(data_dir, symbol, date, market=market, venues=venues, instruments=instruments, fees=fees)
    names = [v.venue for v in specs]
    latencies = _crypto_latencies(latency_ms, names)
    trade_bars, quote_bars, off_tick = {}, {}, {}
    for spec in specs:
        _check_stream(spec, spec.trade_file, day, "trade")
        bars = read_lean_csv(spec.trade_file, TRADE_BAR_COLUMNS, TRADE_BAR_TYPES, values=TRADE_BAR_VALUES)
        _check_grid(bars, ("volume",), spec.size_increment, spec.trade_file, "size step", f"instruments.{spec.venue}.size_increment")
        trade_bars[spec.venue] = bars
        if spec.quote_file is not None:
            _check_stream(spec, spec.quote_file, day, "quote")
            quote_bars[spec.venue] = read_lean_csv(spec.quote_file, QUOTE_BAR_COLUMNS, QUOTE_BAR_TYPES, values=QUOTE_BAR_VALUES,
                                                   crossed=("bid_close", "ask_close"))
            _check_grid(quote_bars[spec.venue], QUOTE_PRICES, spec.price_increment, spec.quote_file, "tick", f"instruments.{spec.venue}.price_increment")
            _check_grid(quote_bars[spec.venue], ("bid_size", "ask_size"), spec.size_increment, spec.quote_file, "size step",
                        f"instruments.{spec.venue}.size_increment")
        # The tick is the book's: quote prices must be on it. Trades may print off it (the BYBIT_INVERSE bars of
        # 2022-12-13 have 17 such highs/lows with every quote on the 0.5 tick); they are refused only where no quote
        # bars show the book, and counted in the notes otherwise.
        off_tick[spec.venue] = _check_grid(bars, TRADE_PRICES, spec.price_increment, spec.trade_file, "tick",
                                           f"instruments.{spec.venue}.price_increment", refuse=spec.venue not in quote_bars)
    empty = [name for name, bars in trade_bars.items() if bars.empty]
    if empty:
        raise ValidationError(f"no trade bars for {empty} on {day_tag(day)}", field="data_dir", value=str(specs[0].trade_file.parent))
    _check_one_asset(specs, trade_bars)
    # The common window: from the latest first bar to the earliest last bar (open times, ms after midnight UTC).
    first_ms = max(int(b["ms"].iloc[0]) for b in trade_bars.values())
    last_ms = min(int(b["ms"].iloc[-1]) for b in trade_bars.values())
    midnight_ns = int(utc_ms_to_ns(day, np.array([0]))[0])
    if start_at is not None:  # the first bar opening at or after `start`
        first_ms = max(first_ms, -(-(start_at - midnight_ns) // (BAR_MS * 1_000_000)) * BAR_MS)
    if end_at is not None:  # the last bar closing at or before `end`
        last_ms = min(last_ms, (end_at - midnight_ns) // (BAR_MS * 1_000_000) * BAR_MS - BAR_MS)
    if last_ms < first_ms:
        raise ValidationError(f"invalid end: no minute bar of every venue between start {start!r} and end {end!r} on {day_tag(day)}",
                              field="end", value=repr(end))
    currencies = sorted({s.quote for s in specs})
    notes = [
        "bar market: no order books; each venue's tape is one print per minute bar at its close (close price, the bar's "
        "volume, aggressor unknown)",
        f"window: bars opening {_clock(first_ms)}-{_clock(last_ms)} UTC (covered by every venue's trade bars)",
        f"quote currencies ({', '.join(currencies)}) taken at par; prices as recorded, no basis removed",
        f"fees (maker/taker fractions): {', '.join(f'{s.venue} {s.fees[0]:g}/{s.fees[1]:g}' for s in specs)}; "
        f"latency ms: {', '.join(f'{n} {latencies[n]:g}' for n in names)}",
    ]
    venues_out, data, stamps = [], [], []
    for spec in specs:
        bars = _in_window(trade_bars[spec.venue], first_ms, last_ms)
        close_ns = utc_ms_to_ns(day, bars["ms"].to_numpy() + BAR_MS)
        close = bars["close"].to_numpy()
        volume = bars["volume"].to_numpy()
        instrument = _instrument(spec)
        data += _bars(instrument, PriceType.LAST, bars, ("open", "high", "low", "close", "volume"), close_ns)
        stamps.append(close_ns)
        traded = volume > 0
        units = volume * spec.contract_usd / close if spec.contract_usd else volume
        tape = TradeTape(ts=close_ns[traded], price=close[traded], size=units[traded], aggressor=np.zeros(int(traded.sum()), dtype=np.int8))
        if off_tick[spec.venue]:
            notes.append(f"{spec.venue}: {off_tick[spec.venue]} trade bar price(s) off the {spec.price_increment} tick its quotes keep (kept; "
                         "Nautilus rounds them to the instrument's precision)")
        if spec.venue in quote_bars:
            quotes = _in_window(quote_bars[spec.venue], first_ms, last_ms)
            q_close = utc_ms_to_ns(day, quotes["ms"].to_numpy() + BAR_MS)
            for side, price_type in (("bid", PriceType.BID), ("ask", PriceType.ASK)):
                columns = (f"{side}_open", f"{side}_high", f"{side}_low", f"{side}_close", f"{side}_size")
                data += _bars(instrument, price_type, quotes, columns, q_close)
                stamps.append(q_close)
            notes.append(f"{spec.venue}: {len(quotes)} quote bars (BID/ASK, volume = the last quoted size)")
        else:
            notes.append(f"{spec.venue}: no quote bars on {day_tag(day)}")
        if spec.contract_usd:
            reference = float(close[0])
            lot, to_instrument = spec.contract_usd / reference, reference / spec.contract_usd
            notes.append(f"{spec.venue}: sizes in {spec.base} = contracts * {spec.contract_usd:g} USD / bar close; lot and "
                         f"size_to_instrument at the first close {reference:g}")
        else:
            lot, to_instrument = float(Decimal(spec.size_increment)), 1.0
        venues_out.append(RecordedVenue(name=spec.venue, instrument=instrument, maker_fee=spec.fees[0], taker_fee=spec.fees[1],
                                        latency_ms=latencies[spec.venue], book=None, trades=tape, lot_size=lot, size_to_instrument=to_instrument))
    all_ts = np.concatenate(stamps)
    order = np.argsort(all_ts, kind="stable")
    kinds = sorted({"perp" if s.perpetual else "spot" for s in specs})
    return RecordedMarket(
        name=f"lean_crypto_{specs[0].base.lower()}_{'_'.join(kinds)}_{day_tag(day)}",
        asset=specs[0].base,
        venues=tuple(venues_out),
        data=[data[i] for i in order],
        start_ns=int(utc_ms_to_ns(day, np.array([first_ms]))[0]),
        end_ns=int(utc_ms_to_ns(day, np.array([last_ms + BAR_MS]))[0]),
        notes=notes,
    )


def _check_one_asset(specs: tuple[BarVenueSpec, ...], trade_bars: Mapping[str, Any]) -> None:
    """Every venue's closes within `binance.MAX_BASIS` of the first venue's at the same minutes (median): a
    file of another asset under this one's name, its stream renamed too, is seen here."""
    from nautilus_sor.backtest.data.binance import MAX_BASIS

    ref = specs[0]
    ref_close = trade_bars[ref.venue].set_index("ms")["close"]
    for spec in specs[1:]:
        close = trade_bars[spec.venue].set_index("ms")["close"]
        common = ref_close.index.intersection(close.index)
        if not len(common):
            continue
        gap = float(np.median(np.abs(close[common].to_numpy() / ref_close[common].to_numpy() - 1.0)))
        if not gap <= MAX_BASIS:
            raise DataFileError(f"invalid Lean file {spec.trade_file} line 1: {spec.venue} ({spec.raw_symbol}) closes {gap:.1%} away from "
                                f"{ref.venue} ({ref.raw_symbol}, {ref.trade_file.name}) in the median: more than {MAX_BASIS:.0%}, not one asset",
                                field=f"{spec.trade_file.name}:1", value=gap, file=str(spec.trade_file), line=1)


def _in_window(frame: Any, first_ms: int, last_ms: int) -> Any:
    ms = frame["ms"].to_numpy()
    return frame[(ms >= first_ms) & (ms <= last_ms)]


def bar_type(instrument_id: InstrumentId, price_type: PriceType) -> BarType:
    """The 1-minute external bar type of a venue's instrument (`<id>-1-MINUTE-<price type>-EXTERNAL`)."""
    return BarType(instrument_id, BarSpecification(1, BarAggregation.MINUTE, price_type), AggregationSource.EXTERNAL)


def _bars(instrument: Any, price_type: PriceType, frame: Any, columns: tuple[str, ...], close_ns: npt.NDArray[np.int64]) -> list[Bar]:
    o, h, lo, c, v = (frame[col].to_numpy(dtype=np.float64).copy() for col in columns)
    ts = close_ns.astype(np.uint64)
    return cast("list[Bar]", Bar.from_raw_arrays_to_list(bar_type(instrument.id, price_type), instrument.price_precision, instrument.size_precision,
                                      o, h, lo, c, v, ts, ts))


def _instrument(spec: BarVenueSpec) -> CurrencyPair | CryptoPerpetual:
    increment = Quantity.from_str(spec.size_increment)
    price_increment = Price.from_str(spec.price_increment)
    base, quote = Currency.from_str(spec.base, strict=False), Currency.from_str(spec.quote, strict=False)
    common: dict[str, Any] = dict(
        instrument_id=InstrumentId(Symbol(spec.symbol), Venue(spec.venue)),
        raw_symbol=Symbol(spec.symbol),
        base_currency=base,
        quote_currency=quote,
        price_precision=price_increment.precision,
        size_precision=increment.precision,
        price_increment=price_increment,
        size_increment=increment,
        max_quantity=Quantity(1_000_000 if spec.contract_usd else 9000, increment.precision),
        min_quantity=increment,
        max_notional=None,
        min_notional=None,
        max_price=Price(10_000_000, price_increment.precision),
        min_price=price_increment,
        margin_init=Decimal(0),
        margin_maint=Decimal(0),
        maker_fee=Decimal(repr(float(spec.fees[0]))),
        taker_fee=Decimal(repr(float(spec.fees[1]))),
        ts_event=0,
        ts_init=0,
    )
    if not spec.perpetual:
        return CurrencyPair(lot_size=None, **common)
    if spec.contract_usd:
        return CryptoPerpetual(settlement_currency=base, is_inverse=True, multiplier=Quantity.from_int(int(spec.contract_usd)), **common)
    return CryptoPerpetual(settlement_currency=quote, is_inverse=False, **common)


def _crypto_latencies(latency_ms: float | Mapping[str, float] | None, names: list[str]) -> dict[str, float]:
    return latency_table(latency_ms, names, DEFAULT_CRYPTO_LATENCY_MS, lambda key: known_venue(key, names, "latency_ms"))


def _crypto_fees(fees: Mapping[str, tuple[float, float]] | None, names: list[str]) -> dict[str, tuple[float, float]]:
    """The configured (maker, taker) fractions per venue (the others keep their defaults)."""
    table: dict[str, tuple[float, float]] = {}
    for name, pair in (fees or {}).items():
        if name not in names:
            raise ValidationError(f"invalid fees: unknown venue {name!r} (known: {sorted(names)})", field="fees", value=repr(name))
        maker, taker = fee_pair(name, pair, "fractions")
        if not (-0.01 < maker < 0.01 and 0.0 <= taker < 0.01):
            raise ValidationError(f"invalid fees[{name}]: {pair!r} (fractions of notional: |maker| < 1%, 0 <= taker < 1%)",
                                  field=f"fees[{name}]", value=repr(pair))
        table[name] = (maker, taker)
    return table


def _clock(ms: int) -> str:
    minutes = int(ms) // 60_000
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
