"""One table cell: what it shows (one line, one style) and how it sorts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.style import Style
from rich.text import Text

from pbxtui.ui.format import one_line


@dataclass(frozen=True, slots=True)
class Cell:
    """Compared by value, so the keyed-diff table can tell a changed cell from an equal one.

    ``sort`` is a tuple: ``(0, value)`` for a value, ``(1, ...)`` for a missing one, so rows
    with no value sort last and values of one column never meet values of another type.
    """

    plain: str
    style: Style | None = None
    sort: tuple[Any, ...] = (1,)
    right: bool = False
    """Right-aligned (figures, durations) in whatever width the column has."""

    def __rich__(self) -> Text:
        return Text(
            self.plain,
            style=self.style or "",
            no_wrap=True,
            overflow="ellipsis",
            justify="right" if self.right else "left",
            end="",
        )


def cell(value: str, style: Style | None = None, sort: Any = None) -> Cell:
    """A text cell sorting by ``sort`` (default: the text, case-insensitively)."""
    plain = one_line(value)
    if sort is None:
        key: tuple[Any, ...] = (0, plain.lower()) if plain else (1, "")
    else:
        key = (0, sort)
    return Cell(plain, style, key)


def num_cell(value: float | None, text: str, style: Style | None = None) -> Cell:
    """A right-aligned figure sorting numerically; ``None`` sorts last."""
    return Cell(one_line(text), style, (1, 0) if value is None else (0, value), right=True)


def restyle(original: Cell, style: Style | None) -> Cell:
    return Cell(original.plain, style, original.sort, original.right)
