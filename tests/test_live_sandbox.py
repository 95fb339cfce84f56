"""examples/live_sandbox.py: a live TradingNode (sandbox execution, replayed feed) routes a TWAP's slices,
fills them and stops cleanly. Runs the script as a user would, for 8 wall-clock seconds (mostly idle)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "live_sandbox.py"


@pytest.fixture(scope="module")
def run() -> tuple[subprocess.CompletedProcess, dict]:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--seconds", "8", "--twap-seconds", "2"], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("SUMMARY ")]
    assert proc.returncode == 0 and lines, f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
    return proc, json.loads(lines[-1][len("SUMMARY "):])


def test_both_parents_are_sliced_routed_and_filled_exactly(run):
    _, summary = run
    parents = summary["parents"]
    assert [p["side"] for p in parents.values()] == ["BUY", "SELL"]
    for parent_id, p in parents.items():
        # 2 s TWAP at 1 s slices: at least 2 children, each routed (possibly split) across venues.
        assert p["children"] >= 2, (parent_id, p)
        assert p["filled"] == pytest.approx(p["requested"], abs=1e-9), (parent_id, p)
        assert p["conserved"] and p["open"] == 0
    assert summary["open_orders"] == 0
    # Every child went out and filled at least once; what the venues filled is what the parents asked for.
    assert summary["fills"] >= summary["children"] == sum(p["children"] for p in parents.values())
    assert sum(summary["filled_by_venue"].values()) == pytest.approx(sum(p["requested"] for p in parents.values()), abs=1e-9)


def test_router_learned_from_live_events(run):
    _, summary = run
    stats = summary["venue_stats"]
    assert set(stats) == {"CHEAP", "DEEP", "SLOW"}
    used = {venue for venue, filled in summary["filled_by_venue"].items() if filled > 0}
    assert len(used) >= 2  # the router split the flow
    for venue in used:
        # Acks timed from OrderSubmitted to the venue's first answer on the live clock.
        assert stats[venue]["orders"] >= 1 and stats[venue]["acks"] >= 1, (venue, stats[venue])


def test_node_stops_cleanly(run):
    proc, _ = run
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert "[ERROR]" not in proc.stdout + proc.stderr
