"""`nautilus-sor backtest config.json`: run, analyse, print, save, report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from nautilus_sor.backtest.results import RunResults
from nautilus_sor.backtest.run_dir import RunDirectory
from nautilus_sor.config import load_config


def _progress_bar(quiet: bool) -> tuple[Any, Any]:
    """A rich progress bar over the scenarios (None when quiet)."""
    if quiet:
        return None, None
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("[bold]{task.description:<22}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn())
    return progress, None


def run_and_report(config_path: str, output_dir: str | None = None, report: bool = True, quiet: bool = False) -> tuple[RunResults, Path]:
    """Runs the config with its baselines, prints the TCA tables, saves the run and its report."""
    config = load_config(config_path)
    run_dir = Path(output_dir or config.backtest.output_dir or Path("runs") / Path(config_path).stem)
    # Before anything is simulated: the location is writable, has room, and no other run writes there.
    # Everything goes to a staging directory renamed into place at the end (the old run stays until then).
    with RunDirectory(run_dir) as out:
        results = _run_into(config, config_path, out.staging, final_dir=run_dir, report=report, quiet=quiet)
    print(f"run saved to {run_dir}/ ({results.summary['wall_seconds']:.1f} s)")
    return results, run_dir


def _run_into(config: Any, config_path: str, run_dir: Path, *, final_dir: Path, report: bool, quiet: bool) -> RunResults:
    from nautilus_sor.backtest.runner import run_backtest
    from nautilus_sor.tca import analyze

    started = time.perf_counter()
    progress, _ = _progress_bar(quiet)
    if progress is None:
        results = run_backtest(config)
    else:
        with progress:
            task = progress.add_task("market", total=1)

            def step(name: str, done: int, total: int) -> None:
                progress.update(task, description=name, completed=done, total=total)

            results = run_backtest(config, progress=step)
    tca = analyze(results)
    results.summary.update(
        {
            "config_path": str(config_path),
            "wall_seconds": round(time.perf_counter() - started, 3),
            "fills": int(len(results.fills)),
            "orders": int(len(results.orders)),
        }
    )
    results.write(run_dir)
    for name, table in (("tca_parents", tca.parents), ("tca_venues", tca.venues), ("tca_summary", tca.scenario_summary)):
        table.to_parquet(run_dir / f"{name}.parquet", index=False)
    print(tca.to_text(parents=True, venues=True))
    if "best_single_venue" in results.summary:
        costs = ", ".join(f"{v} {c:+.2f} bps" for v, c in results.summary["single_venue_is_bps"].items())
        print(f"best single venue in hindsight: {results.summary['best_single_venue']} ({costs})")
    if report:
        from nautilus_sor.report import build_report

        build_report(results, run_dir / "report.html", tca_tables=_tca_tables(tca), title=f"nautilus-sor: {Path(config_path).name}")
        print(f"report: {final_dir / 'report.html'}")
    return results


def _tca_tables(tca: Any) -> dict[str, Any]:
    return {"parents": tca.parents, "venues": tca.venues, "scenario_summary": tca.scenario_summary}
