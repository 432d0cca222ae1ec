"""No keystroke acts on something the operator has not seen.

A tester typed ``/hy`` fast on the Calls pane and hung up the selected call; ``/hq`` opened
the hang-up dialog, ``:calls hq`` the click2call form, ``/hangup`` the PBX picker; ``h`` then
an immediate ``y`` confirmed a hang-up; confirming twice sent two. Each burst here is queued
all at once, before the console handles its first key (``burst``), which is how a paste, a
fast typist or a busy console delivers keys. Dialogs keep their real arming delay unless a
test says otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Button, Input

from pbxtui.launch import console_app
from pbxtui.sim import build_simulator
from pbxtui.sim.faults import Faults
from pbxtui.sim.scenario import ScenarioSpec
from pbxtui.ui.app import PbxApp
from pbxtui.ui.modals.click2call import Click2CallModal
from pbxtui.ui.modals.confirm import ConfirmModal
from pbxtui.ui.modals.guard import ARM_SECONDS, GuardedModal
from pbxtui.ui.modals.picker import PbxPicker
from tests.conftest import served
from tests.ui.fakes import StaticEngine, fleet_config, frozen_clock
from tests.ui.helpers import burst, rows, run, table, wait_for

SIZE = (120, 36)


def make(arm_seconds: float = ARM_SECONDS, **kw: Any) -> tuple[PbxApp, StaticEngine]:
    config = fleet_config(**kw)
    engine = StaticEngine(config)
    app = PbxApp(config, engine=engine, clock=frozen_clock, arm_seconds=arm_seconds)
    app.animation_level = "none"
    return app, engine


def prompt(app: PbxApp) -> Input:
    return app.console_screen.query_one("#prompt", Input)


async def on_a_call(pilot: Any, app: PbxApp) -> None:
    await wait_for(pilot, lambda: table(app, "calls").row_count == 6, what="calls shown")
    table(app, "calls").move_cursor(row=1)
    await pilot.pause()


@pytest.mark.parametrize(
    "typed",
    [
        ("slash", "h", "y"),
        ("slash", "h", "q"),
        ("slash", *"hangup"),
        ("slash", "t", "enter"),
        ("slash", "P", "U", "c", "b", "i", "D", "p"),
    ],
    ids=["/hy", "/hq", "/hangup", "/t⏎", "/PUcbiDp"],
)
async def test_a_filter_burst_only_filters(typed: tuple[str, ...]) -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await on_a_call(pilot, app)
        await burst(pilot, app, *typed)
        await wait_for(pilot, lambda: app.screen is app.console_screen)
        await pilot.pause()
        assert app.screen is app.console_screen, f"{app.screen} opened"
        assert not isinstance(app.screen, GuardedModal | PbxPicker)
        letters = "".join(k for k in typed[1:] if len(k) == 1)
        if "enter" not in typed:
            assert prompt(app).value == letters  # every key went into the filter
        assert engine.attempts == []


async def test_a_command_burst_runs_the_command_and_nothing_else() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await on_a_call(pilot, app)
        await burst(pilot, app, "colon", *"calls hq", "enter")
        await wait_for(pilot, lambda: {r[1] for r in rows(app, "calls")} == {"hq"})
        assert app.screen is app.console_screen
        assert not isinstance(app.screen, Click2CallModal)
        assert engine.attempts == []


def test_dialogs_arm_after_a_few_hundred_milliseconds() -> None:
    assert 0.2 <= ARM_SECONDS <= 1.0  # long enough for a burst, short enough not to annoy


async def test_h_then_an_immediate_y_confirms_nothing() -> None:
    # A delay no test can outlast: what happens within it cannot depend on the machine's speed.
    app, engine = make(arm_seconds=3600)
    async with run(app, SIZE) as pilot:
        await on_a_call(pilot, app)
        await burst(pilot, app, "h", "y")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), what="confirmation")
        await burst(pilot, app, "y", "enter", "space")
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and engine.attempts == []
        assert app.screen.query_one("#confirm", Button).disabled  # and looks it
        await pilot.press("escape")  # backing out always works at once
        await wait_for(pilot, lambda: app.screen is app.console_screen)
        assert engine.attempts == []


async def test_a_key_typed_before_the_dialog_opened_never_confirms_it() -> None:
    config = fleet_config()
    engine = StaticEngine(config)
    # Even with no arming delay at all, the `y` was typed at the console, not at the dialog.
    app = PbxApp(config, engine=engine, clock=frozen_clock, arm_seconds=0)
    async with run(app, SIZE) as pilot:
        await on_a_call(pilot, app)
        await burst(pilot, app, "h", "y", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), what="confirmation")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and engine.attempts == []
        await pilot.press("y")
        await wait_for(pilot, lambda: len(engine.performed) == 1)


async def test_confirming_twice_sends_one_hangup_to_the_pbx() -> None:
    still = ScenarioSpec(seed=7, live=False, warmup_seconds=0)
    sim = build_simulator("pbxcloud", "hq", spec=still, faults=Faults())
    async with served(sim, poll_interval=0.3) as config:
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            await wait_for(pilot, lambda: table(app, "calls").row_count == 1, what="the call")
            sim.faults.latency = 1.0  # the first hangup is still on its way...
            await pilot.press("h")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
            await pilot.press("y")
            await wait_for(pilot, lambda: app.console_screen.runner.in_flight, what="in flight")
            await pilot.press("h")  # ...when the operator confirms again
            await pilot.pause()
            if isinstance(app.screen, ConfirmModal):
                await pilot.press("y")
            await wait_for(pilot, lambda: not sim.scenario.calls, what="hung up", timeout=15)
            await wait_for(pilot, lambda: not app.console_screen.runner.in_flight)
            hangups = [r for r in sim.scenario.received if r[0].startswith("hangup")]
            assert len(hangups) == 1, hangups
