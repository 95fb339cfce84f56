"""Nautilus's own floor under a long schedule, reproduced with Nautilus alone (no nautilus_sor): each
`Position.apply(fill)` first scans every fill already in the position for a duplicate trade id
(`Position._check_duplicate_trade_id`, nautilus_trader/model/position.pyx), so n fills into one position
cost O(n^2) in total - whatever strategy or algorithm sends them.

Not collected by pytest. Any build (nautilus_sor is not imported):
    python benches/position_apply_floor.py            # 1k, 2k, 4k, 8k fills, 3 rounds each
Prints, per n, the time to apply n fills to one position (min / median), per earlier fill scanned, and
the same with 2 MiB of other memory read between two fills (the scan is memory-bound: what else runs
between fills decides how much of the position's fills is still in the cache).
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.enums import LiquiditySide, OrderSide, OrderType
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import AccountId, ClientOrderId, PositionId, StrategyId, TradeId, TraderId, VenueOrderId
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.model.position import Position
from nautilus_trader.test_kit.providers import TestInstrumentProvider


def fills(n: int) -> list[OrderFilled]:
    instrument = TestInstrumentProvider.btcusdt_binance()
    return [
        OrderFilled(TraderId("TESTER-001"), StrategyId("S-001"), instrument.id, ClientOrderId(f"O-{k}"), VenueOrderId(f"V-{k}"),
                    AccountId("BINANCE-001"), TradeId(f"BINANCE-1-{k + 1:03d}"), PositionId("P-1"), OrderSide.BUY, OrderType.MARKET,
                    Quantity.from_str("0.001000"), Price.from_str("100.05"), USDT, Money(0.00004, USDT), LiquiditySide.TAKER, UUID4(), k, k)
        for k in range(n)
    ]


def apply_all(events: list[OrderFilled], between: bytearray | None = None) -> float:
    """Seconds to apply `events` to one position; `between`: a buffer read between fills (64-byte stride),
    as a strategy's own work moves other memory through the cache between two fills."""
    instrument = TestInstrumentProvider.btcusdt_binance()
    started = time.perf_counter()
    position = Position(instrument, events[0])
    for fill in events[1:]:
        if between is not None:
            between[::64] = between[::64]
        position.apply(fill)
    return time.perf_counter() - started


def main(sizes: list[int]) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    polluter = bytearray(2 * 2**20)
    for n in sizes:
        events = fills(n)
        times = [apply_all(events) for _ in range(3)]
        polluted = [apply_all(events, polluter) for _ in range(3)]
        pairs = n * (n - 1) / 2  # fills compared in all the duplicate scans
        print(f"{n:>7} fills: min {min(times):.3f} s, median {statistics.median(times):.3f} s "
              f"({statistics.median(times) / pairs * 1e9:.1f} ns per earlier fill scanned); "
              f"2 MiB of other memory read between fills: median {statistics.median(polluted):.3f} s")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 2000, 4000, 8000])
