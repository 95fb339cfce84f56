"""A Nautilus BacktestEngine over any market of `nautilus_sor` (the synthetic one or a `RecordedMarket`):
its venues as MARGIN venues with their order latency, its instruments and data.

Each venue's `book_type` follows the data the market has for it (`market_feeds`), as Nautilus requires:
L2_MBP where it has order book data (deltas), else L1_MBP, where the matching engine keeps a top of book
from quotes, trades or bars. On bars (`bar_execution`), each bar moves that book through its open, high,
low and close (high or low first, whichever is nearer the open: `bar_adaptive_high_low_ordering`), with
a quarter of the bar's volume as the size: a LAST bar sets both sides to its prices, a BID and ASK bar
pair of one time sets the quote. An order reaches its matching engine at the first data point (of any
venue) at or after its latency, and a market order fills there against the venue's top of book: the
close of the venue's latest bar processed by then, never a price from after the fill's time. With every
venue's minute bars on the same clock, that is the next bar's close on the venue whose bars come first
at that minute and the previous close on the others; the ack latency is the wait for that data point
(up to a bar interval)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nautilus_sor.exceptions import ConfigError
from nautilus_sor.queue_model import DEFAULT_QUEUE_POWER, QUEUE_OFF

# Starting balance per currency kind; Nautilus's margin accounting breaks above 1e7.
QUOTE_BALANCE = 1_000_000.0
BASE_BALANCE = 100.0
_MS = 1_000_000


def starting_balances(instruments: list[Any], *, quote_balance: float = QUOTE_BALANCE, base_balance: float = BASE_BALANCE) -> list[Any]:
    """A balance in every currency the venue's instruments trade or settle in: `quote_balance` of each
    quote currency (USDT, USD), `base_balance` of each base or settlement currency that is not a quote
    (BTC: spot base, COIN-M margin)."""
    from nautilus_trader.model.objects import Money

    quotes, others = {}, {}
    for i in instruments:
        quotes[i.quote_currency.code] = i.quote_currency
        for name in ("base_currency", "settlement_currency"):
            currency = getattr(i, name, None)
            if currency is not None:
                others[currency.code] = currency
    balances = [Money(quote_balance, c) for c in quotes.values()]
    balances += [Money(base_balance, c) for code, c in others.items() if code not in quotes]
    return balances


@dataclass(frozen=True, slots=True)
class MarketFeeds:
    """What Nautilus data a market holds, by stream: `streams` maps (instrument id or bar type, data type)
    to the time-sorted objects of that stream, in the order of their first appearance."""

    streams: dict[tuple[str, type], list[Any]]
    book_instruments: frozenset[str]  # instrument ids with order book data (deltas, depth)
    bar_types: tuple[Any, ...]  # every Bar type, in data order
    _ticks: dict[float, list[Any]] = field(default_factory=dict, compare=False, repr=False)

    def clock_ticks(self, step_ms: float) -> list[Any]:
        """The market's clock ticks at `step_ms` (`backtest.clock`), made once per step: none on a market
        without order-book data (bar markets keep the bar rule: module doc)."""
        if step_ms not in self._ticks:
            ticks: list[Any] = []
            if self.book_instruments:  # (then there is data to stamp)
                from nautilus_sor.backtest.clock import clock_ticks

                ts = np.concatenate([np.fromiter((d.ts_init for d in objs), dtype=np.int64, count=len(objs)) for objs in self.streams.values()])
                ticks = clock_ticks(ts, step_ms)
            self._ticks[step_ms] = ticks
        return self._ticks[step_ms]

    def has_book(self, instrument_id: Any) -> bool:
        return str(instrument_id) in self.book_instruments

    def book_type(self, instruments: list[Any]) -> Any:
        """L2_MBP when any of the venue's instruments has order book data, else L1_MBP (quotes, trades, bars)."""
        from nautilus_trader.model.enums import BookType

        return BookType.L2_MBP if any(self.has_book(i.id) for i in instruments) else BookType.L1_MBP

    def bar_types_of(self, instrument_id: Any) -> list[Any]:
        return [b for b in self.bar_types if b.instrument_id == instrument_id]


def market_feeds(data: list[Any]) -> MarketFeeds:
    """A market's time-sorted `data` grouped into streams (one pass), in the order the engine must take them:
    its sort is stable, so at equal times it keeps the streams' order (`add_streams`). Trades come first,
    then book updates, then quotes, then the rest (bars) in order of first appearance: the print caused the
    book change, not the reverse - the loaders' order (`data/lean.py`) and `evaluate`'s simulator's tie rule
    (`sim/exchange.py`). In first-appearance order a venue's book stream came before its trades, so a
    queue-position model saw a level shrink and then the trade that shrank it, and counted the trade twice."""
    from nautilus_trader.model import BOOK_DATA_TYPES
    from nautilus_trader.model.data import Bar, QuoteTick, TradeTick

    streams: dict[tuple[str, type], list[Any]] = {}
    for obj in data:
        key = getattr(obj, "instrument_id", None) or getattr(obj, "bar_type", None)
        stream = streams.get((str(key), type(obj)))
        if stream is None:
            stream = streams[(str(key), type(obj))] = []
        stream.append(obj)

    def tie_rank(kind: type) -> int:
        return 0 if kind is TradeTick else 1 if kind in BOOK_DATA_TYPES else 2 if kind is QuoteTick else 3

    streams = dict(sorted(streams.items(), key=lambda item: tie_rank(item[0][1])))  # stable: first appearance within a rank
    books = frozenset(k for k, t in streams if t in BOOK_DATA_TYPES)
    bars = tuple(objs[0].bar_type for (_, t), objs in streams.items() if t is Bar)
    return MarketFeeds(streams=streams, book_instruments=books, bar_types=bars)


def engine_for_market(market: Any, oms_type: Any = "NETTING", *, latency: bool = True, log_level: str = "ERROR",
                      trader_id: str = "BACKTESTER-001", run_analysis: bool = False, feeds: MarketFeeds | None = None,
                      quote_balance: float = QUOTE_BALANCE, base_balance: float = BASE_BALANCE, contingent_orders: bool = True,
                      queue_model: str = QUEUE_OFF, queue_power: float = DEFAULT_QUEUE_POWER, consume_liquidity: bool = False,
                      clock_step_ms: float | None = None) -> Any:
    """A BacktestEngine with the market's venues (MARGIN accounts with `starting_balances` of
    `quote_balance`/`base_balance`, each venue's `book_type` from its data: see the module docstring; the
    venue's `latency_ms` as order latency when `latency`), instruments and data. `oms_type`: one for all
    venues or a {venue: type} mapping, each an `OmsType` or its name. `feeds`: the market's `market_feeds`
    when the caller has them already (they also decide each venue's book type and the data's order).
    `contingent_orders=False` when no strategy in the run submits contingent (OTO/OCO/OUO) or reduce-only
    orders: each fill then skips the matching engine's scan of every order of the position, which makes a
    long schedule's total time quadratic in its fills. `queue_model` (one of `queue_model.QUEUE_MODELS`, or
    "off"): the queue-position fill model (`nautilus_sor.fill_model`) on every venue with order-book data.
    `clock_step_ms`: on a market with order-book data, clock ticks that many ms apart in every longer gap
    between its data points (`backtest.clock`: alerts fire and arrived orders are processed on time
    between sparse updates); None: Nautilus's own clock, which moves only at data points."""
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.backtest.models import LatencyModel
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.enums import AccountType, OmsType
    from nautilus_trader.model.identifiers import Venue

    def oms_of(name: str) -> OmsType:
        raw = oms_type.get(name, "NETTING") if isinstance(oms_type, Mapping) else oms_type
        if isinstance(raw, OmsType):
            return raw
        if isinstance(raw, str) and raw.upper() in ("NETTING", "HEDGING"):
            return OmsType[raw.upper()]
        path = f"oms_type.{name}" if isinstance(oms_type, Mapping) else "oms_type"
        raise ConfigError(f"invalid {path}: {raw!r} (must be NETTING or HEDGING)", field=path, value=repr(raw))

    feeds = feeds if feeds is not None else market_feeds(market.data)
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level=log_level), trader_id=trader_id, run_analysis=run_analysis))
    by_venue: dict[str, list[Any]] = {}
    for instrument in market.instruments:
        by_venue.setdefault(instrument.id.venue.value, []).append(instrument)
    for v in market.venues:
        latency_model = LatencyModel(base_latency_nanos=int(round(v.latency_ms * _MS))) if latency and v.latency_ms > 0 else None
        instruments = by_venue.get(v.name, [])
        book_type = feeds.book_type(instruments)
        modules = fill_modules(book_type, queue_model, queue_power, consume_liquidity)
        engine.add_venue(venue=Venue(v.name), oms_type=oms_of(v.name), account_type=AccountType.MARGIN, base_currency=None,
                         starting_balances=starting_balances(instruments, quote_balance=quote_balance, base_balance=base_balance),
                         book_type=book_type, modules=modules, fill_model=venue_fill_model(modules),
                         latency_model=latency_model, bar_execution=True, bar_adaptive_high_low_ordering=True,
                         support_contingent_orders=contingent_orders)
    for instrument in market.instruments:
        engine.add_instrument(instrument)
    ticks = feeds.clock_ticks(clock_step_ms) if clock_step_ms is not None else []
    if ticks:  # sorted in with the streams below (never at a data point's time)
        from nautilus_trader.model.identifiers import ClientId

        from nautilus_sor.backtest.clock import CLOCK_CLIENT_ID

        engine.add_data(ticks, client_id=ClientId(CLOCK_CLIENT_ID), sort=False)
    add_streams(engine, feeds.streams)
    return engine


def fill_modules(book_type: Any, queue_model: str, queue_power: float, consume_liquidity: bool) -> list[Any]:
    """The venue's simulation modules where the venue has order-book data (an L1 venue fills from quotes or
    bars: no queue to stand in, no depth to consume): the queue-position fill model unless `queue_model` is
    "off", and the consumed-liquidity module (with `venue_fill_model`) if `consume_liquidity`; each off is
    Nautilus's own L2 matching for that side of the fills."""
    from nautilus_trader.model.enums import BookType

    if book_type == BookType.L1_MBP:
        return []
    from nautilus_sor.fill_model import QueuePositionModule, QueuePositionModuleConfig
    from nautilus_sor.fill_model_consumed import ConsumedLiquidityModule

    modules: list[Any] = []
    if queue_model != QUEUE_OFF:
        modules.append(QueuePositionModule(QueuePositionModuleConfig(queue_model=queue_model, queue_power=queue_power)))
    if consume_liquidity:
        modules.append(ConsumedLiquidityModule())
    return modules


def venue_fill_model(modules: list[Any]) -> Any:
    """The venue's `FillModel`: the consumed-liquidity one beside its module (aggressive fills consume the
    levels they take, `nautilus_sor.fill_model_consumed`), else None (Nautilus's default)."""
    from nautilus_sor.fill_model_consumed import ConsumedLiquidityFillModel, ConsumedLiquidityModule

    return ConsumedLiquidityFillModel() if any(isinstance(m, ConsumedLiquidityModule) for m in modules) else None


def add_data(engine: Any, data: list[Any]) -> None:
    """Adds time-sorted `data` one (instrument or bar type, data type) stream at a time (see `add_streams`)."""
    add_streams(engine, market_feeds(data).streams)


def add_streams(engine: Any, streams: dict[tuple[str, type], list[Any]]) -> None:
    """Adds each stream in its own `add_data` call (Nautilus registers book and market data clients from
    the first object of each call); sorted once, at the end (the engine's sort is stable, so equal times
    keep the streams' order)."""
    keys = list(streams)
    for n, key in enumerate(keys):
        engine.add_data(streams[key], sort=n == len(keys) - 1)


__all__ = ["MarketFeeds", "add_data", "add_streams", "engine_for_market", "market_feeds", "starting_balances"]
