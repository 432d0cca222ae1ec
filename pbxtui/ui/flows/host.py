"""What an action flow needs from the screen it runs on (the console implements it)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from textual.notifications import SeverityLevel
from textual.screen import Screen

from pbxtui.model import Call, PbxState
from pbxtui.ui.session import Session

if TYPE_CHECKING:
    from pbxtui.ui.widgets.panes import Pane

T = TypeVar("T")


class FlowHost(Protocol):
    session: Session
    states: dict[str, PbxState]
    shown_pbxs: tuple[str, ...]

    @property
    def active_pane(self) -> Pane: ...

    def now(self) -> datetime: ...

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...

    def push(self, screen: Screen[T], done: Callable[[T | None], None]) -> None:
        """Show ``screen``; ``done`` gets what it returns."""
        ...

    def start(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in a worker of the screen (never exits the app on error)."""
        ...

    def add_event(self, pbx: str, text: str) -> None:
        """An event the console produced itself (no engine involved)."""
        ...

    def show_status(self) -> None: ...

    def text(self, value: str) -> str:
        """Free text as shown: one line, numbers masked in privacy mode."""
        ...

    def number(self, value: str) -> str: ...

    def describe(self, call: Call) -> str:
        """One line naming a call exactly (PBX, channel, parties, state, duration)."""
        ...

    def extension_choices(self, pbx: str) -> tuple[tuple[str, str], ...]:
        """(number, label) of the extensions and queues of ``pbx``, for type-ahead."""
        ...
