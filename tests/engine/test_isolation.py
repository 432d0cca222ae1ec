"""One PBX's trouble stays its own, over real HTTP to the simulators: hanging PBXs, a gzip
bomb, an operator pressing refresh ten times a second, a fetch waiting for its budget."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from pbxtui.engine import Engine
from pbxtui.model import EngineUpdate, HealthState, Resource
from pbxtui.sim import SimulatedPbx, build_simulator
from pbxtui.sim.fleet import running_fleet
from pbxtui.sim.scenario import ScenarioSpec


def pbx(name: str, **spec: Any) -> SimulatedPbx:
    fields: dict[str, Any] = {"seed": len(name), "extensions": 6, "queues": (("600", "Sales"),)}
    return build_simulator("pbxcloud", name, spec=ScenarioSpec(**(fields | spec)), tenant="T")


@asynccontextmanager
async def live(
    sims: list[SimulatedPbx], **overrides: Any
) -> AsyncIterator[tuple[Engine, Counter[str]]]:
    """An engine polling these simulators; yields it and its count of good calls polls."""
    good: Counter[str] = Counter()

    def count(update: EngineUpdate) -> None:
        if update.resource is Resource.CALLS and update.state.resource(Resource.CALLS).ok:
            good[update.pbx] += 1

    async with running_fleet(sims, **overrides) as (config, _, _), Engine(config) as engine:
        engine.subscribe(count)
        async with anyio.create_task_group() as tg:
            tg.start_soon(engine.run)
            yield engine, good
            tg.cancel_scope.cancel()


async def until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    with anyio.fail_after(timeout):
        while not predicate():  # noqa: ASYNC110 (waiting on a condition)
            await anyio.sleep(0.02)


async def test_five_hanging_pbxs_never_hold_up_the_healthy_one() -> None:
    hanging = [pbx(f"hung{i}") for i in range(5)]
    for sim in hanging:
        sim.faults.update({"hang": True})
    healthy = pbx("fine")
    names = [sim.name for sim in hanging]
    async with live([*hanging, healthy], poll_interval=0.2, timeout=3.0) as (engine, good):

        def answered(name: str) -> bool:
            return not engine.state()[name].resource(Resource.CALLS).pending

        # The healthy PBX keeps its pace while every hanging one still waits for its first
        # answer: nobody waits for anybody's connections.
        await until(lambda: good["fine"] >= 5)
        assert not any(answered(name) for name in names)
        await until(lambda: all(answered(name) for name in names))
        seen = good["fine"]
        await until(lambda: good["fine"] >= seen + 3)
        states = engine.state()
    assert states["fine"].health.state is HealthState.OK
    for name in names:
        health = states[name].health
        assert health.state is HealthState.DOWN
        assert "no answer within 3 s from http://127.0.0.1" in health.last_error


async def test_a_gzip_bomb_costs_its_own_pbx_only() -> None:
    bomb, healthy = pbx("bomb"), pbx("fine")
    bomb.faults.update({"gzip_bomb": True})
    async with live([bomb, healthy], poll_interval=0.2) as (engine, good):
        await until(lambda: engine.state()["bomb"].health.state is HealthState.DOWN)
        seen = good["fine"]
        await until(lambda: good["fine"] >= seen + 5)
        bombed = engine.state()["bomb"].health.last_error
        bomb.faults.clear()
        await until(lambda: good["bomb"] > 0)  # recovers without a restart
    assert "answer larger than" in bombed
    assert "MiB" in bombed


class Arrivals:
    """ASGI middleware noting when each request reaches the simulator."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.times: list[float] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/_sim"):
            self.times.append(time.monotonic())
        await self.app(scope, receive, send)

    def most_in(self, window: float) -> int:
        """The most requests that arrived within any ``window`` seconds."""
        times = self.times
        return max(
            (sum(1 for t in times[i:] if t < start + window) for i, start in enumerate(times)),
            default=0,
        )


@contextmanager
def arrivals(sim: SimulatedPbx) -> Iterator[Arrivals]:
    recorder = Arrivals(sim.app)
    sim.app = recorder
    yield recorder


async def test_refresh_ten_times_a_second_never_exceeds_the_budget() -> None:
    sim = pbx("hq")
    budget = 8
    with arrivals(sim) as seen:
        async with live([sim], poll_interval=0.5, requests_per_second=float(budget)) as (
            engine,
            _,
        ):
            with anyio.fail_after(30):
                while len(seen.times) < 3 * budget:
                    engine.refresh()
                    await anyio.sleep(0.1)
    # Arrival times jitter by a few milliseconds around the starts the budget spaced.
    assert seen.most_in(0.9) <= budget
    span = seen.times[-1] - seen.times[0]
    assert len(seen.times) <= budget * (span + 1)


async def test_time_waiting_for_the_budget_is_not_the_pbx_s_timeout() -> None:
    queues = tuple((str(600 + i), f"Q{i}") for i in range(4))
    sim = pbx("hq", queues=queues)
    # Five requests (the list, then one per queue) at two a second: longer than the
    # request timeout plus the engine's margin, all of it waiting here.
    async with (
        running_fleet([sim], timeout=0.5, requests_per_second=2.0) as (config, _, _),
        Engine(config, fetch_margin=0.1) as engine,
    ):
        states = await engine.poll_once(resources=[Resource.QUEUES])
    queues_state = states["hq"].resource(Resource.QUEUES)
    assert queues_state.ok, queues_state.error
    assert len(queues_state.records) == 4


@pytest.mark.parametrize("kind", ["pbxcloud", "iexpbx", "dialup"])
async def test_every_kind_has_a_budget_with_a_documented_default(kind: str) -> None:
    sim = build_simulator(kind, "p", spec=ScenarioSpec(seed=3, extensions=4))
    async with running_fleet([sim]) as (config, _, _), Engine(config) as engine:
        budget = engine.driver("p").budget
    expected = (4, 20.0) if kind == "dialup" else (6, 20.0)
    assert (budget.max_in_flight, budget.per_second) == expected
    assert budget.spread is False  # a sweep goes out at once, under the same rule
