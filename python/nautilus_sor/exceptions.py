"""The exception hierarchy of nautilus-sor.

Every error the package raises on bad input or an impossible request is a `NautilusSorError`.
Each carries `field` (what was wrong) and `value` (the offending value, as text) so a caller can
report it precisely. The Rust core's errors are mapped onto these classes in one place
(`rust/sor-py/src/errors.rs`).
"""

from __future__ import annotations


class NautilusSorError(Exception):
    """Base class of every nautilus-sor error."""

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class ValidationError(NautilusSorError, ValueError):
    """An argument, config entry or data record is malformed."""


class ConfigError(ValidationError):
    """A configuration file or mapping is invalid."""


class UnknownVenueError(ValidationError):
    """A venue name the router does not know."""


class StateError(ValidationError):
    """A saved algorithm/router state cannot be restored (corrupt bytes, an unknown format version,
    or numbers that break the bookkeeping); nothing of it has been applied."""


class DamagedRunError(ValidationError):
    """A saved run directory fails a check (a table's content hash or row count differs from run.json, or
    an invariant is broken: fills beyond their order, NaN prices, non-positive quantities). `file` names
    the file, `check` the check; `field` is "run_dir"."""

    def __init__(self, message: str, *, field: str | None = None, value: object = None, file: str = "", check: str = "") -> None:
        super().__init__(message, field=field, value=value)
        self.file = file
        self.check = check


class OutputError(NautilusSorError):
    """The output location cannot take a run: not creatable or writable, too little free space, or the
    write failed (the previous run there is left as it was)."""


class RunLockedError(OutputError):
    """Another run is writing the same output directory; `holder` says who (pid, host, start, command)."""

    def __init__(self, message: str, *, field: str | None = None, value: object = None, holder: str = "") -> None:
        super().__init__(message, field=field, value=value)
        self.holder = holder


class RoutingError(NautilusSorError):
    """A well-formed request that cannot be routed."""


class NoEligibleVenueError(RoutingError):
    """No venue can take the order (disabled, lots do not fit, no market data...)."""


class MarketDataError(RoutingError):
    """The market data a decision needs (a quote, a book, an instrument) is not there yet."""


class DataFileError(MarketDataError, ValidationError):
    """A recorded data file is damaged or inconsistent (a bad timestamp, price or size, a crossed book,
    another symbol's stream): `file` and `line` (1-based; 0 for the whole file) say where. Also a
    `ValidationError`, as a malformed data record."""

    def __init__(self, message: str, *, field: str | None = None, value: object = None, file: str = "", line: int = 0) -> None:
        super().__init__(message, field=field, value=value)
        self.file = file
        self.line = line


class InsufficientLiquidityError(RoutingError):
    """Displayed liquidity within the limit price does not cover the request."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: object = None,
        requested: int = 0,
        available: int = 0,
        shortfall: int = 0,
        limit_price: float | None = None,
    ) -> None:
        super().__init__(message, field=field, value=value)
        self.requested = requested
        self.available = available
        self.shortfall = shortfall
        self.limit_price = limit_price


__all__ = [
    "ConfigError",
    "DamagedRunError",
    "DataFileError",
    "InsufficientLiquidityError",
    "MarketDataError",
    "NautilusSorError",
    "NoEligibleVenueError",
    "OutputError",
    "RoutingError",
    "RunLockedError",
    "StateError",
    "UnknownVenueError",
    "ValidationError",
]
