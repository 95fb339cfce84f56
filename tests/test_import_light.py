"""`import nautilus_sor` (and the CLI's start, e.g. `nautilus-sor --version`) stays light: the heavy
optional modules are imported only where they are used. Each check runs in a fresh interpreter, since
this test session has imported everything already."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = [
    "plotly",
    "ray",
    "pandas",
    "nautilus_trader.backtest",
    "nautilus_sor.smart_router",
    "nautilus_sor.execution_algorithms",
]


def modules_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout.splitlines()[-1]))


def loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(name + ".") for m in modules)


@pytest.mark.parametrize("statement", ["import nautilus_sor", "import nautilus_sor.cli"])
def test_import_does_not_pull_heavy_modules(statement):
    modules = modules_after(statement)
    assert "nautilus_sor._core" in modules and "nautilus_sor.exceptions" in modules
    assert [name for name in HEAVY if loaded(modules, name)] == []


def test_the_check_sees_heavy_modules_when_they_are_imported():
    # The same detector on an import that does pull them: the test above cannot pass vacuously.
    modules = modules_after("import nautilus_sor.execution_algorithms")
    assert loaded(modules, "nautilus_sor.smart_router")
    assert loaded(modules, "nautilus_sor.execution_algorithms")
    assert loaded(modules, "nautilus_trader")
