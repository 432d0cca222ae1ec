"""Requests: validation where each is declared, target descriptions, audit params, JSON (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pbxtui.model import (
    REQUESTS,
    ActionRequest,
    AttendedTransfer,
    BlindTransfer,
    Call,
    Callback,
    Click2Call,
    FetchDirectory,
    Hangup,
    IvrCall,
    IvrCallRequest,
    PauseAgent,
    PlaceCall,
    ScheduleCall,
    UnpauseAgent,
)
from pbxtui.model.records import Agent

CALL = Call(
    pbx="hq",
    id="c1",
    channel="SIP/201-0000a1",
    caller="0501234567",
    callee="201",
    extension="201",
)
AGENT = Agent(pbx="hq", id="a201", extension="201", name="Alice", queue_id="sales")
LATER = datetime.now(UTC) + timedelta(days=1)


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (Hangup(pbx="eu", call=CALL), "the call is on hq, not eu"),
        (BlindTransfer(pbx="hq", call=CALL, destination=""), "the destination is missing"),
        (BlindTransfer(pbx="hq", call=CALL, destination="2O1"), "not a phone"),
        (BlindTransfer(pbx="hq", call=CALL, destination="201; x"), "not a phone"),
        (AttendedTransfer(pbx="hq", call=CALL, destination="1+2"), "not a"),
        (BlindTransfer(pbx="hq", call=CALL, destination="201"), "201 is already on this call"),
        (AttendedTransfer(pbx="hq", call=CALL, destination="201"), "already on this call"),
        (PauseAgent(pbx="hq", agent=AGENT, reason="x\ny"), "control characters"),
        (PauseAgent(pbx="hq", agent=AGENT, reason="x" * 81), "longer than"),
        (UnpauseAgent(pbx="eu", agent=AGENT), "the agent is on hq, not eu"),
        (
            PlaceCall(pbx="hq", dial=Click2Call(source="201", destination="")),
            "the destination is missing",
        ),
        (
            PlaceCall(pbx="hq", dial=Click2Call(source="201", destination="201")),
            "the same number",
        ),
        (
            ScheduleCall(pbx="hq", dial=Click2Call(source="201", destination="300")),
            "needs the time",
        ),
        (
            ScheduleCall(
                pbx="hq",
                dial=Click2Call(
                    source="201", destination="300", scheduled_at=datetime(2020, 1, 1, 9, 0)
                ),
            ),
            "is in the past",
        ),
        (Callback(pbx="hq", number1="0501", number2=""), "the second number is missing"),
        (Callback(pbx="hq", number1="0501", number2="0501"), "both numbers are 0501"),
        (IvrCallRequest(pbx="hq", ivr=IvrCall(number="")), "the number is missing"),
    ],
)
def test_invalid_requests_say_why(request_: ActionRequest, problem: str) -> None:
    assert problem in request_.problem()


@pytest.mark.parametrize(
    "request_",
    [
        Hangup(pbx="hq", call=CALL),
        BlindTransfer(pbx="hq", call=CALL, destination="+97250*1#"),
        PauseAgent(pbx="hq", agent=AGENT),
        PauseAgent(pbx="hq", agent=AGENT, reason="After-call work"),
        UnpauseAgent(pbx="hq", agent=AGENT),
        PlaceCall(pbx="hq", dial=Click2Call(source="201", destination="0501234567")),
        ScheduleCall(
            pbx="hq", dial=Click2Call(source="201", destination="0501", scheduled_at=LATER)
        ),
        Callback(pbx="hq", number1="0501", number2="0502"),
        IvrCallRequest(pbx="hq", ivr=IvrCall(number="0501234567")),
        FetchDirectory(pbx="hq"),
    ],
)
def test_valid_requests_pass_and_survive_json(request_: ActionRequest) -> None:
    assert request_.problem() == ""
    assert REQUESTS.validate_json(REQUESTS.dump_json(request_)) == request_


def test_targets_name_exactly_what_is_acted_on() -> None:
    hangup = Hangup(pbx="hq", call=CALL)
    assert hangup.describe_target().startswith("SIP/201-0000a1 (0501234567 → 201, ")
    assert hangup.record_key == CALL.key
    assert hangup.destructive and hangup.kind == "hangup"

    transfer = BlindTransfer(pbx="hq", call=CALL, destination="300")
    assert transfer.summary().startswith("blind transfer SIP/201-0000a1")
    assert transfer.summary().endswith(" to 300")
    assert transfer.params() == {"destination": "300", "call_id": "c1"}
    # The in-flight guard is by target: a transfer and a hangup of one call collide.
    assert transfer.target_key() == hangup.target_key()

    pause = PauseAgent(pbx="hq", agent=AGENT, reason="Lunch")
    assert pause.describe_target() == "agent 201 (Alice) in sales"
    assert pause.params() == {"reason": "Lunch", "agent_id": "a201", "queue": "sales"}
    assert not pause.destructive

    when = datetime(2025, 1, 1, 9, 30, tzinfo=UTC)
    c2c = ScheduleCall(
        pbx="hq", dial=Click2Call(source="201", destination="0501", scheduled_at=when)
    )
    assert c2c.describe_target() == "201 → 0501 at 2025-01-01 09:30:00+00:00"
    assert c2c.params()["scheduled_at"] == "2025-01-01T09:30:00+00:00"

    callback = Callback(pbx="hq", number1="0501", number2="0502")
    assert callback.describe_target() == "0501 ↔ 0502"
    assert FetchDirectory(pbx="hq").describe_target() == "phone directory"
    assert not FetchDirectory(pbx="hq").changes_pbx
