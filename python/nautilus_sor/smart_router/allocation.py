"""`VenueAllocation`: where (part of) an order goes, what it is expected to cost, and why."""

from __future__ import annotations

import dataclasses
from typing import Any

from nautilus_trader.model.identifiers import InstrumentId, Venue
from nautilus_trader.model.objects import Quantity


_ALLOCATION_FIELDS = ("venue", "instrument_id", "quantity", "expected_price", "fee", "latency_cost", "miss_cost", "score_bps",
                      "fill_probability", "fee_rate")


class VenueAllocation:
    """Where (part of) an order goes, what it is expected to cost, and why.

    `expected_price`: the average price the router expects this quantity to fill at on this venue:
    walked through the venue's book when the router has books, else its quote's touch, else the `price`
    given to the call (a limit is assumed to fill at the limit); None when none of those exists (no book,
    no quote, no price: the router then decides on fees, latency and learned fill rates alone).
    `fee_rate`: the fee as a fraction of notional (taker fee for taker routing; for a passive choice the
    expected mix of maker and taker), always known. `fee`, `latency_cost`, `miss_cost`: the expected
    amounts in quote currency for the whole quantity at `expected_price`; None without a price (the
    fractions are in `fee_rate` and, in bps, in `reason` and `score_bps`).

    Immutable, compared and hashed by value like a frozen dataclass. `reason` is given, or (from the
    router, `how=`) written the first time it is read: formatting it costs more than the routing on a
    hot path that never reads it."""

    __slots__ = (*_ALLOCATION_FIELDS, "_reason", "_how", "_relative")

    venue: Venue
    instrument_id: InstrumentId
    quantity: Quantity
    expected_price: float | None
    fee: float | None
    latency_cost: float | None
    miss_cost: float | None
    score_bps: float
    fill_probability: float
    fee_rate: float | None
    _reason: str | None
    _how: str | None
    _relative: tuple[float, float, float] | None  # (fee, latency, miss) in bps when there is no price

    def __init__(self, venue: Venue, instrument_id: InstrumentId, quantity: Quantity, expected_price: float | None, fee: float | None,
                 latency_cost: float | None, miss_cost: float | None, score_bps: float, fill_probability: float, reason: str | None = None,
                 *, how: str | None = None, fee_rate: float | None = None, relative_bps: tuple[float, float, float] | None = None) -> None:
        if reason is None and how is None:
            raise TypeError("VenueAllocation needs a reason")
        # Each slot's own setter (a router builds several of these per decision: the generic
        # object.__setattr__ by name costs twice as much).
        for set_slot, value in zip(_SLOT_SETTERS, (venue, instrument_id, quantity, expected_price, fee, latency_cost, miss_cost, score_bps,
                                                   fill_probability, fee_rate, reason, how, relative_bps)):
            set_slot(self, value)

    @property
    def reason(self) -> str:
        reason = self._reason
        if reason is None:
            reason = self._explain()
            object.__setattr__(self, "_reason", reason)
        return reason

    def _explain(self) -> str:
        price = f"{self.expected_price:.10g}" if self.expected_price is not None else "no price"
        if self._relative is not None:
            fee, latency, miss = self._relative
        else:
            # fee, latency_cost and miss_cost are in quote currency for the whole quantity.
            notional = (self.expected_price or 1.0) * self.quantity.as_double()
            fee, latency, miss = ((x or 0.0) / notional * 1e4 for x in (self.fee, self.latency_cost, self.miss_cost))
        return (
            f"{self._how}: avg {price}, fee {fee:.2f} bps, latency risk {latency:.2f} bps, "
            f"miss {miss:.2f} bps (p_fill {self.fill_probability:.2f}); {self.score_bps:+.3f} bps vs reference"
        )

    def _values(self) -> tuple[Any, ...]:
        return (*(getattr(self, name) for name in _ALLOCATION_FIELDS), self.reason)

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, VenueAllocation)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in (*_ALLOCATION_FIELDS, "reason"))
        return f"VenueAllocation({inner})"

    def __getstate__(self) -> tuple[Any, ...]:
        return self._values()

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip((*_ALLOCATION_FIELDS, "_reason"), state):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_how", None)
        object.__setattr__(self, "_relative", None)


# In __init__'s order: the fields, then _reason, _how, _relative.
_SLOT_SETTERS = tuple(VenueAllocation.__dict__[name].__set__ for name in (*_ALLOCATION_FIELDS, "_reason", "_how", "_relative"))
