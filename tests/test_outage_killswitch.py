"""Venue outage in live terms, and the kill-switch (issue 10), in real BacktestEngines.

* `router.set_venue_connected(venue, False)` (fed live by the adapter's disconnect) or a feed that
  went quiet for `stale_data_seconds`: no new flow there, its open children counted `at_risk`, flow
  back after the reconnect;
* the kill-switch refuses children past `max_notional_per_venue_per_minute` / `max_children_per_parent`
  / `max_children_total`: each refusal is a WARNING, a `KillSwitchTriggered` on the algorithm and on
  the `nautilus_sor.risk` topic, and its units go back to the schedule (abandoned past `max_retries`).
"""

from __future__ import annotations

import pytest

from nautilus_env import NS, START
from nautilus_sor.exceptions import ConfigError
from nautilus_sor.execution_algorithms import TWAPExecAlgorithm, TWAPExecAlgorithmConfig
from nautilus_sor.risk import RISK_TOPIC, KillSwitchTriggered
from test_faults import MS, UNITS, VENUES, assert_invariants, flat_quotes, instrument, make_engine, ours, run, venue_of


def bybit_children(eng, algo, start_s: float, end_s: float) -> list:
    return [o for o in ours(eng, algo) if venue_of(o) == "BYBIT" and START + start_s * NS <= o.ts_init < START + end_s * NS
            and o.client_order_id not in algo.parents]


def test_disconnected_venue_gets_no_flow_its_open_children_are_at_risk_and_flow_resumes():
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    eng = make_engine(insts, flat_quotes(insts, 40), latency_ms={"BYBIT": 50})
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=20, interval_seconds=1, use_smart_routing=True, venues=VENUES))
    seen: dict[str, dict] = {}

    def look(name):
        return lambda s: seen.__setitem__(name, algo.parent_summary(s.primaries[0].client_order_id))

    actions = [
        (START + 6 * NS + 10 * MS, lambda s: algo.router.set_venue_connected("BYBIT", False)),  # the 6 s child is in flight
        (START + 6 * NS + 20 * MS, look("down")),
        (START + 12 * NS - 20 * MS, lambda s: algo.router.set_venue_connected("BYBIT", True)),
        (START + 12 * NS - 10 * MS, look("up")),
    ]
    strategy = run(algo, eng, "2.000", actions=actions)
    assert_invariants(eng, algo, strategy)
    parent = algo.parents[strategy.primaries[0].client_order_id]
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (2 * UNITS, 0, 0, 0)
    # At 6.02 s the BYBIT child sent at 6 s is open on a disconnected venue: at risk (part of working).
    assert seen["down"]["at_risk"] == UNITS // 10 and seen["down"]["working"] >= UNITS // 10
    assert seen["up"]["at_risk"] == 0
    assert bybit_children(eng, algo, 1, 6.01) and bybit_children(eng, algo, 12, 40)
    assert [o.ts_init for o in bybit_children(eng, algo, 6.01, 12)] == []


def test_a_venue_whose_feed_goes_quiet_is_treated_as_disconnected_until_it_updates():
    """BYBIT's quotes stop from 6 s to 12 s; with stale_data_seconds=2 it gets no flow once its last
    quote (5 s) is more than 2 s old, and gets it back when quotes resume."""
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    data = flat_quotes([insts[0], insts[2]], 40) + [q for q in flat_quotes([insts[1]], 40) if not START + 6 * NS <= q.ts_event < START + 12 * NS]
    eng = make_engine(insts, data)
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=20, interval_seconds=1, use_smart_routing=True, venues=VENUES, stale_data_seconds=2.0))
    strategy = run(algo, eng, "2.000")
    assert_invariants(eng, algo, strategy)
    parent = algo.parents[strategy.primaries[0].client_order_id]
    assert (parent.filled, parent.abandoned) == (2 * UNITS, 0)
    assert bybit_children(eng, algo, 1, 8) and bybit_children(eng, algo, 12, 40)
    assert bybit_children(eng, algo, 7.5, 12) == []
    assert algo.router.is_venue_connected("BYBIT")


def killswitch_run(**limits):
    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    eng = make_engine(insts, flat_quotes(insts, 40))
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=10, interval_seconds=1, use_smart_routing=True, venues=VENUES, max_retries=2, **limits))
    published: list = []
    actions = [(START + NS // 2, lambda s: s.msgbus.subscribe(topic=RISK_TOPIC, handler=published.append))]
    strategy = run(algo, eng, "1.000", actions=actions)
    assert_invariants(eng, algo, strategy)
    return eng, algo, strategy, published


def test_notional_per_venue_per_minute_limit_refuses_children_and_returns_their_units():
    """0.1 BTC slices at ~100 USDT go to BYBIT (cheapest): 10 USDT each. With 25 USDT a minute, two
    children go; every later one is refused, its units returned to the schedule, then abandoned after
    max_retries (the router keeps preferring BYBIT: the switch does not re-route, it refuses)."""
    eng, algo, strategy, published = killswitch_run(max_notional_per_venue_per_minute=25.0)
    parent = algo.parents[strategy.primaries[0].client_order_id]
    sent = [o for o in ours(eng, algo) if o.client_order_id in parent.children]
    assert [venue_of(o) for o in sent] == ["BYBIT", "BYBIT"]
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (2 * UNITS // 10, 0, 0, 8 * UNITS // 10)
    assert algo.risk_events and all(isinstance(e, KillSwitchTriggered) for e in algo.risk_events)
    first = algo.risk_events[0]
    assert (first.limit, first.limit_value, first.venue, first.units) == ("max_notional_per_venue_per_minute", 25.0, "BYBIT", UNITS // 10)
    assert first.current_value == pytest.approx(20.0, rel=1e-3) and first.notional == pytest.approx(10.0, rel=1e-3)
    assert published == algo.risk_events
    # 8 slices refused, then the 2 retries of the returned 0.8.
    assert len(algo.risk_events) == 8 + 2 and parent.retries == 2


def test_child_count_limit_per_parent():
    eng, algo, strategy, published = killswitch_run(max_children_per_parent=3)
    parent = algo.parents[strategy.primaries[0].client_order_id]
    assert len(parent.children) == 3
    assert (parent.filled, parent.abandoned) == (3 * UNITS // 10, 7 * UNITS // 10)
    assert {e.limit for e in algo.risk_events} == {"max_children_per_parent"} and published == algo.risk_events
    assert algo.risk_events[0].current_value == 3.0
    assert strategy.primaries[0].is_closed


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_notional_per_venue_per_minute", -1.0),
        ("max_notional_per_venue_per_minute", float("nan")),
        ("max_children_per_parent", 0),
        ("max_children_total", 2.5),
        ("max_children_total", True),
        ("orphan_policy", "ignore"),
        ("missed_slice_policy", "skip"),
        ("stale_data_seconds", 0.0),
    ],
)
def test_bad_live_settings_are_config_errors_naming_the_field(field, value):
    with pytest.raises(ConfigError) as info:
        TWAPExecAlgorithmConfig(**{field: value})
    assert info.value.field == field


# -- venue status from the feed (InstrumentStatus) ----------------------------------------------


def status(venue: str, action, ts_ns: int, **flags):
    from nautilus_trader.model.data import InstrumentStatus
    from nautilus_trader.model.identifiers import InstrumentId

    return InstrumentStatus(InstrumentId.from_str(f"BTCUSDT.{venue}"), action, ts_ns, ts_ns, **flags)


@pytest.mark.parametrize("how", ["action", "is_trading_flag"])
def test_instrument_status_halt_takes_a_venue_out_of_routing_and_trading_brings_it_back(how):
    """The same outage as above, told by the feed: BYBIT's InstrumentStatus says HALT at 6.01 s (the
    child sent there at 6 s is in flight, 50 ms away) and TRADING at 11.98 s. MultiVenueStrategy
    subscribes the venues' statuses and sets its algorithm's router: no flow to BYBIT in between,
    the in-flight child counted at risk, flow back after. `is_trading_flag`: an adapter that sends
    another action with the explicit `is_trading` flag (it takes precedence)."""
    from nautilus_trader.model.enums import MarketStatusAction

    insts = [instrument("BINANCE"), instrument("BYBIT"), instrument("OKX")]
    if how == "action":
        statuses = [status("BYBIT", MarketStatusAction.HALT, START + 6 * NS + 10 * MS),
                    status("BYBIT", MarketStatusAction.TRADING, START + 12 * NS - 20 * MS)]
    else:
        statuses = [status("BYBIT", MarketStatusAction.NONE, START + 6 * NS + 10 * MS, is_trading=False),
                    status("BYBIT", MarketStatusAction.NONE, START + 12 * NS - 20 * MS, is_trading=True)]
    # A status that says nothing about trading (an auction phase) changes nothing, on a halted venue
    # or a trading one.
    statuses += [status("BYBIT", MarketStatusAction.PRE_CROSS, START + 8 * NS + 10 * MS),
                 status("OKX", MarketStatusAction.QUOTING, START + 3 * NS + 10 * MS)]
    eng = make_engine(insts, flat_quotes(insts, 40) + statuses, latency_ms={"BYBIT": 50})
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=20, interval_seconds=1, use_smart_routing=True, venues=VENUES))
    seen: dict[str, dict] = {}

    def look(name):
        return lambda s: seen.__setitem__(name, {**algo.parent_summary(s.primaries[0].client_order_id),
                                                  "down": algo.router.disconnected_venues})

    actions = [(START + 6 * NS + 20 * MS, look("down")), (START + 8 * NS + 20 * MS, look("auction")),
               (START + 12 * NS - 10 * MS, look("up"))]
    strategy = run(algo, eng, "2.000", actions=actions)
    assert_invariants(eng, algo, strategy)
    parent = algo.parents[strategy.primaries[0].client_order_id]
    assert (parent.filled, parent.working, parent.pending, parent.abandoned) == (2 * UNITS, 0, 0, 0)
    assert seen["down"]["down"] == ["BYBIT"] and seen["down"]["at_risk"] == UNITS // 10
    assert seen["auction"]["down"] == ["BYBIT"]
    assert seen["up"]["down"] == [] and seen["up"]["at_risk"] == 0
    assert bybit_children(eng, algo, 1, 6.01) and bybit_children(eng, algo, 12, 40)
    assert bybit_children(eng, algo, 6.01, 12) == []
    # The strategy's own router follows the same statuses.
    assert strategy.router.is_venue_connected("BYBIT") and strategy.router.disconnected_venues == []


def test_venue_trading_reads_the_flag_then_the_action():
    from nautilus_trader.model.enums import MarketStatusAction

    from nautilus_sor.strategy import venue_trading

    assert venue_trading(status("BYBIT", MarketStatusAction.HALT, START)) is False
    assert venue_trading(status("BYBIT", MarketStatusAction.TRADING, START)) is True
    assert venue_trading(status("BYBIT", MarketStatusAction.PRE_OPEN, START)) is None
    assert venue_trading(status("BYBIT", MarketStatusAction.TRADING, START, is_trading=False)) is False
    assert venue_trading(status("BYBIT", MarketStatusAction.HALT, START, is_trading=True)) is True
    assert [a.name for a in MarketStatusAction if venue_trading(status("BYBIT", a, START)) is False] == [
        "HALT", "PAUSE", "SUSPEND", "CLOSE", "POST_CLOSE", "NOT_AVAILABLE_FOR_TRADING"]
