"""The one parser of an order side in the Python layer: Nautilus's `OrderSide.BUY` / `SELL`, or (for
configs and saved states, `names=True`) the names "BUY" / "SELL" they write.

A bool is never a side: `True == 1 == OrderSide.BUY` to Python, so `True` would otherwise pass as a buy."""

from __future__ import annotations

from typing import Any

from nautilus_trader.model.enums import OrderSide

from nautilus_sor.exceptions import ValidationError

_SIDES = (OrderSide.BUY, OrderSide.SELL)
_BY_NAME = {"BUY": OrderSide.BUY, "SELL": OrderSide.SELL}


def parse_side(value: Any, field: str = "side", *, names: bool = False) -> OrderSide:
    """`value` as `OrderSide.BUY` or `OrderSide.SELL`; with `names`, "BUY" and "SELL" too. A
    ValidationError naming `field` and the value for anything else (a bool, `NO_ORDER_SIDE`, a string
    where a side object is expected)."""
    if value.__class__ is not bool:
        if isinstance(value, str):
            side = _BY_NAME.get(value) if names else None
            if side is not None:
                return side
        elif value in _SIDES:
            return OrderSide(value)
    expected = "OrderSide.BUY or OrderSide.SELL" + (', or "BUY" / "SELL"' if names else "")
    raise ValidationError(f"invalid {field}: {value!r} (must be {expected}{'; a bool is not a side' if isinstance(value, bool) else ''})",
                          field=field, value=repr(value))


def core_side(value: Any, field: str = "side") -> int:
    """The core's side code (1 buy, 2 sell) of a side object, checked as `parse_side` does."""
    if value.__class__ is not bool and not isinstance(value, str) and value in _SIDES:  # the hot path: every decision
        return int(value)
    return int(parse_side(value, field))
