"""A confirmation that names its exact targets; protected PBXs must be typed to confirm.

It is a ``GuardedModal``: ``y`` or Enter in its first moments, or typed before it opened,
confirms nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from pbxtui.ui.modals.guard import GuardedModal

MAX_LISTED = 50


@dataclass(frozen=True)
class Confirmation:
    title: str
    """``Hang up 1 call?``"""
    targets: tuple[str, ...]
    """One line per target: PBX, channel, parties, duration."""
    verb: str
    """The confirm button's label: ``Hang up``."""
    type_to_confirm: tuple[str, ...] = ()
    """Protected PBX names the operator must type (space-separated) to confirm."""
    note: str = ""


def expected_text(names: Sequence[str]) -> str:
    return " ".join(names)


class ConfirmModal(GuardedModal[bool]):
    """``True`` when confirmed; ``False`` when cancelled (Esc, n, the Cancel button)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("n", "cancel", "No", show=False),
        Binding("y", "confirm", "Yes", show=False),
    ]

    def __init__(self, confirmation: Confirmation) -> None:
        super().__init__(classes="modal")
        self.confirmation = confirmation

    def compose(self) -> ComposeResult:
        c = self.confirmation
        with Vertical(classes="dialog danger"):
            yield Label(c.title, classes="title")
            with VerticalScroll(classes="targets"):
                listed = c.targets[:MAX_LISTED]
                yield Static("\n".join(listed), markup=False, classes="target-list")
                if len(c.targets) > MAX_LISTED:
                    yield Static(f"… and {len(c.targets) - MAX_LISTED} more", classes="muted")
            if c.note:
                yield Static(c.note, markup=False, classes="note")
            if c.type_to_confirm:
                names = expected_text(c.type_to_confirm)
                what = "its name" if len(c.type_to_confirm) == 1 else "their names"
                yield Label(f"Protected: type {what} ({names}) to confirm", classes="warning")
                yield Input(placeholder=names, id="typed", compact=True)
                yield Static("", id="typed-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(c.verb, variant="error", id="confirm", classes="arms")
                yield Button("Cancel", variant="default", id="cancel")
            hint = (
                "Enter to confirm, Esc to cancel"
                if c.type_to_confirm
                else "y to confirm, n or Esc to cancel"
            )
            yield Static(hint, classes="hint")

    def on_mount(self, event: events.Mount) -> None:
        if self.confirmation.type_to_confirm:
            typed = self.query_one("#typed", Input)
            typed.cursor_blink = not self.app.is_headless
            typed.focus()
        else:
            self.query_one("#cancel", Button).focus()

    def _typed_ok(self) -> bool:
        if not self.confirmation.type_to_confirm:
            return True
        typed = self.query_one("#typed", Input).value.split()
        return typed == list(self.confirmation.type_to_confirm)

    def action_confirm(self) -> None:
        if not self.armed():
            return
        if not self._typed_ok():
            names = expected_text(self.confirmation.type_to_confirm)
            self.query_one("#typed-error", Static).update(f"type exactly: {names}")
            self.query_one("#typed", Input).focus()
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    def _confirm_pressed(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted, "#typed")
    def _typed_submitted(self) -> None:
        self.action_confirm()
