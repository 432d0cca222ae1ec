"""What the PBXs push, in the running console: webhooks sent over real HTTP to the receiver
the console serves beside its pollers (which poll a dialup simulator over real HTTP)."""

from __future__ import annotations

import math
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from textual.pilot import Pilot

from pbxtui.config import parse_config
from pbxtui.hooks import HookServer
from pbxtui.launch import console_app
from pbxtui.model import (
    Capabilities,
    Change,
    ChangeKind,
    EngineUpdate,
    PbxHealth,
    PbxState,
    utcnow,
)
from pbxtui.sim import build_simulator
from pbxtui.sim.fleet import serving_fleet
from pbxtui.sim.scenario import ScenarioSpec
from pbxtui.ui import repaint_pacing
from pbxtui.ui.app import PbxApp
from pbxtui.ui.updates import UpdateBuffer
from tests.ui.helpers import health_text, rows, run, table, wait_for

TOKEN = "CANARY-console-hook-token"
OUTSIDE = "0501234567"
WHILE1_AND_WEBHOOKS = """
[[pbx]]
name = "cc"
kind = "while1"

[webhooks]
listen = "{listen}"
token = "{token}"
"""


def _still_dialup() -> object:
    """A dialup PBX whose extension 102 rings until the test ends (its API never says who
    is calling: "other party unknown" until the incoming alert names them)."""
    spec = ScenarioSpec(
        seed=33,
        live=False,
        warmup_seconds=0,
        stuck_call_seconds=None,
        unregistered_share=0.0,
        extensions=4,
        first_extension=101,
        queues=(),
        flows=(),
    )
    sim = build_simulator("dialup", "branch", spec=spec)
    s = sim.scenario
    call = s._new_call(caller=OUTSIDE, callee="102", direction="inbound", extension="102")  # type: ignore[attr-defined]
    s._ring(call, "102")  # type: ignore[attr-defined]
    call.ends_at = call.ring_until = call.patience_until = math.inf
    return sim


@asynccontextmanager
async def console(listen: str = "127.0.0.1:0") -> AsyncIterator[tuple[PbxApp, list[HookServer]]]:
    """The console on a dialup simulator and a push-only While1 PBX, its receiver on
    ``listen``; the list gets the receiver once it listens."""
    sim = _still_dialup()
    async with serving_fleet([sim]) as fleet:  # type: ignore[list-item]
        text = fleet.config_toml(poll_interval=60.0)
        config = parse_config(text + WHILE1_AND_WEBHOOKS.format(listen=listen, token=TOKEN))
        servers: list[HookServer] = []
        yield console_app(config, on_hooks_listening=servers.append), servers


async def listening(pilot: Pilot[None], servers: list[HookServer]) -> httpx.AsyncClient:
    await wait_for(pilot, lambda: servers, what="the console's receiver to listen")
    return httpx.AsyncClient(base_url=servers[0].url, params={"token": TOKEN}, timeout=10.0)


def calls_text(app: PbxApp) -> list[str]:
    return [" ".join(row) for row in rows(app, "calls")]


def events_text(app: PbxApp) -> list[str]:
    return [" ".join(row) for row in rows(app, "events")]


async def test_an_incoming_alert_arrives_in_events_and_names_the_ringing_extensions_caller() -> (
    None
):
    async with console() as (app, servers), run(app) as pilot:
        client = await listening(pilot, servers)
        await wait_for(
            pilot,
            lambda: any("branch" in r and "102" in r for r in calls_text(app)),
            what="the ringing dialup extension polled",
        )
        assert not any(OUTSIDE in r for r in calls_text(app))  # its API never says who calls
        async with client:
            answer = await client.get(
                "/hook/branch/incoming",
                params={"callid": "1796.7", "ext": "102", "caller": OUTSIDE, "target": "035550"},
            )
        assert answer.status_code == 200
        await wait_for(
            pilot,
            lambda: any("branch" in r and OUTSIDE in r for r in calls_text(app)),
            what="the ringing call given its caller",
        )
        await pilot.press("6")
        await wait_for(
            pilot,
            lambda: any("ringing at 102 (pushed)" in r for r in events_text(app)),
            what="the alert in Events",
        )
        (row,) = [r for r in calls_text(app) if "branch" in r]  # merged, never doubled
        assert OUTSIDE in row


async def test_a_push_only_pbx_gets_a_live_call_from_an_event_and_loses_it_at_its_end() -> None:
    async with console() as (app, servers), run(app) as pilot:
        client = await listening(pilot, servers)
        await wait_for(pilot, lambda: "cc while1 push-only · no event yet" in health_text(app))
        answered = {
            "event": "queue_answer",
            "uniqueid": "1796.55",
            "agent": "105",
            "remote_number": OUTSIDE,
            "dnid": "0210435545",
            "queue": "sales-queue",
        }
        async with client:
            assert (await client.get("/hook/cc/events", params=answered)).status_code == 200
            await wait_for(
                pilot,
                lambda: any("cc" in r and OUTSIDE in r for r in calls_text(app)),
                what="the While1 call in Calls",
            )
            await wait_for(pilot, lambda: "cc while1 push-only · last event" in health_text(app))
            ended = answered | {"event": "queue_answer_end", "duration": "61"}
            assert (await client.get("/hook/cc/events", params=ended)).status_code == 200
            await wait_for(
                pilot,
                lambda: not any(OUTSIDE in r for r in calls_text(app)),
                what="the While1 call gone at its end event",
            )
        await pilot.press("6")
        await wait_for(pilot, lambda: any("ended (answered" in r for r in events_text(app)))


async def test_a_refused_webhook_changes_nothing_shown_but_the_refusal_count() -> None:
    async with console() as (app, servers), run(app) as pilot:
        client = await listening(pilot, servers)
        await wait_for(pilot, lambda: any("branch" in r for r in calls_text(app)))
        calls_before = list(table(app, "calls").keys)  # rows, not their ticking durations
        await pilot.press("6")
        events_before = events_text(app)
        async with client:
            refused = await client.get(
                "/hook/branch/incoming",
                params={"token": "wrong", "callid": "9", "ext": "102", "caller": OUTSIDE},
            )
        assert refused.status_code == 401
        await wait_for(
            pilot,
            lambda: "1 refused · wrong token" in health_text(app),
            what="the refusal counted on branch's badge",
        )
        assert events_text(app) == events_before
        await pilot.press("1")
        assert list(table(app, "calls").keys) == calls_before
        assert not any(OUTSIDE in r for r in calls_text(app))
        assert TOKEN not in health_text(app)


async def test_a_receiver_that_cannot_listen_is_said_and_the_console_keeps_polling() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with console(listen=f"127.0.0.1:{port}") as (app, servers), run(app) as pilot:
            await wait_for(
                pilot,
                lambda: "webhooks off: [webhooks] cannot listen" in health_text(app),
                what="the polled PBX's badge saying its webhooks are off",
            )
            assert "cc while1 DOWN [webhooks] cannot listen" in health_text(app)
            await wait_for(
                pilot,
                lambda: any("branch" in r and "102" in r for r in calls_text(app)),
                what="polling going on",
            )
            assert not servers
            await pilot.press("6")
            await wait_for(
                pilot, lambda: any("webhooks not received" in r for r in events_text(app))
            )


async def test_a_push_is_not_held_behind_the_repaint_throttle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Polled updates now wait an hour between repaints: only a push may cut in.
    monkeypatch.setattr(repaint_pacing, "MIN_RENDER_SPACING", 3600.0)
    monkeypatch.setattr(repaint_pacing, "MAX_RENDER_SPACING", 3600.0)
    async with console() as (app, servers), run(app) as pilot:
        client = await listening(pilot, servers)
        await pilot.press("6")
        async with client:
            for n in range(3):  # the first repaint of a push starts the hour for the others
                event = {"event": "queue_answer", "uniqueid": f"w{n}", "remote_number": OUTSIDE}
                assert (await client.get("/hook/cc/events", params=event)).status_code == 200
                await wait_for(
                    pilot,
                    lambda n=n: sum("answered" in r for r in events_text(app)) == n + 1,  # type: ignore[misc]
                    what=f"pushed event {n + 1} in Events",
                )


def test_the_first_push_into_a_waiting_buffer_asks_for_a_repaint_again() -> None:
    buffer = UpdateBuffer()
    state = PbxState(
        name="cc",
        kind="while1",
        capabilities=Capabilities(frozenset(), frozenset()),
        health=PbxHealth(pbx="cc", kind="while1"),
    )
    polled = EngineUpdate("cc", None, state)
    pushed = EngineUpdate("cc", None, state, (_change("push"),))
    assert buffer.add(polled) and not buffer.pushed
    assert not buffer.add(polled)  # a repaint is asked for already
    assert buffer.add(pushed) and buffer.pushed  # ...but a push asks again, once
    assert not buffer.add(pushed)
    buffer.take()
    assert not buffer.pushed and buffer.add(polled)


def _change(source: str) -> Change:
    return Change(at=utcnow(), pbx="cc", kind=ChangeKind.CALL_ANSWERED, text="x", source=source)
