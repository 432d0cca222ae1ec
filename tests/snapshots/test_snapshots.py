"""SVG snapshots of every pane and modal, from a fixed fleet with the clock frozen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from pbxtui.ui.app import PbxApp
from tests.ui.fakes import StaticEngine, fixed_states, fleet_config, frozen_clock

Snap = Callable[..., bool]


def make_app(**kw: Any) -> PbxApp:
    read_only = kw.pop("read_only", False)
    mask = kw.pop("mask_numbers", False)
    config = fleet_config(**kw)
    engine = StaticEngine(
        config, read_only=read_only, states=fixed_states(config, global_read_only=read_only)
    )
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


def keys(*pressed: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run(pilot: Pilot[None]) -> None:
        await pilot.pause()
        for key in pressed:
            await pilot.press(key)
            await pilot.pause()
        await pilot.pause()

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
