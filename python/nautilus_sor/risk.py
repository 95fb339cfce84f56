"""The kill-switch: limits checked before every child order an execution algorithm sends.

* `max_notional_per_venue_per_minute`: the notional (quantity x expected price, quote currency) sent
  to one venue over any rolling 60 s window;
* `max_children_per_parent` / `max_children_total`: how many child orders one parent, or the whole
  algorithm, may send.

A child the switch refuses is not sent and not lost: its units go back to the parent's schedule
(`pending`), to be tried again with the next slice or a retry slice, and are abandoned after
`max_retries` like any child that keeps failing. Every refusal is logged at WARNING and recorded as a
`KillSwitchTriggered`, kept on the algorithm (`algorithm.risk_events`) and published on the message
bus topic `nautilus_sor.risk`.

The window is a deque of (ts, notional) per venue with a running sum: O(1) amortised per child, and
memory bounded by the children sent in one minute.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from nautilus_sor.exceptions import ConfigError

RISK_TOPIC = "nautilus_sor.risk"
WINDOW_NS = 60 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class KillSwitchTriggered:
    """A child order the kill-switch refused, and why."""

    ts_ns: int
    algorithm_id: str
    primary_id: str
    venue: str
    instrument_id: str
    units: int
    notional: float | None
    limit: str  # the config field whose limit was hit
    limit_value: float
    current_value: float  # what the limit measures, before this child
    action: str  # what happened to the child's units


def check_limits(max_notional_per_venue_per_minute: Any, max_children_per_parent: Any, max_children_total: Any) -> None:
    """None (no limit) or a positive number; else a ConfigError naming the field."""
    value = max_notional_per_venue_per_minute
    if value is not None:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and value != float("inf") and value > 0
        if not ok:
            raise ConfigError(
                f"invalid max_notional_per_venue_per_minute: {value!r} (must be a finite number > 0, or None for no limit)",
                field="max_notional_per_venue_per_minute",
                value=repr(value),
            )
    for name, count in (("max_children_per_parent", max_children_per_parent), ("max_children_total", max_children_total)):
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ConfigError(f"invalid {name}: {count!r} (must be an integer >= 1, or None for no limit)", field=name, value=repr(count))


class KillSwitch:
    def __init__(
        self,
        max_notional_per_venue_per_minute: float | None = None,
        max_children_per_parent: int | None = None,
        max_children_total: int | None = None,
        window_ns: int = WINDOW_NS,
    ) -> None:
        check_limits(max_notional_per_venue_per_minute, max_children_per_parent, max_children_total)
        self.max_notional = max_notional_per_venue_per_minute
        self.max_children_per_parent = max_children_per_parent
        self.max_children_total = max_children_total
        self.window_ns = window_ns
        self.children_total = 0
        self._sent: dict[str, deque[tuple[int, float]]] = {}
        self._sums: dict[str, float] = {}

    @property
    def active(self) -> bool:
        return self.max_notional is not None or self.max_children_per_parent is not None or self.max_children_total is not None

    def notional_in_window(self, venue: str, now_ns: int) -> float:
        sent = self._sent.get(venue)
        if not sent:
            return 0.0
        start = now_ns - self.window_ns
        while sent and sent[0][0] <= start:
            _, notional = sent.popleft()
            self._sums[venue] -= notional
        if not sent:
            self._sums[venue] = 0.0  # no float residue once the window is empty
        return self._sums[venue]

    def breach(self, venue: str, notional: float | None, parent_children: int, now_ns: int) -> tuple[str, float, float] | None:
        """The first limit this child would break, as (field, limit, current value); None if it may go."""
        if self.max_children_total is not None and self.children_total + 1 > self.max_children_total:
            return "max_children_total", float(self.max_children_total), float(self.children_total)
        if self.max_children_per_parent is not None and parent_children + 1 > self.max_children_per_parent:
            return "max_children_per_parent", float(self.max_children_per_parent), float(parent_children)
        if self.max_notional is not None:
            used = self.notional_in_window(venue, now_ns)
            if notional is None:
                # Without a price the notional cannot be bounded: refuse rather than guess.
                return "max_notional_per_venue_per_minute", self.max_notional, used
            if used + notional > self.max_notional * (1 + 1e-12):
                return "max_notional_per_venue_per_minute", self.max_notional, used
        return None

    def record(self, venue: str, notional: float | None, now_ns: int) -> None:
        self.children_total += 1
        if self.max_notional is not None and notional is not None:
            self._sent.setdefault(venue, deque()).append((now_ns, notional))
            self._sums[venue] = self._sums.get(venue, 0.0) + notional

    # -- state --------------------------------------------------------------------------------

    def state(self) -> tuple[int, dict[str, list[tuple[int, float]]]]:
        return self.children_total, {venue: list(sent) for venue, sent in self._sent.items() if sent}

    def restore(self, children_total: int, notional: dict[str, list[tuple[int, float]]]) -> None:
        self.children_total = children_total
        self._sent = {venue: deque((int(ts), float(n)) for ts, n in entries) for venue, entries in notional.items()}
        self._sums = {venue: sum(n for _, n in sent) for venue, sent in self._sent.items()}
