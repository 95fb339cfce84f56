"""Smart routing and a TWAP in a live TradingNode, offline: Nautilus's sandbox execution adapter on three
venues, fed by a data client that replays a recorded (seeded synthetic) market as a live feed.

    python examples/live_sandbox.py --seconds 20

What runs is what a live deployment runs: a `TradingNode` on the live clock and event loop, one
`SandboxExecutionClient` per venue (Nautilus's simulated matching engine behind a live execution client:
orders go through the live risk and execution engines, acks and fills come back as events), and a
`LiveMarketDataClient` (`ReplayDataClient`) that publishes L2 deltas, quotes and trades at the wall-clock
time stamped on them. Only the market is not real: it is generated at connect, starting then, so its
timestamps are live ones. The strategy subscribes the venues' books, sends parent orders at set times
through our TWAP, whose slices the SmartOrderRouter routes across the venues. At the end the script
prints a summary and, last, one `SUMMARY {json}` line (what `tests/test_live_sandbox.py` checks).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import defaultdict
from decimal import Decimal
from typing import Any


from nautilus_trader.adapters.sandbox.config import SandboxExecutionClientConfig
from nautilus_trader.adapters.sandbox.factory import SandboxLiveExecClientFactory
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.common.providers import InstrumentProvider
from nautilus_trader.config import LiveDataClientConfig, LiveExecEngineConfig, LoggingConfig, RoutingConfig, TradingNodeConfig
from nautilus_trader.live.data_client import LiveMarketDataClient
from nautilus_trader.live.factories import LiveDataClientFactory
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import ClientId

from nautilus_sor.backtest.runner import ParentOrderStrategy, ParentOrderStrategyConfig
from nautilus_sor.backtest.synthetic import DEFAULT_VENUES, SyntheticMarketConfig, build_market, make_instrument
from nautilus_sor.execution_algorithms import build_exec_algorithm

NS = 1_000_000_000
REPLAY = "REPLAY"


# -- the live feed ------------------------------------------------------------------------------------


class ReplayDataClientConfig(LiveDataClientConfig, frozen=True):
    """A seeded synthetic market (the backtests' default venues), replayed from connect on."""

    seed: int = 7
    duration_seconds: float = 600.0
    lead_seconds: float = 0.5  # the market starts this long after connect (time to subscribe)


class ReplayDataClient(LiveMarketDataClient):
    """Publishes a generated market's deltas, quotes and trades when the live clock reaches their time.

    Every object goes to the data engine (which keeps the cache's books and routes by subscription), as
    an exchange adapter's parsed messages do; subscriptions need no upstream request here."""

    def __init__(self, loop: asyncio.AbstractEventLoop, msgbus: MessageBus, cache: Cache, clock: LiveClock,
                 config: ReplayDataClientConfig) -> None:
        provider = InstrumentProvider()
        for venue in DEFAULT_VENUES:
            provider.add(make_instrument(venue))
        super().__init__(loop=loop, client_id=ClientId(REPLAY), venue=None, msgbus=msgbus, cache=cache, clock=clock,
                         instrument_provider=provider, config=config)
        self._replay_config = config
        self._replay_task: asyncio.Task | None = None
        self.published = 0

    async def _connect(self) -> None:
        for instrument in self._instrument_provider.list_all():
            self._handle_data(instrument)
        start = self._clock.timestamp_ns() + int(self._replay_config.lead_seconds * NS)
        market = build_market(SyntheticMarketConfig(seed=self._replay_config.seed, start=start,
                                                    duration_seconds=self._replay_config.duration_seconds))
        self._replay_task = self.create_task(self._replay(market.data), log_msg="replay")

    async def _disconnect(self) -> None:
        if self._replay_task is not None and not self._replay_task.done():
            self._replay_task.cancel()
        self._replay_task = None

    async def _replay(self, data: list[Any]) -> None:
        clock = self._clock
        for obj in data:
            wait_ns = obj.ts_init - clock.timestamp_ns()
            if wait_ns > 0:
                await asyncio.sleep(wait_ns / NS)
            self._handle_data(obj)
            self.published += 1

    # Everything is published anyway: a subscription only needs to be acknowledged.
    async def _subscribe_instrument(self, command: Any) -> None:
        pass

    async def _subscribe_instruments(self, command: Any) -> None:
        pass

    async def _subscribe_order_book_deltas(self, command: Any) -> None:
        pass

    async def _subscribe_quote_ticks(self, command: Any) -> None:
        pass

    async def _subscribe_trade_ticks(self, command: Any) -> None:
        pass

    async def _subscribe_instrument_status(self, command: Any) -> None:
        pass  # the replay has no trading-status events: a venue's feed just stops or goes on

    async def _subscribe_instrument_close(self, command: Any) -> None:
        pass

    async def _unsubscribe_order_book_deltas(self, command: Any) -> None:
        pass

    async def _unsubscribe_instrument_status(self, command: Any) -> None:
        pass

    async def _unsubscribe_quote_ticks(self, command: Any) -> None:
        pass

    async def _unsubscribe_trade_ticks(self, command: Any) -> None:
        pass


class ReplayDataClientFactory(LiveDataClientFactory):
    @staticmethod
    def create(loop: asyncio.AbstractEventLoop, name: str, config: ReplayDataClientConfig, msgbus: MessageBus, cache: Cache,  # type: ignore[override]
               clock: LiveClock) -> ReplayDataClient:
        return ReplayDataClient(loop, msgbus, cache, clock, config)


# -- the node ------------------------------------------------------------------------------------------


def venue_dicts() -> list[dict[str, Any]]:
    return [{**v.terms(), "instrument_id": f"BTCUSDT.{v.name}"} for v in DEFAULT_VENUES]


def build_node(seconds: float, twap_seconds: float, log_level: str = "ERROR") -> tuple[TradingNode, ParentOrderStrategy, ReplayDataClientConfig]:
    """A TradingNode: the replay feed, a sandbox execution client per venue, the strategy and its TWAP."""
    replay = ReplayDataClientConfig(duration_seconds=seconds + 5.0, routing=RoutingConfig(default=True))
    exec_clients = {
        v.name: SandboxExecutionClientConfig(venue=v.name, starting_balances=["1000000 USDT", "100 BTC"], oms_type="NETTING",
                                             account_type="MARGIN", book_type="L2_MBP")
        for v in DEFAULT_VENUES
    }
    config = TradingNodeConfig(
        trader_id="SANDBOX-001",
        logging=LoggingConfig(log_level=log_level),
        exec_engine=LiveExecEngineConfig(reconciliation=True),
        data_clients={REPLAY: replay},
        exec_clients=exec_clients,
        timeout_connection=10.0,
        timeout_reconciliation=5.0,
        timeout_portfolio=5.0,
        timeout_disconnection=2.0,
        timeout_post_stop=0.5,
    )
    node = TradingNode(config=config)
    node.add_data_client_factory(REPLAY, ReplayDataClientFactory)
    for v in DEFAULT_VENUES:
        node.add_exec_client_factory(v.name, SandboxLiveExecClientFactory)
    twap = {"type": "TWAP", "duration_seconds": twap_seconds, "interval_seconds": 1.0}
    venues = venue_dicts()
    algorithm = build_exec_algorithm(twap, use_smart_routing=True, venues=venues, max_venues=3)
    node.trader.add_exec_algorithm(algorithm)
    # Two parents, a buy then a sell, each sliced by the TWAP, each slice split across the venues.
    second = max(1.0, min(seconds - twap_seconds - 2.0, twap_seconds + 2.0))
    strategy = ParentOrderStrategy(ParentOrderStrategyConfig(
        instrument_id="BTCUSDT.DEEP", use_smart_routing=False, venues=venues, execution_algorithm=twap, max_venues=3,
        orders=[{"side": "BUY", "quantity": "3.0", "at_seconds": 1.0}, {"side": "SELL", "quantity": "2.0", "at_seconds": 1.0 + second}]))
    node.trader.add_strategy(strategy)
    node.build()
    # The sandbox's matching engines are made for the instruments in the cache when its client connects,
    # which may be before the feed has published them: an exchange adapter loads its instruments first too.
    for venue in DEFAULT_VENUES:
        node.kernel.cache.add_instrument(make_instrument(venue))
    return node, strategy, replay


def summary(node: TradingNode, strategy: ParentOrderStrategy) -> dict[str, Any]:
    """Children and fills per parent from the node's cache; conservation per parent."""
    cache = node.kernel.cache
    parents: dict[str, dict[str, Any]] = {}
    for row in strategy.parent_rows:
        parents[row["parent_id"]] = {"side": row["side"], "requested": row["quantity"], "children": 0, "filled": 0.0, "open": 0}
    venues: dict[str, float] = defaultdict(float)
    fills = 0
    for order in cache.orders():
        own_id = order.client_order_id.value
        parent = own_id if own_id in parents else _parent_of(order)
        if parent is None or parent not in parents:
            continue
        if own_id == parent and order.venue_order_id is None and order.filled_qty.as_double() == 0:
            continue  # the primary itself, never sent (closed locally once every slice went elsewhere)
        p = parents[parent]
        p["children"] += 1
        p["filled"] += order.filled_qty.as_double()
        p["open"] += int(order.is_open)
        fills += sum(1 for event in order.events if isinstance(event, OrderFilled))
        venues[order.instrument_id.venue.value] += order.filled_qty.as_double()
    for p in parents.values():
        p["filled"] = round(p["filled"], 9)
        p["conserved"] = abs(p["filled"] - p["requested"]) < 1e-9
    stats = strategy_router_stats(node)
    return {"parents": parents, "children": sum(p["children"] for p in parents.values()), "fills": fills,
            "filled_by_venue": {k: round(v, 9) for k, v in sorted(venues.items())}, "venue_stats": stats,
            "open_orders": len(cache.orders_open())}


def _parent_of(order: Any) -> str | None:
    for tag in order.tags or []:
        if tag.startswith("parent="):
            return tag.split("=", 1)[1]
    return None


def strategy_router_stats(node: TradingNode) -> dict[str, Any]:
    for algorithm in node.trader.exec_algorithms():
        router = getattr(algorithm, "router", None)
        if router is not None:
            return {s.venue: {"orders": s.orders, "fills": s.fills, "acks": s.acks, "latency_mean_ms": round(s.latency_mean_ms, 3)}
                    for s in router.venue_stats()}
    return {}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="SOR + TWAP in a live TradingNode against Nautilus's sandbox, offline")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the node runs (wall clock)")
    parser.add_argument("--twap-seconds", type=float, default=None, help="each parent's TWAP duration (default: a third of --seconds)")
    parser.add_argument("--log-level", default="ERROR")
    args = parser.parse_args(argv)
    if args.seconds < 4:
        parser.error("--seconds must be at least 4")
    twap_seconds = args.twap_seconds if args.twap_seconds is not None else max(1.0, round(args.seconds / 3))
    node, strategy, _ = build_node(args.seconds, twap_seconds, args.log_level)
    node.get_event_loop().call_later(args.seconds, node.stop)
    try:
        node.run()
        result = summary(node, strategy)
    finally:
        node.dispose()
    for parent_id, p in result["parents"].items():
        print(f"{parent_id}: {p['side']} {p['requested']} -> {p['children']} children, filled {p['filled']} "
              f"({'conserved' if p['conserved'] else 'NOT conserved'}), open {p['open']}")
    print(f"filled by venue: {result['filled_by_venue']}")
    print("SUMMARY " + json.dumps(result, default=str))
    return result


if __name__ == "__main__":
    main()
