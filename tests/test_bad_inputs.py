"""The bad-input corpus (`tests/bad_inputs/`): every case raises the typed error it states, naming the
field it states, with the field in the message; no panic, no silent accept, and a failed call leaves the
object it was made on exactly as it was.

Cases the library does not meet yet carry `xfail_reason` and run as strict xfails.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import nautilus_sor.exceptions as exceptions
from nautilus_sor import Iceberg, PositionBook, PovTracker, Router, VenueSpec
from nautilus_sor.analysis.results import RunResults
from nautilus_sor.config import load_config, parse_config

HERE = Path(__file__).parent / "bad_inputs"
CONFIGS = json.loads((HERE / "configs.json").read_text())
FILES = json.loads((HERE / "files.json").read_text())
_spec = importlib.util.spec_from_file_location("bad_inputs_api_cases", HERE / "api_cases.py")
api_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api_cases)

FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
ROOT_NAMES = ("$", "config", "JSON")
STRATEGY_STATS = ("fill_rate", "reject_rate", "latency_mean_ms", "latency_tail_ms", "slippage_bps", "fill_probability", "orders", "fills", "rejects", "acks")


def params(cases: list[Any], name: Any, xfail: Any) -> list[Any]:
    out = []
    for c in cases:
        reason = xfail(c)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        out.append(pytest.param(c, id=name(c), marks=marks))
    return out


def check(exc_info: pytest.ExceptionInfo, error: str, field: str) -> None:
    err = exc_info.value
    expected = getattr(exceptions, error)
    assert type(err).__name__ != "PanicException", f"panic: {err}"
    assert isinstance(err, expected), f"{type(err).__module__}.{type(err).__name__} instead of {error}: {err}"
    assert err.field == field, f"field {err.field!r} instead of {field!r}: {err}"
    # The document root ("$") is called "config" / "JSON" in messages ("invalid config: expected a JSON object").
    names = ROOT_NAMES if field == "$" else (field,)
    assert any(name in str(err) for name in names), f"message does not name {field!r}: {err}"


def raises(call: Any, error: str, field: str) -> None:
    # BaseException: a pyo3 PanicException derives from BaseException, and must fail the case, not the run.
    with pytest.raises(BaseException) as info:
        call()
    check(info, error, field)


# ---------------------------------------------------------------- configs


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$float"}:
            return FLOATS[value["$float"]]
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def _steps(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path)]


def _apply(doc: Any, path: str, value: Any, delete: bool = False) -> None:
    *parents, last = _steps(path)
    node = doc
    for step in parents:
        node = node[step]
    if delete:
        del node[last]
    else:
        node[last] = value


def mutated(case: dict[str, Any]) -> Any:
    mutate = case["mutate"]
    if "replace" in mutate:
        return decode(mutate["replace"])
    doc = copy.deepcopy(CONFIGS["base"])
    for path, value in mutate.get("set", {}).items():
        _apply(doc, path, decode(value))
    for path in mutate.get("delete", []):
        _apply(doc, path, None, delete=True)
    return doc


def checked(config: Any) -> Any:
    """The one validation path of `validate` and `backtest`: the config against its market."""
    from nautilus_sor.backtest.runner import prepare_run

    return prepare_run(config)


def test_config_corpus_base_is_valid():
    checked(parse_config(copy.deepcopy(CONFIGS["base"])))


@pytest.mark.parametrize("case", params(CONFIGS["cases"], lambda c: c["name"], lambda c: c.get("xfail_reason")))
def test_bad_config(case, tmp_path):
    doc = mutated(case)
    if case.get("via") == "file":
        file = tmp_path / "config.json"
        file.write_text(json.dumps(doc))  # NaN / Infinity literals, as Python writes them
        raises(lambda: checked(load_config(file)), case["error"], case["field"])
    else:
        raises(lambda: checked(parse_config(doc)), case["error"], case["field"])


# ---------------------------------------------------------------- data files


def saved_run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    RunResults(summary={"scenarios": ["router"]}).save(run)
    return run


def test_saved_run_fixture_loads(tmp_path):
    RunResults.load(saved_run(tmp_path))


def damaged_run(case: dict[str, Any], tmp_path: Path) -> Path:
    run = saved_run(tmp_path)
    for name in case.get("remove", []):
        for file in run.glob(name):
            file.unlink()
    for table, columns in case.get("drop_columns", {}).items():
        file = run / f"{table}.parquet"
        pd.read_parquet(file).drop(columns=columns).to_parquet(file, index=False)
    for table, data in case.get("replace_table", {}).items():
        pd.DataFrame(data).to_parquet(run / f"{table}.parquet", index=False)
    for table, values in case.get("retype", {}).items():
        file = run / f"{table}.parquet"
        df = pd.read_parquet(file).astype({column: "string" for column in values})
        row = {c: values.get(c, "0") for c in df.columns}
        df = pd.DataFrame([row], columns=df.columns).astype("string")
        df.to_parquet(file, index=False)
    for name, text in case.get("write", {}).items():
        (run / name).write_text(text)
    for name, size in case.get("truncate", {}).items():
        (run / name).write_bytes((run / name).read_bytes()[:size])
    return run / case["path"] if "path" in case else run


@pytest.mark.parametrize("case", params(FILES["cases"], lambda c: c["name"], lambda c: c.get("xfail_reason")))
def test_bad_file(case, tmp_path):
    kind = case["kind"]
    if kind == "config_text":
        file = tmp_path / "config.json"
        if "hex" in case:
            file.write_bytes(bytes.fromhex(case["hex"]))
        else:
            file.write_text(case["text"], encoding="utf-8")
        raises(lambda: load_config(file), case["error"], case["field"])
    elif kind == "config_path":
        raises(lambda: load_config(tmp_path / case["path"]), case["error"], case["field"])
    elif kind == "run_dir":
        run = damaged_run(case, tmp_path)
        raises(lambda: RunResults.load(run), case["error"], case["field"])
    else:
        raise AssertionError(f"unknown kind {kind}")


# ---------------------------------------------------------------- API arguments, with state checks


def make_router(disabled: bool = False) -> Router:
    router = Router([VenueSpec("A", 0.0, 0.001, 10.0), VenueSpec("B", 0.0, 0.0, 10.0, lot_size=1, min_qty=0)])
    router.set_book("A", [(99.0, 5)], [(100.0, 5), (101.0, 5)])
    router.set_book("B", [(99.5, 5)], [(100.5, 3), (102.0, 10)])
    # Some learning already happened, so a half-applied update would show.
    router.record_ack("A", 12.0)
    router.record_fill("A", "BUY", 100.0, 100.1)
    router.record_order_done("B", 2, 3)
    router.record_reject("B")
    if disabled:
        router.set_enabled("A", False)
        router.set_enabled("B", False)
    return router


def make_router_no_books() -> Router:
    """Venues without books: a refused book update must not leave an (empty) book behind, which would
    switch the router into book mode."""
    return Router([VenueSpec("A", 0.0, 0.001, 10.0), VenueSpec("B", 0.0, 0.0, 10.0)])


def router_state(router: Router) -> Any:
    return (
        router.venue_names,
        [(v.name, v.maker_fee, v.taker_fee, v.latency_ms, v.lot_size, v.min_qty, v.enabled) for v in router.venues],
        [router.book(v) for v in router.venue_names],
        [tuple(getattr(router.venue_stats(v), f) for f in STRATEGY_STATS) for v in router.venue_names],
    )


def make_position_book() -> PositionBook:
    book = PositionBook()
    book.add_venue("N", "NETTING")
    book.add_venue("H", "HEDGING")
    book.add_instrument("BTC.N", "BTC", 3)
    book.add_instrument("BTC.H", "BTC", 3)
    book.apply_fill("N", "BTC.N", "BUY", 1000, 100.0, 0.1)
    book.apply_fill("H", "BTC.H", "SELL", 500, 101.0)
    return book


POSITION_FIELDS = ("id", "venue", "instrument", "oms_type", "side", "quantity", "signed_units", "peak_qty", "buy_qty", "sell_qty",
                   "avg_px_open", "avg_px_close", "realized_pnl", "commissions", "event_count", "closed_cycles", "is_open")


def position_book_state(book: PositionBook) -> Any:
    exposure = book.exposure("BTC")
    return (
        book.venue_names,
        book.instrument_names,
        book.position_count,
        [tuple(getattr(book.position(i), f) for f in POSITION_FIELDS) for i in range(book.position_count)],
        (exposure.net, exposure.long, exposure.short, exposure.by_venue, exposure.open_positions, exposure.realized_pnl),
        [(v, i, book.net_units(v, i), book.open_position_ids(v, i)) for v, i in (("N", "BTC.N"), ("H", "BTC.H"))],
    )


def make_pov() -> PovTracker:
    pov = PovTracker(100, 0.1)
    pov.on_market_volume(50)
    return pov


def pov_state(pov: PovTracker) -> Any:
    return tuple(getattr(pov, f) for f in ("quantity", "participation_rate", "sent", "remaining", "observed_volume", "target", "children", "is_done"))


def make_iceberg(fresh: bool = False) -> Iceberg:
    iceberg = Iceberg(100, 0.1)
    if not fresh:
        iceberg.next_chunk()
        iceberg.on_fill(3)
    return iceberg


def iceberg_state(iceberg: Iceberg) -> Any:
    return tuple(getattr(iceberg, f) for f in ("quantity", "visible_pct", "display_qty", "filled", "working", "hidden", "remaining", "chunks", "is_done"))


SOR_VENUES = [
    {"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0004, "latency_ms": 20},
    {"name": "BYBIT", "maker_fee": 0.0001, "taker_fee": 0.0003, "latency_ms": 40},
]


def make_smart_router(disabled: bool = False) -> Any:
    from nautilus_sor.smart_router import SmartOrderRouter

    venues = [dict(v) for v in SOR_VENUES]
    router = SmartOrderRouter(venues)
    router.record_history = True
    router.core.record_ack("BINANCE", 25.0)
    if disabled:
        router.set_venue_enabled("BINANCE", False)
        router.set_venue_enabled("BYBIT", False)
    return router


def smart_router_state(router: Any) -> Any:
    return (router_state(router.core), dict(router.expected_prices), len(router._tracked), list(router.history),
            dict(router._operator_enabled), set(router._disconnected))


def smart_router_state_but_lots(router: Any) -> Any:
    """As smart_router_state, without the core's lot sizes: a routing call sets them from the order's
    instrument before routing, so a call that fails for lack of venues (not bad arguments) may leave them."""
    names, specs, books, stats = router_state(router.core)
    specs = [spec[:4] + spec[6:] for spec in specs]
    return ((names, specs, books, stats), dict(router.expected_prices), len(router._tracked), list(router.history),
            dict(router._operator_enabled), set(router._disconnected))


TARGETS = {
    None: (lambda: None, lambda _: None),
    "router": (make_router, router_state),
    "router_disabled": (lambda: make_router(disabled=True), router_state),
    "router_no_books": (make_router_no_books, router_state),
    "position_book": (make_position_book, position_book_state),
    "pov": (make_pov, pov_state),
    "iceberg": (make_iceberg, iceberg_state),
    "iceberg_fresh": (lambda: make_iceberg(fresh=True), iceberg_state),
    "smart_router": (make_smart_router, smart_router_state),
    "smart_router_disabled": (lambda: make_smart_router(disabled=True), smart_router_state_but_lots),
}


def test_api_case_names_are_unique():
    names = [c.name for c in api_cases.CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", params(api_cases.CASES, lambda c: c.name, lambda c: c.xfail))
def test_bad_api_call(case):
    make, state = TARGETS[case.target]
    target = make()
    before = state(target)
    raises(lambda: case.call(target), case.error, case.field)
    assert state(target) == before, "the failed call changed the object's state"


def test_corpus_size():
    total = len(CONFIGS["cases"]) + len(FILES["cases"]) + len(api_cases.CASES)
    assert total >= 200, total


# Every public method of the stateful objects that takes an argument, and the reason any has no refused
# call in the corpus (then it cannot be refused: it takes no argument that can be wrong).
NOT_REFUSABLE = {
    "venue_stats_frame": "no argument",
}


@pytest.mark.parametrize("cls, targets", [
    (Router, {"router", "router_disabled", "router_no_books"}),
    (PositionBook, {"position_book"}),
    ("SmartOrderRouter", {"smart_router", "smart_router_disabled"}),
])
def test_every_public_call_has_a_refused_case_checked_for_state(cls, targets):
    """The corpus snapshots its target around every refused call: each public method that takes an
    argument has at least one such case, so 'a refused call changes nothing' covers the whole API."""
    import inspect

    if cls == "SmartOrderRouter":
        from nautilus_sor.smart_router import SmartOrderRouter as cls
    called = {name for c in api_cases.CASES if c.target in targets for name in c.call.__code__.co_names}
    missing = []
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") or not callable(member) or name in NOT_REFUSABLE:
            continue
        try:
            params = [p for p in inspect.signature(member).parameters if p not in ("self",)]
        except (TypeError, ValueError):
            params = ["?"]
        if params and name not in called:
            missing.append(name)
    assert not missing, f"{cls.__name__} methods with no refused-call case: {missing}"
