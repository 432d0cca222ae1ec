"""Forms and a typed confirmation for the vendor extras: a campaign to start, stop, pause or
resume; a number for a queue's callback list; and every peer of a PBX at once, confirmed by
typing ALL or the PBX's name (as k9s asks a name typed before a delete).

Each form returns its request; the flow then confirms it naming the target. The typed
confirmation returns what was typed: the engine checks it again (``typed``).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from pbxtui.model import (
    ALL_PEERS,
    CAMPAIGN_VERBS,
    CampaignControl,
    CampaignVerb,
    QueueCallback,
)
from pbxtui.model.requests import ident_problem
from pbxtui.ui.modals._form import form_footer, no_blink, number_problem
from pbxtui.ui.modals.guard import GuardedModal


def _pbx_select(pbxs: Sequence[str], pbx: str) -> Select[str]:
    return Select(
        [(name, name) for name in pbxs],
        value=pbx if pbx in pbxs else pbxs[0],
        allow_blank=False,
        id="pbx",
        compact=True,
    )


class CampaignModal(GuardedModal[CampaignControl | None]):
    """A campaign by its id (the API lists none: it is in the URL of the campaign's edit
    page) and what to do with it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, pbxs: Sequence[str], pbx: str, campaign: str = "", verb: str = "") -> None:
        super().__init__(classes="modal")
        self.pbxs, self.pbx = tuple(pbxs), pbx
        self.campaign = campaign
        self.verb = verb if verb in CAMPAIGN_VERBS else CAMPAIGN_VERBS[0]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Label("Campaign", classes="title")
            yield Static(
                "Start and stop affect only on-demand campaigns; the id is in the URL of the "
                "campaign's edit page.",
                classes="note",
            )
            yield Label("PBX:")
            yield _pbx_select(self.pbxs, self.pbx)
            yield Label("Campaign id:")
            yield Input(value=self.campaign, placeholder="e.g. 12", id="campaign", compact=True)
            yield Label("Action:")
            yield Select(
                [(verb, verb) for verb in CAMPAIGN_VERBS],
                value=self.verb,
                allow_blank=False,
                id="verb",
                compact=True,
            )
            yield from form_footer("Next", "Enter to continue, Esc to cancel")

    def on_mount(self, event: events.Mount) -> None:
        no_blink(*self.query(Input), headless=self.app.is_headless)
        self.query_one("#campaign", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def action_submit(self) -> None:
        if not self.armed():
            return
        campaign = self.query_one("#campaign", Input).value.strip()
        problem = ident_problem("campaign id", campaign)
        if problem:
            self.query_one("#error", Static).update(problem)
            return
        verb: CampaignVerb = self.query_one("#verb", Select).value  # type: ignore[assignment]
        pbx = str(self.query_one("#pbx", Select).value)
        self.dismiss(CampaignControl(pbx=pbx, campaign=campaign, verb=verb))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class QueueCallbackModal(GuardedModal[QueueCallback | None]):
    """A number the PBX calls back once an agent of the queue is free."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, pbxs: Sequence[str], pbx: str, number: str = "", queue: str = "") -> None:
        super().__init__(classes="modal")
        self.pbxs, self.pbx = tuple(pbxs), pbx
        self.number, self.queue = number, queue

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Label("Queue callback", classes="title")
            yield Static(
                "The PBX calls the number back and connects it to the queue once an agent "
                "there is free.",
                classes="note",
            )
            yield Label("PBX:")
            yield _pbx_select(self.pbxs, self.pbx)
            yield Label("Number to call back:")
            yield Input(value=self.number, placeholder="e.g. 0501234567", id="number", compact=True)
            yield Label("Queue:")
            yield Input(value=self.queue, placeholder="e.g. 300", id="queue", compact=True)
            yield from form_footer("Next", "Enter to continue, Esc to cancel")

    def on_mount(self, event: events.Mount) -> None:
        no_blink(*self.query(Input), headless=self.app.is_headless)
        self.query_one("#queue" if self.number else "#number", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def action_submit(self) -> None:
        if not self.armed():
            return
        number = self.query_one("#number", Input).value.strip()
        queue = self.query_one("#queue", Input).value.strip()
        problem = number_problem("number", number) or number_problem("queue", queue)
        if problem:
            self.query_one("#error", Static).update(problem)
            return
        pbx = str(self.query_one("#pbx", Select).value)
        self.dismiss(QueueCallback(pbx=pbx, number=number, queue=queue))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def accepted_words(pbx: str, *, protected: bool) -> tuple[str, ...]:
    """What confirms every peer: ALL or the PBX's name; only the name on a protected PBX."""
    return (pbx,) if protected else (ALL_PEERS, pbx)


class TypedConfirmModal(GuardedModal[str | None]):
    """Every peer at once: the operator types ALL (or the PBX's name); returns the text."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, what: str, pbx: str, *, protected: bool = False) -> None:
        super().__init__(classes="modal")
        self.title_text, self.what, self.pbx = title, what, pbx
        self.words = accepted_words(pbx, protected=protected)

    def compose(self) -> ComposeResult:
        said = " or ".join(self.words)
        with Vertical(classes="dialog danger"):
            yield Label(self.title_text, classes="title")
            yield Static(self.what, markup=False, classes="target-list")
            yield Label(f"Type {said} to confirm", classes="warning")
            yield Input(placeholder=said, id="typed", compact=True)
            yield from form_footer("Confirm", "Enter to confirm, Esc to cancel", variant="error")

    def on_mount(self, event: events.Mount) -> None:
        typed = self.query_one("#typed", Input)
        typed.cursor_blink = not self.app.is_headless
        typed.focus()

    @on(Input.Submitted, "#typed")
    @on(Button.Pressed, "#confirm")
    def action_submit(self) -> None:
        if not self.armed():
            return
        typed = self.query_one("#typed", Input).value.strip()
        if typed not in self.words:
            self.query_one("#error", Static).update(f"type exactly: {' or '.join(self.words)}")
            return
        self.dismiss(typed)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
