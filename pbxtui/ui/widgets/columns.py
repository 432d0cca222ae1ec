"""The columns of a live table, and how they share the terminal's width.

Each column has a preferred width and may shrink to a minimum or grow to a maximum; on a
narrow terminal the columns give up room by ``keep`` (free text first, the figures an
operator acts on last), and each column's texts are cut its own way (``Cut``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from pbxtui.ui.cells import GAP
from pbxtui.ui.format import Cut


class Keep(IntEnum):
    """Which columns keep their width longest on a narrow terminal: the lowest give up room
    first, each down to its ``min_width``, before the next ones give any."""

    TEXT = 0
    """Names, descriptions, reasons, free text."""
    DETAIL = 1
    """Channels, hosts, queue and agent labels: worth keeping, readable when cut."""
    PBX = 2
    """The PBX's name."""
    DATA = 3
    """Numbers, states, durations, figures: what the operator acts on, cut last."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    """The preferred width, used when the terminal is wide enough."""
    min_width: int = 0
    """How narrow it may get on a small terminal (0: never narrower than ``width``)."""
    sortable: bool = True
    keep: Keep = Keep.TEXT
    """When it gives up room (see ``Keep``)."""
    cut: Cut = Cut.END
    """Where its texts lose cells when they do not fit."""
    max_width: int = 0
    """How wide it may grow on a wide terminal when the others have what they prefer (0: not
    wider than ``width``): a long channel shows whole at 160 columns."""

    @property
    def narrowest(self) -> int:
        return min(self.width, self.min_width) if self.min_width else self.width


def fit_widths(columns: Sequence[Column], available: int, gap: int = GAP) -> list[int]:
    """Column widths that fit ``available`` cells when they can, shrinking flexible columns.

    Spare room goes to the columns with a ``max_width``. Short of room, columns give it up
    by ``keep``, lowest first; within one level each gives up room in
    proportion to how much it may shrink. None goes below its ``min_width``: when even the
    minimums do not fit, the table scrolls sideways.
    """
    widths = [c.width for c in columns]
    excess = sum(widths) - (available - gap * len(columns))
    if excess < 0:
        _grow(widths, columns, -excess)
        return widths
    for level in sorted({c.keep for c in columns}):
        if excess <= 0:
            break
        members = [i for i, c in enumerate(columns) if c.keep == level]
        excess -= _shrink(widths, columns, members, excess)
    return widths


def _grow(widths: list[int], columns: Sequence[Column], spare: int) -> None:
    """Give ``spare`` cells to the columns that may grow, in column order."""
    for i, column in enumerate(columns):
        room = min(spare, max(0, column.max_width - widths[i]))
        widths[i] += room
        spare -= room


def _shrink(widths: list[int], columns: Sequence[Column], members: list[int], excess: int) -> int:
    """Take up to ``excess`` cells from the ``members`` columns; returns how many were taken."""
    slack = {i: widths[i] - columns[i].narrowest for i in members}
    total = sum(slack.values())
    if total <= 0:
        return 0
    if excess >= total:
        for i in members:
            widths[i] = columns[i].narrowest
        return total
    taken = 0
    for i in members:
        share = excess * slack[i] // total
        widths[i] -= share
        taken += share
    # Integer division leaves a few cells over: take them from the most flexible columns.
    while taken < excess:
        i = max(members, key=lambda j: (widths[j] - columns[j].narrowest, -j))
        widths[i] -= 1
        taken += 1
    return taken
