"""Choose which PBXs the panes show."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widgets import Button, Checkbox, Label, SelectionList, Static
from textual.widgets.option_list import OptionDoesNotExist

TICKED = "✓"
UNTICKED = " "


class TickList(SelectionList[str]):
    """A SelectionList whose boxes say ticked or not by glyph (``▐✓▌`` / ``▐ ▌``), not only by
    colour: Textual draws the same ``X`` in both and tells them apart by colour alone, which
    some themes (and monochrome terminals) make look alike."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        try:
            selection = self.get_option_at_index(int(self.scroll_offset.y) + y)
        except OptionDoesNotExist:
            return strip
        glyph = TICKED if selection.value in self.selected else UNTICKED
        segments = list(strip)
        # The box is drawn as three segments (left side, glyph, right side) before the prompt;
        # SelectionList draws the glyph its toggle buttons (Checkbox) use.
        if len(segments) > 1 and segments[1].text == Checkbox.BUTTON_INNER:
            segments[1] = segments[1]._replace(text=glyph)
            return Strip(segments, strip.cell_length)
        return strip


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
            yield TickList(
                *[(self.labels.get(n, n), n, n in self.shown) for n in self.names], id="pbxs"
            )
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")
            yield Static("Space ticks, a ticks all, Enter applies, Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#pbxs", TickList).focus()

    def action_all(self) -> None:
        self.query_one("#pbxs", TickList).select_all()

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        selected = self.query_one("#pbxs", TickList).selected
        chosen = tuple(n for n in self.names if n in selected)
        self.dismiss(chosen or self.names)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
