"""One table cell: what it shows (one line, one style), how it sorts, and how it is cut.

A ``Ticking`` cell shows a time elapsed since a fixed moment (a call's start, an agent's
pause): it is drawn from ``now`` when it is painted, so the cell itself never changes while
its record does not, and an unchanged row compares equal from one second to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.style import Style

from pbxtui.ui.format import format_duration, one_line

GAP = 1
"""Blank cells before every cell: the space between two columns."""


@dataclass(frozen=True, slots=True)
class Cell:
    """Compared by value, so the live table can tell a changed cell from an equal one.

    ``sort`` is a tuple: ``(0, value)`` for a value, ``(1, ...)`` for a missing one, so rows
    with no value sort last and values of one column never meet values of another type.
    """

    plain: str
    style: Style | None = None
    sort: tuple[Any, ...] = (1,)
    right: bool = False
    """Right-aligned (figures, durations) in whatever width the column has."""

    def at(self, now: datetime) -> Cell:
        """The cell as shown at ``now`` (itself: only a ``Ticking`` cell changes with time)."""
        return self

    def restyled(self, style: Style | None) -> Cell:
        return Cell(self.plain, style, self.sort, self.right)


@dataclass(frozen=True, slots=True)
class Levels:
    """Past ``warn`` seconds a ticking figure takes ``warn_style``, past ``alert`` the other."""

    warn: float
    alert: float
    warn_style: Style | None
    alert_style: Style | None

    def style(self, seconds: int) -> Style | None:
        if seconds >= self.alert:
            return self.alert_style
        if seconds >= self.warn:
            return self.warn_style
        return None


@dataclass(frozen=True, slots=True)
class Ticking(Cell):
    """``plain`` followed by the time elapsed since ``since`` (``0501234567 → 201 2:13``)."""

    since: datetime | None = None
    levels: Levels | None = None

    def seconds(self, now: datetime) -> int:
        if self.since is None:
            return 0
        return max(0, int((now - self.since).total_seconds()))

    def at(self, now: datetime) -> Cell:
        seconds = self.seconds(now)
        style = self.levels.style(seconds) if self.levels is not None else None
        return Cell(
            self.plain + format_duration(seconds), style or self.style, self.sort, self.right
        )

    def restyled(self, style: Style | None) -> Cell:
        # A restyled figure (a stale row) keeps one style: thresholds no longer colour it.
        return Ticking(self.plain, style, self.sort, self.right, self.since, None)


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


def since_cell(
    since: datetime | None,
    *,
    prefix: str = "",
    style: Style | None = None,
    levels: Levels | None = None,
    right: bool = True,
    sort: tuple[Any, ...] | None = None,
) -> Ticking:
    """The time elapsed since ``since``, ticking; sorts by it (longer after shorter), with
    ``since is None`` as the shortest (elapsed 0). ``prefix`` is shown before the figure."""
    if sort is None:
        sort = (0, -since.timestamp()) if since is not None else (0, float("-inf"))
    return Ticking(one_line(prefix), style, sort, right, since, levels)


def restyle(original: Cell, style: Style | None) -> Cell:
    return original.restyled(style)
