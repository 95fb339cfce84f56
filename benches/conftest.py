"""Benchmark session helpers: say which build is measured and print ratios against references."""

from __future__ import annotations

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "tests"))

# (benchmark, reference) pairs whose median ratio is reported at the end of the run.
RATIOS: list[tuple[str, str]] = []


def ratio(name: str, reference: str) -> None:
    RATIOS.append((name, reference))


def pytest_report_header(config):
    from nautilus_sor import _core

    profile = getattr(_core, "__build_profile__", "unknown")
    warning = "" if profile == "release" else "  <-- NOT a release build: figures are not publishable"
    return f"nautilus_sor._core build profile: {profile}{warning}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return
    medians = {b.name: b.stats.median for b in session.benchmarks if b.stats is not None}
    lines = []
    for name, reference in RATIOS:
        if name in medians and reference in medians:
            lines.append(
                f"{name:<55} {medians[name] * 1e6:>10.3f} us   "
                f"{medians[reference] / medians[name]:>8.1f}x faster than {reference}"
            )
    if lines:
        terminalreporter.section("nautilus-sor ratios (median vs reference, same run)")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def record_ratio():
    return ratio
