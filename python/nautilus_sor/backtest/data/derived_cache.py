"""A cache of the arrays `load_catalog` derives from a catalog's Nautilus data (books replayed from the
deltas, tapes, basis offsets), kept next to the catalog so that reading it again skips the rebuild.

Files: `<catalog>/nautilus_sor_derived/<fingerprint>-<params>.npz`.

- `fingerprint(path)`: the names (relative), sizes and modification times (ns) of the catalog's parquet
  files and of our metadata file. A changed, added or removed file changes it; the bytes are not read
  (enough to notice a catalog written again, and cheap on a large catalog; a file rewritten in place with
  the same size within the same mtime tick would go unnoticed). A copied catalog gets new mtimes, so its
  first read rebuilds once.
- `params`: everything else the arrays depend on (venues, levels, reference, window, ...), plus
  `DERIVED_VERSION` so that a change in how arrays are derived invalidates old files.

Writing a new entry removes the entries of other fingerprints (stale once the catalog changed). A catalog
directory we cannot write to is read as it is, rebuilt each time (the caller notes it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

DERIVED_DIR = "nautilus_sor_derived"
DERIVED_VERSION = 1
_META_KEY = "__meta__"


def fingerprint(path: Path, metadata_file: str) -> str:
    """Names, sizes and mtimes of the catalog's parquet files and its metadata file (see the module doc)."""
    h = hashlib.sha256()
    files = sorted(path.rglob("*.parquet"))
    meta = path / metadata_file
    if meta.is_file():
        files.append(meta)
    for file in files:
        stat = file.stat()
        h.update(f"{file.relative_to(path)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def entry_path(path: Path, print_: str, params: dict[str, Any]) -> Path:
    key = hashlib.sha256(json.dumps({**params, "version": DERIVED_VERSION}, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return path / DERIVED_DIR / f"{print_}-{key}.npz"


def load_entry(file: Path) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Any]] | None:
    """The arrays and the JSON part of an entry, or None when there is none (or it is unreadable)."""
    if not file.is_file():
        return None
    try:
        with np.load(file, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files if k != _META_KEY}
            meta = json.loads(str(npz[_META_KEY]))
    except (OSError, ValueError, KeyError):  # a torn or foreign file: rebuild (and overwrite it)
        return None
    return arrays, meta


def save_entry(file: Path, arrays: dict[str, npt.NDArray[Any]], meta: dict[str, Any]) -> str | None:
    """Writes an entry atomically and drops the other fingerprints' entries; returns why it could not
    be written (an OSError's text), else None."""
    directory = file.parent
    tmp = directory / f".{file.name}.{os.getpid()}.tmp"
    try:
        directory.mkdir(exist_ok=True)
        with open(tmp, "wb") as out:
            # numpy's stub lets `**kwds` collide with `allow_pickle: bool`, so mypy rejects any **dict of arrays
            np.savez(out, **arrays, **{_META_KEY: np.array(json.dumps(meta))})  # type: ignore[arg-type]
        os.replace(tmp, file)
        print_ = file.name.split("-", 1)[0]
        for old in directory.glob("*.npz"):
            if not old.name.startswith(f"{print_}-"):
                old.unlink(missing_ok=True)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        return f"{type(exc).__name__}: {exc}"
    return None


__all__ = ["DERIVED_DIR", "DERIVED_VERSION", "entry_path", "fingerprint", "load_entry", "save_entry"]
