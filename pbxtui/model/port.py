"""The two sides of an engine as its users see it: what they read, and how they act.

The console and the headless commands depend on these protocols only. ``pbxtui.engine.Engine``
satisfies them by polling PBXs itself; a console fed by a remote collector would satisfy them
too, and so does the tests' static engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from pbxtui.model.events import EngineUpdate
from pbxtui.model.outcomes import ActionOutcome
from pbxtui.model.push import PushEvent
from pbxtui.model.requests import ActionRequest
from pbxtui.model.state import PbxState
from pbxtui.model.vocabulary import Action, Capabilities

Listener = Callable[[EngineUpdate], None]


class StateSource(Protocol):
    """The read side: the latest state of every PBX, and a call after every change."""

    @property
    def pbx_names(self) -> list[str]: ...

    def capabilities(self, name: str) -> Capabilities: ...

    def state(self) -> dict[str, PbxState]: ...

    def subscribe(self, listener: Listener) -> Callable[[], None]: ...

    def refresh(self, pbx: str | None = None) -> None: ...


class ActionSink(Protocol):
    """The write side: every action goes through ``perform``, which applies the one policy."""

    def is_read_only(self, pbx: str) -> bool: ...

    def is_protected(self, pbx: str) -> bool: ...

    def refusal(self, action: Action, pbx: str) -> str:
        """Why ``action`` cannot go to ``pbx`` whatever its target ("" if it may)."""
        ...

    def in_flight(self, request: ActionRequest) -> bool:
        """Whether an action on the same target is being sent now."""
        ...

    async def perform(self, request: ActionRequest) -> ActionOutcome:
        """Apply the policy, send, audit and announce; never raises for a refusal."""
        ...


class PushSink(Protocol):
    """Where the webhook receiver hands what the PBXs push (the engine, or a collector)."""

    async def ingest(self, event: PushEvent) -> None: ...

    async def push_refused(self, pbx: str, reason: str, count: int = 1) -> None:
        """``count`` requests for ``pbx`` were refused (bad token, source, size, rate), the
        last for ``reason``: counted."""
        ...

    async def push_unavailable(self, pbxs: Sequence[str], reason: str) -> None:
        """What ``pbxs`` push cannot be received (the receiver cannot listen): said on their
        health, while polling goes on."""
        ...


class Source(Protocol):
    """What feeds an engine beside its own pollers: the webhook receiver, later a remote
    collector. The engine runs each in its task group and hands it itself as the sink; a
    source that cannot run says so through the sink and returns, never raising."""

    name: str

    async def run(self, sink: PushSink) -> None: ...


class EnginePort(StateSource, ActionSink, Protocol):
    """What the console needs."""


class LiveEngine(EnginePort, Protocol):
    """An engine the console runs itself: open it, run it until the console quits."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def run(self) -> None: ...


@runtime_checkable
class YieldsToInput(Protocol):
    """An engine sharing the console's process that can give way when a key arrives or a
    repaint starts, so the console has the interpreter to itself while it answers or paints
    (``pbxtui.engine.in_thread``)."""

    def input_arrived(self) -> None: ...

    def painting(self) -> Callable[[], None]:
        """A key's answer or a repaint starts: the engine gives way until the returned
        callable is called (once the frame is drawn)."""
        ...
