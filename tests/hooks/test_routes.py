"""Every route, as each vendor sends it, over real HTTP: GET query, POST form, POST JSON."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hooks.conftest import TOKEN, receiving

VIA = ["get", "form", "json"]

# (pbx, route, what the vendor sends, what the event says)
CASES: list[tuple[str, str, dict[str, str], dict[str, Any]]] = [
    (
        "branch",
        "incoming",
        # GlobalEx's own template, with its "taqrget" spelling
        {"callid": "1700000000.12", "ext": "101", "caller": "0501234567", "taqrget": "0722"},
        {
            "kind": "call_ringing",
            "call_id": "1700000000.12",
            "extension": "101",
            "caller": "0501234567",
            "callee": "0722",
            "direction": "inbound",
        },
    ),
    (
        "branch",
        "incoming",
        {"Callid": "c2", "Ext": "102", "Caller": "0509999999", "Target": "0733"},  # the table's
        {"call_id": "c2", "extension": "102", "caller": "0509999999", "callee": "0733"},
    ),
    (
        "branch",
        "end_call",
        # the URL template's names
        {
            "caller": "0501234567",
            "target": "0722",
            "time": "1700000000",
            "duration": "95",
            "ivruniqueid": "1700000000.77",
            "type": "Incoming",
            "status": "ANSWER",
            "targetextension": "101",
            "callerextension": "",
            "did": "0722",
            "queueid": "q7",
            "queuename": "Sales",
            "record": "rec-1700000000.77.wav",
            "dialtime": "80",
            "domain": "voip.example.co.il",
            "domain_name": "branch-org",
        },
        {
            "kind": "call_ended",
            "call_id": "1700000000.77",
            "caller": "0501234567",
            "callee": "0722",
            "extension": "101",
            "did": "0722",
            "queue": "q7",
            "queue_name": "Sales",
            "direction": "inbound",
            "status": "answered",
            "status_raw": "ANSWER",
            "duration": 95,
            "billable": 80,
            "recording": "rec-1700000000.77.wav",
        },
    ),
    (
        "branch",
        "end_call",
        # the parameter table's misspellings, an outgoing call, a status in two words
        {
            "caller": "101",
            "target": "0509999999",
            "ivruniqeid": "1700000001.5",
            "type": "Outgoing",
            "status": "NO ANSWER",
            "callerextention": "101",
            "queuid": "q9",
            "duration": "31",
            "dialtime": "0",
        },
        {
            "call_id": "1700000001.5",
            "extension": "101",
            "queue": "q9",
            "direction": "outbound",
            "status": "no_answer",
            "status_raw": "NO ANSWER",
            "duration": 31,
            "billable": 0,
        },
    ),
    (
        "ist",
        "call_start",
        {"caller": "02161234567", "called": "101", "chan": "SIP/trunk-00000a1"},
        {
            "kind": "call_started",
            "call_id": "SIP/trunk-00000a1",
            "caller": "02161234567",
            "callee": "101",
        },
    ),
    (
        "ist",
        "hangup",
        {"chan": "SIP/trunk-00000a1", "callstatus": "ANSER", "callduration": "42"},
        {
            "kind": "call_ended",
            "call_id": "SIP/trunk-00000a1",
            "status": "answered",
            "status_raw": "ANSER",
            "duration": 42,
        },
    ),
    (
        "ist",
        "hangup",
        {"chan": "SIP/trunk-00000b2", "callstatus": "CANCEL", "callduration": "0"},
        {"status": "cancelled", "duration": 0},
    ),
    (
        "cc",
        "events",
        {
            "event": "queue_answer",
            "direction": "IN",
            "project_id": "3",
            "agent": "ion.popescu",
            "remote_number": "0700000000",
            "telephone": "0700000000",
            "dnid": "0210000000",
            "dnid_identifier": "main",
            "contact_id": "12345",
            "queue": "sales-queue",
            "uniqueid": "1234567890.12",
        },
        {
            "kind": "call_answered",
            "call_id": "1234567890.12",
            "caller": "0700000000",
            "callee": "0210000000",
            "agent": "ion.popescu",
            "queue": "sales-queue",
            "did": "0210000000",
            "direction": "inbound",
        },
    ),
    (
        "cc",
        "events",
        {"event": "dial_answer", "agent": "a1", "remote_number": "0711", "uniqueid": "9.1"},
        {"kind": "call_answered", "call_id": "9.1", "agent": "a1", "caller": "0711"},
    ),
    (
        "cc",
        "events",
        {"event": "call_forward_answer", "remote_number": "0712", "uniqueid": "9.2"},
        {"kind": "call_answered", "call_id": "9.2"},
    ),
    (
        "cc",
        "events",
        {"event": "queue_answer_end", "agent": "a1", "remote_number": "0711", "uniqueid": "9.1"},
        {"kind": "call_ended", "call_id": "9.1", "status": "answered"},
    ),
    (
        "cc",
        "events",
        {
            "event": "outgoing_end",
            "direction": "OUT",
            "agent": "a2",
            "remote_number": "0744444444",
            "dnid": "0210000000",
            "uniqueid": "9.3",
        },
        {
            "kind": "call_ended",
            "call_id": "9.3",
            "caller": "0210000000",
            "callee": "0744444444",
            "direction": "outbound",
            "status": None,
        },
    ),
    (
        "cc",
        "events",
        {
            "event": "missed_calls",
            "direction": "IN",
            "remote_number": "0755555555",
            "dnid": "0210000000",
            "queue": "sales-queue",
            "uniqueid": "9.4",
            "queue_hold_time": "63",
            "fail_reason": "queue_hangup",
            "explain_reason": "caller hung up while waiting",
        },
        {
            "kind": "call_missed",
            "call_id": "9.4",
            "caller": "0755555555",
            "queue": "sales-queue",
            "hold_time": 63,
            "status": "abandoned",
            "status_raw": "queue_hangup",
            "reason": "queue_hangup: caller hung up while waiting",
        },
    ),
]


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize(
    ("pbx", "route", "sent", "expected"),
    CASES,
    ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)],
)
async def test_each_route_reads_the_vendors_parameters(
    pbx: str, route: str, sent: dict[str, str], expected: dict[str, Any], via: str
) -> None:
    async with receiving() as hooks:
        response = await hooks.hook(f"/hook/{pbx}/{route}", sent, via=via)
        assert (response.status_code, response.content) == (200, b"")
        event = await hooks.events.next()
    got = event.model_dump(mode="json")
    assert {key: got[key] for key in expected} == expected
    assert (event.pbx, event.route) == (pbx, route)
    assert event.raw == {k.lower(): v for k, v in sent.items()}  # the vendor's words, no token
    assert hooks.stats.of(pbx).accepted == 1 and hooks.stats.of(pbx).last_event_at is not None


async def test_the_hangup_template_without_its_equals_sign() -> None:
    """IEXPBX documents ``?chan={chanid}&callstatus{status}&callduration={duration}``."""
    async with receiving() as hooks:
        response = await hooks.client.get(
            f"/hook/ist/hangup?chan=SIP/101-00f&callstatusNOANSWER&callduration=0&token={TOKEN}"
        )
        assert response.status_code == 200
        event = await hooks.events.next()
        assert (event.status, event.status_raw, event.duration) == ("no_answer", "NOANSWER", 0)
        # the form body carries it the same way
        response = await hooks.client.post(
            "/hook/ist/hangup",
            params={"token": TOKEN},
            content=b"chan=SIP/101-010&callstatusBUSY&callduration=3",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200
        event = await hooks.events.next()
        assert (event.call_id, event.status, event.duration) == ("SIP/101-010", "busy", 3)


async def test_a_placeholder_the_pbx_left_unfilled_is_no_value() -> None:
    async with receiving() as hooks:
        sent = {"callid": "{callid}", "ext": "103", "caller": "0501", "taqrget": "{taqrget}"}
        assert (await hooks.hook("/hook/branch/incoming", sent)).status_code == 200
        event = await hooks.events.next()
    assert (event.call_id, event.callee, event.extension) == ("", "", "103")


async def test_events_reach_the_sink_in_the_order_they_arrived() -> None:
    async with receiving() as hooks:
        for n in range(30):
            assert (await hooks.hook("/hook/ist/call_start", {"chan": f"c{n}"})).status_code == 200
        seen = [(await hooks.events.next()).call_id for _ in range(30)]
    assert seen == [f"c{n}" for n in range(30)]


async def test_body_parameters_win_over_the_querys_and_the_first_of_a_repeat_wins() -> None:
    async with receiving() as hooks:
        response = await hooks.client.post(
            "/hook/ist/call_start?token=CANARY-hook-t0ken&chan=from-query&caller=1&caller=2",
            data={"chan": "from-body"},
        )
        assert response.status_code == 200
        event = await hooks.events.next()
    assert (event.call_id, event.caller) == ("from-body", "1")


async def test_bearer_token_and_json_sent_as_text() -> None:
    async with receiving() as hooks:
        response = await hooks.client.post(
            "/hook/cc/events",
            content=b'{"event": "dial_answer", "uniqueid": 12.5, "remote_number": 700}',
            headers={
                "Authorization": f"Bearer {'CANARY-hook-t0ken'}",
                "Content-Type": "text/plain",
            },
        )
        assert response.status_code == 200
        event = await hooks.events.next()
    assert (event.call_id, event.caller) == ("12.5", "700")


async def test_the_token_sent_in_another_field_is_masked_in_the_event() -> None:
    """A sender's template that puts the token in a wrong field too: the event never keeps
    it, whether or not the scrubber was told of it (here it was not)."""
    from pbxtui.redact import secrets

    secrets.clear()
    async with receiving() as hooks:
        sent = {"chan": f"SIP/{TOKEN}", "caller": TOKEN}
        assert (await hooks.hook("/hook/ist/call_start", sent)).status_code == 200
        event = await hooks.events.next()
    assert TOKEN not in event.model_dump_json()
    assert (event.call_id, event.caller, event.raw["caller"]) == ("SIP/***", "***", "***")
