"""Display formatting shared by every pane and modal (pure: no Textual here).

Numbers are masked in privacy mode, durations and ages are short and fixed in shape, and any
free text is cut to one line so a live table never grows a multi-line cell.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum

from rich.cells import cell_len, set_cell_size

from pbxtui.masking import MASK_MIN_DIGITS, mask_number, mask_text
from pbxtui.model import Call, format_duration

__all__ = [
    "MASK_MIN_DIGITS",
    "Cut",
    "Level",
    "beside",
    "call_parties",
    "fit_text",
    "format_age",
    "format_duration",
    "format_latency",
    "level",
    "mask_number",
    "mask_text",
    "named_parties",
    "one_line",
    "truncate",
]


class Level(IntEnum):
    """How much a figure should stand out: colours map to $success/$warning/$error."""

    NORMAL = 0
    WARN = 1
    ALERT = 2


def level(value: float | None, warn: float, alert: float) -> Level:
    """``ALERT`` at or past ``alert``, ``WARN`` at or past ``warn``, else ``NORMAL``."""
    if value is None:
        return Level.NORMAL
    if value >= alert:
        return Level.ALERT
    if value >= warn:
        return Level.WARN
    return Level.NORMAL


def one_line(text: str) -> str:
    """Control characters and line breaks become spaces: a cell is always one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else " " for ch in text)


ELLIPSIS = "…"


class Cut(StrEnum):
    """Where a text too wide for its room loses cells (the ellipsis marks the place)."""

    END = "end"
    """``PJSIP/trun…``: names and free text, which are read from their start."""
    START = "start"
    """``…Trunk110-20a1b``: channels, whose tail (the call's own sequence) tells calls apart
    when every call on a trunk starts alike."""
    MIDDLE = "middle"
    """``ist…ul``: PBX names, whose start names them and whose end tells ``x-1`` from ``x-2``."""
    CHANNEL = "channel"
    """Channels (``TECH/peer-sequence``): the technology goes first (``…Trunk110-20a1b``),
    then the middle, so the peer's start and the call's own sequence stay
    (``trunk…00f1e8``): every call on a trunk starts alike and differs only at its tail."""


def _head(text: str, cells: int) -> str:
    """The first ``cells`` cells of ``text`` (a wide character cut in two becomes a space)."""
    return set_cell_size(text, cells) if cell_len(text) > cells else text


def _tail(text: str, cells: int) -> str:
    """The last ``cells`` cells of ``text``."""
    return _head(text[::-1], cells)[::-1]


def fit_text(text: str, width: int, cut: Cut = Cut.END) -> str:
    """``text`` in at most ``width`` terminal cells, cut where ``cut`` says with an ellipsis."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    room = width - 1
    if cut is Cut.START:
        return ELLIPSIS + _tail(text, room)
    if cut is Cut.MIDDLE:
        head = (room + 1) // 2
        return _head(text, head) + ELLIPSIS + _tail(text, room - head)
    if cut is Cut.CHANNEL:
        return _channel(text, width)
    return _head(text, room) + ELLIPSIS


def _channel(text: str, width: int) -> str:
    """See ``Cut.CHANNEL``; ``text`` is wider than ``width`` (at least 2)."""
    _tech, slash, rest = text.partition("/")
    rest = rest if slash else text
    if cell_len(rest) < width:
        return ELLIPSIS + rest
    room = width - 1
    head = room // 2  # the tail gets the odd cell: it is what tells two calls apart
    return _head(rest, head) + ELLIPSIS + _tail(rest, room - head)


def truncate(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` cells with an ellipsis."""
    return fit_text(one_line(text), max(0, width))


def format_age(seconds: float | None) -> str:
    """``4s``, ``3m``, ``2h``, ``5d``; ``—`` when unknown."""
    if seconds is None:
        return "—"
    value = max(0, int(seconds))
    if value < 60:
        return f"{value}s"
    if value < 3600:
        return f"{value // 60}m"
    if value < 86400:
        return f"{value // 3600}h"
    return f"{value // 86400}d"


def format_latency(ms: int | None) -> str:
    return "—" if ms is None else f"{ms} ms"


def seconds_since(moment: datetime | None, now: datetime) -> int | None:
    if moment is None:
        return None
    return max(0, int((now - moment).total_seconds()))


def call_parties(call: Call, *, mask: bool) -> tuple[str, str]:
    """(caller, callee) as shown: names kept beside numbers, numbers masked if asked."""
    caller = call.caller or call.caller_name
    callee = call.callee or (call.extension if call.extension != caller else "")
    callee = callee or "?"  # some APIs (dialup.php) never say who is on the other end
    if mask:
        caller, callee = mask_number(caller), mask_number(callee)
    return one_line(caller), one_line(callee)


def beside(number: str, name: str) -> str:
    """``0501234567 Dana Cohen``: a shown (maybe masked) number with its name after it."""
    name = one_line(name).strip()
    return f"{number} {name}" if name and name != number else number


def named_parties(call: Call, *, mask: bool, own: str = "") -> tuple[str, str]:
    """(caller, callee) as shown, each with its name beside it: ``--mask-numbers`` masks
    the numbers and keeps the names (a name is not a number to hide). ``own``: the number
    of the row the call is shown on (an extension), whose name that row shows already."""
    caller, callee = call_parties(call, mask=mask)
    # A caller known only by name is shown by it already (call_parties' fallback).
    caller_name = call.caller_name if call.caller and call.caller != own else ""
    callee_name = call.callee_name if call.callee and call.callee != own else ""
    return beside(caller, caller_name), beside(callee, callee_name)


def describe_call(call: Call, now: datetime, *, mask: bool) -> str:
    """``hq  SIP/201-00a1  0501234567 Dana Cohen → 201 Noa  up  3:12`` for confirmations
    and notices."""
    caller, callee = named_parties(call, mask=mask)
    state = call.state.value  # the normalized word, as every pane shows it
    duration = format_duration(call.duration_now(now))
    return f"{call.pbx}  {one_line(call.channel)}  {caller} → {callee}  {state}  {duration}"
