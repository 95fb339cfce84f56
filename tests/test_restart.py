"""Restart safety (issue 10): an execution algorithm stopped mid-schedule and restored into a NEW
BacktestEngine from its saved state finishes exactly as an uninterrupted run does.

How the restart is staged in a backtest (what a live node has by itself):
* the state: `algorithm.save()` after the first engine stopped (Nautilus's `Actor.save`, which calls
  our `on_save`); the new algorithm gets it with `algorithm.load(state)` before the engine starts. In a
  live `TradingNode` a `MultiVenueStrategy` carries its algorithm's state in its own saved state
  (Nautilus 1.221 saves strategies and actors, not execution algorithms);
* the orders: a live node's cache database keeps them and execution reconciliation brings them up to
  date with the venues. Here each order of the first engine is rebuilt from its own events
  (`OrderUnpacker.from_init` + `apply`, as Nautilus's cache database does) into the new engine's cache;
* the market: the new engine gets the same data from the restart time on.
"""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nautilus_trader.model.enums import OmsType, OrderSide, OrderStatus
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders.unpacker import OrderUnpacker

from nautilus_env import NS, START, trades
from nautilus_sor.exceptions import StateError
from nautilus_sor.execution_algorithms import (
    IcebergExecAlgorithm,
    IcebergExecAlgorithmConfig,
    POVExecAlgorithm,
    POVExecAlgorithmConfig,
    TWAPExecAlgorithm,
    TWAPExecAlgorithmConfig,
)
from nautilus_sor.execution_algorithms.state import (
    STATE_KEY,
    STATE_VERSION,
    AlgorithmState,
    ChildRecord,
    ParentRecord,
    RiskState,
    decode_state,
    encode_state,
)
from nautilus_sor.strategy import MultiVenueStrategy, SmartRoutingStrategyConfig
from test_faults import MS, UNITS, VENUES, crossing_market, flat_quotes, instrument, make_engine, pd_ts, qty_to_units

SECONDS = 40


class Trader(MultiVenueStrategy):
    """Submits one 2.0 BTC primary at `submit_at` (None: never, the restarted node's strategy)."""

    def __init__(self, config, submit_at: int | None) -> None:
        super().__init__(config)
        self.submit_at = submit_at
        self.primaries: list = []

    def on_start(self) -> None:
        super().on_start()
        if self.submit_at is not None:
            self.clock.set_time_alert_ns("go", self.submit_at, lambda e: self.primaries.extend(self.execute_order(OrderSide.BUY, Quantity.from_str("2.000"))))


def twap(**overrides) -> TWAPExecAlgorithm:
    return TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=20, interval_seconds=1, use_smart_routing=True, venues=VENUES, **overrides))


def strategy(submit_at: int | None) -> Trader:
    config = SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", use_smart_routing=True, venues=VENUES, execution_algorithm={"type": "TWAP"})
    return Trader(config, submit_at)


def market(from_ns: int = 0) -> tuple[list, list]:
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    return insts, [q for q in flat_quotes(insts, SECONDS) if q.ts_event >= from_ns]


def copy_order(order):
    """The order rebuilt from its events, as a cache database restores it."""
    copy = OrderUnpacker.from_init(order.init_event)
    for event in order.events[1:]:
        copy.apply(event)
    return copy


def filled_by_venue(orders) -> dict[str, int]:
    out: dict[str, int] = {}
    for o in orders:
        units = qty_to_units(o.filled_qty)
        if units:
            out[o.instrument_id.venue.value] = out.get(o.instrument_id.venue.value, 0) + units
    return out


def uninterrupted(**overrides):
    insts, data = market()
    eng = make_engine(insts, data)
    algo = twap(**overrides)
    eng.add_exec_algorithm(algo)
    eng.add_strategy(strategy(START + NS))
    eng.run()
    return eng, algo


def interrupted(stop_ns: int, restart_ns: int, **overrides):
    """Runs to `stop_ns`, saves, and resumes in a new engine whose market starts at `restart_ns`."""
    insts, data = market()
    first = make_engine(insts, data)
    algo1 = twap(**overrides)
    first.add_exec_algorithm(algo1)
    first.add_strategy(strategy(START + NS))
    first.run(end=pd_ts(stop_ns))
    saved = algo1.save()
    orders = [copy_order(o) for o in first.cache.orders()]

    insts, data = market(restart_ns)
    second = make_engine(insts, data)
    for order in orders:
        second.cache.add_order(order, None)
    algo2 = twap(**overrides)
    second.add_exec_algorithm(algo2)
    second.add_strategy(strategy(None))
    algo2.load(saved)
    second.run()
    return first, algo1, second, algo2, saved


def children_of(eng, algo) -> list:
    return [o for o in eng.cache.orders() if o.exec_algorithm_id == algo.id and o.client_order_id not in algo.parents]


def test_twap_stopped_mid_schedule_resumes_in_a_new_engine_with_the_same_totals():
    base_eng, base_algo = uninterrupted()
    stop, restart = START + 8 * NS + 500 * MS, START + 9 * NS
    first, algo1, second, algo2, saved = interrupted(stop, restart)

    (base_parent,) = base_algo.parents.values()
    (parent,) = algo2.parents.values()
    assert parent.primary_id == base_parent.primary_id
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (2 * UNITS, 0, 0, 0)
    assert (base_parent.filled, base_parent.abandoned) == (2 * UNITS, 0)
    # Filled per venue: the orders of both engines together equal the uninterrupted run's.
    base_orders = [o for o in base_eng.cache.orders() if o.exec_algorithm_id == base_algo.id]
    both = [o for o in second.cache.orders() if o.exec_algorithm_id == algo2.id]
    assert filled_by_venue(both) == filled_by_venue(base_orders)
    assert sum(filled_by_venue(both).values()) == 2 * UNITS
    # No child sent twice: ids unique, sent before the stop only by the first engine, after only by the second.
    sent_first = {o.client_order_id for o in children_of(first, algo1)}
    sent_second = {o.client_order_id for o in children_of(second, algo2)} - sent_first
    assert sent_first and sent_second
    assert all(o.ts_init < stop for o in children_of(first, algo1))
    assert all(second.cache.order(c).ts_init >= restart for c in sent_second)
    assert sum(qty_to_units(second.cache.order(c).quantity) for c in sent_first | sent_second) == 2 * UNITS
    assert set(parent.children) == sent_first | sent_second
    # Nothing forgotten: the slice due at 8 s (between the stop and the restart) went out at the restart, merged.
    assert algo2.reconciliation.missed_slices == 1 and algo2.reconciliation.orphans == []
    # The venue statistics were kept: the restarted router ends where the uninterrupted one does.
    base_stats = {s.venue: (s.orders, s.fills, s.rejects, s.acks, s.fill_rate) for s in base_algo.router.venue_stats()}
    assert {s.venue: (s.orders, s.fills, s.rejects, s.acks, s.fill_rate) for s in algo2.router.venue_stats()} == base_stats
    # The stop in the first engine gave up the unsent rest there; the saved state is from before that.
    assert algo1.parents[parent.primary_id].abandoned > 0
    assert decode_state(saved[STATE_KEY]).parents[0].abandoned == 0


@pytest.mark.parametrize("policy", ["merge", "spread"])
def test_slices_due_while_down_follow_the_missed_slice_policy(policy):
    """Down from 8.5 s to 12 s: the slices at 8..11 s (0.4) were due meanwhile. merge: sent at the
    restart as one slice of 0.5 (with the 12 s slice); spread: 0.4 spread over the 9 remaining slices."""
    stop, restart = START + 8 * NS + 500 * MS, START + 12 * NS
    _, _, second, algo2, _ = interrupted(stop, restart, missed_slice_policy=policy)
    (parent,) = algo2.parents.values()
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (2 * UNITS, 0, 0, 0)
    report = algo2.reconciliation
    assert (report.missed_slices, report.missed_units) == (4, 4 * UNITS // 10)
    new = sorted((o for o in children_of(second, algo2) if o.ts_init >= restart), key=lambda o: (o.ts_init, o.client_order_id.value))
    at_restart = sum(qty_to_units(o.quantity) for o in new if o.ts_init == restart)
    if policy == "merge":
        assert at_restart == 5 * UNITS // 10
    else:
        # 400 lots over 9 slices: 45 lots to the first 4, 44 to the rest, on top of each 100-lot slice.
        assert at_restart == 145 * 10**6
        assert [qty_to_units(o.quantity) for o in new if o.ts_init == restart + NS] == [145 * 10**6]
        assert [qty_to_units(o.quantity) for o in new if o.ts_init == restart + 8 * NS] == [144 * 10**6]
    assert sum(qty_to_units(o.quantity) for o in new) == 2 * UNITS - sum(
        qty_to_units(o.filled_qty) for o in children_of(second, algo2) if o.ts_init < stop
    )


# -- the saved state itself ---------------------------------------------------------------------


def test_state_round_trip_gives_identical_bytes():
    _, algo1, _, algo2, saved = interrupted(START + 8 * NS + 500 * MS, START + 9 * NS)
    data = saved[STATE_KEY]
    # Decode/encode, and through the algorithm's own objects (load -> parents -> save).
    assert encode_state(decode_state(data)) == data
    fresh = twap()
    fresh.restart.restored = decode_state(data)
    records = [fresh.restart._parent_record(fresh.restart._restore_parent(r)) for r in fresh.restart.restored.parents]
    assert encode_state(msgspec.structs.replace(fresh.restart.restored, parents=records)) == data
    # A finished algorithm's save, loaded and saved again, is the same too.
    again = twap()
    again.restart.restored = decode_state(algo2.state_bytes())
    records = [again.restart._parent_record(again.restart._restore_parent(r)) for r in again.restart.restored.parents]
    assert encode_state(msgspec.structs.replace(again.restart.restored, parents=records)) == algo2.state_bytes()


@st.composite
def parent_records(draw):
    lot = draw(st.sampled_from([1, 1000, 10**6]))
    slices = draw(st.lists(st.tuples(st.integers(0, 2**62), st.integers(0, 10**6).map(lambda k: k * lot)), max_size=8))
    returned = draw(st.integers(0, 1000)) * lot
    children = draw(st.lists(st.tuples(st.integers(1, 1000), st.integers(0, 1000), st.booleans()), max_size=6))
    child_records = [
        ChildRecord(client_order_id=f"P-S{i + 1}", instrument_id="BTCUSDT.BYBIT", units=u * lot, filled_units=min(f, u) * lot, done=d)
        for i, (u, f, d) in enumerate(children)
    ]
    working = sum(c.units - c.filled_units for c in child_records if not c.done)
    filled = sum(c.filled_units for c in child_records)
    pending = sum(q for _, q in slices) + returned
    abandoned = draw(st.integers(0, 10**6)) * lot
    return ParentRecord(
        primary_id=draw(st.text("ABC-0123456789", min_size=1, max_size=12)), instrument_id="BTCUSDT.BINANCE",
        side=draw(st.sampled_from(["BUY", "SELL"])), requested=filled + working + pending + abandoned,
        limit=draw(st.sampled_from([None, "100.10", "99999.99"])), precision=3, lot_units=lot, slices=slices, pending=pending,
        working=working, filled=filled, abandoned=abandoned, returned=returned, retries=draw(st.integers(0, 10)),
        sequence=len(child_records), primary_sent=draw(st.booleans()), adopted=draw(st.booleans()), children=child_records,
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(parent_records(), max_size=4))
def test_any_valid_state_round_trips_byte_for_byte(parents):
    state = AlgorithmState(version=STATE_VERSION, algorithm_id="TWAP", parents=parents, router=None, risk=RiskState(children_total=3, notional={}))
    data = encode_state(state)
    assert encode_state(decode_state(data)) == data
    algo = twap()
    restored = [algo.restart._parent_record(algo.restart._restore_parent(r)) for r in decode_state(data).parents]
    assert encode_state(msgspec.structs.replace(state, parents=restored)) == data


def _edit(data: bytes, change) -> bytes:
    raw = msgspec.json.decode(data)
    change(raw)
    return msgspec.json.encode(raw)


@pytest.mark.parametrize(
    ("name", "corrupt", "field"),
    [
        ("not json", lambda d: b"\x00garbage", "state"),
        ("truncated", lambda d: d[: len(d) // 2], "state"),
        ("unknown version", lambda d: _edit(d, lambda r: r.update(version=99)), "version"),
        ("missing field", lambda d: _edit(d, lambda r: r["parents"][0].pop("pending")), "state.parents[0].pending"),
        ("wrong type", lambda d: _edit(d, lambda r: r["parents"][0].update(filled="lots")), "state.parents[0].filled"),
        ("broken bookkeeping", lambda d: _edit(d, lambda r: r["parents"][0].update(filled=r["parents"][0]["filled"] + 1)), "parents[0].requested"),
        ("slices do not sum to pending", lambda d: _edit(d, lambda r: r["parents"][0]["slices"].pop()), "parents[0].slices"),
        ("another algorithm", lambda d: _edit(d, lambda r: r.update(algorithm_id="VWAP")), "algorithm_id"),
        ("bad venue statistics", lambda d: _edit(d, lambda r: r["router"]["venues"][0].update(fill_rate=1.5)), "router.venues.fill_rate"),
    ],
)
def test_corrupt_or_unknown_state_is_a_typed_error_and_nothing_is_applied(name, corrupt, field):
    _, _, _, _, saved = interrupted(START + 8 * NS + 500 * MS, START + 9 * NS)
    bad = {STATE_KEY: corrupt(saved[STATE_KEY])}
    insts, data = market(START + 9 * NS)
    eng = make_engine(insts, data)
    algo = twap()
    eng.add_exec_algorithm(algo)
    eng.add_strategy(strategy(None))
    if field.startswith("router."):
        # The venue statistics are checked by the router that takes them: all or nothing.
        from nautilus_sor.smart_router import SmartOrderRouter

        router = SmartOrderRouter(VENUES)
        before = [(s.fill_rate, s.orders) for s in router.venue_stats()]
        with pytest.raises(StateError) as info:
            router.load_state(decode_state(bad[STATE_KEY]).router)
        assert [(s.fill_rate, s.orders) for s in router.venue_stats()] == before
    else:
        with pytest.raises(StateError) as info:
            algo.load(bad)
        assert algo.restart.restored is None and algo.parents == {}
    assert info.value.field == field, (name, info.value.field, str(info.value))


def test_a_strategy_carries_its_algorithms_state_as_a_live_node_saves_it():
    """A TradingNode with save_state/load_state calls Trader.save()/load(): strategies only. The
    strategy's saved state holds its algorithm's, and loading the strategy hands it over."""
    insts, data = market()
    first = make_engine(insts, data)
    algo1 = twap()
    first.add_exec_algorithm(algo1)
    trader1 = strategy(START + NS)
    first.add_strategy(trader1)
    first.run(end=pd_ts(START + 8 * NS + 500 * MS))
    saved = trader1.save()
    assert set(saved) == {"nautilus_sor.router", "nautilus_sor.exec_algorithm/TWAP"}  # its own router, and its algorithm's state
    assert saved["nautilus_sor.exec_algorithm/TWAP"] == algo1.save()[STATE_KEY]

    insts, data = market(START + 9 * NS)
    second = make_engine(insts, data)
    for order in (copy_order(o) for o in first.cache.orders()):
        second.cache.add_order(order, None)
    algo2 = twap()
    second.add_exec_algorithm(algo2)
    trader2 = strategy(None)
    second.add_strategy(trader2)
    trader2.load(saved)
    second.run()
    (parent,) = algo2.parents.values()
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (2 * UNITS, 0, 0, 0)


# -- POV and ICEBERG (event-driven algorithms) ----------------------------------------------------
# The same staging as the TWAP test: run to the stop, save, rebuild the orders into a new engine's
# cache, load, run the market from the restart on.

def pov() -> POVExecAlgorithm:
    return POVExecAlgorithm(POVExecAlgorithmConfig(participation_rate=0.1, use_smart_routing=True, venues=VENUES))


def iceberg() -> IcebergExecAlgorithm:
    return IcebergExecAlgorithm(IcebergExecAlgorithmConfig(visible_pct=0.25, use_smart_routing=True, venues=VENUES))


def tape_market(from_ns: int = 0) -> tuple[list, list]:
    """Flat quotes, and 1.0 traded on every venue each second at + 0.5 s."""
    insts, data = market()
    for inst in insts:
        data += trades(inst, [100.0] * SECONDS, "1.000", START + NS // 2)
    return insts, [d for d in data if d.ts_init >= from_ns]


def crossing(from_ns: int = 0) -> tuple[list, list]:
    """Quotes at 99.95 / 100.05; from 5 s on the ask crosses the resting bids at each second + 30 ms."""
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    return insts, [q for q in crossing_market(insts, SECONDS, 5) if q.ts_init >= from_ns]


def run_whole(make_algo, make_market, submit_at: int = START + NS):
    insts, data = make_market()
    eng = make_engine(insts, data)
    algo = make_algo()
    eng.add_exec_algorithm(algo)
    eng.add_strategy(strategy_for(algo, submit_at))
    eng.run()
    return eng, algo


def run_restarted(make_algo, make_market, stop_ns: int, restart_ns: int):
    """`interrupted` for any algorithm and market."""
    insts, data = make_market()
    first = make_engine(insts, data)
    algo1 = make_algo()
    first.add_exec_algorithm(algo1)
    first.add_strategy(strategy_for(algo1, START + NS))
    first.run(end=pd_ts(stop_ns))
    saved = algo1.save()
    orders = [copy_order(o) for o in first.cache.orders()]

    insts, data = make_market(restart_ns)
    second = make_engine(insts, data)
    for order in orders:
        second.cache.add_order(order, None)
    algo2 = make_algo()
    second.add_exec_algorithm(algo2)
    second.add_strategy(strategy_for(algo2, None))
    algo2.load(saved)
    second.run()
    return first, algo1, second, algo2, saved


def strategy_for(algo, submit_at: int | None) -> Trader:
    config = SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", use_smart_routing=True, venues=VENUES,
                                        execution_algorithm={"type": algo.id.value})
    return Trader(config, submit_at)


def child_rows(eng, algo, since_ns: int = 0) -> list[tuple[float, str, int, str]]:
    """(seconds after START, venue, units, status) of the children sent from `since_ns` on, in order."""
    rows = sorted((o for o in children_of(eng, algo) if o.ts_init >= since_ns), key=lambda o: (o.ts_init, o.client_order_id.value))
    return [((o.ts_init - START) / NS, o.instrument_id.venue.value, qty_to_units(o.quantity), o.status.name) for o in rows]


def assert_no_child_twice(first, algo1, second, algo2, restart_ns: int) -> None:
    """Every child id is sent by one engine only: before the stop by the first, after the restart by
    the second; the restored parent knows each of them."""
    (parent,) = algo2.parents.values()
    sent_first = {o.client_order_id for o in children_of(first, algo1)}
    sent_second = {o.client_order_id for o in children_of(second, algo2)} - sent_first
    assert all(second.cache.order(c).ts_init >= restart_ns for c in sent_second)
    assert set(parent.children) == sent_first | sent_second
    assert len(parent.children) == parent.sequence  # ids S1..Sn, none reused


def test_pov_restored_without_missing_tape_sends_exactly_the_uninterrupted_children():
    """POV 10% of a tape of 1.0 per venue per second (a 0.1 child per trade): stopped at 4.7 s, restored
    at 4.8 s, before the next trades (5.5 s). The restored tracker over the 0.8 left sends the same
    children, at the same times, to the same venues, as the uninterrupted run."""
    base_eng, base_algo = run_whole(pov, tape_market)
    stop, restart = START + 4 * NS + 700 * MS, START + 4 * NS + 800 * MS
    first, algo1, second, algo2, saved = run_restarted(pov, tape_market, stop, restart)
    (parent,) = algo2.parents.values()
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (2 * UNITS, 0, 0, 0)
    record = decode_state(saved[STATE_KEY]).parents[0]
    assert (record.filled, record.held, record.slices, record.returned) == (12 * UNITS // 10, 8 * UNITS // 10, [], 0)
    assert child_rows(second, algo2) == child_rows(base_eng, base_algo)
    assert child_rows(second, algo2, restart) == [(t, "BYBIT", UNITS // 10, "FILLED") for t in (5.5,) * 3 + (6.5,) * 3 + (7.5,) * 2]
    assert_no_child_twice(first, algo1, second, algo2, restart)
    assert algo2.reconciliation.orphans == [] and algo2.reconciliation.missed_slices == 0
    base_stats = {s.venue: (s.orders, s.fills, s.rejects, s.acks) for s in base_algo.router.venue_stats()}
    assert {s.venue: (s.orders, s.fills, s.rejects, s.acks) for s in algo2.router.venue_stats()} == base_stats


def test_pov_restored_after_missing_tape_does_not_catch_it_up():
    """Down from 4.7 s to 6 s: the 5.5 s trades (3.0 traded) are not participated in after the restart
    (the stated policy). The 0.8 left goes with the tape from 6.5 s, so the parent ends one tape later
    (8.5 s instead of 7.5 s): same total, no child twice."""
    stop, restart = START + 4 * NS + 700 * MS, START + 6 * NS
    first, algo1, second, algo2, _ = run_restarted(pov, tape_market, stop, restart)
    (parent,) = algo2.parents.values()
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (2 * UNITS, 0, 0, 0)
    assert child_rows(second, algo2, restart) == [(t, "BYBIT", UNITS // 10, "FILLED") for t in (6.5,) * 3 + (7.5,) * 3 + (8.5,) * 2]
    assert sum(r[2] for r in child_rows(second, algo2)) == 2 * UNITS
    assert_no_child_twice(first, algo1, second, algo2, restart)


def test_iceberg_restored_in_a_new_engine_shows_the_rest_with_the_same_display():
    """ICEBERG of 2.0 showing 0.5 at a time; the market crosses the resting chunk once a second from
    5 s. Stopped at 6.5 s with the 4th chunk resting: the stop cancels it (a live node's stop does the
    same), so at the restart it is `closed_while_down` and its 0.5 is hidden again. Not the
    uninterrupted run's timing (that chunk would have filled at 7.03 s), so the invariants checked:
    no chunk twice, one chunk on display at a time, every chunk the original display size (0.5, not
    25% of what is left), requested == filled at the end with nothing working or abandoned, and the
    per-venue fills summing to it."""
    base_eng, base_algo = run_whole(iceberg, crossing)
    assert [r[2] for r in child_rows(base_eng, base_algo)] == [UNITS // 2] * 4
    stop, restart = START + 6 * NS + 500 * MS, START + 6 * NS + 600 * MS
    first, algo1, second, algo2, saved = run_restarted(iceberg, crossing, stop, restart)
    (parent,) = algo2.parents.values()
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (2 * UNITS, 0, 0, 0)
    (s4,) = algo2.reconciliation.closed_while_down
    assert second.cache.order(ClientOrderId(s4)).status == OrderStatus.CANCELED
    rows = child_rows(second, algo2)
    assert [(units, status) for _, _, units, status in rows] == [(UNITS // 2, "FILLED")] * 3 + [(UNITS // 2, "CANCELED"), (UNITS // 2, "FILLED")]
    # The new chunk: the first try at the restart finds no quote yet in the new engine's cache, the
    # retry a second later (8 s) places it; the market crosses it at 8.03 s.
    assert rows[-1][0] == 8.0 and rows[-1][0] * NS + START >= restart
    assert_no_child_twice(first, algo1, second, algo2, restart)
    orders = children_of(second, algo2)
    for prev, nxt in zip(sorted(orders, key=lambda o: o.ts_init), sorted(orders, key=lambda o: o.ts_init)[1:]):
        assert nxt.ts_init >= prev.ts_last, (prev, nxt)  # one chunk on display at a time
    by_venue = filled_by_venue(orders)
    assert sum(by_venue.values()) == parent.filled == 2 * UNITS
    assert all(c.filled_units == qty_to_units(second.cache.order(c.client_order_id).filled_qty) for c in parent.children.values())
    assert second.cache.order(parent.primary_id).is_closed


@pytest.mark.parametrize("shown", [0, 1, 3, 6])
def test_resumed_iceberg_continues_the_jittered_chunks_of_the_original(shown):
    """With display jitter the restored iceberg shows the chunks the uninterrupted one would: the same
    display size and the next draws of its seeded jitter (one draw per chunk already shown)."""
    from collections import deque

    from nautilus_trader.model.identifiers import InstrumentId

    from nautilus_sor._core import Iceberg
    from nautilus_sor.execution_algorithms.base import ChildState, ParentState

    lots, visible, jitter, seed = 1000, 0.07, 0.4, 11
    chunks = shown_chunks(Iceberg(lots, visible, 1, jitter, seed))
    assert len(set(chunks)) > 2  # the jitter is real
    algo = IcebergExecAlgorithm(IcebergExecAlgorithmConfig(visible_pct=visible, display_jitter_pct=jitter, seed=seed))
    lot = 10**6
    done = sum(chunks[:shown]) * lot
    iid = InstrumentId.from_str("BTCUSDT.BINANCE")
    parent = ParentState(primary_id=ClientOrderId("P"), instrument_id=iid, side=OrderSide.BUY, requested=lots * lot, limit=None,
                         precision=3, lot_units=lot, slices=deque(), pending=lots * lot - done, filled=done)
    for i in range(shown):
        cid = ClientOrderId(f"P-S{i + 1}")
        parent.children[cid] = ChildState(cid, iid, chunks[i] * lot, chunks[i] * lot, True)
    assert shown_chunks(algo._resumed_iceberg(parent)) == chunks[shown:]


def shown_chunks(state) -> list[int]:
    """The chunks an iceberg shows when each fills whole (`on_fill` shows the next)."""
    chunks = [state.next_chunk()]
    while chunks[-1]:
        chunks.append(state.on_fill(chunks[-1]))
    return chunks[:-1]


# -- the strategy's position book after a restart -----------------------------------------------


class TwoWayTrader(MultiVenueStrategy):
    """Buys 1.0 from 1 s and sells 1.5 from 2 s, both by TWAP (None: the restarted strategy, sends nothing)."""

    def __init__(self, config, submit: bool) -> None:
        super().__init__(config)
        self.submit = submit

    def on_start(self) -> None:
        super().on_start()  # rebuilds the position book
        self.book_at_start = book_rows(self.book)
        self.replayed = self.rebuild_position_book()  # again: idempotent
        if self.submit:
            self.clock.set_time_alert_ns("buy", START + NS, lambda e: self.execute_order(OrderSide.BUY, Quantity.from_str("1.000")))
            self.clock.set_time_alert_ns("sell", START + 2 * NS, lambda e: self.execute_order(OrderSide.SELL, Quantity.from_str("1.500")))


def two_way_trader(submit: bool) -> TwoWayTrader:
    config = SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", use_smart_routing=True, venues=VENUES, execution_algorithm={"type": "TWAP"})
    return TwoWayTrader(config, submit)


def thin_market(from_ns: int = 0) -> tuple[list, list]:
    """0.04 shown per venue: a 0.05 or 0.075 slice is split across venues."""
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    return insts, [q for q in flat_quotes(insts, SECONDS, size="0.040") if q.ts_event >= from_ns]


def book_rows(book) -> dict[tuple[str, str], tuple[int, float, float | None]]:
    """(venue, instrument) -> (net units, realized PnL, open NETTING position's average open price)."""
    rows = {}
    for venue in book.venue_names:
        for inst in book.instrument_names:
            pid = book.netting_position_id(venue, inst)
            if pid is None:
                continue
            p = book.position(pid)
            rows[(venue, inst)] = (book.net_units(venue, inst), book.realized_pnl(venue, inst), p.avg_px_open if p.quantity else None)
    return rows


def assert_same_book(ours: dict, theirs: dict) -> None:
    assert ours.keys() == theirs.keys()
    for key, (net, pnl, px) in ours.items():
        assert net == theirs[key][0], key
        assert pnl == pytest.approx(theirs[key][1], rel=1e-12, abs=1e-12), key
        assert px == pytest.approx(theirs[key][2], rel=1e-12), key


def copy_position(position, instrument):
    """The position rebuilt from its fills, as a cache database restores it."""
    from nautilus_trader.model.position import Position

    events = position.events
    copy = Position(instrument, events[0])
    for fill in events[1:]:
        copy.apply(fill)
    return copy


def assert_book_equals_nautilus(strategy, cache) -> None:
    """Per instrument: the core book's NETTING position == Nautilus's (net quantity, average open
    price, realized PnL of the current position), and the cross-venue exposure == their sum."""
    total = 0.0
    for position in cache.positions(strategy_id=strategy.id):
        iid = position.instrument_id
        ours = strategy.book.position(strategy.book.netting_position_id(iid.venue.value, iid.value))
        assert ours.signed_qty == position.signed_qty, iid
        assert ours.avg_px_open == pytest.approx(position.avg_px_open, rel=1e-12), iid
        assert ours.realized_pnl == pytest.approx(position.realized_pnl.as_double(), rel=1e-12), iid  # both rounded to Money's 8 dp
        total += position.signed_qty
    assert strategy.net_exposure("BTC") == pytest.approx(total, abs=1e-12)


def test_position_book_is_rebuilt_from_the_cache_after_a_restart():
    """A buy of 1.0 and a sell of 1.5 (TWAP, thin books: split over BINANCE and BYBIT, BINANCE flips
    short). Stopped at 8.5 s, restarted at 9 s in a new engine whose cache holds the orders and
    positions (as a cache database restores them). The restarted strategy rebuilds its core book from
    the cache's fills on start (the book is not saved: one source of truth): at the start it equals
    the stopped strategy's (net, realized PnL, average price: the fills replay in the order Nautilus
    applied them); at the end it has the uninterrupted run's net per venue and instrument and
    cross-venue exposure, and equals Nautilus's positions."""
    insts, data = thin_market()
    base = make_engine(insts, data)
    base.add_exec_algorithm(twap())
    base_trader = two_way_trader(True)
    base.add_strategy(base_trader)
    base.run()

    first = make_engine(insts, data)
    first.add_exec_algorithm(twap())
    trader1 = two_way_trader(True)
    first.add_strategy(trader1)
    first.run(end=pd_ts(START + 8 * NS + 500 * MS))
    saved = trader1.save()
    at_stop = book_rows(trader1.book)
    assert at_stop and any(net for net, _, _ in at_stop.values())

    insts, data = thin_market(START + 9 * NS)
    second = make_engine(insts, data)
    for order in first.cache.orders():
        second.cache.add_order(copy_order(order), None)
    for position in first.cache.positions():
        instrument_ = second.cache.instrument(position.instrument_id)
        for snapshot in first.cache.position_snapshots(position.id):  # a NETTING position's earlier cycles
            copy = copy_position(snapshot, instrument_)
            copy.id = position.id
            second.cache.snapshot_position(copy)
        second.cache.add_position(copy_position(position, instrument_), OmsType.NETTING)
    second.add_exec_algorithm(twap())
    trader2 = two_way_trader(False)
    second.add_strategy(trader2)
    trader2.load(saved)
    second.run()

    assert trader2.replayed == sum(1 for o in first.cache.orders() for e in o.events if type(e).__name__ == "OrderFilled")
    assert_same_book(trader2.book_at_start, at_stop)
    final = book_rows(trader2.book)
    assert {v for v, _ in final} == {"BINANCE", "BYBIT"} and final[("BINANCE", "BTCUSDT.BINANCE")][0] < 0  # split, and a flip
    # The uninterrupted run's nets (prices differ: the 8 s slices, due at the stop, went at the restart).
    assert {k: net for k, (net, _, _) in final.items()} == {k: net for k, (net, _, _) in book_rows(base_trader.book).items()}
    assert trader2.book.exposure("BTC").by_venue == base_trader.book.exposure("BTC").by_venue
    assert trader2.net_exposure("BTC") == base_trader.net_exposure("BTC") == -0.5
    assert_book_equals_nautilus(trader2, second.cache)
    assert_book_equals_nautilus(base_trader, base.cache)


def test_position_book_counts_fills_made_while_the_strategy_was_stopped():
    """In one node: the strategy stops at 5.5 s and resumes at 9.5 s while its TWAP goes on.
    Nautilus hands a stopped strategy no events, so the fills of 6..9 s never reach `on_order_event`;
    the rebuild on resume counts them, once."""
    insts, data = thin_market()
    eng = make_engine(insts, data)
    algo = twap()
    eng.add_exec_algorithm(algo)
    trader = two_way_trader(True)
    eng.add_strategy(trader)
    nets: dict[str, float] = {}

    def stop(e):
        nets["at_stop"] = trader.net_exposure("BTC")
        trader.stop()

    def resume(e):
        trader.resume()
        nets["resumed"] = trader.is_running

    # On the algorithm's clock: a stopped strategy's timers are cancelled.
    algo.clock.set_time_alert_ns("strategy-stop", START + 5 * NS + 500 * MS, stop)
    algo.clock.set_time_alert_ns("strategy-resume", START + 9 * NS + 500 * MS, resume)
    eng.run()
    assert nets["resumed"]
    stopped = [o for o in eng.cache.orders() for e in o.events
               if type(e).__name__ == "OrderFilled" and START + 5 * NS + 500 * MS < e.ts_event < START + 9 * NS + 500 * MS]
    assert stopped, "the TWAP filled nothing while the strategy was stopped"
    assert trader.net_exposure("BTC") == -0.5 and nets["at_stop"] != -0.5
    assert_book_equals_nautilus(trader, eng.cache)
