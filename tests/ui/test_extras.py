"""The vendor extras in the console: scheduled call, callback, IVR call, phone directory,
and the in-flight status line (static engine; callback and directory also against IEXPBX)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from textual.widgets import Checkbox, Input, OptionList, Static, TextArea

from pbxtui.launch import console_app
from pbxtui.model import (
    ActionRequest,
    Callback,
    Click2Call,
    DirectoryEntry,
    FetchDirectory,
    IvrCall,
    IvrCallRequest,
    PlaceCall,
    ScheduleCall,
)
from pbxtui.sim import build_simulator
from pbxtui.sim.scenario import ScenarioSpec
from pbxtui.ui.app import PbxApp
from pbxtui.ui.modals.click2call import Click2CallModal
from pbxtui.ui.modals.confirm import ConfirmModal
from pbxtui.ui.modals.extras import CallbackModal, DirectoryModal, IvrModal, split_announcements
from pbxtui.ui.widgets.text import TextLines
from tests.conftest import served
from tests.ui.fakes import StaticEngine, fleet_config, frozen_clock
from tests.ui.helpers import command, fill, notices, notifications, run, wait_for

SIZE = (160, 45)


def make(**kw: Any) -> tuple[PbxApp, StaticEngine]:
    read_only = kw.pop("global_read_only", False)
    config = fleet_config(**kw)
    engine = StaticEngine(config, read_only=read_only)
    app = PbxApp(config, read_only=read_only, engine=engine, clock=frozen_clock, arm_seconds=0)
    app.animation_level = "none"
    return app, engine


def error(app: PbxApp) -> str:
    return str(app.screen.query_one("#error", Static).render())


def status(app: PbxApp) -> str:
    return app.console_screen.query_one("#status", TextLines).plain


async def confirm(pilot: Any, app: PbxApp) -> None:
    """The confirmation that follows every dialling form: check it opened, then accept."""
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), what="confirmation")
    await pilot.press("y")


async def submit_expecting(pilot: Any, app: PbxApp, message: str) -> None:
    await app.screen.run_action("submit")
    await pilot.pause()
    assert message in error(app), error(app)


# -- scheduled call (the click2call modal's optional fields) -------------------------------------
async def test_click2call_extras_only_where_the_api_takes_them() -> None:
    app, engine = make(names=("hq", "branch"))
    async with run(app, SIZE) as pilot:
        await command(pilot, app, "pbx hq")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, Click2CallModal))
        assert not app.screen.query_one("#extras").display  # hq's API has no scheduled call
        assert not app.screen.query_one("#reverse").display  # nor reverse
        assert app.screen.query_one("#caller-id-field").display  # but a caller id
        await pilot.press("escape")
        await command(pilot, app, "pbx all")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, Click2CallModal))
        extras = app.screen.query_one("#extras")
        select = app.screen.query_one("#pbx")
        select.value = "branch"  # type: ignore[attr-defined]
        await pilot.pause()
        assert extras.display
        select.value = "hq"  # type: ignore[attr-defined]
        await pilot.pause()
        assert not extras.display
        await pilot.press("escape")
        assert engine.performed == []


async def test_scheduled_call_validates_and_sends() -> None:
    app, engine = make(names=("branch",))
    async with run(app, SIZE) as pilot:
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, Click2CallModal))
        assert app.screen.query_one("#extras").display
        await fill(pilot, app, "#source", "101")
        await fill(pilot, app, "#destination", "0501234567")
        await fill(pilot, app, "#timeout", "500")
        await submit_expecting(pilot, app, "first-leg timeout must be a whole number from 1 to 300")
        await fill(pilot, app, "#timeout", "30")
        await fill(pilot, app, "#caller_id", "abc")
        await submit_expecting(pilot, app, "the caller id must be digits")
        await fill(pilot, app, "#caller_id", "02124445566")
        await fill(pilot, app, "#max_retry", "3")
        await submit_expecting(pilot, app, "apply only to a scheduled call")
        await fill(pilot, app, "#scheduled_at", "2025-03-15 25:00")
        await submit_expecting(pilot, app, "use YYYY-MM-DD HH:MM")
        await fill(pilot, app, "#scheduled_at", "2025-03-12 10:00")
        await submit_expecting(pilot, app, "that time has passed")
        await fill(pilot, app, "#max_retry", "99")
        await fill(pilot, app, "#scheduled_at", "2025-03-15 10:00")
        await submit_expecting(pilot, app, "max retry must be a whole number from 0 to 20")
        await fill(pilot, app, "#max_retry", "3")
        await fill(pilot, app, "#retry_time", "60")
        await fill(pilot, app, "#ident", "ACME")
        app.screen.query_one("#reverse", Checkbox).value = True
        assert engine.performed == []
        await app.screen.run_action("submit")
        await confirm(pilot, app)
        await wait_for(pilot, lambda: engine.performed)
        (request,) = engine.performed
        assert request == ScheduleCall(
            pbx="branch",
            dial=Click2Call(
                source="101",
                destination="0501234567",
                caller_id="02124445566",
                timeout=30,
                reverse=True,
                scheduled_at=datetime(2025, 3, 15, 10, 0),
                max_retry=3,
                retry_time=60,
                ident="ACME",
            ),
        )


async def test_click2call_with_a_timeout_stays_a_click2call() -> None:
    app, engine = make(names=("branch",))
    async with run(app, SIZE) as pilot:
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, Click2CallModal))
        await fill(pilot, app, "#source", "102")
        await fill(pilot, app, "#destination", "0501234567")
        await fill(pilot, app, "#timeout", "15")
        await pilot.press("enter")
        await confirm(pilot, app)
        await wait_for(pilot, lambda: engine.performed)
        (request,) = engine.performed
        assert isinstance(request, PlaceCall)
        assert request.dial == Click2Call(source="102", destination="0501234567", timeout=15)


async def test_scheduled_call_palette_entry_where_unsupported() -> None:
    app, engine = make(names=("hq",))
    async with run(app, SIZE) as pilot:
        await app.console_screen.palette_run("scheduled_call")
        await wait_for(
            pilot,
            lambda: any(
                "scheduled call is not supported by hq's API" in n for n in notifications(app)
            ),
        )
        assert not isinstance(app.screen, Click2CallModal)
        assert engine.performed == []


# -- callback ----------------------------------------------------------------------------------
async def test_callback_validates_cancels_and_sends() -> None:
    app, engine = make(names=("istanbul",))
    async with run(app, SIZE) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, CallbackModal))
        # pre-filled from the selected call: its outside party first, then its extension
        assert app.screen.query_one("#number1", Input).value == "905321234567"
        assert app.screen.query_one("#number2", Input).value == "101"
        await fill(pilot, app, "#number1", "")
        await submit_expecting(pilot, app, "enter the first number")
        await fill(pilot, app, "#number1", "0501234567")
        await fill(pilot, app, "#number2", "call me")
        await submit_expecting(pilot, app, "the second number must be digits")
        await fill(pilot, app, "#number2", "0501234567")
        await submit_expecting(pilot, app, "the two numbers are the same")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CallbackModal))
        assert engine.performed == []
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, CallbackModal))
        await fill(pilot, app, "#number1", "0501234567")
        await fill(pilot, app, "#number2", "+905329998877")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert isinstance(app.screen, ConfirmModal)
        assert "0501234567 ↔ +905329998877" in app.screen.confirmation.targets[0]
        assert engine.performed == []  # nothing goes out before the confirmation
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.performed)
        assert engine.performed == [
            Callback(pbx="istanbul", number1="0501234567", number2="+905329998877")
        ]


async def test_extras_unsupported_say_so_and_send_nothing() -> None:
    app, engine = make(names=("hq",))
    async with run(app, SIZE) as pilot:
        for key, label in (
            ("b", "callback (number masking)"),
            ("i", "IVR call"),
            ("D", "phone directory"),
        ):
            await pilot.press(key)
            await wait_for(
                pilot,
                lambda label=label: any(
                    f"{label} is not supported by hq's API" in n for n in notifications(app)
                ),
                what=label,
            )
            assert app.screen is app.console_screen
        assert engine.performed == []


async def test_callback_from_an_unsupported_row_offers_the_pbx_that_can() -> None:
    app, _engine = make(names=("hq", "istanbul"))
    async with run(app, SIZE) as pilot:
        await command(pilot, app, "calls hq")
        await command(pilot, app, "pbx all")
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, CallbackModal))
        assert str(app.screen.query_one("#pbx").value) == "istanbul"  # type: ignore[attr-defined]
        assert any("not supported by hq's API" in n for n in notifications(app))


# -- IVR call ----------------------------------------------------------------------------------
def test_split_announcements() -> None:
    assert split_announcements(" welcome, menu \n\nbye,") == ("welcome", "menu", "bye")


async def test_ivr_call_validates_cancels_and_sends() -> None:
    app, engine = make(names=("istanbul",))
    async with run(app, SIZE) as pilot:
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, IvrModal))
        await fill(pilot, app, "#number", "05x")
        await submit_expecting(pilot, app, "the number must be digits")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, IvrModal))
        assert engine.performed == []
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, IvrModal))
        await fill(pilot, app, "#number", "0501234567")
        await fill(pilot, app, "#dialplan", "from-internal")
        await fill(pilot, app, "#destination", "ivr-main")
        app.screen.query_one("#announcements", TextArea).text = "welcome, menu\nbye"
        await pilot.pause()
        await pilot.press("enter")  # in the number field
        await confirm(pilot, app)
        await wait_for(pilot, lambda: engine.performed)
        assert engine.performed == [
            IvrCallRequest(
                pbx="istanbul",
                ivr=IvrCall(
                    number="0501234567",
                    dialplan="from-internal",
                    destination="ivr-main",
                    announcements=("welcome", "menu", "bye"),
                ),
            )
        ]


# -- phone directory ---------------------------------------------------------------------------
async def test_directory_filter_and_call_an_entry() -> None:
    app, engine = make(names=("istanbul",), global_read_only=False)
    async with run(app, SIZE) as pilot:
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, DirectoryModal))
        assert engine.performed == [FetchDirectory(pbx="istanbul")]
        options = app.screen.query_one("#entries", OptionList)
        assert options.option_count == 3
        await fill(pilot, app, "#filter", "acme")
        assert options.option_count == 1
        await fill(pilot, app, "#filter", "nobody")
        assert options.option_count == 0
        await pilot.press("enter")  # nothing to pick: stays
        assert isinstance(app.screen, DirectoryModal)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DirectoryModal))
        await command(pilot, app, "directory istanbul")
        await wait_for(pilot, lambda: isinstance(app.screen, DirectoryModal))
        await fill(pilot, app, "#filter", "acme")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, Click2CallModal))
        assert app.screen.query_one("#destination", Input).value == "02124445566"
        await pilot.press("escape")
        assert [r.kind for r in engine.performed] == ["phonebook", "phonebook"]


async def test_directory_works_read_only() -> None:
    app, engine = make(names=("istanbul",), global_read_only=True)
    async with run(app, SIZE) as pilot:
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, DirectoryModal))
        await pilot.press("escape")
        await pilot.press("b")
        await wait_for(pilot, lambda: any("read-only" in n for n in notifications(app)))
        assert [r.kind for r in engine.performed] == ["phonebook"]


def test_directory_command_grammar() -> None:
    from pbxtui.ui.commands import CommandError, parse_command

    assert parse_command("directory hq", ["hq", "eu"]).pbxs == ("hq",)
    assert parse_command("dir", ["hq"]).pbxs is None
    try:
        parse_command("directory nowhere", ["hq"])
    except CommandError as exc:
        assert "name one PBX" in str(exc)
    else:
        raise AssertionError("accepted an unknown PBX")


# -- in flight ---------------------------------------------------------------------------------
async def test_in_flight_status_line_ticks_and_clears() -> None:
    app, engine = make(names=("branch",))
    engine.gate = asyncio.Event()
    async with run(app, SIZE) as pilot:
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, Click2CallModal))
        await fill(pilot, app, "#source", "101")
        await fill(pilot, app, "#destination", "0501234567")
        await pilot.press("enter")
        await confirm(pilot, app)
        await wait_for(pilot, lambda: engine.performed)
        await wait_for(pilot, lambda: "click2call branch" in status(app))
        shown = re.search(
            r"click2call branch 101 → 0501234567 · waiting for 101 to answer · (\d+)s", status(app)
        )
        assert shown is not None, status(app)
        screen = app.console_screen
        in_flight = screen.runner.in_flight
        (flight_id, flight) = next(iter(in_flight.items()))
        in_flight[flight_id] = replace(flight, started=flight.started - 3600)
        screen.show_status()
        later = re.search(r"waiting for 101 to answer · (\d+)s", status(app))
        assert later is not None and int(later.group(1)) >= 3600 + int(shown.group(1))
        # the console stays responsive meanwhile
        await pilot.press("2")
        await pilot.pause()
        engine.gate.set()
        await wait_for(pilot, lambda: "waiting for" not in status(app))
        assert not screen.runner.in_flight
        await wait_for(pilot, lambda: any("click2call" in n for n in notifications(app)))


async def test_an_action_that_raises_does_not_crash_the_app() -> None:
    app, engine = make(names=("istanbul",))

    async def broken(request: ActionRequest) -> Any:
        raise RuntimeError("boom")

    engine.perform = broken  # type: ignore[method-assign]
    async with run(app, SIZE) as pilot:
        await pilot.press("D")
        await wait_for(pilot, lambda: any("unexpectedly" in n for n in notifications(app)))
        assert not app.console_screen.runner.in_flight
        assert app.is_running


# -- against the real IEXPBX simulator -----------------------------------------------------------
def still() -> ScenarioSpec:
    return ScenarioSpec(seed=7, live=False, warmup_seconds=0)


async def test_live_callback_and_directory_on_iexpbx() -> None:
    sim = build_simulator("iexpbx", "ist", spec=still())
    async with served(sim, poll_interval=0.3) as config:
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            await wait_for(pilot, lambda: app.session.engine is not None, what="engine")
            scenario = sim.scenario
            first = next(
                n for n in sorted(scenario.extensions) if scenario.extension_state(n) == "idle"
            )
            await pilot.press("b")
            await wait_for(pilot, lambda: isinstance(app.screen, CallbackModal))
            await fill(pilot, app, "#number1", first)
            await fill(pilot, app, "#number2", "05329998877")
            await pilot.press("enter")
            await confirm(pilot, app)
            await wait_for(
                pilot,
                lambda: any(c.callee == first for c in scenario.calls.values()),
                what="callback placed",
            )
            await wait_for(
                pilot,
                lambda: any("callback" in n.title for n in notices(app)),
                what="callback result",
            )
            assert not any("failed" in n.title for n in notices(app))
            await pilot.press("D")
            await wait_for(pilot, lambda: isinstance(app.screen, DirectoryModal), what="directory")
            modal = app.screen
            assert isinstance(modal, DirectoryModal)
            assert (
                DirectoryEntry(pbx="ist", name="John Lash", number="908502590259") in modal.entries
            )
            await fill(pilot, app, "#filter", "john")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, Click2CallModal))
            assert app.screen.query_one("#destination", Input).value == "908502590259"
