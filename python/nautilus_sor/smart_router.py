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

import re
from dataclasses import dataclass
from typing import Any

import msgspec
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId, Venue
from nautilus_trader.model.objects import Price, Quantity

from nautilus_sor._core import Router, VenueQuote, VenueSpec, VenueStats
from nautilus_sor.exceptions import ConfigError, ValidationError
from nautilus_sor.units import UNIT_DECIMALS, UNITS_PER_QTY, decimal_to_units, float_size_to_units, qty_to_units, units_to_qty


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
            VenueSpec(v.name, v.maker_fee, v.taker_fee, v.latency_ms, enabled=v.enabled)
        except ValidationError as exc:
            raise ConfigError(f"invalid {field}[{i}].{exc.field}: {exc}", field=f"{field}[{i}].{exc.field}", value=exc.value) from None
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


@dataclass(frozen=True, slots=True)
class VenueAllocation:
    """Where (part of) an order goes, what it is expected to cost, and why."""

    venue: Venue
    instrument_id: InstrumentId
    quantity: Quantity
    expected_price: float | None
    fee: float
    latency_cost: float
    miss_cost: float
    score_bps: float
    fill_probability: float
    reason: str


@dataclass(slots=True)
class _Tracked:
    venue: str
    side: OrderSide
    expected_price: float | None
    ordered_units: int
    filled_units: int = 0
    ts_submitted: int | None = None
    acked: bool = False


def _side_code(side: Any) -> int:
    if side in (OrderSide.BUY, OrderSide.SELL):
        return int(side)
    raise ValidationError(f"invalid side: {side!r} (must be OrderSide.BUY or OrderSide.SELL)", field="side", value=repr(side))


class SmartOrderRouter:
    """Routes orders across venues at the lowest expected all-in cost, learning from order events."""

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
        book_depth: int = 20,
    ) -> None:
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
        )
        self.cache = cache
        self.clock = clock
        self.book_depth = book_depth
        self._tracked: dict[ClientOrderId, _Tracked] = {}
        # What each routed order was expected to cost (kept for analysis after the order is done).
        self.expected_prices: dict[ClientOrderId, float | None] = {}
        # One entry per routing decision when `record_history` is on: what the router thought then.
        self.record_history = False
        self.history: list[dict[str, Any]] = []

    # -- venues and instruments -------------------------------------------------------------

    @property
    def venues(self) -> list[VenueConfig]:
        return list(self._venues)

    @property
    def core(self) -> Router:
        """The Rust router (for batch calls and direct book updates)."""
        return self._core

    def venue_config(self, venue: str | Venue) -> VenueConfig:
        name = venue.value if isinstance(venue, Venue) else venue
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

    def set_venue_enabled(self, venue: str | Venue, enabled: bool) -> None:
        self._core.set_enabled(self.venue_config(venue).name, enabled)

    # -- routing -----------------------------------------------------------------------------

    def _prepare(self, instrument_id: InstrumentId, quantity: Quantity, field: str) -> tuple[int, dict[str, InstrumentId], dict[str, int]]:
        """Checks arguments, sets each venue's lot and book for this instrument.

        Returns (units, venue -> venue instrument id, venue -> size precision)."""
        if not isinstance(instrument_id, InstrumentId):
            raise ValidationError(
                f"invalid instrument_id: {instrument_id!r} (must be a nautilus_trader InstrumentId)",
                field="instrument_id",
                value=repr(instrument_id),
            )
        units = qty_to_units(quantity, field)
        ids: dict[str, InstrumentId] = {}
        precisions: dict[str, int] = {}
        for v in self._venues:
            vid = self.venue_instrument_id(instrument_id, v.name)
            ids[v.name] = vid
            instrument = self.cache.instrument(vid) if self.cache is not None else None
            if instrument is not None:
                precision = instrument.size_precision
                lot = qty_to_units(instrument.size_increment, "size_increment")
                minimum = qty_to_units(instrument.min_quantity, "min_quantity") if instrument.min_quantity else 0
            else:
                precision = quantity.precision
                lot = 10 ** (UNIT_DECIMALS - precision)
                minimum = 0
            if v.lot_size is not None:
                lot = decimal_to_units(v.lot_size, f"venues[{v.name}].lot_size")
            if v.min_quantity is not None:
                minimum = decimal_to_units(v.min_quantity, f"venues[{v.name}].min_quantity")
            precisions[v.name] = precision
            self._core.set_lot(v.name, max(lot, 1), minimum)
            if self.cache is not None:
                self._load_book(v.name, vid, instrument)
        return units, ids, precisions

    def _load_book(self, venue: str, instrument_id: InstrumentId, instrument: Any) -> None:
        """Copies the venue's book (or quote) from the cache into the core; none -> no data."""
        precision = instrument.size_precision if instrument is not None else UNIT_DECIMALS
        bids: list[tuple[float, int]] = []
        asks: list[tuple[float, int]] = []
        book = self.cache.order_book(instrument_id)
        if book is not None:
            bids = [(lv.price.as_double(), float_size_to_units(lv.size(), precision)) for lv in book.bids()[: self.book_depth]]
            asks = [(lv.price.as_double(), float_size_to_units(lv.size(), precision)) for lv in book.asks()[: self.book_depth]]
        else:
            quote = self.cache.quote_tick(instrument_id)
            if quote is not None:
                if quote.bid_size.as_double() > 0:
                    bids = [(quote.bid_price.as_double(), qty_to_units(quote.bid_size, "bid_size"))]
                if quote.ask_size.as_double() > 0:
                    asks = [(quote.ask_price.as_double(), qty_to_units(quote.ask_size, "ask_size"))]
        bids = [lv for lv in bids if lv[1] > 0]
        asks = [lv for lv in asks if lv[1] > 0]
        if not bids and not asks:
            self._core.clear_book(venue)
            return
        try:
            self._core.set_book(venue, bids, asks)
        except ValidationError:
            # A locked/crossed quote on one venue is not a book to route on: treat as no data.
            self._core.clear_book(venue)

    def _allocation(self, q: VenueQuote, ids: dict[str, InstrumentId], precisions: dict[str, int], how: str) -> VenueAllocation:
        quantity = units_to_qty(q.qty, precisions[q.venue])
        # The core's amounts are per unit (1e-9 of a quantity): scale them to quote currency.
        fee, latency_cost, miss_cost = (x / UNITS_PER_QTY for x in (q.fee, q.latency_cost, q.miss_cost))
        price = f"{q.expected_price:.10g}" if q.expected_price is not None else "no price"
        notional = (q.expected_price or 1.0) * q.qty / UNITS_PER_QTY

        def bps(x: float) -> float:
            return x / notional * 1e4

        reason = (
            f"{how}: avg {price}, fee {bps(fee):.2f} bps, latency risk {bps(latency_cost):.2f} bps, "
            f"miss {bps(miss_cost):.2f} bps (p_fill {q.fill_probability:.2f}); {q.score_bps:+.3f} bps vs reference"
        )
        return VenueAllocation(
            venue=Venue(q.venue),
            instrument_id=ids[q.venue],
            quantity=quantity,
            expected_price=q.expected_price,
            fee=fee,
            latency_cost=latency_cost,
            miss_cost=miss_cost,
            score_bps=q.score_bps,
            fill_probability=q.fill_probability,
            reason=reason,
        )

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
        units, ids, precisions = self._prepare(instrument_id, quantity, "quantity")
        selection = self._core.select_venue(side_code, units, limit)
        allocation = self._allocation(selection.best, ids, precisions, "lowest all-in cost")
        if self.record_history:
            self._record([allocation])
        return allocation

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
        if isinstance(max_venues, bool) or not isinstance(max_venues, int) or max_venues < 1:
            raise ValidationError(f"invalid max_venues: {max_venues!r} (must be an integer >= 1)", field="max_venues", value=repr(max_venues))
        units, ids, precisions = self._prepare(instrument_id, total_quantity, "total_quantity")
        split = self._core.split(side_code, units, max_venues, limit)
        allocations = [self._allocation(a, ids, precisions, "marginal-cost split") for a in split.allocations]
        if self.record_history:
            self._record(allocations)
        return allocations

    def _record(self, allocations: list[VenueAllocation]) -> None:
        ts = self.clock.timestamp_ns() if self.clock is not None else 0
        scores = {a.venue.value: a.score_bps for a in allocations}
        for stats in self.venue_stats():
            self.history.append(
                {
                    "ts": ts,
                    "venue": stats.venue,
                    "score_bps": scores.get(stats.venue, float("nan")),
                    "fill_probability": stats.fill_probability,
                    "latency_mean_ms": stats.latency_mean_ms,
                    "slippage_bps": stats.slippage_bps,
                }
            )

    # -- venue performance tracking ----------------------------------------------------------

    def track(self, client_order_id: ClientOrderId, allocation: VenueAllocation, side: OrderSide) -> None:
        """Remembers what we expected of an order sent on an allocation, to learn from its events."""
        self.expected_prices[client_order_id] = allocation.expected_price
        self._tracked[client_order_id] = _Tracked(
            venue=allocation.venue.value,
            side=side,
            expected_price=allocation.expected_price,
            ordered_units=qty_to_units(allocation.quantity),
        )

    def on_order_event(self, event: Any) -> None:
        """Feeds an order event to the venue statistics (call from a strategy's `on_order_event`)."""
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
            self._core.record_ack(venue, max(event.ts_event - tracked.ts_submitted, 0) / 1e6)
        if isinstance(event, (OrderRejected, OrderDenied)):
            self._core.record_reject(venue)
            self._tracked.pop(event.client_order_id, None)
        elif isinstance(event, OrderFilled):
            if tracked is None:
                return
            if tracked.expected_price is not None:
                self._core.record_fill(venue, int(tracked.side), tracked.expected_price, event.last_px.as_double())
            tracked.filled_units += qty_to_units(event.last_qty, "last_qty")
            if tracked.filled_units >= tracked.ordered_units:
                self._core.record_order_done(venue, tracked.ordered_units, tracked.ordered_units)
                del self._tracked[event.client_order_id]
        elif isinstance(event, (OrderCanceled, OrderExpired)):
            if tracked is not None:
                self._core.record_order_done(venue, min(tracked.filled_units, tracked.ordered_units), tracked.ordered_units)
                del self._tracked[event.client_order_id]

    def venue_stats(self) -> list[VenueStats]:
        """What the router has learned of each venue, one row per venue (see `venue_stats_frame`)."""
        return [self._core.venue_stats(v.name) for v in self._venues]

    def venue_stats_frame(self):  # -> pandas.DataFrame
        import pandas as pd

        fields = ["fill_rate", "reject_rate", "fill_probability", "latency_mean_ms", "latency_tail_ms", "slippage_bps", "orders", "fills", "rejects", "acks"]
        rows = {s.venue: {f: getattr(s, f) for f in fields} for s in self.venue_stats()}
        return pd.DataFrame.from_dict(rows, orient="index")
