"""Blind and attended transfer: pick the destination (type-ahead over extensions).

Choosing is not sending: the flow then asks for a confirmation naming the call and the
destination. ``check`` is the request's own validation, shown in place (a destination that is
already on the call is refused before anything else).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, OptionList, Static

from pbxtui.ui.modals._form import form_footer, matching_options, no_blink, number_problem
from pbxtui.ui.modals.guard import GuardedModal


@dataclass(frozen=True)
class DestinationForm:
    title: str
    """``Blind transfer on hq``"""
    target: str
    """The call, named exactly."""
    verb: str
    choices: tuple[tuple[str, str], ...] = ()
    """(number, label) of the extensions on that PBX."""
    initial: str = ""
    note: str = ""
    check: Callable[[str], str] | None = None
    """Why a destination cannot be used ("" when it can)."""


class DestinationModal(GuardedModal[str | None]):
    """The destination number, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, form: DestinationForm) -> None:
        super().__init__(classes="modal")
        self.form = form

    def compose(self) -> ComposeResult:
        form = self.form
        with Vertical(classes="dialog danger"):
            yield Label(form.title, classes="title")
            yield Static(form.target, markup=False, classes="target-list")
            if form.note:
                yield Static(form.note, markup=False, classes="note")
            yield Label("Destination (extension or number):")
            yield Input(
                value=form.initial,
                placeholder="e.g. 205",
                suggester=SuggestFromList([n for n, _ in form.choices], case_sensitive=False),
                id="destination",
                compact=True,
            )
            yield OptionList(*matching_options(form.choices, form.initial), id="choices")
            yield from form_footer(
                form.verb, "Enter to continue, ↓ to pick an extension, Esc to cancel"
            )

    def on_mount(self, event: events.Mount) -> None:
        no_blink(*self.query(Input), headless=self.app.is_headless)
        self.query_one("#destination", Input).focus()

    @on(Input.Changed, "#destination")
    def _filter(self, event: Input.Changed) -> None:
        choices = self.query_one("#choices", OptionList)
        choices.set_options(matching_options(self.form.choices, event.value))

    def key_down(self) -> None:
        destination = self.query_one("#destination", Input)
        choices = self.query_one("#choices", OptionList)
        if destination.has_focus and choices.option_count:
            choices.focus()
            choices.highlighted = 0

    @on(OptionList.OptionSelected, "#choices")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        destination = self.query_one("#destination", Input)
        destination.value = event.option.id or ""
        destination.focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def action_submit(self) -> None:
        if not self.armed():
            return
        value = self.query_one("#destination", Input).value.strip()
        problem = number_problem("destination", value)
        if not problem and self.form.check is not None:
            problem = self.form.check(value)
        if problem:
            self.query_one("#error", Static).update(problem)
            return
        self.dismiss(value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
