"""Execution algorithms and the router inside BacktestEngines: learning from venue behaviour,
conservation under denials, and bad input with typed errors."""

from __future__ import annotations

import math

import pytest
from nautilus_trader.model.enums import OmsType, OrderSide, OrderStatus
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId
from nautilus_trader.model.objects import Price, Quantity

from nautilus_env import NS, START, btcusdt, engine, quotes
from nautilus_sor.exceptions import ConfigError, UnknownVenueError, ValidationError
from nautilus_sor.execution_algorithms import (
    POVExecAlgorithmConfig,
    ShortfallExecAlgorithm,
    ShortfallExecAlgorithmConfig,
    TWAPExecAlgorithm,
    TWAPExecAlgorithmConfig,
    VWAPExecAlgorithmConfig,
    build_exec_algorithm,
)
from nautilus_sor.smart_router import SmartOrderRouter
from nautilus_sor.strategy import MultiVenueStrategy, SmartRoutingStrategyConfig

VENUES = [
    {"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0004},
    {"name": "BYBIT", "maker_fee": 0.0001, "taker_fee": 0.0003},
]


class OneParent(MultiVenueStrategy):
    def __init__(self, config, quantity="2.000"):
        super().__init__(config)
        self.quantity = Quantity.from_str(quantity)
        self.parents = []

    def on_start(self) -> None:
        super().on_start()
        self.clock.set_time_alert_ns("go", START + NS, lambda e: self.parents.extend(self.execute_order(OrderSide.BUY, self.quantity)))


def two_venue_run(algorithm, bybit_max_quantity=None, quantity="2.000", seconds=60, with_bybit=True):
    a = btcusdt("BINANCE", taker_fee="0.0004")
    b = btcusdt("BYBIT", taker_fee="0.0003")
    if bybit_max_quantity is not None:
        # BYBIT refuses (risk engine: quantity above its maximum) any child larger than this.
        b = type(b).from_dict({**type(b).to_dict(b), "max_quantity": bybit_max_quantity})
    mids = [100.0 + 0.01 * (i % 5) for i in range(seconds)]
    data = quotes(a, mids, 0.05, "10.000", START)
    instruments = [a]
    if with_bybit:
        data += quotes(b, mids, 0.05, "10.000", START)
        instruments.append(b)
    eng = engine({"BINANCE": OmsType.NETTING, "BYBIT": OmsType.NETTING}, instruments, data)
    eng.add_exec_algorithm(algorithm)
    strategy = OneParent(
        SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", use_smart_routing=True, venues=VENUES, execution_algorithm={"type": str(algorithm.id)}),
        quantity,
    )
    eng.add_strategy(strategy)
    eng.run()
    return eng, strategy


def filled_by_venue(eng):
    out = {}
    for o in eng.cache.orders():
        if o.filled_qty.as_double() > 0:
            out[o.instrument_id.venue.value] = out.get(o.instrument_id.venue.value, 0) + o.filled_qty.as_double()
    return out


def test_denying_venue_loses_flow_and_nothing_is_lost():
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=20, interval_seconds=1, use_smart_routing=True, venues=VENUES))
    eng, strategy = two_venue_run(algo, bybit_max_quantity="0.010")
    parent = algo.parents[strategy.parents[0].client_order_id]
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (2 * 10**9, 0, 0, 0)
    denied = [o for o in eng.cache.orders() if o.status == OrderStatus.DENIED]
    assert denied and all(o.instrument_id.venue.value == "BYBIT" for o in denied)
    # The router learned: after a handful of denials BYBIT gets no more flow.
    assert len(denied) <= 5
    stats = {s.venue: s for s in algo.router.venue_stats()}
    # 3 denials at alpha 0.05: p_fill = 0.95 ** 6 = 0.735, a miss cost of 1.3 bps > the 1 bp fee saving.
    assert stats["BYBIT"].rejects == len(denied) == 3
    assert stats["BYBIT"].fill_probability == pytest.approx(0.95**6)
    assert filled_by_venue(eng) == {"BINANCE": pytest.approx(2.0)}
    last_sent = max(o.ts_init for o in denied)
    later = [o for o in eng.cache.orders() if o.ts_init > last_sent]
    assert later and all(o.instrument_id.venue.value == "BINANCE" for o in later)


def test_cheaper_venue_takes_the_flow_when_it_behaves():
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=10, interval_seconds=1, use_smart_routing=True, venues=VENUES))
    eng, strategy = two_venue_run(algo)
    assert filled_by_venue(eng) == {"BYBIT": pytest.approx(2.0)}
    # The primary (a BINANCE order) is never sent: its quantity went to BYBIT children, so it is closed locally.
    assert strategy.parents[0].status == OrderStatus.CANCELED
    assert eng.cache.positions_open()[0].instrument_id == InstrumentId.from_str("BTCUSDT.BYBIT")


def test_implementation_shortfall_front_loads():
    """Almgren-Chriss (2000), discrete: with cosh(kappa tau) = 1 + lambda sigma^2 tau^2 / (2 eta), the optimal
    holdings are X sinh(kappa (T - t)) / sinh(kappa T) and each slice trades their drop: every slice is
    smaller than the one before. The schedule is that (to a lot), and the run trades it slice by slice."""
    lam, sigma, eta, tau, n, parent = 1e-2, 1.0, 1e-2, 1.0, 10, 2.0
    config = ShortfallExecAlgorithmConfig(duration_seconds=n * tau, interval_seconds=tau, risk_aversion=lam, volatility=sigma,
                                          temporary_impact=eta, use_smart_routing=True, venues=VENUES)
    algo = ShortfallExecAlgorithm(config)
    eng, strategy = two_venue_run(algo)
    kappa = math.acosh(1.0 + lam * sigma**2 * tau**2 / (2.0 * eta)) / tau
    holdings = [parent * math.sinh(kappa * (n - j) * tau) / math.sinh(kappa * n * tau) for j in range(n + 1)]
    ideal = [holdings[j] - holdings[j + 1] for j in range(n)]
    plan = algo.planned[strategy.parents[0].client_order_id.value]
    # One slice per interval from the parent's arrival; a slice rounded to no lot is not planned (here the last).
    start = plan[0][0]
    slices = [dict(plan).get(start + int(j * tau * 1e9), 0.0) for j in range(n)]
    assert len(plan) <= n and sum(slices) == pytest.approx(parent)
    assert all(abs(s - i) <= 0.001 + 1e-12 for s, i in zip(slices, ideal)), (slices, ideal)  # whole lots of 0.001
    assert all(a >= b for a, b in zip(slices, slices[1:])), slices  # never a later slice larger than an earlier one
    assert slices[0] > 0.6 * parent and sum(slices[:3]) > 0.9 * parent  # urgent: most of it in the first slices (TWAP: 0.3)
    # The run traded that schedule: what filled at each slice's time is the slice (no latency on these venues).
    filled_at: dict[int, float] = {}
    for o in eng.cache.orders():
        if o.filled_qty.as_double() > 0:
            filled_at[o.ts_last] = filled_at.get(o.ts_last, 0.0) + o.filled_qty.as_double()
    assert sorted(filled_at.items()) == [(ts, pytest.approx(q)) for ts, q in plan if q > 0]


def test_pov_follows_the_tape():
    from nautilus_env import trades
    from nautilus_sor.execution_algorithms import POVExecAlgorithm

    a = btcusdt("BINANCE")
    data = quotes(a, [100.0] * 60, 0.05, "10.000", START) + trades(a, [100.0] * 60, "1.000", START + NS // 2)
    eng = engine({"BINANCE": OmsType.NETTING}, [a], data)
    algo = POVExecAlgorithm(POVExecAlgorithmConfig(participation_rate=0.1))
    eng.add_exec_algorithm(algo)
    strategy = OneParent(SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", execution_algorithm={"type": "POV"}), "1.000")
    eng.add_strategy(strategy)
    eng.run()
    parent = algo.parents[strategy.parents[0].client_order_id]
    assert parent.filled == 10**9 and parent.working == 0 and parent.pending == 0
    # 10% of 1.0 per trade after the order arrives: 10 children of 0.1.
    children = [o for o in eng.cache.orders() if o.filled_qty.as_double() > 0]
    assert len(children) == 10 and all(o.filled_qty == Quantity.from_str("0.100") for o in children)


def test_missing_venue_instrument_denies_the_primary_with_the_reason():
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=10, interval_seconds=1, use_smart_routing=True, venues=VENUES))
    eng, strategy = two_venue_run(algo, with_bybit=False)
    primary = strategy.parents[0]
    assert primary.status == OrderStatus.DENIED
    assert not algo.parents and not [o for o in eng.cache.orders() if o.filled_qty.as_double() > 0]


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: TWAPExecAlgorithmConfig(duration_seconds=0, interval_seconds=1), "duration_seconds"),
        (lambda: TWAPExecAlgorithmConfig(duration_seconds=60, interval_seconds=120), "interval_seconds"),
        (lambda: TWAPExecAlgorithmConfig(duration_seconds=math.nan), "duration_seconds"),
        (lambda: TWAPExecAlgorithmConfig(use_smart_routing=True, venues=[]), "venues"),
        (lambda: TWAPExecAlgorithmConfig(max_venues=0), "max_venues"),
        (lambda: VWAPExecAlgorithmConfig(volume_profile={0: 0.0, 1: 0.0}), "volume_profile"),
        (lambda: VWAPExecAlgorithmConfig(volume_profile={25: 1.0}), "volume_profile[25]"),
        (lambda: VWAPExecAlgorithmConfig(volume_profile={1: -1.0}), "volume_profile[1]"),
        (lambda: POVExecAlgorithmConfig(participation_rate=1.5), "participation_rate"),
        (lambda: POVExecAlgorithmConfig(min_child_quantity=1.0, max_child_quantity=0.5), "max_child_quantity"),
        (lambda: build_exec_algorithm({"type": "TWAP", "interval_seconds": -5}), "execution_algorithm.interval_seconds"),
        (lambda: build_exec_algorithm({"type": "SNIPER"}), "execution_algorithm.type"),
        (lambda: build_exec_algorithm({"duration_seconds": 5}), "execution_algorithm.type"),
        (lambda: SmartRoutingStrategyConfig(instrument_id="nonsense"), "instrument_id"),
        (lambda: SmartRoutingStrategyConfig(instrument_id="X.Y", execution_algorithm={"duration_seconds": 1}), "execution_algorithm.type"),
    ],
)
def test_impossible_algorithm_configs_name_the_field(make, field):
    with pytest.raises(ConfigError) as info:
        make()
    assert info.value.field == field


@pytest.mark.parametrize(
    ("venues", "field"),
    [
        ([], "venues"),
        ([{"name": "A", "maker_fee": 0.0}], "venues[0].taker_fee"),
        ([{"name": "A", "maker_fee": 0.0, "taker_fee": "cheap"}], "venues[0].taker_fee"),
        ([{"name": "A", "maker_fee": 0.0, "taker_fee": 0.0, "colour": "red"}], "venues[0].colour"),
        ([{"name": "A", "maker_fee": 0.0, "taker_fee": 0.0, "oms_type": "NETTED"}], "venues[0].oms_type"),
        ([{"name": "A", "maker_fee": 0.0, "taker_fee": 0.0}, {"name": "A", "maker_fee": 0.0, "taker_fee": 0.0}], "venues[1].name"),
        ([{"name": "A", "maker_fee": 0.0, "taker_fee": -0.001}], "venues[0].taker_fee"),
        ([{"name": "A", "maker_fee": 0.0, "taker_fee": 0.0, "latency_ms": math.nan}], "venues[0].latency_ms"),
    ],
)
def test_bad_router_venues_name_the_entry(venues, field):
    with pytest.raises(ConfigError) as info:
        SmartOrderRouter(venues)
    assert info.value.field == field


def test_bad_router_calls_are_typed():
    router = SmartOrderRouter(VENUES)
    iid = InstrumentId.from_str("BTCUSDT.BINANCE")
    q = Quantity.from_str("1.0")
    cases = [
        (lambda: router.select_venue("BTCUSDT.BINANCE", OrderSide.BUY, q), "instrument_id"),
        (lambda: router.select_venue(iid, OrderSide.BUY, 1.0), "quantity"),
        (lambda: router.select_venue(iid, 7, q), "side"),
        (lambda: router.select_venue(iid, OrderSide.BUY, q, 50000.0), "price"),
        (lambda: router.select_venue(iid, OrderSide.BUY, Quantity.from_str("0.0")), "quantity"),
        (lambda: router.route_order(iid, OrderSide.BUY, q, max_venues=0), "max_venues"),
        (lambda: router.route_order(iid, OrderSide.BUY, Quantity.from_str("1.0000000001")), "total_quantity"),
    ]
    for call, field in cases:
        with pytest.raises(ValidationError) as info:
            call()
        assert info.value.field == field, call
    with pytest.raises(UnknownVenueError) as info:
        router.set_venue_enabled("KRAKEN", False)
    assert info.value.value == "KRAKEN"
    with pytest.raises(UnknownVenueError):
        router.venue_instrument_id(iid, "KRAKEN")


class QuotesCache:
    """The cache calls the router makes, over one quote per venue."""

    def __init__(self, asks: dict[str, tuple[float, str]]) -> None:
        from nautilus_trader.model.data import QuoteTick

        self.instruments = {venue: btcusdt(venue) for venue in asks}
        self.quotes = {
            i.id: QuoteTick(i.id, i.make_price(px - 0.1), i.make_price(px), Quantity.from_str(size), Quantity.from_str(size), 0, 0)
            for venue, (px, size) in asks.items()
            for i in [self.instruments[venue]]
        }

    def instrument(self, instrument_id):
        return self.instruments.get(instrument_id.venue.value)

    def order_book(self, instrument_id):
        return None

    def quote_tick(self, instrument_id):
        return self.quotes.get(instrument_id)


def test_max_venues_above_the_venue_count_uses_all_venues():
    # The reference routes with max_venues=3 over two venues: allowed, it means "no constraint". Neither
    # venue shows the whole order, so no constraint means both venues, each up to what it shows.
    router = SmartOrderRouter(VENUES, cache=QuotesCache({"BINANCE": (100.0, "0.600"), "BYBIT": (100.0, "0.700")}))
    allocations = router.route_order(InstrumentId.from_str("BTCUSDT.BINANCE"), OrderSide.BUY, Quantity.from_str("1.000"), max_venues=3,
                                     price=Price.from_str("100.00"))
    shares = {a.venue.value: a.quantity.as_double() for a in allocations}
    assert set(shares) == {"BINANCE", "BYBIT"} and all(q > 0 for q in shares.values()), shares
    assert shares["BYBIT"] == 0.7 and shares["BINANCE"] == pytest.approx(0.3)  # the cheaper taker fee fills first
    assert sum(shares.values()) == pytest.approx(1.0)
    # With max_venues=1 the same order has no venue that shows it all: a typed error, not a partial split.
    from nautilus_sor.exceptions import RoutingError

    with pytest.raises(RoutingError):
        router.route_order(InstrumentId.from_str("BTCUSDT.BINANCE"), OrderSide.BUY, Quantity.from_str("1.000"), max_venues=1,
                           price=Price.from_str("100.00"))


def test_execute_without_a_strategy_is_a_typed_error():
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig())
    with pytest.raises(ValidationError) as info:
        algo.execute(instrument_id=InstrumentId.from_str("BTCUSDT.BINANCE"), side=OrderSide.BUY, quantity=Quantity.from_str("1"))
    assert info.value.field == "strategy"


def test_algorithms_load_through_importable_exec_algorithm_config():
    from nautilus_trader.execution.config import ExecAlgorithmFactory, ImportableExecAlgorithmConfig

    config = ImportableExecAlgorithmConfig(
        exec_algorithm_path="nautilus_sor.execution_algorithms:TWAPExecAlgorithm",
        config_path="nautilus_sor.execution_algorithms:TWAPExecAlgorithmConfig",
        config={"duration_seconds": 600, "interval_seconds": 30, "use_smart_routing": True, "venues": VENUES},
    )
    algorithm = ExecAlgorithmFactory.create(config)
    assert isinstance(algorithm, TWAPExecAlgorithm)
    assert algorithm.twap_config.interval_seconds == 30 and algorithm.id.value == "TWAP"
    # ...and round-trips back to an importable config.
    assert algorithm.to_importable_config().config["duration_seconds"] == 600


def test_iceberg_algorithm_shows_one_chunk_at_a_time_and_completes():
    from nautilus_sor.execution_algorithms import IcebergExecAlgorithm, IcebergExecAlgorithmConfig

    a = btcusdt("BINANCE")
    # The mid swings by +-0.30 every few seconds, so a bid placed at the touch is later crossed.
    mids = [100.0 + 0.3 * math.sin(i / 3.0) for i in range(240)]
    eng = engine({"BINANCE": OmsType.NETTING}, [a], quotes(a, mids, 0.05, "10.000", START))
    algo = IcebergExecAlgorithm(IcebergExecAlgorithmConfig(visible_pct=0.25))
    eng.add_exec_algorithm(algo)
    strategy = OneParent(SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", execution_algorithm={"type": "ICEBERG"}), "1.000")
    eng.add_strategy(strategy)
    eng.run()
    parent = algo.parents[strategy.parents[0].client_order_id]
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (10**9, 0, 0, 0)
    chunks = sorted((o for o in eng.cache.orders() if o.client_order_id.value.startswith(parent.primary_id.value + "-E")), key=lambda o: o.ts_init)
    assert [o.quantity for o in chunks] == [Quantity.from_str("0.250")] * 4
    assert all(o.order_type.name == "LIMIT" and o.status == OrderStatus.FILLED for o in chunks)
    # Never more than one chunk visible: each chunk was created after the previous one filled.
    for prev, nxt in zip(chunks, chunks[1:]):
        assert nxt.ts_init >= prev.ts_last
    assert eng.cache.positions_open()[0].quantity == Quantity.from_str("1.000")
