"""The parent/child ledger of an execution algorithm: its parents by primary id, which parent each child
order belongs to, and the schedule each parent started with. Pure bookkeeping (no Nautilus), bounded.

A long-lived live algorithm sees parents without end; it keeps every open parent and the most recent
`max_finished` finished ones (what a restart's reconciliation and a report read), dropping the oldest
finished past that, with their children's links and their planned schedule. At most
`open + max_finished` parents are held after any `sweep()` (which `add` runs); None keeps every parent
(a backtest's analysis reads them all)."""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from typing import Generic, Protocol, TypeVar

DEFAULT_MAX_FINISHED = 1000


class Finishable(Protocol):
    @property
    def is_done(self) -> bool: ...


K = TypeVar("K", bound=Hashable)
P = TypeVar("P", bound=Finishable)


class Ledger(Generic[K, P]):
    """Parents by primary id (insertion order), the child -> primary index and the planned schedules."""

    def __init__(self, max_finished: int | None = DEFAULT_MAX_FINISHED) -> None:
        if max_finished is not None and (isinstance(max_finished, bool) or not isinstance(max_finished, int) or max_finished < 0):
            raise ValueError(f"invalid max_finished: {max_finished!r} (an integer >= 0, or None)")
        self.max_finished = max_finished
        self.parents: dict[K, P] = {}
        self.planned: dict[K, list[tuple[int, float]]] = {}
        self._child_parent: dict[K, K] = {}
        self._children: dict[K, list[K]] = {}
        self._open: dict[K, None] = {}  # parents not seen finished yet, in arrival order
        self._finished: dict[K, None] = {}  # in the order they were seen finished (oldest first)

    def __len__(self) -> int:
        return len(self.parents)

    def __contains__(self, primary_id: object) -> bool:
        return primary_id in self.parents

    def add(self, primary_id: K, parent: P) -> list[K]:
        """Registers a parent (or replaces one under the same id); returns the primary ids pruned to make room."""
        pruned = self.sweep()
        self.parents[primary_id] = parent
        self._finished.pop(primary_id, None)
        self._open[primary_id] = None
        self._children.setdefault(primary_id, [])
        return pruned

    def link(self, child_id: K, primary_id: K) -> None:
        """`child_id` is an order of `primary_id`'s parent (the primary itself, once sent, is one too)."""
        if child_id not in self._child_parent:
            self._children.setdefault(primary_id, []).append(child_id)
        self._child_parent[child_id] = primary_id

    def parent_of(self, child_id: K) -> K | None:
        return self._child_parent.get(child_id)

    def is_child(self, order_id: K) -> bool:
        return order_id in self._child_parent

    def plan(self, primary_id: K, schedule: Sequence[tuple[int, float]]) -> None:
        self.planned[primary_id] = list(schedule)

    def open_parents(self) -> Iterator[P]:
        """The parents not seen finished at the last sweep (and any finished since)."""
        return (self.parents[k] for k in self._open)

    def sweep(self) -> list[K]:
        """Moves the parents now finished to the finished list, then drops the oldest finished past
        `max_finished`; returns the primary ids dropped."""
        for k in [k for k in self._open if self.parents[k].is_done]:
            del self._open[k]
            self._finished[k] = None
        if self.max_finished is None or len(self._finished) <= self.max_finished:
            return []
        excess = len(self._finished) - self.max_finished
        dropped = [k for _, k in zip(range(excess), self._finished)]
        for k in dropped:
            del self._finished[k]
            del self.parents[k]
            self.planned.pop(k, None)
            for child_id in self._children.pop(k, ()):
                if self._child_parent.get(child_id) == k:
                    del self._child_parent[child_id]
        return dropped

    def clear(self) -> None:
        for table in (self.parents, self.planned, self._child_parent, self._children, self._open, self._finished):
            table.clear()
