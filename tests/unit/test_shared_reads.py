"""One read shared by whoever asks while it is on its way (``SharedReads``)."""

from __future__ import annotations

import anyio
import pytest

from pbxtui.drivers.shared_reads import SharedReads


class Listing:
    """A fetch that answers only when told to, counting how often it was asked."""

    def __init__(self) -> None:
        self.asked = 0
        self.release = anyio.Event()
        self.error: Exception | None = None

    async def __call__(self) -> list[str]:
        self.asked += 1
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return [f"answer {self.asked}"]


async def gather(reads: SharedReads[list[str]], fetch: Listing, count: int) -> list[object]:
    outcomes: list[object] = []

    async def one() -> None:
        try:
            outcomes.append(await reads.read("users", fetch))
        except Exception as exc:
            outcomes.append(exc)

    async with anyio.create_task_group() as tasks:
        for _ in range(count):
            tasks.start_soon(one)
        await anyio.wait_all_tasks_blocked()
        fetch.release.set()
    return outcomes


async def test_reads_on_the_way_together_ask_once() -> None:
    reads: SharedReads[list[str]] = SharedReads()
    fetch = Listing()
    assert await gather(reads, fetch, 3) == [["answer 1"]] * 3
    assert fetch.asked == 1
    assert await reads.read("users", fetch) == ["answer 2"]  # landed: the next one asks


async def test_a_failed_read_fails_everyone_who_waited_for_it() -> None:
    reads: SharedReads[list[str]] = SharedReads()
    fetch = Listing()
    fetch.error = ValueError("refused users")
    outcomes = await gather(reads, fetch, 2)
    assert [str(o) for o in outcomes] == ["refused users"] * 2 and fetch.asked == 1


async def test_when_the_one_asking_is_cancelled_a_waiter_asks_anew() -> None:
    reads: SharedReads[list[str]] = SharedReads()
    fetch = Listing()
    got: list[list[str]] = []
    leader = anyio.CancelScope()

    async def asking_first() -> None:
        with leader:
            await reads.read("users", fetch)

    async def waiter() -> None:
        got.append(await reads.read("users", fetch))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(asking_first)
        await anyio.wait_all_tasks_blocked()
        tasks.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()
        leader.cancel()
        await anyio.wait_all_tasks_blocked()
        fetch.release.set()
    assert got == [["answer 2"]] and fetch.asked == 2


@pytest.mark.parametrize("forgotten", [False, True])
async def test_after_forget_a_read_does_not_join_one_sent_before(forgotten: bool) -> None:
    reads: SharedReads[list[str]] = SharedReads()
    fetch = Listing()
    outcomes: list[list[str]] = []

    async def one() -> None:
        outcomes.append(await reads.read("users", fetch))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(one)
        await anyio.wait_all_tasks_blocked()
        if forgotten:
            reads.forget()
        tasks.start_soon(one)
        await anyio.wait_all_tasks_blocked()
        fetch.release.set()
    assert fetch.asked == (2 if forgotten else 1)


async def test_a_landed_answer_serves_its_window_unless_asked_afresh() -> None:
    reads: SharedReads[list[str]] = SharedReads(reuse_for=60)
    fetch = Listing()
    fetch.release.set()
    assert await reads.read("users", fetch) == ["answer 1"]
    assert await reads.read("users", fetch) == ["answer 1"]
    assert await reads.read("users", fetch, fresh=True) == ["answer 2"]
    reads.forget()
    assert await reads.read("users", fetch) == ["answer 3"]


async def test_an_answer_landing_after_forget_is_not_kept() -> None:
    reads: SharedReads[list[str]] = SharedReads(reuse_for=60)
    fetch = Listing()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(reads.read, "users", fetch)
        await anyio.wait_all_tasks_blocked()
        reads.forget()  # an action, while the read was on its way
        fetch.release.set()
    assert await reads.read("users", fetch) == ["answer 2"]
