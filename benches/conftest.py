"""Benchmark session helpers: say which build is measured and print ratios against references."""

from __future__ import annotations

import pathlib
import sys

import pytest

# For the benchmarks' own helpers (market, hot_path, harness) and the tests' references; neither folder
# holds `nautilus_sor`, which must be the installed package (checked below).
sys.path.insert(0, str(pathlib.Path(__file__).parent))
sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "tests"))

import harness  # noqa: E402

# (benchmark, reference) pairs whose median ratio is reported at the end of the run.
RATIOS: list[tuple[str, str]] = []


def ratio(name: str, reference: str) -> None:
    RATIOS.append((name, reference))


def measuring(config) -> bool:
    """Whether this session times anything (`--benchmark-disable` runs each benchmark once, as a test)."""
    return not (config.getoption("benchmark_disable", False) or config.getoption("benchmark_skip", False))


def pytest_configure(config):
    try:
        harness.installed_package()  # refused when a source tree shadows the installed package
        if measuring(config):
            harness.require_release()
            config._sor_pinned_core = harness.pin_one_core()
    except SystemExit as refused:
        pytest.exit(str(refused), returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_report_header(config):
    if not measuring(config):
        b = harness.build()
        return f"nautilus_sor: {harness.installed_package()}; _core build {b['profile']} (benchmarks disabled: not measuring)"
    return harness.header(getattr(config, "_sor_pinned_core", None))


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
