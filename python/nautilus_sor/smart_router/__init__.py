"""The smart order router: `SmartOrderRouter` (the reference API over Nautilus types, the Rust core doing
the scoring and splitting) and what it is configured with and returns.

    router.py       SmartOrderRouter: routing, lot rounding, the trade tape, learning from order events
    allocation.py   VenueAllocation, what a routing decision returns
    venues.py       VenueConfig and the checks of the reference's venue dicts
    settings.py     the `router` settings block (cost-model keywords) and the router's argument checks
    state.py        what the router remembers of its orders, and saves for a restart (RouterState)
"""

from __future__ import annotations

from nautilus_sor.smart_router.allocation import VenueAllocation
from nautilus_sor.smart_router.router import SmartOrderRouter
from nautilus_sor.smart_router.settings import CORE_ROUTER_PARAMS, ROUTER_PARAMS, check_router_params
from nautilus_sor.smart_router.state import LATENCY_TAIL_Z, RouterState, TrackedRecord, VenueStatsRecord
from nautilus_sor.smart_router.venues import VenueConfig, check_venue_name, parse_venues

__all__ = [
    "CORE_ROUTER_PARAMS",
    "LATENCY_TAIL_Z",
    "ROUTER_PARAMS",
    "RouterState",
    "SmartOrderRouter",
    "TrackedRecord",
    "VenueAllocation",
    "VenueConfig",
    "VenueStatsRecord",
    "check_router_params",
    "check_venue_name",
    "parse_venues",
]
