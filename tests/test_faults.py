"""Fault injection in real Nautilus BacktestEngines (issue 8, "Reliability").

Each scenario runs the execution algorithms with smart routing over two or three simulated venues
while one of them misbehaves (rejects, goes dark, fills partially, races a cancel, or the run stops
mid-schedule), then checks the same invariants after every run (`assert_invariants`):

* per parent: filled + working + pending + abandoned == requested (the algorithm's bookkeeping);
* the same seen from the orders in the cache: the children's filled quantities sum to `filled`, the
  open children's leaves to `working`;
* no orphan: every order carrying our exec_algorithm_id is a known primary or a child tagged
  `parent=<known primary>` and registered under it, and is closed unless counted as working;
* positions: Nautilus's net position per instrument == the signed sum of our fills there (and the
  strategy's cross-venue position book agrees);
* the router's learned statistics reflect the fault (asserted per scenario).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Sequence

import pytest
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.backtest.models import LatencyModel
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import BTC, USDT
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide, OrderStatus, OrderType
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import Money, Price, Quantity

from nautilus_env import NS, START, btcusdt, quotes, trades
from nautilus_sor.execution_algorithms import (
    IcebergExecAlgorithm,
    IcebergExecAlgorithmConfig,
    POVExecAlgorithm,
    POVExecAlgorithmConfig,
    SmartExecAlgorithm,
    TWAPExecAlgorithm,
    TWAPExecAlgorithmConfig,
)
from nautilus_sor.strategy import MultiVenueStrategy, SmartRoutingStrategyConfig


def qty_to_units(q) -> int:
    """Units (1e-9) of a Quantity, zero allowed."""
    return round(Decimal(str(q)) * UNITS)

# BYBIT is the cheapest venue: the router sends it the flow until it learns better.
VENUES = [
    {"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0004},
    {"name": "BYBIT", "maker_fee": 0.0001, "taker_fee": 0.0002},
    {"name": "OKX", "maker_fee": 0.0002, "taker_fee": 0.0005},
]
FEES = {"BINANCE": "0.0004", "BYBIT": "0.0002", "OKX": "0.0005"}
MS = 1_000_000
UNITS = 10**9  # units per 1.0 of quantity


# Figures of each scenario (attempts before the router moved the flow, learned stats...), printed
# at the end of the module with `pytest -s`.
FIGURES: dict[str, Any] = {}


@pytest.fixture(scope="module", autouse=True)
def _print_figures():
    yield
    for name, fig in FIGURES.items():
        print(f"\n{name}: {fig}")


def instrument(venue: str, **overrides: Any) -> CurrencyPair:
    inst = btcusdt(venue, taker_fee=FEES[venue])
    if overrides:
        inst = CurrencyPair.from_dict({**CurrencyPair.to_dict(inst), **overrides})
    return inst


def make_engine(
    instruments: list[CurrencyPair],
    data: list,
    *,
    latency_ms: dict[str, int] | None = None,
) -> BacktestEngine:
    eng = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR"), trader_id="TESTER-001"))
    for inst in instruments:
        latency = (latency_ms or {}).get(inst.id.venue.value)
        eng.add_venue(
            venue=inst.id.venue,
            oms_type=OmsType.NETTING,
            account_type=AccountType.MARGIN,
            base_currency=None,
            starting_balances=[Money(1_000_000, USDT), Money(10, BTC)],
            latency_model=LatencyModel(base_latency_nanos=latency * MS) if latency else None,
        )
        eng.add_instrument(inst)
    eng.add_data(data)
    return eng


class Driver(MultiVenueStrategy):
    """Submits one primary at START + 1 s, then runs the scenario's timed actions."""

    def __init__(self, config, quantity: str, price: str | None = None, actions: Sequence[tuple[int, Callable[[Driver], None]]] = ()):
        super().__init__(config)
        self.quantity = Quantity.from_str(quantity)
        self.price = Price.from_str(price) if price is not None else None
        self.actions = list(actions)
        self.primaries: list = []
        self.log_events: list = []
        self.cancels: list[tuple[int, ClientOrderId]] = []

    def on_start(self) -> None:
        super().on_start()
        self.clock.set_time_alert_ns("go", START + NS, lambda e: self.primaries.extend(self.execute_order(OrderSide.BUY, self.quantity, self.price)))
        for i, (ts, action) in enumerate(self.actions):
            self.clock.set_time_alert_ns(f"action-{i}", ts, lambda e, action=action: action(self))

    def on_order_event(self, event: Any) -> None:
        super().on_order_event(event)
        self.log_events.append(event)


def run(algo: SmartExecAlgorithm, eng: BacktestEngine, quantity: str, *, price: str | None = None, actions=(), end_ns: int | None = None,
        primary: str = "BTCUSDT.BINANCE", venues: list[dict[str, Any]] = VENUES) -> Driver:
    eng.add_exec_algorithm(algo)
    strategy = Driver(
        SmartRoutingStrategyConfig(instrument_id=primary, use_smart_routing=True, venues=venues, execution_algorithm={"type": str(algo.id)}),
        quantity,
        price,
        actions,
    )
    eng.add_strategy(strategy)
    if end_ns is None:
        eng.run()
    else:
        eng.run(end=pd_ts(end_ns))
    return strategy


def pd_ts(ns: int):
    import pandas as pd

    return pd.Timestamp(ns, unit="ns", tz="UTC")


def ours(eng: BacktestEngine, algo: SmartExecAlgorithm) -> list:
    return [o for o in eng.cache.orders() if o.exec_algorithm_id == algo.id]


def parent_tag(order) -> str | None:
    tags = [t for t in (order.tags or []) if t.startswith("parent=")]
    return tags[0][len("parent="):] if tags else None


def assert_invariants(eng: BacktestEngine, algo: SmartExecAlgorithm, strategy: Driver) -> dict[str, Any]:
    """The invariants every scenario ends with; returns a few figures for the scenario's own checks."""
    assert algo.parents, "no parent was executed"
    # 1. The algorithm's bookkeeping.
    for parent in algo.parents.values():
        assert min(parent.filled, parent.working, parent.pending, parent.abandoned) >= 0, parent
        assert parent.filled + parent.working + parent.pending + parent.abandoned == parent.requested, parent
    # 2. No orphan, and every order is either a primary or a registered child.
    by_parent: dict[ClientOrderId, list] = {pid: [] for pid in algo.parents}
    for order in ours(eng, algo):
        if order.client_order_id in algo.parents:
            pid = order.client_order_id
            parent = algo.parents[pid]
            if parent.primary_sent:
                # Sent as the last child, or closed locally as fully distributed.
                if order.client_order_id in parent.children:
                    by_parent[pid].append(order)
                else:
                    assert order.is_closed and order.filled_qty.as_double() == 0, order
            else:
                # Never sent: it holds what is still pending (or was abandoned), and never filled.
                assert order.filled_qty.as_double() == 0, order
                assert parent.pending + parent.abandoned > 0, (order, parent)
                assert qty_to_units(order.quantity) == parent.pending + parent.abandoned, (order, parent)
            continue
        tag = parent_tag(order)
        assert tag is not None, f"orphan child without a parent tag: {order}"
        pid = ClientOrderId(tag)
        assert pid in algo.parents, f"orphan child of an unknown parent: {order}"
        assert order.client_order_id in algo.parents[pid].children, f"child not registered under its parent: {order}"
        by_parent[pid].append(order)
    # 3. The bookkeeping seen from the cache.
    for pid, children in by_parent.items():
        parent = algo.parents[pid]
        filled = sum(qty_to_units(o.filled_qty) for o in children)
        # Working: every child not closed (open at the venue, or still in flight: SUBMITTED).
        working = sum(qty_to_units(o.leaves_qty) for o in children if not o.is_closed)
        assert filled == parent.filled, (pid, filled, parent)
        assert working == parent.working, (pid, working, parent, [o for o in children if not o.is_closed])
        for o in children:
            child = parent.children[o.client_order_id]
            assert child.filled_units == qty_to_units(o.filled_qty), (o, child)
            if o.is_closed:
                assert child.done, (o, child)
    # 4. Positions == signed sum of fills, per instrument; the strategy's position book agrees.
    signed: dict[InstrumentId, int] = {}
    for o in eng.cache.orders():
        sign = 1 if o.side == OrderSide.BUY else -1
        signed[o.instrument_id] = signed.get(o.instrument_id, 0) + sign * qty_to_units(o.filled_qty)
    for iid, units in signed.items():
        net = sum(Decimal(str(p.signed_qty)) for p in eng.cache.positions(instrument_id=iid))
        assert round(net * UNITS) == units, (iid, net, units)
    total = sum(signed.values())
    if any(signed.values()):  # the position book knows an underlying once it has a fill
        assert strategy.net_exposure("BTC") == pytest.approx(total / UNITS)
    assert sum(p.filled for p in algo.parents.values()) == total
    return {
        "filled_by_venue": {iid.venue.value: u / UNITS for iid, u in signed.items() if u},
        "stats": {s.venue: s for s in (algo.router.venue_stats() if algo.router is not None else [])},
    }


def flat_quotes(venues: list[CurrencyPair], seconds: int, size: str = "10.000", half_spread: float = 0.05, start: int = START) -> list:
    mids = [100.0 + 0.01 * (i % 5) for i in range(seconds)]
    out: list = []
    for inst in venues:
        out += quotes(inst, mids, half_spread, size, start)
    return out


def venue_of(order) -> str:
    return order.instrument_id.venue.value


# -- 1. a venue that rejects -------------------------------------------------------------------


@pytest.mark.parametrize("how", ["venue_reject", "risk_denied"])
def test_rejecting_venue_loses_the_flow_and_everything_fills_elsewhere(how):
    """BYBIT (the cheapest) refuses every child: either the simulated venue itself REJECTs (after its
    latency; its lot precision differs from the instrument we hold), or its instrument's max_quantity
    is below the child size and the risk engine DENIES. Either way the router stops sending it flow
    after a few attempts and everything fills on the other venues."""
    if how == "venue_reject":
        insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
        eng = make_engine(insts, flat_quotes(insts, 40), latency_ms={"BYBIT": 5})
        # The venue changed its lot rules: our cache says 0.01 lots (precision 2), the venue still
        # wants precision 3, so its matching engine REJECTs every child ("Invalid size precision").
        eng.cache.add_instrument(instrument("BYBIT", size_precision=2, size_increment="0.01", min_quantity="0.01", max_quantity="9000.00"))
    else:
        insts = [instrument("BINANCE"), instrument("BYBIT", max_quantity="0.010"), instrument("OKX")]
        eng = make_engine(insts, flat_quotes(insts, 40), latency_ms={"BYBIT": 5})
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=20, interval_seconds=1, use_smart_routing=True, venues=VENUES))
    strategy = run(algo, eng, "2.000")
    figures = assert_invariants(eng, algo, strategy)
    parent = algo.parents[strategy.primaries[0].client_order_id]
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (2 * UNITS, 0, 0, 0)
    status = OrderStatus.REJECTED if how == "venue_reject" else OrderStatus.DENIED
    refused = [o for o in ours(eng, algo) if venue_of(o) == "BYBIT"]
    assert refused and all(o.status == status for o in refused)
    # Bounded: BYBIT gets a handful of attempts, then no more flow.
    assert len(refused) <= 5
    stats = figures["stats"]["BYBIT"]
    assert stats.rejects == len(refused) and stats.fills == 0
    assert stats.reject_rate > 0 and stats.fill_probability < 0.8
    assert figures["stats"]["BINANCE"].rejects == 0 and figures["stats"]["BINANCE"].fill_probability > stats.fill_probability
    assert "BYBIT" not in figures["filled_by_venue"]
    assert sum(figures["filled_by_venue"].values()) == pytest.approx(2.0)
    last_refused = max(o.ts_init for o in refused)
    later = [o for o in ours(eng, algo) if o.ts_init > last_refused and o.client_order_id not in algo.parents]
    assert later and all(venue_of(o) != "BYBIT" for o in later)
    FIGURES[f"reject/{how}"] = {"attempts_on_faulty_venue": len(refused), "bybit_fill_probability": stats.fill_probability,
                                "bybit_reject_rate": stats.reject_rate, "filled_by_venue": figures["filled_by_venue"]}


# -- 2. a venue going dark mid-schedule, then recovering ---------------------------------------

DARK_FROM, DARK_TO = 6, 12  # seconds after START


@pytest.mark.parametrize("how", ["book_empties", "disabled"])
def test_dark_venue_loses_the_flow_and_gets_it_back_after_recovery(how):
    """BYBIT (cheapest, 50 ms away) goes dark from 6 s to 12 s: either its book empties (quotes with
    no size: nothing to take), or the operator disables it (`router.set_venue_enabled`). A child
    already in flight when the book empties is rejected ("no market") and its quantity returns to
    the schedule; no new child goes there while it is dark; flow resumes after it recovers."""
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    bybit = insts[1]
    data = flat_quotes([insts[0], insts[2]], 40)
    actions = []
    if how == "book_empties":
        data += [q for q in flat_quotes([bybit], 40) if not START + DARK_FROM * NS <= q.ts_event < START + DARK_TO * NS]
        for k in range(DARK_FROM, DARK_TO):
            ts = START + k * NS + 20 * MS  # just after the slice at k s was sent: that child is in flight
            zero = Quantity.from_str("0.000")
            data.append(QuoteTick(bybit.id, bybit.make_price(99.95), bybit.make_price(100.05), zero, zero, ts, ts))
    else:
        data += flat_quotes([bybit], 40)
        actions = [
            (START + DARK_FROM * NS + 20 * MS, lambda s: algo.router.set_venue_enabled("BYBIT", False)),
            (START + DARK_TO * NS - 20 * MS, lambda s: algo.router.set_venue_enabled("BYBIT", True)),
        ]
    eng = make_engine(insts, data, latency_ms={"BYBIT": 50})
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=20, interval_seconds=1, use_smart_routing=True, venues=VENUES))
    strategy = run(algo, eng, "2.000", actions=actions)
    figures = assert_invariants(eng, algo, strategy)
    parent = algo.parents[strategy.primaries[0].client_order_id]
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (2 * UNITS, 0, 0, 0)
    sent = [o for o in ours(eng, algo) if o.client_order_id != parent.primary_id or parent.primary_id in parent.children]
    dark = [o for o in sent if venue_of(o) == "BYBIT" and START + DARK_FROM * NS <= o.ts_init < START + DARK_TO * NS]
    refused = [o for o in sent if venue_of(o) == "BYBIT" and o.status in (OrderStatus.REJECTED, OrderStatus.DENIED)]
    before = [o for o in sent if venue_of(o) == "BYBIT" and o.ts_init < START + DARK_FROM * NS]
    after = [o for o in sent if venue_of(o) == "BYBIT" and o.ts_init >= START + DARK_TO * NS]
    assert before and after, "BYBIT had the flow before and after the outage"
    elsewhere_during = [o for o in sent if venue_of(o) != "BYBIT" and START + DARK_FROM * NS <= o.ts_init < START + DARK_TO * NS]
    assert elsewhere_during and all(o.status == OrderStatus.FILLED for o in elsewhere_during)
    stats = figures["stats"]["BYBIT"]
    if how == "book_empties":
        # Only the child already in flight at the outage (sent at 6 s) is lost; it was rejected by the venue.
        assert [o.ts_init for o in dark] == [START + DARK_FROM * NS] and refused == dark
        reasons = [e.reason for e in strategy.log_events if type(e).__name__ == "OrderRejected"]
        assert reasons and all("no market" in r for r in reasons), reasons
        assert stats.rejects == 1 and stats.fill_probability < 1.0
        # Its quantity came back with the next slice (0.1 + 0.1 on another venue at 7 s).
        nxt = min((o for o in elsewhere_during if o.ts_init > dark[0].ts_init), key=lambda o: o.ts_init)
        assert nxt.quantity == Quantity.from_str("0.200")
    else:
        # The slice at 6 s went before the switch (in flight, filled); nothing was sent while disabled.
        assert [o.ts_init for o in dark] == [START + DARK_FROM * NS] and not refused
        assert stats.rejects == 0
    FIGURES[f"dark/{how}"] = {"bybit_children_during_outage": len(dark), "refused": len(refused),
                              "bybit_children_before/after": (len(before), len(after)),
                              "bybit_fill_probability": stats.fill_probability, "filled_by_venue": figures["filled_by_venue"]}


# -- 3. partial fills ---------------------------------------------------------------------------


def thin_after_routing(insts: list[CurrencyPair], thin: CurrencyPair, seconds: int, thin_size: str = "0.030") -> list:
    """Deep quotes every second on every venue; on `thin`, 20 ms later, only `thin_size` is left (and
    again at 60 ms, when a child sent at the second with 50 ms latency reaches the venue)."""
    data = flat_quotes(insts, seconds)
    data += flat_quotes([thin], seconds, size=thin_size, start=START + 20 * MS)
    data += flat_quotes([thin], seconds, size=thin_size, start=START + 60 * MS)
    return data


@pytest.mark.parametrize("primary_price", [None, "100.10"], ids=["market_children", "ioc_limit_children"])
def test_partial_fills_return_the_rest_to_the_schedule(primary_price):
    """BYBIT shows 10 BTC when the slice is routed, but only 0.03 is left when the child (50 ms away)
    arrives: every child there fills 0.03 and the IOC rest is cancelled. The rest returns to the
    schedule and goes out with the next slice (then catch-up slices), until the router, having learned
    BYBIT's poor fill rate, sends it elsewhere; the parent completes."""
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    eng = make_engine(insts, thin_after_routing(insts, insts[1], 40), latency_ms={"BYBIT": 50})
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=10, interval_seconds=1, use_smart_routing=True, venues=VENUES, max_retries=3))
    strategy = run(algo, eng, "1.000", price=primary_price)
    figures = assert_invariants(eng, algo, strategy)
    parent = algo.parents[strategy.primaries[0].client_order_id]
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (UNITS, 0, 0, 0)
    children = sorted((o for o in ours(eng, algo) if o.client_order_id != parent.primary_id), key=lambda o: (o.ts_init, o.client_order_id.value))
    partial = [o for o in children if o.status == OrderStatus.CANCELED and 0 < o.filled_qty.as_double() < o.quantity.as_double()]
    assert partial and all(venue_of(o) == "BYBIT" and o.filled_qty == Quantity.from_str("0.030") for o in partial)
    # The unfilled rest of each partial child goes out again with the next slice (0.1 per slice).
    for prev, nxt in zip(partial, partial[1:]):
        assert qty_to_units(nxt.quantity) == qty_to_units(prev.leaves_qty) + UNITS // 10
    # Bounded: BYBIT keeps the flow for at most the 10 scheduled slices, then the rest goes elsewhere.
    assert len(partial) <= 10
    after = [o for o in children if o.ts_init > partial[-1].ts_last]
    assert after and sum(qty_to_units(o.filled_qty) for o in after if venue_of(o) != "BYBIT") >= qty_to_units(partial[-1].leaves_qty) - 30 * 10**6
    assert 0 < parent.retries <= 3
    stats = figures["stats"]["BYBIT"]
    assert stats.rejects == 0 and stats.fill_rate < 0.7 and stats.fill_probability < 0.7
    assert figures["stats"]["BINANCE"].fill_probability == 1.0
    FIGURES[f"partial/{'limit' if primary_price else 'market'}"] = {
        "partial_children_before_router_moved": len(partial), "retries": parent.retries,
        "bybit_fill_rate": stats.fill_rate, "bybit_fill_probability": stats.fill_probability, "filled_by_venue": figures["filled_by_venue"]}


def test_liquidity_never_arrives_abandons_after_max_retries():
    """Both venues show depth when a slice is routed but only 0.03 is left when each child arrives:
    every child fills partially, the rest is retried `max_retries` times after the last slice and then
    abandoned, and the bookkeeping says so."""
    insts = [instrument("BINANCE"), instrument("BYBIT")]
    data = flat_quotes(insts, 30)
    for inst in insts:
        data += flat_quotes([inst], 30, size="0.030", start=START + 20 * MS) + flat_quotes([inst], 30, size="0.030", start=START + 60 * MS)
    eng = make_engine(insts, data, latency_ms={"BINANCE": 50, "BYBIT": 50})
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=3, interval_seconds=1, use_smart_routing=True, venues=VENUES[:2], max_retries=2))
    strategy = run(algo, eng, "1.000", venues=VENUES[:2])
    figures = assert_invariants(eng, algo, strategy)
    parent = algo.parents[strategy.primaries[0].client_order_id]
    assert parent.retries == 2 and parent.working == 0 and parent.pending == 0
    assert parent.filled > 0 and parent.abandoned > 0 and parent.filled + parent.abandoned == UNITS
    # Every venue where a child filled only partly has learned it (partial routing of what the books
    # show may also send children that fill completely).
    partial = {o.instrument_id.venue.value for o in eng.cache.orders() if 0 < o.filled_qty.as_double() < o.quantity.as_double()}
    assert partial and all(figures["stats"][v].fill_rate < 1.0 for v in partial)
    FIGURES["partial/abandoned"] = {**algo.parent_summary(parent.primary_id), "primary_status": strategy.primaries[0].status.name}


# -- 4. cancels racing fills --------------------------------------------------------------------


def crossing_market(insts: list[CurrencyPair], seconds: int, cross_from: int, cross_size: str = "10.000") -> list:
    """Quotes at 99.95 / 100.05 every second; from `cross_from` on, at each second + 30 ms the ask
    drops through the resting bids (to a lower level each time, so a chunk placed at the crossed touch
    is crossed by the next one), and at + 70 ms the market is back."""
    out = flat_quotes(insts, seconds, half_spread=0.05, size="10.000")
    for inst in insts:
        for k in range(cross_from, seconds):
            ask = 99.90 - 0.10 * (k - cross_from)
            for ts, bid_px, ask_px, size in ((START + k * NS + 30 * MS, ask - 0.05, ask, cross_size), (START + k * NS + 70 * MS, 99.95, 100.05, "10.000")):
                out.append(QuoteTick(inst.id, inst.make_price(bid_px), inst.make_price(ask_px), Quantity.from_str("10.000"), Quantity.from_str(size), ts, ts))
    return out


def cancel_working_chunks(strategy: Driver, algo: SmartExecAlgorithm) -> None:
    for order in ours_from(strategy, algo):
        if order.is_open and order.client_order_id not in algo.parents:
            strategy.cancel_order(order)
            strategy.cancels.append((strategy.clock.timestamp_ns(), order.client_order_id))


def ours_from(strategy: Driver, algo: SmartExecAlgorithm) -> list:
    return [o for o in strategy.cache.orders() if o.exec_algorithm_id == algo.id]


@pytest.mark.parametrize("race", ["fill_wins", "cancel_wins", "fills_in_pieces_while_cancel_pending"])
def test_iceberg_cancel_racing_a_fill(race):
    """An ICEBERG chunk rests on the venue the router chose (50 ms away). The strategy cancels it at
    5 s + 10 ms: the cancel reaches the venue at 5 s + 60 ms. `fill_wins`: the market crosses the chunk
    at 5 s + 30 ms, so it fills while the cancel is in flight (the cancel is then rejected);
    `cancel_wins`: the market crosses only from 6 s, the cancel lands first and the chunk's quantity
    goes back into hiding, to be shown again. Either way nothing is counted twice and the parent
    completes."""
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    cross_from = 6 if race == "cancel_wins" else 5
    data = crossing_market(insts, 30, cross_from)
    if race == "fills_in_pieces_while_cancel_pending":
        # The first cross only shows 0.1 on the ask: the chunk fills in two pieces (the simulator's L1
        # book fills the rest a tick through) while its cancel is pending.
        first = START + 5 * NS + 30 * MS
        data = [q for q in data if q.ts_event != first] + [
            QuoteTick(i.id, i.make_price(99.85), i.make_price(99.90), Quantity.from_str("10.000"), Quantity.from_str("0.100"), first, first) for i in insts
        ]
    eng = make_engine(insts, data, latency_ms={v: 50 for v in ("BINANCE", "BYBIT", "OKX")})
    algo = IcebergExecAlgorithm(IcebergExecAlgorithmConfig(visible_pct=0.25, use_smart_routing=True, venues=VENUES))
    actions = [(START + 5 * NS + 10 * MS, lambda s: cancel_working_chunks(s, algo))]
    strategy = run(algo, eng, "1.000", actions=actions)
    figures = assert_invariants(eng, algo, strategy)
    parent = algo.parents[strategy.primaries[0].client_order_id]
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (UNITS, 0, 0, 0)
    assert len(strategy.cancels) == 1
    target = eng.cache.order(strategy.cancels[0][1])
    chunks = sorted((o for o in ours(eng, algo) if o.client_order_id != parent.primary_id), key=lambda o: o.ts_init)
    events = [type(e).__name__ for e in strategy.log_events if e.client_order_id == target.client_order_id]
    if race == "fill_wins":
        assert target.status == OrderStatus.FILLED and "OrderCancelRejected" in events, events
        assert [o.status for o in chunks] == [OrderStatus.FILLED] * 4
    elif race == "fills_in_pieces_while_cancel_pending":
        assert target.status == OrderStatus.FILLED and events.count("OrderFilled") == 2 and events[-1] == "OrderCancelRejected", events
        assert [o.status for o in chunks] == [OrderStatus.FILLED] * 4
    else:
        assert target.status == OrderStatus.CANCELED and target.filled_qty.as_double() == 0, events
        assert [o.status for o in chunks].count(OrderStatus.CANCELED) == 1
        assert sum(o.filled_qty.as_double() for o in chunks) == pytest.approx(1.0)
    # Never more than one chunk working at a time: the next is created when the previous is done.
    for prev, nxt in zip(chunks, chunks[1:]):
        done = max(e.ts_event for e in prev.events if type(e).__name__ in ("OrderFilled", "OrderCanceled"))
        assert nxt.ts_init >= done
    FIGURES[f"cancel_race/{race}"] = {"chunks": [(o.quantity.as_double(), o.status.name, venue_of(o)) for o in chunks],
                                      "events_of_cancelled_chunk": events,
                                      "fill_probability": {k: round(v.fill_probability, 3) for k, v in figures["stats"].items()}, "filled_by_venue": figures["filled_by_venue"]}


# -- 5. stopped mid-way -------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["engine_end", "algorithm_stop"])
def test_twap_stopped_mid_schedule_abandons_and_accounts_the_rest(how):
    """A 20 s TWAP of 2.0 stopped at 8.5 s, by the backtest ending (`engine.run(end=...)`: the trader
    stops) or by `algorithm.stop()` while the market goes on: what was not sent is abandoned, nothing
    more is sent after the stop, and the unsent primary holds exactly the abandoned quantity."""
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    eng = make_engine(insts, flat_quotes(insts, 40))
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=20, interval_seconds=1, use_smart_routing=True, venues=VENUES))
    stop_at = START + 8 * NS + 500 * MS
    if how == "engine_end":
        strategy = run(algo, eng, "2.000", end_ns=stop_at)
    else:
        strategy = run(algo, eng, "2.000", actions=[(stop_at, lambda s: algo.stop())])
    assert_invariants(eng, algo, strategy)
    parent = algo.parents[strategy.primaries[0].client_order_id]
    assert parent.working == 0 and parent.pending == 0 and parent.abandoned > 0 and not parent.slices
    assert parent.filled + parent.abandoned == 2 * UNITS
    assert parent.filled == sum(10**8 for o in ours(eng, algo) if o.status == OrderStatus.FILLED)
    assert all(o.ts_init <= stop_at for o in ours(eng, algo))
    primary = strategy.primaries[0]
    assert qty_to_units(primary.quantity) == parent.abandoned and primary.filled_qty.as_double() == 0
    FIGURES[f"stop/twap/{how}"] = {**algo.parent_summary(parent.primary_id), "primary_status": primary.status.name}


def test_pov_stopped_by_the_end_of_the_backtest():
    """POV at 10% of the tape of three venues; the backtest ends before the parent is done."""
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    data = flat_quotes(insts, 40)
    for inst in insts:
        data += trades(inst, [100.0] * 40, "1.000", START + NS // 2)
    eng = make_engine(insts, data)
    algo = POVExecAlgorithm(POVExecAlgorithmConfig(participation_rate=0.1, use_smart_routing=True, venues=VENUES))
    strategy = run(algo, eng, "5.000", end_ns=START + 6 * NS + 700 * MS)
    figures = assert_invariants(eng, algo, strategy)
    parent = algo.parents[strategy.primaries[0].client_order_id]
    assert 0 < parent.filled < 5 * UNITS and parent.working == 0 and parent.pending == 0
    assert parent.filled + parent.abandoned == 5 * UNITS
    FIGURES["stop/pov/engine_end"] = {**algo.parent_summary(parent.primary_id), "filled_by_venue": figures["filled_by_venue"]}


def test_iceberg_stopped_by_the_end_of_the_backtest_with_a_chunk_in_flight():
    """The backtest ends at 6.5 s while a chunk sent at 6.03 s is still in flight (50 ms latency): it
    is counted as working, the hidden rest as abandoned."""
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    eng = make_engine(insts, crossing_market(insts, 30, 5), latency_ms={v: 50 for v in ("BINANCE", "BYBIT", "OKX")})
    algo = IcebergExecAlgorithm(IcebergExecAlgorithmConfig(visible_pct=0.25, use_smart_routing=True, venues=VENUES))
    strategy = run(algo, eng, "1.000", end_ns=START + 6 * NS + 500 * MS)
    assert_invariants(eng, algo, strategy)
    parent = algo.parents[strategy.primaries[0].client_order_id]
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (UNITS // 2, UNITS // 4, 0, UNITS // 4)
    FIGURES["stop/iceberg/engine_end"] = algo.parent_summary(parent.primary_id)


# -- bugs this suite found, now fixed: regression tests -----------------------------------------


@pytest.mark.parametrize(("stop_at_ms", "outcome"), [(3_000, OrderStatus.CANCELED), (5_000, OrderStatus.FILLED)])
def test_iceberg_chunk_working_when_the_algorithm_stops_is_accounted(stop_at_ms, outcome):
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    eng = make_engine(insts, crossing_market(insts, 30, 5), latency_ms={v: 50 for v in ("BINANCE", "BYBIT", "OKX")})
    algo = IcebergExecAlgorithm(IcebergExecAlgorithmConfig(visible_pct=0.25, use_smart_routing=True, venues=VENUES))
    # The first chunk (0.25, resting at the bid) is working when the algorithm stops; the market
    # crosses it at 5.03 s. The stop cancels working children (the cancel takes 50 ms to arrive):
    # stopped at 3 s the cancel wins, stopped at 5 s the fill wins, and the fill after the stop counts.
    strategy = run(algo, eng, "1.000", actions=[(START + stop_at_ms * MS, lambda s: algo.stop())])
    parent = algo.parents[strategy.primaries[0].client_order_id]
    chunk = eng.cache.order(ClientOrderId(f"{parent.primary_id.value}-E1"))
    assert chunk.status == outcome
    assert_invariants(eng, algo, strategy)
    assert parent.working == 0 and parent.pending == 0
    assert parent.filled == (250_000_000 if outcome == OrderStatus.FILLED else 0)
    assert strategy.primaries[0].is_closed


@pytest.mark.parametrize("how", ["max_retries", "algorithm_stop"])
def test_a_finished_parent_closes_its_primary(how):
    insts = [instrument("BINANCE"), instrument("BYBIT")]
    if how == "max_retries":
        # Every venue only shows 0.03: no slice of 0.333 can be routed (the router wants the whole
        # slice), so after the schedule and 2 retries everything is abandoned.
        eng = make_engine(insts, flat_quotes(insts, 30, size="0.030"))
        algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=3, interval_seconds=1, use_smart_routing=True, venues=VENUES[:2], max_retries=2))
        strategy = run(algo, eng, "1.000", venues=VENUES[:2])
    else:
        eng = make_engine(insts, flat_quotes(insts, 30))
        algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=20, interval_seconds=1, use_smart_routing=True, venues=VENUES[:2]))
        strategy = run(algo, eng, "2.000", venues=VENUES[:2], actions=[(START + 5 * NS + 500 * MS, lambda s: algo.stop())])
    assert_invariants(eng, algo, strategy)
    parent = algo.parents[strategy.primaries[0].client_order_id]
    assert parent.is_done and parent.abandoned > 0
    assert strategy.primaries[0].is_closed, strategy.primaries[0]


def test_router_learns_venue_latency_from_algorithm_children():
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    eng = make_engine(insts, flat_quotes(insts, 30), latency_ms={"BINANCE": 50, "BYBIT": 50, "OKX": 50})
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=5, interval_seconds=1, use_smart_routing=True, venues=VENUES))
    strategy = run(algo, eng, "1.000")
    assert_invariants(eng, algo, strategy)
    stats = {s.venue: s for s in algo.router.venue_stats()}
    assert stats["BYBIT"].orders == 5 and stats["BYBIT"].fills == 5
    assert stats["BYBIT"].acks > 0 and stats["BYBIT"].latency_mean_ms >= 50


# ================================================================ round 2 (issue 19): poisoned learning, concurrency

import math  # noqa: E402
import random  # noqa: E402
import threading  # noqa: E402

import numpy as np  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from nautilus_sor import NautilusSorError, PositionBook, Router, VenueSpec  # noqa: E402
from nautilus_sor.smart_router import SmartOrderRouter  # noqa: E402

EDGE_PRICES = st.sampled_from([1e-12, 1e-6, 1.0, 5e4, 1e15])


@settings(max_examples=150, deadline=None)
@given(
    prices=st.lists(st.tuples(EDGE_PRICES, st.floats(1e-12, 1e15)), min_size=2, max_size=2),
    sizes=st.lists(st.sampled_from([1, 7, 2**40, 2**64 - 1]), min_size=2, max_size=2),
    volatility=st.sampled_from([0.0, 1e-4, 1.0]),
    weight=st.sampled_from([0.0, 1.0, 1e6]),
    events=st.lists(st.tuples(st.sampled_from(["ack", "fill", "reject", "done"]), st.floats(allow_nan=True, allow_infinity=True),
                              st.floats(allow_nan=True, allow_infinity=True)), max_size=30),
)
def test_any_accepted_inputs_give_finite_scores_and_a_restorable_state(prices, sizes, volatility, weight, events):
    """Whatever the router accepts (edge prices and sizes, the largest weights, any learning events it
    does not refuse), every score is finite, so a NaN can never win select_venue or split; and the
    learned state restores into a fresh router."""
    router = Router([VenueSpec("A", 0.0, 0.1, 3_600_000.0), VenueSpec("B", -0.01, 0.0, 0.0)], volatility=volatility,
                    latency_risk_weight=weight, miss_cost_bps=10_000.0, slippage_weight=weight)
    for venue, (a, b), size in zip("AB", prices, sizes):
        bid, ask = sorted((a, b))
        if bid < ask:
            router.set_book(venue, [(bid, size)], [(ask, size)])
    for kind, x, y in events:
        try:
            if kind == "ack":
                router.record_ack("A", x)
            elif kind == "fill":
                router.record_fill("A", "BUY", x, y)
            elif kind == "reject":
                router.record_reject("B")
            else:
                router.record_order_done("A", 1, 2)
        except NautilusSorError:
            pass
    for side in ("BUY", "SELL"):
        try:
            selection = router.select_venue(side, 1)
            split = router.split(side, 2, 1)
        except NautilusSorError:
            continue  # no liquidity on that side: refused, not a NaN
        assert math.isfinite(selection.best.score_bps)
        assert all(math.isfinite(q.score_bps) for _, q, _ in selection.candidates if q is not None)
        assert math.isfinite(split.score_bps) and all(math.isfinite(a.score_bps) for a in split.allocations)
    fresh = Router([VenueSpec("A", 0.0, 0.1, 3_600_000.0), VenueSpec("B", -0.01, 0.0, 0.0)])
    for venue in "AB":
        s = router.venue_stats(venue)
        fresh.restore_venue_stats(venue, **{f: getattr(s, f) for f in (
            "fill_rate", "reject_rate", "latency_mean_ms", "latency_var_ms2", "slippage_bps", "orders", "fills", "rejects", "acks")})
        assert repr(fresh.venue_stats(venue)) == repr(s)


def test_a_poisoned_fill_is_refused_and_the_venue_keeps_routing():
    """The issue's sequence: record_fill(1e-300 -> 1e300) used to make slippage inf, the next fill NaN,
    and the NaN-scored venue then won everything."""
    router = Router([VenueSpec("A", 0.0, 0.0004, 10.0), VenueSpec("B", 0.0, 0.0001, 10.0)])
    router.set_book("A", [(99.0, 10)], [(100.0, 10)])
    router.set_book("B", [(99.0, 10)], [(100.0, 10)])
    with pytest.raises(NautilusSorError):
        router.record_fill("A", "BUY", 1e-300, 1e300)
    router.record_fill("A", "BUY", 100.0, 100.2)
    assert math.isfinite(router.venue_stats("A").slippage_bps)
    assert router.select_venue("BUY", 1).venue == "B"  # B is cheaper: A's poisoned fill did not win it the flow
    assert [a.venue for a in router.split("BUY", 1, max_venues=1).allocations] == ["B"]


def test_a_venue_event_the_statistics_refuse_is_counted_not_raised():
    """A venue's fill at ten times the expected price is not learned from (and does not crash the strategy's
    on_order_event): it is counted in unlearned_events."""
    from nautilus_trader.model.enums import LiquiditySide
    from nautilus_trader.model.events import OrderFilled
    from nautilus_trader.model.identifiers import AccountId, StrategyId, TraderId, TradeId, VenueOrderId
    from nautilus_trader.core.uuid import UUID4

    router = SmartOrderRouter([{"name": "BINANCE", "maker_fee": 0.0, "taker_fee": 0.0004, "latency_ms": 5}])
    instrument = InstrumentId.from_str("BTCUSDT.BINANCE")
    allocation = router.select_venue(instrument, OrderSide.BUY, Quantity.from_str("1.000"), Price.from_str("100.0"))
    order_id = ClientOrderId("O-1")
    router.track(order_id, allocation, OrderSide.BUY)
    before = repr(router.core.venue_stats("BINANCE"))
    fill = OrderFilled(TraderId("T-001"), StrategyId("S-001"), instrument, order_id, VenueOrderId("V-1"), AccountId("SIM-001"),
                       TradeId("1"), None, OrderSide.BUY, OrderType.MARKET, Quantity.from_str("1.000"), Price.from_str("1000.0"),
                       USDT, Money(0, USDT), LiquiditySide.TAKER, UUID4(), 1, 1)
    router.on_order_event(fill)
    assert router.unlearned_events == 1
    after = router.core.venue_stats("BINANCE")
    assert after.slippage_bps == 0.0 and after.fills == 0 and repr(after) != before  # the order completed: fill_rate moved


# ---------------------------------------------------------------- concurrency: 8 threads against sequential replay

THREADS = 8


def _writer_ops(seed: int, n: int) -> list[tuple]:
    rng = random.Random(seed)
    ops: list[tuple] = []
    for _ in range(n):
        k = rng.randrange(6)
        if k == 0:
            ops.append(("record_ack", rng.uniform(0.0, 500.0)))
        elif k == 1:
            ops.append(("record_fill", rng.choice(["BUY", "SELL"]), 100.0, 100.0 + rng.uniform(-1, 1)))
        elif k == 2:
            ops.append(("record_reject",))
        elif k == 3:
            ops.append(("record_order_done", rng.randrange(3), 2))
        elif k == 4:
            mid = rng.uniform(90, 110)
            ops.append(("set_book", [(mid - 0.5, rng.randrange(1, 50))], [(mid + 0.5, rng.randrange(1, 50))]))
        else:
            ops.append(("update_level", rng.random() < 0.5, float("nan"), 1))  # refused: must change nothing
    return ops


def _apply(router: Router, venue: str, op: tuple) -> None:
    name, *args = op
    try:
        getattr(router, name)(venue, *args)
    except NautilusSorError:
        pass


def _hammer_router() -> Router:
    # Readers route on LIVE1/LIVE2; each writer owns a disabled venue, which no routing result depends on.
    venues = [VenueSpec("LIVE1", 0.0, 0.0004, 10.0), VenueSpec("LIVE2", 0.0, 0.0002, 30.0)]
    venues += [VenueSpec(f"W{t}", 0.0, 0.0003, 20.0, enabled=False) for t in range(THREADS)]
    router = Router(venues)
    router.set_book("LIVE1", [(99.0, 500)], [(100.0, 300), (100.5, 900)])
    router.set_book("LIVE2", [(99.2, 400)], [(100.1, 800)])
    return router


def _run_threads(work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def run(t: int) -> None:
        try:
            start.wait()
            work(t)
        except BaseException as exc:  # noqa: BLE001 - every failure is reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not any(th.is_alive() for th in threads), "a thread did not finish: deadlock"
    return errors


def test_router_hammered_from_8_threads_equals_the_sequential_replay():
    """Half the threads route (split, select, route_batch and select_batch, which run without the GIL),
    half learn and update books on their own venue: no call fails (it waits for the lock), every routing
    answer is the one the same router gives single-threaded, and the final state equals the replay of
    every thread's operations in sequence."""
    router = _hammer_router()
    n = 2000
    sides = np.where(np.arange(n) % 2 == 0, 1, 2).astype(np.int8)
    quantities = (np.arange(n) % 700 + 1).astype(np.uint64)
    limits = np.full(n, np.nan)
    expected_batch = router.route_batch(sides, quantities, limits, 2)
    expected_select = router.select_batch(sides, quantities, limits)
    expected_split = [(a.venue, a.qty) for a in router.split("BUY", 600, 2).allocations]
    expected_venue = router.select_venue("SELL", 50).venue
    writer_ops = {t: _writer_ops(t, 400) for t in range(THREADS // 2, THREADS)}

    def work(t: int) -> None:
        if t in writer_ops:
            for op in writer_ops[t]:
                _apply(router, f"W{t}", op)
                router.venue_stats(f"W{t}")
            return
        for i in range(40):
            allocations, status = router.route_batch(sides, quantities, limits, 2)
            assert np.array_equal(allocations, expected_batch[0]) and np.array_equal(status, expected_batch[1])
            venues, scores = router.select_batch(sides, quantities, limits)
            assert np.array_equal(venues, expected_select[0]) and np.array_equal(scores, expected_select[1], equal_nan=True)
            assert [(a.venue, a.qty) for a in router.split("BUY", 600, 2).allocations] == expected_split
            assert router.select_venue("SELL", 50).venue == expected_venue

    assert _run_threads(work) == []
    replay = _hammer_router()
    for t, ops in writer_ops.items():
        for op in ops:
            _apply(replay, f"W{t}", op)
    for venue in replay.venue_names:
        assert repr(router.venue_stats(venue)) == repr(replay.venue_stats(venue)), venue
        assert router.book(venue) == replay.book(venue), venue


def test_position_book_hammered_from_8_threads_equals_the_sequential_replay():
    """Each thread books single fills and GIL-free batches on its own venue: no call fails, and every
    venue's net, realised PnL and open positions equal the sequential replay."""
    def fresh() -> PositionBook:
        book = PositionBook()
        for t in range(THREADS):
            book.add_venue(f"V{t}", "HEDGING" if t % 2 else "NETTING")
        book.add_instrument("BTC", "BTC", 3, currency_precision=2)
        return book

    def ops(t: int) -> list[tuple]:
        rng = random.Random(100 + t)
        out = []
        for _ in range(150):
            if rng.random() < 0.5:
                out.append(("one", rng.choice(["BUY", "SELL"]), rng.randrange(1, 2000), round(rng.uniform(90, 110), 2)))
            else:
                k = 200
                out.append(("batch", np.array([rng.choice([1, 2]) for _ in range(k)], dtype=np.int8),
                            np.array([rng.randrange(1, 2000) for _ in range(k)], dtype=np.uint64),
                            np.round(np.array([rng.uniform(90, 110) for _ in range(k)]), 2)))
        return out

    def run(book: PositionBook, t: int, seq: list[tuple]) -> None:
        for op in seq:
            if op[0] == "one":
                book.apply_fill(f"V{t}", "BTC", op[1], op[2], op[3])
            else:
                k = len(op[1])
                book.apply_fills(np.full(k, t, dtype=np.int64), np.zeros(k, dtype=np.int64), op[1], op[2], op[3])

    plans = {t: ops(t) for t in range(THREADS)}
    book = fresh()
    assert _run_threads(lambda t: run(book, t, plans[t])) == []
    replay = fresh()
    for t in range(THREADS):
        run(replay, t, plans[t])
    for t in range(THREADS):
        v = f"V{t}"
        assert book.net_units(v, "BTC") == replay.net_units(v, "BTC")
        assert book.realized_pnl(v, "BTC") == replay.realized_pnl(v, "BTC")
        assert len(book.open_position_ids(v, "BTC")) == len(replay.open_position_ids(v, "BTC"))
    assert book.exposure("BTC").net == replay.exposure("BTC").net


def test_smart_order_router_hammered_from_8_threads_equals_the_sequential_replay():
    """The Python router holds its lock per call: readers always get the single-threaded routing answer;
    writers (venue switches and learning on their own disabled venue) end in the replayed state."""
    venues = [{"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0004, "latency_ms": 20},
              {"name": "BYBIT", "maker_fee": 0.0001, "taker_fee": 0.0003, "latency_ms": 40}]
    venues += [{"name": f"W{t}", "maker_fee": 0.0, "taker_fee": 0.0003, "latency_ms": 10, "enabled": False} for t in range(THREADS)]

    def fresh() -> SmartOrderRouter:
        return SmartOrderRouter([dict(v) for v in venues])

    router = fresh()
    instrument = InstrumentId.from_str("BTCUSDT.BINANCE")
    qty = Quantity.from_str("3.000")
    expected_route = router.route_quantities(instrument, OrderSide.BUY, qty, 2)
    expected_select = router.select_venue(instrument, OrderSide.SELL, qty).venue
    writer_ops = {t: _writer_ops(1000 + t, 300) for t in range(THREADS // 2, THREADS)}

    def run_writer(r: SmartOrderRouter, t: int) -> None:
        for i, op in enumerate(writer_ops[t]):
            if op[0] in ("set_book", "update_level"):
                r.set_venue_connected(f"W{t}", i % 2 == 0)  # switches of a venue that stays operator-disabled
            else:
                _apply(r.core, f"W{t}", op)

    def work(t: int) -> None:
        if t in writer_ops:
            run_writer(router, t)
            return
        for _ in range(1000):
            assert router.route_quantities(instrument, OrderSide.BUY, qty, 2) == expected_route
            assert router.select_venue(instrument, OrderSide.SELL, qty).venue == expected_select

    assert _run_threads(work) == []
    replay = fresh()
    for t in writer_ops:
        run_writer(replay, t)
    assert [repr(s) for s in router.venue_stats()] == [repr(s) for s in replay.venue_stats()]
    assert router.disconnected_venues == replay.disconnected_venues


# ---------------------------------------------------------------- run directories: whole or not at all, verified on load

import json as _json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from nautilus_sor.analysis.results import RunResults, frame  # noqa: E402
from nautilus_sor.exceptions import DamagedRunError, OutputError, RunLockedError  # noqa: E402
from nautilus_sor.run_dir import RunDirectory, write_atomic  # noqa: E402


def small_run(n_orders: int = 4, tag: str = "a") -> RunResults:
    """A run with a few orders, each filled in two fills (what a backtest writes, made small)."""
    parents = frame("parents", [{"scenario": "router", "parent_id": "P-1", "algorithm": "TWAP", "side": "BUY", "quantity": 2.0 * n_orders,
                                 "arrival_ts": 0, "end_ts": 10}])
    orders, fills = [], []
    for i in range(n_orders):
        oid = f"O-{tag}-{i}"
        orders.append({"scenario": "router", "parent_id": "P-1", "client_order_id": oid, "venue": "A", "instrument_id": "BTCUSDT.A",
                       "side": "BUY", "order_type": "MARKET", "quantity": 2.0, "filled_qty": 2.0, "status": "FILLED", "ts_init": i,
                       "ts_submitted": i, "ts_accepted": i, "ts_last": i, "expected_price": 100.0})
        for j in range(2):
            fills.append({"scenario": "router", "parent_id": "P-1", "client_order_id": oid, "venue": "A", "instrument_id": "BTCUSDT.A",
                          "side": "BUY", "ts": i, "quantity": 1.0, "price": 100.0 + 0.01 * (i + j), "commission": 0.04, "liquidity_side": "TAKER"})
    return RunResults(parents=parents, orders=frame("orders", orders), fills=frame("fills", fills),
                      summary={"scenarios": ["router"], "fills": len(fills), "orders": len(orders), "tag": tag})


def assert_damaged(run: Path, file: str, check: str) -> None:
    with pytest.raises(DamagedRunError) as info:
        RunResults.load(run)
    assert (info.value.file, info.value.check) == (file, check), str(info.value)
    assert info.value.field == "run_dir" and file in str(info.value)


def rewrite_table(run: Path, table: str, df: pd.DataFrame, *, update_manifest: bool) -> None:
    df.to_parquet(run / f"{table}.parquet", index=False)
    if update_manifest:  # a consistent but wrong run: only the invariants can catch it
        from nautilus_sor.analysis.results import _sha256

        doc = _json.loads((run / "run.json").read_text())
        doc["manifest"]["tables"][table].update(sha256=_sha256(run / f"{table}.parquet"), rows=len(df))
        (run / "run.json").write_text(_json.dumps(doc))


def test_a_saved_run_loads_back_exactly(tmp_path):
    run = small_run().save(tmp_path / "run")
    loaded = RunResults.load(run)
    pd.testing.assert_frame_equal(loaded.fills, small_run().fills)
    assert loaded.summary == small_run().summary  # the manifest is not part of the summary
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.lock", "run"]  # no staging left behind


def test_a_run_killed_while_writing_leaves_the_previous_run_whole(tmp_path):
    """The issue's mix (new parents/orders/fills with the old run.json and report) cannot happen: the
    new run is written beside the old one and only renamed into place once complete."""
    run = small_run(4, "old").save(tmp_path / "run")
    (run / "report.html").write_text("old report")
    script = (f"import os, signal\nfrom nautilus_sor.run_dir import RunDirectory\nimport sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
              f"from test_faults import small_run\n"
              f"with RunDirectory({str(run)!r}) as out:\n"
              f"    small_run(9, 'new').write(out.staging)\n"
              f"    os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    old = RunResults.load(run)
    assert old.summary["tag"] == "old" and len(old.fills) == 8 and (run / "report.html").read_text() == "old report"
    # The next writer is not blocked by the dead one's lock, and clears its staging directory.
    small_run(5, "next").save(run)
    assert RunResults.load(run).summary["tag"] == "next"
    assert not list(tmp_path.glob(".run.tmp-*")) and not (run / "report.html").exists()


def test_an_error_mid_run_keeps_the_previous_run_and_removes_the_staging(tmp_path):
    run = small_run(4, "old").save(tmp_path / "run")
    with pytest.raises(KeyError):
        with RunDirectory(run) as out:
            small_run(9, "new").write(out.staging)
            raise KeyError("simulated failure mid-run")
    assert RunResults.load(run).summary["tag"] == "old"
    assert not list(tmp_path.glob(".run.tmp-*"))


def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    """Two backtests into one directory both printed 'run saved' (last writer won)."""
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom nautilus_sor.run_dir import RunDirectory\n"
                               f"with RunDirectory({str(tmp_path / 'run')!r}):\n    print('locked', flush=True)\n    time.sleep(60)\n"],
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"locked"
        with pytest.raises(RunLockedError) as info:
            small_run().save(tmp_path / "run")
        assert f'"pid": {holder.pid}' in info.value.holder and str(holder.pid) in str(info.value)
    finally:
        holder.kill()
        holder.wait()
    small_run().save(tmp_path / "run")  # the holder is gone: the lock went with it


def test_an_unwritable_or_full_location_is_refused_before_the_simulation(tmp_path, monkeypatch):
    """A read-only directory or a full disk gave a raw OSError after the whole simulation had run."""
    import nautilus_sor.backtest.runner as runner
    from nautilus_sor.backtest.main import run_and_report

    def must_not_run(*args, **kwargs):
        raise AssertionError("the simulation started before the output location was checked")

    monkeypatch.setattr(runner, "run_backtest", must_not_run)
    example = Path(__file__).parents[1] / "examples" / "multi_venue_twap.json"
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(OutputError) as info:
        run_and_report(str(example), output_dir=str(blocker / "run"), quiet=True)
    assert info.value.field == "output" and "a_file" in str(info.value)
    with pytest.raises(OutputError, match="free"):
        with RunDirectory(tmp_path / "run", min_free_bytes=2**62):
            pass
    assert not (tmp_path / "run").exists() and not list(tmp_path.glob(".run.tmp-*"))


def test_a_failed_report_write_leaves_the_old_report(tmp_path, monkeypatch):
    """A kill while writing left a 0-byte report.html: the report goes through a temporary file."""
    target = tmp_path / "report.html"
    target.write_text("old report")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OutputError, match="No space left"):
        write_atomic(target, "<html>" + "x" * 100_000)
    assert target.read_text() == "old report" and sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_a_byte_flip_in_a_table_is_refused_naming_the_file(tmp_path):
    """A 5-byte flip in fills.parquet changed 27 prices and the ranking, and was accepted."""
    run = small_run().save(tmp_path / "run")
    data = bytearray((run / "fills.parquet").read_bytes())
    middle = len(data) // 2
    data[middle:middle + 5] = bytes(b ^ 0xFF for b in data[middle:middle + 5])
    (run / "fills.parquet").write_bytes(bytes(data))
    assert_damaged(run, "fills.parquet", "sha256")


def test_a_table_from_another_run_is_refused(tmp_path):
    run = small_run(4, "old").save(tmp_path / "run")
    other = small_run(9, "new").save(tmp_path / "other")
    (run / "fills.parquet").write_bytes((other / "fills.parquet").read_bytes())
    assert_damaged(run, "fills.parquet", "sha256")


@pytest.mark.parametrize("damage, file, check", [
    ("duplicated_fills", "fills.parquet", "fill_rate <= 1"),
    ("nan_price", "fills.parquet", "finite price > 0"),
    ("negative_quantity", "fills.parquet", "quantity > 0"),
    ("zero_order_quantity", "orders.parquet", "quantity > 0"),
    ("fill_without_order", "fills.parquet", "fills <= orders"),
    ("overfilled_order", "orders.parquet", "filled_qty <= quantity"),
])
def test_a_consistent_but_impossible_run_is_refused(tmp_path, damage, file, check):
    """Hashes that match (the tables were rewritten with their manifest) cannot hide broken invariants:
    duplicated fill rows gave fill_rate 2.0; NaN prices and negative quantities passed."""
    run = small_run().save(tmp_path / "run")
    fills, orders = RunResults.load(run).fills, RunResults.load(run).orders
    if damage == "duplicated_fills":
        rewrite_table(run, "fills", pd.concat([fills, fills]), update_manifest=True)
    elif damage == "nan_price":
        fills.loc[3, "price"] = float("nan")
        rewrite_table(run, "fills", fills, update_manifest=True)
    elif damage == "negative_quantity":
        fills.loc[0, "quantity"] = -1.0
        rewrite_table(run, "fills", fills, update_manifest=True)
    elif damage == "zero_order_quantity":
        orders.loc[1, "quantity"] = 0.0
        rewrite_table(run, "orders", orders, update_manifest=True)
    elif damage == "fill_without_order":
        rewrite_table(run, "orders", orders.iloc[1:], update_manifest=True)
    else:
        orders.loc[0, "filled_qty"] = 5.0
        rewrite_table(run, "orders", orders, update_manifest=True)
    if damage in ("duplicated_fills",):
        doc = _json.loads((run / "run.json").read_text())
        doc.pop("fills")  # else the summary's count check would catch it first
        (run / "run.json").write_text(_json.dumps(doc))
    assert_damaged(run, file, check)


def test_summary_counts_that_disagree_with_the_tables_are_refused(tmp_path):
    """run.json said 1062 fills, fills.parquet had 1081: a run saved before manifests is still checked."""
    run = small_run().save(tmp_path / "run")
    doc = _json.loads((run / "run.json").read_text())
    doc.pop("manifest")
    doc["fills"] = 7
    (run / "run.json").write_text(_json.dumps(doc))
    assert_damaged(run, "fills.parquet", "rows")


@pytest.mark.parametrize("text, check", [("[1, 2, 3]", "object"), ('{"manifest": {"tables": []}}', "manifest"), ('"run"', "object")])
def test_a_run_json_of_the_wrong_shape_is_refused(tmp_path, text, check):
    """A run.json that is a list gave a traceback."""
    run = small_run().save(tmp_path / "run")
    (run / "run.json").write_text(text)
    assert_damaged(run, "run.json", check)


def test_report_cli_refuses_a_damaged_run(tmp_path, capsys):
    from nautilus_sor.cli import main

    run = small_run().save(tmp_path / "run")
    (run / "fills.parquet").write_bytes((run / "fills.parquet").read_bytes()[:-9] + b"123456789")
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert "fills.parquet" in err and "sha256" in err and not (run / "report.html").exists()


# ---------------------------------------------------------------- damaged recorded data: refused, naming file and line

import dataclasses  # noqa: E402
import gzip  # noqa: E402
import zipfile  # noqa: E402

from nautilus_sor.backtest.data import binance  # noqa: E402
from nautilus_sor.backtest.data.catalog import cached_market  # noqa: E402
from nautilus_sor.backtest.data.lean_files import read_lean_csv  # noqa: E402
from nautilus_sor.exceptions import DataFileError, MarketDataError  # noqa: E402
from shared_data import DATA as SHARED  # noqa: E402
from shared_data import needs_data, require_data  # noqa: E402

BINANCE_DIR = SHARED / "binance_btc_l2_20240808"
SPOT_FILE = "spot_btcusdt_20240808.gz"
needs_binance = needs_data(BINANCE_DIR / SPOT_FILE)
SPOT = binance.market_specs(BINANCE_DIR, "BTC", ["BINANCE_SPOT"], {"BINANCE_SPOT": {"files": [SPOT_FILE, "spot_btcusdt_20240809.gz"]}})[0]


def spot_lines(n: int = 3000) -> list[bytes]:
    """The first n lines of the recorded spot stream (its REST snapshot is line 8)."""
    return gzip.decompress((BINANCE_DIR / SPOT_FILE).read_bytes()).split(b"\n")[:n]


def write_spot(tmp_path: Path, lines: list[bytes]) -> Path:
    """A spot data dir made of `lines` (the second day's file empty), for `load_binance_btc(..., venues=["BINANCE_SPOT"])`."""
    (tmp_path / SPOT_FILE).write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    (tmp_path / SPOT.files[1]).write_bytes(gzip.compress(b""))
    return tmp_path


def first(lines: list[bytes], kind: bytes, after: int = 8) -> int:
    """Index of the first line of stream `kind` (b"@depth", b"@bookTicker", b"@trade") after line index `after`."""
    return next(i for i in range(after, len(lines)) if kind in lines[i][:80])


def edit(line: bytes, change: Callable[[dict], None] | None = None, ts: bytes | None = None) -> bytes:
    stamp, body = line.split(b" ", 1)
    doc = _json.loads(body)
    if change is not None:
        change(doc)
    return (ts if ts is not None else stamp) + b" " + _json.dumps(doc, separators=(",", ":")).encode()


def read_spot(directory: Path, **kw: Any) -> Any:
    spec = dataclasses.replace(SPOT, files=(SPOT_FILE,))
    return binance.read_market(spec, directory, **kw)


def assert_line_error(call: Callable[[], Any], line_index: int, match: str) -> None:
    with pytest.raises(MarketDataError, match=match) as info:
        call()
    assert info.value.field == f"{SPOT_FILE} line {line_index + 1}", str(info.value)
    assert f"{SPOT_FILE} line {line_index + 1}" in str(info.value)


def _set_level(side: str, price: str, size: str) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        doc["data"][side] = [[price, size]]
    return change


def _set(key: str, value: Any) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        doc["data"][key] = value
    return change


# (name, which line, how it is damaged, the message)
BINANCE_DAMAGE = [
    ("timestamp_far_in_future", b"@depth", lambda ln: edit(ln, ts=str(int(ln.split(b" ")[0]) + 10 * 86_400 * 10**9).encode()), "s after"),
    ("timestamp_back_30s", b"@depth", lambda ln: edit(ln, ts=str(int(ln.split(b" ")[0]) - 30 * 10**9).encode()), "behind"),
    ("timestamp_not_numeric", b"@trade", lambda ln: b"17231612x4036059768 " + ln.split(b" ", 1)[1], "prefix"),
    ("timestamp_negative", b"@trade", lambda ln: b"-1723161254036059768 " + ln.split(b" ", 1)[1], "prefix"),
    ("diff_price_zero", b"@depth", lambda ln: edit(ln, _set_level("b", "0.00000000", "1.00000000")), "price"),
    ("diff_price_negative", b"@depth", lambda ln: edit(ln, _set_level("a", "-61840.00000000", "1.00000000")), "price"),
    ("diff_price_nan", b"@depth", lambda ln: edit(ln, _set_level("a", "NaN", "1.00000000")), "price"),
    ("diff_size_negative", b"@depth", lambda ln: edit(ln, _set_level("b", "61000.00000000", "-1.00000000")), "size"),
    ("diff_size_infinite", b"@depth", lambda ln: edit(ln, _set_level("b", "61000.00000000", "Infinity")), "size"),
    ("diff_crosses_the_book", b"@depth", lambda ln: edit(ln, _set_level("b", "99999.00000000", "1.00000000")), "crosses"),
    ("trade_quantity_zero", b"@trade", lambda ln: edit(ln, _set("q", "0.00000000")), "size"),
    ("trade_price_negative", b"@trade", lambda ln: edit(ln, _set("p", "-61840.00000000")), "price"),
    ("book_ticker_crossed", b"@bookTicker", lambda ln: edit(ln, _set("b", "99999.00000000")), "crossed bookTicker"),
    ("book_ticker_price_not_a_number", b"@bookTicker", lambda ln: edit(ln, _set("a", "abc")), "unreadable|price"),
    ("another_symbols_stream", b"@depth", lambda ln: edit(ln, lambda d: d.update(stream="ethusdt@depth@100ms")), "not BINANCE_SPOT"),
    ("another_symbol_in_the_data", b"@trade", lambda ln: edit(ln, _set("s", "ETHUSDT")), "not BINANCE_SPOT"),
]


@needs_binance
@pytest.mark.parametrize("name, kind, damage, match", BINANCE_DAMAGE, ids=[d[0] for d in BINANCE_DAMAGE])
def test_damaged_binance_line_is_refused_naming_file_and_line(tmp_path, name, kind, damage, match):
    """Each was accepted silently (or gave a raw traceback): a future timestamp dropped 56% of the spot rows,
    a crossed book gave a router cost of -2,354 bps, another symbol's stream was read as this one's."""
    lines = spot_lines()
    i = first(lines, kind, after=200)
    lines[i] = damage(lines[i])
    write_spot(tmp_path, lines)
    assert_line_error(lambda: read_spot(tmp_path), i, match)


@needs_binance
def test_a_crossed_rest_snapshot_is_refused_whatever_the_policy(tmp_path):
    lines = spot_lines()
    i = next(i for i, ln in enumerate(lines) if b'{"lastUpdateId"' in ln[:60])
    stamp, body = lines[i].split(b" ", 1)
    doc = _json.loads(body)
    doc["bids"][0][0] = "99999.00000000"
    lines[i] = stamp + b" " + _json.dumps(doc, separators=(",", ":")).encode()
    write_spot(tmp_path, lines)
    for policy in ("refuse", "drop"):
        assert_line_error(lambda: read_spot(tmp_path, crossed_books=policy), i, "snapshot is crossed")


@needs_binance
def test_crossed_books_drop_removes_the_crossed_levels_and_counts_them(tmp_path):
    """With crossed_books="drop", a diff that crosses the book removes the stale levels of the other side
    (as deletes Nautilus's own book applies too) and a crossed bookTicker is skipped; the notes count both,
    and no book row is crossed."""
    lines = spot_lines()
    d, q = first(lines, b"@depth", after=200), first(lines, b"@bookTicker", after=200)
    lines[d] = edit(lines[d], _set_level("b", "61900.00000000", "1.00000000"))
    lines[q] = edit(lines[q], _set("b", "99999.00000000"))
    write_spot(tmp_path, lines)
    market = binance.load_binance_btc(tmp_path, venues=["BINANCE_SPOT"], crossed_books="drop")
    note = next(n for n in market.notes if n.startswith("crossed books"))
    assert "BINANCE_SPOT" in note and "1 crossed bookTicker(s) skipped" in note and " 0 level(s)" not in note
    book = market.venues[0].book
    assert np.all(book.bid_px[:, 0] < book.ask_px[:, 0])
    with pytest.raises(MarketDataError):
        binance.load_binance_btc(tmp_path, venues=["BINANCE_SPOT"])  # the default refuses


@needs_binance
def test_the_catalog_cache_follows_the_sources_content(tmp_path):
    """The cache was keyed on path and window: a source truncated in place was ignored and the old market
    came back. Now its size, mtime and SHA-256 are part of the key."""
    source = write_spot(tmp_path / "data", spot_lines(3000)) if (tmp_path / "data").mkdir() is None else None
    builds = []

    def build() -> Any:
        builds.append(1)
        return binance.load_binance_btc(source, venues=["BINANCE_SPOT"])

    def load() -> Any:
        return cached_market(tmp_path / "cache", "spot", {"type": "binance_btc"}, build, source_path=source)

    full = load()
    again = load()
    assert len(builds) == 1 and again.end_ns == full.end_ns
    write_spot(source, spot_lines(1500))  # truncated in place, same names
    shorter = load()
    assert len(builds) == 2 and shorter.end_ns < full.end_ns
    shutil_rmtree(source)  # without the raw files the cached market is what there is
    assert load().end_ns == shorter.end_ns and len(builds) == 2


def shutil_rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path)


LEAN_BARS = SHARED / "lean_crypto_minute" / "crypto_bybit_btcusdt_20221213_trade.zip"
LEAN_QUOTE_BARS = SHARED / "lean_crypto_minute" / "crypto_bybit_btcusdt_20221213_quote.zip"


def damaged_lean(tmp_path: Path, source: Path, row: int, column: int, value: str) -> Path:
    """A copy of a Lean zip with one cell replaced (row and column 0-based)."""
    with zipfile.ZipFile(source) as archive:
        member = archive.namelist()[0]
        rows = archive.read(member).decode().splitlines()
    cells = rows[row].split(",")
    cells[column] = value
    rows[row] = ",".join(cells)
    out = tmp_path / source.name
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, "\n".join(rows) + "\n")
    return out


@pytest.mark.parametrize("source, row, column, value, match", [
    (LEAN_BARS, 10, 4, "-1", "close"),
    (LEAN_BARS, 11, 1, "0", "open"),
    (LEAN_BARS, 12, 5, "-3.5", "volume"),
    (LEAN_BARS, 13, 2, "nan", "missing values|high"),
    (LEAN_BARS, 14, 0, "1", "backwards"),
    (LEAN_QUOTE_BARS, 15, 4, "99999999", "crossed"),
    (LEAN_QUOTE_BARS, 16, 5, "-1", "bid_size"),
], ids=["negative_close", "zero_open", "negative_volume", "nan_high", "time_back", "crossed_quote_bar", "negative_bid_size"])
def test_damaged_lean_row_is_refused_naming_file_and_line(tmp_path, source, row, column, value, match):
    from nautilus_sor.backtest.data import lean_bars

    require_data(source)
    columns, types, values = ((lean_bars.TRADE_BAR_COLUMNS, lean_bars.TRADE_BAR_TYPES, lean_bars.TRADE_BAR_VALUES) if source == LEAN_BARS
                              else (lean_bars.QUOTE_BAR_COLUMNS, lean_bars.QUOTE_BAR_TYPES, lean_bars.QUOTE_BAR_VALUES))
    crossed = None if source == LEAN_BARS else ("bid_close", "ask_close")
    file = damaged_lean(tmp_path, source, row, column, value)
    with pytest.raises(MarketDataError, match=match) as info:
        read_lean_csv(file, columns, types, values=values, crossed=crossed)
    assert source.name in str(info.value)
    if isinstance(info.value, DataFileError) and info.value.line:
        assert info.value.line == row + 1 and info.value.file == str(file)
