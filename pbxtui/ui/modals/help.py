"""Every binding and the ``:`` command grammar."""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
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


HELP_SCREENS_KEPT = 4
"""Distinct help screens kept composed per app (the console's and History's, with the few
support notes that change what they say)."""


_KEPT: weakref.WeakKeyDictionary[App[object], list[str]] = weakref.WeakKeyDictionary()


def show_help(app: App[object], bindings: Sequence[tuple[str, str]]) -> None:
    """Open the help for ``bindings``; one composed for the same rows before is shown again
    as it is (composing the table of keys is most of what opening help costs: at NOC scale,
    with the engine busy, 50-100 ms)."""
    rows = tuple(bindings)
    name = "help-" + hashlib.blake2b(repr(rows).encode(), digest_size=8).hexdigest()
    kept = _KEPT.setdefault(app, [])
    if name not in kept:
        while len(kept) >= HELP_SCREENS_KEPT:
            app.uninstall_screen(kept.pop(0))
        app.install_screen(HelpModal(rows), name)
        kept.append(name)
    app.push_screen(name)
