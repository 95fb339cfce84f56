"""Clock ticks (`backtest/clock.py`): where they go, and what they change in a real Nautilus engine."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path

import msgspec
import numpy as np
import pytest
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.enums import BookType, OmsType, OrderSide
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy

from nautilus_env import NS, START, btcusdt, engine, snapshot
from nautilus_sor.backtest.clock import CLOCK_CLIENT_ID, DEFAULT_CLOCK_STEP_MS, clock_tick_times, clock_ticks
from nautilus_sor.backtest.node import BacktestNode, run_config_for, write_catalog
from nautilus_sor.backtest.engine import market_feeds
from nautilus_sor.backtest.runner import Scenario, _venue_dicts, clock_note, market_config_for, run_scenario
from nautilus_sor.backtest.synthetic import build_market
from nautilus_sor.config import load_config, parse_config
from nautilus_sor.exceptions import ValidationError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "multi_venue_twap.json"


def reference_ticks(ts: list[int], step: int) -> list[int]:
    """From the problem statement: walk each gap between consecutive distinct times in steps of `step`."""
    times = sorted(set(ts))
    out = []
    for a, b in zip(times, times[1:]):
        t = a + step
        while t < b:
            out.append(t)
            t += step
    return out


@pytest.mark.parametrize("seed", range(300))
def test_tick_times_match_the_gap_walk(seed):
    rng = np.random.default_rng(seed)
    step = int(rng.choice([1, 3, 7, 100, 1_000]))
    n = int(rng.integers(0, 40))
    # Gaps shorter than, equal to, and many steps longer than the step; repeated times; any order.
    gaps = rng.choice([0, 1, step - 1, step, step + 1, 2 * step, 5 * step + 3, 37 * step], size=n)
    ts = (10**12 + np.cumsum(gaps)).astype(np.int64)
    rng.shuffle(ts)
    got = clock_tick_times(ts, step).tolist()
    assert got == reference_ticks(ts.tolist(), step)
    merged = np.unique(np.concatenate([ts, np.asarray(got, dtype=np.int64)]))
    assert len(merged) == len(set(ts.tolist())) + len(got)  # never at a data point's time
    assert np.diff(merged).max(initial=0) <= step  # no gap longer than a step is left


def test_tick_times_refuse_a_step_that_is_not_positive():
    for step in (0, -5):
        with pytest.raises(ValidationError, match="invalid step_ns") as err:
            clock_tick_times([0, 10], step)
        assert err.value.field == "step_ns"


class _MarketAt(Strategy):
    """Buys 0.1 at market at `at_ns`, from an alert set at start."""

    def __init__(self, instrument, at_ns):
        super().__init__(StrategyConfig(strategy_id="CLK-001"))
        self.instrument, self.at_ns = instrument, at_ns
        self.fills = []

    def on_start(self):
        self.clock.set_time_alert_ns("buy", self.at_ns, self._buy)

    def _buy(self, _event):
        order = self.order_factory.market(self.instrument.id, OrderSide.BUY, Quantity.from_str("0.100"))
        self.submit_order(order)

    def on_order_filled(self, event):
        self.fills.append((event.ts_event, event.last_px.as_double()))


def _sparse_run(ticks: bool):
    """One venue whose ask is 100 at 0 s and 105 from 10 s: a market buy decided at 2 s."""
    inst = btcusdt("SPARSE")
    data = [snapshot(inst, START, asks=[(100.0, 1.0)], bids=[(99.0, 1.0)]),
            snapshot(inst, START + 10 * NS, asks=[(105.0, 1.0)], bids=[(104.0, 1.0)])]
    eng = engine({"SPARSE": OmsType.NETTING}, [inst], data, book_type=BookType.L2_MBP, latency_ns=10**6)
    if ticks:
        eng.add_data(clock_ticks([d.ts_init for d in data], DEFAULT_CLOCK_STEP_MS), client_id=ClientId(CLOCK_CLIENT_ID))
    strategy = _MarketAt(inst, START + 2 * NS)
    eng.add_strategy(strategy)
    eng.run()
    fills = strategy.fills
    eng.dispose()
    return fills


def test_an_order_decided_between_updates_fills_against_the_book_of_its_time():
    (ts, price), = _sparse_run(ticks=True)
    assert price == 100.0  # the ask in force when the order arrived
    assert START + 2 * NS < ts <= START + 2 * NS + int(DEFAULT_CLOCK_STEP_MS * 1e6) + 10**6  # latency + one step at most


def test_without_ticks_nautilus_fills_it_at_the_next_update():
    """Why the ticks exist (nautilus_trader 1.221): the order waits for the next data point and takes the book
    of 10 s. When this fails, Nautilus moves its clock between data points itself: revisit `backtest.clock`."""
    (ts, price), = _sparse_run(ticks=False)
    assert (ts, price) == (START + 10 * NS, 105.0)


def _sparse_market(config):
    """The example's synthetic market with every venue's book refreshed every 3 s and a thin tape: gaps of
    up to 3 s between data points."""
    market_config = market_config_for(config)
    venues = tuple(dataclasses.replace(v, update_interval_ms=3_000, trade_rate_per_s=0.05) for v in market_config.venues)
    return build_market(dataclasses.replace(market_config, venues=venues))


def _with_clock(config, step):
    raw = msgspec.to_builtins(config)
    raw["backtest"]["clock_step_ms"] = step
    return parse_config(raw)


def _first_answers(rows):
    """Per child order: (submitted, first venue answer, venue)."""
    return [(o["ts_submitted"], o["ts_accepted"], o["venue"]) for o in rows["orders"] if o["ts_submitted"] > 0 and o["ts_accepted"] > 0]


def test_the_runner_answers_every_child_within_its_latency_and_two_steps():
    """An arrived order waits at most one step; one sent from an alert that itself fired a step late (the
    algorithm's first slice goes through the clock, `base.py`) is stamped at the alert's time: two."""
    config = load_config(EXAMPLE)
    market = _sparse_market(config)
    venues = _venue_dicts(config, market)
    latency_ns = {v["name"]: int(v["latency_ms"] * 1e6) for v in venues}
    scenario = Scenario("router", venues[0]["instrument_id"], True, config.strategy.execution_algorithm)
    step_ns = int(DEFAULT_CLOCK_STEP_MS * 1e6)
    ticked = _first_answers(run_scenario(_with_clock(config, DEFAULT_CLOCK_STEP_MS), market, scenario, venues))
    assert len(ticked) > 20
    assert all(answer - sent <= latency_ns[venue] + 2 * step_ns for sent, answer, venue in ticked)
    untimed = _first_answers(run_scenario(_with_clock(config, None), market, scenario, venues))
    # Nautilus's own clock: children wait for the next book update, seconds later.
    assert max(answer - sent - latency_ns[venue] for sent, answer, venue in untimed) > 10 * step_ns
    assert "added" in clock_note(market_feeds(market.data), DEFAULT_CLOCK_STEP_MS)
    assert "null" in clock_note(market_feeds(market.data), None)


def test_the_node_reads_the_ticks_from_the_catalog_and_reproduces_the_runner(tmp_path):
    config = _with_clock(load_config(EXAMPLE), DEFAULT_CLOCK_STEP_MS)
    market = _sparse_market(config)
    venues = _venue_dicts(config, market)
    ours = run_scenario(config, market, Scenario("router", venues[0]["instrument_id"], True, config.strategy.execution_algorithm), venues)
    write_catalog(market, tmp_path / "catalog", clock_step_ms=config.backtest.clock_step_ms)
    run_config = run_config_for(config, market, tmp_path / "catalog")
    node = BacktestNode([run_config])
    node.run()
    eng = node.get_engine(run_config.id)
    theirs = {o.client_order_id.value: (o.ts_init, o.ts_last, round(o.filled_qty.as_double(), 9), o.status.name) for o in eng.cache.orders()}
    fills: dict[str, list] = defaultdict(list)
    for order in eng.cache.orders():
        for event in order.events:
            if type(event).__name__ == "OrderFilled":
                fills[order.client_order_id.value].append((event.ts_event, round(event.last_qty.as_double(), 9), event.last_px.as_double()))
    node.dispose()
    mine = {o["client_order_id"]: (o["ts_init"], o["ts_last"], round(o["filled_qty"], 9), o["status"]) for o in ours["orders"]}
    my_fills: dict[str, list] = defaultdict(list)
    for f in ours["fills"]:
        my_fills[f["client_order_id"]].append((f["ts"], round(f["quantity"], 9), f["price"]))
    assert len(mine) > 20
    assert theirs == mine
    assert {k: sorted(v) for k, v in fills.items()} == {k: sorted(v) for k, v in my_fills.items()}
