"""The Ray driver: validates every point, stores the markets, runs each point x repeat as a Ray task,
retries a failed task once, writes each finished point at once, and gathers, ranks and reports.

Failures: a task that raises (an application error) is reported with its point and error and submitted
again once by this driver (Ray's `retry_exceptions` would retry it silently); a worker that dies is
retried by Ray itself (`max_retries=1`). A point whose task failed twice is reported and not written, so
running the same sweep again runs it again, and only it: finished points (`<out>/points/<key>.parquet`)
are skipped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from nautilus_sor.exceptions import ConfigError, NautilusSorError
from nautilus_sor.sweep.points import SweepPoint, describe, resolve_points
from nautilus_sor.sweep.ranking import COST, gather, point_file, rank, write_best_config, write_point
from nautilus_sor.sweep.spec import SweepSpec
from nautilus_sor.sweep.task import run_point_repeat

INSTALL_HINT = "pip install 'nautilus-sor[sweep]'"
MAX_ATTEMPTS = 2  # a task is run at most twice: once, and once more after an error


class RayUnavailableError(NautilusSorError):
    """Ray is not installed (it is an optional extra), or the cluster address cannot be reached."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailableError(
            f"the sweep runs its backtests on Ray, which is not installed ({exc}): {INSTALL_HINT}",
            field="ray", value=None,
        ) from None
    return ray


@dataclass
class TaskFailure:
    point_id: str
    key: str
    repeat: int
    attempt: int
    error: str
    final: bool  # True: no attempt left, the point stays unfinished


@dataclass
class SweepOutcome:
    output_dir: Path
    points: list[SweepPoint]
    skipped: list[str]  # point ids already finished by an earlier run
    ran: list[str]  # point ids finished by this run
    failures: list[TaskFailure] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    ranking: pd.DataFrame = field(default_factory=pd.DataFrame)
    best_config: Path | None = None
    page: Path | None = None
    wall_seconds: float = 0.0

    @property
    def unfinished(self) -> list[str]:
        return sorted({f.point_id for f in self.failures if f.final})


def _error_text(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)  # a RayTaskError carries the task's own exception
    err = cause if isinstance(cause, BaseException) else exc
    return f"{type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err).strip() else ''}"


def run_sweep(
    spec: SweepSpec,
    base: dict[str, Any],
    output_dir: str | Path,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    log: Callable[[str], None] = print,
    progress: Callable[[str, int, int], None] | None = None,
    title: str = "nautilus-sor sweep",
    run_task: Callable[..., dict[str, Any]] = run_point_repeat,
) -> SweepOutcome:
    """Runs the sweep (see the module docstring); `address`/`num_cpus` override the spec's `ray` block.

    `run_task` is the function each Ray task runs, called as `run_point_repeat` is and returning its row
    (e.g. a wrapper that instruments it, or the tests' fault injector). It must be a plain function the
    workers can load: importable there, or pickled by value. The default runs the point's backtest."""
    ray = import_ray()
    started = time.perf_counter()
    address = address or spec.ray.address
    num_cpus = num_cpus if num_cpus is not None else spec.ray.num_cpus
    if num_cpus is not None and num_cpus < 1:
        raise ConfigError(f"invalid num_cpus: {num_cpus} (must be >= 1: no task would ever run)", field="ray.num_cpus", value=repr(num_cpus))
    if address is not None and num_cpus is not None:
        raise ConfigError(f"invalid num_cpus: {num_cpus} (only for a local Ray: the cluster at {address!r} has its own)",
                          field="ray.num_cpus", value=repr(num_cpus))
    out = Path(output_dir)
    points, configs = resolve_points(spec, base)  # every point's config valid before any task starts
    todo = [(p, runs) for p, runs in zip(points, configs) if not point_file(out, p).is_file()]
    outcome = SweepOutcome(out, points, skipped=[p.point_id for p in points if point_file(out, p).is_file()], ran=[])
    n_repeats = len(points[0].repeats) if points else 0
    log(f"sweep: {len(points)} points x {n_repeats} repeats; {len(outcome.skipped)} already done, {len(todo)} to run")
    if todo:
        market_paths = _store_markets(todo, out / "markets", log)
        _run_tasks(ray, run_task, todo, market_paths, out, outcome, address, num_cpus, log, progress)
    _finish(outcome, title, log)
    outcome.wall_seconds = time.perf_counter() - started
    return outcome


def _store_markets(todo: list[tuple[SweepPoint, list[Any]]], root: Path, log: Callable[[str], None]) -> dict[tuple[str, int], str | None]:
    """Each distinct market of the tasks to run, in a catalog once. Synthetic: built and written under
    `root`; (point key, repeat) -> its catalog path. Recorded: loaded once through the market sources with
    `root` as their catalog cache, so that every task reads the cached catalog, not the raw files; -> None."""
    from nautilus_sor.backtest.runner import build_market_for, market_config_for
    from nautilus_sor.sweep.market_store import market_key, store_market

    paths: dict[tuple[str, int], str | None] = {}
    stored: dict[str, str | None] = {}
    for point, runs in todo:
        for repeat, config in enumerate(runs):
            if config.market.type == "synthetic":
                market_config = market_config_for(config)
                mkey = market_key(market_config)
                if mkey not in stored:
                    stored[mkey] = str(store_market(market_config, root))
            else:
                mkey = json.dumps(_task_config(point.repeat_config(repeat))["market"], sort_keys=True)
                if mkey not in stored:
                    build_market_for(config, cache_dir=root)
                    stored[mkey] = None
            paths[(point.key, repeat)] = stored[mkey]
    log(f"sweep: {len(stored)} market(s) in catalogs under {root}")
    return paths


def _task_config(config: dict[str, Any]) -> dict[str, Any]:
    """A repeat's config as a task gets it: a relative market path made absolute (workers may run elsewhere)."""
    market = config.get("market")
    if isinstance(market, dict) and isinstance(market.get("path"), str):
        market["path"] = str(Path(market["path"]).expanduser().resolve())
    return config


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fails fast on a cluster address nothing listens at: `ray.init` itself retries such an address for
    minutes. "auto" (the local cluster Ray finds itself) is left to Ray."""
    import socket

    if address == "auto":
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise RayUnavailableError(f"invalid ray.address: {address!r} (host:port, ray://host:port or auto)",
                                  field="ray.address", value=repr(address))
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise RayUnavailableError(f"invalid ray.address: nothing answers at {address!r} within {timeout_s:g} s ({exc})",
                                  field="ray.address", value=repr(address)) from None


def _start_ray(ray: Any, address: str | None, num_cpus: int | None) -> bool:
    """Connects to `address`, or starts a local Ray; True when this call started it (and must stop it)."""
    if ray.is_initialized():
        return False
    if address is None:
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        return True
    _check_reachable(address)
    try:
        ray.init(address=address, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayUnavailableError(f"invalid ray.address: cannot join the Ray cluster at {address!r} ({exc})",
                                  field="ray.address", value=repr(address)) from None
    return True


def _run_tasks(ray: Any, run_task: Callable[..., dict[str, Any]], todo: list[tuple[SweepPoint, list[Any]]], market_paths: dict[tuple[str, int], str | None], out: Path,
               outcome: SweepOutcome, address: str | None, num_cpus: int | None, log: Callable[[str], None],
               progress: Callable[[str, int, int], None] | None = None) -> None:
    started_here = _start_ray(ray, address, num_cpus)
    try:
        remote = ray.remote(max_retries=1, retry_exceptions=False)(run_task)
        cache_dir = str((out / "markets").resolve())
        pending: dict[Any, tuple[SweepPoint, int, int]] = {}

        def submit(point: SweepPoint, repeat: int, attempt: int) -> None:
            ref = remote.remote(_task_config(point.repeat_config(repeat)), market_paths[(point.key, repeat)], cache_dir=cache_dir,
                                point_id=point.point_id, key=point.key, repeat=repeat, params=point.params)
            pending[ref] = (point, repeat, attempt)

        rows: dict[str, list[dict[str, Any]]] = {}
        failed: set[str] = set()
        for point, runs in todo:
            rows[point.key] = []
            for repeat in range(len(runs)):
                submit(point, repeat, 1)
        total = len(pending)
        finished = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            ref = ready[0]
            point, repeat, attempt = pending.pop(ref)
            try:
                row = ray.get(ref)
            except ray.exceptions.RayError as exc:
                final = attempt >= MAX_ATTEMPTS
                failure = TaskFailure(point.point_id, point.key, repeat, attempt, _error_text(exc), final)
                outcome.failures.append(failure)
                log(f"sweep: {point.point_id} repeat {repeat} failed (attempt {attempt}/{MAX_ATTEMPTS}): {failure.error}"
                    + ("" if final else "; retrying"))
                if final:
                    failed.add(point.key)
                else:
                    submit(point, repeat, attempt + 1)
                continue
            finished += 1
            if progress is not None:
                progress("sweep", finished, total)
            row["repeat_values"] = json.dumps(point.repeats[repeat], sort_keys=True)
            rows[point.key].append(row)
            if len(rows[point.key]) == len(point.repeats) and point.key not in failed:
                write_point(out, point, rows[point.key])
                outcome.ran.append(point.point_id)
                mean = sum(r[COST] for r in rows[point.key]) / len(point.repeats)
                log(f"sweep: {point.point_id} done ({finished}/{total} tasks): router cost {mean:+.3f} bps  [{describe(point.params)}]")
    finally:
        if started_here:
            ray.shutdown()


def _parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Parameter columns mixing value types (a choice of a string or a number) are written as text."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object and len({type(v) for v in out[col].dropna()}) > 1:
            out[col] = out[col].map(lambda v: None if v is None else str(v))
    return out


def _finish(outcome: SweepOutcome, title: str, log: Callable[[str], None]) -> None:
    from nautilus_sor.sweep.page import write_page

    out = outcome.output_dir
    out.mkdir(parents=True, exist_ok=True)
    outcome.table = gather(out, outcome.points)
    outcome.ranking = rank(outcome.table)
    if outcome.table.empty:
        log("sweep: no point finished: nothing to rank")
        return
    _parquet_safe(outcome.table).to_parquet(out / "results.parquet", index=False)
    _parquet_safe(outcome.ranking).to_parquet(out / "ranking.parquet", index=False)
    by_key = {p.key: p for p in outcome.points}
    best = by_key[outcome.ranking["key"].iloc[0]]
    outcome.best_config = write_best_config(out, best)
    outcome.page = write_page(out / "sweep.html", outcome, title=title)
