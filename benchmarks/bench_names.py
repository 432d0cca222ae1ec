"""What naming callers costs: per published state at 10,000 calls, and the CRM lookup's
requests against the simulated CRM over real HTTP.

Run by hand: ``.venv/bin/python -m benchmarks.bench_names``. Prints figures; asserts nothing.

- ``name_state`` on a new calls poll (every call named again from the caches: what each calls
  poll of a big PBX pays on the poll path), and on a state whose calls did not change (memo);
- the lookup: 2,000 distinct numbers on 10,000 calls, asked of the simulated CRM at the
  configured concurrency, how many requests went out and how long until every one answered.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

import anyio
import anyio.lowlevel

from pbxtui.config import LookupConfig
from pbxtui.engine.lookup import LookupClient
from pbxtui.engine.names import CallerNames
from pbxtui.model import (
    Call,
    CallState,
    Capabilities,
    Extension,
    PbxHealth,
    PbxState,
    Resource,
    ResourceState,
)
from pbxtui.sim.crm import SimulatedCrm
from pbxtui.sim.server import serve

CALLS = 10_000
CALLERS = 2_000
EXTENSIONS = 500
ROUNDS = 20
NOW = datetime.now(UTC)


def state(round_no: int) -> PbxState:
    calls = tuple(
        Call(
            pbx="big",
            id=f"SIP/trunk-{i:08x}",
            channel=f"SIP/trunk-{i:08x}",
            caller=f"05{i % CALLERS:08d}",
            callee=str(1000 + i % EXTENSIONS),
            extension=str(1000 + i % EXTENSIONS),
            state=CallState.UP,
            duration=round_no,
        )
        for i in range(CALLS)
    )
    extensions = tuple(
        Extension(pbx="big", id=str(n), number=str(n), name=f"Agent {n}")
        for n in range(1000, 1000 + EXTENSIONS)
    )
    return PbxState(
        name="big",
        kind="pbxcloud",
        capabilities=Capabilities(resources=frozenset(Resource), actions=frozenset()),
        health=PbxHealth(pbx="big", kind="pbxcloud"),
        resources={
            Resource.CALLS: ResourceState(calls, fetched_at=NOW),
            Resource.EXTENSIONS: ResourceState(extensions, fetched_at=NOW),
        },
    )


async def main() -> None:
    crm = SimulatedCrm(seed=1)
    async with serve({"crm": crm.app}) as ports:
        config = LookupConfig(url=crm.url(ports["crm"]), concurrency=4, timeout=2.0)
        async with LookupClient(config) as client, anyio.create_task_group() as group:
            names = CallerNames(lookup=client, concurrency=config.concurrency)
            group.start_soon(names.run)
            await anyio.lowlevel.checkpoint()
            first = state(0)
            started = time.perf_counter()
            names.name_state(first)
            await names.settled()
            asked = time.perf_counter() - started
            print(
                f"lookup: {CALLERS} numbers on {CALLS} calls → {names.requests} requests, "
                f"all answered in {asked:.2f} s at concurrency {config.concurrency}"
            )
            polls = [state(r + 1) for r in range(ROUNDS)]
            took = []
            for polled in polls:
                started = time.perf_counter()
                named = names.name_state(polled)
                took.append(time.perf_counter() - started)
            again = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                names.name_state(polls[-1])
                again.append(time.perf_counter() - started)
            shown = sum(1 for c in named.calls() if c.caller_name)
            print(
                f"name_state, a new calls poll of {CALLS} calls: median "
                f"{statistics.median(took) * 1000:.1f} ms ({shown} callers named)"
            )
            print(
                f"name_state, the same calls again (memo): median "
                f"{statistics.median(again) * 1e6:.0f} µs"
            )
            print(f"requests after {ROUNDS} more polls: {names.requests}")
            group.cancel_scope.cancel()


if __name__ == "__main__":
    anyio.run(main)
