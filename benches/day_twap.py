"""A one-second TWAP over N seconds (86,400 = a day) in a BacktestEngine: ours vs Nautilus's example TWAP.

Not collected by pytest (minutes at full size). Run on a release build:
    python benches/day_twap.py 86400 ours
    python benches/day_twap.py 20000 nautilus
Prints total and per-slice time. One venue, NETTING, a quote every second.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from nautilus_env import START, btcusdt, engine, quotes  # noqa: E402
from nautilus_trader.model.enums import OmsType, OrderSide  # noqa: E402
from nautilus_trader.model.identifiers import ExecAlgorithmId  # noqa: E402
from nautilus_trader.model.objects import Quantity  # noqa: E402
from nautilus_trader.trading.strategy import Strategy  # noqa: E402


def main(n: int, which: str) -> None:
    instrument = btcusdt("BINANCE")
    eng = engine({"BINANCE": OmsType.NETTING}, [instrument], quotes(instrument, [100.0] * (n + 5), 0.05, "1000.000", START), balance=5_000_000)
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
    started = time.perf_counter()
    eng.run()
    elapsed = time.perf_counter() - started
    filled = sum(p.quantity.as_double() for p in eng.cache.positions())
    print(f"{which}: {n} slices in {elapsed:.1f} s ({elapsed / n * 1e6:.0f} us/slice), filled {filled:.3f} of {n / 1000:.3f}")


if __name__ == "__main__":
    from nautilus_sor import _core

    print(f"build profile: {_core.__build_profile__}")
    main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "ours")
