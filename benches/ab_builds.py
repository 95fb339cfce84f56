"""Per-call cost of the hot-path calls under two builds of the package, measured alternately in one run.

Not collected by pytest. Used for issue 19's choice between an internal lock and a ConcurrentUseError:
build the baseline (e.g. the commit before the lock) into its own directory and compare it with the
current (editable) install, both release builds:

    git archive <base> | tar -x -C /tmp/base && (cd /tmp/base && maturin build --release -o dist)
    pip install --no-deps --target /tmp/base/site /tmp/base/dist/*.whl
    python benches/ab_builds.py --baseline /tmp/base/site --rounds 5

Each round runs the suite in a fresh process per build (baseline first, then current), so both see the
same machine load; the best (lowest) figure over rounds is compared: on a shared machine a round that
another process interrupts is up to 2.5x slower, for either build, so the minimum is the figure of the
code and not of its neighbours. Calls: `Router.select_venue` / `split` on a
2-venue and a 5-venue book (as `bench_router.py`), `record_ack`, `update_level`, `PositionBook.apply_fill`
(as `bench_positions.py`), `route_batch` of 10,000 requests, `SmartOrderRouter.route_quantities` (no cache).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

SUITE = r"""
import json, sys, time, timeit
import numpy as np
sys.path[:0] = [{benches!r}, {tests!r}]
from market import core_market
from nautilus_sor import PositionBook

out = {{}}
def per_call(name, fn, number):
    best = min(timeit.repeat(fn, number=number, repeat=7))
    out[name] = best / number * 1e9

for n in (2, 5):
    r = core_market(n)
    per_call(f"select_venue[{{n}}]", lambda: r.select_venue("BUY", 150), 20000)
    per_call(f"split[{{n}}]", lambda: r.split("BUY", 150 * n, n), 5000)
r = core_market(2)
name = r.venue_names[0]
per_call("record_ack", lambda: r.record_ack(name, 12.0), 20000)
per_call("update_level", lambda: r.update_level(name, False, 1e9, 0), 20000)
book = PositionBook(); book.add_venue("V", "NETTING"); book.add_instrument("X", "X", 3, currency_precision=2)
import itertools
sides = itertools.cycle(["BUY", "SELL"])
per_call("apply_fill", lambda: book.apply_fill(0, 0, next(sides), 1000, 100.0), 20000)
rng = np.random.default_rng(7)
s, q, l = rng.choice(np.array([1, 2], dtype=np.int8), 10_000), rng.integers(1, 300, 10_000, dtype=np.uint64), np.full(10_000, np.nan)
r5 = core_market(5)
per_call("route_batch[10k]", lambda: r5.route_batch(s, q, l, 5), 3)
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Quantity
from nautilus_sor.smart_router import SmartOrderRouter
sor = SmartOrderRouter([{{"name": "A", "maker_fee": 0.0, "taker_fee": 0.0004, "latency_ms": 5}}, {{"name": "B", "maker_fee": 0.0, "taker_fee": 0.0002, "latency_ms": 9}}])
iid, qty = InstrumentId.from_str("BTCUSDT.A"), Quantity.from_str("1.000")
per_call("sor.route_quantities", lambda: sor.route_quantities(iid, OrderSide.BUY, qty, 2), 5000)
print(json.dumps(out))
"""


def run(path: str | None) -> dict[str, float]:
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = path + os.pathsep + env.get("PYTHONPATH", "")
    code = SUITE.format(benches=str(Path(__file__).parent), tests=str(Path(__file__).parents[1] / "tests"))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="site directory holding the baseline build of nautilus_sor")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    base: dict[str, list[float]] = {}
    current: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for into, path in ((base, args.baseline), (current, None)):
            for k, v in run(path).items():
                into.setdefault(k, []).append(v)
    print(f"{'call':<20} {'baseline ns':>12} {'current ns':>12} {'current/baseline':>17}")
    for k in base:
        b, c = min(base[k]), min(current[k])
        print(f"{k:<20} {b:>12,.0f} {c:>12,.0f} {c / b:>17.3f}")


if __name__ == "__main__":
    main()
