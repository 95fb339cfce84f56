"""Writing a run directory (or one file: `write_atomic`) whole or not at all.

A run is written into a temporary sibling (`.<name>.tmp-<pid>-<token>`) and renamed into place when
complete, so a kill, a full disk or an error mid-way leaves either the previous run or the new one,
never a mix (and never a 0-byte report). One writer at a time: a second `backtest` into the same
directory is refused, naming the holder (pid, host, start time, command), while the first runs. The
lock is an OS file lock on `.<name>.lock` beside the directory, released by the OS if the holder dies.
Before anything is simulated the location is checked: creatable, writable (a probe file is written)
and with at least `min_free_bytes` free.

    with RunDirectory("runs/twap") as out:      # checks, lock, staging directory
        results.write(out.staging)              # everything goes to out.staging (`RunResults.save` does this)
    # here runs/twap is the new run, complete
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from nautilus_sor.exceptions import OutputError, RunLockedError

#: Free space required at the output location before a run starts (the embedded examples write a few MB).
DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


class RunDirectory:
    """The output location of one run: checked, locked, staged, then swapped into place whole."""

    def __init__(self, path: str | Path, *, min_free_bytes: int = DEFAULT_MIN_FREE_BYTES) -> None:
        self.path = Path(path)
        self.min_free_bytes = min_free_bytes
        self.staging = self.path.parent / f".{self.path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        self.lock_path = self.path.parent / f".{self.path.name}.lock"
        self._lock: IO[str] | None = None

    # -- checks and lock, before the run --------------------------------------------------------------

    def __enter__(self) -> RunDirectory:
        parent = self.path.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._error(f"cannot create {parent} ({exc.strerror})", parent) from None
        if self.path.exists() and not self.path.is_dir():
            raise self._error(f"{self.path} exists and is not a directory", self.path)
        self._take_lock()
        try:
            self._remove_stale_staging()
            self.staging.mkdir()
            probe = self.staging / ".write-probe"
            probe.write_bytes(b"0" * 4096)
            probe.unlink()
            free = shutil.disk_usage(parent).free
            if free < self.min_free_bytes:
                raise self._error(f"only {_mib(free)} free at {parent}; a run needs at least {_mib(self.min_free_bytes)}", parent)
        except OutputError:
            self._abandon()
            raise
        except OSError as exc:
            self._abandon()
            raise self._error(f"cannot write in {parent} ({exc.strerror})", parent) from None
        return self

    def _take_lock(self) -> None:
        try:
            handle = open(self.lock_path, "a+", encoding="utf-8")  # noqa: SIM115 - held until the run is written
        except OSError as exc:
            raise self._error(f"cannot create the lock {self.lock_path} ({exc.strerror})", self.path.parent) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown holder"
            handle.close()
            raise RunLockedError(
                f"invalid output: {self.path} is being written by another run ({holder}); wait for it, or choose another --output",
                field="output", value=str(self.path), holder=holder,
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                 "command": " ".join(sys.argv)}))
        handle.flush()
        self._lock = handle

    def _remove_stale_staging(self) -> None:
        """Staging directories of killed runs (no run can be writing: we hold the lock)."""
        for old in self.path.parent.glob(f".{self.path.name}.tmp-*"):
            shutil.rmtree(old, ignore_errors=True)
        for old in self.path.parent.glob(f".{self.path.name}.old-*"):
            shutil.rmtree(old, ignore_errors=True)

    # -- after the run: swap into place, or leave the previous run as it was ---------------------------

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is not None:
            self._abandon()
            if isinstance(exc, OSError) and not isinstance(exc, OutputError):
                raise self._error(f"writing the run failed ({exc.strerror or exc}); {self.path} is unchanged", self.path) from exc
            return
        try:
            self._commit()
        except OSError as exc:
            self._abandon()
            raise self._error(f"could not put the run in place ({exc.strerror or exc}); {self.path} is unchanged", self.path) from exc
        self._release()

    def _commit(self) -> None:
        for file in self.staging.rglob("*"):
            if file.is_file():
                with open(file, "rb") as f:
                    os.fsync(f.fileno())
        if self.path.exists():
            # Two renames: a crash between them leaves the previous run whole in `.old-*` (and no mix).
            old = self.path.parent / f".{self.path.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
            os.replace(self.path, old)
            os.replace(self.staging, self.path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.staging, self.path)
        _fsync_dir(self.path.parent)

    def _abandon(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def _error(self, message: str, where: Path) -> OutputError:
        return OutputError(f"invalid output: {message}", field="output", value=str(where))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
