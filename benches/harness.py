"""What every benchmark does before it measures: import the installed package (never a source tree put on
`sys.path`), refuse a build that is not release, say what is measured (build, CPU, load), pin the process
to one core, and summarise rounds as min / median.

`installed_package()` checks that `nautilus_sor` is the copy the installed distribution records: in
site-packages for a wheel, or the project's `python/` for an editable install (`pip install -e`,
`maturin develop`), whose `_core` is whatever was last built there - hence `require_release()`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sysconfig
from importlib import metadata
from pathlib import Path
from typing import Any

DIST = "nautilus-sor"


def installed_location() -> tuple[Path, str]:
    """(directory of the `nautilus_sor` package as installed, "site-packages" or "editable")."""
    dist = metadata.distribution(DIST)
    direct_url = dist.read_text("direct_url.json")
    if direct_url:
        info = json.loads(direct_url)
        if info.get("dir_info", {}).get("editable"):
            root = Path(info["url"].removeprefix("file://"))
            return (root / "python" / "nautilus_sor").resolve(), "editable"
    return Path(str(dist.locate_file("nautilus_sor"))).resolve(), "site-packages"


def installed_package() -> str:
    """Imports `nautilus_sor`, asserts it is the installed distribution's copy, and describes it."""
    import nautilus_sor

    where = Path(nautilus_sor.__file__).resolve().parent
    expected, kind = installed_location()
    if where != expected:
        raise SystemExit(f"nautilus_sor imported from {where}, not the installed package ({kind} at {expected}): "
                         "something on sys.path shadows it")
    if kind == "site-packages":
        purelib = {Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
        if where.parent not in purelib:
            raise SystemExit(f"nautilus_sor at {where} is not in this interpreter's site-packages ({sorted(map(str, purelib))})")
    return f"{kind} at {where}"


def build() -> dict[str, str]:
    """The extension's build: profile, opt-level and LTO (set by rust/sor-py/build.rs)."""
    from nautilus_sor import _core

    return {"profile": _core.__build_profile__, "opt_level": getattr(_core, "__build_opt_level__", "unknown"),
            "lto": getattr(_core, "__build_lto__", "unknown")}


def require_release() -> dict[str, str]:
    """The build, or SystemExit when it is not a release build (figures of a debug build mean nothing)."""
    info = build()
    if info["profile"] != "release":
        raise SystemExit(f"refusing to measure a {info['profile']} build of nautilus_sor._core "
                         "(rebuild with `maturin develop --release`, or install the wheel)")
    return info


def pin_one_core() -> int | None:
    """Pins this process to one core it may run on (Linux): `SOR_BENCH_CORE` when set (two benchmarks run
    at once on different cores), else the last. The core, or None where the OS cannot pin."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = os.sched_getaffinity(0)
    core = int(os.environ.get("SOR_BENCH_CORE", max(allowed)))
    if core not in allowed:
        raise SystemExit(f"invalid SOR_BENCH_CORE: {core} (this process may run on {sorted(allowed)})")
    os.sched_setaffinity(0, {core})
    return core


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.1f} / {five:.1f} (1 / 5 min) on {os.cpu_count()} CPUs"


def header(core: int | None) -> str:
    """One block naming what is measured, for the top of a benchmark's output."""
    b = build()
    return "\n".join([
        f"nautilus_sor: {installed_package()}",
        f"_core build: {b['profile']}, opt-level {b['opt_level']}, lto {b['lto']}",
        f"CPU: {cpu_model()}; pinned to core {core}" if core is not None else f"CPU: {cpu_model()}; not pinned (no sched_setaffinity)",
        f"load average: {load()}",
    ])


def prepare() -> str:
    """For a script that measures: checks the package and build, pins, and returns the header to print."""
    installed_package()
    require_release()
    return header(pin_one_core())


MIN_ROUNDS = 3  # one round on a shared machine says little


def rounds_arg(text: str) -> int:
    """argparse type for `--rounds` of a benchmark summarised by `min_median`: refused before anything runs."""
    rounds = int(text)
    if rounds < MIN_ROUNDS:
        raise argparse.ArgumentTypeError(f"invalid rounds: {rounds} (need at least {MIN_ROUNDS} for a min / median)")
    return rounds


def min_median(values: list[float]) -> dict[str, Any]:
    """Min and median over rounds (at least `MIN_ROUNDS`)."""
    if len(values) < MIN_ROUNDS:
        raise ValueError(f"invalid rounds: {len(values)} (need at least {MIN_ROUNDS})")
    return {"min": min(values), "median": statistics.median(values), "rounds": len(values)}
