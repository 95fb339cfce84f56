"""Small real Nautilus BacktestEngines with several venues for one asset (synthetic quotes)."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import BTC, USDT
from nautilus_trader.model.data import BookOrder, OrderBookDelta, OrderBookDeltas, QuoteTick, TradeTick
from nautilus_trader.model.enums import AccountType, AggressorSide, BookAction, BookType, OmsType, OrderSide, RecordFlag
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TradeId, Venue
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import Money, Price, Quantity

NS = 1_000_000_000
# 2024-08-08 00:00:00 UTC: a realistic clock (Nautilus misbehaves on data stamped at epoch 0).
START = 1_723_075_200 * NS


def btcusdt(venue: str, taker_fee: str = "0.0004", size_precision: int = 3) -> CurrencyPair:
    increment = Quantity(10**-size_precision, precision=size_precision)
    return CurrencyPair(
        instrument_id=InstrumentId(Symbol("BTCUSDT"), Venue(venue)),
        raw_symbol=Symbol("BTCUSDT"),
        base_currency=BTC,
        quote_currency=USDT,
        price_precision=2,
        size_precision=size_precision,
        price_increment=Price(0.01, precision=2),
        size_increment=increment,
        lot_size=None,
        max_quantity=Quantity(9000, precision=size_precision),
        min_quantity=increment,
        max_notional=None,
        min_notional=None,
        max_price=Price(1_000_000, precision=2),
        min_price=Price(0.01, precision=2),
        margin_init=Decimal(0),
        margin_maint=Decimal(0),
        maker_fee=Decimal("0.0002"),
        taker_fee=Decimal(taker_fee),
        ts_event=0,
        ts_init=0,
    )


def quotes(instrument: CurrencyPair, mids: list[float], half_spread: float, size: str, start_ns: int = 0, step_ns: int = NS) -> list[QuoteTick]:
    out = []
    for i, mid in enumerate(mids):
        ts = start_ns + i * step_ns
        out.append(
            QuoteTick(
                instrument_id=instrument.id,
                bid_price=instrument.make_price(mid - half_spread),
                ask_price=instrument.make_price(mid + half_spread),
                bid_size=Quantity.from_str(size),
                ask_size=Quantity.from_str(size),
                ts_event=ts,
                ts_init=ts,
            )
        )
    return out


def trades(instrument: CurrencyPair, prices: list[float], size: str, start_ns: int = 0, step_ns: int = NS) -> list[TradeTick]:
    return [
        TradeTick(
            instrument_id=instrument.id,
            price=instrument.make_price(p),
            size=Quantity.from_str(size),
            aggressor_side=AggressorSide.BUYER,
            trade_id=TradeId(f"T{i}"),
            ts_event=start_ns + i * step_ns,
            ts_init=start_ns + i * step_ns,
        )
        for i, p in enumerate(prices)
    ]


def snapshot(instrument: CurrencyPair, ts: int, asks: list[tuple[float, float]], bids: list[tuple[float, float]]) -> OrderBookDeltas:
    """The whole book at `ts` as one batch of deltas (a CLEAR, then each level; F_LAST on the last)."""
    deltas = [OrderBookDelta.clear(instrument.id, 0, ts, ts)]
    for side, levels in ((OrderSide.BUY, bids), (OrderSide.SELL, asks)):
        for px, size in levels:
            order = BookOrder(side, Price(px, 2), Quantity(size, 3), 0)
            deltas.append(OrderBookDelta(instrument.id, BookAction.ADD, order, 0, 0, ts, ts))
    last = deltas[-1]
    deltas[-1] = OrderBookDelta(instrument.id, last.action, last.order, RecordFlag.F_LAST, 0, ts, ts)
    return OrderBookDeltas(instrument.id, deltas)


def engine(venues: dict[str, OmsType], instruments: list[CurrencyPair], data: list, balance: int = 1_000_000,
           support_contingent_orders: bool = True, book_type: BookType = BookType.L1_MBP, latency_ns: int | None = None) -> BacktestEngine:
    """`latency_ns`: each venue's order latency (Nautilus's `LatencyModel`); None: orders reach the venue at once."""
    from nautilus_trader.backtest.models import LatencyModel

    eng = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR"), trader_id="TESTER-001"))
    for name, oms in venues.items():
        eng.add_venue(
            venue=Venue(name),
            oms_type=oms,
            account_type=AccountType.MARGIN,
            base_currency=None,
            starting_balances=[Money(balance, USDT), Money(10, BTC)],
            support_contingent_orders=support_contingent_orders,
            book_type=book_type,
            latency_model=None if latency_ns is None else LatencyModel(base_latency_nanos=latency_ns),
        )
    for instrument in instruments:
        eng.add_instrument(instrument)
    eng.add_data(data)
    return eng
