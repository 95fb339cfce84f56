"""The algorithms' parent/child ledger (pure bookkeeping): every open parent is kept, finished ones only
up to the bound (oldest dropped first, with their children's links and planned schedules)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from nautilus_sor.execution_algorithms.ledger import Ledger


@dataclass
class Parent:
    done: bool = False

    @property
    def is_done(self) -> bool:
        return self.done


def test_finished_parents_past_the_bound_are_dropped_oldest_first_with_their_links_and_plans():
    ledger: Ledger[str, Parent] = Ledger(max_finished=2)
    parents = {f"P{i}": Parent() for i in range(5)}
    for name, parent in parents.items():
        ledger.add(name, parent)
        ledger.link(f"{name}-E1", name)
        ledger.plan(name, [(1, 1.0)])
    # P1 finishes first, then P3, P0, P4; P2 stays open.
    for name in ("P1", "P3", "P0", "P4"):
        parents[name].done = True
        ledger.sweep()
    assert list(ledger.parents) == ["P0", "P2", "P4"]  # P1 and P3 finished first: dropped
    assert ledger.parent_of("P1-E1") is None and ledger.parent_of("P3-E1") is None
    assert ledger.parent_of("P0-E1") == "P0" and ledger.parent_of("P2-E1") == "P2"
    assert sorted(ledger.planned) == ["P0", "P2", "P4"]
    assert [p is parents["P2"] for p in ledger.open_parents()] == [True]


def test_add_returns_what_it_dropped_and_an_open_parent_is_never_dropped():
    ledger: Ledger[int, Parent] = Ledger(max_finished=0)
    open_parents = [Parent() for _ in range(3)]
    for i, p in enumerate(open_parents):
        assert ledger.add(i, p) == []
    done = Parent(done=True)
    assert ledger.add(10, done) == []  # added finished: seen at the next sweep
    assert ledger.add(11, Parent()) == [10]
    assert list(ledger.parents) == [0, 1, 2, 11]


@pytest.mark.parametrize("bound", [0, 3, 50])
def test_held_parents_stay_within_open_plus_the_bound_however_many_pass(bound):
    ledger: Ledger[int, Parent] = Ledger(max_finished=bound)
    live: list[Parent] = []
    for i in range(500):
        parent = Parent()
        ledger.add(i, parent)
        live.append(parent)
        if i % 3:  # two of three finish right away; every tenth open one finishes later
            parent.done = True
        if i % 10 == 0 and live:
            live.pop(0).done = True
        open_count = sum(not p.done for p in ledger.parents.values())
        assert len(ledger) <= open_count + bound + 1  # + the one finished since the last sweep
    ledger.sweep()
    finished = [k for k, p in ledger.parents.items() if p.done]
    assert len(finished) == bound
    assert all(not p.done for k, p in ledger.parents.items() if k not in finished)


def test_none_keeps_every_parent():
    ledger: Ledger[int, Parent] = Ledger(max_finished=None)
    for i in range(100):
        ledger.add(i, Parent(done=True))
    ledger.sweep()
    assert len(ledger) == 100


@pytest.mark.parametrize("bad", [-1, True, 1.5, "10"])
def test_a_bad_bound_is_refused(bad):
    with pytest.raises(ValueError, match="max_finished"):
        Ledger(max_finished=bad)
