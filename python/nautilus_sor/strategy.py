"""SmartRoutingStrategyConfig + MultiVenueStrategy, as in the reference:

    class SmartRoutingStrategyConfig(StrategyConfig):
        instrument_id: str
        use_smart_routing: bool = False
        venues: List[Dict] = []
        execution_algorithm: Optional[Dict] = None

`MultiVenueStrategy` builds the `SmartOrderRouter` when `use_smart_routing` is on, routes orders from its
signal hook (`should_trade`), attaches the configured execution algorithm (`{"type": "TWAP", ...}`), feeds
the router's venue statistics from its order events, and keeps a cross-venue position book (the core's,
NETTING or HEDGING per venue) consistent with Nautilus's own positions: rebuilt from the cache's fills
on every start, so it survives restarts without a second source of truth. It follows each venue's
`InstrumentStatus` (halt / trading) into its routers' connection flags (`on_instrument_status`).
"""

from __future__ import annotations

from typing import Any

import msgspec
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import InstrumentStatus, OrderBookDeltas, QuoteTick, TradeTick
from nautilus_trader.model.enums import MarketStatusAction, OrderSide, TimeInForce
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import ExecAlgorithmId, InstrumentId, PositionId, Venue
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.model.orders import MarketOrder
from nautilus_trader.trading.strategy import Strategy

from nautilus_sor._core import PositionBook
from nautilus_sor.exceptions import ConfigError, StateError, ValidationError
from nautilus_sor.execution_algorithms import order_params
from nautilus_sor.execution_algorithms.registry import register_strategy_for, registered_algorithm
from nautilus_sor.execution_algorithms.state import STATE_KEY
from nautilus_sor.sides import parse_side
from nautilus_sor.smart_router import SmartOrderRouter, check_router_params, parse_venues
from nautilus_sor.smart_router.settings import router_keywords
from nautilus_sor.smart_router.state import RouterState
from nautilus_sor.units import UNIT_DECIMALS, qty_to_units


class SmartRoutingStrategyConfig(StrategyConfig, frozen=True):
    instrument_id: str
    use_smart_routing: bool = False
    venues: list[dict[str, Any]] = []
    execution_algorithm: dict[str, Any] | None = None
    max_venues: int = 3
    # The router's cost-model parameters (SmartOrderRouter keywords: volatility, latency_risk_weight,
    # miss_cost_bps, ewma_alpha, slippage_weight); None: its defaults.
    router: dict[str, float] | None = None
    # What the default signal hook trades (`should_trade` decides when).
    trade_side: str = "BUY"
    trade_size: str | None = None
    # Subscribe each venue's InstrumentStatus and take a halted venue out of routing until it trades
    # again (off for a live adapter that does not publish instrument status).
    follow_instrument_status: bool = True

    def __post_init__(self) -> None:
        try:
            InstrumentId.from_str(self.instrument_id)
        except Exception:
            raise ConfigError(f"invalid instrument_id: {self.instrument_id!r}", field="instrument_id", value=repr(self.instrument_id)) from None
        if self.use_smart_routing or self.venues:
            parse_venues(self.venues)
        if self.execution_algorithm is not None and "type" not in self.execution_algorithm:
            raise ConfigError(f"invalid execution_algorithm.type: <missing> (the spec {self.execution_algorithm!r} needs a 'type')",
                              field="execution_algorithm.type", value="<missing>")
        try:
            parse_side(self.trade_side, "trade_side", names=True)
        except ValidationError as exc:
            raise ConfigError(str(exc), field=exc.field, value=exc.value) from None
        check_router_params(self.router)


class MultiVenueStrategy(Strategy):
    def __init__(self, config: SmartRoutingStrategyConfig) -> None:
        super().__init__(config)
        self.instrument_id = InstrumentId.from_str(config.instrument_id)
        self.router: SmartOrderRouter | None = None
        if config.use_smart_routing:
            self.router = SmartOrderRouter(config.venues, **router_keywords(config.router))
        self.exec_algorithm_id = (
            ExecAlgorithmId(str(config.execution_algorithm["type"]).upper()) if config.execution_algorithm else None
        )
        self.exec_algorithm_params = order_params(config.execution_algorithm) if config.execution_algorithm else None
        self.venue_configs = parse_venues(config.venues) if config.venues else []
        self._oms_types = {v.name: v.oms_type for v in self.venue_configs}
        # The core's cross-venue position book, fed from our fills (rebuilt from the cache on start).
        self.book = self._empty_book()
        self._book_instruments: set[str] = set()
        self._hedging_ids: dict[str, int] = {}  # Nautilus position id -> our position id
        self._sequence = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def venue_instrument_ids(self) -> list[InstrumentId]:
        if self.router is not None:
            return [self.router.venue_instrument_id(self.instrument_id, v.name) for v in self.router.venues]
        return [self.instrument_id]

    def on_start(self) -> None:
        self.rebuild_position_book()
        if self.router is not None:
            self.router.cache = self.cache
            self.router.clock = self.clock
        for instrument_id in self.venue_instrument_ids():
            if self.cache.instrument(instrument_id) is None:
                self.log.error(f"instrument {instrument_id} not in the cache: no data subscribed for it")
                continue
            self.subscribe_quote_ticks(instrument_id)
            self.subscribe_trade_ticks(instrument_id)
            if self.config.follow_instrument_status and (self.router is not None or self.exec_algorithm_id is not None):
                self.subscribe_instrument_status(instrument_id)
        if self.exec_algorithm_id is not None:
            register_strategy_for(self.msgbus, self.exec_algorithm_id, self)

    # -- the signal hook ---------------------------------------------------------------------

    def should_trade(self, tick: TradeTick | QuoteTick) -> bool:
        """Override: return True when the strategy wants to trade `config.trade_size` now."""
        return False

    def on_trade_tick(self, tick: TradeTick) -> None:
        if self.config.trade_size is not None and self.should_trade(tick):
            side = parse_side(self.config.trade_side, "trade_side", names=True)
            self.execute_order(side, Quantity.from_str(self.config.trade_size))

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        # The routers keep the venue's book from the deltas (one call per batch): no cache read per decision.
        for router in self._routers():
            router.on_order_book_deltas(deltas)

    def execute_order(self, side: OrderSide, quantity: Quantity, price: Price | None = None,
                      position_id: PositionId | None = None) -> list[Any]:
        """Sends `quantity`: through the execution algorithm if one is configured (it routes its
        children), else split across venues by the router, else on the strategy's instrument.

        `position_id` names the position the order reduces, closes or extends (HEDGING; Nautilus's
        `submit_order(..., position_id=)`): it is one instrument's position, so the whole order then
        trades the strategy's instrument, never split across venues."""
        # A market order is sent IOC (what a venue does with a market order's unfilled rest): Nautilus's
        # L2 backtest fills a GTC one for what a thin book shows, leaves the rest working and cannot cancel
        # it (its matching core never holds market orders), so a parent would end short with an order
        # stuck open. An algorithm's primary goes out as its last slice, so it is IOC too.
        if self.exec_algorithm_id is not None:
            if price is None:
                order = self.order_factory.market(self.instrument_id, side, quantity, time_in_force=TimeInForce.IOC,
                                                  exec_algorithm_id=self.exec_algorithm_id, exec_algorithm_params=self.exec_algorithm_params)
            else:
                order = self.order_factory.limit(self.instrument_id, side, quantity, price, exec_algorithm_id=self.exec_algorithm_id,
                                                 exec_algorithm_params=self.exec_algorithm_params)
            self.submit_order(order, position_id=position_id)
            return [order]
        if self.router is None or position_id is not None:
            order = self.order_factory.market(self.instrument_id, side, quantity, time_in_force=TimeInForce.IOC)
            self.submit_order(order, position_id=position_id)
            return [order]
        orders = []
        for allocation in self.router.route_order(self.instrument_id, side, quantity, self.config.max_venues, price):
            order = self.order_factory.market(allocation.instrument_id, side, allocation.quantity, time_in_force=TimeInForce.IOC)
            self.router.track(order.client_order_id, allocation, side)
            self.submit_order(order)
            orders.append(order)
        return orders

    # -- events --------------------------------------------------------------------------------

    def on_order_event(self, event: Any) -> None:
        if self.router is not None:
            self.router.on_order_event(event)
        if isinstance(event, OrderFilled):
            self._book_fill(event)

    # -- the position book --------------------------------------------------------------------

    def _empty_book(self) -> PositionBook:
        book = PositionBook()
        for v in self.venue_configs:
            book.add_venue(v.name, v.oms_type)
        return book

    def rebuild_position_book(self) -> int:
        """Rebuilds the core book from the fills of this strategy's orders in the cache; returns how
        many fills it replayed.

        The cache is the one source of truth: on a live node's start it holds the orders of the cache
        database, brought up to date by execution reconciliation (which runs before the trader
        starts), so fills from before a restart, while the node was down, or while this strategy was
        stopped (Nautilus hands a stopped strategy no events) are all counted, once. The book is not
        saved."""
        self.book = self._empty_book()
        self._book_instruments = set()
        self._hedging_ids = {}
        count = 0
        for fills in self._fills_by_instrument().values():
            for fill in fills:
                self._book_fill(fill)
            count += len(fills)
        return count

    def _fills_by_instrument(self) -> dict[InstrumentId, list[OrderFilled]]:
        """Each instrument's fills in the order Nautilus applied them (instruments are independent in
        the book): event time, and at the same instant the order of the instrument's position events
        (and snapshots of earlier NETTING cycles). A flip's halves share the fill's order and trade
        ids; a fill no position records (an earlier cycle without a snapshot) goes first among equals."""
        by_instrument: dict[InstrumentId, list[OrderFilled]] = {}
        for order in self.cache.orders(strategy_id=self.id):
            for event in order.events:
                if isinstance(event, OrderFilled):
                    by_instrument.setdefault(event.instrument_id, []).append(event)
        for instrument_id, fills in by_instrument.items():
            applied: dict[tuple[str, str], int] = {}
            for position in self.cache.positions(instrument_id=instrument_id, strategy_id=self.id):
                for cycle in [*self.cache.position_snapshots(position.id), position]:
                    for event in cycle.events:
                        applied.setdefault(_fill_key(event), len(applied))
            fills.sort(key=lambda f: (f.ts_event, f.ts_init, applied.get(_fill_key(f), -1)))
        return by_instrument

    def _book_fill(self, fill: OrderFilled) -> None:
        venue = fill.instrument_id.venue.value
        oms_type = self._oms_types.get(venue)
        if oms_type is None:
            return
        name = fill.instrument_id.value
        instrument = self.cache.instrument(fill.instrument_id)
        if instrument is None:
            raise ValidationError(f"invalid instrument_id: {name} not in the cache", field="instrument_id", value=name)
        if name not in self._book_instruments:
            # The asset the venues' exposures add up under: the base currency, or (an Equity has none) the symbol.
            base = getattr(instrument, "base_currency", None)
            # PnL and commissions round to the cost currency's precision, as Nautilus's Money does.
            self.book.add_instrument(name, base.code if base is not None else instrument.id.symbol.value,
                                     size_precision=instrument.size_precision, multiplier=float(instrument.multiplier),
                                     currency_precision=instrument.get_cost_currency().precision)
            self._book_instruments.add(name)
        quantity = qty_to_units(fill.last_qty) // 10 ** (UNIT_DECIMALS - instrument.size_precision)
        hedging = oms_type == "HEDGING"
        position_id = self._hedging_ids.get(fill.position_id.value) if hedging and fill.position_id is not None else None
        commission = fill.commission.as_double()
        ours = self.book.apply_fill(venue, name, int(fill.order_side), quantity, fill.last_px.as_double(), commission, position_id)
        if hedging and fill.position_id is not None:
            self._hedging_ids.setdefault(fill.position_id.value, ours)

    # -- venue status (outage detection live) -------------------------------------------------

    def on_instrument_status(self, data: InstrumentStatus) -> None:
        """A venue halted for our instrument gets no new flow from this strategy's router nor its
        algorithm's (its open children count as at risk); it gets flow again when it trades."""
        if data.instrument_id not in self.venue_instrument_ids():
            return
        trading = venue_trading(data)
        venue = data.instrument_id.venue.value
        if trading is None:
            self.log.info(f"{data.instrument_id} status {data.action.name}: routing to {venue} unchanged")
            return
        for router in self._routers():
            if router.is_venue_connected(venue) != trading:
                router.set_venue_connected(venue, trading)
        self.log.warning(f"{data.instrument_id} status {data.action.name}" + (f" ({data.reason})" if data.reason else "")
                         + f": {venue} {'back in' if trading else 'out of'} routing")

    def _routers(self) -> list[SmartOrderRouter]:
        """This strategy's router and its execution algorithm's (each decides for its own orders)."""
        routers = [self.router] if self.router is not None else []
        algorithm = registered_algorithm(self.msgbus, self.exec_algorithm_id) if self.exec_algorithm_id is not None else None
        if algorithm is not None and algorithm.router is not None and algorithm.router not in routers:
            routers.append(algorithm.router)
        return routers

    def net_exposure(self, underlying: str) -> float:
        """Net position across venues and OMS types (what the next child should know)."""
        return self.book.net_exposure(underlying)

    def on_stop(self) -> None:
        pass

    def on_resume(self) -> None:
        # Fills made while stopped never reached on_order_event: the cache has them.
        self.rebuild_position_book()

    # -- state (restart) ---------------------------------------------------------------------
    # Nautilus 1.221's Trader.save()/load() (node `save_state` / `load_state`) cover strategies and
    # actors but not execution algorithms: the strategy carries its algorithm's state with its own.

    def on_save(self) -> dict[str, bytes]:
        state: dict[str, bytes] = {}
        if self.router is not None:
            state[ROUTER_STATE_KEY] = msgspec.json.encode(self.router.save_state())
        algorithm = registered_algorithm(self.msgbus, self.exec_algorithm_id) if self.exec_algorithm_id is not None else None
        if algorithm is not None and self.exec_algorithm_id is not None:
            state[f"{ALGORITHM_STATE_PREFIX}{self.exec_algorithm_id.value}"] = next(iter(algorithm.save().values()))
        return state

    def on_load(self, state: dict[str, bytes]) -> None:

        if ROUTER_STATE_KEY in state and self.router is not None:
            try:
                router_state = msgspec.json.decode(state[ROUTER_STATE_KEY], type=RouterState)
            except msgspec.DecodeError as exc:
                raise StateError(f"invalid router state: {exc}", field="router", value=state[ROUTER_STATE_KEY][:80]) from None
            self.router.load_state(router_state)
        for key, data in state.items():
            if key.startswith(ALGORITHM_STATE_PREFIX):
                algorithm = registered_algorithm(self.msgbus, key[len(ALGORITHM_STATE_PREFIX):])
                if algorithm is None:
                    raise StateError(f"invalid state: no execution algorithm {key[len(ALGORITHM_STATE_PREFIX):]!r} in this trader", field=key, value=key)
                algorithm.load({STATE_KEY: data})


# Statuses in which a venue takes no new flow; TRADING brings it back; any other (auction phases,
# quoting, a short-sell restriction change) leaves routing as it is.
HALTED_ACTIONS = frozenset({
    MarketStatusAction.HALT, MarketStatusAction.PAUSE, MarketStatusAction.SUSPEND, MarketStatusAction.CLOSE,
    MarketStatusAction.POST_CLOSE, MarketStatusAction.NOT_AVAILABLE_FOR_TRADING,
})


def venue_trading(status: InstrumentStatus) -> bool | None:
    """Whether the status says the venue trades the instrument (None: it does not say): the explicit
    `is_trading` flag when the adapter sets it, else the action."""
    if status.is_trading is not None:
        return bool(status.is_trading)
    if status.action == MarketStatusAction.TRADING:
        return True
    return False if status.action in HALTED_ACTIONS else None


def _fill_key(fill: OrderFilled) -> tuple[str, str]:
    return fill.client_order_id.value, fill.trade_id.value


ROUTER_STATE_KEY = "nautilus_sor.router"
ALGORITHM_STATE_PREFIX = "nautilus_sor.exec_algorithm/"
