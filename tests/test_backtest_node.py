"""The same run through Nautilus's BacktestNode (catalog + BacktestRunConfig with importable strategy and
algorithm configs) gives the same orders and fills as our runner: every child, exactly."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from nautilus_sor.backtest.node import BacktestNode, batch_deltas, run_config_for, write_catalog
from nautilus_sor.backtest.runner import Scenario, _venue_dicts, market_config_for, run_scenario
from nautilus_sor.backtest.synthetic import build_market
from nautilus_sor.config import load_config

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "multi_venue_twap.json"


def test_backtest_node_reproduces_the_runner(tmp_path):
    config = load_config(EXAMPLE)
    market = build_market(market_config_for(config))
    venues = _venue_dicts(config, market)
    ours = run_scenario(config, market, Scenario("router", venues[0]["instrument_id"], True, config.strategy.execution_algorithm), venues)

    write_catalog(market, tmp_path / "catalog")
    run_config = run_config_for(config, market, tmp_path / "catalog")
    assert [v.oms_type for v in run_config.venues] == ["NETTING"] * 3
    # Both runs fill aggressive orders against the book less what our earlier fills consumed.
    assert {v.fill_model.fill_model_path for v in run_config.venues} == {"nautilus_sor.fill_model_consumed:ConsumedLiquidityFillModel"}
    node = BacktestNode([run_config])
    node.run()
    engine = node.get_engine(run_config.id)
    theirs = {
        o.client_order_id.value: (o.ts_init, o.instrument_id.venue.value, round(o.quantity.as_double(), 9), round(o.filled_qty.as_double(), 9),
                                  o.status.name, o.ts_last)
        for o in engine.cache.orders()
    }
    fills: dict[str, list[tuple]] = defaultdict(list)
    for order in engine.cache.orders():
        for event in order.events:
            if type(event).__name__ == "OrderFilled":
                fills[order.client_order_id.value].append((event.ts_event, round(event.last_qty.as_double(), 9), event.last_px.as_double()))
    node.dispose()
    mine = {o["client_order_id"]: (o["ts_init"], o["venue"], round(o["quantity"], 9), round(o["filled_qty"], 9), o["status"], o["ts_last"])
            for o in ours["orders"]}
    my_fills: dict[str, list[tuple]] = defaultdict(list)
    for f in ours["fills"]:
        my_fills[f["client_order_id"]].append((f["ts"], round(f["quantity"], 9), f["price"]))
    # Every order (the primary and each of its 50+ children): same id, venue, time, quantity, fill and status...
    assert len(mine) > 50
    assert theirs == mine
    # ...and every fill at the same time, size and price.
    assert {k: sorted(v) for k, v in fills.items()} == {k: sorted(v) for k, v in my_fills.items()}
    assert round(sum(q for v in my_fills.values() for _, q, _ in v), 9) == 40.0


def test_catalog_deltas_are_handed_over_as_the_batches_they_were_written_as():
    """Why the node above matches: Nautilus's own node adds a catalog's deltas one by one, and its venues
    match in-flight orders after each, so an order landing at the same nanosecond as a book update saw half of
    it. `batch_deltas` regroups them at F_LAST: exactly the market's OrderBookDeltas."""
    from nautilus_trader.model.data import OrderBookDeltas

    market = build_market(market_config_for(load_config(EXAMPLE)))
    written = [b for b in market.data if isinstance(b, OrderBookDeltas)]
    for instrument in market.instruments:
        mine = [b for b in written if b.instrument_id == instrument.id]
        again = batch_deltas([d for b in mine for d in b.deltas])
        assert [len(b.deltas) for b in again] == [len(b.deltas) for b in mine]
        assert all(a.deltas == b.deltas for a, b in zip(again, mine))
