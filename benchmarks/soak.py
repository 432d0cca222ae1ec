"""The soak: the console, headless, against many simulated PBXs whose faults come and go.

``python -m benchmarks.soak`` (``--minutes 30 --pbxs 20`` by default) serves ``--pbxs``
simulators of all three vendor kinds in a process of its own, opens the real console on them
(``App.run_test``: Textual headless, the real engine, 160x45), and every few seconds switches a
fault on or off at one of them at random (seeded: ``--seed``): hangs, HTTP errors, HTML and
login pages, truncated and mistyped JSON, 50 MB bodies, gzip bombs, slow answers, redirects.
A quarter of the PBXs are never touched: the healthy ones every refresh is counted on.

It reports, and ``--json FILE`` keeps:

- **exceptions**: log records at ERROR or above from any logger (the engine logs every bug it
  survives so), plus workers of the app that ended in error; 0 expected;
- **memory growth**: the process's resident set from minute 2 to the end (the first two
  minutes warm caches and pools up), as the median of the first and of the last third of the
  minute samples (one sample lands on whatever hostile answer is being read at that moment:
  the medians show a trend, the endpoints noise), with the live Python heap in blocks beside
  it (``sys.getallocatedblocks``): a resident set that grows while the heap stays flat is the
  allocator keeping pages, not objects kept; ``--trace-memory`` names what grew;
- **task-count growth** (``asyncio.all_tasks``) and **file-descriptor growth**
  (``/proc/self/fd``), from minute 2 to the end as well;
- **missed refreshes of healthy PBXs**: each gap between two successful calls polls of an
  untouched PBX longer than ``MISSED_AFTER`` intervals counts the polls that did not come.

Each minute a line goes to standard error; the figures at the end to standard output.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import signal
import statistics
import sys
import time
import tracemalloc
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import click
import psutil

from benchmarks.processes import ROOT, isolated_env, stop
from pbxtui.allocator import settle_allocator
from pbxtui.config import load_config
from pbxtui.model import EngineUpdate, Resource
from pbxtui.sim.faults import CONTROL_PATH
from pbxtui.sim.fleet import FleetMember, build_fleet, running_fleet
from pbxtui.sim.scenario import ScenarioSpec

KINDS = ("pbxcloud", "iexpbx", "dialup")
POLL_INTERVAL = 1.0
TIMEOUT = 3.0
TOGGLE_EVERY = 3.0
"""Seconds between two fault switches."""
FAULTY_AT_MOST = 0.5
"""Share of the faultable PBXs broken at once, at most."""
MISSED_AFTER = 3.0
"""A gap longer than this many poll intervals between two calls polls is a missed refresh."""
WARMUP_MINUTES = 2.0
FAULTS: tuple[dict[str, Any], ...] = (
    {"hang": True},
    {"http_500": True},
    {"http_502": True},
    {"http_503": True},
    {"html": True},
    {"login_page_200": True},
    {"truncated": True},
    {"wrong_types": True},
    {"nulls": True},
    {"empty_200": True},
    {"garbage": True},
    {"huge": True},
    {"gzip_bomb": True},
    {"endless": True},
    {"redirect": True},
    {"redirect_loop": True},
    {"auth_refused": True},
    {"slow": True},
    {"latency": 2.0},
)


def fleet(pbxs: int) -> list[FleetMember]:
    """``pbxs`` small PBXs, the three kinds in turn."""
    members = []
    for i in range(pbxs):
        kind = KINDS[i % len(KINDS)]
        spec = ScenarioSpec(seed=500 + i, extensions=8, queues=(("630", "Sales"),), flows=())
        options = {"tenant": f"S{i:02d}"} if kind == "pbxcloud" else {}
        members.append(FleetMember(f"s{i + 1:02d}", kind, spec, options))
    return members


# -- the simulators' process --------------------------------------------------------------------
def serve_simulators(pbxs: int, config: Path, max_seconds: float) -> None:
    sims = build_fleet(fleet(pbxs))
    overrides = {"poll_interval": POLL_INTERVAL, "timeout": TIMEOUT}

    async def main() -> None:
        async with running_fleet(sims, write_config=config, **overrides) as (_, _, ports):
            print(json.dumps({"ready": True, "ports": ports}), flush=True)
            with (
                anyio.move_on_after(max_seconds),
                anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals,
            ):
                async for _ in signals:
                    break

    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)  # hung requests cut off
    anyio.run(main)


@contextmanager
def simulators(pbxs: int, workdir: Path, minutes: float) -> Iterator[dict[str, int]]:
    import subprocess

    config = workdir / "soak.toml"
    argv = [sys.executable, "-m", "benchmarks.soak", "--serve", str(config)]
    argv += ["--pbxs", str(pbxs), "--minutes", str(minutes + 5)]
    log = (workdir / "simulators.log").open("w", encoding="utf-8")
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.strip():
            raise RuntimeError(f"the simulators did not start (see {workdir / 'simulators.log'})")
        yield json.loads(line)["ports"]
    finally:
        stop(process)
        log.close()


def set_faults(port: int, faults: dict[str, Any]) -> None:
    body = json.dumps({"clear": True, **faults}).encode()
    url = f"http://127.0.0.1:{port}{CONTROL_PATH}"
    request = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


# -- the console's side -------------------------------------------------------------------------
class Errors(logging.Handler):
    """Counts records at ERROR or above, and keeps the first few."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 5:
            self.first.append(f"{record.name}: {record.getMessage()[:500]}")


@dataclass
class Sample:
    minute: float
    rss: int
    tasks: int
    fds: int
    blocks: int = 0


@dataclass
class Figures:
    minutes: float
    pbxs: int
    untouched: list[str]
    seed: int
    exceptions: int = 0
    first_exceptions: list[str] = field(default_factory=list)
    worker_errors: int = 0
    switches: int = 0
    fault_kinds: dict[str, int] = field(default_factory=dict)
    rss_start: int = 0
    rss_end: int = 0
    rss_peak: int = 0
    tasks_start: int = 0
    tasks_end: int = 0
    fds_start: int = 0
    fds_end: int = 0
    healthy_updates: int = 0
    missed_refreshes: int = 0
    longest_gap: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    grew: list[str] = field(default_factory=list)

    def trend(self, name: str) -> tuple[float, float]:
        """The median of ``name`` over the first and the last third of the warm samples."""
        warm = [s for s in self.samples[:-1] if s.minute >= WARMUP_MINUTES] or self.samples
        third = max(1, len(warm) // 3)
        values = [getattr(s, name) for s in warm]
        return statistics.median(values[:third]), statistics.median(values[-third:])

    def table(self) -> str:
        mib = 1024 * 1024
        rows = [
            ("run", f"{self.minutes:g} min, {self.pbxs} PBXs, seed {self.seed}"),
            ("fault switches", f"{self.switches} ({len(self.fault_kinds)} kinds of fault)"),
            ("exceptions (ERROR records + worker errors)", str(self.exceptions)),
            (
                "memory (RSS), minute 2 → end (peak)",
                f"{self.rss_start / mib:.1f} → {self.rss_end / mib:.1f} MiB "
                f"({(self.rss_end - self.rss_start) / mib:+.1f}; peak {self.rss_peak / mib:.1f})",
            ),
            (
                "memory (RSS), median first → last third",
                "{:.1f} → {:.1f} MiB".format(*(v / mib for v in self.trend("rss"))),
            ),
            (
                "Python heap (allocated blocks), median first → last third",
                "{:,.0f} → {:,.0f}".format(*self.trend("blocks")),
            ),
            ("asyncio tasks, minute 2 → end", f"{self.tasks_start} → {self.tasks_end}"),
            ("file descriptors, minute 2 → end", f"{self.fds_start} → {self.fds_end}"),
            (
                f"untouched PBXs ({len(self.untouched)}): calls updates",
                str(self.healthy_updates),
            ),
            ("  missed refreshes", str(self.missed_refreshes)),
            ("  longest gap between two updates", f"{self.longest_gap:.2f} s"),
        ]
        width = max(len(name) for name, _ in rows)
        lines = [f"{name:<{width}}  {value}" for name, value in rows]
        if self.grew:
            lines += ["what grew most, minute 2 → end (tracemalloc):", *self.grew]
        return "\n".join(lines)


def _fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return psutil.Process().num_fds()


async def soak(minutes: float, pbxs: int, seed: int, workdir: Path, trace: int = 0) -> Figures:
    from textual.worker import WorkerState

    from pbxtui.launch import console_app

    rng = random.Random(seed)
    members = fleet(pbxs)
    names = [m.name for m in members]
    untouched = names[::4] if len(names) > 1 else []
    faultable = [n for n in names if n not in untouched]
    figures = Figures(minutes=minutes, pbxs=pbxs, untouched=untouched, seed=seed)
    errors = Errors()
    logging.getLogger().addHandler(errors)
    logging.getLogger("pbxtui").setLevel(logging.INFO)
    process = psutil.Process()
    last_good: dict[str, float] = {}
    baseline: tracemalloc.Snapshot | None = None
    if trace:
        tracemalloc.start(trace)

    def note(update: EngineUpdate) -> None:
        if update.resource is not Resource.CALLS or update.pbx not in untouched:
            return
        if not update.state.resource(Resource.CALLS).ok:
            return
        now = time.monotonic()
        before = last_good.get(update.pbx)
        last_good[update.pbx] = now
        if before is None:
            return
        figures.healthy_updates += 1
        gap = now - before
        figures.longest_gap = max(figures.longest_gap, gap)
        if gap > MISSED_AFTER * POLL_INTERVAL:
            figures.missed_refreshes += round(gap / POLL_INTERVAL) - 1

    with simulators(pbxs, workdir, minutes) as ports:
        config = load_config(workdir / "soak.toml")
        app = console_app(config)
        broken: dict[str, float] = {}  # PBX → when its fault ends
        started = time.monotonic()
        end = started + minutes * 60
        async with app.run_test(size=(160, 45)):
            unsubscribe = app.engine.subscribe(note)
            next_sample = started
            next_toggle = started + TOGGLE_EVERY
            while (now := time.monotonic()) < end:
                if now >= next_sample:
                    sample = Sample(
                        (now - started) / 60,
                        process.memory_info().rss,
                        len(asyncio.all_tasks()),
                        _fds(),
                        sys.getallocatedblocks(),
                    )
                    if trace and baseline is None and sample.minute >= WARMUP_MINUTES:
                        baseline = tracemalloc.take_snapshot()
                    figures.samples.append(sample)
                    figures.rss_peak = max(figures.rss_peak, sample.rss)
                    print(
                        f"soak: minute {sample.minute:4.1f}  rss {sample.rss >> 20} MiB  tasks "
                        f"{sample.tasks}  fds {sample.fds}  errors {errors.count}  broken "
                        f"{len(broken)}  missed {figures.missed_refreshes}",
                        file=sys.stderr,
                        flush=True,
                    )
                    next_sample += min(60.0, minutes * 60 / 4)
                if now >= next_toggle and faultable:
                    await _toggle(rng, ports, faultable, broken, figures, now)
                    next_toggle += TOGGLE_EVERY
                await anyio.sleep(0.2)
            unsubscribe()
            if baseline is not None:
                growth = tracemalloc.take_snapshot().compare_to(baseline, "traceback")
                for stat in growth[:8]:
                    frames = " ← ".join(
                        f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno}"
                        for frame in stat.traceback[:4]
                    )
                    figures.grew.append(f"  {stat.size_diff / 1024:+9.0f} KiB  {frames}")
                tracemalloc.stop()
            figures.worker_errors = sum(1 for w in app.workers if w.state is WorkerState.ERROR)
        for name in list(broken):
            await anyio.to_thread.run_sync(set_faults, ports[name], {})
    logging.getLogger().removeHandler(errors)
    final = Sample((time.monotonic() - started) / 60, process.memory_info().rss, 0, _fds())
    warm = [s for s in figures.samples if s.minute >= WARMUP_MINUTES] or figures.samples
    figures.samples.append(final)
    figures.rss_start, figures.rss_end = warm[0].rss, figures.samples[-2].rss
    figures.tasks_start, figures.tasks_end = warm[0].tasks, figures.samples[-2].tasks
    figures.fds_start, figures.fds_end = warm[0].fds, figures.samples[-2].fds
    figures.exceptions = errors.count + figures.worker_errors
    figures.first_exceptions = errors.first
    return figures


async def _toggle(
    rng: random.Random,
    ports: dict[str, int],
    faultable: list[str],
    broken: dict[str, float],
    figures: Figures,
    now: float,
) -> None:
    """End the faults that are due, then break one more PBX if not too many are broken."""
    for name, until in list(broken.items()):
        if until <= now:
            del broken[name]
            await anyio.to_thread.run_sync(set_faults, ports[name], {})
            figures.switches += 1
    healthy = [n for n in faultable if n not in broken]
    if healthy and len(broken) < max(1, int(len(faultable) * FAULTY_AT_MOST)):
        name = rng.choice(healthy)
        fault = rng.choice(FAULTS)
        broken[name] = now + rng.uniform(5.0, 45.0)
        await anyio.to_thread.run_sync(set_faults, ports[name], fault)
        label = next(iter(fault))
        figures.fault_kinds[label] = figures.fault_kinds.get(label, 0) + 1
        figures.switches += 1


@click.command()
@click.option("--minutes", type=float, default=30.0, show_default=True)
@click.option("--pbxs", type=int, default=20, show_default=True)
@click.option("--seed", type=int, default=9, show_default=True)
@click.option("--json", "as_json", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--workdir", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--trace-memory",
    "trace",
    type=int,
    default=0,
    metavar="FRAMES",
    help="Trace allocations (slow) and print what grew most from minute 2, FRAMES deep.",
)
@click.option("--serve", type=click.Path(path_type=Path, dir_okay=False), hidden=True)
def main(
    minutes: float,
    pbxs: int,
    seed: int,
    as_json: Path | None,
    workdir: Path | None,
    trace: int,
    serve: Path | None,
) -> None:
    if serve is not None:
        serve_simulators(pbxs, serve, minutes * 60)
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="pbxtui-soak-") as scratch:
        work = workdir or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        # The console's audit and application logs stay in the scratch directory.
        for name, value in isolated_env(work).items():
            if name.startswith(("XDG_", "PBXTUI_")):
                os.environ[name] = value
        settle_allocator()  # as the pbxtui command does before it opens the console
        figures = anyio.run(soak, minutes, pbxs, seed, work, trace)
    click.echo(figures.table())
    if figures.first_exceptions:
        click.echo("first exceptions:\n  " + "\n  ".join(figures.first_exceptions))
    if as_json is not None:
        as_json.write_text(json.dumps(asdict(figures), indent=2), encoding="utf-8")
    sys.exit(1 if figures.exceptions else 0)


if __name__ == "__main__":
    main()
