"""Resting slices of a scheduled algorithm (`execution_style` "maker" or "adaptive"): the component the
algorithm holds, applying the rules of `styles.py` to live orders.

A resting slice is one post-only GTC limit child at the touch of the venue `select_passive_venue` picks
(without smart routing: the parent's own venue). A time alert per child checks it every
`reprice_interval_s` and at its deadline (the next slice's time; the last slice: the router's passive
horizon): re-price (the touch moved away), cross (behind schedule, or time up), or hold. A re-price or a
cross cancels first and acts on the cancel's confirmation with exactly the unfilled rest, so quantity is
conserved at every event (requested == filled + working + pending + abandoned). A child on a venue the
router marks disconnected is cancelled and its rest returned to the schedule. A post-only refusal (the
touch moved to us in flight) returns the rest to the schedule like any refused child.

Across a restart (`restart.py`) each resting child's watch is saved with it (`RestingRecord`: slice end,
last re-price time, when its alert was due, style parameters) and restored for a child
found open: its alert is re-armed for the time it was due (at once if that passed while down), so it is
re-priced and crossed when it would have been without the restart. A child whose re-price/cross cancel was
in flight at the save and is found open is checked again at once (its due time passed) and decided afresh;
one that closed while down is not watched (its rest went back to the schedule).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId

from nautilus_sor.exceptions import RoutingError, ValidationError
from nautilus_sor.execution_algorithms.alerts import cancel_alert
from nautilus_sor.execution_algorithms.parents import ChildState, ParentState
from nautilus_sor.execution_algorithms.state import RestingRecord
from nautilus_sor.execution_algorithms.styles import ADAPTIVE, MAKER, Action, Resting, StyleParams, adaptive_rests, check_style, decide
from nautilus_sor.units import precision_holding, qty_to_units, units_to_qty

if TYPE_CHECKING:
    from nautilus_sor.execution_algorithms.base import SmartExecAlgorithm

NS_PER_SECOND = 1_000_000_000
DEFAULT_LAST_SLICE_HORIZON_S = 5.0  # without a router (whose passive_horizon_s it otherwise is)


MAX_OUTCOMES = 100_000  # the most recent resting slices kept in `outcomes` (a live algorithm's memory stays bounded)


@dataclass
class SliceOutcome:
    """One resting slice: what was predicted when it was placed, and what happened to it (re-prices and
    its cross included), for calibrating the estimate (`scripts/compare_styles.py --calibration`).

    Costs are in bps of `mid`, fees in (maker fee on the resting fills, the crossing venue's taker fee on
    the crossed ones), positive = paid. With smart routing `mid` is the router's reference price at
    placement (the consolidated mid, which both the resting estimate and the cross-now estimate are
    measured against); without, the resting venue's own mid."""

    ts_ns: int
    style: str
    venue: str
    units: int  # rested at placement
    mid: float  # what the costs are in bps of (see above)
    predicted_fill_probability: float | None  # the router's, for the horizon it was asked (None: no router)
    predicted_bps: float | None  # its rest-then-cross cost
    cross_now_bps: float | None  # adaptive: its cross-now cost
    horizon_s: float  # how long the slice could rest (to its deadline)
    passive_units: int = 0
    passive_cost: float = 0.0  # sum of units * bps over the resting fills
    crossed_units: int = 0
    crossed_cost: float = 0.0

    def realised_bps(self) -> float | None:
        """The filled units' average cost (None: nothing filled)."""
        filled = self.passive_units + self.crossed_units
        return (self.passive_cost + self.crossed_cost) / filled if filled else None


@dataclass
class _Child:
    state: Resting
    params: StyleParams
    tick: float  # the instrument's price increment
    intent: Action | None = None  # set when we cancelled it to re-price or cross
    next_check_ns: int = 0  # when its alert is due
    outcome: SliceOutcome | None = None


class RestingSlices:
    """The resting children of one algorithm, by client order id."""

    def __init__(self, algorithm: SmartExecAlgorithm) -> None:
        self._algo = algorithm
        self._children: dict[ClientOrderId, _Child] = {}
        self.reprices = 0
        self.crosses = 0
        self.adaptive_rested = 0  # adaptive slices that rested / were taken on the estimate
        self.adaptive_taken = 0
        self.outcomes: deque[SliceOutcome] = deque(maxlen=MAX_OUTCOMES)
        self._outcome_of: dict[ClientOrderId, tuple[SliceOutcome, bool]] = {}  # child -> (its slice, resting?)

    def __len__(self) -> int:
        return len(self._children)

    # -- placing -----------------------------------------------------------------------------

    def try_rest(self, parent: ParentState, units: int, params: StyleParams, deadline_ns: int | None = None,
                 outcome: SliceOutcome | None = None) -> bool:
        """Rests `units` of the parent's pending quantity if its style says so now; False (nothing done)
        when the slice should be taken instead: taker style, adaptive choosing to cross, or no touch.
        `deadline_ns`/`outcome`: a re-price's (the slice it continues)."""
        if not params.rests:
            return False
        algo = self._algo
        now = algo.clock.timestamp_ns()
        if deadline_ns is None:
            deadline_ns = parent.slices[0][0] if parent.slices else now + int(self._horizon_s() * NS_PER_SECOND)
        placement = self._placement(parent, units, params, max(deadline_ns - now, 1) / NS_PER_SECOND, outcome is None)
        if placement is None:
            return False
        instrument_id, price, allocation, resting_units, cross_bps = placement
        if not algo._risk_allows(parent, instrument_id, resting_units, price):
            return False
        rest_of_slice = units - resting_units
        units = resting_units
        if outcome is None:
            outcome = self._new_outcome(params, parent, instrument_id, units, allocation, cross_bps, (deadline_ns - now) / NS_PER_SECOND)
        primary = algo.cache.order(parent.primary_id)
        parent.pending -= units
        parent.working += units
        order = algo._send_child(parent, primary, instrument_id, units, resting_price=price, allocation=allocation, post_only=True)
        instrument = algo.cache.instrument(instrument_id)
        tick = float(instrument.price_increment)
        is_buy = parent.side == OrderSide.BUY
        self._children[order.client_order_id] = _Child(Resting(is_buy, round(float(order.price) / tick), deadline_ns, now), params, tick,
                                                       outcome=outcome)
        if outcome is not None:
            self._outcome_of[order.client_order_id] = (outcome, True)
        self._arm(order.client_order_id, now)
        algo._reduce_primary(primary, parent)
        if rest_of_slice:
            # Less than a lot of the venue it rests on: the taker path's way (taken now, or carried to the
            # next slice by its lot rounding).
            algo._send_slice(parent, rest_of_slice, taking=True)
        if not parent.slices and parent.pending == 0 and not parent.primary_sent and primary is not None and not primary.is_closed:
            algo._close_primary_locally(primary, "fully distributed to child orders")
            parent.primary_sent = True
        return True

    def _horizon_s(self) -> float:
        router = self._algo.router
        return router.passive_horizon_s if router is not None else DEFAULT_LAST_SLICE_HORIZON_S

    def _lot_units(self, instrument_id: InstrumentId) -> int:
        instrument = self._algo.cache.instrument(instrument_id)
        return 1 if instrument is None else max(1, qty_to_units(instrument.size_increment, "size_increment"))

    def _placement(self, parent: ParentState, units: int, params: StyleParams, rest_s: float,
                   new_slice: bool) -> tuple[InstrumentId, float, Any, int, float | None] | None:
        """(venue instrument, price to rest at, allocation, units to rest, adaptive's cross-now estimate) or
        None to take the slice. `rest_s`: how long it can rest (to the slice's deadline); `new_slice`: a
        slice's first placement (not a re-price), counted in `adaptive_rested`/`adaptive_taken`.

        A slice rests as one order on one venue, so with smart routing the venue is chosen for the part
        every venue's lot can hold (the slice rounded down to the coarsest lot); what is below the chosen
        venue's lot goes the taker path's way (a slice of 0.16667 BTC rests 0.166 on a 0.001-lot venue
        rather than going whole to the one venue whose lot holds it)."""
        algo = self._algo
        router = algo.router_for(parent)
        allocation = None
        cross_bps: float | None = None
        resting_units = units
        if router is not None:
            coarsest = max(self._lot_units(router.venue_instrument_id(parent.instrument_id, v.name)) for v in router.venues)
            resting_units = units - units % coarsest
            if resting_units <= 0:
                return None  # less than a lot everywhere: taken
        quantity = units_to_qty(resting_units, precision_holding(resting_units, parent.precision))
        if router is not None:
            try:
                # Asked for the time it can rest: to the slice's deadline (the next slice; the last: the horizon).
                allocation = router.select_passive_venue(parent.instrument_id, parent.side, quantity, rest_s,
                                                         now_ns=algo.clock.timestamp_ns())
            except (RoutingError, ValidationError) as exc:
                algo.log.debug(f"{parent.primary_id}: no venue to rest on ({exc}); the slice is taken")
                return None
            if params.style == ADAPTIVE:
                try:
                    # An estimate only: route_order would record a decision that is not made.
                    cross_bps = router.split_score_bps(parent.instrument_id, parent.side, quantity,
                                                                     algo._config.max_venues, parent.limit)
                except (RoutingError, ValidationError):
                    cross_bps = None
                rests = adaptive_rests(allocation.score_bps, cross_bps)
                if new_slice:
                    self.adaptive_rested += rests
                    self.adaptive_taken += not rests
                if not rests:
                    return None
            instrument_id, touch = allocation.instrument_id, allocation.expected_price
            lot = self._lot_units(instrument_id)
            resting_units -= resting_units % lot
            if resting_units <= 0:
                return None
        else:
            if params.style != MAKER:
                return None  # adaptive weighs the router's estimates; without smart routing it takes
            instrument_id, touch = parent.instrument_id, self._touch(parent.instrument_id, parent.side)
        if touch is None:
            return None
        if parent.limit is not None:
            limit = parent.limit.as_double()
            touch = min(touch, limit) if parent.side == OrderSide.BUY else max(touch, limit)
        return instrument_id, touch, allocation, resting_units, cross_bps

    def _new_outcome(self, params: StyleParams, parent: ParentState, instrument_id: InstrumentId, units: int, allocation: Any,
                     cross_bps: float | None, rest_s: float) -> SliceOutcome | None:
        router = self._algo.router
        # The reference the router's estimates were made against, on the books it just decided on.
        mid = router.reference_price(parent.side) if router is not None and allocation is not None else self._mid(instrument_id)
        if mid is None:
            return None
        outcome = SliceOutcome(
            ts_ns=self._algo.clock.timestamp_ns(), style=params.style, venue=instrument_id.venue.value, units=units, mid=mid,
            predicted_fill_probability=None if allocation is None else allocation.fill_probability,
            predicted_bps=None if allocation is None else allocation.score_bps, cross_now_bps=cross_bps, horizon_s=rest_s,
        )
        self.outcomes.append(outcome)
        return outcome

    def _mid(self, instrument_id: InstrumentId) -> float | None:
        bid, ask = self._touch(instrument_id, OrderSide.BUY), self._touch(instrument_id, OrderSide.SELL)
        return None if bid is None or ask is None else (bid + ask) / 2

    def on_fill(self, client_order_id: ClientOrderId, units: int, price: float, is_buy: bool) -> None:
        """Books a fill of a resting slice's child (resting, or crossing its rest) on the slice's outcome."""
        entry = self._outcome_of.get(client_order_id)
        if entry is None:
            return
        outcome, resting = entry
        router = self._algo.router
        order = self._algo.cache.order(client_order_id)
        fee = 0.0
        if router is not None and order is not None:
            config = router.venue_config(order.instrument_id.venue.value)
            fee = (config.maker_fee if resting else config.taker_fee) * 1e4
        bps = ((price - outcome.mid) if is_buy else (outcome.mid - price)) / outcome.mid * 1e4 + fee
        if resting:
            outcome.passive_units += units
            outcome.passive_cost += units * bps
        else:
            outcome.crossed_units += units
            outcome.crossed_cost += units * bps

    def _touch(self, instrument_id: InstrumentId, side: OrderSide) -> float | None:
        """Our side's best price on the venue: best bid to buy, best ask to sell (book, then quote)."""
        cache = self._algo.cache
        book = cache.order_book(instrument_id)
        if book is not None:
            price = book.best_bid_price() if side == OrderSide.BUY else book.best_ask_price()
            if price is not None:
                return float(price.as_double())
        quote = cache.quote_tick(instrument_id)
        if quote is not None:
            return float((quote.bid_price if side == OrderSide.BUY else quote.ask_price).as_double())
        return None

    # -- checking ----------------------------------------------------------------------------

    def _timer(self, client_order_id: ClientOrderId) -> str:
        return f"{self._algo.id.value}-rest-{client_order_id.value}"

    def _arm(self, client_order_id: ClientOrderId, now: int, at: int | None = None) -> None:
        child = self._children[client_order_id]
        if at is None:
            at = min(child.state.deadline_ns, now + int(child.params.reprice_interval_s * NS_PER_SECOND))
        child.next_check_ns = max(at, now + 1)
        name = self._timer(client_order_id)
        cancel_alert(self._algo.clock, name)
        self._algo.clock.set_time_alert_ns(name, child.next_check_ns, self._on_alert)

    # -- restart -----------------------------------------------------------------------------

    def record(self, client_order_id: ClientOrderId) -> RestingRecord | None:
        """The watch of a resting child, for the saved state (None: not a watched resting child)."""
        child = self._children.get(client_order_id)
        if child is None:
            return None
        return RestingRecord(deadline_ns=child.state.deadline_ns, last_priced_ns=child.state.last_priced_ns,
                             next_check_ns=child.next_check_ns, execution_style=child.params.style,
                             catch_up_fraction=child.params.catch_up_fraction, reprice_interval_s=child.params.reprice_interval_s)

    def restore(self, parent: ParentState, order: Any, record: RestingRecord) -> None:
        """Watches a restored child found open in the cache again, as the saved watch says (module doc)."""
        algo = self._algo
        instrument = algo.cache.instrument(order.instrument_id)
        tick = float(instrument.price_increment)
        params = check_style(record.execution_style, record.catch_up_fraction, record.reprice_interval_s)
        state = Resting(parent.side == OrderSide.BUY, round(float(order.price) / tick), record.deadline_ns, record.last_priced_ns)
        self._children[order.client_order_id] = _Child(state, params, tick)
        self._arm(order.client_order_id, algo.clock.timestamp_ns(), record.next_check_ns)

    def _on_alert(self, event: Any) -> None:
        client_order_id = ClientOrderId(event.name[len(self._algo.id.value) + len("-rest-"):])
        child = self._children.get(client_order_id)
        if child is None or child.intent is not None:
            return
        algo = self._algo
        order = algo.cache.order(client_order_id)
        primary_id = algo.ledger.parent_of(client_order_id)
        if order is None or order.is_closed or primary_id is None:
            self._children.pop(client_order_id, None)
            return
        parent = algo.parents[primary_id]
        now = algo.clock.timestamp_ns()
        router = algo.router
        if router is not None and order.instrument_id.venue.value in set(router.disconnected_venues):
            algo.log.warning(f"{client_order_id}: resting on disconnected {order.instrument_id.venue}; cancelled, back to the schedule")
            del self._children[client_order_id]  # its cancel takes the ordinary path: back to the schedule
            algo.cancel_order(order)
            return
        touch = self._touch(order.instrument_id, parent.side)
        touch_tick = None if touch is None else round(touch / child.tick)
        due = parent.requested - sum(q for _, q in parent.slices) - parent.returned
        action = decide(child.state, child.params, now_ns=now, touch_tick=touch_tick, behind_units=due - parent.filled,
                        parent_units=parent.requested)
        if action is Action.HOLD:
            self._arm(client_order_id, now)
            return
        child.intent = action
        algo.cancel_order(order)

    # -- events ------------------------------------------------------------------------------

    def forget(self, client_order_id: ClientOrderId) -> None:
        """The child is done (filled): nothing more to watch."""
        self._outcome_of.pop(client_order_id, None)
        if self._children.pop(client_order_id, None) is not None:
            cancel_alert(self._algo.clock, self._timer(client_order_id))

    def on_cancelled(self, parent: ParentState, child: ChildState) -> bool:
        """Our own re-price or cross cancel confirmed: acts on the unfilled rest and returns True; False
        for any other close (the algorithm's ordinary path returns the rest to the schedule)."""
        watched = self._children.pop(child.client_order_id, None)
        if watched is None or watched.intent is None:
            return False
        self._outcome_of.pop(child.client_order_id, None)
        algo = self._algo
        unfilled = child.units - child.filled_units
        child.done = True
        parent.working -= unfilled
        if not algo.is_running:
            parent.abandoned += unfilled  # stopped: nothing is sent again
            return True
        parent.pending += unfilled
        if unfilled <= 0:
            return True
        if watched.intent is Action.REPRICE:
            self.reprices += 1
            if self.try_rest(parent, unfilled, watched.params, watched.state.deadline_ns, watched.outcome):
                return True
        self.crosses += 1
        before = set(parent.children)
        algo._send_slice(parent, unfilled, taking=True)
        if watched.outcome is not None:
            for cid in parent.children.keys() - before:
                self._outcome_of[cid] = (watched.outcome, False)
        return True


__all__ = ["RestingSlices"]
