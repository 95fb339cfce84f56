"""Children are the primary's spawn as Nautilus counts it, and each books into its own venue's position.

The reference is Nautilus itself: its own example TWAP (`nautilus_trader.examples.algorithms.twap`)
runs the same parent in its own BacktestEngine, and every exec-spawn answer of the cache is compared,
during the run and at the end."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.model.enums import OmsType, OrderSide
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import ClientOrderId, ExecAlgorithmId, InstrumentId, PositionId
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy, StrategyConfig

from nautilus_env import NS, START, btcusdt, engine, quotes
from nautilus_sor.execution_algorithms import TWAPExecAlgorithm, TWAPExecAlgorithmConfig

SAMPLE_AT = (START + 3 * NS, START + 24 * NS, START + 48 * NS, START + 70 * NS)


class ParentConfig(StrategyConfig, frozen=True):
    instrument_id: str = "BTCUSDT.BINANCE"
    side: str = "BUY"
    quantity: str = "1.200"
    horizon_secs: float = 60.0
    interval_secs: float = 10.0
    position_id: str | None = None


class SendsOneParent(Strategy):
    """A plain Nautilus strategy: one market parent for the TWAP at t = 1 s, and the cache's exec-spawn
    answers recorded at fixed times."""

    def __init__(self, config: ParentConfig) -> None:
        super().__init__(config)
        self.primary_id: ClientOrderId | None = None
        self.samples: list[dict] = []

    def on_start(self) -> None:
        self.clock.set_time_alert_ns("parent", START + 1 * NS, self._send)
        for i, ts in enumerate(SAMPLE_AT):
            self.clock.set_time_alert_ns(f"sample-{i}", ts, lambda e: self.samples.append(spawn_answers(self.cache, self.primary_id)))

    def _send(self, _event) -> None:
        c = self.config
        order = self.order_factory.market(
            InstrumentId.from_str(c.instrument_id), OrderSide[c.side], Quantity.from_str(c.quantity),
            exec_algorithm_id=ExecAlgorithmId("TWAP"), exec_algorithm_params={"horizon_secs": c.horizon_secs, "interval_secs": c.interval_secs},
        )
        self.primary_id = order.client_order_id
        self.submit_order(order, position_id=PositionId(c.position_id) if c.position_id else None)


def spawn_answers(cache, primary_id: ClientOrderId) -> dict:
    """Every exec-spawn question Nautilus's cache answers about a primary."""
    orders = sorted(cache.orders_for_exec_spawn(primary_id), key=lambda o: o.client_order_id.value)
    return {
        "orders": [(o.client_order_id.value, o.instrument_id.value, o.side_string(), o.type_string(), str(o.quantity),
                    str(o.filled_qty), str(o.leaves_qty), o.status_string()) for o in orders],
        **{f"{name}(active_only={active})": str(getattr(cache, name)(primary_id, active_only=active))
           for name in ("exec_spawn_total_quantity", "exec_spawn_total_filled_qty", "exec_spawn_total_leaves_qty") for active in (False, True)},
        "open orders": sum(not o.is_closed for o in orders),
    }


def one_venue_run(algorithm, oms: OmsType = OmsType.NETTING, quantity: str = "1.200"):
    a = btcusdt("BINANCE")
    eng = engine({"BINANCE": oms}, [a], quotes(a, [100.0 + 0.01 * i for i in range(90)], 0.05, "50.000", START))
    eng.add_exec_algorithm(algorithm)
    strategy = SendsOneParent(ParentConfig(quantity=quantity))
    eng.add_strategy(strategy)
    eng.run()
    return eng, strategy


@pytest.mark.parametrize("oms", [OmsType.NETTING, OmsType.HEDGING])
def test_every_exec_spawn_answer_matches_nautilus_own_twap(oms):
    from nautilus_trader.examples.algorithms.twap import TWAPExecAlgorithm as NautilusTWAP, TWAPExecAlgorithmConfig as NautilusTWAPConfig

    theirs, their_strategy = one_venue_run(NautilusTWAP(NautilusTWAPConfig()), oms)
    ours, our_strategy = one_venue_run(TWAPExecAlgorithm(TWAPExecAlgorithmConfig()), oms)
    assert len(their_strategy.samples) == len(SAMPLE_AT)
    # The same questions at the same times, answered the same: ids, quantities, statuses and totals.
    assert our_strategy.samples == their_strategy.samples
    first, middle, _, end = their_strategy.samples
    # Not trivially equal: the spawn grows during the run and ends with the whole parent filled.
    assert len(first["orders"]) == 2 and len(middle["orders"]) == 4 and len(end["orders"]) == 6
    assert end["exec_spawn_total_filled_qty(active_only=False)"] == "1.200"
    # One position, the same one, as Nautilus books its own TWAP's spawn.
    positions = [[(str(p.id), p.side.name, str(p.quantity)) for p in eng.cache.positions()] for eng in (theirs, ours)]
    assert positions[0] == positions[1] and len(positions[0]) == 1 and positions[0][0][2] == "1.200"


VENUES = [
    {"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0004, "latency_ms": 5},
    {"name": "BYBIT", "maker_fee": 0.0001, "taker_fee": 0.0004, "latency_ms": 5},
]


def two_venue_run(oms: OmsType, parents: list[dict], binance_size: str = "0.150"):
    """Parents for our TWAP routed over BINANCE (cheap, shows `binance_size` a quote) and BYBIT (deep)."""
    from nautilus_sor.strategy import MultiVenueStrategy, SmartRoutingStrategyConfig

    a, b = btcusdt("BINANCE"), btcusdt("BYBIT")
    mids = [100.0 + 0.01 * i for i in range(200)]
    data = quotes(a, mids, 0.05, binance_size, START) + quotes(b, [m + 0.02 for m in mids], 0.05, "5.000", START)
    eng = engine({"BINANCE": oms, "BYBIT": oms}, [a, b], data)
    venues = [{**v, "oms_type": oms.name} for v in VENUES]
    algo = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=10, interval_seconds=1, use_smart_routing=True, venues=venues))
    eng.add_exec_algorithm(algo)

    class Parents(MultiVenueStrategy):
        def on_start(self) -> None:
            super().on_start()
            self.primaries = []
            for i, p in enumerate(parents):
                self.clock.set_time_alert_ns(f"p{i}", START + p["at"] * NS, lambda e, p=p: self._send(p))

        def _send(self, p: dict) -> None:
            order = self.order_factory.market(self.instrument_id, OrderSide[p["side"]], Quantity.from_str(p["quantity"]),
                                              exec_algorithm_id=ExecAlgorithmId("TWAP"))
            self.primaries.append(order.client_order_id)
            self.submit_order(order, position_id=PositionId(p["position_id"]) if p.get("position_id") else None)

    strategy = Parents(SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", use_smart_routing=True, venues=venues,
                                                  execution_algorithm={"type": "TWAP"}))
    eng.add_strategy(strategy)
    eng.run()
    return eng, strategy, algo


def open_by_venue(cache) -> dict[str, list[tuple[str, str, Decimal]]]:
    out: dict[str, list] = {}
    for p in sorted(cache.positions_open(), key=lambda p: p.id.value):
        out.setdefault(p.instrument_id.venue.value, []).append((p.id.value, p.side.name, p.quantity.as_decimal()))
    return out


def fills_of(orders) -> Decimal:
    return sum((e.last_qty.as_decimal() for o in orders for e in o.events if isinstance(e, OrderFilled)), Decimal(0))


@pytest.mark.parametrize("oms", [OmsType.NETTING, OmsType.HEDGING])
def test_cross_venue_children_are_the_primarys_spawn_and_book_per_venue(oms):
    eng, strategy, algo = two_venue_run(oms, [{"side": "BUY", "quantity": "2.000", "at": 1}])
    cache = eng.cache
    primary = strategy.primaries[0]
    spawn = cache.orders_for_exec_spawn(primary)
    ours = [o for o in cache.orders() if o.tags and f"parent={primary.value}" in o.tags]
    # Every child, on either venue, is in the primary's spawn (with the primary itself).
    assert {o.client_order_id for o in spawn} == {o.client_order_id for o in ours} | {primary}
    assert {o.instrument_id.venue.value for o in spawn} == {"BINANCE", "BYBIT"}
    # The spawn's totals are the parent's fills (summed from the orders' own fill events).
    assert fills_of(spawn) == Decimal("2.000") == cache.exec_spawn_total_filled_qty(primary).as_decimal()
    assert cache.exec_spawn_total_leaves_qty(primary, active_only=True).as_decimal() == 0
    by_venue = {v: fills_of(o for o in spawn if o.instrument_id.venue.value == v) for v in ("BINANCE", "BYBIT")}
    assert by_venue == {"BINANCE": Decimal("1.500"), "BYBIT": Decimal("0.500")}  # BINANCE shows 0.150 of each 0.200 slice
    # One position per venue, holding exactly that venue's fills, under the id the OMS gives.
    expected = {
        OmsType.NETTING: {v: f"BTCUSDT.{v}-{strategy.id}" for v in by_venue},
        OmsType.HEDGING: {v: f"{primary.value}-{v}" for v in by_venue},
    }[oms]
    assert open_by_venue(cache) == {v: [(expected[v], "LONG", q)] for v, q in by_venue.items()}
    assert cache.position_id(primary).value == expected["BINANCE"]  # the primary's own venue


def test_hedging_parent_names_the_position_it_reduces():
    """HEDGING, two venues: a buy parent opens one position per venue; a sell parent naming the buy's
    BINANCE position trades only there and reduces it; an unnamed sell opens its own short per venue."""
    buy_on = "O-20240808-000001-001-000-1"  # the first parent's client order id (the strategy's first order)
    eng, strategy, algo = two_venue_run(OmsType.HEDGING, [
        {"side": "BUY", "quantity": "2.000", "at": 1},
        {"side": "SELL", "quantity": "1.000", "at": 20, "position_id": f"{buy_on}-BINANCE"},
        {"side": "SELL", "quantity": "0.400", "at": 40},
    ], binance_size="0.150")
    buy, reduce, hedge = strategy.primaries
    assert buy.value == buy_on
    cache = eng.cache
    # The named parent's children all went to the named position's venue, and into that position.
    reduce_children = [o for o in cache.orders_for_exec_spawn(reduce) if o.filled_qty.raw]
    assert {o.instrument_id.venue.value for o in reduce_children} == {"BINANCE"}
    assert fills_of(reduce_children) == Decimal("1.000")
    assert {cache.position_id(o.client_order_id).value for o in reduce_children} == {f"{buy_on}-BINANCE"}
    # What a trader expects: the long on BINANCE reduced by 1.0, BYBIT's untouched, and the unnamed sell
    # one short position per venue it traded (each venue's position holds that venue's fills).
    hedge_fills = {v: fills_of(o for o in cache.orders_for_exec_spawn(hedge) if o.instrument_id.venue.value == v) for v in ("BINANCE", "BYBIT")}
    expected = {
        "BINANCE": [(f"{buy_on}-BINANCE", "LONG", Decimal("0.500"))],
        "BYBIT": [(f"{buy_on}-BYBIT", "LONG", Decimal("0.500"))],
    }
    for venue, qty in hedge_fills.items():
        if qty:
            expected[venue] = sorted(expected[venue] + [(f"{hedge.value}-{venue}", "SHORT", qty)])
    assert sum(hedge_fills.values()) == Decimal("0.400")
    assert open_by_venue(cache) == expected
    assert len(cache.positions()) == 2 + sum(1 for q in hedge_fills.values() if q)


def test_netting_stays_one_position_per_instrument_and_venue():
    eng, strategy, algo = two_venue_run(OmsType.NETTING, [
        {"side": "BUY", "quantity": "2.000", "at": 1},
        {"side": "SELL", "quantity": "0.400", "at": 20},
    ])
    cache = eng.cache
    net = {v: Decimal(0) for v in ("BINANCE", "BYBIT")}
    for primary, sign in zip(strategy.primaries, (1, -1)):
        for o in cache.orders_for_exec_spawn(primary):
            net[o.instrument_id.venue.value] += sign * fills_of([o])
    assert len(cache.positions()) == 2
    assert {p.instrument_id.venue.value: (p.id.value, p.signed_decimal_qty()) for p in cache.positions()} == {
        v: (f"BTCUSDT.{v}-{strategy.id}", q) for v, q in net.items()}


def test_a_named_position_on_another_instrument_is_denied_with_the_reason():
    buy_on = "O-20240808-000001-001-000-1"
    eng, strategy, algo = two_venue_run(OmsType.HEDGING, [
        {"side": "BUY", "quantity": "2.000", "at": 1},
        {"side": "SELL", "quantity": "0.300", "at": 20, "position_id": f"{buy_on}-BYBIT"},  # the order is on BINANCE
    ])
    order = eng.cache.order(strategy.primaries[1])
    assert order.status.name == "DENIED"
    denied = [e for e in order.events if type(e).__name__ == "OrderDenied"][0]
    assert f"{buy_on}-BYBIT is a position on BTCUSDT.BYBIT" in denied.reason and "position_id" in denied.reason
    assert eng.cache.position(PositionId(f"{buy_on}-BYBIT")).quantity.as_decimal() == Decimal("0.500")  # untouched


def test_hedging_example_ends_with_the_positions_a_trader_expects(monkeypatch, tmp_path):
    """examples/hedging.json: a 6.0 long named BTC-CORE, a 3.0 sell naming it, a 2.0 sell naming none.
    Expected: BTC-CORE long 3.0, and the unnamed sell's own short on each venue it traded (its fills)."""
    import pathlib

    from nautilus_sor.backtest import runner
    from nautilus_sor.backtest.main import run_and_report

    open_positions: dict[str, list] = {}
    collect = runner._collect

    def collect_and_keep_positions(engine, strategy, router, algorithm, scenario):
        open_positions[scenario] = sorted((p.id.value, p.instrument_id.venue.value, p.side.name, p.quantity.as_decimal())
                                          for p in engine.cache.positions_open())
        return collect(engine, strategy, router, algorithm, scenario)

    monkeypatch.setattr(runner, "_collect", collect_and_keep_positions)
    example = pathlib.Path(__file__).parents[1] / "examples" / "hedging.json"
    results, _ = run_and_report(str(example), output_dir=str(tmp_path), report=False, quiet=True)
    parents = results.parents[results.parents["scenario"] == "router"].sort_values("arrival_ts")["parent_id"].tolist()
    assert len(parents) == 3
    fills = results.fills[(results.fills["scenario"] == "router") & (results.fills["parent_id"] == parents[2])]
    hedge = fills.groupby("venue")["quantity"].sum()
    assert hedge.sum() == pytest.approx(2.0)
    expected = sorted([("BTC-CORE", "CHEAP", "LONG", Decimal("3.0"))]
                      + [(f"{parents[2]}-{venue}", venue, "SHORT", Decimal(str(round(q, 9)))) for venue, q in hedge.items()])
    assert open_positions["router"] == expected
    # The baseline honours the named position too.
    assert ("BTC-CORE", "CHEAP", "LONG", Decimal("3.0")) in open_positions["equal_split"]


@pytest.mark.parametrize("value", ["", "   ", "A\x00B"])
def test_a_config_position_id_nautilus_refuses_is_a_config_error(value):
    import json
    import pathlib

    from nautilus_sor.config import parse_config
    from nautilus_sor.exceptions import ConfigError

    raw = json.loads((pathlib.Path(__file__).parents[1] / "examples" / "hedging.json").read_text())
    raw["orders"][1]["position_id"] = value
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    assert err.value.field == "orders[1].position_id" and err.value.value == repr(value)
