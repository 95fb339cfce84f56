"""Passive (resting) venue selection: the core's `select_passive` through the binding, the
SmartOrderRouter's tape and `select_passive_venue`, the iceberg algorithm resting its chunks where the
tape fills them in real BacktestEngines, and the simulator's router scenario using the same core rule."""

from __future__ import annotations

import math

import pytest
from nautilus_trader.model.data import QuoteTick, TradeTick
from nautilus_trader.model.enums import AggressorSide, OmsType, OrderSide, OrderStatus
from nautilus_trader.model.identifiers import InstrumentId, TradeId
from nautilus_trader.model.objects import Price, Quantity

from nautilus_env import NS, START, btcusdt, engine, quotes
from nautilus_sor import _core
from nautilus_sor.exceptions import ConfigError, NoEligibleVenueError, UnknownVenueError, ValidationError
from nautilus_sor.execution_algorithms import IcebergExecAlgorithm, IcebergExecAlgorithmConfig
from nautilus_sor.smart_router import SmartOrderRouter
from nautilus_sor.strategy import MultiVenueStrategy, SmartRoutingStrategyConfig

BTC_BINANCE = InstrumentId.from_str("BTCUSDT.BINANCE")
BTC_BYBIT = InstrumentId.from_str("BTCUSDT.BYBIT")
UNITS = 10**9  # router units per BTC (units.py)


# ----- the core through the binding -----


def two_books(tape_tau_s: float = 30.0) -> _core.Router:
    """A: maker 2 / taker 5 bps; B: maker 0 / taker 5 bps. Both: bid 99.9 x 10, ask 100.1 x 10 (half
    spread 10 bps). No latency risk."""
    r = _core.Router([_core.VenueSpec("A", 0.0002, 0.0005), _core.VenueSpec("B", 0.0, 0.0005)], volatility=0.0, tape_tau_s=tape_tau_s)
    for name in ("A", "B"):
        r.set_book(name, [(99.9, 10)], [(100.1, 10)])
    return r


def test_select_passive_through_the_binding_is_the_hand_checked_rule():
    r = two_books()
    # 60 units sold into A's bids just now, tau 30 s: 2 units/s. Nautilus's AggressorSide codes work.
    r.record_trade("A", AggressorSide.SELLER, 60, START)
    assert r.tape_rate("A", "SELL", START) == pytest.approx(2.0)
    assert r.tape_rate("A", AggressorSide.BUYER, START) == 0.0
    sel = r.select_passive(OrderSide.BUY, 10, 5.0, START)
    # A: p = 2 * 5 / (10 + 10) = 0.5 -> 0.5 * (2 - 10) + 0.5 * (5 + 10) = 3.5 bps.
    # B: no tape, p = 0 -> 5 + 10 = 15 bps, though its maker fee is lower.
    assert sel.venue == "A"
    best = sel.best
    assert sel.best is best  # made once, on the first read
    assert (best.expected_price, best.queue_ahead, best.qty) == (99.9, 10, 10)
    assert best.fill_probability == pytest.approx(0.5)
    assert best.score_bps == pytest.approx(3.5)
    assert best.fee_bps == pytest.approx(3.5) and best.half_spread_bps == pytest.approx(10.0)
    names = [c[0] for c in sel.candidates]
    scores = [c[1].score_bps for c in sel.candidates]
    assert names == ["A", "B"] and scores == pytest.approx([3.5, 15.0])
    # One tau later the rate is 2/e: p = 0.5/e.
    later = r.select_passive("BUY", 10, 5.0, START + 30 * NS).best
    assert later.fill_probability == pytest.approx(0.5 / math.e)
    # Once both fill for sure (a long horizon), B's lower maker fee wins: 0 - 10 < 2 - 10... when B has a tape.
    r.record_trade("B", "SELLER", 60, START)
    sel = r.select_passive("BUY", 10, 100.0, START)
    assert sel.venue == "B" and sel.best.score_bps == pytest.approx(-10.0)
    r.clear_tapes()
    assert r.tape_rate("B", "SELL", START) == 0.0


def test_a_passive_score_is_against_the_reference_price_so_a_venue_s_basis_counts():
    # A at mid 100 (bid 99.9 / ask 100.1), B at mid 101: same fees, queue and tape. Consolidated: best bid
    # 100.9 (B), best ask 100.1 (A), reference 100.5. At its own mid each costs 3.5 bps (p = 0.5: the
    # spread terms cancel); on the reference: s * (mid - 100.5) / 100.5 * 1e4 + 3.5 * mid / 100.5.
    r = _core.Router([_core.VenueSpec("A", 0.0002, 0.0005), _core.VenueSpec("B", 0.0002, 0.0005)], volatility=0.0)
    r.set_book("A", [(99.9, 10)], [(100.1, 10)])
    r.set_book("B", [(100.9, 10)], [(101.1, 10)])
    for name in ("A", "B"):
        r.record_trade(name, "SELLER", 60, START)
        r.record_trade(name, "BUYER", 60, START)
    assert r.reference_price("BUY") == pytest.approx(100.5)
    score = lambda s, mid: s * (mid - 100.5) / 100.5 * 1e4 + 3.5 * mid / 100.5  # noqa: E731
    buy = r.select_passive("BUY", 10, 5.0, START)
    assert [c[1].reference_price for c in buy.candidates] == pytest.approx([100.5, 100.5])
    assert [c[1].score_bps for c in buy.candidates] == pytest.approx([score(1, 100.0), score(1, 101.0)])
    assert buy.venue == "A" and buy.best.mid == pytest.approx(100.0)
    sell = r.select_passive("SELL", 10, 5.0, START)
    assert sell.venue == "B" and sell.best.score_bps == pytest.approx(score(-1, 101.0))
    # The same scale as a split's: crossing 10 now on A at 100.1, the 5 bps fee on that price, against 100.5.
    assert r.split("BUY", 10, 1).score_bps == pytest.approx((100.1 * 1.0005 - 100.5) / 100.5 * 1e4)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda r: r.record_trade("A", AggressorSide.NO_AGGRESSOR, 1, START), "aggressor"),
        (lambda r: r.record_trade("A", "SIDEWAYS", 1, START), "aggressor"),
        (lambda r: r.record_trade("A", "BUY", 0, START), "size"),
        (lambda r: r.record_trade("A", "BUY", -5, START), "size"),
        (lambda r: r.record_trade("A", "BUY", 1, -1), "ts_ns"),
        (lambda r: r.select_passive("BUY", 0, 5.0, START), "quantity"),
        (lambda r: r.select_passive("BUY", 1, float("nan"), START), "horizon_s"),
        (lambda r: r.select_passive("BUY", 1, 0.0, START), "horizon_s"),
        (lambda r: r.select_passive("BUY", 1, 5.0, -1), "now_ns"),
        (lambda r: _core.Router([_core.VenueSpec("A", 0.0, 0.0)], tape_tau_s=0.0), "tape_tau_s"),
    ],
)
def test_bad_passive_arguments_name_the_field(call, field):
    with pytest.raises(ValidationError) as info:
        call(two_books())
    assert info.value.field == field


def test_unknown_venue_and_no_eligible_venue_are_typed():
    r = two_books()
    with pytest.raises(UnknownVenueError):
        r.record_trade("C", "BUY", 1, START)
    r.clear_book("A")
    r.set_book("B", [], [(100.1, 10)])
    with pytest.raises(NoEligibleVenueError) as info:
        r.select_passive("BUY", 1, 5.0, START)
    assert "A: no book data" in str(info.value) and "B: one-sided book: no bid to join" in str(info.value)


# ----- SmartOrderRouter: the tape and select_passive_venue -----


class QuoteCache:
    """The cache methods the router reads: quotes only (no book, no instrument)."""

    def __init__(self) -> None:
        self.quotes: dict[InstrumentId, QuoteTick] = {}

    def set_quote(self, iid: InstrumentId, bid: str, ask: str, size: str = "10.000") -> None:
        self.quotes[iid] = QuoteTick(iid, Price.from_str(bid), Price.from_str(ask), Quantity.from_str(size), Quantity.from_str(size), START, START)

    def quote_tick(self, iid):
        return self.quotes.get(iid)

    def order_book(self, iid):
        return None

    def instrument(self, iid):
        return None


def trade(iid: InstrumentId, price: str, size: str, aggressor: AggressorSide, ts: int, n: int = 0) -> TradeTick:
    return TradeTick(iid, Price.from_str(price), Quantity.from_str(size), aggressor, TradeId(f"T{n}"), ts, ts)


def quoted_router(**kwargs) -> tuple[SmartOrderRouter, QuoteCache]:
    venues = [{"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0005}, {"name": "BYBIT", "maker_fee": 0.0002, "taker_fee": 0.0005}]
    cache = QuoteCache()
    for iid in (BTC_BINANCE, BTC_BYBIT):
        cache.set_quote(iid, "99.90", "100.10")
    return SmartOrderRouter(venues, cache=cache, volatility=0.0, **kwargs), cache


def test_router_tape_takes_watched_trades_and_classifies_unknown_aggressors_by_the_quote():
    router, _ = quoted_router()
    # Not watched yet: ignored.
    router.on_trade_tick(trade(BTC_BYBIT, "99.90", "30.000", AggressorSide.SELLER, START))
    assert router.core.tape_rate("BYBIT", "SELL", START) == 0.0
    assert router.watch_tape(BTC_BINANCE) == [BTC_BINANCE, BTC_BYBIT]
    router.on_trade_tick(trade(BTC_BYBIT, "99.90", "30.000", AggressorSide.SELLER, START, 1))
    router.on_trade_tick(trade(InstrumentId.from_str("ETHUSDT.BYBIT"), "99.90", "30.000", AggressorSide.SELLER, START, 2))
    # 30 BTC = 30e9 units over tau 30 s: 1e9 units/s.
    assert router.core.tape_rate("BYBIT", "SELL", START) == pytest.approx(UNITS)
    # NO_AGGRESSOR: at the bid a seller, at the ask a buyer, inside the spread not recorded.
    router.on_trade_tick(trade(BTC_BINANCE, "99.90", "3.000", AggressorSide.NO_AGGRESSOR, START, 3))
    router.on_trade_tick(trade(BTC_BINANCE, "100.10", "6.000", AggressorSide.NO_AGGRESSOR, START, 4))
    router.on_trade_tick(trade(BTC_BINANCE, "100.00", "9.000", AggressorSide.NO_AGGRESSOR, START, 5))
    assert router.core.tape_rate("BINANCE", "SELL", START) == pytest.approx(0.1 * UNITS)
    assert router.core.tape_rate("BINANCE", "BUY", START) == pytest.approx(0.2 * UNITS)


def test_select_passive_venue_rests_where_the_tape_fills_and_explains():
    router, cache = quoted_router()
    router.watch_tape(BTC_BINANCE)
    router.on_trade_tick(trade(BTC_BYBIT, "99.90", "30.000", AggressorSide.SELLER, START))
    allocation = router.select_passive_venue(BTC_BINANCE, OrderSide.BUY, Quantity.from_str("0.250"), now_ns=START)
    # BYBIT: 1 BTC/s * 5 s / (10 queued + 0.25) = 0.4878...; BINANCE has no tape (p = 0).
    p = 5.0 / 10.25
    assert allocation.venue.value == "BYBIT" and allocation.instrument_id == BTC_BYBIT
    assert allocation.quantity == Quantity.from_str("0.250")
    assert allocation.expected_price == pytest.approx(99.9)
    assert allocation.fill_probability == pytest.approx(p)
    assert allocation.score_bps == pytest.approx(p * (2 - 10) + (1 - p) * (5 + 10))
    # Expected fee and the expected cost of crossing the spread with what does not fill, in USDT.
    assert allocation.fee == pytest.approx((p * 2 + (1 - p) * 5) * 1e-4 * 99.9 * 0.25)
    assert allocation.miss_cost == pytest.approx((1 - p) * 0.2 * 0.25)
    assert allocation.reason.startswith("rest at the touch")
    # Selling: aggressive buyers fill a resting sell, and none traded: the venues tie, BINANCE first.
    assert router.select_passive_venue(BTC_BINANCE, OrderSide.SELL, Quantity.from_str("0.250"), now_ns=START).venue.value == "BINANCE"
    # A two-minute horizon fills BYBIT for sure (p capped at 1): maker fee minus the half spread.
    long = router.select_passive_venue(BTC_BINANCE, OrderSide.BUY, Quantity.from_str("0.250"), 120.0, now_ns=START)
    assert long.fill_probability == 1.0 and long.score_bps == pytest.approx(2 - 10)
    with pytest.raises(ValidationError) as info:
        router.select_passive_venue(BTC_BINANCE, OrderSide.BUY, Quantity.from_str("0.250"), -1.0)
    assert info.value.field == "horizon_s"
    cache.quotes.clear()
    router.invalidate_books()
    with pytest.raises(NoEligibleVenueError):
        router.select_passive_venue(BTC_BINANCE, OrderSide.BUY, Quantity.from_str("0.250"), now_ns=START)


def test_router_passive_settings_are_validated():
    with pytest.raises(ValidationError) as info:
        quoted_router(passive_horizon_s=float("inf"))
    assert info.value.field == "passive_horizon_s"
    with pytest.raises(ValidationError) as info:
        quoted_router(tape_tau_s=-1.0)
    assert info.value.field == "tape_tau_s"
    with pytest.raises(ConfigError) as info:
        IcebergExecAlgorithmConfig(passive_horizon_seconds=0)
    assert info.value.field == "passive_horizon_seconds"


# ----- the iceberg algorithm in BacktestEngines -----


class OneBuy(MultiVenueStrategy):
    def __init__(self, config, quantity: str) -> None:
        super().__init__(config)
        self.quantity = Quantity.from_str(quantity)
        self.parents = []

    def on_start(self) -> None:
        super().on_start()
        # After two tape time constants (60 s at the default 30 s), when the decayed rates have built up.
        self.clock.set_time_alert_ns("go", START + 60 * NS, lambda e: self.parents.extend(self.execute_order(OrderSide.BUY, self.quantity)))


def sellers(instrument, size: str, every_ns: int, seconds: int, mids: list[float]) -> list[TradeTick]:
    """Aggressive sells at the bid (what fills a resting buy), every `every_ns`."""
    out = []
    for i in range(seconds * NS // every_ns):
        ts = START + i * every_ns
        out.append(TradeTick(instrument.id, instrument.make_price(mids[ts // NS - START // NS] - 0.05), Quantity.from_str(size),
                             AggressorSide.SELLER, TradeId(f"{instrument.id.venue}-{i}"), ts, ts))
    return out


def iceberg_run(venues: list[dict], binance_sells: str, bybit_sells: str, seconds: int = 240):
    a, b = btcusdt("BINANCE"), btcusdt("BYBIT")
    # Equal books on both venues; the mid swings so a resting bid is crossed now and then.
    mids = [100.0 + 0.3 * math.sin(i / 3.0) for i in range(seconds)]
    data = quotes(a, mids, 0.05, "10.000", START) + quotes(b, mids, 0.05, "10.000", START)
    data += sellers(a, binance_sells, NS // 2, seconds, mids) + sellers(b, bybit_sells, NS // 2, seconds, mids)
    eng = engine({"BINANCE": OmsType.NETTING, "BYBIT": OmsType.NETTING}, [a, b], sorted(data, key=lambda d: d.ts_init))
    algo = IcebergExecAlgorithm(IcebergExecAlgorithmConfig(visible_pct=0.25, use_smart_routing=True, venues=venues, router={"volatility": 0.0}))
    eng.add_exec_algorithm(algo)
    strategy = OneBuy(SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", use_smart_routing=True, venues=venues,
                                                 execution_algorithm={"type": "ICEBERG"}), "1.000")
    eng.add_strategy(strategy)
    eng.run()
    parent = algo.parents[strategy.parents[0].client_order_id]
    chunks = [o for o in eng.cache.orders() if o.client_order_id.value.startswith(parent.primary_id.value + "-E")]
    return algo, parent, chunks


def test_iceberg_chunks_rest_on_the_venue_whose_tape_fills_them():
    venues = [{"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0005}, {"name": "BYBIT", "maker_fee": 0.0002, "taker_fee": 0.0005}]
    # Same fees, same books; BYBIT sells 2 BTC/s into the bids, BINANCE 0.02 BTC/s. Venue order alone
    # would pick BINANCE.
    algo, parent, chunks = iceberg_run(venues, binance_sells="0.010", bybit_sells="1.000")
    assert (parent.filled, parent.working, parent.pending) == (10**9, 0, 0)
    assert len(chunks) == 4 and all(o.status == OrderStatus.FILLED for o in chunks)
    assert {o.instrument_id for o in chunks} == {BTC_BYBIT}
    assert all(o.order_type.name == "LIMIT" for o in chunks)
    # The algorithm subscribed to both venues' trades and its router learned the tapes (about 2 and
    # 0.02 BTC/s at the end of the data).
    end = START + 240 * NS
    rates = [algo.router.core.tape_rate(v, "SELL", end) / UNITS for v in ("BINANCE", "BYBIT")]
    assert rates == pytest.approx([0.02, 2.0], rel=0.01)


def test_iceberg_follows_the_maker_fee_when_both_tapes_fill_it():
    venues = [{"name": "BINANCE", "maker_fee": 0.0003, "taker_fee": 0.0005}, {"name": "BYBIT", "maker_fee": -0.0001, "taker_fee": 0.0005}]
    # Both tapes fill a chunk within the horizon for sure (p = 1: BYBIT's 6 BTC/s, decayed to about
    # 5.2 BTC/s after 60 s, * 5 s > 10.25 BTC queued + ours), BINANCE's ten times faster: the cheaper
    # maker fee (a rebate) decides.
    _, parent, chunks = iceberg_run(venues, binance_sells="30.000", bybit_sells="3.000")
    assert parent.filled == 10**9
    assert {o.instrument_id for o in chunks} == {BTC_BYBIT}


def test_iceberg_without_smart_routing_is_unchanged():
    # No router: the chunks rest on the primary's own venue, as before.
    a = btcusdt("BINANCE")
    mids = [100.0 + 0.3 * math.sin(i / 3.0) for i in range(120)]
    eng = engine({"BINANCE": OmsType.NETTING}, [a], quotes(a, mids, 0.05, "10.000", START))
    algo = IcebergExecAlgorithm(IcebergExecAlgorithmConfig(visible_pct=0.5))
    eng.add_exec_algorithm(algo)
    strategy = OneBuy(SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", execution_algorithm={"type": "ICEBERG"}), "1.000")
    eng.add_strategy(strategy)
    eng.run()
    assert algo.router is None
    assert algo.parents[strategy.parents[0].client_order_id].filled == 10**9


# ----- the simulator's router scenario uses the core rule, with no look-ahead -----


def test_simulated_router_rests_clips_by_the_core_rule_on_the_tape_up_to_the_decision_only():
    from sim_fixtures import MS, market, venue

    from nautilus_sor.backtest.sim.exchange import BUY, SELL
    from nautilus_sor.backtest.sim.feeds import LearningFeed
    from nautilus_sor.backtest.sim.market import SimMarket
    from nautilus_sor.backtest.sim.params import ExecParams
    from nautilus_sor.backtest.sim.simulator import Parent, ParentRun

    rows = [(0, [(99.9, 1.0)], [(100.1, 1.0)])]
    # B: 5 BTC/s sold into the bids from 30 s before the start on. A: nothing before the start, then a
    # flood of sells (50 BTC/s) right after it: a decision that saw it would pick A.
    b_trades = [(30 * NS + k * 100 * MS, 99.9, 0.5, SELL) for k in range(600)]
    a_trades = [(60 * NS + 500 * MS + k * 100 * MS, 99.9, 5.0, SELL) for k in range(200)]
    a = venue("A", rows, a_trades, taker_fee=0.0005, lot_size=0.1)
    b = venue("B", rows, b_trades, taker_fee=0.0005, lot_size=0.1)
    sim = SimMarket(market([a, b], 0, 200 * NS), ExecParams(horizon_s=20, interval_s=2, iceberg_visible_pct=0.5))
    router = sim.router()
    feed = LearningFeed(router)
    first = ParentRun(sim, Parent(BUY, 1.0, 60 * NS, "iceberg"), "router", router=router, feed=feed).run()
    assert (first.decisions[0].venue, first.decisions[0].kind, first.decisions[0].price) == ("B", "LIMIT", 99.9)
    # What the core saw at the first decision: B's trades up to it, each weighing e^{-(age)/30 s}.
    decided = first.decisions[0].ts
    expected_b = sum(0.5 * math.exp(-(decided - t) / NS / 30.0) for t, *_ in b_trades if t <= decided) / 30.0
    # The run moved the tape past A's flood; a parent of the same series starting at 60 s again must
    # not see it: the feed replays the tape up to its own decision time.
    assert feed.tape is not None and feed.tape.fed_until > decided
    again = ParentRun(sim, Parent(BUY, 1.0, 60 * NS, "iceberg"), "router", router=router, feed=feed)
    assert again._router_passive(0.5, decided) == [("B", 0.5)]
    assert router.tape_rate("B", "SELL", decided) * sim.unit == pytest.approx(expected_b, rel=1e-6)
    assert router.tape_rate("A", "SELL", decided) == 0.0
