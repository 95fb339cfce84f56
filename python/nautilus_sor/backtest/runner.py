"""Runs a config on a market: the configured strategy ("router") and the baselines, each in its own
Nautilus BacktestEngine on the same data, collected into `RunResults`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import OmsType, OrderSide, OrderStatus
from nautilus_trader.model.events import OrderAccepted, OrderFilled, OrderRejected, OrderSubmitted
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId, PositionId
from nautilus_trader.model.objects import Price, Quantity

from nautilus_sor.backtest import results as R
from nautilus_sor.backtest.baselines import EqualSplitRouter, nautilus_twap
from nautilus_sor.config import RunConfig
from nautilus_sor.exceptions import ConfigError, MarketDataError
from nautilus_sor.execution_algorithms import build_exec_algorithm, resolve_market_profile, uses_market_profile
from nautilus_sor.strategy import MultiVenueStrategy, SmartRoutingStrategyConfig

NS = 1_000_000_000


class ParentOrderStrategyConfig(SmartRoutingStrategyConfig, frozen=True):
    """A MultiVenueStrategy that sends the config's parent orders at their times.

    Market data it subscribes, besides the quotes and trades every MultiVenueStrategy does: the order
    book deltas of its venues' instruments (when `subscribe_books`; only those in `book_instrument_ids`
    when given: a venue without book data keeps no book in the cache, so that the router reads its
    quotes, or prices it in its no-book mode) and the `bar_types` (a bar market's bars)."""

    orders: list[dict[str, Any]] = []
    subscribe_books: bool = True
    book_instrument_ids: list[str] | None = None  # None: every venue instrument
    bar_types: list[str] = []


class ParentOrderStrategy(MultiVenueStrategy):
    def __init__(self, config: ParentOrderStrategyConfig) -> None:
        super().__init__(config)
        self.parent_rows: list[dict[str, Any]] = []
        self.parent_of: dict[ClientOrderId, str] = {}
        self._start_ns = 0

    def on_start(self) -> None:
        super().on_start()
        if self.config.subscribe_books:
            with_books = self.config.book_instrument_ids
            for instrument_id in self.venue_instrument_ids():
                if self.cache.instrument(instrument_id) is not None and (with_books is None or instrument_id.value in with_books):
                    self.subscribe_order_book_deltas(instrument_id)
        for bar_type in self.config.bar_types:
            self.subscribe_bars(BarType.from_str(bar_type))
        now = self.clock.timestamp_ns()
        for i, order in enumerate(self.config.orders):
            self.clock.set_time_alert_ns(f"parent-{i}", now + int(order["at_seconds"] * NS), self._make_sender(i, order))

    def _make_sender(self, index: int, spec: dict[str, Any]) -> Callable[[Any], None]:
        def send(_event: Any) -> None:
            side = OrderSide.BUY if spec["side"] == "BUY" else OrderSide.SELL
            instrument = self.cache.instrument(self.instrument_id)
            quantity = instrument.make_qty(Decimal(str(spec["quantity"])))
            price = instrument.make_price(spec["limit_price"]) if spec.get("limit_price") is not None else None
            position_id = PositionId(spec["position_id"]) if spec.get("position_id") else None
            orders = self.execute_order(side, quantity, price, position_id)
            parent_id = orders[0].client_order_id.value if self.exec_algorithm_id is not None or len(orders) == 1 else f"P-{index + 1}"
            for order in orders:
                self.parent_of[order.client_order_id] = parent_id
            self.parent_rows.append(
                {
                    "parent_id": parent_id,
                    "algorithm": self.exec_algorithm_id.value if self.exec_algorithm_id else ("ROUTER" if self.router else "MARKET"),
                    "side": spec["side"],
                    "quantity": float(quantity.as_double()),
                    "arrival_ts": self.clock.timestamp_ns(),
                }
            )

        return send


@dataclass
class Scenario:
    """One run on the market: a strategy, maybe an algorithm, maybe a replaced router."""

    name: str
    instrument_id: str
    use_smart_routing: bool
    execution_algorithm: dict[str, Any] | None
    router_factory: type | None = None  # e.g. EqualSplitRouter
    nautilus_twap: tuple[float, float] | None = None  # (duration, interval) for Nautilus's own TWAP


SYMBOL = "BTCUSDT"


def market_venue(name: str) -> str:
    """The Nautilus venue id a config venue trades on in a backtest. Nautilus derives account ids as
    `<venue>-<n>` and splits them at '-', so a venue named like the reference's "BINANCE-FUTURES" is
    simulated as "BINANCE_FUTURES" (its instrument id is set explicitly, so routing is unchanged)."""
    return name.replace("-", "_")


def _venue_dicts(config: RunConfig, market: Any) -> list[dict[str, Any]]:
    """The strategy's venues in the reference format, with each venue's OMS type and instrument."""
    default_oms = config.venue.oms_type
    if config.strategy.venues:
        out = []
        for v in config.strategy.venues:
            d = {"name": v.name, "maker_fee": v.maker_fee, "taker_fee": v.taker_fee, "latency_ms": v.latency_ms}
            d["oms_type"] = v.oms_type if v.oms_type != "NETTING" else default_oms
            d["instrument_id"] = v.instrument_id or _instrument_of(market, market_venue(v.name))
            out.append(d)
        return out
    return [{**d, "oms_type": default_oms, "instrument_id": _instrument_of(market, d["name"])} for d in market.venue_configs()]


def _instrument_of(market: Any, venue: str) -> str:
    """The market's instrument on `venue`: a recorded market's own (each venue its instrument), else the
    synthetic market's BTCUSDT."""
    if is_recorded(market):
        try:
            return market.instrument_id(venue).value
        except KeyError:
            names = ", ".join(v.name for v in market.venues)
            raise ConfigError(f"invalid strategy.venues: {venue!r} is not a venue of the market {market.name} ({names})",
                              field="strategy.venues", value=venue) from None
    return f"{SYMBOL}.{venue}"


def is_recorded(market: Any) -> bool:
    from nautilus_sor.backtest.data.recorded import RecordedMarket

    return isinstance(market, RecordedMarket)


def run_scenario(config: RunConfig, market: Any, scenario: Scenario, venues: list[dict[str, Any]], *, feeds: Any = None) -> dict[str, Any]:
    """Runs one scenario in a fresh engine; returns its rows for every results table. `feeds`: the
    market's `engine.market_feeds` when the caller has them (one pass over the data for all scenarios)."""
    from nautilus_sor.backtest.engine import engine_for_market, market_feeds

    oms = {market_venue(v["name"]): OmsType[v["oms_type"]] for v in venues}
    feeds = feeds if feeds is not None else market_feeds(market.data)
    engine = engine_for_market(market, oms, feeds=feeds, contingent_orders=False)  # see CONTINGENT_ORDERS_NOTE
    algorithm = None
    algo_spec = scenario.execution_algorithm
    router_params = config.strategy.router.params() if config.strategy.router is not None else None
    if scenario.nautilus_twap is not None:
        algorithm, params = nautilus_twap(*scenario.nautilus_twap)
        algo_spec = {"type": "TWAP", **params}
    elif algo_spec is not None:
        algorithm = build_exec_algorithm(
            algo_spec,
            use_smart_routing=scenario.use_smart_routing,
            venues=[{k: v for k, v in d.items()} for d in venues] if scenario.use_smart_routing else None,
            max_venues=config.strategy.max_venues,
            seed=config.backtest.seed,
            router=router_params,
        )
    if algorithm is not None:
        engine.add_exec_algorithm(algorithm)
    strategy = ParentOrderStrategy(
        ParentOrderStrategyConfig(
            instrument_id=scenario.instrument_id,
            use_smart_routing=scenario.use_smart_routing and algorithm is None,
            venues=venues,
            execution_algorithm=algo_spec,
            max_venues=config.strategy.max_venues,
            router=router_params,
            orders=[{"side": o.side, "quantity": str(o.quantity), "at_seconds": o.at_seconds, "limit_price": o.limit_price,
                     "position_id": o.position_id} for o in config.orders],
            oms_type=config.venue.oms_type,
            book_instrument_ids=sorted(feeds.book_instruments),
            bar_types=[str(b) for b in feeds.bar_types],
        )
    )
    engine.add_strategy(strategy)
    # Replace or prepare the router now that components are registered (cache and clock exist).
    router = getattr(algorithm, "router", None) if algorithm is not None else None
    if scenario.use_smart_routing:
        factory = scenario.router_factory
        if algorithm is not None and hasattr(algorithm, "router"):
            if factory is not None:
                algorithm.router = factory(venues, cache=algorithm.cache, clock=algorithm.clock)
        elif factory is not None:
            strategy.router = factory(venues)
    started = time.perf_counter()
    try:
        with nautilus_config_errors(market, scenario.name):
            engine.run()
    except BaseException:
        engine.dispose()
        raise
    elapsed = time.perf_counter() - started
    router = (getattr(algorithm, "router", None) if algorithm is not None else None) or strategy.router
    rows = _collect(engine, strategy, router, algorithm, scenario.name)
    rows["elapsed_s"] = elapsed
    engine.dispose()
    return rows


@contextmanager
def nautilus_config_errors(market: Any, scenario: str) -> Iterator[None]:
    """Nautilus's `InvalidConfiguration` (raised when the engine starts: e.g. a venue whose `book_type`
    needs order book data the market does not have) as our typed error naming the config field."""
    from nautilus_trader.common.config import InvalidConfiguration

    try:
        yield
    except InvalidConfiguration as exc:
        text = str(exc)
        name = getattr(market, "name", None) or "the synthetic market"
        if "order book data" in text:
            found = re.search(r"instrument '([^']+)'", text)
            instrument = found.group(1) if found else None
            raise MarketDataError(f"invalid market: {name} has no order book data for {instrument or 'an instrument'}, which its "
                                  f"venue's book_type needs (scenario {scenario}; Nautilus: {text})", field="market",
                                  value=instrument) from None
        raise ConfigError(f"invalid configuration: Nautilus's BacktestEngine refused the {scenario} scenario on {name}: {text}",
                          field="strategy", value=scenario) from None


def _parent_id(order: Any, strategy: ParentOrderStrategy) -> str:
    if order.client_order_id in strategy.parent_of:
        return strategy.parent_of[order.client_order_id]
    for tag in order.tags or []:
        if tag.startswith("parent="):
            return tag[len("parent=") :]
    if order.exec_spawn_id is not None:
        return order.exec_spawn_id.value
    return order.client_order_id.value


def _collect(engine: Any, strategy: ParentOrderStrategy, router: Any, algorithm: Any, scenario: str) -> dict[str, Any]:
    expected = getattr(router, "expected_prices", {}) if router is not None else {}
    orders, fills = [], []
    end_ts: dict[str, int] = {}
    for order in engine.cache.orders():
        if order.status in (OrderStatus.INITIALIZED,):
            continue
        parent_id = _parent_id(order, strategy)
        ts_submitted = next((e.ts_event for e in order.events if isinstance(e, OrderSubmitted)), -1)
        # The venue's first answer: an accept, or a fill / reject for orders filled without one.
        ts_accepted = next((e.ts_event for e in order.events if isinstance(e, (OrderAccepted, OrderFilled, OrderRejected))), -1)
        # A primary closed locally after being fully distributed to children is not an order that traded.
        if order.status == OrderStatus.CANCELED and ts_submitted == -1 and order.exec_algorithm_id is not None and order.client_order_id.value == parent_id:
            continue
        orders.append(
            {
                "scenario": scenario,
                "parent_id": parent_id,
                "client_order_id": order.client_order_id.value,
                "venue": order.instrument_id.venue.value,
                "instrument_id": order.instrument_id.value,
                "side": order.side_string(),
                "order_type": order.type_string(),
                "quantity": order.quantity.as_double(),
                "filled_qty": order.filled_qty.as_double(),
                "status": order.status_string(),
                "ts_init": order.ts_init,
                "ts_submitted": ts_submitted,
                "ts_accepted": ts_accepted,
                "ts_last": order.ts_last,
                "expected_price": expected.get(order.client_order_id) or float("nan"),
            }
        )
        end_ts[parent_id] = max(end_ts.get(parent_id, 0), order.ts_last)
        for event in order.events:
            if isinstance(event, OrderFilled):
                fills.append(
                    {
                        "scenario": scenario,
                        "parent_id": parent_id,
                        "client_order_id": order.client_order_id.value,
                        "venue": order.instrument_id.venue.value,
                        "instrument_id": order.instrument_id.value,
                        "side": order.side_string(),
                        "ts": event.ts_event,
                        "quantity": event.last_qty.as_double(),
                        "price": event.last_px.as_double(),
                        "commission": event.commission.as_double(),
                        "liquidity_side": "MAKER" if event.liquidity_side.name == "MAKER" else "TAKER",
                    }
                )
    parents = [
        {"scenario": scenario, **row, "end_ts": max(end_ts.get(row["parent_id"], row["arrival_ts"]), row["arrival_ts"])}
        for row in strategy.parent_rows
    ]
    schedule = []
    if algorithm is not None and hasattr(algorithm, "planned"):
        for parent_id, slices in algorithm.planned.items():
            schedule.extend({"scenario": scenario, "parent_id": parent_id, "ts": ts, "quantity": q} for ts, q in slices)
    scores = [{"scenario": scenario, **row} for row in (router.history if router is not None and hasattr(router, "history") else [])]
    return {"parents": parents, "orders": orders, "fills": fills, "schedule": schedule, "venue_scores": scores}


def scenarios_for(config: RunConfig, venues: list[dict[str, Any]]) -> list[Scenario]:
    """The configured strategy plus the requested baselines."""
    primary = config.strategy.instrument_id or venues[0]["instrument_id"]
    algo = config.strategy.execution_algorithm
    routed = config.strategy.use_smart_routing
    out = [Scenario("router", primary, routed, algo)]
    for name in config.backtest.baselines:
        if name == "best_single_venue":
            for v in venues:
                out.append(Scenario(f"single:{v['name']}", v["instrument_id"], False, algo))
        elif name == "equal_split":
            out.append(Scenario("equal_split", primary, True, algo, router_factory=EqualSplitRouter))
        elif name == "single_venue_twap":
            duration = float((algo or {}).get("duration_seconds", 60.0))
            interval = float((algo or {}).get("interval_seconds", 10.0))
            out.append(Scenario("single_venue_twap", primary, False, None, nautilus_twap=(duration, interval)))
    return out


def market_config_for(config: RunConfig) -> Any:
    """The synthetic market a config runs on: its venues are the strategy's venues (same names, fees
    and latency), each with a market profile: the default venue of that name (CHEAP, DEEP, SLOW), or
    the default profiles in turn for other names. Without strategy venues: the three defaults."""
    import dataclasses

    from nautilus_sor.backtest.synthetic import DEFAULT_VENUES, SyntheticMarketConfig

    profiles = {v.name: v for v in DEFAULT_VENUES}
    venues = []
    for i, v in enumerate(config.strategy.venues):
        profile = profiles.get(v.name, DEFAULT_VENUES[i % len(DEFAULT_VENUES)])
        venues.append(
            dataclasses.replace(profile, name=market_venue(v.name), maker_fee=v.maker_fee, taker_fee=v.taker_fee, latency_ms=v.latency_ms)
        )
    m = config.market
    return SyntheticMarketConfig(
        seed=m.seed if m.seed is not None else config.backtest.seed,
        duration_seconds=m.duration_seconds,
        initial_price=m.initial_price,
        annual_volatility=m.annual_volatility,
        venues=tuple(venues) or DEFAULT_VENUES,
    )


def run_backtest(config: RunConfig, progress: Callable[[str, int, int], None] | None = None, *, market: Any = None) -> R.RunResults:
    """Builds the market (or takes `market`, one already built or loaded: a sweep shares it between
    runs), runs every scenario on it and returns all tables (not yet analysed)."""
    from nautilus_sor.backtest.engine import market_feeds

    if market is None:
        market = build_market_for(config)
    config = with_market_volume_profile(config, market)
    feeds = market_feeds(market.data)
    venues = _venue_dicts(config, market)
    scenarios = scenarios_for(config, venues)
    tables: dict[str, list[dict[str, Any]]] = {t: [] for t in ("parents", "orders", "fills", "schedule", "venue_scores")}
    timings = {}
    for i, scenario in enumerate(scenarios):
        if progress is not None:
            progress(scenario.name, i, len(scenarios))
        rows = run_scenario(config, market, scenario, venues, feeds=feeds)
        timings[scenario.name] = rows.pop("elapsed_s")
        for table, table_rows in rows.items():
            tables[table].extend(table_rows)
    if progress is not None:
        progress("done", len(scenarios), len(scenarios))
    results = R.RunResults(
        parents=R.frame("parents", tables["parents"]),
        orders=R.frame("orders", tables["orders"]),
        fills=R.frame("fills", tables["fills"]),
        market=market.market_table(recorded_prices=True) if is_recorded(market) else market.market_table(),
        trades=market.trades_table(recorded_prices=True) if is_recorded(market) else market.trades_table(),
        venue_scores=R.frame("venue_scores", tables["venue_scores"]),
        schedule=R.frame("schedule", tables["schedule"]),
        summary={"scenarios": [s.name for s in scenarios], "engine_seconds": timings, "venues": venues, **market_summary(market),
                 **execution_summary(market, feeds)},
    )
    return _pick_best_single_venue(results)


def with_market_volume_profile(config: RunConfig, market: Any) -> RunConfig:
    """`config` with a VWAP `"volume_profile": "market"` replaced by the market's own curve (its
    `volume_profile`, built from other days' bars); a ConfigError when the market has none."""
    algo = config.strategy.execution_algorithm
    if not uses_market_profile(algo):
        return config
    import msgspec

    name = getattr(market, "name", None)
    resolved = resolve_market_profile(algo, getattr(market, "volume_profile", None), market=f"the market {name}" if name else "the market")
    return msgspec.structs.replace(config, strategy=msgspec.structs.replace(config.strategy, execution_algorithm=resolved))


def build_market_for(config: RunConfig, *, cache_dir: Any = None) -> Any:
    """The config's market: synthetic (`market_config_for`) or recorded (`backtest/data/sources.py`,
    cached as a Nautilus catalog under `cache_dir`, default `.cache/nautilus_sor`). For a recorded
    market the parents' `at_seconds` must fall inside its window."""
    from nautilus_sor.backtest.data.sources import DEFAULT_CACHE_DIR, load_market

    if config.market.type == "synthetic":
        return load_market(config.market, synthetic_config=market_config_for(config))
    market = load_market(config.market, cache_dir=cache_dir if cache_dir is not None else DEFAULT_CACHE_DIR)
    duration = (market.end_ns - market.start_ns) / NS
    for i, order in enumerate(config.orders):
        if order.at_seconds >= duration:
            raise ConfigError(f"invalid orders[{i}].at_seconds: {order.at_seconds!r} (must be within the market's {duration:.1f} s)",
                              field=f"orders[{i}].at_seconds", value=repr(order.at_seconds))
    return market


def market_summary(market: Any) -> dict[str, Any]:
    """What a run summary says about a recorded market: its name, window, normalisations, and that the
    Nautilus engines trade the venues' own instruments at recorded prices."""
    if not is_recorded(market):
        return {}
    return {
        "market": market.name,
        "market_window_ns": [market.start_ns, market.end_ns],
        "market_notes": list(market.notes),
        "market_prices": (
            "the BacktestEngines trade each venue's own instrument at its recorded prices: the basis between venues "
            "stays in the fills and in the market/trades tables (recorded prices); only the array side (evaluation, "
            "simulator) has it removed. Sizes are each instrument's own (inverse contracts in contracts)."
        ),
    }


# Said in every run summary: why the venues run without contingent-order support, and what it changes.
CONTINGENT_ORDERS_NOTE = (
    "off on every venue (support_contingent_orders=False): no strategy in the run submits contingent (OTO/OCO/OUO) or "
    "reduce-only orders, so each fill skips Nautilus's scan of all the position's orders"
)


def execution_summary(market: Any, feeds: Any) -> dict[str, Any]:
    """Each venue's simulated book type and what its matching engine fills against, for the run summary."""
    by_venue: dict[str, list[Any]] = {}
    for instrument in market.instruments:
        by_venue.setdefault(instrument.id.venue.value, []).append(instrument)
    book_types, bar_venues = {}, []
    for name, instruments in by_venue.items():
        book_types[name] = feeds.book_type(instruments).name
        if book_types[name] == "L1_MBP" and any(feeds.bar_types_of(i.id) for i in instruments):
            bar_venues.append(name)
    out: dict[str, Any] = {"venue_book_types": book_types, "contingent_orders": CONTINGENT_ORDERS_NOTE}
    if bar_venues:
        out["bar_execution"] = (
            f"{', '.join(bar_venues)}: no order book data, so L1_MBP venues filling against their bars (LAST bars: the trade "
            "price on both sides; BID/ASK bars: the quote; open, then high or low first by distance to the open, then close; "
            "a quarter of the bar's volume as the size). An order reaches the matching engine at the first data point after "
            "its latency: a market order fills at the venue's latest close then (the next bar's close on the venue whose "
            "bars come first at that minute, the previous close on the others), and the ack latency is that wait (up to a "
            "bar interval). IOC children fill at most that size; the rest goes back to the schedule. The router has no book "
            "or quote of these venues (bars are not quotes): it prices them in its no-book mode (fees, latency, learned "
            "fill rates) without a reference price, so it expects no price and learns no slippage there."
        )
    return out


def _pick_best_single_venue(results: R.RunResults) -> R.RunResults:
    """Renames the cheapest `single:<venue>` scenario (in hindsight, by implementation shortfall) to
    `best_single_venue`, keeping the others' figures in the summary."""
    singles = [s for s in results.summary["scenarios"] if s.startswith("single:")]
    if not singles:
        return results
    from nautilus_sor.tca import analyze

    summary = analyze(results).scenario_summary.set_index("scenario")
    costs = {s: float(summary.loc[s, "is_bps"]) if s in summary.index else float("inf") for s in singles}
    best = min(costs, key=lambda s: (costs[s] != costs[s], costs[s]))  # NaN last
    for table in ("parents", "orders", "fills", "schedule", "venue_scores"):
        df = getattr(results, table)
        df = df[~df["scenario"].isin([s for s in singles if s != best])].copy()
        df.loc[df["scenario"] == best, "scenario"] = "best_single_venue"
        setattr(results, table, df.reset_index(drop=True))
    results.summary["best_single_venue"] = best.split(":", 1)[1]
    results.summary["single_venue_is_bps"] = {s.split(":", 1)[1]: c for s, c in costs.items()}
    results.summary["scenarios"] = [s for s in results.summary["scenarios"] if not s.startswith("single:")]
    results.summary["scenarios"].insert(1, "best_single_venue")
    return results
