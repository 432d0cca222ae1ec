"""A PBX's request budget: the rate, the in-flight limit, priorities, and how it adapts.

The rate is checked against a fake clock (``_delay``), never by timing real sleeps; the
in-flight limit and the order of service with real tasks, waiting on conditions.
"""

from __future__ import annotations

import math

import anyio
import pytest

from pbxtui.drivers.budget import Priority, RequestBudget, WaitMeter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_no_second_ever_sees_more_starts_than_the_budget() -> None:
    clock = Clock()
    budget = RequestBudget(5, 32, clock=clock)
    for _ in range(5):  # a whole round may start at once...
        assert budget._delay(Priority.POLL) == 0
        budget._take(Priority.POLL)
    # ...then the sixth waits until the first start is a second old, and a quarter more for
    # arrivals bunching up on the way: the PBX never sees six in one second.
    assert budget._delay(Priority.POLL) == pytest.approx(1.25)
    clock.now += 0.6
    assert budget._delay(Priority.POLL) == pytest.approx(0.65)
    assert budget._delay(Priority.ACTION) == pytest.approx(0.65)  # actions count too
    clock.now += 0.65
    assert budget._delay(Priority.POLL) == 0


def test_spread_budget_spaces_every_start() -> None:
    clock = Clock()
    budget = RequestBudget(20, 4, spread=True, clock=clock)
    budget._take(Priority.POLL)
    assert budget._delay(Priority.POLL) == pytest.approx(0.05)
    clock.now += 0.05
    assert budget._delay(Priority.POLL) == 0


def test_polls_wait_for_an_in_flight_slot_but_actions_do_not() -> None:
    budget = RequestBudget(100, 2, clock=Clock())
    budget._take(Priority.POLL)
    budget._take(Priority.POLL)
    assert budget._delay(Priority.POLL) == math.inf
    assert budget._delay(Priority.ACTION) == 0


def test_congestion_halves_rate_and_slots_once_a_second_down_to_a_floor() -> None:
    clock = Clock()
    budget = RequestBudget(20, 8, clock=clock)
    budget.congested()
    budget.congested()  # the same outage, seen by another request: one cut
    assert (budget.rate, budget.cap) == (10, 4)
    for _ in range(10):
        clock.now += 1.1
        budget.congested()
    assert (budget.rate, budget.cap) == (2, 1)  # a tenth of the rate, one request in flight


def test_prompt_answers_give_the_budget_back_and_slow_ones_take_a_slot() -> None:
    clock = Clock()
    budget = RequestBudget(20, 8, clock=clock)
    budget.congested()
    budget.answered(seconds=4.0, timeout=5.0)  # slower than half the timeout
    assert budget.cap == 3
    for _ in range(20):
        budget.answered(seconds=0.05, timeout=5.0)
    assert (budget.rate, budget.cap) == (20, 8)


def test_retry_after_pauses_polls_not_actions() -> None:
    clock = Clock()
    budget = RequestBudget(20, 8, clock=clock)
    budget.pause(3)
    assert budget._delay(Priority.POLL) == pytest.approx(3)
    assert budget._delay(Priority.ACTION) == 0
    budget.pause(3600)
    assert budget._delay(Priority.POLL) == pytest.approx(30)  # capped


async def test_actions_jump_the_queue_and_polls_are_served_in_order() -> None:
    budget = RequestBudget(1000, 1)
    order: list[str] = []
    release = anyio.Event()

    async def ask(name: str, kind: Priority) -> None:
        async with budget.slot(kind):
            order.append(name)
            if name == "first":
                await release.wait()

    async with anyio.create_task_group() as tg:
        tg.start_soon(ask, "first", Priority.POLL)
        while not order:  # noqa: ASYNC110 (waiting on a condition)
            await anyio.sleep(0.001)
        for name in ("poll-a", "poll-b", "poll-c"):
            tg.start_soon(ask, name, Priority.POLL)
        while len(budget._heap) < 3:  # noqa: ASYNC110
            await anyio.sleep(0.001)
        tg.start_soon(ask, "action", Priority.ACTION)
        while "action" not in order:  # noqa: ASYNC110
            await anyio.sleep(0.001)
        assert budget.in_flight == 1  # the action took no poll slot
        release.set()
    assert order == ["first", "action", "poll-a", "poll-b", "poll-c"]
    assert budget.in_flight == 0
    assert budget.started == 5


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    budget = RequestBudget(1000, 1)
    async with budget.slot(Priority.POLL):
        with anyio.move_on_after(0.01):
            async with budget.slot(Priority.POLL):
                pytest.fail("no slot was free")
    async with budget.slot(Priority.POLL):  # the slot is free again; nobody is queued
        assert budget.in_flight == 1


class Scope:
    """What the meter moves: a cancel scope's deadline."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline


def test_the_wait_meter_stops_the_deadline_while_only_waiting() -> None:
    clock = Clock()
    scope = Scope(clock.now + 5)
    watch = WaitMeter(scope, clock=clock)  # type: ignore[arg-type]
    watch.waiting(1)  # the only request waits for its budget
    assert scope.deadline == math.inf
    clock.now += 30
    watch.sending(1)  # now it is on the wire: 5 s left, as before the wait
    assert scope.deadline == pytest.approx(clock.now + 5)
    watch.waiting(-1)
    watch.waiting(1)  # another waits while one is on the wire: the clock runs
    assert scope.deadline == pytest.approx(clock.now + 5)
    assert watch.waited == pytest.approx(30)
