"""Progress bars of the long commands (rich): shown on a terminal, silent when output goes to a file or a
pipe, or with --quiet, so logs and tests get only the results."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def wanted(quiet: bool) -> bool:
    """A bar is drawn only on a terminal and without --quiet."""
    return not quiet and sys.stdout.isatty()


def columns(width: int = 40) -> list[Any]:
    """The columns every bar of the package uses: what it is doing, the bar, %, elapsed, ETA."""
    from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return [TextColumn(f"[bold]{{task.description:<{width}}}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
            TextColumn("ETA"), TimeRemainingColumn()]


class CountingProgress:
    """`progress(label, done, total)` moves one bar per label (a market, a sweep); `log(text)` prints above
    the bars."""

    def __init__(self, bar: Any, unit: str) -> None:
        self.bar = bar
        self.unit = unit
        self.tasks: dict[str, Any] = {}

    def __call__(self, label: str, done: int, total: int) -> None:
        if label not in self.tasks:
            self.tasks[label] = self.bar.add_task(label, total=total)
        self.bar.update(self.tasks[label], completed=done, total=total, description=f"{label}: {done}/{total} {self.unit}")

    def log(self, text: str) -> None:
        self.bar.console.print(text, markup=False, highlight=False)


@contextmanager
def counting_progress(quiet: bool, unit: str) -> Iterator[CountingProgress | None]:
    """A `CountingProgress` while the block runs (None when no bar is wanted)."""
    if not wanted(quiet):
        yield None
        return
    from rich.progress import Progress

    with Progress(*columns(), transient=True) as bar:
        yield CountingProgress(bar, unit)


__all__ = ["CountingProgress", "columns", "counting_progress", "wanted"]
