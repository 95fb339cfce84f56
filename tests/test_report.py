"""The HTML report: built from hand-made run tables, checked as text and rendered in a real headless browser."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from nautilus_sor import ValidationError
from nautilus_sor.analysis.results import RunResults, frame
from nautilus_sor.analysis.report import build_report, main_report
from nautilus_sor.analysis.report.context import Context
from nautilus_sor.analysis.report.costs import cost_frame
from nautilus_sor.analysis.tca import analyze

T0 = 1_723_075_200_000_000_000  # 2024-08-08 00:00:00 UTC, ns
S = 1_000_000_000
VENUES = ("BINANCE", "BYBIT")


def synthetic_run() -> RunResults:
    """Two scenarios, two venues, three parents each, one minute of quotes, fills, trades, schedule, scores."""
    rng = np.random.default_rng(7)
    market: list[dict[str, Any]] = []
    trades: list[dict[str, Any]] = []
    mid = 60_000.0
    for i in range(121):  # a quote per venue every half second
        mid += float(rng.normal(0, 2.0))
        for v, venue in enumerate(VENUES):
            half = 0.5 + v * 0.5
            skew = (-1.0 if v else 1.0) * 0.3
            market.append(
                {
                    "ts": T0 + i * S // 2 + v * 1000,
                    "venue": venue,
                    "bid": mid + skew - half,
                    "ask": mid + skew + half,
                    "bid_size": 2.0 + v,
                    "ask_size": 1.5 + v,
                }
            )
            if i % 10 == 0:
                trades.append({"ts": T0 + i * S // 2 + 500, "venue": venue, "price": mid, "size": 0.1 * (v + 1)})

    parents: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    fills: list[dict[str, Any]] = []
    schedule: list[dict[str, Any]] = []
    scores: list[dict[str, Any]] = []
    specs = [  # parent, algorithm, side, quantity, arrival (s), slices
        ("P1", "TWAP", "BUY", 3.0, 2, 3),
        ("P2", "ROUTER", "SELL", 1.0, 25, 1),
        ("P3", "VWAP", "BUY", 2.0, 35, 4),
    ]

    def quote_at(venue: str, ts: int) -> dict[str, Any]:
        rows = [m for m in market if m["venue"] == venue and m["ts"] <= ts]
        return rows[-1]

    for scenario in ("router", "best_single_venue"):
        for pid, algo, side, qty, arrival_s, slices in specs:
            arrival = T0 + arrival_s * S
            n = 0
            last = arrival
            for k in range(slices):
                ts = arrival + k * 6 * S
                slice_qty = qty / slices
                schedule.append({"scenario": scenario, "parent_id": pid, "ts": ts, "quantity": slice_qty})
                if scenario == "router":
                    legs = [(VENUES[0], slice_qty * 0.6), (VENUES[1], slice_qty * 0.4)]
                else:
                    legs = [(VENUES[0], slice_qty)]
                for venue, leg_qty in legs:
                    n += 1
                    fill_ts = ts + 200_000_000 + n * 1_000_000
                    q = quote_at(venue, fill_ts)
                    price = q["ask"] if side == "BUY" else q["bid"]
                    coid = f"{scenario}-{pid}-{n}"
                    orders.append(
                        {
                            "scenario": scenario,
                            "parent_id": pid,
                            "client_order_id": coid,
                            "venue": venue,
                            "instrument_id": f"BTCUSDT.{venue}",
                            "side": side,
                            "order_type": "MARKET",
                            "quantity": leg_qty,
                            "filled_qty": leg_qty,
                            "status": "FILLED",
                            "ts_init": ts,
                            "ts_submitted": ts + 1000,
                            "ts_accepted": ts + 50_000_000,
                            "ts_last": fill_ts,
                            "expected_price": price,
                        }
                    )
                    fills.append(
                        {
                            "scenario": scenario,
                            "parent_id": pid,
                            "client_order_id": coid,
                            "venue": venue,
                            "instrument_id": f"BTCUSDT.{venue}",
                            "side": side,
                            "ts": fill_ts,
                            "quantity": leg_qty,
                            "price": price,
                            "commission": price * leg_qty * (0.0004 if venue == "BINANCE" else 0.0003),
                            "liquidity_side": "TAKER",
                        }
                    )
                    last = fill_ts
                if scenario == "router":
                    for v, venue in enumerate(VENUES):
                        scores.append(
                            {
                                "scenario": scenario,
                                "ts": ts,
                                "venue": venue,
                                "score_bps": 1.2 + 0.8 * v + 0.1 * k,
                                "fill_probability": 0.97 - 0.05 * v - 0.01 * k,
                                "latency_mean_ms": 20.0 + 30 * v,
                                "slippage_bps": 0.1 * v,
                            }
                        )
            parents.append(
                {
                    "scenario": scenario,
                    "parent_id": pid,
                    "algorithm": algo,
                    "side": side,
                    "quantity": qty,
                    "arrival_ts": arrival,
                    "end_ts": last,
                }
            )
    return RunResults(
        parents=frame("parents", parents),
        orders=frame("orders", orders),
        fills=frame("fills", fills),
        market=frame("market", market),
        trades=frame("trades", trades),
        venue_scores=frame("venue_scores", scores),
        schedule=frame("schedule", schedule),
        summary={"name": "synthetic", "seed": 7, "venues": list(VENUES)},
    )


def with_unfilled_scenario(results: RunResults) -> RunResults:
    """Adds an "equal_split" scenario whose parents and orders exist but never filled."""
    extra_parents = results.parents[results.parents["scenario"] == "router"].assign(scenario="equal_split")
    extra_orders = results.orders[results.orders["scenario"] == "router"].assign(
        scenario="equal_split", status="REJECTED", filled_qty=0.0
    )
    return RunResults(
        parents=pd.concat([results.parents, extra_parents], ignore_index=True),
        orders=pd.concat([results.orders, extra_orders], ignore_index=True),
        fills=results.fills,
        market=results.market,
        trades=results.trades,
        venue_scores=results.venue_scores,
        schedule=results.schedule,
        summary=results.summary,
    )


def tca_tables() -> dict[str, pd.DataFrame]:
    return {
        "scenario_summary": pd.DataFrame(
            {
                "scenario": ["router", "best_single_venue"],
                "is_bps": [2.5, 4.0],
                "spread_bps": [1.0, 1.5],
                "impact_bps": [1.1, 2.0],
                "fees_bps": [0.4, 0.5],
            }
        ),
        "per_venue": pd.DataFrame({"scenario": ["router", "router"], "venue": list(VENUES), "qty": [3.6, 2.4]}),
    }


def figures(text: str) -> int:
    """How many plotly figures the page draws (one div per figure, numbered in page order)."""
    return len(re.findall(r'<div id="figure-\d+" class="plotly-graph-div"', text))


def external_resources(text: str) -> list[tuple[str, str]]:
    """Every (tag, url) the page would load: script src, link href, img/iframe src."""
    from html.parser import HTMLParser

    found: list[tuple[str, str]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if (tag, name) in {("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")}:
                    found.append((tag, value or ""))

    Parser().feed(text)
    return found


@pytest.fixture(scope="module")
def run() -> RunResults:
    return synthetic_run()


def test_importing_the_package_or_the_report_does_not_load_plotly():
    code = (
        "import sys, nautilus_sor, nautilus_sor.analysis.results, nautilus_sor.analysis.report; "
        "assert 'plotly' not in sys.modules, sorted(m for m in sys.modules if m.startswith('plotly'))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_report_is_one_self_contained_html_file(run, tmp_path):
    path = build_report(run, tmp_path / "sub" / "report.html", title="Synthetic run")
    assert path == tmp_path / "sub" / "report.html"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<title>Synthetic run</title>" in text
    # plotly.js is inlined once; nothing is fetched from the network.
    assert len(text) > 3_000_000
    assert figures(text) == 7  # execution x2, fills, costs, schedule x2, venue scores (router)
    assert external_resources(text) == []
    for heading in ("Execution path vs market", "Fills by venue", "Cost breakdown", "Schedule vs actual"):
        assert f"<h2>{heading}</h2>" in text
    assert "Venue score evolution" in text and "No venue scores in scenario(s) best_single_venue" in text
    # No TCA given: the report computes it (one cost split, the TCA's) and shows its tables.
    assert "split by the TCA" in text and "<h3>scenario_summary (2 rows)</h3>" in text


def test_unfilled_scenario_and_empty_run_give_notes_not_errors(run, tmp_path):
    text = build_report(with_unfilled_scenario(run), tmp_path / "r.html").read_text(encoding="utf-8")
    assert "No fills in scenario equal_split" in text
    # Nothing filled: its all-in cost is all opportunity (the rest marked at the schedule's end).
    costs = cost_frame(analyze(with_unfilled_scenario(run)).scenario_summary)
    unfilled = costs.loc["equal_split"]
    assert (unfilled[["drift", "spread", "impact", "fees"]] == 0).all()
    assert unfilled["opportunity"] == unfilled["total"] and math.isfinite(unfilled["total"])

    empty = build_report(RunResults(), tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "nothing to report" in empty and figures(empty) == 0

    no_market = RunResults(
        parents=run.parents, orders=run.orders, fills=run.fills, schedule=run.schedule, summary=run.summary
    )
    text = build_report(no_market, tmp_path / "nomarket.html").read_text(encoding="utf-8")
    assert "No market data in this run" in text
    assert "No cost to show" in text
    assert "No venue scores in this run" in text


def test_many_parents_switch_the_schedule_view_to_totals_and_shares(run, tmp_path):
    def copies(df: pd.DataFrame) -> pd.DataFrame:
        df = df[df["scenario"] == "router"]
        return pd.concat([df.assign(parent_id=df["parent_id"] + f"-{k}") for k in range(5)], ignore_index=True)

    many = RunResults(
        parents=copies(run.parents),
        fills=copies(run.fills),
        schedule=copies(run.schedule),
        market=run.market,
        venue_scores=run.venue_scores,
    )
    text = build_report(many, tmp_path / "many.html").read_text(encoding="utf-8")
    assert "15 parents (more than 12)" in text
    assert "seconds since arrival" in text and "P3-4" in text


def test_given_tca_tables_are_shown_and_incomplete_ones_are_recomputed(run, tmp_path):
    tables = analyze(run).tables()
    text = build_report(run, tmp_path / "r.html", tca_tables={**tables, "per_venue": tca_tables()["per_venue"]}).read_text(encoding="utf-8")
    assert "split by the TCA" in text and "The given TCA tables lack" not in text
    assert "<h3>scenario_summary (2 rows)</h3>" in text and "per_venue (2 rows)" in text

    # A summary without the TCA's columns is shown as given, and the costs come from the TCA of the run.
    text = build_report(run, tmp_path / "u.html", tca_tables=tca_tables()).read_text(encoding="utf-8")
    assert "The given TCA tables lack all_in_bps, drift_bps, fill_rate, opportunity_bps" in text
    assert "<h3>scenario_summary (2 rows)</h3>" in text and "best_single_venue" in text


def test_cost_breakdown_stacks_the_tcas_components_to_the_all_in_cost():
    # BUY 2, arrival mid 100 (best 99.5/100.5); 1 filled at 101 at ts 20 (A's ask, mid 100.5 = best 100/101),
    # commission 0.1; the unfilled 1 is marked to the mid at the end, 100.5. In bps of the whole parent at
    # arrival: drift 50 x 1/2, spread 50 x 1/2, impact 0, fees 0.1/101 x 1e4 x 1/2, opportunity 50 x 1/2.
    market = frame(
        "market",
        [
            {"ts": 0, "venue": "A", "bid": 99.5, "ask": 100.5, "bid_size": 1.0, "ask_size": 1.0},
            {"ts": 0, "venue": "B", "bid": 99.0, "ask": 101.0, "bid_size": 1.0, "ask_size": 1.0},
            {"ts": 10, "venue": "A", "bid": 100.0, "ask": 101.0, "bid_size": 1.0, "ask_size": 1.0},
        ],
    )
    parents = frame(
        "parents",
        [{"scenario": "router", "parent_id": "P", "algorithm": "MARKET", "side": "BUY", "quantity": 2.0,
          "arrival_ts": 5, "end_ts": 20}],
    )  # fmt: skip
    fills = frame(
        "fills",
        [{"scenario": "router", "parent_id": "P", "client_order_id": "c", "venue": "A", "instrument_id": "X.A",
          "side": "BUY", "ts": 20, "quantity": 1.0, "price": 101.0, "commission": 0.1, "liquidity_side": "TAKER"}],
    )  # fmt: skip
    costs = cost_frame(analyze(RunResults(parents=parents, fills=fills, market=market)).scenario_summary)
    row = costs.loc["router"]
    expected = {"drift": 25.0, "spread": 25.0, "impact": 0.0, "fees": 0.1 / 101 * 1e4 / 2, "opportunity": 25.0}
    for label, value in expected.items():
        assert math.isclose(row[label], value, abs_tol=1e-9), label
    assert math.isclose(row["total"], sum(expected.values()), rel_tol=1e-12)


def test_consolidated_mid_keeps_each_venues_last_quote():
    market = frame(
        "market",
        [
            {"ts": 0, "venue": "A", "bid": 99.0, "ask": 101.0, "bid_size": 1.0, "ask_size": 1.0},
            {"ts": 1, "venue": "B", "bid": 99.5, "ask": 102.0, "bid_size": 1.0, "ask_size": 1.0},
            {"ts": 2, "venue": "A", "bid": float("nan"), "ask": 100.8, "bid_size": 0.0, "ask_size": 1.0},
        ],
    )
    ctx = Context(RunResults(market=market), None)
    cons = ctx.consolidated
    assert cons["best_bid"].tolist() == [99.0, 99.5, 99.5]  # A's bid went away at ts 2: B's remains
    assert cons["best_ask"].tolist() == [101.0, 101.0, 100.8]
    assert cons["cmid"].tolist() == [100.0, 100.25, 100.15]
    # The arrival markers: nothing before the first quote (no mid from the future), then the mid in force.
    assert np.isnan(ctx.mid_at(np.array([-1]))[0]) and ctx.mid_at(np.array([1, 5])).tolist() == [100.25, 100.15]


def test_main_report_writes_into_the_run_directory(run, tmp_path):
    run_dir = run.save(tmp_path / "run")
    path = main_report(str(run_dir), None)
    assert path == run_dir / "report.html" and path.is_file()
    assert "nautilus-sor backtest report: synthetic" in path.read_text(encoding="utf-8")
    other = main_report(str(run_dir), str(tmp_path / "elsewhere.html"))
    assert other == tmp_path / "elsewhere.html" and other.is_file()


def test_bad_input_raises_validation_errors(run, tmp_path):
    with pytest.raises(ValidationError) as err:
        build_report("not results", tmp_path / "x.html")  # type: ignore[arg-type]
    assert err.value.field == "results"
    with pytest.raises(ValidationError) as err:
        build_report(run, tmp_path / "x.html", tca_tables={"scenario_summary": [1, 2]})  # type: ignore[dict-item]
    assert err.value.field == "tca_tables"
    broken = RunResults(fills=run.fills.drop(columns=["price"]))
    with pytest.raises(ValidationError) as err:
        build_report(broken, tmp_path / "x.html")
    assert err.value.field == "fills"
    with pytest.raises(ValidationError):
        main_report(str(tmp_path / "not-a-run"), None)


# --- a real browser ---------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or next(
    (p for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver") if Path(p).exists()), None
)


def _driver():
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(
            "chromium and chromium-driver are not installed "
            "(apt-get install -y chromium chromium-driver; .ci/run installs them)"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install '.[test]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1300,900",
        # No network at all: a report that needs any (a CDN script) fails to render and logs errors.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--allow-file-access-from-files",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def test_report_renders_in_a_headless_browser_without_javascript_errors(run, tmp_path):
    path = build_report(
        with_unfilled_scenario(run), tmp_path / "report.html", tca_tables=tca_tables(), title="Browser check"
    )
    expected = figures(path.read_text(encoding="utf-8"))
    assert expected >= 7
    driver = _driver()
    try:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        driver.set_page_load_timeout(120)
        driver.get(path.as_uri())
        assert driver.title == "Browser check"

        def rendered(d):
            plots = d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")
            done = [p for p in plots if p.find_elements(By.CSS_SELECTOR, "svg.main-svg")]
            return len(plots) == expected and len(done) == expected

        WebDriverWait(driver, 60).until(rendered)
        assert driver.execute_script("return typeof Plotly === 'object' && !!Plotly.version")
        # Every figure drew its traces (not just empty axes).
        traces = driver.execute_script(
            "return Array.from(document.querySelectorAll('.js-plotly-plot'))"
            ".map(d => d.querySelectorAll('g.trace, g.scatterlayer path.js-line, g.points path').length)"
        )
        assert all(n > 0 for n in traces), traces
        # The parent drop-down of the first execution figure focuses P2: its points selected, the x axis zoomed.
        first = driver.find_element(By.ID, "figure-0")
        driver.execute_script("arguments[0].scrollIntoView()", first)
        first.find_element(By.CSS_SELECTOR, ".updatemenu-header-group").click()
        items = WebDriverWait(driver, 10).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, ".updatemenu-dropdown-button")
        )
        [item for item in items if item.get_attribute("textContent") == "P2"][0].click()
        state = driver.execute_script(
            "const g = document.getElementById('figure-0');"
            "return [g.data.map(t => t.selectedpoints || null), g.layout.xaxis.range, g.layout.xaxis.autorange];"
        )
        selected = [s for s in state[0] if s is not None]
        assert selected and sum(len(s) for s in selected) == 2 + 1  # P2: two fills (one per venue) + its arrival
        start = state[1][0]  # the x axis is a date axis over ms since the epoch
        start = str(pd.Timestamp(start, unit="ms")) if isinstance(start, (int, float)) else start
        assert state[2] is False and start.startswith("2024-08-08 00:00:24")

        driver.execute_script("window.scrollTo(0, 0)")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1300, min(int(height) + 50, 16000))
        shot = tmp_path / "report.png"
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 50_000

        severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert severe == [], severe

        # The log check is not vacuous: a page that throws is caught.
        bad = tmp_path / "bad.html"
        bad.write_text("<!DOCTYPE html><title>bad</title><script>throw new Error('boom')</script>", encoding="utf-8")
        driver.get(bad.as_uri())
        # The browser hands its log over asynchronously: read it until the error shows (5 s at most).
        logged: list = []
        deadline = time.monotonic() + 5.0
        while not any(e.get("level") == "SEVERE" and "boom" in e.get("message", "") for e in logged) and time.monotonic() < deadline:
            time.sleep(0.1)
            logged += driver.get_log("browser")
        assert any(e.get("level") == "SEVERE" and "boom" in e.get("message", "") for e in logged), logged
    finally:
        driver.quit()


def test_the_main_examples_report_is_small_complete_and_renders(tmp_path, capsys):
    """The README's main example, end to end: a report of plotly.js once plus under 1.5 MB of figures and
    tables; every section has content (the venue-score history is recorded by default); the headline is at
    the top; in headless chromium nothing logs an error and every figure draws."""
    from plotly.offline import get_plotlyjs

    from nautilus_sor.backtest.main import run_and_report

    root = Path(__file__).resolve().parents[1]
    _, run_dir = run_and_report(str(root / "examples" / "multi_venue_twap.json"), output_dir=str(tmp_path / "run"), quiet=True, repeats=2)
    path = run_dir / "report.html"
    text = path.read_text(encoding="utf-8")
    assert text.count(get_plotlyjs()[:200]) == 1
    assert len(text.encode()) - len(get_plotlyjs().encode()) < 1_500_000
    assert text.index('id="headline"') < text.index('id="summary"')
    assert "routing saved" in text or "routing LOST" in text
    assert "No venue scores in this run" not in text and "Venue scores: router" in text
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}</td>", text)  # human timestamps, not ns
    driver = _driver()
    try:
        from selenium.webdriver.support.ui import WebDriverWait

        driver.set_page_load_timeout(120)
        driver.get(path.as_uri())
        expected = figures(text)
        WebDriverWait(driver, 90).until(lambda d: d.execute_script(
            "return Array.from(document.querySelectorAll('.js-plotly-plot')).filter(p => p.querySelector('svg.main-svg')).length"
        ) == expected)
        sections = driver.execute_script(
            "return Array.from(document.querySelectorAll('section')).map(s => [s.id, s.innerText.trim().length, "
            "s.querySelectorAll('.js-plotly-plot, table').length])")
        assert [s[0] for s in sections] == ["headline", "summary", "execution", "fills", "costs", "schedule", "venue-scores", "tca"]
        assert all(chars > 100 and shown > 0 for _, chars, shown in sections), sections
        # Tables fit the page: a table wider than its box scrolls inside it, the page itself does not.
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        shot = tmp_path / "report.png"
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 50_000
        severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert severe == [], severe
    finally:
        driver.quit()
