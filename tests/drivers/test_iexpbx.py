"""The IEXPBX driver against its simulator over loopback HTTP, plus canned vendor answers.

Scenario state is set up directly on a frozen-clock scenario, and expectations are read back
from that scenario (channels, ages), never from what the driver produced. Answers the
simulator would never give (odd envelopes, a hostile XML) come from ``httpx.MockTransport``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from pbxtui.config import parse_config
from pbxtui.drivers.base import AuthRefused, BadAnswer, DriverError, NotSupported, PbxTimeout
from pbxtui.drivers.iexpbx import (
    IexPbxDriver,
    classify,
    parse_calltype,
    parse_directory,
    parse_duration,
    parse_envelope,
    parse_regstatus,
)
from pbxtui.engine import Engine
from pbxtui.model import (
    Action,
    Agent,
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
from pbxtui.sim.fleet import running_fleet
from pbxtui.sim.iexpbx import Quirks, build
from pbxtui.sim.scenario import CallPhase, LegState, Scenario, ScenarioSpec, SimCall
from tests.conftest import driver_for, served, toml_config

CANARY = "canary-Pw-7f3e9a1c"
OUTSIDE = "05321234567"
SPEC = ScenarioSpec(
    seed=7,
    extensions=8,
    first_extension=201,
    queues=(("630", "Sale"),),
    flows=(),
    live=False,
    warmup_seconds=0,
    stuck_call_seconds=None,
    unregistered_share=0.0,
)


# -- scenario set-up ----------------------------------------------------------------------------
def make_sim(quirks: Quirks | None = None, **options: Any) -> SimulatedPbx:
    sim = build("ist", spec=SPEC, quirks=quirks, **options)
    frozen = sim.scenario.now
    sim.scenario.clock = lambda: frozen  # nothing moves unless a test moves it
    return sim


def queued(s: Scenario, queue: str, age: int) -> SimCall:
    call = s._new_call(caller=OUTSIDE, callee=queue, direction="inbound")
    call.phase, call.queue, call.started = CallPhase.QUEUED, queue, s.now - age
    return call


def inbound(s: Scenario, ext: str, age: int, *, answered: bool, queue: str = "") -> SimCall:
    call = s._new_call(caller="02161112233", callee=queue or ext, direction="inbound")
    call.queue = queue
    s._ring(call, ext)
    if answered:
        s._answer(call)
    call.started = s.now - age
    return call


def outbound(s: Scenario, ext: str, number: str, age: int) -> SimCall:
    call = s._new_call(caller=ext, callee=number, direction="outbound", extension=ext)
    call.legs[0].state = LegState.UP
    call.legs.append(s._leg(number, internal=False, state=LegState.RINGING))
    call.phase, call.started = CallPhase.DIALING, s.now - age
    return call


def internal(s: Scenario, a: str, b: str, age: int) -> SimCall:
    call = s._new_call(caller=a, callee=b, direction="internal", extension=b)
    s._ring(call, b)
    s._answer(call)
    call.started = s.now - age
    return call


def busy_pbx(sim: SimulatedPbx) -> dict[str, SimCall]:
    s = sim.scenario
    return {
        "waiting": queued(s, "630", 42),
        "queue_talk": inbound(s, "202", 74, answered=True, queue="630"),
        "ringing": inbound(s, "203", 5, answered=False),
        "outbound": outbound(s, "204", "05559876543", 9),
        "internal": internal(s, "205", "206", 3725),
    }


def summary(calls: list[Call]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            c.id,
            c.channel,
            c.caller,
            c.callee,
            c.state,
            c.duration,
            c.queue,
            c.direction,
            c.extension,
        )
        for c in calls
    )


@asynccontextmanager
async def iex(sim: SimulatedPbx, **overrides: Any) -> AsyncIterator[IexPbxDriver]:
    async with driver_for(sim, **overrides) as driver:
        assert isinstance(driver, IexPbxDriver)
        driver.cache_seconds = 0  # type: ignore[misc]  # tests change state between reads
        yield driver


def canned(handler: Callable[[httpx.Request], httpx.Response]) -> IexPbxDriver:
    entry = {
        "name": "ist",
        "kind": "iexpbx",
        "url": "http://pbx.invalid/api/old/get",
        "username": "apiuser",
        "password": CANARY,
    }
    config = parse_config(toml_config([entry])).pbx[0]
    return IexPbxDriver(config, httpx.AsyncClient(transport=httpx.MockTransport(handler)))


def answering(body: Any, status: int = 200, content_type: str = "application/json") -> IexPbxDriver:
    text = body if isinstance(body, str) else json.dumps(body)
    return canned(
        lambda _: httpx.Response(status, text=text, headers={"content-type": content_type})
    )


ROW = {
    "channel": "SIP/trunk-sip-Trunk110-36a9b",
    "duration": "00:01:14",
    "calltype": "Queue(630)",
    "callinfo": "Talking",
    "src": "9053xxxxxxxxx",
    "dst": "110",
}


# -- calls --------------------------------------------------------------------------------------
async def test_calls_read_state_queue_direction_duration_and_party() -> None:
    sim = make_sim()
    made = busy_pbx(sim)
    async with iex(sim) as driver:
        calls = {call.id: call for call in await driver.fetch_calls()}
    assert len(calls) == len(made)
    expected = {
        "waiting": (CallState.QUEUED, "Waiting", 42, "630", Direction.INBOUND, ""),
        "queue_talk": (CallState.UP, "Talking", 74, "630", Direction.INBOUND, "202"),
        "ringing": (CallState.RINGING, "Ringing", 5, "", Direction.INBOUND, "203"),
        "outbound": (CallState.DIALING, "Dialing", 9, "", Direction.OUTBOUND, "204"),
        "internal": (CallState.UP, "Talking", 3725, "", Direction.INTERNAL, "205"),
    }
    for label, sim_call in made.items():
        call = calls[sim_call.legs[0].channel]
        assert call.channel == call.id == sim_call.legs[0].channel, label
        got = (call.state, call.state_raw, call.duration, call.queue, call.direction)
        assert (*got, call.extension) == expected[label], label
        assert call.pbx == "ist"
    assert calls[made["waiting"].legs[0].channel].application == "Queue(630)"
    assert calls[made["outbound"].legs[0].channel].callee == "05559876543"
    assert calls[made["internal"].legs[0].channel].caller == "205"
    assert made["queue_talk"].legs[0].channel.startswith("SIP/trunk-sip-Trunk110-")


async def test_every_envelope_and_duration_format_reads_the_same() -> None:
    sim = make_sim()
    busy_pbx(sim)
    async with iex(sim) as driver:
        baseline = summary(await driver.fetch_calls())
        for outer in (True, False):
            for style in ("hms", "ms", "seconds"):
                sim.quirks.outer_array, sim.quirks.duration_format = outer, style
                assert summary(await driver.fetch_calls()) == baseline, (outer, style)


async def test_ringing_wordings() -> None:
    sim = make_sim()
    call = inbound(sim.scenario, "203", 4, answered=False)
    async with iex(sim) as driver:
        for word in ("Ringing", "Ring", "\u00c7al\u0131yor"):
            sim.quirks.callinfo_ringing = word
            (got,) = await driver.fetch_calls()
            assert (got.id, got.state, got.state_raw) == (
                call.legs[0].channel,
                CallState.RINGING,
                word,
            )


@pytest.mark.parametrize(
    ("callinfo", "calltype", "dst", "state"),
    [
        ("Talking", "Queue(630)", "110", CallState.UP),
        ("Up", "Dial(SIP/110,30)", "110", CallState.UP),
        ("Answered", "Dial(SIP/110,30)", "110", CallState.UP),
        ("Connected", "Dial(SIP/110,30)", "110", CallState.UP),
        ("Ringing", "Dial(SIP/110,30)", "110", CallState.RINGING),
        ("Ring", "Dial(SIP/110,30)", "110", CallState.RINGING),
        ("Dialing", "Dial(SIP/trunk/0555,60)", "0555", CallState.DIALING),
        ("Dialling", "Dial(SIP/trunk/0555,60)", "0555", CallState.DIALING),
        ("Hold", "Dial(SIP/110,30)", "110", CallState.HELD),
        ("On Hold", "Dial(SIP/110,30)", "110", CallState.HELD),
        ("OnHold", "Dial(SIP/110,30)", "110", CallState.HELD),
        ("Held", "Dial(SIP/110,30)", "110", CallState.HELD),
        # In a queue: waiting until an agent is rung; "Waiting" says so whatever dst is.
        ("Waiting", "Queue(630)", "630", CallState.QUEUED),
        ("Waiting", "Queue(630)", "110", CallState.QUEUED),
        ("Ringing", "Queue(630)", "630", CallState.QUEUED),
        ("Ringing", "Queue(630)", "110", CallState.RINGING),
        # Not in a queue, "Waiting" is a call not answered yet.
        ("Waiting", "Dial(SIP/110,30)", "110", CallState.RINGING),
        ("Paging", "Dial(SIP/110,30)", "110", CallState.OTHER),
    ],
)
async def test_every_callinfo_word_is_normalized_and_kept(
    callinfo: str, calltype: str, dst: str, state: CallState
) -> None:
    row = {**ROW, "callinfo": callinfo, "calltype": calltype, "dst": dst}
    (call,) = await answering([{"success": True, "count": 1, "data": [row]}]).fetch_calls()
    assert (call.state, call.state_raw, call.application) == (state, callinfo, calltype)


@pytest.mark.parametrize(
    "body",
    [
        [{"success": True, "count": 1, "data": [ROW]}],
        {"success": True, "count": 1, "data": [ROW]},
        {"success": True, "data": [ROW]},
        {"success": True, "count": 9, "data": [ROW]},
        {"Success": "true", "count": "1", "data": {"0": ROW}},
        [ROW],
    ],
    ids=["documented", "bare", "no-count", "wrong-count", "keyed-data", "rows-only"],
)
async def test_envelope_variants(body: Any) -> None:
    (call,) = await answering(body).fetch_calls()
    assert (call.id, call.caller, call.callee, call.duration) == (
        ROW["channel"],
        ROW["src"],
        "110",
        74,
    )
    assert (call.queue, call.state, call.direction, call.extension) == (
        "630",
        CallState.UP,
        Direction.INBOUND,
        "110",
    )


@pytest.mark.parametrize(
    "body", [[{"success": True, "count": 0, "data": []}], {"success": True, "data": {}}]
)
async def test_no_calls(body: Any) -> None:
    assert await answering(body).fetch_calls() == []


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"success": True, "count": 0, "data": None}, "without data"),
        ({"success": True, "count": 0}, "without data"),
        ([{"success": None, "data": []}], "'success' as a JSON null"),
        ([], "empty JSON list"),
        ("null", "JSON null instead of"),
    ],
)
async def test_nulls_and_missing_data_are_no_answer(body: Any, match: str) -> None:
    # Documented "no calls" is an envelope whose data is an empty list; a PBX answering
    # nulls or nothing in its place is broken and must not show as "ok, 0 calls".
    for fetch in ("fetch_calls", "fetch_extensions", "fetch_queues", "probe"):
        with pytest.raises(BadAnswer, match=match):
            await getattr(answering(body), fetch)()


def test_value_parsers() -> None:
    assert [parse_duration(x) for x in ("00:01:14", "01:14", "74", "85,6972", "127:14")] == [
        74,
        74,
        74,
        85,
        7634,
    ]
    assert [parse_duration(x) for x in ("", "soon", "nan", "1e999")] == [0, 0, 0, 0]
    assert parse_regstatus("OK (93 ms)") == (True, 93)
    assert parse_regstatus("LAGGED (2510 ms)") == (True, 2510)
    assert parse_regstatus("UNREACHABLE") == (False, None)
    assert parse_regstatus("UNKNOWN") == (False, None)
    assert parse_regstatus("Unmonitored") == (None, None)
    assert parse_regstatus("") == (None, None)
    assert parse_calltype("Queue(630)") == "630"
    assert parse_calltype("Queue(631,t,,,300)") == "631"
    assert [parse_calltype(x) for x in ("Dial(SIP/201,30)", "AppDial", "")] == ["", "", ""]
    assert classify("SIP/trunk-sip-Trunk110-36a9b", OUTSIDE, "201", "") == (
        Direction.INBOUND,
        "201",
    )
    assert classify("SIP/trunk-sip-Trunk110-36a9b", OUTSIDE, "630", "630") == (
        Direction.INBOUND,
        "",
    )
    assert (
        classify("SIP/trunk-sip-Trunk110-36a9b", OUTSIDE, "05551234", "")[0] is Direction.OUTBOUND
    )
    assert classify("SIP/201-0000a1b2", "201", "202", "") == (Direction.INTERNAL, "201")
    assert classify("SIP/201-0000a1b2", "201", OUTSIDE, "") == (Direction.OUTBOUND, "201")
    assert classify("", "201", OUTSIDE, "") == (Direction.OUTBOUND, "201")
    assert classify("", OUTSIDE, "05551234567", "") == (Direction.UNKNOWN, "")


# -- extensions, peers, lamps -------------------------------------------------------------------
async def test_extensions_peers_and_lamps() -> None:
    sim = make_sim()
    s = sim.scenario
    ringing = inbound(s, "203", 5, answered=False)
    talking = internal(s, "205", "206", 60)
    s.extensions["208"].registered = False  # ends in 8: rendered UNREACHABLE
    async with iex(sim) as driver:
        extensions = {e.number: e for e in await driver.fetch_extensions()}
        peers = {p.name: p for p in await driver.fetch_peers()}
        lamps = {lamp.id: lamp for lamp in await driver.fetch_blf()}
    assert set(extensions) == set(peers) == set(lamps) == set(s.extensions)
    assert extensions["203"].state is LineState.RINGING
    assert extensions["203"].call_id == ringing.legs[0].channel
    assert extensions["205"].state is extensions["206"].state is LineState.BUSY
    assert extensions["206"].call_id == talking.legs[0].channel
    assert extensions["208"].state is LineState.UNAVAILABLE
    assert (extensions["208"].registered, extensions["208"].state_raw) == (False, "UNREACHABLE")
    idle = extensions["201"]
    sim_ext = s.extensions["201"]
    assert (idle.state, idle.registered, idle.latency_ms) == (
        LineState.IDLE,
        True,
        sim_ext.latency_ms,
    )
    assert (idle.name, idle.state_raw) == (sim_ext.name, f"OK ({sim_ext.latency_ms} ms)")
    peer = peers["201"]
    assert (peer.id, peer.host, peer.description, peer.registered, peer.latency_ms) == (
        "201",
        "",
        sim_ext.name,
        True,
        sim_ext.latency_ms,
    )
    assert peers["208"].registered is False
    assert lamps["203"].state is LineState.RINGING and lamps["205"].state is LineState.BUSY
    assert lamps["201"].kind is LampKind.EXTENSION
    assert (lamps["201"].label, lamps["201"].extension) == (sim_ext.name, "201")


async def test_regstatus_variants_over_the_driver() -> None:
    rows = [
        {"username": "100", "name": "John", "regstatus": "OK (93 ms)"},
        {"username": "101", "name": "Marry", "regstatus": "UNREACHABLE"},
        {"username": "102", "name": "David", "regstatus": "Unmonitored"},
        {"username": "103", "name": "Ayla", "regstatus": "LAGGED (2100 ms)"},
        {"username": 104, "name": "Can", "regstatus": "UNKNOWN"},
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        data = rows if request.url.params["action"] == "users" else []
        return httpx.Response(200, json=[{"success": True, "count": len(data), "data": data}])

    extensions = {e.number: e for e in await canned(handler).fetch_extensions()}
    got = {n: (e.registered, e.latency_ms, e.state) for n, e in extensions.items()}
    assert got == {
        "100": (True, 93, LineState.IDLE),
        "101": (False, None, LineState.UNAVAILABLE),
        "102": (None, None, LineState.UNKNOWN),
        "103": (True, 2100, LineState.IDLE),
        "104": (False, None, LineState.UNAVAILABLE),
    }


# -- queues and agents --------------------------------------------------------------------------
async def test_queues_count_waiting_callers_and_agents_follow_calls() -> None:
    sim = make_sim()
    s = sim.scenario
    queue = s.queues["630"]
    first, second = queue.members[0], queue.members[1]
    queued(s, "630", 42)
    queued(s, "630", 17)
    inbound(s, first, 30, answered=True, queue="630")  # talking: not waiting
    ringing = inbound(s, second, 12, answered=False, queue="630")  # still waiting
    s.extensions[queue.members[-1]].registered = False
    async with iex(sim) as driver:
        (got,) = await driver.fetch_queues()
        agents = {a.extension: a for a in await driver.fetch_agents()}
    assert (got.id, got.name, got.members) == ("630", queue.name, tuple(queue.members))
    assert (got.waiting, got.longest_wait, got.agents_total) == (3, 42, len(queue.members))
    assert got.agents_available is got.service_level is got.answered is None
    assert set(agents) == set(queue.members)
    assert all(isinstance(a, Agent) and a.queue_id == "630" for a in agents.values())
    assert agents[first].state is AgentState.BUSY
    assert (agents[second].state, agents[second].state_raw) == (AgentState.BUSY, "Ringing")
    assert agents[queue.members[-1]].state is AgentState.UNAVAILABLE
    free = [m for m in queue.members if m not in (first, second, queue.members[-1])]
    assert free and all(agents[m].state is AgentState.AVAILABLE for m in free)
    assert agents[first].name == s.extensions[first].name
    assert ringing.legs[1].party == second


# -- actions ------------------------------------------------------------------------------------
async def test_hangup_removes_the_call_and_an_unknown_channel_is_refused() -> None:
    sim = make_sim()
    made = busy_pbx(sim)
    async with iex(sim) as driver:
        target = next(c for c in await driver.fetch_calls() if c.extension == "202")
        result = await driver.hangup(target)
        assert result.ok
        remaining = {c.id for c in await driver.fetch_calls()}
        assert target.id not in remaining and len(remaining) == len(made) - 1
        again = await driver.hangup(target)
    assert (again.ok, again.message) == (False, "Channel not found")


async def test_click2call_adds_a_call_and_unknown_or_busy_extensions_are_refused() -> None:
    sim = make_sim()
    internal(sim.scenario, "205", "206", 10)
    async with iex(sim) as driver:
        result = await driver.click2call(Click2Call(source="201", destination="05551112233"))
        assert result.ok
        (call,) = [c for c in await driver.fetch_calls() if c.extension == "201"]
        assert (call.caller, call.callee, call.direction) == (
            "201",
            "05551112233",
            Direction.OUTBOUND,
        )
        assert call.channel.startswith("SIP/201-")
        unknown = await driver.click2call(Click2Call(source="999", destination="0555"))
        busy = await driver.click2call(Click2Call(source="205", destination="0555"))
    assert (unknown.ok, unknown.message) == (False, "Extension 999 not found")
    assert (busy.ok, busy.message) == (False, "Extension 205 is busy or unavailable")


async def test_first_leg_answers_then_the_destination_is_dialled() -> None:
    sim = make_sim(Quirks(first_leg_delay=2.0))
    async with iex(sim) as driver:
        assert (await driver.click2call(Click2Call(source="201", destination="05551112233"))).ok
        (ringing,) = await driver.fetch_calls()
        start = sim.scenario.now
        sim.scenario.clock = lambda: start + 3
        (dialling,) = await driver.fetch_calls()
    assert ringing.state is CallState.RINGING
    assert (dialling.id, dialling.state) == (ringing.id, CallState.DIALING)


async def test_callback_and_ivr_calls_appear_at_the_next_poll() -> None:
    sim = make_sim()
    async with iex(sim) as driver:
        assert (await driver.callback("05321110000", "05442220000")).ok
        assert (
            await driver.call_ivr(
                IvrCall(
                    number="05553330000",
                    dialplan="out",
                    destination="700",
                    announcements=("{hello}", "a1"),
                )
            )
        ).ok
        calls = {c.callee: c for c in await driver.fetch_calls()}
    callback = calls["05442220000"]
    assert (callback.caller, callback.direction, callback.extension) == (
        "05321110000",
        Direction.OUTBOUND,
        "",
    )
    ivr = calls["05553330000"]
    assert (ivr.application, ivr.direction) == ("IVR(700)", Direction.OUTBOUND)
    assert ivr.channel.startswith("SIP/trunk-sip-Trunk110-")


async def test_actions_the_api_lacks_are_not_supported() -> None:
    sim = make_sim()
    made = busy_pbx(sim)
    async with iex(sim) as driver:
        call = (await driver.fetch_calls())[0]
        agent = (await driver.fetch_agents())[0]
        attempts = [
            driver.transfer(call, "201"),
            driver.attended_transfer(call, "201"),
            driver.pause_agent(agent, "Lunch"),
            driver.unpause_agent(agent),
        ]
        for attempt in attempts:
            with pytest.raises(NotSupported, match=r"not supported by ist's API \(IEXPBX\): "):
                await attempt
        with pytest.raises(NotSupported, match="scheduled call"):
            await driver.click2call(
                Click2Call(source="201", destination="0555", scheduled_at=call.observed_at)
            )
        assert len(await driver.fetch_calls()) == len(made)
    assert not driver.capabilities.supports(Action.TRANSFER)
    assert driver.capabilities.supports(Action.PHONEBOOK)


# -- phone directory ----------------------------------------------------------------------------
async def test_phone_directory_in_every_markup() -> None:
    sim = make_sim()
    async with iex(sim) as driver:
        for style in ("cisco", "entry", "attributes"):
            sim.quirks.directory_format = style
            entries = await driver.phone_directory()
            pairs = [(e.name, e.number) for e in entries]
            assert pairs[:2] == [("John Lash", "908502590259"), ("David Copper", "905381234567")]
            assert len(pairs) == 4 + len(sim.scenario.extensions), style
            for ext in sim.scenario.extensions.values():
                assert (ext.name, ext.number) in pairs, style
            assert all(e.pbx == "ist" for e in entries)


def test_directory_parser_tolerates_other_shapes() -> None:
    nested = (
        '<?xml version="1.0" encoding="ISO-8859-9"?><rehber xmlns="urn:x">'
        "<kisi><firstname>Ada</firstname><lastname>Lovelace</lastname>"
        "<phones><phone>905001112233</phone></phones><email>a@x</email></kisi></rehber>"
    )
    assert parse_directory(nested) == [("Ada Lovelace", "905001112233", {"email": "a@x"})]
    assert parse_directory("<CiscoIPPhoneDirectory><Title>x</Title></CiscoIPPhoneDirectory>") == []


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        "<contacts><contact name='&lol2;' phone='1'/></contacts>",
        '<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
    ],
)
async def test_xml_with_a_doctype_is_rejected(body: str) -> None:
    with pytest.raises(BadAnswer, match="DOCTYPE"):
        await answering(body, content_type="text/xml").phone_directory()


async def test_directory_refusals_and_broken_xml() -> None:
    with pytest.raises(BadAnswer, match="malformed or truncated XML"):
        await answering("<contacts><contact name='a' ph", content_type="text/xml").phone_directory()
    refused = [
        {"success": False, "count": 0, "data": [], "message": "Invalid username or password"}
    ]
    with pytest.raises(AuthRefused, match="Invalid username or password"):
        await answering(refused).phone_directory()


# -- refusals and broken answers ----------------------------------------------------------------
async def test_wrong_password_is_auth_refused_in_the_vendor_words() -> None:
    sim = make_sim()
    async with iex(sim, password="not-the-password") as driver:
        with pytest.raises(AuthRefused, match="Invalid username or password"):
            await driver.fetch_calls()
        with pytest.raises(AuthRefused):
            await driver.hangup(Call(pbx="ist", id="SIP/201-1", channel="SIP/201-1"))


async def test_auth_refused_fault_in_each_envelope() -> None:
    sim = make_sim()
    sim.faults.auth_refused = True
    variants = [
        (True, "message", "Invalid username or password"),
        (False, "msg", "Login failed"),
        (True, "error", "Ge\u00e7ersiz kullan\u0131c\u0131 ad\u0131 veya \u015fifre"),
    ]
    async with iex(sim) as driver:
        for outer, key, message in variants:
            sim.quirks.outer_array, sim.quirks.message_key = outer, key
            sim.quirks.auth_failure_message = message
            with pytest.raises(AuthRefused, match=message):
                await driver.fetch_extensions()
            with pytest.raises(AuthRefused, match=message):
                await driver.probe()


@pytest.mark.parametrize("status", [401, 403])
async def test_http_auth_statuses_are_auth_refused(status: int) -> None:
    with pytest.raises(AuthRefused, match=f"HTTP {status}"):
        await answering("Unauthorized", status=status, content_type="text/plain").fetch_calls()


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ({"success": False, "error": "Database busy"}, "refused activecalls: Database busy"),
        ({"success": False}, "no reason given"),
        ({"count": 1}, "without a success flag"),
        ({"success": True, "data": ["SIP/201"]}, "row 1 as a JSON string"),
        ({"success": True, "data": [{"channel": {"x": 1}}]}, "call 1 'channel' is a JSON object"),
        ({"success": True, "data": [{"channel": "SIP/1-1", "src": ["x"]}]}, "'src' is a JSON list"),
        ({"success": True, "data": [{"channel": True}]}, "'channel' is a JSON boolean"),
        ({"success": True, "data": 5}, "data as a JSON number"),
        ([{"success": True}, {"success": True}], "not one"),
        ('"activecalls"', "JSON string"),
        ("", "empty body"),
        ("<?xml version='1.0'?><error/>", "not JSON"),
    ],
)
async def test_unreadable_answers_are_bad_answers(body: Any, match: str) -> None:
    with pytest.raises(BadAnswer, match=match):
        await answering(body).fetch_calls()


async def test_broken_answers_are_bad_answers() -> None:
    sim = make_sim()
    busy_pbx(sim)
    faults = {
        "html": r"HTML page instead of JSON \(HTTP 200\)",
        "http_500": "HTTP 500",
        "truncated": "truncated JSON",
        "garbage": "not JSON",
    }
    async with iex(sim) as driver:
        for fault, match in faults.items():
            setattr(sim.faults, fault, True)
            with pytest.raises(BadAnswer, match=match):
                await driver.fetch_calls()
            with pytest.raises(BadAnswer):
                await driver.phone_directory()
            setattr(sim.faults, fault, False)
        assert len(await driver.fetch_calls()) == 5


async def test_a_hanging_pbx_times_out() -> None:
    sim = make_sim()
    sim.faults.hang = True
    async with iex(sim, timeout=0.3) as driver:
        with pytest.raises(PbxTimeout, match=r"0\.3 s"):
            await driver.fetch_calls()


async def test_the_password_never_appears_in_an_error() -> None:
    sim = make_sim(password=CANARY)
    busy_pbx(sim)
    seen: list[str] = []
    async with iex(sim, timeout=0.3) as driver:
        secrets.clear()  # no safety net: the text itself must be clean
        for fault in ("auth_refused", "html", "http_500", "truncated", "garbage", "hang"):
            setattr(sim.faults, fault, True)
            with pytest.raises(DriverError) as caught:
                await driver.fetch_calls()
            seen.append(f"{caught.value} {caught.value!r}")
            setattr(sim.faults, fault, False)
    for kind in (401, 500):
        with pytest.raises(DriverError) as caught:
            await answering("no", status=kind, content_type="text/plain").fetch_calls()
        seen.append(str(caught.value))
    assert len(seen) == 8
    assert not [text for text in seen if CANARY in text]


# -- the simulator's own surface ------------------------------------------------------------------
async def test_simulator_raw_answers_cdr_and_stray_space_parameter() -> None:
    sim = make_sim()
    made = busy_pbx(sim)
    creds = sim.credentials
    async with served(sim) as config, httpx.AsyncClient() as client:
        url = config.pbx[0].url

        async def get(**params: str) -> Any:
            response = await client.get(url, params={**creds, **params})
            return response.json()

        unknown = await get(action="bogus")
        assert unknown == [{"success": False, "count": 0, "data": [], "message": "Unknown action"}]
        target = made["queue_talk"]
        gone = await get(**{"action": "hangupcall", " channel": target.legs[0].channel})
        assert gone == [{"success": True, "count": 0, "data": []}]
        active = (await get(action="activecalls"))[0]
        assert active["count"] == len(made) - 1
        assert {row["channel"] for row in active["data"]} == {
            c.legs[0].channel for k, c in made.items() if k != "queue_talk"
        }
        (row,) = (await get(action="cdr", date1="010120000000", date2="010121000000"))[0]["data"]
        assert row["src"] == target.caller and row["dst"] == "202" and row["queue"] == "630"
        assert row["calltype"] == "incoming" and row["disposition"] == "ANSWERED"
        assert row["record"] is True and "," in row["duration"]
        assert len(row["calldate"]) == 19 and row["calldate"][2] == row["calldate"][5] == "."
        assert (await get(action="cdr", date1="010120000000", date2="010120010000"))[0][
            "data"
        ] == []
        bad_date = await get(action="cdr", date1="yesterday")
        assert bad_date[0]["success"] is False
        wrong = await client.get(url, params={**creds, "password": "x", "action": "users"})
        assert wrong.json()[0]["message"] == "Invalid username or password"


def test_quirks_defaults_follow_the_vendor_page() -> None:
    quirks = Quirks()
    assert quirks.outer_array and quirks.message_key == "message"
    assert (quirks.directory_format, quirks.duration_format) == ("cisco", "hms")
    assert replace(quirks, outer_array=False).outer_array is False
    assert parse_envelope('[{"success": true, "count": 0, "data": []}]').success


class ActionsAsked:
    """ASGI middleware noting the ``action`` of each request that reaches the simulator."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.actions: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = dict(parse_qsl(scope["query_string"].decode()))
            self.actions[query.get("action", "")] += 1
        await self.app(scope, receive, send)


async def test_a_poll_of_every_view_asks_each_list_once() -> None:
    """Extensions, peers and lamps all come from ``users``, queues and agents from ``queues``:
    polled at the same moment, they share one answer instead of asking the PBX five times."""
    sim = make_sim()
    asked = ActionsAsked(sim.app)
    sim.app = asked
    async with running_fleet([sim]) as (config, _, _), Engine(config) as engine:
        states = await engine.poll_once()
        assert all(states["ist"].resource(r).ok for r in Resource)
        assert asked.actions == {"activecalls": 1, "users": 1, "queues": 1}
        await engine.poll_once(resources=[Resource.PEERS])  # a view polled alone asks again
    assert asked.actions["users"] == 2
