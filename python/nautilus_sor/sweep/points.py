"""The points of a sweep: grid and random draws applied to the base config, each repeat's seed applied,
every resulting run config validated before anything runs."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nautilus_sor.config import BacktestBlock, RunConfig, parse_config
from nautilus_sor.exceptions import ConfigError
from nautilus_sor.sweep.spec import RandomBlock, RandomRange, SweepSpec, set_path


@dataclass(frozen=True)
class SweepPoint:
    """One combination of parameter values: the base config with `params` set, and what each repeat
    changes in it (a market seed, a recorded market's window).

    `key` hashes the resolved config and the repeats: a restarted sweep recognises a point it has already
    finished by it, whatever its position in the grid."""

    index: int
    params: dict[str, Any]
    config: dict[str, Any]  # decoded JSON run config, params applied, repeats not
    repeats: tuple[dict[str, Any], ...]  # per repeat: {path: value} set on top of `config` ({}: the config as is)
    key: str

    @property
    def point_id(self) -> str:
        return f"p{self.index:03d}"

    def repeat_config(self, repeat: int) -> dict[str, Any]:
        """The run config of one repeat: the point's config with that repeat's values set."""
        return with_overrides(self.config, self.repeats[repeat])


def with_overrides(config: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(config)
    for path, value in overrides.items():
        set_path(out, path, value)
    return out


def grid_params(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the first path varying slowest."""
    paths = list(grid)
    return [dict(zip(paths, values)) for values in itertools.product(*(grid[p] for p in paths))]


def _draw(rng: np.random.Generator, dist: RandomRange | list[Any]) -> Any:
    if isinstance(dist, list):
        return copy.deepcopy(dist[int(rng.integers(len(dist)))])
    if dist.log:
        x = math.exp(rng.uniform(math.log(dist.low), math.log(dist.high)))
    else:
        x = float(rng.uniform(dist.low, dist.high))
    if dist.integer:
        return int(min(max(round(x), math.ceil(dist.low)), math.floor(dist.high)))
    return x


def random_params(block: RandomBlock) -> list[dict[str, Any]]:
    """`samples` draws of every path, in the order given, from one generator seeded with `seed`."""
    rng = np.random.default_rng(block.seed)
    return [{path: _draw(rng, dist) for path, dist in block.params.items()} for _ in range(block.samples)]


def point_params(spec: SweepSpec) -> list[dict[str, Any]]:
    """Grid points x random samples (either alone when the other is absent)."""
    grid = grid_params(spec.grid) if spec.grid else [{}]
    drawn = random_params(spec.random) if spec.random is not None else [{}]
    return [{**g, **r} for g in grid for r in drawn]


def repeat_overrides(spec: SweepSpec, base: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """What each repeat sets: `seeds` -> market.seed and backtest.seed (a synthetic market and the
    algorithms' randomness); `repeats` N -> the same for the base's seed and the N-1 after it; `windows`
    -> market.start and market.end (a recorded market); none: one run of the config as it is."""
    if spec.windows is not None:
        return tuple({"market.start": w.start, "market.end": w.end} for w in spec.windows)
    if spec.seeds is not None:
        seeds = list(spec.seeds)
    elif spec.repeats is not None:
        market_seed = base["market"].get("seed") if isinstance(base.get("market"), dict) else None
        backtest_seed = base["backtest"].get("seed") if isinstance(base.get("backtest"), dict) else None
        first = market_seed if isinstance(market_seed, int) else backtest_seed if isinstance(backtest_seed, int) else BacktestBlock().seed
        seeds = [first + i for i in range(spec.repeats)]
    else:
        return ({},)
    return tuple({"market.seed": s, "backtest.seed": s} for s in seeds)


def point_key(config: dict[str, Any], repeats: tuple[dict[str, Any], ...]) -> str:
    canonical = json.dumps({"config": config, "repeats": list(repeats)}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def describe(params: dict[str, Any]) -> str:
    return ", ".join(f"{p}={json.dumps(v)}" for p, v in params.items())


def resolve_points(spec: SweepSpec, base: dict[str, Any]) -> tuple[list[SweepPoint], list[list[RunConfig]]]:
    """The sweep's points and, per point, the validated RunConfig of each repeat. A point whose config is
    invalid fails the whole sweep here, before any task starts: the error names the point, its values
    (and the repeat) and the config field. Points that resolve to the same config (two random draws
    alike) are kept once."""
    try:
        parse_config(copy.deepcopy(base))
    except ConfigError as exc:
        raise ConfigError(f"invalid base: {exc}", field=f"base.{exc.field}", value=exc.value) from None
    repeats = repeat_overrides(spec, base)
    points: list[SweepPoint] = []
    configs: list[list[RunConfig]] = []
    seen: set[str] = set()
    for params in point_params(spec):
        index = len(points)
        config = copy.deepcopy(base)
        label = f"sweep point p{index:03d} ({describe(params)})"
        try:
            for path, value in params.items():
                set_path(config, path, copy.deepcopy(value))
            runs = [parse_config(with_overrides(config, overrides)) for overrides in repeats]
        except ConfigError as exc:
            raise ConfigError(f"invalid {label}: {exc}", field=exc.field, value=exc.value) from None
        key = point_key(config, repeats)
        if key in seen:
            continue
        seen.add(key)
        points.append(SweepPoint(index=index, params=params, config=config, repeats=repeats, key=key))
        configs.append(runs)
    return points, configs
