"""POV: participate at a target rate of the market volume observed on the trade tape (of every routed
venue when smart routing is on), with minimum and maximum child sizes."""

from __future__ import annotations

from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.identifiers import ClientOrderId, ExecAlgorithmId, InstrumentId
from nautilus_trader.model.orders import Order

from nautilus_sor._core import PovTracker
from nautilus_sor.exceptions import ConfigError
from nautilus_sor.execution_algorithms.base import EventDrivenExecAlgorithm, SmartExecAlgorithmConfig
from nautilus_sor.execution_algorithms.checks import check_number
from nautilus_sor.execution_algorithms.parents import ParentState
from nautilus_sor.execution_algorithms.styles import STYLE_PARAMS
from nautilus_sor.units import decimal_to_units, qty_to_units


class POVExecAlgorithmConfig(SmartExecAlgorithmConfig, kw_only=True, frozen=True):
    exec_algorithm_id: ExecAlgorithmId | None = ExecAlgorithmId("POV")
    participation_rate: float = 0.1
    # In instrument quantity (e.g. 0.01 BTC); 0 / None = no bound.
    min_child_quantity: float = 0.0
    max_child_quantity: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        rate = self.participation_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1:
            raise ConfigError(f"invalid participation_rate: {rate!r} (must be in (0, 1])", field="participation_rate", value=repr(rate))
        check_number("min_child_quantity", self.min_child_quantity, low=0.0)
        if self.max_child_quantity is not None:
            check_number("max_child_quantity", self.max_child_quantity, low=0.0, low_open=True)
        if self.max_child_quantity is not None and self.max_child_quantity < self.min_child_quantity:
            raise ConfigError(
                f"invalid max_child_quantity: {self.max_child_quantity!r} (below min_child_quantity {self.min_child_quantity})",
                field="max_child_quantity",
                value=repr(self.max_child_quantity),
            )


class POVExecAlgorithm(EventDrivenExecAlgorithm):
    """Per-order `exec_algorithm_params`: `participation_rate`, `min_child_quantity`, `max_child_quantity`."""

    ORDER_PARAMS = ("participation_rate", "min_child_quantity", "max_child_quantity", *STYLE_PARAMS)

    def __init__(self, config: POVExecAlgorithmConfig | None = None) -> None:
        config = config or POVExecAlgorithmConfig()
        super().__init__(config)
        self.pov_config = config
        self._trackers: dict[ClientOrderId, PovTracker] = {}
        self._by_instrument: dict[InstrumentId, list[ClientOrderId]] = {}

    def on_parent(self, order: Order, parent: ParentState) -> None:
        self._follow_tape(parent, parent.requested)

    def on_parent_dropped(self, primary_id: ClientOrderId) -> None:
        self._trackers.pop(primary_id, None)
        for followers in self._by_instrument.values():
            if primary_id in followers:
                followers.remove(primary_id)

    def on_restored(self, parent: ParentState) -> None:
        """After a restart, participation restarts from the restart: a tracker for what is left (the
        market volume traded while down is not caught up). Units returned by children that failed
        or closed unfilled while down go out in a catch-up slice now, as any returned quantity."""
        if parent.adopted:
            return
        if parent.returned and not parent.slices:
            parent.slices.append((self.clock.timestamp_ns(), 0))
        left = parent.pending - parent.returned - sum(q for _, q in parent.slices)
        if left > 0:
            self._follow_tape(parent, left)

    def _follow_tape(self, parent: ParentState, units: int) -> None:
        order = parent  # the primary's id and instrument, as on_parent had them
        c = self.order_config(parent.primary_id)
        self._trackers[order.primary_id] = PovTracker(
            units,
            c.participation_rate,
            decimal_to_units(c.min_child_quantity, "min_child_quantity"),
            None if c.max_child_quantity is None else decimal_to_units(c.max_child_quantity, "max_child_quantity"),
            parent.lot_units,
        )
        instruments = [order.instrument_id]
        router = self.router_for(parent)
        if router is not None:
            instruments = [router.venue_instrument_id(order.instrument_id, v.name) for v in router.venues]
        for instrument_id in instruments:
            if instrument_id not in self._by_instrument:
                self.subscribe_trade_ticks(instrument_id)
            self._by_instrument.setdefault(instrument_id, []).append(order.primary_id)

    def on_trade_tick(self, tick: TradeTick) -> None:
        super().on_trade_tick(tick)  # the router's tape (a resting style's fill probability)
        volume = qty_to_units(tick.size, "size")
        for primary_id in self._by_instrument.get(tick.instrument_id, []):
            parent: ParentState = self.parents[primary_id]
            tracker = self._trackers[primary_id]
            child = tracker.on_market_volume(volume)
            if child:
                self._send_slice(parent, child + parent.returned)
                parent.returned = 0
                parent.check()
