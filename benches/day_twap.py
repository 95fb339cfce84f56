"""A one-second TWAP over N seconds (86,400 = a day) in a BacktestEngine: ours vs Nautilus's example TWAP,
in the same process, alternated round by round (so both see the same machine load).

Not collected by pytest (minutes at full size). Release build, the installed package:
    python benches/day_twap.py 5000                          # ours and nautilus, 3 rounds each, min / median
    python benches/day_twap.py 20000 --rounds 3 --contingent-orders on   # Nautilus's default venue setting
    python benches/day_twap.py 86400 --which ours --rounds 1 # a day, once (reported as one round)
    python benches/day_twap.py 3000 --which ours --profile   # cProfile of one run, top functions
One venue, NETTING, a quote every second. The venue runs with `support_contingent_orders=False` (as our
backtest runner's venues; neither TWAP submits contingent or reduce-only orders) unless
`--contingent-orders on`.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

import harness

sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))  # nautilus_env (test helpers only)

from nautilus_env import START, btcusdt, engine, quotes  # noqa: E402
from nautilus_trader.model.enums import OmsType, OrderSide  # noqa: E402
from nautilus_trader.model.identifiers import ExecAlgorithmId  # noqa: E402
from nautilus_trader.model.objects import Quantity  # noqa: E402
from nautilus_trader.trading.strategy import Strategy  # noqa: E402


def build(n: int, which: str, contingent_orders: bool):
    """An engine with one TWAP parent of n slices (ours or Nautilus's), ready to run."""
    instrument = btcusdt("BINANCE")
    eng = engine({"BINANCE": OmsType.NETTING}, [instrument], quotes(instrument, [100.0] * (n + 5), 0.05, "1000.000", START),
                 balance=5_000_000, support_contingent_orders=contingent_orders)
    if which == "ours":
        from nautilus_sor.execution_algorithms import TWAPExecAlgorithm, TWAPExecAlgorithmConfig

        algorithm = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=n, interval_seconds=1))
        params = None
    else:
        from nautilus_trader.examples.algorithms.twap import TWAPExecAlgorithm

        algorithm = TWAPExecAlgorithm()
        params = {"horizon_secs": n, "interval_secs": 1}
    eng.add_exec_algorithm(algorithm)

    class Parent(Strategy):
        def on_start(self) -> None:
            self.clock.set_time_alert_ns("go", START, self.go)

        def go(self, _event) -> None:
            order = self.order_factory.market(
                instrument.id, OrderSide.BUY, Quantity.from_str(f"{n / 1000:.3f}"), exec_algorithm_id=ExecAlgorithmId("TWAP"), exec_algorithm_params=params
            )
            self.submit_order(order)

    eng.add_strategy(Parent())
    return eng


def run_once(n: int, which: str, contingent_orders: bool, profile: bool = False) -> float:
    eng = build(n, which, contingent_orders)
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    eng.run()
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    filled = sum(p.quantity.as_double() for p in eng.cache.positions())
    if abs(filled - n / 1000) > 1e-9:
        raise SystemExit(f"{which}: filled {filled:.3f} of {n / 1000:.3f}: the runs did not do the same work")
    eng.dispose()
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slices", type=int)
    parser.add_argument("--which", default="ours,nautilus")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--contingent-orders", choices=("on", "off"), default="off")
    parser.add_argument("--profile", action="store_true", help="cProfile one run of each (not timed)")
    args = parser.parse_args(argv)
    print(harness.prepare())
    which = args.which.split(",")
    contingent = args.contingent_orders == "on"
    print(f"{args.slices} one-second slices, support_contingent_orders={contingent}, {args.rounds} rounds")
    if args.profile:
        for w in which:
            print(f"--- profile: {w}")
            run_once(args.slices, w, contingent, profile=True)
        return
    times: dict[str, list[float]] = {w: [] for w in which}
    for r in range(args.rounds):
        for w in which:
            times[w].append(run_once(args.slices, w, contingent))
            print(f"  round {r}: {w} {times[w][-1]:.2f} s", file=sys.stderr)
    for w in which:
        if args.rounds < 3:  # a day's run, measured once: said so, never shown as a min / median
            print(f"{w:>9}: {', '.join(f'{t:.1f} s' for t in times[w])} ({args.rounds} round(s) only)")
            continue
        s = harness.min_median(times[w])
        print(f"{w:>9}: min {s['min']:.2f} s, median {s['median']:.2f} s ({s['median'] / args.slices * 1e6:.0f} us/slice median)")
    if len(which) == 2:
        a, b = which
        ratios = sorted(x / y for x, y in zip(times[a], times[b]))
        print(f"{a} / {b}: min-to-min {min(times[a]) / min(times[b]):.3f}, median of per-round ratios {ratios[len(ratios) // 2]:.3f}")
    print(f"load average after: {harness.load()}")


if __name__ == "__main__":
    main()
