"""Lean minute bars: intraday volume curves for VWAP (equities) and crypto bar markets (spot, perpetuals).

    curve = volume_profile_from_minute_bars("../shared/data/lean_equity_bars/minute/ibm", for_date="2013-10-08")
    VWAPExecAlgorithmConfig(**curve.vwap_params())          # or volume_profile=curve.hourly()

    market = load_lean_crypto_bars("../shared/data/lean_crypto_minute")   # BINANCE BTCBUSD vs BYBIT BTCUSDT
    perps = load_lean_crypto_bars("../shared/data/lean_crypto_minute", market="perp")

A volume curve is built from the trade bars of *other* days than the one it is for (no look-ahead), in
the traded day's UTC clock, which is what the VWAP algorithm's bucket curve repeats daily.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from nautilus_trader.model.currencies import BTC, BUSD, USD, USDT
from nautilus_trader.model.data import Bar, BarSpecification, BarType
from nautilus_trader.model.enums import AggregationSource, BarAggregation, PriceType
from nautilus_trader.model.identifiers import InstrumentId, Symbol, Venue
from nautilus_trader.model.instruments import CryptoPerpetual, CurrencyPair
from nautilus_trader.model.objects import Currency, Price, Quantity

from nautilus_sor._core import volume_curve_from_bars
from nautilus_sor.backtest.data.lean_files import (
    MS_PER_DAY,
    NEW_YORK,
    day_tag,
    days_in_dir,
    fee_pair,
    latency_value,
    local_day_of,
    local_ms_to_utc_ns,
    parse_clock,
    parse_day,
    parse_instant,
    read_lean_csv,
    utc_ms_to_ns,
)
from nautilus_sor.backtest.data.recorded import RecordedMarket, RecordedVenue, TradeTape
from nautilus_sor.exceptions import ValidationError

_TRADE_BAR_COLUMNS = ("ms", "open", "high", "low", "close", "volume")
_TRADE_BAR_TYPES = {c: (np.int64 if c == "ms" else np.float64) for c in _TRADE_BAR_COLUMNS}
_QUOTE_BAR_COLUMNS = ("ms", "bid_open", "bid_high", "bid_low", "bid_close", "bid_size",
                      "ask_open", "ask_high", "ask_low", "ask_close", "ask_size")
_QUOTE_BAR_TYPES = {c: (np.int64 if c == "ms" else np.float64) for c in _QUOTE_BAR_COLUMNS}
# Checked on read (`read_lean_csv`): trade bars' prices > 0, volumes >= 0; quote bars' prices and sizes >= 0
# (0: an absent side), never crossed at the close.
_TRADE_BAR_VALUES = {"open": "positive", "high": "positive", "low": "positive", "close": "positive", "volume": "non_negative"}
_QUOTE_BAR_VALUES = {c: "non_negative" for c in _QUOTE_BAR_COLUMNS if c != "ms"}
BAR_MS = 60_000


# -- volume curves -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VolumeCurve:
    """A day's volume curve: `weights[k]` is the share of the day's volume traded in the k-th bucket of
    `bucket_seconds` from midnight UTC (summing to 1), built from the minute bars of `days`."""

    weights: npt.NDArray[np.float64]  # float64, 86400 / bucket_seconds buckets, UTC
    bucket_seconds: float
    days: tuple[str, ...]  # the days of history used, 'YYYYMMDD'
    for_date: str | None  # the day it is for (excluded from `days`), whose UTC offset places the buckets

    def vwap_params(self) -> dict[str, Any]:
        """The VWAP algorithm's bucket curve (`VWAPExecAlgorithmConfig(bucket_weights=..., bucket_seconds=...)`)."""
        return {"bucket_weights": self.weights.tolist(), "bucket_seconds": self.bucket_seconds}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (for a catalog's metadata); `from_dict` reads it back."""
        return {"weights": self.weights.tolist(), "bucket_seconds": self.bucket_seconds, "days": list(self.days), "for_date": self.for_date}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VolumeCurve:
        try:
            weights = np.asarray(data["weights"], dtype=np.float64)
            curve = cls(weights=weights, bucket_seconds=float(data["bucket_seconds"]), days=tuple(str(d) for d in data["days"]),
                        for_date=None if data.get("for_date") is None else str(data["for_date"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"invalid volume curve: {exc!r}", field="volume_profile", value=repr(data)[:200]) from None
        if weights.ndim != 1 or weights.size * curve.bucket_seconds != 86_400 or not np.all(weights >= 0) or not weights.sum() > 0:
            raise ValidationError("invalid volume curve: weights must cover one day, be >= 0 and not all zero", field="volume_profile",
                                  value=f"{weights.size} x {curve.bucket_seconds} s")
        return curve

    def hourly(self) -> dict[int, float]:
        """The reference's `{hour_of_day (UTC): fraction}` profile, the hours with volume only."""
        per_hour = self.weights.reshape(24, -1).sum(axis=1) if self.weights.size % 24 == 0 else self._hourly_uneven()
        return {hour: float(w) for hour, w in enumerate(per_hour) if w > 0}

    def _hourly_uneven(self) -> npt.NDArray[np.float64]:
        starts = np.arange(self.weights.size) * self.bucket_seconds
        # float64 with `weights`; numpy's stub types every bincount as intp
        return np.bincount((starts // 3600).astype(np.int64), weights=self.weights, minlength=24)[:24]  # type: ignore[return-value]


def volume_profile_from_minute_bars(
    path_or_dir: str | Path,
    days: Iterable[object] | None = None,
    *,
    bucket_minutes: float = 1.0,
    for_date: object = None,
    before_only: bool = False,
    hours: tuple[str, str] | None = ("09:30", "16:00"),
    tz: str = NEW_YORK,
) -> VolumeCurve:
    """The intraday volume curve of Lean minute trade bars (`<YYYYMMDD>_trade.zip`, a folder or one file).

    `for_date`: the day the curve is for: never used as history (no look-ahead; an explicit `days` that
    holds it is an error), and its UTC offset places the local bars on the UTC clock (DST-correct for that
    day). `days`: the history days (default: every day in the folder but `for_date`; with `before_only`,
    only the days before it). `hours`: local session kept ('09:30'-'16:00' by default; None = all bars,
    pre and post market included). `bucket_minutes` must divide a day."""
    path = Path(path_or_dir)
    target = parse_day(for_date, "for_date") if for_date is not None else None
    bucket_seconds = float(bucket_minutes) * 60.0
    if not bucket_seconds > 0 or (86_400 / bucket_seconds) != int(86_400 / bucket_seconds):
        raise ValidationError(f"invalid bucket_minutes: {bucket_minutes!r} (must divide a day)", field="bucket_minutes", value=repr(bucket_minutes))
    files = _history_files(path, days, target, before_only)
    start_ms, end_ms = (parse_clock(hours[0], "hours[0]"), parse_clock(hours[1], "hours[1]")) if hours else (0, MS_PER_DAY)
    stamps, volumes = [], []
    for day, file in files:
        bars = read_lean_csv(file, _TRADE_BAR_COLUMNS, _TRADE_BAR_TYPES, values=_TRADE_BAR_VALUES)
        ms = bars["ms"].to_numpy()
        keep = (ms >= start_ms) & (ms < end_ms)
        # Each bar at its local time of day on the target day (or its own day): the target day's UTC clock.
        stamps.append(local_ms_to_utc_ns(target or day, ms[keep], tz))
        volumes.append(bars["volume"].to_numpy()[keep])
    ts, vol = np.concatenate(stamps), np.concatenate(volumes)
    if ts.size == 0 or not vol.sum() > 0:
        raise ValidationError(f"no volume in the minute bars of {path} within {hours}", field="path_or_dir", value=str(path))
    if np.any(vol < 0):
        raise ValidationError(f"negative bar volume in {path}", field="volume", value=str(float(vol.min())))
    weights = np.asarray(volume_curve_from_bars(ts.astype(np.int64), vol.astype(np.float64), bucket_seconds), dtype=np.float64)
    return VolumeCurve(weights=weights, bucket_seconds=bucket_seconds, days=tuple(day_tag(d) for d, _ in files),
                       for_date=day_tag(target) if target else None)


def _history_files(path: Path, days: Iterable[object] | None, target: dt.date | None, before_only: bool) -> list[tuple[dt.date, Path]]:
    if path.is_file():
        match = days_in_name(path)
        if match == target:
            raise ValidationError(f"invalid path_or_dir: {path.name} is the day the curve is for (look-ahead)", field="path_or_dir", value=str(path))
        return [(match, path)]
    available = days_in_dir(path, "_trade.zip")
    if days is None:
        chosen = [d for d in available if d != target and not (before_only and target and d >= target)]
    else:
        chosen = sorted({parse_day(d, "days") for d in days})
        if target in chosen:
            raise ValidationError(f"invalid days: {day_tag(target)} is the day the curve is for (look-ahead)", field="days", value=day_tag(target))
        if before_only and target and any(d > target for d in chosen):
            raise ValidationError(f"invalid days: days after {day_tag(target)} with before_only", field="days", value=repr([day_tag(d) for d in chosen]))
        missing = [day_tag(d) for d in chosen if d not in available]
        if missing:
            raise ValidationError(f"invalid days: no trade bars for {missing} in {path}", field="days", value=repr(missing))
    if not chosen:
        raise ValidationError(f"no history days in {path} for {day_tag(target) if target else 'the curve'}", field="days", value=repr(days))
    return [(d, path / f"{day_tag(d)}_trade.zip") for d in chosen]


def days_in_name(path: Path) -> dt.date:
    return parse_day(path.name[:8], field="path_or_dir")


# -- the crypto bar market ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _BarVenue:
    venue: str  # Nautilus venue name
    prefix: str  # file name prefix before the date, e.g. "crypto_binance_btcbusd"
    symbol: str
    quote_currency: Currency
    price_precision: int
    price_increment: str
    size_precision: int
    fees: tuple[float, float]  # default (maker, taker) fractions: the venue's standard public tier
    contract_usd: float | None = None  # inverse perpetual: contract value in USD (sizes are contracts)
    perpetual: bool = False


BAR_MARKETS: dict[str, tuple[_BarVenue, ...]] = {
    # Spot: Binance BTCBUSD vs Bybit BTCUSDT, trades for the whole day (Bybit quote bars 00:00-12:00).
    "spot": (
        _BarVenue("BINANCE", "crypto_binance_btcbusd", "BTCBUSD", BUSD, 2, "0.01", 5, (0.001, 0.001)),
        _BarVenue("BYBIT", "crypto_bybit_btcusdt", "BTCUSDT", USDT, 2, "0.01", 6, (0.001, 0.001)),
    ),
    # Perpetuals, 00:00-12:00 UTC (the Bybit files' span): Binance COIN-M BTCUSD (100 USD contracts), Bybit
    # inverse BTCUSD (1 USD contracts) and Bybit linear BTCUSDT (sizes in BTC).
    "perp": (
        _BarVenue("BINANCE_COINM", "cryptofuture_binance_btcusd", "BTCUSD-PERP", USD, 1, "0.1", 0, (0.0002, 0.0005),
                  contract_usd=100.0, perpetual=True),
        _BarVenue("BYBIT_INVERSE", "cryptofuture_bybit_btcusd", "BTCUSD-PERP", USD, 1, "0.5", 0, (0.0001, 0.0006),
                  contract_usd=1.0, perpetual=True),
        _BarVenue("BYBIT_LINEAR", "cryptofuture_bybit_btcusdt", "BTCUSDT-PERP", USDT, 1, "0.5", 3, (0.0001, 0.0006),
                  perpetual=True),
    ),
}
SPOT_VENUES = BAR_MARKETS["spot"]
DEFAULT_CRYPTO_LATENCY_MS = 20.0  # the same for every venue unless configured


def load_lean_crypto_bars(
    data_dir: str | Path,
    date: object = None,
    *,
    market: str = "spot",
    start: object = None,
    end: object = None,
    latency_ms: float | Mapping[str, float] | None = None,
    fees: Mapping[str, tuple[float, float]] | None = None,
) -> RecordedMarket:
    """Lean crypto minute bars as a bar market of two or three venues for BTC.

    `market="spot"`: Binance spot BTCBUSD vs Bybit spot BTCUSDT; `"perp"`: Binance COIN-M BTCUSD vs Bybit
    inverse BTCUSD vs Bybit linear BTCUSDT perpetuals (see `BAR_MARKETS`). Per venue: its instrument,
    1-minute LAST trade `Bar`s and, where the day has quote bars, BID and ASK `Bar`s (Nautilus stamps a bar
    at its close: open time + 1 minute), all as recorded (inverse sizes in contracts); `book=None`; a
    `TradeTape` with one print per bar at its close: the close price and the bar's volume in BTC
    (contracts * contract USD / close), aggressor 0 (unknown). Only bars inside the window all venues' trade
    bars cover are kept, narrowed by `start`/`end` (ISO time, naive = UTC, or ns; a bar is kept when it
    opens at or after `start` and closes at or before `end`; `date` defaults to the UTC day of `start`). `fees`: (maker, taker) fractions per venue; `latency_ms`: one value or per
    venue (default 20 ms each)."""
    if market not in BAR_MARKETS:
        raise ValidationError(f"invalid market: {market!r} (one of {sorted(BAR_MARKETS)})", field="market", value=repr(market))
    specs = BAR_MARKETS[market]
    directory = Path(data_dir)
    nested = directory / "lean_crypto_minute"
    directory = nested if nested.is_dir() else directory
    start_at = parse_instant(start, "start") if start is not None else None
    end_at = parse_instant(end, "end") if end is not None else None
    if date is None and start_at is not None:
        date = local_day_of(start_at, "UTC")
    day = _crypto_day(directory, date, specs)
    names = [v.venue for v in specs]
    latencies = _crypto_latencies(latency_ms, names)
    fee_table = _crypto_fees(fees, specs)
    trade_bars = {spec.venue: read_lean_csv(directory / f"{spec.prefix}_{day_tag(day)}_trade.zip", _TRADE_BAR_COLUMNS, _TRADE_BAR_TYPES,
                                               values=_TRADE_BAR_VALUES)
                  for spec in specs}
    empty = [name for name, bars in trade_bars.items() if bars.empty]
    if empty:
        raise ValidationError(f"no trade bars for {empty} on {day_tag(day)}", field="data_dir", value=str(directory))
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
    notes = [
        "bar market: no order books; each venue's tape is one print per minute bar at its close (close price, the bar's "
        "volume, aggressor unknown)",
        f"window: bars opening {_clock(first_ms)}-{_clock(last_ms)} UTC (covered by every venue's trade bars)",
        "quote currencies (USD, USDT, BUSD) taken at par; prices as recorded, no basis removed",
        f"fees (maker/taker fractions): {', '.join(f'{n} {fee_table[n][0]:g}/{fee_table[n][1]:g}' for n in names)}; "
        f"latency ms: {', '.join(f'{n} {latencies[n]:g}' for n in names)}",
    ]
    venues, data, stamps = [], [], []
    for spec in specs:
        bars = _in_window(trade_bars[spec.venue], first_ms, last_ms)
        close_ns = utc_ms_to_ns(day, bars["ms"].to_numpy() + BAR_MS)
        close = bars["close"].to_numpy()
        volume = bars["volume"].to_numpy()
        if np.any(volume < 0) or np.any(close <= 0):
            raise ValidationError(f"negative volume or price in the {spec.venue} trade bars", field=f"{spec.prefix}:volume", value=str(float(volume.min())))
        instrument = _instrument(spec, *fee_table[spec.venue])
        data += _bars(instrument, PriceType.LAST, bars, ("open", "high", "low", "close", "volume"), close_ns)
        stamps.append(close_ns)
        traded = volume > 0
        btc = volume * spec.contract_usd / close if spec.contract_usd else volume
        tape = TradeTape(ts=close_ns[traded], price=close[traded], size=btc[traded], aggressor=np.zeros(int(traded.sum()), dtype=np.int8))
        quote_file = directory / f"{spec.prefix}_{day_tag(day)}_quote.zip"
        if quote_file.is_file():
            quotes = _in_window(read_lean_csv(quote_file, _QUOTE_BAR_COLUMNS, _QUOTE_BAR_TYPES, values=_QUOTE_BAR_VALUES,
                                                  crossed=("bid_close", "ask_close")), first_ms, last_ms)
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
            notes.append(f"{spec.venue}: sizes in BTC = contracts * {spec.contract_usd:g} USD / bar close; lot and "
                         f"size_to_instrument at the first close {reference:g}")
        else:
            lot, to_instrument = 10.0 ** -spec.size_precision, 1.0
        venues.append(RecordedVenue(name=spec.venue, instrument=instrument, maker_fee=fee_table[spec.venue][0],
                                    taker_fee=fee_table[spec.venue][1], latency_ms=latencies[spec.venue], book=None,
                                    trades=tape, lot_size=lot, size_to_instrument=to_instrument))
    all_ts = np.concatenate(stamps)
    order = np.argsort(all_ts, kind="stable")
    return RecordedMarket(
        name=f"lean_crypto_{market}_{day_tag(day)}",
        asset="BTC",
        venues=tuple(venues),
        data=[data[i] for i in order],
        start_ns=int(utc_ms_to_ns(day, np.array([first_ms]))[0]),
        end_ns=int(utc_ms_to_ns(day, np.array([last_ms + BAR_MS]))[0]),
        notes=notes,
    )


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


def _instrument(spec: _BarVenue, maker_fee: float, taker_fee: float) -> CurrencyPair | CryptoPerpetual:
    increment = Quantity(10.0 ** -spec.size_precision, spec.size_precision)
    price_increment = Price.from_str(spec.price_increment)
    common: dict[str, Any] = dict(
        instrument_id=InstrumentId(Symbol(spec.symbol), Venue(spec.venue)),
        raw_symbol=Symbol(spec.symbol),
        base_currency=BTC,
        quote_currency=spec.quote_currency,
        price_precision=spec.price_precision,
        size_precision=spec.size_precision,
        price_increment=price_increment,
        size_increment=increment,
        max_quantity=Quantity(1_000_000 if spec.contract_usd else 9000, spec.size_precision),
        min_quantity=increment,
        max_notional=None,
        min_notional=None,
        max_price=Price(10_000_000, spec.price_precision),
        min_price=price_increment,
        margin_init=Decimal(0),
        margin_maint=Decimal(0),
        maker_fee=Decimal(repr(float(maker_fee))),
        taker_fee=Decimal(repr(float(taker_fee))),
        ts_event=0,
        ts_init=0,
    )
    if not spec.perpetual:
        return CurrencyPair(lot_size=None, **common)
    if spec.contract_usd:
        return CryptoPerpetual(settlement_currency=BTC, is_inverse=True, multiplier=Quantity.from_int(int(spec.contract_usd)), **common)
    return CryptoPerpetual(settlement_currency=spec.quote_currency, is_inverse=False, **common)


def _crypto_day(directory: Path, date: object, specs: tuple[_BarVenue, ...]) -> dt.date:
    def complete(day: dt.date) -> bool:
        return all((directory / f"{spec.prefix}_{day_tag(day)}_trade.zip").is_file() for spec in specs)

    found = directory.glob(f"{specs[0].prefix}_*_trade.zip") if directory.is_dir() else []
    days = sorted(d for d in {parse_day(p.name.split("_")[-2], p.name) for p in found} if complete(d))
    if date is None:
        if not days:
            raise ValidationError(f"no day with trade bars of {', '.join(s.prefix for s in specs)} in {directory}", field="data_dir", value=str(directory))
        return days[0]
    day = parse_day(date)
    if day not in days:
        raise ValidationError(f"invalid date: no trade bars of every venue for {day_tag(day)} in {directory}", field="date", value=str(date))
    return day


def _crypto_latencies(latency_ms: float | Mapping[str, float] | None, names: list[str]) -> dict[str, float]:
    if latency_ms is None:
        return {n: DEFAULT_CRYPTO_LATENCY_MS for n in names}
    given = dict(latency_ms) if isinstance(latency_ms, Mapping) else {n: latency_ms for n in names}
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValidationError(f"invalid latency_ms: unknown venue(s) {unknown} (known: {names})", field="latency_ms", value=repr(unknown))
    return {n: latency_value(n, given.get(n)) for n in names}


def _crypto_fees(fees: Mapping[str, tuple[float, float]] | None, specs: tuple[_BarVenue, ...]) -> dict[str, tuple[float, float]]:
    table = {spec.venue: spec.fees for spec in specs}
    for name, pair in (fees or {}).items():
        if name not in table:
            raise ValidationError(f"invalid fees: unknown venue {name!r} (known: {sorted(table)})", field="fees", value=repr(name))
        maker, taker = fee_pair(name, pair, "fractions")
        if not (-0.01 < maker < 0.01 and 0.0 <= taker < 0.01):
            raise ValidationError(f"invalid fees[{name}]: {pair!r} (fractions of notional: |maker| < 1%, 0 <= taker < 1%)",
                                  field=f"fees[{name}]", value=repr(pair))
        table[name] = (maker, taker)
    return table


def _clock(ms: int) -> str:
    minutes = int(ms) // 60_000
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
