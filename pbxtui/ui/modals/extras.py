"""The vendor extras: callback (number masking), IVR call, and the phone directory.

Each form returns its request; the flow then confirms it, naming the numbers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from pbxtui.model import Callback, DirectoryEntry, IvrCall, IvrCallRequest
from pbxtui.ui.modals._form import form_footer, no_blink, number_problem
from pbxtui.ui.modals.guard import GuardedModal

MAX_ANNOUNCEMENTS = 20
MAX_ANNOUNCEMENT_LENGTH = 200
MAX_SHOWN_ENTRIES = 500


def _pbx_select(pbxs: Sequence[str], pbx: str) -> Select[str]:
    return Select(
        [(name, name) for name in pbxs],
        value=pbx if pbx in pbxs else pbxs[0],
        allow_blank=False,
        id="pbx",
        compact=True,
    )


def split_announcements(text: str) -> tuple[str, ...]:
    """Announcements typed comma- or line-separated, blanks dropped."""
    return tuple(part.strip() for part in re.split(r"[,\n]", text) if part.strip())


# -- callback ----------------------------------------------------------------------------------
class CallbackModal(GuardedModal[Callback | None]):
    """Connect two numbers through the PBX; neither sees the other's number."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, pbxs: Sequence[str], pbx: str, number1: str = "", number2: str = "") -> None:
        super().__init__(classes="modal")
        self.pbxs = tuple(pbxs)
        self.pbx = pbx
        self.number1 = number1
        self.number2 = number2

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Label("Callback (number masking)", classes="title")
            yield Static(
                "The PBX calls the first number, then connects it to the second; "
                "each sees the PBX's number, not the other's.",
                classes="note",
            )
            yield Label("PBX:")
            yield _pbx_select(self.pbxs, self.pbx)
            yield Label("First number (called first):")
            yield Input(
                value=self.number1, placeholder="e.g. 0501234567", id="number1", compact=True
            )
            yield Label("Second number:")
            yield Input(
                value=self.number2, placeholder="e.g. 0507654321", id="number2", compact=True
            )
            yield from form_footer("Next", "Enter to continue, Esc to cancel")

    def on_mount(self, event: events.Mount) -> None:
        no_blink(*self.query(Input), headless=self.app.is_headless)
        self.query_one("#number2" if self.number1 else "#number1", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def action_submit(self) -> None:
        if not self.armed():
            return
        pbx = str(self.query_one("#pbx", Select).value)
        first = self.query_one("#number1", Input).value.strip()
        second = self.query_one("#number2", Input).value.strip()
        problem = number_problem("first number", first) or number_problem("second number", second)
        if not problem and first == second:
            problem = "the two numbers are the same"
        if problem:
            self.query_one("#error", Static).update(problem)
            return
        self.dismiss(Callback(pbx=pbx, number1=first, number2=second))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


# -- IVR call ----------------------------------------------------------------------------------
class IvrModal(GuardedModal[IvrCallRequest | None]):
    """An outgoing call that plays announcements, optionally through a dial plan."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Call", show=False),
    ]

    def __init__(self, pbxs: Sequence[str], pbx: str, number: str = "") -> None:
        super().__init__(classes="modal")
        self.pbxs = tuple(pbxs)
        self.pbx = pbx
        self.number = number

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Label("IVR call", classes="title")
            yield Static(
                "The PBX calls the number and plays the announcements to it.", classes="note"
            )
            yield Label("PBX:")
            yield _pbx_select(self.pbxs, self.pbx)
            yield Label("Number to call:")
            yield Input(value=self.number, placeholder="e.g. 0501234567", id="number", compact=True)
            with Horizontal(classes="pair"):
                with Vertical():
                    yield Label("Dial plan (optional):")
                    yield Input(placeholder="e.g. from-internal", id="dialplan", compact=True)
                with Vertical():
                    yield Label("Destination (optional):")
                    yield Input(placeholder="e.g. ivr-main", id="destination", compact=True)
            yield Label("Announcements (comma- or line-separated):")
            yield TextArea(id="announcements", compact=True, soft_wrap=True)
            yield from form_footer(
                "Next", "Enter (in a field) or ctrl+s to continue, Esc to cancel"
            )

    def on_mount(self, event: events.Mount) -> None:
        no_blink(*self.query(Input), headless=self.app.is_headless)
        self.query_one(TextArea).cursor_blink = not self.app.is_headless
        self.query_one("#number", Input).focus()

    def _problem(self, number: str, dialplan: str, destination: str, items: Sequence[str]) -> str:
        problem = number_problem("number", number)
        if problem:
            return problem
        for what, value in (("dial plan", dialplan), ("destination", destination)):
            if value and (len(value) > 80 or not value.isprintable()):
                return f"the {what} must be printable and at most 80 characters"
        if len(items) > MAX_ANNOUNCEMENTS:
            return f"at most {MAX_ANNOUNCEMENTS} announcements"
        for item in items:
            if len(item) > MAX_ANNOUNCEMENT_LENGTH or not item.isprintable():
                return (
                    f"each announcement must be printable and at most "
                    f"{MAX_ANNOUNCEMENT_LENGTH} characters"
                )
        return ""

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def action_submit(self) -> None:
        if not self.armed():
            return
        pbx = str(self.query_one("#pbx", Select).value)
        number = self.query_one("#number", Input).value.strip()
        dialplan = self.query_one("#dialplan", Input).value.strip()
        destination = self.query_one("#destination", Input).value.strip()
        items = split_announcements(self.query_one("#announcements", TextArea).text)
        problem = self._problem(number, dialplan, destination, items)
        if problem:
            self.query_one("#error", Static).update(problem)
            return
        ivr = IvrCall(
            number=number, dialplan=dialplan, destination=destination, announcements=items
        )
        self.dismiss(IvrCallRequest(pbx=pbx, ivr=ivr))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


# -- phone directory ---------------------------------------------------------------------------
def matching_entries(
    entries: Sequence[DirectoryEntry], typed: str, shown: dict[str, str] | None = None
) -> list[Option]:
    """Entries whose name or number contains ``typed``; the option id is the entry index.

    ``shown`` maps a number to how it is displayed (masked in privacy mode)."""
    needle = typed.strip().lower()
    found: list[Option] = []
    for index, entry in enumerate(entries):
        if needle and needle not in entry.name.lower() and needle not in entry.number.lower():
            continue
        number = (shown or {}).get(entry.number, entry.number)
        found.append(Option(f"{number:<16} {entry.name}".rstrip(), id=str(index)))
        if len(found) >= MAX_SHOWN_ENTRIES:
            break
    return found


class DirectoryModal(GuardedModal[DirectoryEntry | None]):
    """A PBX's phone directory: type to filter, Enter to call the entry, Esc to close."""

    BINDINGS = [Binding("escape", "cancel", "Close")]

    def __init__(
        self, pbx: str, entries: Sequence[DirectoryEntry], shown: dict[str, str] | None = None
    ) -> None:
        super().__init__(classes="modal")
        self.pbx = pbx
        self.entries = tuple(entries)
        self.shown = shown or {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog directory"):
            yield Label(
                f"Phone directory of {self.pbx} ({len(self.entries)} entries)", classes="title"
            )
            yield Input(placeholder="type to filter by name or number", id="filter", compact=True)
            yield OptionList(*matching_entries(self.entries, "", self.shown), id="entries")
            yield Static(
                "" if self.entries else "the directory is empty", id="empty", classes="note"
            )
            yield Static("↓ to the list, Enter to call the entry, Esc to close", classes="hint")

    def on_mount(self, event: events.Mount) -> None:
        no_blink(*self.query(Input), headless=self.app.is_headless)
        self.query_one("#filter", Input).focus()
        self._highlight_first()

    def _highlight_first(self) -> None:
        options = self.query_one("#entries", OptionList)
        options.highlighted = 0 if options.option_count else None

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        options = self.query_one("#entries", OptionList)
        options.set_options(matching_entries(self.entries, event.value, self.shown))
        self._highlight_first()
        self.query_one("#empty", Static).update("" if options.option_count else "no entry matches")

    def key_down(self) -> None:
        options = self.query_one("#entries", OptionList)
        if self.query_one("#filter", Input).has_focus and options.option_count:
            options.focus()

    @on(Input.Submitted, "#filter")
    def _submitted(self) -> None:
        options = self.query_one("#entries", OptionList)
        if options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected, "#entries")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if self.armed() and option_id is not None and option_id.isdigit():
            self.dismiss(self.entries[int(option_id)])

    def action_cancel(self) -> None:
        self.dismiss(None)
