"""The recorded market data the tests read: `../shared/data` seen from the project root (what it holds:
`../shared/data/README.md`; the project never copies it into its tree).

One rule for every test that needs a file of it: absent, the test is skipped with the missing path in the
reason; absent under `CI=true` (CI provides the data), the test fails instead, so a CI run never counts a
skipped check as a pass. Mark a test `@needs_data(path, ...)` (checked before its fixtures run, by
`conftest.pytest_runtest_setup`), or call `require_data(path, ...)` in its body (e.g. for one case of a
parametrized test).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
MARKER = "needs_data"


def on_ci() -> bool:
    """`CI=true` (or 1 / yes) in the environment, as GitHub Actions, GitLab and most CI services set it."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing_data(reason: str) -> None:
    """Skips the running test with `reason`, or fails it under CI=true."""
    if on_ci():
        pytest.fail(f"{reason}; CI=true, where the recorded data must be present", pytrace=False)
    pytest.skip(reason)


def require_data(*paths: str | Path) -> None:
    """Every path (absolute, or relative to `DATA`) must exist, else `missing_data` names the first absent one."""
    for path in paths:
        full = DATA / path
        if not full.exists():
            missing_data(f"recorded data missing: {full} (see ../shared/data/README.md)")


def needs_data(*paths: str | Path) -> pytest.MarkDecorator:
    """The mark for a test (or, as `pytestmark`, a module) that reads these paths (see `require_data`)."""
    return getattr(pytest.mark, MARKER)(*paths)
