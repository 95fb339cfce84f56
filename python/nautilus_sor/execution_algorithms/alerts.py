"""Time alerts of the execution algorithms: set again by name, so an earlier one of that name goes first."""

from __future__ import annotations

from typing import Any


def cancel_alert(clock: Any, name: str) -> None:
    """Cancels the clock's alert `name` when one is pending. `next_time_ns` is 0 for no such alert; asking
    it costs less than `timer_names`, which builds and sorts the list of every timer (Nautilus's
    `cancel_timer` checks that list itself, so it is called only when the alert exists)."""
    if clock.next_time_ns(name):
        clock.cancel_timer(name)
