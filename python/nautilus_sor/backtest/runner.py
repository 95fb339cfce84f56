"""(Over 600 lines: the one pipeline of a run - validation, an engine per scenario, collection, the cost
clean-up and the run summary - as stateless functions that must agree on how a scenario is built and read
back; each has one job and its own tests.)

Runs a config on a market: the configured strategy ("router") and the baselines (`scenarios.py`), each
in its own Nautilus BacktestEngine on the same data, collected into `RunResults`.

`prepare_run` is the one validation path: the config, the market it names (built or loaded), the
parents' schedules against the market's end. `nautilus-sor validate` runs it and stops; `run_backtest`
runs it and then the scenarios."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import pandas as pd
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import OmsType, OrderSide, OrderStatus, TimeInForce
from nautilus_trader.model.events import OrderAccepted, OrderCanceled, OrderDenied, OrderExpired, OrderFilled, OrderRejected, OrderSubmitted
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId, PositionId

from nautilus_sor.analysis import results as R
from nautilus_sor.backtest import scenarios as S
from nautilus_sor.backtest.baselines import EqualSplitRouter, nautilus_twap
from nautilus_sor.config import DEFAULT_SYNTHETIC_SECONDS, RunConfig
from nautilus_sor.exceptions import ConfigError, MarketDataError
from nautilus_sor.execution_algorithms import build_exec_algorithm, resolve_market_profile, uses_market_profile
from nautilus_sor.queue_model import DEFAULT_QUEUE_POWER, QUEUE_OFF
from nautilus_sor.sides import parse_side
from nautilus_sor.strategy import MultiVenueStrategy, SmartRoutingStrategyConfig

NS = 1_000_000_000
# Rows of venue-score history a scenario's router keeps (one per venue per decision), evenly thinned past it.
HISTORY_MAX_ROWS = 20_000


class ParentOrderStrategyConfig(SmartRoutingStrategyConfig, frozen=True):
    """A MultiVenueStrategy that sends the config's parent orders at their times.

    Market data it subscribes, besides the quotes and trades every MultiVenueStrategy does: the order
    book deltas of its venues' instruments (when `subscribe_books`; only those in `book_instrument_ids`
    when given: a venue without book data keeps no book in the cache, so that the router reads its
    quotes, or prices it in its no-book mode) and the `bar_types` (a bar market's bars). A parent may
    name its own `instrument_id` (a single-venue baseline that picks the venue per parent)."""

    orders: list[dict[str, Any]] = []
    subscribe_books: bool = True
    routed: bool = False  # an execution algorithm routes the children: keep every venue's book in the cache
    book_instrument_ids: list[str] | None = None  # None: every venue instrument
    bar_types: list[str] = []
    # A market parent's time in force: IOC, as `MultiVenueStrategy.execute_order` sends one (why: there);
    # "GTC" for Nautilus's own TWAP, run as a Nautilus user runs it (the order factory's default, which its
    # children take), so that the baseline is Nautilus's out-of-the-box behaviour, not one we chose for it.
    market_time_in_force: str = "IOC"


class ParentOrderStrategy(MultiVenueStrategy):
    def __init__(self, config: ParentOrderStrategyConfig, on_child: Callable[[int], None] | None = None) -> None:
        super().__init__(config)
        self.parent_rows: list[dict[str, Any]] = []
        self.parent_of: dict[ClientOrderId, str] = {}
        self._start_ns = 0
        self._on_child = on_child  # called with the clock's time whenever one of our orders is submitted

    def on_start(self) -> None:
        super().on_start()
        if self.config.subscribe_books:
            # Every venue's book, not only the strategy's own router's: an execution algorithm's router reads
            # them from the cache too, and a venue whose book is not kept there is priced on its last
            # two-sided quote, which says nothing of a side that has emptied since.
            with_books = self.config.book_instrument_ids
            others = self._config_venue_instruments() if self.config.routed else []
            for instrument_id in dict.fromkeys([*self.venue_instrument_ids(), *others]):
                if self.cache.instrument(instrument_id) is not None and (with_books is None or instrument_id.value in with_books):
                    self.subscribe_order_book_deltas(instrument_id)
        for bar_type in self.config.bar_types:
            self.subscribe_bars(BarType.from_str(bar_type))
        now = self.clock.timestamp_ns()
        for i, order in enumerate(self.config.orders):
            self.clock.set_time_alert_ns(f"parent-{i}", now + int(order["at_seconds"] * NS), self._make_sender(i, order))

    def _config_venue_instruments(self) -> list[InstrumentId]:
        return [InstrumentId.from_str(v["instrument_id"]) for v in self.config.venues if v.get("instrument_id")]

    def on_order_submitted(self, event: Any) -> None:
        if self._on_child is not None:
            self._on_child(event.ts_event)

    def _make_sender(self, index: int, spec: dict[str, Any]) -> Callable[[Any], None]:
        def send(_event: Any) -> None:
            for router in self._routers():  # the report's venue-score history: recorded, bounded, evenly thinned
                router.record_history = True
                router.history_max_rows = HISTORY_MAX_ROWS
            side = parse_side(spec["side"], "orders.side", names=True)
            own = spec.get("instrument_id")
            instrument = self.cache.instrument(InstrumentId.from_str(own) if own else self.instrument_id)
            quantity = instrument.make_qty(Decimal(str(spec["quantity"])))
            price = instrument.make_price(spec["limit_price"]) if spec.get("limit_price") is not None else None
            position_id = PositionId(spec["position_id"]) if spec.get("position_id") else None
            if own:
                orders = [self._send_on(instrument.id, side, quantity, price, position_id)]
            else:
                orders = self.execute_order(side, quantity, price, position_id)
            parent_id = orders[0].client_order_id.value if self.exec_algorithm_id is not None or len(orders) == 1 else f"P-{index + 1}"
            for order in orders:
                self.parent_of[order.client_order_id] = parent_id
            self.parent_rows.append(
                {
                    "parent_id": parent_id,
                    "parent_index": index,
                    "algorithm": self.exec_algorithm_id.value if self.exec_algorithm_id else ("ROUTER" if self.router else "MARKET"),
                    "side": spec["side"],
                    "quantity": float(quantity.as_double()),
                    "arrival_ts": self.clock.timestamp_ns(),
                }
            )

        return send

    def _send_on(self, instrument_id: InstrumentId, side: OrderSide, quantity: Any, price: Any, position_id: Any = None) -> Any:
        """The parent as one order on `instrument_id`, through the execution algorithm if there is one."""
        algo = {"exec_algorithm_id": self.exec_algorithm_id, "exec_algorithm_params": self.exec_algorithm_params} if self.exec_algorithm_id else {}
        if price is None:
            order = self.order_factory.market(instrument_id, side, quantity, time_in_force=TimeInForce[self.config.market_time_in_force], **algo)
        else:
            order = self.order_factory.limit(instrument_id, side, quantity, price, **algo)
        self.submit_order(order, position_id=position_id)
        return order


@dataclass
class Scenario:
    """One run on the market: a strategy, maybe an algorithm, maybe a replaced router."""

    name: str
    instrument_id: str
    use_smart_routing: bool
    execution_algorithm: dict[str, Any] | None
    router_factory: type | None = None  # e.g. EqualSplitRouter
    nautilus_twap: tuple[float, float] | None = None  # (duration, interval) for Nautilus's own TWAP
    parent_instruments: list[str] | None = None  # per parent, the instrument it trades (None: the strategy's)


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
            return cast(str, market.instrument_id(venue).value)  # a Nautilus InstrumentId: untyped
        except KeyError:
            names = ", ".join(v.name for v in market.venues)
            raise ConfigError(f"invalid strategy.venues: {venue!r} is not a venue of the market {market.name} ({names})",
                              field="strategy.venues", value=venue) from None
    return f"{SYMBOL}.{venue}"


def is_recorded(market: Any) -> bool:
    from nautilus_sor.backtest.data.recorded import RecordedMarket

    return isinstance(market, RecordedMarket)


def run_scenario(config: RunConfig, market: Any, scenario: Scenario, venues: list[dict[str, Any]], *, feeds: Any = None,
                 on_child: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Runs one scenario in a fresh engine; returns its rows for every results table. `feeds`: the
    market's `engine.market_feeds` when the caller has them (one pass over the data for all scenarios).
    `on_child(ts)`: called at each child order the scenario submits (progress)."""
    from nautilus_sor.backtest.engine import engine_for_market, market_feeds

    oms = {market_venue(v["name"]): OmsType[v["oms_type"]] for v in venues}
    feeds = feeds if feeds is not None else market_feeds(market.data)
    engine = engine_for_market(market, oms, feeds=feeds, contingent_orders=False,  # see CONTINGENT_ORDERS_NOTE
                               queue_model=config.backtest.queue_model, queue_power=config.backtest.queue_power,
                               consume_liquidity=config.backtest.consume_liquidity, clock_step_ms=config.backtest.clock_step_ms)
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
            max_finished_parents=None,  # the results read every parent's planned schedule
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
                     "position_id": o.position_id,
                     **({"instrument_id": scenario.parent_instruments[i]} if scenario.parent_instruments else {})}
                    for i, o in enumerate(config.orders)],
            oms_type=config.venue.oms_type,
            book_instrument_ids=sorted(feeds.book_instruments),
            routed=scenario.use_smart_routing,
            bar_types=[str(b) for b in feeds.bar_types],
            market_time_in_force="GTC" if scenario.nautilus_twap is not None else "IOC",
        ),
        on_child=on_child,
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
    rows["warnings"] = algorithm_warnings(algorithm, strategy, scenario.name)
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
            return cast(str, tag[len("parent=") :])  # Nautilus orders (tags, ids) are untyped
    if order.exec_spawn_id is not None:
        return cast(str, order.exec_spawn_id.value)
    return cast(str, order.client_order_id.value)


def algorithm_warnings(algorithm: Any, strategy: ParentOrderStrategy, scenario: str) -> list[str]:
    """What the execution algorithm gave up on, per parent, naming the scenario and the parent and in the
    instrument's quantities (Nautilus's own log lines cannot say which scenario's engine they came from)."""
    parents = getattr(algorithm, "parents", None) or {}
    rows = {row["parent_id"]: row for row in strategy.parent_rows}
    out = []
    for primary_id, state in parents.items():
        if getattr(state, "abandoned", 0) > 0:
            row = rows.get(primary_id.value, {})
            label = f"parent #{row['parent_index'] + 1} ({row['side']} {row['quantity']:g})" if row else f"parent {primary_id}"
            out.append(f"{scenario}, {label}: {state.quantity_text(state.abandoned)} abandoned after {state.retries} retries")
    return out


def order_reason(order: Any) -> str:
    """Why an order ended without filling in full: the venue's or the risk engine's reason for a reject or
    a denial, or what closed it ("" for an order that filled or is still open)."""
    for event in reversed(order.events):
        if isinstance(event, (OrderRejected, OrderDenied)):
            return f"{'rejected' if isinstance(event, OrderRejected) else 'denied'}: {event.reason}"
        if isinstance(event, OrderExpired):
            return "expired"
        if isinstance(event, OrderCanceled):
            if order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
                return f"canceled: {order.time_in_force.name} remainder found no liquidity within reach"
            return "canceled"
    return ""


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
        # The columns that name the child order, shared by its `orders` row and its `fills` rows.
        child = {
            "scenario": scenario,
            "parent_id": parent_id,
            "client_order_id": order.client_order_id.value,
            "venue": order.instrument_id.venue.value,
            "instrument_id": order.instrument_id.value,
            "side": order.side_string(),
        }
        orders.append(
            {
                **child,
                "order_type": order.type_string(),
                "quantity": order.quantity.as_double(),
                "filled_qty": order.filled_qty.as_double(),
                "status": order.status_string(),
                "ts_init": order.ts_init,
                "ts_submitted": ts_submitted,
                "ts_accepted": ts_accepted,
                "ts_last": order.ts_last,
                "expected_price": expected.get(order.client_order_id) or float("nan"),
                "reason": order_reason(order),
            }
        )
        end_ts[parent_id] = max(end_ts.get(parent_id, 0), order.ts_last)
        for event in order.events:
            if isinstance(event, OrderFilled):
                fills.append(
                    {
                        **child,
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
    schedule: list[dict[str, Any]] = []
    if algorithm is not None and hasattr(algorithm, "planned"):
        for parent_id, slices in algorithm.planned.items():
            schedule.extend({"scenario": scenario, "parent_id": parent_id, "ts": ts, "quantity": q} for ts, q in slices)
    scores = [{"scenario": scenario, **row} for row in (router.history if router is not None and hasattr(router, "history") else [])]
    return {"parents": parents, "orders": orders, "fills": fills, "schedule": schedule, "venue_scores": scores}


def algorithm_horizon_s(algo: dict[str, Any] | None) -> float | None:
    """How long the configured algorithm's schedule runs from a parent's arrival: its `duration_seconds`
    (TWAP, VWAP, IS); None for POV and ICEBERG (they run until done, or the market ends) and for a one-shot
    order without an algorithm."""
    if algo is None:
        return None
    duration = getattr(build_exec_algorithm(algo).config, "duration_seconds", None)
    return float(duration) if duration is not None else None


def scenarios_for(config: RunConfig, venues: list[dict[str, Any]], exante: list[str] | None = None) -> tuple[list[Scenario], list[str]]:
    """The configured strategy and the requested baselines (`scenarios.py`) that run an engine of their own
    (the ex-ante and hindsight best venues are taken from the all_on:* runs afterwards); and notes on what
    was not run and why. `exante`: each parent's ex-ante best venue (for Nautilus's TWAP)."""
    primary = config.strategy.instrument_id or venues[0]["instrument_id"]
    algo = config.strategy.execution_algorithm
    routed = config.strategy.use_smart_routing
    wanted = {S.baseline_key(b) for b in config.backtest.baselines}
    out = [Scenario(S.ROUTER, primary, routed, algo)]
    notes: list[str] = []
    if "equal_split" in wanted:
        out.append(Scenario(S.EQUAL_SPLIT, primary, True, algo, router_factory=EqualSplitRouter))
    if "nautilus_twap" in wanted:
        kind = str(algo.get("type", "")).upper() if algo else None
        if kind == "TWAP" and exante is not None:
            instrument_of = {v["name"]: v["instrument_id"] for v in venues}
            duration = algorithm_horizon_s(algo)
            # kind == "TWAP" implies `algo` is a dict; mypy does not narrow through `kind`
            interval = float(getattr(build_exec_algorithm(algo).config, "interval_seconds"))  # type: ignore[arg-type]
            out.append(Scenario(S.NAUTILUS_TWAP, primary, False, None, nautilus_twap=(duration or 0.0, interval),
                                parent_instruments=[instrument_of[v] for v in exante]))
        else:
            notes.append(f"{S.NAUTILUS_TWAP}: not run: the configured algorithm is {kind or 'none (one-shot orders)'}, and Nautilus's "
                         "TWAP is a like-for-like baseline only for a TWAP")
    if "single_venues" in wanted:
        for v in venues:
            out.append(Scenario(S.all_on(v["name"]), v["instrument_id"], False, algo))
    return out, notes


def market_config_for(config: RunConfig) -> Any:
    """The synthetic market a config runs on: its venues are the strategy's venues (same names, fees
    and latency), each with a market profile: the default venue of that name (CHEAP, DEEP, SLOW), or
    the default profiles in turn for other names. Without strategy venues: the three defaults. Its length:
    `market.duration_seconds`, else 600 s or, when longer, as long as the parents' schedules need plus a
    minute (for the markouts). The market's own checks (`synthetic.py`) name the config's fields."""
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
    duration = m.duration_seconds
    if duration is None:
        duration = max(DEFAULT_SYNTHETIC_SECONDS, max((end for end, _ in parent_spans(config)), default=0.0) + 60.0)
    try:
        return SyntheticMarketConfig(
            seed=m.seed if m.seed is not None else config.backtest.seed,
            duration_seconds=duration,
            initial_price=m.initial_price,
            annual_volatility=m.annual_volatility,
            venues=tuple(venues) or DEFAULT_VENUES,
        )
    except ConfigError as exc:
        raise _synthetic_error(exc, config, duration) from None


def _synthetic_error(exc: ConfigError, config: RunConfig, duration: float) -> ConfigError:
    """A synthetic market's own error (`venues[1].taker_fee`, `initial_price`) as the config field it came from."""
    field = exc.field or ""
    found = re.fullmatch(r"venues\[(\d+)\]\.(name|maker_fee|taker_fee|latency_ms)", field)
    if found and config.strategy.venues:
        path = f"strategy.venues[{found.group(1)}].{found.group(2)}"
    elif field in ("duration_seconds", "initial_price", "annual_volatility"):
        path = f"market.{field}"
    elif field == "step_ms":  # a market shorter than one step of its model
        return ConfigError(f"invalid market.duration_seconds: {duration!r} (shorter than the synthetic market's 0.1 s step)",
                           field="market.duration_seconds", value=repr(duration))
    elif field == "seed":
        path = "market.seed" if config.market.seed is not None else "backtest.seed"
    else:
        path = f"market.{field}" if field else "market"
    reason = str(exc).split(" (", 1)[1].rstrip(")") if " (" in str(exc) else str(exc)
    return ConfigError(f"invalid {path}: {exc.value} (the synthetic market: {reason})", field=path, value=exc.value)


def parent_spans(config: RunConfig) -> list[tuple[float, str]]:
    """Per parent, when its schedule ends in seconds from the market's start (its arrival for an algorithm
    without a duration) and how that was worked out, for messages."""
    horizon = algorithm_horizon_s(config.strategy.execution_algorithm)
    kind = str(config.strategy.execution_algorithm["type"]).upper() if config.strategy.execution_algorithm else ""
    out = []
    for o in config.orders:
        if horizon is None:
            out.append((o.at_seconds, f"at_seconds {o.at_seconds:g}"))
        else:
            out.append((o.at_seconds + horizon, f"at_seconds {o.at_seconds:g} + the {kind}'s duration_seconds {horizon:g}"))
    return out


def market_seconds(market: Any) -> float:
    """The market's length in seconds."""
    if hasattr(market, "end_ns"):
        return cast(float, (market.end_ns - market.start_ns) / NS)  # `market` is either market type: Any
    return float(market.config.duration_seconds)  # a stored synthetic market (sweep)


def market_start_ns(market: Any) -> int:
    return int(market.start_ns) if hasattr(market, "start_ns") else int(market.config.start_ns)


def check_parents_fit(config: RunConfig, market: Any) -> None:
    """Every parent's schedule ends within the market: a ConfigError naming the parent, when its schedule
    ends and when the market ends otherwise (nothing is cut short silently)."""
    length = market_seconds(market)
    what = f"the market {market.name}" if getattr(market, "name", None) else "the synthetic market (market.duration_seconds)"
    for i, (end, how) in enumerate(parent_spans(config)):
        at = config.orders[i].at_seconds
        if at >= length or end > length:
            raise ConfigError(
                f"invalid orders[{i}].at_seconds: {at!r} (the parent's schedule ends at {end:g} s ({how}), after the end of "
                f"{what} at {length:g} s: start it earlier, shorten the algorithm's duration_seconds or lengthen the market)",
                field=f"orders[{i}].at_seconds", value=repr(at))


@dataclass
class PreparedRun:
    """A config checked against its market, ready to run (`prepare_run`)."""

    config: RunConfig  # with a VWAP's "market" volume profile resolved
    market: Any
    venues: list[dict[str, Any]]  # the strategy's venues in the reference format, with OMS type and instrument


def prepare_run(config: RunConfig, *, market: Any = None, cache_dir: Any = None) -> PreparedRun:
    """The one validation path of `validate` and `backtest`: builds (or takes) the market, checks the
    parents' schedules against its end, resolves what needs the market (a VWAP's volume curve, each
    venue's instrument). Raises the same typed errors `run_backtest` would, before anything runs."""
    if market is None:
        market = build_market_for(config, cache_dir=cache_dir)
    check_parents_fit(config, market)
    config = with_market_volume_profile(config, market)
    return PreparedRun(config=config, market=market, venues=_venue_dicts(config, market))


def run_backtest(config: RunConfig, progress: Callable[[str, int, int, float], None] | None = None, *, market: Any = None,
                 prepared: PreparedRun | None = None) -> R.RunResults:
    """Builds the market (or takes `market`, one already built or loaded: a sweep shares it between runs;
    or `prepared`, a `prepare_run` result), runs every scenario on it and returns all tables (not yet
    analysed), with each parent's clean-up priced and the ex-ante and hindsight best venues taken.
    `progress(scenario, index, count, fraction)`: called as each scenario starts, at each of its child
    orders (fraction of the market's time it has reached) and at the end (index == count)."""
    return run_with_costs(prepared or prepare_run(config, market=market), progress)[0]


def run_with_costs(prepared: PreparedRun, progress: Callable[[str, int, int, float], None] | None = None) -> tuple[R.RunResults, Any]:
    """`run_backtest`, plus the TCA's per-parent table of every scenario (the derived ones included)."""
    from nautilus_sor.backtest.engine import market_feeds

    config, market, venues = prepared.config, prepared.market, prepared.venues
    feeds = market_feeds(market.data)
    market_table = market.market_table(recorded_prices=True) if is_recorded(market) else market.market_table()
    exante = exante_choices(config, market, venues, market_table)
    scenarios, notes = scenarios_for(config, venues, [venue for venue, _ in exante])
    tables: dict[str, list[dict[str, Any]]] = {t: [] for t in ("parents", "orders", "fills", "schedule", "venue_scores")}
    timings = {}
    warnings: list[str] = []
    start_ns, length_ns = market_start_ns(market), max(int(market_seconds(market) * NS), 1)
    for i, scenario in enumerate(scenarios):
        on_child = None
        if progress is not None:
            progress(scenario.name, i, len(scenarios), 0.0)

            def on_child(ts: int, name: str = scenario.name, index: int = i) -> None:
                progress(name, index, len(scenarios), min(max((ts - start_ns) / length_ns, 0.0), 1.0))

        rows = run_scenario(config, market, scenario, venues, feeds=feeds, on_child=on_child)
        timings[scenario.name] = rows.pop("elapsed_s")
        warnings += rows.pop("warnings")
        for table, table_rows in rows.items():
            tables[table].extend(table_rows)
    if progress is not None:
        progress("done", len(scenarios), len(scenarios), 1.0)
    horizon = algorithm_horizon_s(config.strategy.execution_algorithm)
    market_end_ns = start_ns + length_ns
    for row in tables["parents"]:
        row["horizon_end_ts"] = row["arrival_ts"] + int(horizon * NS) if horizon is not None else (
            market_end_ns if config.strategy.execution_algorithm is not None else row["arrival_ts"])
    results = R.RunResults(
        parents=R.frame("parents", tables["parents"]),
        orders=R.frame("orders", tables["orders"]),
        fills=R.frame("fills", tables["fills"]),
        market=market_table,
        trades=market.trades_table(recorded_prices=True) if is_recorded(market) else market.trades_table(),
        venue_scores=R.frame("venue_scores", tables["venue_scores"]),
        schedule=R.frame("schedule", tables["schedule"]),
        summary={"scenarios": [s.name for s in scenarios], "engine_seconds": timings, "venues": venues, **market_summary(market),
                 "use_smart_routing": config.strategy.use_smart_routing, **units_summary(market, venues, config),
                 **execution_summary(market, feeds, config.backtest.queue_model, config.backtest.queue_power, config.backtest.consume_liquidity,
                                     config.backtest.clock_step_ms), "baseline_notes": notes,
                 "exante_best_venue": [{"parent_index": i, "venue": v, "why": why} for i, (v, why) in enumerate(exante)],
                 "warnings": warnings},
    )
    results.parents["baseline_venue"] = [
        str(s)[len(S.ALL_ON):] if str(s).startswith(S.ALL_ON) else exante[int(i)][0] if s == S.NAUTILUS_TWAP else ""
        for s, i in zip(results.parents["scenario"], results.parents["parent_index"])]
    results.parents["baseline_venue"] = results.parents["baseline_venue"].astype("string")
    price_cleanups(results, market, venues)
    return take_best_venues(results, [venue for venue, _ in exante])


def units_summary(market: Any, venues: list[dict[str, Any]], config: RunConfig) -> dict[str, str]:
    """The unit of the parents' quantities (the instrument's base currency, or its symbol for an equity)
    and the quote currency of prices and notionals."""
    primary = config.strategy.instrument_id or venues[0]["instrument_id"]
    instrument = next((i for i in market.instruments if i.id.value == primary), market.instruments[0])
    base = getattr(instrument, "base_currency", None)
    return {"quantity_unit": base.code if base is not None else instrument.id.symbol.value,
            "quote_currency": instrument.quote_currency.code}


def exante_choices(config: RunConfig, market: Any, venues: list[dict[str, Any]], market_table: Any) -> list[tuple[str, str]]:
    """Per parent, the ex-ante best venue and why (`exante.py`), from the market's quotes before it arrives."""
    from nautilus_sor.backtest.exante import exante_best_venue

    quotes = {}
    for venue, q in market_table.groupby("venue", sort=False, observed=True):
        quotes[str(venue)] = (q["ts"].to_numpy(dtype="int64"), q["bid"].to_numpy(dtype=float), q["ask"].to_numpy(dtype=float))
    fees = {market_venue(v["name"]): v["taker_fee"] for v in venues}
    config_name = {market_venue(v["name"]): v["name"] for v in venues}
    start = market_start_ns(market)
    out = []
    for order in config.orders:
        venue, why = exante_best_venue(quotes, fees, start + int(order.at_seconds * NS))
        out.append((config_name[venue], why))
    return out


def price_cleanups(results: R.RunResults, market: Any, venues: list[dict[str, Any]]) -> None:
    """Sets each parent's clean-up (`cleanup.py`): what it left unfilled, taken across every venue's book at
    max(end_ts, horizon_end_ts), at taker fees. Books: the market's own L2 where it has them, else each
    venue's top of book in the market table; no book at all leaves it unpriced (NaN: the TCA marks it to
    the mid and says so)."""
    from nautilus_sor.backtest.cleanup import price_cleanup

    parents = results.parents
    if parents.empty:
        return
    filled = results.fills.groupby(["scenario", "parent_id"], observed=True)["quantity"].sum()
    fees = {market_venue(v["name"]): float(v["taker_fee"]) for v in venues}
    qty, notional, paid = [], [], []
    for row in parents.itertuples(index=False):
        left = max(float(row.quantity) - float(filled.get((row.scenario, row.parent_id), 0.0)), 0.0)
        if left <= 1e-12:
            # one statement of three appends (a tuple of Nones, discarded)
            qty.append(0.0), notional.append(0.0), paid.append(0.0)  # type: ignore[func-returns-value]
            continue
        side = 1 if row.side == "BUY" else -1
        ts = max(int(row.end_ts), int(row.horizon_end_ts))
        c = price_cleanup(_books_at(market, results.market, fees, side, ts), side, left)
        qty.append(left), notional.append(c.notional), paid.append(c.fees)  # type: ignore[func-returns-value]
    results.parents = parents.assign(cleanup_qty=qty, cleanup_notional=notional, cleanup_fees=paid)


def _books_at(market: Any, market_table: Any, fees: dict[str, float], side: int, ts: int) -> dict[str, tuple[Any, Any, float]]:
    """Every venue's levels on the side a `side` order takes, at `ts`, in recorded prices and instrument sizes."""
    import numpy as np

    empty = (np.empty(0), np.empty(0))
    books: dict[str, tuple[Any, Any, float]] = {}
    for name, fee in fees.items():
        levels = None
        if hasattr(market, "book_at"):  # the synthetic market
            bids, asks = market.book_at(name, ts)
            side_levels = asks if side == 1 else bids
            levels = (np.array([p for p, _ in side_levels], dtype=float), np.array([q for _, q in side_levels], dtype=float))
        elif is_recorded(market) and market.venue(name).book is not None:
            v = market.venue(name)
            row = v.book.index_at(ts)
            if row >= 0:
                px = (v.book.ask_px if side == 1 else v.book.bid_px)[row] + v.offset_at(np.array([ts]))[0]
                sz = (v.book.ask_sz if side == 1 else v.book.bid_sz)[row] * v.size_to_instrument
                levels = (px.astype(float), sz.astype(float))
        if levels is None:  # top of book from the market table
            q = market_table[(market_table["venue"] == name) & (market_table["ts"] <= ts)].tail(1)
            if len(q):
                px, sz = (q["ask"].iloc[0], q["ask_size"].iloc[0]) if side == 1 else (q["bid"].iloc[0], q["bid_size"].iloc[0])
                levels = (np.array([px], dtype=float), np.array([sz], dtype=float))
        books[name] = (*(levels or empty), fee)
    return books


def take_best_venues(results: R.RunResults, exante: list[str]) -> tuple[R.RunResults, Any]:
    """Adds the `exante_best_venue` and `hindsight_best_venue` scenarios: per parent, the rows of the
    all_on:<venue> run of the venue chosen before it started (`exante`, by parent index) and of the one
    whose all-in cost turned out lowest (fees in, the unfilled rest priced by its clean-up). Returns the
    results and the TCA's per-parent table with the derived scenarios' rows added."""
    from nautilus_sor.analysis.tca import analyze

    all_costs = analyze(results).parents
    singles = [s for s in results.summary["scenarios"] if s.startswith(S.ALL_ON)]
    if not singles:
        return results, all_costs
    costs = all_costs[all_costs["scenario"].isin(singles)]
    picks: dict[str, dict[int, str]] = {S.EXANTE_BEST: {}, S.HINDSIGHT_BEST: {}}
    hindsight_costs: dict[int, dict[str, float]] = {}
    for index, group in costs.groupby("parent_index", sort=True):
        by_venue = {str(s)[len(S.ALL_ON):]: float(c) for s, c in zip(group["scenario"], group["all_in_bps"])}
        hindsight_costs[int(index)] = by_venue
        ranked = sorted(by_venue, key=lambda v: (by_venue[v] != by_venue[v], by_venue[v]))  # NaN last
        picks[S.HINDSIGHT_BEST][int(index)] = ranked[0]
        if int(index) < len(exante):
            picks[S.EXANTE_BEST][int(index)] = exante[int(index)]
    parents = results.parents
    derived_costs = []
    for derived, chosen in picks.items():
        keys = {(S.all_on(venue), index) for index, venue in chosen.items()}
        picked = all_costs[[(s, i) in keys for s, i in zip(all_costs["scenario"], all_costs["parent_index"])]]
        derived_costs.append(picked.assign(scenario=derived))
        mine = parents[[(s, i) in keys for s, i in zip(parents["scenario"], parents["parent_index"])]]
        ids = set(zip(mine["scenario"], mine["parent_id"]))
        venue_of = {(s, p): str(s)[len(S.ALL_ON):] for s, p in ids}
        for table in ("parents", "orders", "fills", "schedule"):
            df = getattr(results, table)
            rows = df[[(s, p) in ids for s, p in zip(df["scenario"], df["parent_id"])]].copy()
            if table == "parents":
                rows["baseline_venue"] = [venue_of[(s, p)] for s, p in zip(rows["scenario"], rows["parent_id"])]
            rows["scenario"] = derived
            setattr(results, table, R.with_optional_defaults(table, pd.concat([df, rows], ignore_index=True)).astype(R.TABLES[table]))
    results.summary["hindsight_all_in_bps"] = {str(i): c for i, c in hindsight_costs.items()}
    names = results.summary["scenarios"]
    at = max(names.index(S.EQUAL_SPLIT) + 1 if S.EQUAL_SPLIT in names else 1, 1)
    results.summary["scenarios"] = names[:at] + [S.EXANTE_BEST, S.HINDSIGHT_BEST] + names[at:]
    all_costs = pd.concat([all_costs, *derived_costs], ignore_index=True)
    all_costs["scenario"] = all_costs["scenario"].astype("string")
    return results, all_costs


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
    cached as a Nautilus catalog under `cache_dir`, default `market.cache_dir`, else the user cache dir:
    `sources.cache_dir_for`). Whether the parents fit in it is `check_parents_fit`'s (`prepare_run` calls both)."""
    from nautilus_sor.backtest.data.sources import load_market

    if config.market.type == "synthetic":
        return load_market(config.market, synthetic_config=market_config_for(config))
    return load_market(config.market, cache_dir=cache_dir)


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


def resting_fills_note(book_types: dict[str, str], queue_model: str, queue_power: float) -> str:
    """How resting limit orders fill on each book venue, for the run summary."""
    books = sorted(name for name, kind in book_types.items() if kind != "L1_MBP")
    if not books:
        return "no venue has order-book data: resting orders fill when the quote or bar reaches them (Nautilus's L1 matching)"
    if queue_model == QUEUE_OFF:
        return (f"{', '.join(books)}: Nautilus's own L2 matching (backtest.queue_model 'off'): a resting order fills only when the "
                "opposite side reaches its price, with no queue position and trades not consumed")
    model = f"{queue_model} (power {queue_power:g})" if queue_model == "prob_power" else queue_model
    return (f"{', '.join(books)}: queue-position fill model nautilus_sor.fill_model, queue model {model}: a resting limit order joins "
            "behind the size displayed at its price, moves up as that size trades or is cancelled (per the model), and fills from "
            "trade volume beyond the queue ahead or from a trade through its price; the opposite side reaching its price still fills it")


def aggressive_fills_note(book_types: dict[str, str], consume_liquidity: bool) -> str:
    """What an aggressive order of ours takes on each book venue, for the run summary (`engine.fill_modules`)."""
    books = sorted(name for name, kind in book_types.items() if kind != "L1_MBP")
    if not books:
        return "no venue has order-book data: aggressive orders fill at the quote or bar (Nautilus's L1 matching)"
    if not consume_liquidity:
        return (f"{', '.join(books)}: Nautilus's own L2 matching (backtest.consume_liquidity false): each aggressive order takes the book as "
                "recorded, including size an earlier order of ours already took")
    return (f"{', '.join(books)}: consumed-liquidity fill model nautilus_sor.fill_model_consumed: an aggressive fill consumes the "
            "levels it takes; a later aggressive order of ours is offered a level less what we took until the recorded level no "
            "longer shows our part (then in full) or shows new size above what we met (that new size)")


def clock_note(feeds: Any, clock_step_ms: float | None) -> str:
    """How the backtest's clock moves between data points, for the run summary (`backtest.clock`)."""
    if not feeds.book_instruments:
        return ("no venue has order-book data: no clock ticks; the engine's clock moves at data points (bars, quotes, trades), "
                "as the bar rule above says")
    if clock_step_ms is None:
        return ("Nautilus's own clock (backtest.clock_step_ms null): it moves only at data points, so an alert due between two "
                "updates fires after the later one, and an order that has arrived is processed there, against the later book")
    ticks = len(feeds.clock_ticks(clock_step_ms))
    return (f"clock ticks every {clock_step_ms:g} ms in each gap between data points longer than that ({ticks:,} added; "
            "backtest.clock_step_ms): an alert fires, and an order that has reached its venue is processed, at most "
            f"{clock_step_ms:g} ms late, against the book as it is then (Nautilus's engine moves its clock only at data points)")


def execution_summary(market: Any, feeds: Any, queue_model: str = QUEUE_OFF, queue_power: float = DEFAULT_QUEUE_POWER,
                      consume_liquidity: bool = False, clock_step_ms: float | None = None) -> dict[str, Any]:
    """Each venue's simulated book type and what its matching engine fills against, for the run summary."""
    by_venue: dict[str, list[Any]] = {}
    for instrument in market.instruments:
        by_venue.setdefault(instrument.id.venue.value, []).append(instrument)
    book_types, bar_venues = {}, []
    for name, instruments in by_venue.items():
        book_types[name] = feeds.book_type(instruments).name
        if book_types[name] == "L1_MBP" and any(feeds.bar_types_of(i.id) for i in instruments):
            bar_venues.append(name)
    out: dict[str, Any] = {"venue_book_types": book_types, "contingent_orders": CONTINGENT_ORDERS_NOTE,
                           "resting_fills": resting_fills_note(book_types, queue_model, queue_power),
                           "aggressive_fills": aggressive_fills_note(book_types, consume_liquidity),
                           "clock": clock_note(feeds, clock_step_ms)}
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
