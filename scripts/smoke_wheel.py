"""Smoke test of an installed nautilus-sor wheel: what `pip install nautilus-sor` gives a user.

Run it with the interpreter of a fresh virtual environment into which only the wheel (and its
dependencies) was installed, with no Rust toolchain on PATH:

    python3 -m venv /tmp/smoke && /tmp/smoke/bin/pip install target/wheels/nautilus_sor-*.whl
    env PATH=/tmp/smoke/bin:/usr/bin:/bin /tmp/smoke/bin/python scripts/smoke_wheel.py

It checks the package is the installed one (not this source tree), its version and build profile, the
console script, the router on its own, the SmartOrderRouter over Nautilus types, and a two-venue TWAP
in a real Nautilus BacktestEngine. Each check prints `ok` or its traceback; the last line counts them.
Needs nothing from tests/ (not installed with the wheel): the few helpers are copied here.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import traceback
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NS = 1_000_000_000
START = 1_723_075_200 * NS  # 2024-08-08 00:00:00 UTC, as in tests/nautilus_env.py


def check_installed_wheel_without_toolchain() -> None:
    import nautilus_sor

    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    package = Path(nautilus_sor.__file__).resolve()
    assert site_packages in package.parents, f"nautilus_sor imported from {package}, not from {site_packages}"
    assert ROOT not in package.parents, f"nautilus_sor imported from the source tree: {package}"
    for tool in ("cargo", "rustc"):
        assert shutil.which(tool) is None, f"{tool} is on PATH ({shutil.which(tool)}): not a user's machine"


def check_version_and_build() -> None:
    import nautilus_sor
    from nautilus_sor import _core

    workspace = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"]["version"]
    assert nautilus_sor.__version__ == workspace, (nautilus_sor.__version__, workspace)
    assert importlib.metadata.version("nautilus-sor") == workspace, importlib.metadata.version("nautilus-sor")
    assert _core.__build_profile__ == "release", _core.__build_profile__
    dist = importlib.metadata.distribution("nautilus-sor")
    assert "LICENSE" in (dist.metadata.get_all("License-File") or []), dist.metadata.get_all("License-File")
    assert any(f.name == "LICENSE" for f in dist.files or []), "LICENSE missing from the wheel"


def check_console_script() -> None:
    import nautilus_sor

    exe = Path(sys.executable).parent / "nautilus-sor"
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"nautilus-sor {nautilus_sor.__version__}", version.stdout
    demo = subprocess.run([exe, "demo", "--quantity", "250"], capture_output=True, text=True, check=True)
    assert "total" in demo.stdout and "250" in demo.stdout, demo.stdout


def check_router() -> None:
    from nautilus_sor import InsufficientLiquidityError, Router, VenueSpec

    router = Router(
        [
            VenueSpec("BINANCE-FUTURES", maker_fee=0.0002, taker_fee=0.0004, latency_ms=50),
            VenueSpec("DERIBIT", maker_fee=0.0001, taker_fee=0.0003, latency_ms=80),
        ]
    )
    router.set_book("BINANCE-FUTURES", bids=[(49_999.0, 30)], asks=[(50_001.0, 20), (50_002.0, 50)])
    router.set_book("DERIBIT", bids=[(49_998.5, 40)], asks=[(50_000.5, 10), (50_003.0, 80)])
    assert router.select_venue("BUY", 5).venue == "DERIBIT"
    # DERIBIT's whole ask side (90) is cheaper all-in than BINANCE's first level: 10 more go there.
    split = router.split("BUY", 100, max_venues=2)
    assert [(a.venue, a.qty) for a in split.allocations] == [("BINANCE-FUTURES", 10), ("DERIBIT", 90)], split
    assert split.total_qty == 100
    try:
        router.split("BUY", 1_000, max_venues=2)
    except InsufficientLiquidityError as exc:
        assert exc.field is not None
    else:
        raise AssertionError("a split beyond the displayed depth must raise InsufficientLiquidityError")


def check_smart_order_router() -> None:
    from nautilus_trader.model.enums import OrderSide
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Price, Quantity

    from nautilus_sor.smart_router import SmartOrderRouter

    router = SmartOrderRouter(
        [
            {"name": "BINANCE-FUTURES", "maker_fee": 0.0002, "taker_fee": 0.0004},
            {"name": "DERIBIT", "maker_fee": 0.0001, "taker_fee": 0.0003},
        ]
    )
    instrument_id = InstrumentId.from_str("BTCUSDT-PERP.BINANCE-FUTURES")
    venue = router.select_venue(instrument_id=instrument_id, side=OrderSide.BUY, quantity=Quantity.from_str("1.0"),
                                price=Price.from_str("50000.0"))
    assert venue.instrument_id == InstrumentId.from_str("BTCUSDT-PERP.DERIBIT"), venue
    allocations = router.route_order(instrument_id=instrument_id, side=OrderSide.BUY,
                                     total_quantity=Quantity.from_str("10.0"), max_venues=3)
    assert [(a.venue.value, a.quantity) for a in allocations] == [("DERIBIT", Quantity.from_str("10.0"))], allocations


def _instrument(venue: str, taker_fee: str):
    from nautilus_trader.model.currencies import BTC, USDT
    from nautilus_trader.model.identifiers import InstrumentId, Symbol, Venue
    from nautilus_trader.model.instruments import CurrencyPair
    from nautilus_trader.model.objects import Price, Quantity

    return CurrencyPair(
        instrument_id=InstrumentId(Symbol("BTCUSDT"), Venue(venue)),
        raw_symbol=Symbol("BTCUSDT"),
        base_currency=BTC,
        quote_currency=USDT,
        price_precision=2,
        size_precision=3,
        price_increment=Price(0.01, precision=2),
        size_increment=Quantity(0.001, precision=3),
        lot_size=None,
        max_quantity=Quantity(9000, precision=3),
        min_quantity=Quantity(0.001, precision=3),
        max_notional=None,
        min_notional=None,
        max_price=Price(1_000_000, precision=2),
        min_price=Price(0.01, precision=2),
        margin_init=Decimal(0),
        margin_maint=Decimal(0),
        maker_fee=Decimal("0.0002"),
        taker_fee=Decimal(taker_fee),
        ts_event=0,
        ts_init=0,
    )


def check_twap_backtest() -> None:
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.currencies import BTC, USDT
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.enums import AccountType, OmsType, OrderSide, OrderStatus
    from nautilus_trader.model.identifiers import InstrumentId, Venue
    from nautilus_trader.model.objects import Money, Quantity

    from nautilus_sor.execution_algorithms import TWAPExecAlgorithm, TWAPExecAlgorithmConfig
    from nautilus_sor.strategy import MultiVenueStrategy, SmartRoutingStrategyConfig

    venues = [
        {"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0004},
        {"name": "BYBIT", "maker_fee": 0.0001, "taker_fee": 0.0003},
    ]
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR"), trader_id="SMOKE-001"))
    data = []
    for venue in venues:
        instrument = _instrument(venue["name"], str(venue["taker_fee"]))
        engine.add_venue(venue=Venue(venue["name"]), oms_type=OmsType.NETTING, account_type=AccountType.MARGIN,
                         base_currency=None, starting_balances=[Money(1_000_000, USDT), Money(10, BTC)])
        engine.add_instrument(instrument)
        for i in range(60):
            mid, ts = 100.0 + 0.01 * (i % 5), START + i * NS
            data.append(QuoteTick(instrument_id=instrument.id, bid_price=instrument.make_price(mid - 0.05),
                                  ask_price=instrument.make_price(mid + 0.05), bid_size=Quantity.from_str("10.000"),
                                  ask_size=Quantity.from_str("10.000"), ts_event=ts, ts_init=ts))
    engine.add_data(data)
    algorithm = TWAPExecAlgorithm(TWAPExecAlgorithmConfig(duration_seconds=10, interval_seconds=1,
                                                          use_smart_routing=True, venues=venues))
    engine.add_exec_algorithm(algorithm)

    class OneParent(MultiVenueStrategy):
        parent = None

        def on_start(self) -> None:
            super().on_start()
            self.clock.set_time_alert_ns("go", START + NS, lambda e: setattr(
                self, "parent", self.execute_order(OrderSide.BUY, Quantity.from_str("2.000"))[0]))

    strategy = OneParent(SmartRoutingStrategyConfig(instrument_id="BTCUSDT.BINANCE", use_smart_routing=True,
                                                    venues=venues, execution_algorithm={"type": "TWAP"}))
    engine.add_strategy(strategy)
    engine.run()
    try:
        state = algorithm.parents[strategy.parent.client_order_id]
        assert (state.requested, state.filled, state.working, state.pending) == (2 * 10**9, 2 * 10**9, 0, 0), state
        children = [o for o in engine.cache.orders() if o.status == OrderStatus.FILLED]
        # Ten one-second slices, all on BYBIT: the cheaper taker fee on the same book.
        assert len(children) == 10 and {o.instrument_id.venue.value for o in children} == {"BYBIT"}, children
        (position,) = engine.cache.positions_open()
        assert position.instrument_id == InstrumentId.from_str("BTCUSDT.BYBIT")
        assert position.quantity == Quantity.from_str("2.000"), position
    finally:
        engine.dispose()


CHECKS: list[Callable[[], None]] = [
    check_installed_wheel_without_toolchain,
    check_version_and_build,
    check_console_script,
    check_router,
    check_smart_order_router,
    check_twap_backtest,
]


def main() -> int:
    failed = 0
    for check in CHECKS:
        try:
            check()
        except Exception:  # noqa: BLE001 - every failure is reported, then counted
            failed += 1
            print(f"FAILED {check.__name__}", flush=True)
            traceback.print_exc()
        else:
            print(f"ok     {check.__name__}", flush=True)
    print(f"smoke: {len(CHECKS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
