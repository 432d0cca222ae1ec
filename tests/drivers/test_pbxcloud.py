"""The PBX Cloud (MiRTA proxyapi.php) driver against its simulator, over real loopback HTTP."""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from pbxtui.config import parse_config
from pbxtui.drivers import create_driver
from pbxtui.drivers.base import (
    AuthRefused,
    BadAnswer,
    Driver,
    DriverError,
    NotSupported,
    PbxTimeout,
)
from pbxtui.drivers.pbxcloud import PbxCloudDriver
from pbxtui.model import (
    STEADY_SECONDS,
    Action,
    AgentState,
    Call,
    CallState,
    Click2Call,
    Direction,
    IvrCall,
    LampKind,
    LineState,
    Resource,
)
from pbxtui.redact import secrets
from pbxtui.sim import SimulatedPbx
from pbxtui.sim.faults import Faults
from pbxtui.sim.pbxcloud import PATH, Quirks, build
from pbxtui.sim.scenario import CallPhase, LegState, Scenario, ScenarioSpec, SimCall
from pbxtui.sim.server import serve
from tests.conftest import toml_config

pytestmark = pytest.mark.asyncio(loop_scope="module")

CANARY = "canary-K3y-7f3a9c-never-shown"
CALLER = "0501234567"


class Switchboard:
    """One loopback server and one client for the whole module; each test plugs its own
    simulator in. The same real HTTP path as ``tests.conftest.driver_for``, without paying
    for a server start and stop and a new TLS-ready client in every test.
    """

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.app: ASGIApp | None = None
        self.port = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "no simulator plugged in"
        await self.app(scope, receive, send)

    @asynccontextmanager
    async def driver(self, sim: SimulatedPbx, **overrides: Any) -> AsyncIterator[Driver]:
        self.app = sim.app
        entry = sim.config_entry(self.port, **overrides)
        config = parse_config(toml_config([entry]), source="<test>")
        yield create_driver(config.pbx[0], self.client)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def board() -> AsyncIterator[Switchboard]:
    async with httpx.AsyncClient() as client:
        switchboard = Switchboard(client)
        async with serve({"board": switchboard}) as ports:
            switchboard.port = ports["board"]
            yield switchboard


def quiet(**options: Any) -> ScenarioSpec:
    """A PBX where nothing happens by itself: tests place the calls they look at."""
    return ScenarioSpec(live=False, warmup_seconds=0, stuck_call_seconds=None, **options)


def make_sim(
    quirks: Quirks | None = None, faults: Faults | None = None, **options: Any
) -> SimulatedPbx:
    sim = build("hq", spec=quiet(), quirks=quirks, faults=faults, key=CANARY, **options)
    frozen = sim.scenario.now
    sim.scenario.clock = lambda: frozen  # nothing moves on by itself while a test looks
    for ext in sim.scenario.extensions.values():
        ext.registered = True
    return sim


# Deterministic calls, placed with the scenario's own call mechanics (its timers pushed to
# infinity as well, in case a test lets the clock run).
def _still(call: SimCall, age: int) -> SimCall:
    call.ends_at = call.ring_until = call.patience_until = math.inf
    call.started -= age
    call.legs[0].created -= age
    return call


def inbound(s: Scenario, ext: str, *, answered: bool = True, age: int = 0) -> SimCall:
    call = s._new_call(caller=CALLER, callee=ext, direction="inbound", extension=ext)
    s._ring(call, ext)
    if answered:
        s._answer(call)
    return _still(call, age)


def outbound(s: Scenario, ext: str, number: str = "0309876543") -> SimCall:
    call = s._new_call(caller=ext, callee=number, direction="outbound", extension=ext)
    call.legs[0].state = LegState.UP
    call.legs.append(s._leg(number, internal=False, state=LegState.RINGING))
    call.phase = CallPhase.DIALING
    return _still(call, 0)


def internal(s: Scenario, a: str, b: str) -> SimCall:
    call = s._new_call(caller=a, callee=b, direction="internal", extension=b)
    call.legs[0].state = LegState.UP
    s._ring(call, b)
    return _still(call, 0)


def queued(s: Scenario, queue_id: str, age: int = 0) -> SimCall:
    call = s._new_call(caller=CALLER, callee=queue_id, direction="inbound")
    call.phase, call.queue = CallPhase.QUEUED, queue_id
    return _still(call, age)


def only(calls: list[Call]) -> Call:
    assert len(calls) == 1, calls
    return calls[0]


# -- calls ------------------------------------------------------------------------------------
CHANNEL_VARIANTS = [
    Quirks(),
    Quirks(channels_linkedid=False),
    Quirks(channels_linkedid=False, channels_bridge="bridgeid", channels_shape="object"),
    Quirks(channels_style="ami"),
    Quirks(channels_style="ami", channels_linkedid=False, channels_shape="object"),
]


@pytest.mark.parametrize("quirks", CHANNEL_VARIANTS, ids=lambda q: repr(q)[7:60])
async def test_answered_call_legs_pair_into_one_call(quirks: Quirks, board: Switchboard) -> None:
    sim = make_sim(quirks)
    placed = inbound(sim.scenario, "205", age=95)
    async with board.driver(sim) as driver:
        call = only(await driver.fetch_calls())
    trunk, phone = placed.legs
    assert (call.pbx, call.id, call.channel) == ("hq", trunk.channel, trunk.channel)
    assert (call.bridged_channel, call.bridged_unique_id) == (phone.channel, phone.unique_id)
    assert call.unique_id == trunk.unique_id
    assert (call.caller, call.callee, call.extension) == (CALLER, "205", "205")
    assert call.state is CallState.UP and call.state_raw == "Up"
    assert call.direction is Direction.INBOUND
    assert 95 <= call.duration <= 100  # the longest leg: the trunk's
    assert call.application == "Dial"


async def test_call_kinds_are_told_apart(board: Switchboard) -> None:
    sim = make_sim()
    s = sim.scenario
    out = outbound(s, "211", "0309876543")
    inner = internal(s, "212", "213")
    waiting = queued(s, "630", age=12)
    ringing = inbound(s, "214", answered=False)
    async with board.driver(sim) as driver:
        calls = {c.id: c for c in await driver.fetch_calls()}
    assert len(calls) == 4

    dialing = calls[out.legs[0].channel]
    assert dialing.state is CallState.DIALING and dialing.direction is Direction.OUTBOUND
    assert (dialing.caller, dialing.callee, dialing.extension) == ("211", "0309876543", "211")

    local = calls[inner.legs[0].channel]
    assert local.state is CallState.RINGING and local.direction is Direction.INTERNAL
    assert (local.caller, local.callee, local.extension) == ("212", "213", "213")
    assert local.caller_name == s.extensions["212"].name

    in_queue = calls[waiting.legs[0].channel]
    assert in_queue.queue == "630" and in_queue.state is CallState.QUEUED
    assert in_queue.direction is Direction.INBOUND and in_queue.duration >= 12

    rung = calls[ringing.legs[0].channel]
    assert rung.state is CallState.RINGING and rung.extension == "214"
    assert rung.bridged_channel == ringing.legs[1].channel


@pytest.mark.parametrize("answers", [True, False], ids=["queue-answers", "ringback"])
async def test_a_queued_caller_is_queued_until_an_agent_rings(
    answers: bool, board: Switchboard
) -> None:
    # Asterisk's Queue() answers the caller before its music on hold (Up); with its `r`
    # option the caller hears ringback instead and the channel stays Ring.
    sim = make_sim(Quirks(queue_answers=answers))
    s = sim.scenario
    placed = queued(s, "630", age=20)
    async with board.driver(sim) as driver:
        waiting = only(await driver.fetch_calls())
        s._ring(placed, "202")
        placed.ring_until = math.inf
        rung = only(await driver.fetch_calls())
        s._answer(placed)
        placed.ends_at = math.inf
        talking = only(await driver.fetch_calls())
    word = "Up" if answers else "Ring"
    assert (waiting.state, waiting.state_raw, waiting.queue) == (CallState.QUEUED, word, "630")
    assert waiting.application == "Queue" and waiting.extension == ""
    assert (rung.state, rung.state_raw, rung.extension) == (
        CallState.RINGING,
        f"{word}/Ringing",
        "202",
    )
    assert (talking.state, talking.state_raw) == (CallState.UP, "Up")


async def test_an_extension_calling_a_queue_is_queued_on_that_extension(
    board: Switchboard,
) -> None:
    sim = make_sim()
    s = sim.scenario
    placed = _still(s._new_call(caller="209", callee="631", direction="internal"), 0)
    placed.phase, placed.queue = CallPhase.QUEUED, "631"
    async with board.driver(sim) as driver:
        call = only(await driver.fetch_calls())
    assert (call.state, call.queue, call.extension, call.caller) == (
        CallState.QUEUED,
        "631",
        "209",
        "209",
    )


async def test_unbridged_legs_without_linkedid_stay_separate_calls(board: Switchboard) -> None:
    # Without LinkedID, legs can only be paired once Asterisk has bridged them.
    sim = make_sim(Quirks(channels_linkedid=False))
    placed = inbound(sim.scenario, "206", answered=False)
    async with board.driver(sim) as driver:
        calls = {c.id: c for c in await driver.fetch_calls()}
    assert set(calls) == {leg.channel for leg in placed.legs}
    assert {c.state for c in calls.values()} == {CallState.RINGING}
    assert calls[placed.legs[1].channel].extension == "206"


async def test_no_calls_is_an_empty_list(board: Switchboard) -> None:
    async with board.driver(make_sim(Quirks(channels_empty="emptylist"))) as driver:
        assert await driver.fetch_calls() == []


@pytest.mark.parametrize(
    ("empty", "shown"), [("zero", "an empty body"), ("bracket", '"]"'), ("null", '"null"')]
)
async def test_an_empty_looking_channel_list_is_no_answer(
    empty: str, shown: str, board: Switchboard
) -> None:
    # The API's other empty forms belong to other requests (vendor-notes §1.3): a PBX that
    # answers CHANNELS with one of them is broken, not idle, and must not show "ok, 0 calls".
    sim = make_sim(Quirks(channels_empty=empty))  # type: ignore[arg-type]
    async with board.driver(sim) as driver:
        with pytest.raises(BadAnswer, match=f"answered {re.escape(shown)} instead of the channel"):
            await driver.fetch_calls()


async def test_nodename_is_sent_with_channels(board: Switchboard) -> None:
    sim = make_sim(Quirks(channels_latency_without_nodename=5.0))
    inbound(sim.scenario, "207")
    async with board.driver(sim, timeout=0.5) as driver:
        assert len(await driver.fetch_calls()) == 1  # fast: the nodename was given
    async with board.driver(sim, nodename="pbx99") as driver:
        assert await driver.fetch_calls() == []  # another node's channels


# -- extensions, peers, BLF ---------------------------------------------------------------------
@pytest.mark.parametrize("shape", ["array", "object"])
async def test_extensions_merge_state_and_registration(shape: str, board: Switchboard) -> None:
    sim = make_sim(Quirks(extensions_shape=shape))  # type: ignore[arg-type]
    s = sim.scenario
    s.extensions["203"].registered = False
    inbound(s, "205")
    async with board.driver(sim) as driver:
        extensions = {e.number: e for e in await driver.fetch_extensions()}
    assert list(extensions) == list(s.extensions)
    busy, gone, idle = extensions["205"], extensions["203"], extensions["204"]
    assert (busy.id, busy.name) == ("205", s.extensions["205"].name)
    assert (busy.state, busy.state_raw) == (LineState.BUSY, "INUSE")
    assert (gone.state, gone.registered, gone.latency_ms) == (LineState.UNAVAILABLE, False, None)
    assert (idle.state, idle.registered) == (LineState.IDLE, True)
    assert idle.latency_ms == s.extensions["204"].latency_ms


async def test_extension_passwords_never_reach_a_model(board: Switchboard) -> None:
    sim = make_sim(Quirks(extensions_shape="object"))
    inbound(sim.scenario, "205")
    hidden = [*sim.extra["passwords"].values(), *sim.extra["web_passwords"].values()]
    async with board.driver(sim) as driver:
        records = [
            record for resource in sorted(Resource) for record in await driver.fetch(resource)
        ]
    dumped = "\n".join(repr(r.model_dump()) for r in records)
    assert records and not any(secret in dumped for secret in hidden)
    assert "password" not in dumped


@pytest.mark.parametrize("shape", ["array", "object"])
async def test_peers_registration_and_latency(shape: str, board: Switchboard) -> None:
    sim = make_sim(Quirks(peers_shape=shape))  # type: ignore[arg-type]
    exts = sim.scenario.extensions
    exts["201"].latency_ms = 23
    exts["202"].latency_ms = 345
    exts["203"].registered = False  # odd: never registered, UNKNOWN
    exts["204"].registered = False  # even: UNREACHABLE
    async with board.driver(sim) as driver:
        peers = {p.id: p for p in await driver.fetch_peers()}
    assert len(peers) == len(exts) + 1  # and the trunk
    ok, lagged = peers["201-ACME"], peers["202-ACME"]
    assert (ok.status_raw, ok.registered, ok.latency_ms) == ("OK (23 ms)", True, 23)
    assert ok.host == exts["201"].host and ok.description == exts["201"].name
    assert (lagged.status_raw, lagged.registered, lagged.latency_ms) == (
        "LAGGED (345 ms)",
        True,
        345,
    )
    assert (peers["203-ACME"].registered, peers["203-ACME"].host) == (False, "")
    assert (peers["204-ACME"].status_raw, peers["204-ACME"].registered) == ("UNREACHABLE", False)
    assert peers["trunk-ACME"].registered is True


@pytest.mark.parametrize("duplicates", [True, False])
async def test_blf_lamps_for_peers_and_flows(duplicates: bool, board: Switchboard) -> None:
    sim = make_sim(Quirks(duplicate_positional_keys=duplicates))
    s = sim.scenario
    inbound(s, "205")
    inbound(s, "206", answered=False)
    s.extensions["207"].registered = False
    s.flows["*51"].state, s.flows["*51"].changed = "INUSE", s.now - 30
    async with board.driver(sim) as driver:
        lamps = {lamp.id: lamp for lamp in await driver.fetch_blf()}
    assert len(lamps) == len(s.extensions) + len(s.flows)
    assert not any(re.fullmatch(r"\d+", lamp.id) for lamp in lamps.values())
    assert (lamps["205-ACME"].state, lamps["205-ACME"].state_raw) == (LineState.BUSY, "INUSE")
    assert lamps["206-ACME"].state is LineState.RINGING
    assert lamps["207-ACME"].state is LineState.UNAVAILABLE
    assert lamps["208-ACME"].state is LineState.IDLE
    peer, flow = lamps["205-ACME"], lamps["*51"]
    assert (peer.kind, peer.label, peer.extension) == (LampKind.EXTENSION, "205", "205")
    assert (flow.kind, flow.label, flow.extension) == (LampKind.FLOW, "*51", "")
    assert flow.state is LineState.BUSY and flow.since is not None
    assert abs(flow.since.timestamp() - (s.now - 30)) < 1.5


# Asterisk's device states (BLFS peers and flows, INFO extensions st_state): every one is
# normalized, and the word itself is kept.
DEVICE_WORDS = {
    "NOT_INUSE": LineState.IDLE,
    "INUSE": LineState.BUSY,
    "BUSY": LineState.BUSY,
    "ONHOLD": LineState.BUSY,
    "RINGINUSE": LineState.BUSY,
    "RINGING": LineState.RINGING,
    "UNAVAILABLE": LineState.UNAVAILABLE,
    "INVALID": LineState.UNAVAILABLE,
    "UNKNOWN": LineState.UNKNOWN,
}


async def test_every_device_state_word_is_normalized_and_kept(board: Switchboard) -> None:
    sim = make_sim()
    flow = sim.scenario.flows["*51"]
    got = {}
    async with board.driver(sim) as driver:
        for word in DEVICE_WORDS:
            flow.state = word
            lamp = next(lamp for lamp in await driver.fetch_blf() if lamp.id == "*51")
            got[word] = lamp.state
            assert lamp.state_raw == word
    assert got == DEVICE_WORDS


# -- queues and agents ------------------------------------------------------------------------
async def test_queue_figures(board: Switchboard) -> None:
    sim = make_sim()
    s = sim.scenario
    queued(s, "630", age=40)
    queued(s, "630", age=10)
    s.pause("202", "630", "Lunch")
    inbound(s, "203")  # an agent of 630 on a call
    s.queues["630"].stats.answered, s.queues["630"].stats.answered_in_sla = 8, 6
    s.queues["630"].stats.abandoned = 2
    async with board.driver(sim) as driver:
        queues = {q.id: q for q in await driver.fetch_queues()}
    assert set(queues) == set(s.queues)
    sales, support = queues["630"], queues["631"]
    members = [a for a in s.agents if a.queue_id == "630"]
    assert (sales.name, sales.waiting) == ("Sales", 2)
    assert sales.longest_wait is not None and 40 <= sales.longest_wait <= 45
    assert sales.agents_paused == 1 and sales.agents_total == len(members)
    assert sales.agents_busy == 1 and sales.agents_available == len(members) - 2
    assert (sales.service_level, sales.answered, sales.abandoned) == (75.0, 8, 2)
    assert (support.name, support.waiting, support.longest_wait) == ("Support", 0, None)


async def test_agents_by_queue_and_an_empty_queue(board: Switchboard) -> None:
    sim = make_sim()
    s = sim.scenario
    s.agents = [a for a in s.agents if a.queue_id != "631"]  # 631 answers `null`
    s.pause("204", "630", "Training")
    s.extensions["205"].registered = False
    inbound(s, "206")
    async with board.driver(sim) as driver:
        agents = {a.id: a for a in await driver.fetch_agents()}
    assert set(agents) == {f"{a.extension}-ACME" for a in s.agents}
    paused, offline, busy, free = (agents[f"{n}-ACME"] for n in ("204", "205", "206", "201"))
    assert (paused.extension, paused.queue_id) == ("204", "630")
    assert (paused.state, paused.pause_reason) == (AgentState.PAUSED, "Training")
    assert paused.paused_since is not None
    assert (
        offline.state is AgentState.UNAVAILABLE and offline.state_raw == "available (UNAVAILABLE)"
    )
    assert busy.state is AgentState.BUSY
    assert (free.state, free.pause_reason, free.paused_since) == (AgentState.AVAILABLE, "", None)


# -- actions ------------------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["plain", "json", "empty"])
async def test_hangup_ends_the_call(style: str, board: Switchboard) -> None:
    sim = make_sim(Quirks(ack_style=style))  # type: ignore[arg-type]
    inbound(sim.scenario, "205")
    async with board.driver(sim) as driver:
        call = only(await driver.fetch_calls())
        result = await driver.hangup(call)
        assert await driver.fetch_calls() == []
    assert result.ok
    assert result.message == ("" if style == "empty" else "Channel Hungup")


@pytest.mark.parametrize("style", ["plain", "json"])
async def test_hangup_of_a_gone_channel_is_refused_in_the_vendors_words(
    style: str, board: Switchboard
) -> None:
    sim = make_sim(Quirks(ack_style=style))  # type: ignore[arg-type]
    inbound(sim.scenario, "205")
    async with board.driver(sim) as driver:
        call = only(await driver.fetch_calls())
        assert (await driver.hangup(call)).ok
        again = await driver.hangup(call)
    assert (again.ok, again.message) == (False, "No such channel")


async def test_blind_transfer_rings_the_destination(board: Switchboard) -> None:
    sim = make_sim()
    inbound(sim.scenario, "205")
    async with board.driver(sim) as driver:
        call = only(await driver.fetch_calls())
        result = await driver.transfer(call, "210")
        after = only(await driver.fetch_calls())
    assert (result.ok, result.message) == (True, "Redirect successful")
    assert after.id == call.id  # the caller's channel moved on
    assert (after.extension, after.callee, after.state) == ("210", "210", CallState.RINGING)


async def test_blind_transfer_of_an_outbound_call_moves_the_far_party(board: Switchboard) -> None:
    sim = make_sim()
    placed = outbound(sim.scenario, "211")
    sim.scenario._answer(placed)
    placed.ends_at = math.inf
    far = placed.legs[1].channel
    async with board.driver(sim) as driver:
        call = only(await driver.fetch_calls())
        assert call.direction is Direction.OUTBOUND
        assert (await driver.transfer(call, "212")).ok
        after = only(await driver.fetch_calls())
    assert after.id == far  # the external party, now ringing 212
    assert (after.extension, after.state) == ("212", CallState.RINGING)


async def test_attended_transfer_holds_the_caller_and_consults(board: Switchboard) -> None:
    sim = make_sim()
    placed = inbound(sim.scenario, "205")
    async with board.driver(sim) as driver:
        call = only(await driver.fetch_calls())
        result = await driver.attended_transfer(call, "210")
        after = {c.id: c for c in await driver.fetch_calls()}
    assert (result.ok, result.message) == (True, "Atxfer successfully queued")
    assert placed.transferer == "205"  # the extension's own leg was named
    held = after.pop(call.id)
    assert held.state is CallState.HELD
    consult = only(list(after.values()))
    assert (consult.caller, consult.extension) == ("205", "210")
    assert consult.state is CallState.RINGING and consult.direction is Direction.INTERNAL


@pytest.mark.parametrize("held_as", ["application", "flag"])
async def test_a_held_queue_call_keeps_its_queue(held_as: str, board: Switchboard) -> None:
    sim = make_sim(Quirks(held_as=held_as))  # type: ignore[arg-type]
    s = sim.scenario
    placed = queued(s, "631")
    s._ring(placed, "208")
    s._answer(placed)
    placed.ends_at = math.inf
    async with board.driver(sim) as driver:
        call = only(await driver.fetch_calls())
        assert (call.queue, call.extension, call.state) == ("631", "208", CallState.UP)
        assert (await driver.attended_transfer(call, "0541112233")).ok
        after = {c.id: c for c in await driver.fetch_calls()}
    held = after.pop(call.id)
    assert (held.state, held.queue) == (CallState.HELD, "631")
    consult = only(list(after.values()))
    assert (consult.caller, consult.callee, consult.queue) == ("208", "0541112233", "")
    assert consult.state is CallState.DIALING and consult.direction is Direction.OUTBOUND


async def test_pause_and_unpause_an_agent(board: Switchboard) -> None:
    sim = make_sim()
    async with board.driver(sim) as driver:
        agent = next(a for a in await driver.fetch_agents() if a.id == "203-ACME")
        paused = await driver.pause_agent(agent, "Lunch")
        seen = next(a for a in await driver.fetch_agents() if a.key == agent.key)
        unpaused = await driver.unpause_agent(agent)
        back = next(a for a in await driver.fetch_agents() if a.key == agent.key)
    assert (paused.ok, paused.message) == (True, "Interface paused")
    assert (seen.state, seen.pause_reason) == (AgentState.PAUSED, "Lunch")
    assert seen.paused_since is not None
    assert (unpaused.ok, unpaused.message) == (True, "Interface unpaused")
    assert (back.state, back.pause_reason, back.paused_since) == (AgentState.AVAILABLE, "", None)


async def test_pausing_an_unknown_agent_is_refused(board: Switchboard) -> None:
    sim = make_sim()
    async with board.driver(sim) as driver:
        agent = (await driver.fetch_agents())[0]
        ghost = agent.model_copy(update={"id": "299-ACME", "extension": "299"})
        result = await driver.pause_agent(ghost, "Break")
    assert (result.ok, result.message) == (False, "Interface not found")


async def test_click2call_rings_the_source_first(board: Switchboard) -> None:
    sim = make_sim()
    async with board.driver(sim) as driver:
        result = await driver.click2call(
            Click2Call(source="203", destination="0541112233", timeout=20)
        )
        call = only(await driver.fetch_calls())
    placed = only_sim_call(sim)
    assert (result.ok, result.message) == (True, "Originate successfully queued")
    assert result.vendor_id == placed.originate_id and re.fullmatch(
        r"[0-9a-f]{14}", result.vendor_id
    )
    assert (call.caller, call.callee, call.extension) == ("203", "0541112233", "203")
    assert call.state is CallState.RINGING and call.direction is Direction.OUTBOUND


def only_sim_call(sim: SimulatedPbx) -> SimCall:
    calls = list(sim.scenario.calls.values())
    assert len(calls) == 1
    return calls[0]


async def test_click2call_to_an_unknown_extension_is_refused(board: Switchboard) -> None:
    sim = make_sim()
    async with board.driver(sim) as driver:
        result = await driver.click2call(Click2Call(source="299", destination="0541112233"))
        assert await driver.fetch_calls() == []
    assert (result.ok, result.message) == (False, "Extension does not exist.")
    assert re.fullmatch(r"[0-9a-f]{14}", result.vendor_id)


async def test_unsupported_actions_say_so(board: Switchboard) -> None:
    sim = make_sim()
    async with board.driver(sim) as driver:
        assert driver.capabilities.resources == frozenset(Resource)
        assert driver.capabilities.actions == {
            Action.HANGUP,
            Action.TRANSFER,
            Action.ATTENDED_TRANSFER,
            Action.PAUSE,
            Action.UNPAUSE,
            Action.CLICK2CALL,
            Action.SET_FLOW,
            Action.QUEUE_RESET,
            Action.CAMPAIGN,
            Action.PEER_REBOOT,
            Action.PEER_UNREGISTER,
            Action.VOICEMAIL_DELETE,
        }
        with pytest.raises(NotSupported, match="scheduled call"):
            await driver.click2call(
                Click2Call(
                    source="203",
                    destination="0541112233",
                    scheduled_at=datetime.now(UTC) + timedelta(minutes=5),
                )
            )
        with pytest.raises(NotSupported, match="phone directory"):
            await driver.phone_directory()
        with pytest.raises(NotSupported, match="callback"):
            await driver.callback("203", "0541112233")
        with pytest.raises(NotSupported, match="IVR"):
            await driver.call_ivr(IvrCall(number="0541112233"))
    assert sim.scenario.calls == {}


# -- credentials and broken answers --------------------------------------------------------------
async def test_bad_key_is_refused_in_the_vendors_words(board: Switchboard) -> None:
    sim = make_sim()
    async with board.driver(sim, key="not-the-key") as driver:
        with pytest.raises(AuthRefused, match="mistaken the security api key"):
            await driver.fetch_peers()
        with pytest.raises(AuthRefused):
            await driver.probe()


@pytest.mark.parametrize(
    ("quirks", "words"),
    [
        (Quirks(), "mistaken the security api key"),
        (Quirks(auth_refusal="tenant"), "Wrong or missing tenant"),
        (Quirks(json_content_type_for_errors=False), "mistaken the security api key"),
    ],
)
async def test_auth_refused_fault_on_fetches_and_actions(
    quirks: Quirks, words: str, board: Switchboard
) -> None:
    sim = make_sim(quirks, Faults(auth_refused=True))
    async with board.driver(sim) as driver:
        for fetch in (driver.fetch_calls, driver.fetch_agents, driver.fetch_extensions):
            with pytest.raises(AuthRefused, match=words):
                await fetch()
        with pytest.raises(AuthRefused, match=words):
            await driver.click2call(Click2Call(source="203", destination="0541112233"))


async def test_json_served_as_html_is_read_by_its_body(board: Switchboard) -> None:
    sim = make_sim(Quirks(json_as_html=True))
    inbound(sim.scenario, "205")
    async with board.driver(sim) as driver:
        assert only(await driver.fetch_calls()).extension == "205"
        assert len(await driver.fetch_queues()) == 2


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        ("html", BadAnswer, "HTML page"),
        ("truncated", BadAnswer, "truncated JSON"),
        ("garbage", BadAnswer, "unreadable"),
        ("http_500", BadAnswer, "HTTP 500"),
    ],
)
async def test_broken_answers(
    fault: str, error: type[DriverError], words: str, board: Switchboard
) -> None:
    sim = make_sim(faults=Faults(**{fault: True}))
    inbound(sim.scenario, "205")
    async with board.driver(sim) as driver:
        for resource in sorted(Resource):
            with pytest.raises(error, match=words):
                await driver.fetch(resource)


async def test_hang_times_out(board: Switchboard) -> None:
    sim = make_sim(faults=Faults(hang=True))
    async with board.driver(sim, timeout=0.3) as driver:
        with pytest.raises(PbxTimeout, match=r"no answer within 0\.3 s"):
            await driver.fetch_calls()


async def test_the_key_never_appears_in_an_error(board: Switchboard) -> None:
    sim = make_sim()
    inbound(sim.scenario, "205")
    texts: list[str] = []
    async with board.driver(sim, timeout=0.3) as driver:
        secrets.clear()  # no scrubbing safety net: the driver itself must not leak the key
        for fault in ("html", "truncated", "garbage", "http_500", "auth_refused", "hang"):
            sim.faults.clear()
            sim.faults.update({fault: True})
            attempts = (
                [driver.fetch_calls]
                if fault == "hang"
                else [driver.fetch_calls, driver.fetch_agents]
            )
            for attempt in attempts:
                try:
                    await attempt()
                except DriverError as exc:
                    texts += [str(exc), exc.reason, repr(exc)]
    assert len(texts) == 33
    assert not any(CANARY in text for text in texts)


# -- tolerance of the shapes nobody has published, through a stand-in with fixed answers --------
class Canned:
    """A stand-in PBX answering fixed bodies by ``REQTYPE`` or ``REQTYPE:info``; records asks."""

    def __init__(self, bodies: dict[str, str | bytes | tuple[str, str]]) -> None:
        self.bodies = bodies
        self.asked: list[dict[str, str]] = []

    async def endpoint(self, request: Request) -> Response:
        query = dict(request.query_params)
        self.asked.append(query)
        name = query.get("reqtype", "").upper()
        answer = self.bodies.get(f"{name}:{query.get('info', '')}", self.bodies.get(name, ""))
        body, media = answer if isinstance(answer, tuple) else (answer, "application/json")
        return Response(body if isinstance(body, bytes) else body.encode(), media_type=media)

    def sim(self) -> SimulatedPbx:
        app = Starlette(routes=[Route(PATH, self.endpoint, methods=["GET"])])
        return SimulatedPbx(
            name="hq",
            kind="pbxcloud",
            scenario=Scenario(quiet()),
            faults=Faults(),
            app=app,
            path=PATH,
            credentials={"tenant": "ACME", "key": CANARY, "nodename": "pbx21"},
        )


async def test_channel_rows_in_odd_shapes(board: Switchboard) -> None:
    body = """{"channels": [
      {"CHANNEL": "SIP/301-ACME-00000aa1", "state": "Up", "application": "Dial",
       "calleridnum": "301", "exten": "0721234567", "duration": "0:02:03",
       "uniqueid": "srv02-1531779475.48", "LINKEDID": "srv02-1531779475.48"},
      {"CHANNEL": "SIP/trunk-ACME-00000aa2", "state": "Down", "application": "AppDial",
       "duration": "00:00:04", "uniqueid": "srv02-1531779475.49",
       "LINKEDID": "srv02-1531779475.48"},
      {"channel": "SIP/302-ACME-00000ab1", "ChannelState": "6", "Application": "Dial",
       "CallerID": "302", "Duration": 61, "BridgedTo": "SIP/303-ACME-00000ab2", "held": "1"},
      {"channel": "SIP/303-ACME-00000ab2", "ChannelState": "6", "Application": "AppDial",
       "CallerID": "302", "Duration": "60", "BridgedTo": "SIP/302-ACME-00000ab1"},
      {"Extension": "s"}
    ]}"""
    canned = Canned({"CHANNELS": (body, "text/html; charset=UTF-8")})
    async with board.driver(canned.sim()) as driver:
        calls = {c.id: c for c in await driver.fetch_calls()}
    assert canned.asked[0]["nodename"] == "pbx21" and "callback" not in canned.asked[0]
    out, held = calls["SIP/301-ACME-00000aa1"], calls["SIP/302-ACME-00000ab1"]
    assert (out.state, out.direction, out.duration) == (CallState.DIALING, Direction.OUTBOUND, 123)
    assert (out.callee, out.extension, out.state_raw) == ("0721234567", "301", "Up/Down")
    assert (held.state, held.direction, held.duration) == (CallState.HELD, Direction.INTERNAL, 61)
    assert (held.callee, held.bridged_channel) == ("303", "SIP/303-ACME-00000ab2")
    assert len(calls) == 2


async def test_a_lone_leg_names_its_bridged_channel_but_never_a_bridge_id(
    board: Switchboard,
) -> None:
    # The other leg may be on another node (CHANNELS asks for one nodename): only BridgedTo
    # names it; a BridgeID is no channel at all.
    body = """[
      {"Channel": "SIP/301-ACME-00000aa1", "State": "Up", "Application": "Dial",
       "UniqueID": "pbx21-1.1", "BridgedTo": "SIP/trunk-ACME-00000bb2"},
      {"Channel": "SIP/302-ACME-00000aa3", "State": "Up", "Application": "Dial",
       "UniqueID": "pbx21-1.3", "BridgeID": "6f1c9a4e-7d2b-4c1a-9e8f-0b5d3c2a1f00"}
    ]"""
    async with board.driver(Canned({"CHANNELS": body}).sim()) as driver:
        calls = {c.id: c for c in await driver.fetch_calls()}
    crossed, bridge_id = calls["SIP/301-ACME-00000aa1"], calls["SIP/302-ACME-00000aa3"]
    assert (crossed.bridged_channel, crossed.bridged_unique_id) == ("SIP/trunk-ACME-00000bb2", "")
    assert (bridge_id.bridged_channel, bridge_id.bridged_unique_id) == ("", "")


async def test_odd_text_inside_valid_json_is_just_data(board: Switchboard) -> None:
    # A latin-1 name (invalid UTF-8) and a name that quotes an error text are still rows.
    body = (
        b'[{"ex_number": "201", "ex_name": "Jos\xe9", "st_state": "INUSE"},'
        b' {"ex_number": "202", "ex_name": "wrong or missing tenant", "st_state": "NOT_INUSE"}]'
    )
    canned = Canned({"INFO:extensions": body, "PEERS": "[]"})
    async with board.driver(canned.sim()) as driver:
        extensions = await driver.fetch_extensions()
    assert [(e.number, e.state) for e in extensions] == [
        ("201", LineState.BUSY),
        ("202", LineState.IDLE),
    ]
    assert extensions[1].name == "wrong or missing tenant"


@pytest.mark.parametrize("body", ['{"Response": "Error"}', "[1, 2]", '"calls"', "{broken"])
async def test_channels_that_are_not_rows_are_a_bad_answer(body: str, board: Switchboard) -> None:
    async with board.driver(Canned({"CHANNELS": body}).sim()) as driver:
        with pytest.raises(BadAnswer, match="channel list"):
            await driver.fetch_calls()


async def test_plain_forms_and_empty_answers_are_tolerated(board: Switchboard) -> None:
    canned = Canned(
        {
            "INFO:queues": ("630: Sales, EU|631: Support|", "text/html; charset=UTF-8"),
            "INFO:agents": "201-ACME:paused|202-ACME:available|",
            "INFO:queue": "[]",
            "INFO:extensions": "[]",
            "PEERS": "[]",
            "BLFS": "[]",
        }
    )
    async with board.driver(canned.sim()) as driver:
        agents = await driver.fetch_agents()
        assert await driver.fetch_extensions() == []
        assert await driver.fetch_blf() == []
        assert await driver.fetch_peers() == []
    states = {(a.id, a.queue_id): a.state for a in agents}
    assert states[("201-ACME", "630")] is AgentState.PAUSED
    assert states[("202-ACME", "631")] is AgentState.AVAILABLE
    assert len(states) == 4
    assert {q.get("queue") for q in canned.asked if q.get("info") == "agents"} == {"630", "631"}


@pytest.mark.parametrize("body", ["", "]", "null", "{}", "0", "false", '""'])
@pytest.mark.parametrize(
    ("asked", "fetch", "what"),
    [
        ("CHANNELS", "fetch_calls", "the channel list"),
        ("PEERS", "fetch_peers", "the peer list"),
        ("BLFS", "fetch_blf", "the BLF list"),
        ("INFO:extensions", "fetch_extensions", "the extension list"),
        ("INFO:queues", "fetch_queues", "the queue list"),
    ],
)
async def test_an_empty_looking_listing_is_no_answer(
    body: str, asked: str, fetch: str, what: str, board: Switchboard
) -> None:
    canned = Canned({"PEERS": "[]", asked: body})
    async with board.driver(canned.sim()) as driver:
        with pytest.raises(BadAnswer, match=f"{what}|list of"):
            await getattr(driver, fetch)()


async def test_a_queue_gone_since_the_list_is_skipped_but_not_every_queue(
    board: Switchboard,
) -> None:
    figures = '{"CALLSINQUEUE": "2", "FIRSTWAITING": "40", "AGENTSONLINE": "3"}'

    class OneGone(Canned):
        async def endpoint(self, request: Request) -> Response:
            if request.query_params.get("id") == "631":
                return Response(b"null", media_type="application/json")
            return await super().endpoint(request)

    one_gone = OneGone({"INFO:queues": '{"630": "Sales", "631": "Support"}', "INFO:queue": figures})
    async with board.driver(one_gone.sim()) as driver:
        (queue,) = await driver.fetch_queues()
    assert (queue.id, queue.waiting, queue.longest_wait) == ("630", 2, 40)
    all_gone = Canned({"INFO:queues": '{"630": "Sales", "631": "Support"}', "INFO:queue": ""})
    async with board.driver(all_gone.sim()) as driver:
        with pytest.raises(BadAnswer, match="nothing for every queue"):
            await driver.fetch_queues()
        with pytest.raises(BadAnswer, match='answered "\\]" instead of the figures of queue'):
            all_gone.bodies["INFO:queue"] = "]"
            await driver.fetch_queues()
    assert len([q for q in all_gone.asked if q.get("info") == "queues"]) == 2  # list asked again


async def test_agents_of_an_empty_queue_are_none(board: Switchboard) -> None:
    canned = Canned({"INFO:queues": '{"630": "Sales"}', "INFO:agents": "null"})
    async with board.driver(canned.sim()) as driver:
        assert await driver.fetch_agents() == []


QUEUED = "Originate successfully queued"
NO_EXT = "Extension does not exist."
ID = "15c5ec7352f0d7"


@pytest.mark.parametrize(
    ("body", "ok", "message", "vendor_id"),
    [
        (f"Success|{QUEUED}|15a4cfe6429054|", True, QUEUED, "15a4cfe6429054"),
        (f'{{"Response":"Error","Message":"{NO_EXT}","ID":"{ID}"}}', False, NO_EXT, ID),
        (f'{{"Response":"Success","Message":"{QUEUED}","ID":"{ID}"}}', True, QUEUED, ID),
        ("Error|No such channel|", False, "No such channel", ""),
        ("No such channel", False, "No such channel", ""),
        ("Queued", True, "Queued", ""),
        ("", True, "", ""),
    ],
)  # fmt: skip
async def test_acknowledgements(
    body: str, ok: bool, message: str, vendor_id: str, board: Switchboard
) -> None:
    canned = Canned({"DIAL": body, "HANGUP": body})
    async with board.driver(canned.sim()) as driver:
        dialled = await driver.click2call(
            Click2Call(source="203", destination="0541112233", caller_id="035550000")
        )
        hung = await driver.hangup(Call(pbx="hq", id="SIP/203-ACME-1", channel="SIP/203-ACME-1"))
    for result in (dialled, hung):
        assert (result.ok, result.message, result.vendor_id) == (ok, message, vendor_id)
    dial = canned.asked[0]
    assert dial["account"] == "203-ACME" and dial["sourceclid"] == "035550000"
    assert (dial["source"], dial["dest"], dial["format"]) == ("203", "0541112233", "json")


async def test_actions_name_the_right_leg(board: Switchboard) -> None:
    canned = Canned({})
    inbound_call = Call(
        pbx="hq",
        id="PJSIP/trunk-ACME-0000a1",
        channel="PJSIP/trunk-ACME-0000a1",
        bridged_channel="PJSIP/205-ACME-0000a2",
        extension="205",
    )
    outbound_call = inbound_call.model_copy(
        update={"id": "PJSIP/205-ACME-0000b1", "channel": "PJSIP/205-ACME-0000b1",
                "bridged_channel": "PJSIP/trunk-ACME-0000b2"}
    )  # fmt: skip
    async with board.driver(canned.sim()) as driver:
        for call in (inbound_call, outbound_call):
            await driver.hangup(call)
            await driver.transfer(call, "210")
            await driver.attended_transfer(call, "210")
    sent = [(q["reqtype"], q["channel"]) for q in canned.asked]
    assert sent == [
        ("HANGUP", "PJSIP/trunk-ACME-0000a1"),
        ("TRANSFER", "PJSIP/trunk-ACME-0000a1"),  # the caller, away from our extension
        ("ATXTRANSFER", "PJSIP/205-ACME-0000a2"),  # Atxfer acts on the transferer
        ("HANGUP", "PJSIP/205-ACME-0000b1"),
        ("TRANSFER", "PJSIP/trunk-ACME-0000b2"),
        ("ATXTRANSFER", "PJSIP/205-ACME-0000b1"),
    ]


async def test_driver_is_registered() -> None:
    from pbxtui.drivers import driver_class

    assert driver_class("pbxcloud") is PbxCloudDriver


async def test_a_live_pbx_read_with_the_memos_of_earlier_polls_reads_as_afresh(
    board: Switchboard,
) -> None:
    # A busy live scenario moved on a second between polls: calls arrive, ring, are answered,
    # held and end. Each answer is read by the driver that read every earlier one (its memos
    # warm) and by a driver that never saw one; they must agree in every field.
    spec = ScenarioSpec(seed=11, extensions=60, calls_per_minute=300.0, warmup_seconds=120)
    sim = build("hq", spec=spec, key=CANARY)
    moment = [sim.scenario.now]
    sim.scenario.clock = lambda: moment[0]
    async with board.driver(sim) as warm, board.driver(sim) as cold_config:
        assert isinstance(warm, PbxCloudDriver) and isinstance(cold_config, PbxCloudDriver)
        seen = 0
        for _ in range(40):
            moment[0] += 1.0
            answer = await warm._send("CHANNELS", nodename="pbx21")
            at = datetime.now(UTC)
            fresh = PbxCloudDriver(cold_config.config, board.client)
            warm_calls, cold_calls = warm.read_calls(answer), fresh.read_calls(answer)
            # A call kept from an earlier poll is the same record (``Call.observed_again``):
            # the duration it implies now may differ from the answer's by STEADY_SECONDS (and
            # the one second ``at`` may be off from the moment of reading), no more; and two
            # calls that started within that second may be listed in either order.
            cold_by_id = {c.id: c for c in cold_calls}
            drift = [w.duration_now(at) - cold_by_id[w.id].duration for w in warm_calls]
            assert all(abs(d) <= STEADY_SECONDS + 1 for d in drift), drift
            steady = {"observed_at": at, "duration": 0}
            read = {c.id: c.model_copy(update=steady) for c in warm_calls}
            expected = {c.id: c.model_copy(update=steady) for c in cold_calls}
            assert read == expected
            seen += len(read)
    assert seen > 40 * 5  # the PBX was busy enough for the memos to matter
