"""`scripts/compare_styles.py` end to end (the source of docs/evaluation.md's style tables): the IBM example
at a quarter of its size, taker and maker, 2 backtest repeats and 4 evaluate starts. Checks that every block
it prints is there and that its figures agree with each other: a style's printed saving is the paired mean
of the taker-minus-style costs, so it equals the difference of the two printed mean costs (to rounding)."""

from __future__ import annotations

import re
import sys

import pytest

from shared_data import DATA, ROOT, needs_data

sys.path.insert(0, str(ROOT / "scripts"))
import compare_styles  # noqa: E402

IBM = DATA / "lean_equity_ticks" / "ibm"


@pytest.mark.slow
@needs_data(IBM)
def test_compare_styles_runs_end_to_end_and_its_figures_agree(capsys):
    argv = [str(ROOT / "examples" / "ibm_vwap.json"), "--repeats", "2", "--sizes", "0.25", "--styles", "taker,maker",
            "--calibration", "--evaluate", "--starts", "4"]
    assert compare_styles.main(argv) == 0
    out = capsys.readouterr().out
    assert "parents 500.00, 375.00:" in out
    cost = {m[1]: float(m[2]) for m in re.finditer(r"^\s+(taker|maker)\s+cost\s+([+-]\d+\.\d+) bps", out, re.M)}
    saves = re.search(r"^\s+maker\s+cost.*saves ([+-]\d+\.\d+) ± (\d+\.\d+) bps vs taker, cheaper in (\d) of 2$", out, re.M)
    assert set(cost) == {"taker", "maker"} and saves is not None, out
    assert float(saves[1]) == pytest.approx(cost["taker"] - cost["maker"], abs=0.011)
    calibration = re.search(r"calibration, maker: (\d+) resting slices", out)
    assert calibration is not None and int(calibration[1]) > 0
    row = re.search(r"^\s+x0\.25\s+500\s+[+-]\d+\.\d+\s+maker\s+([+-]\d+\.\d+) ± \d+\.\d+ \((\d+) of 4\)\s+([+-]\d+\.\d+) ± \d+\.\d+ \((\d) of 2\)$", out, re.M)
    assert row is not None, out
    assert row[3] == saves[1] and row[4] == saves[3]  # the side-by-side table repeats the backtest's saving
