"""The parse benchmark keeps working: a tiny-scale run, figures printed, nothing timed here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_parse.py"


def test_the_parse_benchmark_runs_at_tiny_scale() -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--no-baseline"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    cases = [line.rsplit(None, 3)[0] for line in run.stdout.splitlines() if line.endswith(" ms")]
    assert cases == [
        f"{case} {when}"
        for case in ("CHANNELS", "activecalls", "INFO extensions", "dialup sweep")
        for when in ("cold", "warm")
    ]
