"""ActionRequest: validation, target descriptions and audit params (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pbxtui.drivers.base import Action, Click2Call, IvrCall
from pbxtui.engine.actions import ActionRequest, validate
from pbxtui.model import Agent, Call

CALL = Call(pbx="hq", id="c1", channel="SIP/201-0000a1", caller="0501234567", callee="201")
AGENT = Agent(pbx="hq", id="a201", extension="201", name="Alice", queue_id="sales")


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (ActionRequest(Action.HANGUP, "hq"), "needs the call"),
        (ActionRequest(Action.HANGUP, "eu", call=CALL), "the call is on hq, not eu"),
        (ActionRequest(Action.TRANSFER, "hq", call=CALL), "the destination is missing"),
        (ActionRequest(Action.TRANSFER, "hq", call=CALL, destination="2O1"), "not a phone"),
        (ActionRequest(Action.TRANSFER, "hq", call=CALL, destination="201; x"), "not a phone"),
        (ActionRequest(Action.ATTENDED_TRANSFER, "hq", call=CALL, destination="1+2"), "not a"),
        (ActionRequest(Action.PAUSE, "hq", reason="Lunch"), "needs the agent"),
        (ActionRequest(Action.UNPAUSE, "hq"), "needs the agent"),
        (ActionRequest(Action.PAUSE, "hq", agent=AGENT, reason="x\ny"), "control characters"),
        (ActionRequest(Action.PAUSE, "hq", agent=AGENT, reason="x" * 81), "longer than"),
        (ActionRequest(Action.CLICK2CALL, "hq"), "needs a source and a destination"),
        (
            ActionRequest(Action.CLICK2CALL, "hq", click2call=Click2Call("201", "")),
            "the destination is missing",
        ),
        (
            ActionRequest(Action.SCHEDULED_CALL, "hq", click2call=Click2Call("201", "300")),
            "needs the time",
        ),
        (ActionRequest(Action.CALLBACK, "hq", number1="0501"), "the second number is missing"),
        (ActionRequest(Action.CALL_IVR, "hq"), "needs the number"),
    ],
)
def test_invalid_requests_say_why(request_: ActionRequest, problem: str) -> None:
    assert problem in validate(request_)


@pytest.mark.parametrize(
    "request_",
    [
        ActionRequest(Action.HANGUP, "hq", call=CALL),
        ActionRequest(Action.TRANSFER, "hq", call=CALL, destination="+97250*1#"),
        ActionRequest(Action.PAUSE, "hq", agent=AGENT),
        ActionRequest(Action.PAUSE, "hq", agent=AGENT, reason="After-call work"),
        ActionRequest(Action.UNPAUSE, "hq", agent=AGENT),
        ActionRequest(Action.CLICK2CALL, "hq", click2call=Click2Call("201", "0501234567")),
        ActionRequest(Action.CALLBACK, "hq", number1="0501", number2="0502"),
        ActionRequest(Action.CALL_IVR, "hq", ivr=IvrCall("0501234567")),
        ActionRequest(Action.PHONEBOOK, "hq"),
    ],
)
def test_valid_requests_pass(request_: ActionRequest) -> None:
    assert validate(request_) == ""


def test_targets_name_exactly_what_is_acted_on() -> None:
    hangup = ActionRequest(Action.HANGUP, "hq", call=CALL)
    assert hangup.describe_target().startswith("SIP/201-0000a1 (0501234567 → 201, ")
    assert hangup.key == CALL.key

    transfer = ActionRequest(Action.TRANSFER, "hq", call=CALL, destination="300")
    assert transfer.summary().startswith("blind transfer SIP/201-0000a1")
    assert transfer.summary().endswith(" to 300")
    assert transfer.params() == {"destination": "300", "call_id": "c1"}

    pause = ActionRequest(Action.PAUSE, "hq", agent=AGENT, reason="Lunch")
    assert pause.describe_target() == "agent 201 (Alice) in sales"
    assert pause.params() == {"reason": "Lunch", "agent_id": "a201", "queue": "sales"}

    when = datetime(2025, 1, 1, 9, 30, tzinfo=UTC)
    c2c = ActionRequest(
        Action.SCHEDULED_CALL, "hq", click2call=Click2Call("201", "0501", scheduled_at=when)
    )
    assert c2c.describe_target() == "201 → 0501 at 2025-01-01T09:30:00+00:00"
    assert c2c.params()["scheduled_at"] == "2025-01-01T09:30:00+00:00"

    callback = ActionRequest(Action.CALLBACK, "hq", number1="0501", number2="0502")
    assert callback.describe_target() == "0501 ↔ 0502"
    assert ActionRequest(Action.PHONEBOOK, "hq").describe_target() == "phone directory"
