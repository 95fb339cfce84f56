"""`nautilus-sor backtest config.json`: validate, run every repeat, print the headline first, then the
TCA, save the run and its report. `nautilus-sor validate` runs the same checks (`check_config`) and stops."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nautilus_sor.analysis.results import RunResults
from nautilus_sor.run_dir import RunDirectory
from nautilus_sor.config import RunConfig, load_config


@dataclass
class CheckedConfig:
    """A config that passed every check a backtest makes before it runs."""

    config: RunConfig
    prepared: Any  # runner.PreparedRun
    plan: Any  # repeats.RepeatPlan

    def describe(self) -> str:
        """One paragraph on what the backtest will run."""
        from nautilus_sor.backtest import scenarios as S
        from nautilus_sor.backtest.runner import market_seconds, scenarios_for

        c = self.prepared.config
        algo = c.strategy.execution_algorithm
        # Which venue each parent's ex-ante choice falls on is known when it runs; here only the names count.
        scenarios, notes = scenarios_for(c, self.prepared.venues, [v["name"] for v in self.prepared.venues][:1] * len(c.orders))
        names = [s.name for s in scenarios]
        if any(n.startswith(S.ALL_ON) for n in names):
            names += [S.EXANTE_BEST, S.HINDSIGHT_BEST]
        names.sort(key=S.sort_key)
        market = getattr(self.prepared.market, "name", None) or f"the synthetic market (seed {self.plan.repeats[0].market_seed})"
        lines = [
            f"{len(c.orders)} parent order(s), {len(self.prepared.venues)} venue(s) ({', '.join(v['name'] for v in self.prepared.venues)}), "
            f"algorithm {algo['type'] if algo else 'none (one-shot orders)'}, smart routing {'on' if c.strategy.use_smart_routing else 'off'}",
            f"market: {market}, {market_seconds(self.prepared.market):g} s",
            f"scenarios: {', '.join(names)}",
            f"repeats: {len(self.plan.repeats)} ({self.plan.description})",
            *[f"note: {n}" for n in [*notes, *self.plan.notes]],
        ]
        return "\n".join(lines)


def check_config(config_path: str, repeats: int | None = None, cache_dir: str | None = None) -> CheckedConfig:
    """Every check of a backtest before it runs: the config, its market (built or loaded from the cache),
    the parents against the market's end, the repeats. `validate` and `backtest` both call this.
    `cache_dir` (relative to the working directory) overrides the config's `market.cache_dir`."""
    from nautilus_sor.backtest.repeats import plan_repeats
    from nautilus_sor.backtest.runner import prepare_run

    config = with_cache_dir(load_config(config_path), cache_dir)
    prepared = prepare_run(config)
    return CheckedConfig(config, prepared, plan_repeats(prepared.config, prepared.market, repeats))


def with_cache_dir(config: RunConfig, cache_dir: str | None) -> RunConfig:
    """`config` with its recorded market cached under `cache_dir` (made absolute against the working
    directory). A market that has no cache (synthetic: built in memory; catalog: read in place) is left as it is."""
    import msgspec

    from nautilus_sor.backtest.data.sources import RECORDED_TYPES

    if cache_dir is None or config.market.type not in RECORDED_TYPES or config.market.type == "catalog":
        return config
    market = msgspec.structs.replace(config.market, cache_dir=str(Path(cache_dir).expanduser().resolve()))
    return msgspec.structs.replace(config, market=market)


def run_and_report(config_path: str, output_dir: str | None = None, report: bool = True, quiet: bool = False,
                   repeats: int | None = None, workers: int | None = None, cache_dir: str | None = None) -> tuple[RunResults, Path]:
    """Runs the config's repeats with its baselines, prints the headline and the TCA tables, saves the run
    and its report. `repeats` overrides the config's `backtest.repeats`; `workers`: processes for the
    repeats (default one per CPU); `cache_dir`: see `check_config`. Nothing is written before every check
    has passed."""
    started = time.perf_counter()
    checked = check_config(config_path, repeats, cache_dir)
    run_dir = Path(output_dir or checked.config.backtest.output_dir or Path("runs") / Path(config_path).stem)
    # Before anything is simulated: the location is writable, has room, and no other run writes there.
    # Everything goes to a staging directory renamed into place at the end (the old run stays until then).
    with RunDirectory(run_dir) as out:
        results = _run_into(checked, config_path, out.staging, final_dir=run_dir, report=report, quiet=quiet, workers=workers,
                            started=started)
    print(f"run saved to {run_dir}/ ({results.summary['wall_seconds']:.1f} s)")
    return results, run_dir


def _run_into(checked: CheckedConfig, config_path: str, run_dir: Path, *, final_dir: Path, report: bool, quiet: bool,
              workers: int | None, started: float) -> RunResults:
    from nautilus_sor.analysis.headline import headline_lines
    from nautilus_sor.backtest.repeats import run_repeats
    from nautilus_sor.console import render, wrap
    from nautilus_sor.analysis.tca import analyze

    with _progress(quiet) as hook:
        results = run_repeats(checked.prepared, checked.plan, hook, workers)
    tca = analyze(results)
    results.summary.update(
        {
            "config_path": str(config_path),
            "wall_seconds": round(time.perf_counter() - started, 3),
            "fills": int(len(results.fills)),
            "orders": int(len(results.orders)),
        }
    )
    headline = headline_lines(results, results.summary.get("quantity_unit", "units"))
    results.summary["headline"] = headline
    results.write(run_dir)
    for name, table in (("tca_parents", tca.parents), ("tca_venues", tca.venues), ("tca_summary", tca.scenario_summary)):
        table.to_parquet(run_dir / f"{name}.parquet", index=False)
    print(wrap(headline))
    print()
    print(render(tca, results))
    if report:
        from nautilus_sor.analysis.report import build_report

        build_report(results, run_dir / "report.html", tca_tables=tca.tables(), title=f"nautilus-sor: {Path(config_path).name}")
        print(f"report: {final_dir / 'report.html'}")
    return results


class _progress:
    """A rich progress bar over repeats x scenarios, moved at every child order, with an ETA (a no-op when
    quiet or not on a terminal). The hook is `repeats.ProgressHook`."""

    def __init__(self, quiet: bool) -> None:
        from nautilus_sor.progress import columns, wanted

        self.bar: Any = None
        if wanted(quiet):
            from rich.progress import Progress

            self.bar = Progress(*columns(), transient=True)
            self.task = self.bar.add_task("preparing", total=1.0)
        self.done: dict[int, float] = {}
        self.children: dict[int, int] = {}

    def __enter__(self) -> Any:
        if self.bar is None:
            return None
        self.bar.__enter__()
        return self.hook

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def hook(self, repeat: int, repeats: int, scenario: str, index: int, count: int, fraction: float) -> None:
        """Called at each scenario's start and each of its child orders, from any repeat (they may run at
        once in several processes): the bar is the mean of the repeats' shares done."""
        self.done[repeat] = (min(index, count) + (fraction if index < count else 0.0)) / max(count, 1)
        self.children[repeat] = 0 if fraction == 0.0 else self.children.get(repeat, 0) + 1
        finished = sum(1 for d in self.done.values() if d >= 1.0)
        label = f"{finished}/{repeats} repeats; #{repeat + 1} {scenario} ({self.children[repeat]} children)"
        self.bar.update(self.task, completed=sum(self.done.values()) / repeats, description=label[:40])
