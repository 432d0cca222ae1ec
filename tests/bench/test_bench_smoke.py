"""``make bench`` end to end at tiny scale: load servers in their own processes, the console
on a pseudo-terminal, every scenario. Only that each figure was produced is checked: how fast
anything was is for the benchmark to say, never a test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.processes import ROOT
from benchmarks.run import SCENARIOS

EXPECTED = {
    "pbxtui --demo": ["floor", "first calls"],
    "the demo's fleet": ["console CPU"],
    "request budget": ["hq:", "istanbul:", "branch:", "eu:"],
    "snapshot --json": ["floor", "calls"],
    "answering after": ["poll round of calls", "poll round of every resource"],
    "hanging": ["calls updates", "marked down"],
    "Calls pane": ["update / clear-and-rebuild"],
    "changing per second": [
        "console CPU",
        "cursor/dialog",
        "typing a filter",
        "event-loop stalls",
        "polls timed out",
        "peak RSS",
    ],
}


def test_every_scenario_produces_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--tiny", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text(encoding="utf-8"))["figures"]
    errors = [f for f in figures if f["name"] == "error"]
    assert not errors, errors
    for scenario, names in EXPECTED.items():
        mine = [f for f in figures if scenario in f["scenario"]]
        for name in names:
            found = [f for f in mine if name in f["name"]]
            assert found, f"no figure {name!r} in {scenario!r}"
            assert all(f["measured"] not in ("", "n/a", "never") for f in found), found
    assert "FAIL" in done.stdout or "pass" in done.stdout  # the table was printed
    assert len({f["scenario"] for f in figures}) >= len(SCENARIOS)
