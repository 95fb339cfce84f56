"""The JSON run config: the reference's format accepted verbatim, extended only where a backtest
needs more.

    {
      "strategy": {                                   # the reference's block, verbatim
        "name": "MultiVenueStrategy",
        "use_smart_routing": true,
        "venues": [{"name": "BINANCE-FUTURES", "maker_fee": 0.0002, "taker_fee": 0.0004, "latency_ms": 50}, ...],
        "execution_algorithm": {"type": "TWAP", "duration_seconds": 3600, "interval_seconds": 60},
        "instrument_id": "BTCUSDT.BINANCE-FUTURES",   # optional: default the symbol on the first venue
        "max_venues": 3,                              # optional
        "router": {"latency_risk_weight": 1.0, "miss_cost_bps": 5.0}   # optional: the router's cost model
      },
      "venue": {"oms_type": "NETTING"},               # the reference's OMS block; per venue: venues[i].oms_type
      "market": {"type": "synthetic", "seed": 7},     # optional, this is the default (its length fits the parents)
                # or {"type": "binance"|"binance_btc"|"catalog"|"lean_equity"|"lean_ibm"|"lean_crypto_bars", "path": ...,
                #     "start": ..., "end": ..., "latency_ms": {venue: ms}, "venues": [...], "symbol": ..., "date": ...,
                #     "levels": ..., "cache_dir": ...}: see `MarketBlock`; relative paths are relative to this file
      "orders": [{"side": "BUY", "quantity": "2.5", "at_seconds": 5}],       # optional: the parents (DEFAULT_ORDERS);
                # optional "limit_price", and "position_id": the position the parent reduces/closes/extends (HEDGING)
      "backtest": {"baselines": ["single_venues", "equal_split", "nautilus_twap"], "seed": 7, "repeats": 10}
                # optional: "queue_model", "queue_power", "consume_liquidity", "clock_step_ms": see `BacktestBlock`
    }

Read as JSON with `//` line and `/* */` block comments allowed (the reference writes its OMS blocks so).
Validated with msgspec: every error is one `ConfigError` naming the path (`strategy.venues[1].taker_fee`)
and the value; unknown keys are errors. What can only be checked against the market (the synthetic
market's limits, a parent's schedule past the market's end) is checked by `runner.prepare_run`, which
`nautilus-sor validate` and `nautilus-sor backtest` both call: they accept exactly the same configs.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgspec

from nautilus_sor._core import ROUTER_DEFAULTS
from nautilus_sor.backtest.clock import DEFAULT_CLOCK_STEP_MS, MIN_CLOCK_STEP_MS
from nautilus_sor.backtest.scenarios import BASELINE_ALIASES, BASELINES, baseline_key
from nautilus_sor.exceptions import ConfigError, ValidationError
from nautilus_sor.msgspec_errors import config_error
from nautilus_sor.queue_model import DEFAULT_QUEUE_MODEL, DEFAULT_QUEUE_POWER, QUEUE_OFF, check_queue_model
from nautilus_sor.smart_router.settings import check_router_params
from nautilus_sor.smart_router.venues import VenueConfig, check_venue_name, parse_venues
from nautilus_sor.units import UNITS_PER_QTY

_S = TypeVar("_S", bound=msgspec.Struct)

# The strategy names a config may give: the reference's MultiVenueStrategy (any algorithm or none) and
# "<TYPE>Strategy" (the reference's "TWAPStrategy"), which says the execution algorithm is of that type.
STRATEGY_NAME = "MultiVenueStrategy"
# Repeats when the config does not say (`backtest.repeats`): enough for a 95% t interval (t(0.975, 9) =
# 2.26), few enough that the README's main example runs in well under a minute.
DEFAULT_REPEATS = 10
MAX_REPEATS = 1000
# The parents when the config has no `orders` (the reference's examples have none): one buy of 1 unit of
# the instrument (1 BTC on the synthetic market) 5 s into the market.
DEFAULT_ORDERS = ({"side": "BUY", "quantity": "1", "at_seconds": 5.0},)


class RouterBlock(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The SmartOrderRouter's cost-model parameters (docs/architecture.md); the defaults are the router's."""

    volatility: float = ROUTER_DEFAULTS["volatility"]
    latency_risk_weight: float = ROUTER_DEFAULTS["latency_risk_weight"]
    miss_cost_bps: float = ROUTER_DEFAULTS["miss_cost_bps"]
    ewma_alpha: float = ROUTER_DEFAULTS["ewma_alpha"]
    slippage_weight: float = ROUTER_DEFAULTS["slippage_weight"]
    tape_tau_s: float = ROUTER_DEFAULTS["tape_tau_s"]  # passive selection: time constant of each venue's traded-volume rate
    passive_horizon_s: float = 5.0  # passive selection: how long a resting order is expected to wait

    def params(self) -> dict[str, float]:
        """Keyword arguments of `SmartOrderRouter`."""
        return {f: getattr(self, f) for f in self.__struct_fields__}


class StrategyBlock(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: str = "MultiVenueStrategy"
    use_smart_routing: bool = False
    venues: list[VenueConfig] = []
    execution_algorithm: dict[str, Any] | None = None
    instrument_id: str | None = None
    max_venues: int = 3
    router: RouterBlock | None = None  # optional: the router's cost-model parameters


class VenueBlock(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    oms_type: Literal["NETTING", "HEDGING"] = "NETTING"


MARKET_TYPES = ("synthetic", "binance", "binance_btc", "catalog", "lean_equity", "lean_ibm", "lean_crypto_bars")
_SYNTHETIC_ONLY = {"seed": None, "duration_seconds": None, "initial_price": 60_000.0, "annual_volatility": 0.6}
# The synthetic market's length when the config does not give one: at least this, longer when a parent's
# schedule needs it (`runner.market_config_for`).
DEFAULT_SYNTHETIC_SECONDS = 600.0
_RECORDED_ONLY = ("path", "start", "end", "latency_ms", "venues", "symbol", "date", "levels", "instruments", "cache_dir")
# Keys only some recorded types read (nothing is silently ignored).
_TYPE_ONLY = {"symbol": ("binance", "lean_equity", "lean_crypto_bars"), "date": ("lean_equity", "lean_ibm", "lean_crypto_bars"),
              "levels": ("binance", "binance_btc", "lean_equity", "lean_ibm"), "instruments": ("binance", "binance_btc", "lean_crypto_bars"),
              # A "catalog" market is read in place (its derived arrays are cached next to it): no cache of its own.
              "cache_dir": ("binance", "binance_btc", "lean_equity", "lean_ibm", "lean_crypto_bars")}
# The config keys that are file paths: relative ones are relative to the config file (`resolve_paths`).
_MARKET_PATH_KEYS = ("path", "cache_dir")


class MarketBlock(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The market to run on (`backtest/data/sources.py`). synthetic: `seed`, `duration_seconds` (default:
    600 s, or as long as the parents' schedules need plus a minute), `initial_price`, `annual_volatility`. Recorded types: `path` (data dir, or the catalog for "catalog";
    relative to the config file; default `../shared/data/...` from the working dir), `start`/`end` (ISO time or ns; default the
    source's whole window), `latency_ms` ({venue: ms}), `venues` (a subset of the source's venues),
    `cache_dir` (where the loaded market is cached as a Nautilus catalog; relative to the config file;
    default the user cache dir, `sources.default_cache_dir`)."""

    type: Literal["synthetic", "binance", "binance_btc", "catalog", "lean_equity", "lean_ibm", "lean_crypto_bars"] = "synthetic"
    seed: int | None = None
    duration_seconds: float | None = None
    initial_price: float = 60_000.0
    annual_volatility: float = 0.6
    path: str | None = None
    start: str | int | None = None
    end: str | int | None = None
    latency_ms: dict[str, Any] | None = None  # values checked in `_validate_market_source` (errors name the venue)
    venues: list[str] | None = None
    # binance_btc: a crossed book after a diff, or a crossed bookTicker, is refused (MarketDataError), or
    # "drop"ped with a count in the market's notes (`backtest/data/binance.py`).
    crossed_books: Literal["refuse", "drop"] = "refuse"
    # binance, lean_crypto_bars: the base asset ("ETH"; default the one the file names carry); lean_equity: the ticker ("BAC").
    symbol: str | None = None
    # lean_equity, lean_crypto_bars: the trading day (YYYYMMDD or ISO date; default the day of `start`, else the first in the folder).
    date: str | int | None = None
    # binance, lean_equity: book levels kept in the arrays (binance default 20, lean 1: the data has the top only).
    levels: int | None = None
    # binance: per-venue terms and files {venue: {raw_symbol, files, price_increment, size_increment, contract_size,
    # maker_fee, taker_fee}} (`backtest/data/binance.py`); lean_crypto_bars: {venue: {raw_symbol, quote, files,
    # price_increment, size_increment, contract_size}} (`backtest/data/lean_crypto_bars.py`).
    instruments: dict[str, dict[str, Any]] | None = None
    cache_dir: str | None = None


class ParentOrder(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    side: Literal["BUY", "SELL"]
    quantity: str | float
    at_seconds: float = 5.0
    limit_price: float | None = None
    # The position the parent reduces, closes or extends (HEDGING): it then trades only the strategy's instrument.
    position_id: str | None = None


class BacktestBlock(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """`baselines`: see `backtest/scenarios.py`. `repeats`: how many times the whole run is repeated for the
    headline's interval: a synthetic market with seeds `seed`, `seed + 1`, ...; a recorded market with the
    parents shifted to evenly spaced start windows (`backtest/repeats.py`); None: `DEFAULT_REPEATS`, fewer
    when a recorded market has no room for them."""

    baselines: list[str] = msgspec.field(default_factory=lambda: list(BASELINES))
    seed: int = 7
    repeats: int | None = None
    output_dir: str | None = None
    report: bool = True
    # How resting limit orders fill on venues with order-book data (see nautilus_sor.fill_model): one of
    # queue_model.QUEUE_MODELS, or "off" for Nautilus's own L2 matching (no queue position).
    queue_model: str = DEFAULT_QUEUE_MODEL
    queue_power: float = DEFAULT_QUEUE_POWER
    # Whether our aggressive fills consume the L2 levels they take (nautilus_sor.fill_model_consumed) on
    # venues with order-book data; false: Nautilus's own L2 matching (each order sees the book as recorded).
    consume_liquidity: bool = True
    # On markets with order-book data, the longest the backtest's clock stands still between data points,
    # in ms (`backtest/clock.py`: alerts and arrived orders wait for no later update); null: Nautilus's
    # own clock, which moves only at data points.
    clock_step_ms: float | None = DEFAULT_CLOCK_STEP_MS


class RunConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    strategy: StrategyBlock
    venue: VenueBlock = VenueBlock()
    market: MarketBlock = MarketBlock()
    orders: list[ParentOrder] = msgspec.field(default_factory=lambda: [ParentOrder(**o) for o in DEFAULT_ORDERS])  # type: ignore[arg-type]
    backtest: BacktestBlock = BacktestBlock()


def _fail(path: str, value: Any, reason: str) -> ConfigError:
    return ConfigError(f"invalid {path}: {value!r} ({reason})", field=path, value=repr(value))


def _validate(config: RunConfig) -> None:
    s = config.strategy
    if s.venues:
        parse_venues(list(s.venues), field="strategy.venues")
    _validate_strategy_name(s)
    if s.instrument_id is not None:
        from nautilus_trader.model.identifiers import InstrumentId

        try:
            InstrumentId.from_str(s.instrument_id)
        except ValueError:
            raise _fail("strategy.instrument_id", s.instrument_id, "must be SYMBOL.VENUE, e.g. BTCUSDT.BINANCE") from None
    if s.use_smart_routing and not s.venues:
        raise _fail("strategy.venues", [], "smart routing needs at least one venue")
    if s.max_venues < 1:
        raise _fail("strategy.max_venues", s.max_venues, "must be >= 1")
    if s.router is not None:
        _validate_router(s.router)
    if s.execution_algorithm is not None:
        from nautilus_sor.execution_algorithms import build_exec_algorithm

        try:
            build_exec_algorithm(s.execution_algorithm)
        except ConfigError as exc:  # it names the field within the spec: `execution_algorithm.<field>`
            raise ConfigError(f"invalid strategy.{str(exc).removeprefix('invalid ')}", field=f"strategy.{exc.field}", value=exc.value) from None
    m = config.market
    if m.type == "synthetic" and s.execution_algorithm is not None:
        from nautilus_sor.execution_algorithms import uses_market_profile

        if uses_market_profile(s.execution_algorithm):
            # Known without the data: only a recorded market can carry a volume curve (resolved by the runner).
            raise _fail("strategy.execution_algorithm.volume_profile", "market", "the synthetic market has no volume curve; 'market' "
                        "needs a recorded market with one, e.g. lean_ibm")
    _validate_market_source(m)
    if m.seed is not None and m.seed < 0:
        raise _fail("market.seed", m.seed, "must be >= 0")
    if m.duration_seconds is not None and not (m.duration_seconds > 0 and m.duration_seconds < float("inf")):
        raise _fail("market.duration_seconds", m.duration_seconds, "must be a finite number of seconds > 0")
    if not (m.initial_price > 0 and m.initial_price < float("inf")):
        raise _fail("market.initial_price", m.initial_price, "must be a finite price > 0")
    if not (m.annual_volatility >= 0 and m.annual_volatility < float("inf")):
        raise _fail("market.annual_volatility", m.annual_volatility, "must be a finite number >= 0")
    if not config.orders:
        raise _fail("orders", [], "a backtest needs at least one parent order")
    for i, order in enumerate(config.orders):
        try:
            quantity = Decimal(str(order.quantity))
        except InvalidOperation:
            raise _fail(f"orders[{i}].quantity", order.quantity, "not a number") from None
        if not quantity.is_finite() or quantity <= 0:
            raise _fail(f"orders[{i}].quantity", order.quantity, "must be > 0")
        units = quantity * UNITS_PER_QTY
        if units != units.to_integral_value():
            raise _fail(f"orders[{i}].quantity", order.quantity, "finer than 1e-9: more decimals than any instrument has")
        if units >= 2**64:
            raise _fail(f"orders[{i}].quantity", order.quantity, "too large to route")
        # The market's end (a recorded market's is known once loaded; a synthetic one without a length
        # fits the parents) is checked with the parents' schedules by `runner.check_parents_fit`.
        if not (0 <= order.at_seconds < float("inf")):
            raise _fail(f"orders[{i}].at_seconds", order.at_seconds, "must be a finite number of seconds >= 0")
        if order.limit_price is not None and not (order.limit_price > 0 and order.limit_price < float("inf")):
            raise _fail(f"orders[{i}].limit_price", order.limit_price, "must be a finite price > 0")
        if order.position_id is not None:
            _check_identifier(f"orders[{i}].position_id", order.position_id, "PositionId")
    for i, name in enumerate(config.backtest.baselines):
        if baseline_key(name) not in BASELINES:
            raise _fail(f"backtest.baselines[{i}]", name, f"one of {', '.join(BASELINES)} (or the earlier names {', '.join(BASELINE_ALIASES)})")
    if config.backtest.queue_model != QUEUE_OFF:
        try:
            check_queue_model(config.backtest.queue_model, config.backtest.queue_power)
        except ValidationError as exc:
            path = f"backtest.{exc.field}" if exc.field else "backtest.queue_model"
            raise ConfigError(f"invalid {path}: {exc}", field=path, value=exc.value) from None
    step = config.backtest.clock_step_ms
    if step is not None and not (MIN_CLOCK_STEP_MS <= step < float("inf")):
        raise _fail("backtest.clock_step_ms", step, f"a finite number of milliseconds >= {MIN_CLOCK_STEP_MS:g}, or null for Nautilus's own clock")
    repeats = config.backtest.repeats
    if repeats is not None and not (1 <= repeats <= MAX_REPEATS):
        raise _fail("backtest.repeats", repeats, f"an integer in [1, {MAX_REPEATS}]")


def _validate_strategy_name(s: StrategyBlock) -> None:
    """MultiVenueStrategy, or "<TYPE>Strategy" with an execution algorithm of that type (see STRATEGY_NAME)."""
    from nautilus_sor.execution_algorithms import ALGORITHMS

    if s.name == STRATEGY_NAME:
        return
    kinds = {f"{kind}Strategy": kind for kind in ALGORITHMS}
    names = ", ".join([STRATEGY_NAME, *kinds])
    if s.name not in kinds:
        raise _fail("strategy.name", s.name, f"one of {names}")
    algo = s.execution_algorithm
    kind = str(algo.get("type", "")).upper() if isinstance(algo, dict) else None
    if kind != kinds[s.name]:
        raise _fail("strategy.name", s.name, f"names a {kinds[s.name]} strategy, but strategy.execution_algorithm is "
                    f"{'missing' if algo is None else repr(algo.get('type'))}; use {STRATEGY_NAME} or set the algorithm's type")


def _check_identifier(path: str, value: str, kind: str) -> None:
    """A string Nautilus accepts as a `kind` identifier (its own rule, through its Rust identifiers, which
    raise rather than abort), without a NUL (a C string would cut it there)."""
    from nautilus_trader.core import nautilus_pyo3

    try:
        getattr(nautilus_pyo3, kind)(value)
    except ValueError as exc:
        raise _fail(path, value, f"not a valid Nautilus {kind}: {exc}") from None
    if "\x00" in value:
        raise _fail(path, value, f"not a valid Nautilus {kind}: contains a NUL character")


def _validate_router(router: RouterBlock) -> None:
    """The core checks the parameters (one source of truth); its error names the field."""
    check_router_params(router.params(), "strategy.router")


def _validate_market_source(m: MarketBlock) -> None:
    """Fields of one market type are errors on another (nothing is silently ignored)."""
    if m.type == "synthetic":
        for name in _RECORDED_ONLY:
            if getattr(m, name) is not None:
                raise _fail(f"market.{name}", getattr(m, name), "only for recorded markets (market.type binance*, catalog, lean_*)")
        return
    for name, default in _SYNTHETIC_ONLY.items():
        if getattr(m, name) != default:
            raise _fail(f"market.{name}", getattr(m, name), f"only for market.type synthetic, not {m.type}")
    for name, types in _TYPE_ONLY.items():
        if getattr(m, name) is not None and m.type not in types:
            raise _fail(f"market.{name}", getattr(m, name), f"only for market.type {' or '.join(types)}, not {m.type}")
    if m.levels is not None and (isinstance(m.levels, bool) or not 1 <= m.levels <= 1000):
        raise _fail("market.levels", m.levels, "an integer in [1, 1000]")
    if m.symbol is not None and not (m.symbol.strip() and m.symbol.replace(".", "").isalnum()):
        raise _fail("market.symbol", m.symbol, "a symbol such as 'ETH' (binance) or 'BAC' (lean_equity)")
    if m.path is not None and not m.path.strip():
        raise _fail("market.path", m.path, "must be a path")
    if m.cache_dir is not None and not m.cache_dir.strip():
        raise _fail("market.cache_dir", m.cache_dir, "must be a path")
    if m.type == "catalog" and m.path is None:
        raise _fail("market.path", None, "a catalog market needs the path of its ParquetDataCatalog")
    bounds = {}
    for name in ("start", "end"):
        value = getattr(m, name)
        if value is None:
            continue
        if isinstance(value, int):
            if value <= 0:
                raise _fail(f"market.{name}", value, "ns since the epoch must be > 0")
            bounds[name] = value
            continue
        import pandas as pd

        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError):
            ts = None
        if ts is None or ts is pd.NaT:
            raise _fail(f"market.{name}", value, "an ISO time (UTC if naive) or ns since the epoch")
        bounds[name] = int((ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).value)
    if len(bounds) == 2 and bounds["start"] >= bounds["end"]:
        raise _fail("market.end", m.end, f"must be after market.start {m.start!r}")
    for venue, ms in (m.latency_ms or {}).items():
        check_venue_name(venue, f"market.latency_ms.{venue}")
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not (0 <= ms < 60_000):
            raise _fail(f"market.latency_ms.{venue}", ms, "milliseconds in [0, 60000)")
    if m.venues is not None:
        if not m.venues:
            raise _fail("market.venues", m.venues, "a non-empty list of venue names")
        for i, name in enumerate(m.venues):
            check_venue_name(name, f"market.venues[{i}]")
            if name in m.venues[:i]:
                raise _fail(f"market.venues[{i}]", name, "duplicate venue")


def parse_config(raw: dict[str, Any]) -> RunConfig:
    """A validated RunConfig from a decoded JSON object."""
    config = convert_object(raw, RunConfig, "config")
    _validate(config)
    return config


def convert_object(raw: Any, kind: type[_S], what: str) -> _S:
    """A decoded JSON object as the msgspec Struct `kind` (types and required fields checked); a
    ConfigError naming the path and the value found there otherwise. `what` names the document."""
    if not isinstance(raw, dict):
        raise ConfigError(f"invalid {what}: expected a JSON object, got {type(raw).__name__}", field="$", value=repr(raw)[:80])
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        raise config_error(exc, raw) from None


def load_config(path: str | Path) -> RunConfig:
    """Reads and validates a JSON config file. Its relative paths (`market.path`, `market.cache_dir`) are
    relative to the file's folder, not to the working directory (`resolve_paths`)."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"invalid config path: {file} does not exist", field="path", value=str(file))
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"invalid config: {file} is not UTF-8 text ({exc.reason} at byte {exc.start})", field="$", value=str(file)) from None
    try:
        raw = json.loads(strip_json_comments(text, str(file)))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON in {file}: {exc.msg} at line {exc.lineno} column {exc.colno}", field="$", value=str(file)) from None
    return parse_config(resolve_paths(raw, file.parent))


def resolve_paths(raw: Any, folder: str | Path) -> Any:
    """A decoded config whose relative market paths (`market.path`, `market.cache_dir`; `~` expanded) are
    made absolute against `folder`, the folder of the file they were written in: a config means the same
    data from any working directory. Anything that is not a path string is left for validation to name."""
    market = raw.get("market") if isinstance(raw, dict) else None
    if not isinstance(market, dict):
        return raw
    resolved = dict(market)
    for key in _MARKET_PATH_KEYS:
        value = market.get(key)
        if isinstance(value, str) and value.strip():
            path = Path(value).expanduser()
            resolved[key] = str(path if path.is_absolute() else (Path(folder) / path).resolve())
    return {**raw, "market": resolved}


def strip_json_comments(text: str, name: str = "config") -> str:
    """`text` with `//` line comments and `/* */` block comments outside strings replaced by spaces
    (newlines kept, so JSON errors still point at the right line and column); a "//" inside a string (a
    URL) is left alone. An unterminated block comment is a ConfigError."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
        elif c == '"':
            in_string = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                line = text.count("\n", 0, i) + 1
                raise ConfigError(f"invalid JSON in {name}: a /* comment opened at line {line} is never closed", field="$", value=name)
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:end + 2]))
            i = end + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)
