"""A sweep task that fails on purpose, for the sweep's failure tests (`run_sweep(run_task=...)`).

The tasks run in Ray worker processes, which a monkeypatch cannot reach and which cannot import this
folder (only the driver's script directory and working directory are on their path): the task is a
closure over its settings, and this module is registered to be pickled by value, so a worker gets the
code and the settings with the task."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nautilus_sor.sweep.task import run_point_repeat


class InjectedFault(RuntimeError):
    """The failure `failing_task` raises."""


def fail_if_due(marker_dir: str, limit: int, key: str, repeat: int) -> None:
    """Raises `InjectedFault` while this (point, repeat) has failed fewer than `limit` times, counted by
    marker files in `marker_dir` (the attempts may run in different worker processes)."""
    markers = Path(marker_dir)
    markers.mkdir(parents=True, exist_ok=True)
    done = len(list(markers.glob(f"{key}-r{repeat}-*")))
    if done < limit:
        (markers / f"{key}-r{repeat}-{done + 1}").touch()
        raise InjectedFault(f"injected failure {done + 1}/{limit} of point {key} repeat {repeat}")


def failing_task(marker_dir: Path, times: int = 1) -> Callable[..., dict[str, Any]]:
    """`run_point_repeat`, except that each (point, repeat) fails its first `times` attempts. A marker
    file `<key>-r<repeat>-<n>` already in `marker_dir` counts as a failure already spent."""
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    directory = str(marker_dir)

    def run_task(config_raw: dict[str, Any], market_path: str | None, *, key: str, repeat: int, **kwargs: Any) -> dict[str, Any]:
        fail_if_due(directory, times, key, repeat)
        return run_point_repeat(config_raw, market_path, key=key, repeat=repeat, **kwargs)

    return run_task
