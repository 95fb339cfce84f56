"""The main job: every example config runs through `nautilus-sor backtest`, with baselines, TCA and a
saved run directory; bad configs get one clear message."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from nautilus_sor import cli
from nautilus_sor.backtest.main import run_and_report
from nautilus_sor.analysis.results import RunResults
from nautilus_sor.config import load_config
from shared_data import ROOT, require_data

EXAMPLES = ROOT / "examples"
# Every run config; sweep.json is a sweep spec over one of them (tests/test_sweep.py checks it).
CONFIGS = sorted(p.name for p in EXAMPLES.glob("*.json") if p.name != "sweep.json")
RECORDED = {"binance_btc_twap.json", "crypto_bars_twap.json", "ibm_vwap.json"}


def require_example_data(name: str) -> None:
    """A recorded-market example needs its data where its `market.path` says (relative to the example file)."""
    market = load_config(EXAMPLES / name).market
    assert (market.type != "synthetic") == (name in RECORDED), name
    if market.path is not None:
        assert Path(market.path).is_absolute()  # resolved against examples/, whatever the working directory
        require_data(market.path)


def test_examples_are_there():
    assert {"multi_venue.json", "multi_venue_twap.json", "twap.json", "vwap.json", "iceberg.json", "hedging.json"} <= set(CONFIGS)
    assert RECORDED <= set(CONFIGS)


@pytest.mark.parametrize("name", CONFIGS)
def test_example_runs_and_conserves_every_parent(name, tmp_path, capsys):
    require_example_data(name)
    results, run_dir = run_and_report(str(EXAMPLES / name), output_dir=str(tmp_path / "run"), report=False, quiet=True, repeats=1)
    out = capsys.readouterr().out
    assert "Scenarios, repeat 0" in out and "all-in" in out and "Parents, repeat 0" in out
    assert out.startswith("All-in cost"), out[:300]  # the headline comes first
    assert max(len(line) for line in out.splitlines()) <= 100  # rich tables and wrapped text fit a terminal
    config = json.loads((EXAMPLES / name).read_text())
    assert results.summary["scenarios"][0] == "router"
    requested = sum(float(o["quantity"]) for o in config["orders"])
    for scenario, parents in results.parents.groupby("scenario"):
        assert len(parents) == len(config["orders"]), scenario
        assert parents["quantity"].sum() == pytest.approx(requested)
        fills = results.fills[results.fills["scenario"] == scenario]
        filled = fills.groupby("parent_id")["quantity"].sum()
        for _, parent in parents.iterrows():
            # Never more than asked, and the configured strategy (with an algorithm) fills everything.
            assert filled.get(parent["parent_id"], 0.0) <= parent["quantity"] + 1e-9
            got = filled.get(parent["parent_id"], 0.0)
            # Every unit is filled or reported as the shortfall priced at the horizon (cleanup_qty).
            assert got + parent["cleanup_qty"] == pytest.approx(parent["quantity"]), (scenario, parent["parent_id"])
            if scenario == "router" and config["strategy"].get("execution_algorithm") and "market" not in config:
                # On the embedded market the configured algorithm fills everything. (On recorded IBM
                # quotes a VWAP parent can end short: its primary, sent as the last slice, is a GTC market
                # order that fills the displayed top and then stays open - a known gap, see the notes.)
                assert got == pytest.approx(parent["quantity"])
        orders = results.orders[results.orders["scenario"] == scenario]
        # Orders' filled quantities agree with the fills.
        assert orders["filled_qty"].sum() == pytest.approx(fills["quantity"].sum())
    # Saved and loadable: the report can be rebuilt from it.
    loaded = RunResults.load(run_dir)
    pd.testing.assert_frame_equal(loaded.fills, results.fills)
    assert (run_dir / "tca_summary.parquet").is_file()


def test_router_routes_across_venues_in_the_default_market(tmp_path, capsys):
    results, _ = run_and_report(str(EXAMPLES / "multi_venue_twap.json"), output_dir=str(tmp_path), report=False, quiet=True, repeats=1)
    router_fills = results.fills[results.fills["scenario"] == "router"]
    assert router_fills["venue"].nunique() >= 2
    # The baselines ran on the same market: same parents, same arrival times.
    arrivals = results.parents.groupby("scenario")["arrival_ts"].apply(tuple)
    assert arrivals.nunique() == 1
    best = results.parents[results.parents["scenario"] == "hindsight_best_venue"]
    assert set(best["baseline_venue"]) <= {"CHEAP", "DEEP", "SLOW"} and len(best) == 2


def test_same_seed_same_run(tmp_path, capsys):
    a, _ = run_and_report(str(EXAMPLES / "hedging.json"), output_dir=str(tmp_path / "a"), report=False, quiet=True, repeats=2)
    b, _ = run_and_report(str(EXAMPLES / "hedging.json"), output_dir=str(tmp_path / "b"), report=False, quiet=True, repeats=2)
    cols = ["scenario", "venue", "ts", "quantity", "price"]
    pd.testing.assert_frame_equal(a.fills[cols], b.fills[cols])


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda c: c["strategy"]["venues"][1].__setitem__("taker_fee", "x"), "strategy.venues[1].taker_fee"),
        (lambda c: c["strategy"].__setitem__("colour", "red"), "strategy.colour"),
        (lambda c: c.__setitem__("venue", {"oms_type": "NETTED"}), "venue.oms_type"),
        (lambda c: c["orders"][0].__setitem__("quantity", "0"), "orders[0].quantity"),
        (lambda c: c["orders"][0].__setitem__("at_seconds", 10_000), "orders[0].at_seconds"),
        (lambda c: c["strategy"]["execution_algorithm"].__setitem__("interval_seconds", 1_000), "strategy.execution_algorithm.interval_seconds"),
        (lambda c: c["strategy"]["venues"].append(dict(c["strategy"]["venues"][0])), "strategy.venues[3].name"),
        (lambda c: c["backtest"].__setitem__("baselines", ["oracle"]), "backtest.baselines[0]"),
        (lambda c: c.__setitem__("orders", []), "orders"),
    ],
)
def test_validate_names_the_path_of_a_bad_config(mutate, path, tmp_path, capsys):
    config = json.loads((EXAMPLES / "multi_venue_twap.json").read_text())
    mutate(config)
    file = tmp_path / "bad.json"
    file.write_text(json.dumps(config))
    assert cli.main(["validate", str(file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: invalid {path}"), err


@pytest.mark.parametrize("name", CONFIGS)
def test_validate_accepts_every_example(name, capsys):
    require_example_data(name)
    assert cli.main(["validate", str(EXAMPLES / name)]) == 0
    assert f"{EXAMPLES / name}: valid" in capsys.readouterr().out


def test_broken_json_is_one_clear_message(tmp_path, capsys):
    file = tmp_path / "broken.json"
    file.write_text('{"strategy": {')
    assert cli.main(["validate", str(file)]) == 2
    assert "invalid JSON" in capsys.readouterr().err


def test_no_negative_impact_on_a_real_run(tmp_path, capsys):
    # Each component of the split is checked by hand in test_tca.py (their sum is is_bps by definition).
    from nautilus_sor.analysis.tca import analyze

    results, _ = run_and_report(str(EXAMPLES / "vwap.json"), output_dir=str(tmp_path), report=False, quiet=True, repeats=1)
    tca = analyze(results)
    for table in (tca.parents, tca.scenario_summary):
        assert (table["impact_bps"] >= 0).all()


def test_the_readme_main_command_runs_as_a_user_types_it(tmp_path):
    """The console script with its progress bar and report, in a subprocess (only declared dependencies)."""
    import shutil
    import subprocess
    import sys

    exe = shutil.which("nautilus-sor", path=str(Path(sys.executable).parent))
    assert exe is not None
    result = subprocess.run(
        [exe, "backtest", str(EXAMPLES / "hedging.json"), "--output", str(tmp_path / "run"), "--repeats", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("All-in cost") and "Scenarios, repeat 0" in result.stdout
    assert (tmp_path / "run" / "report.html").is_file()
