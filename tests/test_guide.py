"""Every Python example of docs/OMS_SMART_ROUTING_GUIDE.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "OMS_SMART_ROUTING_GUIDE.md"
BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)


def test_the_guide_has_examples():
    assert len(BLOCKS) >= 7


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_guide_example_runs(index, capsys):
    exec(compile(BLOCKS[index], f"{GUIDE.name}[python block {index}]", "exec"), {"__name__": f"guide_{index}"})
