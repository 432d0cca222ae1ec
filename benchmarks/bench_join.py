"""What the engine's joins cost per published state, at 10,000 calls.

Run by hand: ``.venv/bin/python benchmarks/bench_join.py``. Prints figures; asserts nothing.
Three cases: a calls poll (the joins that read the calls run again), a poll of a resource no
join reads (every join is skipped), and the pure ``join`` from scratch.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from pbxtui.engine.joins import Joiner, join
from pbxtui.model import (
    Action,
    Agent,
    AgentState,
    BlfLamp,
    Call,
    CallState,
    Capabilities,
    Extension,
    PbxHealth,
    PbxState,
    Peer,
    Queue,
    Record,
    Resource,
    ResourceState,
)

CALLS = 10_000
EXTENSIONS = 2_000
QUEUES = 20
ROUNDS = 30
NOW = datetime.now(UTC)
NUMBERS = [str(1000 + i) for i in range(EXTENSIONS)]


def fetched(records: list[Record]) -> ResourceState:
    return ResourceState(tuple(records), fetched_at=NOW)


def calls() -> ResourceState:
    states = (CallState.UP, CallState.RINGING, CallState.QUEUED)
    return fetched(
        [
            Call(
                pbx="big",
                id=f"SIP/trunk-{i:08x}",
                channel=f"SIP/trunk-{i:08x}",
                caller=f"05{i:08d}",
                callee=NUMBERS[i % EXTENSIONS],
                extension=NUMBERS[i % EXTENSIONS],
                state=states[i % 3],
            )
            for i in range(CALLS)
        ]
    )


def peers() -> ResourceState:
    return fetched([Peer(pbx="big", id="trunk", name="trunk")])


def agent(index: int, number: str) -> Agent:
    queue = str(index % QUEUES)
    return Agent(pbx="big", id=number, extension=number, queue_id=queue, state=AgentState.BUSY)


STILL = {
    Resource.EXTENSIONS: fetched(
        [Extension(pbx="big", id=n, number=n, name=f"Name {n}") for n in NUMBERS]
    ),
    Resource.BLF: fetched([BlfLamp(pbx="big", id=n, label=n, extension=n) for n in NUMBERS]),
    Resource.QUEUES: fetched([Queue(pbx="big", id=str(q)) for q in range(QUEUES)]),
    Resource.AGENTS: fetched([agent(i, n) for i, n in enumerate(NUMBERS)]),
}


def state(calls: ResourceState, peers: ResourceState) -> PbxState:
    return PbxState(
        name="big",
        kind="bench",
        capabilities=Capabilities(frozenset(Resource), frozenset({Action.PAUSE})),
        health=PbxHealth(pbx="big", kind="bench"),
        resources={**STILL, Resource.CALLS: calls, Resource.PEERS: peers},
    )


def median_ms(states: Iterator[PbxState], joined: Callable[[PbxState], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        current = next(states)
        started = time.perf_counter()
        joined(current)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    joiner = Joiner()
    latest_calls = calls()
    joiner.join(state(latest_calls, peers()))
    calls_polls = [state(calls(), peers()) for _ in range(ROUNDS)]
    after_calls = median_ms(iter(calls_polls), joiner.join)
    latest_calls = calls_polls[-1].resource(Resource.CALLS)
    peers_polls = [state(latest_calls, peers()) for _ in range(ROUNDS)]
    after_peers = median_ms(iter(peers_polls), joiner.join)
    from_scratch = median_ms(iter(peers_polls), join)
    print(f"{CALLS} calls, {EXTENSIONS} extensions, lamps and agents, {QUEUES} queues:")
    print(f"  after a calls poll (extension and lamp joins run)  {after_calls:7.1f} ms")
    print(f"  after a peers poll (every join skipped)            {after_peers:7.1f} ms")
    print(f"  pure join from scratch (every join runs)           {from_scratch:7.1f} ms")


if __name__ == "__main__":
    main()
