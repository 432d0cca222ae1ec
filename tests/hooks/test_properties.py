"""Whatever a sender sends, on any route: a delivered event or a counted refusal, never a
server error, and never the token in what is kept."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pbxtui.hooks import HookServer, HookStats, serve_hooks
from pbxtui.hooks.vendors import ROUTES
from pbxtui.model.push import PushEvent
from tests.hooks.conftest import TOKEN, WAIT, FrozenClock, hook_config

# The same examples on every run, as the project's other property tests.
FUZZ = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NAMES = [
    *("callid", "ext", "caller", "target", "taqrget", "ivruniqueid", "ivruniqeid", "type"),
    *("status", "duration", "dialtime", "callerextention", "queuid", "record", "chan"),
    *("called", "callstatus", "callstatusANSER", "callduration", "telephone", "dnid"),
    *("event", "uniqueid", "remote_number", "agent", "queue_hold_time", "fail_reason"),
    "token",
]
WORDS = [
    *("ANSWER", "NO ANSWER", "ANSER", "BUSY", "Incoming", "Outgoing", "IN", "OUT", "00:01:05"),
    *("queue_answer", "missed_calls", "outgoing_end", "dial_answer", "{callid}", "-1", "1e999"),
    TOKEN,
]
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
value = st.one_of(st.sampled_from(WORDS), text, st.integers(-(10**30), 10**30).map(str))
params = st.dictionaries(st.one_of(st.sampled_from(NAMES), text), value, max_size=8)
json_value: st.SearchStrategy[Any] = st.recursive(
    st.one_of(value, st.integers(), st.floats(), st.booleans(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=8,
)
json_body = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(NAMES), text), json_value, max_size=8), json_value
)
OK_OR_REFUSED = {200, 400, 401, 404, 413, 415, 422}
SENDERS = {"branch": "dialup", "ist": "iexpbx", "cc": "while1", "hq": "pbxcloud"}
RIGHT_PAIRS = [
    (pbx, r) for pbx, kind in SENDERS.items() for r, route in ROUTES.items() if route.kind == kind
]
# Mostly a PBX on one of its own routes with the right token, so the readers are what is
# searched; the rest anything at all.
targets = st.one_of(
    st.sampled_from(RIGHT_PAIRS),
    st.sampled_from(RIGHT_PAIRS),
    st.tuples(
        st.one_of(st.sampled_from(sorted(SENDERS)), text),
        st.one_of(st.sampled_from(sorted(ROUTES)), text),
    ),
)


@dataclass
class Running:
    server: HookServer
    events: list[PushEvent]


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    """One receiver for every example, on its own loop in a thread (hypothesis drives a
    synchronous client)."""
    events: list[PushEvent] = []
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def sink(event: PushEvent) -> None:
        events.append(event)

    async def serve() -> None:
        stop = asyncio.Event()
        holder["stop"], holder["loop"] = stop, asyncio.get_running_loop()
        config = hook_config("max_body = 2048")
        async with serve_hooks(config, sink, clock=FrozenClock()) as server:
            holder["server"] = server
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(WAIT)
    yield Running(holder["server"], events)
    holder["loop"].call_soon_threadsafe(holder["stop"].set)
    thread.join(WAIT)


@pytest.fixture(scope="module")
def client(running: Running) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running.server.url, timeout=WAIT) as client:
        yield client


def counts(stats: HookStats) -> tuple[int, int]:
    every = stats.all().values()
    return sum(s.accepted + s.duplicates + s.dropped for s in every), sum(s.refused for s in every)


@FUZZ
@given(
    target=targets,
    via=st.sampled_from(["get", "form", "json", "raw"]),
    sent=params,
    body=st.one_of(json_body, st.binary(max_size=300)),
    right_token=st.sampled_from([True, True, True, False]),
)
def test_any_request_is_an_event_or_a_counted_refusal(
    running: Running,
    client: httpx.Client,
    target: tuple[str, str],
    via: str,
    sent: dict[str, str],
    body: Any,
    right_token: bool,
) -> None:
    pbx, route = target
    query = {"token": TOKEN if right_token else "nope"}
    path = f"/hook/{quote(pbx, safe='')}/{quote(route, safe='')}"
    before = counts(running.server.stats)
    if via == "get":
        response = client.get(path, params={**sent, **query})
    elif via == "form":
        response = client.post(path, params=query, data=sent)
    elif via == "json":
        # As a sender's own encoder writes it: Python's writes NaN and Infinity as such
        document = json.dumps(body if not isinstance(body, bytes) else sent)
        response = client.post(
            path, params=query, content=document, headers={"Content-Type": "application/json"}
        )
    else:
        response = client.post(path, params=query, content=body if isinstance(body, bytes) else b"")
    event(f"HTTP {response.status_code}")
    assert response.status_code in OK_OR_REFUSED, response.text
    accepted, refused = counts(running.server.stats)
    if response.status_code == 200:
        assert refused == before[1]
        if route != "caller_data":
            assert accepted == before[0] + 1  # delivered, or a retry of one that was
    else:
        assert (accepted, refused) == (before[0], before[1] + 1)
    if route == "caller_data" and response.status_code == 200:
        assert len(response.json()) == 9
    for delivered in list(running.events):
        assert TOKEN not in delivered.model_dump_json()
