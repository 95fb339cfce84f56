"""Venue names are checked where they enter (the core's VenueSpec/Router, SmartOrderRouter, the JSON config,
`nautilus-sor validate`) by Nautilus's own rule: what its identifiers accept passes, anything else is a
typed error naming the field, never the abort inside Nautilus's `Venue(...)`.

The reference is Nautilus's own two checks: the Cython `Venue`'s string check (`PyCondition.valid_string`)
and its Rust one through the PyO3 binding (`nautilus_pyo3.Venue`, which raises where the Cython path
aborts); names with a NUL are refused on top (the Cython path passes identifiers as C strings and would
cut the name there)."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nautilus_trader.core import nautilus_pyo3
from nautilus_trader.core.correctness import PyCondition

from nautilus_sor import Router, VenueSpec
from nautilus_sor.config import parse_config
from nautilus_sor.exceptions import ConfigError, ValidationError
from nautilus_sor.smart_router import SmartOrderRouter

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
REFUSED = ["", "   ", "\t", "\x1f", "BÖRSE", "ビットフライヤー", "A\x00B", "é"]
ACCEPTED: list[str] = []


def nautilus_accepts(name: str) -> bool:
    """Both of Nautilus's checks on a venue: the Cython `Venue`'s string check, then its Rust one."""
    try:
        PyCondition.valid_string(name, "name")
        nautilus_pyo3.Venue(name)
    except ValueError:
        return False
    return "\x00" not in name


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=12), st.text(alphabet=st.characters(max_codepoint=127), max_size=12), st.sampled_from(REFUSED)))
def test_the_core_accepts_exactly_what_nautilus_does(name):
    expected = nautilus_accepts(name)
    try:
        VenueSpec(name, 0.0002, 0.0004, 1.0)
        accepted = True
    except ValidationError as exc:
        assert exc.field == "name"
        accepted = False
    assert accepted == expected, repr(name)
    if accepted and len(ACCEPTED) < 300:
        ACCEPTED.append(name)


def test_what_the_core_accepts_makes_a_nautilus_venue_in_a_separate_process():
    """The Cython `Venue` (the one that aborts) builds every accepted name and keeps it whole."""
    names = ACCEPTED or ["BINANCE", "BINANCE-FUTURES", "a b", "X.Y"]
    code = ("import json, sys\nfrom nautilus_trader.model.identifiers import Venue\n"
            "names = json.load(sys.stdin)\nassert all(Venue(n).value == n for n in names), names\nprint(len(names))")
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(names), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout) == len(names)


@pytest.mark.parametrize("name", REFUSED)
def test_every_entry_point_refuses_by_field(name):
    with pytest.raises(ValidationError) as err:
        Router([VenueSpec("OK", 0.0, 0.0), VenueSpec(name, 0.0, 0.0)])
    assert err.value.field == "name"
    with pytest.raises(ConfigError) as err:
        SmartOrderRouter([{"name": "OK", "maker_fee": 0.0, "taker_fee": 0.0}, {"name": name, "maker_fee": 0.0, "taker_fee": 0.0}])
    assert err.value.field == "venues[1].name"
    raw = json.loads((EXAMPLES / "multi_venue_twap.json").read_text())
    raw["strategy"]["venues"][1]["name"] = name
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    assert err.value.field == "strategy.venues[1].name"


def test_market_venue_names_are_checked_too():
    raw = json.loads((EXAMPLES / "binance_btc_twap.json").read_text())
    raw["market"]["venues"] = ["SPOT", "BÖRSE"]
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    assert err.value.field == "market.venues[1]"
    raw["market"]["venues"] = None
    raw["market"]["latency_ms"] = {"BÖRSE": 5}
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    assert err.value.field == "market.latency_ms.BÖRSE"


def test_validate_refuses_a_non_ascii_venue_and_the_process_survives(tmp_path):
    raw = json.loads((EXAMPLES / "hedging.json").read_text())
    raw["strategy"]["venues"][0]["name"] = "BÖRSE"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    exe = pathlib.Path(sys.executable).parent / "nautilus-sor"
    done = subprocess.run([str(exe), "validate", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode > 0  # an error exit, not a signal (a SIGABRT is -6)
    assert "strategy.venues[0].name" in done.stderr + done.stdout and "ASCII" in done.stderr + done.stdout
