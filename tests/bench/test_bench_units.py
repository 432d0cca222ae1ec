"""The benchmark suite's own arithmetic and screen reading, on made-up inputs."""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmarks.keystrokes import calls_shown, prompt_shows, sorted_by, stalls
from benchmarks.profiling import summarise
from benchmarks.report import Figure, format_table, percentile, summary
from benchmarks.scenario_console import _peak, _rate
from benchmarks.terminal import View


def view(*lines: str, backgrounds: tuple[str, ...] = ()) -> View:
    return View(tuple(lines), backgrounds)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([3.0, 1.0], 0.99) == 3
    assert math.isnan(percentile([], 0.5))


def test_peak_counts_the_busiest_second() -> None:
    arrivals = [0.0, 0.1, 0.2, 1.5, 1.6, 1.7, 1.8, 3.0]
    assert _peak(arrivals, 0.0, 4.0) == 4
    assert _peak(arrivals, 2.0, 4.0) == 1
    assert _rate(arrivals, 0.0, 2.0) == 3.5


def test_stalls_count_unlisted_samples_as_no_lag(tmp_path: Path) -> None:
    path = tmp_path / "lag.jsonl"
    seconds = [
        {"t": 10.0, "n": 100, "lags_ms": [500.0]},
        {"t": 11.0, "n": 100, "lags_ms": [60.0, 40.0]},
        {"t": 99.0, "n": 1, "lags_ms": [9000.0]},  # outside the window
    ]
    path.write_text("\n".join(json.dumps(s) for s in seconds) + "\n{partial", encoding="utf-8")
    found = stalls(path, 10.0, 12.0)
    assert found.samples == 200
    assert found.worst == 0.5
    assert found.p99 == 0.06  # the 2nd largest of 200 samples
    assert stalls(path, 50.0, 60.0).samples == 0


def test_the_cursor_row_is_the_line_with_its_own_background() -> None:
    before = view("h", "a", "b", "c", backgrounds=("hdr", "cur", "row", "row"))
    after = view("h", "a", "b", "c", backgrounds=("hdr", "row", "cur", "row"))
    assert before.highlighted() == ((0, "hdr"), (1, "cur"))
    assert before.highlighted() != after.highlighted()


def test_status_and_prompt_reading() -> None:
    screen = view("x", " 9911 of 10000 calls · sorted by Duration ▼", " /05", "/ Filter")
    assert sorted_by(screen) == "Duration"
    assert prompt_shows("05")(screen)
    assert not prompt_shows("0")(screen)
    assert calls_shown(view(" 9911 calls · sorted by PBX ▲")) == 9911


def test_the_table_says_pass_or_fail() -> None:
    figures = [
        Figure("s", "cpu", "73 %", "≤ 20 %", False),
        Figure("s", "rss", "200 MB", "≤ 250 MB", True),
        Figure("s", "note", "1", "", None),
    ]
    table = format_table(figures)
    assert "FAIL" in table and "pass" in table
    assert summary(figures) == "1 of 2 targets held, 1 FAIL"


def test_profile_summary_leaves_out_waiting_threads_and_outer_layers(tmp_path: Path) -> None:
    raw = tmp_path / "stacks.txt"
    loop = "<module> (pbxtui:6);run (/usr/lib/python3.11/asyncio/runners.py:118)"
    raw.write_text(
        f"{loop};show (/srv/x/pbxtui/ui/panes.py:10);apply (/srv/x/pbxtui/ui/table.py:5) 6\n"
        f"{loop};show (pbxtui/ui/panes.py:12);parse (pbxtui/drivers/x.py:3) 2\n"
        f"{loop};fetch (pbxtui/drivers/x.py:9) 2\n"
        "_bootstrap (threading.py:1);select (selectors.py:468) 90\n",
        encoding="utf-8",
    )
    lines = summarise(raw)
    assert lines[0] == "10 samples of work; in pbxtui's code (inclusive):"
    assert lines[1].split() == ["80.0%", "show", "(pbxtui/ui/panes.py)"]
    assert not any("asyncio" in line or "selectors" in line for line in lines)
    assert "60.0%  apply (pbxtui/ui/table.py)" in [line.strip() for line in lines]
