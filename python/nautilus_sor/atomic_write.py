"""Writing one file whole or not at all (the report, the sweep's page): what a run directory does for a
whole run (`backtest/run_dir.py`), for a single file."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from nautilus_sor.exceptions import OutputError


def write_atomic(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Writes `text` to `path` through a temporary sibling and a rename: a reader (or a kill) never sees a
    partial file. An OSError is an OutputError naming the path, and the old file stays."""
    target = Path(path)
    temp = target.parent / f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(temp, "w", encoding=encoding) as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise OutputError(f"invalid output: cannot write {target} ({exc.strerror or exc})", field="output", value=str(target)) from None
    return target


__all__ = ["write_atomic"]
