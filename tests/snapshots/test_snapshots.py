"""SVG snapshots of every pane and modal, from a fixed fleet with the clock frozen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from pbxtui.ui.app import PbxApp
from pbxtui.ui.widgets.live_table import LiveTable
from tests.ui.fakes import StaticEngine, fixed_states, fleet_config, frozen_clock, name_callers
from tests.ui.helpers import wait_for

Snap = Callable[..., bool]


def make_app(**kw: Any) -> PbxApp:
    read_only = kw.pop("read_only", False)
    mask = kw.pop("mask_numbers", False)
    names = kw.pop("names", False)
    config = fleet_config(**kw)
    states = fixed_states(config, global_read_only=read_only)
    if names:
        name_callers(states)
    engine = StaticEngine(config, read_only=read_only, states=states)
    app = PbxApp(
        config,
        read_only=read_only,
        mask_numbers=mask,
        engine=engine,
        clock=frozen_clock,
        arm_seconds=0,
    )
    app.animation_level = "none"  # the tab underline slides: a frame caught mid-way differs
    return app


def _settled_console(app: PbxApp) -> bool:
    """On the console: the focus is in the pane shown (TabbedContent switches back to the
    pane holding the focus, so a focus still on its way would undo a pane key), and every
    table of that pane has rows and columns fitted to the width it has now."""
    console = app.console_screen
    if app.screen is not console:
        return True
    pane = console.active_pane
    focused = app.focused
    if focused is not None and pane not in focused.ancestors_with_self:
        return False
    tables = list(pane.query(LiveTable))
    return all(t.fitted for t in tables) and (
        pane.pane_id == "events" or not tables or any(t.row_count for t in tables)
    )


async def settle(pilot: Pilot[None]) -> None:
    """Wait until the screen has stopped changing, on conditions, never a fixed time: no
    animation scheduled, the focus and the tables settled (see ``_settled_console``), and
    two renders in a row alike."""
    app = pilot.app
    assert isinstance(app, PbxApp)
    await pilot.wait_for_scheduled_animations()
    await wait_for(pilot, lambda: _settled_console(app), what="the console to settle")
    previous = ""
    for _ in range(50):
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        shot = app.export_screenshot()
        if shot == previous and _settled_console(app):
            return
        previous = shot
    raise AssertionError("the screen kept changing")


def keys(*pressed: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Press ``pressed`` one by one, each on a settled screen, then settle."""

    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)

    return run


@pytest.mark.parametrize("size", [(160, 45), (80, 24)], ids=["160x45", "80x24"])
@pytest.mark.parametrize(
    "pane",
    ["1", "2", "3", "4", "5", "6"],
    ids=["calls", "extensions", "blf", "peers", "queues", "events"],
)
def test_panes(snap_compare: Snap, pane: str, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=keys(pane))


def test_hangup_confirmation(snap_compare: Snap) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=keys("down", "h"))


def test_protected_confirmation(snap_compare: Snap) -> None:
    app = make_app(protected=["hq"])
    assert snap_compare(
        app, terminal_size=(100, 30), run_before=keys("space", "down", "space", "h")
    )


def test_read_only_and_masked(snap_compare: Snap) -> None:
    app = make_app(read_only=True, mask_numbers=True)
    assert snap_compare(app, terminal_size=(160, 45), run_before=keys("L"))


def test_help(snap_compare: Snap) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 40), run_before=keys("question_mark"))


@pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])
def test_details(snap_compare: Snap, size: tuple[int, int]) -> None:
    """Enter on the second call (hq's inbound one, with its extension linked)."""
    assert snap_compare(make_app(), terminal_size=size, run_before=keys("down", "enter"))


def test_details_masked(snap_compare: Snap) -> None:
    app = make_app(mask_numbers=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=keys("down", "enter"))


def test_transfer_confirmation(snap_compare: Snap) -> None:
    """t on hq's first call, 202 typed, Enter: the confirmation names call and destination."""
    assert snap_compare(
        make_app(), terminal_size=(100, 30), run_before=keys("t", "2", "0", "2", "enter")
    )


def test_click2call_at_80x24(snap_compare: Snap) -> None:
    """The dialup PBX's form, the tallest: every field and both buttons without scrolling."""
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=keys("end", "c"))


def test_pbx_picker(snap_compare: Snap) -> None:
    """Ticked and unticked boxes differ by glyph (hq unticked)."""
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=keys("p", "space"))


@pytest.mark.parametrize(
    ("pane", "size"),
    [("1", (80, 24)), ("1", (160, 45)), ("2", (80, 24))],
    ids=["calls-80x24", "calls-160x45", "extensions-80x24"],
)
def test_names(snap_compare: Snap, pane: str, size: tuple[int, int]) -> None:
    """A caller the engine named: the name beside the number, within the columns' room."""
    assert snap_compare(make_app(names=True), terminal_size=size, run_before=keys(pane))


def test_names_masked(snap_compare: Snap) -> None:
    app = make_app(names=True, mask_numbers=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=keys("1"))


def test_names_details(snap_compare: Snap) -> None:
    """The named call's details: its names, its CRM link, and the key that copies it."""
    app = make_app(names=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=keys("down", "enter"))
