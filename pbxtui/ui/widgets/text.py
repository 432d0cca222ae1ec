"""A cheap text widget for lines that change every second (status, details, notices).

``Static.update`` asks for a new layout of the whole screen on every call; this asks for one
only when the number of lines changes, and for nothing when the text is the same.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget


class TextLines(Widget):
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
        self.refresh(layout=new.plain.count("\n") != lines_before)

    def render(self) -> Text:
        return self._text

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._text.plain.count("\n") + 1
