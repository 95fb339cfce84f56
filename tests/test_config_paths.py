"""Where a config's files are: `market.path` and `market.cache_dir` relative to the config file (not the
working directory), the recorded-market cache in the user cache dir, the config's `cache_dir` or
`--cache-dir` (never the working directory), and the recorded-data rule of the tests (tests/shared_data.py).
Built on a hand-made two-venue Lean crypto bar market in tmp_path: no ../shared/data needed."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from nautilus_sor import cli
from nautilus_sor.backtest.data.sources import cache_dir_for, default_cache_dir
from nautilus_sor.backtest.runner import build_market_for
from nautilus_sor.config import MarketBlock, load_config, parse_config, resolve_paths
from nautilus_sor.exceptions import ConfigError
from shared_data import missing_data, require_data

DAY = "20221213"
# Spot minute trade bars (ms after midnight UTC, open, high, low, close, volume in BTC), one file per venue.
BARS = {"crypto_binance_btcbusd": [(60_000 * k, 17000 + k, 17001 + k, 16999 + k, 17000.5 + k, 1.5) for k in range(10)],
        "crypto_bybit_btcusdt": [(60_000 * k, 17000 + k, 17002 + k, 16999 + k, 17001.0 + k, 0.5) for k in range(10)]}


def write_bars(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for prefix, rows in BARS.items():
        with zipfile.ZipFile(folder / f"{prefix}_{DAY}_trade.zip", "w") as archive:
            archive.writestr(f"20221213_{prefix.split('_')[-1]}_minute_trade.csv", "".join(",".join(str(x) for x in row) + "\n" for row in rows))
    return folder


def config_for(market: dict) -> dict:
    return {
        "strategy": {"name": "MultiVenueStrategy", "use_smart_routing": True,
                     "venues": [{"name": "BINANCE", "maker_fee": 0.001, "taker_fee": 0.001},
                                {"name": "BYBIT", "maker_fee": 0.001, "taker_fee": 0.001}]},
        "market": market,
        "orders": [{"side": "BUY", "quantity": "0.001", "at_seconds": 120}],
        "backtest": {"baselines": [], "repeats": 1},
    }


@pytest.fixture
def layout(tmp_path, monkeypatch):
    """project/configs/run.json naming ../data/bars (relative to itself), the working directory elsewhere,
    the user cache dir in tmp_path. Returns (config file, data folder, working directory, user cache dir)."""
    data = write_bars(tmp_path / "project" / "data" / "bars")
    configs = tmp_path / "project" / "configs"
    configs.mkdir()
    file = configs / "run.json"
    file.write_text(json.dumps(config_for({"type": "lean_crypto_bars", "path": "../data/bars"})))
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return file, data, cwd, tmp_path / "xdg" / "nautilus-sor"


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_market_path_is_relative_to_the_config_file_and_the_cache_goes_to_the_user_cache(layout):
    file, data, cwd, user_cache = layout
    config = load_config(file)
    assert config.market.path == str(data.resolve())
    market = build_market_for(config)
    assert [v.name for v in market.venues] == ["BINANCE", "BYBIT"]
    assert [name.split("-")[0] for name in entries(user_cache)] == ["lean_crypto_bars"]
    assert entries(cwd) == []  # nothing written where the command ran (no .cache/)
    # The same config read through a relative path, from its own folder: the same data and the same cache entry.
    import os

    os.chdir(file.parent)
    assert load_config("run.json").market.path == str(data.resolve())
    build_market_for(load_config("run.json"))
    assert len(entries(user_cache)) == 1 and entries(file.parent) == ["run.json"]


def test_cache_dir_from_the_config_file_and_from_the_command_line(layout, capsys):
    file, _, cwd, user_cache = layout
    raw = json.loads(file.read_text())
    raw["market"]["cache_dir"] = "../markets"  # relative to the config file, like market.path
    file.write_text(json.dumps(raw))
    assert cli.main(["validate", str(file)]) == 0, capsys.readouterr().err
    assert len(entries(file.parent.parent / "markets")) == 1 and entries(user_cache) == []
    # --cache-dir is a command-line path: relative to the working directory; it wins over the config's.
    assert cli.main(["validate", str(file), "--cache-dir", "here"]) == 0, capsys.readouterr().err
    assert entries(cwd) == ["here"] and len(entries(cwd / "here")) == 1


def test_paths_given_in_code_stay_relative_to_the_working_directory(layout):
    file, data, cwd, _ = layout
    raw = config_for({"type": "lean_crypto_bars", "path": "../project/data/bars"})
    assert parse_config(raw).market.path == "../project/data/bars"  # a dict config has no file to be relative to
    assert [v.name for v in build_market_for(parse_config(raw)).venues] == ["BINANCE", "BYBIT"]  # seen from cwd
    with pytest.raises(ConfigError) as info:
        build_market_for(parse_config(config_for({"type": "lean_crypto_bars", "path": "../data/bars"})))
    assert info.value.field == "market.path" and "../data/bars" in str(info.value) and f"seen from {cwd}" in str(info.value)
    # A config file's missing data is named by its absolute path (the working directory has no say in it).
    file.write_text(json.dumps(config_for({"type": "lean_crypto_bars", "path": "../nowhere"})))
    with pytest.raises(ConfigError) as info:
        build_market_for(load_config(file))
    assert str(info.value) == f"invalid market.path: {str(file.parent.parent / 'nowhere')!r} does not exist"


def test_resolve_paths_leaves_absolute_paths_and_non_strings_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    raw = {"market": {"type": "binance_btc", "path": "/abs/data", "cache_dir": "~/c"}, "orders": []}
    resolved = resolve_paths(raw, tmp_path / "cfg")
    assert resolved["market"] == {"type": "binance_btc", "path": "/abs/data", "cache_dir": str(tmp_path / "home" / "c")}
    assert raw["market"]["cache_dir"] == "~/c"  # the input is not changed
    assert resolve_paths({"market": {"path": 3}}, tmp_path) == {"market": {"path": 3}}  # validation names it
    assert resolve_paths({"strategy": {}}, tmp_path) == {"strategy": {}}
    assert resolve_paths({"market": {"path": "d"}}, tmp_path)["market"]["path"] == str(tmp_path / "d")


def test_cache_dir_is_only_for_markets_that_have_a_cache():
    base = config_for({"type": "synthetic", "seed": 1})
    for market, reason in (({"type": "synthetic", "cache_dir": "c"}, "only for recorded markets"),
                           ({"type": "catalog", "path": "x", "cache_dir": "c"}, "only for market.type"),
                           ({"type": "binance_btc", "cache_dir": " "}, "must be a path")):
        with pytest.raises(ConfigError) as info:
            parse_config({**base, "market": market})
        assert info.value.field == "market.cache_dir" and reason in str(info.value), market


def test_default_cache_dir_is_the_user_cache_never_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "nautilus-sor"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG spec: relative values are invalid
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr("sys.platform", "linux")
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "nautilus-sor"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "nautilus-sor"
    # The argument, then the block's cache_dir, then the default.
    block = MarketBlock(type="binance_btc", cache_dir=str(tmp_path / "from_config"))
    assert cache_dir_for(block, tmp_path / "argument") == tmp_path / "argument"
    assert cache_dir_for(block) == tmp_path / "from_config"
    assert cache_dir_for(MarketBlock(type="binance_btc")) == tmp_path / "home" / ".cache" / "nautilus-sor"


def test_sweep_base_config_paths_are_relative_to_the_base_file(tmp_path):
    from nautilus_sor.sweep.spec import load_sweep

    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "base.json").write_text(json.dumps(config_for({"type": "lean_crypto_bars", "path": "../data/bars"})))
    (tmp_path / "sweeps").mkdir()
    sweep = tmp_path / "sweeps" / "sweep.json"
    sweep.write_text(json.dumps({"base": "../configs/base.json", "grid": {"strategy.max_venues": [1, 2]}}))
    _, base = load_sweep(sweep)
    assert base["market"]["path"] == str((tmp_path / "data" / "bars").resolve())


def test_missing_recorded_data_skips_and_fails_under_ci(tmp_path, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    require_data(tmp_path)  # present: nothing happens
    with pytest.raises(pytest.skip.Exception, match="recorded data missing: .*nope"):
        require_data(tmp_path / "nope")
    for value in ("true", "True", "1"):
        monkeypatch.setenv("CI", value)
        with pytest.raises(pytest.fail.Exception, match="CI=true"):
            require_data(tmp_path / "nope")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        missing_data("no data")
