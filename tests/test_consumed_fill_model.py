"""Aggressive fills consume the levels they take, in a real Nautilus BacktestEngine (L2_MBP book):
`nautilus_sor.fill_model_consumed`. Expectations are worked by hand from the books below; the differential
check runs the same sequence through `evaluate`'s simulator (`_core.VenueBook`)."""

import random

import numpy as np
import pytest
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.backtest.models import FillModel
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.model.currencies import BTC, USDT
from nautilus_trader.model.enums import AccountType, BookType, OmsType, OrderSide, TimeInForce
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.trading.strategy import Strategy

from nautilus_env import NS, START, btcusdt, snapshot
from nautilus_sor import _core
from nautilus_sor.exceptions import ConfigError
from nautilus_sor.fill_model_consumed import ConsumedLiquidityFillModel, ConsumedLiquidityModule

BIDS = [(100.00, 5.0), (99.90, 5.0)]


class Takers(Strategy):
    """At each time of `plan` ({ts: [(side, qty, limit or None)]}), submits those orders in that order."""

    def __init__(self, instrument_id, plan):
        super().__init__(StrategyConfig(strategy_id="TAKE-001"))
        self.instrument_id = instrument_id
        self.plan = plan
        self.fills = {}  # order index -> [(price, size)]
        self.canceled = {}  # order index -> ts
        self._index = {}

    def on_start(self):
        for n, ts in enumerate(sorted(self.plan)):
            self.clock.set_time_alert_ns(f"take-{n}", ts, self._submit)

    def _submit(self, event):
        for side, qty, limit in self.plan[event.ts_event]:
            quantity = Quantity(qty, 3)
            if limit is None:
                order = self.order_factory.market(self.instrument_id, side, quantity)
            else:
                order = self.order_factory.limit(self.instrument_id, side, quantity, Price(limit, 2), time_in_force=TimeInForce.IOC)
            self._index[order.client_order_id] = len(self._index)
            self.fills[self._index[order.client_order_id]] = []
            self.submit_order(order)

    def on_order_canceled(self, event):
        self.canceled[self._index[event.client_order_id]] = event.ts_event

    def on_order_filled(self, event):
        self.fills[self._index[event.client_order_id]].append((float(event.last_px), float(event.last_qty)))


def run(books, plan, *, consume=True, canceled=None):
    """`books`: [(ts, asks, bids)]; returns each order's fills [(price, size)], in submission order
    (`canceled`: a dict given gets {order index: cancel ts})."""
    instrument = btcusdt("SIM")
    eng = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR", bypass_logging=True), trader_id="TESTER-001"))
    extra = {"fill_model": ConsumedLiquidityFillModel(), "modules": [ConsumedLiquidityModule()]} if consume else {}
    eng.add_venue(venue=Venue("SIM"), oms_type=OmsType.NETTING, account_type=AccountType.MARGIN, base_currency=None,
                  starting_balances=[Money(10_000_000, USDT), Money(1000, BTC)], book_type=BookType.L2_MBP, **extra)
    eng.add_instrument(instrument)
    end = max([ts for ts, *_ in books] + list(plan)) + NS
    # The last book again after the last order: Nautilus fires timers only up to its last data point.
    eng.add_data([snapshot(instrument, ts, asks, bids) for ts, asks, bids in books + [(end, *books[-1][1:])]])
    strategy = Takers(instrument.id, plan)
    eng.add_strategy(strategy)
    eng.run()
    fills = [strategy.fills[n] for n in range(len(strategy.fills))]
    if canceled is not None:
        canceled.update(strategy.canceled)
    eng.dispose()
    return fills


ASKS = [(100.10, 2.0), (100.20, 3.0), (100.30, 5.0)]
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def test_two_market_orders_in_one_book_state_walk_deeper_with_the_model():
    books = [(START, ASKS, BIDS)]
    plan = {START + NS // 2: [(BUY, 1.5, None), (BUY, 1.5, None)]}
    # Nautilus alone: both take 1.5 of the same 2.0 at 100.10.
    assert run(books, plan, consume=False) == [[(100.10, 1.5)], [(100.10, 1.5)]]
    # With the model: the second finds 0.5 left at 100.10 and takes 1.0 at 100.20.
    assert run(books, plan) == [[(100.10, 1.5)], [(100.10, 0.5), (100.20, 1.0)]]


def test_the_bid_side_is_consumed_the_same_way_and_the_ask_side_is_untouched():
    books = [(START, ASKS, BIDS)]
    plan = {START + NS // 2: [(SELL, 4.0, None), (SELL, 2.0, None), (BUY, 1.0, None)]}
    assert run(books, plan) == [[(100.00, 4.0)], [(100.00, 1.0), (99.90, 1.0)], [(100.10, 1.0)]]


@pytest.mark.parametrize(("size_at_10020", "expected"), [
    # Unchanged: our take of 1.0 is not in the recorded book yet, 3.0 - 1.0 = 2.0 offered.
    (3.0, [(100.20, 2.0), (100.30, 0.5)]),
    # Refreshed (1.2 <= the 2.0 we left: the book no longer shows our part): offered in full.
    (1.2, [(100.20, 1.2), (100.30, 1.3)]),
    # 1.0 joined behind us (4.0 > the 3.0 we met): 4.0 - 1.0 = 3.0 offered.
    (4.0, [(100.20, 2.5)]),
])
def test_a_consumed_level_is_offered_again_per_the_recorded_book(size_at_10020, expected):
    books = [(START, ASKS, BIDS), (START + NS, [(100.20, size_at_10020), (100.30, 5.0)], BIDS)]
    plan = {START + NS // 2: [(BUY, 1.5, None), (BUY, 1.5, None)],  # leaves 100.10 eaten, 2.0 of 3.0 at 100.20
            START + 3 * NS // 2: [(BUY, 2.5, None)]}
    assert run(books, plan)[2] == expected


def test_an_ioc_limit_with_nothing_left_within_its_limit_is_cancelled_unfilled():
    books = [(START, ASKS, BIDS), (START + NS, ASKS, BIDS)]
    plan = {START + NS // 2: [(BUY, 2.0, None), (BUY, 1.0, 100.10)]}  # the IOC finds 100.10 eaten
    canceled = {}
    assert run(books, plan, canceled=canceled) == [[(100.10, 2.0)], []]
    assert canceled == {1: START + NS // 2}  # at once: Nautilus alone would leave it open


def test_a_venue_needs_both_the_module_and_the_fill_model():
    instrument = btcusdt("SIM")
    eng = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR", bypass_logging=True), trader_id="TESTER-001"))
    with pytest.raises(ConfigError) as err:
        eng.add_venue(venue=Venue("SIM"), oms_type=OmsType.NETTING, account_type=AccountType.MARGIN, base_currency=None,
                      starting_balances=[Money(1_000_000, USDT)], book_type=BookType.L2_MBP, fill_model=FillModel(),
                      modules=[ConsumedLiquidityModule()])
    assert err.value.field == "fill_model"
    eng.dispose()
    with pytest.raises(ConfigError) as err:
        ConsumedLiquidityFillModel().get_orderbook_for_fill_simulation(instrument, None, None, None)
    assert err.value.field == "modules"


def evaluate_fills(books, plan):
    """The same sequence through `evaluate`'s simulator: `_core.VenueBook.take` on the recorded rows."""
    depth = max(max(len(a), len(b)) for _, a, b in books)

    def matrix(rows):
        out = np.full((len(books), depth), np.nan)
        for r, levels in enumerate(rows):
            for j, level in enumerate(levels):
                out[r, j] = level
        return out

    ts = np.array([t for t, *_ in books], dtype=np.int64)
    recorded = _core.RecordedBook(ts, matrix([[p for p, _ in b] for _, _, b in books]), matrix([[s for _, s in b] for _, _, b in books]),
                                  matrix([[p for p, _ in a] for _, a, _ in books]), matrix([[s for _, s in a] for _, a, _ in books]))
    venue = _core.VenueBook(recorded, 0.01)
    return [[(round(p, 2), round(s, 3)) for p, s in venue.take("BUY" if side == BUY else "SELL", qty, limit, t)]
            for t in sorted(plan) for side, qty, limit in plan[t]]


def random_sequence(seed):
    """Books on a 1-cent grid whose levels shrink, vanish, grow and return, and small orders between them
    (never enough to empty a side: Nautilus then falls back to its own book, see the module docstring)."""
    rng = random.Random(seed)
    books, plan = [], {}
    for row in range(12):
        mid = 10_005 + rng.randint(-2, 2)  # cents
        asks = [((mid + 5 + 10 * j) / 100, rng.choice([0.5, 1.0, 2.0, 3.0, 4.0])) for j in range(5)]
        bids = [((mid - 5 - 10 * j) / 100, rng.choice([0.5, 1.0, 2.0, 3.0, 4.0])) for j in range(5)]
        t = START + row * NS
        books.append((t, asks, bids))
        plan[t + NS // 2] = [(rng.choice([BUY, SELL]), rng.choice([0.3, 0.7, 1.1, 1.6]),
                              None) for _ in range(rng.randint(1, 3))]
    for t, orders in plan.items():  # some IOC limits at the touch or one level in
        for k, (side, qty, _) in enumerate(orders):
            if rng.random() < 0.4:
                _, asks, bids = books[(t - START) // NS]
                levels = asks if side == BUY else bids
                orders[k] = (side, qty, levels[rng.randint(0, 1)][0])
    return books, plan


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_nautilus_model_and_the_evaluation_simulator_fill_the_same_sequence_alike(seed):
    books, plan = random_sequence(seed)
    ours = [[(round(p, 2), round(s, 3)) for p, s in fills] for fills in run(books, plan)]
    expected = evaluate_fills(books, plan)
    assert ours == expected
    # And the sequence does exercise the rule: Nautilus alone fills some order differently.
    assert [[(round(p, 2), round(s, 3)) for p, s in f] for f in run(books, plan, consume=False)] != expected


def test_a_market_order_larger_than_what_is_left_fills_that_and_its_rest_is_cancelled():
    books = [(START, ASKS, BIDS)]
    plan = {START + NS // 2: [(BUY, 9.0, None), (BUY, 2.0, None)]}  # 10.0 offered in all; 1.0 left after the first
    canceled = {}
    assert run(books, plan, canceled=canceled) == [[(100.10, 2.0), (100.20, 3.0), (100.30, 4.0)], [(100.30, 1.0)]]
    assert canceled == {1: START + NS // 2}  # Nautilus alone would leave the rest of a market order open


@pytest.mark.parametrize("consume", [True, False])
def test_a_market_order_larger_than_the_whole_side_fills_it_and_its_rest_is_cancelled_with_the_module(consume):
    # Nothing on record (no earlier take): the venue's own book fills it, and the module cancels its rest;
    # Nautilus alone leaves that rest open for good.
    canceled = {}
    fills = run([(START, ASKS, BIDS)], {START + NS // 2: [(BUY, 12.0, None)]}, consume=consume, canceled=canceled)
    assert fills == [[(100.10, 2.0), (100.20, 3.0), (100.30, 5.0)]]
    assert canceled == ({0: START + NS // 2} if consume else {})


@pytest.mark.parametrize(("path", "expected"), [
    # 100.10 empties between our two takers, then refills to 2.0: the recorded level refreshed, the 2.0
    # is new size, offered in full (the evaluation's simulator agrees, below).
    ([[(100.20, 3.0), (100.30, 5.0)], ASKS], [(100.10, 2.0)]),
    # It only shrinks to 1.0, above the 0.5 we left, and comes back to 2.0: our take is still off the book.
    ([[(100.10, 1.0), (100.20, 3.0), (100.30, 5.0)], ASKS], [(100.10, 0.5), (100.20, 1.5)]),
])
def test_a_level_that_empties_and_refills_between_two_of_our_takers_is_new_size(path, expected):
    books = [(START, ASKS, BIDS)] + [(START + (k + 1) * NS, asks, BIDS) for k, asks in enumerate(path)]
    plan = {START + NS // 2: [(BUY, 1.5, None)], START + 5 * NS // 2: [(BUY, 2.0, None)]}
    assert run(books, plan)[1] == expected
    assert evaluate_fills(books, plan)[1] == expected


def test_a_dip_inside_one_batch_of_deltas_is_not_a_state_of_the_book():
    """Only the state after a batch (F_LAST) counts: a CLEAR that re-adds 100.10 at its size in the same
    snapshot did not empty it."""
    books = [(START, ASKS, BIDS), (START + NS, ASKS, BIDS)]  # the second is a CLEAR + ADDs snapshot
    plan = {START + NS // 2: [(BUY, 1.5, None)], START + 3 * NS // 2: [(BUY, 2.0, None)]}
    assert run(books, plan)[1] == [(100.10, 0.5), (100.20, 1.5)]


def _fills_of_seed(seed):
    books, plan = random_sequence(seed)
    return run(books, plan)


def test_engines_in_one_process_and_a_fresh_process_fill_alike():
    """The module keeps no state across engines: two engines in this process, one after the other, and one
    in a freshly spawned process fill the same sequences the same way."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    here = [_fills_of_seed(seed) for seed in (4, 5)] + [_fills_of_seed(4)]
    assert here[0] == here[2]  # the same engine setup again, after another engine ran in this process
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        fresh = list(pool.map(_fills_of_seed, (4, 5)))
    assert fresh == here[:2]
