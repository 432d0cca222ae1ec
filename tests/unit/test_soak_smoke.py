"""``benchmarks/soak.py`` end to end at a tiny size: its simulators in their own process, the
console headless on them, faults switched on and off. Only that it runs through and reports
every figure, with no exception, is checked: its numbers are for the soak to say."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.processes import ROOT


def test_a_tiny_soak_reports_every_figure_and_no_exception(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    argv = [sys.executable, "-m", "benchmarks.soak", "--minutes", "0.15", "--pbxs", "5"]
    done = subprocess.run(
        [*argv, "--seed", "3", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["exceptions"] == 0, figures["first_exceptions"]
    assert figures["switches"] > 0 and figures["fault_kinds"]
    assert figures["untouched"] and figures["healthy_updates"] > 0
    for name in ("rss_start", "rss_end", "tasks_start", "tasks_end", "fds_start", "fds_end"):
        assert figures[name] > 0, name
    assert "missed refreshes" in done.stdout
