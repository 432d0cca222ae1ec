"""The simulated While1 Voice PBX: no API to poll; it asks a caller-data webservice about each
inbound caller (here the simulated CRM, over real HTTP), checks the answers, and sends its
Send Events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pbxtui.sim import SimulatedPbx, while1
from pbxtui.sim.crm import CrmQuirks, SimulatedCrm
from pbxtui.sim.hooks import CONTROL_PATH, HookReply
from pbxtui.sim.scenario import ScenarioSpec
from pbxtui.sim.server import serve
from pbxtui.sim.while1 import (
    CALLER_DATA_KEYS,
    EVENTS,
    While1Feed,
    While1Quirks,
    read_caller_data,
)
from tests.sim.conftest import Recorder, Seen, advance, receiving, sent_all

TOKEN = "w1-token-777"
SPEC = ScenarioSpec(
    seed=55,
    extensions=10,
    first_extension=100,
    queues=(("sales-queue", "Sales"), ("support-queue", "Support")),
    flows=(),
    queue_share=1.0,
    calls_per_minute=10.0,
    stuck_call_seconds=None,
)
ANSWER_KEYS = [
    "event", "direction", "project_id", "agent", "remote_number", "telephone", "dnid",
    "dnid_identifier", "queue", "uniqueid", "contact_id",
]  # fmt: skip


def bucharest(**quirks: Any) -> SimulatedPbx:
    return while1.build("bucharest", spec=SPEC, quirks=While1Quirks(**quirks))


def feed_of(sim: SimulatedPbx) -> While1Feed:
    feed = sim.extra["feed"]
    assert isinstance(feed, While1Feed)
    return feed


@asynccontextmanager
async def with_crm(crm: SimulatedCrm, sim: SimulatedPbx) -> AsyncIterator[Recorder]:
    """The While1 PBX sending its events to a recorder and its caller-data requests to the
    CRM (a real While1 set up with the CRM's URL as its webservice)."""
    recorder = Recorder()
    async with serve({"crm": crm.app}) as crm_port, receiving(recorder, sim, token=TOKEN):
        assert sim.hooks is not None
        url = crm.url(crm_port["crm"])
        sim.hooks.configure({"quirks": {"caller_data_url": url}})
        yield recorder


async def test_caller_data_answered_by_the_crm_gives_names_and_contact_ids() -> None:
    crm = SimulatedCrm(seed=9, token=TOKEN)
    sim = bucharest()
    feed = feed_of(sim)
    async with with_crm(crm, sim) as recorder:
        advance(sim, 30 * 60)
        await sent_all(sim)
    answers = list(feed.answers)
    assert len(answers) > 20
    assert {a.form for a in answers} == {"full"}
    assert all(a.dnid == feed.did for a in answers)
    known = [a for a in answers if a.name is not None]
    assert known and len(known) < len(answers)  # some callers are unknown to the CRM
    for answer in answers:
        assert answer.name == crm.answer(answer.telephone)["name"]
    assert sum(crm.asked.values()) == len(answers)
    # Its events carry the contact id the CRM gave for the caller.
    ids = {a.telephone: str(a.data["id"]) for a in known}
    events = [s.params for s in recorder.seen if s.route == "events"]
    told = [e for e in events if e["telephone"] in ids and e["direction"] == "IN"]
    assert told and all(e["contact_id"] == ids[e["telephone"]] for e in told)


async def test_the_legacy_six_keys_are_accepted() -> None:
    crm = SimulatedCrm(seed=9, token=TOKEN, quirks=CrmQuirks(legacy=True))
    sim = bucharest(events=False)
    async with with_crm(crm, sim):
        advance(sim, 10 * 60)
        await sent_all(sim)
    forms = {a.form for a in feed_of(sim).answers}
    assert forms == {"legacy"}


@pytest.mark.parametrize(
    ("fault", "form", "problem"),
    [
        ({"garbage": True}, "invalid", "not JSON"),
        ({"http_500": True}, "invalid", "HTTP 500"),
        ({"html": True}, "invalid", "Content-Type text/html"),
        ({"hang": True}, "no_answer", "ReadTimeout"),
    ],
)
async def test_a_broken_webservice_is_recorded_not_believed(
    fault: dict[str, bool], form: str, problem: str
) -> None:
    crm = SimulatedCrm(seed=9, token=TOKEN)
    crm.faults.update(fault)
    sim = bucharest(events=False)
    assert sim.hooks is not None
    async with with_crm(crm, sim):
        sim.hooks.configure({"timeout": 0.1})  # for the hanging one: a PBX does not wait
        advance(sim, 60)
        await sent_all(sim)
    answers = list(feed_of(sim).answers)
    assert answers
    assert {(a.form, a.problem.split(";")[0]) for a in answers} == {(form, problem)}


async def test_a_wrong_token_is_a_refused_answer() -> None:
    crm = SimulatedCrm(seed=9, token="the-crms-own")
    sim = bucharest(events=False)
    async with with_crm(crm, sim):
        advance(sim, 5 * 60)
        await sent_all(sim)
    assert {(a.form, a.problem) for a in feed_of(sim).answers} == {("invalid", "HTTP 401")}


@pytest.mark.parametrize(
    ("body", "form", "problem"),
    [
        ({key: None for key in CALLER_DATA_KEYS}, "full", ""),
        ({"id": 1, "name": "A"}, "invalid", "missing queue_position"),
        ({**dict.fromkeys(CALLER_DATA_KEYS), "queue_position": 101}, "invalid", "wrong type"),
        ({**dict.fromkeys(CALLER_DATA_KEYS), "name": 7}, "invalid", "wrong type: name"),
        ({**dict.fromkeys(CALLER_DATA_KEYS), "id": True}, "invalid", "wrong type: id"),
        ([1, 2], "invalid", "not a JSON object"),
    ],
)
def test_answers_are_checked_key_by_key(body: object, form: str, problem: str) -> None:
    reply = HookReply(200, "application/json", bytes(JSONResponse(body).body))
    got_form, _, got_problem = read_caller_data(reply)
    assert got_form == form
    assert got_problem.startswith(problem)


async def test_send_events_carry_the_documented_fields() -> None:
    recorder = Recorder()
    sim = bucharest()
    async with receiving(recorder, sim, token=TOKEN):
        advance(sim, 40 * 60)
        await sent_all(sim)
    events = [s for s in recorder.seen if s.route == "events"]
    names = {s.params["event"] for s in events}
    assert names == set(EVENTS)
    for event in events:
        params = event.params
        assert event.method == "GET" and event.path == "/hook/bucharest/events"
        assert event.keys[: len(ANSWER_KEYS)] == ANSWER_KEYS
        assert params["token"] == TOKEN
        if params["event"] == "missed_calls":
            assert params["agent"] == "" and params["queue"]
            assert int(params["queue_hold_time"]) >= 0
            assert params["fail_reason"] and params["explain_reason"]
        if params["event"] in ("queue_answer_end", "outgoing_end"):
            assert int(params["duration"]) >= 0
        if params["event"] in ("dial_answer", "outgoing_end"):
            assert params["direction"] == "OUT"
        else:
            assert params["direction"] == "IN"


async def test_every_end_follows_its_answer() -> None:
    recorder = Recorder()
    sim = bucharest(caller_data=False)
    listening = sim.scenario.now  # calls answered before are ended unannounced
    async with receiving(recorder, sim, token=TOKEN):
        advance(sim, 30 * 60)
        await sent_all(sim)
    opened: dict[str, str] = {}
    unannounced = 0
    for seen in recorder.seen:
        params = seen.params
        name, call = params["event"], params["uniqueid"]
        if name in ("queue_answer", "call_forward_answer", "dial_answer"):
            opened[call] = name
        elif name in ("queue_answer_end", "outgoing_end"):
            answered = opened.pop(call, None)
            if answered is None:
                assert float(call) < listening
                unannounced += 1
                continue
            assert (name == "outgoing_end") == (answered == "dial_answer")
        else:
            assert name == "missed_calls" and call not in opened
    assert all(r.route == "events" for r in recorder.seen)
    assert unannounced < len(recorder.seen) // 10


async def test_events_expect_an_empty_200() -> None:
    recorder = Recorder(answer=lambda request: _ok_with_a_body(request))
    sim = bucharest(caller_data=False)
    async with receiving(recorder, sim, token=TOKEN):
        advance(sim, 10 * 60)
        await sent_all(sim)
    problems = feed_of(sim).event_problems
    assert problems and all(p.endswith("a body where none is expected") for p in problems)


def _ok_with_a_body(request: Request) -> Response:
    return Response("OK", 200)


async def test_the_caller_data_request_is_the_documented_get() -> None:
    recorder = Recorder()
    sim = bucharest(events=False)
    async with receiving(recorder, sim, token=TOKEN):
        advance(sim, 5 * 60)
        await sent_all(sim)
    asked: list[Seen] = recorder.seen
    assert asked and all(s.route == "caller_data" and s.method == "GET" for s in asked)
    assert all(s.keys == ["telephone", "dnid", "token"] for s in asked)
    assert all(s.params["dnid"] == feed_of(sim).did for s in asked)


async def test_a_push_only_pbx_has_no_api_and_no_url_in_its_config() -> None:
    sim = bucharest()
    assert sim.config_entry(1234, poll_interval=1.0) == {"name": "bucharest", "kind": "while1"}
    async with serve({"w1": sim.app}) as ports, httpx.AsyncClient() as client:
        base = f"http://127.0.0.1:{ports['w1']}"
        assert (await client.get(f"{base}/api/old/get")).status_code == 404
        assert (await client.get(f"{base}{CONTROL_PATH}")).json()["url"] == ""
        status = (await client.get(sim.url(ports["w1"]))).json()
    assert status["did"] == feed_of(sim).did and status["answers"] == []


async def test_it_is_silent_until_it_has_a_url() -> None:
    sim = bucharest()
    assert sim.hooks is not None
    advance(sim, 10 * 60)
    assert sim.hooks.queued == 0 and feed_of(sim).answers.maxlen
