"""The package surface: version, stubs, CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nautilus_sor
from nautilus_sor import cli

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_the_workspace_version():
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    assert nautilus_sor.__version__ == cargo["workspace"]["package"]["version"]


def test_stubs_match_the_extension():
    # mypy's stubtest compares _core.pyi with the compiled module's real signatures.
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "nautilus_sor._core"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "MYPYPATH": ""},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_demo_routes_and_explains(capsys):
    assert cli.main(["demo", "--quantity", "250"]) == 0
    out = capsys.readouterr().out
    assert "CHEAP" in out and "DEEP" in out and "total" in out
    assert "250" in out


def test_cli_reports_bad_input_without_traceback(capsys):
    assert cli.main(["demo", "--quantity", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid total_qty") or err.startswith("error: invalid quantity")


def test_console_script_help():
    exe = shutil.which("nautilus-sor", path=str(Path(sys.executable).parent))
    assert exe is not None
    result = subprocess.run([exe, "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "demo" in result.stdout
    version = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"nautilus-sor {nautilus_sor.__version__}"
