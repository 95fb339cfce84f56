"""A malformed config, venue list or algorithm spec is refused with one ConfigError that names the field
(its path in the document) and the value found there, in the message and in `.field` / `.value`."""

from __future__ import annotations

import pytest

from nautilus_sor.config import parse_config
from nautilus_sor.exceptions import ConfigError
from nautilus_sor.execution_algorithms import build_exec_algorithm
from nautilus_sor.smart_router import SmartOrderRouter

VENUE = {"name": "BINANCE", "maker_fee": 0.0002, "taker_fee": 0.0004, "latency_ms": 5.0}


@pytest.mark.parametrize(
    "venue, field, value",
    [
        ({**VENUE, "maker_fee": "0.0002"}, "venues[1].maker_fee", "'0.0002'"),  # a string where a number goes
        ({**VENUE, "bogus": 3}, "venues[1].bogus", "3"),  # an unknown key
        ({k: v for k, v in VENUE.items() if k != "name"}, "venues[1].name", "<missing>"),  # a required key absent
        ({**VENUE, "enabled": "yes"}, "venues[1].enabled", "'yes'"),
    ],
)
def test_a_bad_venue_names_its_field_and_value(venue, field, value):
    with pytest.raises(ConfigError) as err:
        SmartOrderRouter([{**VENUE, "name": "COINBASE"}, venue])
    assert (err.value.field, err.value.value) == (field, value)
    assert str(err.value).startswith(f"invalid {field}: {value} (")


def test_a_bad_algorithm_field_names_its_field_and_value():
    with pytest.raises(ConfigError) as err:
        build_exec_algorithm({"type": "TWAP", "duration_seconds": "60"})
    assert (err.value.field, err.value.value) == ("execution_algorithm.duration_seconds", "'60'")
    assert "'60'" in str(err.value)


def test_a_bad_config_value_deep_in_the_document_is_named_by_its_path():
    with pytest.raises(ConfigError) as err:
        parse_config({"strategy": {"venues": [VENUE, {**VENUE, "taker_fee": [1]}]}})
    assert err.value.field.endswith("venues[1].taker_fee") and err.value.value == "[1]"
    assert f"invalid {err.value.field}: [1] (" in str(err.value)
