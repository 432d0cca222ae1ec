"""Waiting helpers for Pilot tests: poll a condition instead of sleeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input

from pbxtui.ui.app import PbxApp
from pbxtui.ui.widgets.health import HealthStrip
from pbxtui.ui.widgets.keyed_table import KeyedTable


async def wait_for(
    pilot: Pilot[None], condition: Callable[[], object], *, timeout: float = 10.0, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    if condition():
        return
    await pilot.pause()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.02)


def table(app: PbxApp, name: str) -> KeyedTable:
    return app.screen_stack[0].query_one(f"#table-{name}", KeyedTable)


def rows(app: PbxApp, name: str) -> list[tuple[str, ...]]:
    t = table(app, name)
    return [t.row_plain(k) for k in t.keys]


def health_text(app: PbxApp) -> str:
    return app.screen_stack[0].query_one(HealthStrip).plain()


def notifications(app: PbxApp) -> list[str]:
    return [f"{n.title} {n.message}" for n in app._notifications]


async def command(pilot: Pilot[None], app: PbxApp, text: str) -> None:
    """``:`` then ``text`` then Enter (the text is set at once: typing it costs a press a key)."""
    await pilot.press("colon")
    prompt = app.console_screen.query_one("#prompt", Input)
    prompt.value = text
    await pilot.press("enter")
    await pilot.pause()


async def fill(pilot: Pilot[None], app: PbxApp, selector: str, text: str) -> None:
    """Set an input of the current screen (firing Changed like typing would)."""
    app.screen.query_one(selector, Input).value = text
    await pilot.pause()
