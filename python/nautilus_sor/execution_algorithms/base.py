"""(Over 600 lines: one class, `SmartExecAlgorithm`, the Nautilus glue every algorithm shares, and this
module doc on how a parent is executed. The pure parts live beside it: `ledger.py`, `parents.py`,
`checks.py`, `registry.py`, `restart.py`. Splitting the class further is planned with the execution-style work.)

Shared machinery of the execution algorithms: parent/child bookkeeping, child creation on the
right venue's instrument, smart routing of each child, and returning unfilled quantity to the
schedule.

How a primary order is executed
-------------------------------
A strategy submits a primary order carrying our `exec_algorithm_id`. The algorithm asks its
subclass for a schedule of (time offset, quantity in units) that sums exactly to the primary's
quantity, then fires one slice at a time on the clock. Each slice becomes one child order per venue:
routed across venues by the `SmartOrderRouter` when smart routing is on, otherwise on the primary's
own instrument.

Every child is spawned from the primary as Nautilus counts spawns: `exec_spawn_id` is the primary's
client order id and its own id is `<primary>-E<n>`, as `ExecAlgorithm.spawn_market` makes them, so the
cache's `orders_for_exec_spawn(primary)` and `exec_spawn_total_quantity/filled_qty/leaves_qty` see
the whole parent. Unlike `spawn_*`, a child is built on its own venue's instrument and is submitted
with its own position id: Nautilus's `ExecAlgorithm.submit_order` indexes a spawned order under the
primary's position, which books a fill on another venue into the wrong position (`_submit_spawned`
is that method's spawned-order path with the position id ours). The primary itself is not sent until
the last slice: its quantity is kept equal to what has not been sent yet (`modify_order_in_place`),
and on the last slice it is sent as the child on its own instrument, or, when the router sends nothing
there, closed locally as fully distributed (then, since a Nautilus order cannot hold zero, the exec
spawn totals over all orders also count its last quantity, unfilled; `active_only=True` totals and
`exec_spawn_total_filled_qty` are exact).

Positions (`position_id_for`), the rule each fill is booked by:
- the strategy named a position for the parent (`submit_order(primary, position_id=P)`): every child
  books into P and the parent trades only the primary's instrument (P is one instrument's position),
  so a parent reduces, closes or extends exactly the position it names;
- with smart routing, on a NETTING venue: Nautilus's netting position `<instrument>-<strategy>`; on a
  HEDGING venue: one position per parent and venue, `<primary>-<venue>` (OMS: the strategy's
  `oms_type` if set, else the venue's `oms_type` in `venues`, as Nautilus's engine decides);
- without smart routing (one instrument): Nautilus's own rule for spawned orders, the primary's
  position, which the engine assigns at the first fill.

Sub-lot rests (timed schedules with smart routing; the evaluation simulator's rule): when venues' lots
do not divide one another, routing every slice exactly would hand each slice's odd rest to the fine-lot
venue at its fee. So before the last slice, the slice is routed rounded down to whichever venue lot (and
over at most how many venues, 1..max_venues) gives the lowest expected cost per unit (the core split's
`score_bps`), and a rest no coarser lot can take is carried when routing it now costs more per unit than
a whole lot of the cheapest venue (`SmartOrderRouter.lot_rounding`). Carried units join the next slice
(`parent.slices[0]`: still pending, saved with that slice); the last slice routes its exact rest.
Without smart routing, or with one lot size among the venues, every slice goes exactly as scheduled.

Bookkeeping, per parent and at every event:
    requested == filled + working + pending + abandoned
`working` is sent and open, `pending` is scheduled or returned and not yet sent, `abandoned` is what
was given up (the algorithm stopped, or a slice kept failing past `max_retries`). A rejected,
expired or IOC-cancelled child's unfilled quantity goes back to `pending` and is sent with the next
slice (or a catch-up slice after the last one).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import msgspec
from nautilus_trader.config import ExecAlgorithmConfig
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.algorithm import ExecAlgorithm
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.enums import OmsType, OrderSide, OrderType, TimeInForce
from nautilus_trader.model.events import (
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderUpdated,
)
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId, PositionId, StrategyId
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.model.orders import LimitOrder, MarketOrder, Order

from nautilus_sor.exceptions import ConfigError, InsufficientLiquidityError, NautilusSorError, RoutingError, ValidationError
from nautilus_sor.execution_algorithms.alerts import cancel_alert
from nautilus_sor.execution_algorithms.checks import check_max_finished_parents, check_positive_seconds
from nautilus_sor.execution_algorithms.ledger import DEFAULT_MAX_FINISHED, Ledger
from nautilus_sor.execution_algorithms.parents import ChildState, ParentState
from nautilus_sor.execution_algorithms.registry import register_algorithm, strategy_for
from nautilus_sor.execution_algorithms.restart import MISSED_SLICE_POLICIES, ORPHAN_POLICIES, ReconciliationReport, Restart
from nautilus_sor.execution_algorithms.resting import RestingSlices
from nautilus_sor.execution_algorithms.styles import DEFAULT_CATCH_UP_FRACTION, DEFAULT_REPRICE_INTERVAL_S, TAKER, StyleParams, check_style
from nautilus_sor.risk import RISK_TOPIC, KillSwitch, KillSwitchTriggered, check_limits
from nautilus_sor.rounding import bound_price, round_price, round_quantity
from nautilus_sor.sides import parse_side
from nautilus_sor.smart_router import SmartOrderRouter, VenueAllocation, check_router_params, parse_venues
from nautilus_sor.smart_router.settings import router_keywords
from nautilus_sor.units import UNIT_DECIMALS, precision_holding, qty_to_units, units_to_qty

NS_PER_SECOND = 1_000_000_000
# What a slice leaves after the schedule's last is re-sent this long after its answer, at most
# `max_retries` times (`_return_units`); evaluate's simulator follows the same rule.
DEFAULT_MAX_RETRIES = 10
RETRY_DELAY_NS = NS_PER_SECOND

# The order events a child's bookkeeping changes on: a fill, or its end without one.
_BOOKED_EVENTS = (OrderFilled, OrderRejected, OrderCanceled, OrderExpired, OrderDenied)


class SmartExecAlgorithmConfig(ExecAlgorithmConfig, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Settings every algorithm of this package shares.

    use_smart_routing / venues / max_venues: route each child across these venues (the reference's
    venue dicts). max_retries: how many times a slice's returned quantity is re-sent past the end of
    the schedule before it is abandoned. seed: for randomised schedules.

    Live operation (see docs/reliability.md):
    orphan_policy: what a restart does with an open order of ours no parent claims, "cancel" or "adopt".
    missed_slice_policy: slices due while the node was down, "merge" (sent now as one) or "spread"
    (over the remaining slices).
    max_notional_per_venue_per_minute / max_children_per_parent / max_children_total: the kill-switch
    (`risk.py`); None = no limit.
    stale_data_seconds: a venue whose book/quote has not updated for this long is treated as
    disconnected (no new flow) until it updates; None = only `router.set_venue_connected` says so.

    Execution style of a scheduled algorithm's slices (`styles.py`, `resting.py`; also per order):
    execution_style: "taker" (cross now), "maker" (rest at the touch, post-only; re-priced when the touch
    moves away, at most once per `reprice_interval_s`; crossed when the parent lags its schedule by more
    than `catch_up_fraction` of the parent, or at the slice's end) or "adaptive" (rest or cross per slice,
    whichever the router expects to cost less).
    """

    use_smart_routing: bool = False
    venues: list[dict[str, Any]] | None = None
    max_venues: int = 3
    max_retries: int = DEFAULT_MAX_RETRIES
    seed: int = 0
    orphan_policy: str = "cancel"
    missed_slice_policy: str = "merge"
    max_notional_per_venue_per_minute: float | None = None
    max_children_per_parent: int | None = None
    max_children_total: int | None = None
    stale_data_seconds: float | None = None
    router: dict[str, float] | None = None  # SmartOrderRouter cost-model keywords; None: its defaults
    # Finished parents kept (for reconciliation, reports and saves) past which the oldest are dropped:
    # a live algorithm's memory and saved state stay bounded. None keeps all (a backtest's analysis).
    max_finished_parents: int | None = DEFAULT_MAX_FINISHED
    execution_style: str = TAKER
    catch_up_fraction: float = DEFAULT_CATCH_UP_FRACTION
    reprice_interval_s: float = DEFAULT_REPRICE_INTERVAL_S

    def __post_init__(self) -> None:
        if self.use_smart_routing:
            if not self.venues:
                raise ConfigError(
                    "invalid venues: smart routing needs at least one venue", field="venues", value=repr(self.venues)
                )
            parse_venues(self.venues)
        if isinstance(self.max_venues, bool) or self.max_venues < 1:
            raise ConfigError(f"invalid max_venues: {self.max_venues!r} (must be >= 1)", field="max_venues", value=repr(self.max_venues))
        if self.max_retries < 0:
            raise ConfigError(f"invalid max_retries: {self.max_retries!r} (must be >= 0)", field="max_retries", value=repr(self.max_retries))
        if self.orphan_policy not in ORPHAN_POLICIES:
            raise ConfigError(f"invalid orphan_policy: {self.orphan_policy!r} (one of {', '.join(ORPHAN_POLICIES)})", field="orphan_policy", value=repr(self.orphan_policy))
        if self.missed_slice_policy not in MISSED_SLICE_POLICIES:
            raise ConfigError(
                f"invalid missed_slice_policy: {self.missed_slice_policy!r} (one of {', '.join(MISSED_SLICE_POLICIES)})",
                field="missed_slice_policy",
                value=repr(self.missed_slice_policy),
            )
        check_limits(self.max_notional_per_venue_per_minute, self.max_children_per_parent, self.max_children_total)
        if self.stale_data_seconds is not None:
            check_positive_seconds("stale_data_seconds", self.stale_data_seconds)
        check_router_params(self.router)
        check_max_finished_parents(self.max_finished_parents)
        check_style(self.execution_style, self.catch_up_fraction, self.reprice_interval_s)


class SmartExecAlgorithm(ExecAlgorithm):
    """Base class: subclasses provide `build_schedule` (and may override `on_slice`).

    Per-order parameters: a primary's `exec_algorithm_params` may set the config fields in the
    subclass's `ORDER_PARAMS` for that order alone (`order_config`); they are checked as the config's own
    fields, and a bad one denies the primary with a reason naming `exec_algorithm_params.<name>` and the
    value (the direct `execute(..., **params)` call raises that ConfigError instead)."""

    timed_schedule = True  # slices fire on the clock (False: driven by events, see EventDrivenExecAlgorithm)
    ORDER_PARAMS: tuple[str, ...] = ()  # config fields an order's exec_algorithm_params may set
    PARAM_ALIASES: dict[str, str] = {}  # other names for them (e.g. Nautilus's own TWAP's horizon_secs)
    EXCLUSIVE_PARAMS: tuple[str, ...] = ()  # fields of which an order giving one replaces the others (VWAP's curve)

    def __init__(self, config: SmartExecAlgorithmConfig) -> None:
        super().__init__(config)
        self._config = config
        self.router: SmartOrderRouter | None = None
        # Parents, their children's links and planned schedules; finished parents past the bound are dropped.
        self.ledger: Ledger[ClientOrderId, ParentState] = Ledger(config.max_finished_parents)
        self._order_configs: dict[ClientOrderId, SmartExecAlgorithmConfig] = {}
        self.restart = Restart(self)
        self.resting = RestingSlices(self)  # the children of "maker"/"adaptive" slices while they rest
        # Kill-switch (risk.py): its refusals, also published on the `nautilus_sor.risk` topic.
        self.risk = KillSwitch(config.max_notional_per_venue_per_minute, config.max_children_per_parent, config.max_children_total)
        self.risk_events: list[KillSwitchTriggered] = []
        self._tape_subscribed: set[InstrumentId] = set()  # instruments whose trades feed the router's tape

    def register(self, trader_id: Any, portfolio: Any, msgbus: Any, cache: Any, clock: Any) -> None:
        super().register(trader_id, portfolio, msgbus, cache, clock)
        register_algorithm(msgbus, self.id, self)

    # -- the ledger --------------------------------------------------------------------------

    @property
    def parents(self) -> dict[ClientOrderId, ParentState]:
        """The parents held, by primary id: every open one and the most recent finished ones
        (`max_finished_parents`)."""
        return self.ledger.parents

    @property
    def planned(self) -> dict[str, list[tuple[int, float]]]:
        """The schedule each held parent started with: primary id -> [(ts ns, quantity)], for reports."""
        return {primary_id.value: slices for primary_id, slices in self.ledger.planned.items()}

    def add_parent(self, parent: ParentState) -> None:
        """Holds a new parent; finished parents past the bound are dropped, with their per-order state."""
        for primary_id in self.ledger.add(parent.primary_id, parent):
            self._order_configs.pop(primary_id, None)
            self.on_parent_dropped(primary_id)

    def on_parent_dropped(self, primary_id: ClientOrderId) -> None:
        """Subclasses with their own per-parent state drop it here (the parent finished long ago)."""

    # -- save / load (the restart component) -------------------------------------------------

    def on_save(self) -> dict[str, bytes]:
        return self.restart.save()

    def on_load(self, state: dict[str, bytes]) -> None:
        self.restart.load(state)

    def state_bytes(self) -> bytes:
        """The algorithm's state now, encoded (what `on_save` stores while running)."""
        return self.restart.state_bytes()

    def reconcile(self) -> ReconciliationReport:
        """Matches the orders in the cache with the parents (`restart.py`)."""
        return self.restart.reconcile()

    @property
    def reconciliation(self) -> ReconciliationReport | None:
        """What the last start after a restore found in the cache."""
        return self.restart.reconciliation

    def on_restored(self, parent: ParentState) -> None:
        """Subclasses with their own per-parent state rebuild it here (after reconciliation)."""

    # -- lifecycle ---------------------------------------------------------------------------

    def on_start(self) -> None:
        if self._config.use_smart_routing and self.router is None:
            self.router = SmartOrderRouter(self._config.venues or [], cache=self.cache, clock=self.clock, **router_keywords(self._config.router))
        if self.router is not None and self.rests_by_config():
            # The tape must be known before the first resting child: watch the assets known now (explicit
            # venue instruments, the bound strategy's instrument); a parent on another asset adds its own.
            self._subscribe_tape(self.router.tape_instruments)
            asset = getattr(strategy_for(self.msgbus, self.id), "instrument_id", None)
            if isinstance(asset, InstrumentId):
                self._subscribe_tape(self.router.watch_tape(asset))
        self.restart.resume()
        self.restart.stop_snapshot = None

    # -- the trade tape behind the passive estimate ------------------------------------------

    def rests_by_config(self) -> bool:
        """Whether this algorithm's children rest by its config: its router then keeps each venue's trade
        tape from the start (the fill probability of a resting child comes from it)."""
        return bool(self._config.execution_style != TAKER)

    def watch_tape_for(self, parent: ParentState) -> None:
        """A parent whose children rest: its asset's trades feed the router's tape."""
        router = self.router_for(parent)
        if router is not None and self.style_of(parent).rests:
            self._subscribe_tape(router.watch_tape(parent.instrument_id))

    def _subscribe_tape(self, instrument_ids: list[InstrumentId]) -> None:
        for iid in instrument_ids:
            if iid not in self._tape_subscribed and self.cache.instrument(iid) is not None:
                self.subscribe_trade_ticks(iid)
                self._tape_subscribed.add(iid)

    def on_trade_tick(self, tick: Any) -> None:
        if self.router is not None:
            self.router.on_trade_tick(tick)

    def on_stop(self) -> None:
        # What a restart resumes from: the state before the stop gives up the unsent quantity.
        self.restart.stop_snapshot = self.state_bytes()
        self.clock.cancel_timers()
        self.ledger.sweep()
        strategies = set()
        for parent in list(self.ledger.open_parents()):
            # Nothing more will be sent: what was still pending is given up, and says so.
            if parent.pending:
                self.log.warning(f"{parent.primary_id}: stopped with {parent.quantity_text(parent.pending)} unsent (abandoned)")
                parent.abandoned += parent.pending
                parent.pending = 0
                parent.returned = 0
                parent.slices.clear()
            self._close_unsent_primary(parent, "the algorithm stopped")
            # Working children are cancelled; their last fills and cancels still arrive after the stop,
            # when Nautilus no longer hands a stopped algorithm its events: listen for them directly.
            for child in parent.children.values():
                order = self.cache.order(child.client_order_id)
                if not child.done and order is not None and not order.is_closed:
                    self.cancel_order(order)
            primary = self.cache.order(parent.primary_id)
            if primary is not None:
                strategies.add(primary.strategy_id)
        for strategy_id in strategies:
            topic = f"events.order.{strategy_id.value}"
            if not self.msgbus.is_subscribed(topic, self._on_event_after_stop):
                self.msgbus.subscribe(topic=topic, handler=self._on_event_after_stop)

    def _on_event_after_stop(self, event: Any) -> None:
        if self.is_running or not self.ledger.is_child(event.client_order_id):
            return
        self.on_order_event(event)

    def _close_unsent_primary(self, parent: ParentState, reason: str) -> None:
        """A primary that will never be sent is closed, so its strategy gets a final event for it."""
        if parent.primary_sent or parent.pending or parent.slices:
            return
        primary = self.cache.order(parent.primary_id)
        if primary is not None and not primary.is_closed:
            self._close_primary_locally(primary, reason)
            parent.primary_sent = True

    def on_reset(self) -> None:
        self.ledger.clear()
        self._order_configs.clear()
        self.restart.clear()

    # -- the reference's direct call --------------------------------------------------------

    def execute(self, command: Any = None, *, instrument_id: InstrumentId | None = None, side: OrderSide | None = None,
                quantity: Quantity | None = None, price: Price | None = None, strategy: Any | None = None, **params: Any) -> Any:
        """Nautilus calls `execute(command)`; users call `execute(instrument_id=..., side=..., quantity=..., price=...)`,
        which creates the primary order (market, or limit at `price`) with this algorithm attached and submits it
        through the strategy."""
        if command is not None:
            result = super().execute(command)
            if self.restart.nautilus_listens:
                self.restart.note_strategy_subscribed(command.strategy_id)
            return result
        strategy = strategy or strategy_for(self.msgbus, self.id)
        if strategy is None:
            raise ValidationError(
                "invalid strategy: execute(instrument_id=...) needs a strategy to own the order "
                "(pass strategy=, or use MultiVenueStrategy which binds itself)",
                field="strategy",
                value="None",
            )
        for name, value, kind in (("instrument_id", instrument_id, InstrumentId), ("quantity", quantity, Quantity)):
            if not isinstance(value, kind):
                raise ValidationError(f"invalid {name}: {value!r} (must be a {kind.__name__})", field=name, value=repr(value))
        side = parse_side(side)
        self.config_for(params)  # a bad parameter is the caller's error, raised here
        if price is None:
            # IOC, as `MultiVenueStrategy.execute_order` sends a market primary (why: there).
            order = strategy.order_factory.market(instrument_id, side, quantity, time_in_force=TimeInForce.IOC, exec_algorithm_id=self.id,
                                                  exec_algorithm_params=params or None)
        else:
            order = strategy.order_factory.limit(instrument_id, side, quantity, price, exec_algorithm_id=self.id,
                                                 exec_algorithm_params=params or None)
        strategy.submit_order(order)
        return order

    # -- per-order parameters ---------------------------------------------------------------

    def config_for(self, params: Any) -> Any:
        """This algorithm's config with `params` (an order's `exec_algorithm_params`) applied, checked as
        the config's own fields; ConfigError naming `exec_algorithm_params.<name>` and the value."""
        if not params:
            return self._config
        if not isinstance(params, dict):
            raise ConfigError(f"invalid exec_algorithm_params: {params!r} (a dict of parameters)", field="exec_algorithm_params", value=repr(params))
        given: dict[str, Any] = {}
        named: dict[str, str] = {}  # field -> the name the order used
        for key, value in params.items():
            name = self.PARAM_ALIASES.get(key, key)
            if name not in self.ORDER_PARAMS:
                allowed = ", ".join((*self.ORDER_PARAMS, *self.PARAM_ALIASES))
                raise ConfigError(f"invalid exec_algorithm_params.{key}: {value!r} (not a per-order parameter of {self.id}; one of {allowed})",
                                  field=f"exec_algorithm_params.{key}", value=repr(value))
            if name in given:
                raise ConfigError(f"invalid exec_algorithm_params.{key}: {value!r} ({named[name]} already gives {name})",
                                  field=f"exec_algorithm_params.{key}", value=repr(value))
            given[name], named[name] = value, key
        if any(name in given for name in self.EXCLUSIVE_PARAMS):
            given = {**{name: None for name in self.EXCLUSIVE_PARAMS}, **given}
        try:
            return msgspec.structs.replace(self._config, **given)
        except ConfigError as exc:
            field = exc.field or "exec_algorithm_params"
            key = named.get(field.split("[")[0], field)
            path = f"exec_algorithm_params.{key}{field[len(field.split('[')[0]):]}"
            raise ConfigError(f"invalid {path}: {str(exc).split(': ', 1)[-1]}", field=path, value=exc.value) from None

    def order_config(self, primary_id: ClientOrderId) -> Any:
        """The config a parent runs with: this algorithm's, with its primary's `exec_algorithm_params`."""
        config = self._order_configs.get(primary_id)
        if config is None:
            primary = self.cache.order(primary_id) if self.cache is not None else None  # None: not registered yet
            config = self._order_configs[primary_id] = self.config_for(primary.exec_algorithm_params if primary is not None else None)
        return config

    # -- subclasses --------------------------------------------------------------------------

    def build_schedule(self, order: Order, units: int, lot_units: int) -> list[tuple[int, int]]:
        """(offset ns from now, units) summing exactly to `units`."""
        raise NotImplementedError

    # -- primary orders ---------------------------------------------------------------------

    def on_order(self, order: Order) -> None:
        if order.order_type not in (OrderType.MARKET, OrderType.LIMIT):
            self._reject_primary(order, f"only MARKET and LIMIT primaries are supported, was {order.order_type}")
            return
        instrument = self.cache.instrument(order.instrument_id)
        if instrument is None:
            self._reject_primary(order, f"instrument {order.instrument_id} not in the cache")
            return
        if self.router is not None:
            missing = [
                str(iid)
                for iid in (self.router.venue_instrument_id(order.instrument_id, v.name) for v in self.router.venues)
                if self.cache.instrument(iid) is None
            ]
            if missing:
                self._reject_primary(order, f"venue instrument(s) {', '.join(missing)} not in the cache")
                return
        try:
            self._onto_increments(order, instrument)
        except ValidationError as exc:
            self._reject_primary(order, str(exc))
            return
        named = self.cache.position_id(order.client_order_id)
        position = self.cache.position(named) if named is not None else None
        if position is not None and position.instrument_id != order.instrument_id:
            self._reject_primary(order, f"invalid position_id: {named} is a position on {position.instrument_id}, the order is on "
                                        f"{order.instrument_id} (a parent that names a position trades that position's instrument)")
            return
        units = qty_to_units(order.quantity)
        lot_units = qty_to_units(instrument.size_increment, "size_increment")
        try:
            self.order_config(order.client_order_id)
            schedule = self.build_schedule(order, units, lot_units)
        except NautilusSorError as exc:
            self._reject_primary(order, str(exc))
            return
        if sum(q for _, q in schedule) != units:  # pragma: no cover - schedules are exact by construction
            raise AssertionError("schedule does not sum to the order")
        now = self.clock.timestamp_ns()
        parent = ParentState(
            primary_id=order.client_order_id,
            instrument_id=order.instrument_id,
            side=order.side,
            requested=units,
            limit=order.price if order.order_type == OrderType.LIMIT else None,
            precision=instrument.size_precision,
            lot_units=lot_units,
            slices=deque((now + offset, q) for offset, q in schedule),
            pending=units,
        )
        self.add_parent(parent)
        # A position the strategy named (submit_order(..., position_id=)) is read before ours is indexed.
        parent.named_position = named
        self.watch_tape_for(parent)
        if parent.named_position is None and self.router is not None:
            # The primary's own position, known now: the engine then never re-points it at another venue's.
            self._index_position(order, self.position_id_for(parent, order.instrument_id))
        scale = 10**UNIT_DECIMALS
        self.ledger.plan(order.client_order_id, [(ts, q / scale) for ts, q in parent.slices])
        self.log.info(f"{order.client_order_id}: {len(schedule)} slices over {(schedule[-1][0]) / NS_PER_SECOND:.1f}s")
        # Even a slice due now goes through the clock: Nautilus subscribes an algorithm to the
        # strategy's order events only after `on_order` returns, and a child's synchronous denial
        # must not be missed.
        self._arm(parent)

    def _onto_increments(self, order: Order, instrument: Any) -> None:
        """Puts the primary's quantity and limit on its instrument's increments and precisions
        (`nautilus_sor.rounding`; ValidationError when that would change it by more than half an
        increment). Applied as Nautilus applies an in-place modify; also when only the precision differs
        (`Quantity.from_str("1.0")` on a size-precision-6 instrument), which `modify_order_in_place` skips."""
        quantity = round_quantity(instrument, order.quantity)
        price = round_price(instrument, order.price) if order.order_type == OrderType.LIMIT else None
        same_qty = quantity.raw == order.quantity.raw and quantity.precision == order.quantity.precision
        if same_qty and (price is None or (price.raw == order.price.raw and price.precision == order.price.precision)):
            return
        ts = self.clock.timestamp_ns()
        order.apply(OrderUpdated(
            trader_id=order.trader_id, strategy_id=order.strategy_id, instrument_id=order.instrument_id,
            client_order_id=order.client_order_id, venue_order_id=order.venue_order_id, account_id=order.account_id,
            quantity=quantity, price=price, trigger_price=None, event_id=UUID4(), ts_event=ts, ts_init=ts,
        ))
        self.cache.update_order(order)
        if not same_qty:
            self.log.info(f"{order.client_order_id}: quantity {order.quantity} on {instrument.id}'s size increment {instrument.size_increment}")

    def _arm(self, parent: ParentState) -> None:
        """Sets the time alert for the parent's next slice."""
        if not parent.slices:
            return
        name = self._timer_name(parent)
        cancel_alert(self.clock, name)
        self.clock.set_time_alert_ns(name=name, alert_time_ns=parent.slices[0][0], callback=self._on_slice_timer)

    def _reject_primary(self, order: Order, reason: str) -> None:
        """Denies a primary this algorithm cannot execute, with the reason, as Nautilus's risk engine would."""
        self.log.error(f"Cannot execute {order.client_order_id}: {reason}")
        if order.is_closed:
            return
        event = OrderDenied(
            trader_id=order.trader_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            reason=reason,
            event_id=UUID4(),
            ts_init=self.clock.timestamp_ns(),
        )
        order.apply(event)
        self.cache.update_order(order)
        self.msgbus.publish(topic=f"events.order.{order.strategy_id.value}", msg=event)

    def _close_primary_locally(self, order: Order, reason: str) -> None:
        if order.is_closed:
            return
        ts = self.clock.timestamp_ns()
        event = OrderCanceled(
            trader_id=order.trader_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=order.venue_order_id,
            account_id=order.account_id,
            event_id=UUID4(),
            ts_event=ts,
            ts_init=ts,
        )
        order.apply(event)
        self.cache.update_order(order)
        self.msgbus.publish(topic=f"events.order.{order.strategy_id.value}", msg=event)
        self.log.info(f"{order.client_order_id} closed locally: {reason}")

    # -- slices ------------------------------------------------------------------------------

    def _timer_name(self, parent: ParentState) -> str:
        return f"{self.id.value}-{parent.primary_id.value}"

    def _fire_due(self, parent: ParentState) -> None:
        """Sends every slice that is due, then arms a time alert for the next one."""
        now = self.clock.timestamp_ns()
        while parent.slices and parent.slices[0][0] <= now:
            _, units = parent.slices.popleft()
            units += parent.returned
            parent.returned = 0
            self._send_slice(parent, units)
        self._arm(parent)
        parent.check()

    def _on_slice_timer(self, event: Any) -> None:
        primary_id = ClientOrderId(event.name[len(self.id.value) + 1 :])
        parent = self.parents.get(primary_id)
        if parent is not None:
            self._fire_due(parent)

    def router_for(self, parent: ParentState) -> SmartOrderRouter | None:
        """The router that places the parent's children: None without smart routing, or when the parent
        names its position (it trades only that position's instrument)."""
        return self.router if parent.named_position is None else None

    # -- positions ---------------------------------------------------------------------------

    def position_id_for(self, parent: ParentState, instrument_id: InstrumentId) -> PositionId | None:
        """The position a child of `parent` on `instrument_id` books into (the rule in the module doc);
        None: the engine assigns it at the first fill (Nautilus's rule for spawned orders)."""
        if parent.named_position is not None or self.router is None:
            return parent.named_position or self.cache.position_id(parent.primary_id)
        strategy_id = self._strategy_id_of(parent)
        if self._oms_type(strategy_id, instrument_id.venue.value) == OmsType.HEDGING:
            return PositionId(f"{parent.primary_id.value}-{instrument_id.venue.value}")
        return PositionId(f"{instrument_id.value}-{strategy_id.value}")  # the engine's netting id

    def _strategy_id_of(self, parent: ParentState) -> StrategyId:
        primary = self.cache.order(parent.primary_id)
        if primary is None:  # pragma: no cover - a parent's primary stays in the cache
            raise ValidationError(f"invalid primary: {parent.primary_id} is not in the cache", field="primary_id", value=parent.primary_id.value)
        return primary.strategy_id

    def _oms_type(self, strategy_id: StrategyId, venue: str) -> OmsType:
        """The OMS type Nautilus's engine books a fill by: the strategy's override, else the venue's."""
        strategy = strategy_for(self.msgbus, self.id)
        if strategy is not None and strategy.id == strategy_id and strategy.oms_type != OmsType.UNSPECIFIED:
            return strategy.oms_type
        assert self.router is not None
        return OmsType.HEDGING if self.router.venue_config(venue).oms_type == "HEDGING" else OmsType.NETTING

    def restored_named_position(self, parent: ParentState) -> PositionId | None:
        """After a restart: the position the strategy named for the parent, told from the cache's index
        of its primary (with smart routing, a position other than the one this rule gives was named)."""
        indexed = self.cache.position_id(parent.primary_id)
        if indexed is None or self.router is None:
            return indexed
        return None if indexed == self.position_id_for(parent, parent.instrument_id) else indexed

    def _index_position(self, order: Order, position_id: PositionId | None) -> None:
        if position_id is not None and self.cache.position_id(order.client_order_id) is None:
            self.cache.add_position_id(position_id, order.instrument_id.venue, order.client_order_id, order.strategy_id)

    def _allocations(self, parent: ParentState, units: int, max_venues: int | None = None) -> list[tuple[InstrumentId, int, VenueAllocation | None]]:
        # A child partly filled on a venue of finer size precision returns units the primary's precision
        # cannot hold: the router is asked at the precision that holds them (each venue's lot still applies).
        router = self.router_for(parent)
        if router is None:
            return [(parent.instrument_id, units, None)]
        quantity = units_to_qty(units, precision_holding(units, parent.precision))
        venues = self._config.max_venues if max_venues is None else max_venues
        allocations = router.route_order(parent.instrument_id, parent.side, quantity, venues, parent.limit)
        return [(a.instrument_id, qty_to_units(a.quantity), a) for a in allocations]

    def _check_stale(self, parent: ParentState) -> None:
        if self.router is not None and self._config.stale_data_seconds is not None:
            self.router.check_stale_venues(parent.instrument_id, self.clock.timestamp_ns(), int(self._config.stale_data_seconds * NS_PER_SECOND))

    def _carry_sub_lot_rest(self, parent: ParentState, units: int) -> tuple[int, int | None]:
        """(units to route now, max_venues for them): before a timed parent's last slice, with smart routing,
        the router's `lot_rounding` may keep a sub-lot rest back rather than pay a fine-lot venue's fee for
        it; the rest joins the next slice (still pending, saved with that slice). (units, None) otherwise."""
        router = self.router_for(parent)
        if router is None or not self.timed_schedule or not parent.slices:
            return units, None
        quantity = units_to_qty(units, precision_holding(units, parent.precision))
        try:
            now, max_venues = router.lot_rounding(parent.instrument_id, parent.side, quantity, self._config.max_venues, parent.limit)
        except (RoutingError, ValidationError) as exc:
            self.log.debug(f"{parent.primary_id}: no lot rounding ({exc}); the slice is routed whole")
            return units, None
        now_units = qty_to_units(now) if now.raw else 0  # zero: the whole slice is carried
        carried = units - now_units
        if carried:
            ts, scheduled = parent.slices[0]
            parent.slices[0] = (ts, scheduled + carried)
            self.log.debug(f"{parent.primary_id}: {carried} units carried to the next slice (a sub-lot rest)")
        return now_units, max_venues

    def style_of(self, parent: ParentState) -> StyleParams:
        """The parent's execution style (its order's `exec_algorithm_params`, else the config's)."""
        if parent.style is None:
            config = self.order_config(parent.primary_id)
            parent.style = StyleParams(config.execution_style, config.catch_up_fraction, config.reprice_interval_s)
        return parent.style

    def _send_slice(self, parent: ParentState, units: int, taking: bool = False) -> None:
        """Sends `units` of the parent's pending quantity: rested (`resting.py`) when its execution style
        says so, else taken across the venues the router picks. `taking`: take, whatever the style."""
        if units <= 0:
            return
        self._check_stale(parent)  # once per slice: the carry decision and the routing see the same venues
        if not taking and self.resting.try_rest(parent, units, self.style_of(parent)):
            return
        units, max_venues = self._carry_sub_lot_rest(parent, units)
        if units <= 0:
            return
        try:
            pieces = self._allocations(parent, units, max_venues)
        except InsufficientLiquidityError as exc:
            # Take what the books show now (whole lots); the rest waits for the next slice.
            available = exc.available - exc.available % parent.lot_units
            if available <= 0 or available >= units:
                self.log.warning(f"{parent.primary_id}: slice of {parent.quantity_text(units)} not routed ({exc}); retried next slice")
                self._return_units(parent, units)
                return
            self._return_units(parent, units - available)
            try:
                pieces = self._allocations(parent, available)
            except (RoutingError, ValidationError) as again:
                self.log.warning(f"{parent.primary_id}: {parent.quantity_text(available)} not routed ({again}); retried next slice")
                self._return_units(parent, available)
                return
            units = available
        except (RoutingError, ValidationError) as exc:
            # Cannot be routed now (no data, no eligible venue): keep it for the next slice.
            self.log.warning(f"{parent.primary_id}: slice of {parent.quantity_text(units)} not routed ({exc}); retried next slice")
            self._return_units(parent, units)
            return
        primary = self.cache.order(parent.primary_id)
        last = not parent.slices and parent.pending == units
        refused = 0
        for instrument_id, piece, allocation in pieces:
            if not self._risk_allows(parent, instrument_id, piece, allocation.expected_price if allocation is not None else None):
                refused += piece
                continue
            parent.pending -= piece
            parent.working += piece
            use_primary = last and not parent.primary_sent and instrument_id == parent.instrument_id and primary is not None
            if use_primary:
                self._send_primary(primary, piece, allocation)
            else:
                self._send_child(parent, primary, instrument_id, piece, allocation=allocation)
                self._reduce_primary(primary, parent)
        if refused:
            # Not sent, not lost: back to the schedule (abandoned past max_retries, as any failure).
            self._return_units(parent, refused)
            self._reduce_primary(primary, parent)
        elif last and not parent.primary_sent and primary is not None and not primary.is_closed:
            self._close_primary_locally(primary, "fully distributed to child orders on other venues")
            parent.primary_sent = True

    # -- kill-switch ---------------------------------------------------------------------------

    def _risk_allows(self, parent: ParentState, instrument_id: InstrumentId, units: int, price: float | None) -> bool:
        """Checks the kill-switch before a child is sent; a refusal is logged, recorded and published."""
        if not self.risk.active:
            return True
        now = self.clock.timestamp_ns()
        venue = instrument_id.venue.value
        if price is None:
            price = self._reference_price(parent, instrument_id)
        notional = None if price is None else price * units / units_per_quantity()
        breach = self.risk.breach(venue, notional, len(parent.children), now)
        if breach is None:
            self.risk.record(venue, notional, now)
            return True
        limit, limit_value, current = breach
        event = KillSwitchTriggered(
            ts_ns=now, algorithm_id=self.id.value, primary_id=parent.primary_id.value, venue=venue,
            instrument_id=instrument_id.value, units=units, notional=notional, limit=limit, limit_value=limit_value,
            current_value=current, action="returned to the schedule",
        )
        self.risk_events.append(event)
        self.log.warning(
            f"kill-switch: {parent.primary_id} child of {units} units on {venue} refused: {limit} {limit_value:g} "
            f"(at {current:g}{'' if notional is None else f', child notional {notional:.2f}'}); returned to the schedule"
        )
        self.msgbus.publish(topic=RISK_TOPIC, msg=event)
        return False

    def _reference_price(self, parent: ParentState, instrument_id: InstrumentId) -> float | None:
        """The price a child's notional is counted at when the router gave none: the parent's limit,
        else the venue's mid (book, then quote)."""
        if parent.limit is not None:
            return float(parent.limit.as_double())
        book = self.cache.order_book(instrument_id)
        if book is not None and book.best_bid_price() is not None and book.best_ask_price() is not None:
            return float(book.best_bid_price().as_double() + book.best_ask_price().as_double()) / 2
        quote = self.cache.quote_tick(instrument_id)
        if quote is not None:
            return float(quote.bid_price.as_double() + quote.ask_price.as_double()) / 2
        return None

    def _child_order(
        self,
        parent: ParentState,
        primary: Order | None,
        instrument_id: InstrumentId,
        units: int,
        resting_price: float | None = None,
        post_only: bool = False,
    ) -> Order:
        """A child order: market IOC, or IOC limit at the parent's limit; or, with `resting_price`,
        a GTC limit order resting at that price (passive algorithms), `post_only` if asked."""
        if primary is None:  # pragma: no cover - a parent's primary stays in the cache
            raise ValidationError(f"invalid primary: {parent.primary_id} is not in the cache", field="primary_id", value=parent.primary_id.value)
        parent.sequence += 1
        client_order_id = ClientOrderId(f"{parent.primary_id.value}-E{parent.sequence}")
        instrument = self.cache.instrument(instrument_id)
        if instrument is None:
            raise ValidationError(f"invalid instrument_id: {instrument_id} is not in the cache", field="instrument_id", value=str(instrument_id))
        quantity = units_to_qty(units, instrument.size_precision)
        common = dict(
            trader_id=primary.trader_id,
            strategy_id=primary.strategy_id,
            instrument_id=instrument_id,
            client_order_id=client_order_id,
            order_side=parent.side,
            quantity=quantity,
            init_id=UUID4(),
            ts_init=self.clock.timestamp_ns(),
            exec_algorithm_id=self.id,
            exec_spawn_id=parent.primary_id,
            tags=[f"parent={parent.primary_id.value}"],
        )
        if resting_price is not None:
            return LimitOrder(price=round_price(instrument, instrument.make_price(resting_price)), time_in_force=TimeInForce.GTC,
                              post_only=post_only, **common)
        if parent.limit is None:
            return MarketOrder(time_in_force=TimeInForce.IOC, **common)
        # Marketable limit, IOC: what does not fill at the limit comes back to the schedule. On another
        # venue's tick the limit is rounded to the passive side, never through the trader's limit.
        price = bound_price(instrument, parent.limit, parent.side, "limit")
        return LimitOrder(price=price, time_in_force=TimeInForce.IOC, **common)

    def _send_child(
        self,
        parent: ParentState,
        primary: Order,
        instrument_id: InstrumentId,
        units: int,
        resting_price: float | None = None,
        allocation: VenueAllocation | None = None,
        post_only: bool = False,
    ) -> Order:
        order = self._child_order(parent, primary, instrument_id, units, resting_price, post_only)
        parent.children[order.client_order_id] = ChildState(order.client_order_id, instrument_id, units)
        self.ledger.link(order.client_order_id, parent.primary_id)
        self._track(order, allocation, parent.side)
        self._submit_spawned(order, self.position_id_for(parent, instrument_id))
        return order

    def _submit_spawned(self, order: Order, position_id: PositionId | None) -> None:
        """`ExecAlgorithm.submit_order`'s path for a spawned order (initialized event, cached, to the risk
        engine), indexed under `position_id` rather than the primary's position (see the module doc)."""
        client_id = self.cache.client_id(order.exec_spawn_id)
        self.msgbus.publish(topic=f"events.order.{order.strategy_id.value}", msg=order.init_event)
        self.cache.add_order(order, position_id, client_id)
        command = SubmitOrder(trader_id=self.trader_id, strategy_id=order.strategy_id, order=order, command_id=UUID4(),
                              ts_init=self.clock.timestamp_ns(), position_id=position_id, client_id=client_id)
        self.msgbus.send(endpoint="RiskEngine.execute", msg=command)

    def _track(self, order: Order, allocation: VenueAllocation | None, side: OrderSide) -> None:
        """Tells the router what it expected of `order`: before submitting, since Nautilus emits
        OrderSubmitted inside `submit_order` and the router times the venue's answer from it."""
        if allocation is not None and self.router is not None:
            self.router.track(order.client_order_id, allocation, side)

    def _send_primary(self, primary: Order, units: int, allocation: VenueAllocation | None = None) -> Order:
        parent = self.parents[primary.client_order_id]
        target = units_to_qty(units, parent.precision)
        if primary.quantity != target:
            self.modify_order_in_place(primary, quantity=target)
        parent.primary_sent = True
        parent.children[primary.client_order_id] = ChildState(primary.client_order_id, primary.instrument_id, units)
        self.ledger.link(primary.client_order_id, primary.client_order_id)
        self._track(primary, allocation, parent.side)
        self.submit_order(primary)
        return primary

    def _reduce_primary(self, primary: Order | None, parent: ParentState) -> None:
        """Keeps the unsent primary's quantity equal to what has not been sent yet."""
        if primary is None or parent.primary_sent or primary.is_closed or parent.pending <= 0:
            return
        step = 10 ** (UNIT_DECIMALS - parent.precision)  # pending finer than the primary's lot: shown rounded up
        target = units_to_qty(-(-parent.pending // step) * step, parent.precision)
        if primary.quantity != target:
            self.modify_order_in_place(primary, quantity=target)

    def _return_units(self, parent: ParentState, units: int) -> None:
        """Unsent or unfilled units go back to the schedule, or are abandoned past `max_retries`."""
        if parent.slices:
            parent.returned += units
            return
        if parent.retries >= self._config.max_retries:
            self.log.error(f"{parent.primary_id}: {parent.quantity_text(units)} abandoned after {parent.retries} retries")
            parent.pending -= units
            parent.abandoned += units
            self._close_unsent_primary(parent, f"{parent.quantity_text(units)} abandoned after {parent.retries} retries")
            return
        parent.retries += 1
        parent.slices.append((self.clock.timestamp_ns() + self.retry_delay_ns(), 0))
        parent.returned += units
        self._arm(parent)

    def retry_delay_ns(self) -> int:
        return RETRY_DELAY_NS

    # -- child events ------------------------------------------------------------------------

    def on_order_event(self, event: Any) -> None:
        if self.router is not None:
            self.router.on_order_event(event)
        if not isinstance(event, _BOOKED_EVENTS):
            return  # submitted, accepted, updated, ...: nothing to book (checked first: two of a child's three events)
        primary_id = self.ledger.parent_of(event.client_order_id)
        if primary_id is None:
            return
        parent = self.parents[primary_id]
        child = parent.children[event.client_order_id]
        if child.done:
            return
        if isinstance(event, OrderFilled):
            units = qty_to_units(event.last_qty, "last_qty")
            child.filled_units += units
            parent.working -= units
            parent.filled += units
            self.resting.on_fill(event.client_order_id, units, float(event.last_px), parent.side == OrderSide.BUY)
            if child.filled_units >= child.units:
                child.done = True
                self.resting.forget(event.client_order_id)
        else:  # rejected, canceled, expired or denied: what did not fill goes back to the schedule
            if event.client_order_id == primary_id and not parent.primary_sent:
                return  # our own local close of the unsent primary
            if isinstance(event, OrderCanceled) and self.resting.on_cancelled(parent, child):
                parent.check()  # our own re-price or cross: the rest is already re-sent
                return
            self.resting.forget(event.client_order_id)
            child.done = True
            unfilled = child.units - child.filled_units
            parent.working -= unfilled
            if not self.is_running or parent.adopted:
                # Stopped (nothing is sent again), or an adopted orphan (we never send for it): given up.
                parent.abandoned += unfilled
            else:
                parent.pending += unfilled
                self.log.warning(f"{event.client_order_id}: {type(event).__name__}, {parent.quantity_text(unfilled)} back to the schedule")
                self._return_units(parent, unfilled)
        parent.check()

    # -- reporting ---------------------------------------------------------------------------

    def parent_summary(self, primary_id: ClientOrderId) -> dict[str, int]:
        """The parent's bookkeeping; `at_risk` is the part of `working` open on a disconnected venue."""
        p = self.parents[primary_id]
        return {"requested": p.requested, "filled": p.filled, "working": p.working, "pending": p.pending, "abandoned": p.abandoned,
                "at_risk": self.at_risk(p)}

    def at_risk(self, parent: ParentState) -> int:
        """Units open in children on venues the router marks disconnected: they may fill or not."""
        if self.router is None:
            return 0
        down = set(self.router.disconnected_venues)
        if not down:
            return 0
        return sum(c.units - c.filled_units for c in parent.children.values() if not c.done and str(c.instrument_id.venue.value) in down)


def units_per_quantity() -> int:
    return int(10**UNIT_DECIMALS)


class EventDrivenExecAlgorithm(SmartExecAlgorithm):
    """Base of algorithms driven by events (the trade tape, fills) rather than the clock: the parent
    is registered with its whole quantity pending and no timed slice, then `on_parent` takes over."""

    timed_schedule = False

    def build_schedule(self, order: Order, units: int, lot_units: int) -> list[tuple[int, int]]:
        return [(2**62, units)]  # a far-off marker slice holding the quantity, removed in on_order

    def on_order(self, order: Order) -> None:
        super().on_order(order)
        parent = self.parents.get(order.client_order_id)
        if parent is None:
            return  # denied
        self.clock.cancel_timer(self._timer_name(parent))
        parent.slices.clear()
        self.ledger.plan(order.client_order_id, [])  # nothing timed to plan
        self.on_parent(order, parent)

    def on_parent(self, order: Order, parent: ParentState) -> None:
        raise NotImplementedError
