"""History through the engine: each PBX's CDR API merged with the end-call events it pushed,
each call once; pushed calls alone where the API has no history; a failing API said, with
the pushed calls still shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pbxtui.engine import Engine
from pbxtui.engine.queries import EngineHistory, cdr_from_push
from pbxtui.model.history import CdrSource, EndStatus, HistoryPage, HistoryQuery
from pbxtui.model.push import PushEvent, PushKind
from pbxtui.sim import build_simulator
from pbxtui.sim.fleet import running_fleet
from tests.drivers.history_calls import FAR, OUTSIDE, finished, still

SINCE = timedelta(hours=2)


def ended(
    pbx: str, *, call_id: str = "", caller: str = OUTSIDE, callee: str = "205", **fields: object
) -> PushEvent:
    return PushEvent(
        pbx=pbx,
        kind=PushKind.CALL_ENDED,
        route="end_call",
        call_id=call_id,
        caller=caller,
        callee=callee,
        status=EndStatus.ANSWERED,
        status_raw="ANSWER",
        **fields,  # type: ignore[arg-type]
    )


async def read(engine: Engine, pbx: str, **fields: object) -> list[HistoryPage]:
    query = HistoryQuery(since=datetime.now(UTC) - SINCE, **fields)  # type: ignore[arg-type]
    return [page async for page in EngineHistory(engine).history(pbx, query)]


async def test_a_call_listed_and_pushed_is_one_record_and_a_pushed_one_is_added() -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still(first_extension=201))
    listed = finished(sim.scenario, caller=OUTSIDE, callee="205", direction="inbound", ago=900)
    other = finished(sim.scenario, caller=FAR, callee="206", direction="inbound", ago=600, talk=40)
    now = datetime.now(UTC)
    pushes = [
        # The same call by its unique id, and the other one without any id (its start is its
        # end less its duration: a few seconds off), and one the CDRs do not list yet.
        ended(
            "hq", call_id=listed.unique_id, duration=65, received_at=now - timedelta(seconds=835)
        ),
        ended(
            "hq",
            caller=FAR,
            callee="206",
            duration=45,
            received_at=other.start + timedelta(seconds=49),
        ),
        ended("hq", call_id="pbx21-9.9", caller="0541112222", duration=30, recording="rec-9"),
    ]
    async with running_fleet([sim]) as (config, _, _), Engine(config) as engine:
        for event in pushes:
            await engine.ingest(event)
        assert len(engine.push_history("hq")) == 3
        pages = await read(engine, "hq")
    records = [r for page in pages for r in page.records]
    assert [(r.source, r.caller) for r in records] == [
        (CdrSource.PUSH, "0541112222"),
        (CdrSource.CDR, FAR),
        (CdrSource.CDR, OUTSIDE),
    ]
    pushed = records[0]
    assert (pushed.id, pushed.recording, pushed.status) == (
        "pbx21-9.9",
        "rec-9",
        EndStatus.ANSWERED,
    )
    assert not any(page.error for page in pages)


async def test_a_pbx_without_a_history_api_shows_what_it_pushed() -> None:
    sim = build_simulator("dialup", "branch", spec=still(first_extension=201))
    sim.credentials.pop("org_token")
    async with running_fleet([sim]) as (config, _, _), Engine(config) as engine:
        await engine.ingest(ended("branch", call_id="1.1", duration=20))
        await engine.ingest(
            ended(
                "branch",
                call_id="1.2",
                duration=20,
                received_at=datetime.now(UTC) - timedelta(days=1),
            )
        )
        history = EngineHistory(engine)
        assert history.history_source("branch") == "the calls it pushed (webhooks)"
        (page,) = await read(engine, "branch")
    assert [r.id for r in page.records] == ["1.1"]  # the day-old one is out of range
    assert "has no call history" in page.note and page.error == ""
    assert sim.faults.requests == 0  # nothing asked of a PBX that has no such API


async def test_a_failing_history_api_is_said_and_the_pushed_calls_still_shown() -> None:
    sim = build_simulator("iexpbx", "ist", spec=still(first_extension=201))
    sim.faults.update({"auth_refused": True})
    async with running_fleet([sim]) as (config, _, _), Engine(config) as engine:
        await engine.ingest(ended("ist", call_id="chan-1", duration=12))
        pages = await read(engine, "ist")
    (page,) = pages
    assert page.error.startswith("ist: refused the credentials")
    assert [r.id for r in page.records] == ["chan-1"] and "pushed" in page.note


async def test_a_limit_counts_pushed_and_listed_calls_together() -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still(first_extension=201))
    for minutes in (10, 20, 30):
        finished(sim.scenario, caller=OUTSIDE, callee="205", direction="inbound", ago=minutes * 60)
    async with running_fleet([sim]) as (config, _, _), Engine(config) as engine:
        await engine.ingest(ended("hq", call_id="new", caller="0541112222", duration=5))
        pages = await read(engine, "hq", limit=2)
    records = [r for page in pages for r in page.records]
    assert [r.source for r in records] == [CdrSource.PUSH, CdrSource.CDR]


def test_only_ended_and_missed_events_are_history() -> None:
    ringing = PushEvent(pbx="hq", kind=PushKind.CALL_RINGING, route="incoming", caller=OUTSIDE)
    missed = PushEvent(pbx="hq", kind=PushKind.CALL_MISSED, route="events", caller=OUTSIDE)
    assert cdr_from_push(ringing) is None
    record = cdr_from_push(missed)
    assert record is not None and record.status is EndStatus.NO_ANSWER
    assert record.answered_by == "" and record.source is CdrSource.PUSH
