"""The embedded synthetic market: determinism, valid books, venue character, and real BacktestEngines
that fill on its books and let the router read them."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import OrderBookDeltas, QuoteTick, TradeTick
from nautilus_trader.model.enums import BookAction, BookType, OrderSide, RecordFlag, TimeInForce
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy

from nautilus_sor.analysis.results import MARKET_COLUMNS, TRADES_COLUMNS
from nautilus_sor.backtest.synthetic import (
    DEFAULT_VENUES,
    SECONDS_PER_YEAR,
    SyntheticMarket,
    SyntheticMarketConfig,
    build_market,
    engine_for,
)
from nautilus_sor.exceptions import ConfigError
from nautilus_sor.smart_router import SmartOrderRouter

NS = 1_000_000_000
ODD = 123_457  # ns past a round time: no book update is stamped there


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return build_market(SyntheticMarketConfig())  # the default: CHEAP, DEEP, SLOW for 10 minutes


@pytest.fixture(scope="module")
def short_market() -> SyntheticMarket:
    return build_market(SyntheticMarketConfig(seed=11, duration_seconds=30.0, snapshot_interval_seconds=10.0))


def tables_hash(m: SyntheticMarket) -> str:
    digest = hashlib.sha256()
    for table in (m.market_table(), m.trades_table()):
        digest.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def book_levels(book: OrderBook) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(bids, asks) as (price, size), best first, rounded to the instrument's precisions."""
    return tuple([(round(lv.price.as_double(), 2), round(lv.size(), 3)) for lv in side] for side in (book.bids(), book.asks()))


# -- shape and determinism -------------------------------------------------------------------------


def test_default_market_shape(market):
    assert [v.name for v in market.venues] == ["CHEAP", "DEEP", "SLOW"]
    assert [str(i.id) for i in market.instruments] == ["BTCUSDT.CHEAP", "BTCUSDT.DEEP", "BTCUSDT.SLOW"]
    for instrument, venue in zip(market.instruments, market.venues):
        assert (instrument.price_precision, instrument.size_precision) == (2, 3)
        assert (instrument.base_currency.code, instrument.quote_currency.code) == ("BTC", "USDT")
        assert instrument.taker_fee == Decimal(str(venue.taker_fee))
    assert market.venue_configs() == [
        {"name": "CHEAP", "maker_fee": 0.0, "taker_fee": 0.0002, "latency_ms": 20.0},
        {"name": "DEEP", "maker_fee": 0.0002, "taker_fee": 0.0006, "latency_ms": 10.0},
        {"name": "SLOW", "maker_fee": 0.0001, "taker_fee": 0.0005, "latency_ms": 250.0},
    ]
    ts = np.array([d.ts_init for d in market.data])
    assert np.all(np.diff(ts) >= 0)
    assert ts[0] >= market.start_ns and ts[-1] <= market.end_ns
    kinds = {type(d) for d in market.data}
    assert kinds == {OrderBookDeltas, QuoteTick, TradeTick}
    # Modest volume: one object per book change, quote change or trade (about 31k for 10 minutes).
    assert 20_000 < len(market.data) < 45_000
    eff_ts, eff_px = market.efficient_price
    assert eff_ts.dtype == np.int64 and eff_px.dtype == np.float64
    assert eff_ts.size == 6001 and eff_ts[0] == market.start_ns and eff_ts[-1] == market.end_ns
    assert eff_px[0] == 60_000.0
    # The tables of results.py, with their fixed columns.
    assert dict(market.market_table().dtypes.astype(str)) == MARKET_COLUMNS
    assert dict(market.trades_table().dtypes.astype(str)) == TRADES_COLUMNS


def test_same_seed_same_market_other_seed_another(market):
    again = build_market(SyntheticMarketConfig())
    assert len(again.data) == len(market.data)
    assert [repr(d) for d in again.data[:300]] == [repr(d) for d in market.data[:300]]
    assert [repr(d) for d in again.data[-100:]] == [repr(d) for d in market.data[-100:]]
    assert tables_hash(again) == tables_hash(market)
    assert np.array_equal(again.efficient_price[1], market.efficient_price[1])
    other = build_market(SyntheticMarketConfig(seed=8))
    assert tables_hash(other) != tables_hash(market)
    assert not np.array_equal(other.efficient_price[1], market.efficient_price[1])


# -- valid books ------------------------------------------------------------------------------------


def test_books_never_crossed_sizes_positive_prices_on_tick(market):
    for v in market.venues:
        b = market.books[v.name]
        tick = round(v.tick * 100)
        assert b.bid_px.shape == (b.ts.size, v.levels)
        assert np.all(b.bid_px[:, 0] < b.ask_px[:, 0]), v.name  # neither crossed nor locked
        assert np.all(np.diff(b.bid_px, axis=1) == -tick) and np.all(np.diff(b.ask_px, axis=1) == tick)
        assert np.all(b.bid_px % tick == 0) and np.all(b.ask_px % tick == 0)
        assert np.all(b.bid_sz > 0) and np.all(b.ask_sz > 0)
        assert np.all(b.bid_px[:, -1] > 0)
    m = market.market_table()
    assert (m["bid"] < m["ask"]).all() and (m["bid_size"] > 0).all() and (m["ask_size"] > 0).all()
    t = market.trades_table()
    assert (t["size"] > 0).all() and np.allclose(np.round(t["price"] * 100), t["price"] * 100)


def test_deltas_rebuild_exactly_the_published_books(short_market):
    """Applying the emitted deltas to a Nautilus L2 book gives the published ladder after every update,
    never crossed, and each quote is that book's top."""
    m = short_market
    for instrument, v in zip(m.instruments, m.venues):
        book = OrderBook(instrument.id, BookType.L2_MBP)
        published = m.books[v.name]
        deltas = [d for d in m.data if isinstance(d, OrderBookDeltas) and d.instrument_id == instrument.id]
        quotes = {q.ts_init: q for q in m.data if isinstance(q, QuoteTick) and q.instrument_id == instrument.id}
        first = deltas[0].deltas
        assert first[0].action == BookAction.CLEAR and all(d.flags & RecordFlag.F_SNAPSHOT for d in first)
        snapshots = sum(1 for d in deltas if d.deltas[0].action == BookAction.CLEAR)
        assert snapshots == 3  # at the start, then every 10 s of a 30 s market
        incremental = [len(d.deltas) for d in deltas if d.deltas[0].action != BookAction.CLEAR]
        assert np.mean(incremental) < 2 * v.levels  # only changed levels travel
        j = 0
        for d in deltas:
            assert all(x.flags & RecordFlag.F_LAST == 0 for x in d.deltas[:-1]) and d.deltas[-1].flags & RecordFlag.F_LAST
            book.apply_deltas(d)
            while published.ts[j] < d.ts_init:  # an update that changed nothing emits no deltas
                j += 1
            assert published.ts[j] == d.ts_init
            bids, asks = book_levels(book)
            assert bids == m.book_at(v.name, d.ts_init)[0] and asks == m.book_at(v.name, d.ts_init)[1]
            assert bids[0][0] < asks[0][0]
            q = quotes.get(d.ts_init)
            if q is not None:
                assert (round(q.bid_price.as_double(), 2), round(q.bid_size.as_double(), 3)) == bids[0]
                assert (round(q.ask_price.as_double(), 2), round(q.ask_size.as_double(), 3)) == asks[0]


# -- venue character --------------------------------------------------------------------------------


def test_venues_differ_as_designed(market):
    top = market.market_table()
    touch = top.groupby("venue")[["bid_size", "ask_size"]].mean()
    assert touch.loc["DEEP"].min() > 10 * touch.loc["CHEAP"].max()
    spread_bps = ((top["ask"] - top["bid"]) / top["bid"] * 1e4).groupby(top["venue"]).mean()
    assert spread_bps["DEEP"] < spread_bps["SLOW"] < spread_bps["CHEAP"]
    updates = {v.name: market.books[v.name].ts.size for v in market.venues}
    assert updates["SLOW"] * 4 < updates["CHEAP"] and updates["SLOW"] * 4 < updates["DEEP"]
    # SLOW's mid lags: it tracks the efficient price worse than DEEP's.
    eff_ts, eff_px = market.efficient_price

    def tracking_error_bps(name: str) -> float:
        b = market.books[name]
        grid = eff_ts[::5]
        j = np.searchsorted(b.ts, grid, side="right") - 1
        ok = j >= 0
        mid = (b.bid_px[j[ok], 0] + b.ask_px[j[ok], 0]) / 200
        return float(np.sqrt(np.mean((mid / eff_px[::5][ok] - 1) ** 2)) * 1e4)

    assert tracking_error_bps("SLOW") > 1.5 * tracking_error_bps("DEEP")
    # The tape: Poisson counts near rate * duration.
    trades = market.trades_table()["venue"].value_counts()
    for v in market.venues:
        expected = v.trade_rate_per_s * market.config.duration_seconds
        assert abs(trades[v.name] - expected) < 5 * math.sqrt(expected)


@pytest.mark.parametrize("vol", [0.6, 0.2])
def test_realised_volatility_matches_the_configured_one(vol):
    m = build_market(SyntheticMarketConfig(annual_volatility=vol, duration_seconds=120.0, venues=DEFAULT_VENUES[:1]))
    ts, px = m.efficient_price
    step_s = (ts[1] - ts[0]) / NS
    realised = np.std(np.diff(np.log(px))) * math.sqrt(SECONDS_PER_YEAR / step_s)
    assert vol / 1.2 < realised < vol * 1.2


# -- validation -------------------------------------------------------------------------------------


def venue(i: int, **changes):
    venues = list(DEFAULT_VENUES)
    venues[i] = dataclasses.replace(venues[i], **changes)
    return tuple(venues)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"venues": venue(1, spread_bps=-1.0)}, "venues[1].spread_bps"),
        ({"venues": venue(1, spread_bps=float("nan"))}, "venues[1].spread_bps"),
        ({"venues": venue(0, levels=0)}, "venues[0].levels"),
        ({"venues": venue(2, touch_size=0.0)}, "venues[2].touch_size"),
        ({"venues": venue(0, tick=0.005)}, "venues[0].tick"),
        ({"venues": venue(1, update_interval_ms=0)}, "venues[1].update_interval_ms"),
        ({"venues": venue(2, latency_ms=-5.0)}, "venues[2].latency_ms"),
        ({"venues": venue(0, taker_fee=float("inf"))}, "venues[0].taker_fee"),
        ({"venues": venue(1, mean_trade_size=0.0)}, "venues[1].mean_trade_size"),
        ({"venues": venue(2, name="CHEAP")}, "venues[2].name"),
        ({"venues": venue(0, name="BAD.NAME")}, "venues[0].name"),
        ({"venues": ()}, "venues"),
        ({"duration_seconds": 0.0}, "duration_seconds"),
        ({"duration_seconds": -10.0}, "duration_seconds"),
        ({"annual_volatility": float("nan")}, "annual_volatility"),
        ({"annual_volatility": -0.1}, "annual_volatility"),
        ({"initial_price": 0.0}, "initial_price"),
        ({"step_ms": 0}, "step_ms"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"start": "not a time"}, "start"),
        ({"snapshot_interval_seconds": 0.0}, "snapshot_interval_seconds"),
    ],
)
def test_bad_config_names_the_field(kwargs, field):
    with pytest.raises(ConfigError) as info:
        SyntheticMarketConfig(**kwargs)
    assert info.value.field == field
    assert field in str(info.value)


def test_from_dict_names_the_path():
    config = SyntheticMarketConfig.from_dict(
        {"seed": 3, "duration_seconds": 5, "venues": [{"name": "A", "maker_fee": 0, "taker_fee": 0.0003, "latency_ms": 1}]}
    )
    assert config.venues[0].name == "A" and config.seed == 3
    good = {"name": "A", "maker_fee": 0.0, "taker_fee": 0.0003, "latency_ms": 1.0}
    cases = [
        ({"venues": [good, {**good, "name": "B", "spread_bps": -1}]}, "market.venues[1].spread_bps"),
        ({"venues": [{**good, "colour": "red"}]}, "market.venues[0].colour"),
        ({"venues": [{"name": "A", "maker_fee": 0.0}]}, "market.venues[0].taker_fee"),
        ({"venues": []}, "market.venues"),
        ({"volatility": 0.5}, "market.volatility"),
        ({"duration_seconds": "long"}, "market.duration_seconds"),
    ]
    for data, field in cases:
        with pytest.raises(ConfigError) as info:
            SyntheticMarketConfig.from_dict(data, field_prefix="market.")
        assert info.value.field == field, data


# -- in a real BacktestEngine -----------------------------------------------------------------------


class OneMarketOrder(Strategy):
    """Buys `quantity` at market on one venue at `at_ns`."""

    def __init__(self, instrument_id: InstrumentId, quantity: str, at_ns: int):
        super().__init__()
        self.iid, self.quantity, self.at_ns = instrument_id, Quantity.from_str(quantity), at_ns
        self.fills: list[OrderFilled] = []

    def on_start(self) -> None:
        self.clock.set_time_alert_ns("buy", self.at_ns, lambda e: self.submit_order(self.order_factory.market(self.iid, OrderSide.BUY, self.quantity)))

    def on_order_filled(self, event: OrderFilled) -> None:
        self.fills.append(event)


def walk(asks: list[tuple[float, float]], quantity: float) -> list[tuple[float, float]]:
    out, left = [], round(quantity * 1000)
    for price, size in asks:
        take = min(left, round(size * 1000))
        out.append((price, take / 1000))
        left -= take
        if not left:
            return out
    raise AssertionError("book too thin for the test")


def test_market_order_walks_the_emitted_levels(short_market):
    m = short_market
    cheap = m.instrument_id("CHEAP")
    at = m.start_ns + 5 * NS + ODD
    bids, asks = m.book_at("CHEAP", at)
    quantity = round(asks[0][1] + asks[1][1] + asks[2][1] / 2, 3)  # through the touch, into the third level
    engine = engine_for(m, "NETTING")
    strategy = OneMarketOrder(cheap, f"{quantity:.3f}", at)
    engine.add_strategy(strategy)
    engine.run()
    fills = strategy.fills
    assert len({f.last_px for f in fills}) > 1  # more than one price level
    fill_ts = fills[0].ts_event
    assert all(f.ts_event == fill_ts for f in fills)
    # CHEAP's 20 ms latency: the order meets the book of the first data at or after its arrival.
    assert at + 20_000_000 <= fill_ts < at + 20_000_000 + 200_000_000
    got = [(round(f.last_px.as_double(), 2), round(f.last_qty.as_double(), 3)) for f in fills]
    assert got == walk(m.book_at("CHEAP", fill_ts)[1], quantity)
    assert sum(q for _, q in got) == pytest.approx(quantity)
    assert all(f.commission.as_double() == pytest.approx(f.last_px.as_double() * f.last_qty.as_double() * 0.0002) for f in fills)
    position = engine.cache.positions_open(instrument_id=cheap)[0]
    assert position.quantity.as_double() == pytest.approx(quantity)
    engine.dispose()


class RoutingStrategy(Strategy):
    """Subscribes to every venue's book; at `at_ns` snapshots the cached books, routes `quantity` with
    the SmartOrderRouter and sends the allocations; at `late_ns` subscribes to one more view late."""

    def __init__(self, market: SyntheticMarket, quantity: str, at_ns: int):
        super().__init__()
        self.market, self.quantity, self.at_ns = market, Quantity.from_str(quantity), at_ns
        self.router = SmartOrderRouter(market.venue_configs())
        self.seen: dict[str, tuple[list, list]] = {}
        self.allocations = []
        self.fills: list[OrderFilled] = []

    def on_start(self) -> None:
        self.router.cache, self.router.clock = self.cache, self.clock
        for instrument in self.market.instruments:
            self.subscribe_order_book_deltas(instrument.id, book_type=BookType.L2_MBP)
        self.clock.set_time_alert_ns("route", self.at_ns, self.route)

    def route(self, event) -> None:
        for v in self.market.venues:
            self.seen[v.name] = book_levels(self.cache.order_book(self.market.instrument_id(v.name)))
        self.allocations = self.router.route_order(self.market.instrument_id("CHEAP"), OrderSide.BUY, self.quantity, max_venues=3)
        for a in self.allocations:
            order = self.order_factory.market(a.instrument_id, OrderSide.BUY, a.quantity, time_in_force=TimeInForce.IOC)
            self.router.track(order.client_order_id, a, OrderSide.BUY)
            self.submit_order(order)

    def on_order_event(self, event) -> None:
        self.router.on_order_event(event)

    def on_order_filled(self, event: OrderFilled) -> None:
        self.fills.append(event)


def test_router_in_a_strategy_reads_the_books_and_splits(market):
    """The default 10-minute market in one engine: the strategy's cached books are the emitted ones, and
    an order CHEAP cannot take alone is split across venues, priced off those books."""
    at = market.start_ns + 90 * NS + ODD
    engine = engine_for(market, {"CHEAP": "NETTING", "DEEP": "HEDGING", "SLOW": "NETTING"})
    strategy = RoutingStrategy(market, "5.000", at)
    engine.add_strategy(strategy)
    engine.run()
    for v in market.venues:
        assert strategy.seen[v.name] == market.book_at(v.name, at), v.name
    cheap_depth = sum(size for _, size in market.book_at("CHEAP", at)[1])
    assert cheap_depth < 5.0
    allocations = {a.venue.value: a for a in strategy.allocations}
    assert len(allocations) >= 2 and "CHEAP" in allocations
    assert sum(a.quantity.as_decimal() for a in strategy.allocations) == Decimal("5.000")
    assert allocations["CHEAP"].quantity.as_double() <= cheap_depth
    cheap_asks = market.book_at("CHEAP", at)[1]
    assert allocations["CHEAP"].expected_price > cheap_asks[0][0]  # it walks CHEAP's book
    for a in strategy.allocations:
        assert a.expected_price >= market.book_at(a.venue.value, at)[1][0][0]
    # Every allocation was sent and filled on its own venue.
    filled: dict[str, float] = {}
    for f in strategy.fills:
        filled[f.instrument_id.venue.value] = filled.get(f.instrument_id.venue.value, 0.0) + f.last_qty.as_double()
    assert filled == pytest.approx({name: a.quantity.as_double() for name, a in allocations.items()})
    # At the end, the cache still holds exactly the emitted books.
    for v in market.venues:
        assert book_levels(engine.cache.order_book(market.instrument_id(v.name))) == market.book_at(v.name, market.end_ns)
    engine.dispose()


class LateSubscriber(Strategy):
    def __init__(self, market: SyntheticMarket, venue: str, subscribe_ns: int, check_ns: int):
        super().__init__()
        self.iid, self.subscribe_ns, self.check_ns = market.instrument_id(venue), subscribe_ns, check_ns
        self.seen = None

    def on_start(self) -> None:
        self.clock.set_time_alert_ns("sub", self.subscribe_ns, lambda e: self.subscribe_order_book_deltas(self.iid, book_type=BookType.L2_MBP))
        self.clock.set_time_alert_ns("check", self.check_ns, lambda e: setattr(self, "seen", book_levels(self.cache.order_book(self.iid))))


def test_a_late_subscriber_resynchronises_at_the_next_snapshot(short_market):
    """A strategy that subscribes mid-run has the full book from the next periodic snapshot on;
    with only the first snapshot it would hold just the levels changed since it subscribed."""
    slow = short_market.instrument_id("SLOW")
    snapshots = [d.ts_init for d in short_market.data
                 if isinstance(d, OrderBookDeltas) and d.instrument_id == slow and d.deltas[0].action == BookAction.CLEAR]
    assert len(snapshots) == 3
    subscribe, check = snapshots[1] - 300_000_000 + ODD, snapshots[1] + ODD  # SLOW refreshes every 500 ms
    without = build_market(dataclasses.replace(short_market.config, snapshot_interval_seconds=None))
    for m, complete in ((short_market, True), (without, False)):
        engine = engine_for(m)
        strategy = LateSubscriber(m, "SLOW", subscribe, check)
        engine.add_strategy(strategy)
        engine.run()
        assert (strategy.seen == m.book_at("SLOW", check)) is complete
        engine.dispose()
