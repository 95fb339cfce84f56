"""`nautilus-sor sweep` on a local Ray: speed-up from 1 to 2 workers, and the overhead Ray adds per task.

Not collected by pytest (Ray start-up, tens of seconds). Needs the extra: pip install '.[sweep]'.
    python benches/sweep_speedup.py            # 8 tasks (4 points x 2 seeds), 3 rounds, 7 overhead samples
    python benches/sweep_speedup.py 16 5 9     # 16 tasks, 5 rounds, 9 samples

Measures, each in the same run:
- the wall time of a fixed sweep (fresh output dir: markets stored, every task run, results ranked) on a
  local Ray with num_cpus=1 and with num_cpus=2 (Ray started before the clock, workers warmed by one task),
  alternated for a few rounds: the median of the per-round ratios, since other work on a shared machine
  comes and goes;
- a no-op task's round trip (submit + get, sequential), median;
- one sweep task run in-process vs the same task as a Ray task (sequential, warm worker), medians, and
  what Ray adds outside the task's body (the Ray task's wall time minus the time measured inside it:
  scheduling, argument and result transfer), which the machine's load does not blur.

Ray runs its workers at nice 15 by default (`worker_niceness`), so on a machine shared with other work
they get less CPU than this driver; the benchmark sets it to 0 to measure Ray, not the kernel's scheduler.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

# The project's three-venue example (CHEAP, DEEP, SLOW; synthetic market, TWAP), shortened so that a task
# takes about a second, with one baseline.
BASE = json.loads((Path(__file__).resolve().parents[1] / "examples" / "multi_venue_twap.json").read_text())
BASE["strategy"]["execution_algorithm"].update(duration_seconds=60, interval_seconds=2)
BASE["market"]["duration_seconds"] = 120
BASE["orders"] = [{"side": "BUY", "quantity": "10", "at_seconds": 5}, {"side": "SELL", "quantity": "10", "at_seconds": 60}]
BASE["backtest"]["baselines"] = ["equal_split"]


RAY_OPTIONS = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR",
               "_system_config": {"worker_niceness": 0}}


def spec_for(tasks: int):
    from nautilus_sor.sweep import parse_sweep

    points = tasks // 2
    weights = [float(w) for w in range(points)]
    return parse_sweep({"base": copy.deepcopy(BASE), "grid": {"strategy.router.latency_risk_weight": weights}, "seeds": [1, 2]})


def timed_sweep(ray, workers: int, tasks: int) -> float:
    from nautilus_sor.sweep.driver import run_sweep

    ray.init(num_cpus=workers, **RAY_OPTIONS)
    try:
        warm = ray.remote(lambda: __import__("nautilus_sor.backtest.runner"))
        ray.get([warm.remote() for _ in range(workers)])  # worker processes up and nautilus imported
        out = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
        started = time.perf_counter()
        run_sweep(spec_for(tasks), copy.deepcopy(BASE), out, log=lambda _: None)
        elapsed = time.perf_counter() - started
        shutil.rmtree(out, ignore_errors=True)
        return elapsed
    finally:
        ray.shutdown()


def overheads(ray, samples: int) -> tuple[float, float, float, float]:
    """(no-op round trip, in-process task, Ray task, Ray task outside its body), medians in seconds."""
    from nautilus_sor.backtest.runner import market_config_for
    from nautilus_sor.config import parse_config
    from nautilus_sor.sweep.market_store import store_market
    from nautilus_sor.sweep.points import resolve_points
    from nautilus_sor.sweep.task import run_point_repeat

    ray.init(num_cpus=1, **RAY_OPTIONS)
    try:
        noop = ray.remote(lambda: None)
        ray.get(noop.remote())
        trips = []
        for _ in range(200):
            t = time.perf_counter()
            ray.get(noop.remote())
            trips.append(time.perf_counter() - t)
        points, _ = resolve_points(spec_for(2), copy.deepcopy(BASE))
        point = points[0]
        config = point.repeat_config(0)
        out = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
        market = str(store_market(market_config_for(parse_config(config)), out))
        kwargs = {"point_id": point.point_id, "key": point.key, "repeat": 0, "params": point.params}
        remote = ray.remote(run_point_repeat)
        ray.get(remote.remote(config, market, **kwargs))  # warm the worker
        run_point_repeat(config, market, **kwargs)  # and this process
        local, remote_times, outside = [], [], []
        for _ in range(samples):  # interleaved: the machine's load hits both alike
            t = time.perf_counter()
            run_point_repeat(config, market, **kwargs)
            local.append(time.perf_counter() - t)
            t = time.perf_counter()
            row = ray.get(remote.remote(config, market, **kwargs))
            remote_times.append(time.perf_counter() - t)
            outside.append(remote_times[-1] - row["elapsed_s"])
        shutil.rmtree(out, ignore_errors=True)
        return statistics.median(trips), statistics.median(local), statistics.median(remote_times), statistics.median(outside)
    finally:
        ray.shutdown()


def main(tasks: int, rounds: int, samples: int) -> None:
    import ray

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    ratios = []
    for n in range(rounds):
        one = timed_sweep(ray, 1, tasks)
        two = timed_sweep(ray, 2, tasks)
        ratios.append(one / two)
        print(f"round {n + 1}: sweep of {tasks} tasks: 1 worker {one:.2f} s, 2 workers {two:.2f} s: speed-up {one / two:.2f}x"
              f" (load {os.getloadavg()[0]:.2f})")
    print(f"speed-up 1 -> 2 workers: median {statistics.median(ratios):.2f}x over {rounds} rounds")
    trip, local, remote, outside = overheads(ray, samples)
    print(f"no-op task round trip: {trip * 1e3:.2f} ms (median of 200)")
    print(f"one task: in-process {local * 1e3:.0f} ms, as a Ray task {remote * 1e3:.0f} ms "
          f"(medians of {samples}): {(remote - local) * 1e3:+.0f} ms ({remote / local:.2f}x)")
    print(f"Ray's share of a task outside its body (scheduling, arguments, result): {outside * 1e3:.1f} ms (median of {samples})")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*(args + [8, 3, 7][len(args):]))
