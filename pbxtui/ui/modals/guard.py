"""Dialogs that act: nothing they accept counts until they have been on screen a moment.

Browsers do this for dangerous dialogs: an accept key (``y``, Enter, Space, a click on the
button) that arrives before the dialog has been visible for ``ARM_SECONDS`` is ignored, and so
is any key typed before the dialog opened, however late it is handled. A burst such as ``hy``
therefore opens the hang-up confirmation and never confirms it. Typing into a field works at
once, and Escape always does.
"""

from __future__ import annotations

import time
from typing import TypeVar

from textual import events
from textual.screen import ModalScreen
from textual.widgets import Button

ResultType = TypeVar("ResultType")

ARM_SECONDS = 0.4
ACCEPT_KEYS = frozenset({"enter", "y", "Y", "space", "ctrl+s"})


class GuardedModal(ModalScreen[ResultType]):
    """Subclasses call ``self.armed()`` before accepting anything. (Textual runs each
    class's own ``on_mount``/``on_key`` in turn: subclasses need not call these.)"""

    arm_seconds: float = ARM_SECONDS
    """Per app: ``PbxApp(arm_seconds=...)`` (tests of other behaviour use 0)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._armed_at = float("inf")
        self._opened_at_clock = float("inf")
        self._armed_at_clock = float("inf")

    def on_mount(self, event: events.Mount) -> None:
        seconds = getattr(self.app, "arm_seconds", self.arm_seconds)
        # Two clocks: ``time.monotonic`` for now, and the events' own clock for keys that
        # were typed before the dialog existed but are handled after.
        self._armed_at = time.monotonic() + seconds
        self._opened_at_clock = event.time
        self._armed_at_clock = event.time + seconds
        for button in self.query(".arms").results(Button):
            button.disabled = True
        self.set_timer(max(seconds, 0.001), self._arm)

    def _arm(self) -> None:
        for button in self.query(".arms").results(Button):
            button.disabled = False

    def armed(self) -> bool:
        return time.monotonic() >= self._armed_at

    def take_key(self, event: events.Key) -> bool:
        """Keys typed before this dialog opened, and early accept keys, are swallowed."""
        if event.key == "escape":
            return False
        if event.time < self._opened_at_clock:
            return True
        early = event.time < self._armed_at_clock or not self.armed()
        return early and event.key in ACCEPT_KEYS
