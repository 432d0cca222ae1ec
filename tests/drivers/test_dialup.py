"""The dialup.php family driver against its simulator over loopback HTTP, plus its parsers."""

from __future__ import annotations

import dataclasses
import json
import secrets as token_source
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
import pytest
from starlette.types import Receive, Scope, Send

from pbxtui.drivers import create_driver
from pbxtui.drivers.base import (
    ActionRefused,
    AuthRefused,
    BadAnswer,
    DriverError,
    NotSupported,
    PbxTimeout,
)
from pbxtui.drivers.dialup import (
    BAD_EVENT,
    STATUS_MEMO_CHARS,
    DialupDriver,
    ExtensionStatus,
    RequestSpacing,
    StatusReader,
    derive_calls,
    normalize_number,
    parse_action,
    parse_status,
    read_fields,
    short_reason,
    status_url,
)
from pbxtui.drivers.http import VendorResponse
from pbxtui.model import Call, CallState, Click2Call, Direction, LineState, Resource
from pbxtui.sim import SimulatedPbx
from pbxtui.sim.dialup import CHSTATUS_PATH, PATH, DialupSim, Quirks, build
from pbxtui.sim.faults import REQUESTS_PATH
from pbxtui.sim.scenario import LegState, Scenario, ScenarioSpec, SimCall
from tests.conftest import driver_for, served

PBX = "branch"
FAST = {"requests_per_second": 200.0}  # most tests are not about the budget
SCENARIO_LINE = {
    "idle": LineState.IDLE,
    "busy": LineState.BUSY,
    "ringing": LineState.RINGING,
    "unavailable": LineState.UNAVAILABLE,
}


def spec(extensions: int = 6) -> ScenarioSpec:
    return ScenarioSpec(
        seed=7,
        extensions=extensions,
        first_extension=201,
        queues=(),
        flows=(),
        live=False,
        warmup_seconds=0,
        stuck_call_seconds=None,
        unregistered_share=0.0,
    )


def make_sim(
    quirks: Quirks | None = None, *, extensions: int = 6, name: str = PBX, **options: Any
) -> SimulatedPbx:
    sim = build(name, spec=spec(extensions), quirks=quirks, **options)
    sim.scenario.extensions["206"].registered = False
    return sim


@asynccontextmanager
async def drivers_for(*sims: SimulatedPbx, **overrides: Any) -> AsyncIterator[list[DialupDriver]]:
    """One driver per simulator, all served at once (one server start-up for many variants)."""
    async with served(*sims, **overrides) as config, httpx.AsyncClient() as client:
        yield [dialup(create_driver(entry, client)) for entry in config.pbx]


def adapter(sim: SimulatedPbx) -> DialupSim:
    state: DialupSim = sim.extra["sim"]
    return state


def talk(scenario: Scenario, a: str, b: str) -> SimCall:
    """An answered internal call from ``a`` to ``b``, lasting until hung up."""
    call = scenario._new_call(caller=a, callee=b, direction="internal", extension=b)
    call.legs[0].state = LegState.UP
    scenario._ring(call, b, after=0)
    scenario._answer(call)
    call.ends_at = float("inf")
    return call


def inbound(scenario: Scenario, ext: str, *, answered: bool = True) -> SimCall:
    call = scenario._new_call(caller="0501234567", callee=ext, direction="inbound", extension=ext)
    scenario._ring(call, ext, after=0 if answered else 10**9)
    if answered:
        scenario._answer(call)
        call.ends_at = float("inf")
    return call


def response(text: str, status: int = 200) -> VendorResponse:
    return VendorResponse(status=status, text=text, content_type="", latency_ms=1)


def status_of(text: str) -> ExtensionStatus:
    return parse_status(PBX, read_fields(PBX, response(text)))


def dialup(driver: Any) -> DialupDriver:
    assert isinstance(driver, DialupDriver)
    return driver


# -- pure parsing -------------------------------------------------------------------------------
BUSY_FIELDS = ("SIP/201-0000a1b2", "1717240000.42", "1717240000.43")


@pytest.mark.parametrize(
    "body",
    [
        '{"data":{"exten":"201","Status":"busy","Channel":"SIP/201-0000a1b2",'
        '"Uniqueid":"1717240000.42","BridgedUniqueid":"1717240000.43"}}',
        '{"status":"busy","channel":"SIP/201-0000a1b2","uniqueid":"1717240000.42",'
        '"bridgeduniqueid":"1717240000.43"}',
        '[{"data":{"State":"busy","Channel":"SIP/201-0000a1b2","Unique_Id":"1717240000.42",'
        '"Bridged_Uniqueid":"1717240000.43"}}]',
        "Status: busy\nChannel: SIP/201-0000a1b2\nUniqueid: 1717240000.42\n"
        "BridgedUniqueid: 1717240000.43\n",
        "Status: busy<br>\nChannel: SIP/201-0000a1b2<br>Uniqueid: 1717240000.42<br/>"
        "BridgedUniqueid: 1717240000.43",
        '<?xml version="1.0" encoding="UTF-8"?><data><exten>201</exten><Status>busy</Status>'
        "<Channel>SIP/201-0000a1b2</Channel><Uniqueid>1717240000.42</Uniqueid>"
        "<BridgedUniqueid>1717240000.43</BridgedUniqueid></data>",
        "<response><data><Status>busy</Status><Channel>SIP/201-0000a1b2</Channel>"
        "<Uniqueid>1717240000.42</Uniqueid><BridgedUniqueid>1717240000.43</BridgedUniqueid>"
        "</data></response>",
    ],
    ids=["json-data", "json-flat", "json-list-state", "text", "html-br", "xml", "xml-nested"],
)
def test_every_status_format_parses_alike(body: str) -> None:
    status = status_of(body)
    assert status.state is LineState.BUSY
    assert status.state_raw == "busy"
    assert (status.channel, status.unique_id, status.bridged_unique_id) == BUSY_FIELDS
    assert status.duration is None


@pytest.mark.parametrize(
    ("word", "state", "held"),
    [
        ("free", LineState.IDLE, False),
        ("busy", LineState.BUSY, False),
        ("ringing", LineState.RINGING, False),
        ("unavailable", LineState.UNAVAILABLE, False),
        ("Idle", LineState.IDLE, False),
        ("InUse", LineState.BUSY, False),
        ("In Use", LineState.BUSY, False),
        ("Ringing", LineState.RINGING, False),
        ("Disconnected", LineState.UNAVAILABLE, False),
        ("Busy", LineState.BUSY, False),
        ("Unavailable", LineState.UNAVAILABLE, False),
        ("OnHold", LineState.BUSY, True),
        ("hold", LineState.BUSY, True),
        ("8", LineState.RINGING, False),
        ("-1", LineState.UNAVAILABLE, False),
        ("Paging", LineState.UNKNOWN, False),
    ],
)
def test_both_vocabularies(word: str, state: LineState, held: bool) -> None:
    for body in (f'{{"status":"{word}"}}', f'{{"data":{{"State":"{word}"}}}}', f"Status: {word}"):
        status = status_of(body)
        assert (status.state, status.state_raw, status.held) == (state, word, held)


def test_bare_status_word_without_response_yes() -> None:
    assert status_of("ringing\n").state is LineState.RINGING


@pytest.mark.parametrize(
    ("field", "value", "seconds"),
    [
        ("Duration", "83", 83),
        ("duration", 83, 83),
        ("Seconds", "1:23", 83),
        ("time", "0:01:23", 83),
    ],
)
def test_duration_fields(field: str, value: object, seconds: int) -> None:
    body = json.dumps({"data": {"Status": "busy", "Channel": "SIP/201-1", field: value}})
    assert status_of(body).duration == seconds


def test_epoch_is_not_a_duration() -> None:
    assert status_of('{"data":{"Status":"busy","time":"1717240000"}}').duration is None


def test_callee_when_the_pbx_names_one() -> None:
    body = '{"data":{"Status":"busy","Channel":"SIP/201-1","Destination":"0501234567"}}'
    assert status_of(body).callee == "0501234567"


def test_echoed_password_never_reaches_the_status() -> None:
    canary = "canary-" + token_source.token_urlsafe(8)
    body = (
        f'{{"data":{{"user":"webuser","pass":"{canary}","org":"o","exten":"201",'
        '"Status":"busy","Channel":"SIP/201-1","Uniqueid":"1.1"}}'
    )
    assert canary not in repr(status_of(body))


@pytest.mark.parametrize(
    ("body", "status", "error", "words"),
    [
        ("You need to login first!", 200, AuthRefused, "You need to login first!"),
        ("Restricted access", 200, AuthRefused, "Restricted access"),
        ('{"status":"fail"}', 200, AuthRefused, "fail"),
        ("Response: fail", 200, AuthRefused, "fail"),
        ("bad event", 200, BadAnswer, BAD_EVENT),
        (
            '<!DOCTYPE html><html><body><form action="login.php">'
            '<input type="password"></form></body></html>',
            200,
            AuthRefused,
            "login page",
        ),
        ("<script>window.top.location='/login.php';</script>", 200, AuthRefused, "login page"),
        ("", 302, AuthRefused, "login page (HTTP 302)"),
        ("<html><body><h1>502 Bad Gateway</h1></body></html>", 200, BadAnswer, "HTML page"),
        ('{"data":{"Status":"bu', 200, BadAnswer, "truncated JSON"),
        ('{"data" "x"}', 200, BadAnswer, "malformed JSON"),
        ("<data><Status>busy</Sta", 200, BadAnswer, "XML"),
        ("\x00\x1f\ufffd#!garbage{{]", 200, BadAnswer, "neither JSON"),
        ("", 200, BadAnswer, "empty body"),
        ("42", 200, BadAnswer, "neither JSON"),
        ("[1, 2]", 200, BadAnswer, "unexpected shape (a list"),
        ('{"data":{"exten":"201"}}', 200, BadAnswer, "without an extension status"),
    ],
)
def test_status_errors(body: str, status: int, error: type[DriverError], words: str) -> None:
    with pytest.raises(error) as caught:
        parse_status(PBX, read_fields(PBX, response(body, status)))
    assert words in caught.value.reason


@pytest.mark.parametrize(
    ("body", "ok", "word"),
    [
        ('{"data":{"dial1":"201","dial2":"202","Response":"OK","Uniqueid1":"1.5"}}', True, "OK"),
        ('{"data":{"dial1":"205","dial2":"201","Response":"fail"}}', False, "fail"),
        ("Response: OK\n", True, "OK"),
        ("<data><Response>fail</Response></data>", False, "fail"),
        ('{"data":{"Response":"success","CallID":"12345","Status":"initiated"}}', True, "success"),
    ],
)
def test_action_answers(body: str, ok: bool, word: str) -> None:
    assert parse_action(PBX, read_fields(PBX, response(body))) == (ok, word)


def test_action_status_fail_is_auth() -> None:
    with pytest.raises(AuthRefused):
        parse_action(PBX, read_fields(PBX, response('{"status":"fail"}')))


@pytest.mark.parametrize(
    ("number", "sent"),
    [
        ("201", "201"),
        ("0532495154", "0532495154"),
        ("+972532495154", "0532495154"),
        ("+972 53-249-5154", "0532495154"),
        ("+97235551234", "035551234"),
        ("+9720532495154", "0532495154"),
        ("*51", "*51"),
    ],
)
def test_plus_numbers_become_local(number: str, sent: str) -> None:
    assert normalize_number(PBX, number, "globalex") == sent
    assert normalize_number(PBX, number, "cloudplus") == sent


@pytest.mark.parametrize("number", ["+442071234567", "+1 212 555 0100", "+97212", ""])
def test_other_plus_numbers_are_refused(number: str) -> None:
    with pytest.raises(ActionRefused) as caught:
        normalize_number(PBX, number, "globalex")
    assert "local format" in caught.value.reason or "no number" in caught.value.reason


def status(
    state: LineState, channel: str = "", uid: str = "", bridged: str = ""
) -> ExtensionStatus:
    return ExtensionStatus(
        state=state, state_raw=str(state), channel=channel, unique_id=uid, bridged_unique_id=bridged
    )


def test_two_watched_extensions_on_one_call_are_one_row() -> None:
    statuses = {
        "202": status(LineState.BUSY, "SIP/202-2", "100.2", "100.1"),
        "201": status(LineState.BUSY, "SIP/201-1", "100.1", "100.2"),
        "203": status(LineState.RINGING, "SIP/203-3", "100.3", "100.9"),
        "204": status(LineState.IDLE),
        "205": status(LineState.BUSY),  # busy without a channel: nothing to act on
    }
    at = datetime.now(UTC)
    calls = derive_calls(PBX, statuses, observed={"100.1": 7, "100.3": 2}, at=at)
    assert [(c.id, c.caller, c.callee, c.direction, c.state) for c in calls] == [
        ("201", "201", "202", Direction.INTERNAL, CallState.UP),
        ("203", "203", "", Direction.UNKNOWN, CallState.RINGING),
    ]
    assert [c.duration for c in calls] == [7, 2]
    assert calls[0].channel == "SIP/201-1"
    assert all(c.observed_at == at and c.pbx == PBX for c in calls)


def test_a_channel_name_sent_as_the_bridged_id_is_taken_for_a_channel() -> None:
    # "BridgedUniqueid (the other party's channel id)": should a brand send the channel's
    # name there, it must not pass for a unique id.
    fields = {"Status": "busy", "Channel": "SIP/201-1", "Uniqueid": "100.1"}
    body = json.dumps({"data": fields | {"BridgedUniqueid": "SIP/trunk-0000002"}})
    got = status_of(body)
    assert (got.bridged_channel, got.bridged_unique_id) == ("SIP/trunk-0000002", "")
    (call,) = derive_calls(PBX, {"201": got}, observed={}, at=datetime.now(UTC))
    assert (call.bridged_channel, call.bridged_unique_id) == ("SIP/trunk-0000002", "")


def test_held_and_reported_duration() -> None:
    held = dataclasses.replace(
        status(LineState.BUSY, "SIP/201-1", "1.1"), held=True, state_raw="OnHold", duration=40
    )
    (call,) = derive_calls(PBX, {"201": held}, observed={"1.1": 3}, at=datetime.now(UTC))
    assert (call.state, call.state_raw, call.duration) == (CallState.HELD, "OnHold", 40)


def test_request_spacing_has_no_burst() -> None:
    now = [100.0]
    spacing = RequestSpacing(20, clock=lambda: now[0])
    assert [round(spacing.reserve(), 3) for _ in range(4)] == [0.0, 0.05, 0.1, 0.15]
    now[0] += 10
    assert spacing.reserve() == 0.0


def test_short_reason_drops_the_url() -> None:
    error = PbxTimeout(PBX, "no answer within 0.3 s from http://h/API/dialup.php?user=u&pass=***")
    assert short_reason(error) == "timeout: no answer within 0.3 s"


def test_cloudplus_reads_status_from_chstatus() -> None:
    assert status_url("https://h/API/dialup.php", "cloudplus") == "https://h/API/CHstatus.php"
    assert status_url("https://h/API/dialup.php", "globalex") == "https://h/API/dialup.php"


# -- over HTTP ----------------------------------------------------------------------------------
def expected_states(sim: SimulatedPbx) -> dict[str, LineState]:
    scenario = sim.scenario
    return {n: SCENARIO_LINE[scenario.extension_state(n)] for n in scenario.extensions}


QUIRK_VARIANTS = [
    Quirks(),
    Quirks(status_format_json="flat"),
    Quirks(brand_vocabulary="cloudplus"),
    Quirks(brand_vocabulary="cloudplus", status_format_json="flat", echo_params=False),
    Quirks(include_duration=True),
]


async def test_every_quirk_variant_normalizes_alike() -> None:
    sims = [make_sim(quirks, name=f"v{i}") for i, quirks in enumerate(QUIRK_VARIANTS)]
    for sim in sims:
        internal = talk(sim.scenario, "201", "202")
        internal.answered = sim.scenario.now - 120
        inbound(sim.scenario, "203")
        inbound(sim.scenario, "204", answered=False)
    async with drivers_for(*sims, **FAST) as drivers:
        for sim, driver in zip(sims, drivers, strict=True):
            extensions = await driver.fetch_extensions()
            calls = await driver.fetch_calls()
            lamps = await driver.fetch_blf()
            check_variant(sim, extensions, calls, lamps)


def check_variant(sim: SimulatedPbx, extensions: Any, calls: Any, lamps: Any) -> None:
    quirks = sim.quirks
    assert isinstance(quirks, Quirks)
    internal = next(c for c in sim.scenario.calls.values() if c.direction == "internal")
    assert {e.id: e.state for e in extensions} == expected_states(sim), quirks
    assert {lamp.id: lamp.state for lamp in lamps} == expected_states(sim), quirks
    by_id = {c.id: c for c in calls}
    assert sorted(by_id) == ["201", "203", "204"], quirks
    pair = by_id["201"]
    assert (pair.callee, pair.direction, pair.state) == ("202", Direction.INTERNAL, CallState.UP)
    assert (pair.channel, pair.unique_id) == (internal.legs[0].channel, internal.legs[0].unique_id)
    # The other party is watched too: its channel is known as well as its unique id.
    assert (pair.bridged_channel, pair.bridged_unique_id) == (
        internal.legs[1].channel,
        internal.legs[1].unique_id,
    )
    outside = next(c for c in sim.scenario.calls.values() if c.direction == "inbound")
    single = by_id[outside.legs[1].party]
    assert (single.bridged_channel, single.bridged_unique_id) == ("", outside.legs[0].unique_id)
    assert by_id["204"].state is CallState.RINGING
    assert {e.id: e.call_id for e in extensions if e.call_id} == {
        "201": "201",
        "202": "201",
        "203": "203",
        "204": "204",
    }
    if quirks.include_duration:
        assert 119 <= pair.duration <= 122
    else:
        assert pair.duration == 0, quirks  # observed: first seen just now


async def test_cloudplus_brand_uses_chstatus() -> None:
    sim = build(PBX, spec=spec(), brand="cloudplus")
    async with driver_for(sim, **FAST) as driver:
        extensions = await driver.fetch_extensions()
    assert adapter(sim).requests == {CHSTATUS_PATH: 6}
    assert {e.state_raw for e in extensions} == {"Idle"}


async def test_sim_formats_parse_alike() -> None:
    sim = make_sim()
    call = talk(sim.scenario, "201", "202")
    async with driver_for(sim, **FAST) as driver:
        for rformat in ("json", "text", "xml", "html", ""):
            params = dialup(driver)._auth() | {"exten": "201", "RFormat": rformat}
            answer = await driver.http.get(params | {"Response": "yes"})
            got = parse_status(PBX, read_fields(PBX, answer))
            bare = parse_status(PBX, read_fields(PBX, await driver.http.get(params)))
            assert (got.state, got.channel, got.unique_id) == (
                LineState.BUSY,
                call.legs[0].channel,
                call.legs[0].unique_id,
            ), rformat
            assert (bare.state, bare.channel) == (LineState.BUSY, ""), rformat


async def test_observed_duration_grows_across_polls() -> None:
    sim = make_sim()
    talk(sim.scenario, "201", "202")
    async with driver_for(sim, **FAST) as driver:
        (first,) = await driver.fetch_calls()
        d = dialup(driver)
        # Pretend the first sighting was 90 s ago rather than sleeping through it.
        d._first_seen = {k: (t - 90, e) for k, (t, e) in d._first_seen.items()}
        d._sweeps.forget()
        (again,) = await driver.fetch_calls()
    assert first.duration == 0
    assert 90 <= again.duration <= 91


async def test_in_flight_budget_is_respected() -> None:
    sim = make_sim(extensions=10)
    sim.faults.latency = 0.03
    async with driver_for(sim, max_in_flight=2, requests_per_second=200.0) as driver:
        await driver.fetch_extensions()
    assert adapter(sim).peak_in_flight == 2
    assert adapter(sim).status_requests == 10


async def test_request_rate_is_respected() -> None:
    # Four a second: a sweep of six extensions cannot go out at once. As the PBX saw them,
    # no second held more than four of its requests.
    sim = make_sim(extensions=6)
    async with driver_for(sim, requests_per_second=4.0) as driver:
        await driver.fetch_extensions()
        origin = httpx.URL(driver.config.url).copy_with(path=REQUESTS_PATH, query=None)
        async with httpx.AsyncClient() as client:
            arrivals = sorted((await client.get(origin)).json()["arrivals"])
    assert len(arrivals) == 6
    assert all(later - arrivals[i] >= 1.0 for i, later in enumerate(arrivals[4:]))


async def test_resources_share_one_sweep() -> None:
    sim = make_sim()
    async with driver_for(sim, **FAST) as driver:
        async with anyio.create_task_group() as group:
            for resource in (Resource.CALLS, Resource.EXTENSIONS, Resource.BLF):
                group.start_soon(driver.fetch, resource)
        assert adapter(sim).status_requests == 6
        await driver.fetch_calls()  # younger than half the poll interval: reused
        assert adapter(sim).status_requests == 6
        dialup(driver)._sweeps.forget()  # as if half the poll interval had passed
        await driver.fetch_extensions()
    assert adapter(sim).status_requests == 12


async def test_cancelled_leader_does_not_fail_its_followers() -> None:
    sim = make_sim()
    sim.faults.latency = 0.05
    result: list[int] = []
    async with driver_for(sim, **FAST) as driver:
        leader = anyio.CancelScope()

        async def lead() -> None:
            with leader:
                await driver.fetch_calls()

        async def follow() -> None:
            result.append(len(await driver.fetch_extensions()))

        async with anyio.create_task_group() as group:
            group.start_soon(lead)
            await anyio.sleep(0.02)
            group.start_soon(follow)
            await anyio.sleep(0.02)
            leader.cancel()
    assert result == [6]


class FailOne:
    """Wraps a simulator app: the status of one extension answers garbage."""

    def __init__(self, app: Any, exten: str) -> None:
        self.app, self.exten = app, exten

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if f"exten={self.exten}".encode() in scope.get("query_string", b""):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"#!garbage"})
            return
        await self.app(scope, receive, send)


async def test_one_bad_extension_does_not_fail_the_poll() -> None:
    sim = make_sim()
    talk(sim.scenario, "201", "202")
    wrapped = dataclasses.replace(sim, app=FailOne(sim.app, "203"))
    async with driver_for(wrapped, **FAST) as driver:
        extensions = {e.id: e for e in await driver.fetch_extensions()}
        calls = await driver.fetch_calls()
    assert extensions["203"].state is LineState.UNKNOWN
    assert extensions["203"].state_raw.startswith("error: bad answer: answered something")
    assert extensions["201"].state is LineState.BUSY
    assert [c.id for c in calls] == ["201"]


async def test_hangup_shows_at_next_poll() -> None:
    sim = make_sim()
    talk(sim.scenario, "201", "202")
    async with driver_for(sim, **FAST) as driver:
        (call,) = await driver.fetch_calls()
        result = await driver.hangup(call)
        assert result.ok, result.message
        assert await driver.fetch_calls() == []
        again = await driver.hangup(call)
    assert not again.ok
    assert "fail" in again.message
    assert sim.scenario.calls == {}


async def test_click2call_connects_when_the_first_leg_answers() -> None:
    sim = make_sim(first_leg_delay=0.1)
    async with driver_for(sim, **FAST) as driver:
        result = await driver.click2call(
            Click2Call(source="201", destination="+972532495154", timeout=5)
        )
        extensions = {e.id: e for e in await driver.fetch_extensions()}
    assert result.ok, result.message
    (call,) = sim.scenario.calls.values()
    assert result.vendor_id == call.legs[0].unique_id
    assert call.caller == "0532495154"  # sent in local format
    assert extensions["201"].state is LineState.BUSY


async def test_click2call_fails_when_the_first_leg_never_answers() -> None:
    sim = make_sim(first_leg_delay=None)
    async with driver_for(sim, **FAST) as driver:
        started = time.perf_counter()
        result = await driver.click2call(
            Click2Call(source="201", destination="0532495154", timeout=1)
        )
        elapsed = time.perf_counter() - started
    assert not result.ok
    assert result.message == "the first leg (201) did not answer (fail)"
    assert 0.9 <= elapsed < 3
    assert sim.scenario.calls == {}


async def test_slow_click2call_does_not_hold_up_polls() -> None:
    sim = make_sim(first_leg_delay=2.0)
    async with driver_for(sim, max_in_flight=1, **FAST) as driver:
        results: list[bool] = []

        async def dial() -> None:
            results.append(
                (await driver.click2call(Click2Call(source="201", destination="0532495154"))).ok
            )

        async with anyio.create_task_group() as group:
            group.start_soon(dial)
            await anyio.sleep(0.2)
            started = time.perf_counter()
            extensions = {e.id: e for e in await driver.fetch_extensions()}
            poll_took = time.perf_counter() - started
    assert poll_took < 1.0
    assert extensions["201"].state is LineState.RINGING
    assert results == [True]


async def test_scheduled_call_parameters_are_sent() -> None:
    sim = make_sim()
    request = Click2Call(
        source="201",
        destination="+972532495154",
        caller_id="035551234",
        scheduled_at=datetime(2030, 1, 2, 3, 4),
        max_retry=3,
        retry_time=5,
        ident="acme-1",
    )
    async with driver_for(sim, **FAST) as driver:
        result = await driver.click2call(request)
        default = await driver.click2call(
            Click2Call(
                source="202", destination="0501234567", scheduled_at=datetime(2030, 1, 2, 3, 5)
            )
        )
    assert result.ok and default.ok, (result.message, default.message)
    first, second = adapter(sim).scheduled
    assert {k: first[k] for k in ("dial1", "dial2", "Date", "Maxretry", "Retrytime", "ident")} == {
        "dial1": "201",
        "dial2": "0532495154",
        "Date": "203001020304",
        "Maxretry": "3",
        "Retrytime": "5",
        "ident": "acme-1",
    }
    assert first["SetCID"] == "035551234"
    assert "pass" not in first
    assert (second["Maxretry"], second["Retrytime"], second["ident"]) == ("1", "60", "demo-org")
    assert sim.scenario.calls == {}  # nothing is dialled now


async def test_foreign_plus_number_is_refused_before_sending() -> None:
    sim = make_sim()
    async with driver_for(sim, **FAST) as driver:
        with pytest.raises(ActionRefused, match=r"refuses \+E\.164 numbers; dial in local"):
            await driver.click2call(Click2Call(source="201", destination="+442071234567"))
        with pytest.raises(ActionRefused, match="1-300"):
            await driver.click2call(Click2Call(source="201", destination="0501234567", timeout=301))
    assert sum(adapter(sim).requests.values()) == 0


async def test_sim_switches_for_plus_numbers_and_post() -> None:
    strict = make_sim(Quirks(first_leg_delay=0.0), name="strict")
    lenient = make_sim(
        Quirks(first_leg_delay=0.0, post_allowed=True, reject_plus_numbers=False), name="lenient"
    )
    plus = {"dial1": "201", "dial2": "+972532495154", "Response": "yes", "RFormat": "json"}
    status = {"Response": "yes", "RFormat": "json"}
    answers: dict[str, tuple[bool, str]] = {}
    async with drivers_for(strict, lenient, **FAST) as drivers:
        for sim, driver in zip((strict, lenient), drivers, strict=True):
            answer = await driver.http.get(driver._auth() | plus)
            answers[sim.name] = parse_action(PBX, read_fields(PBX, answer))
        refused = await drivers[0].http.post_form(drivers[0]._auth() | status, {"exten": "201"})
        accepted = await drivers[1].http.post_form(drivers[1]._auth() | status, {"exten": "201"})
    assert answers == {"strict": (False, "fail"), "lenient": (True, "OK")}
    with pytest.raises(BadAnswer) as caught:
        read_fields(PBX, refused)
    assert caught.value.reason == BAD_EVENT
    # POST read the form's exten: 201, now on the lenient PBX's click2call.
    assert parse_status(PBX, read_fields(PBX, accepted)).state is LineState.BUSY


def test_unsupported_actions_say_so() -> None:
    caps = DialupDriver.capabilities
    assert caps.resources == {Resource.CALLS, Resource.EXTENSIONS, Resource.BLF}
    assert not caps.supports(Resource.PEERS)


async def test_transfer_is_not_supported() -> None:
    sim = make_sim()
    talk(sim.scenario, "201", "202")
    async with driver_for(sim, **FAST) as driver:
        (call,) = await driver.fetch_calls()
        with pytest.raises(NotSupported, match="blind transfer"):
            await driver.transfer(call, "203")
        with pytest.raises(NotSupported, match="queues"):
            await driver.fetch_queues()


# -- errors, and the canary password -----------------------------------------------------------
def canary_sim(quirks: Quirks | None = None, name: str = PBX) -> SimulatedPbx:
    return make_sim(quirks, name=name, password="canary-" + token_source.token_urlsafe(10))


def assert_no_canary(sim: SimulatedPbx, *texts: object) -> None:
    canary = sim.credentials["pass"]
    for text in texts:
        assert canary not in str(text) and canary not in repr(text)


AUTH_MODES = {
    "login": "You need to login first!",
    "restricted": "Restricted access",
    "status_fail": "answered 'fail'",
    "html_login": "login page",
    "redirect": "login page (HTTP 302)",
}


async def test_auth_refusals() -> None:
    sims = [canary_sim(Quirks(auth_failure=mode), name=mode) for mode in AUTH_MODES]
    for sim in sims:
        sim.faults.auth_refused = True
    async with drivers_for(*sims, **FAST) as drivers:
        for sim, driver in zip(sims, drivers, strict=True):
            words = AUTH_MODES[sim.name]
            with pytest.raises(AuthRefused) as caught:
                await driver.fetch_extensions()
            assert words in caught.value.reason, sim.name
            # The sweep stops at the first refusal instead of asking for every extension.
            assert sum(adapter(sim).requests.values()) <= 4, sim.name
            with pytest.raises(AuthRefused) as on_dial:
                await driver.click2call(Click2Call(source="201", destination="0501234567"))
            with pytest.raises(AuthRefused):
                await driver.probe()
            assert_no_canary(sim, caught.value, on_dial.value)


async def test_wrong_password_is_refused() -> None:
    sim = canary_sim()
    async with served_wrong(sim) as driver:
        with pytest.raises(AuthRefused, match="You need to login first!"):
            await driver.fetch_calls()


def served_wrong(sim: SimulatedPbx) -> Any:
    wrong = dataclasses.replace(sim, credentials=sim.credentials | {"pass": "not-the-password"})
    return driver_for(wrong, **FAST)


BROKEN = {
    "html": (BadAnswer, "HTML page"),
    "http_500": (BadAnswer, "HTTP 500"),
    "truncated": (BadAnswer, "truncated JSON"),
    "garbage": (BadAnswer, "neither JSON"),
    "hang": (PbxTimeout, "no answer within 0.3 s"),
}


async def test_broken_pbx() -> None:
    sims = [canary_sim(name=fault) for fault in BROKEN]
    for sim in sims:
        talk(sim.scenario, "201", "202")
        setattr(sim.faults, sim.name, True)
    async with drivers_for(*sims, timeout=0.3, **FAST) as drivers:
        for sim, driver in zip(sims, drivers, strict=True):
            error, words = BROKEN[sim.name]
            started = time.perf_counter()
            with pytest.raises(error) as caught:
                await driver.fetch_calls()
            elapsed = time.perf_counter() - started
            assert words in caught.value.reason, sim.name
            assert elapsed < 1.0, sim.name  # a hung PBX costs one timeout, not one per extension
            with pytest.raises(error) as on_hangup:
                await driver.hangup(_fake_call())
            assert_no_canary(sim, caught.value, on_hangup.value)


def _fake_call() -> Call:
    return Call(pbx=PBX, id="201", channel="SIP/201-1", extension="201")


async def test_models_never_carry_the_password() -> None:
    sim = canary_sim()
    talk(sim.scenario, "201", "202")
    async with driver_for(sim, **FAST) as driver:
        calls = await driver.fetch_calls()
        models = [*calls, *(await driver.fetch_extensions()), *(await driver.fetch_blf())]
        result = await driver.hangup(calls[0])
    assert_no_canary(sim, models, result)


async def test_driver_refuses_a_foreign_config() -> None:
    from pbxtui.config import IexPbxConfig

    config = IexPbxConfig(kind="iexpbx", name="x", url="http://h/", username="u", password="pw")
    async with httpx.AsyncClient() as client:
        with pytest.raises(TypeError):
            DialupDriver(config, client)


def test_sim_serves_its_paths() -> None:
    sim = make_sim()
    assert sim.path == PATH
    assert sim.credentials["extensions"] == ["201-206"]


def test_a_status_answer_repeated_word_for_word_is_read_once() -> None:
    reader = StatusReader(PBX)
    idle = VendorResponse(200, '{"data":{"exten":"101","Status":"free"}}', "application/json", 1)
    first = reader.read("101", idle)
    assert reader.read("101", idle) is first  # the same text: the same reading, not parsed again
    busy = VendorResponse(
        200, '{"data":{"Status":"busy","Channel":"SIP/101-1"}}', "application/json", 1
    )
    assert reader.read("101", busy).state is LineState.BUSY  # a new text is read afresh
    refused = VendorResponse(200, "You need to login first!", "text/html", 1)
    with pytest.raises(AuthRefused):
        reader.read("101", refused)
    with pytest.raises(AuthRefused):  # a refusal is never kept as the last good reading
        reader.read("101", refused)
    padded = '{"data":{"Status":"free","pad":"' + "x" * STATUS_MEMO_CHARS + '"}}'
    reader.read("102", VendorResponse(200, padded, "application/json", 1))
    assert "102" not in reader._last  # a long answer is read but never kept in memory
