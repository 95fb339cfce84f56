"""nautilus-sor: smart order routing, execution algorithms and positions for NautilusTrader.

The hot path lives in the Rust extension `nautilus_sor._core`; this package is the Python face of it.
Heavy optional modules (plotting, Ray, Nautilus engines) are imported only where they are used.
"""

from __future__ import annotations

from nautilus_sor._core import (
    ROUTE_INSUFFICIENT_LIQUIDITY,
    ROUTE_NO_ELIGIBLE_VENUE,
    ROUTE_OK,
    Router,
    Selection,
    SplitResult,
    VenueQuote,
    VenueSpec,
    VenueStats,
)
from nautilus_sor._core import Exposure, Position, PositionBook
from nautilus_sor._core import (
    Iceberg,
    PovTracker,
    shortfall_kappa,
    shortfall_schedule,
    twap_schedule,
    volume_curve_from_bars,
    vwap_curve_schedule,
    vwap_schedule,
)
from nautilus_sor._core import __version__ as __version__
from nautilus_sor.exceptions import (
    ConfigError,
    InsufficientLiquidityError,
    MarketDataError,
    NautilusSorError,
    NoEligibleVenueError,
    RoutingError,
    UnknownVenueError,
    ValidationError,
)

# The Python layer over Nautilus, imported on first use so `import nautilus_sor` stays light
# (`from nautilus_sor import SmartOrderRouter` works as the reference's `from backend import ...`).
_LAZY = {
    "SmartOrderRouter": "nautilus_sor.smart_router",
    "VenueAllocation": "nautilus_sor.smart_router",
    "VenueConfig": "nautilus_sor.smart_router",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nautilus_sor' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ROUTE_INSUFFICIENT_LIQUIDITY",
    "ROUTE_NO_ELIGIBLE_VENUE",
    "ROUTE_OK",
    "ConfigError",
    "Exposure",
    "Iceberg",
    "InsufficientLiquidityError",
    "MarketDataError",
    "NautilusSorError",
    "NoEligibleVenueError",
    "Position",
    "PositionBook",
    "PovTracker",
    "Router",
    "RoutingError",
    "Selection",
    "SmartOrderRouter",
    "SplitResult",
    "UnknownVenueError",
    "ValidationError",
    "VenueAllocation",
    "VenueConfig",
    "VenueQuote",
    "VenueSpec",
    "VenueStats",
    "__version__",
    "shortfall_kappa",
    "shortfall_schedule",
    "twap_schedule",
    "volume_curve_from_bars",
    "vwap_curve_schedule",
    "vwap_schedule",
]
