"""Engine.perform: permission, capability, validation, dispatch, audit, events, refresh."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from pbxtui.drivers.base import ActionRefused, PbxTimeout, PbxUnreachable
from pbxtui.model import (
    ActionOutcome,
    ActionRequest,
    ActionResult,
    ActionStatus,
    Agent,
    AgentState,
    AttendedTransfer,
    BlindTransfer,
    Call,
    Callback,
    CallState,
    Capabilities,
    ChangeKind,
    Click2Call,
    Click2CallOption,
    EngineUpdate,
    FetchDirectory,
    Hangup,
    IvrCall,
    IvrCallRequest,
    PauseAgent,
    PlaceCall,
    Resource,
    ScheduleCall,
    UnpauseAgent,
)

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def a_call(pbx: str = "hq") -> Call:
    return Call(
        pbx=pbx,
        id="c9",
        channel="SIP/201-0000c9",
        caller="0501234567",
        callee="201",
        state=CallState.UP,
        duration=30,
    )


def an_agent(pbx: str = "hq") -> Agent:
    return Agent(
        pbx=pbx,
        id="a201",
        extension="201",
        name="Alice",
        queue_id="sales",
        state=AgentState.AVAILABLE,
    )


class Events:
    def __init__(self) -> None:
        self.updates: list[EngineUpdate] = []

    def __call__(self, update: EngineUpdate) -> None:
        if update.resource is None:
            self.updates.append(update)

    @property
    def texts(self) -> list[str]:
        return [c.text for u in self.updates for c in u.changes]


async def test_a_hangup_acts_on_the_confirmed_snapshot_and_is_audited(
    make_config: Any, make_engine: Any, fakes: Any, audit: Any
) -> None:
    events = Events()
    async with make_engine(make_config("hq"), audit=audit) as engine:
        engine.subscribe(events)
        confirmed = a_call()
        # The live list has moved on; the engine must still act on what was confirmed.
        fakes["hq"].data[Resource.CALLS] = []
        outcome = await engine.perform(Hangup(pbx="hq", call=confirmed))

    assert isinstance(outcome, ActionOutcome)
    assert outcome.ok and outcome.status == "ok" and outcome.status is ActionStatus.OK
    assert outcome.message == "Channel Hungup"
    assert outcome.result is not None and outcome.result.vendor_id == "x1"
    assert fakes["hq"].actions == [("hangup", (confirmed,))]
    assert fakes["hq"].actions[0][1][0] is confirmed

    # Recorded before it was sent, then with its outcome (the same id).
    [intent, entry] = audit.read_entries()
    assert (intent["result"], intent["id"]) == ("intent", entry["id"])
    assert (intent["target"], intent["params"]) == (entry["target"], entry["params"])
    assert entry["pbx"] == "hq" and entry["action"] == "hangup" and entry["result"] == "ok"
    assert entry["target"].startswith("SIP/201-0000c9 (0501234567 → 201, ")
    assert entry["params"] == {"call_id": "c9"}
    assert entry["message"] == "Channel Hungup"
    assert entry["user"]

    [update] = events.updates
    [change] = update.changes
    assert change.kind is ChangeKind.ACTION and change.key == confirmed.key
    assert change.text.startswith("hq: hang up SIP/201-0000c9 (0501234567 → 201, ")
    assert change.text.endswith(" → ok: Channel Hungup")
    assert update.state.name == "hq"


async def test_each_action_reaches_its_driver_method(
    make_config: Any, make_engine: Any, fakes: Any
) -> None:
    call, agent = a_call(), an_agent()
    c2c = Click2Call(source="201", destination="0501234567", timeout=1)
    requests = [
        BlindTransfer(pbx="hq", call=call, destination="300"),
        PauseAgent(pbx="hq", agent=agent, reason="Lunch"),
        UnpauseAgent(pbx="hq", agent=agent),
        PlaceCall(pbx="hq", dial=c2c),
        ScheduleCall(
            pbx="hq",
            dial=Click2Call(
                source="201", destination="0", scheduled_at=datetime(2099, 1, 1, tzinfo=UTC)
            ),
        ),
    ]
    async with make_engine(make_config("hq")) as engine:
        outcomes = [await engine.perform(r) for r in requests]
        phonebook = await engine.perform(FetchDirectory(pbx="hq"))
    assert [o.status for o in outcomes[:4]] == ["ok"] * 4
    assert outcomes[4].status == "unsupported"  # the fake has no scheduled calls
    assert fakes["hq"].actions == [
        ("transfer", (call, "300")),
        ("pause_agent", (agent, "Lunch")),
        ("unpause_agent", (agent,)),
        ("click2call", (c2c,)),
        ("phone_directory", ()),
    ]
    assert phonebook.ok and [e.number for e in phonebook.entries] == ["200"]
    assert phonebook.message == "1 entries"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ActionRefused("hq", "No such channel"), "No such channel"),
        (PbxUnreachable("hq", "connection refused"), "connection refused"),
        (PbxTimeout("hq", "no answer within 0.1 s"), "may still have carried it out"),
    ],
)
async def test_driver_errors_are_failures_with_their_reason(
    make_config: Any, make_engine: Any, fakes: Any, audit: Any, error: Exception, expected: str
) -> None:
    async with make_engine(make_config("hq"), audit=audit) as engine:
        fakes["hq"].action_error = error
        outcome = await engine.perform(Hangup(pbx="hq", call=a_call()))
    assert (outcome.ok, outcome.status) == (False, "failed")
    assert expected in outcome.message
    assert len(fakes["hq"].actions) == 1
    assert [e["result"] for e in audit.read_entries()] == ["intent", "failed"]


async def test_a_vendor_no_is_a_failure_with_the_vendor_words(
    make_config: Any, make_engine: Any, fakes: Any
) -> None:
    async with make_engine(make_config("hq")) as engine:
        fakes["hq"].action_result = ActionResult(ok=False, message="Agent not in queue")
        outcome = await engine.perform(UnpauseAgent(pbx="hq", agent=an_agent()))
    assert (outcome.ok, outcome.status, outcome.message) == (False, "failed", "Agent not in queue")
    assert outcome.result is not None and not outcome.result.ok


async def test_an_action_that_never_returns_is_bounded(
    make_config: Any, make_engine: Any, fakes: Any
) -> None:
    async with make_engine(make_config("hq")) as engine:
        fakes["hq"].action_delay = 30.0
        with anyio.fail_after(2):
            outcome = await engine.perform(Hangup(pbx="hq", call=a_call()))
    assert outcome.status == "failed" and "may still have carried it out" in outcome.message


async def test_unsupported_actions_never_reach_the_driver(
    make_config: Any, make_engine: Any, fakes: Any, audit: Any
) -> None:
    async with make_engine(make_config("hq"), audit=audit) as engine:
        outcome = await engine.perform(AttendedTransfer(pbx="hq", call=a_call(), destination="300"))
        callback = await engine.perform(Callback(pbx="hq", number1="0501", number2="0502"))
    assert (outcome.ok, outcome.status) == (False, "unsupported")
    assert outcome.message == "attended transfer is not supported by hq's API (Fake PBX)"
    assert callback.status == "unsupported"
    assert fakes["hq"].actions == []
    assert [e["result"] for e in audit.read_entries()] == ["unsupported", "unsupported"]


@pytest.mark.parametrize("where", ["engine", "settings", "pbx"])
async def test_read_only_sends_nothing(
    make_config: Any, make_engine: Any, fakes: Any, audit: Any, where: str
) -> None:
    config = {
        "engine": make_config("hq", "eu"),
        "settings": make_config("hq", "eu", settings="[settings]\nread_only = true\n"),
        "pbx": make_config("hq", "eu", hq__read_only=True),
    }[where]
    events = Events()
    async with make_engine(config, audit=audit, read_only=where == "engine") as engine:
        engine.subscribe(events)
        assert engine.is_read_only("hq")
        assert engine.state()["hq"].health.read_only
        outcome = await engine.perform(Hangup(pbx="hq", call=a_call()))
        paused = await engine.perform(PauseAgent(pbx="hq", agent=an_agent()))
        eu = await engine.perform(Hangup(pbx="eu", call=a_call("eu")))
    assert (outcome.ok, outcome.status) == (False, "read-only")
    assert outcome.message == "hq is read-only: hang up refused"
    assert paused.status == "read-only"
    assert fakes["hq"].actions == []
    assert [e["result"] for e in audit.read_entries()[:2]] == ["read-only", "read-only"]
    # Only the per-PBX flag leaves the other PBX writable.
    assert eu.status == ("ok" if where == "pbx" else "read-only")
    assert len(fakes["eu"].actions) == (1 if where == "pbx" else 0)
    assert "→ read-only: hq is read-only" in events.texts[0]


async def test_invalid_requests_are_refused_before_the_driver(
    make_config: Any, make_engine: Any, fakes: Any, audit: Any
) -> None:
    requests = [
        BlindTransfer(pbx="hq", call=a_call(), destination="30O"),
        BlindTransfer(pbx="hq", call=a_call(), destination=""),
        PauseAgent(pbx="hq", agent=an_agent(), reason="a\tb"),
        Hangup(pbx="hq", call=a_call("eu")),
        Hangup(pbx="nowhere", call=a_call()),
    ]
    async with make_engine(make_config("hq", "eu"), audit=audit) as engine:
        outcomes = [await engine.perform(r) for r in requests]
    assert [o.status for o in outcomes] == ["refused"] * 5
    assert "not a phone number" in outcomes[0].message
    assert "destination is missing" in outcomes[1].message
    assert "control characters" in outcomes[2].message
    assert "the call is on eu, not hq" in outcomes[3].message
    assert "no PBX named 'nowhere'" in outcomes[4].message
    assert fakes["hq"].actions == [] and fakes["eu"].actions == []
    assert [e["result"] for e in audit.read_entries()] == ["refused"] * 5


async def test_a_successful_action_refreshes_its_pbx(
    make_config: Any, make_engine: Any, fakes: Any, running: Any, wait_until: Any
) -> None:
    engine = make_engine(make_config("hq", "eu", poll_interval=60.0))
    async with running(engine):
        hq, eu = fakes["hq"], fakes["eu"]
        await wait_until(lambda: hq.fetches[Resource.CALLS] == 1 == eu.fetches[Resource.CALLS])
        failed = await engine.perform(Hangup(pbx="hq", call=a_call("eu")))
        assert failed.status == "refused"
        await anyio.sleep(0.1)
        assert hq.fetches[Resource.CALLS] == 1  # nothing changed: no refresh

        await engine.perform(Hangup(pbx="hq", call=a_call()))
        await wait_until(lambda: hq.fetches[Resource.CALLS] == 2, timeout=1)
        assert eu.fetches[Resource.CALLS] == 1


async def test_a_long_action_does_not_hold_up_polling(
    make_config: Any, make_engine: Any, fakes: Any, running: Any, wait_until: Any
) -> None:
    engine = make_engine(make_config("hq"))
    async with running(engine):
        hq = fakes["hq"]
        hq.action_gate = anyio.Event()  # e.g. a click2call that rings until answered
        outcomes: list[ActionOutcome] = []

        async def act() -> None:
            c2c = Click2Call(source="201", destination="0501234567", timeout=30)
            request = PlaceCall(pbx="hq", dial=c2c)
            outcomes.append(await engine.perform(request))

        async with anyio.create_task_group() as tg:
            tg.start_soon(act)
            await wait_until(lambda: len(hq.actions) == 1)
            polled = hq.fetches[Resource.CALLS]
            await wait_until(lambda: hq.fetches[Resource.CALLS] >= polled + 3)
            assert not outcomes  # the action is still in progress while polls went on
            hq.action_gate.set()
    assert outcomes[0].ok


async def test_no_secret_reaches_outcomes_audit_events_or_logs(
    make_config: Any,
    make_engine: Any,
    fakes: Any,
    audit: Any,
    running: Any,
    canary: str,
    wait_until: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG", logger="pbxtui")
    events: list[EngineUpdate] = []
    engine = make_engine(make_config("hq"), audit=audit)
    engine.subscribe(events.append)
    outcomes: list[ActionOutcome] = []
    async with running(engine):
        hq = fakes["hq"]
        assert hq.config.key.get_secret_value() == canary  # the canary really is configured
        # Vendors echo credentials back: in messages, errors, and even a driver bug.
        hq.action_result = ActionResult(ok=True, message=f"done for key={canary}")
        outcomes.append(await engine.perform(Hangup(pbx="hq", call=a_call())))
        hq.action_result = ActionResult(ok=False, message=f"bad key {canary}")
        outcomes.append(await engine.perform(Hangup(pbx="hq", call=a_call())))
        hq.action_error = ActionRefused("hq", f"refused key={canary}")
        outcomes.append(await engine.perform(Hangup(pbx="hq", call=a_call())))
        hq.action_error = RuntimeError(f"driver bug with {canary}")
        outcomes.append(await engine.perform(Hangup(pbx="hq", call=a_call())))
        outcomes.append(await engine.perform(IvrCallRequest(pbx="hq", ivr=IvrCall(number="0501"))))
        hq.fail_with(RuntimeError(f"parser bug near key={canary}"))
        engine.refresh()
        await wait_until(lambda: engine.state()["hq"].health.state.value == "down")
    assert [o.status for o in outcomes] == ["ok", "failed", "failed", "failed", "unsupported"]
    texts = [repr(o) for o in outcomes]
    texts += [c.text for u in events for c in u.changes]
    texts += [repr(u.state) for u in events]
    texts.append(audit.path.read_text())
    everything = "\n".join(texts)
    assert canary not in everything
    assert everything.count("***") >= 8  # the secret was there, and was masked
    assert "RuntimeError" in caplog.text and "Traceback" in caplog.text  # bugs are logged...
    assert canary not in caplog.text  # ...scrubbed, tracebacks included


async def test_one_action_per_target_in_flight(
    make_config: Any, make_engine: Any, fakes: Any, audit: Any
) -> None:
    call = a_call()
    async with make_engine(make_config("hq"), audit=audit) as engine:
        hq = fakes["hq"]
        hq.action_gate = anyio.Event()
        outcomes: list[ActionOutcome] = []

        async def act(request: ActionRequest) -> None:
            outcomes.append(await engine.perform(request))

        async with anyio.create_task_group() as tg:
            tg.start_soon(act, Hangup(pbx="hq", call=call))
            while not hq.actions:
                await anyio.lowlevel.checkpoint()
            # A second hangup of the same call, and a transfer of it: same target.
            second = await engine.perform(Hangup(pbx="hq", call=call))
            transfer = await engine.perform(BlindTransfer(pbx="hq", call=call, destination="300"))
            assert engine.in_flight(Hangup(pbx="hq", call=call))
            hq.action_gate.set()
    assert [o.status for o in (second, transfer)] == ["in-flight", "in-flight"]
    assert outcomes[0].ok and len(hq.actions) == 1
    assert not engine.in_flight(Hangup(pbx="hq", call=call))
    assert [e["result"] for e in audit.read_entries()] == [
        "intent",  # the first hangup, before it was sent
        "in-flight",
        "in-flight",
        "ok",
    ]


async def test_a_protected_pbx_needs_its_name_for_destructive_actions(
    make_config: Any, make_engine: Any, fakes: Any, audit: Any
) -> None:
    async with make_engine(make_config("hq", hq__protected=True), audit=audit) as engine:
        assert engine.is_protected("hq")
        refused = await engine.perform(Hangup(pbx="hq", call=a_call()))
        wrong = await engine.perform(Hangup(pbx="hq", call=a_call(), confirmed_pbx="eu"))
        paused = await engine.perform(PauseAgent(pbx="hq", agent=an_agent(), reason="Lunch"))
        done = await engine.perform(Hangup(pbx="hq", call=a_call(), confirmed_pbx="hq"))
    assert (refused.status, wrong.status) == ("not-confirmed", "not-confirmed")
    assert "hq is protected: type its name" in refused.message
    assert paused.ok  # pausing ends no call: no name needed
    assert done.ok
    assert [a[0] for a in fakes["hq"].actions] == ["pause_agent", "hangup"]


async def test_options_an_api_ignores_are_refused_not_dropped(
    make_config: Any, make_engine: Any, fakes: Any
) -> None:
    async with make_engine(make_config("hq")) as engine:
        engine.driver("hq").capabilities = Capabilities(  # type: ignore[misc]
            engine.capabilities("hq").resources,
            engine.capabilities("hq").actions,
            frozenset({Click2CallOption.TIMEOUT}),
        )
        reverse = Click2Call(source="201", destination="0501234567", reverse=True)
        outcome = await engine.perform(PlaceCall(pbx="hq", dial=reverse))
        timeout = Click2Call(source="201", destination="0501234567", timeout=20)
        fine = await engine.perform(PlaceCall(pbx="hq", dial=timeout))
    assert outcome.status == "unsupported"
    assert outcome.message == "hq's API ignores reverse on click2call: leave it out"
    assert fine.ok and [a[0] for a in fakes["hq"].actions] == ["click2call"]
