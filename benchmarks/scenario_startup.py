"""Whole commands timed from the outside: ``pbxtui --demo`` painting its first calls, and
``pbxtui snapshot --json``, each beside its floor measured in the same run."""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.keystrokes import CHANNEL
from benchmarks.processes import isolated_env
from benchmarks.report import Figure, ms, within
from benchmarks.scenario_console import PBXTUI, SIZE
from benchmarks.terminal import Terminal, View

FLOOR_APP = """
from textual.app import App
from textual.widgets import Static


class Floor(App[None]):
    BINDINGS = [("q", "quit")]

    def compose(self):
        yield Static("floor ready")


Floor().run()
"""
FRAME_TEXT = "Calls"  # the console's first frame: its tabs, before any PBX has answered


def spread(times: Sequence[float]) -> str:
    """min / median / max"""
    if not times:
        return "n/a"
    return f"{ms(min(times))} / {ms(statistics.median(times))} / {ms(max(times))}"


def time_to_screen(
    argv: Sequence[str], shown: Callable[[View], bool], workdir: Path, timeout: float = 30.0
) -> float:
    with Terminal(argv, size=SIZE, env=isolated_env(workdir)) as term:
        at = term.wait(shown, timeout)
    return math.nan if at is None else at - term.started


def first_paint(workdir: Path, runs: int) -> list[Figure]:
    title = "pbxtui --demo paints its first calls (whole command, in a terminal)"
    floor_script = workdir / "floor_app.py"
    floor_script.write_text(FLOOR_APP, encoding="utf-8")
    floor, frame, calls = [], [], []
    floor_argv = [sys.executable, str(floor_script)]
    for _ in range(runs):
        floor.append(time_to_screen(floor_argv, lambda v: v.has("floor ready"), workdir))
        with Terminal([PBXTUI, "--demo"], size=SIZE, env=isolated_env(workdir)) as term:
            framed = term.wait(lambda v: v.has(FRAME_TEXT), 30)
            shown = term.wait(lambda v: bool(CHANNEL.search(v.text)), 30)
        frame.append(math.nan if framed is None else framed - term.started)
        calls.append(math.nan if shown is None else shown - term.started)
    best = statistics.median(calls)
    floor_name = f"floor: a minimal Textual app, min / median / max of {runs}"
    return [
        Figure(title, floor_name, spread(floor), "(floor)", None, statistics.median(floor)),
        Figure(
            title,
            "first frame (tabs drawn), min / median / max",
            spread(frame),
            "(context)",
            None,
            statistics.median(frame),
        ),
        Figure(
            title,
            "first calls on screen, min / median / max",
            spread(calls),
            "median ≤ 1.0 s",
            within(best, 1.0),
            best,
        ),
    ]


@dataclass(frozen=True)
class Ran:
    seconds: float
    code: int
    complaint: str
    """The first line on standard error."""


def run_command(argv: Sequence[str], workdir: Path) -> Ran:
    started = time.perf_counter()
    done = subprocess.run(
        argv, env=isolated_env(workdir), capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    return Ran(seconds, done.returncode, (done.stderr.strip().splitlines() or [""])[0][:100])


def snapshots(
    small: Path, small_calls: int, large: Path, large_calls: int, workdir: Path, runs: int
) -> list[Figure]:
    title = "pbxtui snapshot --json, 3 simulators (whole command)"
    floor = [run_command([PBXTUI, "--version"], workdir).seconds for _ in range(runs)]
    floor_name = f"floor: pbxtui --version, min / median / max of {runs}"
    figures = [Figure(title, floor_name, spread(floor), "(floor)", None, statistics.median(floor))]
    for config, calls, limit in ((small, small_calls, 1.0), (large, large_calls, 1.2)):
        argv = [PBXTUI, "--config", str(config), "snapshot", "--json"]
        results = [run_command(argv, workdir) for _ in range(runs)]
        times = [r.seconds for r in results]
        failed = [r for r in results if r.code != 0]
        median = statistics.median(times)
        note = f" ({len(failed)} failed: {failed[0].complaint})" if failed else ""
        figures.append(
            Figure(
                title,
                f"~{calls:,} calls: min / median / max{note}",
                spread(times),
                f"median ≤ {limit:g} s",
                False if failed else within(median, limit),
                median,
            )
        )
    return figures
