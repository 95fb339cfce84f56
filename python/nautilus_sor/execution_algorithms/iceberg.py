"""Iceberg: show `visible_pct` of the parent at a time as a resting limit order, and replenish the
next chunk when the visible one has filled. The hidden quantity is never shown, and each chunk is
its own order: Nautilus's simulator ignores `display_qty`, so this is how the display is honest.

The price is the parent's limit, or, for a market parent, the touch on our side (best bid to buy,
best ask to sell) when the chunk is sent. With smart routing each chunk rests where the router's
passive rule (`SmartOrderRouter.select_passive_venue`, the core's `select_passive`) expects it to cost
least over `passive_horizon_seconds`: maker fee and half spread earned with the probability the
venue's recent tape fills it, taker fee and half spread paid otherwise. The algorithm subscribes to
the trades of the venue instruments and feeds them to the router. Without a two-sided book or quote
on any venue it falls back to the taker `select_venue`.
"""

from __future__ import annotations

from typing import Any

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import OrderCanceled, OrderDenied, OrderExpired, OrderFilled, OrderRejected
from nautilus_trader.model.identifiers import ClientOrderId, ExecAlgorithmId, InstrumentId
from nautilus_trader.model.orders import Order

from nautilus_sor._core import Iceberg
from nautilus_sor.exceptions import ConfigError, MarketDataError, NoEligibleVenueError, RoutingError
from nautilus_sor.execution_algorithms.base import EventDrivenExecAlgorithm, SmartExecAlgorithmConfig
from nautilus_sor.execution_algorithms.checks import check_positive_seconds
from nautilus_sor.execution_algorithms.parents import ParentState
from nautilus_sor.smart_router import VenueAllocation
from nautilus_sor.units import qty_to_units, units_to_qty


class IcebergExecAlgorithmConfig(SmartExecAlgorithmConfig, kw_only=True, frozen=True):
    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("ICEBERG")
    visible_pct: float = 0.1
    display_jitter_pct: float = 0.0
    # How long a chunk is expected to rest before the rest would be crossed, for the passive venue choice
    # (the evaluation's slice interval; docs/evaluation.md).
    passive_horizon_seconds: float = 5.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive_seconds("passive_horizon_seconds", self.passive_horizon_seconds)
        v = self.visible_pct
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
            raise ConfigError(f"invalid visible_pct: {v!r} (must be in (0, 1])", field="visible_pct", value=repr(v))
        j = self.display_jitter_pct
        if isinstance(j, bool) or not isinstance(j, (int, float)) or not 0 <= j < 1:
            raise ConfigError(f"invalid display_jitter_pct: {j!r} (must be in [0, 1))", field="display_jitter_pct", value=repr(j))


class IcebergExecAlgorithm(EventDrivenExecAlgorithm):
    """Per-order `exec_algorithm_params`: `visible_pct`, `display_jitter_pct`, `passive_horizon_seconds`."""

    ORDER_PARAMS = ("visible_pct", "display_jitter_pct", "passive_horizon_seconds")

    def __init__(self, config: IcebergExecAlgorithmConfig | None = None) -> None:
        config = config or IcebergExecAlgorithmConfig()
        super().__init__(config)
        self.iceberg_config = config
        self._icebergs: dict[ClientOrderId, Iceberg] = {}
        # Parents restored with a chunk still open: the hidden rest is shown once that chunk is done.
        self._deferred: set[ClientOrderId] = set()

    def rests_by_config(self) -> bool:
        return True  # every chunk rests

    def on_parent(self, order: Order, parent: ParentState) -> None:
        if self.router is not None:
            self._subscribe_tape(self.router.watch_tape(parent.instrument_id))
        c = self.order_config(parent.primary_id)
        state = Iceberg(parent.requested // parent.lot_units, c.visible_pct, 1, c.display_jitter_pct, c.seed)
        self._icebergs[order.client_order_id] = state
        self._send_chunk(parent, state.next_chunk() * parent.lot_units)

    def _price(self, parent: ParentState, instrument_id: InstrumentId) -> float:
        if parent.limit is not None:
            return float(parent.limit.as_double())
        quote = self.cache.quote_tick(instrument_id)
        book = self.cache.order_book(instrument_id)
        buy = parent.side == OrderSide.BUY
        if book is not None and (book.best_bid_price() if buy else book.best_ask_price()) is not None:
            return float((book.best_bid_price() if buy else book.best_ask_price()).as_double())
        if quote is not None:
            return float((quote.bid_price if buy else quote.ask_price).as_double())
        raise MarketDataError(f"invalid instrument_id: no quote for {instrument_id} yet: an iceberg chunk joins the touch", field="instrument_id", value=str(instrument_id))

    def _send_chunk(self, parent: ParentState, units: int) -> None:
        primary = self.cache.order(parent.primary_id)
        instrument_id = parent.instrument_id
        allocation = None
        try:
            if self.router_for(parent) is not None:
                allocation = self._route_chunk(parent, units)
                instrument_id = allocation.instrument_id
            price = self._price(parent, instrument_id)
        except RoutingError as exc:
            self.log.warning(f"{parent.primary_id}: chunk of {units} units not placed ({exc}); retried")
            # Back into hiding: a retry shows it again (while it counts as on display, none would be).
            self._icebergs[parent.primary_id].on_cancel()
            self._return_units(parent, units)
            return
        if not self._risk_allows(parent, instrument_id, units, price):
            self._icebergs[parent.primary_id].on_cancel()  # the chunk goes back into hiding
            self._return_units(parent, units)
            return
        parent.pending -= units
        parent.working += units
        self._send_child(parent, primary, instrument_id, units, resting_price=price, allocation=allocation)
        self._reduce_primary(primary, parent)
        if parent.pending == 0 and primary is not None and not primary.is_closed and not parent.primary_sent:
            self._close_primary_locally(primary, "fully distributed to iceberg chunks")
            parent.primary_sent = True
        parent.check()

    def _route_chunk(self, parent: ParentState, units: int) -> VenueAllocation:
        """The venue a chunk rests on: the passive rule, or the taker `select_venue` when no venue has
        a two-sided book or quote to join (the choice before passive selection existed)."""
        assert self.router is not None
        quantity = units_to_qty(units, parent.precision)
        try:
            horizon = self.order_config(parent.primary_id).passive_horizon_seconds
            return self.router.select_passive_venue(parent.instrument_id, parent.side, quantity, horizon)
        except NoEligibleVenueError as exc:
            self.log.debug(f"{parent.primary_id}: no venue to rest on by the tape ({exc}); taker scoring")
            return self.router.select_venue(parent.instrument_id, parent.side, quantity)

    def _send_slice(self, parent: ParentState, units: int, taking: bool = False) -> None:
        """A retry after a failed chunk: show the next chunk (the rest stays hidden, still pending). An
        iceberg always rests its chunks: `execution_style` and `taking` do not apply to it."""
        state = self._icebergs.get(parent.primary_id)
        if state is None or state.working:
            return
        lots = state.next_chunk()
        if lots:
            self._send_chunk(parent, lots * parent.lot_units)

    def on_parent_dropped(self, primary_id: ClientOrderId) -> None:
        self._icebergs.pop(primary_id, None)
        self._deferred.discard(primary_id)

    def on_restored(self, parent: ParentState) -> None:
        """After a restart: a new iceberg over the hidden rest, showing the same display size as the
        original and continuing its display-jitter draws; with a chunk still open, only once that
        chunk is done."""
        if parent.adopted or parent.pending == 0:
            return
        if any(not c.done for c in parent.children.values()):
            self._deferred.add(parent.primary_id)
            return
        self._restart_iceberg(parent)

    def _restart_iceberg(self, parent: ParentState) -> None:
        parent.slices.clear()
        parent.returned = 0  # all of pending is hidden again
        state = self._resumed_iceberg(parent)
        self._icebergs[parent.primary_id] = state
        self._send_chunk(parent, state.next_chunk() * parent.lot_units)

    def _resumed_iceberg(self, parent: ParentState) -> Iceberg:
        """An iceberg over the hidden rest that shows what the parent's own iceberg showed: the display
        size comes from the whole parent (not from what is left), and the jitter draws continue after
        one per chunk already shown (each chunk is a child)."""
        c = self.order_config(parent.primary_id)
        hidden = parent.pending // parent.lot_units
        display = Iceberg(parent.requested // parent.lot_units, c.visible_pct, 1).display_qty
        state = Iceberg(hidden, min(1.0, display / hidden), 1, c.display_jitter_pct, c.seed)
        if state.display_qty != min(display, hidden):  # pragma: no cover - floor_tolerant makes it exact
            raise AssertionError(f"resumed display {state.display_qty} != {min(display, hidden)}")
        if c.display_jitter_pct > 0:
            for _ in parent.children:
                state.next_chunk()
                state.on_cancel()
        return state

    def on_order_event(self, event: Any) -> None:
        primary_id = self.ledger.parent_of(event.client_order_id)
        if primary_id in self._deferred:
            super().on_order_event(event)
            parent = self.parents[primary_id]
            if self.is_running and not any(not c.done for c in parent.children.values()):
                self._deferred.discard(primary_id)
                if parent.pending:
                    self._restart_iceberg(parent)
            return
        state = self._icebergs.get(primary_id) if primary_id is not None else None
        child = self.parents[primary_id].children.get(event.client_order_id) if state is not None else None
        if state is not None and child is not None and not child.done and isinstance(event, (OrderCanceled, OrderRejected, OrderExpired, OrderDenied)):
            state.on_cancel()  # the unfilled part of the chunk goes back into hiding
        super().on_order_event(event)
        if state is None or not isinstance(event, OrderFilled):
            return
        parent = self.parents[primary_id]
        lots = qty_to_units(event.last_qty, "last_qty") // parent.lot_units
        next_lots = state.on_fill(lots)
        if next_lots and self.is_running:  # a stopped algorithm books late fills but shows nothing new
            self._send_chunk(parent, next_lots * parent.lot_units)
