"""How long the whole recorded Binance three-market window takes to load from its raw files (what the
first run of examples/binance_btc_twap.json pays before the cache holds it). Slow: run with -m slow."""

from __future__ import annotations

import pytest

from shared_data import DATA, require_data

BINANCE = DATA / "binance_btc_l2_20240808"


@pytest.mark.slow
def test_binance_full_window_load(benchmark):
    from nautilus_sor.backtest.data.binance import load_binance_btc

    require_data(BINANCE)
    market = benchmark.pedantic(load_binance_btc, args=(BINANCE,), rounds=1, iterations=1)
    benchmark.extra_info.update({"objects": len(market.data), "window_s": (market.end_ns - market.start_ns) / 1e9})
