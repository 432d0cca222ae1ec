"""Many PBXs at once, from the client's side (the engine in this process, the PBXs in a load
server): a poll round of the whole fleet beside the slowest single PBX, and whether healthy
PBXs keep updating while some hang."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass

import anyio

from benchmarks.processes import LoadServer
from benchmarks.report import Figure, ms, share
from pbxtui.config import load_config
from pbxtui.engine import Engine
from pbxtui.model import EngineUpdate, HealthState, Resource


@dataclass(frozen=True)
class FleetPlan:
    rounds: int = 5
    hang_seconds: float = 30.0
    hanging: int = 5


async def _round(
    engine: Engine, resources: Iterable[Resource] | None, pbx: str | None = None
) -> float:
    started = time.perf_counter()
    await engine.poll_once(pbx=pbx, resources=resources)
    return time.perf_counter() - started


async def poll_rounds(server: LoadServer, plan: FleetPlan, title: str) -> list[Figure]:
    config = load_config(server.config)
    names = [p.name for p in config.pbx]
    figures: list[Figure] = []
    cases = (("calls", [Resource.CALLS], 1.3), ("every resource", None, 2.0))
    async with Engine(config) as engine:
        await engine.poll_once()  # connections up, queue lists cached: as in a running console
        for label, resources, limit in cases:
            single = {
                name: statistics.median(
                    [await _round(engine, resources, name) for _ in range(plan.rounds)]
                )
                for name in names
            }
            slowest_name = max(single, key=single.__getitem__)
            slowest = single[slowest_name]
            cpu_started, wall_started = time.process_time(), time.perf_counter()
            whole = [await _round(engine, resources) for _ in range(plan.rounds)]
            client_cpu = (time.process_time() - cpu_started) / (time.perf_counter() - wall_started)
            fleet = statistics.median(whole)
            ratio = fleet / slowest if slowest else float("nan")
            figures.append(
                Figure(
                    title,
                    f"one poll round of {label}: fleet / slowest single PBX ({slowest_name})",
                    f"{ratio:.1f}x ({ms(fleet)} / {ms(slowest)})",
                    f"≤ {limit:g}x",
                    ratio <= limit,
                    ratio,
                )
            )
            figures.append(
                Figure(
                    title,
                    f"  client CPU during the fleet rounds of {label}",
                    share(client_cpu),
                    "",
                    None,
                    client_cpu,
                )
            )
    return figures


async def _updates(server: LoadServer, seconds: float) -> tuple[dict[str, int], set[str]]:
    """Run an engine for ``seconds``: calls polls that succeeded per PBX, and the PBXs whose
    health went down at some point."""
    config = load_config(server.config)
    fetched: dict[str, set[object]] = {p.name: set() for p in config.pbx}
    down: set[str] = set()

    def listener(update: EngineUpdate) -> None:
        calls = update.state.resource(Resource.CALLS)
        if calls.fetched_at is not None and not calls.error:
            fetched[update.pbx].add(calls.fetched_at)
        if update.state.health.state is HealthState.DOWN:
            down.add(update.pbx)

    async with Engine(config) as engine:
        engine.subscribe(listener)
        async with anyio.create_task_group() as group:
            group.start_soon(engine.run)
            await anyio.sleep(seconds)
            group.cancel_scope.cancel()
    return {name: len(times) for name, times in fetched.items()}, down


async def hanging(server: LoadServer, plan: FleetPlan, title: str) -> list[Figure]:
    names = list(server.ports)
    hung = names[: plan.hanging]
    healthy = names[plan.hanging :]
    baseline, _ = await _updates(server, plan.hang_seconds)
    for name in hung:
        server.set_faults(name, {"hang": True})
    try:
        during, down = await _updates(server, plan.hang_seconds)
    finally:
        for name in hung:
            server.set_faults(name, {"clear": True})
    expected = statistics.median(baseline[n] for n in healthy)
    worst = min(during[n] for n in healthy)
    marked = sorted(set(healthy) & down)
    every = worst >= 0.9 * expected
    return [
        Figure(
            title,
            f"calls updates of a healthy PBX in {plan.hang_seconds:g} s: "
            f"none / {plan.hanging} hanging",
            f"{expected:.0f} / {worst} (least)",
            "every round (≥ 90 %)",
            every,
            worst / expected if expected else float("nan"),
        ),
        Figure(
            title,
            "healthy PBXs marked down while others hang",
            str(len(marked)) + (f" ({', '.join(marked[:5])}…)" if marked else ""),
            "0",
            not marked,
            float(len(marked)),
        ),
    ]
