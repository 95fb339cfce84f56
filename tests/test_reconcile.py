"""Reconciliation on start after a restore (issue 10): the orders the cache holds (what the venues
report after Nautilus's execution reconciliation) are matched to their parents by tag / id; orphans
are reported and cancelled or adopted per `orphan_policy`.

The restart is staged inside one BacktestEngine, so the simulated venues really hold the open orders:
at `STOP` the algorithm is stopped and saved; while it is down, orders tagged as ours are placed (a
child sent after the save, an orphan of an unknown parent); at `RESTART` it is reset, loaded with the
saved state and started again.
"""

from __future__ import annotations

import pytest
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.enums import OrderStatus, TimeInForce
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import LimitOrder

from nautilus_env import NS, START
from nautilus_sor.execution_algorithms import TWAPExecAlgorithm, TWAPExecAlgorithmConfig
from test_faults import MS, UNITS, VENUES, assert_invariants, flat_quotes, instrument, make_engine, run


def place(algo, strategy, venue: str, client_order_id: str, quantity: str, price: float, parent: str) -> None:
    """An order carrying our algorithm id and a parent tag, resting far from the market (never fills)."""
    inst = strategy.cache.instrument(instrument(venue).id)
    order = LimitOrder(
        trader_id=strategy.trader_id, strategy_id=strategy.id, instrument_id=inst.id, client_order_id=ClientOrderId(client_order_id),
        order_side=strategy.primaries[0].side, quantity=Quantity.from_str(quantity), price=inst.make_price(price),
        time_in_force=TimeInForce.GTC, init_id=UUID4(), ts_init=strategy.clock.timestamp_ns(), exec_algorithm_id=algo.id,
        exec_spawn_id=ClientOrderId(client_order_id), tags=[f"parent={parent}"],
    )
    strategy.cache.add_order(order, None)
    algo.submit_order(order)


def canceled_at(eng, client_order_id: str) -> int:
    order = eng.cache.order(ClientOrderId(client_order_id))
    assert order.status == OrderStatus.CANCELED, order
    return order.ts_last


def restart(algo, saved: list) -> None:
    algo.reset()
    algo.load(saved[0])
    algo.start()


def scenario(policy: str, restart_ms: int, quantity: str = "2.000", duration: int = 20, stop_ms: int = 5_010):
    """TWAP over three venues, BYBIT 50 ms away; stopped at `stop_ms` (the child sent at 5 s to BYBIT
    is in flight), orders placed at stop + 5 ms, restarted at `restart_ms`."""
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    eng = make_engine(insts, flat_quotes(insts, 40), latency_ms={"BYBIT": 50})
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=duration, interval_seconds=1, use_smart_routing=True, venues=VENUES, orphan_policy=policy))
    saved: list = []

    def stop(s):
        algo.stop()
        saved.append(algo.save())

    def orphans(s):
        primary = s.primaries[0].client_order_id.value
        place(algo, s, "BINANCE", f"{primary}-S90", "0.100", 50.0, primary)  # sent after the save
        place(algo, s, "OKX", "GHOST-S1", "0.200", 50.0, "GHOST")  # a parent nobody knows

    actions = [(START + stop_ms * MS, stop), (START + stop_ms * MS + 5 * MS, orphans), (START + restart_ms * MS, lambda s: restart(algo, saved))]
    strategy = run(algo, eng, quantity, actions=actions)
    return eng, algo, strategy


@pytest.mark.parametrize("policy", ["cancel", "adopt"])
@pytest.mark.parametrize("restart_ms", [5_020, 6_500], ids=["child_still_in_flight", "child_filled_while_down"])
def test_children_are_matched_and_orphans_follow_the_policy(policy, restart_ms):
    eng, algo, strategy = scenario(policy, restart_ms)
    primary = strategy.primaries[0].client_order_id
    report = algo.reconciliation
    in_flight = f"{primary.value}-E5"
    assert eng.cache.order(ClientOrderId(in_flight)).instrument_id.venue.value == "BYBIT"
    if restart_ms == 5_020:  # the BYBIT child (50 ms away) reaches the venue at the next event, after 5.02 s
        assert report.matched == [in_flight] and report.closed_while_down == []
    else:
        assert report.closed_while_down == [in_flight] and report.matched == []
    # The child placed after the save is the parent's: its 0.1 left the schedule and rested as working
    # until the backtest's end stopped the algorithm (which cancels working children: abandoned).
    assert report.adopted_unsaved == [f"{primary.value}-S90"]
    parent = algo.parents[primary]
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (2 * UNITS - UNITS // 10, 0, 0, UNITS // 10)
    assert parent.children[ClientOrderId(f"{primary.value}-S90")].units == UNITS // 10
    end = START + 39 * NS
    assert canceled_at(eng, f"{primary.value}-S90") >= end
    # The orphan is reported, counted, and handled by the policy.
    (orphan,) = report.orphans
    assert report.orphan_count == 1
    assert (orphan.client_order_id, orphan.claimed_parent, orphan.reason, orphan.action, orphan.leaves_units) == (
        "GHOST-S1", "GHOST", "unknown parent", policy, 2 * UNITS // 10)
    if policy == "cancel":
        assert canceled_at(eng, "GHOST-S1") <= START + (restart_ms + 50) * MS  # cancelled at the restart
        assert all("GHOST" not in p.value for p in algo.parents)
    else:
        # Adopted: tracked by its own parent until the end, then cancelled with the others at the stop.
        assert canceled_at(eng, "GHOST-S1") >= end
        adopted = algo.parents[ClientOrderId("ADOPTED-GHOST")]
        assert adopted.adopted and (adopted.requested, adopted.filled, adopted.working, adopted.pending, adopted.abandoned) == (
            2 * UNITS // 10, 0, 0, 0, 2 * UNITS // 10)
    # Nothing sent twice: one child per scheduled slice (19 after the primary's first), plus S90.
    ids = [o.client_order_id.value for o in eng.cache.orders() if o.exec_algorithm_id == algo.id]
    assert len(ids) == len(set(ids))
    for p in algo.parents.values():
        assert p.filled + p.working + p.pending + p.abandoned == p.requested


def test_an_open_child_of_a_parent_that_finished_while_down_is_an_orphan():
    """A 0.3 TWAP over 3 s is done by 4 s; an order tagged for it shows up while the algorithm is down
    (stopped at 10 s): its parent cannot take it, so it is an orphan ("parent finished") and cancelled."""
    eng, algo, strategy = scenario("cancel", restart_ms=10_500, quantity="0.300", duration=3, stop_ms=10_000)
    primary = strategy.primaries[0].client_order_id
    parent = algo.parents[primary]
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (3 * UNITS // 10, 0, 0, 0)
    reasons = {o.client_order_id: (o.reason, o.action) for o in algo.reconciliation.orphans}
    assert reasons == {f"{primary.value}-S90": ("parent finished", "cancel"), "GHOST-S1": ("unknown parent", "cancel")}
    assert eng.cache.order(ClientOrderId(f"{primary.value}-S90")).status == OrderStatus.CANCELED
    assert algo.reconciliation.adopted_unsaved == []
