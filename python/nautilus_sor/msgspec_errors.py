"""Where a msgspec validation error points, as the field path our typed errors name.

One helper for every msgspec-decoded input (the JSON config, venue dicts, saved states), so each reports
the failing field the same way."""

from __future__ import annotations

import re


def msgspec_error_path(message: str) -> str:
    """The JSON path a msgspec validation message points at, as `.field` / `[i]` text."""
    at = re.search(r"at `\$([^`]*)`", message)
    base = at.group(1) if at else ""
    named = re.search(r"field `([^`]+)`", message)  # a missing or unknown field, inside `base`
    return f"{base}.{named.group(1)}" if named else base
