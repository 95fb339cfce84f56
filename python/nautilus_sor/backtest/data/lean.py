"""Lean US-equity ticks as a recorded multi-venue market (per-venue top of book and trade tapes).

    market = load_lean_ibm("../shared/data/lean_equity_ticks/ibm", "2013-10-07")

Source: QuantConnect Lean / AlgoSeek tick files, `<YYYYMMDD>_quote.zip` and `<YYYYMMDD>_trade.zip` (see
`../shared/data/README.md`). Each venue (exchange code) becomes a `RecordedVenue` named by a readable
Nautilus venue (`IBM.NYSE`, `IBM.ARCA`, ...), with:

- `book`: a one-level `BookSeries` of the venue's top, rebuilt from the NBBO rows by the rules in
  `lean_nbbo` (a venue's quote is the last it set at the NBBO, dropped when the NBBO moved through it);
- `trades`: the venue's prints, aggressor by the quote rule, else the tick rule (`lean_nbbo`);
- Nautilus `Equity` instruments (price precision 2, lot 1 share); the venue's book as one-level L2
  `OrderBookDeltas` (an unknown side is an empty side, so an `L2_MBP` venue never trades on a stale quote);
  `QuoteTick`s whenever the top changed with both sides known; `TradeTick`s; all stamped in UTC ns.

Off-exchange prints (FINRA TRF, code D) are not routable: no venue, but they count in
`RecordedMarket.market_trades`, the tape of every print used for participation. Venues with little
activity are left out (`min_volume_share`, `min_quote_rows`, or an explicit `venues` list).
The minute bars of the *other* days (if found) give `volume_profile` (`lean_bars`).

The volume curves live in `lean_bars`, the crypto bar market in `lean_crypto_bars`; both are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import OrderBookDelta, OrderBookDeltas, QuoteTick, TradeTick
from nautilus_trader.model.enums import BookAction, OrderSide, RecordFlag
from nautilus_trader.model.identifiers import InstrumentId, Symbol, Venue
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import FIXED_PRECISION, Price, Quantity

from nautilus_sor.backtest.data.lean_bars import VolumeCurve, volume_profile_from_minute_bars
from nautilus_sor.backtest.data.lean_crypto_bars import load_lean_crypto_bars
from nautilus_sor.backtest.data.lean_files import (
    EQUITY_PRICE_SCALE,
    NEW_YORK,
    day_tag,
    days_in_dir,
    fee_pair,
    latency_table,
    local_ms_to_utc_ns,
    parse_clock,
    pick_day,
    read_lean_csv,
    requested_window,
)
from nautilus_sor.backtest.data.lean_nbbo import (
    ASK,
    BID,
    QuoteRows,
    change_rows,
    consolidated_nbbo,
    trade_aggressors,
    venue_top,
)
from nautilus_sor.backtest.data.recorded import BookSeries, RecordedMarket, RecordedVenue, TradeTape
from nautilus_sor.exceptions import ValidationError

# Lean / AlgoSeek exchange codes -> Nautilus venue names (no '-': Nautilus account ids split on it).
VENUE_NAMES: dict[str, str] = {
    "N": "NYSE",
    "Q": "NASDAQ",
    "P": "ARCA",
    "K": "EDGX",
    "J": "EDGA",
    "Z": "BATS",
    "Y": "BYX",
    "B": "BX",
    "X": "PSX",
    "C": "NSX",
    "W": "CBOE",
    "M": "CHX",
    "V": "IEX",  # later venues, absent from the 2013 files
    "U": "MEMX",
    "L": "LTSE",
    "H": "MIAX",
    "D": "FINRA",
}
OFF_EXCHANGE = frozenset({"D"})  # FINRA TRF: off-exchange prints, not a venue an order can be sent to

# A stylised access-fee schedule in USD per share (maker, taker); a negative maker fee is a rebate. Maker-taker
# venues pay makers a typical rebate and charge takers the Reg NMS access-fee cap (0.30 USD per 100 shares);
# the inverted venues (BX, BYX) charge makers and take no taker fee (their small taker rebate is left out:
# the router's cost model takes no negative taker fee). Not the venues' exact 2013 tiers: override with `fees=`.
MAKER_TAKER_FEES = (-0.0020, 0.0030)
INVERTED_FEES = (0.0010, 0.0)
DEFAULT_FEES_USD_PER_SHARE: dict[str, tuple[float, float]] = {
    name: (INVERTED_FEES if name in ("BX", "BYX") else MAKER_TAKER_FEES) for name in VENUE_NAMES.values()
}
DEFAULT_LATENCY_MS = 1.0  # the same for every venue unless configured: no venue is favoured by assumption

_QUOTE_COLUMNS = ("ms", "bid", "bid_size", "ask", "ask_size", "exchange", "condition", "suspicious")
_QUOTE_TYPES = {"ms": np.int64, "bid": np.int64, "bid_size": np.int64, "ask": np.int64, "ask_size": np.int64,
                "exchange": str, "condition": np.int64, "suspicious": np.int64}
# 0 is an absent quote side in Lean's files; a trade has a price and a size.
_QUOTE_VALUES = {"bid": "non_negative", "bid_size": "non_negative", "ask": "non_negative", "ask_size": "non_negative"}
_TRADE_VALUES = {"price": "positive", "size": "positive"}
_TRADE_COLUMNS = ("ms", "price", "size", "exchange", "condition", "suspicious")
_TRADE_TYPES = {"ms": np.int64, "price": np.int64, "size": np.int64, "exchange": str, "condition": np.int64,
                "suspicious": np.int64}


def load_lean_ibm(data_dir: str | Path, date: object = None, **options: Any) -> RecordedMarket:
    """IBM ticks of one day as a multi-venue market: `load_lean_equity_ticks` for symbol IBM, whose
    `options` it takes. `data_dir`: the folder of `<YYYYMMDD>_quote.zip`/`_trade.zip`, or a data root
    holding `lean_equity_ticks/ibm`."""
    return load_lean_equity_ticks(_tick_dir(Path(data_dir), "ibm"), date, symbol="IBM", **options)


def load_lean_equity(data_dir: str | Path, date: object = None, *, symbol: str, **options: Any) -> RecordedMarket:
    """`symbol`'s ticks of one day: `load_lean_equity_ticks`, whose `options` it takes. `data_dir`: the
    folder of `<YYYYMMDD>_quote.zip`/`_trade.zip`, or a data root holding `lean_equity_ticks/<symbol>`."""
    if not isinstance(symbol, str) or not symbol.strip() or not symbol.replace(".", "").isalnum():
        raise ValidationError(f"invalid symbol: {symbol!r} (a ticker such as 'IBM')", field="symbol", value=repr(symbol))
    root = Path(data_dir)
    directory = root / "lean_equity_ticks" / symbol.lower()
    if not directory.is_dir():
        # A tick folder given directly: Lean names it after the ticker (the files do not carry the symbol).
        if root.name.lower() != symbol.lower():
            raise ValidationError(f"invalid symbol: {symbol!r} has no tick folder {directory} (nor is {root} {symbol.lower()}'s folder)",
                                  field="symbol", value=repr(symbol))
        directory = root
    return load_lean_equity_ticks(directory, date, symbol=symbol.upper(), **options)


def load_lean_equity_ticks(
    data_dir: str | Path,
    date: object = None,
    *,
    symbol: str,
    venues: Sequence[str] | None = None,
    levels: int = 1,
    latency_ms: float | Mapping[str, float] | None = None,
    fees: Mapping[str, tuple[float, float]] | None = None,
    hours: tuple[str, str] | None = ("09:30", "16:00"),
    start: object = None,
    end: object = None,
    min_volume_share: float = 0.01,
    min_quote_rows: int = 100,
    bars_dir: str | Path | None = "auto",
) -> RecordedMarket:
    """The `symbol` ticks of one day in a Lean equity tick folder as a multi-venue market (see the module doc).

    `data_dir`: the folder of `<YYYYMMDD>_quote.zip`/`_trade.zip`. `date`: the day (default: the New York
    day of `start`, else the first day with both files). `venues`: exchange codes or venue names to keep
    (default: lit venues with `min_volume_share` of the window's volume and at least `min_quote_rows` NBBO
    rows). `levels`: the book depth of the arrays (the data has the top only; deeper levels are empty).
    `latency_ms`: one value or per venue name (default 1 ms everywhere). `fees`: USD per share (maker,
    taker) per venue name, converted to fractions of the opening mid. `hours`: local (New York) session,
    None for the whole file; `start`/`end` (ISO time, naive = UTC, or ns) narrow it further. `bars_dir`:
    minute trade bars for `volume_profile` ("auto": the `lean_equity_bars/minute/<symbol>` folder beside
    the ticks, if there; None: none)."""
    directory = Path(data_dir)
    date, start_at, end_at = requested_window(date, start, end, NEW_YORK)
    day = _pick_day(directory, date)
    if not isinstance(levels, int) or isinstance(levels, bool) or levels < 1:
        raise ValidationError(f"invalid levels: {levels!r} (must be an integer >= 1)", field="levels", value=repr(levels))
    if not 0.0 <= float(min_volume_share) < 1.0:
        raise ValidationError(f"invalid min_volume_share: {min_volume_share!r} (must be in [0, 1))", field="min_volume_share", value=repr(min_volume_share))
    session = local_ms_to_utc_ns(day, np.array(_window(hours)))
    start_ns = max(int(session[0]), start_at if start_at is not None else 0)
    end_ns = min(int(session[1]), end_at if end_at is not None else int(session[1]))
    if end_ns <= start_ns:
        raise ValidationError(f"invalid end: the window [{start!r}, {end!r}) misses the session {hours} of {day}", field="end", value=repr(end))
    notes: list[str] = []

    # Each quote row carries one side (checked in `_quote_rows`): a venue crossing itself across rows is
    # handled when the NBBO is built (see the notes).
    quotes = read_lean_csv(directory / f"{day_tag(day)}_quote.zip", _QUOTE_COLUMNS, _QUOTE_TYPES, values=_QUOTE_VALUES)
    trades = read_lean_csv(directory / f"{day_tag(day)}_trade.zip", _TRADE_COLUMNS, _TRADE_TYPES, values=_TRADE_VALUES)
    dropped_quotes, dropped_trades = int((quotes["suspicious"] != 0).sum()), int((trades["suspicious"] != 0).sum())
    quotes = quotes[quotes["suspicious"] == 0]
    trades = trades[trades["suspicious"] == 0]
    notes.append(f"suspicious rows dropped: {dropped_quotes} quote, {dropped_trades} trade rows")
    rows = _quote_rows(quotes, directory)
    nbbo = consolidated_nbbo(rows)
    q_ns = local_ms_to_utc_ns(day, rows.ms)

    t_ns = local_ms_to_utc_ns(day, trades["ms"].to_numpy())
    t_price = trades["price"].to_numpy()
    t_size = trades["size"].to_numpy()
    t_venue = trades["exchange"].to_numpy(dtype=object)
    # Aggressors use the whole day's tape and quotes (the tick rule needs the prints before the window).
    t_side = trade_aggressors(trades["ms"].to_numpy(), t_price, rows.ms, nbbo)
    q_first, q_last = np.searchsorted(q_ns, [start_ns, end_ns], side="left")
    t_first, t_last = np.searchsorted(t_ns, [start_ns, end_ns], side="left")
    if t_last <= t_first or q_last <= q_first:
        raise ValidationError(f"no quotes or trades in the window on {day} ({hours}, start {start!r}, end {end!r})", field="hours", value=repr(hours))
    in_window = slice(t_first, t_last)
    codes = _choose_venues(venues, rows, q_first, q_last, t_venue[in_window], t_size[in_window], min_volume_share, min_quote_rows)
    notes.append(_selection_note(codes, t_venue[in_window], t_size[in_window]))

    ref_price = _opening_mid(nbbo, q_first)
    fee_table = _fee_table(fees)
    latencies = _latencies(latency_ms, [VENUE_NAMES[c] for c in codes])

    recorded: list[RecordedVenue] = []
    data: list[Any] = []
    data_ts: list[npt.NDArray[np.int64]] = []
    data_kind: list[npt.NDArray[np.int8]] = []
    for code in codes:
        name = VENUE_NAMES[code]
        maker_usd, taker_usd = fee_table[name]
        maker, taker = maker_usd / ref_price, taker_usd / ref_price
        instrument = _equity(symbol, name, maker, taker)
        top = venue_top(rows, code, nbbo)
        # The state in force when the window opens is the first row, stamped at the window start.
        seed = max(q_first - 1, 0)
        picked = change_rows(top, seed, q_last)
        book_ts = q_ns[picked]
        book_ts[picked < q_first] = start_ns
        book = _book_series(top, picked, book_ts, levels)
        mask = t_venue[in_window] == code
        tape = TradeTape(
            ts=t_ns[in_window][mask],
            price=t_price[in_window][mask] / EQUITY_PRICE_SCALE,
            size=t_size[in_window][mask].astype(np.float64),
            aggressor=t_side[in_window][mask],
        )
        deltas = _book_deltas(instrument.id, top, picked, book_ts)
        quote_ticks, quote_ts = _quote_ticks(instrument.id, book)
        trade_ticks = _trade_ticks(instrument.id, tape, f"{code}{day_tag(day)}")
        data += deltas + quote_ticks + trade_ticks
        data_ts += [np.array([d.ts_init for d in deltas], dtype=np.int64), quote_ts, tape.ts]
        data_kind += [np.full(len(deltas), 1, dtype=np.int8), np.full(len(quote_ticks), 2, dtype=np.int8),
                      np.zeros(len(trade_ticks), dtype=np.int8)]
        recorded.append(
            RecordedVenue(
                name=name, instrument=instrument, maker_fee=maker, taker_fee=taker, latency_ms=latencies[name],
                book=book, trades=tape, lot_size=1.0,
            )
        )
    # Sorted by time; at equal times trade, book, quote (the print caused the book change, not the reverse).
    order = np.lexsort((np.concatenate(data_kind), np.concatenate(data_ts)))
    market_trades = TradeTape(
        ts=t_ns[in_window],
        price=t_price[in_window] / EQUITY_PRICE_SCALE,
        size=t_size[in_window].astype(np.float64),
        aggressor=t_side[in_window],
    )
    notes += _rule_notes(ref_price, fee_table, codes, levels, hours, start_ns, end_ns)
    profile = _volume_profile(directory, bars_dir, symbol, day, hours, notes)
    return RecordedMarket(
        name=f"lean_{symbol.lower()}_{day_tag(day)}",
        asset=symbol,
        venues=tuple(recorded),
        data=[data[i] for i in order],
        start_ns=start_ns,
        end_ns=end_ns,
        notes=notes,
        volume_profile=profile,
        market_trades=market_trades,
    )


def _tick_dir(path: Path, symbol: str) -> Path:
    nested = path / "lean_equity_ticks" / symbol
    return nested if nested.is_dir() else path


def _pick_day(directory: Path, date: object) -> dt.date:
    days = sorted(set(days_in_dir(directory, "_quote.zip")) & set(days_in_dir(directory, "_trade.zip")))
    return pick_day(days, date, directory, "quote and trade files")


def _window(hours: tuple[str, str] | None) -> tuple[int, int]:
    if hours is None:
        return 0, 24 * 3_600_000
    if not isinstance(hours, (tuple, list)) or len(hours) != 2:
        raise ValidationError(f"invalid hours: {hours!r} (expected ('HH:MM', 'HH:MM'))", field="hours", value=repr(hours))
    start, end = parse_clock(hours[0], "hours[0]"), parse_clock(hours[1], "hours[1]")
    if end <= start:
        raise ValidationError(f"invalid hours: {hours!r} (end must be after start)", field="hours", value=repr(hours))
    return start, end


def _quote_rows(quotes: Any, directory: Path) -> QuoteRows:
    bid, ask = quotes["bid"].to_numpy(), quotes["ask"].to_numpy()
    is_bid, is_ask = bid > 0, ask > 0
    if np.any(is_bid == is_ask):
        row = int(np.argmax(is_bid == is_ask))
        raise ValidationError(
            f"invalid quote row {row} in {directory}: a row must carry exactly one side (bid {bid[row]}, ask {ask[row]})",
            field="quote_row", value=str(row),
        )
    return QuoteRows(
        ms=quotes["ms"].to_numpy(),
        side=np.where(is_bid, BID, ASK).astype(np.int8),
        price=np.where(is_bid, bid, ask),
        size=np.where(is_bid, quotes["bid_size"].to_numpy(), quotes["ask_size"].to_numpy()),
        venue=quotes["exchange"].to_numpy(dtype=object),
    )


def _code_of(venue: object, field: str = "venues") -> str:
    """An exchange code from a code ('N') or a venue name ('NYSE', any case)."""
    if isinstance(venue, str):
        if venue in VENUE_NAMES:
            return venue
        by_name = {name: code for code, name in VENUE_NAMES.items()}
        if venue.upper() in by_name:
            return by_name[venue.upper()]
    known = ", ".join(f"{c}={n}" for c, n in VENUE_NAMES.items())
    raise ValidationError(f"invalid {field} entry: {venue!r} (known: {known})", field=field, value=repr(venue))


def _choose_venues(
    venues: Sequence[str] | None,
    rows: QuoteRows,
    q_first: int,
    q_last: int,
    t_venue: npt.NDArray[np.object_],
    t_size: npt.NDArray[np.int64],
    min_volume_share: float,
    min_quote_rows: int,
) -> list[str]:
    quoted, quote_counts = np.unique(rows.venue[q_first:q_last], return_counts=True)
    quote_rows = dict(zip(quoted.tolist(), quote_counts.tolist()))
    unknown = sorted(set(quote_rows) - set(VENUE_NAMES))
    if unknown:
        raise ValidationError(f"unknown exchange code(s) {unknown} in the quote file", field="exchange", value=repr(unknown))
    total = float(t_size.sum())
    volume = {code: float(t_size[t_venue == code].sum()) for code in set(t_venue.tolist())}
    if venues is not None:
        if isinstance(venues, str) or not venues:
            raise ValidationError(f"invalid venues: {venues!r} (a non-empty list of codes or names)", field="venues", value=repr(venues))
        codes = [_code_of(v) for v in venues]
        quoted_by_end = set(rows.venue[:q_last].tolist())
        for code in codes:
            if code in OFF_EXCHANGE:
                raise ValidationError(f"invalid venues entry: {code} ({VENUE_NAMES[code]}) is off-exchange, not routable", field="venues", value=code)
            if code not in quoted_by_end:
                raise ValidationError(f"invalid venues entry: {code} ({VENUE_NAMES[code]}) never set the NBBO by the window's end: no book",
                                      field="venues", value=code)
        if len(set(codes)) != len(codes):
            raise ValidationError(f"invalid venues: {venues!r} (duplicates)", field="venues", value=repr(venues))
        return codes
    codes = [
        code for code in VENUE_NAMES
        if code not in OFF_EXCHANGE
        and quote_rows.get(code, 0) >= min_quote_rows
        and volume.get(code, 0.0) >= min_volume_share * total
    ]
    if not codes:
        raise ValidationError(
            f"no venue has {min_volume_share:.1%} of the volume and {min_quote_rows} NBBO rows", field="min_volume_share", value=repr(min_volume_share)
        )
    return codes


def _selection_note(codes: list[str], t_venue: npt.NDArray[np.object_], t_size: npt.NDArray[np.int64]) -> str:
    total = float(t_size.sum())
    share = {code: float(t_size[t_venue == code].sum()) / total for code in set(t_venue.tolist())}
    kept = ", ".join(f"{VENUE_NAMES[c]} ({c}) {share.get(c, 0.0):.1%}" for c in codes)
    left = ", ".join(
        f"{VENUE_NAMES.get(c, c)} ({c}) {s:.1%}" for c, s in sorted(share.items(), key=lambda kv: -kv[1]) if c not in codes
    )
    return f"venues kept (share of the window's volume): {kept}; not routed: {left or 'none'}"


def _opening_mid(nbbo: Any, q_first: int) -> float:
    """The NBBO mid in force when the window opens (else the first two-sided one after)."""
    at = max(q_first - 1, 0)
    bid, ask = nbbo.bid_px[at], nbbo.ask_px[at]
    if bid <= 0 or ask <= 0:
        later = np.flatnonzero((nbbo.bid_px[at:] > 0) & (nbbo.ask_px[at:] > 0))
        if later.size == 0:
            raise ValidationError("no two-sided NBBO in the window", field="quotes", value="one-sided")
        bid, ask = nbbo.bid_px[at + later[0]], nbbo.ask_px[at + later[0]]
    return float(bid + ask) / 2.0 / EQUITY_PRICE_SCALE


def _fee_table(fees: Mapping[str, tuple[float, float]] | None) -> dict[str, tuple[float, float]]:
    table = dict(DEFAULT_FEES_USD_PER_SHARE)
    for name, pair in (fees or {}).items():
        venue = VENUE_NAMES[_code_of(name, "fees")]
        maker, taker = fee_pair(name, pair, "USD per share")
        if not (abs(maker) < 1.0 and 0.0 <= taker < 1.0):
            raise ValidationError(f"invalid fees[{name}]: {pair!r} (USD per share: |maker| < 1, 0 <= taker < 1; no taker rebate)",
                                  field=f"fees[{name}]", value=repr(pair))
        table[venue] = (maker, taker)
    return table


def _latencies(latency_ms: float | Mapping[str, float] | None, names: list[str]) -> dict[str, float]:
    return latency_table(latency_ms, names, DEFAULT_LATENCY_MS, lambda key: VENUE_NAMES[_code_of(key, "latency_ms")])


def _equity(symbol: str, venue: str, maker_fee: float, taker_fee: float) -> Equity:
    return Equity(
        instrument_id=InstrumentId(Symbol(symbol), Venue(venue)),
        raw_symbol=Symbol(symbol),
        currency=USD,
        price_precision=2,
        price_increment=Price(0.01, 2),
        lot_size=Quantity(1, 0),
        ts_event=0,
        ts_init=0,
        maker_fee=Decimal(f"{maker_fee:.12f}"),
        taker_fee=Decimal(f"{taker_fee:.12f}"),
    )


def _book_series(top: Any, picked: npt.NDArray[np.intp], ts: npt.NDArray[np.int64], levels: int) -> BookSeries:
    n = picked.size
    bid_px = np.full((n, levels), np.nan)
    ask_px = np.full((n, levels), np.nan)
    bid_sz = np.zeros((n, levels))
    ask_sz = np.zeros((n, levels))
    bid, ask = top.bid_px[picked], top.ask_px[picked]
    bid_px[:, 0] = np.where(bid > 0, bid / EQUITY_PRICE_SCALE, np.nan)
    ask_px[:, 0] = np.where(ask > 0, ask / EQUITY_PRICE_SCALE, np.nan)
    bid_sz[:, 0] = top.bid_sz[picked]
    ask_sz[:, 0] = top.ask_sz[picked]
    return BookSeries(ts=ts.astype(np.int64), bid_px=bid_px, bid_sz=bid_sz, ask_px=ask_px, ask_sz=ask_sz)


def _book_deltas(instrument_id: InstrumentId, top: Any, picked: npt.NDArray[np.intp], ts: npt.NDArray[np.int64]) -> list[OrderBookDeltas]:
    """The venue's one-level book as L2 deltas: a snapshot (CLEAR + ADDs, F_SNAPSHOT) at its first row, then
    per row the changed side(s), DELETEs first, the last delta F_LAST. An unknown side is an empty side."""
    from_raw = OrderBookDelta.from_raw
    price_scale, size_scale = 10 ** (FIXED_PRECISION - 2), 10**FIXED_PRECISION
    f_last, f_snap = int(RecordFlag.F_LAST), int(RecordFlag.F_SNAPSHOT)
    cents: Callable[[npt.NDArray[np.int64]], list[int]] = lambda a: ((a[picked] + 50) // 100).tolist()  # noqa: E731 - x10,000 -> cents (quotes are whole cents)
    bid_px, ask_px = cents(top.bid_px), cents(top.ask_px)
    bid_sz, ask_sz = top.bid_sz[picked].tolist(), top.ask_sz[picked].tolist()
    stamps = ts.tolist()
    out: list[OrderBookDeltas] = []
    for j in range(len(stamps)):
        changes: list[tuple[BookAction, OrderSide, int, int]] = []
        if j == 0:
            changes.append((BookAction.CLEAR, OrderSide.NO_ORDER_SIDE, 0, 0))
            changes += [(BookAction.ADD, side, p, z) for side, p, z in
                        ((OrderSide.BUY, bid_px[0], bid_sz[0]), (OrderSide.SELL, ask_px[0], ask_sz[0])) if p > 0]
        else:
            deletes, adds = [], []
            for side, old_p, old_z, new_p, new_z in ((OrderSide.BUY, bid_px[j - 1], bid_sz[j - 1], bid_px[j], bid_sz[j]),
                                                     (OrderSide.SELL, ask_px[j - 1], ask_sz[j - 1], ask_px[j], ask_sz[j])):
                if old_p > 0 and old_p != new_p:
                    deletes.append((BookAction.DELETE, side, old_p, 0))
                if new_p > 0 and new_p != old_p:
                    adds.append((BookAction.ADD, side, new_p, new_z))
                elif new_p > 0 and new_z != old_z:
                    adds.append((BookAction.UPDATE, side, new_p, new_z))
            changes = deletes + adds
        if not changes:
            continue
        flags = f_snap if j == 0 else 0
        last = len(changes) - 1
        # L2 books key a level by its price: the price in cents doubles as the order id.
        out.append(OrderBookDeltas(instrument_id, [
            from_raw(instrument_id, action, side, p * price_scale, 2, z * size_scale, 0, p, flags | (f_last if k == last else 0), j + 1,
                     stamps[j], stamps[j])
            for k, (action, side, p, z) in enumerate(changes)
        ]))
    return out


def _quote_ticks(instrument_id: InstrumentId, book: BookSeries) -> tuple[list[QuoteTick], npt.NDArray[np.int64]]:
    """A QuoteTick per book row with both sides known (a quote cannot say 'unknown')."""
    both = ~np.isnan(book.bid_px[:, 0]) & ~np.isnan(book.ask_px[:, 0])
    ts = book.ts[both].astype(np.uint64)
    ticks = QuoteTick.from_raw_arrays_to_list(
        instrument_id, 2, 0,
        book.bid_px[both, 0].copy(), book.ask_px[both, 0].copy(), book.bid_sz[both, 0].copy(), book.ask_sz[both, 0].copy(),
        ts, ts,
    )
    return ticks, book.ts[both]


def _trade_ticks(instrument_id: InstrumentId, tape: TradeTape, id_prefix: str) -> list[TradeTick]:
    # Nautilus AggressorSide: 1 BUYER, 2 SELLER, 0 NO_AGGRESSOR.
    sides = np.where(tape.aggressor > 0, 1, np.where(tape.aggressor < 0, 2, 0)).astype(np.uint8)
    ts = tape.ts.astype(np.uint64)
    ids = [f"{id_prefix}-{i}" for i in range(tape.ts.size)]
    return cast("list[TradeTick]", TradeTick.from_raw_arrays_to_list(instrument_id, 2, 0, tape.price.copy(), tape.size.copy(), sides, ids, ts, ts))


def _rule_notes(ref_price: float, fee_table: dict[str, tuple[float, float]], codes: list[str], levels: int, hours: Any,
                start_ns: int, end_ns: int) -> list[str]:
    fees = ", ".join(f"{VENUE_NAMES[c]} {fee_table[VENUE_NAMES[c]][0]:+.4f}/{fee_table[VENUE_NAMES[c]][1]:+.4f}" for c in codes)
    notes = [
        (f"session {hours[0]}-{hours[1]} America/New_York (zoneinfo, DST-aware)" if hours else "whole file")
        + f"; window {_iso(start_ns)} - {_iso(end_ns)} UTC; all times in UTC ns",
        "per-venue top: the last bid/ask the venue set at the NBBO, with its size; dropped (unknown) once the NBBO moved "
        "through it or the venue's own bid and ask crossed, until the venue sets that side again; never capped",
        "QuoteTicks only while both sides of a venue are known; the state in force at the window start is stamped at the start",
        "aggressor: quote rule vs the NBBO in force before the trade (at/above ask buyer, at/below bid seller), "
        "else the tick rule on the consolidated tape (0 before any price change); trade condition codes not filtered",
        "off-exchange prints (FINRA TRF) and unrouted venues are in market_trades only (participation), not in any venue",
        f"fees: USD per share maker/taker {fees}, as fractions of the opening mid {ref_price:.4f}",
    ]
    if levels > 1:
        notes.append(f"levels={levels}: the data has the top of book only; levels 2..{levels} are empty (NaN, 0)")
    return notes


def _iso(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _volume_profile(directory: Path, bars_dir: str | Path | None, symbol: str, day: dt.date, hours: Any, notes: list[str]) -> VolumeCurve | None:
    if bars_dir is None:
        notes.append("volume_profile: none (bars_dir=None)")
        return None
    if bars_dir == "auto":
        path = directory.parent.parent / "lean_equity_bars" / "minute" / symbol.lower()
        if not path.is_dir():
            notes.append(f"volume_profile: none (no minute bars at {path})")
            return None
    else:
        path = Path(bars_dir)
    # History strictly before the traded day: a curve built from later days would be look-ahead.
    if not any(d < day for d in days_in_dir(path, "_trade.zip")):
        notes.append(f"volume_profile: none (no minute trade bars before {day_tag(day)} in {path})")
        return None
    profile = volume_profile_from_minute_bars(path, for_date=day, before_only=True, hours=hours if hours else None, tz=NEW_YORK)
    notes.append(f"volume_profile: {symbol} minute trade bars of {', '.join(profile.days)} (the days before {day_tag(day)}), "
                 f"{profile.bucket_seconds:.0f} s buckets")
    return profile



__all__ = [
    "DEFAULT_FEES_USD_PER_SHARE",
    "VENUE_NAMES",
    "VolumeCurve",
    "load_lean_crypto_bars",
    "load_lean_equity",
    "load_lean_equity_ticks",
    "load_lean_ibm",
    "volume_profile_from_minute_bars",
]
