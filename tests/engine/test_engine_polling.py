"""The engine's polling: isolation, staleness, backoff, no overlap, refresh, poll_once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import anyio
import pytest

from pbxtui.drivers.base import AuthRefused, PbxUnreachable
from pbxtui.model import Call, CallState, ChangeKind, EngineUpdate, HealthState, Resource


class Recorder:
    """A subscriber that keeps every update."""

    def __init__(self) -> None:
        self.updates: list[EngineUpdate] = []

    def __call__(self, update: EngineUpdate) -> None:
        self.updates.append(update)

    def count(self, pbx: str, resource: Resource, *, ok: bool | None = None) -> int:
        return sum(
            1
            for u in self.updates
            if u.pbx == pbx
            and u.resource is resource
            and (ok is None or u.state.resource(resource).ok == ok)
        )

    def changes(self, kind: ChangeKind | None = None) -> list[Any]:
        return [c for u in self.updates for c in u.changes if kind is None or c.kind is kind]


async def test_a_hanging_pbx_never_delays_a_healthy_one(
    make_config: Any, make_engine: Any, fakes: Any, running: Any, wait_until: Any
) -> None:
    # "bad" hangs far longer than its own bound (0.8 s timeout + 0.1 s margin).
    engine = make_engine(make_config("good", "bad", bad__timeout=0.8))
    recorder = Recorder()
    engine.subscribe(recorder)
    async with running(engine):
        fakes["bad"].hang(30.0)  # set before any loop has started
        # While one fetch of "bad" is still in flight, "good" keeps its own 0.2 s pace.
        await wait_until(lambda: recorder.count("good", Resource.CALLS, ok=True) >= 3)
        assert fakes["bad"].in_flight[Resource.CALLS] == 1
        assert fakes["bad"].fetches[Resource.CALLS] == 1
        assert engine.state()["bad"].health.state is HealthState.STARTING
        assert engine.state()["good"].health.state is HealthState.OK
        # Then the bound gives up on "bad", which shows DOWN with a reason.
        await wait_until(lambda: engine.state()["bad"].health.state is HealthState.DOWN)
        states = engine.state()

    assert list(states) == ["good", "bad"]
    good, bad = states["good"], states["bad"]
    assert good.health.state is HealthState.OK
    assert good.calls() and good.calls()[0].pbx == "good"
    assert recorder.count("good", Resource.CALLS, ok=True) >= 4
    assert bad.health.state is HealthState.DOWN
    assert "no answer within 0.9 s" in bad.health.last_error
    assert bad.resource(Resource.CALLS).error_kind == "timeout"
    assert bad.calls() == ()
    assert bad.health.consecutive_failures >= 1
    assert fakes["bad"].max_in_flight[Resource.CALLS] == 1


async def test_a_failing_resource_keeps_its_last_good_records(
    make_config: Any, make_engine: Any, fakes: Any, running: Any, wait_until: Any
) -> None:
    engine = make_engine(make_config("hq"))
    async with running(engine):
        await wait_until(lambda: engine.state()["hq"].health.state is HealthState.OK)
        good_calls = engine.state()["hq"].calls()
        assert len(good_calls) == 1

        fakes["hq"].fail_with(
            PbxUnreachable("hq", "cannot connect to https://hq: connection refused"),
            {Resource.CALLS},
        )
        await wait_until(lambda: engine.state()["hq"].resource(Resource.CALLS).failing)
        state = engine.state()["hq"]
        calls = state.resource(Resource.CALLS)
        assert calls.stale and state.calls() == good_calls
        assert calls.error == "cannot connect to https://hq: connection refused"
        assert calls.error_kind == "unreachable"
        assert state.health.state is HealthState.DEGRADED
        assert state.health.last_error == "calls: cannot connect to https://hq: connection refused"
        age = state.age(Resource.CALLS)
        assert age is not None and age >= 0

        fakes["hq"].fail_with(None)
        engine.refresh("hq")  # skip the backoff
        await wait_until(lambda: engine.state()["hq"].resource(Resource.CALLS).ok)
        assert engine.state()["hq"].health.state is HealthState.OK


async def test_down_and_up_events(
    make_config: Any, make_engine: Any, fakes: Any, running: Any, wait_until: Any
) -> None:
    engine = make_engine(make_config("hq"))
    recorder = Recorder()
    engine.subscribe(recorder)
    async with running(engine):
        await wait_until(lambda: engine.state()["hq"].health.state is HealthState.OK)
        fakes["hq"].fail_with(AuthRefused("hq", "the API key was refused"), {Resource.CALLS})
        await wait_until(lambda: recorder.changes(ChangeKind.PBX_DOWN))
        fakes["hq"].fail_with(None)
        engine.refresh("hq")  # skip the backoff
        await wait_until(lambda: recorder.changes(ChangeKind.PBX_UP))
    down = recorder.changes(ChangeKind.PBX_DOWN)
    assert len(down) == 1 and "the API key was refused" in down[0].text
    assert down[0].pbx == "hq"


async def test_changes_are_published_after_the_baseline(
    make_config: Any, make_engine: Any, fakes: Any, running: Any, wait_until: Any
) -> None:
    engine = make_engine(make_config("hq"))
    recorder = Recorder()
    engine.subscribe(recorder)
    async with running(engine):
        await wait_until(lambda: recorder.count("hq", Resource.CALLS, ok=True) >= 2)
        assert recorder.changes() == []  # the call already there is the baseline
        fakes["hq"].data[Resource.CALLS].append(
            Call(
                pbx="hq",
                id="c2",
                channel="SIP/300-2",
                caller="0509",
                callee="300",
                state=CallState.RINGING,
            )
        )
        engine.refresh("hq")
        await wait_until(lambda: recorder.changes(ChangeKind.CALL_STARTED))
        fakes["hq"].data[Resource.CALLS].clear()
        engine.refresh("hq")
        await wait_until(lambda: len(recorder.changes(ChangeKind.CALL_ENDED)) == 2)
    started = recorder.changes(ChangeKind.CALL_STARTED)
    assert [c.text for c in started] == ["hq: call 0509 → 300 started (ringing)"]
    update = next(u for u in recorder.updates if u.changes and u.changes[0] is started[0])
    assert update.resource is Resource.CALLS and update.state.calls()[-1].id == "c2"


async def test_failures_back_off(
    make_config: Any, make_engine: Any, fakes: Any, running: Any
) -> None:
    engine = make_engine(make_config("good", "bad"))
    async with running(engine):
        fakes["bad"].fail_with(PbxUnreachable("bad", "connection refused"))
        await anyio.sleep(1.2)
    good, bad = fakes["good"].fetches[Resource.CALLS], fakes["bad"].fetches[Resource.CALLS]
    # Every 0.2 s would be about 6 polls in 1.2 s. Backing off 0.4 then 0.8 s (±20 %), the
    # third poll comes at 0.96 s at the earliest and the fourth at 2.2 s: 2 or 3 polls.
    assert good >= 4
    assert 2 <= bad <= 3


async def test_polls_never_overlap(
    make_config: Any, make_engine: Any, fakes: Any, running: Any, wait_until: Any
) -> None:
    engine = make_engine(make_config("hq"), fetch_margin=2.0)
    async with running(engine):
        driver = fakes["hq"]
        driver.hang(0.15, {Resource.CALLS})  # slower than the 0.1 s timeout, within the bound

        async def hammer() -> None:
            for _ in range(40):
                engine.refresh()
                await anyio.sleep(0.01)

        async with anyio.create_task_group() as tg:
            tg.start_soon(hammer)
            tg.start_soon(engine.poll_once)
            tg.start_soon(engine.poll_once)
        await wait_until(lambda: driver.fetches[Resource.CALLS] >= 4)
    assert driver.max_in_flight[Resource.CALLS] == 1


async def test_refresh_wakes_the_loops_of_that_pbx_now(
    make_config: Any, make_engine: Any, fakes: Any, running: Any, wait_until: Any
) -> None:
    engine = make_engine(make_config("hq", "eu", poll_interval=60.0))
    async with running(engine):
        hq, eu = fakes["hq"], fakes["eu"]
        await wait_until(lambda: hq.fetches[Resource.CALLS] == 1 == eu.fetches[Resource.CALLS])
        await anyio.sleep(0.2)
        assert hq.fetches[Resource.CALLS] == 1  # the next poll is a minute away

        engine.refresh("hq")
        await wait_until(lambda: hq.fetches[Resource.CALLS] == 2, timeout=1)
        assert hq.fetches[Resource.QUEUES] == 2 and hq.fetches[Resource.PEERS] == 2
        await anyio.sleep(0.1)
        assert eu.fetches[Resource.CALLS] == 1

        engine.refresh()
        await wait_until(lambda: eu.fetches[Resource.CALLS] == 2, timeout=1)
        await wait_until(lambda: hq.fetches[Resource.CALLS] == 3, timeout=1)


async def test_a_listener_that_raises_does_not_stop_polling(
    make_config: Any,
    make_engine: Any,
    fakes: Any,
    running: Any,
    wait_until: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = make_engine(make_config("hq"))
    calls = Counter[str]()

    def broken(update: EngineUpdate) -> None:
        calls["broken"] += 1
        raise RuntimeError("listener bug")

    recorder = Recorder()
    engine.subscribe(broken)
    unsubscribe = engine.subscribe(recorder)
    async with running(engine):
        await wait_until(lambda: recorder.count("hq", Resource.CALLS) >= 2)
        unsubscribe()
        seen = len(recorder.updates)
        fetched = fakes["hq"].fetches[Resource.CALLS]
        for more in (1, 2):
            engine.refresh()
            await wait_until(lambda m=more: fakes["hq"].fetches[Resource.CALLS] >= fetched + m)
    assert len(recorder.updates) == seen
    assert calls["broken"] > seen
    assert "listener failed" in caplog.text


async def test_poll_once_polls_concurrently_and_records_errors(
    make_config: Any, make_engine: Any, fakes: Any
) -> None:
    async with make_engine(make_config("hq", "eu")) as engine:
        assert engine.state()["hq"].health.state is HealthState.STARTING
        fakes["eu"].hang(30.0)
        with anyio.fail_after(2):
            states = await engine.poll_once()
        assert list(states) == ["hq", "eu"]
        assert states["hq"].health.state is HealthState.OK
        assert len(states["hq"].queues()) == 1 and len(states["hq"].peers()) == 1
        assert states["eu"].health.state is HealthState.DOWN
        assert states["eu"].resource(Resource.CALLS).error_kind == "timeout"

        fakes["hq"].fetches.clear()
        only = await engine.poll_once(pbx="hq", resources=[Resource.CALLS, Resource.BLF])
        assert list(only) == ["hq"]
        assert dict(fakes["hq"].fetches) == {Resource.CALLS: 1}  # BLF is unsupported: skipped
        assert Resource.BLF not in only["hq"].resources


async def test_engine_surface(make_config: Any, make_engine: Any, fakes: Any) -> None:
    config = make_config("hq", "eu", "lab", lab__verify_tls=False)
    engine = make_engine(config)
    assert engine.pbx_names == ["hq", "eu", "lab"]
    with pytest.raises(RuntimeError, match="async with"):
        engine.state()
    async with engine:
        assert engine.capabilities("hq").supports(Resource.CALLS)
        assert engine.driver("eu") is fakes["eu"]
        state = engine.state()["hq"]
        assert (state.name, state.kind) == ("hq", "fake")
        # A client, so a connection pool, per PBX: none waits for another's connections.
        clients = {fakes[n].client for n in engine.pbx_names}
        assert len(clients) == 3
        with pytest.raises(Exception, match="no PBX named 'nope'"):
            engine.driver("nope")
    assert all(client.is_closed for client in clients)


async def test_probe(make_config: Any, make_engine: Any, fakes: Any) -> None:
    async with make_engine(make_config("hq")) as engine:
        ok, reason, latency = await engine.probe("hq")
        assert ok and isinstance(latency, int) and reason

        fakes["hq"].fail_with(AuthRefused("hq", "the API key was refused"))
        assert await engine.probe("hq") == (False, "auth refused: the API key was refused", None)

        fakes["hq"].fail_with(None)
        fakes["hq"].hang(30.0)
        with anyio.fail_after(2):
            ok, reason, latency = await engine.probe("hq")
        assert not ok and reason.startswith("timeout") and latency is None
