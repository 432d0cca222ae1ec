"""benchmarks/bench_table.py kept working: every scenario at a tiny scale (no figure is
judged here: timings belong to the benchmark, never to a test)."""

from __future__ import annotations

from benchmarks import bench_table


async def test_every_scenario_runs_at_a_tiny_scale() -> None:
    report = await bench_table.run(bench_table.SMOKE)
    text = "\n".join(report.lines)
    for title in ("table:", "pane:", "keys:", "idle:"):
        assert title in text
    for figure in (
        "update / DataTable clear + add_rows",
        "update / clear-and-rebuild",
        "key → frame, cursor",
        "event-loop stall p99 / max",
        "console CPU (polling, parsing and painting)",
        "of which painting",
    ):
        assert figure in text, figure
