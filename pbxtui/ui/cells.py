"""One table cell: what it shows (one line, one style), how it sorts, and whether it ticks.

A cell is a plain tuple of strings, numbers, datetimes and tuples of those, with its style
named by a number (``style_id``): tuples like these are untracked by Python's garbage
collector, so 10,000 rows of cells cost nothing when it runs. (Made of objects, the rows of a
10,000-call table were half of the heap each full collection walked: 150-250 ms stalls.)

A *ticking* cell shows the time elapsed since a fixed moment (a call's start, an agent's
pause): it is drawn from ``now`` when it is painted (``shown``), so the cell itself never
changes while its record does not, and an unchanged row compares equal from one second to
the next.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from rich.style import Style

from pbxtui.ui.format import format_duration, one_line

GAP = 1
"""Blank cells before every cell: the space between two columns."""

SortKey = tuple[Any, ...]
Levels = tuple[float, float, int, int]
"""(warn, alert, warn style, alert style): past ``warn`` seconds a ticking figure takes the
warn style, past ``alert`` the alert one."""
Cell = tuple[str, int, SortKey, bool, datetime | None, Levels | None]
"""(text, style, sort, right-aligned, ticking since, levels). ``sort`` is ``(0, value)`` for a
value, ``(1, ...)`` for a missing one, so rows with no value sort last and values of one
column never meet values of another type. A ticking cell shows its text followed by the time
elapsed since ``since``."""

PLAIN: Final = 0
STYLE: Final = 1
SORT: Final = 2
RIGHT: Final = 3
SINCE: Final = 4
LEVELS: Final = 5

_STYLES: list[Style | None] = [None]
_STYLE_IDS: dict[Style, int] = {}


def style_id(style: Style | None) -> int:
    """The number that names ``style`` in a cell (0: none). Styles are few (a theme's)."""
    if style is None:
        return 0
    found = _STYLE_IDS.get(style)
    if found is None:
        found = _STYLE_IDS[style] = len(_STYLES)
        _STYLES.append(style)
    return found


def style_of(number: int) -> Style | None:
    return _STYLES[number]


def cell(value: str, style: Style | None = None, sort: Any = None) -> Cell:
    """A text cell sorting by ``sort`` (default: the text, case-insensitively)."""
    plain = one_line(value)
    if sort is None:
        key: SortKey = (0, plain.lower()) if plain else (1, "")
    else:
        key = (0, sort)
    return (plain, style_id(style), key, False, None, None)


def num_cell(value: float | None, text: str, style: Style | None = None) -> Cell:
    """A right-aligned figure sorting numerically; ``None`` sorts last."""
    key: SortKey = (1, 0) if value is None else (0, value)
    return (one_line(text), style_id(style), key, True, None, None)


def fixed_cell(text: str, sort: SortKey, *, right: bool = False) -> Cell:
    """A cell with its own sort key (e.g. ``(0, float("-inf"))``)."""
    return (one_line(text), 0, sort, right, None, None)


def levels(
    warn: float, alert: float, warn_style: Style | None, alert_style: Style | None
) -> Levels:
    return (warn, alert, style_id(warn_style), style_id(alert_style))


def since_cell(
    since: datetime,
    *,
    prefix: str = "",
    style: Style | None = None,
    levels: Levels | None = None,
    right: bool = True,
    sort: SortKey | None = None,
) -> Cell:
    """The time elapsed since ``since``, ticking; sorts by it (longer after shorter) unless
    told. ``prefix`` is shown before the figure."""
    if sort is None:
        sort = (0, -since.timestamp())
    return (one_line(prefix), style_id(style), sort, right, since, levels)


def ticks(value: Cell) -> bool:
    return value[SINCE] is not None


def elapsed(value: Cell, now: datetime) -> int:
    since = value[SINCE]
    return 0 if since is None else max(0, int((now - since).total_seconds()))


def shown(value: Cell, now: datetime) -> tuple[str, int]:
    """(text, style) as the cell is painted at ``now``."""
    if value[SINCE] is None:
        return value[PLAIN], value[STYLE]
    seconds = elapsed(value, now)
    style = value[STYLE]
    bands = value[LEVELS]
    if bands is not None:
        warn, alert, warn_style, alert_style = bands
        if seconds >= alert:
            style = alert_style or style
        elif seconds >= warn:
            style = warn_style or style
    return value[PLAIN] + format_duration(seconds), style


def restyle(value: Cell, style: Style | None) -> Cell:
    """``value`` in one style (a stale row): thresholds no longer colour it."""
    return (value[PLAIN], style_id(style), value[SORT], value[RIGHT], value[SINCE], None)


def plain(value: Cell) -> str:
    """The cell's own text (without a ticking figure)."""
    return value[PLAIN]
