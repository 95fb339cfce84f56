"""One parent (a primary order being executed) and its child orders, in integer units.

Per parent, at every event: requested == filled + working + pending + abandoned (see `base.py`)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId, PositionId
from nautilus_trader.model.objects import Price

from nautilus_sor.execution_algorithms.styles import StyleParams
from nautilus_sor.units import precision_holding, units_to_qty


@dataclass
class ChildState:
    client_order_id: ClientOrderId
    instrument_id: InstrumentId
    units: int
    filled_units: int = 0
    done: bool = False


@dataclass
class ParentState:
    """The bookkeeping of one primary order (all quantities in units)."""

    primary_id: ClientOrderId
    instrument_id: InstrumentId
    side: OrderSide
    requested: int
    limit: Price | None
    precision: int
    lot_units: int
    slices: deque[tuple[int, int]] = field(default_factory=deque)  # (absolute ts ns, units)
    pending: int = 0
    working: int = 0
    filled: int = 0
    abandoned: int = 0
    returned: int = 0  # units returned by failed children, sent with the next slice
    retries: int = 0
    sequence: int = 0
    primary_sent: bool = False
    adopted: bool = False  # created on a restart for an orphan order: tracks it, never sends
    named_position: PositionId | None = None  # the position its strategy named: the parent trades only it
    children: dict[ClientOrderId, ChildState] = field(default_factory=dict)
    # The execution style its config gives: derived once per parent (not per slice), never saved (a
    # restart derives it again).
    style: StyleParams | None = field(default=None, repr=False, compare=False)

    def quantity_text(self, units: int) -> str:
        """`units` as the instrument's quantity, for messages: "1.215 BTCUSDT.CHEAP"."""
        return f"{units_to_qty(units, precision_holding(units, self.precision))} {self.instrument_id}"

    def check(self) -> None:
        total = self.filled + self.working + self.pending + self.abandoned
        if total != self.requested:  # pragma: no cover - an invariant, asserted by the tests
            raise AssertionError(f"parent {self.primary_id}: {total} != {self.requested} requested ({self})")

    @property
    def is_done(self) -> bool:
        return self.working == 0 and self.pending == 0
