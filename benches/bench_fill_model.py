"""What the queue-position fill model costs in a Nautilus backtest: the same BacktestEngine run (the shared
USD-M BTCUSDT stream, ~28k deltas and trades over 345 s, 8 of our limit orders resting at the touch for up
to 60 s each, as in tests/peer_hftbacktest.py) with `nautilus_sor.fill_model.QueuePositionModule` on the
venue and without it (Nautilus's own L2 matching), same process and round. Target: <= 1.3x.

Run: pytest benches/bench_fill_model.py   (release build; needs ../shared/data)
"""

from __future__ import annotations


import pytest

import peer_hftbacktest as peer
from shared_data import DATA as SHARED
from shared_data import require_data

DATA = SHARED / "binance_btc_l2_20240808"


@pytest.fixture(scope="module")
def stream():
    require_data(DATA)
    instrument, data = peer.load_stream(DATA)
    return instrument, data, peer.send_times(data[0].ts_init)[0]


def run(stream, queue_model):
    instrument, data, times = stream
    return peer.run_ours(data, instrument, times, queue_model, peer.LATENCY_NS)


def test_backtest_with_queue_fill_model(benchmark, stream, record_ratio):
    outcomes = benchmark.pedantic(run, (stream, "prob_linear"), rounds=3, iterations=1)
    assert len(outcomes) == 2 * peer.SLOTS
    assert any(o.fill_ns is not None for o in outcomes)
    # Printed as "Nautilus's L2 matching N x faster than with the model": N is the model's cost factor.
    record_ratio("test_backtest_nautilus_l2_matching", "test_backtest_with_queue_fill_model")


def test_backtest_nautilus_l2_matching(benchmark, stream):
    outcomes = benchmark.pedantic(run, (stream, "off"), rounds=3, iterations=1)
    assert len(outcomes) == 2 * peer.SLOTS
