"""(Over 600 lines: one class, the reference's router API, every public method a decision or a feed of it;
its allocation, venue config, settings and state are the package's other modules.)

SmartOrderRouter: the reference API (`select_venue`, `route_order`, venue performance tracking)
over Nautilus types, with the Rust core doing the scoring and splitting.

    router = SmartOrderRouter(venues)                     # the reference's venue dicts
    venue = router.select_venue(instrument_id=..., side=OrderSide.BUY,
                                quantity=Quantity.from_str("1.0"), price=Price.from_str("50000.0"))
    allocations = router.route_order(instrument_id=..., side=OrderSide.BUY,
                                     total_quantity=Quantity.from_str("10.0"), max_venues=3)

With a Nautilus `cache`, each call reads the live per-venue order books (or quotes) first. Without
book data the router still decides, from fees, latency and the fill rate it has learned.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any, Callable, TypeVar

from nautilus_trader.model.data import OrderBookDeltas, TradeTick
from nautilus_trader.model.enums import AggressorSide, OrderSide
from nautilus_trader.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId, Venue
from nautilus_trader.model.objects import FIXED_PRECISION, Price, Quantity

from nautilus_sor._core import ROUTER_DEFAULTS, PassiveQuote, Router, RoutePlan, VenueQuote, VenueSpec, VenueStats
from nautilus_sor.book_sync import LadderSync
from nautilus_sor.exceptions import ConfigError, UnknownVenueError, ValidationError
from nautilus_sor.sides import core_side
from nautilus_sor.smart_router.allocation import VenueAllocation
from nautilus_sor.smart_router.settings import check_flag, check_horizon, check_int, check_max_venues
from nautilus_sor.smart_router.state import (
    RouterState,
    TrackedOrder,
    check_router_state,
    stats_fields,
    tracked_order,
    tracked_record,
    venue_stats_record,
)
from nautilus_sor.smart_router.venues import VenueConfig, parse_venues
from nautilus_sor.units import UNIT_DECIMALS, UNITS_PER_QTY, decimal_to_units, precision_holding, qty_to_units, units_to_qty

_log = logging.getLogger(__name__)

# Scores closer than this (bps) are a tie in `lot_rounding` (the evaluation simulator's tolerance).
SCORE_TOLERANCE_BPS = 1e-9

# Instruments whose per-venue terms the router remembers (cleared past this: it routes a handful).
_MAX_ROUTED_INSTRUMENTS = 256


class _RoutePlan:
    """Per routed instrument: the core's `RoutePlan` (each venue's instrument id and terms, the decision's
    preparation and the lean split), and the id/precision maps `route_order` reads, by venue name."""

    __slots__ = ("core", "names", "id_list", "ids", "precisions")

    def __init__(self, core: RoutePlan, names: list[str], ids: list[InstrumentId]) -> None:
        self.core = core
        self.names = names  # the router's venues, in its order (bit i of the core's masks: names[i])
        self.id_list = ids
        self.ids = dict(zip(names, ids))
        self.precisions: dict[str, int] = {}


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _serialised(method: _Method) -> _Method:
    """Runs a public method under the router's lock: a call from a second thread waits for the first
    (a routing decision sets the core's lots for the order's instrument and then splits; another
    thread's decision in between would split with the wrong lots). The hot methods (`route_order`,
    `route_quantities`, `on_order_book_deltas`) write the same `with self._lock:` out instead: this
    wrapper's generic call costs about 0.4 us, a tenth of a decision."""

    @functools.wraps(method)
    def locked(self: SmartOrderRouter, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return locked  # type: ignore[return-value]  # same signature: functools.wraps


class SmartOrderRouter:
    """Routes orders across venues at the lowest expected all-in cost, learning from order events.

    Safe to share between threads: every public method holds the router's lock (reentrant) for its
    duration, so concurrent callers are served one at a time, in full, never interleaved.
    """

    def __init__(
        self,
        venues: list[dict[str, Any]] | list[VenueConfig],
        cache: Any | None = None,
        clock: Any | None = None,
        *,
        volatility: float = ROUTER_DEFAULTS["volatility"],
        latency_risk_weight: float = ROUTER_DEFAULTS["latency_risk_weight"],
        miss_cost_bps: float = ROUTER_DEFAULTS["miss_cost_bps"],
        ewma_alpha: float = ROUTER_DEFAULTS["ewma_alpha"],
        slippage_weight: float = ROUTER_DEFAULTS["slippage_weight"],
        book_depth: int = 20,
        tape_tau_s: float = ROUTER_DEFAULTS["tape_tau_s"],
        passive_horizon_s: float = 5.0,
    ) -> None:
        self._lock = threading.RLock()
        self._venues = parse_venues(venues)
        self._by_name = {v.name: v for v in self._venues}
        specs = []
        for i, v in enumerate(self._venues):
            try:
                specs.append(VenueSpec(v.name, v.maker_fee, v.taker_fee, v.latency_ms, enabled=v.enabled))
            except ValidationError as exc:
                raise ConfigError(f"invalid venues[{i}].{exc.field}: {exc}", field=f"venues[{i}].{exc.field}", value=exc.value) from None
        self._core = Router(
            specs,
            volatility=volatility,
            latency_risk_weight=latency_risk_weight,
            miss_cost_bps=miss_cost_bps,
            ewma_alpha=ewma_alpha,
            slippage_weight=slippage_weight,
            tape_tau_s=tape_tau_s,
        )
        # How long a passive order is expected to rest before what is left is crossed (select_passive_venue).
        self.passive_horizon_s = check_horizon(passive_horizon_s, "passive_horizon_s")
        # Instruments whose trades feed the core's per-venue tape (watch_tape / on_trade_tick), and the
        # latest trade time seen (the decision time when the router has no clock).
        self._tape_venues: dict[InstrumentId, str] = {}
        for v in self._venues:
            if v.instrument_id is not None:
                self._tape_venues[InstrumentId.from_str(v.instrument_id)] = v.name
        self._last_trade_ns = 0
        self.cache = cache
        self.clock = clock
        # The core's ladders follow the cache lazily: reloaded per venue only when its book changed.
        self._books = LadderSync(self._core, book_depth)
        self._plans: dict[InstrumentId, _RoutePlan] = {}
        self._lots_for: _RoutePlan | None = None  # whose lots the core holds
        self._venue_ids: dict[str, Venue] = {}
        self._tracked: dict[ClientOrderId, TrackedOrder] = {}
        # Venue switches: the operator's (set_venue_enabled) and the feed's (set_venue_connected);
        # the core routes to a venue only when both allow it.
        self._operator_enabled: dict[str, bool] = {v.name: v.enabled for v in self._venues}
        self._disconnected: set[str] = set()
        self._stale: set[str] = set()  # disconnected by check_stale_venues (reconnected by it too)
        # Venues left out of the current taker decision: their book or quote shows nothing on the side it
        # takes while another venue's does (a market child there would be rejected "no market").
        self._empty_side: set[str] = set()
        self._empty_mask = 0  # the same as bits (bit i: self._venues[i]), as the core's RoutePlan reports it
        # What each routed order was expected to cost (kept for analysis after the order is done).
        self.expected_prices: dict[ClientOrderId, float | None] = {}
        # The most recent orders' expected prices kept (None: all, e.g. for a backtest's analysis).
        self.max_expected_prices: int | None = 100_000
        # One entry per venue per routing decision when `record_history` is on: what the router thought then.
        # `history_max_rows`: a bound; past it every other recorded decision is dropped and only every
        # second one is recorded from then on (evenly thinned, whatever the run's length). None: no bound.
        self.record_history = False
        # Venue events refused by the statistics' bounds (not learned from; see on_order_event).
        self.unlearned_events = 0
        self.history: list[dict[str, Any]] = []
        self.history_max_rows: int | None = None
        self._decisions = 0
        self._history_stride = 1

    # -- venues and instruments -------------------------------------------------------------

    @property
    def venues(self) -> list[VenueConfig]:
        return list(self._venues)

    @property
    def core(self) -> Router:
        """The Rust router (for batch calls and direct book updates)."""
        return self._core

    @property
    def book_depth(self) -> int:
        """Levels a side the router copies from a cache book at most."""
        return self._books.book_depth

    @book_depth.setter
    def book_depth(self, depth: int) -> None:
        self._books = LadderSync(self._core, depth)
        self._plans.clear()  # they read the previous feed's books
        self._lots_for = None

    @_serialised
    def invalidate_books(self, venue: str | Venue | None = None) -> None:
        """Makes the next decision reload a venue's book and lot (or every venue's) from the cache: call
        after changing the core directly (`core.set_book`, `core.set_lot`) while the router has a cache."""
        self._books.invalidate(None if venue is None else self.venue_config(venue).name)
        self._lots_for = None

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> bool:
        """Keeps the book of `deltas`' venue in the core from the deltas themselves, one call per batch
        (`book_sync.DeltaFeed`): decisions then read nothing from Nautilus for that venue. Hand it every
        batch of the venue from the first on (`MultiVenueStrategy.on_order_book_deltas` does). False when
        the instrument is no venue's of this router (ignored)."""
        if not isinstance(deltas, OrderBookDeltas):
            raise ValidationError(f"invalid deltas: {deltas!r} (must be a nautilus_trader OrderBookDeltas)", field="deltas", value=repr(deltas))
        with self._lock:  # `_serialised`, written out: the hot path (every batch) saves the wrapper's call
            feed = self._books.feed
            if feed.apply_held(deltas):
                return True
            iid = deltas.instrument_id
            name = self._tape_venues.get(iid)  # a venue's configured instrument
            if name is None:
                config = self._by_name.get(iid.venue.value)
                name = config.name if config is not None and config.instrument_id is None else None
            return name is not None and feed.apply(name, deltas, self.cache)

    def venue_config(self, venue: str | Venue) -> VenueConfig:
        name = venue.value if isinstance(venue, Venue) else venue
        if not isinstance(name, str):
            raise ValidationError(f"invalid venue: {venue!r} (must be a venue name or a Venue)", field="venue", value=repr(venue))
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownVenueError(f"unknown venue: venue={name}", field="venue", value=name) from None

    def venue_instrument_id(self, instrument_id: InstrumentId, venue: str | Venue) -> InstrumentId:
        """The instrument of `instrument_id`'s asset on `venue`: explicit in the config, else the
        same symbol with the venue's suffix."""
        config = self.venue_config(venue)
        if config.instrument_id is not None:
            return InstrumentId.from_str(config.instrument_id)
        return InstrumentId(instrument_id.symbol, Venue(config.name))

    @_serialised
    def set_venue_enabled(self, venue: str | Venue, enabled: bool) -> None:
        """The operator's switch: a disabled venue gets no new flow until enabled again."""
        name = self.venue_config(venue).name
        self._operator_enabled[name] = check_flag(enabled, "enabled")
        self._apply_enabled(name)

    # -- venue connectivity (live) -----------------------------------------------------------

    @_serialised
    def set_venue_connected(self, venue: str | Venue, connected: bool) -> None:
        """Feed of the venue's connection: a disconnected venue gets no new flow (its open orders are
        at risk, see `SmartExecAlgorithm.parent_summary`); flow resumes when it reconnects. Call it from
        the adapter's disconnect/reconnect, or let `check_stale_venues` call it from data staleness."""
        name = self.venue_config(venue).name
        if check_flag(connected, "connected"):
            self._disconnected.discard(name)
        else:
            self._disconnected.add(name)
        self._apply_enabled(name)

    def is_venue_connected(self, venue: str | Venue) -> bool:
        return self.venue_config(venue).name not in self._disconnected

    @property
    def disconnected_venues(self) -> list[str]:
        return [v.name for v in self._venues if v.name in self._disconnected]

    def _apply_enabled(self, name: str) -> None:
        self._core.set_enabled(name, self._routable(name) and name not in self._empty_side)

    def _routable(self, name: str) -> bool:
        """The operator's and the feed's switches allow it (`_empty_side` aside)."""
        return self._operator_enabled.get(name, True) and name not in self._disconnected

    def _skip_empty_sides(self, plan: _RoutePlan, side: int, empty_mask: int | None) -> None:
        """Book mode respects the book: when some venue's book or quote shows levels on the side a taker
        decision takes, a venue whose book or quote shows none there gets nothing (it would reject the
        child: "no market"). A venue without any book or quote (a bar venue) is priced as before; so are all
        venues when none shows the side (no-book mode). `side` 0 (a passive decision) leaves none out.
        `empty_mask`: those venues as the core's plan found them (every book kept from deltas), else None."""
        if empty_mask is None:
            empty = set(self._books.empty_taking_sides(plan.names, side)) if side else set()
            empty_mask = sum(1 << i for i, name in enumerate(plan.names) if name in empty)
        elif empty_mask == self._empty_mask:
            return
        else:
            empty = {name for i, name in enumerate(plan.names) if empty_mask >> i & 1}
        if empty == self._empty_side:
            return
        changed = empty ^ self._empty_side
        self._empty_side, self._empty_mask = empty, empty_mask
        for name in changed:
            self._apply_enabled(name)

    @_serialised
    def check_stale_venues(self, instrument_id: InstrumentId, now_ns: int, stale_ns: int) -> list[str]:
        """Marks a venue disconnected when its book/quote for `instrument_id`'s asset has not updated
        for `stale_ns` (a live feed that went quiet), and connected again once it updates. Only
        venues this check disconnected are reconnected by it. Returns the venues now stale."""
        if not isinstance(instrument_id, InstrumentId):
            raise ValidationError(f"invalid instrument_id: {instrument_id!r} (must be a nautilus_trader InstrumentId)",
                                  field="instrument_id", value=repr(instrument_id))
        check_int(now_ns, "now_ns")
        if check_int(stale_ns, "stale_ns") <= 0:
            raise ValidationError(f"invalid stale_ns: {stale_ns} (must be > 0)", field="stale_ns", value=repr(stale_ns))
        if self.cache is None:
            return []
        stale = []
        for v in self._venues:
            vid = self.venue_instrument_id(instrument_id, v.name)
            last = self._last_update_ns(vid)
            is_stale = last is None or now_ns - last > stale_ns
            if is_stale:
                stale.append(v.name)
                if v.name not in self._disconnected:
                    self._stale.add(v.name)
                    self.set_venue_connected(v.name, False)
            elif v.name in self._stale:
                self._stale.discard(v.name)
                self.set_venue_connected(v.name, True)
        return stale

    def _last_update_ns(self, instrument_id: InstrumentId) -> int | None:
        assert self.cache is not None  # check_stale_venues returns first without one
        book = self.cache.order_book(instrument_id)
        times = [book.ts_last] if book is not None and book.update_count > 0 else []
        quote = self.cache.quote_tick(instrument_id)
        if quote is not None:
            times.append(quote.ts_init)
        return max(times) if times else None

    # -- routing -----------------------------------------------------------------------------

    def _prepare(self, instrument_id: InstrumentId, quantity: Quantity, field: str, side: int = 0,
                 taking: int | None = None) -> tuple[int, dict[str, InstrumentId], dict[str, int]]:
        """`_prepare_plan`'s decision setup. Returns (units, venue -> venue instrument id, venue -> size
        precision); the dicts are shared: read only."""
        units, plan = self._prepare_plan(instrument_id, quantity, field, side, taking)
        return units, plan.ids, plan.precisions

    def _prepare_plan(self, instrument_id: InstrumentId, quantity: Quantity, field: str, side: int = 0,
                      taking: int | None = None) -> tuple[int, _RoutePlan]:
        """Checks arguments, sets each venue's lot and book for this instrument (only what changed), and
        leaves out of the decision the venues with nothing on the side it takes (`_skip_empty_sides`;
        `taking`: that side, default `side`; 0 for a passive decision). One call into the core's plan when
        every venue's book is kept from deltas; the venues whose book is read from the cache are loaded here.

        Returns (units, the instrument's plan)."""
        if not isinstance(instrument_id, InstrumentId):
            raise ValidationError(
                f"invalid instrument_id: {instrument_id!r} (must be a nautilus_trader InstrumentId)",
                field="instrument_id",
                value=repr(instrument_id),
            )
        units = qty_to_units(quantity, field)
        taking = side if taking is None else taking
        plan = self._plans.get(instrument_id)
        if plan is None:
            plan = self._new_plan(instrument_id)
        cache = self.cache
        lots_set, to_load, empty_mask = plan.core.prepare(cache, quantity.precision, plan is not self._lots_for, taking)
        if lots_set:
            plan.precisions.update(zip(plan.names, plan.core.precisions))
            self._lots_for = plan
        if to_load:
            instruments = plan.core.instruments
            for i in to_load:
                self._books.load(cache, plan.names[i], plan.id_list[i], instruments[i], side, units)
        self._skip_empty_sides(plan, taking, empty_mask)
        return units, plan

    def _new_plan(self, instrument_id: InstrumentId) -> _RoutePlan:
        if len(self._plans) >= _MAX_ROUTED_INSTRUMENTS:
            self._plans.clear()  # bounded: a router routes a handful of assets
        names = [v.name for v in self._venues]
        ids = [self.venue_instrument_id(instrument_id, name) for name in names]
        feed = self._books.feed
        core = RoutePlan(self._core, names, ids, self._venue_terms, feed.instrument, feed.displaced, feed.sides, Quantity.from_raw,
                         units_to_qty, 10 ** (FIXED_PRECISION - UNIT_DECIMALS), (OrderSide, Quantity, Price))
        plan = self._plans[instrument_id] = _RoutePlan(core, names, ids)
        return plan

    def _venue_terms(self, index: int, instrument: Any, quantity_precision: int) -> tuple[int, int, int]:
        """(size precision, lot, minimum) in units of venue `index` for a routed instrument: the venue
        config's lot and minimum where set, else the cache instrument's; without an instrument in the cache,
        the quantity's precision and no minimum. The core's plan calls it when the cache's instrument changes."""
        v = self._venues[index]
        if instrument is None:
            precision, lot, minimum = quantity_precision, 10 ** (UNIT_DECIMALS - quantity_precision), 0
        else:
            precision, lot = instrument.size_precision, qty_to_units(instrument.size_increment, "size_increment")
            minimum = qty_to_units(instrument.min_quantity, "min_quantity") if instrument.min_quantity else 0
        if v.lot_size is not None:
            lot = decimal_to_units(v.lot_size, f"venues[{v.name}].lot_size")
        if v.min_quantity is not None:
            minimum = decimal_to_units(v.min_quantity, f"venues[{v.name}].min_quantity")
        return precision, max(lot, 1), minimum

    def _allocation(self, q: VenueQuote, instrument_id: InstrumentId, quantity: Quantity, how: str) -> VenueAllocation:
        """The allocation of a core quote (`quantity`: its units at the venue's precision)."""
        name = q.venue
        venue = self._venue_ids.get(name)
        if venue is None:
            venue = self._venue_ids[name] = Venue(name)
        if q.expected_price is None:
            # No price: the core prices the venue against 1.0, so its amounts per unit are fractions of notional.
            relative = (q.fee / q.qty * 1e4, q.latency_cost / q.qty * 1e4, q.miss_cost / q.qty * 1e4)
            return VenueAllocation(venue, instrument_id, quantity, None, None, None, None, q.score_bps, q.fill_probability, how=how,
                                   fee_rate=self._by_name[name].taker_fee, relative_bps=relative)
        # The core's amounts are per unit (1e-9 of a quantity): scale them to quote currency.
        return VenueAllocation(venue, instrument_id, quantity, q.expected_price, q.fee / UNITS_PER_QTY, q.latency_cost / UNITS_PER_QTY,
                               q.miss_cost / UNITS_PER_QTY, q.score_bps, q.fill_probability, how=how,
                               fee_rate=self._by_name[name].taker_fee)  # the core's taker scoring charges exactly this

    @staticmethod
    def _limit(price: Price | None) -> float | None:
        if price is None:
            return None
        if not isinstance(price, Price):
            raise ValidationError(f"invalid price: {price!r} (must be a nautilus_trader Price or None)", field="price", value=repr(price))
        value = price.as_double()
        if not value > 0:
            raise ValidationError(f"invalid price: {price} (a limit price must be greater than zero)", field="price", value=str(price))
        return float(value)

    @_serialised
    def select_venue(self, instrument_id: InstrumentId, side: OrderSide, quantity: Quantity, price: Price | None = None) -> VenueAllocation:
        """The single venue with the lowest expected all-in cost for the whole `quantity`."""
        side_code = core_side(side)
        limit = self._limit(price)
        units, ids, precisions = self._prepare(instrument_id, quantity, "quantity", side_code)
        best = self._core.select_venue(side_code, units, limit).best
        allocation = self._allocation(best, ids[best.venue], units_to_qty(best.qty, precisions[best.venue]), "lowest all-in cost")
        if self.record_history:
            self._record([allocation])
        return allocation

    def route_order(self, instrument_id: InstrumentId, side: OrderSide, total_quantity: Quantity, max_venues: int = 3,
                    price: Price | None = None) -> list[VenueAllocation]:
        """Splits `total_quantity` across at most `max_venues` venues; quantities sum exactly."""
        with self._lock:  # `_serialised`, written out on the hot path (the wrapper's call costs ~0.4 us)
            allocations = [self._allocation(q, venue_id, quantity, "marginal-cost split")
                           for q, venue_id, quantity in self._split_items(instrument_id, side, total_quantity, max_venues, price, quotes=True)]
            if self.record_history:
                self._record(allocations)
            return allocations

    @_serialised
    def split_score_bps(self, instrument_id: InstrumentId, side: OrderSide, total_quantity: Quantity, max_venues: int = 3,
                        price: Price | None = None) -> float:
        """What taking `total_quantity` now is expected to cost: `route_order`'s split (same books, checks
        and errors) as its all-in cost per unit against the reference price, in bps, without building
        allocations or recording history (an estimate, not a decision: the adaptive style weighs it)."""
        side_code, units, _, limit = self._split_request(instrument_id, side, total_quantity, max_venues, price)
        return float(self._core.split(side_code, units, max_venues, limit).score_bps)

    def _split_request(self, instrument_id: InstrumentId, side: OrderSide, total_quantity: Quantity, max_venues: int,
                       price: Price | None) -> tuple[int, int, _RoutePlan, float | None]:
        """The checked arguments of a split: (side code, units, the instrument's plan, limit)."""
        side_code = core_side(side)
        limit = self._limit(price)
        check_max_venues(max_venues)
        units, plan = self._prepare_plan(instrument_id, total_quantity, "total_quantity", side_code)
        return side_code, units, plan, limit

    def _split_items(self, instrument_id: InstrumentId, side: OrderSide, total_quantity: Quantity, max_venues: int, price: Price | None,
                     quotes: bool = False) -> list[Any]:
        """The core split's items (`RoutePlan.split`), under the lock. A steady decision (arguments of the
        exact types, the plan's lots in the core, every book kept from deltas, the same venues left out
        for an empty side) is one core call; anything else takes the checked path, which raises an
        argument's error or prepares the plan first."""
        plan = self._plans.get(instrument_id) if instrument_id.__class__ is InstrumentId else None
        if plan is not None and plan is self._lots_for:
            items: list[Any] | None = plan.core.steady_split(side, total_quantity, max_venues, price, self.cache, self._empty_mask, quotes)
            if items is not None:
                return items
        side_code, units, plan, limit = self._split_request(instrument_id, side, total_quantity, max_venues, price)
        return plan.core.split(side_code, units, max_venues, limit, quotes=quotes)

    def route_quantities(self, instrument_id: InstrumentId, side: OrderSide, total_quantity: Quantity, max_venues: int = 3,
                         price: Price | None = None) -> list[tuple[InstrumentId, Quantity]]:
        """`route_order`'s split as plain (venue instrument id, quantity) pairs, for a hot loop.

        The same decision as `route_order` (same books, same checks, same errors), without building a
        `VenueAllocation` (costs, scores, reason) per venue and without `record_history`: about half the
        cost of a decision when one venue's book changed. Send the pairs as they are, or call `route_order`
        when the costs are wanted."""
        with self._lock:  # `_serialised`, written out on the hot path
            return self._split_items(instrument_id, side, total_quantity, max_venues, price)

    @_serialised
    def lot_rounding(self, instrument_id: InstrumentId, side: OrderSide, quantity: Quantity, max_venues: int = 3,
                     price: Price | None = None) -> tuple[Quantity, int]:
        """How much of a slice that is not a parent's last to route now, and over at most how many venues:
        (quantity to route now, max_venues to use); the rest is for the caller to carry to a later slice.

        When venues' lots do not divide one another, routing every slice exactly hands each slice's odd
        rest to the fine-lot venue at its fee (docs/evaluation.md). Of the exact quantity and its roundings
        down to each venue's lot, over at most 1..`max_venues` venues, the one with the lowest expected
        cost per unit (the core split's `score_bps`, on the current books) goes now. A rest no coarser lot
        can take (smaller than the coarsest lot) is carried when routing it now costs more per unit than a
        whole lot of the cheapest venue; a rest that is not is routed now as well (then the quantity goes
        whole). One rule, in the core (`Router.lot_rounding`), which `evaluate`'s simulator calls too.

        With one lot size among the routable venues nothing is rounded: (`quantity`, `max_venues`). A
        quantity no candidate can be priced for (no data, too little liquidity) is returned whole, for
        `route_order` to say why. Same checks and books as `route_order`; no `record_history`."""
        side_code = core_side(side)
        limit = self._limit(price)
        check_max_venues(max_venues)
        units, plan = self._prepare_plan(instrument_id, quantity, "quantity", side_code)
        # The core holds this plan's lots now.
        lots = sorted({spec.lot_size for spec in self._core.venues if self._routable(spec.name) and spec.name not in self._empty_side})
        if len(lots) < 2 or units <= 0:
            return quantity, max_venues
        if self.cache is not None and lots[-1] > units:
            # A whole coarse lot is priced too: the ladders must be deep enough for it.
            for name, iid, instrument in zip(plan.names, plan.id_list, plan.core.instruments):
                self._books.load(self.cache, name, iid, instrument, side_code, lots[-1])
        now, count = self._core.lot_rounding(side_code, units, max_venues, limit)
        if now == units:
            return quantity, count
        if now == 0:
            return units_to_qty(0, quantity.precision), count
        # a venue's lot may be finer than the quantity's precision
        return units_to_qty(now, precision_holding(now, quantity.precision)), count

    # -- the trade tape and passive (resting) selection ------------------------------------------

    @_serialised
    def watch_tape(self, instrument_id: InstrumentId) -> list[InstrumentId]:
        """Makes the trades of `instrument_id`'s asset on every venue (its venue instruments) feed the
        tape behind `select_passive_venue`; returns those instruments, to subscribe to their trades.

        The core keeps one tape per venue: a router watching several assets on one venue sums their
        trades, so passive routing of several assets wants one router per asset."""
        if not isinstance(instrument_id, InstrumentId):
            raise ValidationError(f"invalid instrument_id: {instrument_id!r} (must be a nautilus_trader InstrumentId)",
                                  field="instrument_id", value=repr(instrument_id))
        ids = [self.venue_instrument_id(instrument_id, v.name) for v in self._venues]
        for v, iid in zip(self._venues, ids):
            self._tape_venues[iid] = v.name
        return ids

    @property
    def tape_instruments(self) -> list[InstrumentId]:
        """The instruments whose trades `on_trade_tick` records (the others are ignored)."""
        return list(self._tape_venues)

    @_serialised
    def on_trade_tick(self, trade: Any) -> None:
        """Records a `TradeTick` on its venue's tape, if its instrument is watched (else ignored).

        A trade without aggressor (`NO_AGGRESSOR`) is classified by the quote rule on the venue's book
        (or quote) in the cache: at or below the bid a seller, at or above the ask a buyer; inside the
        spread, or with no book or quote, it is not recorded (it cannot be attributed to a side).
        Stamped with `ts_init`, the clock decisions are made on."""
        if not isinstance(trade, TradeTick):
            raise ValidationError(f"invalid trade: {trade!r} (must be a nautilus_trader TradeTick)", field="trade", value=repr(trade))
        name = self._tape_venues.get(trade.instrument_id)
        if name is None:
            return
        aggressor = trade.aggressor_side
        if aggressor == AggressorSide.NO_AGGRESSOR:
            aggressor = self._quote_rule(trade)
            if aggressor is None:
                return
        units = qty_to_units(trade.size, "size")
        if units <= 0:
            return
        ts = trade.ts_init
        self._core.record_trade(name, int(aggressor), units, ts)
        if ts > self._last_trade_ns:
            self._last_trade_ns = ts

    def _quote_rule(self, trade: Any) -> AggressorSide | None:
        if self.cache is None:
            return None
        book = self.cache.order_book(trade.instrument_id)
        bid = ask = None
        if book is not None and book.update_count > 0:
            bid, ask = book.best_bid_price(), book.best_ask_price()
        else:
            quote = self.cache.quote_tick(trade.instrument_id)
            if quote is not None:
                bid, ask = quote.bid_price, quote.ask_price
        price = trade.price
        if bid is not None and price <= bid:
            return AggressorSide.SELLER
        if ask is not None and price >= ask:
            return AggressorSide.BUYER
        return None

    @_serialised
    def reference_price(self, side: OrderSide) -> float | None:
        """The price the scores of a decision on the books the router holds now are measured against
        (`score_bps` of every allocation, taker or passive): the consolidated mid of the enabled venues,
        else the touch a `side` order takes; None without either. Read it right after the decision whose
        scores it explains (the books move with every batch)."""
        return self._core.reference_price(core_side(side))

    @_serialised
    def select_passive_venue(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Quantity,
        horizon_s: float | None = None,
        *,
        now_ns: int | None = None,
    ) -> VenueAllocation:
        """The venue where `quantity` resting at our touch (best bid to buy, best ask to sell) for about
        `horizon_s` (default `passive_horizon_s`), then crossing what has not filled, is expected to cost
        least: the core's `select_passive`, with the fill probability from each venue's recent tape.

        `expected_price` is the touch to join; `fill_probability` the chance it fills within the horizon;
        `fee` the expected fee (maker if filled, taker if crossed), `miss_cost` the expected cost of
        crossing the spread with what does not fill, both in quote currency; `score_bps` is versus the
        reference price, as a taker allocation's (`reference_price`: the consolidated mid), so a venue
        whose mid stands above the others' costs a buyer that basis, and the score compares with
        `split_score_bps`. Needs a two-sided book or quote on some venue (NoEligibleVenueError otherwise)."""
        side_code = core_side(side)
        horizon = self.passive_horizon_s if horizon_s is None else check_horizon(horizon_s, "horizon_s")
        if now_ns is None:
            now_ns = self.clock.timestamp_ns() if self.clock is not None else self._last_trade_ns
        units, ids, precisions = self._prepare(instrument_id, quantity, "quantity", side_code, taking=0)
        selection = self._core.select_passive(side_code, units, horizon, now_ns)
        allocation = self._passive_allocation(selection.best, ids, precisions)
        if self.record_history:
            self._record([allocation])
        return allocation

    def _passive_allocation(self, q: PassiveQuote, ids: dict[str, InstrumentId], precisions: dict[str, int]) -> VenueAllocation:
        name = q.venue
        venue = self._venue_ids.get(name)
        if venue is None:
            venue = self._venue_ids[name] = Venue(name)
        quantity = units_to_qty(q.qty, precisions[name])
        size = q.qty / UNITS_PER_QTY
        p = q.fill_probability
        fee = q.fee_bps * 1e-4 * q.expected_price * size
        latency = q.latency_bps * 1e-4 * q.mid * size
        miss = (1.0 - p) * 2.0 * q.half_spread_bps * 1e-4 * q.mid * size
        how = f"rest at the touch ({q.queue_ahead / UNITS_PER_QTY:g} ahead, {q.rate_against / UNITS_PER_QTY:.4g}/s traded against us), cross the rest"
        return VenueAllocation(venue, ids[name], quantity, q.expected_price, fee, latency, miss, q.score_bps, p, how=how,
                               fee_rate=q.fee_bps * 1e-4)

    def _record(self, allocations: list[VenueAllocation]) -> None:
        decision = self._decisions
        self._decisions += 1
        if decision % self._history_stride:
            return
        ts = self.clock.timestamp_ns() if self.clock is not None else 0
        scores = {a.venue.value: a.score_bps for a in allocations}
        for stats in self.venue_stats():
            self.history.append(
                {
                    "decision": decision,
                    "ts": ts,
                    "venue": stats.venue,
                    "score_bps": scores.get(stats.venue, float("nan")),
                    "fill_probability": stats.fill_probability,
                    "latency_mean_ms": stats.latency_mean_ms,
                    "slippage_bps": stats.slippage_bps,
                }
            )
        if self.history_max_rows is not None and len(self.history) > self.history_max_rows:
            self._history_stride *= 2
            self.history = [row for row in self.history if row["decision"] % self._history_stride == 0]

    # -- venue performance tracking ----------------------------------------------------------

    @_serialised
    def track(self, client_order_id: ClientOrderId, allocation: VenueAllocation, side: OrderSide) -> None:
        """Remembers what we expected of an order sent on an allocation, to learn from its events."""
        if not isinstance(client_order_id, ClientOrderId):
            raise ValidationError(f"invalid client_order_id: {client_order_id!r} (must be a nautilus_trader ClientOrderId)",
                                  field="client_order_id", value=repr(client_order_id))
        if not isinstance(allocation, VenueAllocation):
            raise ValidationError(f"invalid allocation: {allocation!r} (must be a VenueAllocation from this router)",
                                  field="allocation", value=repr(allocation))
        core_side(side)
        expected = self.expected_prices
        expected[client_order_id] = allocation.expected_price
        if self.max_expected_prices is not None and len(expected) > self.max_expected_prices:
            del expected[next(iter(expected))]  # bounded memory in a long live run: the oldest goes
        self._tracked[client_order_id] = TrackedOrder(
            venue=allocation.venue.value,
            side=side,
            expected_price=allocation.expected_price,
            ordered_units=qty_to_units(allocation.quantity),
        )

    @_serialised
    def on_order_event(self, event: Any) -> None:
        """Feeds an order event to the venue statistics (call from a strategy's `on_order_event`).

        A venue's event the statistics cannot learn from (an ack after more than an hour, a fill more
        than 100% from the price expected: `limits.rs`) is not learned, counted in `unlearned_events`
        and logged at WARNING; the order's bookkeeping goes on."""
        if not isinstance(event, OrderEvent):
            raise ValidationError(f"invalid event: {event!r} (must be a nautilus_trader order event)", field="event", value=repr(event))
        tracked = self._tracked.get(event.client_order_id)
        venue = tracked.venue if tracked is not None else event.instrument_id.venue.value
        if venue not in self._by_name:
            return
        if isinstance(event, OrderSubmitted):
            if tracked is not None:
                tracked.ts_submitted = event.ts_event
            return
        if tracked is not None and tracked.ts_submitted is not None and not tracked.acked and isinstance(event, (OrderAccepted, OrderFilled, OrderRejected)):
            # The venue's first answer (an IOC market order may be filled without an accept) times the round trip.
            tracked.acked = True
            self._learn(self._core.record_ack, venue, max(event.ts_event - tracked.ts_submitted, 0) / 1e6)
        if isinstance(event, (OrderRejected, OrderDenied)):
            self._core.record_reject(venue)
            self._tracked.pop(event.client_order_id, None)
        elif isinstance(event, OrderFilled):
            if tracked is None:
                return
            if tracked.expected_price is not None:
                self._learn(self._core.record_fill, venue, int(tracked.side), tracked.expected_price, event.last_px.as_double())
            tracked.filled_units += qty_to_units(event.last_qty, "last_qty")
            if tracked.filled_units >= tracked.ordered_units:
                self._core.record_order_done(venue, tracked.ordered_units, tracked.ordered_units)
                del self._tracked[event.client_order_id]
        elif isinstance(event, (OrderCanceled, OrderExpired)):
            if tracked is not None:
                self._core.record_order_done(venue, min(tracked.filled_units, tracked.ordered_units), tracked.ordered_units)
                del self._tracked[event.client_order_id]

    def _learn(self, record: Any, venue: str, *args: Any) -> None:
        try:
            record(venue, *args)
        except ValidationError as exc:
            self.unlearned_events += 1
            _log.warning("venue %s: event not learned from (%s)", venue, exc)

    @_serialised
    def venue_stats(self) -> list[VenueStats]:
        """What the router has learned of each venue, one row per venue (see `venue_stats_frame`)."""
        return [self._core.venue_stats(v.name) for v in self._venues]

    def venue_stats_frame(self) -> Any:  # a pandas.DataFrame (pandas is imported only here)
        import pandas as pd

        fields = ["fill_rate", "reject_rate", "fill_probability", "latency_mean_ms", "latency_tail_ms", "slippage_bps", "orders", "fills", "rejects", "acks"]
        rows = {s.venue: {f: getattr(s, f) for f in fields} for s in self.venue_stats()}
        return pd.DataFrame.from_dict(rows, orient="index")

    # -- state (restart) ---------------------------------------------------------------------

    @_serialised
    def save_state(self) -> RouterState:
        """What the router has learned and still expects, for a restart: each venue's statistics
        (exactly, with the raw latency variance), the orders it is still learning from, and the
        venues the feed marked disconnected."""
        return RouterState(
            venues=[venue_stats_record(stats) for stats in self.venue_stats()],
            tracked=[tracked_record(cid.value, t) for cid, t in self._tracked.items()],
            disconnected=sorted(self._disconnected),
        )

    @_serialised
    def load_state(self, state: RouterState) -> None:
        """Puts a `save_state()` back. Checked first (venue names, values), then applied whole."""
        check_router_state(state, [v.name for v in self._venues])
        for record in state.venues:
            self._core.restore_venue_stats(record.venue, **stats_fields(record))
        for t in state.tracked:
            client_order_id = ClientOrderId(t.client_order_id)
            self._tracked[client_order_id] = tracked_order(t)
            self.expected_prices[client_order_id] = t.expected_price
        self._disconnected = set(state.disconnected)
        for v in self._venues:
            self._apply_enabled(v.name)
