"""Where to save a file (a CSV export, a recording): the path, pre-filled, said in full.

Returns the path chosen, or None when cancelled. A name without a directory is saved in the
directory pbxtui was started in; ``~`` is the home directory. A path that exists, or whose
directory does not, is refused here, before anything is read or written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Input, Label, Static

from pbxtui.ui.modals._form import form_footer, no_blink
from pbxtui.ui.modals.guard import GuardedModal


def resolve(text: str) -> Path:
    return Path(text.strip()).expanduser().resolve()


class SaveAsModal(GuardedModal[Path | None]):
    """Guarded as an action's dialog is: ``e`` then an Enter typed with it opens this and
    saves nothing (a download costs the PBX a request, a file lands on disk)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, title: str, suggested: Path, note: str, problem: Callable[[Path], str]
    ) -> None:
        """``problem``: why a path cannot be saved to ("" when it can)."""
        super().__init__(classes="modal")
        self.title_text = title
        self.suggested = suggested
        self.note = note
        self.problem = problem

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog save-as"):
            yield Label(self.title_text, classes="title", markup=False)
            yield Static(self.note, classes="note", markup=False)
            yield Input(str(self.suggested), id="path")
            yield from form_footer("Save", "Enter saves · Esc cancels")

    def on_mount(self, event: events.Mount) -> None:
        field = self.query_one("#path", Input)
        no_blink(field, headless=self.app.is_headless)
        field.focus()

    @on(Input.Submitted, "#path")
    @on(Button.Pressed, "#confirm")
    def save(self) -> None:
        if not self.armed():
            return
        text = self.query_one("#path", Input).value
        if not text.strip():
            self._say("enter a file name")
            return
        path = resolve(text)
        why = self.problem(path)
        if why:
            self._say(why)
            return
        self.dismiss(path)

    def _say(self, text: str) -> None:
        self.query_one("#error", Static).update(text)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
