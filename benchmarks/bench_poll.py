"""Polling figures: time to first data, poll-round latency, and large-PBX parse cost.

Run by hand: ``make bench`` (or ``.venv/bin/python benchmarks/bench_poll.py``). Prints figures;
asserts nothing. Targets (from the issues): the demo shows data within 2 s; a poll round of
the whole demo fleet stays well under the 1 s poll interval; one slow PBX does not slow the
others.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx

from pbxtui.drivers import create_driver
from pbxtui.engine import Engine
from pbxtui.model import Click2Call, EngineUpdate, HealthState, PlaceCall, Resource
from pbxtui.sim import build_simulator
from pbxtui.sim.fleet import build_fleet, running_fleet
from pbxtui.sim.scenario import ScenarioSpec

ROUNDS = 20


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


async def timed(fn: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await fn()
    return time.perf_counter() - started


async def time_to_first_data() -> None:
    started = time.perf_counter()
    async with running_fleet(poll_interval=1.0) as (config, sims, _):
        served = time.perf_counter() - started
        async with Engine(config) as engine:
            first: dict[str, float] = {}
            done = anyio.Event()

            def listener(update: object) -> None:
                for name, state in engine.state().items():
                    if name not in first and state.health.state is HealthState.OK:
                        first[name] = time.perf_counter() - started
                if len(first) == len(sims):
                    done.set()

            engine.subscribe(listener)  # type: ignore[arg-type]
            async with anyio.create_task_group() as tg:
                tg.start_soon(engine.run)
                with anyio.move_on_after(10):
                    await done.wait()
                tg.cancel_scope.cancel()
    print(f"simulators serving after          {ms(served)}")
    for name, at in first.items():
        print(f"first healthy data from {name:<10}{ms(at)}")
    print(f"all PBXs showing data after       {ms(max(first.values(), default=float('nan')))}")


async def poll_round_latency() -> None:
    async with running_fleet() as (config, _, _), Engine(config) as engine:
        await engine.poll_once()
        rounds = [await timed(engine.poll_once) for _ in range(ROUNDS)]
    rounds.sort()
    print(
        f"full poll round, {len(config.pbx)} PBXs x every resource, {ROUNDS} rounds: "
        f"median {ms(statistics.median(rounds))}, p95 {ms(rounds[int(ROUNDS * 0.95) - 1])}"
    )


async def slow_pbx_isolation() -> None:
    sims = build_fleet()
    sims[0].faults.update({"hang": True})
    async with running_fleet(sims, timeout=2.0) as (config, _, _), Engine(config) as engine:
        healthy = [p.name for p in config.pbx[1:]]
        started = time.perf_counter()
        rounds = [await timed(lambda n=n: engine.poll_once(pbx=n)) for n in healthy]  # type: ignore[misc]
        print(
            f"with {sims[0].name} hanging (2 s timeout), polling the others took "
            f"{ms(max(rounds))} at worst; whole loop {ms(time.perf_counter() - started)}"
        )


async def large_pbx() -> None:
    spec = ScenarioSpec(
        seed=7,
        extensions=400,
        queues=tuple((str(600 + i), f"Queue {i}") for i in range(10)),
        calls_per_minute=90.0,
        warmup_seconds=900,
    )
    sim = build_simulator("pbxcloud", "big", spec=spec)
    print(f"large PBX: {len(sim.scenario.extensions)} extensions, {len(sim.scenario.calls)} calls")
    async with (
        running_fleet([sim], timeout=10.0) as (config, _, _),
        httpx.AsyncClient() as client,
    ):
        driver = create_driver(config.pbx[0], client)
        for resource in Resource:
            if resource not in driver.capabilities.resources:
                continue
            times = []
            count = 0
            for _ in range(5):
                started = time.perf_counter()
                count = len(await driver.fetch(resource))
                times.append(time.perf_counter() - started)
            median = ms(statistics.median(times))
            print(f"  {resource.value:<11} {count:>5} records  median {median}")


async def slow_click2call() -> None:
    """Issue 3's case: a dialup click2call whose first leg answers after 15 s."""
    sims = build_fleet()
    dialup = next(s for s in sims if s.kind == "dialup")
    dialup.quirks.first_leg_delay = 15.0
    async with running_fleet(sims) as (config, _, _), Engine(config) as engine:
        updates: dict[str, int] = {}

        def listener(update: EngineUpdate) -> None:
            updates[update.pbx] = updates.get(update.pbx, 0) + 1

        engine.subscribe(listener)
        scenario = dialup.scenario
        idle = next(n for n, e in scenario.extensions.items() if e.registered)
        scenario.hangup_extension(idle)  # free it, in case it is on a call
        request = PlaceCall(
            pbx=dialup.name,
            dial=Click2Call(source=idle, destination="0501234567", timeout=30),
        )
        async with anyio.create_task_group() as tg:
            tg.start_soon(engine.run)
            await anyio.sleep(1)
            updates.clear()
            started = time.perf_counter()
            outcome = await engine.perform(request)
            took = time.perf_counter() - started
            tg.cancel_scope.cancel()
    counts = ", ".join(f"{name} {n}" for name, n in updates.items())
    print(f"click2call answered after {took:.1f} s: {outcome.status} ({outcome.message})")
    print(f"poll results published meanwhile: {counts}")


async def main() -> None:
    print("== time to first data (demo fleet)")
    await time_to_first_data()
    print("== poll round latency")
    await poll_round_latency()
    print("== isolation")
    await slow_pbx_isolation()
    print("== a 15 s click2call on the dialup PBX")
    await slow_click2call()
    print("== large PBX, fetch + parse over loopback HTTP")
    await large_pbx()


if __name__ == "__main__":
    anyio.run(main)
