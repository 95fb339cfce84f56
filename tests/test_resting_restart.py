"""Restart state covers resting children (issue 17): a "maker" TWAP whose node goes down while a slice
rests, restored into a NEW BacktestEngine from the state saved then, re-prices and crosses that child
when the uninterrupted run does, books what filled while down, and ends with the uninterrupted run's
totals.

The restart is staged as in tests/test_restart.py, except that the node does not stop gracefully (a
graceful stop cancels every working child, and the restored child is then one that closed while down):
the first engine runs in streaming mode to the save time, `algorithm.save()` is taken while it runs (the
state a live node last persisted), the first engine runs on to the crash time (what the venue did while
we were down), and its orders, rebuilt from their events, seed the new engine's cache. Nautilus's
backtest loads a cached open order into its venue's matching engine at the start, as a live venue still
holds it.
"""

from __future__ import annotations

import msgspec
import pytest
from nautilus_trader.model.enums import OmsType, OrderSide, OrderType
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.objects import Quantity

from nautilus_env import NS, START, btcusdt, engine, quotes
from nautilus_sor.exceptions import StateError
from nautilus_sor.execution_algorithms import TWAPExecAlgorithm, TWAPExecAlgorithmConfig
from nautilus_sor.execution_algorithms.state import STATE_KEY, decode_state
from nautilus_sor.strategy import MultiVenueStrategy, SmartRoutingStrategyConfig
from nautilus_sor.units import qty_to_units
from test_faults import pd_ts
from test_restart import copy_order

VENUES = [{"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0004}, {"name": "BYBIT", "maker_fee": 0.0001, "taker_fee": 0.0003}]
MS = NS // 1000
RISING = [100.0 + 0.01 * i for i in range(60)]  # a resting bid is left behind by the touch every second


def dipping(at_s: int) -> list[float]:
    """RISING with one quote at `at_s` whose ask (mid + 0.05) falls below every bid we rest: it fills them."""
    return [m - (0.5 if i == at_s else 0.0) for i, m in enumerate(RISING)]


class Trader(MultiVenueStrategy):
    """Submits one 2.0 BTC primary at START + 1 s (`submit=False`: the restarted node's strategy)."""

    def __init__(self, config, submit: bool) -> None:
        super().__init__(config)
        self.submit = submit

    def on_start(self) -> None:
        super().on_start()
        if self.submit:
            self.clock.set_time_alert_ns("go", START + NS, self._go)

    def _go(self, _event) -> None:
        self.execute_order(OrderSide.BUY, Quantity.from_str("2.000"))


def make(mids: list[float], from_ns: int = 0, orders=()):
    a, b = btcusdt("BINANCE", size_precision=5), btcusdt("BYBIT", taker_fee="0.0003")
    data = [q for q in quotes(a, mids, 0.05, "10.00000", START) + quotes(b, mids, 0.05, "10.000", START) if q.ts_event >= from_ns]
    eng = engine({"BINANCE": OmsType.NETTING, "BYBIT": OmsType.NETTING}, [a, b], data)
    for order in orders:
        eng.cache.add_order(order, None)
        eng.cache.update_order(order)  # indexes it by status (open), as a cache database load does
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=30, interval_seconds=10, use_smart_routing=True, venues=VENUES,
                                                     execution_style="maker", reprice_interval_s=2.0, catch_up_fraction=1.0))
    eng.add_exec_algorithm(algo)
    config = SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", use_smart_routing=True, venues=VENUES,
                                        execution_algorithm={"type": "TWAP"})
    eng.add_strategy(Trader(config, submit=not orders))
    return eng, algo


def uninterrupted(mids):
    eng, algo = make(mids)
    eng.run()
    return eng, algo


def restarted(mids, save_ns: int, crash_ns: int):
    """State saved at `save_ns` (running), node down from `crash_ns`, new engine from `crash_ns` on."""
    first, algo1 = make(mids)
    first.run(end=pd_ts(save_ns), streaming=True)
    saved = algo1.save()
    first.run(end=pd_ts(crash_ns), streaming=True)
    orders = [copy_order(o) for o in first.cache.orders()]
    first.end()  # after the copy: the stop's cancels are not seen by the new engine
    first.dispose()
    second, algo2 = make(mids, crash_ns, orders)
    algo2.load(saved)
    second.run()
    return second, algo2, saved


def rows(eng, algo, since_ns: int = 0):
    """(s after START, venue, type, price, units, filled units, status) of the children sent from `since_ns`."""
    kids = sorted((o for o in eng.cache.orders() if o.exec_algorithm_id == algo.id and o.ts_init >= since_ns
                   and o.client_order_id not in algo.parents), key=lambda o: (o.ts_init, o.client_order_id.value))
    return [((o.ts_init - START) / NS, o.instrument_id.venue.value, o.order_type.name, None if o.order_type == OrderType.MARKET else float(o.price),
             qty_to_units(o.quantity), qty_to_units(o.filled_qty) if o.filled_qty.raw else 0, o.status.name) for o in kids]


def filled(eng, algo) -> dict[str, int]:
    out: dict[str, int] = {}
    for o in eng.cache.orders():
        if o.exec_algorithm_id == algo.id and o.filled_qty.raw:
            out[o.instrument_id.venue.value] = out.get(o.instrument_id.venue.value, 0) + qty_to_units(o.filled_qty)
    return out


def resting_in(saved) -> list:
    (parent,) = decode_state(saved[STATE_KEY]).parents
    return [c for c in parent.children if c.resting is not None]


def test_a_resting_child_restored_mid_slice_is_repriced_and_crossed_as_without_the_restart():
    # Slice 1 (0.666 resting on BYBIT's lot) rests from 1 s, re-priced at 3, 5, 7, 9 s (the touch rises a
    # cent a second, the rate limit is 2 s) and crossed at 11 s when slice 2 is due. Saved at 5.5 s, down from 5.6 s (the restored
    # engine's clock starts with its first quote, 6 s): its next check, 7 s, is kept.
    base_eng, base_algo = uninterrupted(RISING)
    save, crash = START + 5 * NS + 500 * MS, START + 5 * NS + 600 * MS
    second, algo2, saved = restarted(RISING, save, crash)
    (watch,) = resting_in(saved)
    r = watch.resting
    assert (r.last_priced_ns, r.next_check_ns, r.deadline_ns) == (START + 5 * NS, START + 7 * NS, START + 11 * NS)
    assert (r.execution_style, r.reprice_interval_s, r.catch_up_fraction) == ("maker", 2.0, 1.0)
    assert algo2.reconciliation.matched == [watch.client_order_id]
    # Every child from the restart on: the same times, venues, prices, sizes and outcomes.
    after = rows(second, algo2, crash)
    assert after == rows(base_eng, base_algo, crash)
    # The restored child's re-prices (7, 9 s), and its rest crossed at the slice's end (cancelled at 11 s,
    # the cancel confirmed with the 12 s quote), as in the uninterrupted run.
    assert after[:3] == [(7.0, "BYBIT", "LIMIT", 100.02, 666 * 10**6, 0, "CANCELED"), (9.0, "BYBIT", "LIMIT", 100.04, 666 * 10**6, 0, "CANCELED"),
                         (11.0, "BYBIT", "LIMIT", 100.06, 667 * 10**6, 0, "CANCELED")]
    assert after[3] == (12.0, "BYBIT", "MARKET", None, 666 * 10**6, 666 * 10**6, "FILLED")
    # The restored child itself: cancelled at 7 s for its re-price, as in the uninterrupted run.
    assert second.cache.order(ClientOrderId(watch.client_order_id)).status.name == "CANCELED"
    (parent,) = algo2.parents.values()
    (base_parent,) = base_algo.parents.values()
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (base_parent.filled, 0, 0, 0) == (2 * 10**9, 0, 0, 0)
    assert filled(second, algo2) == filled(base_eng, base_algo)
    assert algo2.resting.reprices == base_algo.resting.reprices - 2  # 3 and 5 s were the first engine's
    assert algo2.resting.crosses == base_algo.resting.crosses


def test_a_fill_while_down_is_booked_and_the_rest_of_the_run_is_the_uninterrupted_one():
    # The 6 s quote's ask (99.6) falls below the resting bid (100.04): it fills while the node is down
    # (saved at 5.5 s, crashed at 6.5 s). The restart books it; slices 2 and 3 go as without the restart.
    mids = dipping(6)
    base_eng, base_algo = uninterrupted(mids)
    save, crash = START + 5 * NS + 500 * MS, START + 6 * NS + 500 * MS
    second, algo2, saved = restarted(mids, save, crash)
    (watch,) = resting_in(saved)
    assert algo2.reconciliation.closed_while_down == [watch.client_order_id]
    assert rows(second, algo2, crash) == rows(base_eng, base_algo, crash)
    assert filled(second, algo2) == filled(base_eng, base_algo)
    (parent,) = algo2.parents.values()
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (2 * 10**9, 0, 0, 0)
    child = parent.children[ClientOrderId(watch.client_order_id)]
    assert child.filled_units == child.units  # booked at the restart, not re-sent


@pytest.mark.parametrize(("field", "value"), [("execution_style", "passive"), ("reprice_interval_s", -1.0), ("catch_up_fraction", 0.0),
                                              ("deadline_ns", -5)])
def test_a_bad_resting_watch_in_the_state_is_a_typed_error_naming_it(field, value):
    _, _, saved = restarted(RISING, START + 5 * NS + 500 * MS, START + 5 * NS + 600 * MS)
    state = msgspec.json.decode(saved[STATE_KEY])
    (index,) = [j for j, c in enumerate(state["parents"][0]["children"]) if c["resting"] is not None]
    state["parents"][0]["children"][index]["resting"][field] = value
    with pytest.raises(StateError) as info:
        decode_state(msgspec.json.encode(state))
    assert info.value.field.endswith(f"parents[0].children[{index}].resting.{field}")
