"""Cheap text widgets for lines that change every second (status, health, details, notices).

``Static.update`` asks for a new layout of the whole screen on every call; these ask for one
only when the number of lines changes, and for nothing when the text is the same. They paint
through the Line API: each line's strip is made once per text and width. Rendered the usual
way, the whole text went through Textual's content pipeline again on every repaint: at 20
PBXs updating every second, the health strip and the status line took a sixth of the
console's CPU that way.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget


class LineText(Widget):
    """Lines of text (``text_for``, one line per ``\\n``, never wrapped: a line too long for
    the widget ends in an ellipsis), painted line by line."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._strips: list[Strip] = []
        self._strips_width: int | None = None
        """The width the strips were made for; None: to be made again."""
        self._base: Style | None = None
        """The widget's own style (asking for it walks up the DOM): until the styles change."""

    def text_for(self, width: int) -> Text:
        raise NotImplementedError

    def changed(self, *, layout: bool) -> None:
        """The text changed: repaint (and lay out again when ``layout``)."""
        self._strips_width = None
        self.refresh(layout=layout)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base, self._strips_width = None, None

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self._base is None:
            self._base = self.rich_style
        if self._strips_width != width:
            self._strips = self._make_strips(width, self._base)
            self._strips_width = width
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self._base)

    def _make_strips(self, width: int, base: Style) -> list[Strip]:
        console = self.app.console
        text = self.text_for(width)
        strips = []
        for line in text.split("\n", allow_blank=True):
            if line.cell_len > width:
                line.truncate(max(1, width), overflow="ellipsis")
            segments = Segment.apply_style(line.render(console), base)
            strips.append(Strip(segments).adjust_cell_length(width, base))
        return strips

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.text_for(width).plain.count("\n") + 1


class TextLines(LineText):
    DEFAULT_CSS = """
    TextLines { height: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._text = Text(end="")

    @property
    def text(self) -> Text:
        return self._text

    @property
    def plain(self) -> str:
        return self._text.plain

    def update(self, text: Text | str) -> None:
        new = text if isinstance(text, Text) else Text(text, end="")
        if new == self._text and new.style == self._text.style:
            return
        lines_before = self._text.plain.count("\n")
        self._text = new
        self.changed(layout=new.plain.count("\n") != lines_before)

    def text_for(self, width: int) -> Text:
        return self._text
