"""Display formatting shared by every pane and modal (pure: no Textual here).

Numbers are masked in privacy mode, durations and ages are short and fixed in shape, and any
free text is cut to one line so a live table never grows a multi-line cell.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from pbxtui.masking import MASK_MIN_DIGITS, mask_number, mask_text
from pbxtui.model import Call, format_duration

__all__ = [
    "MASK_MIN_DIGITS",
    "Level",
    "call_parties",
    "format_age",
    "format_duration",
    "format_latency",
    "level",
    "mask_number",
    "mask_text",
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


def truncate(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` cells with an ellipsis."""
    text = one_line(text)
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


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


def describe_call(call: Call, now: datetime, *, mask: bool) -> str:
    """``hq  SIP/201-00a1  0501234567 → 201  up  3:12`` for confirmations and notices."""
    caller, callee = call_parties(call, mask=mask)
    state = call.state.value if call.state.value != "other" else (call.state_raw or "other")
    duration = format_duration(call.duration_now(now))
    return f"{call.pbx}  {one_line(call.channel)}  {caller} → {callee}  {state}  {duration}"
