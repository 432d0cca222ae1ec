"""Click2call: connect any extension to any number, on a PBX whose API offers it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select, Static

from pbxtui.ui.modals._form import no_blink, number_problem


@dataclass(frozen=True)
class Click2CallForm:
    pbxs: tuple[str, ...]
    """The PBXs that can place the call (API offers it, not read-only)."""
    pbx: str
    source: str = ""
    destination: str = ""
    extensions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Extension numbers per PBX, for type-ahead on the source."""


@dataclass(frozen=True)
class Click2CallChoice:
    pbx: str
    source: str
    destination: str


class Click2CallModal(ModalScreen[Click2CallChoice | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, form: Click2CallForm) -> None:
        super().__init__(classes="modal")
        self.form = form

    def compose(self) -> ComposeResult:
        form = self.form
        with Vertical(classes="dialog"):
            yield Label("Click2call", classes="title")
            yield Static(
                "The PBX rings the source first, then connects it to the destination.",
                classes="note",
            )
            yield Label("PBX:")
            yield Select(
                [(name, name) for name in form.pbxs],
                value=form.pbx if form.pbx in form.pbxs else form.pbxs[0],
                allow_blank=False,
                id="pbx",
                compact=True,
            )
            yield Label("From (extension):")
            yield Input(
                value=form.source,
                placeholder="e.g. 201",
                suggester=self._suggester(form.pbx),
                id="source",
                compact=True,
            )
            yield Label("To (number):")
            yield Input(
                value=form.destination,
                placeholder="e.g. 0501234567",
                id="destination",
                compact=True,
            )
            yield Static("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Call", variant="primary", id="confirm")
                yield Button("Cancel", id="cancel")
            yield Static("Enter to call, Esc to cancel", classes="hint")

    def _suggester(self, pbx: str) -> SuggestFromList:
        return SuggestFromList(self.form.extensions.get(pbx, ()), case_sensitive=False)

    def on_mount(self) -> None:
        no_blink(*self.query(Input), headless=self.app.is_headless)
        target = "#destination" if self.form.source else "#source"
        self.query_one(target, Input).focus()

    @on(Select.Changed, "#pbx")
    def _pbx_changed(self, event: Select.Changed) -> None:
        self.query_one("#source", Input).suggester = self._suggester(str(event.value))

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def action_submit(self) -> None:
        pbx = str(self.query_one("#pbx", Select).value)
        source = self.query_one("#source", Input).value.strip()
        destination = self.query_one("#destination", Input).value.strip()
        problem = number_problem("source", source) or number_problem("destination", destination)
        if problem:
            self.query_one("#error", Static).update(problem)
            return
        self.dismiss(Click2CallChoice(pbx, source, destination))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
