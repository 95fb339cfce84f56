"""SmartOrderRouter: the reference API (`select_venue`, `route_order`, venue performance tracking)
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

import dataclasses
import functools
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

import msgspec
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide, OrderSide
from nautilus_trader.model.events import (
    OrderAccepted,
    OrderEvent,
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId, Venue
from nautilus_trader.model.objects import Price, Quantity

from nautilus_sor._core import PassiveQuote, Router, VenueQuote, VenueSpec, VenueStats
from nautilus_sor.book_sync import LadderSync
from nautilus_sor.exceptions import ConfigError, RoutingError, ValidationError
from nautilus_sor.units import UNIT_DECIMALS, UNITS_PER_QTY, decimal_to_units, precision_holding, qty_to_units, units_to_qty


_log = logging.getLogger(__name__)


class VenueConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One venue as the reference's config gives it, plus optional per-venue details."""

    name: str
    maker_fee: float
    taker_fee: float
    latency_ms: float = 0.0
    # The venue's instrument for the routed asset; default: the routed symbol on this venue.
    instrument_id: str | None = None
    # Lot size and minimum order in instrument quantity; default: from the instrument in the cache.
    lot_size: float | str | None = None
    min_quantity: float | str | None = None
    enabled: bool = True
    oms_type: str = "NETTING"


def msgspec_error_path(message: str) -> str:
    """The JSON path a msgspec validation message points at, as `.field` / `[i]` text."""
    at = re.search(r"at `\$([^`]*)`", message)
    base = at.group(1) if at else ""
    named = re.search(r"field `([^`]+)`", message)  # a missing or unknown field, inside `base`
    return f"{base}.{named.group(1)}" if named else base


def parse_venues(venues: list[Any], field: str = "venues") -> list[VenueConfig]:
    """Validates the reference's venue dicts (or `VenueConfig`s); errors name the entry and field."""
    if not isinstance(venues, (list, tuple)) or not venues:
        raise ConfigError(f"invalid {field}: {venues!r} (a non-empty list of venues is required)", field=field, value=repr(venues))
    parsed: list[VenueConfig] = []
    for i, raw in enumerate(venues):
        try:
            v = raw if isinstance(raw, VenueConfig) else msgspec.convert(raw, VenueConfig)
        except msgspec.ValidationError as exc:
            # msgspec says e.g. "Expected `float`, got `str` - at `$.taker_fee`"
            message = str(exc)
            path = msgspec_error_path(message)
            raise ConfigError(f"invalid {field}[{i}]{path}: {message}", field=f"{field}[{i}]{path}", value=repr(raw)) from None
        if v.oms_type not in ("NETTING", "HEDGING"):
            raise ConfigError(
                f"invalid {field}[{i}].oms_type: {v.oms_type!r} (must be NETTING or HEDGING)",
                field=f"{field}[{i}].oms_type",
                value=v.oms_type,
            )
        try:
            # The core checks every term, the name as Nautilus's `Venue` does (`check_venue_name` in venue.rs).
            VenueSpec(v.name, v.maker_fee, v.taker_fee, v.latency_ms, enabled=v.enabled)
        except ValidationError as exc:
            raise ConfigError(f"invalid {field}[{i}].{exc.field}: {exc}", field=f"{field}[{i}].{exc.field}", value=exc.value) from None
        if v.instrument_id is not None:
            try:
                InstrumentId.from_str(v.instrument_id)
            except ValueError as exc:
                raise ConfigError(f"invalid {field}[{i}].instrument_id: {v.instrument_id!r} (SYMBOL.VENUE as Nautilus parses it: {exc})",
                                  field=f"{field}[{i}].instrument_id", value=repr(v.instrument_id)) from None
        for name in ("lot_size", "min_quantity"):
            value = getattr(v, name)
            if value is None:
                continue
            try:
                units = decimal_to_units(value, f"{field}[{i}].{name}")
            except ValidationError as exc:
                raise ConfigError(str(exc), field=exc.field, value=exc.value) from None
            if name == "lot_size" and units == 0:
                raise ConfigError(f"invalid {field}[{i}].lot_size: {value!r} (must be > 0)", field=f"{field}[{i}].lot_size", value=repr(value))
        if any(p.name == v.name for p in parsed):
            raise ConfigError(f"invalid {field}[{i}].name: {v.name!r} (duplicate venue)", field=f"{field}[{i}].name", value=v.name)
        parsed.append(v)
    return parsed


def check_venue_name(name: Any, field: str) -> None:
    """A venue name as Nautilus's `Venue` accepts it (the core's rule, `check_venue_name` in venue.rs): a
    ConfigError naming `field` otherwise, rather than the abort inside Nautilus."""
    if not isinstance(name, str):
        raise ConfigError(f"invalid {field}: {name!r} (a venue name is a string)", field=field, value=repr(name))
    try:
        VenueSpec(name, 0.0, 0.0, 0.0)
    except ValidationError as exc:
        raise ConfigError(f"invalid {field}: {str(exc).split(': ', 1)[-1]}", field=field, value=exc.value) from None


_ALLOCATION_FIELDS = ("venue", "instrument_id", "quantity", "expected_price", "fee", "latency_cost", "miss_cost", "score_bps",
                      "fill_probability", "fee_rate")


class VenueAllocation:
    """Where (part of) an order goes, what it is expected to cost, and why.

    `expected_price`: the average price the router expects this quantity to fill at on this venue:
    walked through the venue's book when the router has books, else its quote's touch, else the `price`
    given to the call (a limit is assumed to fill at the limit); None when none of those exists (no book,
    no quote, no price: the router then decides on fees, latency and learned fill rates alone).
    `fee_rate`: the fee as a fraction of notional (taker fee for taker routing; for a passive choice the
    expected mix of maker and taker), always known. `fee`, `latency_cost`, `miss_cost`: the expected
    amounts in quote currency for the whole quantity at `expected_price`; None without a price (the
    fractions are in `fee_rate` and, in bps, in `reason` and `score_bps`).

    Immutable, compared and hashed by value like a frozen dataclass. `reason` is given, or (from the
    router, `how=`) written the first time it is read: formatting it costs more than the routing on a
    hot path that never reads it."""

    __slots__ = (*_ALLOCATION_FIELDS, "_reason", "_how", "_relative")

    venue: Venue
    instrument_id: InstrumentId
    quantity: Quantity
    expected_price: float | None
    fee: float | None
    latency_cost: float | None
    miss_cost: float | None
    score_bps: float
    fill_probability: float
    fee_rate: float | None
    _reason: str | None
    _how: str | None
    _relative: tuple[float, float, float] | None  # (fee, latency, miss) in bps when there is no price

    def __init__(self, venue: Venue, instrument_id: InstrumentId, quantity: Quantity, expected_price: float | None, fee: float | None,
                 latency_cost: float | None, miss_cost: float | None, score_bps: float, fill_probability: float, reason: str | None = None,
                 *, how: str | None = None, fee_rate: float | None = None, relative_bps: tuple[float, float, float] | None = None) -> None:
        if reason is None and how is None:
            raise TypeError("VenueAllocation needs a reason")
        setter = object.__setattr__
        for name, value in zip(_ALLOCATION_FIELDS, (venue, instrument_id, quantity, expected_price, fee, latency_cost, miss_cost, score_bps,
                                                    fill_probability, fee_rate)):
            setter(self, name, value)
        setter(self, "_reason", reason)
        setter(self, "_how", how)
        setter(self, "_relative", relative_bps)

    @property
    def reason(self) -> str:
        reason = self._reason
        if reason is None:
            reason = self._explain()
            object.__setattr__(self, "_reason", reason)
        return reason

    def _explain(self) -> str:
        price = f"{self.expected_price:.10g}" if self.expected_price is not None else "no price"
        if self._relative is not None:
            fee, latency, miss = self._relative
        else:
            # fee, latency_cost and miss_cost are in quote currency for the whole quantity.
            notional = (self.expected_price or 1.0) * self.quantity.as_double()
            fee, latency, miss = ((x or 0.0) / notional * 1e4 for x in (self.fee, self.latency_cost, self.miss_cost))
        return (
            f"{self._how}: avg {price}, fee {fee:.2f} bps, latency risk {latency:.2f} bps, "
            f"miss {miss:.2f} bps (p_fill {self.fill_probability:.2f}); {self.score_bps:+.3f} bps vs reference"
        )

    def _values(self) -> tuple[Any, ...]:
        return (*(getattr(self, name) for name in _ALLOCATION_FIELDS), self.reason)

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in (*_ALLOCATION_FIELDS, "reason"))
        return f"VenueAllocation({inner})"

    def __getstate__(self) -> tuple[Any, ...]:
        return self._values()

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip((*_ALLOCATION_FIELDS, "_reason"), state):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_how", None)
        object.__setattr__(self, "_relative", None)


INFINITY = float("inf")
# Scores closer than this (bps) are a tie in `lot_rounding` (the evaluation simulator's tolerance).
SCORE_TOLERANCE_BPS = 1e-9

# Instruments whose per-venue terms the router remembers (cleared past this: it routes a handful).
_MAX_ROUTED_INSTRUMENTS = 256


@dataclass(slots=True)
class _VenueInstrument:
    """A routed asset on one venue: its instrument id, and the terms taken from the cache's instrument."""

    config: VenueConfig
    instrument_id: InstrumentId
    instrument: Any = None  # the cache's instrument object the terms came from (None: not in the cache)
    precision: int = -1  # -1: not set yet
    lot: int = 1
    minimum: int = 0
    name: str = ""  # the venue's name (a field, not a property: read for every venue on every decision)

    def __post_init__(self) -> None:
        self.name = self.config.name


class _RoutePlan:
    """Per routed instrument: each venue's instrument and terms, and the id/precision maps routing returns."""

    __slots__ = ("venues", "ids", "precisions")

    def __init__(self, venues: list[_VenueInstrument]) -> None:
        self.venues = venues
        self.ids = {vi.name: vi.instrument_id for vi in venues}
        self.precisions: dict[str, int] = {}


@dataclass(slots=True)
class _Tracked:
    venue: str
    side: OrderSide
    expected_price: float | None
    ordered_units: int
    filled_units: int = 0
    ts_submitted: int | None = None
    acked: bool = False


def _check_horizon(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ValidationError(f"invalid {field}: {value!r} (must be a finite number of seconds > 0)", field=field, value=repr(value))
    return float(value)


# The cost-model keywords of `SmartOrderRouter` a config's `router` block may set (the core's, then ours).
CORE_ROUTER_PARAMS = ("volatility", "latency_risk_weight", "miss_cost_bps", "ewma_alpha", "slippage_weight", "tape_tau_s")
ROUTER_PARAMS = (*CORE_ROUTER_PARAMS, "passive_horizon_s", "book_depth")


def _check_max_venues(max_venues: Any) -> None:
    # Checked whole here, before the call sets the core's lots: the core's own check would come after.
    if isinstance(max_venues, bool) or not isinstance(max_venues, int) or not 1 <= max_venues < 2**64:
        raise ValidationError(f"invalid max_venues: {max_venues!r} (must be an integer in [1, 2**64))", field="max_venues", value=repr(max_venues))


def check_router_params(params: Any, field: str = "router") -> None:
    """A `router` settings dict, checked whole before anything is built: known keys, numbers, and the
    core's own ranges. ConfigError naming `<field>.<key>`."""
    if params is None:
        return
    if not isinstance(params, dict):
        raise ConfigError(f"invalid {field}: {params!r} (a dict of {', '.join(ROUTER_PARAMS)})", field=field, value=repr(params))
    for key, value in params.items():
        if key not in ROUTER_PARAMS:
            raise ConfigError(f"invalid {field}.{key}: unknown setting (one of {', '.join(ROUTER_PARAMS)})", field=f"{field}.{key}", value=repr(value))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"invalid {field}.{key}: {value!r} (must be a number)", field=f"{field}.{key}", value=repr(value))
    depth = params.get("book_depth", 1)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ConfigError(f"invalid {field}.book_depth: {depth!r} (must be an integer >= 1)", field=f"{field}.book_depth", value=repr(depth))
    try:
        if "passive_horizon_s" in params:
            _check_horizon(params["passive_horizon_s"], "passive_horizon_s")
        Router([VenueSpec("CHECK", 0.0, 0.0, 0.0)], **{k: v for k, v in params.items() if k in CORE_ROUTER_PARAMS})
    except ValidationError as exc:
        raise ConfigError(f"invalid {field}.{exc.field}: {exc}", field=f"{field}.{exc.field}", value=exc.value) from None


def _int_arg(value: Any, field: str) -> int:
    """An integer argument (a bool is not one)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"invalid {field}: {value!r} (must be an integer)", field=field, value=repr(value))
    return value


def _side_code(side: Any) -> int:
    # True == 1 == OrderSide.BUY to Python: a bool is never a side.
    if not isinstance(side, bool) and side in (OrderSide.BUY, OrderSide.SELL):
        return int(side)
    raise ValidationError(f"invalid side: {side!r} (must be OrderSide.BUY or OrderSide.SELL)", field="side", value=repr(side))


def _serialised(method: Any) -> Any:
    """Runs a public method under the router's lock: a call from a second thread waits for the first
    (a routing decision sets the core's lots for the order's instrument and then splits; another
    thread's decision in between would split with the wrong lots)."""

    @functools.wraps(method)
    def locked(self: SmartOrderRouter, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


def _flag(value: Any, field: str) -> bool:
    """A True/False argument: a string such as "false" or a number is refused, not read as truthy."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy's bool too
        return bool(value)
    raise ValidationError(f"invalid {field}: {value!r} (must be True or False)", field=field, value=repr(value))


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
        volatility: float = 1e-4,
        latency_risk_weight: float = 1.0,
        miss_cost_bps: float = 5.0,
        ewma_alpha: float = 0.05,
        slippage_weight: float = 1.0,
        book_depth: int = 20,
        tape_tau_s: float = 30.0,
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
        self.passive_horizon_s = _check_horizon(passive_horizon_s, "passive_horizon_s")
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
        self._tracked: dict[ClientOrderId, _Tracked] = {}
        # Venue switches: the operator's (set_venue_enabled) and the feed's (set_venue_connected);
        # the core routes to a venue only when both allow it.
        self._operator_enabled: dict[str, bool] = {v.name: v.enabled for v in self._venues}
        self._disconnected: set[str] = set()
        self._stale: set[str] = set()  # disconnected by check_stale_venues (reconnected by it too)
        # Venues left out of the current taker decision: their book or quote shows nothing on the side it
        # takes while another venue's does (a market child there would be rejected "no market").
        self._empty_side: set[str] = set()
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

    @_serialised
    def invalidate_books(self, venue: str | Venue | None = None) -> None:
        """Makes the next decision reload a venue's book and lot (or every venue's) from the cache: call
        after changing the core directly (`core.set_book`, `core.set_lot`) while the router has a cache."""
        self._books.invalidate(None if venue is None else self.venue_config(venue).name)
        self._lots_for = None

    def venue_config(self, venue: str | Venue) -> VenueConfig:
        name = venue.value if isinstance(venue, Venue) else venue
        if not isinstance(name, str):
            raise ValidationError(f"invalid venue: {venue!r} (must be a venue name or a Venue)", field="venue", value=repr(venue))
        try:
            return self._by_name[name]
        except KeyError:
            from nautilus_sor.exceptions import UnknownVenueError

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
        self._operator_enabled[name] = _flag(enabled, "enabled")
        self._apply_enabled(name)

    # -- venue connectivity (live) -----------------------------------------------------------

    @_serialised
    def set_venue_connected(self, venue: str | Venue, connected: bool) -> None:
        """Feed of the venue's connection: a disconnected venue gets no new flow (its open orders are
        at risk, see `SmartExecAlgorithm.parent_summary`); flow resumes when it reconnects. Call it from
        the adapter's disconnect/reconnect, or let `check_stale_venues` call it from data staleness."""
        name = self.venue_config(venue).name
        if _flag(connected, "connected"):
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

    def _skip_empty_sides(self, plan: _RoutePlan, side: int) -> None:
        """Book mode respects the book: when some venue's book or quote shows levels on the side a taker
        decision takes, a venue whose book or quote shows none there gets nothing (it would reject the
        child: "no market"). A venue without any book or quote (a bar venue) is priced as before; so are all
        venues when none shows the side (no-book mode). `side` 0 (a passive decision) leaves none out."""
        empty = set(self._books.empty_taking_sides([vi.name for vi in plan.venues], side)) if side else set()
        if empty == self._empty_side:
            return
        changed = empty ^ self._empty_side
        self._empty_side = empty
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
        _int_arg(now_ns, "now_ns")
        if _int_arg(stale_ns, "stale_ns") <= 0:
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
        book = self.cache.order_book(instrument_id)
        times = [book.ts_last] if book is not None and book.update_count > 0 else []
        quote = self.cache.quote_tick(instrument_id)
        if quote is not None:
            times.append(quote.ts_init)
        return max(times) if times else None

    # -- routing -----------------------------------------------------------------------------

    def _prepare(self, instrument_id: InstrumentId, quantity: Quantity, field: str, side: int = 0,
                 taking: int | None = None) -> tuple[int, dict[str, InstrumentId], dict[str, int]]:
        """Checks arguments, sets each venue's lot and book for this instrument (only what changed), and
        leaves out of the decision the venues with nothing on the side it takes (`_skip_empty_sides`;
        `taking`: that side, default `side`; 0 for a passive decision).

        Returns (units, venue -> venue instrument id, venue -> size precision); the dicts are shared: read only."""
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
            if len(self._plans) >= _MAX_ROUTED_INSTRUMENTS:
                self._plans.clear()  # bounded: a router routes a handful of assets
            plan = self._plans[instrument_id] = _RoutePlan(
                [_VenueInstrument(v, self.venue_instrument_id(instrument_id, v.name)) for v in self._venues])
        cache = self.cache
        changed = plan is not self._lots_for
        load = self._books.load
        for vi in plan.venues:
            instrument = cache.instrument(vi.instrument_id) if cache is not None else None
            if instrument is None:
                # Not (yet) in the cache: the quantity's precision, no minimum (re-read at every call).
                changed |= self._venue_terms(vi, None, quantity.precision, 10 ** (UNIT_DECIMALS - quantity.precision), 0)
            elif instrument is not vi.instrument:
                minimum = qty_to_units(instrument.min_quantity, "min_quantity") if instrument.min_quantity else 0
                changed |= self._venue_terms(vi, instrument, instrument.size_precision, qty_to_units(instrument.size_increment, "size_increment"), minimum)
            if cache is not None:
                load(cache, vi.name, vi.instrument_id, instrument, side, units)
        if changed:
            for vi in plan.venues:
                plan.precisions[vi.name] = vi.precision
                self._core.set_lot(vi.name, vi.lot, vi.minimum)
            self._lots_for = plan
        self._skip_empty_sides(plan, taking)
        return units, plan.ids, plan.precisions

    @staticmethod
    def _venue_terms(vi: _VenueInstrument, instrument: Any, precision: int, lot: int, minimum: int) -> bool:
        """Sets the venue's lot and minimum in units (the venue config's, else the instrument's); True if
        they changed."""
        v = vi.config
        if v.lot_size is not None:
            lot = decimal_to_units(v.lot_size, f"venues[{v.name}].lot_size")
        if v.min_quantity is not None:
            minimum = decimal_to_units(v.min_quantity, f"venues[{v.name}].min_quantity")
        terms = (precision, max(lot, 1), minimum)
        vi.instrument = instrument
        if terms == (vi.precision, vi.lot, vi.minimum):
            return False
        vi.precision, vi.lot, vi.minimum = terms
        return True

    def _allocation(self, q: VenueQuote, ids: dict[str, InstrumentId], precisions: dict[str, int], how: str) -> VenueAllocation:
        name = q.venue
        venue = self._venue_ids.get(name)
        if venue is None:
            venue = self._venue_ids[name] = Venue(name)
        quantity = units_to_qty(q.qty, precisions[name])
        if q.expected_price is None:
            # No price: the core prices the venue against 1.0, so its amounts per unit are fractions of notional.
            relative = (q.fee / q.qty * 1e4, q.latency_cost / q.qty * 1e4, q.miss_cost / q.qty * 1e4)
            return VenueAllocation(venue, ids[name], quantity, None, None, None, None, q.score_bps, q.fill_probability, how=how,
                                   fee_rate=self._by_name[name].taker_fee, relative_bps=relative)
        # The core's amounts are per unit (1e-9 of a quantity): scale them to quote currency.
        return VenueAllocation(venue, ids[name], quantity, q.expected_price, q.fee / UNITS_PER_QTY, q.latency_cost / UNITS_PER_QTY,
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
        return value

    @_serialised
    def select_venue(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Quantity,
        price: Price | None = None,
    ) -> VenueAllocation:
        """The single venue with the lowest expected all-in cost for the whole `quantity`."""
        side_code = _side_code(side)
        limit = self._limit(price)
        units, ids, precisions = self._prepare(instrument_id, quantity, "quantity", side_code)
        selection = self._core.select_venue(side_code, units, limit)
        allocation = self._allocation(selection.best, ids, precisions, "lowest all-in cost")
        if self.record_history:
            self._record([allocation])
        return allocation

    @_serialised
    def route_order(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        total_quantity: Quantity,
        max_venues: int = 3,
        price: Price | None = None,
    ) -> list[VenueAllocation]:
        """Splits `total_quantity` across at most `max_venues` venues; quantities sum exactly."""
        side_code = _side_code(side)
        limit = self._limit(price)
        _check_max_venues(max_venues)
        units, ids, precisions = self._prepare(instrument_id, total_quantity, "total_quantity", side_code)
        split = self._core.split(side_code, units, max_venues, limit)
        allocations = [self._allocation(a, ids, precisions, "marginal-cost split") for a in split.allocations]
        if self.record_history:
            self._record(allocations)
        return allocations

    @_serialised
    def route_quantities(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        total_quantity: Quantity,
        max_venues: int = 3,
        price: Price | None = None,
    ) -> list[tuple[InstrumentId, Quantity]]:
        """`route_order`'s split as plain (venue instrument id, quantity) pairs, for a hot loop.

        The same decision as `route_order` (same books, same checks, same errors), without building a
        `VenueAllocation` (costs, scores, reason) per venue and without `record_history`: about half the
        cost of a decision when one venue's book changed. Send the pairs as they are, or call `route_order`
        when the costs are wanted."""
        side_code = _side_code(side)
        limit = self._limit(price)
        _check_max_venues(max_venues)
        units, ids, precisions = self._prepare(instrument_id, total_quantity, "total_quantity", side_code)
        return [(ids[name], units_to_qty(qty, precisions[name])) for name, qty in self._core.split_units(side_code, units, max_venues, limit)]

    @_serialised
    def lot_rounding(
        self,
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Quantity,
        max_venues: int = 3,
        price: Price | None = None,
    ) -> tuple[Quantity, int]:
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
        side_code = _side_code(side)
        limit = self._limit(price)
        _check_max_venues(max_venues)
        units, _, _ = self._prepare(instrument_id, quantity, "quantity", side_code)
        plan = self._plans[instrument_id]
        routable = [vi for vi in plan.venues if self._routable(vi.name) and vi.name not in self._empty_side]
        lots = sorted({vi.lot for vi in routable})
        if len(lots) < 2 or units <= 0:
            return quantity, max_venues
        if self.cache is not None and lots[-1] > units:
            # A whole coarse lot is priced too: the ladders must be deep enough for it.
            for vi in plan.venues:
                self._books.load(self.cache, vi.name, vi.instrument_id, vi.instrument, side_code, lots[-1])
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
        venue's mid. Needs a two-sided book or quote on some venue (NoEligibleVenueError otherwise)."""
        side_code = _side_code(side)
        horizon = self.passive_horizon_s if horizon_s is None else _check_horizon(horizon_s, "horizon_s")
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
        _side_code(side)
        expected = self.expected_prices
        expected[client_order_id] = allocation.expected_price
        if self.max_expected_prices is not None and len(expected) > self.max_expected_prices:
            del expected[next(iter(expected))]  # bounded memory in a long live run: the oldest goes
        self._tracked[client_order_id] = _Tracked(
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

    def venue_stats_frame(self):  # -> pandas.DataFrame
        import pandas as pd

        fields = ["fill_rate", "reject_rate", "fill_probability", "latency_mean_ms", "latency_tail_ms", "slippage_bps", "orders", "fills", "rejects", "acks"]
        rows = {s.venue: {f: getattr(s, f) for f in fields} for s in self.venue_stats()}
        return pd.DataFrame.from_dict(rows, orient="index")

    # -- state (restart) ---------------------------------------------------------------------

    @_serialised
    def save_state(self):  # -> execution_algorithms.state.RouterState
        """What the router has learned and still expects, for a restart: each venue's statistics
        (exactly, with the raw latency variance), the orders it is still learning from, and the
        venues the feed marked disconnected."""
        from nautilus_sor.execution_algorithms.state import RouterState, TrackedRecord, VenueStatsRecord

        venues = []
        for stats in self.venue_stats():
            variance = getattr(stats, "latency_var_ms2", None)
            if variance is None:  # an extension built before the variance was exposed: from the tail
                variance = ((stats.latency_tail_ms - stats.latency_mean_ms) / LATENCY_TAIL_Z) ** 2
            venues.append(
                VenueStatsRecord(
                    venue=stats.venue, fill_rate=stats.fill_rate, reject_rate=stats.reject_rate,
                    latency_mean_ms=stats.latency_mean_ms, latency_var_ms2=variance, slippage_bps=stats.slippage_bps,
                    orders=stats.orders, fills=stats.fills, rejects=stats.rejects, acks=stats.acks,
                )
            )
        tracked = [
            TrackedRecord(
                client_order_id=cid.value, venue=t.venue, side=t.side.name, expected_price=t.expected_price,
                ordered_units=t.ordered_units, filled_units=t.filled_units, ts_submitted=t.ts_submitted, acked=t.acked,
            )
            for cid, t in self._tracked.items()
        ]
        return RouterState(venues=venues, tracked=tracked, disconnected=sorted(self._disconnected))

    @_serialised
    def load_state(self, state) -> None:
        """Puts a `save_state()` back. Checked first (venue names, values), then applied whole."""
        from nautilus_sor.exceptions import StateError
        from nautilus_sor.execution_algorithms.state import RouterState

        if not isinstance(state, RouterState):
            raise StateError(f"invalid router: {state!r} (must be a RouterState from save_state())", field="router", value=repr(state))
        names = [r.venue for r in state.venues]
        if sorted(names) != sorted(v.name for v in self._venues):
            raise StateError(
                f"invalid router.venues: saved for {names}, this router has {[v.name for v in self._venues]}",
                field="router.venues",
                value=repr(names),
            )
        for name in [t.venue for t in state.tracked] + list(state.disconnected):
            if name not in self._by_name:
                raise StateError(f"invalid router state: unknown venue {name!r}", field="router.venue", value=name)
        for t in state.tracked:
            if t.side not in ("BUY", "SELL"):
                raise StateError(f"invalid router.tracked.side: {t.side!r}", field="router.tracked.side", value=t.side)
        restore = getattr(self._core, "restore_venue_stats", None)
        if restore is None:
            raise StateError(
                "cannot restore venue statistics: this nautilus_sor._core predates Router.restore_venue_stats (rebuild it)",
                field="router.venues",
                value="restore_venue_stats",
            )
        # Validate every venue on a scratch router first: the real one changes only if all are valid.
        scratch = Router([VenueSpec(v.name, 0.0, 0.0) for v in self._venues])
        for record in state.venues:
            try:
                scratch.restore_venue_stats(record.venue, **_stats_fields(record))
            except ValidationError as exc:
                raise StateError(f"invalid router.venues[{record.venue}].{exc.field}: {exc}", field=f"router.venues.{exc.field}", value=exc.value) from None
        for record in state.venues:
            restore(record.venue, **_stats_fields(record))
        for t in state.tracked:
            self._tracked[ClientOrderId(t.client_order_id)] = _Tracked(
                venue=t.venue, side=OrderSide.BUY if t.side == "BUY" else OrderSide.SELL, expected_price=t.expected_price,
                ordered_units=t.ordered_units, filled_units=t.filled_units, ts_submitted=t.ts_submitted, acked=t.acked,
            )
            self.expected_prices[ClientOrderId(t.client_order_id)] = t.expected_price
        self._disconnected = set(state.disconnected)
        for v in self._venues:
            self._apply_enabled(v.name)


LATENCY_TAIL_Z = 2.326  # the core's normal approximation of the 99th percentile (venue.rs)


def _stats_fields(record) -> dict[str, Any]:
    return {
        "fill_rate": record.fill_rate, "reject_rate": record.reject_rate, "latency_mean_ms": record.latency_mean_ms,
        "latency_var_ms2": record.latency_var_ms2, "slippage_bps": record.slippage_bps,
        "orders": record.orders, "fills": record.fills, "rejects": record.rejects, "acks": record.acks,
    }
