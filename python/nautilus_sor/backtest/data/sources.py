"""`load_market(block)`: the market a config's `market` block names, whatever its source.

    synthetic         the seeded synthetic market (`backtest/synthetic.py`), built in memory
    binance           Binance L2 of one asset (`symbol`) on spot / USD-M / COIN-M (`binance.py`), cached as a
                      Nautilus catalog; `binance_btc` is the same with symbol BTC
    catalog           any Nautilus `ParquetDataCatalog` (`catalog.py`), read each time; the arrays it
                      rebuilds are cached next to it (`derived_cache.py`), until its files change
    lean_equity       one ticker's ticks by venue on one day (`symbol`, `date`; `lean.py`, cached as a catalog);
                      `lean_ibm` is the same with symbol IBM
    lean_crypto_bars  one asset's crypto / perpetual minute bars by venue (`symbol`, `date`, `venues`, `instruments`;
                      `lean_crypto_bars.py`, cached as a catalog)

Paths: a config file's relative `market.path` and `market.cache_dir` are relative to that file's folder
(`config.load_config` makes them absolute); a path given any other way (a `MarketBlock` or config dict
built in code, a command-line option) is relative to the working directory, as are the default data paths
(`../shared/data` seen from the project root).

The cache of loaded recorded markets (Nautilus catalogs, `catalog.cached_market`) is in the first of: the
`cache_dir` argument, the block's `cache_dir`, the user cache dir (`default_cache_dir`). Never the
working directory.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

from nautilus_sor.exceptions import ConfigError, ValidationError

DEFAULT_PATHS = {
    "binance_btc": "../shared/data/binance_btc_l2_20240808",
    "lean_ibm": "../shared/data/lean_equity_ticks/ibm",
    "lean_equity": "../shared/data",
    "lean_crypto_bars": "../shared/data/lean_crypto_minute",
}
RECORDED_TYPES = ("binance", "binance_btc", "catalog", "lean_equity", "lean_ibm", "lean_crypto_bars")
# The loaders another module provides: (module, function).
_LEAN = {"lean_ibm": ("nautilus_sor.backtest.data.lean", "load_lean_ibm"),
         "lean_equity": ("nautilus_sor.backtest.data.lean", "load_lean_equity"),
         "lean_crypto_bars": ("nautilus_sor.backtest.data.lean", "load_lean_crypto_bars")}


def market_path(block: Any, *, must_exist: bool = True) -> Path:
    """The block's data path (its `path`, else the type's default), which must exist (when `must_exist`)."""
    raw = block.path if block.path is not None else DEFAULT_PATHS.get(block.type)
    if raw is None:
        raise ConfigError(f"invalid market.path: missing (a market of type {block.type!r} needs the path of its data)",
                          field="market.path", value=None)
    path = Path(raw).expanduser()
    if must_exist and not path.exists():
        default = "" if block.path is not None else " (the default for this type; set market.path)"
        seen_from = "" if path.is_absolute() else f", seen from {Path.cwd()}"  # a config file's paths are absolute by now
        raise ConfigError(f"invalid market.path: {str(path)!r} does not exist{seen_from}{default}",
                          field="market.path", value=str(path))
    return path


def default_cache_dir() -> Path:
    """The user cache dir of nautilus-sor, as platformdirs would give it: `$XDG_CACHE_HOME/nautilus-sor`
    when XDG_CACHE_HOME is set (an absolute path, per the XDG spec), else `~/Library/Caches/nautilus-sor` on
    macOS, `%LOCALAPPDATA%\\nautilus-sor\\Cache` on Windows and `~/.cache/nautilus-sor` elsewhere."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "nautilus-sor"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "nautilus-sor"
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "nautilus-sor" / "Cache"
    return Path.home() / ".cache" / "nautilus-sor"


def cache_dir_for(block: Any, cache_dir: str | Path | None = None) -> Path:
    """Where a recorded market of `block` is cached: `cache_dir` when given, else the block's `cache_dir`,
    else `default_cache_dir()`."""
    chosen = cache_dir if cache_dir is not None else getattr(block, "cache_dir", None)
    return Path(chosen).expanduser() if chosen is not None else default_cache_dir()


# A loader's argument -> the config key it comes from.
_LOADER_FIELDS = {"date": "start", "reference": "venues"}


def load_market(block: Any, **kwargs: Any) -> Any:
    """See `_load`; a loader's error about one of its arguments (ConfigError or ValidationError) is a
    ConfigError naming the config path (`market.start`)."""
    try:
        return _load(block, **kwargs)
    except (ConfigError, ValidationError) as exc:
        if not exc.field or exc.field.startswith("market."):
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(str(exc), field=exc.field, value=exc.value) from None
        head, _, rest = exc.field.partition(".")
        head, index, tail = head.partition("[")
        # A loader's `date` comes from market.date when set, else from market.start.
        mapped = head if head == "date" and getattr(block, "date", None) is not None else _LOADER_FIELDS.get(head, head)
        field = f"market.{mapped}{index}{tail}{'.' + rest if rest else ''}"
        raise ConfigError(f"invalid {field}: {exc}", field=field, value=exc.value) from None


def _load(block: Any, *, cache_dir: str | Path | None = None, seed: int = 7, synthetic_config: Any = None) -> Any:
    """The market of `block` (a `config.MarketBlock`): a `SyntheticMarket` for "synthetic" (built from
    `synthetic_config` when given, e.g. `runner.market_config_for(config)`), else a `RecordedMarket`.
    Recorded sources are written to a catalog under `cache_dir_for(block, cache_dir)` on first use and
    read from it after."""
    if block.type == "synthetic":
        from nautilus_sor.backtest.synthetic import SyntheticMarketConfig, build_market

        if synthetic_config is None:
            synthetic_config = SyntheticMarketConfig(seed=block.seed if block.seed is not None else seed, duration_seconds=block.duration_seconds,
                                                     initial_price=block.initial_price, annual_volatility=block.annual_volatility)
        return build_market(synthetic_config)
    # A cached recorded market needs no raw files: the path must exist only when something reads it.
    path = market_path(block, must_exist=block.type == "catalog")
    cache_dir = cache_dir_for(block, cache_dir)
    window = {"start": block.start, "end": block.end}
    if block.type == "catalog":
        from nautilus_sor.backtest.data.catalog import load_catalog
        from nautilus_sor.backtest.data.recorded import window_ns

        # start/end (int | None); Any because mypy checks a **dict's value type against every keyword
        from_ns: dict[str, Any] = {k: window_ns(v, f"market.{k}") for k, v in window.items()}
        return load_catalog(path, venues=block.venues, latency_ms=block.latency_ms, **from_ns)
    if block.type in ("binance", "binance_btc"):
        from nautilus_sor.backtest.data.binance import load_binance
        from nautilus_sor.backtest.data.catalog import cached_market

        symbol = "BTC" if block.type == "binance_btc" else block.symbol
        options = {"venues": block.venues, "symbol": symbol, "instruments": block.instruments, "crossed_books": block.crossed_books,
                   **({"levels": block.levels} if block.levels is not None else {})}
        params = {"type": "binance", "path": str(path.resolve()), **window, **options}
        key = f"binance_{(symbol or 'auto').lower()}-{_short_hash(params)}"
        market = cached_market(cache_dir, key, params, lambda: load_binance(market_path(block), **window, **options),
                               source={"loader": "nautilus_sor.backtest.data.binance.load_binance", "path": str(path)}, source_path=path)
        return with_latency(market, block.latency_ms)
    if block.type in _LEAN:
        module, function = _LEAN[block.type]
        try:
            loader = getattr(importlib.import_module(module), function)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            loader = None
        except AttributeError:
            loader = None
        if loader is None:
            raise ConfigError(f"invalid market.type: {block.type!r} (its loader {module}.{function} is not available yet)",
                              field="market.type", value=block.type)
        from nautilus_sor.backtest.data.catalog import cached_market

        keys = {"venues": block.venues, "symbol": block.symbol, "date": block.date, "levels": block.levels, "instruments": block.instruments}
        params = {"type": block.type, "path": str(path.resolve()), **window, **keys}
        key = f"{block.type}-{_short_hash(params)}"
        kwargs = {k: v for k, v in {**window, **keys}.items() if v is not None}
        market = cached_market(cache_dir, key, params, lambda: loader(market_path(block), **kwargs), source={"loader": f"{module}.{function}", "path": str(path)},
                               source_path=path)
        return with_latency(market, block.latency_ms)
    raise ConfigError(f"invalid market.type: {block.type!r} (one of synthetic, {', '.join(RECORDED_TYPES)})", field="market.type", value=block.type)


def with_latency(market: Any, latency_ms: dict[str, float] | None) -> Any:
    """`market` with the given per-venue order latencies (venues not named keep theirs)."""
    if not latency_ms:
        return market
    import dataclasses

    names = [v.name for v in market.venues]
    for name in latency_ms:
        if name not in names:
            raise ConfigError(f"invalid market.latency_ms.{name}: unknown venue (one of {', '.join(names)})",
                              field=f"market.latency_ms.{name}", value=name)
    venues = tuple(dataclasses.replace(v, latency_ms=float(latency_ms.get(v.name, v.latency_ms))) for v in market.venues)
    notes = [*market.notes, "latency (from the config): " + ", ".join(f"{v.name} {v.latency_ms:g} ms" for v in venues)]
    return dataclasses.replace(market, venues=venues, notes=notes)


def _short_hash(params: dict[str, Any]) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:10]


__all__ = ["DEFAULT_PATHS", "RECORDED_TYPES", "cache_dir_for", "default_cache_dir", "load_market", "market_path", "with_latency"]
