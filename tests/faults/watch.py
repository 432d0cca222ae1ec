"""What a fault costs the process that polls it: event-loop stalls and resident memory.

A task sleeps ``TICK`` again and again, as ``pbxtui/loop_probe.py`` does inside the console,
and notes how late it woke. Lateness has two causes, and only one is the console's doing:

- the event loop was busy (a callback ran long, a blocking call, a worker thread holding the
  interpreter lock): a stall, which the matrix forbids over ``STALL_LIMIT``;
- the operating system ran something else (the other test worker, another session's suite)
  while this thread was ready to run: nothing this process could avoid.

Linux counts, per thread, the time it spent ready but waiting for a CPU (the second field of
``/proc/self/task/*/schedstat``); the stall is the lateness less that wait, summed over the
process's threads: the loop also waits, off the run queue, for the interpreter lock held by a
worker thread that the system has preempted. So the limit holds on a busy machine and still
fails on a real stall, CPU-bound or blocked (see ``test_watch.py``): a thread waiting for the
interpreter lock or sleeping is not on the run queue. Where schedstat is missing the whole
lateness counts.

Each tick also samples the resident set size: the peak over the watch, less the size at its
start, is what the fault cost in memory.
"""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import psutil

TICK = 0.01
STALL_LIMIT = 0.100
TASKS = Path("/proc/self/task")


def _run_delay() -> float | None:
    """Seconds this process's threads have spent ready to run but waiting for a CPU, summed,
    if Linux says."""
    total = 0
    try:
        for task in TASKS.iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[1])
            except FileNotFoundError:
                continue  # the thread ended while we looked
    except (OSError, IndexError, ValueError):
        return None
    return total / 1e9


@dataclass
class Tick:
    at: float
    """``time.monotonic()`` when the tick woke."""
    late: float
    """Seconds later than asked."""
    stall: float
    """Of those, the seconds the process itself was busy or blocked."""


@dataclass
class LoopWatch:
    ticks: list[Tick] = field(default_factory=list)
    base_rss: int = 0
    peak_rss: int = 0
    since: float = 0.0
    """Stalls before this (``time.monotonic()``) are the set-up's, not counted."""

    def begin(self) -> None:
        """Count stalls from now on (the consoles are open and polling)."""
        self.since = time.monotonic()

    @property
    def worst_stall(self) -> Tick | None:
        counted = [t for t in self.ticks if t.at - t.late - TICK >= self.since]
        return max(counted, key=lambda t: t.stall, default=None)

    @property
    def worst_late(self) -> float:
        return max((t.late for t in self.ticks), default=0.0)

    @property
    def memory_growth(self) -> int:
        """Bytes of resident memory at the peak, over what there was at the start."""
        return max(0, self.peak_rss - self.base_rss)

    def late_between(self, start: float, end: float) -> float:
        """Seconds the loop woke late in ``(start, end]``, for whatever reason: time in which
        no poll of anybody's could be started."""
        return sum(t.late for t in self.ticks if start < t.at <= end)

    async def _run(self) -> None:
        process = psutil.Process()
        while True:
            asked = time.monotonic()
            waited = _run_delay()
            await anyio.sleep(TICK)
            woke = time.monotonic()
            late = max(0.0, woke - asked - TICK)
            after = _run_delay()
            queued = after - waited if after is not None and waited is not None else 0.0
            self.ticks.append(Tick(woke, late, max(0.0, late - queued)))
            self.peak_rss = max(self.peak_rss, process.memory_info().rss)


@asynccontextmanager
async def watching() -> AsyncIterator[LoopWatch]:
    """Watch the event loop and memory around the body.

    The test process's own heap (every module and fixture of the suite so far) is frozen out
    of the garbage collector meanwhile: a full collection of it is the test runner's cost,
    not the console's, which never holds that much.
    """
    gc.collect()
    gc.freeze()
    watch = LoopWatch()
    watch.base_rss = watch.peak_rss = psutil.Process().memory_info().rss
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(watch._run)
            try:
                yield watch
            finally:
                group.cancel_scope.cancel()
    finally:
        gc.unfreeze()
