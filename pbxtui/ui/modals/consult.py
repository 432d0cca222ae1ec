"""The second step of an attended transfer: complete it, or cancel the consultation."""

from __future__ import annotations

from typing import Literal

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static

from pbxtui.ui.modals.guard import GuardedModal

ConsultChoice = Literal["complete", "cancel"]


class ConsultModal(GuardedModal[ConsultChoice | None]):
    """``complete``, ``cancel``, or None (decide later: the consultation goes on)."""

    BINDINGS = [
        Binding("escape", "later", "Later"),
        Binding("c", "complete", "Complete"),
        Binding("x", "cancel_consult", "Cancel consultation"),
    ]

    def __init__(self, description: str, *, protected: str = "") -> None:
        super().__init__(classes="modal")
        self.description = description
        self.protected = protected

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog danger"):
            yield Label("Attended transfer in progress", classes="title")
            yield Static(self.description, markup=False, classes="target-list")
            with Horizontal(classes="buttons"):
                yield Button("Complete (c)", variant="error", id="complete", classes="arms")
                yield Button("Cancel consult (x)", variant="warning", id="cancel", classes="arms")
                yield Button("Later (Esc)", id="later")
            yield Static(
                "Complete hangs up the transferer's leg and joins the other two; "
                "cancel hangs up the consultation and returns to the held caller.",
                classes="hint",
            )

    def on_mount(self, event: events.Mount) -> None:
        self.query_one("#later", Button).focus()

    @on(Button.Pressed, "#complete")
    def action_complete(self) -> None:
        if self.armed():
            self.dismiss("complete")

    @on(Button.Pressed, "#cancel")
    def action_cancel_consult(self) -> None:
        if self.armed():
            self.dismiss("cancel")

    @on(Button.Pressed, "#later")
    def action_later(self) -> None:
        self.dismiss(None)
