"""The HTTP layer at NOC scale: many PBXs answering after 100 ms, some of them hanging.

Run by hand: ``.venv/bin/python benchmarks/bench_http.py [--pbxs 50] [--seconds 20]``. The
simulators run in a separate process (this script started again with ``--serve``), so the
client's CPU time is the console's own. Prints figures next to their targets; asserts nothing.

- one poll round of calls, and of every resource, over N PBXs vs the slowest single PBX
  polled alone (the ratio is the figure: the client must not be the bottleneck);
- the client's CPU time per round;
- N PBXs, 5 of them hanging: how many updates each healthy PBX gets while the engine runs,
  and whether any healthy PBX is ever marked down;
- ``refresh()`` called 10 times a second: requests per second counted at the simulator.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import httpx

from pbxtui.config import Config, load_config
from pbxtui.engine import Engine
from pbxtui.model import EngineUpdate, HealthState, Resource
from pbxtui.sim import build_simulator
from pbxtui.sim.fleet import fleet_config_toml
from pbxtui.sim.scenario import ScenarioSpec
from pbxtui.sim.server import serve

LATENCY = 0.1
ROUNDS = 7


# -- the load process ---------------------------------------------------------------------------
async def _serve(count: int, config_path: Path, ready: Path) -> None:
    sims = [
        build_simulator(
            "pbxcloud",
            f"p{i:02d}",
            spec=ScenarioSpec(seed=i, extensions=12, queues=(("600", "Sales"), ("601", "Help"))),
            tenant=f"T{i:02d}",
        )
        for i in range(count)
    ]
    for sim in sims:
        sim.faults.update({"latency": LATENCY})
    apps = {sim.name: sim.app for sim in sims} | {"big": big_channels_app(BIG_LEGS)}
    async with serve(apps) as ports:
        big = (
            '[[pbx]]\nname = "big"\nkind = "pbxcloud"\n'
            f'url = "http://127.0.0.1:{ports["big"]}/pbx/proxyapi.php"\n'
            'tenant = "BIG"\nkey = "not-checked"\ntimeout = 10.0\n'
        )
        _write(config_path, fleet_config_toml(sims, ports, timeout=2.0) + "\n" + big)
        _write(ready, json.dumps(ports))
        await anyio.sleep_forever()


BIG_LEGS = 20_000  # a CHANNELS answer of 10,000 two-leg calls, about 7 MB


def big_channels_app(legs: int) -> Any:
    """One PBX Cloud endpoint answering CHANNELS with ``legs`` rows, always the same."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    rows = []
    for i in range(legs):
        call, side = divmod(i, 2)
        ext = 201 + call % 500
        rows.append(
            {
                "node": "pbx21",
                "Channel": f"PJSIP/{ext}-BIG-{i:08x}" if side else f"PJSIP/trunk-BIG-{i:08x}",
                "Context": "BIG-from-trunk",
                "Extension": str(ext),
                "Priority": "1",
                "State": "Up",
                "Application": "Dial" if side == 0 else "AppDial",
                "Data": "",
                "CallerID": f"05{call:08d}",
                "CallerIDName": "",
                "Accountcode": "BIG",
                "Duration": str(call % 3600),
                "BridgedTo": f"PJSIP/{ext}-BIG-{i + 1:08x}" if side == 0 else "",
                "UniqueID": f"1796125982.{i}",
                "LinkedID": f"1796125982.{i - side}",
            }
        )
    body = json.dumps(rows).encode()

    async def channels(_: object) -> Response:
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/pbx/proxyapi.php", channels)])


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def start_load(count: int, workdir: Path) -> tuple[subprocess.Popen[bytes], Config, dict[str, int]]:
    config_path, ready = workdir / "fleet.toml", workdir / "ready.json"
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(count), str(config_path), str(ready)]
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the load process did not start")
        time.sleep(0.05)
    ports = json.loads(ready.read_text(encoding="utf-8"))
    return process, load_config(config_path), ports


# -- measurements -------------------------------------------------------------------------------
async def faults(port: int, values: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        reply = await client.post(f"http://127.0.0.1:{port}/_sim/faults", json=values)
        result: dict[str, Any] = reply.json()
        return result


REQUESTS = 0  # requests in the last round measured
LOAD_PID = 0  # the load process, whose CPU time is shown beside the client's


def load_cpu() -> float:
    """CPU seconds the load process has used (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{LOAD_PID}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def rounds(
    config: Config, resources: list[Resource] | None
) -> tuple[float, float, float, int]:
    """(median wall seconds, median CPU seconds, load CPU seconds, failures) of a round."""
    walls, cpus, served, requests, failed = [], [], [], [], 0
    async with Engine(config) as engine:
        await engine.poll_once(resources=resources)  # connections opened, caches warm
        for _ in range(ROUNDS):
            started, cpu, load = time.perf_counter(), time.process_time(), load_cpu()
            sent = sum(engine.driver(n).budget.started for n in engine.pbx_names)
            states = await engine.poll_once(resources=resources)
            requests.append(sum(engine.driver(n).budget.started for n in engine.pbx_names) - sent)
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
            served.append(load_cpu() - load)
            failed += sum(
                1 for state in states.values() for r in state.resources.values() if r.failing
            )
    global REQUESTS
    REQUESTS = round(statistics.median(requests))
    return statistics.median(walls), statistics.median(cpus), statistics.median(served), failed


def single(config: Config, name: str) -> Config:
    return config.model_copy(update={"pbx": [config.get(name)]})


async def round_figures(config: Config) -> None:
    names = [p.name for p in config.pbx]
    for label, resources in (("calls", [Resource.CALLS]), ("every resource", None)):
        alone = [await rounds(single(config, n), resources) for n in names[:3]]
        slowest = max(wall for wall, *_ in alone)
        wall, cpu, served, failed = await rounds(config, resources)
        target = 1.3 if resources else 2.0
        print(
            f"round of {label:<15} {len(names)} PBXs ({REQUESTS} requests) {wall * 1000:5.0f} ms  "
            f"slowest single "
            f"{slowest * 1000:5.0f} ms  ratio {wall / slowest:4.2f} (target <= {target})  "
            f"CPU per round: client {cpu * 1000:4.0f} ms, simulators {served * 1000:4.0f} ms  "
            f"failed fetches {failed}"
        )


async def hanging_figures(config: Config, ports: dict[str, int], seconds: float) -> None:
    names = [p.name for p in config.pbx]
    hanging = names[: min(5, len(names) - 1)]
    for name in hanging:
        await faults(ports[name], {"hang": True})
    updates: Counter[str] = Counter()
    downs: set[str] = set()
    reasons: set[str] = set()
    try:
        async with Engine(config) as engine:

            def listener(update: EngineUpdate) -> None:
                if update.resource is Resource.CALLS and update.state.resource(Resource.CALLS).ok:
                    updates[update.pbx] += 1
                if update.pbx not in hanging and update.state.health.state is HealthState.DOWN:
                    downs.add(update.pbx)
                    reasons.add(update.state.health.last_error)

            engine.subscribe(listener)
            async with anyio.create_task_group() as tg:
                tg.start_soon(engine.run)
                await anyio.sleep(seconds)
                hung_reasons = {engine.state()[n].health.last_error for n in hanging}
                tg.cancel_scope.cancel()
    finally:
        for name in hanging:
            await faults(ports[name], {"clear": True, "latency": LATENCY})
    healthy = [updates[n] for n in names if n not in hanging]
    expected = seconds / config.pbx[0].poll_interval
    print(
        f"{len(names)} PBXs, 5 hanging, {seconds:g} s: calls updates per healthy PBX "
        f"min {min(healthy)} median {statistics.median(healthy):g} max {max(healthy)} "
        f"(a round every poll_interval: about {expected:.0f}); healthy PBXs shown down: "
        f"{len(downs)}"
    )
    for reason in sorted(reasons)[:3]:
        print(f"  healthy PBX down because: {reason}")
    for reason in sorted(hung_reasons)[:2]:
        print(f"  hanging PBX reason: {reason}")


async def refresh_figures(config: Config, ports: dict[str, int], seconds: float) -> None:
    name = config.pbx[0].name
    one = single(config, name)
    await faults(ports[name], {"clear": True})  # answer at once: the worst case for a budget
    before = await _request_count(ports[name])
    async with Engine(one) as engine, anyio.create_task_group() as tg:
        tg.start_soon(engine.run)
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            engine.refresh()
            await anyio.sleep(0.1)
        tg.cancel_scope.cancel()
    after = await _request_count(ports[name])
    await faults(ports[name], {"latency": LATENCY})
    if before is None or after is None:
        print("refresh 10x/s: the simulator counts no requests (no counter in this version)")
        return
    count = after - before
    budget = one.pbx[0].requests_per_second
    bound = budget * (seconds + 1)  # at most `budget` in any second: the edges add one second
    print(
        f"refresh() 10x/s for {seconds:g} s on one PBX: {count} requests at the simulator "
        f"({count / seconds:.1f}/s; the budget, {budget:g} in any second, allows {bound:.0f})"
    )


async def _request_count(port: int) -> int | None:
    state = await faults(port, {})
    count = state.get("requests")
    return int(count) if isinstance(count, int) else None


async def stall_figures(config: Config) -> None:
    """The event loop's longest stall while a 10,000-call answer is polled, its parse in a
    worker thread (as shipped) and inline (as before), side by side."""
    from pbxtui.drivers import base

    one = single(config, "big")
    shipped = base.OFF_LOOP_BYTES
    results = {}
    for label, threshold in (("in a worker thread", shipped), ("inline", 1 << 62)):
        base.OFF_LOOP_BYTES = threshold
        try:
            results[label] = await _worst_stall(one)
        finally:
            base.OFF_LOOP_BYTES = shipped
    worker, inline = results["in a worker thread"], results["inline"]
    print(
        f"10,000 calls ({BIG_LEGS} CHANNELS rows) polled 5 times: longest event-loop stall "
        f"{worker[0] * 1000:.0f} ms with the parse in a worker thread vs {inline[0] * 1000:.0f} ms "
        f"inline (target <= 50 ms); a poll takes {worker[1] * 1000:.0f} / {inline[1] * 1000:.0f} ms"
    )


async def _worst_stall(config: Config) -> tuple[float, float]:
    worst = 0.0
    polls: list[float] = []
    async with Engine(config) as engine, anyio.create_task_group() as tg:

        async def ticker() -> None:
            nonlocal worst
            while True:
                before = time.perf_counter()
                await anyio.sleep(0.005)
                worst = max(worst, time.perf_counter() - before - 0.005)

        await engine.poll_once(resources=[Resource.CALLS])  # connection open
        tg.start_soon(ticker)
        for _ in range(5):
            started = time.perf_counter()
            await engine.poll_once(resources=[Resource.CALLS])
            polls.append(time.perf_counter() - started)
        tg.cancel_scope.cancel()
    return worst, statistics.median(polls)


async def main(pbxs: int, seconds: float) -> None:
    logging.disable(logging.WARNING)  # PBXs going down and up are figures here, not news
    print(f"cpus {os.cpu_count()}  python {sys.version.split()[0]}  httpx {httpx.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        process, config, ports = start_load(pbxs, Path(tmp))
        global LOAD_PID
        LOAD_PID = process.pid
        try:
            big = config.get("big")
            config = config.model_copy(update={"pbx": [p for p in config.pbx if p is not big]})
            await stall_figures(config.model_copy(update={"pbx": [*config.pbx, big]}))
            await round_figures(config)
            await hanging_figures(config, ports, seconds)
            await refresh_figures(config, ports, min(seconds, 5.0))
        finally:
            # SIGKILL: uvicorn's graceful stop would wait for the hanging requests.
            process.kill()
            process.wait(10)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        anyio.run(_serve, int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--pbxs", type=int, default=50)
        parser.add_argument("--seconds", type=float, default=20.0)
        args = parser.parse_args()
        anyio.run(main, args.pbxs, args.seconds)
