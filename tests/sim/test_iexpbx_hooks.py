"""The IEXPBX simulator calls its webhook URLs when a call starts and when it hangs up, as the
vendor's page writes them (``callstatus{status}``, no ``=``) or with the ``=``."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from pbxtui.sim import SimulatedPbx, iexpbx
from pbxtui.sim.iexpbx_hooks import IexHookQuirks
from pbxtui.sim.scenario import ScenarioSpec
from tests.sim.conftest import Recorder, Seen, advance, receiving, sent_all

SPEC = ScenarioSpec(
    seed=22,
    extensions=16,
    first_extension=100,
    queues=(("630", "Sale"), ("640", "Destek")),
    calls_per_minute=10.0,
)
STATUSES = {"ANSER", "BUSY", "NOANSWER", "CANCEL", "CONGESTION"}
BARE = re.compile(r"(?:^|&)callstatus([A-Z]+)(?:&|$)")


def istanbul(**quirks: Any) -> SimulatedPbx:
    return iexpbx.build(
        "istanbul",
        spec=SPEC,
        password="iex-pass-1",
        hook_quirks=IexHookQuirks(**quirks),
    )


async def received(sim: SimulatedPbx, minutes: int) -> list[Seen]:
    recorder = Recorder()
    async with receiving(recorder, sim, token="iex-hook-token"):
        advance(sim, minutes * 60)
        await sent_all(sim)
    return recorder.seen


def status_of(hangup: Seen) -> str:
    """The status of a hang-up, written ``callstatusANSER`` or ``callstatus=ANSER``."""
    for key, value in hangup.pairs:
        if key == "callstatus":
            return value
        if key.startswith("callstatus") and value == "":
            return key.removeprefix("callstatus")
    raise AssertionError(f"no callstatus in {hangup}")


async def test_call_start_and_hangup_carry_the_pages_names() -> None:
    seen = await received(istanbul(), 40)
    starts = [s for s in seen if s.route == "call_start"]
    hangups = [s for s in seen if s.route == "hangup"]
    assert starts and hangups
    for start in starts:
        assert start.path == "/hook/istanbul/call_start"
        assert start.keys == ["caller", "called", "chan", "token"]
        assert start.params["chan"].startswith("SIP/")
    for hangup in hangups:
        assert hangup.keys[0] == "chan" and hangup.keys[2:] == ["callduration", "token"]
        assert int(hangup.params["callduration"]) >= 0
    assert {status_of(h) for h in hangups} == STATUSES
    # A hang-up names the channel its start did (calls from before the hooks aside).
    started = {s.params["chan"] for s in starts}
    assert sum(h.params["chan"] in started for h in hangups) > len(hangups) // 2


async def test_the_documented_template_writes_callstatus_without_an_equals_sign() -> None:
    seen = await received(istanbul(), 10)
    hangups = [s for s in seen if s.route == "hangup"]
    assert hangups
    for hangup in hangups:
        assert "callstatus" not in hangup.params
        assert BARE.search(hangup.query), hangup.query
        assert "callstatus=" not in hangup.query


async def test_callstatus_with_an_equals_sign_when_switched() -> None:
    seen = await received(istanbul(callstatus_equals=True), 10)
    hangups = [s for s in seen if s.route == "hangup"]
    assert hangups
    for hangup in hangups:
        assert hangup.keys == ["chan", "callstatus", "callduration", "token"]
        assert hangup.params["callstatus"] in STATUSES


@pytest.mark.parametrize("encoding", ["form", "json"])
async def test_a_posted_hangup_keeps_its_status(encoding: str) -> None:
    seen = await received(istanbul(encoding=encoding), 10)
    hangups = [s for s in seen if s.route == "hangup"]
    assert hangups
    statuses = {status_of(h) for h in hangups}
    assert statuses <= STATUSES and "ANSER" in statuses
    if encoding == "json":  # a JSON body cannot leave the "=" out
        assert all("callstatus" in h.params for h in hangups)


async def test_the_answered_word_can_be_spelt_right() -> None:
    seen = await received(istanbul(answered_word="ANSWER"), 10)
    statuses = {status_of(s) for s in seen if s.route == "hangup"}
    assert "ANSWER" in statuses and "ANSER" not in statuses


async def test_a_hangup_action_sends_its_hook_at_once() -> None:
    """The hook of an operator's hang-up goes out with the API's answer, not at the next
    step: the receiver hears of it before the next poll."""
    sim = istanbul()
    recorder = Recorder()
    async with receiving(recorder, sim, token="t") as ports, httpx.AsyncClient() as client:
        await sent_all(sim)
        call = next(iter(sim.scenario.calls.values()))
        channel = call.legs[0].channel
        before = len(recorder.seen)
        answer = await client.get(
            sim.url(ports["istanbul"]),
            params={
                "username": "apiuser",
                "password": "iex-pass-1",
                "action": "hangupcall",
                "channel": channel,
            },
        )
        assert answer.json()[0]["success"] is True
        seen = await recorder.wait_for(lambda seen: any(s.route == "hangup" for s in seen[before:]))
    hangup = next(s for s in seen[before:] if s.route == "hangup")
    assert hangup.params["chan"] == channel
