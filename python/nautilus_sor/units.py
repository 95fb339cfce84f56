"""Exact conversion between Nautilus quantities and the core's integer units.

The core counts quantity in units of 1e-9 of the instrument's base quantity, so every Nautilus
size precision up to 9 maps to whole units and splits stay exact. Nautilus's fixed-point raw values
are converted with integer arithmetic only (no float round trip).
"""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.model.objects import FIXED_PRECISION, Quantity

from nautilus_sor.exceptions import ValidationError

UNIT_DECIMALS = 9
UNITS_PER_QTY = 10**UNIT_DECIMALS
_RAW_PER_UNIT = 10 ** (FIXED_PRECISION - UNIT_DECIMALS)


def qty_to_units(quantity: Quantity, field: str = "quantity") -> int:
    """Units of a Nautilus `Quantity` (precision at most 9)."""
    if not isinstance(quantity, Quantity):
        raise ValidationError(
            f"invalid {field}: {quantity!r} (must be a nautilus_trader Quantity)",
            field=field,
            value=repr(quantity),
        )
    if quantity.precision > UNIT_DECIMALS:
        raise ValidationError(
            f"invalid {field}: {quantity} (precision {quantity.precision} exceeds {UNIT_DECIMALS})",
            field=field,
            value=str(quantity),
        )
    units: int  # Quantity.raw is an int (Nautilus ships no type information)
    units, rest = divmod(quantity.raw, _RAW_PER_UNIT)
    if rest:
        raise ValidationError(f"invalid {field}: {quantity} (not a whole unit)", field=field, value=str(quantity))
    if units <= 0:
        raise ValidationError(f"invalid {field}: {quantity} (must be greater than zero)", field=field, value=str(quantity))
    return units


def decimal_to_units(value: Decimal | float | str | int, field: str) -> int:
    """Units of a plain number such as a lot size from a config (must be whole units, >= 0)."""
    try:
        d = Decimal(str(value))
    except Exception:
        raise ValidationError(f"invalid {field}: {value!r} (not a number)", field=field, value=repr(value)) from None
    if not d.is_finite() or d < 0:
        raise ValidationError(f"invalid {field}: {value!r} (must be a finite number >= 0)", field=field, value=repr(value))
    units = d * UNITS_PER_QTY
    if units != units.to_integral_value():
        raise ValidationError(
            f"invalid {field}: {value!r} (finer than 1e-{UNIT_DECIMALS})", field=field, value=repr(value)
        )
    return int(units)


def precision_holding(units: int, precision: int) -> int:
    """The smallest size precision, at least `precision`, at which `units` is a whole quantity (a rest left
    by a venue of finer size precision than the order's)."""
    while precision < UNIT_DECIMALS and units % 10 ** (UNIT_DECIMALS - precision):
        precision += 1
    return precision


def units_to_qty(units: int, precision: int, field: str = "quantity") -> Quantity:
    """The `Quantity` of `units` at `precision`; refuses a value the precision cannot hold exactly."""
    step = 10 ** (UNIT_DECIMALS - precision)
    if precision > UNIT_DECIMALS or units % step:
        raise ValidationError(
            f"invalid {field}: {units} units cannot be expressed at size precision {precision}",
            field=field,
            value=str(units),
        )
    return Quantity.from_raw(units * _RAW_PER_UNIT, precision)

