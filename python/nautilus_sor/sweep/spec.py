"""The sweep file (`sweep.json`): which run config to start from, which fields to vary, how often to
repeat each point, where to run and where to write.

    {
      "base": "multi_venue_twap.json",                 # a run config path (relative to this file) or inline
      "grid": {"strategy.router.latency_risk_weight": [0, 1, 4], "strategy.max_venues": [1, 3]},
      "random": {"samples": 8, "seed": 1, "params": {  # optional; with a grid: every grid point x every sample
          "strategy.router.miss_cost_bps": {"low": 0, "high": 20},
          "strategy.execution_algorithm.interval_seconds": {"low": 2, "high": 10, "integer": true},
          "strategy.execution_algorithm.type": ["TWAP", "IS"]}},
      "seeds": [1, 2, 3],                              # or "repeats": 3; each repeat sets market.seed and backtest.seed
                                                       # or, on a recorded market, "windows": [{"start": ..., "end": ...}]
      "ray": {"address": null, "num_cpus": null},      # null address: a local Ray started for the sweep
      "output_dir": "runs/sweep"
    }

Paths are dotted JSON paths into the run config, list items by index (`strategy.venues[1].latency_ms`).
Validated with msgspec like `config.py`: every error is one `ConfigError` naming its path in this file.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import msgspec

from nautilus_sor.config import convert_object, resolve_paths
from nautilus_sor.exceptions import ConfigError

# Fields a repeat sets: varying them by hand as well would be overwritten.
SEED_PATHS = ("market.seed", "backtest.seed")
WINDOW_PATHS = ("market.start", "market.end")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])*"
_PATH = re.compile(rf"{_NAME}(?:\.{_NAME})*")
_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


class RandomRange(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A uniform draw in [low, high]; `log`: uniform in log space; `integer`: whole numbers, both ends included."""

    low: float
    high: float
    log: bool = False
    integer: bool = False


class RandomBlock(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    samples: int
    params: dict[str, RandomRange | list[Any]]
    seed: int = 0


class WindowBlock(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A recorded market's window for one repeat (ISO time or ns; None: the source's own bound)."""

    start: str | int | None = None
    end: str | int | None = None


class RayBlock(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    address: str | None = None  # None: start a local Ray for the sweep; else an existing cluster ("auto", "ray://h:10001")
    num_cpus: int | None = None  # for a local Ray only: None lets Ray count the machine's cores


class SweepSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    base: str | dict[str, Any]
    grid: dict[str, list[Any]] = {}
    random: RandomBlock | None = None
    seeds: list[int] | None = None
    repeats: int | None = None
    windows: list[WindowBlock] | None = None
    ray: RayBlock = RayBlock()
    output_dir: str | None = None


def _fail(path: str, value: Any, reason: str) -> ConfigError:
    return ConfigError(f"invalid {path}: {value!r} ({reason})", field=path, value=repr(value))


def parse_path(path: str) -> list[str | int]:
    """`strategy.venues[1].latency_ms` -> ["strategy", "venues", 1, "latency_ms"]."""
    if not isinstance(path, str) or not _PATH.fullmatch(path):
        raise _fail("path", path, "a dotted path of field names and [index]es, e.g. strategy.venues[1].latency_ms")
    return [name if name else int(index) for name, index in _TOKEN.findall(path)]


def set_path(config: dict[str, Any], path: str, value: Any) -> None:
    """Sets `path` in a decoded run config in place. A missing object on the way is created (e.g. an
    absent `strategy.router` block); a missing list item is an error naming the path."""
    tokens = parse_path(path)
    node: Any = config
    for i, token in enumerate(tokens[:-1]):
        nxt = tokens[i + 1]
        if isinstance(token, int):
            if not isinstance(node, list) or token >= len(node):
                raise _fail(path, value, f"the base config has no item [{token}] there")
            node = node[token]
            continue
        if not isinstance(node, dict):
            raise _fail(path, value, f"{token!r} is inside a value that is not an object")
        if node.get(token) is None:
            if isinstance(nxt, int):
                raise _fail(path, value, f"the base config has no list {token!r}")
            node[token] = {}
        node = node[token]
    last = tokens[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise _fail(path, value, f"the base config has no item [{last}] there")
        node[last] = value
    elif not isinstance(node, dict):
        raise _fail(path, value, f"{last!r} is inside a value that is not an object")
    else:
        node[last] = value


def _check_path(where: str, path: str) -> None:
    try:
        parse_path(path)
    except ConfigError as exc:
        raise ConfigError(f"invalid {where}: {exc}", field=where, value=repr(path)) from None


def _check(spec: SweepSpec) -> None:
    if not spec.grid and spec.random is None:
        raise _fail("grid", {}, "a sweep needs a grid or a random block (or both)")
    for path, values in spec.grid.items():
        _check_path(f"grid.{path}", path)
        if not values:
            raise _fail(f"grid.{path}", values, "needs at least one value")
    if spec.random is not None:
        r = spec.random
        if r.samples < 1:
            raise _fail("random.samples", r.samples, "must be >= 1")
        if r.seed < 0:
            raise _fail("random.seed", r.seed, "must be >= 0")
        if not r.params:
            raise _fail("random.params", {}, "needs at least one path")
        for path, dist in r.params.items():
            where = f"random.params.{path}"
            _check_path(where, path)
            if path in spec.grid:
                raise _fail(where, dist, "already varied by the grid")
            if isinstance(dist, list):
                if not dist:
                    raise _fail(where, dist, "needs at least one choice")
                continue
            if not (math.isfinite(dist.low) and math.isfinite(dist.high)):
                raise _fail(where, {"low": dist.low, "high": dist.high}, "low and high must be finite")
            if dist.low > dist.high:
                raise _fail(f"{where}.low", dist.low, f"must be <= high ({dist.high})")
            if dist.log and dist.low <= 0:
                raise _fail(f"{where}.low", dist.low, "a log-uniform draw needs low > 0")
            if dist.integer and math.ceil(dist.low) > math.floor(dist.high):
                raise _fail(where, {"low": dist.low, "high": dist.high}, "no whole number between low and high")
    given = [name for name in ("seeds", "repeats", "windows") if getattr(spec, name) is not None]
    if len(given) > 1:
        raise _fail(given[1], getattr(spec, given[1]), f"give one of seeds, repeats or windows, not {' and '.join(given)}")
    if spec.windows is not None and not spec.windows:
        raise _fail("windows", [], "needs at least one window")
    if spec.seeds is not None:
        if not spec.seeds:
            raise _fail("seeds", [], "needs at least one seed")
        for i, seed in enumerate(spec.seeds):
            if seed < 0:
                raise _fail(f"seeds[{i}]", seed, "must be >= 0")
        if len(set(spec.seeds)) != len(spec.seeds):
            raise _fail("seeds", spec.seeds, "a seed repeated gives the same run twice")
    if spec.repeats is not None and spec.repeats < 1:
        raise _fail("repeats", spec.repeats, "must be >= 1")
    varied = list(spec.grid) + (list(spec.random.params) if spec.random else [])
    set_by_repeats = WINDOW_PATHS if spec.windows is not None else SEED_PATHS if given else ()
    for path in varied:
        if path in set_by_repeats:
            raise _fail(path, path, f"set by each repeat ({given[0]}): vary it there instead")
    if spec.ray.num_cpus is not None and spec.ray.num_cpus < 1:
        raise _fail("ray.num_cpus", spec.ray.num_cpus, "must be >= 1")
    if spec.ray.num_cpus is not None and spec.ray.address is not None:
        raise _fail("ray.num_cpus", spec.ray.num_cpus, "only for a local Ray: a cluster has its own resources")


def parse_sweep(raw: Any) -> SweepSpec:
    """A validated SweepSpec from a decoded JSON object (the base and the points are checked later,
    by `resolve_points`)."""
    spec = convert_object(raw, SweepSpec, "sweep")
    _check(spec)
    return spec


def read_json(file: Path, what: str) -> Any:
    if not file.is_file():
        raise ConfigError(f"invalid {what} path: {file} does not exist", field=what, value=str(file))
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"invalid {what}: {file} is not UTF-8 text ({exc.reason})", field=what, value=str(file)) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON in {file}: {exc.msg} at line {exc.lineno} column {exc.colno}", field=what, value=str(file)) from None


def load_sweep(path: str | Path) -> tuple[SweepSpec, dict[str, Any]]:
    """The sweep file and its base run config (decoded, not yet validated: the points are)."""
    file = Path(path)
    spec = parse_sweep(read_json(file, "sweep"))
    return spec, base_config(spec, file.parent)


def base_config(spec: SweepSpec, relative_to: Path) -> dict[str, Any]:
    """The base run config as a decoded JSON object: inline, or read from its path (relative to the sweep
    file). Its market paths are relative to the file they are written in (`config.resolve_paths`)."""
    if isinstance(spec.base, dict):
        resolved: dict[str, Any] = resolve_paths(json.loads(json.dumps(spec.base)), relative_to)  # a private deep copy
        return resolved
    base = Path(spec.base)
    file = base if base.is_absolute() else relative_to / base
    resolved = resolve_paths(read_json(file, "base"), file.parent)
    return resolved
