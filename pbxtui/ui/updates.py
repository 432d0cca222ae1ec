"""Engine updates on their way to the screen: buffered, coalesced, never lost.

The engine calls its listeners after every poll result (dozens a second with many PBXs).
``UpdateBuffer`` keeps the newest state of each PBX and every change (the event log needs
them all), and asks for one message at a time: while a message is queued, further updates
only merge into the buffer. ``EngineChanged.can_replace`` lets the newest message supersede a
stale queued copy as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from pbxtui.model import Change, EngineUpdate, PbxState


class UpdateBuffer:
    def __init__(self) -> None:
        self._states: dict[str, PbxState] = {}
        self._changes: list[Change] = []
        self._requested = False
        self._pushed = False

    def add(self, update: EngineUpdate) -> bool:
        """Merge ``update``; True when the caller should post a message (none is queued, or
        this is the first pushed event since the last take: the screen may be holding a
        repaint back, and a push is not to wait for it)."""
        self._states[update.pbx] = update.state
        self._changes.extend(update.changes)
        if not self._pushed and any(c.source == "push" for c in update.changes):
            self._pushed = self._requested = True
            return True
        if self._requested:
            return False
        self._requested = True
        return True

    @property
    def pushed(self) -> bool:
        """Whether something a PBX pushed waits in the buffer."""
        return self._pushed

    def take(self) -> tuple[dict[str, PbxState], list[Change]]:
        """Everything buffered since the last take (and allow the next message)."""
        states, changes = self._states, self._changes
        self._states, self._changes, self._requested, self._pushed = {}, [], False, False
        return states, changes

    @property
    def pending(self) -> bool:
        return bool(self._states or self._changes)


@dataclass
class EngineChanged(Message):
    """Something new is in the buffer."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EngineChanged)


@dataclass
class EngineReady(Message):
    """The engine is open: its state and capabilities can be read."""


@dataclass
class EngineStopped(Message):
    """The engine's worker ended; ``reason`` is safe to show."""

    reason: str
