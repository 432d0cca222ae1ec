"""The webhook emitter every simulator uses: it queues without waiting, sends over real HTTP
as the quirks say, counts what fails, and is switched at run time through /_sim/hooks."""

from __future__ import annotations

import httpx
import pytest
from starlette.responses import Response

from pbxtui.sim import SimulatedPbx, dialup
from pbxtui.sim.dialup_hooks import GlobalExFeed
from pbxtui.sim.hooks import CONTROL_PATH, HookEmitter
from pbxtui.sim.scenario import Scenario, ScenarioSpec
from tests.sim.conftest import Recorder, advance, free_port, receiving, wait_until

SPEC = ScenarioSpec(seed=33, extensions=12, first_extension=101, calls_per_minute=10.0)
TOKEN = "hook-token-31337"


def branch() -> SimulatedPbx:
    return dialup.build("branch", spec=SPEC, password="sim-pass-4242")


def status_url(sim: SimulatedPbx, port: int) -> str:
    return sim.url(port) + "?user=webuser&pass=sim-pass-4242&org=demo-org&exten=101&Response=yes"


async def test_a_hanging_receiver_never_delays_the_simulators_own_api() -> None:
    recorder = Recorder(hang=True)
    sim = branch()
    assert sim.hooks is not None
    async with receiving(recorder, sim) as ports:
        sim.hooks.configure({"timeout": 3600})
        advance(sim, 300)
        await recorder.wait_for(lambda seen: len(seen) >= 1)  # the first is held for ever
        advance(sim, 300)  # more queue up behind it
        async with httpx.AsyncClient() as client:
            answer = await client.get(status_url(sim, ports["branch"]), timeout=10)
        assert answer.status_code == 200 and "Status" in answer.text
        assert sim.hooks.queued > 0
        assert sim.hooks.stats.sent == 0 and len(recorder.seen) == 1


def test_a_full_queue_drops_and_counts_without_waiting() -> None:
    scenario = Scenario(SPEC)
    feed = GlobalExFeed(scenario, org="o", did="031234567")
    emitter = HookEmitter(scenario, feed, url="http://127.0.0.1:9/hook/x", queue_size=3)
    advance_scenario = scenario.now + 900
    scenario.advance(advance_scenario)  # nobody sends: the queue fills
    assert emitter.queued == 3
    assert emitter.stats.dropped > 0


def test_an_emitter_without_a_url_queues_nothing() -> None:
    scenario = Scenario(SPEC)
    emitter = HookEmitter(scenario, GlobalExFeed(scenario, org="o", did="031234567"))
    scenario.advance(scenario.now + 900)
    assert emitter.queued == 0 and emitter.stats.dropped == 0
    assert scenario.observers == []  # off, it costs a big scenario nothing
    emitter.configure({"url": "http://127.0.0.1:9/hook/x"})
    assert len(scenario.observers) == 1
    emitter.configure({"clear": True})
    assert scenario.observers == []


async def test_unreachable_receiver_is_counted_and_sending_goes_on() -> None:
    recorder = Recorder()
    sim = branch()
    assert sim.hooks is not None
    async with receiving(recorder, sim) as ports:
        good = sim.hooks.url
        sim.hooks.configure({"url": f"http://127.0.0.1:{free_port()}/hook/branch"})
        advance(sim, 300)
        await wait_until(lambda: sim.hooks is not None and sim.hooks.stats.failed >= 3)
        assert "ConnectError" in sim.hooks.stats.last_error
        assert ports  # the simulator is still serving
        sim.hooks.configure({"url": good})
        advance(sim, 300)
        await wait_until(lambda: sim.hooks is not None and sim.hooks.stats.sent >= 1)
        assert recorder.seen


async def test_refusals_are_counted_with_their_status() -> None:
    recorder = Recorder(answer=lambda request: Response("no", 401))
    sim = branch()
    assert sim.hooks is not None
    async with receiving(recorder, sim):
        advance(sim, 300)
        await wait_until(lambda: sim.hooks is not None and sim.hooks.stats.failed >= 2)
    assert sim.hooks.stats.sent == 0
    assert sim.hooks.stats.statuses["401"] >= 2
    assert sim.hooks.stats.last_error.endswith("HTTP 401")


@pytest.mark.parametrize("token_in", ["query", "bearer"])
async def test_the_token_goes_where_the_quirk_says(token_in: str) -> None:
    recorder = Recorder()
    sim = branch()
    assert sim.hooks is not None
    async with receiving(recorder, sim, token=TOKEN):
        sim.hooks.configure({"quirks": {"token_in": token_in}})
        advance(sim, 300)
        seen = await recorder.wait_for(lambda seen: len(seen) >= 5)
    for request in seen:
        if token_in == "query":
            assert request.params["token"] == TOKEN
            assert "authorization" not in request.headers
        else:
            assert "token" not in request.params
            assert request.headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("encoding", "method", "content_type"),
    [
        ("query", "GET", ""),
        ("form", "POST", "application/x-www-form-urlencoded"),
        ("json", "POST", "application/json"),
    ],
)
async def test_each_encoding_carries_the_same_parameters(
    encoding: str, method: str, content_type: str
) -> None:
    recorder = Recorder()
    sim = branch()
    assert sim.hooks is not None
    async with receiving(recorder, sim, token=TOKEN):
        sim.hooks.configure({"quirks": {"encoding": encoding}})
        advance(sim, 600)
        seen = await recorder.wait_for(lambda seen: len(seen) >= 5)
    for request in seen:
        assert request.method == method
        assert request.headers.get("content-type", "") == content_type
        assert request.params["token"] == TOKEN  # in the query, whatever the body
        if encoding != "query":
            assert request.query == f"token={TOKEN}"
        expected = {"incoming": "callid", "end_call": "ivruniqueid"}[request.route]
        assert expected in request.params


async def test_the_control_endpoint_switches_hooks_and_never_shows_the_token() -> None:
    recorder = Recorder()
    sim = branch()
    assert sim.hooks is not None
    async with receiving(recorder, sim) as ports, httpx.AsyncClient() as client:
        control = f"http://127.0.0.1:{ports['branch']}{CONTROL_PATH}"
        target = f"http://127.0.0.1:{ports['recorder']}/hook/elsewhere"
        answer = await client.post(
            control, json={"url": target, "token": TOKEN, "quirks": {"encoding": "form"}}
        )
        assert answer.status_code == 200, answer.text
        assert TOKEN not in answer.text
        state = answer.json()
        assert state["url"] == target and state["token_set"] is True
        assert state["quirks"]["encoding"] == "form"
        advance(sim, 300)
        seen = await recorder.wait_for(lambda seen: len(seen) >= 1)
        assert seen[0].path.startswith("/hook/elsewhere/") and seen[0].method == "POST"
        assert TOKEN not in (await client.get(control)).text

        wrong = await client.post(control, json={"quirks": {"encodnig": "form"}})
        assert wrong.status_code == 400 and "encoding" in wrong.text
        wrong = await client.post(control, json={"quirks": {"encoding": "xml"}})
        assert wrong.status_code == 400 and "'json'" in wrong.text
        wrong = await client.post(control, json={"ulr": target})
        assert wrong.status_code == 400

        cleared = (await client.post(control, json={"clear": True})).json()
        assert cleared["url"] == "" and cleared["token_set"] is False
        assert cleared["quirks"]["encoding"] == "query"
        before = len(recorder.seen)
        advance(sim, 300)
        assert sim.hooks.queued == 0 and len(recorder.seen) == before


async def test_the_control_endpoint_is_not_the_vendor_api() -> None:
    """Control requests are not API requests: the fault counter does not see them."""
    sim = branch()
    recorder = Recorder()
    async with receiving(recorder, sim) as ports, httpx.AsyncClient() as client:
        for _ in range(3):
            await client.get(f"http://127.0.0.1:{ports['branch']}{CONTROL_PATH}")
        assert sim.faults.requests == 0
