"""Pause agents: a reason from the configured list, or free text.

Typing always goes to the free-text field, whatever has focus (a typed reason is never
replaced by the highlighted one), and a typed reason wins over the list.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from pbxtui.model import MAX_REASON_LENGTH
from pbxtui.ui.modals._form import form_footer, no_blink
from pbxtui.ui.modals.guard import GuardedModal


class PauseModal(GuardedModal[str | None]):
    """The reason chosen (possibly ""), or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, targets: Sequence[str], reasons: Sequence[str]) -> None:
        super().__init__(classes="modal")
        self.targets = tuple(targets)
        self.reasons = tuple(reasons)

    def compose(self) -> ComposeResult:
        count = len(self.targets)
        title = "Pause this agent" if count == 1 else f"Pause {count} agents"
        with Vertical(classes="dialog"):
            yield Label(title, classes="title")
            with VerticalScroll(classes="targets"):
                yield Static("\n".join(self.targets), markup=False, classes="target-list")
            yield Label("Reason:")
            yield OptionList(
                *[Option(r, id=str(i)) for i, r in enumerate(self.reasons)], id="reasons"
            )
            yield Input(
                placeholder="or type another reason",
                id="reason",
                compact=True,
                max_length=MAX_REASON_LENGTH,
                select_on_focus=False,  # the first letter typed on the list must stay
            )
            yield from form_footer(
                "Pause",
                "Enter picks a reason or sends the one typed, Esc cancels",
                variant="warning",
            )

    def on_mount(self, event: events.Mount) -> None:
        no_blink(*self.query(Input), headless=self.app.is_headless)
        reasons = self.query_one("#reasons", OptionList)
        if self.reasons:
            reasons.highlighted = 0
            reasons.focus()
        else:
            reasons.display = False
            self.query_one("#reason", Input).focus()

    def on_key(self, event: events.Key) -> None:
        if not self.is_active:
            return
        typed = self.query_one("#reason", Input)
        if event.is_printable and event.character and not typed.has_focus:
            # A letter typed on the list is the start of a reason, not a list shortcut.
            event.stop()
            event.prevent_default()
            self.set_focus(typed)  # now: the next letter must not reach the list
            typed.insert_text_at_cursor(event.character)

    @on(OptionList.OptionSelected, "#reasons")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        typed = self.query_one("#reason", Input).value
        if typed.strip():
            self._submit_text(typed)
            return
        if self.armed():
            self.dismiss(self.reasons[int(event.option.id or 0)])

    @on(Input.Submitted, "#reason")
    def _typed(self, event: Input.Submitted) -> None:
        self._submit_text(event.value)

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        reason = self.query_one("#reason", Input).value
        reasons = self.query_one("#reasons", OptionList)
        if not reason.strip() and reasons.highlighted is not None and self.reasons:
            if self.armed():
                self.dismiss(self.reasons[reasons.highlighted])
            return
        self._submit_text(reason)

    def _submit_text(self, value: str) -> None:
        if not self.armed():
            return
        reason = value.strip()
        if any(not ch.isprintable() for ch in reason):
            self.query_one("#error", Static).update("the reason contains control characters")
            return
        self.dismiss(reason)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
