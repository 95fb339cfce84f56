"""Where a msgspec validation error points, as the field path our typed errors name.

One helper for every msgspec-decoded input (the JSON config, venue dicts, saved states), so each reports
the failing field the same way."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from nautilus_sor.exceptions import ConfigError


def msgspec_error_path(message: str) -> str:
    """The JSON path a msgspec validation message points at, as `.field` / `[i]` text."""
    at = re.search(r"at `\$([^`]*)`", message)
    base = at.group(1) if at else ""
    named = re.search(r"field `([^`]+)`", message)  # a missing or unknown field, inside `base`
    return f"{base}.{named.group(1)}" if named else base


def value_at(raw: Any, path: str) -> str:
    """The repr of the raw value at a msgspec path like `.strategy.venues[1].taker_fee` in `raw`
    (`<missing>` where the path does not reach: a required field that is absent)."""
    node = raw
    for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        try:
            node = node[int(index)] if index else node[key]
        except (KeyError, IndexError, TypeError):
            return "<missing>"
    return repr(node)


def config_error(exc: msgspec.ValidationError, raw: Any, prefix: str = "") -> ConfigError:
    """The ConfigError of a msgspec validation failure of `raw`: it names the field (`prefix` and the
    path msgspec points at; `$` for the document itself) and the value found there, then msgspec's reason."""
    message = str(exc)
    path = msgspec_error_path(message)
    field = f"{prefix}{path}" if prefix else (path.lstrip(".") or "$")
    value = value_at(raw, path)
    return ConfigError(f"invalid {field}: {value} ({message})", field=field, value=value)
