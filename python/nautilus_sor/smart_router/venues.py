"""The venues a router routes over, as the reference's config gives them: `VenueConfig` and its checks."""

from __future__ import annotations

from typing import Any

import msgspec
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_sor._core import VenueSpec
from nautilus_sor.exceptions import ConfigError, ValidationError
from nautilus_sor.msgspec_errors import config_error
from nautilus_sor.units import decimal_to_units


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



def parse_venues(venues: list[Any], field: str = "venues") -> list[VenueConfig]:
    """Validates the reference's venue dicts (or `VenueConfig`s); errors name the entry and field."""
    if not isinstance(venues, (list, tuple)) or not venues:
        raise ConfigError(f"invalid {field}: {venues!r} (a non-empty list of venues is required)", field=field, value=repr(venues))
    parsed: list[VenueConfig] = []
    for i, raw in enumerate(venues):
        try:
            v = raw if isinstance(raw, VenueConfig) else msgspec.convert(raw, VenueConfig)
        except msgspec.ValidationError as exc:
            raise config_error(exc, raw, f"{field}[{i}]") from None
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

