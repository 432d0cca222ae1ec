"""Choose which PBXs the panes show."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, SelectionList, Static


class PbxPicker(ModalScreen[tuple[str, ...] | None]):
    """The PBX names to show (all when none is ticked), or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "apply", "Apply", priority=True),
        Binding("a", "all", "All"),
    ]

    def __init__(self, names: Sequence[str], shown: Sequence[str], labels: dict[str, str]) -> None:
        super().__init__(classes="modal")
        self.names = tuple(names)
        self.shown = set(shown)
        self.labels = labels

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Show these PBXs", classes="title")
            yield SelectionList[str](
                *[(self.labels.get(n, n), n, n in self.shown) for n in self.names], id="pbxs"
            )
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")
            yield Static("Space ticks, a ticks all, Enter applies, Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#pbxs", SelectionList).focus()

    def action_all(self) -> None:
        self.query_one("#pbxs", SelectionList).select_all()

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        selected = self.query_one("#pbxs", SelectionList).selected
        chosen = tuple(n for n in self.names if n in selected)
        self.dismiss(chosen or self.names)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
