"""`nautilus-sor sweep`: spec parsing, point generation, the catalog-shared market, ranking with confidence
intervals, and small sweeps on a local Ray (retry of a failed task, restart after a partial run)."""

from __future__ import annotations

import copy
import json
import math
import sys
from pathlib import Path

import pandas as pd
import pytest

from nautilus_sor.config import load_config, parse_config
from nautilus_sor.exceptions import ConfigError, NautilusSorError
from nautilus_sor.sweep.points import grid_params, random_params, resolve_points
from nautilus_sor.analysis.stats import mean_ci95
from nautilus_sor.sweep.ranking import rank
from nautilus_sor.sweep.spec import RandomBlock, RandomRange, parse_path, parse_sweep, set_path

ROOT = Path(__file__).resolve().parents[1]

# A tiny run: 20 s of market, one parent in a 6 s TWAP routed over the three venues.
BASE = {
    "strategy": {
        "use_smart_routing": True,
        "venues": [
            {"name": "CHEAP", "maker_fee": 0.0, "taker_fee": 0.0002, "latency_ms": 5},
            {"name": "DEEP", "maker_fee": 0.0002, "taker_fee": 0.0006, "latency_ms": 2},
            {"name": "SLOW", "maker_fee": 0.0001, "taker_fee": 0.0003, "latency_ms": 250},
        ],
        "execution_algorithm": {"type": "TWAP", "duration_seconds": 6, "interval_seconds": 3},
    },
    "market": {"type": "synthetic", "seed": 7, "duration_seconds": 20},
    "orders": [{"side": "BUY", "quantity": "3", "at_seconds": 2}],
    "backtest": {"baselines": ["equal_split"], "seed": 7},
}


def _spec(**extra: object) -> dict:
    return {"base": copy.deepcopy(BASE), **extra}


# -- the spec and its points -------------------------------------------------------------------------


def test_paths_parse_into_fields_and_indexes() -> None:
    assert parse_path("strategy.venues[1].latency_ms") == ["strategy", "venues", 1, "latency_ms"]
    for bad in ("", "a..b", "[1]", "a.[1]", "a b", "1a"):
        with pytest.raises(ConfigError):
            parse_path(bad)


def test_set_path_creates_a_missing_block_and_refuses_a_missing_list_item() -> None:
    config = copy.deepcopy(BASE)
    set_path(config, "strategy.router.latency_risk_weight", 4.0)
    set_path(config, "strategy.venues[2].latency_ms", 100)
    assert config["strategy"]["router"] == {"latency_risk_weight": 4.0}
    assert config["strategy"]["venues"][2]["latency_ms"] == 100
    with pytest.raises(ConfigError) as err:
        set_path(config, "strategy.venues[3].latency_ms", 1)
    assert err.value.field == "strategy.venues[3].latency_ms"


def test_grid_is_every_combination_first_path_slowest() -> None:
    assert grid_params({"a": [1, 2], "b": ["x", "y", "z"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
        {"a": 2, "b": "x"}, {"a": 2, "b": "y"}, {"a": 2, "b": "z"},
    ]


def test_random_draws_are_seeded_and_within_their_ranges() -> None:
    block = RandomBlock(samples=200, seed=3, params={
        "u": RandomRange(low=-1.0, high=2.0),
        "g": RandomRange(low=0.01, high=100.0, log=True),
        "i": RandomRange(low=1, high=3, integer=True),
        "c": ["TWAP", "IS"],
    })
    draws = random_params(block)
    assert draws == random_params(block)  # same seed, same points
    assert draws != random_params(RandomBlock(samples=200, seed=4, params=block.params))
    assert all(-1.0 <= d["u"] <= 2.0 and 0.01 <= d["g"] <= 100.0 for d in draws)
    assert {d["i"] for d in draws} == {1, 2, 3} and all(isinstance(d["i"], int) for d in draws)
    assert {d["c"] for d in draws} == {"TWAP", "IS"}
    # log-uniform: about half the draws below the geometric midpoint 1.0, far more than a uniform draw gives.
    assert 70 < sum(d["g"] < 1.0 for d in draws) < 130


def test_points_are_grid_times_random_with_seeds_applied_per_repeat() -> None:
    spec = parse_sweep(_spec(
        grid={"strategy.max_venues": [1, 3]},
        random={"samples": 2, "seed": 1, "params": {"strategy.router.miss_cost_bps": {"low": 1, "high": 20}}},
        seeds=[11, 12, 13],
    ))
    points, configs = resolve_points(spec, copy.deepcopy(BASE))
    assert [p.params["strategy.max_venues"] for p in points] == [1, 1, 3, 3]
    assert len({p.key for p in points}) == 4
    assert all(len(runs) == 3 for runs in configs)
    assert [(c.market.seed, c.backtest.seed) for c in configs[0]] == [(11, 11), (12, 12), (13, 13)]
    assert configs[2][0].strategy.max_venues == 3 and configs[2][0].strategy.router is not None
    # repeats N: the base's market seed and the N-1 after it.
    spec = parse_sweep(_spec(grid={"strategy.max_venues": [1]}, repeats=2))
    _, configs = resolve_points(spec, copy.deepcopy(BASE))
    assert [c.market.seed for c in configs[0]] == [7, 8]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({}, "grid"),
        ({"grid": {"strategy.max_venues": []}}, "grid.strategy.max_venues"),
        ({"grid": {"strategy..x": [1]}}, "grid.strategy..x"),
        ({"grid": {"strategy.max_venues": [1]}, "seeds": [1], "repeats": 2}, "repeats"),
        ({"grid": {"strategy.max_venues": [1]}, "seeds": [1], "windows": [{"start": 1}]}, "windows"),
        ({"grid": {"strategy.max_venues": [1]}, "windows": []}, "windows"),
        ({"grid": {"market.end": [1, 2]}, "windows": [{"start": 1}]}, "market.end"),
        ({"grid": {"strategy.max_venues": [1]}, "seeds": [1, 1]}, "seeds"),
        ({"grid": {"market.seed": [1, 2]}, "seeds": [1, 2]}, "market.seed"),
        ({"random": {"samples": 2, "params": {"x.y": {"low": 2, "high": 1}}}}, "random.params.x.y.low"),
        ({"random": {"samples": 0, "params": {"x.y": [1]}}}, "random.samples"),
        ({"grid": {"strategy.max_venues": [1]}, "ray": {"address": "auto", "num_cpus": 2}}, "ray.num_cpus"),
        ({"grid": {"strategy.max_venues": [1]}, "ray": {"adress": "auto"}}, "ray.adress"),
    ],
)
def test_a_bad_sweep_file_names_the_field(raw: dict, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_sweep(_spec(**raw))
    assert err.value.field == field


def test_windows_are_for_recorded_markets() -> None:
    spec = parse_sweep(_spec(grid={"strategy.max_venues": [1]}, windows=[{"start": "2024-08-08T00:00:05Z"}]))
    with pytest.raises(ConfigError) as err:
        resolve_points(spec, copy.deepcopy(BASE))  # synthetic: start/end mean nothing there
    assert err.value.field == "market.start" and "p000" in str(err.value)


def test_a_bad_point_fails_the_whole_sweep_up_front_naming_point_and_field() -> None:
    spec = parse_sweep(_spec(grid={"strategy.router.ewma_alpha": [0.1, 2.0]}))
    with pytest.raises(ConfigError) as err:
        resolve_points(spec, copy.deepcopy(BASE))
    assert err.value.field == "strategy.router.ewma_alpha"
    assert "p001" in str(err.value) and "strategy.router.ewma_alpha=2.0" in str(err.value)
    spec = parse_sweep(_spec(grid={"strategy.routr.ewma_alpha": [0.1]}))
    with pytest.raises(ConfigError) as err:
        resolve_points(spec, copy.deepcopy(BASE))
    assert "p000" in str(err.value) and err.value.field.startswith("strategy.routr")


# -- the router block of the run config ------------------------------------------------------------


def test_router_block_is_validated_by_the_core_and_reaches_the_router() -> None:
    from nautilus_sor.strategy import MultiVenueStrategy, SmartRoutingStrategyConfig

    raw = copy.deepcopy(BASE)
    raw["strategy"]["router"] = {"latency_risk_weight": 2, "miss_cost_bps": 0}
    assert parse_config(raw).strategy.router.params() == {
        "volatility": 1e-4, "latency_risk_weight": 2.0, "miss_cost_bps": 0.0, "ewma_alpha": 0.05, "slippage_weight": 1.0,
        "tape_tau_s": 30.0, "passive_horizon_s": 5.0}
    for bad, field in (({"ewma_alpha": 0}, "strategy.router.ewma_alpha"), ({"volatility": -1}, "strategy.router.volatility"),
                       ({"latency_weight": 1}, "strategy.router.latency_weight"),
                       ({"slippage_weight": -0.5}, "strategy.router.slippage_weight")):
        raw["strategy"]["router"] = bad
        with pytest.raises(ConfigError) as err:
            parse_config(raw)
        assert err.value.field == field

    def latency_cost(weight: float) -> float:
        config = SmartRoutingStrategyConfig(instrument_id="BTCUSDT.SLOW", use_smart_routing=True,
                                            venues=[{"name": "SLOW", "maker_fee": 0, "taker_fee": 0, "latency_ms": 250}],
                                            router={"latency_risk_weight": weight})
        return MultiVenueStrategy(config).router.core.select_venue(1, 100, None).best.latency_cost

    assert latency_cost(0.0) == 0.0
    assert latency_cost(3.0) == pytest.approx(3 * latency_cost(1.0)) and latency_cost(1.0) > 0


def test_router_block_changes_the_backtest() -> None:
    """latency_risk_weight carried through the runner into the TWAP's router: a huge weight sends every
    child to the fastest venue (DEEP, 2 ms); none leaves everything to price and fees."""
    from nautilus_sor.backtest.runner import run_backtest

    fills = {}
    for weight in (0.0, 1e6):
        raw = copy.deepcopy(BASE)
        raw["strategy"]["router"] = {"latency_risk_weight": weight}
        raw["backtest"]["baselines"] = []
        results = run_backtest(parse_config(raw))
        fills[weight] = results.fills.groupby("venue")["quantity"].sum().to_dict()
    assert fills[1e6] == {"DEEP": pytest.approx(3.0)}
    assert set(fills[0.0]) - {"DEEP"}


# -- the market shared through the catalog ---------------------------------------------------------


def test_a_stored_market_replays_exactly_as_the_built_one(tmp_path: Path) -> None:
    from nautilus_sor.backtest.runner import market_config_for, run_backtest
    from nautilus_sor.backtest.synthetic import build_market
    from nautilus_sor.exceptions import MarketDataError
    from nautilus_sor.sweep.market_store import load_stored_market, store_market

    config = parse_config(copy.deepcopy(BASE))
    market_config = market_config_for(config)
    path = store_market(market_config, tmp_path)
    assert store_market(market_config, tmp_path) == path  # written once
    stored = load_stored_market(path, market_config)
    built = build_market(market_config)
    pd.testing.assert_frame_equal(stored.market_table(), built.market_table())
    pd.testing.assert_frame_equal(stored.trades_table(), built.trades_table())
    assert [type(d).__name__ for d in stored.data].count("OrderBookDeltas") == [type(d).__name__ for d in built.data].count("OrderBookDeltas")
    a, b = run_backtest(config), run_backtest(config, market=stored)
    for table in ("parents", "orders", "fills"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    other = market_config_for(parse_config({**copy.deepcopy(BASE), "market": {"seed": 8, "duration_seconds": 20}}))
    with pytest.raises(MarketDataError):
        load_stored_market(path, other)


# -- ranking ---------------------------------------------------------------------------------------


def test_intervals_match_hand_checked_values() -> None:
    # The t quantile itself is checked against closed forms and the table in test_analysis_stats.py.
    n, mean, sd, low, high = mean_ci95([1.0, 2.0, 3.0, float("nan")])
    assert (n, mean, sd) == (3, 2.0, 1.0)
    assert (low, high) == pytest.approx((2 - 4.3027 / math.sqrt(3), 2 + 4.3027 / math.sqrt(3)), abs=1e-4)
    assert mean_ci95([5.0])[1] == 5.0 and math.isnan(mean_ci95([5.0])[3])


def test_rank_orders_by_mean_cost_with_paired_deltas() -> None:
    rows = []
    for index, (pid, costs) in enumerate((("p000", [3.0, 5.0]), ("p001", [1.0, 2.0]), ("p002", [float("nan"), float("nan")]))):
        for repeat, cost in enumerate(costs):
            rows.append({"point_id": pid, "key": pid, "point_index": index, "repeat": repeat, "seed": 10 + repeat,
                         "router_cost_bps": cost, "router_is_bps": cost, "router_fill_rate": 1.0,
                         "equal_split_cost_bps": 4.0, "param:x": index})
    ranking = rank(pd.DataFrame(rows))
    assert ranking["point_id"].tolist() == ["p001", "p000", "p002"]
    assert ranking["rank"].tolist() == [1, 2, 3]
    first = ranking.iloc[1]
    assert first["cost_mean_bps"] == 4.0 and first["equal_split_cost_mean_bps"] == 4.0 and first["param:x"] == 0
    # p000 - p001 on the same seeds: 2 and 3 -> mean 2.5, half-width t(1) * sd / sqrt(2) = 12.7062 * 0.5.
    assert first["delta_vs_best_mean_bps"] == 2.5
    assert first["delta_vs_best_ci95_low_bps"] == pytest.approx(2.5 - 12.7062 * math.sqrt(0.5) / math.sqrt(2), abs=1e-4)


# -- without Ray -----------------------------------------------------------------------------------


def test_sweep_without_ray_exits_2_with_the_install_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from nautilus_sor.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    spec = tmp_path / "sweep.json"
    spec.write_text(json.dumps(_spec(grid={"strategy.max_venues": [1]})))
    assert main(["sweep", str(spec), "--output", str(tmp_path / "out")]) == 2
    assert "pip install 'nautilus-sor[sweep]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_refuses_a_ray_setting_that_cannot_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from nautilus_sor.cli import main

    pytest.importorskip("ray", reason="ray is not installed: pip install 'nautilus-sor[sweep]'")
    spec = tmp_path / "sweep.json"
    spec.write_text(json.dumps(_spec(grid={"strategy.max_venues": [1]})))
    assert main(["sweep", str(spec), "--output", str(tmp_path / "out"), "--num-cpus", "0"]) == 2
    assert "invalid num_cpus: 0" in capsys.readouterr().err
    assert main(["sweep", str(spec), "--output", str(tmp_path / "out"), "--num-cpus", "2", "--address", "auto"]) == 2
    assert "only for a local Ray" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# -- on a local Ray --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="ray is not installed: pip install 'nautilus-sor[sweep]' to run the sweep tests")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    if started:
        ray.shutdown()


def _quiet(_: str) -> None:
    pass


def test_small_sweep_ranks_points_and_writes_a_runnable_best_config(local_ray: object, tmp_path: Path) -> None:
    from nautilus_sor.backtest.runner import run_backtest
    from nautilus_sor.cli import main
    from nautilus_sor.sweep.driver import run_sweep
    from nautilus_sor.sweep.task import scenario_costs
    from nautilus_sor.analysis.tca import analyze

    spec = parse_sweep(_spec(grid={"strategy.router.latency_risk_weight": [0.0, 1e6]}, seeds=[1, 2]))
    out = tmp_path / "sweep"
    outcome = run_sweep(spec, copy.deepcopy(BASE), out, log=_quiet)
    assert sorted(outcome.ran) == ["p000", "p001"] and not outcome.failures
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 4 and sorted(table["seed"].unique()) == [1, 2]
    assert (out / "markets").is_dir() and len(list((out / "markets").iterdir())) == 2  # one catalog per seed
    # Each row is what an in-process run of that config gives (the catalog market equals the built one).
    point = outcome.points[1]
    reference = scenario_costs(analyze(run_backtest(parse_config(point.repeat_config(0)))).scenario_summary)
    row = table[(table["point_id"] == "p001") & (table["repeat"] == 0)].iloc[0]
    assert row["router_cost_bps"] == pytest.approx(reference["router_cost_bps"], abs=1e-12)
    assert row["equal_split_cost_bps"] == pytest.approx(reference["equal_split_cost_bps"], abs=1e-12)
    ranking = pd.read_parquet(out / "ranking.parquet")
    means = table.groupby("point_id")["router_cost_bps"].mean()
    assert ranking["point_id"].tolist() == means.sort_values().index.tolist()
    page = (out / "sweep.html").read_text()
    assert "p000" in page and "p001" in page and "Plotly" in page
    best = load_config(out / "best_config.json")
    assert best.strategy.router.latency_risk_weight == {"p000": 0.0, "p001": 1e6}[ranking["point_id"].iloc[0]]
    assert main(["backtest", str(out / "best_config.json"), "--output", str(tmp_path / "best"), "--no-report", "--quiet"]) == 0


def test_a_failed_task_is_reported_and_retried_once(local_ray: object, tmp_path: Path) -> None:
    from nautilus_sor.sweep.driver import run_sweep
    from sweep_faults import failing_task

    spec = parse_sweep(_spec(grid={"strategy.max_venues": [1]}, seeds=[1]))
    outcome = run_sweep(spec, copy.deepcopy(BASE), tmp_path / "sweep", log=_quiet,
                        run_task=failing_task(tmp_path / "faults"))  # every task fails its first attempt
    assert [(f.point_id, f.repeat, f.attempt, f.final) for f in outcome.failures] == [("p000", 0, 1, False)]
    assert "InjectedFault" in outcome.failures[0].error
    assert outcome.ran == ["p000"] and not outcome.unfinished
    assert len(pd.read_parquet(tmp_path / "sweep" / "results.parquet")) == 1


def test_a_restarted_sweep_runs_only_the_points_not_finished(local_ray: object, tmp_path: Path) -> None:
    from nautilus_sor.sweep.driver import run_sweep
    from sweep_faults import failing_task

    spec = parse_sweep(_spec(grid={"strategy.max_venues": [1, 2]}, seeds=[1]))
    points, _ = resolve_points(spec, copy.deepcopy(BASE))
    faults = tmp_path / "faults"
    faults.mkdir()
    for n in (1, 2):  # p000 has used up its injected failures: only p001 fails, twice
        (faults / f"{points[0].key}-r0-{n}").touch()
    first = run_sweep(spec, copy.deepcopy(BASE), tmp_path / "sweep", log=_quiet, run_task=failing_task(faults, times=2))
    assert first.ran == ["p000"] and first.unfinished == ["p001"]
    assert [f.attempt for f in first.failures] == [1, 2]
    second = run_sweep(spec, copy.deepcopy(BASE), tmp_path / "sweep", log=_quiet)
    assert second.skipped == ["p000"] and second.ran == ["p001"] and not second.failures
    assert sorted(pd.read_parquet(tmp_path / "sweep" / "results.parquet")["point_id"]) == ["p000", "p001"]


def test_a_sweep_over_windows_of_a_recorded_market(local_ray: object, tmp_path: Path) -> None:
    """A catalog market (here: one `store_market` wrote, any Nautilus catalog does), repeated over two
    windows: each repeat runs on its window, and both points see the same two windows."""
    from nautilus_sor.backtest.runner import market_config_for
    from nautilus_sor.sweep.driver import run_sweep
    from nautilus_sor.sweep.market_store import store_market

    catalog = store_market(market_config_for(parse_config(copy.deepcopy(BASE))), tmp_path / "data")
    base = {**copy.deepcopy(BASE), "market": {"type": "catalog", "path": str(catalog)}}
    windows = [{"start": "2024-08-08T00:00:00Z", "end": "2024-08-08T00:00:12Z"},
               {"start": "2024-08-08T00:00:08Z", "end": "2024-08-08T00:00:20Z"}]
    spec = parse_sweep({"base": base, "grid": {"strategy.router.latency_risk_weight": [0.0, 1e6]}, "windows": windows})
    outcome = run_sweep(spec, base, tmp_path / "sweep", log=_quiet)
    assert sorted(outcome.ran) == ["p000", "p001"] and not outcome.failures
    table = outcome.table
    assert [json.loads(v)["market.start"] for v in table[table["point_id"] == "p000"]["repeat_values"]] == [w["start"] for w in windows]
    p0 = table[table["point_id"] == "p000"].set_index("repeat")["equal_split_cost_bps"]
    p1 = table[table["point_id"] == "p001"].set_index("repeat")["equal_split_cost_bps"]
    assert p0[0] != p0[1]  # two windows, two markets
    assert p0.tolist() == p1.tolist()  # the baseline has its own router: same window, same cost
    assert load_config(tmp_path / "sweep" / "best_config.json").market.type == "catalog"


def test_the_example_sweep_file_is_valid() -> None:
    from nautilus_sor.sweep import load_sweep

    spec, base = load_sweep(ROOT / "examples" / "sweep.json")
    points, configs = resolve_points(spec, base)
    assert len(points) == 3 * 2 * 2 and all(len(runs) == 3 for runs in configs)


def test_a_cluster_address_nothing_answers_at_fails_fast_naming_the_field() -> None:
    from nautilus_sor.sweep.driver import _check_reachable
    import socket

    with socket.socket() as s:  # a port nothing listens on: bind, take its number, close
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}", "no-port", "host:abc"):
        with pytest.raises(NautilusSorError) as err:
            _check_reachable(address, timeout_s=1.0)
        assert err.value.field == "ray.address" and address in str(err.value)
    with socket.socket() as listener:  # and one that answers passes
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        _check_reachable(f"127.0.0.1:{listener.getsockname()[1]}", timeout_s=1.0)
    _check_reachable("auto")
