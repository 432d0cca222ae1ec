"""Caller names beside numbers in every pane, through Pilot: the engine put them on the calls
(``caller_name``, ``callee_name``, ``backend_link``), the console only shows them."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from pbxtui.engine import Engine
from pbxtui.model import (
    Call,
    Change,
    ChangeKind,
    EngineUpdate,
    HealthState,
    Resource,
    SourceHealth,
    call_label,
)
from pbxtui.sim import build_simulator
from pbxtui.sim.crm import SimulatedCrm
from pbxtui.sim.fleet import running_fleet
from pbxtui.sim.scenario import ScenarioSpec
from pbxtui.ui.app import PbxApp
from pbxtui.ui.modals.confirm import ConfirmModal
from pbxtui.ui.modals.details import DetailModal
from tests.ui.fakes import (
    NAMED_AS,
    NAMED_CALLER,
    NAMED_LINK,
    StaticEngine,
    fixed_states,
    fleet_config,
    frozen_clock,
    name_callers,
)
from tests.ui.helpers import health_text, rows, run, table, wait_for

CALLER, NAME, LINK = NAMED_CALLER, NAMED_AS, NAMED_LINK
SIZE = (120, 36)
STILL = ScenarioSpec(
    live=False, warmup_seconds=0, stuck_call_seconds=None, unregistered_share=0.0, extensions=6
)


def make(*, mask: bool = False, lookup: SourceHealth | None = None) -> tuple[PbxApp, Any]:
    config = fleet_config()
    states = fixed_states(config)
    name_callers(states, lookup=lookup)
    engine = StaticEngine(config, states=states)
    app = PbxApp(config, engine=engine, clock=frozen_clock, arm_seconds=0, mask_numbers=mask)
    app.animation_level = "none"
    return app, engine


def hq_call(engine: Any) -> Call:
    return next(c for c in engine.state()["hq"].calls() if c.caller == CALLER)


async def select(pilot: Any, app: PbxApp, match: str) -> None:
    t = table(app, "calls")
    await wait_for(pilot, lambda: t.row_count > 0)
    index = next(i for i, k in enumerate(t.keys) if any(match in c for c in t.row_plain(k)))
    t.move_cursor(row=index)
    await pilot.pause()


async def test_the_name_beside_the_number_in_calls_extensions_and_blf() -> None:
    app, _ = make()
    async with run(app, SIZE) as pilot:
        await wait_for(pilot, lambda: table(app, "calls").row_count == 6)
        call_row = next(r for r in rows(app, "calls") if CALLER in r[3])
        assert call_row[3] == f"{CALLER} {NAME}" and call_row[4] == "208 Noa"
        await pilot.press("2")
        await wait_for(pilot, lambda: table(app, "extensions").row_count > 0)
        ext_row = next(r for r in rows(app, "extensions") if r[2] == "208")
        # Noa is the row's own name already: the room goes to the caller's.
        assert ext_row[3] == "Noa" and f"{CALLER} {NAME} → 208 6:47" in ext_row[-1]
        await pilot.press("3")
        pane = app.console_screen.panes["blf"]
        await wait_for(pilot, lambda: bool(pane.board.lamps))
        pane.board.select_key("hq\x1f208")
        await wait_for(pilot, lambda: NAME in pane.detail.plain)
        assert f"{CALLER} {NAME} → 208 Noa" in pane.detail.plain


async def test_events_show_the_names_the_engine_wrote() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await wait_for(pilot, lambda: table(app, "calls").row_count == 6)
        call = hq_call(engine)
        change = Change(
            at=frozen_clock() - timedelta(seconds=1),
            pbx="hq",
            kind=ChangeKind.CALL_ANSWERED,
            text=f"hq: call {call_label(call)} answered",
            key=call.key,
        )
        state = engine.state()["hq"]
        for listener in engine.listeners:
            listener(EngineUpdate("hq", Resource.CALLS, state, (change,), seq=99))
        await pilot.press("6")
        await wait_for(pilot, lambda: table(app, "events").row_count == 1)
        (event,) = rows(app, "events")
        assert f"{CALLER} ({NAME}) → 208 (Noa) answered" in event[-1]


async def test_the_hangup_confirmation_names_the_caller() -> None:
    app, _ = make()
    async with run(app, SIZE) as pilot:
        await select(pilot, app, NAME)
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        (target,) = modal.confirmation.targets
        assert f"{CALLER} {NAME} → 208 Noa" in target


async def test_mask_numbers_masks_the_number_and_keeps_the_name() -> None:
    app, _ = make(mask=True)
    async with run(app, SIZE) as pilot:
        await wait_for(pilot, lambda: table(app, "calls").row_count == 6)
        callers = [r[3] for r in rows(app, "calls")]
        assert f"050*****67 {NAME}" in callers
        assert not any(CALLER in c for c in callers)
        await pilot.press("2")
        await wait_for(pilot, lambda: table(app, "extensions").row_count > 0)
        ext_row = next(r for r in rows(app, "extensions") if r[2] == "208")
        assert f"050*****67 {NAME} → 208 6:47" in ext_row[-1]
        await pilot.press("1")
        await select(pilot, app, NAME)
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        (target,) = modal.confirmation.targets
        assert f"050*****67 {NAME}" in target and CALLER not in target


async def test_details_show_the_crm_link_and_c_copies_it() -> None:
    app, _ = make()
    async with run(app, SIZE) as pilot:
        await select(pilot, app, NAME)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailModal))
        modal = app.screen
        assert isinstance(modal, DetailModal)
        fields = dict(modal.details.sections[0][1])
        assert fields["caller name"] == NAME and fields["CRM link"] == LINK
        hint = str(modal.query_one(".hint").render())
        assert "c copies the CRM link" in hint
        await pilot.press("c")
        await wait_for(pilot, lambda: app.clipboard == LINK)


async def test_details_of_a_call_without_a_link_offer_no_copy() -> None:
    app, _ = make()
    async with run(app, SIZE) as pilot:
        await select(pilot, app, "0959103856")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailModal))
        assert "CRM link" not in str(app.screen.query_one(".hint").render())
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == ""


async def test_a_failing_lookup_is_one_badge_however_many_pbxs() -> None:
    down = SourceHealth(
        name="names", state=HealthState.DOWN, last_error="crm: HTTP 500", failures=7
    )
    app, _ = make(lookup=down)
    async with run(app, SIZE) as pilot:
        await wait_for(pilot, lambda: "names lookup" in health_text(app))
        text = health_text(app)
        assert text.count("names lookup DOWN crm: HTTP 500") == 1


async def test_a_lookup_answering_shows_no_badge() -> None:
    app, _ = make(lookup=SourceHealth(name="names"))
    async with run(app, SIZE) as pilot:
        await wait_for(pilot, lambda: "hq" in health_text(app))
        assert "names" not in health_text(app)


async def test_a_real_engine_names_a_caller_from_the_crm_and_the_row_repaints() -> None:
    """Over real HTTP: the simulated PBX polled, the simulated CRM asked in the background;
    the call shows at once, its name when the CRM has answered."""
    crm = SimulatedCrm(seed=5, token="crm-token-4242")
    caller = next(f"05{n:08d}" for n in range(1000, 90000, 331) if crm.contact(f"05{n:08d}"))
    name = crm.contact(caller)["name"]  # type: ignore[index]
    sim = build_simulator("pbxcloud", "hq", spec=STILL, tenant="ACME")
    moment = sim.scenario.now
    sim.scenario.clock = lambda: moment
    s = sim.scenario
    ext = next(iter(s.extensions))
    call = s._new_call(caller=caller, callee=ext, direction="inbound", extension=ext)
    s._ring(call, ext)
    s._answer(call)
    call.ends_at = call.ring_until = call.patience_until = math.inf
    crm.faults.latency = 0.5  # the call is on screen before its name
    async with running_fleet([sim], crm=crm, push=True) as (config, _, _):
        app = PbxApp(config, live_engine=Engine(config), arm_seconds=0)
        async with run(app, SIZE) as pilot:
            calls = table(app, "calls")
            await wait_for(pilot, lambda: calls.row_count == 1, what="the call")
            await wait_for(
                pilot, lambda: name in rows(app, "calls")[0][3], what="its name", timeout=20
            )
            assert rows(app, "calls")[0][3] == f"{caller} {name}"
    assert crm.asked[caller] == 1
