"""The console's engine in a thread of its own (``pbxtui.engine.in_thread``), over real HTTP:
it polls and acts on its own loop, while whatever it calls back (updates, progress) comes
on the opener's loop, as the console's widgets need; history and recordings are read there
too; a failure to open reaches the opener; closing ends the thread."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx
import pytest

from pbxtui.config import PbxConfig
from pbxtui.drivers.base import Driver
from pbxtui.engine import Engine, in_thread
from pbxtui.engine.in_thread import EngineThread, HistoryInThread, MediaInThread
from pbxtui.engine.media import EngineMedia
from pbxtui.engine.queries import EngineHistory
from pbxtui.model import (
    ActionStatus,
    Click2Call,
    EngineUpdate,
    PlaceCall,
    Resource,
)
from pbxtui.model.history import HistoryQuery
from pbxtui.model.media import DownloadProgress
from pbxtui.model.port import LiveEngine
from pbxtui.sim import build_simulator
from tests.conftest import served
from tests.drivers.history_calls import OUTSIDE, finished, still

GUARD = 30.0  # only a failure guard: each wait ends when its condition holds


def engine_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "pbxtui-engine"]


async def until(condition: object, what: str) -> None:
    with anyio.fail_after(GUARD):
        while not condition():  # type: ignore[operator]  # noqa: ASYNC110
            await anyio.sleep(0.01)


async def test_it_polls_and_acts_in_its_thread_and_calls_back_on_the_openers_loop() -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still(first_extension=201))
    here = threading.get_ident()
    seen: list[tuple[int, EngineUpdate]] = []
    async with served(sim, poll_interval=0.2) as config:
        engine = EngineThread(Engine(config))
        live: LiveEngine = engine
        unsubscribe = live.subscribe(lambda u: seen.append((threading.get_ident(), u)))
        async with live, anyio.create_task_group() as group:
            group.start_soon(live.run)
            await until(
                lambda: any(u.resource is Resource.CALLS and u.pbx == "hq" for _, u in seen),
                "a calls update",
            )
            assert {thread for thread, _ in seen} == {here}
            assert live.state()["hq"].resource(Resource.CALLS).ok
            assert len(engine_threads()) == 1

            idle = sim.scenario.idle_extensions()[0]
            outcome = await live.perform(
                PlaceCall(pbx="hq", dial=Click2Call(source=idle, destination="0501234567"))
            )
            assert outcome.status is ActionStatus.OK, outcome
            asked = sim.faults.requests
            live.refresh("hq")
            await until(lambda: sim.faults.requests > asked, "a poll asked for by refresh")
            group.cancel_scope.cancel()
        unsubscribe()
    assert engine_threads() == []


async def test_history_and_recordings_are_read_there_and_progress_told_here(
    tmp_path: Path,
) -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still(first_extension=201))
    call = finished(sim.scenario, caller=OUTSIDE, callee="201", direction="inbound", ago=300)
    here = threading.get_ident()
    progress: list[tuple[int, DownloadProgress]] = []
    async with served(sim) as config:
        engine = Engine(config)
        live = EngineThread(engine)
        async with live:
            history = HistoryInThread(EngineHistory(engine), live.loop)
            media = MediaInThread(EngineMedia(engine), live.loop)
            query = HistoryQuery(since=datetime.now(UTC) - timedelta(hours=2))
            pages = [page async for page in history.history("hq", query)]
            ids = {r.unique_id for page in pages for r in page.records}
            assert call.unique_id in ids
            async for _ in history.history("hq", query):
                break  # left early: the reader there is closed, nothing hangs
            done = await media.download_recording(
                "hq",
                call.unique_id,
                tmp_path / "a.wav",
                lambda p: progress.append((threading.get_ident(), p)),
            )
            assert done.path.read_bytes()[:4] == b"RIFF"
            await until(lambda: progress and progress[-1][1].received == done.size, "progress")
            assert {thread for thread, _ in progress} == {here}
            assert "INFO recording" in media.recording_support("hq")
    assert engine_threads() == []


async def test_a_failure_to_open_reaches_the_opener_and_the_thread_ends() -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still(first_extension=201))

    def broken(config: PbxConfig, client: httpx.AsyncClient) -> Driver:
        raise RuntimeError("no driver today")

    async with served(sim) as config:
        with pytest.raises(RuntimeError, match="no driver today"):
            async with EngineThread(Engine(config, driver_factory=broken)):
                pass
    await until(lambda: engine_threads() == [], "the engine's thread to end")


def test_stepping_aside_for_keys_takes_at_most_half_the_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(in_thread.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(in_thread.time, "sleep", sleep)
    engine = EngineThread.__new__(EngineThread)
    engine._next_step_aside = 0.0
    engine._step_aside()
    assert slept == [in_thread.INPUT_HOLD]
    clock[0] += in_thread.INPUT_HOLD / 2
    engine._step_aside()  # keys held down: not again so soon
    assert slept == [in_thread.INPUT_HOLD]
    clock[0] += in_thread.INPUT_HOLD
    engine._step_aside()
    assert slept == [in_thread.INPUT_HOLD] * 2


def test_while_the_console_paints_the_interpreter_is_handed_over_rarely_then_as_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    intervals: list[float] = []
    monkeypatch.setattr(in_thread.sys, "setswitchinterval", intervals.append)
    engine = EngineThread.__new__(EngineThread)  # no engine needed: the interpreter's setting
    engine._paints = 0
    key = engine.painting()  # a key's answer, and a repaint that starts before its frame
    repaint = engine.painting()
    assert intervals == [in_thread.PAINT_SWITCH_INTERVAL] * 2
    key()
    key()  # called twice (a frame drawn twice): counted once
    assert intervals[-1] == in_thread.PAINT_SWITCH_INTERVAL  # the repaint is still on
    repaint()
    assert intervals[-1] == in_thread.SWITCH_INTERVAL
    assert in_thread.PAINT_SWITCH_INTERVAL > in_thread.SWITCH_INTERVAL


async def test_started_early_what_is_asked_before_its_loop_is_up_runs_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still(first_extension=201))
    slept_in: list[int] = []
    monkeypatch.setattr(in_thread.time, "sleep", lambda _: slept_in.append(threading.get_ident()))
    async with served(sim, poll_interval=0.2) as config:
        engine = EngineThread(Engine(config))
        engine.start_early()
        engine.input_arrived()  # a key typed while the console starts
        async with engine:
            # Polling before anyone asked it to run: what came before anyone listened is
            # handed to the first subscriber, in order.
            def fetched() -> datetime | None:
                return engine.state()["hq"].resource(Resource.CALLS).fetched_at

            await until(lambda: fetched() is not None, "calls")
            first = fetched()
            await until(lambda: fetched() != first, "the calls polled again")
            before = fetched()
            assert before is not None
            heard: list[EngineUpdate] = []
            engine.subscribe(heard.append)
            await until(lambda: any(u.resource is Resource.CALLS for u in heard), "replayed")
            assert [u.seq for u in heard] == sorted(u.seq for u in heard)
            # Handed over with the newest state, never one older than `state()` showed.
            seen = [u.state.resource(Resource.CALLS).fetched_at for u in heard]
            assert all(at is not None and at >= before for at in seen), (before, seen)
    assert len(slept_in) == 1 and slept_in[0] != threading.get_ident()
    assert engine_threads() == []
