"""Which screen a key belongs to, decided when the key arrives, not when it is handled.

Textual forwards a key to the focused widget when the key reaches the app, and runs bindings
only when it has bubbled back; a burst typed faster than the console handles it (``/hy``, a
paste, a busy loop) can thus reach a binding after the screen it was typed at has changed:
``h`` opens the hang-up dialog and the ``y`` typed with it confirms it. Two rules close that
window. A screen may take a key the moment it arrives (``take_key``: the console opens its
prompt there, so every following key goes to the prompt; a dialog swallows early accept
keys). And a key runs a binding only on the screen that was on top when it arrived
(``KeyOrigins``): a key typed at the console never lands on a dialog that opened after it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Protocol, runtime_checkable

from textual import events
from textual.screen import Screen

MAX_KEYS_IN_FLIGHT = 512
"""Keys an Input consumed never come back; the oldest remembered are forgotten past this."""


@runtime_checkable
class TakesKeys(Protocol):
    def take_key(self, event: events.Key) -> bool:
        """Called as ``event`` arrives at the app, before it is forwarded: True takes it."""
        ...


class KeyOrigins:
    """The screen each key in flight was typed at."""

    def __init__(self) -> None:
        self._screens: OrderedDict[int, tuple[events.Key, Screen[Any]]] = OrderedDict()

    def remember(self, event: events.Key, screen: Screen[Any]) -> None:
        self._screens[id(event)] = (event, screen)
        while len(self._screens) > MAX_KEYS_IN_FLIGHT:
            self._screens.popitem(last=False)

    def elsewhere(self, event: events.Key, screen: Screen[Any]) -> bool:
        """Whether ``event``, back at the app, was typed at a screen other than ``screen``."""
        found = self._screens.pop(id(event), None)
        return found is not None and found[0] is event and found[1] is not screen
