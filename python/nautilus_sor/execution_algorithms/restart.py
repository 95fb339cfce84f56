"""Restart safety of the execution algorithms: save/load of their state, and reconciliation on start, as
`Restart`, a component each algorithm holds (`algorithm.restart`).

Save (`on_save`, Nautilus's `Actor.save`): every parent (schedule left with absolute times, children
and their quantities, retries, abandoned units), the router's venue statistics and the kill-switch's
window, as versioned JSON bytes (`state.py`) under one key. An algorithm stopped by the node saves
what it had at the stop, before the stop gave up the unsent quantity: that quantity resumes.

Load (`on_load`, `Actor.load`): the bytes are decoded and checked whole (`StateError`, nothing
applied); the state is applied on the next start, once the cache holds the orders the venues report.

Start after a load:
1. parents are restored; each child the state knew as working is looked up in the cache: its fills
   while down are booked, and if it closed while down its unfilled rest returns to the schedule; a
   resting child ("maker"/"adaptive" slice) found open is watched again, its re-price/cross alert
   re-armed from the watch saved with it (`resting.py`);
2. reconciliation: every order carrying our algorithm id in the cache is matched to its parent by its
   `parent=` tag, exec spawn id or `<primary>-E<n>` id. A child of a known, unfinished parent the state did not know
   (sent after the last save) is adopted into it (its quantity leaves the schedule). An open order no
   unfinished parent claims is an orphan, handled by `orphan_policy`: "cancel" cancels it, "adopt"
   creates a parent that tracks it to its end (it never sends new children). Every orphan is logged at
   WARNING and listed in `algorithm.reconciliation`;
3. slices whose time passed while down follow `missed_slice_policy`: "merge" sends them now as one
   slice, "spread" adds them evenly (whole lots) to the remaining future slices (now, if none remain);
4. timers are re-armed, and the algorithm listens to its restored strategies' order events (Nautilus
   subscribes an algorithm to a strategy only when the strategy sends it a new order).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId
from nautilus_trader.model.objects import Price

from nautilus_sor.exceptions import StateError
from nautilus_sor.execution_algorithms.parents import ChildState, ParentState
from nautilus_sor.execution_algorithms.state import (
    STATE_KEY,
    STATE_VERSION,
    AlgorithmState,
    ChildRecord,
    ParentRecord,
    RiskState,
    decode_state,
    encode_state,
)
from nautilus_sor.sides import parse_side
from nautilus_sor.units import qty_to_units

if TYPE_CHECKING:
    from nautilus_sor.execution_algorithms.base import SmartExecAlgorithm

# `<primary>-E<n>` (Nautilus's own spawn id form, ours since children count as the primary's spawn);
# `-S<n>` is the form of states saved before.
_CHILD_ID = re.compile(r"^(?P<parent>.+)-[ES](?P<seq>\d+)$")
ORPHAN_POLICIES = ("cancel", "adopt")
MISSED_SLICE_POLICIES = ("merge", "spread")


@dataclass(frozen=True, slots=True)
class OrphanOrder:
    """An open order carrying our algorithm id that no unfinished parent claims."""

    client_order_id: str
    instrument_id: str
    claimed_parent: str | None  # from its tag or id; None when it names none
    leaves_units: int
    reason: str  # "unknown parent" | "parent finished"
    action: str  # "cancel" | "adopt"


@dataclass
class ReconciliationReport:
    """What the start after a restore found in the cache."""

    matched: list[str] = field(default_factory=list)  # working children found open, adopted as working
    closed_while_down: list[str] = field(default_factory=list)  # working children that closed meanwhile
    adopted_unsaved: list[str] = field(default_factory=list)  # children of known parents sent after the save
    missing: list[str] = field(default_factory=list)  # working children the cache does not know (kept as working)
    orphans: list[OrphanOrder] = field(default_factory=list)
    missed_slices: int = 0  # slices whose time passed while down
    missed_units: int = 0

    @property
    def orphan_count(self) -> int:
        return len(self.orphans)


def _filled_units(order: Any) -> int:
    return qty_to_units(order.filled_qty, "filled_qty") if order.filled_qty.raw else 0


def _leaves_units(order: Any) -> int:
    return qty_to_units(order.quantity) - _filled_units(order)


def parent_of(order: Any) -> str | None:
    """The parent an order names: its `parent=` tag, its exec spawn id (a spawned order's primary), else
    the `<primary>-E<n>` form of its id."""
    for tag in order.tags or ():
        if tag.startswith("parent="):
            return str(tag[len("parent="):])
    if order.exec_spawn_id is not None and order.exec_spawn_id != order.client_order_id:
        return str(order.exec_spawn_id.value)
    match = _CHILD_ID.match(order.client_order_id.value)
    return match.group("parent") if match else None


class Restart:
    """Save/load/reconcile of one algorithm, held by it (`algorithm.restart`): the loaded state waiting for
    the start, the state at the last stop, what the last reconciliation found, and which restored
    strategies Nautilus already serves."""

    def __init__(self, algorithm: SmartExecAlgorithm) -> None:
        self.algorithm = algorithm
        self.restored: AlgorithmState | None = None
        self.stop_snapshot: bytes | None = None
        self.reconciliation: ReconciliationReport | None = None
        self.nautilus_listens: dict[str, bool] = {}

    def clear(self) -> None:
        self.nautilus_listens.clear()
        self.reconciliation = None

    # -- save --------------------------------------------------------------------------------

    def save(self) -> dict[str, bytes]:
        if not self.algorithm.is_running and self.stop_snapshot is not None:
            return {STATE_KEY: self.stop_snapshot}
        return {STATE_KEY: self.state_bytes()}

    def state_bytes(self) -> bytes:
        """The algorithm's state now, encoded (what `on_save` stores while running)."""
        parents = [self._parent_record(p) for p in self.algorithm.parents.values()]
        router = self.algorithm.router.save_state() if self.algorithm.router is not None else None
        total, notional = self.algorithm.risk.state()
        state = AlgorithmState(
            version=STATE_VERSION,
            algorithm_id=self.algorithm.id.value,
            parents=parents,
            router=router,
            risk=RiskState(children_total=total, notional=notional),
        )
        return encode_state(state)

    def _parent_record(self, p: ParentState) -> ParentRecord:
        # Timed schedules hold every pending unit in slices (or returned); event-driven ones hold the rest.
        held = 0 if self.algorithm.timed_schedule else p.pending - sum(q for _, q in p.slices) - p.returned
        return ParentRecord(
            primary_id=p.primary_id.value, instrument_id=p.instrument_id.value, side=p.side.name, requested=p.requested,
            limit=None if p.limit is None else str(p.limit), precision=p.precision, lot_units=p.lot_units,
            slices=[(int(ts), int(q)) for ts, q in p.slices], pending=p.pending, working=p.working, filled=p.filled,
            abandoned=p.abandoned, returned=p.returned, retries=p.retries, sequence=p.sequence,
            primary_sent=p.primary_sent, adopted=p.adopted,
            children=[
                ChildRecord(client_order_id=c.client_order_id.value, instrument_id=c.instrument_id.value, units=c.units,
                            filled_units=c.filled_units, done=c.done,
                            resting=None if c.done else self.algorithm.resting.record(c.client_order_id))
                for c in p.children.values()
            ],
            held=held,
        )

    # -- load --------------------------------------------------------------------------------

    def load(self, state: dict[str, bytes]) -> None:
        if STATE_KEY not in state:
            raise StateError(f"invalid state: no {STATE_KEY!r} key (keys: {sorted(state)})", field="state", value=repr(sorted(state)))
        if self.algorithm.is_running:
            raise StateError("invalid state: load it before the algorithm starts (it is running)", field="state", value=self.algorithm.id.value)
        decoded = decode_state(state[STATE_KEY])
        if decoded.algorithm_id != self.algorithm.id.value:
            raise StateError(
                f"invalid algorithm_id: {decoded.algorithm_id!r} (this algorithm is {self.algorithm.id.value!r})",
                field="algorithm_id",
                value=decoded.algorithm_id,
            )
        if (decoded.router is not None) != bool(self.algorithm._config.use_smart_routing):
            raise StateError(
                "invalid router: the state was saved " + ("without" if decoded.router is None else "with") + " smart routing",
                field="router",
                value=repr(decoded.router is not None),
            )
        self.restored = decoded

    def _restore_parent(self, r: ParentRecord) -> ParentState:
        parent = ParentState(
            primary_id=ClientOrderId(r.primary_id), instrument_id=InstrumentId.from_str(r.instrument_id),
            side=parse_side(r.side, "state.parents.side", names=True), requested=r.requested,
            limit=None if r.limit is None else Price.from_str(r.limit), precision=r.precision, lot_units=r.lot_units,
            slices=deque((ts, q) for ts, q in r.slices), pending=r.pending, working=r.working, filled=r.filled,
            abandoned=r.abandoned, returned=r.returned, retries=r.retries, sequence=r.sequence,
            primary_sent=r.primary_sent, adopted=r.adopted,
        )
        for c in r.children:
            cid = ClientOrderId(c.client_order_id)
            parent.children[cid] = ChildState(cid, InstrumentId.from_str(c.instrument_id), c.units, c.filled_units, c.done)
        return parent

    # -- start after a load ------------------------------------------------------------------

    def resume(self) -> None:
        """Applies a loaded state (called from `on_start`, after the router exists)."""
        state, self.restored = self.restored, None
        if state is None:
            return
        algorithm = self.algorithm
        parents = {p.primary_id: p for p in (self._restore_parent(r) for r in state.parents)}
        if state.router is not None and self.algorithm.router is not None:
            self.algorithm.router.load_state(state.router)  # checked whole before it changes anything
        self.algorithm.risk.restore(state.risk.children_total, state.risk.notional)
        for parent in parents.values():
            algorithm.add_parent(parent)
            parent.named_position = algorithm.restored_named_position(parent)
            algorithm.watch_tape_for(parent)
            for cid in parent.children:
                algorithm.ledger.link(cid, parent.primary_id)
        report = self.reconcile()
        self._watch_resting(state, report)
        now = self.algorithm.clock.timestamp_ns()
        for parent in parents.values():
            self._apply_missed_policy(parent, now, report)
            primary = self.algorithm.cache.order(parent.primary_id)
            if not parent.primary_sent and (primary is None or primary.is_closed):
                # The primary was closed (at the stop) or is gone: what is left goes out as children.
                parent.primary_sent = True
            if parent.pending and not parent.slices and not parent.adopted and self.algorithm.timed_schedule:
                parent.slices.append((now, 0))  # a catch-up slice carries what was returned
            parent.check()
            self.algorithm._close_unsent_primary(parent, "nothing left to send after the restart")
            self.algorithm.on_restored(parent)
            self.algorithm._arm(parent)
        self._listen_to_strategies()

    def _watch_resting(self, state: AlgorithmState, report: ReconciliationReport) -> None:
        """Resting children found open are watched again as their saved watch says (`resting.py`)."""
        matched = set(report.matched)
        for record in state.parents:
            parent = self.algorithm.parents.get(ClientOrderId(record.primary_id))
            for c in record.children:
                if c.resting is None or c.client_order_id not in matched or parent is None:
                    continue
                order = self.algorithm.cache.order(ClientOrderId(c.client_order_id))
                if order is not None and not order.is_closed:
                    self.algorithm.resting.restore(parent, order, c.resting)

    def reconcile(self) -> ReconciliationReport:
        """Matches the orders in the cache with the parents (see the module doc); returns the report,
        also kept as `self.reconciliation`."""
        report = ReconciliationReport()
        # 1. Children the state knew as working.
        for parent in list(self.algorithm.parents.values()):
            for child in list(parent.children.values()):
                if child.done:
                    continue
                order = self.algorithm.cache.order(child.client_order_id)
                if order is None:
                    self.algorithm.log.warning(f"{child.client_order_id}: working in the saved state, unknown to the cache; kept as working (at risk)")
                    report.missing.append(child.client_order_id.value)
                    continue
                self._sync_child(parent, child, order)
                (report.closed_while_down if child.done else report.matched).append(child.client_order_id.value)
        # 2. Orders of ours the state did not know.
        for order in self.algorithm.cache.orders():
            if order.exec_algorithm_id != self.algorithm.id:
                continue
            cid = order.client_order_id
            if self.algorithm.ledger.is_child(cid) or cid in self.algorithm.ledger:
                continue
            claimed = parent_of(order)
            claimant = self.algorithm.parents.get(ClientOrderId(claimed)) if claimed is not None else None
            if claimant is not None and not claimant.is_done and not claimant.adopted and self._adopt_unsaved(claimant, order):
                report.adopted_unsaved.append(cid.value)
                continue
            if order.is_closed:
                continue  # history: an order of a parent we no longer track
            reason = "parent finished" if claimant is not None else "unknown parent"
            action = self.algorithm._config.orphan_policy
            report.orphans.append(OrphanOrder(cid.value, order.instrument_id.value, claimed, _leaves_units(order), reason, action))
            self.algorithm.log.warning(f"orphan order {cid} ({reason}: {claimed}), {_leaves_units(order)} units open: {action}")
            if action == "cancel":
                self.algorithm.cancel_order(order)
            else:
                self._adopt_orphan(order, claimed)
        self.reconciliation = report
        return report

    def _sync_child(self, parent: ParentState, child: ChildState, order: Any) -> None:
        """Books what happened to a working child while we were down."""
        filled = _filled_units(order)
        delta = filled - child.filled_units
        if delta:
            child.filled_units = filled
            parent.working -= delta
            parent.filled += delta
        if order.is_closed:
            child.done = True
            unfilled = child.units - child.filled_units
            parent.working -= unfilled
            parent.pending += unfilled
            parent.returned += unfilled  # goes out with the next slice (or the catch-up slice)
        elif child.filled_units >= child.units:
            child.done = True

    def _adopt_unsaved(self, parent: ParentState, order: Any) -> bool:
        """A child sent after the last save: its quantity leaves the schedule (it was sent from the
        earliest slices); False when the parent has no such pending quantity (then it is an orphan)."""
        units = qty_to_units(order.quantity)
        if units > parent.pending:
            return False
        take = units
        used = min(take, parent.returned)
        parent.returned -= used
        take -= used
        while take:
            ts, q = parent.slices[0]
            if q <= take:
                parent.slices.popleft()
                take -= q
            else:
                parent.slices[0] = (ts, q - take)
                take = 0
        filled = _filled_units(order)
        child = ChildState(order.client_order_id, order.instrument_id, units, filled, done=order.is_closed)
        parent.children[order.client_order_id] = child
        self.algorithm.ledger.link(order.client_order_id, parent.primary_id)
        parent.pending -= units
        parent.filled += filled
        if order.is_closed:
            unfilled = units - filled
            parent.pending += unfilled
            parent.returned += unfilled
        else:
            parent.working += units - filled
        match = _CHILD_ID.match(order.client_order_id.value)
        if match:
            parent.sequence = max(parent.sequence, int(match.group("seq")))
        if order.client_order_id == parent.primary_id:
            parent.primary_sent = True
        return True

    def _adopt_orphan(self, order: Any, claimed: str | None) -> None:
        """A parent that tracks an orphan to its end: requested = its quantity, nothing scheduled."""
        key = ClientOrderId(f"ADOPTED-{claimed or order.client_order_id.value}")
        instrument = self.algorithm.cache.instrument(order.instrument_id)
        units, filled = qty_to_units(order.quantity), _filled_units(order)
        parent = self.algorithm.parents.get(key)
        if parent is None:
            parent = ParentState(
                primary_id=key, instrument_id=order.instrument_id, side=order.side, requested=0, limit=None,
                precision=instrument.size_precision if instrument is not None else order.quantity.precision,
                lot_units=qty_to_units(instrument.size_increment) if instrument is not None else 1,
                primary_sent=True, adopted=True,
            )
            self.algorithm.add_parent(parent)
        parent.requested += units
        parent.filled += filled
        parent.working += units - filled
        parent.children[order.client_order_id] = ChildState(order.client_order_id, order.instrument_id, units, filled)
        self.algorithm.ledger.link(order.client_order_id, key)

    def _apply_missed_policy(self, parent: ParentState, now: int, report: ReconciliationReport) -> None:
        """Slices whose time passed while the node was down: merged into one now, or spread."""
        due = []
        while parent.slices and parent.slices[0][0] < now:
            due.append(parent.slices.popleft())
        if not due:
            return
        missed = sum(q for _, q in due)
        report.missed_slices += len(due)
        report.missed_units += missed
        if self.algorithm._config.missed_slice_policy == "spread" and parent.slices:
            lots, rest = divmod(missed, parent.lot_units)
            n = len(parent.slices)
            for i in range(n):
                ts, q = parent.slices[i]
                parent.slices[i] = (ts, q + (lots // n + (1 if i < lots % n else 0)) * parent.lot_units)
            if rest:  # a schedule's slices are whole lots; a residue (never expected) goes first
                ts, q = parent.slices[0]
                parent.slices[0] = (ts, q + rest)
        else:
            parent.slices.appendleft((now, missed))
        self.algorithm.log.warning(
            f"{parent.primary_id}: {len(due)} slice(s), {missed} units, were due while down: {self.algorithm._config.missed_slice_policy}"
        )

    # -- order events after a restore --------------------------------------------------------

    def _listen_to_strategies(self) -> None:
        """Nautilus subscribes an algorithm to a strategy's order events when the strategy sends it an
        order: after a restart, listen to the restored parents' strategies ourselves until it does."""
        strategies = set()
        for parent in self.algorithm.parents.values():
            for cid in [parent.primary_id, *parent.children]:
                order = self.algorithm.cache.order(cid)
                if order is not None:
                    strategies.add(order.strategy_id.value)
        for strategy_id in sorted(strategies):
            topic = f"events.order.{strategy_id}"
            if not self.algorithm.msgbus.is_subscribed(topic, self._on_restored_event):
                self.algorithm.msgbus.subscribe(topic=topic, handler=self._on_restored_event)
            self.nautilus_listens[topic] = self._nautilus_subscribed(topic)

    def _nautilus_subscribed(self, topic: str) -> bool:
        ours = (self._on_restored_event, self.algorithm._on_event_after_stop)
        return any(
            getattr(s.handler, "__self__", None) is self and s.handler not in ours for s in self.algorithm.msgbus.subscriptions(topic)
        )

    def _on_restored_event(self, event: Any) -> None:
        topic = f"events.order.{event.strategy_id.value}"
        if not self.algorithm.is_running or self.nautilus_listens.get(topic, True):
            return  # Nautilus delivers it (or we are stopped)
        if self.algorithm.ledger.is_child(event.client_order_id):
            self.algorithm.on_order_event(event)

    def note_strategy_subscribed(self, strategy_id: Any) -> None:
        topic = f"events.order.{strategy_id.value}"
        if topic in self.nautilus_listens:
            self.nautilus_listens[topic] = self._nautilus_subscribed(topic)
