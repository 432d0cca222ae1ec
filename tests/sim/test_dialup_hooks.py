"""The dialup simulator (GlobalEx brand) sends GlobalEx's incoming-call alerts and end-call
events, received here by a real HTTP server, in each spelling the vendor's texts use."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pbxtui.sim import SimulatedPbx, dialup
from pbxtui.sim.dialup_hooks import DialupHookQuirks
from pbxtui.sim.scenario import ScenarioSpec
from tests.sim.conftest import Recorder, Seen, advance, receiving, sent_all

SPEC = ScenarioSpec(
    seed=33,
    extensions=12,
    first_extension=101,
    queues=(("630", "Sales"),),
    calls_per_minute=10.0,
)
TEMPLATE = [
    "caller", "target", "time", "duration", "ivruniqueid", "type", "status", "targetextension",
    "callerextension", "did", "queueid", "queuename", "record", "dialtime", "domain",
    "domain_name",
]  # fmt: skip
TABLE = [
    {"ivruniqueid": "ivruniqeid", "callerextension": "callerextention", "queueid": "queuid"}.get(
        name, name
    )
    for name in TEMPLATE
]
DOCUMENTED = {"ANSWER", "NO ANSWER", "BUSY", "CONGESTION"}


def branch(**quirks: Any) -> SimulatedPbx:
    return dialup.build(
        "branch", spec=SPEC, org="branch-org", hook_quirks=DialupHookQuirks(**quirks)
    )


async def received(sim: SimulatedPbx, minutes: int) -> list[Seen]:
    """Every hook the simulator sent for ``minutes`` of its calls."""
    recorder = Recorder()
    async with receiving(recorder, sim, token="t0ken"):
        advance(sim, minutes * 60)
        await sent_all(sim)
    return recorder.seen


async def test_incoming_alert_names_the_ringing_extension_and_the_call() -> None:
    sim = branch()
    seen = await received(sim, 10)
    alerts = [s for s in seen if s.route == "incoming"]
    assert alerts and all(s.path == "/hook/branch/incoming" for s in alerts)
    for alert in alerts:
        assert alert.method == "GET"
        assert alert.keys == ["callid", "ext", "caller", "target", "token"]
        assert alert.params["ext"] in sim.scenario.extensions
        assert re.fullmatch(r"\d+\.\d+", alert.params["callid"])
    # The alert's callid is the call's id in its end-call event.
    ended = {s.params["ivruniqueid"] for s in seen if s.route == "end_call"}
    assert ended & {a.params["callid"] for a in alerts}


async def test_end_call_carries_the_templates_names_and_documented_statuses() -> None:
    sim = branch()
    seen = await received(sim, 40)
    ends = [s for s in seen if s.route == "end_call"]
    statuses = {s.params["status"] for s in ends}
    assert statuses == DOCUMENTED
    for end in ends:
        params = end.params
        assert end.keys == [*TEMPLATE, "token"]
        assert params["domain_name"] == "branch-org"
        assert int(params["dialtime"]) <= int(params["duration"])
        assert params["type"] in ("Incoming", "Outgoing")
        if params["status"] == "ANSWER":
            assert params["record"].endswith(f"-{params['ivruniqueid']}.wav")
        else:
            assert params["record"] == "" and params["dialtime"] == "0"
        if params["type"] == "Incoming":
            assert params["did"] == params["target"] and params["did"]
        if params["queueid"]:
            assert (params["queueid"], params["queuename"]) == ("630", "Sales")


async def test_an_answered_inbound_call_reports_who_took_it() -> None:
    sim = branch()
    seen = await received(sim, 20)
    taken = [
        s.params
        for s in seen
        if s.route == "end_call"
        and s.params["status"] == "ANSWER"
        and s.params["type"] == "Incoming"
    ]
    assert taken
    assert all(p["targetextension"] in sim.scenario.extensions for p in taken)
    assert all(p["callerextension"] == "" for p in taken)


async def test_the_alert_can_use_the_templates_taqrget_spelling() -> None:
    seen = await received(branch(target_spelling="taqrget"), 10)
    alerts = [s for s in seen if s.route == "incoming"]
    assert alerts
    assert all(s.keys == ["callid", "ext", "caller", "taqrget", "token"] for s in alerts)


async def test_end_call_can_use_the_parameter_tables_misspellings() -> None:
    seen = await received(branch(end_call_names="table"), 10)
    ends = [s for s in seen if s.route == "end_call"]
    assert ends and all(s.keys == [*TABLE, "token"] for s in ends)
    assert not any("ivruniqueid" in s.params for s in ends)


async def test_status_words_can_be_the_observed_ones() -> None:
    seen = await received(branch(status_words="observed"), 40)
    statuses = {s.params["status"] for s in seen if s.route == "end_call"}
    assert "NO ANSWER" not in statuses
    assert statuses <= {"ANSWER", "NOANSWER", "ABANDONE", "BUSY", "CONGESTION"}
    assert {"ANSWER", "ABANDONE", "NOANSWER"} <= statuses


@pytest.mark.parametrize("retries", [1, 2])
async def test_a_retried_end_call_arrives_again_unchanged(retries: int) -> None:
    seen = await received(branch(end_call_retries=retries), 10)
    ends = [s.query for s in seen if s.route == "end_call"]
    complete = len(ends) - len(ends) % (retries + 1)
    for start in range(0, complete, retries + 1):
        assert len(set(ends[start : start + retries + 1])) == 1
    assert len(set(ends)) == pytest.approx(len(ends) / (retries + 1), abs=1)
