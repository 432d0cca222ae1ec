"""Every binding and the ``:`` command grammar."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from pbxtui.ui.commands import GRAMMAR


class HelpModal(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, bindings: Sequence[tuple[str, str]]) -> None:
        super().__init__(classes="modal")
        self.bindings_list = tuple(bindings)

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        for key, description in self.bindings_list:
            keys.add_row(key, description)
        with Vertical(classes="dialog help"):
            yield Label("Keys", classes="title")
            with VerticalScroll():
                yield Static(keys)
                yield Label("Commands (press :)", classes="title")
                yield Static(Text(GRAMMAR))
            yield Static("Esc or ? closes", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
