"""The BLF board: a grid of lamps shaped and coloured by state, grouped by PBX, as wide as the
terminal.

A Line-API widget (``ScrollView`` + ``render_line``): the layout is recomputed only when the
lamps or the width change, and each line is rendered on demand, so hundreds of lamps cost
nothing while scrolling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from pbxtui.model import BlfLamp, LampKind, LineState
from pbxtui.ui.format import truncate
from pbxtui.ui.palette import Palette

LAMP_WIDTH = 18
# Each state has its own shape as well as its colour: colour-blind operators and monochrome
# terminals (NO_COLOR, ansi themes) must tell a free line from a busy one at a glance.
LAMP_GLYPHS = {
    LineState.IDLE: "○",
    LineState.RINGING: "◆",
    LineState.BUSY: "●",
    LineState.UNAVAILABLE: "✕",
    LineState.UNKNOWN: "?",
}
FLOW_MARK = "⚑"


def legend(palette: Palette) -> Text:
    """``○ idle  ◆ ringing  ● busy  ✕ unavailable  ? unknown  ⚑ flow``, styled like the lamps."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    for state, glyph in LAMP_GLYPHS.items():
        text.append(glyph, palette.line_state(state) or Style())
        text.append(f" {state.value}  ", palette.muted)
    text.append(f"{FLOW_MARK} flow", palette.muted)
    return text


@dataclass(frozen=True)
class LampGroup:
    pbx: str
    title: str
    lamps: tuple[BlfLamp, ...]
    stale: bool = False
    names: tuple[tuple[str, str], ...] = ()
    """(extension, name) from the extension list, for lamps that carry no name."""


@dataclass(frozen=True)
class _Line:
    header: str | None
    lamps: tuple[int, ...]  # indices into the flat lamp list
    stale: bool = False


class BlfBoard(ScrollView, can_focus=True):
    """Lamps of every PBX shown; the cursor picks one (``Selected`` is posted on change)."""

    BINDINGS = [
        Binding("left", "move(-1, 0)", "Left", show=False),
        Binding("right", "move(1, 0)", "Right", show=False),
        Binding("up", "move(0, -1)", "Up", show=False),
        Binding("down", "move(0, 1)", "Down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    cursor: reactive[int] = reactive(0, layout=False, init=False)

    class Selected(Message):
        def __init__(self, board: BlfBoard, lamp: BlfLamp | None) -> None:
            self.board = board
            self.lamp = lamp
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._groups: tuple[LampGroup, ...] = ()
        self._flat: list[BlfLamp] = []
        self._names: dict[tuple[str, str], str] = {}
        self._lines: list[_Line] = []
        self._width = 0
        self.palette = Palette()

    # -- data ------------------------------------------------------------------------------
    @property
    def lamps(self) -> list[BlfLamp]:
        return list(self._flat)

    @property
    def selected(self) -> BlfLamp | None:
        if not self._flat:
            return None
        return self._flat[min(self.cursor, len(self._flat) - 1)]

    def show(self, groups: Sequence[LampGroup], palette: Palette) -> None:
        keep = self.selected.key if self.selected else None
        palette_changed = palette != self.palette
        self.palette = palette
        if tuple(groups) == self._groups and not palette_changed:
            return
        self._groups = tuple(groups)
        self._flat = [lamp for group in self._groups for lamp in group.lamps]
        self._names = {(g.pbx, ext): name for g in self._groups for ext, name in g.names}
        self._relayout()
        if keep is not None:
            index = next((i for i, lamp in enumerate(self._flat) if lamp.key == keep), None)
            if index is not None and index != self.cursor:
                self.cursor = index
        if self._flat and self.cursor >= len(self._flat):
            self.cursor = len(self._flat) - 1
        self.refresh()
        self.post_message(self.Selected(self, self.selected))

    def plain_lines(self) -> list[str]:
        return [self._render_text(line).plain for line in self._lines]

    # -- layout ----------------------------------------------------------------------------
    def _per_line(self) -> int:
        return max(1, (self._width or 80) // LAMP_WIDTH)

    def _relayout(self) -> None:
        per_line = self._per_line()
        lines: list[_Line] = []
        index = 0
        for group in self._groups:
            lines.append(_Line(group.title, (), group.stale))
            for start in range(0, len(group.lamps), per_line):
                count = min(per_line, len(group.lamps) - start)
                lines.append(_Line(None, tuple(range(index + start, index + start + count))))
            index += len(group.lamps)
        self._lines = lines
        self.virtual_size = Size(max(self._width, per_line * LAMP_WIDTH), len(lines))

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        if width != self._width:
            self._width = width
            self._relayout()
            self.refresh()

    def _position(self, index: int) -> tuple[int, int]:
        for y, line in enumerate(self._lines):
            if index in line.lamps:
                return y, line.lamps.index(index)
        return 0, 0

    # -- rendering -------------------------------------------------------------------------
    def _lamp_text(self, lamp: BlfLamp, selected: bool) -> Text:
        palette = self.palette
        style = palette.line_state(lamp.state) or Style()
        label = lamp.extension or lamp.id
        name = lamp.label if lamp.label != label else self._names.get((lamp.pbx, label), "")
        if lamp.kind is LampKind.FLOW:
            label = f"{label}{FLOW_MARK}"
        body = truncate(f"{label} {name}".strip(), LAMP_WIDTH - 3)
        text = Text(no_wrap=True, end="")
        text.append(LAMP_GLYPHS[lamp.state] + " ", style)
        text.append(body.ljust(LAMP_WIDTH - 3), Style(reverse=True) if selected else None)
        text.append(" ")
        return text

    def _render_text(self, line: _Line) -> Text:
        if line.header is not None:
            style = self.palette.stale if line.stale else self.palette.bold
            return Text(line.header, style=style, no_wrap=True, end="")
        text = Text(no_wrap=True, end="")
        focused_cursor = self.cursor if self.has_focus else -1
        for index in line.lamps:
            text.append_text(self._lamp_text(self._flat[index], index == focused_cursor))
        return text

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        line_index = y + scroll_y
        width = self.scrollable_content_region.width
        if line_index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        text = self._render_text(self._lines[line_index])
        segments = list(text.render(self.app.console))
        strip = Strip(segments, text.cell_len).apply_style(self.rich_style)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    # -- cursor ----------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        for index in (old, new):
            if 0 <= index < len(self._flat):
                y, _ = self._position(index)
                self.refresh(Region(0, y - int(self.scroll_offset.y), self.size.width, 1))
        y, _ = self._position(new)
        self.scroll_to_region(Region(0, y, 1, 1), animate=False, immediate=True)
        self.post_message(self.Selected(self, self.selected))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_move(self, dx: int, dy: int) -> None:
        if not self._flat:
            return
        if dx:
            self.cursor = max(0, min(len(self._flat) - 1, self.cursor + dx))
            return
        y, column = self._position(self.cursor)
        target = y + dy
        while 0 <= target < len(self._lines) and not self._lines[target].lamps:
            target += dy
        if 0 <= target < len(self._lines):
            lamps = self._lines[target].lamps
            self.cursor = lamps[min(column, len(lamps) - 1)]

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = max(0, len(self._flat) - 1)

    def select_key(self, key: str) -> None:
        for index, lamp in enumerate(self._flat):
            if lamp.key == key:
                self.cursor = index
                return
