"""Quantities and prices on an instrument's increments, as its venue accepts them.

The rule (patterns and execution algorithms): a quantity goes to the nearest multiple of the
instrument's `size_increment`, at its `size_precision` (ties to even); a price to the nearest multiple
of its `price_increment`, at its `price_precision`. That changes the order by at most half an
increment. What cannot be placed within half an increment is refused with a `ValidationError` naming
the field and the value: a quantity that rounds to zero or falls outside the instrument's
`min_quantity`..`max_quantity`, a price outside `min_price`..`max_price`.

A limit derived for a child on another venue (the parent's limit on that venue's tick) is rounded
towards the passive side instead (down to buy, up to sell): less than one tick, never through the
trader's limit (`bound_price`).
"""

from __future__ import annotations

from typing import Any, cast

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.objects import Price, Quantity

from nautilus_sor.exceptions import ValidationError


def _nearest(raw: int, step: int) -> int:
    """`raw` rounded to the nearest multiple of `step` (ties to even)."""
    n, rest = divmod(raw, step)
    if 2 * rest > step or (2 * rest == step and n % 2):
        n += 1
    return n * step


def round_quantity(instrument: Any, quantity: Quantity, field: str = "quantity") -> Quantity:
    """`quantity` on `instrument`'s size increment and precision (the module's rule)."""
    if not isinstance(quantity, Quantity):
        raise ValidationError(f"invalid {field}: {quantity!r} (must be a nautilus_trader Quantity)", field=field, value=repr(quantity))
    step = instrument.size_increment.raw
    rounded = Quantity.from_raw(_nearest(quantity.raw, step), instrument.size_precision)
    where = f"{instrument.id} (size increment {instrument.size_increment})"
    if not rounded.raw:
        raise ValidationError(f"invalid {field}: {quantity} rounds to zero on {where}", field=field, value=str(quantity))
    return _within(instrument, "quantity", rounded, quantity, field)


def round_price(instrument: Any, price: Price, field: str = "price") -> Price:
    """`price` on `instrument`'s tick and precision (the module's rule)."""
    return _checked_price(instrument, _price_raw(price, field), price, field, _nearest)


def bound_price(instrument: Any, price: Price, side: OrderSide, field: str = "price") -> Price:
    """A limit `price` on `instrument`'s tick, rounded to the passive side: down to buy, up to sell."""
    if side == OrderSide.BUY:
        return _checked_price(instrument, _price_raw(price, field), price, field, lambda raw, step: raw // step * step)
    return _checked_price(instrument, _price_raw(price, field), price, field, lambda raw, step: -(-raw // step) * step)


def _price_raw(price: Any, field: str) -> int:
    if not isinstance(price, Price):
        raise ValidationError(f"invalid {field}: {price!r} (must be a nautilus_trader Price)", field=field, value=repr(price))
    return cast(int, price.raw)  # Nautilus ships no type information; Price.raw is an int


def _checked_price(instrument: Any, raw: int, price: Price, field: str, rule: Any) -> Price:
    rounded = Price.from_raw(rule(raw, instrument.price_increment.raw), instrument.price_precision)
    return _within(instrument, "price", rounded, price, field)


def _within(instrument: Any, kind: str, rounded: Any, given: Any, field: str) -> Any:
    """`rounded` if within the instrument's `min_<kind>`/`max_<kind>` (either may be None); else the
    ValidationError naming `field` and the value as given."""
    low, high = getattr(instrument, f"min_{kind}"), getattr(instrument, f"max_{kind}")
    if low is not None and rounded < low:
        raise ValidationError(f"invalid {field}: {given} is below {instrument.id}'s min_{kind} {low}", field=field, value=str(given))
    if high is not None and rounded > high:
        raise ValidationError(f"invalid {field}: {given} is above {instrument.id}'s max_{kind} {high}", field=field, value=str(given))
    return rounded
