"""``make bench``: every figure of the scale issue, next to its target, in one run.

``python -m benchmarks.run`` (full: about 15 minutes on 2 cores), ``--quick`` (a few
minutes, shorter windows), ``--tiny`` (seconds, tiny fleets: the test suite's smoke run),
``--only NAME`` (repeatable) for some scenarios, ``--json PATH`` to keep the figures.
Load generators run in their own processes (``benchmarks.load_server``), the console in its
own on a pseudo-terminal; see benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import compileall
import dataclasses
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import click

from benchmarks.fleets import FleetSize
from benchmarks.processes import ROOT, Collected, collected, load_server
from benchmarks.profiling import Profiler
from benchmarks.report import (
    Figure,
    as_json,
    environment,
    format_environment,
    format_table,
    machine_busy,
    summary,
)
from benchmarks.scenario_console import Beside, DemoPlan, NocPlan, demo_console, noc_console
from benchmarks.scenario_fleet import FleetPlan, hanging, poll_rounds
from benchmarks.scenario_pane import PanePlan, calls_pane
from benchmarks.scenario_startup import first_paint, snapshots


@dataclass(frozen=True)
class Plan:
    noc: FleetSize = field(default_factory=FleetSize)
    noc_console: NocPlan = field(default_factory=NocPlan)
    demo_console: DemoPlan = field(default_factory=DemoPlan)
    wide_pbxs: int = 50
    wide_latency: float = 0.1
    wide: FleetPlan = field(default_factory=FleetPlan)
    snapshot_calls: int = 10_000
    startup_runs: int = 5
    pane: PanePlan = field(default_factory=PanePlan)
    server_seconds: float = 1800.0
    """A load server left behind by a killed run stops by itself after this long."""
    only: frozenset[str] = field(default_factory=frozenset)


PLANS: dict[str, Plan] = {
    "full": Plan(),
    "quick": Plan(
        noc_console=NocPlan(
            cpu_seconds=20, settle_seconds=10, key_cycles=2, soak_seconds=0, key_timeout=20
        ),
        demo_console=DemoPlan(cpu_seconds=10, settle_seconds=3, refresh_seconds=5),
        wide=FleetPlan(rounds=2, hang_seconds=12),
        startup_runs=3,
        pane=PanePlan(rounds=3),
    ),
    "tiny": Plan(
        noc=FleetSize(pbxs=2, calls=40, churn=0.10, extensions=20),
        noc_console=NocPlan(
            cpu_seconds=1,
            settle_seconds=0.5,
            key_cycles=1,
            soak_seconds=0,
            key_timeout=10,
            filter_text="0",
            first_data_timeout=60,
        ),
        demo_console=DemoPlan(cpu_seconds=1, settle_seconds=0.5, refresh_seconds=1),
        wide_pbxs=4,
        wide=FleetPlan(rounds=1, hang_seconds=2, hanging=1),
        snapshot_calls=200,
        startup_runs=1,
        pane=PanePlan(rows=200, pbxs=2, rounds=1),
        server_seconds=300.0,
    ),
}
BUSY_WARNING = 0.15
SCENARIOS = ("startup", "demo", "snapshot", "wide", "pane", "noc")


def _noc_title(size: FleetSize, how: str) -> str:
    return (
        f"{size.pbxs} PBXs, {size.calls:,} calls, {size.churn:.0%} changing per second "
        f"({how}; each process its own)"
    )


def _beside(fleet: Collected) -> Beside:
    """What works for a console that follows ``fleet``'s collector, metered beside it."""
    pids = {"collector": fleet.collector.pid, "NATS server": fleet.nats.pid}
    return Beside(fleet.config, fleet.log, pids)


def run_scenario(
    name: str, plan: Plan, workdir: Path, profiler: Profiler | None = None
) -> list[Figure]:
    work = workdir / name
    work.mkdir(parents=True, exist_ok=True)
    if name == "startup":
        return first_paint(work, plan.startup_runs)
    if name == "demo":
        with load_server("demo", work, max_seconds=plan.server_seconds) as server:
            with collected(server, work / "broker") as fleet:
                beside = _beside(fleet)
                figures = demo_console(server, work / "broker", plan.demo_console, profiler, beside)
            return figures + demo_console(server, work / "direct", plan.demo_console)
    if name == "snapshot":
        three = ["hq", "istanbul", "branch"]
        with (
            load_server("demo", work, max_seconds=plan.server_seconds) as demo,
            load_server(
                "snapshot", work, max_seconds=plan.server_seconds, calls=plan.snapshot_calls
            ) as big,
        ):
            small = demo.subset_config(three, work / "three.toml")
            small_calls = sum(demo.calls_by_pbx[n] for n in three)
            return snapshots(small, small_calls, big.config, big.calls, work, plan.startup_runs)
    if name == "wide":
        title = (
            f"{plan.wide_pbxs} PBXs answering after {plan.wide_latency * 1000:.0f} ms "
            "(engine in this process)"
        )
        options = {"pbxs": plan.wide_pbxs, "latency": plan.wide_latency, "timeout": 2.0}
        options["max_seconds"] = plan.server_seconds
        with load_server("wide", work, **options) as server:
            figures = anyio.run(poll_rounds, server, plan.wide, title)
            hang_title = f"{plan.wide_pbxs} PBXs, {plan.wide.hanging} of them hanging (2 s timeout)"
            figures += anyio.run(hanging, server, plan.wide, hang_title)
        return figures
    if name == "pane":
        title = f"Calls pane, {plan.pane.rows:,} calls over {plan.pane.pbxs} PBXs, in process"
        return anyio.run(calls_pane, plan.pane, title)
    if name == "noc":
        size = plan.noc
        options = {"pbxs": size.pbxs, "calls": size.calls, "churn": size.churn}
        options["extensions"] = size.extensions
        options["max_seconds"] = plan.server_seconds
        with load_server("noc", work, **options) as server:
            with collected(server, work / "broker") as fleet:
                beside = _beside(fleet)
                title = _noc_title(size, "a console following the collector over NATS")
                figures = noc_console(
                    server, work / "broker", plan.noc_console, title, profiler, beside
                )
            # The same load, one console polling every PBX itself: what a lone operator
            # without a collector runs, shown beside (not judged, no soak).
            alone = dataclasses.replace(plan.noc_console, soak_seconds=0)
            title = _noc_title(size, "one console polling the PBXs itself; for comparison")
            figures += noc_console(server, work / "direct", alone, title, judged=False)
            return figures
    raise ValueError(f"unknown scenario {name!r}")


def run(
    plan: Plan,
    workdir: Path,
    echo: Callable[[str], None],
    profiler: Profiler | None = None,
) -> list[Figure]:
    figures: list[Figure] = []
    for name in SCENARIOS:
        if plan.only and name not in plan.only:
            continue
        started = time.monotonic()
        echo(f"… {name}")
        try:
            found = run_scenario(name, plan, workdir, profiler)
        except Exception as exc:  # one broken scenario must not hide the others' figures
            traceback.print_exc(file=sys.stderr)
            found = [Figure(name, "error", f"{type(exc).__name__}: {exc}"[:120], "runs", False)]
        figures += found
        echo(f"  {name}: {len(found)} figures in {time.monotonic() - started:.0f} s")
    return figures


def _log_to(path: Path) -> None:
    """The engine runs in this process for the fleet scenarios: its log goes to a file, so
    what it says about hanging PBXs does not cut into the figures."""
    handler = logging.FileHandler(path, encoding="utf-8")
    root = logging.getLogger("pbxtui")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


@click.command()
@click.option("--quick", "mode", flag_value="quick", help="Shorter windows (a few minutes).")
@click.option("--tiny", "mode", flag_value="tiny", help="Tiny fleets (the smoke test).")
@click.option("--only", multiple=True, type=click.Choice(SCENARIOS), help="Only these.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--profile",
    "profile_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Sample the console with py-spy during its CPU windows; stacks kept in this folder.",
)
def main(
    mode: str | None, only: tuple[str, ...], json_path: Path | None, profile_dir: Path | None
) -> None:
    mode = mode or "full"
    # The commands timed here start as a user's do once pbxtui has run: from bytecode. Where
    # the environment forbids writing it (PYTHONDONTWRITEBYTECODE) every start would compile
    # pbxtui's sources first, some 100 ms of a 10,000-call snapshot.
    compileall.compile_dir(ROOT / "pbxtui", quiet=1)
    plan = PLANS[mode]
    plan = Plan(**{**plan.__dict__, "only": frozenset(only)})
    env = environment()
    env["busy_before"] = busy = machine_busy()
    click.echo(f"pbxtui benchmarks ({mode}) · {format_environment(env)}")
    if busy > BUSY_WARNING:
        click.echo(
            f"warning: the machine was {busy:.0%} busy before the run started: other work "
            "shares the CPUs, so the wall-time figures come out slower than on an idle machine"
        )
    with tempfile.TemporaryDirectory(prefix="pbxtui-bench-") as tmp:
        _log_to(Path(tmp) / "engine.log")
        profiler = Profiler(profile_dir) if profile_dir is not None else None
        figures = run(plan, Path(tmp), lambda line: click.echo(line, err=True), profiler)
    click.echo(format_table(figures))
    click.echo("")
    click.echo(summary(figures))
    click.echo(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if profiler is not None:
        click.echo("")
        click.echo(profiler.report())
    if json_path is not None:
        document = {"mode": mode, "environment": env, "figures": as_json(figures)}
        if profiler is not None:
            document["profiles"] = profiler.summaries
        json_path.write_text(json.dumps(document, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
