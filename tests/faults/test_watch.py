"""The matrix's stall probe tells a stalled event loop from a busy machine: a callback that
burns the CPU or blocks is a stall, and a quiet loop is none."""

from __future__ import annotations

import time

import anyio

from tests.faults.watch import STALL_LIMIT, TICK, watching


async def _ticks(count: int) -> None:
    for _ in range(count):
        await anyio.sleep(TICK)


async def test_a_callback_burning_the_cpu_is_a_stall() -> None:
    async with watching() as watch:
        watch.begin()
        await _ticks(3)
        # 150 ms of this thread's own CPU time, however long a busy machine makes that take
        until = time.thread_time() + 0.15
        while time.thread_time() < until:  # the event loop does nothing else meanwhile
            pass
        await _ticks(3)
    worst = watch.worst_stall
    assert worst is not None and worst.stall > STALL_LIMIT


async def test_a_blocking_call_is_a_stall_though_it_burns_no_cpu() -> None:
    async with watching() as watch:
        watch.begin()
        await _ticks(3)
        time.sleep(0.15)  # noqa: ASYNC251 (the stall under test)
        await _ticks(3)
    worst = watch.worst_stall
    assert worst is not None and worst.stall > STALL_LIMIT


async def test_stalls_before_the_consoles_open_are_not_counted() -> None:
    async with watching() as watch:
        await _ticks(2)
        time.sleep(0.15)  # noqa: ASYNC251 (set-up work, before begin())
        await _ticks(2)
        watch.begin()
        await _ticks(10)
    worst = watch.worst_stall
    assert worst is not None and worst.stall < STALL_LIMIT
    assert watch.worst_late > STALL_LIMIT  # it was seen, only not counted
