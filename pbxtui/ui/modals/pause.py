"""Pause agents: a reason from the configured list, or free text."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from pbxtui.engine.actions import MAX_REASON_LENGTH
from pbxtui.ui.modals._form import form_footer, no_blink


class PauseModal(ModalScreen[str | None]):
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
            )
            yield from form_footer("Pause", "Enter picks a reason, Esc cancels", variant="warning")

    def on_mount(self) -> None:
        no_blink(*self.query(Input), headless=self.app.is_headless)
        reasons = self.query_one("#reasons", OptionList)
        if self.reasons:
            reasons.highlighted = 0
            reasons.focus()
        else:
            reasons.display = False
            self.query_one("#reason", Input).focus()

    @on(OptionList.OptionSelected, "#reasons")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.reasons[int(event.option.id or 0)])

    @on(Input.Submitted, "#reason")
    def _typed(self, event: Input.Submitted) -> None:
        self._submit_text(event.value)

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        reason = self.query_one("#reason", Input).value
        reasons = self.query_one("#reasons", OptionList)
        if not reason.strip() and reasons.highlighted is not None and self.reasons:
            self.dismiss(self.reasons[reasons.highlighted])
            return
        self._submit_text(reason)

    def _submit_text(self, value: str) -> None:
        reason = value.strip()
        if any(not ch.isprintable() for ch in reason):
            self.query_one("#error", Static).update("the reason contains control characters")
            return
        self.dismiss(reason)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
