"""Caller names in the engine, over real HTTP: the simulated PBXs on 127.0.0.1, the simulated
CRM answering in the While1 caller-data format, a contacts CSV, IEXPBX's own directory.

Every name expected is read from the source that should give it (the CRM's contacts, the
CSV written here, the simulator's directory), never from what the engine produced.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from pbxtui import headless
from pbxtui.config import Config, parse_config
from pbxtui.engine import Engine
from pbxtui.model import Call, HealthState, PbxState, Resource
from pbxtui.sim import SimulatedPbx, build_simulator
from pbxtui.sim.crm import SimulatedCrm
from pbxtui.sim.fleet import CRM_NAME, serving_fleet
from pbxtui.sim.iexpbx import DIRECTORY
from pbxtui.sim.scenario import ScenarioSpec, SimCall

TOKEN = "crm-Tok+en/5150&x"
"""The CRM's token, full of what URL encoding changes (it travels in the query string)."""


def still(**fields: Any) -> ScenarioSpec:
    return ScenarioSpec(
        live=False, warmup_seconds=0, stuck_call_seconds=None, unregistered_share=0.0, **fields
    )


def hq() -> SimulatedPbx:
    sim = build_simulator("pbxcloud", "hq", spec=still(seed=11, extensions=30), tenant="ACME")
    moment = sim.scenario.now
    sim.scenario.clock = lambda: moment
    return sim


def ring_from(sim: SimulatedPbx, caller: str, ext: str) -> SimCall:
    """An inbound call from ``caller`` answered at ``ext``, that never ends by itself."""
    s = sim.scenario
    call = s._new_call(caller=caller, callee=ext, direction="inbound", extension=ext)
    s._ring(call, ext)
    s._answer(call)
    call.ends_at = call.ring_until = call.patience_until = math.inf
    return call


def many_calls(sim: SimulatedPbx, callers: list[str]) -> None:
    """One call per extension, the callers taken in turn: each number on several calls."""
    extensions = list(sim.scenario.extensions)
    for i, ext in enumerate(extensions):
        ring_from(sim, callers[i % len(callers)], ext)


def known_and_unknown(crm: SimulatedCrm, count: int) -> tuple[list[str], list[str]]:
    numbers = [f"05{n:08d}" for n in range(1000, 90000, 331)]
    known = [n for n in numbers if crm.contact(n) is not None][:count]
    unknown = [n for n in numbers if crm.contact(n) is None][:count]
    assert len(known) == len(unknown) == count
    return known, unknown


@asynccontextmanager
async def fleet(
    sims: list[SimulatedPbx],
    crm: SimulatedCrm | None,
    extra: str = "",
    *,
    poll_interval: float = 1.0,
    **lookup: Any,
) -> AsyncIterator[Config]:
    async with serving_fleet(sims, crm=crm) as served:
        text = served.config_toml(poll_interval=poll_interval)
        if crm is not None:
            settings = {"ttl": 600, "concurrency": 4, "timeout": 2.0, **lookup}
            text += (
                f'\n[lookup]\nurl = "{crm.url(served.ports[CRM_NAME])}"\ntoken = "{crm.token}"\n'
            )
            text += "".join(f"{k} = {v}\n" for k, v in settings.items())
        yield parse_config(text + extra, source="<test>")


def calls_of(states: dict[str, PbxState]) -> list[Call]:
    return [c for state in states.values() for c in state.calls()]


# -- the CRM lookup ----------------------------------------------------------------------------
async def test_one_request_per_number_however_many_calls_and_polls() -> None:
    crm = SimulatedCrm(seed=5, token=TOKEN)
    known, unknown = known_and_unknown(crm, 3)
    sim = hq()
    many_calls(sim, known + unknown)  # 30 calls, each number on 5 of them
    async with fleet([sim], crm) as config, Engine(config) as engine:
        states = await engine.poll_once()
        states = await engine.named_states(states, timeout=10)
        for _ in range(3):
            states = await engine.named_states(await engine.poll_once(), timeout=10)
    calls = calls_of(states)
    assert len(calls) == 30
    for call in calls:
        contact = crm.contact(call.caller)
        expected = contact["name"] if contact else ""
        assert call.caller_name == expected, call
        link = f"/popup?id={contact['id']}" if contact else ""
        assert call.backend_link.endswith(link) and bool(call.backend_link) == bool(contact)
    # Each number asked once: the known, and the unknown too (cached as "unknown").
    assert dict(crm.asked) == dict.fromkeys(known + unknown, 1)


async def test_names_arrive_later_and_the_state_is_published_again() -> None:
    crm = SimulatedCrm(seed=5, token=TOKEN)
    known, _ = known_and_unknown(crm, 2)
    sim = hq()
    many_calls(sim, known)
    crm.faults.latency = 0.3  # the CRM answers after the first polls have been published
    async with fleet([sim], crm) as config, Engine(config) as engine:
        published: list[PbxState] = []
        named_one = anyio.Event()

        def seen(update: Any) -> None:
            published.append(update.state)
            if any(c.caller_name for c in update.state.calls()):
                named_one.set()

        engine.subscribe(seen)
        async with anyio.create_task_group() as tg:
            tg.start_soon(engine.run)
            with anyio.fail_after(20):
                await named_one.wait()
            tg.cancel_scope.cancel()
    unnamed = [s for s in published if s.calls() and not any(c.caller_name for c in s.calls())]
    assert unnamed, "the calls were shown before their names came"
    named = next(s for s in published if any(c.caller_name for c in s.calls()))
    expected = {n: crm.contact(n)["name"] for n in known}  # type: ignore[index]
    assert all(c.caller_name == expected[c.caller] for c in named.calls())


async def test_a_hanging_crm_never_delays_a_poll() -> None:
    crm = SimulatedCrm(seed=5, token=TOKEN)
    known, _ = known_and_unknown(crm, 2)
    sim = hq()
    many_calls(sim, known)
    crm.faults.hang = True
    async with (
        fleet([sim], crm, timeout=30.0, poll_interval=0.2) as config,
        Engine(config) as engine,
    ):
        fetched: set[object] = set()
        four_polls = anyio.Event()

        def seen(update: Any) -> None:
            # Counted from the moment every number's request is hanging at the CRM.
            at = update.state.resource(Resource.CALLS).fetched_at
            hanging = crm.faults.requests == len(known)
            if hanging and update.resource is Resource.CALLS and at is not None:
                fetched.add(at)
            if len(fetched) >= 4:
                four_polls.set()

        engine.subscribe(seen)
        async with anyio.create_task_group() as tg:
            tg.start_soon(engine.run)
            with anyio.fail_after(20):
                await four_polls.wait()
            # Four calls polls published while every CRM request hangs, none asked twice.
            assert crm.faults.requests == len(known)
            assert not any(c.caller_name for c in engine.state()["hq"].calls())
            tg.cancel_scope.cancel()


@pytest.mark.parametrize("fault", ["http_500", "garbage", "hang"])
async def test_a_failing_crm_is_one_health_fact_and_never_leaks_its_token(
    fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pbxtui")
    crm = SimulatedCrm(seed=5, token=TOKEN)
    known, unknown = known_and_unknown(crm, 3)
    sim = hq()
    many_calls(sim, known + unknown)
    crm.faults.update({fault: True})
    async with fleet([sim], crm, timeout=0.5) as config, Engine(config) as engine:
        states = await engine.named_states(await engine.poll_once(), timeout=10)
        for _ in range(2):  # failures are cached too: not asked again at once
            states = await engine.named_states(await engine.poll_once(), timeout=10)
        dumped = [s.health.model_dump_json() for s in states.values()]
        document = headless.snapshot_json(headless.snapshot_document(states))
    health = states["hq"].health.names
    assert health is not None and health.state is HealthState.DOWN
    assert health.failures == 6
    reason = {"http_500": "HTTP 500", "garbage": "not JSON", "hang": "no answer within"}[fault]
    assert reason in health.last_error
    assert crm.faults.requests == 6  # one per number, the failure cached
    said = [r.getMessage() for r in caplog.records if r.name == "pbxtui.names"]
    assert len(said) == 1 and "failing" in said[0], said  # once, not per call
    for text in [caplog.text, health.last_error, document, *dumped]:
        for form in (TOKEN, "crm-Tok%2Ben", "Tok+en", "5150&x"):
            assert form not in text


async def test_the_crm_coming_back_clears_its_health(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pbxtui.engine.names.FAILURE_TTL", 0.0)  # asked again at once
    crm = SimulatedCrm(seed=5, token=TOKEN)
    known, _ = known_and_unknown(crm, 1)
    sim = hq()
    many_calls(sim, known)
    crm.faults.http_500 = True
    async with fleet([sim], crm) as config, Engine(config) as engine:
        states = await engine.named_states(await engine.poll_once(), timeout=10)
        assert states["hq"].health.names is not None
        assert states["hq"].health.names.state is HealthState.DOWN
        crm.faults.http_500 = False
        states = await engine.named_states(await engine.poll_once(), timeout=10)
    assert states["hq"].health.names is not None
    assert states["hq"].health.names.state is HealthState.OK
    assert all(c.caller_name for c in states["hq"].calls())


# -- the other sources -------------------------------------------------------------------------
def contacts_file(tmp_path: Path, rows: list[tuple[str, str]]) -> str:
    path = tmp_path / "contacts.csv"
    lines = ["number,name,id,backend_link"]
    lines += [f"{n},{name},{i},https://crm.example.com/c/{i}" for i, (n, name) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f'\n[contacts]\ncsv = "{path}"\n'


@pytest.mark.parametrize("country_code", [None, "972"])
async def test_contacts_match_local_and_e164_forms(
    tmp_path: Path, country_code: str | None
) -> None:
    extra = contacts_file(
        tmp_path,
        [("+972 50-111-2233", "Dana Cohen"), ("0502223344", "Avi Levi"), ("00972503334455", "Noa")],
    )
    if country_code:
        extra += f'country_code = "{country_code}"\n'
    sim = hq()
    many_calls(sim, ["0501112233", "+972502223344", "972503334455"])
    async with fleet([sim], None, extra) as config, Engine(config) as engine:
        states = await engine.named_states(await engine.poll_once(), timeout=10)
    names = {c.caller: c.caller_name for c in calls_of(states)}
    assert names == {
        "0501112233": "Dana Cohen",
        "+972502223344": "Avi Levi",
        "972503334455": "Noa",
    }
    links = {c.backend_link for c in calls_of(states)}
    assert links == {f"https://crm.example.com/c/{i}" for i in range(3)}


async def test_the_contacts_file_comes_before_the_crm(tmp_path: Path) -> None:
    crm = SimulatedCrm(seed=5, token=TOKEN)
    known, _ = known_and_unknown(crm, 2)
    extra = contacts_file(tmp_path, [(known[0], "From The File")])
    sim = hq()
    many_calls(sim, known)
    async with fleet([sim], crm, extra) as config, Engine(config) as engine:
        states = await engine.named_states(await engine.poll_once(), timeout=10)
    names = {c.caller: c.caller_name for c in calls_of(states)}
    assert names == {known[0]: "From The File", known[1]: crm.contact(known[1])["name"]}  # type: ignore[index]
    assert set(crm.asked) == {known[1]}  # the file's number never asked


async def test_iexpbx_directory_and_extension_names(tmp_path: Path) -> None:
    sim = build_simulator("iexpbx", "istanbul", spec=still(seed=22, extensions=6))
    moment = sim.scenario.now
    sim.scenario.clock = lambda: moment
    ((name, number),) = DIRECTORY[:1]
    extensions = list(sim.scenario.extensions)
    ring_from(sim, number, extensions[0])
    s = sim.scenario
    internal = s._new_call(
        caller=extensions[1], callee=extensions[2], direction="internal", extension=extensions[2]
    )
    s._ring(internal, extensions[2])
    s._answer(internal)
    internal.ends_at = internal.ring_until = internal.patience_until = math.inf
    extra = contacts_file(tmp_path, [("0500000000", "Nobody Here")])  # a source is configured
    async with fleet([sim], None, extra) as config, Engine(config) as engine:
        states = await engine.named_states(await engine.poll_once(), timeout=10)
    calls = {c.caller: c for c in calls_of(states)}
    assert calls[number].caller_name == name
    ext_names = {e.number: e.name for e in s.extensions.values()}
    inside = calls[extensions[1]]
    assert inside.caller_name == ext_names[extensions[1]]
    assert inside.callee_name == ext_names[extensions[2]]


# -- snapshot --json ---------------------------------------------------------------------------
async def test_snapshot_json_carries_the_names() -> None:
    crm = SimulatedCrm(seed=5, token=TOKEN)
    known, unknown = known_and_unknown(crm, 2)
    sim = hq()
    many_calls(sim, known + unknown)
    async with fleet([sim], crm) as config:
        document = await headless.snapshot(config)
    calls = document["pbx"][0]["calls"]
    assert len(calls) == 30
    for call in calls:
        contact = crm.contact(call["caller"])
        assert call["caller_name"] == (contact["name"] if contact else None)
        assert "callee_name" in call
    assert TOKEN not in headless.snapshot_json(document)
    masked = headless.mask_document(document)
    shown = {c["caller_name"] for c in masked["pbx"][0]["calls"]} - {None}
    assert shown == {crm.contact(n)["name"] for n in known}  # type: ignore[index]


async def test_snapshot_without_a_source_asks_nothing_and_keeps_its_shape() -> None:
    sim = hq()
    many_calls(sim, ["0501112233"])
    async with fleet([sim], None) as config:
        document = await headless.snapshot(config)
    extensions = {e.number: e.name for e in sim.scenario.extensions.values()}
    for call in document["pbx"][0]["calls"]:
        assert call["caller_name"] is None and call["backend_link"] is None
        # The PBX's own names for its extensions need no source: they are its own words.
        assert call["callee_name"] == extensions[call["callee"]]
