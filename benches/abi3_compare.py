"""The stable-ABI (abi3) wheel against a version-specific one, same machine, same run (issue 23).

Builds, in the release profile, one abi3 wheel (the default) and one version-specific wheel
(`--no-default-features`) for each Python given, installs each into its own fresh venv, then runs the
benchmarks that cross the bindings (bench_router / bench_hot_path / bench_positions, the core-calling cases)
and `hot_path.py latency` on each build, alternating the order of the builds from round to round. The
benchmark files run from a copy outside the source tree, so each venv measures its installed wheel, never
`python/`. Prints min and median over the rounds of each benchmark's median (us), and of the per-tick
handler latency added by routing.

Run (from the repository root, maturin in the venv):

    .venv/bin/python benches/abi3_compare.py --rounds 5 --ticks 45000 "$(pyenv root)"/versions/3.11.7/bin/python3.11 \
        "$(pyenv root)"/versions/3.13.0/bin/python3.13
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHES = [
    ("bench_router.py", "core or batch or loop"),
    ("bench_hot_path.py", "books_changed"),
    ("bench_positions.py", "ours"),
]


def run(*cmd: str | Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def python_tag(python: str) -> str:
    out = subprocess.run([python, "-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def build(out: Path, python: str, abi3: bool) -> Path:
    features = [] if abi3 else ["--no-default-features"]
    run(Path(sys.executable).parent / "maturin", "build", "--release", "--compatibility", "manylinux_2_35",
        "--interpreter", python, *features, "--out", out, cwd=ROOT)
    (wheel,) = out.glob("nautilus_sor-*.whl")
    return wheel


def venv_with(path: Path, python: str, wheel: Path) -> Path:
    run(python, "-m", "venv", path)
    run(path / "bin/pip", "install", "--quiet", "--only-binary", ":all:", wheel, "pytest-benchmark>=4,<6", "pytest>=8,<10",
        "hypothesis>=6.100,<7")
    # The module measured is the installed wheel's (abi3.so or cpython-3XX.so), in site-packages.
    run(path / "bin/python", "-c", "import nautilus_sor._core as c; assert 'site-packages' in c.__file__, c.__file__; "
        "assert c.__build_profile__ == 'release'; print(c.__file__)", cwd=path)
    return path / "bin/python"


def measure(python: Path, src: Path, out: Path, ticks: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    for name, select in BENCHES:
        report = out / f"{name}.json"
        run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"benches/{name}", "-k", select,
            f"--benchmark-json={report}", cwd=src, stdout=subprocess.DEVNULL)
        for bench in json.loads(report.read_text())["benchmarks"]:
            figures[bench["name"]] = bench["stats"]["median"] * 1e6
    latency = json.loads(run(python, "benches/hot_path.py", "latency", "--ticks", str(ticks),
                             "--modes", "off,route_order,route_quantities", cwd=src, capture_output=True, text=True).stdout)
    for mode in ("route_order", "route_quantities"):
        for p in ("p50", "p99", "mean"):
            figures[f"hot_path {mode} added {p}"] = latency[mode]["added"][p]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pythons", nargs="+", help="interpreters to measure on (paths)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ticks", type=int, default=45_000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="abi3-compare-"))
    src = work / "src"  # benches + tests helpers only: no `python/` beside them
    for part in ("benches", "tests"):
        shutil.copytree(ROOT / part, src / part, ignore=shutil.ignore_patterns("__pycache__"))
    abi3_wheel = build(work / "wheel-abi3", args.pythons[0], abi3=True)
    builds: dict[str, Path] = {}
    for python in args.pythons:
        version = python_tag(python)
        native_wheel = build(work / f"wheel-{version}", python, abi3=False)
        builds[f"{version} abi3"] = venv_with(work / f"venv-{version}-abi3", python, abi3_wheel)
        builds[f"{version} native"] = venv_with(work / f"venv-{version}-native", python, native_wheel)
    print(f"wheels: {abi3_wheel.name}, " + ", ".join(p.name for p in work.glob("wheel-3*/*.whl")), flush=True)

    results: dict[str, list[dict[str, float]]] = {name: [] for name in builds}
    names = list(builds)
    for r in range(args.rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            out = work / f"round{r}-{name.replace(' ', '-')}"
            out.mkdir()
            results[name].append(measure(builds[name], src, out, args.ticks))
            print(f"round {r + 1}/{args.rounds}: {name} done", flush=True)
    (work / "results.json").write_text(json.dumps(results, indent=1))

    for version in dict.fromkeys(name.split()[0] for name in names):
        abi3, native = results[f"{version} abi3"], results[f"{version} native"]
        print(f"\nCPython {version}: us, min / median of {args.rounds} rounds (a benchmark's figure is its median)")
        print(f"{'benchmark':<58} {'native':>17} {'abi3':>17} {'abi3/native (medians)':>22}")
        for key in native[0]:
            n = [f[key] for f in native]
            a = [f[key] for f in abi3]
            ratio = statistics.median(a) / statistics.median(n) if statistics.median(n) else float("nan")
            print(f"{key:<58} {min(n):>8.2f} / {statistics.median(n):>6.2f} {min(a):>8.2f} / {statistics.median(a):>6.2f} "
                  f"{ratio:>22.3f}")
    print(f"\nraw figures: {work / 'results.json'}")


if __name__ == "__main__":
    os.environ.pop("PYTHONPATH", None)
    main()
