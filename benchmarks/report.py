"""Figures, their targets, and the table ``make bench`` prints."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from benchmarks.processes import ROOT


@dataclass(frozen=True)
class Figure:
    scenario: str
    name: str
    measured: str
    target: str
    passed: bool | None
    """None: shown for context, no target of its own."""
    value: float | None = None
    """The measured number in the figure's unit (for the JSON report)."""

    @property
    def verdict(self) -> str:
        return {True: "pass", False: "FAIL", None: ""}[self.passed]


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1): p99 of 20 values is the largest."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.0f} ms"


def share(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value * 100:.0f} %"


def mb(value: float) -> str:
    return f"{value / 1e6:.0f} MB"


def within(value: float, limit: float) -> bool | None:
    return None if math.isnan(value) else value <= limit


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def machine_busy(seconds: float = 2.0) -> float:
    """Share of the machine's CPUs busy right now (before the benchmark starts anything)."""
    import psutil

    return float(psutil.cpu_percent(interval=seconds)) / 100


def environment() -> dict[str, Any]:
    """What the figures were measured on."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "textual": _version("textual"),
        "httpx": _version("httpx"),
        "pydantic": _version("pydantic"),
        "uvicorn": _version("uvicorn"),
        "commit": commit,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def format_environment(env: dict[str, Any]) -> str:
    return (
        f"{env['cpus']} CPUs ({env['machine']}, {env['system']}) · Python {env['python']} · "
        f"Textual {env['textual']} · httpx {env['httpx']} · pydantic {env['pydantic']} · "
        f"uvicorn {env['uvicorn']} · commit {env['commit'] or '?'} · "
        f"load average {' '.join(str(x) for x in env['load_average'])}"
    )


def format_table(figures: Iterable[Figure]) -> str:
    """Figures grouped by scenario: what, measured, target, pass/FAIL."""
    rows = list(figures)
    name_width = max([len(f.name) for f in rows] + [10])
    measured_width = max([len(f.measured) for f in rows] + [8])
    target_width = max([len(f.target) for f in rows] + [6])
    lines: list[str] = []
    scenario = None
    for figure in rows:
        if figure.scenario != scenario:
            scenario = figure.scenario
            lines.append("")
            lines.append(f"== {scenario}")
        lines.append(
            f"  {figure.name:<{name_width}}  {figure.measured:>{measured_width}}  "
            f"{figure.target:<{target_width}}  {figure.verdict}".rstrip()
        )
    return "\n".join(lines)


def summary(figures: Sequence[Figure]) -> str:
    judged = [f for f in figures if f.passed is not None]
    failed = [f for f in judged if not f.passed]
    return f"{len(judged) - len(failed)} of {len(judged)} targets held, {len(failed)} FAIL"


def as_json(figures: Sequence[Figure]) -> list[dict[str, Any]]:
    return [asdict(f) | {"verdict": f.verdict} for f in figures]
