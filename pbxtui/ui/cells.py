"""One table cell: what it shows (one line, one style), how it sorts, and how it is cut."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style

from pbxtui.ui.format import Cut, fit_text, one_line

GAP = 1
"""Blank cells before every cell: the space between two columns. The table has no padding
of its own (DataTable pads both sides, two cells between columns: too many for 80 columns)."""


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
    cut: Cut = Cut.END
    """Where the text loses cells when the column is narrower (the table sets its column's)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        # Cut here, at the width the column has now: Rich's own overflow only cuts the end.
        room = max(0, options.max_width - GAP)
        shown = fit_text(self.plain, room, self.cut)
        pad = " " * (room - cell_len(shown))
        yield Segment(" " * GAP)
        if self.right and pad:
            yield Segment(pad)
        yield Segment(shown, self.style)
        if not self.right and pad:
            yield Segment(pad)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = cell_len(self.plain) + GAP
        return Measurement(width, width)


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
    return Cell(original.plain, style, original.sort, original.right, original.cut)


def with_cut(original: Cell, cut: Cut) -> Cell:
    """``original`` cut ``cut``-wise (itself when it already is)."""
    if original.cut is cut:
        return original
    return Cell(original.plain, original.style, original.sort, original.right, cut)
