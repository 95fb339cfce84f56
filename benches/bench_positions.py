"""Booking fills: our PositionBook (one Python call per fill, and one numpy batch) against
NautilusTrader's `Position.apply`, at 1k and 40k events on one position, in one run.

Nautilus keeps every fill on the position and scans them on each `apply` (duplicate trade-id
check), so its cost per fill grows with the number of events; ours is constant. Nautilus at 40k
events takes tens of seconds, so it runs a single round (pedantic).

Run: pytest benches/bench_positions.py   (on a release build: maturin develop --release)
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from nautilus_sor import PositionBook
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.enums import LiquiditySide, OrderSide, OrderType
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import (
    AccountId,
    ClientOrderId,
    PositionId,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from nautilus_trader.model.objects import FIXED_PRECISION, Money, Price, Quantity
from nautilus_trader.model.position import Position
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.test_kit.stubs.identifiers import TestIdStubs

SIZES = [1_000, 40_000]
INSTRUMENT = TestInstrumentProvider.btcusdt_perp_binance()
CURRENCY = INSTRUMENT.get_cost_currency()
# Per-fill medians (seconds) by benchmark name, printed at the end of the module.
PER_FILL: dict[str, float] = {}


class Stream:
    """`n` fills on one position that never goes flat (so Nautilus keeps all n events): an
    opening buy, then random adds and partial closes with commissions."""

    def __init__(self, n: int, seed: int = 11) -> None:
        rng = random.Random(seed)
        p = INSTRUMENT.size_precision
        self.sides: list[int] = [1]
        self.units: list[int] = [10 * n]
        held = 10 * n
        while len(self.sides) < n:
            sell = rng.random() < 0.5 and held > 1_000
            qty = rng.randint(1, 999)
            self.sides.append(2 if sell else 1)
            self.units.append(qty)
            held += -qty if sell else qty
        self.prices = [Price(50_000 + rng.random() * 1_000, INSTRUMENT.price_precision).as_double() for _ in range(n)]
        self.commissions = [Money(rng.random() * 0.5, CURRENCY).as_double() for _ in range(n)]
        self.raw = 10 ** (FIXED_PRECISION - p)
        self.n = n

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "venue_ids": np.zeros(self.n, dtype=np.int64),
            "instrument_ids": np.zeros(self.n, dtype=np.int64),
            "sides": np.array(self.sides, dtype=np.int8),
            "quantities": np.array(self.units, dtype=np.uint64),
            "prices": np.array(self.prices),
            "commissions": np.array(self.commissions),
        }

    def nautilus_fills(self) -> list[OrderFilled]:
        trader, strategy, account = TestIdStubs.trader_id(), StrategyId("S-001"), AccountId("SIM-001")
        fills = []
        for k in range(self.n):
            fills.append(
                OrderFilled(
                    trader_id=trader,
                    strategy_id=strategy,
                    instrument_id=INSTRUMENT.id,
                    client_order_id=ClientOrderId(f"O-{k}"),
                    venue_order_id=VenueOrderId(str(k)),
                    account_id=account,
                    trade_id=TradeId(f"T-{k}"),
                    position_id=PositionId("P-1"),
                    order_side=OrderSide.BUY if self.sides[k] == 1 else OrderSide.SELL,
                    order_type=OrderType.MARKET,
                    last_qty=Quantity.from_raw(self.units[k] * self.raw, INSTRUMENT.size_precision),
                    last_px=Price(self.prices[k], INSTRUMENT.price_precision),
                    currency=INSTRUMENT.quote_currency,
                    commission=Money(self.commissions[k], CURRENCY),
                    liquidity_side=LiquiditySide.TAKER,
                    event_id=UUID4(),
                    ts_event=k,
                    ts_init=k,
                )
            )
        return fills


STREAMS = {n: Stream(n) for n in SIZES}


def fresh_book() -> PositionBook:
    book = PositionBook()
    book.add_venue("BINANCE", "NETTING")
    book.add_instrument(
        str(INSTRUMENT.id), "BTC", size_precision=INSTRUMENT.size_precision, currency_precision=CURRENCY.precision
    )
    return book


def per_fill(benchmark, name: str, n: int) -> None:
    if benchmark.stats is not None:  # None with --benchmark-disable
        PER_FILL[name] = benchmark.stats.stats.median / n
        benchmark.extra_info["per_fill_ns"] = round(PER_FILL[name] * 1e9, 1)


def single_calls(book: PositionBook, s: Stream) -> PositionBook:
    apply = book.apply_fill
    for side, qty, px, comm in zip(s.sides, s.units, s.prices, s.commissions):
        apply(0, 0, side, qty, px, comm)
    return book


@pytest.mark.parametrize("n", SIZES)
def test_ours_single(benchmark, n, record_ratio):
    s = STREAMS[n]
    book = benchmark.pedantic(single_calls, setup=lambda: ((fresh_book(), s), {}), rounds=10 if n < 10_000 else 3)
    assert book.position(0).event_count == n
    per_fill(benchmark, f"ours_single[{n}]", n)
    record_ratio(f"test_ours_single[{n}]", f"test_nautilus_apply[{n}]")


@pytest.mark.parametrize("n", SIZES)
def test_ours_batch(benchmark, n, record_ratio):
    cols = STREAMS[n].arrays()
    book = benchmark.pedantic(lambda b: (b.apply_fills(**cols), b)[1], setup=lambda: ((fresh_book(),), {}), rounds=20)
    assert book.position(0).event_count == n
    per_fill(benchmark, f"ours_batch[{n}]", n)
    record_ratio(f"test_ours_batch[{n}]", f"test_nautilus_apply[{n}]")


def nautilus_apply(fills: list[OrderFilled]) -> Position:
    position = Position(INSTRUMENT, fills[0])
    apply = position.apply
    for fill in fills[1:]:
        apply(fill)
    return position


@pytest.mark.parametrize("n", SIZES)
def test_nautilus_apply(benchmark, n):
    s = STREAMS[n]
    fills = s.nautilus_fills()
    rounds = 5 if n < 10_000 else 1
    position = benchmark.pedantic(nautilus_apply, args=(fills,), rounds=rounds, iterations=1)
    per_fill(benchmark, f"nautilus[{n}]", n)
    # Same fills, same result.
    ours = single_calls(fresh_book(), s).position(0)
    assert ours.quantity == position.quantity.raw // s.raw
    assert ours.realized_pnl == position.realized_pnl.as_double()
    assert ours.avg_px_open == position.avg_px_open


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    yield
    if not PER_FILL:
        return
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    lines = ["", "per-fill cost (median / events):"]
    for n in SIZES:
        row = {k: PER_FILL.get(f"{k}[{n}]") for k in ("ours_single", "ours_batch", "nautilus")}
        parts = [f"{k} {v * 1e9:9.1f} ns" for k, v in row.items() if v is not None]
        if not parts:
            continue
        line = f"  {n:>6} events: " + ", ".join(parts)
        if row["nautilus"] is not None:
            for k in ("ours_single", "ours_batch"):
                if row[k]:
                    line += f"; {k} {row['nautilus'] / row[k]:,.0f}x faster"
        lines.append(line)
    for k in ("ours_single", "ours_batch", "nautilus"):
        small, large = PER_FILL.get(f"{k}[{SIZES[0]}]"), PER_FILL.get(f"{k}[{SIZES[-1]}]")
        if small and large:
            lines.append(f"  {k}: per-fill cost at {SIZES[-1]} / at {SIZES[0]} = {large / small:.2f}")
    # Module teardown runs under output capture: lift it to reach the terminal.
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        for line in lines:
            if reporter is not None:
                reporter.write_line(line)
            else:
                print(line)
