"""The router's state: the orders it still learns from (`TrackedOrder`), and what it saves for a restart
(`RouterState`: each venue's statistics exactly, the tracked orders, the venues marked disconnected).

`SmartOrderRouter.save_state()` returns a `RouterState`; `load_state()` checks one whole with
`check_router_state` before it changes anything. The execution algorithms' saved state
(`execution_algorithms/state.py`) embeds it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from nautilus_trader.model.enums import OrderSide

from nautilus_sor._core import Router, VenueSpec, VenueStats
from nautilus_sor.exceptions import StateError, ValidationError
from nautilus_sor.sides import parse_side

LATENCY_TAIL_Z = 2.326  # the core's normal approximation of the 99th percentile (venue.rs)


@dataclass(slots=True)
class TrackedOrder:
    """An order sent on one of the router's allocations: what was expected of it, and what came back."""

    venue: str
    side: OrderSide
    expected_price: float | None
    ordered_units: int
    filled_units: int = 0
    ts_submitted: int | None = None
    acked: bool = False


class VenueStatsRecord(msgspec.Struct, forbid_unknown_fields=True):
    venue: str
    fill_rate: float
    reject_rate: float
    latency_mean_ms: float
    latency_var_ms2: float
    slippage_bps: float
    orders: int
    fills: int
    rejects: int
    acks: int


class TrackedRecord(msgspec.Struct, forbid_unknown_fields=True):
    """An order the router still expects events for (to keep learning from it after a restart)."""

    client_order_id: str
    venue: str
    side: str
    expected_price: float | None
    ordered_units: int
    filled_units: int
    ts_submitted: int | None
    acked: bool


class RouterState(msgspec.Struct, forbid_unknown_fields=True):
    venues: list[VenueStatsRecord]
    tracked: list[TrackedRecord]
    disconnected: list[str]


def venue_stats_record(stats: VenueStats) -> VenueStatsRecord:
    """A venue's statistics, exactly (the raw latency variance included)."""
    variance = getattr(stats, "latency_var_ms2", None)
    if variance is None:  # an extension built before the variance was exposed: from the tail
        variance = ((stats.latency_tail_ms - stats.latency_mean_ms) / LATENCY_TAIL_Z) ** 2
    return VenueStatsRecord(
        venue=stats.venue, fill_rate=stats.fill_rate, reject_rate=stats.reject_rate,
        latency_mean_ms=stats.latency_mean_ms, latency_var_ms2=variance, slippage_bps=stats.slippage_bps,
        orders=stats.orders, fills=stats.fills, rejects=stats.rejects, acks=stats.acks,
    )


def tracked_record(client_order_id: str, t: TrackedOrder) -> TrackedRecord:
    return TrackedRecord(
        client_order_id=client_order_id, venue=t.venue, side=t.side.name, expected_price=t.expected_price,
        ordered_units=t.ordered_units, filled_units=t.filled_units, ts_submitted=t.ts_submitted, acked=t.acked,
    )


def tracked_order(record: TrackedRecord) -> TrackedOrder:
    return TrackedOrder(
        venue=record.venue, side=parse_side(record.side, "router.tracked.side", names=True), expected_price=record.expected_price,
        ordered_units=record.ordered_units, filled_units=record.filled_units, ts_submitted=record.ts_submitted, acked=record.acked,
    )


def stats_fields(record: VenueStatsRecord) -> dict[str, Any]:
    """The keywords of `Router.restore_venue_stats` for `record`."""
    return {
        "fill_rate": record.fill_rate, "reject_rate": record.reject_rate, "latency_mean_ms": record.latency_mean_ms,
        "latency_var_ms2": record.latency_var_ms2, "slippage_bps": record.slippage_bps,
        "orders": record.orders, "fills": record.fills, "rejects": record.rejects, "acks": record.acks,
    }


def check_router_state(state: Any, venue_names: list[str]) -> RouterState:
    """`state`, checked whole against a router over `venue_names` (a StateError naming the field
    otherwise): a RouterState, saved for the same venues, naming only them, with statistics the core
    accepts (restored on a scratch router, so the real one changes only if all are valid)."""
    if not isinstance(state, RouterState):
        raise StateError(f"invalid router: {state!r} (must be a RouterState from save_state())", field="router", value=repr(state))
    names = [r.venue for r in state.venues]
    if sorted(names) != sorted(venue_names):
        raise StateError(f"invalid router.venues: saved for {names}, this router has {venue_names}", field="router.venues",
                         value=repr(names))
    for name in [t.venue for t in state.tracked] + list(state.disconnected):
        if name not in venue_names:
            raise StateError(f"invalid router state: unknown venue {name!r}", field="router.venue", value=name)
    for t in state.tracked:
        try:
            parse_side(t.side, "router.tracked.side", names=True)
        except ValidationError as exc:
            raise StateError(str(exc), field=exc.field, value=exc.value) from None
    scratch = Router([VenueSpec(name, 0.0, 0.0) for name in venue_names])
    for record in state.venues:
        try:
            scratch.restore_venue_stats(record.venue, **stats_fields(record))
        except ValidationError as exc:
            raise StateError(f"invalid router.venues[{record.venue}].{exc.field}: {exc}", field=f"router.venues.{exc.field}",
                             value=exc.value) from None
    return state
