"""Waiting helpers for Pilot tests: poll a condition instead of sleeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from weakref import WeakKeyDictionary

from textual import events
from textual.app import App
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.pilot import Pilot
from textual.widgets import Input

from pbxtui.ui.app import PbxApp
from pbxtui.ui.widgets.health import HealthStrip
from pbxtui.ui.widgets.live_table import LiveTable


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


def table(app: PbxApp, name: str) -> LiveTable:
    return app.screen_stack[0].query_one(f"#table-{name}", LiveTable)


def rows(app: PbxApp, name: str) -> list[tuple[str, ...]]:
    t = table(app, name)
    return [t.row_plain(k) for k in t.keys]


def health_text(app: PbxApp) -> str:
    return app.screen_stack[0].query_one(HealthStrip).plain()


class NoticeLog:
    """A ``run_test(message_hook=...)`` that keeps every notification the app was sent."""

    def __init__(self) -> None:
        self.notices: list[Notification] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.notices.append(message.notification)


_LOGS: WeakKeyDictionary[App[None], NoticeLog] = WeakKeyDictionary()


def run(app: PbxApp, size: tuple[int, int] = (120, 36)) -> AbstractAsyncContextManager[Pilot[None]]:
    """``app.run_test`` that records notifications (see ``notifications``)."""
    log = NoticeLog()
    _LOGS[app] = log
    return app.run_test(size=size, message_hook=log)


def notices(app: PbxApp) -> list[Notification]:
    return list(_LOGS[app].notices) if app in _LOGS else []


def notifications(app: PbxApp) -> list[str]:
    return [f"{n.title} {n.message}" for n in notices(app)]


async def burst(pilot: Pilot[None], app: PbxApp, *keys: str) -> None:
    """Keys queued all at once, before the app handles the first: a paste, a fast typist,
    a busy console. (``pilot.press`` waits for each key to be handled.)"""
    for key in keys:
        char = key if len(key) == 1 else {"slash": "/", "colon": ":", "space": " "}.get(key)
        app.post_message(events.Key(key, char))
    await pilot.pause()


async def command(pilot: Pilot[None], app: PbxApp, text: str) -> None:
    """``:`` then ``text`` then Enter (the text is set at once: typing it costs a press a key)."""
    await pilot.press("colon")
    prompt = app.console_screen.query_one("#prompt", Input)
    prompt.value = text
    await pilot.press("enter")
    await pilot.pause()


async def fill(pilot: Pilot[None], app: PbxApp, selector: str, text: str) -> None:
    """Set an input of the current screen (firing Changed like typing would), once the
    screen has mounted it (a modal is the current screen before its widgets are)."""
    await wait_for(pilot, lambda: bool(app.screen.query(selector)), what=selector)
    app.screen.query_one(selector, Input).value = text
    await pilot.pause()
